//! Google Cloud errors, classified for the engine: what a call answered (HTTP status and
//! `google.rpc.Status`) and what a finished operation reports (its `error.errors[].code`).

use gantry_provider::{ErrorClass, ProviderError};
use google_cloud_gax::error::Error as GaxError;

/// Classifies the failure of one API call (`what` names it: `networks.insert`).
pub fn call_error(what: &str, e: GaxError) -> ProviderError {
    let http = e.http_status_code();
    let (status, message) = match e.status() {
        Some(s) => (format!("{:?}", s.code), s.message.clone()),
        None => (String::new(), e.to_string()),
    };
    let class = if e.is_authentication() {
        ErrorClass::Auth
    } else if e.is_timeout() || e.is_connect() || e.is_io() {
        ErrorClass::Transient
    } else {
        classify(http, &status, &message)
    };
    let code = match http {
        Some(code) => format!("{code} {status}").trim().to_owned(),
        None => status,
    };
    let text = match class {
        ErrorClass::Auth => auth_message(&message),
        _ => message,
    };
    ProviderError::new(class, format!("{what}: {text}")).with_code(code)
}

/// The class of an HTTP answer from its status code, RPC status and message: the
/// compute API puts the reason (`quotaExceeded`, `rateLimitExceeded`) in its message text
/// and legacy `errors[]`, which the RPC status does not carry.
pub fn classify(http: Option<u16>, status: &str, message: &str) -> ErrorClass {
    let lower = message.to_ascii_lowercase();
    match http {
        Some(429) => ErrorClass::Throttled,
        Some(403) if lower.contains("rate limit") => ErrorClass::Throttled,
        Some(403) if lower.contains("quota") => ErrorClass::Quota,
        Some(401 | 403) => ErrorClass::Auth,
        Some(404) => ErrorClass::NotFound,
        Some(409) => ErrorClass::Conflict,
        Some(412) => ErrorClass::Conflict,
        Some(400) if lower.contains("already being used") => ErrorClass::Conflict,
        Some(400) if lower.contains("not ready") => ErrorClass::Conflict,
        // GKE: the cluster runs another operation; the change waits its turn.
        Some(400) if lower.contains("incompatible operation") => ErrorClass::Conflict,
        Some(400 | 411 | 413) => ErrorClass::InvalidInput,
        Some(500 | 502 | 503 | 504) => ErrorClass::Transient,
        _ => match status {
            "Unavailable" | "Internal" | "DeadlineExceeded" => ErrorClass::Transient,
            "ResourceExhausted" => ErrorClass::Throttled,
            "NotFound" => ErrorClass::NotFound,
            "AlreadyExists" | "Aborted" | "FailedPrecondition" => ErrorClass::Conflict,
            "PermissionDenied" | "Unauthenticated" => ErrorClass::Auth,
            "InvalidArgument" | "OutOfRange" => ErrorClass::InvalidInput,
            _ => ErrorClass::Fatal,
        },
    }
}

/// A permission error with the missing permission named first, when Google named it
/// (`Required 'compute.networks.create' permission for 'projects/p/...'`).
fn auth_message(message: &str) -> String {
    match required_permission(message) {
        Some(permission) => format!("missing permission `{permission}`: {message}"),
        None => message.to_owned(),
    }
}

fn required_permission(message: &str) -> Option<&str> {
    let rest = message.split("Required '").nth(1)?;
    rest.split('\'').next()
}

/// The class of the error a finished compute operation reports.
pub fn operation_error_class(code: &str, http: Option<i64>) -> ErrorClass {
    match code {
        "ZONE_RESOURCE_POOL_EXHAUSTED"
        | "ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS"
        | "RESOURCE_POOL_EXHAUSTED"
        | "STOCKOUT" => ErrorClass::Capacity,
        "QUOTA_EXCEEDED" | "QUOTA_LIMIT" => ErrorClass::Quota,
        "RESOURCE_NOT_FOUND" => ErrorClass::NotFound,
        "RESOURCE_ALREADY_EXISTS"
        | "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE"
        | "RESOURCE_NOT_READY" => ErrorClass::Conflict,
        "RATE_LIMIT_EXCEEDED" => ErrorClass::Throttled,
        "PERMISSIONS_ERROR" | "FORBIDDEN" => ErrorClass::Auth,
        "INTERNAL_ERROR" | "SERVICE_UNAVAILABLE" => ErrorClass::Transient,
        _ => match http {
            Some(400) => ErrorClass::InvalidInput,
            Some(403) => ErrorClass::Auth,
            Some(404) => ErrorClass::NotFound,
            Some(409) => ErrorClass::Conflict,
            Some(500..=599) => ErrorClass::Transient,
            _ => ErrorClass::Fatal,
        },
    }
}

/// `Ok(None)` for a NotFound, the error otherwise: reads of objects that may be gone.
pub fn ok_if_not_found<T>(r: Result<T, ProviderError>) -> Result<Option<T>, ProviderError> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if e.class == ErrorClass::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_classified_as_the_engine_acts_on_them() {
        assert_eq!(
            classify(Some(429), "", "Rate Limit Exceeded"),
            ErrorClass::Throttled
        );
        assert_eq!(
            classify(
                Some(403),
                "",
                "Rate Limit Exceeded: Quota exceeded for quota metric 'Queries'"
            ),
            ErrorClass::Throttled
        );
        assert_eq!(
            classify(
                Some(403),
                "",
                "Quota 'CPUS' exceeded.  Limit: 8.0 in region us-central1."
            ),
            ErrorClass::Quota
        );
        assert_eq!(
            classify(
                Some(403),
                "",
                "Required 'compute.networks.create' permission"
            ),
            ErrorClass::Auth
        );
        assert_eq!(classify(Some(404), "", "not found"), ErrorClass::NotFound);
        assert_eq!(
            classify(Some(409), "", "already exists"),
            ErrorClass::Conflict
        );
        assert_eq!(
            classify(
                Some(400),
                "",
                "The network resource 'x' is already being used by 'y'"
            ),
            ErrorClass::Conflict
        );
        assert_eq!(
            classify(Some(400), "", "Invalid value for field"),
            ErrorClass::InvalidInput
        );
        assert_eq!(
            classify(Some(503), "", "backend error"),
            ErrorClass::Transient
        );
        assert_eq!(classify(None, "Unavailable", ""), ErrorClass::Transient);
    }

    #[test]
    fn operation_errors_name_capacity_and_quota() {
        assert_eq!(
            operation_error_class("ZONE_RESOURCE_POOL_EXHAUSTED", Some(503)),
            ErrorClass::Capacity
        );
        assert_eq!(
            operation_error_class("ZONE_RESOURCE_POOL_EXHAUSTED_WITH_DETAILS", None),
            ErrorClass::Capacity
        );
        assert_eq!(
            operation_error_class("QUOTA_EXCEEDED", Some(403)),
            ErrorClass::Quota
        );
        assert_eq!(
            operation_error_class("SOMETHING_NEW", Some(400)),
            ErrorClass::InvalidInput
        );
        assert_eq!(
            operation_error_class("SOMETHING_NEW", None),
            ErrorClass::Fatal
        );
    }

    #[test]
    fn the_missing_permission_is_named() {
        assert_eq!(
            required_permission("Required 'compute.networks.create' permission for 'projects/p'"),
            Some("compute.networks.create")
        );
        assert!(auth_message("Required 'iam.x' permission for 'p'")
            .starts_with("missing permission `iam.x`"));
        assert_eq!(required_permission("no"), None);
    }
}

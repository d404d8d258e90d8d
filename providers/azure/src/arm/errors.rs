//! Azure Resource Manager errors, classified for the engine. ARM puts the real cause of a
//! failed operation deep in `error.details` (a generic `ResourceOperationFailure` or
//! `DeploymentFailed` on top, `ZonalAllocationFailed` three levels down), so every code in
//! the tree is read, the most specific one wins, and every message is kept.

use gantry_provider::{ErrorClass, ProviderError};
use serde_json::Value as Json;
use std::time::Duration;

/// One ARM error (`{"code", "message", "details": [...]}`), flattened depth-first: the
/// outermost first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ArmError {
    pub codes: Vec<String>,
    pub messages: Vec<String>,
}

impl ArmError {
    /// The error of a response body (`{"error": {...}}`) or of an operation status
    /// (`{"status": "Failed", "error": {...}}`); a body that is neither keeps its text.
    pub fn from_body(body: &[u8]) -> ArmError {
        let json: Json = serde_json::from_slice(body).unwrap_or(Json::Null);
        let mut out = ArmError::default();
        match json.get("error") {
            Some(Json::Object(_)) => out.walk(&json["error"]),
            // Entra's token endpoint: {"error": "invalid_client", "error_description": ...}
            Some(Json::String(code)) => {
                out.codes.push(code.clone());
                if let Some(d) = json.get("error_description").and_then(Json::as_str) {
                    out.messages.push(d.to_owned());
                }
            }
            _ if json.get("code").is_some() => out.walk(&json),
            _ => {
                let text = String::from_utf8_lossy(body).trim().to_owned();
                if !text.is_empty() {
                    out.messages.push(text.chars().take(500).collect());
                }
            }
        }
        out
    }

    fn walk(&mut self, e: &Json) {
        if let Some(code) = e
            .get("code")
            .and_then(Json::as_str)
            .filter(|c| !c.is_empty())
        {
            self.codes.push(code.to_owned());
        }
        if let Some(m) = e
            .get("message")
            .and_then(Json::as_str)
            .filter(|m| !m.is_empty())
        {
            if !self.messages.iter().any(|seen| seen == m) {
                self.messages.push(m.to_owned());
            }
        }
        for detail in e
            .get("details")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
        {
            self.walk(detail);
        }
    }

    /// The code that says what happened: the first one the engine acts on by class,
    /// else the innermost.
    pub fn cause_code(&self) -> Option<&str> {
        self.codes
            .iter()
            .rev()
            .find(|c| code_class(c, "").is_some())
            .or(self.codes.last())
            .map(String::as_str)
    }

    pub fn message(&self) -> String {
        self.messages.join(" / ")
    }
}

/// The class a code alone decides (`None`: the HTTP status decides). `message` tells
/// ARM's quota refusals (`OperationNotAllowed` ... "exceeding approved ... quota") from
/// other refusals of the same code.
fn code_class(code: &str, message: &str) -> Option<ErrorClass> {
    let lower = message.to_ascii_lowercase();
    Some(match code {
        "SkuNotAvailable"
        | "AllocationFailed"
        | "ZonalAllocationFailed"
        | "OverconstrainedAllocationRequest"
        | "OverconstrainedZonalAllocationRequest"
        | "AllocationTimedOut" => ErrorClass::Capacity,
        "QuotaExceeded" | "OperationNotAllowed" if lower.is_empty() || lower.contains("quota") => {
            ErrorClass::Quota
        }
        "TooManyRequests" | "RetryableError" | "SubscriptionRequestsThrottled" => {
            ErrorClass::Throttled
        }
        "Conflict"
        | "AnotherOperationInProgress"
        | "OperationPreempted"
        | "InUseSubnetCannotBeDeleted"
        | "ResourceGroupBeingDeleted"
        | "RoleAssignmentExists"
        | "StorageAccountAlreadyTaken"
        | "PrincipalNotFound" => ErrorClass::Conflict,
        "AuthorizationFailed"
        | "AuthenticationFailed"
        | "InvalidAuthenticationToken"
        | "LinkedAuthorizationFailed"
        | "invalid_client"
        | "unauthorized_client" => ErrorClass::Auth,
        "ResourceNotFound"
        | "ResourceGroupNotFound"
        | "NotFound"
        | "ParentResourceNotFound"
        | "SubscriptionNotFound" => ErrorClass::NotFound,
        "InternalServerError"
        | "InternalOperationError"
        | "ServiceUnavailable"
        | "GatewayTimeout" => ErrorClass::Transient,
        _ => return None,
    })
}

fn status_class(status: u16) -> ErrorClass {
    match status {
        429 => ErrorClass::Throttled,
        401 | 403 => ErrorClass::Auth,
        404 => ErrorClass::NotFound,
        409 | 412 => ErrorClass::Conflict,
        400 | 405 | 411 | 413 | 415 | 422 => ErrorClass::InvalidInput,
        500..=599 => ErrorClass::Transient,
        _ => ErrorClass::Fatal,
    }
}

/// Classifies an error answer or failed operation of `what` (`PUT virtualNetworks/vnet`).
/// `status`: the HTTP status (for a failed operation, the status it would have had: 0
/// when unknown); `retry_after`: the answer's Retry-After.
pub fn classify(
    what: &str,
    status: u16,
    error: &ArmError,
    retry_after: Option<Duration>,
) -> ProviderError {
    let message = error.message();
    let class = error
        .codes
        .iter()
        .rev()
        .find_map(|c| code_class(c, &message))
        .unwrap_or_else(|| {
            if status == 0 {
                ErrorClass::Fatal
            } else {
                status_class(status)
            }
        });
    let code = error.cause_code().map(str::to_owned);
    let text = match class {
        ErrorClass::Auth => auth_message(&message),
        ErrorClass::Quota => quota_message(&message),
        _ => message,
    };
    let text = if text.is_empty() {
        format!("HTTP {status}")
    } else {
        text
    };
    let mut e = ProviderError::new(class, format!("{what}: {text}"));
    e.code = code.or_else(|| (status != 0).then(|| status.to_string()));
    if let Some(after) = retry_after {
        e = e.with_retry_after(after);
    }
    e
}

/// `AuthorizationFailed` names the action the identity may not perform
/// (`... does not have authorization to perform action 'Microsoft.Network/virtualNetworks/write'
/// over scope ...`): named first.
fn auth_message(message: &str) -> String {
    let action = message
        .split("perform action '")
        .nth(1)
        .and_then(|rest| rest.split('\'').next());
    match action {
        Some(action) => format!("missing permission for action `{action}`: {message}"),
        None => message.to_owned(),
    }
}

/// ARM's quota refusal, with what a user needs first: the family, the limit, the usage and
/// what the request needed.
fn quota_message(message: &str) -> String {
    match QuotaFacts::parse(message) {
        Some(f) => format!(
            "quota `{}` in {}: limit {}, in use {}, this needs {} more (a limit of at least {}): {message}",
            f.family,
            f.location.as_deref().unwrap_or("this location"),
            f.limit,
            f.usage,
            f.required,
            f.limit.max(f.usage + f.required),
        ),
        None => message.to_owned(),
    }
}

/// The numbers in ARM's quota message ("exceeding approved standardNDSH100v5Family Cores
/// quota. Additional details - ... Location: eastus, Current Limit: 96, Current Usage: 96,
/// Additional Required: 96, ...").
#[derive(Debug, PartialEq)]
pub struct QuotaFacts {
    pub family: String,
    pub location: Option<String>,
    pub limit: u64,
    pub usage: u64,
    pub required: u64,
}

impl QuotaFacts {
    pub fn parse(message: &str) -> Option<QuotaFacts> {
        // "... approved standardNDSH100v5Family Cores quota", "... approved Low Priority
        // Cores quota", "... approved Total Regional Cores quota": named as the usages
        // API names them.
        let named = message
            .split("exceeding approved ")
            .nth(1)?
            .split(" quota")
            .next()?;
        let named = named.trim().trim_end_matches(" Cores").trim();
        let family = match named {
            "Low Priority" => "lowPriorityCores".to_owned(),
            "Total Regional" => "cores".to_owned(),
            other => other.split_whitespace().next()?.to_owned(),
        };
        let number = |label: &str| -> Option<u64> {
            let rest = message.split(label).nth(1)?;
            let digits: String = rest
                .trim_start_matches([':', ' '])
                .chars()
                .take_while(char::is_ascii_digit)
                .collect();
            digits.parse().ok()
        };
        let location = message
            .split("Location: ")
            .nth(1)
            .and_then(|rest| rest.split(',').next())
            .map(|l| l.trim().to_owned());
        Some(QuotaFacts {
            family,
            location,
            limit: number("Current Limit")?,
            usage: number("Current Usage")?,
            required: number("Additional Required")?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn body(v: Json) -> Vec<u8> {
        serde_json::to_vec(&v).expect("json")
    }

    #[test]
    fn the_cause_nested_in_details_decides_the_class() {
        let e = ArmError::from_body(&body(json!({"error": {
            "code": "ResourceOperationFailure",
            "message": "The resource operation completed with terminal provisioning state 'Failed'.",
            "details": [{"code": "OverconstrainedZonalAllocationRequest",
                         "message": "Allocation failed. VM(s) with the following constraints cannot be allocated, because the condition is too restrictive. Zones: 2"}]
        }})));
        let err = classify("PUT agentPools/gpu", 0, &e, None);
        assert_eq!(err.class, ErrorClass::Capacity);
        assert_eq!(
            err.code.as_deref(),
            Some("OverconstrainedZonalAllocationRequest")
        );
        assert!(err.message.contains("Zones: 2"), "{}", err.message);
        assert!(
            err.message.contains("terminal provisioning state"),
            "{}",
            err.message
        );
    }

    #[test]
    fn quota_refusals_carry_family_limit_usage_and_need() {
        let msg = "Operation could not be completed as it results in exceeding approved standardNDSH100v5Family Cores quota. Additional details - Deployment Model: Resource Manager, Location: eastus, Current Limit: 96, Current Usage: 96, Additional Required: 96, (Minimum) New Limit Required: 192.";
        let e = ArmError::from_body(&body(
            json!({"error": {"code": "OperationNotAllowed", "message": msg}}),
        ));
        let err = classify("PUT virtualMachineScaleSets/fleet", 409, &e, None);
        assert_eq!(err.class, ErrorClass::Quota);
        let spot = QuotaFacts::parse("Operation could not be completed as it results in exceeding approved Low Priority Cores quota. Additional details - Deployment Model: Resource Manager, Location: eastus, Current Limit: 24, Current Usage: 0, Additional Required: 48, (Minimum) New Limit Required: 48.").expect("parsed");
        assert_eq!(
            (spot.family.as_str(), spot.limit, spot.required),
            ("lowPriorityCores", 24, 48)
        );
        assert!(err.message.contains("quota `standardNDSH100v5Family` in eastus: limit 96, in use 96, this needs 96 more (a limit of at least 192)"), "{}", err.message);
        // The same code without quota text is not a quota error.
        let other = ArmError::from_body(&body(
            json!({"error": {"code": "OperationNotAllowed", "message": "The operation is not allowed on a stopped VM."}}),
        ));
        assert_eq!(classify("x", 409, &other, None).class, ErrorClass::Conflict);
    }

    #[test]
    fn statuses_decide_when_no_code_does() {
        let e = ArmError::from_body(b"");
        assert_eq!(
            classify("x", 429, &e, Some(Duration::from_secs(3))).retry_after,
            Some(Duration::from_secs(3))
        );
        assert_eq!(classify("x", 429, &e, None).class, ErrorClass::Throttled);
        assert_eq!(classify("x", 503, &e, None).class, ErrorClass::Transient);
        assert_eq!(classify("x", 400, &e, None).class, ErrorClass::InvalidInput);
    }

    #[test]
    fn authorization_failures_name_the_action() {
        let e = ArmError::from_body(&body(json!({"error": {"code": "AuthorizationFailed",
            "message": "The client 'abc' with object id 'abc' does not have authorization to perform action 'Microsoft.Network/virtualNetworks/write' over scope '/subscriptions/s/resourceGroups/rg' or the scope is invalid."}})));
        let err = classify("PUT virtualNetworks/v", 403, &e, None);
        assert_eq!(err.class, ErrorClass::Auth);
        assert!(
            err.message.contains(
                "missing permission for action `Microsoft.Network/virtualNetworks/write`"
            ),
            "{}",
            err.message
        );
    }

    #[test]
    fn entra_token_errors_are_auth() {
        let e = ArmError::from_body(&body(
            json!({"error": "invalid_client", "error_description": "AADSTS7000215: Invalid client secret provided."}),
        ));
        let err = classify("token", 401, &e, None);
        assert_eq!(err.class, ErrorClass::Auth);
        assert!(err.message.contains("AADSTS7000215"));
    }
}

//! AWS errors as gantry error classes. The class decides what the engine does: fail over on
//! Capacity, stop with the numbers on Quota, back off on Throttled, retry on Transient, wait
//! out eventual consistency on Conflict during deletes. The AWS code and message are kept.

use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use gantry_provider::{ErrorClass, ProviderError};

/// The class of an AWS error code (and HTTP status, for codes not listed).
pub fn classify(code: &str, status: Option<u16>) -> ErrorClass {
    match code {
        "InsufficientInstanceCapacity"
        | "InsufficientCapacity"
        | "InsufficientHostCapacity"
        | "InsufficientReservedInstanceCapacity"
        | "InsufficientCapacityException"
        | "Unsupported" => ErrorClass::Capacity,
        "VcpuLimitExceeded"
        | "InstanceLimitExceeded"
        | "LimitExceeded"
        | "LimitExceededException"
        | "MaxSpotInstanceCountExceeded"
        | "ResourceLimitExceeded"
        | "ServiceQuotaExceededException"
        | "TooManyBuckets"
        | "VpcLimitExceeded"
        | "AddressLimitExceeded" => ErrorClass::Quota,
        "RequestLimitExceeded"
        | "Throttling"
        | "ThrottlingException"
        | "ThrottledException"
        | "TooManyRequestsException"
        | "SlowDown"
        | "RequestThrottled"
        | "RequestThrottledException"
        | "PriorRequestNotComplete"
        | "EC2ThrottledException"
        | "BandwidthLimitExceeded" => ErrorClass::Throttled,
        "ServiceUnavailable"
        | "ServiceUnavailableException"
        | "InternalError"
        | "InternalFailure"
        | "InternalServerError"
        | "InternalServerException"
        | "InternalServiceException"
        | "ServerException"
        | "RequestTimeout"
        | "RequestTimeoutException"
        | "IDPCommunicationError" => ErrorClass::Transient,
        "DependencyViolation"
        | "ResourceInUse"
        | "ResourceInUseException"
        | "DeleteConflict"
        | "IncorrectState"
        | "IncorrectInstanceState"
        | "InvalidStateException"
        | "ConflictException"
        | "OperationAborted"
        | "BucketNotEmpty"
        | "ConcurrentModification"
        | "ConcurrentModificationException"
        | "InvalidGroup.InUse"
        | "InvalidPlacementGroup.InUse"
        | "InvalidIPAddress.InUse" => ErrorClass::Conflict,
        "AccessDenied"
        | "AccessDeniedException"
        | "UnauthorizedOperation"
        | "AuthFailure"
        | "UnrecognizedClientException"
        | "InvalidClientTokenId"
        | "SignatureDoesNotMatch"
        | "ExpiredToken"
        | "ExpiredTokenException"
        | "RequestExpired"
        | "InvalidAccessKeyId"
        | "MissingAuthenticationToken"
        | "OptInRequired"
        | "NotAuthorized" => ErrorClass::Auth,
        c if c.ends_with("NotFound")
            || c.ends_with("NotFoundException")
            || c.ends_with(".NotFound")
            || c.contains("NotFound.")
            || c.starts_with("NoSuch")
            || c.ends_with(".Unknown")
            || c == "ResourceNotFound" =>
        {
            ErrorClass::NotFound
        }
        c if c.ends_with("LimitExceeded") => ErrorClass::Quota,
        _ => match status {
            Some(429) => ErrorClass::Throttled,
            Some(s) if s >= 500 => ErrorClass::Transient,
            Some(401 | 403) => ErrorClass::Auth,
            Some(404) => ErrorClass::NotFound,
            Some(409) => ErrorClass::Conflict,
            _ => ErrorClass::InvalidInput,
        },
    }
}

/// A classified error from an SDK call; `op` names the call (`CreateVpc`) in the message.
pub fn sdk_error<E>(op: &str, err: SdkError<E, HttpResponse>) -> ProviderError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    match &err {
        SdkError::ServiceError(service) => {
            let status = service.raw().status().as_u16();
            let inner = service.err();
            let code = inner.code().unwrap_or("").to_owned();
            let message = inner.message().unwrap_or("").to_owned();
            service_error(op, &code, &message, Some(status))
        }
        SdkError::TimeoutError(_) => ProviderError::new(
            ErrorClass::Transient,
            format!("{op}: the request timed out"),
        ),
        SdkError::DispatchFailure(failure) => {
            let class = if failure.is_io() || failure.is_timeout() || failure.is_other() {
                ErrorClass::Transient
            } else {
                ErrorClass::Fatal
            };
            let detail = failure
                .as_connector_error()
                .map(|e| error_chain(e))
                .unwrap_or_else(|| "the request could not be sent".to_owned());
            ProviderError::new(class, format!("{op}: {detail}"))
        }
        SdkError::ResponseError(_) => ProviderError::new(
            ErrorClass::Transient,
            format!(
                "{op}: the response could not be read: {}",
                error_chain(&err)
            ),
        ),
        SdkError::ConstructionFailure(_) => {
            let detail = error_chain(&err);
            // Credentials are resolved while the request is built.
            let class = if detail.contains("credential") {
                ErrorClass::Auth
            } else {
                ErrorClass::InvalidInput
            };
            ProviderError::new(class, format!("{op}: {detail}"))
        }
        _ => ProviderError::new(ErrorClass::Fatal, format!("{op}: {}", error_chain(&err))),
    }
}

/// A classified error from an AWS code and message.
pub fn service_error(op: &str, code: &str, message: &str, status: Option<u16>) -> ProviderError {
    let class = classify(code, status);
    let text = match (code.is_empty(), message.is_empty()) {
        (true, true) => format!("{op} failed (HTTP {})", status.unwrap_or(0)),
        (false, true) => format!("{op}: {code}"),
        (true, false) => format!("{op}: {message}"),
        (false, false) => format!("{op}: {code}: {message}"),
    };
    let mut e = ProviderError::new(class, text);
    if !code.is_empty() {
        e = e.with_code(code);
    }
    e
}

/// An error and its sources on one line (the SDK's Display shows only the outermost).
pub fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        let more = s.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        source = s.source();
    }
    text
}

/// True when `err` says the object does not exist.
pub fn is_not_found(err: &ProviderError) -> bool {
    err.class == ErrorClass::NotFound
}

/// `Ok(None)` for a not-found error, so reads can say "gone" in one line.
pub fn none_if_not_found<T>(result: Result<T, ProviderError>) -> Result<Option<T>, ProviderError> {
    match result {
        Ok(v) => Ok(Some(v)),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// `Ok(())` for a not-found error: deleting what is already gone succeeds.
pub fn ok_if_not_found(result: Result<(), ProviderError>) -> Result<(), ProviderError> {
    match result {
        Err(e) if is_not_found(&e) => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_named_by_the_provider_contract_has_its_class() {
        let cases = [
            ("InsufficientInstanceCapacity", ErrorClass::Capacity),
            ("InsufficientCapacity", ErrorClass::Capacity),
            ("Unsupported", ErrorClass::Capacity),
            ("VcpuLimitExceeded", ErrorClass::Quota),
            ("InstanceLimitExceeded", ErrorClass::Quota),
            ("LimitExceeded", ErrorClass::Quota),
            ("RequestLimitExceeded", ErrorClass::Throttled),
            ("Throttling", ErrorClass::Throttled),
            ("ThrottlingException", ErrorClass::Throttled),
            ("TooManyRequestsException", ErrorClass::Throttled),
            ("SlowDown", ErrorClass::Throttled),
            ("ServiceUnavailable", ErrorClass::Transient),
            ("InternalError", ErrorClass::Transient),
            ("InvalidVpcID.NotFound", ErrorClass::NotFound),
            ("NoSuchEntity", ErrorClass::NotFound),
            ("NoSuchBucket", ErrorClass::NotFound),
            ("ResourceNotFoundException", ErrorClass::NotFound),
            ("InvalidPlacementGroup.Unknown", ErrorClass::NotFound),
            ("DependencyViolation", ErrorClass::Conflict),
            ("ResourceInUse", ErrorClass::Conflict),
            ("ResourceInUseException", ErrorClass::Conflict),
            ("InvalidIPAddress.InUse", ErrorClass::Conflict),
            ("InvalidAllocationID.NotFound", ErrorClass::NotFound),
            ("NatGatewayNotFound", ErrorClass::NotFound),
            ("AccessDenied", ErrorClass::Auth),
            ("UnauthorizedOperation", ErrorClass::Auth),
            ("ExpiredToken", ErrorClass::Auth),
            ("ExpiredTokenException", ErrorClass::Auth),
            ("InvalidClientTokenId", ErrorClass::Auth),
        ];
        for (code, class) in cases {
            assert_eq!(classify(code, Some(400)), class, "{code}");
        }
    }

    #[test]
    fn unknown_codes_fall_back_to_the_http_status() {
        assert_eq!(classify("", Some(503)), ErrorClass::Transient);
        assert_eq!(classify("Weird", Some(500)), ErrorClass::Transient);
        assert_eq!(classify("", Some(429)), ErrorClass::Throttled);
        assert_eq!(classify("", Some(403)), ErrorClass::Auth);
        assert_eq!(
            classify("InvalidParameterValue", Some(400)),
            ErrorClass::InvalidInput
        );
        assert_eq!(classify("", None), ErrorClass::InvalidInput);
    }

    #[test]
    fn the_message_keeps_the_operation_code_and_text() {
        let e = service_error(
            "RunInstances",
            "InsufficientInstanceCapacity",
            "no p5.48xlarge in us-east-1a",
            Some(500),
        );
        assert_eq!(e.class, ErrorClass::Capacity);
        assert_eq!(e.code.as_deref(), Some("InsufficientInstanceCapacity"));
        assert_eq!(
            e.message,
            "RunInstances: InsufficientInstanceCapacity: no p5.48xlarge in us-east-1a"
        );
    }
}

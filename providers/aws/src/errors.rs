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

pub use gantry_provider::error_chain;

/// True when a create was refused only because IAM has not yet propagated a role or
/// instance profile made moments ago to the service that uses it: EC2 does not know the
/// instance profile yet, EKS or SageMaker cannot assume the role yet, FSx cannot find it.
/// Such a refusal goes away within a minute or two, so the create is worth sending again
/// ([`crate::wait::through_iam_propagation`]); the texts are the ones Terraform's AWS
/// provider retries on.
pub fn is_iam_propagation(err: &ProviderError) -> bool {
    // Only refusals of the request: a throttle or a 5xx is the engine's to retry.
    const REFUSALS: &[&str] = &[
        "InvalidParameterValue",
        "InvalidParameterException",
        "InvalidRequestException",
        "ValidationException",
        "BadRequest",
    ];
    // EC2 RunInstances / CreateLaunchTemplate: the instance profile (or its role) is not
    // visible to EC2 yet.
    const INSTANCE_PROFILE: &[&str] = &[
        "invalid iam instance profile",
        "for parameter iaminstanceprofile",
        "has no associated iam roles",
    ];
    // EKS CreateCluster / CreateNodegroup, SageMaker, FSx: the role is not visible, or not
    // assumable, yet.
    const ROLE: &[&str] = &[
        "cannot be assumed",
        "could not be assumed",
        "could not assume role",
        "unable to assume role",
        "not authorized to assume",
        "error in role params",
        "trusted entity is not correct",
        "doesn't have the amazon eks managed policies",
        "iam role's policy must include",
        "cannot be found",
        "does not exist",
    ];
    if !REFUSALS.contains(&err.code.as_deref().unwrap_or("")) {
        return false;
    }
    let text = err.message.to_ascii_lowercase();
    INSTANCE_PROFILE.iter().any(|m| text.contains(m))
        || (text.contains("role") && ROLE.iter().any(|m| text.contains(m)))
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
    fn iam_propagation_is_recognised_in_the_services_own_words() {
        let propagating = [
            (
                "RunInstances",
                "InvalidParameterValue",
                "Value (gpu-node) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name",
            ),
            (
                "RunInstances",
                "InvalidParameterValue",
                "Invalid IAM Instance Profile ARN: arn:aws:iam::123456789012:instance-profile/gpu-node",
            ),
            (
                "CreateLaunchTemplate",
                "InvalidParameterValue",
                "IAM Instance Profile \"arn:aws:iam::123456789012:instance-profile/gpu\" has no associated IAM Roles",
            ),
            (
                "CreateCluster",
                "InvalidParameterException",
                "Role with arn: arn:aws:iam::123456789012:role/eks-cluster, could not be assumed because it does not exist or the trusted entity is not correct",
            ),
            (
                "CreateCluster",
                "InvalidParameterException",
                "roleArn, arn:aws:iam::123456789012:role/eks-cluster, does not exist",
            ),
            (
                "CreateCluster",
                "InvalidParameterException",
                "Error in role params",
            ),
            (
                "CreateCluster",
                "InvalidParameterException",
                "The provided role doesn't have the Amazon EKS Managed Policies associated with it. Please ensure the following policy is attached: arn:aws:iam::aws:policy/AmazonEKSClusterPolicy",
            ),
            (
                "CreateNodegroup",
                "InvalidParameterException",
                "The role with name eks-nodes cannot be found.",
            ),
            (
                "CreateNodegroup",
                "InvalidRequestException",
                "The provided role arn:aws:iam::123456789012:role/eks-nodes cannot be assumed by EKS",
            ),
            (
                "CreateNotebookInstance",
                "ValidationException",
                "Could not assume role arn:aws:iam::123456789012:role/sagemaker. Please ensure that the role exists and allows principal 'sagemaker.amazonaws.com' to assume the role.",
            ),
            (
                "CreateFileSystem",
                "BadRequest",
                "The role with name AWSServiceRoleForFSxS3Access_fs-0123456789abcdef0 cannot be found.",
            ),
        ];
        for (op, code, message) in propagating {
            let e = service_error(op, code, message, Some(400));
            assert!(is_iam_propagation(&e), "{op}: {message}");
        }
        let refusals = [
            (
                "RunInstances",
                "InvalidParameterValue",
                "Invalid value 'p9.huge' for InstanceType.",
            ),
            (
                "CreateCluster",
                "InvalidParameterException",
                "Subnet subnet-0123 does not exist",
            ),
            (
                "CreateNodegroup",
                "ResourceInUseException",
                "NodeGroup already exists with name gpu and cluster name ml",
            ),
            // The right words under a code that is not a refusal: not ours to retry.
            (
                "RunInstances",
                "RequestLimitExceeded",
                "Invalid IAM Instance Profile name",
            ),
            (
                "CreateCluster",
                "AccessDeniedException",
                "User is not authorized to perform iam:PassRole on role eks",
            ),
        ];
        for (op, code, message) in refusals {
            let e = service_error(op, code, message, Some(400));
            assert!(!is_iam_propagation(&e), "{op}: {message}");
        }
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

//! One SDK client per AWS service, built from one shared SDK configuration.
//!
//! Every client carries the [`AfterAccept`] interceptor: SDK calls made while a create's
//! steps after the cloud accepted it run ([`after_accept_scope`]) retry throttling and
//! transient errors far longer than other calls. Any other call that fails after the SDK's
//! few attempts goes back to the engine, which retries the whole operation with its own
//! backoff and adapts its concurrency; a step after acceptance cannot be retried that way
//! (the create must not be sent again), and giving up there leaves the new object tainted,
//! to be replaced on the next apply, for nothing worse than a busy API.

use aws_sdk_ec2::config::retry::TokenBucket;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextMut;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;
use aws_smithy_types::retry::RetryConfig;
use aws_types::SdkConfig;
use std::future::Future;

/// The clients of one configured provider (one region, one set of credentials).
#[derive(Clone, Debug)]
pub struct Clients {
    pub region: String,
    pub ec2: aws_sdk_ec2::Client,
    pub iam: aws_sdk_iam::Client,
    pub s3: aws_sdk_s3::Client,
    pub kms: aws_sdk_kms::Client,
    pub eks: aws_sdk_eks::Client,
    pub fsx: aws_sdk_fsx::Client,
    pub efs: aws_sdk_efs::Client,
    pub sagemaker: aws_sdk_sagemaker::Client,
    pub sts: aws_sdk_sts::Client,
    pub quotas: aws_sdk_servicequotas::Client,
}

/// A service's client from `config`, with the [`AfterAccept`] interceptor.
macro_rules! client {
    ($sdk:ident, $config:expr) => {
        $sdk::Client::from_conf(
            $sdk::config::Builder::from($config)
                .interceptor(AfterAccept)
                .build(),
        )
    };
}

impl Clients {
    /// Clients sharing `config`; S3 uses path-style addressing when asked (needed for
    /// endpoints such as IP addresses, where bucket subdomains cannot resolve).
    pub fn new(config: &SdkConfig, region: String, s3_path_style: bool) -> Clients {
        let s3_config = aws_sdk_s3::config::Builder::from(config)
            .force_path_style(s3_path_style)
            .interceptor(AfterAccept)
            .build();
        Clients {
            region,
            ec2: client!(aws_sdk_ec2, config),
            iam: client!(aws_sdk_iam, config),
            s3: aws_sdk_s3::Client::from_conf(s3_config),
            kms: client!(aws_sdk_kms, config),
            eks: client!(aws_sdk_eks, config),
            fsx: client!(aws_sdk_fsx, config),
            efs: client!(aws_sdk_efs, config),
            sagemaker: client!(aws_sdk_sagemaker, config),
            sts: client!(aws_sdk_sts, config),
            quotas: client!(aws_sdk_servicequotas, config),
        }
    }
}

/// Attempts an SDK call makes at least after a create was accepted: the AWS Terraform
/// provider's default `max_retries` (25). With the SDK's backoff (at most 20 s between
/// attempts, jittered) that is minutes of throttling ridden out.
pub const AFTER_ACCEPT_ATTEMPTS: u32 = 25;

tokio::task_local! {
    /// Present while the steps after an accepted create run.
    static AFTER_ACCEPT: ();
}

/// Runs `steps`, the steps after a create the cloud accepted: each SDK call in them makes
/// at least [`AFTER_ACCEPT_ATTEMPTS`] attempts on throttling and transient errors, and is
/// not held back by the SDK's retry quota (a bucket shared by all calls to a service,
/// which a throttled apply drains within seconds, after which calls are not retried at
/// all).
pub async fn after_accept_scope<F: Future>(steps: F) -> F::Output {
    AFTER_ACCEPT.scope((), steps).await
}

/// True inside [`after_accept_scope`].
pub fn in_after_accept_scope() -> bool {
    AFTER_ACCEPT.try_with(|()| ()).is_ok()
}

/// Raises the attempts of a call made inside [`after_accept_scope`] and lifts its retry
/// quota; other calls are left as configured.
#[derive(Debug)]
struct AfterAccept;

impl Intercept for AfterAccept {
    fn name(&self) -> &'static str {
        "gantry-after-accept"
    }

    fn modify_before_retry_loop(
        &self,
        _context: &mut BeforeTransmitInterceptorContextMut<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        if in_after_accept_scope() {
            let configured = cfg
                .load::<RetryConfig>()
                .cloned()
                .unwrap_or_else(RetryConfig::standard);
            let attempts = configured.max_attempts().max(AFTER_ACCEPT_ATTEMPTS);
            // The interceptor state is read before every other layer, so these win over the
            // client's configuration and the retry partition's token bucket.
            cfg.interceptor_state()
                .store_put(configured.with_max_attempts(attempts));
            cfg.interceptor_state().store_put(TokenBucket::unlimited());
        }
        Ok(())
    }
}

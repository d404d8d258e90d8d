//! One typed Azure Resource Manager client on azure_core's HTTP pipeline: every request
//! carries `api-version` and a bearer token from the configured credential; answers come
//! back as status, headers and JSON, errors classified ([`super::errors`]).
//!
//! azure_core's own retry policy is off: the engine retries throttling and 5xx by class
//! (with the Retry-After ARM sent) and lowers its concurrency, so a provider retrying too
//! would multiply the load on a throttled subscription. The long-running operation poller
//! ([`super::lro`]) waits for ARM's asynchronous work itself, as the contract asks.

use super::errors::{classify, ArmError};
use azure_core::credentials::TokenCredential;
use azure_core::http::headers::{HeaderName, Headers};
use azure_core::http::policies::auth::BearerTokenAuthorizationPolicy;
use azure_core::http::policies::Policy;
use azure_core::http::{
    ClientOptions, Context, Method, Pipeline, Request, RetryOptions, Transport, Url,
};
use gantry_provider::{ErrorClass, ProviderError};
use serde_json::Value as Json;
use std::sync::Arc;
use std::time::Duration;

type Result<T> = std::result::Result<T, ProviderError>;

/// An answer from ARM, whatever its status.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Headers,
    pub body: Vec<u8>,
}

impl Answer {
    pub fn header(&self, name: &'static str) -> Option<&str> {
        self.headers
            .get_optional_str(&HeaderName::from_static(name))
    }

    pub fn json(&self) -> Json {
        serde_json::from_slice(&self.body).unwrap_or(Json::Null)
    }

    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// Retry-After (seconds, as ARM sends it; `retry-after-ms` and `x-ms-retry-after-ms`
    /// first when present).
    pub fn retry_after(&self) -> Option<Duration> {
        for name in ["retry-after-ms", "x-ms-retry-after-ms"] {
            if let Some(ms) = self.header(name).and_then(|v| v.trim().parse::<u64>().ok()) {
                return Some(Duration::from_millis(ms));
            }
        }
        self.header("retry-after")
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs)
    }

    /// This answer as the classified error of `what`.
    pub fn error(&self, what: &str) -> ProviderError {
        classify(
            what,
            self.status,
            &ArmError::from_body(&self.body),
            self.retry_after(),
        )
    }
}

/// The Resource Manager of one cloud (public, government, China or a custom endpoint).
pub struct Arm {
    pipeline: Pipeline,
    endpoint: Url,
}

impl std::fmt::Debug for Arm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Arm")
            .field("endpoint", &self.endpoint.as_str())
            .finish()
    }
}

impl Arm {
    /// `scope`: the token audience with `/.default` (`https://management.azure.com/.default`).
    pub fn new(
        endpoint: Url,
        credential: Arc<dyn TokenCredential>,
        scope: String,
        http: Arc<reqwest::Client>,
    ) -> Arm {
        let options = ClientOptions {
            retry: RetryOptions::none(),
            transport: Some(Transport::new(http)),
            ..ClientOptions::default()
        };
        let auth: Arc<dyn Policy> =
            Arc::new(BearerTokenAuthorizationPolicy::new(credential, vec![scope]));
        let pipeline = Pipeline::new(
            Some("gantry-azure"),
            Some(env!("CARGO_PKG_VERSION")),
            options,
            Vec::new(),
            vec![auth],
            None,
        );
        Arm { pipeline, endpoint }
    }

    /// The URL of an ARM path (`/subscriptions/...`) with its api-version; an absolute
    /// URL (a polling link ARM gave) is used as given.
    pub fn url(&self, path: &str, api_version: Option<&str>) -> Result<Url> {
        let mut url = if path.starts_with("https://") || path.starts_with("http://") {
            Url::parse(path)
        } else {
            self.endpoint.join(path.trim_start_matches('/'))
        }
        .map_err(|e| ProviderError::fatal(format!("bad ARM URL {path:?}: {e}")))?;
        if let Some(version) = api_version {
            if !url.query_pairs().any(|(k, _)| k == "api-version") {
                url.query_pairs_mut().append_pair("api-version", version);
            }
        }
        Ok(url)
    }

    /// Sends one request; any status comes back as an [`Answer`]. Only a failure to get
    /// an answer at all is an error (a token the credential could not get: Auth; the
    /// connection: Transient).
    pub async fn send(
        &self,
        method: Method,
        url: Url,
        body: Option<&Json>,
        what: &str,
    ) -> Result<Answer> {
        let mut request = Request::new(url, method);
        request.insert_header("accept", "application/json");
        if let Some(body) = body {
            request.insert_header("content-type", "application/json");
            let bytes = serde_json::to_vec(body).map_err(|e| {
                ProviderError::fatal(format!("{what}: cannot encode the body: {e}"))
            })?;
            request.set_body(bytes);
        }
        let options = azure_core::http::PipelineSendOptions {
            skip_checks: true,
            ..Default::default()
        };
        let response = self
            .pipeline
            .send(&Context::new(), &mut request, Some(options))
            .await
            .map_err(|e| transport_error(what, &e))?;
        let (status, headers, body) = response.deconstruct();
        Ok(Answer {
            status: u16::from(status),
            headers,
            body: body.to_vec(),
        })
    }

    /// GET of one object: `None` when ARM says it does not exist.
    pub async fn get(&self, path: &str, api_version: &str, what: &str) -> Result<Option<Json>> {
        let answer = self
            .send(Method::Get, self.url(path, Some(api_version))?, None, what)
            .await?;
        match answer.status {
            200 => Ok(Some(answer.json())),
            404 => Ok(None),
            _ => Err(answer.error(what)),
        }
    }

    /// Every item of a list (`{"value": [...], "nextLink": ...}`), following nextLink.
    pub async fn list(&self, path: &str, api_version: &str, what: &str) -> Result<Vec<Json>> {
        let mut items = Vec::new();
        let mut next = Some(self.url(path, Some(api_version))?);
        while let Some(url) = next.take() {
            let answer = self.send(Method::Get, url, None, what).await?;
            if !answer.is_success() {
                return Err(answer.error(what));
            }
            let page = answer.json();
            items.extend(page["value"].as_array().cloned().unwrap_or_default());
            if let Some(link) = page["nextLink"].as_str().filter(|l| !l.is_empty()) {
                next = Some(self.url(link, None)?);
            }
        }
        Ok(items)
    }
}

/// A request that got no answer.
fn transport_error(what: &str, e: &azure_core::Error) -> ProviderError {
    use azure_core::error::ErrorKind;
    let class = match e.kind() {
        ErrorKind::Credential => ErrorClass::Auth,
        ErrorKind::Io | ErrorKind::Connection => ErrorClass::Transient,
        _ => ErrorClass::Fatal,
    };
    let text = gantry_provider::error_chain(e);
    let hint = if class == ErrorClass::Auth {
        " (check the credentials: ARM_CLIENT_ID / ARM_CLIENT_SECRET / ARM_TENANT_ID, OIDC, managed identity or `az login`)"
    } else {
        ""
    };
    ProviderError::new(class, format!("{what}: {text}{hint}"))
}

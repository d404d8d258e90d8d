//! The Cloud Storage JSON API, for bucket administration. google-cloud-rust's bucket
//! admin (`StorageControl`) speaks gRPC, which neither a private endpoint behind an HTTP
//! proxy nor the local emulator (fake-gcs-server) serves; the JSON API is what Terraform's
//! google provider calls too. Requests carry the provider's credentials; answers are
//! classified like every other call.

use crate::errors::classify;
use gantry_provider::provider::Result;
use gantry_provider::{ErrorClass, ProviderError};
use google_cloud_auth::credentials::{CacheableResource, Credentials};
use http::Extensions;
use serde_json::Value as Json;

/// Google's endpoint of the JSON API.
pub const DEFAULT_ENDPOINT: &str = "https://storage.googleapis.com/storage/v1/";

#[derive(Clone, Debug)]
pub struct StorageJson {
    http: reqwest::Client,
    /// Ends with `/storage/v1/`, as Terraform's `storage_custom_endpoint` does.
    base: String,
    credentials: Credentials,
}

impl StorageJson {
    pub fn new(credentials: Credentials, endpoint: Option<&str>) -> StorageJson {
        let mut base = endpoint.unwrap_or(DEFAULT_ENDPOINT).to_owned();
        if !base.ends_with('/') {
            base.push('/');
        }
        if !base.ends_with("/storage/v1/") {
            base.push_str("storage/v1/");
        }
        StorageJson {
            http: reqwest::Client::new(),
            base,
            credentials,
        }
    }

    /// One call: `path` below the base (`b/NAME`), with query pairs and an optional body.
    /// A 204 or empty answer is `Json::Null`.
    pub async fn call(
        &self,
        what: &str,
        method: http::Method,
        path: &str,
        query: &[(&str, &str)],
        body: Option<&Json>,
    ) -> Result<Json> {
        let headers = match self.credentials.headers(Extensions::new()).await {
            Ok(CacheableResource::New { data, .. }) => data,
            Ok(CacheableResource::NotModified) => {
                return Err(ProviderError::new(
                    ErrorClass::Auth,
                    format!("{what}: the credentials gave no token"),
                ))
            }
            Err(e) => {
                return Err(ProviderError::new(
                    ErrorClass::Auth,
                    format!("{what}: the credentials gave no token: {e}"),
                ))
            }
        };
        let mut request = self
            .http
            .request(method, format!("{}{path}", self.base))
            .headers(headers)
            .query(query);
        if let Some(body) = body {
            request = request.json(body);
        }
        let answer = request
            .send()
            .await
            .map_err(|e| ProviderError::new(ErrorClass::Transient, format!("{what}: {e}")))?;
        let status = answer.status();
        let text = answer
            .text()
            .await
            .map_err(|e| ProviderError::new(ErrorClass::Transient, format!("{what}: {e}")))?;
        if status.is_success() {
            return Ok(if text.trim().is_empty() {
                Json::Null
            } else {
                serde_json::from_str(&text).map_err(|e| {
                    ProviderError::fatal(format!("{what}: an answer that is not JSON: {e}"))
                })?
            });
        }
        Err(answer_error(what, status.as_u16(), &text))
    }
}

/// The error of a failed call: the JSON API's `{"error": {"code", "message", "errors":
/// [{"reason"}]}}`, classified by status and reason.
fn answer_error(what: &str, status: u16, text: &str) -> ProviderError {
    let body: Json = serde_json::from_str(text).unwrap_or(Json::Null);
    let message = body
        .pointer("/error/message")
        .and_then(Json::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| text.trim().chars().take(300).collect());
    let reason = body
        .pointer("/error/errors/0/reason")
        .and_then(Json::as_str)
        .unwrap_or_default();
    let class = match reason {
        "rateLimitExceeded" | "userRateLimitExceeded" => ErrorClass::Throttled,
        "quotaExceeded" => ErrorClass::Quota,
        _ => classify(Some(status), "", &message),
    };
    let code = if reason.is_empty() {
        status.to_string()
    } else {
        format!("{status} {reason}")
    };
    ProviderError::new(class, format!("{what}: {message}")).with_code(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_are_classified_by_status_and_reason() {
        let e = answer_error(
            "buckets.insert",
            409,
            r#"{"error":{"code":409,"message":"Your previous request to create the named bucket succeeded and you already own it.","errors":[{"reason":"conflict"}]}}"#,
        );
        assert_eq!(e.class, ErrorClass::Conflict);
        assert!(e.message.contains("already own it"), "{}", e.message);
        let e = answer_error(
            "buckets.get",
            429,
            r#"{"error":{"code":429,"message":"slow down","errors":[{"reason":"rateLimitExceeded"}]}}"#,
        );
        assert_eq!(e.class, ErrorClass::Throttled);
        let e = answer_error("buckets.get", 404, "Not Found");
        assert_eq!(e.class, ErrorClass::NotFound);
    }
}

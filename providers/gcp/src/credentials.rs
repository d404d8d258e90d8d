//! Credentials, in the order the Terraform google provider takes them: the block's
//! `access_token`, the block's `credentials` (a key file's path or its JSON), then
//! GOOGLE_OAUTH_ACCESS_TOKEN, GOOGLE_CREDENTIALS, and last Application Default Credentials
//! (GOOGLE_APPLICATION_CREDENTIALS, gcloud's ADC file, the metadata server), all through
//! google-cloud-auth.

use gantry_provider::{ErrorClass, ProviderError};
use google_cloud_auth::credentials::{
    external_account, impersonated, service_account, user_account, CacheableResource, Credentials,
    CredentialsProvider, EntityTag,
};
use http::header::{HeaderValue, AUTHORIZATION};
use http::{Extensions, HeaderMap};

/// Every source tried, for the message when none gives credentials.
pub const SOURCES: &str = "the provider block's `access_token` and `credentials`, \
GOOGLE_OAUTH_ACCESS_TOKEN, GOOGLE_CREDENTIALS, GOOGLE_APPLICATION_CREDENTIALS, \
gcloud's application default credentials (~/.config/gcloud/application_default_credentials.json) \
and the metadata server";

/// Where the credentials came from, said in logs (never the secret itself).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    AccessToken,
    KeyJson(String),
    ApplicationDefault,
}

/// Resolves the credentials for a provider block.
pub fn resolve(
    access_token: Option<&str>,
    credentials: Option<&str>,
) -> Result<(Credentials, Source), ProviderError> {
    if let Some(token) = access_token.filter(|t| !t.is_empty()) {
        return Ok((static_token(token)?, Source::AccessToken));
    }
    if let Some(given) = credentials.filter(|c| !c.is_empty()) {
        return from_key(given, "the provider block's `credentials`");
    }
    if let Ok(token) = std::env::var("GOOGLE_OAUTH_ACCESS_TOKEN") {
        if !token.is_empty() {
            return Ok((static_token(&token)?, Source::AccessToken));
        }
    }
    if let Ok(given) = std::env::var("GOOGLE_CREDENTIALS") {
        if !given.is_empty() {
            return from_key(&given, "GOOGLE_CREDENTIALS");
        }
    }
    let adc = google_cloud_auth::credentials::Builder::default()
        .build()
        .map_err(|e| {
            ProviderError::new(
                ErrorClass::Auth,
                format!("no Google Cloud credentials: {e}; tried {SOURCES}"),
            )
        })?;
    Ok((adc, Source::ApplicationDefault))
}

/// A key given as JSON or as the path of a JSON file, by its `type`.
fn from_key(given: &str, origin: &str) -> Result<(Credentials, Source), ProviderError> {
    let text = if given.trim_start().starts_with('{') {
        given.to_owned()
    } else {
        std::fs::read_to_string(given).map_err(|e| {
            ProviderError::new(
                ErrorClass::Auth,
                format!("{origin}: cannot read the key file `{given}`: {e}"),
            )
        })?
    };
    let json: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
        ProviderError::new(ErrorClass::Auth, format!("{origin}: not a JSON key: {e}"))
    })?;
    let kind = json
        .get("type")
        .and_then(|t| t.as_str())
        .unwrap_or_default()
        .to_owned();
    let built = match kind.as_str() {
        "service_account" => service_account::Builder::new(json).build(),
        "authorized_user" => user_account::Builder::new(json).build(),
        // Workload identity federation (CI: GitHub Actions, GitLab, AWS, Azure).
        "external_account" => external_account::Builder::new(json).build(),
        "impersonated_service_account" => impersonated::Builder::new(json).build(),
        other => {
            return Err(ProviderError::new(
                ErrorClass::Auth,
                format!(
                    "{origin}: unsupported credentials type {other:?} (expected service_account, \
                     authorized_user, external_account or impersonated_service_account)"
                ),
            ))
        }
    };
    let credentials = built.map_err(|e| {
        ProviderError::new(
            ErrorClass::Auth,
            format!("{origin}: {kind} credentials: {e}"),
        )
    })?;
    Ok((credentials, Source::KeyJson(kind)))
}

/// An OAuth access token of these credentials (the `Authorization: Bearer` they send).
pub async fn access_token(credentials: &Credentials) -> Result<String, String> {
    let headers = match credentials.headers(Extensions::new()).await {
        Ok(CacheableResource::New { data, .. }) => data,
        Ok(CacheableResource::NotModified) => return Err("the credentials gave no token".into()),
        Err(e) => return Err(format!("the credentials gave no token: {e}")),
    };
    headers
        .get(AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_owned)
        .ok_or_else(|| "the credentials send no bearer token".to_owned())
}

fn static_token(token: &str) -> Result<Credentials, ProviderError> {
    let mut value = HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
        ProviderError::new(
            ErrorClass::Auth,
            "`access_token` is not a valid header value",
        )
    })?;
    value.set_sensitive(true);
    let mut headers = HeaderMap::new();
    headers.insert(AUTHORIZATION, value);
    Ok(Credentials::from(StaticToken {
        headers,
        tag: EntityTag::new(),
    }))
}

/// An OAuth access token given as it is (Terraform's `access_token`): never refreshed.
struct StaticToken {
    headers: HeaderMap,
    tag: EntityTag,
}

impl std::fmt::Debug for StaticToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StaticToken(<redacted>)")
    }
}

impl CredentialsProvider for StaticToken {
    async fn headers(
        &self,
        extensions: Extensions,
    ) -> Result<CacheableResource<HeaderMap>, google_cloud_auth::errors::CredentialsError> {
        if extensions.get::<EntityTag>() == Some(&self.tag) {
            return Ok(CacheableResource::NotModified);
        }
        Ok(CacheableResource::New {
            entity_tag: self.tag.clone(),
            data: self.headers.clone(),
        })
    }

    async fn universe_domain(&self) -> Option<String> {
        Some("googleapis.com".to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_access_token_is_sent_as_a_bearer_header_and_never_shown() {
        let (credentials, source) = resolve(Some("ya29.secret"), None).expect("credentials");
        assert_eq!(source, Source::AccessToken);
        assert!(!format!("{credentials:?}").contains("ya29"));
        let CacheableResource::New { data, .. } = credentials
            .headers(Extensions::new())
            .await
            .expect("headers")
        else {
            panic!("first call gives headers")
        };
        assert_eq!(
            data.get(AUTHORIZATION).and_then(|v| v.to_str().ok()),
            Some("Bearer ya29.secret")
        );
    }

    #[test]
    fn a_bad_key_is_an_auth_error_naming_where_it_came_from() {
        let missing = resolve(None, Some("/nonexistent/key.json")).expect_err("missing file");
        assert_eq!(missing.class, ErrorClass::Auth);
        assert!(
            missing.message.contains("/nonexistent/key.json"),
            "{}",
            missing.message
        );
        let odd = resolve(None, Some(r#"{"type": "api_key"}"#)).expect_err("odd type");
        assert!(
            odd.message.contains("unsupported credentials type"),
            "{}",
            odd.message
        );
    }
}

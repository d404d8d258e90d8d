//! Shared Key authorization of Blob Storage requests (a storage account's access key, the
//! `access_key` of `backend "azurerm"`): azure_storage_blob authenticates only with Entra
//! ID tokens or a SAS, so this pipeline policy signs each try as the Storage services'
//! "Authorize with Shared Key" document describes.

use async_trait::async_trait;
use aws_lc_rs::hmac;
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{Context, Request};
use azure_core::time::{to_rfc7231, OffsetDateTime};
use std::sync::Arc;

/// Signs every request with an account key.
pub struct SharedKeyPolicy {
    account: String,
    key: hmac::Key,
}

impl std::fmt::Debug for SharedKeyPolicy {
    // Never the key.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedKeyPolicy")
            .field("account", &self.account)
            .finish_non_exhaustive()
    }
}

impl SharedKeyPolicy {
    /// A policy for `account` with its base64 access key.
    pub fn new(account: &str, access_key: &str) -> Result<SharedKeyPolicy, String> {
        let key = azure_core::base64::decode(access_key.trim()).map_err(|_| {
            "`access_key` is not a storage account key (a base64 string, as the portal or `az storage account keys list` shows it)".to_owned()
        })?;
        Ok(SharedKeyPolicy {
            account: account.to_owned(),
            key: hmac::Key::new(hmac::HMAC_SHA256, &key),
        })
    }

    /// `SharedKey <account>:<signature>` for `request` as it is now.
    fn authorization(&self, request: &Request) -> String {
        let to_sign = string_to_sign(&self.account, request);
        let signature = hmac::sign(&self.key, to_sign.as_bytes());
        format!(
            "SharedKey {}:{}",
            self.account,
            azure_core::base64::encode(signature.as_ref())
        )
    }
}

#[async_trait]
impl Policy for SharedKeyPolicy {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        // Each try is signed anew: the date is part of the signature.
        request.insert_header("x-ms-date", to_rfc7231(&OffsetDateTime::now_utc()));
        let authorization = self.authorization(request);
        request.insert_header("authorization", authorization);
        match next.split_first() {
            Some((policy, rest)) => policy.send(ctx, request, rest).await,
            None => Err(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Other,
                "the Shared Key policy must not be the last in the pipeline",
            )),
        }
    }
}

/// The string a Shared Key signature covers (the Blob service's format since 2015-02-21:
/// an empty Content-Length for an empty body).
pub fn string_to_sign(account: &str, request: &Request) -> String {
    let headers = request.headers();
    let header = |name: &'static str| -> String {
        headers
            .get_optional_str(&azure_core::http::headers::HeaderName::from_static(name))
            .unwrap_or("")
            .to_owned()
    };
    let length = match request.body().len() {
        Some(0) | None => String::new(),
        Some(n) => n.to_string(),
    };
    let mut canonical_headers: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| name.as_str().starts_with("x-ms-"))
        .map(|(name, value)| {
            (
                name.as_str().to_ascii_lowercase(),
                value
                    .as_str()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" "),
            )
        })
        .collect();
    canonical_headers.sort();
    let mut out = [
        request.method().as_ref().to_owned(),
        header("content-encoding"),
        header("content-language"),
        length,
        header("content-md5"),
        header("content-type"),
        // x-ms-date stands in for Date.
        String::new(),
        header("if-modified-since"),
        header("if-match"),
        header("if-none-match"),
        header("if-unmodified-since"),
        header("range"),
    ]
    .join("\n");
    out.push('\n');
    for (name, value) in canonical_headers {
        out.push_str(&format!("{name}:{value}\n"));
    }
    out.push_str(&canonical_resource(account, request));
    out
}

/// `/<account><encoded path>` then each query parameter, lower-cased and sorted, as
/// `\nname:value[,value]`.
fn canonical_resource(account: &str, request: &Request) -> String {
    let url = request.url();
    let mut resource = format!("/{account}{}", url.path());
    let mut params: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (name, value) in url.query_pairs() {
        params
            .entry(name.to_ascii_lowercase())
            .or_default()
            .push(value.into_owned());
    }
    for (name, mut values) in params {
        values.sort();
        resource.push_str(&format!("\n{name}:{}", values.join(",")));
    }
    resource
}

#[cfg(test)]
mod tests {
    use super::*;
    use azure_core::http::{Method, Url};

    #[test]
    fn the_string_to_sign_follows_the_shared_key_format() {
        let url = Url::parse(
            "http://127.0.0.1:10000/devstoreaccount1/state/team/llm.tfstate?comp=lease&timeout=30",
        )
        .expect("url");
        let mut request = Request::new(url, Method::Put);
        request.insert_header("x-ms-version", "2026-04-06");
        request.insert_header("x-ms-date", "Sat, 05 Dec 2026 18:00:00 GMT");
        request.insert_header("x-ms-lease-action", "acquire");
        request.insert_header("if-match", "\"0x8D\"");
        let signed = string_to_sign("devstoreaccount1", &request);
        assert_eq!(
            signed,
            "PUT\n\n\n\n\n\n\n\n\"0x8D\"\n\n\n\n\
             x-ms-date:Sat, 05 Dec 2026 18:00:00 GMT\n\
             x-ms-lease-action:acquire\n\
             x-ms-version:2026-04-06\n\
             /devstoreaccount1/devstoreaccount1/state/team/llm.tfstate\ncomp:lease\ntimeout:30"
        );
    }

    #[test]
    fn a_key_that_is_not_base64_is_refused_without_echoing_it() {
        let err = SharedKeyPolicy::new("acct", "not base64 at all!").expect_err("refused");
        assert!(!err.contains("not base64 at all"), "{err}");
        assert!(format!(
            "{:?}",
            SharedKeyPolicy::new("acct", "c2VjcmV0").expect("key")
        )
        .contains("acct"));
    }
}

//! The `backend "gcs"` object store: state, journal segments and the lock object in one
//! Cloud Storage bucket, over the Cloud Storage JSON API with generation preconditions
//! (`ifGenerationMatch=0` to create, `ifGenerationMatch=<generation>` to replace or delete),
//! the requests Terraform's gcs backend makes. The engine's remote backend builds locking
//! and fencing on these ([`gantry_provider::ObjectStore`]); this file only speaks Cloud
//! Storage.
//!
//! Uploads are multipart (`uploadType=multipart`: the object's metadata and its bytes in
//! one request), so a conditional create is one request whose answer decides it.

use crate::credentials;
use gantry_provider::{
    async_trait, error_chain, ObjectStore, Precondition, StoreError, StoredObject, Version,
};
use google_cloud_auth::credentials::{CacheableResource, Credentials};
use http::{Extensions, HeaderMap, Method};
use serde_json::Value as Json;

/// Google's Cloud Storage root (the JSON API is under `/storage/v1/`, uploads under
/// `/upload/storage/v1/`).
const GOOGLE_ROOT: &str = "https://storage.googleapis.com";

/// The arguments of a `backend "gcs"` block that reach Cloud Storage (the object names and
/// the workspace layout are the engine's).
#[derive(Debug, Clone, Default)]
pub struct GcsBackendSettings {
    pub bucket: String,
    /// A service-account key (its path or its JSON), else GOOGLE_BACKEND_CREDENTIALS, then
    /// the provider's chain (GOOGLE_OAUTH_ACCESS_TOKEN, GOOGLE_CREDENTIALS, ADC).
    pub credentials: Option<String>,
    pub access_token: Option<String>,
    /// `storage_custom_endpoint`: the JSON API's base, `https://HOST/storage/v1/`.
    pub endpoint: Option<String>,
    /// `kms_encryption_key`: every object written is encrypted with this Cloud KMS key
    /// (`kmsKeyName`), as Terraform's backend does.
    pub kms_key_name: Option<String>,
}

/// A bucket holding gantry state.
#[derive(Debug, Clone)]
pub struct GcsStore {
    http: reqwest::Client,
    /// `https://storage.googleapis.com`, or the custom endpoint without `/storage/v1/`.
    root: String,
    bucket: String,
    credentials: Credentials,
    kms_key_name: Option<String>,
}

impl GcsStore {
    pub fn connect(settings: &GcsBackendSettings) -> Result<GcsStore, String> {
        if settings.bucket.is_empty() {
            return Err("`backend \"gcs\"` needs `bucket`".into());
        }
        let backend_credentials = settings.credentials.clone().or_else(|| {
            std::env::var("GOOGLE_BACKEND_CREDENTIALS")
                .ok()
                .filter(|c| !c.is_empty())
        });
        let (credentials, _source) = credentials::resolve(
            settings.access_token.as_deref(),
            backend_credentials.as_deref(),
        )
        .map_err(|e| e.message)?;
        let root = match &settings.endpoint {
            Some(endpoint) => endpoint_root(endpoint)?,
            None => GOOGLE_ROOT.to_owned(),
        };
        let http = reqwest::Client::builder()
            .build()
            .map_err(|e| format!("cannot build the Cloud Storage HTTP client: {e}"))?;
        Ok(GcsStore {
            http,
            root,
            bucket: settings.bucket.clone(),
            credentials,
            kms_key_name: settings.kms_key_name.clone(),
        })
    }

    fn object_url(&self, key: &str) -> String {
        format!(
            "{}/storage/v1/b/{}/o/{}",
            self.root,
            self.bucket,
            encode_component(key)
        )
    }

    async fn auth_headers(
        &self,
        operation: &'static str,
        key: &str,
    ) -> Result<HeaderMap, StoreError> {
        match self.credentials.headers(Extensions::new()).await {
            Ok(CacheableResource::New { data, .. }) => Ok(data),
            Ok(CacheableResource::NotModified) => Err(failed(
                operation,
                key,
                "the credentials gave no token".into(),
                false,
            )),
            // A token endpoint that is down may come back; a refused key will not, but the
            // caller's retries are few.
            Err(e) => Err(failed(
                operation,
                key,
                format!("the credentials gave no token: {e}"),
                e.is_transient(),
            )),
        }
    }

    async fn send(
        &self,
        operation: &'static str,
        key: &str,
        request: reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, StoreError> {
        let headers = self.auth_headers(operation, key).await?;
        request
            .headers(headers)
            .send()
            .await
            .map_err(|e| failed(operation, key, error_chain(&e), true))
    }
}

/// `https://HOST/storage/v1/` (Terraform's `storage_custom_endpoint`) as `https://HOST`.
fn endpoint_root(endpoint: &str) -> Result<String, String> {
    let trimmed = endpoint.trim_end_matches('/');
    let root = trimmed.strip_suffix("/storage/v1").unwrap_or(trimmed);
    if !(root.starts_with("https://") || root.starts_with("http://")) {
        return Err(format!(
            "`storage_custom_endpoint` must be an http(s) URL such as https://storage.example.com/storage/v1/ (got `{endpoint}`)"
        ));
    }
    Ok(root.to_owned())
}

/// An object name as one URL path segment (`/` included, as the JSON API requires).
fn encode_component(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for b in name.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn failed(operation: &'static str, key: &str, message: String, transient: bool) -> StoreError {
    StoreError::Failed {
        operation,
        key: key.to_owned(),
        message,
        transient,
    }
}

/// A failed answer as a store error: 412 is a failed precondition; 408, 429 and 5xx may
/// succeed when retried.
async fn answer_error(operation: &'static str, key: &str, answer: reqwest::Response) -> StoreError {
    let status = answer.status().as_u16();
    if status == 412 {
        return StoreError::PreconditionFailed {
            key: key.to_owned(),
        };
    }
    let text = answer.text().await.unwrap_or_default();
    let body: Json = serde_json::from_str(&text).unwrap_or(Json::Null);
    let message = body
        .pointer("/error/message")
        .and_then(Json::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| text.trim().chars().take(300).collect());
    let hint = match status {
        401 => " (the credentials were refused)",
        403 => " (the credentials lack storage.objects permissions on the bucket)",
        404 => " (no such bucket: create it first, gantry does not create its state bucket)",
        _ => "",
    };
    failed(
        operation,
        key,
        format!("{status} {message}{hint}"),
        status == 408 || status == 429 || status >= 500,
    )
}

/// The `ifGenerationMatch` of a precondition.
fn generation_match(condition: &Precondition) -> Option<String> {
    match condition {
        Precondition::None => None,
        Precondition::Absent => Some("0".into()),
        Precondition::Matches(v) => Some(v.0.clone()),
    }
}

/// A `multipart/related` body: the object's metadata as JSON, then its bytes.
fn multipart_body(metadata: &Json, bytes: &[u8]) -> (String, Vec<u8>) {
    // A random boundary: no state or journal bytes contain it.
    let boundary = format!("gantry-{}", uuid::Uuid::new_v4().simple());
    let mut body = Vec::with_capacity(bytes.len() + 512);
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n{metadata}\r\n--{boundary}\r\nContent-Type: application/json\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/related; boundary={boundary}"), body)
}

#[async_trait]
impl ObjectStore for GcsStore {
    fn location(&self) -> String {
        format!("gs://{}", self.bucket)
    }

    async fn get(&self, key: &str) -> Result<Option<StoredObject>, StoreError> {
        let request = self
            .http
            .get(self.object_url(key))
            .query(&[("alt", "media")]);
        let answer = self.send("objects.get", key, request).await?;
        if answer.status().as_u16() == 404 {
            return Ok(None);
        }
        if !answer.status().is_success() {
            return Err(answer_error("objects.get", key, answer).await);
        }
        // The media answer names the generation it served: a later conditional write is
        // made against exactly what was read.
        let generation = answer
            .headers()
            .get("x-goog-generation")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
            .ok_or_else(|| {
                failed(
                    "objects.get",
                    key,
                    "Cloud Storage answered without x-goog-generation".into(),
                    false,
                )
            })?;
        let bytes = answer
            .bytes()
            .await
            .map_err(|e| failed("objects.get", key, error_chain(&e), true))?;
        Ok(Some(StoredObject {
            bytes: bytes.to_vec(),
            version: Version(generation),
        }))
    }

    async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        condition: Precondition,
    ) -> Result<Version, StoreError> {
        let mut metadata = serde_json::json!({"name": key, "contentType": "application/json"});
        if let Some(kms) = &self.kms_key_name {
            metadata["kmsKeyName"] = Json::String(kms.clone());
        }
        let (content_type, body) = multipart_body(&metadata, &bytes);
        let mut query = vec![("uploadType", "multipart".to_owned())];
        if let Some(generation) = generation_match(&condition) {
            query.push(("ifGenerationMatch", generation));
        }
        let request = self
            .http
            .post(format!(
                "{}/upload/storage/v1/b/{}/o",
                self.root, self.bucket
            ))
            .query(&query)
            .header(http::header::CONTENT_TYPE, content_type)
            .body(body);
        let answer = self.send("objects.insert", key, request).await?;
        if !answer.status().is_success() {
            return Err(answer_error("objects.insert", key, answer).await);
        }
        let object: Json = answer
            .json()
            .await
            .map_err(|e| failed("objects.insert", key, error_chain(&e), true))?;
        generation_of(&object).map(Version).ok_or_else(|| {
            failed(
                "objects.insert",
                key,
                "the answer has no generation".into(),
                false,
            )
        })
    }

    async fn delete(&self, key: &str, condition: Precondition) -> Result<(), StoreError> {
        let generation = match &condition {
            // Cloud Storage has no "delete if absent"; deleting nothing is what that asks.
            Precondition::Absent => return Ok(()),
            other => generation_match(other),
        };
        let mut request = self.http.request(Method::DELETE, self.object_url(key));
        if let Some(generation) = &generation {
            request = request.query(&[("ifGenerationMatch", generation)]);
        }
        let answer = self.send("objects.delete", key, request).await?;
        match answer.status().as_u16() {
            200..=299 => Ok(()),
            404 if generation.is_none() => Ok(()),
            // A conditional delete of a missing object: someone else removed it.
            404 => Err(StoreError::PreconditionFailed {
                key: key.to_owned(),
            }),
            _ => Err(answer_error("objects.delete", key, answer).await),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut keys = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let mut query = vec![
                ("prefix", prefix.to_owned()),
                ("fields", "items(name),nextPageToken".to_owned()),
            ];
            if let Some(token) = &page_token {
                query.push(("pageToken", token.clone()));
            }
            let request = self
                .http
                .get(format!("{}/storage/v1/b/{}/o", self.root, self.bucket))
                .query(&query);
            let answer = self.send("objects.list", prefix, request).await?;
            if !answer.status().is_success() {
                return Err(answer_error("objects.list", prefix, answer).await);
            }
            let page: Json = answer
                .json()
                .await
                .map_err(|e| failed("objects.list", prefix, error_chain(&e), true))?;
            keys.extend(
                page.get("items")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|o| o.get("name").and_then(Json::as_str))
                    .filter(|name| name.starts_with(prefix))
                    .map(str::to_owned),
            );
            page_token = page
                .get("nextPageToken")
                .and_then(Json::as_str)
                .filter(|t| !t.is_empty())
                .map(str::to_owned);
            if page_token.is_none() {
                break;
            }
        }
        keys.sort();
        Ok(keys)
    }
}

/// An object resource's `generation` (a string of digits in the JSON API, a number in
/// some emulators).
fn generation_of(object: &Json) -> Option<String> {
    match object.get("generation")? {
        Json::String(s) if !s.is_empty() => Some(s.clone()),
        Json::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_endpoints_are_read_as_terraform_writes_them() {
        assert_eq!(
            endpoint_root("http://127.0.0.1:4443/storage/v1/").as_deref(),
            Ok("http://127.0.0.1:4443")
        );
        assert_eq!(
            endpoint_root("https://storage-psc.p.googleapis.com").as_deref(),
            Ok("https://storage-psc.p.googleapis.com")
        );
        assert!(endpoint_root("storage.example.com/storage/v1/").is_err());
    }

    #[test]
    fn object_names_are_one_path_segment() {
        assert_eq!(
            encode_component("llm/default.tfstate.journal/000000000001"),
            "llm%2Fdefault.tfstate.journal%2F000000000001"
        );
        assert_eq!(encode_component("env:/a b"), "env%3A%2Fa%20b");
    }

    #[test]
    fn preconditions_become_generation_matches() {
        assert_eq!(generation_match(&Precondition::None), None);
        assert_eq!(
            generation_match(&Precondition::Absent).as_deref(),
            Some("0")
        );
        assert_eq!(
            generation_match(&Precondition::Matches(Version("1733".into()))).as_deref(),
            Some("1733")
        );
        assert_eq!(
            generation_of(&serde_json::json!({"generation": "17"})).as_deref(),
            Some("17")
        );
        assert_eq!(
            generation_of(&serde_json::json!({"generation": 17})).as_deref(),
            Some("17")
        );
    }

    #[test]
    fn a_multipart_body_carries_metadata_then_the_bytes() {
        let (content_type, body) =
            multipart_body(&serde_json::json!({"name": "k"}), b"{\"serial\":1}");
        let boundary = content_type
            .strip_prefix("multipart/related; boundary=")
            .expect("a boundary");
        let text = String::from_utf8(body).expect("utf-8");
        let parts: Vec<&str> = text.split(&format!("--{boundary}")).collect();
        assert_eq!(parts.len(), 4, "{text}");
        assert!(parts[1].contains("{\"name\":\"k\"}"), "{text}");
        assert!(parts[2].ends_with("\r\n\r\n{\"serial\":1}\r\n"), "{text}");
        assert_eq!(parts[3], "--\r\n");
    }
}

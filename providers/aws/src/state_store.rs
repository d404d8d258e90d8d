//! The `backend "s3"` object store: state, journal segments and the lock object in one S3
//! bucket, over aws-sdk-s3 with S3's conditional writes (`If-None-Match: *` to create,
//! `If-Match: <etag>` to replace or delete). The engine's remote backend builds locking and
//! fencing on these ([`gantry_provider::ObjectStore`]); this file only speaks S3.

use crate::errors::{error_chain, sdk_error};
use aws_config::BehaviorVersion;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use aws_types::region::Region;
use gantry_provider::{
    async_trait, ErrorClass, ObjectStore, Precondition, StoreError, StoredObject, Version,
};

/// The arguments of a `backend "s3"` block that reach S3 (keys and workspace layout are
/// the engine's).
#[derive(Debug, Clone, Default)]
pub struct S3BackendSettings {
    pub bucket: String,
    /// Else `AWS_REGION` or the profile's.
    pub region: Option<String>,
    /// `endpoints { s3 = URL }`, else `AWS_ENDPOINT_URL_S3` / `AWS_ENDPOINT_URL`.
    pub endpoint: Option<String>,
    pub use_path_style: bool,
    pub profile: Option<String>,
    pub access_key: Option<String>,
    pub secret_key: Option<String>,
    /// `assume_role { role_arn, session_name, external_id }`.
    pub assume_role_arn: Option<String>,
    pub assume_role_session_name: Option<String>,
    pub assume_role_external_id: Option<String>,
    /// Server-side encryption of every object written (`encrypt = true`).
    pub encrypt: bool,
    /// With `encrypt`: SSE-KMS under this key instead of SSE-S3.
    pub kms_key_id: Option<String>,
}

/// A bucket holding gantry state.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    bucket: String,
    encrypt: bool,
    kms_key_id: Option<String>,
}

impl S3Store {
    /// A client for `settings.bucket` on aws-config's credential chain.
    pub async fn connect(settings: &S3BackendSettings) -> Result<S3Store, String> {
        let mut loader = aws_config::defaults(BehaviorVersion::latest());
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        match (&settings.access_key, &settings.secret_key) {
            (Some(key), Some(secret)) => {
                loader = loader.credentials_provider(aws_credential_types::Credentials::new(
                    key,
                    secret,
                    None,
                    None,
                    "backend block",
                ));
            }
            (None, None) => {}
            _ => {
                return Err("`access_key` and `secret_key` go together: set both or neither".into())
            }
        }
        let mut sdk = loader.load().await;
        if sdk.region().is_none_or(|r| r.as_ref().is_empty()) {
            return Err(
                "no AWS region for the state bucket: set `region` in the backend block, or AWS_REGION"
                    .into(),
            );
        }
        if let Some(role_arn) = &settings.assume_role_arn {
            sdk = crate::settings::assume_role(
                sdk,
                role_arn,
                settings
                    .assume_role_session_name
                    .as_deref()
                    .unwrap_or("gantry-state"),
                settings.assume_role_external_id.as_deref(),
            )
            .await;
        }
        let mut config =
            aws_sdk_s3::config::Builder::from(&sdk).force_path_style(settings.use_path_style);
        if let Some(url) = &settings.endpoint {
            config = config.endpoint_url(url);
        }
        Ok(S3Store {
            client: aws_sdk_s3::Client::from_conf(config.build()),
            bucket: settings.bucket.clone(),
            encrypt: settings.encrypt,
            kms_key_id: settings.kms_key_id.clone(),
        })
    }
}

/// A failed S3 call as a store error: 412 (and S3's 409 for a conditional write racing
/// another) is a failed precondition.
fn store_error<E>(operation: &'static str, key: &str, err: SdkError<E, HttpResponse>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    if let SdkError::ServiceError(service) = &err {
        let status = service.raw().status().as_u16();
        let code = service.err().code().unwrap_or("");
        if status == 412 || code == "PreconditionFailed" || code == "ConditionalRequestConflict" {
            return StoreError::PreconditionFailed {
                key: key.to_owned(),
            };
        }
    }
    let provider_error = sdk_error(operation, err);
    let transient = matches!(
        provider_error.class,
        ErrorClass::Transient | ErrorClass::Throttled | ErrorClass::Timeout
    );
    StoreError::Failed {
        operation,
        key: key.to_owned(),
        message: provider_error.message,
        transient,
    }
}

fn etag(tag: Option<&str>, operation: &'static str, key: &str) -> Result<Version, StoreError> {
    tag.map(|t| Version(t.to_owned()))
        .ok_or_else(|| StoreError::Failed {
            operation,
            key: key.to_owned(),
            message: "S3 answered without an ETag".into(),
            transient: false,
        })
}

#[async_trait]
impl ObjectStore for S3Store {
    fn location(&self) -> String {
        format!("s3://{}", self.bucket)
    }

    async fn get(&self, key: &str) -> Result<Option<StoredObject>, StoreError> {
        let out = match self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(SdkError::ServiceError(e)) if e.err().is_no_such_key() => return Ok(None),
            Err(e) => return Err(store_error("GetObject", key, e)),
        };
        let version = etag(out.e_tag(), "GetObject", key)?;
        let bytes = out.body.collect().await.map_err(|e| StoreError::Failed {
            operation: "GetObject",
            key: key.to_owned(),
            message: error_chain(&e),
            transient: true,
        })?;
        Ok(Some(StoredObject {
            bytes: bytes.into_bytes().to_vec(),
            version,
        }))
    }

    async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        condition: Precondition,
    ) -> Result<Version, StoreError> {
        let mut request = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type("application/json")
            .body(ByteStream::from(bytes));
        request = match condition {
            Precondition::None => request,
            Precondition::Absent => request.if_none_match("*"),
            Precondition::Matches(v) => request.if_match(v.0),
        };
        if self.encrypt {
            request = match &self.kms_key_id {
                Some(kms) => request
                    .server_side_encryption(ServerSideEncryption::AwsKms)
                    .ssekms_key_id(kms),
                None => request.server_side_encryption(ServerSideEncryption::Aes256),
            };
        }
        let out = request
            .send()
            .await
            .map_err(|e| store_error("PutObject", key, e))?;
        etag(out.e_tag(), "PutObject", key)
    }

    async fn delete(&self, key: &str, condition: Precondition) -> Result<(), StoreError> {
        let mut request = self.client.delete_object().bucket(&self.bucket).key(key);
        match condition {
            Precondition::None => {}
            // S3 has no "delete if absent"; deleting nothing is what that asks.
            Precondition::Absent => return Ok(()),
            Precondition::Matches(v) => request = request.if_match(v.0),
        }
        match request.send().await {
            Ok(_) => Ok(()),
            // A conditional delete of a missing object: someone else removed it.
            Err(SdkError::ServiceError(e)) if e.raw().status().as_u16() == 404 => {
                Err(StoreError::PreconditionFailed {
                    key: key.to_owned(),
                })
            }
            Err(e) => Err(store_error("DeleteObject", key, e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut keys = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| store_error("ListObjectsV2", prefix, e))?;
            keys.extend(
                page.contents()
                    .iter()
                    .filter_map(|o| o.key().map(str::to_owned)),
            );
        }
        keys.sort();
        Ok(keys)
    }
}

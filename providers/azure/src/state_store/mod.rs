//! The `backend "azurerm"` object store: state, journal segments and the lock blob in one
//! Blob Storage container, over azure_storage_blob with the Blob service's conditional
//! requests (`If-None-Match: *` to create, `If-Match: <etag>` to replace or delete) and a
//! **lease on the lock blob**: taken when the lock is created, renewed by every heartbeat
//! (a finite term, 15 to 60 s, never an infinite lease), released with the lock. While it
//! runs, the Blob service itself refuses anyone else a write or delete of the lock
//! ([`StoreError::Leased`]); a killed runner's lease lapses by itself. The engine's remote
//! backend builds locking and fencing on these ([`gantry_provider::ObjectStore`]); this
//! module only speaks Blob Storage.

mod shared_key;

use crate::credentials;
use azure_core::credentials::TokenCredential;
use azure_core::error::ErrorKind;
use azure_core::http::{ClientOptions, Etag, RequestContent, Transport, Url};
use azure_storage_blob::models::{
    BlobClientAcquireLeaseOptions, BlobClientAcquireLeaseResultHeaders, BlobClientDeleteOptions,
    BlobClientUploadOptions, BlobContainerClientListBlobsOptions,
};
use azure_storage_blob::BlobContainerClientOptions;
use azure_storage_blob::{BlobClient, BlobClientOptions, BlobContainerClient};
use futures::TryStreamExt;
use gantry_provider::attrs::Attrs;
use gantry_provider::{
    async_trait, ObjectStore, Precondition, StoreError, StoredObject, Value, Version,
};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

pub use shared_key::SharedKeyPolicy;

/// How `backend "azurerm"` authenticates to the storage account.
#[derive(Clone)]
pub enum BlobAuth {
    /// The account's access key (`access_key`, ARM_ACCESS_KEY): Shared Key signing.
    AccessKey(String),
    /// A SAS token (`sas_token`, ARM_SAS_TOKEN), with or without its leading `?`.
    Sas(String),
    /// Entra ID (`use_azuread_auth = true`): the provider's credential chain, configured by
    /// these provider-block attributes (`tenant_id`, `client_id`, `client_secret`,
    /// `use_oidc`, `use_msi`, `use_cli`, `metadata_host`, `environment`, ...) and the
    /// `ARM_*` variables.
    AzureAd(Value),
}

impl std::fmt::Debug for BlobAuth {
    // Never a key or token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            BlobAuth::AccessKey(_) => "AccessKey(..)",
            BlobAuth::Sas(_) => "Sas(..)",
            BlobAuth::AzureAd(_) => "AzureAd(..)",
        })
    }
}

/// The arguments of a `backend "azurerm"` block that reach Blob Storage (keys and the
/// workspace layout are the engine's).
#[derive(Debug, Clone)]
pub struct AzureBackendSettings {
    pub storage_account_name: String,
    pub container_name: String,
    /// The Blob service URL (`https://<account>.blob.core.windows.net`, an Azurite
    /// `http://127.0.0.1:10000/devstoreaccount1`); else derived from the account and
    /// `environment`.
    pub endpoint: Option<String>,
    /// `public` (default), `usgovernment` or `china`: the Blob service's domain.
    pub environment: Option<String>,
    pub auth: BlobAuth,
    /// The blobs held under a lease while they exist (the lock).
    pub leased_keys: Vec<String>,
    /// The lease's term; the Blob service takes 15 to 60 s.
    pub lease_term: Duration,
}

/// A container holding gantry state.
pub struct AzureBlobStore {
    /// The container's URL, without a SAS (it is shown in messages).
    container: Url,
    /// The SAS query every request carries, if authenticating by SAS.
    sas: Option<String>,
    credential: Option<Arc<dyn TokenCredential>>,
    options: BlobClientOptions,
    leased_keys: HashSet<String>,
    /// This run's lease id, proposed on every acquire: re-acquiring a lease we hold with
    /// our own id renews it, so a retried or repeated acquire is harmless.
    lease_id: String,
    lease_seconds: i32,
    /// The leased blobs whose lease this run took and has not given back.
    holding: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for AzureBlobStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AzureBlobStore")
            .field("container", &self.container.as_str())
            .finish_non_exhaustive()
    }
}

/// The Blob service domain of an azurerm `environment`.
fn blob_suffix(environment: &str) -> Result<&'static str, String> {
    match environment.to_ascii_lowercase().as_str() {
        "public" | "azurecloud" => Ok("blob.core.windows.net"),
        "usgovernment" | "azureusgovernment" => Ok("blob.core.usgovcloudapi.net"),
        "china" | "azurechinacloud" => Ok("blob.core.chinacloudapi.cn"),
        other => Err(format!(
            "unknown `environment` {other:?}: use public, usgovernment or china (or `endpoint` for another cloud)"
        )),
    }
}

/// `https://<account>.blob.<suffix>/<container>`, or `<endpoint>/<container>`.
pub fn container_url(settings: &AzureBackendSettings) -> Result<Url, String> {
    let service = match &settings.endpoint {
        Some(endpoint) => endpoint.trim_end_matches('/').to_owned(),
        None => format!(
            "https://{}.{}",
            settings.storage_account_name,
            blob_suffix(settings.environment.as_deref().unwrap_or("public"))?
        ),
    };
    let mut url =
        Url::parse(&service).map_err(|e| format!("`endpoint` {service:?} is not a URL: {e}"))?;
    if url.cannot_be_a_base() || url.query().is_some() {
        return Err(format!(
            "`endpoint` {service:?} must be the Blob service's base URL, without a query (give a SAS as `sas_token`)"
        ));
    }
    url.path_segments_mut()
        .map_err(|()| format!("`endpoint` {service:?} cannot take a path"))?
        .pop_if_empty()
        .push(&settings.container_name);
    Ok(url)
}

impl AzureBlobStore {
    /// A client for the container `settings` name, authenticated as they say.
    pub async fn connect(settings: &AzureBackendSettings) -> Result<AzureBlobStore, String> {
        let container = container_url(settings)?;
        let http = Arc::new(crate::settings::http_client().map_err(|e| e.message)?);
        let mut client_options = ClientOptions {
            transport: Some(Transport::new(http.clone())),
            ..ClientOptions::default()
        };
        let (sas, credential) = match &settings.auth {
            BlobAuth::AccessKey(key) => {
                let policy = SharedKeyPolicy::new(&settings.storage_account_name, key)?;
                client_options.per_try_policies.push(Arc::new(policy));
                (None, None)
            }
            BlobAuth::Sas(token) => (Some(token.trim_start_matches('?').to_owned()), None),
            BlobAuth::AzureAd(config) => {
                if container.scheme() != "https" {
                    return Err(format!(
                        "`use_azuread_auth` sends a bearer token, which azure_storage_blob sends only over https; `{container}` is not https"
                    ));
                }
                let credential = credentials::for_data_plane(&Attrs(config), http.clone()).await?;
                (None, Some(credential))
            }
        };
        let store = AzureBlobStore {
            container,
            sas,
            credential,
            options: BlobClientOptions {
                client_options,
                ..BlobClientOptions::default()
            },
            leased_keys: settings.leased_keys.iter().cloned().collect(),
            lease_id: uuid::Uuid::new_v4().to_string(),
            lease_seconds: settings.lease_term.as_secs().clamp(15, 60) as i32,
            holding: Mutex::new(HashSet::new()),
        };
        // Fail at init, with the reason, rather than at the first state read. A listing,
        // not the container's properties: a container SAS may list but not read those.
        let options = BlobContainerClientListBlobsOptions {
            maxresults: Some(1),
            ..Default::default()
        };
        let probe = match store.container_client()?.list_blobs(Some(options)) {
            Ok(mut pages) => pages.try_next().await.map(|_| ()),
            Err(e) => Err(e),
        };
        match probe {
            Ok(()) => Ok(store),
            Err(e) if matches!(e.kind(), ErrorKind::HttpResponse { error_code: Some(code), .. } if code == "ContainerNotFound") => {
                Err(format!(
                    "the container `{}` does not exist: create it first (`az storage container create`), gantry does not create the container it keeps state in",
                    store.container
                ))
            }
            Err(e) => Err(format!(
                "cannot reach the container `{}`: {}",
                store.container,
                message(&e)
            )),
        }
    }

    fn with_sas(&self, mut url: Url) -> Url {
        if let Some(sas) = &self.sas {
            url.set_query(Some(sas));
        }
        url
    }

    fn container_client(&self) -> Result<BlobContainerClient, String> {
        BlobContainerClient::new(
            self.with_sas(self.container.clone()),
            self.credential.clone(),
            Some(BlobContainerClientOptions {
                client_options: self.options.client_options.clone(),
                version: self.options.version.clone(),
            }),
        )
        .map_err(|e| message(&e))
    }

    /// The client of blob `key`, its `/`s kept as path separators (the SDK's own helper
    /// would escape them).
    fn blob(&self, key: &str) -> Result<BlobClient, StoreError> {
        let mut url = self.container.clone();
        if let Ok(mut segments) = url.path_segments_mut() {
            segments.extend(key.split('/'));
        }
        BlobClient::new(
            self.with_sas(url),
            self.credential.clone(),
            Some(self.options.clone()),
        )
        .map_err(|e| failed("blob client", key, &e))
    }

    fn holds(&self, key: &str) -> bool {
        self.holding
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .contains(key)
    }

    fn set_holding(&self, key: &str, held: bool) {
        let mut holding = self.holding.lock().unwrap_or_else(PoisonError::into_inner);
        if held {
            holding.insert(key.to_owned());
        } else {
            holding.remove(key);
        }
    }

    /// Takes (or renews: same id) the lease on `key` while it is still at `version`.
    async fn lease(
        &self,
        blob: &BlobClient,
        key: &str,
        version: &Version,
    ) -> Result<(), StoreError> {
        let options = BlobClientAcquireLeaseOptions {
            proposed_lease_id: Some(self.lease_id.clone()),
            if_match: Some(Etag::from(version.0.clone())),
            ..Default::default()
        };
        let response = blob
            .acquire_lease(self.lease_seconds, Some(options))
            .await
            .map_err(|e| store_error("acquire lease on", key, &e))?;
        if response.lease_id().ok().flatten().as_deref() != Some(self.lease_id.as_str()) {
            return Err(StoreError::Failed {
                operation: "acquire lease on",
                key: key.to_owned(),
                message: "the Blob service granted a lease under another id".into(),
                transient: false,
            });
        }
        self.set_holding(key, true);
        Ok(())
    }

    async fn upload(
        &self,
        blob: &BlobClient,
        key: &str,
        bytes: Vec<u8>,
        options: BlobClientUploadOptions<'_>,
    ) -> Result<Version, StoreError> {
        let out = blob
            .upload(RequestContent::from(bytes), Some(options))
            .await
            .map_err(|e| store_error("upload", key, &e))?;
        etag(out.etag.as_ref(), "upload", key)
    }
}

/// An azure_core error's text: for a Blob service error, its status, code and message
/// (the first line of the XML body's `<Message>`), not the raw XML.
fn message(e: &azure_core::Error) -> String {
    let text = gantry_provider::error_chain(e);
    if let ErrorKind::HttpResponse {
        status,
        error_code: Some(code),
        ..
    } = e.kind()
    {
        let said = text
            .split_once("<Message>")
            .and_then(|(_, rest)| rest.lines().next())
            .map(|line| line.trim_end_matches("</Message>").trim());
        if let Some(said) = said {
            return format!("{} {code}: {said}", u16::from(*status));
        }
    }
    text
}

fn failed(operation: &'static str, key: &str, e: &azure_core::Error) -> StoreError {
    StoreError::Failed {
        operation,
        key: key.to_owned(),
        message: message(e),
        transient: false,
    }
}

/// A failed Blob service call as a store error: a lease in the way is
/// [`StoreError::Leased`]; a failed condition (412, or 409 `BlobAlreadyExists` for a
/// create-if-absent) is a failed precondition; throttling, 5xx and lost connections are
/// transient.
fn store_error(operation: &'static str, key: &str, e: &azure_core::Error) -> StoreError {
    match e.kind() {
        ErrorKind::HttpResponse {
            status, error_code, ..
        } => {
            let status = u16::from(*status);
            let code = error_code.as_deref().unwrap_or("");
            if code.starts_with("Lease") {
                return StoreError::Leased {
                    key: key.to_owned(),
                    detail: format!("{code} ({status})"),
                };
            }
            if status == 412 || code == "BlobAlreadyExists" || code == "ConditionNotMet" {
                return StoreError::PreconditionFailed {
                    key: key.to_owned(),
                };
            }
            StoreError::Failed {
                operation,
                key: key.to_owned(),
                message: message(e),
                transient: status == 408 || status == 429 || status >= 500,
            }
        }
        ErrorKind::Io | ErrorKind::Connection => StoreError::Failed {
            operation,
            key: key.to_owned(),
            message: message(e),
            transient: true,
        },
        _ => failed(operation, key, e),
    }
}

fn etag(tag: Option<&Etag>, operation: &'static str, key: &str) -> Result<Version, StoreError> {
    tag.map(|t| Version(t.to_string()))
        .ok_or_else(|| StoreError::Failed {
            operation,
            key: key.to_owned(),
            message: "the Blob service answered without an ETag".into(),
            transient: false,
        })
}

fn is_not_found(e: &azure_core::Error) -> bool {
    matches!(e.kind(), ErrorKind::HttpResponse { error_code: Some(code), .. } if code == "BlobNotFound")
}

#[async_trait]
impl ObjectStore for AzureBlobStore {
    fn location(&self) -> String {
        self.container.to_string()
    }

    async fn get(&self, key: &str) -> Result<Option<StoredObject>, StoreError> {
        let blob = self.blob(key)?;
        let out = match blob.download(None).await {
            Ok(out) => out,
            Err(e) if is_not_found(&e) => return Ok(None),
            Err(e) => return Err(store_error("download", key, &e)),
        };
        let version = etag(out.properties.etag.as_ref(), "download", key)?;
        let bytes = out
            .body
            .collect()
            .await
            .map_err(|e| store_error("download", key, &e))?;
        Ok(Some(StoredObject {
            bytes: bytes.to_vec(),
            version,
        }))
    }

    async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        condition: Precondition,
    ) -> Result<Version, StoreError> {
        let blob = self.blob(key)?;
        let leased = self.leased_keys.contains(key);
        let mut options = BlobClientUploadOptions {
            blob_content_type: Some("application/json".into()),
            ..Default::default()
        };
        match condition {
            Precondition::None => {}
            Precondition::Absent => {
                options.if_none_match = Some(Etag::from("*"));
                let version = self.upload(&blob, key, bytes, options).await?;
                if leased {
                    // A lock blob is leased from its first moment on; were this lease not
                    // taken (a lost answer), the next heartbeat takes it.
                    self.lease(&blob, key, &version).await?;
                }
                return Ok(version);
            }
            Precondition::Matches(version) => {
                if leased {
                    // Renews our lease, or takes it again if it lapsed untouched; refused
                    // if the blob changed or someone else leased it.
                    self.lease(&blob, key, &version).await?;
                    options.lease_id = Some(self.lease_id.clone());
                }
                options.if_match = Some(Etag::from(version.0));
            }
        }
        self.upload(&blob, key, bytes, options).await
    }

    async fn delete(&self, key: &str, condition: Precondition) -> Result<(), StoreError> {
        let blob = self.blob(key)?;
        let mut options = BlobClientDeleteOptions::default();
        let conditional = matches!(condition, Precondition::Matches(_));
        match condition {
            Precondition::None => {}
            // Blob Storage has no "delete if absent"; deleting nothing is what that asks.
            Precondition::Absent => return Ok(()),
            Precondition::Matches(v) => options.if_match = Some(Etag::from(v.0)),
        }
        let ours = self.holds(key);
        if ours {
            options.lease_id = Some(self.lease_id.clone());
        }
        let mut result = blob.delete(Some(options.clone())).await;
        if ours {
            if let Err(e) = &result {
                // Our lease lapsed untouched: the etag alone still says the blob is ours.
                if matches!(e.kind(), ErrorKind::HttpResponse { error_code: Some(code), .. } if code == "LeaseNotPresentWithBlobOperation")
                {
                    options.lease_id = None;
                    result = blob.delete(Some(options)).await;
                }
            }
        }
        match result {
            Ok(_) => {
                self.set_holding(key, false);
                Ok(())
            }
            // A conditional delete of a missing blob: someone else removed it.
            Err(e) if is_not_found(&e) => {
                self.set_holding(key, false);
                if conditional {
                    Err(StoreError::PreconditionFailed {
                        key: key.to_owned(),
                    })
                } else {
                    Ok(())
                }
            }
            Err(e) => Err(store_error("delete", key, &e)),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let container = self
            .container_client()
            .map_err(|message| StoreError::Failed {
                operation: "list",
                key: prefix.to_owned(),
                message,
                transient: false,
            })?;
        let options = BlobContainerClientListBlobsOptions {
            prefix: Some(prefix.to_owned()),
            ..Default::default()
        };
        let mut pages = container
            .list_blobs(Some(options))
            .map_err(|e| store_error("list", prefix, &e))?;
        let mut keys = Vec::new();
        while let Some(item) = pages
            .try_next()
            .await
            .map_err(|e| store_error("list", prefix, &e))?
        {
            if let Some(name) = item.name {
                keys.push(name);
            }
        }
        keys.sort();
        Ok(keys)
    }

    fn renew_within(&self) -> Option<Duration> {
        (!self.leased_keys.is_empty()).then(|| Duration::from_secs(self.lease_seconds as u64))
    }
}

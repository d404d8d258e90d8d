//! Remote state backends: state, its journal and its lock in an object store shared by a
//! team and its CI (`backend "s3"`, `"gcs"`, `"azurerm"`, `"pg"`), safe against killed
//! runners, lost responses and runs that lost their lock. Each cloud crate implements the
//! store ([`gantry_provider::ObjectStore`]: S3 in `gantry-aws`, Cloud Storage in
//! `gantry-gcp`, Blob Storage in `gantry-azure`, PostgreSQL in `gantry-pgstore`);
//! everything below is written once, against that trait.
//!
//! # Design
//!
//! A remote backend keeps, under the state key `K` (Terraform's layouts: on S3 `key` for
//! the `default` workspace, `<workspace_key_prefix>/<workspace>/<key>` for the others; on
//! Cloud Storage `<prefix>/<workspace>.tfstate`; on Blob Storage `key` for `default`,
//! `<key>env:<workspace>` for the others; in PostgreSQL a row per workspace):
//!
//! | object | contents |
//! |---|---|
//! | `K` | the state, exactly as `state.json` |
//! | `K.lock` (gcs: `<prefix>/<workspace>.tflock`; azurerm: `K.gantry/lock`, leased) | the lock ([`lock`]): holder, operation, host, start time, heartbeat |
//! | `K.journal/NNNNNNNNNNNN` (azurerm: `K.gantry/journal/NNNNNNNNNNNN`) | journal segments: each group commit of the journal, in order |
//!
//! **A run works on a local copy.** After taking the lock, the run copies `K` and the
//! journal into a working directory (`.gantry/remote/<workspace>/`) and runs the very same
//! state and journal code as the local backend there ([`super::journal`], on
//! [`gantry_grouplog`]). Every write is then forwarded before it counts:
//!
//! * each journal batch, once fsync'd locally, is uploaded as the next segment *before* its
//!   records are acknowledged ([`gantry_grouplog::Mirror`]): an intent is on the remote store
//!   before the cloud call it announces is sent;
//! * a compaction uploads the new state (fenced), then the new journal's first segment
//!   (starting with its `begin` line), then deletes the older segments;
//! * a state command's write (`state rm`, `push`, ...) uploads the state (fenced).
//!
//! **Recovery from any machine.** The next run, wherever it runs, reads `K` and the segments
//! from the last one that starts with a `begin` line, concatenates them into its local
//! journal and replays it as the local backend does: the intents without a result are
//! looked up in the cloud by token, so nothing a killed runner created is lost. A crash
//! between the state upload and the deletes of a compaction leaves segments whose records
//! the state already holds; replay is idempotent, as for local state.
//!
//! **Fencing.** Every state upload is conditional on the version this run read or last
//! wrote (`If-Match`, or "only if absent" for a new state); every segment is created "only
//! if absent". A run whose lock was taken over (its runner paused past the stale period)
//! therefore can never overwrite the newer state, nor slip a segment between its
//! successor's: its write fails, and it stops.
//!
//! Plans take no lock: they copy `K` and the journal into their own directory
//! (`.gantry/remote/<workspace>/read/`), so many CI jobs can plan at once; a saved plan
//! records the lineage and serial it was made from and `apply PLANFILE` refuses a stale one.

pub mod config;
pub mod lock;
pub mod session;
#[cfg(test)]
mod tests;

use crate::state::error::StateError;
use config::BackendSettings;
use gantry_provider::{ObjectStore, StoreError};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

pub use config::{parse_overrides, resolve, Recorded, BACKEND_FILE};
pub use session::RemoteSession;

/// The backend kinds with a remote store in this build.
pub const REMOTE_KINDS: &[&str] = &["s3", "gcs", "azurerm", "pg"];

/// The objects of one workspace's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keys {
    pub state: String,
    pub lock: String,
    /// Segments are `<journal><12-digit sequence>`.
    pub journal: String,
}

impl Keys {
    pub fn for_state(state: String) -> Keys {
        Keys {
            lock: format!("{state}.lock"),
            journal: format!("{state}.journal/"),
            state,
        }
    }
}

/// A connected remote backend for one workspace.
#[derive(Debug)]
pub struct Remote {
    pub store: Arc<dyn ObjectStore>,
    pub keys: Keys,
    pub stale_after: Duration,
    /// Where the other workspaces' states are, to list them.
    layout: Option<WorkspaceLayout>,
    rt: BackendRuntime,
}

/// A connected store, its keys for one workspace, and where the other workspaces are.
type Connected = (Arc<dyn ObjectStore>, Keys, Option<WorkspaceLayout>);

/// Where Terraform puts each workspace's state in a bucket.
#[derive(Debug, Clone)]
enum WorkspaceLayout {
    /// S3: `<key>` for `default`, `<prefix>/<workspace>/<key>` for the others.
    S3 { prefix: String, key: String },
    /// Cloud Storage: `<prefix>/<workspace>.tfstate` for every workspace.
    Gcs { prefix: String },
    /// Azure Blob Storage: `<key>` for `default`, `<key>env:<workspace>` for the others.
    Azurerm { key: String },
    /// PostgreSQL: a row per workspace.
    Pg,
}

impl WorkspaceLayout {
    /// The listing prefix under which the workspaces' states are.
    fn list_prefix(&self) -> String {
        match self {
            WorkspaceLayout::S3 { prefix, .. } => format!("{prefix}/"),
            WorkspaceLayout::Gcs { prefix } => gcs_object(prefix, ""),
            WorkspaceLayout::Azurerm { key } => format!("{key}{AZURERM_WORKSPACE_SEPARATOR}"),
            WorkspaceLayout::Pg => gantry_pgstore::STATES.to_owned(),
        }
    }

    /// The workspace a listed key is the state of, if it is one (not `default`, which
    /// always exists).
    fn workspace_of(&self, listed: &str) -> Option<String> {
        let rest = listed.strip_prefix(&self.list_prefix())?;
        let name = match self {
            WorkspaceLayout::S3 { key, .. } => rest.strip_suffix(&format!("/{key}"))?,
            WorkspaceLayout::Gcs { .. } => rest.strip_suffix(GCS_STATE_SUFFIX)?,
            WorkspaceLayout::Azurerm { .. } | WorkspaceLayout::Pg => rest,
        };
        (!name.is_empty() && !name.contains('/') && name != crate::state::workspace::DEFAULT)
            .then(|| name.to_owned())
    }
}

/// The backend's own runtime: its store client lives on it, so the client keeps working
/// whichever runtime (or none) the caller is on.
#[derive(Debug)]
struct BackendRuntime(Option<tokio::runtime::Runtime>);

impl BackendRuntime {
    fn start() -> Result<BackendRuntime, String> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("gantry-backend")
            .enable_all()
            .build()
            .map(|rt| BackendRuntime(Some(rt)))
            .map_err(|e| format!("cannot start the backend's runtime: {e}"))
    }
}

impl Drop for BackendRuntime {
    fn drop(&mut self) {
        // May be dropped on an async task; a plain drop would block there and panic.
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}

impl Remote {
    /// Connects to the backend `settings` describe for `workspace`.
    pub fn connect(settings: &BackendSettings, workspace: &str) -> Result<Arc<Remote>, String> {
        let rt = BackendRuntime::start()?;
        let stale_after = settings.stale_after()?;
        let (store, keys, layout) = match settings.kind.as_str() {
            "s3" => s3(settings, workspace, &rt)?,
            "gcs" => gcs(settings, workspace)?,
            "pg" => pg(settings, workspace, &rt)?,
            "azurerm" => azurerm(settings, workspace, &rt, stale_after)?,
            other => {
                return Err(format!(
                    "state backend `{other}` is not supported by this version of gantry (supported: local, {})",
                    REMOTE_KINDS.join(", ")
                ))
            }
        };
        Ok(Arc::new(Remote {
            store,
            keys,
            stale_after,
            layout,
            rt,
        }))
    }

    /// Whether this workspace has a state in the store.
    pub fn state_exists(&self) -> Result<bool, StateError> {
        let store = Arc::clone(&self.store);
        let key = self.keys.state.clone();
        self.block_on(async move { store.get(&key).await })
            .map(|o| o.is_some())
            .map_err(|e| self.error(&e))
    }

    /// The workspaces other than `default` that have a state in the store.
    pub fn workspaces(&self) -> Result<Vec<String>, StateError> {
        let Some(layout) = self.layout.clone() else {
            return Ok(Vec::new());
        };
        let store = Arc::clone(&self.store);
        let prefix = layout.list_prefix();
        let keys = self
            .block_on(async move { store.list(&prefix).await })
            .map_err(|e| self.error(&e))?;
        let mut names: Vec<String> = keys.iter().filter_map(|k| layout.workspace_of(k)).collect();
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// A backend on an object store of the caller's (other backends, tests).
    pub fn with_store(
        store: Arc<dyn ObjectStore>,
        keys: Keys,
        stale_after: Duration,
    ) -> Result<Arc<Remote>, String> {
        Ok(Arc::new(Remote {
            store,
            keys,
            stale_after,
            layout: None,
            rt: BackendRuntime::start()?,
        }))
    }

    /// `s3://bucket/key`, for messages.
    pub fn location(&self) -> String {
        format!("{}/{}", self.store.location(), self.keys.state)
    }

    /// A store error as a state error naming this backend.
    pub fn error(&self, e: &StoreError) -> StateError {
        StateError::Remote {
            location: self.location(),
            message: e.to_string(),
        }
    }

    /// Runs `f` to completion on the backend's runtime, from sync code or from an async
    /// task alike.
    pub fn block_on<F>(&self, f: F) -> F::Output
    where
        F: Future + Send,
        F::Output: Send,
    {
        let rt = self.runtime();
        if tokio::runtime::Handle::try_current().is_err() {
            return rt.block_on(f);
        }
        // Blocking inside a runtime is not allowed: wait on a thread of our own.
        std::thread::scope(|s| match s.spawn(|| rt.block_on(f)).join() {
            Ok(out) => out,
            Err(panic) => std::panic::resume_unwind(panic),
        })
    }

    pub(crate) fn spawn<F>(&self, f: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.runtime().spawn(f)
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        match &self.rt.0 {
            Some(rt) => rt,
            // Taken only in drop.
            None => unreachable!("the backend runtime is gone"),
        }
    }
}

/// The state key of `workspace` under Terraform's S3 layout.
pub fn s3_state_key(key: &str, workspace_key_prefix: &str, workspace: &str) -> String {
    if workspace == crate::state::workspace::DEFAULT {
        key.to_owned()
    } else {
        format!("{workspace_key_prefix}/{workspace}/{key}")
    }
}

#[cfg(feature = "aws")]
fn s3(
    settings: &BackendSettings,
    workspace: &str,
    rt: &BackendRuntime,
) -> Result<Connected, String> {
    use gantry_aws::state_store::{S3BackendSettings, S3Store};
    check_known(settings)?;
    let key = settings.required("key")?.to_owned();
    if key.starts_with('/') || key.ends_with('/') {
        return Err(format!(
            "`key` must not begin or end with `/` (got `{key}`)"
        ));
    }
    let prefix = settings.get("workspace_key_prefix").unwrap_or("env:");
    if settings.bool("use_lockfile")? == Some(false) {
        return Err("`use_lockfile = false` would leave the state unlocked; gantry always locks S3 state with a lock object next to it".into());
    }
    if settings.get("dynamodb_table").is_some() {
        return Err("`dynamodb_table` locking is deprecated in Terraform and not supported: gantry locks S3 state with a lock object next to it (remove the argument)".into());
    }
    let s3 = S3BackendSettings {
        bucket: settings.required("bucket")?.to_owned(),
        region: settings.get("region").map(str::to_owned),
        endpoint: settings
            .get("endpoints.s3")
            .or_else(|| settings.get("endpoint"))
            .map(str::to_owned),
        use_path_style: settings.bool("use_path_style")?.unwrap_or(false)
            || settings.bool("force_path_style")?.unwrap_or(false),
        profile: settings.get("profile").map(str::to_owned),
        access_key: settings.get("access_key").map(str::to_owned),
        secret_key: settings.get("secret_key").map(str::to_owned),
        assume_role_arn: settings.get("assume_role.role_arn").map(str::to_owned),
        assume_role_session_name: settings.get("assume_role.session_name").map(str::to_owned),
        assume_role_external_id: settings.get("assume_role.external_id").map(str::to_owned),
        encrypt: settings.bool("encrypt")?.unwrap_or(false),
        kms_key_id: settings.get("kms_key_id").map(str::to_owned),
    };
    let runtime = match &rt.0 {
        Some(rt) => rt,
        None => return Err("the backend runtime is gone".into()),
    };
    let store = runtime.block_on(S3Store::connect(&s3))?;
    Ok((
        Arc::new(store),
        Keys::for_state(s3_state_key(&key, prefix, workspace)),
        Some(WorkspaceLayout::S3 {
            prefix: prefix.to_owned(),
            key,
        }),
    ))
}

#[cfg(not(feature = "aws"))]
fn s3(_: &BackendSettings, _: &str, _: &BackendRuntime) -> Result<Connected, String> {
    Err("this build of gantry has no AWS support (built without the `aws` feature), so it cannot use `backend \"s3\"`".into())
}

/// The suffix of a state object under Terraform's gcs layout.
const GCS_STATE_SUFFIX: &str = ".tfstate";

/// `<prefix>/<name>` (just `<name>` without a prefix), as Terraform's gcs backend joins them.
fn gcs_object(prefix: &str, name: &str) -> String {
    let prefix = prefix.trim_end_matches('/');
    if prefix.is_empty() {
        name.to_owned()
    } else {
        format!("{prefix}/{name}")
    }
}

/// The objects of `workspace` under Terraform's gcs layout: `<prefix>/<workspace>.tfstate`,
/// its lock `<prefix>/<workspace>.tflock`.
pub fn gcs_keys(prefix: &str, workspace: &str) -> Keys {
    let state = gcs_object(prefix, &format!("{workspace}{GCS_STATE_SUFFIX}"));
    Keys {
        lock: gcs_object(prefix, &format!("{workspace}.tflock")),
        journal: format!("{state}.journal/"),
        state,
    }
}

#[cfg(feature = "gcp")]
fn gcs(settings: &BackendSettings, workspace: &str) -> Result<Connected, String> {
    use gantry_gcp::state_store::{GcsBackendSettings, GcsStore};
    check_known(settings)?;
    if settings.get("encryption_key").is_some() {
        return Err("`encryption_key` (a customer-supplied key) is not supported: encrypt state with gantry's `encryption` block, or use `kms_encryption_key` for Cloud KMS".into());
    }
    if settings.get("impersonate_service_account").is_some() {
        return Err("`impersonate_service_account` is not supported yet: give `credentials` an impersonated_service_account JSON (what `gcloud auth application-default login --impersonate-service-account` writes) instead".into());
    }
    let prefix = settings.get("prefix").unwrap_or("");
    if prefix.starts_with('/') {
        return Err(format!("`prefix` must not begin with `/` (got `{prefix}`)"));
    }
    let gcs = GcsBackendSettings {
        bucket: settings.required("bucket")?.to_owned(),
        credentials: settings.get("credentials").map(str::to_owned),
        access_token: settings.get("access_token").map(str::to_owned),
        endpoint: settings
            .get("storage_custom_endpoint")
            .map(str::to_owned)
            .or_else(|| std::env::var("GOOGLE_STORAGE_CUSTOM_ENDPOINT").ok()),
        kms_key_name: settings.get("kms_encryption_key").map(str::to_owned),
    };
    let store = GcsStore::connect(&gcs)?;
    Ok((
        Arc::new(store),
        gcs_keys(prefix, workspace),
        Some(WorkspaceLayout::Gcs {
            prefix: prefix.to_owned(),
        }),
    ))
}

#[cfg(not(feature = "gcp"))]
fn gcs(_: &BackendSettings, _: &str) -> Result<Connected, String> {
    Err("this build of gantry has no Google Cloud support (built without the `gcp` feature), so it cannot use `backend \"gcs\"`".into())
}

/// What Terraform's azurerm backend puts between the key and a workspace's name.
const AZURERM_WORKSPACE_SEPARATOR: &str = "env:";

/// The blobs of `workspace` under Terraform's azurerm layout: the state `<key>` (default)
/// or `<key>env:<workspace>`, the lock and journal beside it under `<state>.gantry/`
/// (Terraform's azurerm backend has no lock blob: it leases the state blob forever). A
/// `/` after the state's name keeps them apart from any workspace's state, whose name has
/// none.
pub fn azurerm_keys(key: &str, workspace: &str) -> Keys {
    let state = if workspace == crate::state::workspace::DEFAULT {
        key.to_owned()
    } else {
        format!("{key}{AZURERM_WORKSPACE_SEPARATOR}{workspace}")
    };
    Keys {
        lock: format!("{state}.gantry/lock"),
        journal: format!("{state}.gantry/journal/"),
        state,
    }
}

#[cfg(feature = "azure")]
fn azurerm(
    settings: &BackendSettings,
    workspace: &str,
    rt: &BackendRuntime,
    stale_after: Duration,
) -> Result<Connected, String> {
    use gantry_azure::state_store::{AzureBackendSettings, AzureBlobStore, BlobAuth};
    use gantry_provider::Value;
    check_known(settings)?;
    if settings.get("snapshot").is_some() {
        return Err("`snapshot` (a blob snapshot before every write) is not supported: gantry keeps every state in its journal and serial; turn on blob versioning on the storage account to keep old states".into());
    }
    let key = settings.required("key")?.to_owned();
    if key.starts_with('/') {
        return Err(format!("`key` must not begin with `/` (got `{key}`)"));
    }
    let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let access_key = settings
        .get("access_key")
        .map(str::to_owned)
        .or_else(|| env("ARM_ACCESS_KEY"));
    let sas_token = settings
        .get("sas_token")
        .map(str::to_owned)
        .or_else(|| env("ARM_SAS_TOKEN"));
    let azuread = match settings.bool("use_azuread_auth")? {
        Some(flag) => flag,
        None => env("ARM_USE_AZUREAD").is_some_and(|v| v.eq_ignore_ascii_case("true")),
    };
    let auth = match (azuread, access_key, sas_token) {
        (true, _, _) => {
            // The provider's credential arguments, as its credential chain reads them.
            let credentials = settings
                .values
                .iter()
                .filter(|(k, _)| config::AZURE_CREDENTIAL_ARGUMENTS.contains(&k.as_str()))
                .map(|(k, v)| {
                    let value = match v.as_str() {
                        "true" => Value::Bool(true),
                        "false" => Value::Bool(false),
                        _ => Value::string(v.clone()),
                    };
                    (k.clone(), value)
                });
            BlobAuth::AzureAd(Value::map(credentials))
        }
        (false, Some(key), _) => BlobAuth::AccessKey(key),
        (false, None, Some(sas)) => BlobAuth::Sas(sas),
        (false, None, None) => {
            return Err("`backend \"azurerm\"` needs a way into the storage account: `use_azuread_auth = true` (Entra ID, with the provider's credentials), `access_key` (or ARM_ACCESS_KEY), or `sas_token` (or ARM_SAS_TOKEN). gantry does not list the account's keys through Resource Manager as Terraform does without them".into())
        }
    };
    let keys = azurerm_keys(&key, workspace);
    let azure = AzureBackendSettings {
        storage_account_name: settings.required("storage_account_name")?.to_owned(),
        container_name: settings.required("container_name")?.to_owned(),
        endpoint: settings.get("endpoint").map(str::to_owned),
        environment: settings
            .get("environment")
            .map(str::to_owned)
            .or_else(|| env("ARM_ENVIRONMENT")),
        auth,
        leased_keys: vec![keys.lock.clone()],
        lease_term: stale_after,
    };
    let runtime = match &rt.0 {
        Some(rt) => rt,
        None => return Err("the backend runtime is gone".into()),
    };
    let store = runtime.block_on(AzureBlobStore::connect(&azure))?;
    Ok((
        Arc::new(store),
        keys,
        Some(WorkspaceLayout::Azurerm { key }),
    ))
}

#[cfg(not(feature = "azure"))]
fn azurerm(
    _: &BackendSettings,
    _: &str,
    _: &BackendRuntime,
    _: Duration,
) -> Result<Connected, String> {
    Err("this build of gantry has no Azure support (built without the `azure` feature), so it cannot use `backend \"azurerm\"`".into())
}

/// The rows of `workspace` in a pg backend's schema.
pub fn pg_keys(workspace: &str) -> Keys {
    Keys {
        state: format!("{}{workspace}", gantry_pgstore::STATES),
        lock: format!("{}{workspace}", gantry_pgstore::LOCKS),
        journal: format!("{}{workspace}/", gantry_pgstore::JOURNAL),
    }
}

fn pg(
    settings: &BackendSettings,
    workspace: &str,
    rt: &BackendRuntime,
) -> Result<Connected, String> {
    use gantry_pgstore::{PgSettings, PgStore};
    check_known(settings)?;
    let pg = PgSettings {
        conn_str: settings.get("conn_str").map(str::to_owned),
        schema_name: settings.get("schema_name").map(str::to_owned).or_else(|| {
            std::env::var("PG_SCHEMA_NAME")
                .ok()
                .filter(|s| !s.is_empty())
        }),
        skip_schema_creation: settings.bool("skip_schema_creation")?.unwrap_or(false),
        skip_table_creation: settings.bool("skip_table_creation")?.unwrap_or(false),
    };
    // Accepted for Terraform's sake: gantry's tables need no index beyond their keys.
    settings.bool("skip_index_creation")?;
    let runtime = match &rt.0 {
        Some(rt) => rt,
        None => return Err("the backend runtime is gone".into()),
    };
    // The session (and the advisory lock it will hold) lives on the backend's runtime.
    let store = runtime.block_on(PgStore::connect(&pg))?;
    Ok((
        Arc::new(store),
        pg_keys(workspace),
        Some(WorkspaceLayout::Pg),
    ))
}

/// An argument gantry does not know is an error: silently ignoring `sse_customer_key` or a
/// misspelt `bukcet` would keep state somewhere, or some way, the user did not ask for.
fn check_known(settings: &BackendSettings) -> Result<(), String> {
    let known = config::known_arguments(&settings.kind).unwrap_or_default();
    for key in settings.values.keys() {
        if !known.contains(&key.as_str()) {
            return Err(format!(
                "unsupported argument `{key}` in `backend \"{}\"`; supported: {}",
                settings.kind,
                known.join(", ")
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod layout_tests {
    use super::*;

    #[test]
    fn workspaces_follow_terraform_s3_layout() {
        assert_eq!(
            s3_state_key("llm/terraform.tfstate", "env:", "default"),
            "llm/terraform.tfstate"
        );
        assert_eq!(
            s3_state_key("llm/terraform.tfstate", "env:", "staging"),
            "env:/staging/llm/terraform.tfstate"
        );
        let keys = Keys::for_state("a/b".into());
        assert_eq!(keys.lock, "a/b.lock");
        assert_eq!(keys.journal, "a/b.journal/");
        let s3 = WorkspaceLayout::S3 {
            prefix: "env:".into(),
            key: "llm/terraform.tfstate".into(),
        };
        assert_eq!(
            s3.workspace_of("env:/staging/llm/terraform.tfstate")
                .as_deref(),
            Some("staging")
        );
        assert_eq!(s3.workspace_of("env:/staging/other.tfstate"), None);
    }

    #[test]
    fn workspaces_follow_terraform_azurerm_layout() {
        let keys = azurerm_keys("llm.tfstate", "default");
        assert_eq!(keys.state, "llm.tfstate");
        assert_eq!(keys.lock, "llm.tfstate.gantry/lock");
        assert_eq!(keys.journal, "llm.tfstate.gantry/journal/");
        let staging = azurerm_keys("llm.tfstate", "staging");
        assert_eq!(staging.state, "llm.tfstateenv:staging");
        let layout = WorkspaceLayout::Azurerm {
            key: "llm.tfstate".into(),
        };
        assert_eq!(layout.list_prefix(), "llm.tfstateenv:");
        assert_eq!(
            layout.workspace_of("llm.tfstateenv:staging").as_deref(),
            Some("staging")
        );
        // A workspace whose name looks like a lock is still a workspace; the lock and
        // journal of one are not.
        assert_eq!(
            layout
                .workspace_of("llm.tfstateenv:staging.lock")
                .as_deref(),
            Some("staging.lock")
        );
        assert_eq!(
            layout.workspace_of("llm.tfstateenv:staging.gantry/lock"),
            None
        );
        assert_eq!(
            layout.workspace_of("llm.tfstateenv:staging.gantry/journal/000000000001"),
            None
        );
        assert_eq!(layout.workspace_of("llm.tfstate"), None);
    }

    #[test]
    fn workspaces_follow_terraform_gcs_layout() {
        let keys = gcs_keys("teams/llm", "default");
        assert_eq!(keys.state, "teams/llm/default.tfstate");
        assert_eq!(keys.lock, "teams/llm/default.tflock");
        assert_eq!(keys.journal, "teams/llm/default.tfstate.journal/");
        assert_eq!(gcs_keys("", "staging").state, "staging.tfstate");
        assert_eq!(
            gcs_keys("teams/llm/", "staging").state,
            "teams/llm/staging.tfstate"
        );
        let layout = WorkspaceLayout::Gcs {
            prefix: "teams/llm".into(),
        };
        assert_eq!(
            layout.workspace_of("teams/llm/staging.tfstate").as_deref(),
            Some("staging")
        );
        // The default workspace, locks, journal segments and deeper prefixes are not
        // workspaces.
        assert_eq!(layout.workspace_of("teams/llm/default.tfstate"), None);
        assert_eq!(layout.workspace_of("teams/llm/staging.tflock"), None);
        assert_eq!(
            layout.workspace_of("teams/llm/staging.tfstate.journal/000000000001"),
            None
        );
        assert_eq!(layout.workspace_of("teams/llm/sub/x.tfstate"), None);
    }
}

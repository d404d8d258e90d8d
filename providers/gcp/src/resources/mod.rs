//! Resource types, one file each, with the Terraform google provider's names. Each
//! implements [`ResourceType`]; [`all`] lists them for the provider.

use crate::settings::Settings;
use gantry_provider::attrs::Obj;
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, plan_from_schema, OpContext, PlannedState, ProviderError, Schema, Value,
};
use std::future::Future;

mod compute_firewall;
mod compute_instance;
mod compute_network;
mod compute_resource_policy;
mod compute_router;
mod compute_router_nat;
mod compute_subnetwork;
mod container_cluster;
mod container_cluster_options;
mod container_node_pool;
mod filestore_instance;
pub(crate) mod node_pool_size;
mod project_iam_member;
mod service_account;
mod storage_bucket;
mod tpu_v2_vm;
mod workbench_instance;

pub use tpu_v2_vm::tpu_chips;

/// Every resource type of the provider.
pub fn all() -> Vec<Box<dyn ResourceType>> {
    vec![
        Box::new(compute_network::ComputeNetwork),
        Box::new(compute_subnetwork::ComputeSubnetwork),
        Box::new(compute_firewall::ComputeFirewall),
        Box::new(compute_instance::ComputeInstance),
        Box::new(compute_resource_policy::ComputeResourcePolicy),
        Box::new(compute_router::ComputeRouter),
        Box::new(compute_router_nat::ComputeRouterNat),
        Box::new(tpu_v2_vm::TpuV2Vm),
        Box::new(filestore_instance::FilestoreInstance),
        Box::new(storage_bucket::StorageBucket),
        Box::new(container_cluster::ContainerCluster),
        Box::new(container_node_pool::ContainerNodePool),
        Box::new(workbench_instance::WorkbenchInstance),
        Box::new(service_account::ServiceAccountType),
        Box::new(project_iam_member::ProjectIamMember),
    ]
}

/// What an operation on one resource has at hand.
pub struct Cx<'a> {
    pub op: &'a OpContext,
    pub settings: &'a Settings,
}

impl Cx<'_> {
    /// The project an object lives in: its own `project`, else the provider's.
    pub fn project<'v>(&'v self, config: &'v Value) -> &'v str {
        gantry_provider::attrs::Attrs(config)
            .str("project")
            .unwrap_or(&self.settings.project)
    }

    /// The `requestId` of this create: the engine's token, a UUID as Compute Engine wants
    /// (stable across retries and crash recovery, so a repeated insert is the same insert).
    pub fn request_id(&self) -> Result<Option<String>> {
        match self.op.idempotency_token.as_deref() {
            None => Ok(None),
            Some(token) if is_uuid(token) => Ok(Some(token.to_owned())),
            Some(token) => Err(ProviderError::fatal(format!(
                "the create token {token:?} is not a UUID, which requestId must be"
            ))),
        }
    }
}

fn is_uuid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|g| g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// What a create knows of its object once the cloud accepted it: the planned values
/// (unknowns dropped) with the new `id`.
pub fn accepted(planned: &Value, id: &str) -> Value {
    let mut known = Obj::from(planned);
    known.set("id", id);
    known.into_value()
}

/// Runs what a create does after the call the cloud accepted (the operation's wait, the
/// read-back): an error among those steps carries `known`
/// ([`ProviderError::after_create`]), so the engine records the object, tainted, and never
/// sends the create again. A DONE operation whose error says nothing was made (a stockout,
/// a quota) is not such an error: nothing exists to record.
pub async fn after_accept<T>(known: Value, steps: impl Future<Output = Result<T>>) -> Result<T> {
    steps.await.map_err(|e| {
        if e.accepted.is_some() || nothing_made(&e) {
            e
        } else {
            e.after_create(known)
        }
    })
}

/// An insert operation that finished with this error made nothing.
fn nothing_made(e: &ProviderError) -> bool {
    use gantry_provider::ErrorClass::*;
    e.code.is_some() && matches!(e.class, Capacity | Quota | InvalidInput | Auth)
}

/// For blocks the API fills in when the configuration leaves them out (a notebook's
/// network interfaces, a node pool's management): a block the configuration does not
/// write takes its prior value, so the API's choice is not planned away.
pub fn keep_unwritten_blocks(config: &mut Value, prior: &Value, names: &[&str]) {
    let (Value::Map(c), Some(p)) = (config, prior.as_map()) else {
        return;
    };
    for name in names {
        let unwritten = match c.get(*name) {
            None | Some(Value::Null) => true,
            Some(Value::List(items)) | Some(Value::Set(items)) => items.is_empty(),
            _ => false,
        };
        if let (true, Some(before)) = (unwritten, p.get(*name)) {
            c.insert((*name).to_owned(), before.clone());
        }
    }
}

/// One Google Cloud resource type.
#[async_trait]
pub trait ResourceType: Send + Sync {
    /// `google_compute_network`.
    fn name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// Checks beyond the schema (value ranges, exclusive arguments).
    fn validate(&self, _config: &Value) -> Vec<String> {
        Vec::new()
    }

    /// The planned state; the default follows the schema (force-new attributes replace).
    fn plan(&self, schema: &Schema, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        Ok(plan_from_schema(schema, prior, config))
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value>;

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>>;

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value>;

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()>;

    /// The object with this id (`projects/p/global/networks/n`, or what Terraform's
    /// import takes), for `gantry import`.
    async fn import(&self, cx: &Cx<'_>, id: &str) -> Result<Option<Value>>;

    /// The object this create made (see `Provider::find_created`).
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        token: &str,
        planned: &Value,
    ) -> Result<Option<Value>>;
}

/// Compute Engine's rule for object names (RFC 1035: lowercase letters, digits and
/// hyphens, starting with a letter, at most 63 characters).
pub fn check_name(name: &str) -> Vec<String> {
    let ok = (1..=63).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && !name.ends_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Vec::new()
    } else {
        vec![format!(
            "`name` {name:?} is not a valid Compute Engine name: 1-63 lowercase letters, digits \
             and hyphens, starting with a letter and not ending with a hyphen"
        )]
    }
}

/// The project and name in an import id of a global object: `projects/p/global/<kind>/n`,
/// `p/n` or `n` (in the provider's project).
pub fn split_global_id(id: &str, kind: &str, default_project: &str) -> Result<(String, String)> {
    let parts: Vec<&str> = id.trim_matches('/').split('/').collect();
    match parts.as_slice() {
        ["projects", p, "global", k, n] if *k == kind => Ok(((*p).to_owned(), (*n).to_owned())),
        [p, n] => Ok(((*p).to_owned(), (*n).to_owned())),
        [n] if !n.is_empty() => Ok((default_project.to_owned(), (*n).to_owned())),
        _ => Err(ProviderError::invalid(format!(
            "cannot import {id:?}: expected projects/PROJECT/global/{kind}/NAME, PROJECT/NAME or NAME"
        ))),
    }
}

/// The project, region and name in an import id of a regional object:
/// `projects/p/regions/r/<kind>/n`, `p/r/n` or `r/n`.
pub fn split_regional_id(
    id: &str,
    kind: &str,
    default_project: &str,
) -> Result<(String, String, String)> {
    split_scoped_id(id, "regions", kind, default_project)
}

/// The project, place and name in an import id of an object in a region or zone:
/// `projects/p/<scope>/place/<kind>/n` (scope `regions`, `zones`, `locations`),
/// `p/place/n` or `place/n`.
pub fn split_scoped_id(
    id: &str,
    scope: &str,
    kind: &str,
    default_project: &str,
) -> Result<(String, String, String)> {
    let parts: Vec<&str> = id.trim_matches('/').split('/').collect();
    let owned = |p: &str, r: &str, n: &str| Ok((p.to_owned(), r.to_owned(), n.to_owned()));
    let place = scope.trim_end_matches('s').to_ascii_uppercase();
    match parts.as_slice() {
        ["projects", p, s, r, k, n] if *s == scope && *k == kind => owned(p, r, n),
        [p, r, n] => owned(p, r, n),
        [r, n] => owned(default_project, r, n),
        _ => Err(ProviderError::invalid(format!(
            "cannot import {id:?}: expected projects/PROJECT/{scope}/{place}/{kind}/NAME, \
             PROJECT/{place}/NAME or {place}/NAME"
        ))),
    }
}

/// The zone of a zonal object: its own `zone`, else the provider's.
pub fn zone_of(cx: &Cx<'_>, a: &gantry_provider::attrs::Attrs<'_>, what: &str) -> Result<String> {
    a.str("zone")
        .map(str::to_owned)
        .or_else(|| cx.settings.zone.clone())
        .ok_or_else(|| {
            ProviderError::invalid(format!(
                "no zone: set `zone` on the {what} or in the provider \"google\" block (or GOOGLE_ZONE)"
            ))
        })
}

/// The end of a delete: the operation waited for; an object already gone is deleted.
pub async fn finish_delete(
    cx: &Cx<'_>,
    sent: std::result::Result<
        google_cloud_compute_v1::model::Operation,
        google_cloud_gax::error::Error,
    >,
    what: &str,
    timeout: std::time::Duration,
) -> Result<()> {
    let sent = sent.map_err(|e| crate::errors::call_error(what, e));
    let Some(op) = crate::errors::ok_if_not_found(sent)? else {
        return Ok(());
    };
    crate::errors::ok_if_not_found(
        crate::operations::wait(cx, op, what, cx.op.timeout_or(timeout)).await,
    )?;
    Ok(())
}

/// For crash recovery: true when Compute Engine still has the insert operation this
/// create's token started on `target` (`projects/p/.../name`) and it made its object.
pub async fn insert_proved(
    cx: &Cx<'_>,
    scope: &crate::operations::Scope,
    token: &str,
    target: &str,
    what: &str,
    timeout: std::time::Duration,
) -> Result<Option<bool>> {
    let Some(op) = crate::operations::find_insert(cx, scope, token, &format!("/{target}")).await?
    else {
        return Ok(None);
    };
    insert_succeeded(cx, op, what, timeout).await.map(Some)
}

/// For crash recovery: waits for a found insert operation and says whether it made its
/// object (a DONE operation with an error made nothing).
pub async fn insert_succeeded(
    cx: &Cx<'_>,
    op: serde_json::Value,
    what: &str,
    timeout: std::time::Duration,
) -> Result<bool> {
    let op: google_cloud_compute_v1::model::Operation = crate::wire::to_model(what, op)?;
    match crate::operations::wait(cx, op, what, cx.op.timeout_or(timeout)).await {
        Ok(_) => Ok(true),
        Err(e) if e.code.is_some() && e.class != gantry_provider::ErrorClass::Timeout => Ok(false),
        Err(e) => Err(e),
    }
}

/// A JSON scalar as a string (numeric ids come as numbers from the model, as strings on
/// the wire).
pub fn json_string(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn request_ids_are_uuids() {
        assert!(super::is_uuid("8b1c7a9e-0f3d-4c2a-9b1e-5d6f7a8b9c0d"));
        assert!(!super::is_uuid("not-a-uuid"));
        assert!(!super::is_uuid("8b1c7a9e0f3d4c2a9b1e5d6f7a8b9c0d"));
    }
}

//! Resource types, one file each, with azurerm's names and attributes. ARM is uniform (an
//! object is a PUT of `{location, tags, properties}` at a deterministic id), so each type
//! says only what differs ([`ArmType`]: its id, api-version, body and read-back) and the
//! defaults here do the rest: create (refusing an object that is not provably ours),
//! read, update (a PUT of the whole object, as azurerm does), delete, import and crash
//! recovery.

use crate::arm::ids::ResourceId;
use crate::arm::lro::{self, Wait};
use crate::settings::Settings;
use crate::tags::{self, Tags};
use azure_core::http::Method;
use gantry_provider::attrs::{Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, plan_from_schema, ErrorClass, OpContext, PlannedState, ProviderError, Schema,
    Value,
};
use serde_json::Value as Json;
use std::time::Duration;

mod application_insights;
mod key_vault;
mod kubernetes_cluster;
mod kubernetes_cluster_node_pool;
mod linux_virtual_machine_scale_set;
mod machine_learning_workspace;
mod managed_identity;
mod network_security_group;
mod proximity_placement_group;
mod resource_group;
mod role_assignment;
mod storage_account;
mod storage_container;
mod subnet;
mod subnet_network_security_group_association;
mod user_assigned_identity;
mod virtual_network;

pub use kubernetes_cluster::API as AKS_API;

/// Every resource type of the provider.
pub fn all() -> Vec<Box<dyn ArmType>> {
    vec![
        Box::new(resource_group::ResourceGroup),
        Box::new(virtual_network::VirtualNetwork),
        Box::new(subnet::Subnet),
        Box::new(network_security_group::NetworkSecurityGroup),
        Box::new(subnet_network_security_group_association::SubnetNsgAssociation),
        Box::new(user_assigned_identity::UserAssignedIdentity),
        Box::new(role_assignment::RoleAssignment),
        Box::new(storage_account::StorageAccount),
        Box::new(storage_container::StorageContainer),
        Box::new(proximity_placement_group::ProximityPlacementGroup),
        Box::new(kubernetes_cluster::KubernetesCluster),
        Box::new(kubernetes_cluster_node_pool::KubernetesClusterNodePool),
        Box::new(linux_virtual_machine_scale_set::LinuxVirtualMachineScaleSet),
        Box::new(key_vault::KeyVault),
        Box::new(application_insights::ApplicationInsights),
        Box::new(machine_learning_workspace::MachineLearningWorkspace),
    ]
}

/// What an operation on one resource has at hand.
pub struct Cx<'a> {
    pub op: &'a OpContext,
    pub settings: &'a Settings,
}

impl Cx<'_> {
    pub fn subscription(&self) -> &str {
        &self.settings.subscription_id
    }
}

/// Where an object carries gantry's identity marks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Marks {
    /// Its top-level `tags`.
    Tags,
    /// `properties.tags` (AKS agent pools).
    PropertyTags,
    /// `properties.metadata` (blob containers).
    Metadata,
    /// Nowhere (subnets, role assignments): crash recovery relies on [`ArmType::provably_this`].
    None,
}

/// One azurerm resource type on ARM.
#[async_trait]
pub trait ArmType: Send + Sync {
    /// `azurerm_virtual_network`.
    fn name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// ARM's api-version for this type.
    fn api_version(&self) -> &'static str;

    /// The ARM id of the object these attributes describe.
    fn id(&self, cx: &Cx<'_>, a: &Attrs<'_>) -> Result<String>;

    /// The PUT body, without tags (added by [`ArmType::marks`]).
    fn body(&self, cx: &Cx<'_>, a: &Attrs<'_>) -> Result<Json>;

    /// The attributes of the object ARM returned, over `base` (the planned or prior
    /// state; null for an import). Sets `id` and `tags` itself only if it wants to.
    fn state(&self, cx: &Cx<'_>, json: &Json, base: &Value) -> Result<Value>;

    fn marks(&self) -> Marks {
        Marks::Tags
    }

    /// How long a create, update or delete may wait, unless `timeouts` says.
    fn default_timeout(&self) -> Duration {
        Duration::from_secs(30 * 60)
    }

    /// Checks beyond the schema.
    fn validate(&self, _config: &Value) -> Vec<String> {
        Vec::new()
    }

    /// The default follows the schema; inside single nested blocks a computed attribute
    /// the configuration leaves unset keeps the value Azure gave it (an AKS network
    /// profile's service CIDR), so it is not planned as a change.
    fn plan(&self, schema: &Schema, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        let config = match prior {
            Some(prior) => {
                let mut config = keep_computed_in_blocks(schema, config, prior);
                keep_unwritten_blocks(&mut config, prior, self.blocks_azure_fills());
                config
            }
            None => config.clone(),
        };
        Ok(plan_from_schema(schema, prior, &config))
    }

    /// Blocks Azure fills in when the configuration leaves them out (an AKS cluster's
    /// `network_profile`): unwritten, they keep Azure's values rather than plan them away.
    fn blocks_azure_fills(&self) -> &'static [&'static str] {
        &[]
    }

    /// What an update must carry over from the object as it is (a network's subnets,
    /// which a PUT without them would delete).
    fn keep_from_current(&self, _body: &mut Json, _current: &Json) {}

    /// For types without marks: true when the object found at the planned id is wholly
    /// the one this create describes (and its parent is this stack's).
    fn provably_this(&self, _json: &Json, _planned: &Value) -> bool {
        false
    }

    /// A PUT that ARM refuses for a while after a dependency is made (a role assignment
    /// whose new principal has not replicated): how long to keep trying, and for which
    /// error code.
    fn settle(&self) -> Option<(&'static str, Duration)> {
        None
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        create(self, cx, planned).await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        let id = state_id(self, cx, state)?;
        let got = cx
            .settings
            .arm
            .get(&id, self.api_version(), &what(self, "GET", &id))
            .await?;
        got.map(|json| self.finish_state(cx, &json, state))
            .transpose()
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let id = state_id(self, cx, prior)?;
        let label = what(self, "PUT", &id);
        let current = cx.settings.arm.get(&id, self.api_version(), &label).await?;
        let kept = current
            .as_ref()
            .map(|c| marks_of(self.marks(), c))
            .unwrap_or_default();
        let mut body = self.tagged_body(cx, planned, &kept)?;
        if let Some(current) = &current {
            self.keep_from_current(&mut body, current);
        }
        let wait = Wait::new(
            &label,
            cx.op.timeout_or(self.default_timeout()),
            &cx.op.cancel,
        );
        let json = put_settled(self, cx, &id, &body, &wait)
            .await
            .map_err(|f| f.error)?;
        self.finish_state(cx, &json, planned)
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let id = state_id(self, cx, state)?;
        let label = what(self, "DELETE", &id);
        let wait = Wait::new(
            &label,
            cx.op.timeout_or(self.default_timeout()),
            &cx.op.cancel,
        );
        lro::delete(&cx.settings.arm, &id, self.api_version(), &wait).await
    }

    async fn import(&self, cx: &Cx<'_>, id: &str) -> Result<Option<Value>> {
        ResourceId::parse(id)?;
        let got = cx
            .settings
            .arm
            .get(id, self.api_version(), &what(self, "GET", id))
            .await?;
        got.map(|json| self.finish_state(cx, &json, &Value::Null))
            .transpose()
    }

    /// The object this create made: found by its deterministic id, adopted only when its
    /// marks are this create's (or, for types without marks, it is provably this one).
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        _token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let id = self.id(cx, &Attrs(planned))?;
        let Some(json) = cx
            .settings
            .arm
            .get(&id, self.api_version(), &what(self, "GET", &id))
            .await?
        else {
            return Ok(None);
        };
        let ours = match self.marks() {
            Marks::None => self.provably_this(&json, planned),
            marks => tags::are_ours(cx.op, &marks_of(marks, &json)),
        };
        if ours {
            self.finish_state(cx, &json, planned).map(Some)
        } else {
            Ok(None)
        }
    }

    /// The body with every tag it gets, where this type keeps them.
    fn tagged_body(&self, cx: &Cx<'_>, planned: &Value, kept: &Tags) -> Result<Json> {
        let a = Attrs(planned);
        let mut body = self.body(cx, &a)?;
        let (user, defaults) = match self.marks() {
            Marks::Metadata => (a.str_map("metadata"), Tags::new()),
            _ => (a.str_map("tags"), cx.settings.default_tags.clone()),
        };
        let all = tags::desired(&defaults, &user, cx.op, kept);
        match self.marks() {
            Marks::Tags => body["tags"] = tags::to_json(&all),
            Marks::PropertyTags => body["properties"]["tags"] = tags::to_json(&all),
            Marks::Metadata => {
                body["properties"]["metadata"] = tags::to_json(&tags::as_metadata(&all))
            }
            Marks::None => {}
        }
        Ok(body)
    }

    /// [`ArmType::state`] plus `id` and the user's view of the tags.
    fn finish_state(&self, cx: &Cx<'_>, json: &Json, base: &Value) -> Result<Value> {
        let schema = self.schema();
        let state = empty_as_unwritten(&schema, self.state(cx, json, base)?, base);
        let mut s = Obj::from(&state);
        // Every attribute of every block present (null when Azure has none), as planned.
        gantry_provider::attrs::complete(&mut s, &schema);
        if let Some(id) = json["id"].as_str() {
            s.set("id", id);
        }
        if self.marks() != Marks::None {
            let (attr, defaults) = match self.marks() {
                Marks::Metadata => ("metadata", Tags::new()),
                _ => ("tags", cx.settings.default_tags.clone()),
            };
            let configured = Attrs(base).str_map(attr);
            let view = tags::user_view(&marks_of(self.marks(), json), &defaults, &configured);
            // No tags where the configuration writes none stays null, as planned.
            let unwritten = matches!(Attrs(base).get(attr), None | Some(Value::Null));
            if view.is_empty() && unwritten {
                s.set(attr, Value::Null);
                return Ok(s.into_value());
            }
            s.set_str_map(attr, &view);
        }
        Ok(s.into_value())
    }
}

/// `PUT virtualNetworks/vnet`: names the call in errors.
pub fn what<T: ArmType + ?Sized>(t: &T, method: &str, id: &str) -> String {
    let tail: Vec<&str> = id.rsplit('/').take(2).collect();
    let short = match tail.as_slice() {
        [name, kind] => format!("{kind}/{name}"),
        _ => id.to_owned(),
    };
    format!("{} {method} {short}", t.name())
}

/// The id of an object in state (its `id`, else the one its attributes name).
pub fn state_id<T: ArmType + ?Sized>(t: &T, cx: &Cx<'_>, state: &Value) -> Result<String> {
    let a = Attrs(state);
    match a.str("id").filter(|id| !id.is_empty()) {
        Some(id) => Ok(id.to_owned()),
        None => t.id(cx, &a),
    }
}

/// gantry's marks and every other tag of an object, from where its type keeps them.
pub fn marks_of(marks: Marks, json: &Json) -> Tags {
    match marks {
        Marks::Tags => tags::from_json(json.get("tags")),
        Marks::PropertyTags => tags::from_json(json.pointer("/properties/tags")),
        Marks::Metadata => {
            tags::from_metadata(&tags::from_json(json.pointer("/properties/metadata")))
        }
        Marks::None => Tags::new(),
    }
}

/// A PUT that failed: `accepted` when ARM took the request (the failure came from its
/// operation or the wait), so an object may exist.
pub struct PutFailure {
    pub error: ProviderError,
    pub accepted: bool,
}

/// A PUT, repeated while ARM answers the type's settling error (see [`ArmType::settle`]).
async fn put_settled<T: ArmType + ?Sized>(
    t: &T,
    cx: &Cx<'_>,
    id: &str,
    body: &Json,
    wait: &Wait<'_>,
) -> std::result::Result<Json, PutFailure> {
    let arm = &cx.settings.arm;
    let refused = |error| PutFailure {
        error,
        accepted: false,
    };
    let started = tokio::time::Instant::now();
    loop {
        let url = arm.url(id, Some(t.api_version())).map_err(refused)?;
        let first = arm
            .send(Method::Put, url, Some(body), wait.what)
            .await
            .map_err(refused)?;
        if !first.is_success() {
            let e = first.error(wait.what);
            if let Some((code, patience)) = t.settle() {
                if e.code.as_deref() == Some(code) && started.elapsed() < patience {
                    tracing::debug!(%id, code, "waiting for Azure to settle before the PUT");
                    wait_a_moment(wait).await.map_err(refused)?;
                    continue;
                }
            }
            return Err(refused(e));
        }
        return lro::finish_write(arm, id, t.api_version(), first, wait)
            .await
            .map_err(|error| PutFailure {
                error,
                accepted: true,
            });
    }
}

async fn wait_a_moment(wait: &Wait<'_>) -> Result<()> {
    tokio::select! {
        _ = tokio::time::sleep(Duration::from_secs(2)) => Ok(()),
        _ = wait.cancel.cancelled() => Err(ProviderError::fatal(format!("{}: interrupted", wait.what))),
    }
}

/// The default create: refuses to take over an object it cannot prove it made, PUTs,
/// waits, and records what a failed operation left behind.
pub async fn create<T: ArmType + ?Sized>(t: &T, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
    create_with(t, cx, planned, |_| {}).await
}

/// [`create`], with `adjust` applied to the body the first PUT sends (a key vault's
/// `createMode: recover`).
pub async fn create_with<T: ArmType + ?Sized>(
    t: &T,
    cx: &Cx<'_>,
    planned: &Value,
    adjust: impl FnOnce(&mut Json),
) -> Result<Value> {
    let a = Attrs(planned);
    let id = t.id(cx, &a)?;
    let label = what(t, "PUT", &id);
    let arm = &cx.settings.arm;
    // ARM's PUT creates or overwrites: an object already at this id must be ours (a
    // retried create of this very token) or it is someone else's and stays untouched.
    if let Some(existing) = arm.get(&id, t.api_version(), &label).await? {
        let ours = match t.marks() {
            Marks::None => false,
            marks => tags::are_ours(cx.op, &marks_of(marks, &existing)),
        };
        if !ours {
            return Err(ProviderError::new(
                ErrorClass::Conflict,
                format!(
                    "{label}: {id} already exists and gantry did not create it in this run; to manage it, import it: `gantry import {} {id}`",
                    cx.op.address
                ),
            )
            .with_code("AlreadyExists"));
        }
    }
    let mut body = t.tagged_body(cx, planned, &Tags::new())?;
    adjust(&mut body);
    let wait = Wait::new(&label, cx.op.timeout_or(t.default_timeout()), &cx.op.cancel);
    let failure = match put_settled(t, cx, &id, &body, &wait).await {
        Ok(json) => return t.finish_state(cx, &json, planned),
        Err(failure) => failure,
    };
    if !failure.accepted {
        return Err(failure.error);
    }
    // ARM took the PUT and its operation failed or the wait ended: did it leave an
    // object? ARM often keeps one in provisioningState Failed (a scale set that could not
    // allocate): the engine records it, tainted, and replaces it next time. An object
    // that is not there was never made.
    let known_id = || {
        let mut known = Obj::from(planned);
        known.set("id", id.as_str());
        known.into_value()
    };
    match arm.get(&id, t.api_version(), &label).await {
        Ok(None) => Err(failure.error),
        Ok(Some(json)) => {
            let state = t
                .finish_state(cx, &json, planned)
                .unwrap_or_else(|_| known_id());
            Err(failure.error.after_create(state))
        }
        // Could not look: it may exist, so it is recorded (a delete of nothing is fine).
        Err(_) => Err(failure.error.after_create(known_id())),
    }
}

/// The `location` of a body as azurerm writes it (`West Europe` → `westeurope`).
pub fn normalize_location(location: &str) -> String {
    location
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// A resource group name attribute's check (1-90 letters, digits, `._-()`, not ending in `.`).
pub fn check_group_name(attr: &str, name: &str) -> Vec<String> {
    let ok = (1..=90).contains(&name.len())
        && !name.ends_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "._-()".contains(c));
    if ok {
        Vec::new()
    } else {
        vec![format!(
            "`{attr}` {name:?} is not a valid resource group name: 1-90 letters, digits, periods, underscores, hyphens and parentheses, not ending in a period"
        )]
    }
}

/// The `location` to record: the configured spelling when it names the same region as
/// ARM's (`West Europe` and `westeurope`), so a plan shows no change.
pub fn location_value(base: &Value, json: &Json) -> Value {
    let from_arm = json["location"].as_str().unwrap_or_default();
    match Attrs(base).str("location") {
        Some(configured) if normalize_location(configured) == normalize_location(from_arm) => {
            Value::string(configured)
        }
        _ => Value::string(from_arm),
    }
}

/// The common attributes of a tracked resource: `id`, `name`, `resource_group_name`,
/// `location`, `tags`.
pub fn tracked_schema() -> Schema {
    use gantry_provider::{Attribute, Type};
    Schema::default()
        .attr("id", Attribute::computed(Type::String))
        .attr("name", Attribute::required(Type::String).force_new())
        .attr(
            "resource_group_name",
            Attribute::required(Type::String).force_new(),
        )
        .attr("location", Attribute::required(Type::String).force_new())
        .attr("tags", Attribute::optional(Type::map(Type::String)))
}

/// `name`, `resource_group_name` and `location` of a tracked resource's ARM answer.
pub fn tracked_state(json: &Json, base: &Value) -> Obj {
    let mut s = Obj::from(base);
    if let Ok(id) = ResourceId::parse(json["id"].as_str().unwrap_or_default()) {
        s.set_opt("resource_group_name", id.resource_group.clone());
    }
    s.set_opt("name", json["name"].as_str());
    s.set("location", location_value(base, json));
    s
}

/// A list of strings in a JSON answer (absent: empty).
pub fn json_strs(v: Option<&Json>) -> Vec<String> {
    v.and_then(Json::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(|i| i.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// An optional collection Azure answers empty (`zones: []`, no node labels) where the
/// configuration writes nothing is recorded as null, as planned: no change shows.
pub fn empty_as_unwritten(schema: &Schema, state: Value, base: &Value) -> Value {
    let Value::Map(mut map) = state else {
        return state;
    };
    let written = |name: &str| !matches!(Attrs(base).get(name), None | Some(Value::Null));
    for (name, attr) in &schema.attributes {
        let empty = match map.get(name.as_str()) {
            Some(Value::List(v)) | Some(Value::Set(v)) => v.is_empty(),
            Some(Value::Map(m)) => m.is_empty(),
            _ => false,
        };
        if empty && attr.optional && !attr.computed && !written(name) {
            map.insert(name.clone(), Value::Null);
        }
    }
    for (name, block) in &schema.blocks {
        if block.nesting != gantry_provider::Nesting::Single {
            continue;
        }
        if let Some(inner) = map.get(name.as_str()).cloned() {
            let inner_base = Attrs(base).get(name).cloned().unwrap_or(Value::Null);
            map.insert(
                name.clone(),
                empty_as_unwritten(&block.schema, inner, &inner_base),
            );
        }
    }
    Value::Map(map)
}

/// The configuration with, in each single nested block, the prior value of every
/// computed attribute it leaves unset.
fn keep_computed_in_blocks(schema: &Schema, config: &Value, prior: &Value) -> Value {
    let Value::Map(mut map) = config.clone() else {
        return config.clone();
    };
    for (name, block) in &schema.blocks {
        if block.nesting != gantry_provider::Nesting::Single {
            continue;
        }
        let (Some(Value::Map(c)), Some(Value::Map(p))) = (
            map.get(name.as_str()).cloned(),
            Attrs(prior).get(name).cloned(),
        ) else {
            continue;
        };
        let mut c = c;
        for (attr_name, attr) in &block.schema.attributes {
            let unset = matches!(c.get(attr_name.as_str()), None | Some(Value::Null));
            if attr.computed && unset {
                if let Some(v) = p.get(attr_name.as_str()) {
                    c.insert(attr_name.clone(), v.clone());
                }
            }
        }
        map.insert(name.clone(), Value::Map(c));
    }
    Value::Map(map)
}

/// For [`ArmType::blocks_azure_fills`]: a listed block the configuration does not write
/// takes its prior value.
fn keep_unwritten_blocks(config: &mut Value, prior: &Value, names: &[&str]) {
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

//! `google_tpu_v2_vm`: a Cloud TPU VM or slice (`v5litepod-16`, or `accelerator_config`
//! with a type and topology), spot or reserved, in one zone.
//!
//! `nodes.create` takes no request id: the node's name is its identity, and crash recovery
//! adopts a node of that name only when its labels carry this create's three marks.
//! Labels, description, metadata and tags change in place (a `patch` with an update
//! mask); everything else replaces the slice.

use super::{accepted, after_accept, Cx, ResourceType};
use crate::errors::{call_error, ok_if_not_found};
use crate::labels::{self, Labels};
use crate::lro;
use crate::wire::{from_model, last_segment, str_at, to_model};
use gantry_provider::attrs::{complete, Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, plan_from_schema, Attribute, NestedBlock, Nesting, PlannedState, ProviderError,
    Schema, Timeouts, Type, Value,
};
use google_cloud_tpu_v2::model::Node;
use serde_json::{json, Map, Value as Json};
use std::time::Duration;

pub struct TpuV2Vm;

const CREATE: Duration = Duration::from_secs(30 * 60);

/// The arguments that change in place, with the node field each is patched through.
const IN_PLACE: [(&str, &str); 4] = [
    ("labels", "labels"),
    ("description", "description"),
    ("metadata", "metadata"),
    ("tags", "tags"),
];

pub fn id_of(project: &str, zone: &str, name: &str) -> String {
    format!("projects/{project}/locations/{zone}/nodes/{name}")
}

fn block(schema: Schema) -> NestedBlock {
    NestedBlock {
        nesting: Nesting::List,
        schema,
        min_items: 0,
        max_items: Some(1),
        force_new: true,
    }
}

/// A slice's generation as `AcceleratorConfig.type` names it, with the prefix of its
/// accelerator type names and how many of the name's size a chip is (v4 and v5p sizes
/// count TensorCores, two per chip).
const GENERATIONS: [(&str, &str, u32); 6] = [
    ("V2", "v2", 2),
    ("V3", "v3", 2),
    ("V4", "v4", 2),
    ("V5P", "v5p", 2),
    ("V5LITE_POD", "v5litepod", 1),
    ("V6E", "v6e", 1),
];

/// The chips a topology (`4x4`, `2x2x4`) holds, `None` when it is not one.
pub fn topology_chips(topology: &str) -> Option<u32> {
    topology
        .split('x')
        .map(|d| d.parse::<u32>().ok().filter(|n| *n > 0))
        .try_fold(1u32, |acc, d| acc.checked_mul(d?))
}

/// The accelerator type (`v5litepod-16`) an `accelerator_config` amounts to, so a slice
/// given by topology is priced and checked like one given by name.
pub fn accelerator_type_of(kind: &str, topology: &str) -> Option<String> {
    let (_, prefix, per_chip) = GENERATIONS.iter().find(|(k, _, _)| *k == kind)?;
    Some(format!("{prefix}-{}", topology_chips(topology)? * per_chip))
}

/// The chips of an accelerator type (`v5litepod-16`: 16, `v4-8`: 4).
pub fn tpu_chips(accelerator_type: &str) -> Option<u32> {
    let (prefix, size) = accelerator_type.rsplit_once('-')?;
    let (_, _, per_chip) = GENERATIONS.iter().find(|(_, p, _)| *p == prefix)?;
    Some(size.parse::<u32>().ok()? / per_chip)
}

#[async_trait]
impl ResourceType for TpuV2Vm {
    fn name(&self) -> &'static str {
        "google_tpu_v2_vm"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("name", Attribute::required(Type::String).force_new())
            .attr(
                "zone",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "project",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "runtime_version",
                Attribute::required(Type::String).force_new(),
            )
            .attr(
                "accelerator_type",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "cidr_block",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("description", Attribute::optional(Type::String))
            .attr("labels", Attribute::optional(Type::map(Type::String)))
            .attr(
                "effective_labels",
                Attribute::computed(Type::map(Type::String)),
            )
            .attr("metadata", Attribute::optional(Type::map(Type::String)))
            .attr("tags", Attribute::optional(Type::list(Type::String)))
            .attr("state", Attribute::computed(Type::String))
            .attr("health", Attribute::computed(Type::String))
            .attr("api_version", Attribute::computed(Type::String))
            .attr("queued_resource", Attribute::computed(Type::String))
            .attr("multislice_node", Attribute::computed(Type::Bool))
            .attr(
                "network_endpoints",
                Attribute::computed(Type::list(Type::Any)),
            )
            .block(
                "accelerator_config",
                block(
                    Schema::default()
                        .attr("type", Attribute::required(Type::String))
                        .attr("topology", Attribute::required(Type::String)),
                ),
            )
            .block(
                "network_config",
                block(
                    Schema::default()
                        .attr("network", Attribute::optional_computed(Type::String))
                        .attr("subnetwork", Attribute::optional_computed(Type::String))
                        .attr("enable_external_ips", Attribute::optional(Type::Bool))
                        .attr("can_ip_forward", Attribute::optional(Type::Bool))
                        .attr("queue_count", Attribute::optional(Type::Number)),
                ),
            )
            .block(
                "scheduling_config",
                block(
                    Schema::default()
                        .attr("preemptible", Attribute::optional(Type::Bool))
                        .attr("reserved", Attribute::optional(Type::Bool))
                        .attr("spot", Attribute::optional(Type::Bool)),
                ),
            )
            .block(
                "service_account",
                block(
                    Schema::default()
                        .attr("email", Attribute::optional_computed(Type::String))
                        .attr("scope", Attribute::optional(Type::list(Type::String))),
                ),
            )
            .with_timeouts(Timeouts {
                create: Some(CREATE),
                update: Some(Duration::from_secs(20 * 60)),
                delete: Some(Duration::from_secs(20 * 60)),
            })
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut problems = Vec::new();
        if let Some(name) = a.str("name") {
            problems.extend(super::check_name(name));
        }
        let by_type = a.get("accelerator_type").is_some_and(|v| !v.is_null());
        let by_config = a.block("accelerator_config");
        match (by_type, by_config) {
            (true, Some(_)) => problems.push(
                "give `accelerator_type` or an `accelerator_config` block, not both".to_owned(),
            ),
            (false, None) => problems.push(
                "a TPU VM needs `accelerator_type` (\"v5litepod-16\") or an `accelerator_config` block (type and topology)"
                    .to_owned(),
            ),
            _ => {}
        }
        if let Some(c) = by_config {
            if let Some(kind) = c.str("type") {
                if !GENERATIONS.iter().any(|(k, _, _)| *k == kind) {
                    let kinds: Vec<&str> = GENERATIONS.iter().map(|(k, _, _)| *k).collect();
                    problems.push(format!(
                        "`accelerator_config.type` must be one of {}, not {kind:?}",
                        kinds.join(", ")
                    ));
                }
            }
            if let Some(t) = c.str("topology") {
                if topology_chips(t).is_none() {
                    problems.push(format!(
                        "`accelerator_config.topology` is dimensions like \"4x4\" or \"2x2x4\", not {t:?}"
                    ));
                }
            }
        }
        if let Some(s) = a.block("scheduling_config") {
            let chosen = ["spot", "preemptible", "reserved"]
                .iter()
                .filter(|k| s.bool(k) == Some(true))
                .count();
            if chosen > 1 {
                problems.push(
                    "`scheduling_config` takes at most one of spot, preemptible and reserved"
                        .to_owned(),
                );
            }
        }
        problems
    }

    /// A slice given by `accelerator_config` is planned with the accelerator type it
    /// amounts to, so cost and quota see its chips before it exists.
    fn plan(&self, schema: &Schema, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        let mut config = config.clone();
        let derived = Attrs(&config)
            .block("accelerator_config")
            .and_then(|c| accelerator_type_of(c.str("type")?, c.str("topology")?));
        if let (Some(derived), Value::Map(c)) = (derived, &mut config) {
            c.insert("accelerator_type".into(), Value::string(derived));
        }
        Ok(plan_from_schema(schema, prior, &config))
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let project = cx.project(planned).to_owned();
        let zone = super::zone_of(cx, &a, "TPU VM")?;
        let name = a.req_str("name")?.to_owned();
        let labels = labels::desired(&cx.settings.default_labels, &a.str_map("labels"), cx.op);
        let node: Node = to_model("nodes.create", node_body(&a, &labels))?;
        let op = cx
            .settings
            .clients
            .tpu
            .create_node()
            .set_parent(format!("projects/{project}/locations/{zone}"))
            .set_node_id(&name)
            .set_node(node)
            .send()
            .await
            .map_err(|e| call_error("nodes.create", e))?;
        let known = accepted(planned, &id_of(&project, &zone, &name));
        after_accept(known, async {
            let timeout = cx.op.timeout_or(CREATE);
            lro::wait(
                cx,
                from_model(&op),
                "nodes.create",
                timeout,
                Some(&zone),
                |n| get_operation(cx, n),
            )
            .await?;
            self.read_named(cx, &project, &zone, &name, planned)
                .await?
                .ok_or_else(|| {
                    ProviderError::fatal(format!("TPU {name} vanished after its create"))
                })
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        let a = Attrs(state);
        let zone = super::zone_of(cx, &a, "TPU VM")?;
        self.read_named(cx, cx.project(state), &zone, a.req_str("name")?, state)
            .await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let a = Attrs(prior);
        let project = cx.project(prior).to_owned();
        let zone = super::zone_of(cx, &a, "TPU VM")?;
        let name = a.req_str("name")?.to_owned();
        let p = Attrs(planned);
        let mut body = Map::new();
        let mut mask = Vec::new();
        for (attr, field) in IN_PLACE {
            if a.get(attr) == p.get(attr) {
                continue;
            }
            mask.push(field);
            let value = match attr {
                "labels" => json!(labels::for_update(
                    &cx.settings.default_labels,
                    &p.str_map("labels"),
                    cx.op,
                    &a.str_map("effective_labels"),
                )),
                "description" => json!(p.str("description").unwrap_or_default()),
                "metadata" => json!(p.str_map("metadata")),
                _ => json!(p.strs("tags")),
            };
            body.insert(field.to_owned(), value);
        }
        if !mask.is_empty() {
            let node: Node = to_model("nodes.patch", Json::Object(body))?;
            let mut node = node;
            node.name = id_of(&project, &zone, &name);
            let op = cx
                .settings
                .clients
                .tpu
                .update_node()
                .set_node(node)
                .set_update_mask(google_cloud_wkt::FieldMask::default().set_paths(mask))
                .send()
                .await
                .map_err(|e| call_error("nodes.patch", e))?;
            let timeout = cx.op.timeout_or(Duration::from_secs(20 * 60));
            lro::wait(cx, from_model(&op), "nodes.patch", timeout, None, |n| {
                get_operation(cx, n)
            })
            .await?;
        }
        self.read_named(cx, &project, &zone, &name, planned)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("TPU {name} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let a = Attrs(state);
        let zone = super::zone_of(cx, &a, "TPU VM")?;
        let name = id_of(cx.project(state), &zone, a.req_str("name")?);
        let sent = cx
            .settings
            .clients
            .tpu
            .delete_node()
            .set_name(&name)
            .send()
            .await
            .map_err(|e| call_error("nodes.delete", e));
        let Some(op) = ok_if_not_found(sent)? else {
            return Ok(());
        };
        let timeout = cx.op.timeout_or(Duration::from_secs(20 * 60));
        let waited = lro::wait(cx, from_model(&op), "nodes.delete", timeout, None, |n| {
            get_operation(cx, n)
        })
        .await;
        ok_if_not_found(waited).map(drop)
    }

    async fn import(&self, cx: &Cx<'_>, id: &str) -> Result<Option<Value>> {
        let (project, zone, name) =
            super::split_scoped_id(id, "locations", "nodes", &cx.settings.project)?;
        self.read_named(cx, &project, &zone, &name, &Value::Null)
            .await
    }

    /// No request id to prove it by: a node of this name is this create's only when its
    /// labels carry all three of this create's marks.
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        _token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let a = Attrs(planned);
        let zone = super::zone_of(cx, &a, "TPU VM")?;
        let name = a.req_str("name")?;
        let read = self
            .read_named(cx, cx.project(planned), &zone, name, planned)
            .await?;
        Ok(labels::adopt_if_ours(cx.op, read))
    }
}

/// One `operations.get` of Cloud TPU.
async fn get_operation(cx: &Cx<'_>, name: String) -> Result<Json> {
    let op = cx
        .settings
        .clients
        .tpu
        .get_operation()
        .set_name(name)
        .send()
        .await
        .map_err(|e| call_error("operations.get", e))?;
    Ok(from_model(&op))
}

fn node_body(a: &Attrs<'_>, labels: &Labels) -> Json {
    let mut body = Map::new();
    let mut put = |k: &str, v: Json| {
        body.insert(k.to_owned(), v);
    };
    put("runtimeVersion", json!(a.str("runtime_version")));
    match a.block("accelerator_config") {
        Some(c) => put(
            "acceleratorConfig",
            json!({ "type": c.str("type"), "topology": c.str("topology") }),
        ),
        None => put("acceleratorType", json!(a.str("accelerator_type"))),
    }
    if let Some(d) = a.str("description") {
        put("description", json!(d));
    }
    if let Some(c) = a.str("cidr_block") {
        put("cidrBlock", json!(c));
    }
    put("labels", json!(labels));
    let metadata = a.str_map("metadata");
    if !metadata.is_empty() {
        put("metadata", json!(metadata));
    }
    let tags = a.strs("tags");
    if !tags.is_empty() {
        put("tags", json!(tags));
    }
    if let Some(n) = a.block("network_config") {
        let mut net = Map::new();
        for (attr, field) in [("network", "network"), ("subnetwork", "subnetwork")] {
            if let Some(v) = n.str(attr) {
                net.insert(field.into(), json!(v));
            }
        }
        for (attr, field) in [
            ("enable_external_ips", "enableExternalIps"),
            ("can_ip_forward", "canIpForward"),
        ] {
            if let Some(v) = n.bool(attr) {
                net.insert(field.into(), json!(v));
            }
        }
        if let Some(q) = n.num("queue_count") {
            net.insert("queueCount".into(), json!(q as i64));
        }
        put("networkConfig", Json::Object(net));
    }
    if let Some(s) = a.block("scheduling_config") {
        let mut sched = Map::new();
        for k in ["preemptible", "reserved", "spot"] {
            if let Some(v) = s.bool(k) {
                sched.insert(k.into(), json!(v));
            }
        }
        put("schedulingConfig", Json::Object(sched));
    }
    if let Some(sa) = a.block("service_account") {
        let mut account = Map::new();
        if let Some(email) = sa.str("email") {
            account.insert("email".into(), json!(email));
        }
        let scope = sa.strs("scope");
        if !scope.is_empty() {
            account.insert("scope".into(), json!(scope));
        }
        put("serviceAccount", Json::Object(account));
    }
    Json::Object(body)
}

impl TpuV2Vm {
    async fn read_named(
        &self,
        cx: &Cx<'_>,
        project: &str,
        zone: &str,
        name: &str,
        base: &Value,
    ) -> Result<Option<Value>> {
        let got = cx
            .settings
            .clients
            .tpu
            .get_node()
            .set_name(id_of(project, zone, name))
            .send()
            .await
            .map_err(|e| call_error("nodes.get", e));
        let Some(node) = ok_if_not_found(got)? else {
            return Ok(None);
        };
        let json = from_model(&node);
        let b = Attrs(base);
        let all = labels::from_json(json.get("labels"));
        let mut s = Obj::from(base);
        s.set("id", id_of(project, zone, name))
            .set("name", last_segment(str_at(&json, "name").unwrap_or(name)))
            .set("project", project)
            .set("zone", zone)
            .set_opt("runtime_version", str_at(&json, "runtimeVersion"))
            .set_opt("accelerator_type", str_at(&json, "acceleratorType"))
            .set_opt("cidr_block", str_at(&json, "cidrBlock"))
            // Enums from the typed model: its JSON carries their proto numbers.
            .set_opt("state", node.state.name())
            .set_opt("health", node.health.name())
            .set_opt("api_version", node.api_version.name())
            .set(
                "queued_resource",
                str_at(&json, "queuedResource").map_or(Value::Null, Value::string),
            )
            .set(
                "multislice_node",
                json.get("multisliceNode")
                    .and_then(Json::as_bool)
                    .unwrap_or(false),
            )
            .set(
                "description",
                str_at(&json, "description")
                    .filter(|d| !d.is_empty())
                    .map_or(Value::Null, Value::string),
            )
            .set(
                "labels",
                labels::user_attribute(&all, &cx.settings.default_labels, &b),
            )
            .set("effective_labels", gantry_provider::attrs::str_map(&all));
        let metadata = labels::from_json(json.get("metadata"));
        s.set(
            "metadata",
            if metadata.is_empty() && b.get("metadata").is_none_or(Value::is_null) {
                Value::Null
            } else {
                gantry_provider::attrs::str_map(&metadata)
            },
        );
        let tags: Vec<String> = json
            .get("tags")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_owned))
            .collect();
        if tags.is_empty() && b.get("tags").is_none_or(Value::is_null) {
            s.set("tags", Value::Null);
        } else {
            s.set_strs("tags", &tags);
        }
        if let Some(c) = &node.accelerator_config {
            if b.block("accelerator_config").is_some() || base.is_null() {
                s.set(
                    "accelerator_config",
                    Value::List(vec![Value::map([
                        ("type", Value::string(c.r#type.name().unwrap_or_default())),
                        ("topology", Value::string(c.topology.as_str())),
                    ])]),
                );
            }
        }
        s.set("network_endpoints", endpoints(&json));
        complete(&mut s, &self.schema());
        Ok(Some(s.into_value()))
    }
}

/// One endpoint per host of the slice: its internal address, port and external address.
fn endpoints(json: &Json) -> Value {
    Value::List(
        json.get("networkEndpoints")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .map(|e| {
                let external = e
                    .pointer("/accessConfig/externalIp")
                    .and_then(Json::as_str)
                    .map_or(Value::Null, Value::string);
                Value::map([
                    (
                        "ip_address",
                        Value::string(str_at(e, "ipAddress").unwrap_or_default()),
                    ),
                    (
                        "port",
                        e.get("port")
                            .and_then(Json::as_f64)
                            .map_or(Value::Null, Value::Number),
                    ),
                    ("external_ip", external),
                ])
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_topology_names_its_accelerator_type() {
        assert_eq!(topology_chips("4x4"), Some(16));
        assert_eq!(topology_chips("2x2x4"), Some(16));
        assert_eq!(topology_chips("4xfour"), None);
        assert_eq!(topology_chips("0x4"), None);
        assert_eq!(
            accelerator_type_of("V5LITE_POD", "4x4").as_deref(),
            Some("v5litepod-16")
        );
        // v4 and v5p names count TensorCores, two per chip.
        assert_eq!(
            accelerator_type_of("V5P", "2x2x4").as_deref(),
            Some("v5p-32")
        );
        assert_eq!(accelerator_type_of("V9", "2x2"), None);
        assert_eq!(tpu_chips("v5litepod-16"), Some(16));
        assert_eq!(tpu_chips("v5p-32"), Some(16));
        assert_eq!(tpu_chips("h100"), None);
    }
}

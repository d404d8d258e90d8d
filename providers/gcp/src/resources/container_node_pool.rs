//! `google_container_node_pool`: a GKE node pool: GPU nodes (`guest_accelerator` with the
//! driver GKE installs), TPU slices (a TPU machine type with `placement_policy`'s
//! `tpu_topology`), spot, autoscaling, queued provisioning, reservation affinity.
//!
//! `nodePools.create` takes no request id: the name is the pool's identity within its
//! cluster, and crash recovery adopts a pool of that name only when its nodes' resource
//! labels carry this create's three marks. Changes to one cluster take turns (see
//! `gke.rs`). The node count, autoscaling and the nodes' labels and resource labels
//! change in place; the rest replaces the pool.

use super::{accepted, after_accept, Cx, ResourceType};
use crate::errors::{call_error, ok_if_not_found};
use crate::gke;
use crate::labels;
use crate::wire::{from_model, last_segment, non_empty, str_at, to_model, Body};
use gantry_provider::attrs::{complete, fill_unset, replace_on_change, Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, plan_from_schema, Attribute, NestedBlock, Nesting, PlannedState, ProviderError,
    Schema, Timeouts, Type, Value,
};
use google_cloud_container_v1::model::{NodePool, NodePoolAutoscaling};
use serde_json::{json, Map, Value as Json};
use std::time::{Duration, Instant};

pub struct ContainerNodePool;

const CREATE: Duration = Duration::from_secs(30 * 60);
const UPDATE: Duration = Duration::from_secs(30 * 60);

/// Arguments inside blocks whose change replaces the pool (the rest of `node_config`
/// is its labels, which change in place).
const FORCE_NEW_PATHS: [&str; 11] = [
    "node_config.machine_type",
    "node_config.disk_size_gb",
    "node_config.disk_type",
    "node_config.image_type",
    "node_config.spot",
    "node_config.preemptible",
    "node_config.service_account",
    "node_config.oauth_scopes",
    "node_config.guest_accelerator",
    "node_config.reservation_affinity",
    "node_config.taint",
];

fn blocks(schema: Schema, max_items: Option<usize>, force_new: bool) -> NestedBlock {
    NestedBlock {
        nesting: Nesting::List,
        schema,
        min_items: 0,
        max_items,
        force_new,
    }
}

/// The TPU chips one VM of a GKE TPU machine type holds (`ct5lp-hightpu-4t`: 4), `None`
/// for a machine type that is not a TPU one.
pub fn tpu_chips_per_node(machine_type: &str) -> Option<u32> {
    let family = ["ct4p-", "ct5lp-", "ct5p-", "ct6e-"];
    if !family.iter().any(|f| machine_type.starts_with(f)) {
        return None;
    }
    let last = machine_type.rsplit('-').next()?;
    last.strip_suffix('t')?.parse().ok()
}

fn node_config_schema() -> Schema {
    Schema::default()
        .attr("machine_type", Attribute::optional_computed(Type::String))
        .attr("disk_size_gb", Attribute::optional_computed(Type::Number))
        .attr("disk_type", Attribute::optional_computed(Type::String))
        .attr("image_type", Attribute::optional_computed(Type::String))
        .attr("spot", Attribute::optional(Type::Bool))
        .attr("preemptible", Attribute::optional(Type::Bool))
        .attr(
            "service_account",
            Attribute::optional_computed(Type::String),
        )
        .attr(
            "oauth_scopes",
            Attribute::optional_computed(Type::list(Type::String)),
        )
        .attr("labels", Attribute::optional(Type::map(Type::String)))
        .attr(
            "resource_labels",
            Attribute::optional(Type::map(Type::String)),
        )
        .block(
            "guest_accelerator",
            blocks(
                Schema::default()
                    .attr("type", Attribute::required(Type::String))
                    .attr("count", Attribute::required(Type::Number))
                    .attr("gpu_partition_size", Attribute::optional(Type::String))
                    .block(
                        "gpu_driver_installation_config",
                        blocks(
                            Schema::default()
                                .attr("gpu_driver_version", Attribute::required(Type::String)),
                            Some(1),
                            false,
                        ),
                    ),
                None,
                false,
            ),
        )
        .block(
            "reservation_affinity",
            blocks(
                Schema::default()
                    .attr(
                        "consume_reservation_type",
                        Attribute::required(Type::String),
                    )
                    .attr("key", Attribute::optional(Type::String))
                    .attr("values", Attribute::optional(Type::list(Type::String))),
                Some(1),
                false,
            ),
        )
        .block(
            "taint",
            blocks(
                Schema::default()
                    .attr("key", Attribute::required(Type::String))
                    .attr("value", Attribute::required(Type::String))
                    .attr("effect", Attribute::required(Type::String)),
                None,
                false,
            ),
        )
}

#[async_trait]
impl ResourceType for ContainerNodePool {
    fn name(&self) -> &'static str {
        "google_container_node_pool"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("name", Attribute::required(Type::String).force_new())
            .attr("cluster", Attribute::required(Type::String).force_new())
            .attr(
                "location",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "project",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "initial_node_count",
                Attribute::optional(Type::Number).force_new(),
            )
            .attr("node_count", Attribute::optional_computed(Type::Number))
            .attr(
                "node_locations",
                Attribute::optional_computed(Type::list(Type::String)).force_new(),
            )
            .attr(
                "max_pods_per_node",
                Attribute::optional(Type::Number).force_new(),
            )
            .attr("version", Attribute::computed(Type::String))
            .attr(
                "instance_group_urls",
                Attribute::computed(Type::list(Type::String)),
            )
            .attr(
                "effective_labels",
                Attribute::computed(Type::map(Type::String)),
            )
            .attr("status", Attribute::computed(Type::String))
            .block(
                "autoscaling",
                blocks(
                    Schema::default()
                        .attr("min_node_count", Attribute::optional(Type::Number))
                        .attr("max_node_count", Attribute::optional(Type::Number))
                        .attr("total_min_node_count", Attribute::optional(Type::Number))
                        .attr("total_max_node_count", Attribute::optional(Type::Number))
                        .attr(
                            "location_policy",
                            Attribute::optional_computed(Type::String),
                        ),
                    Some(1),
                    false,
                ),
            )
            .block(
                "management",
                blocks(
                    Schema::default()
                        .attr("auto_repair", Attribute::optional_computed(Type::Bool))
                        .attr("auto_upgrade", Attribute::optional_computed(Type::Bool)),
                    Some(1),
                    true,
                ),
            )
            .block("node_config", blocks(node_config_schema(), Some(1), false))
            .block(
                "placement_policy",
                blocks(
                    Schema::default()
                        .attr("type", Attribute::required(Type::String))
                        .attr("tpu_topology", Attribute::optional(Type::String))
                        .attr("policy_name", Attribute::optional(Type::String)),
                    Some(1),
                    true,
                ),
            )
            .block(
                "queued_provisioning",
                blocks(
                    Schema::default().attr("enabled", Attribute::required(Type::Bool)),
                    Some(1),
                    true,
                ),
            )
            .with_timeouts(Timeouts {
                create: Some(CREATE),
                update: Some(UPDATE),
                delete: Some(UPDATE),
            })
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut problems = Vec::new();
        if let Some(name) = a.str("name") {
            problems.extend(super::check_name(name));
        }
        if a.get("node_count").is_some_and(|v| !v.is_null()) && a.block("autoscaling").is_some() {
            problems.push(
                "give `node_count` or an `autoscaling` block, not both: the autoscaler sets \
                 the count"
                    .to_owned(),
            );
        }
        let machine_type = a.block("node_config").and_then(|c| c.str("machine_type"));
        let topology = a
            .block("placement_policy")
            .and_then(|p| p.str("tpu_topology"));
        let nodes = a.i64("node_count").or_else(|| a.i64("initial_node_count"));
        match (machine_type.and_then(tpu_chips_per_node), topology) {
            (Some(per_node), Some(topology)) => match super::tpu_v2_vm::topology_chips(topology) {
                None => problems.push(format!(
                    "`placement_policy.tpu_topology` is dimensions like \"4x4\" or \
                         \"2x2x4\", not {topology:?}"
                )),
                Some(chips) => {
                    if chips % per_node != 0 {
                        problems.push(format!(
                            "topology {topology} ({chips} chips) is not a whole number of \
                                 {} nodes ({per_node} chips each)",
                            machine_type.unwrap_or_default()
                        ));
                    } else if let Some(nodes) = nodes {
                        let want = i64::from(chips / per_node);
                        if nodes != want {
                            problems.push(format!(
                                "a {topology} TPU slice of {} nodes ({per_node} chips each) \
                                     takes {want} nodes, not {nodes}: set the node count to {want}",
                                machine_type.unwrap_or_default()
                            ));
                        }
                    }
                }
            },
            (None, Some(_)) if machine_type.is_some() => problems.push(format!(
                "`placement_policy.tpu_topology` is for TPU machine types (ct5lp-hightpu-4t, \
                 ct5p-hightpu-4t, ct6e-standard-4t, ...), not {:?}",
                machine_type.unwrap_or_default()
            )),
            _ => {}
        }
        if a.block("queued_provisioning")
            .is_some_and(|q| q.bool("enabled") == Some(true))
        {
            if a.block("autoscaling").is_none() {
                problems.push(
                    "`queued_provisioning` needs an `autoscaling` block: queued nodes come \
                     from the autoscaler"
                        .to_owned(),
                );
            }
            if nodes.is_some_and(|n| n != 0) {
                problems.push(
                    "a pool with `queued_provisioning` starts empty: its initial node count \
                     must be 0"
                        .to_owned(),
                );
            }
        }
        problems
    }

    /// What GKE fills in inside the blocks (the image, disk, scopes and account of the
    /// nodes; management defaults) stays as read when the configuration leaves it unset.
    fn plan(&self, schema: &Schema, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        let mut config = config.clone();
        if let (Some(prior), Value::Map(c)) = (prior, &mut config) {
            for name in ["node_config", "management", "autoscaling"] {
                let set = c.get(name).cloned().unwrap_or(Value::Null);
                let before = Attrs(prior).get(name).cloned().unwrap_or(Value::Null);
                c.insert(name.into(), fill_unset(&set, &before));
            }
        }
        // GKE's management defaults (auto-repair, auto-upgrade) when none is written.
        if let Some(prior) = prior {
            super::keep_unwritten_blocks(&mut config, prior, &["management"]);
        }
        let mut planned = plan_from_schema(schema, prior, &config);
        replace_on_change(schema, prior, &config, &mut planned, &FORCE_NEW_PATHS);
        // The autoscaler owns the count: an unset count follows what it chose.
        if Attrs(&config).block("autoscaling").is_some() {
            if let (Some(prior), Value::Map(p)) = (prior, &mut planned.value) {
                if let Some(count) = Attrs(prior).get("node_count") {
                    p.insert("node_count".into(), count.clone());
                }
            }
        }
        Ok(planned)
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let at = Place::of(cx, &a)?;
        let name = a.req_str("name")?.to_owned();
        let labels = labels::desired(
            &cx.settings.default_labels,
            &a.block("node_config")
                .map(|c| c.str_map("resource_labels"))
                .unwrap_or_default(),
            cx.op,
        );
        let pool: NodePool = to_model("nodePools.create", pool_body(&a, &labels))?;
        let id = at.pool_id(&name);
        let known = accepted(planned, &id);
        let sent = gke::change(
            cx,
            &at.cluster_id(),
            "nodePools.create",
            cx.op.timeout_or(CREATE),
            Some(&at.location),
            || {
                let pool = pool.clone();
                let parent = at.cluster_id();
                async move {
                    cx.settings
                        .clients
                        .container
                        .create_node_pool()
                        .set_parent(parent)
                        .set_node_pool(pool)
                        .send()
                        .await
                }
            },
        )
        .await;
        // The operation's wait is inside `change`: any error once GKE accepted the pool
        // but before it answered (a timeout, a lost connection) leaves a pool to record.
        after_accept(known, async {
            sent?;
            self.read_named(cx, &at, &name, planned)
                .await?
                .ok_or_else(|| {
                    ProviderError::fatal(format!("node pool {name} vanished after its create"))
                })
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        let a = Attrs(state);
        let at = Place::of(cx, &a)?;
        self.read_named(cx, &at, a.req_str("name")?, state).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let a = Attrs(prior);
        let p = Attrs(planned);
        let at = Place::of(cx, &a)?;
        let name = a.req_str("name")?.to_owned();
        let id = at.pool_id(&name);
        let cluster = at.cluster_id();
        let timeout = cx.op.timeout_or(UPDATE);
        let client = &cx.settings.clients.container;
        if a.get("autoscaling") != p.get("autoscaling") {
            let autoscaling: NodePoolAutoscaling =
                to_model("nodePools.setAutoscaling", autoscaling_json(&p))?;
            gke::change(
                cx,
                &cluster,
                "nodePools.setAutoscaling",
                timeout,
                None,
                || {
                    client
                        .set_node_pool_autoscaling()
                        .set_name(&id)
                        .set_autoscaling(autoscaling.clone())
                        .send()
                },
            )
            .await?;
        }
        let count = p.i64("node_count");
        if p.block("autoscaling").is_none() && count.is_some() && a.i64("node_count") != count {
            gke::change(cx, &cluster, "nodePools.setSize", timeout, None, || {
                client
                    .set_node_pool_size()
                    .set_name(&id)
                    .set_node_count(count.unwrap_or_default() as i32)
                    .send()
            })
            .await?;
        }
        let before = a.block("node_config");
        let after = p.block("node_config");
        let map_of =
            |c: &Option<Attrs<'_>>, k: &str| c.as_ref().map(|c| c.str_map(k)).unwrap_or_default();
        let mut change = Body::new();
        if map_of(&before, "labels") != map_of(&after, "labels") {
            change.put("labels", json!({ "labels": map_of(&after, "labels") }));
        }
        if map_of(&before, "resource_labels") != map_of(&after, "resource_labels") {
            let resource_labels = labels::for_update(
                &cx.settings.default_labels,
                &map_of(&after, "resource_labels"),
                cx.op,
                &a.str_map("effective_labels"),
            );
            change.put("resourceLabels", json!({ "labels": resource_labels }));
        }
        if !change.0.is_empty() {
            change.put("name", json!(id));
            let request: google_cloud_container_v1::model::UpdateNodePoolRequest =
                to_model("nodePools.update", change.into_json())?;
            gke::change(cx, &cluster, "nodePools.update", timeout, None, || {
                client
                    .update_node_pool()
                    .with_request(request.clone())
                    .send()
            })
            .await?;
        }
        self.read_named(cx, &at, &name, planned)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("node pool {name} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let a = Attrs(state);
        let at = Place::of(cx, &a)?;
        let id = at.pool_id(a.req_str("name")?);
        let client = &cx.settings.clients.container;
        let result = gke::change(
            cx,
            &at.cluster_id(),
            "nodePools.delete",
            cx.op.timeout_or(UPDATE),
            None,
            || client.delete_node_pool().set_name(&id).send(),
        )
        .await;
        ok_if_not_found(result).map(drop)
    }

    async fn import(&self, cx: &Cx<'_>, id: &str) -> Result<Option<Value>> {
        let parts: Vec<&str> = id.trim_matches('/').split('/').collect();
        let (project, location, cluster, name) = match parts.as_slice() {
            ["projects", p, "locations", l, "clusters", c, "nodePools", n] => (*p, *l, *c, *n),
            [p, l, c, n] => (*p, *l, *c, *n),
            [l, c, n] => (cx.settings.project.as_str(), *l, *c, *n),
            _ => {
                return Err(ProviderError::invalid(format!(
                    "cannot import {id:?}: expected \
                     projects/PROJECT/locations/LOCATION/clusters/CLUSTER/nodePools/NAME, \
                     PROJECT/LOCATION/CLUSTER/NAME or LOCATION/CLUSTER/NAME"
                )))
            }
        };
        let at = Place {
            project: project.to_owned(),
            location: location.to_owned(),
            cluster: cluster.to_owned(),
        };
        let mut base = Obj::new();
        base.set("cluster", cluster);
        self.read_named(cx, &at, name, &base.into_value()).await
    }

    /// No request id to prove it by: a pool of this name is this create's only when its
    /// nodes' resource labels carry all three of this create's marks. A create still
    /// running is waited for.
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        _token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let a = Attrs(planned);
        let at = Place::of(cx, &a)?;
        let name = a.req_str("name")?;
        let deadline = Instant::now() + cx.op.timeout_or(CREATE);
        let mut pause = Duration::from_millis(500);
        loop {
            let Some(state) = self.read_named(cx, &at, name, planned).await? else {
                return Ok(None);
            };
            if !labels::are_ours(cx.op, &Attrs(&state).str_map("effective_labels")) {
                return Ok(None);
            }
            let provisioning = Attrs(&state).str("status") == Some("PROVISIONING");
            if !provisioning || Instant::now() >= deadline {
                return Ok(Some(state));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_secs(15));
        }
    }
}

/// Where a pool lives: its cluster's project, location and name.
struct Place {
    project: String,
    location: String,
    cluster: String,
}

impl Place {
    /// From `cluster` (a name, or the cluster's id) and the pool's own location/project.
    fn of(cx: &Cx<'_>, a: &Attrs<'_>) -> Result<Place> {
        let cluster = a.req_str("cluster")?;
        let parts: Vec<&str> = cluster.split('/').collect();
        if let ["projects", p, "locations", l, "clusters", c] = parts.as_slice() {
            return Ok(Place {
                project: (*p).to_owned(),
                location: (*l).to_owned(),
                cluster: (*c).to_owned(),
            });
        }
        let location = a
            .str("location")
            .map(str::to_owned)
            .or_else(|| cx.settings.region.clone())
            .ok_or_else(|| {
                ProviderError::invalid(
                    "no location: set `location` on the node pool (its cluster's), give \
                     `cluster` as the cluster's id, or set `region` in the provider block",
                )
            })?;
        Ok(Place {
            project: a.str("project").unwrap_or(&cx.settings.project).to_owned(),
            location,
            cluster: cluster.to_owned(),
        })
    }

    fn cluster_id(&self) -> String {
        super::container_cluster::id_of(&self.project, &self.location, &self.cluster)
    }

    fn pool_id(&self, name: &str) -> String {
        format!("{}/nodePools/{name}", self.cluster_id())
    }
}

fn autoscaling_json(a: &Attrs<'_>) -> Json {
    let Some(s) = a.block("autoscaling") else {
        return json!({ "enabled": false });
    };
    let mut body = Body::new();
    body.put("enabled", json!(true))
        .set("minNodeCount", s.get("min_node_count"))
        .set("maxNodeCount", s.get("max_node_count"))
        .set("totalMinNodeCount", s.get("total_min_node_count"))
        .set("totalMaxNodeCount", s.get("total_max_node_count"))
        .set("locationPolicy", s.get("location_policy"));
    body.into_json()
}

fn pool_body(a: &Attrs<'_>, resource_labels: &labels::Labels) -> Json {
    let mut body = Body::new();
    body.set("name", a.get("name"))
        .set("locations", a.get("node_locations"));
    let initial = a.i64("initial_node_count").or_else(|| a.i64("node_count"));
    if let Some(n) = initial {
        body.put("initialNodeCount", json!(n));
    }
    if a.block("autoscaling").is_some() {
        body.put("autoscaling", autoscaling_json(a));
    }
    if let Some(m) = a.block("management") {
        let mut management = Body::new();
        management
            .set("autoRepair", m.get("auto_repair"))
            .set("autoUpgrade", m.get("auto_upgrade"));
        body.put("management", management.into_json());
    }
    if let Some(n) = a.i64("max_pods_per_node") {
        body.put(
            "maxPodsConstraint",
            json!({ "maxPodsPerNode": n.to_string() }),
        );
    }
    if let Some(p) = a.block("placement_policy") {
        let mut placement = Body::new();
        placement
            .set("type", p.get("type"))
            .set("tpuTopology", p.get("tpu_topology"))
            .set("policyName", p.get("policy_name"));
        body.put("placementPolicy", placement.into_json());
    }
    if let Some(q) = a.block("queued_provisioning") {
        body.put(
            "queuedProvisioning",
            json!({ "enabled": q.bool("enabled") }),
        );
    }
    let config = a.block("node_config");
    body.put("config", node_config_json(config.as_ref(), resource_labels));
    body.into_json()
}

fn node_config_json(c: Option<&Attrs<'_>>, resource_labels: &labels::Labels) -> Json {
    let mut config = Body::new();
    config.put("resourceLabels", json!(resource_labels));
    let Some(c) = c else {
        return config.into_json();
    };
    config
        .set("machineType", c.get("machine_type"))
        .set("diskType", c.get("disk_type"))
        .set("imageType", c.get("image_type"))
        .set("spot", c.get("spot"))
        .set("preemptible", c.get("preemptible"))
        .set("serviceAccount", c.get("service_account"))
        .set("oauthScopes", c.get("oauth_scopes"))
        .set("labels", c.get("labels"));
    if let Some(size) = c.i64("disk_size_gb") {
        config.put("diskSizeGb", json!(size));
    }
    let accelerators: Vec<Json> = c
        .blocks("guest_accelerator")
        .iter()
        .map(|g| {
            let mut accelerator = Map::new();
            accelerator.insert("acceleratorType".into(), json!(g.str("type")));
            // int64 travels as a string on the wire.
            accelerator.insert(
                "acceleratorCount".into(),
                json!(g.i64("count").unwrap_or(1).to_string()),
            );
            if let Some(size) = g.str("gpu_partition_size") {
                accelerator.insert("gpuPartitionSize".into(), json!(size));
            }
            if let Some(driver) = g.block("gpu_driver_installation_config") {
                accelerator.insert(
                    "gpuDriverInstallationConfig".into(),
                    json!({ "gpuDriverVersion": driver.str("gpu_driver_version") }),
                );
            }
            Json::Object(accelerator)
        })
        .collect();
    if !accelerators.is_empty() {
        config.put("accelerators", Json::Array(accelerators));
    }
    if let Some(r) = c.block("reservation_affinity") {
        let mut affinity = Body::new();
        affinity
            .set("consumeReservationType", r.get("consume_reservation_type"))
            .set("key", r.get("key"))
            .set("values", r.get("values"));
        config.put("reservationAffinity", affinity.into_json());
    }
    let taints: Vec<Json> = c
        .blocks("taint")
        .iter()
        .map(|t| json!({ "key": t.str("key"), "value": t.str("value"), "effect": t.str("effect") }))
        .collect();
    if !taints.is_empty() {
        config.put("taints", Json::Array(taints));
    }
    config.into_json()
}

impl ContainerNodePool {
    async fn read_named(
        &self,
        cx: &Cx<'_>,
        at: &Place,
        name: &str,
        base: &Value,
    ) -> Result<Option<Value>> {
        let got = cx
            .settings
            .clients
            .container
            .get_node_pool()
            .set_name(at.pool_id(name))
            .send()
            .await
            .map_err(|e| call_error("nodePools.get", e));
        let Some(pool) = ok_if_not_found(got)? else {
            return Ok(None);
        };
        let json = from_model(&pool);
        let b = Attrs(base);
        let config = json.get("config").cloned().unwrap_or(Json::Null);
        let all = labels::from_json(config.get("resourceLabels"));
        let mut s = Obj::from(base);
        s.set("id", at.pool_id(name))
            .set("name", pool.name.as_str())
            .set("project", at.project.as_str())
            .set("location", at.location.as_str())
            .set("version", pool.version.as_str())
            .set_opt("status", pool.status.name())
            .set_strs("instance_group_urls", &pool.instance_group_urls)
            .set_strs("node_locations", &pool.locations)
            .set("effective_labels", gantry_provider::attrs::str_map(&all));
        // The current size, from the pool's instance groups: a pool resized outside
        // gantry shows as a change.
        match super::node_pool_size::per_zone(cx.settings, &pool.instance_group_urls).await? {
            Some(nodes) => {
                s.set("node_count", Value::Number(nodes));
            }
            None if b.i64("node_count").is_none() => {
                s.set(
                    "node_count",
                    Value::Number(f64::from(pool.initial_node_count)),
                );
            }
            None => {}
        }
        if base.is_null() {
            s.set("cluster", at.cluster.as_str());
        }
        s.set(
            "autoscaling",
            match &pool.autoscaling {
                Some(auto) if auto.enabled => {
                    let positive = |n: i32| {
                        if n > 0 {
                            Value::Number(f64::from(n))
                        } else {
                            Value::Null
                        }
                    };
                    let configured = b.block("autoscaling");
                    // A minimum of 0 is GKE's default: shown when configured.
                    let min = |n: i32, attr: &str| {
                        if n == 0 && configured.as_ref().and_then(|c| c.i64(attr)) == Some(0) {
                            Value::Number(0.0)
                        } else {
                            positive(n)
                        }
                    };
                    Value::List(vec![Value::map([
                        ("min_node_count", min(auto.min_node_count, "min_node_count")),
                        ("max_node_count", positive(auto.max_node_count)),
                        (
                            "total_min_node_count",
                            min(auto.total_min_node_count, "total_min_node_count"),
                        ),
                        ("total_max_node_count", positive(auto.total_max_node_count)),
                        (
                            "location_policy",
                            auto.location_policy
                                .name()
                                .filter(|p| !p.ends_with("UNSPECIFIED"))
                                .map_or(Value::Null, Value::string),
                        ),
                    ])])
                }
                _ => Value::List(Vec::new()),
            },
        );
        s.set(
            "management",
            match &pool.management {
                Some(m) => Value::List(vec![Value::map([
                    ("auto_repair", Value::Bool(m.auto_repair)),
                    ("auto_upgrade", Value::Bool(m.auto_upgrade)),
                ])]),
                None => Value::List(Vec::new()),
            },
        );
        s.set(
            "placement_policy",
            match json.get("placementPolicy") {
                Some(p) if !p.is_null() => Value::List(vec![Value::map([
                    (
                        "type",
                        Value::string(
                            pool.placement_policy
                                .as_ref()
                                .and_then(|p| p.r#type.name())
                                .unwrap_or_default(),
                        ),
                    ),
                    (
                        "tpu_topology",
                        non_empty(str_at(p, "tpuTopology").unwrap_or("")),
                    ),
                    (
                        "policy_name",
                        non_empty(str_at(p, "policyName").unwrap_or("")),
                    ),
                ])]),
                _ => Value::List(Vec::new()),
            },
        );
        s.set(
            "queued_provisioning",
            match &pool.queued_provisioning {
                Some(q) if q.enabled => {
                    Value::List(vec![Value::map([("enabled", Value::Bool(true))])])
                }
                _ => Value::List(Vec::new()),
            },
        );
        s.set(
            "max_pods_per_node",
            pool.max_pods_constraint
                .as_ref()
                .filter(|_| b.get("max_pods_per_node").is_some_and(|v| !v.is_null()))
                .map_or(Value::Null, |m| Value::Number(m.max_pods_per_node as f64)),
        );
        if let Some(c) = &pool.config {
            s.set(
                "node_config",
                Value::List(vec![node_config_value(
                    c,
                    &all,
                    &cx.settings.default_labels,
                    b.block("node_config"),
                )]),
            );
        }
        complete(&mut s, &self.schema());
        Ok(Some(s.into_value()))
    }
}

fn node_config_value(
    c: &google_cloud_container_v1::model::NodeConfig,
    all_resource_labels: &labels::Labels,
    defaults: &labels::Labels,
    configured: Option<Attrs<'_>>,
) -> Value {
    let set = |attr: &str| {
        configured
            .as_ref()
            .and_then(|c| c.get(attr))
            .is_some_and(|v| !v.is_null())
    };
    let flag = |v: bool, attr: &str| {
        if v || set(attr) {
            Value::Bool(v)
        } else {
            Value::Null
        }
    };
    let labels: labels::Labels = c
        .labels
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let mut s = Obj::new();
    s.set("machine_type", non_empty(last_segment(&c.machine_type)))
        .set(
            "disk_size_gb",
            if c.disk_size_gb > 0 {
                Value::Number(f64::from(c.disk_size_gb))
            } else {
                Value::Null
            },
        )
        .set("disk_type", non_empty(&c.disk_type))
        .set("image_type", non_empty(&c.image_type))
        .set("spot", flag(c.spot, "spot"))
        .set("preemptible", flag(c.preemptible, "preemptible"))
        .set("service_account", non_empty(&c.service_account))
        .set(
            "oauth_scopes",
            if c.oauth_scopes.is_empty() {
                Value::Null
            } else {
                gantry_provider::attrs::strs(&c.oauth_scopes)
            },
        )
        .set(
            "labels",
            if labels.is_empty() && !set("labels") {
                Value::Null
            } else {
                gantry_provider::attrs::str_map(&labels)
            },
        );
    let base = configured.map(|c| c.0.clone()).unwrap_or(Value::Null);
    s.set(
        "resource_labels",
        labels::user_attribute_named(
            all_resource_labels,
            defaults,
            &Attrs(&base),
            "resource_labels",
        ),
    );
    s.set(
        "guest_accelerator",
        Value::List(
            c.accelerators
                .iter()
                .map(|g| {
                    Value::map([
                        ("type", Value::string(&g.accelerator_type)),
                        ("count", Value::Number(g.accelerator_count as f64)),
                        ("gpu_partition_size", non_empty(&g.gpu_partition_size)),
                        (
                            "gpu_driver_installation_config",
                            match g
                                .gpu_driver_installation_config
                                .as_ref()
                                .and_then(|d| d.gpu_driver_version.as_ref())
                                .and_then(|v| v.name())
                            {
                                Some(version) => Value::List(vec![Value::map([(
                                    "gpu_driver_version",
                                    Value::string(version),
                                )])]),
                                None => Value::List(Vec::new()),
                            },
                        ),
                    ])
                })
                .collect(),
        ),
    );
    s.set(
        "reservation_affinity",
        match &c.reservation_affinity {
            Some(r) => Value::List(vec![Value::map([
                (
                    "consume_reservation_type",
                    Value::string(r.consume_reservation_type.name().unwrap_or_default()),
                ),
                ("key", non_empty(&r.key)),
                (
                    "values",
                    if r.values.is_empty() {
                        Value::Null
                    } else {
                        gantry_provider::attrs::strs(&r.values)
                    },
                ),
            ])]),
            None => Value::List(Vec::new()),
        },
    );
    s.set(
        "taint",
        Value::List(
            c.taints
                .iter()
                .map(|t| {
                    Value::map([
                        ("key", Value::string(&t.key)),
                        ("value", Value::string(&t.value)),
                        ("effect", Value::string(t.effect.name().unwrap_or_default())),
                    ])
                })
                .collect(),
        ),
    );
    s.into_value()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tpu_pool(machine_type: &str, topology: &str, nodes: f64) -> Value {
        Value::map([
            ("name", Value::string("slice")),
            ("cluster", Value::string("training")),
            ("node_count", Value::Number(nodes)),
            (
                "node_config",
                Value::List(vec![Value::map([(
                    "machine_type",
                    Value::string(machine_type),
                )])]),
            ),
            (
                "placement_policy",
                Value::List(vec![Value::map([
                    ("type", Value::string("COMPACT")),
                    ("tpu_topology", Value::string(topology)),
                ])]),
            ),
        ])
    }

    #[test]
    fn a_tpu_topology_is_checked_against_the_nodes_chips() {
        assert_eq!(tpu_chips_per_node("ct5lp-hightpu-4t"), Some(4));
        assert_eq!(tpu_chips_per_node("ct6e-standard-8t"), Some(8));
        assert_eq!(tpu_chips_per_node("a3-highgpu-8g"), None);
        assert!(ContainerNodePool
            .validate(&tpu_pool("ct5lp-hightpu-4t", "4x4", 4.0))
            .is_empty());
        let problems = ContainerNodePool.validate(&tpu_pool("ct5lp-hightpu-4t", "4x4", 2.0));
        assert!(problems[0].contains("takes 4 nodes, not 2"), "{problems:?}");
        let problems = ContainerNodePool.validate(&tpu_pool("g2-standard-8", "2x2", 1.0));
        assert!(problems[0].contains("TPU machine types"), "{problems:?}");
    }
}

//! `google_container_cluster`: a GKE Standard cluster (private nodes, workload identity,
//! release channel, VPC-native ranges), usually with `remove_default_node_pool` so its
//! nodes come from `google_container_node_pool`s.
//!
//! `clusters.create` takes no request id: the name is the cluster's identity, and crash
//! recovery adopts a cluster of that name only when its resource labels carry this
//! create's three marks (and then finishes the create: the default pool is removed).
//! Resource labels, the release channel and workload identity change in place; the rest
//! replaces the cluster. `deletion_protection` (true unless set false, as in Terraform)
//! refuses a destroy.

use super::container_cluster_options as options;
use super::{accepted, after_accept, Cx, ResourceType};
use crate::errors::{call_error, ok_if_not_found};
use crate::gke;
use crate::labels;
use crate::wire::{from_model, non_empty, str_at, to_model, Body};
use gantry_provider::attrs::{complete, fill_unset, Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, plan_from_schema, Attribute, NestedBlock, Nesting, PlannedState, ProviderError,
    Schema, Timeouts, Type, Value,
};
use google_cloud_container_v1::model::{Cluster, ClusterUpdate};
use serde_json::{json, Value as Json};
use std::time::{Duration, Instant};

pub struct ContainerCluster;

const CREATE: Duration = Duration::from_secs(40 * 60);
const UPDATE: Duration = Duration::from_secs(60 * 60);
const DELETE: Duration = Duration::from_secs(40 * 60);

/// The node pool GKE makes from `initial_node_count`.
const DEFAULT_POOL: &str = "default-pool";

const CHANNELS: [&str; 4] = ["UNSPECIFIED", "RAPID", "REGULAR", "STABLE"];

pub fn id_of(project: &str, location: &str, name: &str) -> String {
    format!("projects/{project}/locations/{location}/clusters/{name}")
}

fn block(schema: Schema, force_new: bool) -> NestedBlock {
    NestedBlock {
        nesting: Nesting::List,
        schema,
        min_items: 0,
        max_items: Some(1),
        force_new,
    }
}

#[async_trait]
impl ResourceType for ContainerCluster {
    fn name(&self) -> &'static str {
        "google_container_cluster"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("name", Attribute::required(Type::String).force_new())
            .attr(
                "location",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "project",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("description", Attribute::optional(Type::String).force_new())
            .attr(
                "network",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "subnetwork",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "initial_node_count",
                Attribute::optional(Type::Number).force_new(),
            )
            .attr("remove_default_node_pool", Attribute::optional(Type::Bool))
            .attr(
                "deletion_protection",
                Attribute::optional(Type::Bool).with_default(Value::Bool(true)),
            )
            .attr(
                "min_master_version",
                Attribute::optional(Type::String).force_new(),
            )
            .attr(
                "resource_labels",
                Attribute::optional(Type::map(Type::String)),
            )
            .attr(
                "effective_labels",
                Attribute::computed(Type::map(Type::String)),
            )
            .attr("label_fingerprint", Attribute::computed(Type::String))
            .attr("endpoint", Attribute::computed(Type::String))
            .attr("master_version", Attribute::computed(Type::String))
            .attr("self_link", Attribute::computed(Type::String))
            .attr("services_ipv4_cidr", Attribute::computed(Type::String))
            .attr("cluster_ipv4_cidr", Attribute::computed(Type::String))
            .attr("status", Attribute::computed(Type::String))
            .block(
                "release_channel",
                block(
                    Schema::default().attr("channel", Attribute::required(Type::String)),
                    false,
                ),
            )
            .block(
                "workload_identity_config",
                block(
                    Schema::default().attr("workload_pool", Attribute::optional(Type::String)),
                    false,
                ),
            )
            .block(
                "private_cluster_config",
                block(
                    Schema::default()
                        .attr("enable_private_nodes", Attribute::optional(Type::Bool))
                        .attr("enable_private_endpoint", Attribute::optional(Type::Bool))
                        .attr(
                            "master_ipv4_cidr_block",
                            Attribute::optional_computed(Type::String),
                        ),
                    true,
                ),
            )
            .block(
                "ip_allocation_policy",
                block(
                    Schema::default()
                        .attr(
                            "cluster_secondary_range_name",
                            Attribute::optional_computed(Type::String),
                        )
                        .attr(
                            "services_secondary_range_name",
                            Attribute::optional_computed(Type::String),
                        )
                        .attr(
                            "cluster_ipv4_cidr_block",
                            Attribute::optional_computed(Type::String),
                        )
                        .attr(
                            "services_ipv4_cidr_block",
                            Attribute::optional_computed(Type::String),
                        ),
                    true,
                ),
            )
            .block("addons_config", options::addons_schema())
            .block(
                "master_authorized_networks_config",
                options::authorized_networks_schema(),
            )
            .with_timeouts(Timeouts {
                create: Some(CREATE),
                update: Some(UPDATE),
                delete: Some(DELETE),
            })
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut problems = Vec::new();
        if let Some(name) = a.str("name") {
            problems.extend(super::check_name(name));
            if name.len() > 40 {
                problems.push(format!(
                    "`name` {name:?} is longer than the 40 characters GKE takes"
                ));
            }
        }
        if let Some(channel) = a.block("release_channel").and_then(|c| c.str("channel")) {
            if !CHANNELS.contains(&channel) {
                problems.push(format!(
                    "`release_channel.channel` must be one of {}, not {channel:?}",
                    CHANNELS.join(", ")
                ));
            }
        }
        if a.bool("remove_default_node_pool") == Some(true)
            && a.get("initial_node_count").is_some_and(|v| !v.is_null())
            && a.i64("initial_node_count") == Some(0)
        {
            problems.push(
                "`initial_node_count` must be at least 1: GKE creates the default pool before \
                 `remove_default_node_pool` removes it"
                    .to_owned(),
            );
        }
        problems.extend(options::validate(&a));
        problems
    }

    /// What GKE picks inside the blocks (the ranges it allocates, the control plane's
    /// range, the add-ons it runs by default) stays as read when the configuration leaves
    /// it unset.
    fn plan(&self, schema: &Schema, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        let mut config = config.clone();
        if let (Some(prior), Value::Map(c)) = (prior, &mut config) {
            for name in [
                "private_cluster_config",
                "ip_allocation_policy",
                "addons_config",
            ] {
                let set = c.get(name).cloned().unwrap_or(Value::Null);
                let before = Attrs(prior).get(name).cloned().unwrap_or(Value::Null);
                c.insert(name.into(), fill_unset(&set, &before));
            }
        }
        Ok(plan_from_schema(schema, prior, &config))
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let project = cx.project(planned).to_owned();
        let location = location_of(cx, &a)?;
        let name = a.req_str("name")?.to_owned();
        let id = id_of(&project, &location, &name);
        let labels = labels::desired(
            &cx.settings.default_labels,
            &a.str_map("resource_labels"),
            cx.op,
        );
        let cluster: Cluster = to_model("clusters.create", cluster_body(&a, &labels))?;
        let op = cx
            .settings
            .clients
            .container
            .create_cluster()
            .set_parent(format!("projects/{project}/locations/{location}"))
            .set_cluster(cluster)
            .send()
            .await
            .map_err(|e| call_error("clusters.create", e))?;
        let known = accepted(planned, &id);
        after_accept(known, async {
            let deadline = Instant::now() + cx.op.timeout_or(CREATE);
            gke::wait(cx, op, &id, "clusters.create", deadline, Some(&location)).await?;
            self.finish_create(cx, &a, &id).await?;
            self.read_named(cx, &project, &location, &name, planned)
                .await?
                .ok_or_else(|| {
                    ProviderError::fatal(format!("GKE cluster {name} vanished after its create"))
                })
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        let a = Attrs(state);
        let location = location_of(cx, &a)?;
        self.read_named(cx, cx.project(state), &location, a.req_str("name")?, state)
            .await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let a = Attrs(prior);
        let p = Attrs(planned);
        let project = cx.project(prior).to_owned();
        let location = location_of(cx, &a)?;
        let name = a.req_str("name")?.to_owned();
        let id = id_of(&project, &location, &name);
        let timeout = cx.op.timeout_or(UPDATE);
        if a.get("resource_labels") != p.get("resource_labels") {
            let labels: std::collections::HashMap<String, String> = labels::for_update(
                &cx.settings.default_labels,
                &p.str_map("resource_labels"),
                cx.op,
                &a.str_map("effective_labels"),
            )
            .into_iter()
            .collect();
            gke::change(cx, &id, "clusters.setResourceLabels", timeout, None, || {
                // The fingerprint of the labels as read: GKE refuses a change made on a
                // stale read.
                let fingerprint = a.str("label_fingerprint").unwrap_or_default().to_owned();
                let labels = labels.clone();
                let name = id.clone();
                async move {
                    cx.settings
                        .clients
                        .container
                        .set_labels()
                        .set_name(name)
                        .set_resource_labels(labels)
                        .set_label_fingerprint(fingerprint)
                        .send()
                        .await
                }
            })
            .await?;
        }
        let mut update = Body::new();
        if a.get("release_channel") != p.get("release_channel") {
            let channel = p
                .block("release_channel")
                .and_then(|c| c.str("channel"))
                .unwrap_or("UNSPECIFIED");
            update.put("desiredReleaseChannel", json!({ "channel": channel }));
        }
        if a.get("workload_identity_config") != p.get("workload_identity_config") {
            let pool = p
                .block("workload_identity_config")
                .and_then(|w| w.str("workload_pool"))
                .unwrap_or_default();
            update.put(
                "desiredWorkloadIdentityConfig",
                json!({ "workloadPool": pool }),
            );
        }
        if a.get("addons_config") != p.get("addons_config") {
            if let Some(addons) = options::addons_json(&p) {
                update.put("desiredAddonsConfig", addons);
            }
        }
        if a.get("master_authorized_networks_config") != p.get("master_authorized_networks_config")
        {
            update.put(
                "desiredMasterAuthorizedNetworksConfig",
                options::authorized_networks_json(&p).unwrap_or_else(|| json!({"enabled": false})),
            );
        }
        // One change per update call, as GKE takes them.
        for (field, value) in update.0 {
            let change: ClusterUpdate = to_model("clusters.update", json!({ field: value }))?;
            gke::change(cx, &id, "clusters.update", timeout, None, || {
                let change = change.clone();
                let name = id.clone();
                async move {
                    cx.settings
                        .clients
                        .container
                        .update_cluster()
                        .set_name(name)
                        .set_update(change)
                        .send()
                        .await
                }
            })
            .await?;
        }
        self.read_named(cx, &project, &location, &name, planned)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("GKE cluster {name} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let a = Attrs(state);
        let location = location_of(cx, &a)?;
        let name = a.req_str("name")?;
        if a.bool("deletion_protection") != Some(false) {
            return Err(ProviderError::invalid(format!(
                "GKE cluster {name} has deletion_protection = true (the default): set \
                 `deletion_protection = false` on it and apply before destroying it"
            )));
        }
        let id = id_of(cx.project(state), &location, name);
        let result = gke::change(
            cx,
            &id,
            "clusters.delete",
            cx.op.timeout_or(DELETE),
            None,
            || {
                let id = id.clone();
                async move {
                    cx.settings
                        .clients
                        .container
                        .delete_cluster()
                        .set_name(id)
                        .send()
                        .await
                }
            },
        )
        .await;
        ok_if_not_found(result).map(drop)
    }

    async fn import(&self, cx: &Cx<'_>, id: &str) -> Result<Option<Value>> {
        let (project, location, name) =
            super::split_scoped_id(id, "locations", "clusters", &cx.settings.project)?;
        self.read_named(cx, &project, &location, &name, &Value::Null)
            .await
    }

    /// No request id to prove it by: a cluster of this name is this create's only when
    /// its resource labels carry all three of this create's marks. A create interrupted
    /// before it removed the default pool is finished here.
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        _token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let a = Attrs(planned);
        let project = cx.project(planned).to_owned();
        let location = location_of(cx, &a)?;
        let name = a.req_str("name")?;
        let Some(state) = self
            .read_named(cx, &project, &location, name, planned)
            .await?
        else {
            return Ok(None);
        };
        if !labels::are_ours(cx.op, &Attrs(&state).str_map("effective_labels")) {
            return Ok(None);
        }
        let id = id_of(&project, &location, name);
        // The create's operation may still run: wait for the cluster to leave PROVISIONING.
        self.wait_running(cx, &id, Instant::now() + cx.op.timeout_or(CREATE))
            .await?;
        self.finish_create(cx, &a, &id).await?;
        self.read_named(cx, &project, &location, name, planned)
            .await
    }
}

/// The cluster's zone or region: its own `location`, else the provider's region.
fn location_of(cx: &Cx<'_>, a: &Attrs<'_>) -> Result<String> {
    a.str("location")
        .map(str::to_owned)
        .or_else(|| cx.settings.region.clone())
        .ok_or_else(|| {
            ProviderError::invalid(
                "no location: set `location` on the GKE cluster (a region, or a zone for a \
                 zonal cluster) or `region` in the provider \"google\" block",
            )
        })
}

fn cluster_body(a: &Attrs<'_>, labels: &labels::Labels) -> Json {
    let mut body = Body::new();
    body.set("name", a.get("name"))
        .set("description", a.get("description"))
        .set("network", a.get("network"))
        .set("subnetwork", a.get("subnetwork"))
        .set("initialClusterVersion", a.get("min_master_version"))
        .put("resourceLabels", json!(labels));
    // The default pool, named as GKE names it, so `remove_default_node_pool` finds it.
    let initial = a.i64("initial_node_count").unwrap_or(1);
    body.put(
        "nodePools",
        json!([{ "name": DEFAULT_POOL, "initialNodeCount": initial }]),
    );
    if let Some(c) = a.block("release_channel") {
        body.put("releaseChannel", json!({ "channel": c.str("channel") }));
    }
    if let Some(w) = a.block("workload_identity_config") {
        body.put(
            "workloadIdentityConfig",
            json!({ "workloadPool": w.str("workload_pool") }),
        );
    }
    if let Some(p) = a.block("private_cluster_config") {
        let mut private = Body::new();
        private
            .set("enablePrivateNodes", p.get("enable_private_nodes"))
            .set("enablePrivateEndpoint", p.get("enable_private_endpoint"))
            .set("masterIpv4CidrBlock", p.get("master_ipv4_cidr_block"));
        body.put("privateClusterConfig", private.into_json());
    }
    if let Some(addons) = options::addons_json(a) {
        body.put("addonsConfig", addons);
    }
    if let Some(networks) = options::authorized_networks_json(a) {
        body.put("masterAuthorizedNetworksConfig", networks);
    }
    if let Some(p) = a.block("ip_allocation_policy") {
        let mut policy = Body::new();
        policy
            .put("useIpAliases", json!(true))
            .set(
                "clusterSecondaryRangeName",
                p.get("cluster_secondary_range_name"),
            )
            .set(
                "servicesSecondaryRangeName",
                p.get("services_secondary_range_name"),
            )
            .set("clusterIpv4CidrBlock", p.get("cluster_ipv4_cidr_block"))
            .set("servicesIpv4CidrBlock", p.get("services_ipv4_cidr_block"));
        body.put("ipAllocationPolicy", policy.into_json());
    }
    body.into_json()
}

impl ContainerCluster {
    /// What a create does once GKE made the cluster: removes the default pool when asked.
    async fn finish_create(&self, cx: &Cx<'_>, a: &Attrs<'_>, id: &str) -> Result<()> {
        if a.bool("remove_default_node_pool") != Some(true) {
            return Ok(());
        }
        let pool = format!("{id}/nodePools/{DEFAULT_POOL}");
        let result = gke::change(
            cx,
            id,
            "nodePools.delete",
            cx.op.timeout_or(DELETE),
            None,
            || {
                let pool = pool.clone();
                async move {
                    cx.settings
                        .clients
                        .container
                        .delete_node_pool()
                        .set_name(pool)
                        .send()
                        .await
                }
            },
        )
        .await;
        ok_if_not_found(result).map(drop)
    }

    /// Waits until the cluster is no longer PROVISIONING (crash recovery of a create).
    async fn wait_running(&self, cx: &Cx<'_>, id: &str, deadline: Instant) -> Result<()> {
        let mut pause = Duration::from_millis(500);
        loop {
            let cluster = cx
                .settings
                .clients
                .container
                .get_cluster()
                .set_name(id)
                .send()
                .await
                .map_err(|e| call_error("clusters.get", e))?;
            match cluster.status.name() {
                Some("PROVISIONING") if Instant::now() < deadline => {
                    tokio::time::sleep(pause).await;
                    pause = (pause * 2).min(Duration::from_secs(15));
                }
                Some("PROVISIONING") => {
                    return Err(ProviderError::timeout(format!(
                        "GKE cluster {id} still provisioning at the deadline"
                    )))
                }
                Some("ERROR") => {
                    let why: Vec<&str> = cluster
                        .conditions
                        .iter()
                        .map(|c| c.message.as_str())
                        .collect();
                    return Err(ProviderError::fatal(format!(
                        "GKE cluster {id} is in ERROR: {}",
                        why.join("; ")
                    )));
                }
                _ => return Ok(()),
            }
        }
    }

    async fn read_named(
        &self,
        cx: &Cx<'_>,
        project: &str,
        location: &str,
        name: &str,
        base: &Value,
    ) -> Result<Option<Value>> {
        let got = cx
            .settings
            .clients
            .container
            .get_cluster()
            .set_name(id_of(project, location, name))
            .send()
            .await
            .map_err(|e| call_error("clusters.get", e));
        let Some(cluster) = ok_if_not_found(got)? else {
            return Ok(None);
        };
        let json = from_model(&cluster);
        let b = Attrs(base);
        let all: labels::Labels = cluster
            .resource_labels
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut s = Obj::from(base);
        s.set("id", id_of(project, location, name))
            .set("name", cluster.name.as_str())
            .set("project", project)
            .set("location", location)
            .set("description", non_empty(&cluster.description))
            .set("network", non_empty(&cluster.network))
            .set("subnetwork", non_empty(&cluster.subnetwork))
            .set(
                "resource_labels",
                labels::user_attribute_named(
                    &all,
                    &cx.settings.default_labels,
                    &b,
                    "resource_labels",
                ),
            )
            .set("effective_labels", gantry_provider::attrs::str_map(&all))
            .set("label_fingerprint", cluster.label_fingerprint.as_str())
            .set("endpoint", cluster.endpoint.as_str())
            .set("master_version", cluster.current_master_version.as_str())
            .set("self_link", cluster.self_link.as_str())
            .set("services_ipv4_cidr", non_empty(&cluster.services_ipv4_cidr))
            .set("cluster_ipv4_cidr", non_empty(&cluster.cluster_ipv4_cidr))
            // Enums from the typed model: its JSON carries their proto numbers.
            .set_opt("status", cluster.status.name());
        if base.is_null() {
            // Imported: the arguments only the configuration knows take Terraform's defaults.
            s.set("deletion_protection", true);
        }
        s.set(
            "release_channel",
            match cluster
                .release_channel
                .as_ref()
                .and_then(|c| c.channel.name())
            {
                Some(channel)
                    if channel != "UNSPECIFIED" || b.block("release_channel").is_some() =>
                {
                    Value::List(vec![Value::map([("channel", Value::string(channel))])])
                }
                _ => Value::List(Vec::new()),
            },
        );
        s.set(
            "workload_identity_config",
            match &cluster.workload_identity_config {
                Some(w) if !w.workload_pool.is_empty() => Value::List(vec![Value::map([(
                    "workload_pool",
                    Value::string(&w.workload_pool),
                )])]),
                _ => Value::List(Vec::new()),
            },
        );
        s.set(
            "private_cluster_config",
            match json.get("privateClusterConfig") {
                Some(p) if !p.is_null() => Value::List(vec![Value::map([
                    (
                        "enable_private_nodes",
                        p.get("enablePrivateNodes")
                            .and_then(Json::as_bool)
                            .map_or(Value::Null, Value::Bool),
                    ),
                    (
                        "enable_private_endpoint",
                        p.get("enablePrivateEndpoint")
                            .and_then(Json::as_bool)
                            .map_or(Value::Null, Value::Bool),
                    ),
                    (
                        "master_ipv4_cidr_block",
                        non_empty(str_at(p, "masterIpv4CidrBlock").unwrap_or("")),
                    ),
                ])]),
                _ => Value::List(Vec::new()),
            },
        );
        s.set(
            "ip_allocation_policy",
            match json.get("ipAllocationPolicy") {
                Some(p) if p.get("useIpAliases").and_then(Json::as_bool) == Some(true) => {
                    let field = |k: &str| non_empty(str_at(p, k).unwrap_or(""));
                    Value::List(vec![Value::map([
                        (
                            "cluster_secondary_range_name",
                            field("clusterSecondaryRangeName"),
                        ),
                        (
                            "services_secondary_range_name",
                            field("servicesSecondaryRangeName"),
                        ),
                        ("cluster_ipv4_cidr_block", field("clusterIpv4CidrBlock")),
                        ("services_ipv4_cidr_block", field("servicesIpv4CidrBlock")),
                    ])])
                }
                _ => Value::List(Vec::new()),
            },
        );
        s.set("addons_config", options::addons_state(&json));
        s.set(
            "master_authorized_networks_config",
            options::authorized_networks_state(&json),
        );
        complete(&mut s, &self.schema());
        Ok(Some(s.into_value()))
    }
}

//! `azurerm_kubernetes_cluster_node_pool`: the GPU pools of an AKS cluster (ND H100 v5,
//! NC A100 v4), with spot, autoscaling, zones, a proximity placement group, and AKS's GPU
//! driver installation (`gpu_driver = "Install"`, or `"None"` for the GPU operator). A
//! pool that cannot get capacity (`OverconstrainedZonalAllocationRequest`,
//! `ZonalAllocationFailed`) fails as Capacity, naming the zone, so the engine can fail over.

use super::kubernetes_cluster::{self, check_pool, pool_properties, pool_schema, pool_state};
use super::{ArmType, Cx, Marks};
use crate::arm::ids::ResourceId;
use gantry_provider::attrs::{num, opt_str, Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, ProviderError, Schema, Timeouts, Type, Value};
use serde_json::{json, Value as Json};
use std::time::Duration;

pub struct KubernetesClusterNodePool;

#[async_trait]
impl ArmType for KubernetesClusterNodePool {
    fn name(&self) -> &'static str {
        "azurerm_kubernetes_cluster_node_pool"
    }

    fn schema(&self) -> Schema {
        pool_schema()
            .attr("id", Attribute::computed(Type::String))
            .attr("name", Attribute::required(Type::String).force_new())
            .attr(
                "kubernetes_cluster_id",
                Attribute::required(Type::String).force_new(),
            )
            .attr(
                "location",
                Attribute::optional_computed(Type::String).force_new().describe(
                    "gantry's: the cluster's location, stated so a plan can price the pool and check its quota; checked against the cluster at create",
                ),
            )
            .attr(
                "mode",
                Attribute::optional(Type::String).with_default("User"),
            )
            .attr(
                "priority",
                Attribute::optional(Type::String)
                    .with_default("Regular")
                    .force_new(),
            )
            .attr(
                "eviction_policy",
                Attribute::optional(Type::String).force_new(),
            )
            .attr(
                "spot_max_price",
                Attribute::optional(Type::Number)
                    .with_default(-1.0)
                    .force_new(),
            )
            .attr("node_taints", Attribute::optional(Type::list(Type::String)))
            .attr(
                "proximity_placement_group_id",
                Attribute::optional(Type::String).force_new(),
            )
            .attr("gpu_driver", Attribute::optional(Type::String).force_new())
            .attr(
                "os_sku",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("tags", Attribute::optional(Type::map(Type::String)))
            .with_timeouts(Timeouts::all(Duration::from_secs(60 * 60)))
    }

    fn api_version(&self) -> &'static str {
        kubernetes_cluster::API
    }

    fn marks(&self) -> Marks {
        Marks::PropertyTags
    }

    fn default_timeout(&self) -> Duration {
        Duration::from_secs(60 * 60)
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut out = check_pool(&a, "node pool");
        if let Some(name) = a.str("name") {
            let ok = (1..=12).contains(&name.len())
                && name.starts_with(|c: char| c.is_ascii_lowercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
            if !ok {
                out.push(format!("`name` {name:?} is not a valid node pool name: 1-12 lowercase letters and digits, starting with a letter"));
            }
        }
        for (attr, allowed) in [
            ("mode", &["User", "System"][..]),
            ("priority", &["Regular", "Spot"][..]),
            ("eviction_policy", &["Delete", "Deallocate"][..]),
            ("gpu_driver", &["Install", "None"][..]),
        ] {
            if let Some(v) = a.str(attr).filter(|v| !allowed.contains(v)) {
                out.push(format!(
                    "`{attr}` {v:?} must be one of {}",
                    allowed.join(", ")
                ));
            }
        }
        if a.str("priority") == Some("Spot") && a.str("eviction_policy").is_none() {
            out.push("a Spot pool needs `eviction_policy` (Delete or Deallocate)".into());
        }
        if a.str("priority") != Some("Spot") && a.str("eviction_policy").is_some() {
            out.push("`eviction_policy` is only for `priority = \"Spot\"`".into());
        }
        out
    }

    fn id(&self, _cx: &Cx<'_>, a: &Attrs<'_>) -> Result<String> {
        let cluster = a.req_str("kubernetes_cluster_id")?.trim_end_matches('/');
        if !ResourceId::parse(cluster)?.is(kubernetes_cluster::KIND) {
            return Err(ProviderError::invalid(format!(
                "`kubernetes_cluster_id` {cluster:?} is not an AKS cluster's id"
            )));
        }
        Ok(format!("{cluster}/agentPools/{}", a.req_str("name")?))
    }

    /// A stated `location` must be the cluster's: checked before the pool is made.
    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let cluster_id = a.req_str("kubernetes_cluster_id")?;
        let cluster = cx
            .settings
            .arm
            .get(
                cluster_id,
                kubernetes_cluster::API,
                &super::what(self, "GET", cluster_id),
            )
            .await?
            .ok_or_else(|| {
                ProviderError::not_found(format!("the pool's cluster {cluster_id} does not exist"))
            })?;
        let actual = cluster["location"].as_str().unwrap_or_default();
        if let Some(stated) = a.str("location") {
            if super::normalize_location(stated) != super::normalize_location(actual) {
                return Err(ProviderError::invalid(format!(
                    "`location` {stated:?} is not the cluster's ({actual}): a pool lives where its cluster does; remove `location` or set it to {actual:?}"
                )));
            }
        }
        let mut known = gantry_provider::attrs::Obj::from(planned);
        known.set("location", actual);
        super::create(self, cx, &known.into_value()).await
    }

    fn body(&self, _cx: &Cx<'_>, a: &Attrs<'_>) -> Result<Json> {
        let mut p = pool_properties(a);
        p["mode"] = json!(a.str("mode").unwrap_or("User"));
        p["scaleSetPriority"] = json!(a.str("priority").unwrap_or("Regular"));
        if a.str("priority") == Some("Spot") {
            p["scaleSetEvictionPolicy"] = json!(a.str("eviction_policy"));
            p["spotMaxPrice"] = json!(a.num("spot_max_price").unwrap_or(-1.0));
        }
        let taints = a.strs("node_taints");
        if !taints.is_empty() {
            p["nodeTaints"] = json!(taints);
        }
        if let Some(ppg) = a.str("proximity_placement_group_id") {
            p["proximityPlacementGroupID"] = json!(ppg);
        }
        if let Some(driver) = a.str("gpu_driver") {
            p["gpuProfile"] = json!({"driver": driver});
        }
        if let Some(sku) = a.str("os_sku") {
            p["osSKU"] = json!(sku);
        }
        Ok(json!({"properties": p}))
    }

    fn state(&self, _cx: &Cx<'_>, json: &Json, base: &Value) -> Result<Value> {
        let p = &json["properties"];
        let mut s = Obj::from(base);
        if let Some(id) = json["id"].as_str() {
            if let Some((cluster, _)) = id.rsplit_once("/agentPools/") {
                s.set("kubernetes_cluster_id", cluster);
            }
        }
        pool_state(&mut s, p);
        // ARM's agent pool carries no location: the one stated or read at create stays.
        let spot = p["scaleSetPriority"].as_str() == Some("Spot");
        s.set_opt("name", json["name"].as_str())
            .set_opt("mode", p["mode"].as_str())
            .set(
                "priority",
                p["scaleSetPriority"].as_str().unwrap_or("Regular"),
            )
            .set(
                "eviction_policy",
                opt_str(p["scaleSetEvictionPolicy"].as_str().filter(|_| spot)),
            )
            .set(
                "spot_max_price",
                num(p["spotMaxPrice"].as_f64().filter(|_| spot).unwrap_or(-1.0)),
            )
            .set_strs("node_taints", &super::json_strs(p.get("nodeTaints")))
            .set(
                "proximity_placement_group_id",
                opt_str(p["proximityPlacementGroupID"].as_str()),
            )
            .set(
                "gpu_driver",
                opt_str(p.pointer("/gpuProfile/driver").and_then(Json::as_str)),
            )
            .set_opt("os_sku", p["osSKU"].as_str());
        Ok(s.into_value())
    }
}

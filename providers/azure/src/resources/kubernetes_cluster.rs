//! `azurerm_kubernetes_cluster`: AKS with its system pool (`default_node_pool`), workload
//! identity and the OIDC issuer (how training pods get Azure tokens without secrets),
//! private API server, and the network profile. GPU pools are
//! `azurerm_kubernetes_cluster_node_pool`s. The cluster's credentials are not read into
//! state (`az aks get-credentials` gets them).

use super::{json_strs, tracked_schema, tracked_state, ArmType, Cx};
use crate::arm::ids;
use gantry_provider::attrs::{num, opt_str, Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, Attribute, NestedBlock, Nesting, Schema, Timeouts, Type, Value,
};
use serde_json::{json, Value as Json};
use std::time::Duration;

pub struct KubernetesCluster;

pub const KIND: &str = "Microsoft.ContainerService/managedClusters";
pub const API: &str = "2024-09-01";

fn single(schema: Schema, min: usize, force_new: bool) -> NestedBlock {
    NestedBlock {
        nesting: Nesting::Single,
        schema,
        min_items: min,
        max_items: Some(1),
        force_new,
    }
}

/// The agent pool attributes the system pool and separate pools share, with azurerm's
/// names and ARM's (`properties.*` of an agent pool).
pub fn pool_schema() -> Schema {
    Schema::default()
        .attr("vm_size", Attribute::required(Type::String).force_new())
        .attr("node_count", Attribute::optional_computed(Type::Number))
        .attr(
            "auto_scaling_enabled",
            Attribute::optional(Type::Bool).with_default(false),
        )
        .attr("min_count", Attribute::optional(Type::Number))
        .attr("max_count", Attribute::optional(Type::Number))
        .attr(
            "zones",
            Attribute::optional(Type::set(Type::String)).force_new(),
        )
        .attr(
            "vnet_subnet_id",
            Attribute::optional(Type::String).force_new(),
        )
        .attr(
            "os_disk_size_gb",
            Attribute::optional_computed(Type::Number).force_new(),
        )
        .attr(
            "max_pods",
            Attribute::optional_computed(Type::Number).force_new(),
        )
        .attr("node_labels", Attribute::optional(Type::map(Type::String)))
}

/// An agent pool's ARM properties from its attributes.
pub fn pool_properties(a: &Attrs<'_>) -> Json {
    let autoscale = a.bool("auto_scaling_enabled").unwrap_or(false);
    let mut p = json!({
        "type": "VirtualMachineScaleSets",
        "vmSize": a.str("vm_size"),
        "enableAutoScaling": autoscale,
    });
    if let Some(n) = a.i64("node_count") {
        p["count"] = json!(n);
    } else if let (true, Some(min)) = (autoscale, a.i64("min_count")) {
        p["count"] = json!(min);
    }
    if autoscale {
        p["minCount"] = json!(a.i64("min_count"));
        p["maxCount"] = json!(a.i64("max_count"));
    }
    let zones = a.strs("zones");
    if !zones.is_empty() {
        p["availabilityZones"] = json!(zones);
    }
    for (attr, field) in [("vnet_subnet_id", "vnetSubnetID")] {
        if let Some(v) = a.str(attr) {
            p[field] = json!(v);
        }
    }
    for (attr, field) in [("os_disk_size_gb", "osDiskSizeGB"), ("max_pods", "maxPods")] {
        if let Some(v) = a.i64(attr) {
            p[field] = json!(v);
        }
    }
    let labels = a.str_map("node_labels");
    if !labels.is_empty() {
        p["nodeLabels"] = json!(labels);
    }
    p
}

/// An agent pool's attributes from its ARM properties.
pub fn pool_state(s: &mut Obj, p: &Json) {
    let autoscale = p["enableAutoScaling"].as_bool().unwrap_or(false);
    s.set_opt("vm_size", p["vmSize"].as_str())
        .set_opt("node_count", p["count"].as_f64().map(num))
        .set("auto_scaling_enabled", autoscale)
        .set(
            "min_count",
            p["minCount"]
                .as_f64()
                .filter(|_| autoscale)
                .map_or(Value::Null, num),
        )
        .set(
            "max_count",
            p["maxCount"]
                .as_f64()
                .filter(|_| autoscale)
                .map_or(Value::Null, num),
        )
        .set_str_set("zones", &json_strs(p.get("availabilityZones")))
        .set("vnet_subnet_id", opt_str(p["vnetSubnetID"].as_str()))
        .set_opt("os_disk_size_gb", p["osDiskSizeGB"].as_f64().map(num))
        .set_opt("max_pods", p["maxPods"].as_f64().map(num))
        .set_str_map("node_labels", &crate::tags::from_json(p.get("nodeLabels")));
}

/// Autoscaling bounds and a fixed count are exclusive, as in azurerm.
pub fn check_pool(a: &Attrs<'_>, what: &str) -> Vec<String> {
    let mut out = Vec::new();
    let autoscale = a.bool("auto_scaling_enabled").unwrap_or(false);
    if autoscale {
        match (a.i64("min_count"), a.i64("max_count")) {
            (Some(min), Some(max)) if min > max => out.push(format!(
                "{what}: `min_count` {min} is above `max_count` {max}"
            )),
            (Some(_), Some(_)) => {}
            _ => out.push(format!(
                "{what}: `auto_scaling_enabled = true` needs `min_count` and `max_count`"
            )),
        }
    } else if a.i64("min_count").is_some() || a.i64("max_count").is_some() {
        out.push(format!(
            "{what}: `min_count` and `max_count` need `auto_scaling_enabled = true`"
        ));
    }
    out
}

#[async_trait]
impl ArmType for KubernetesCluster {
    fn name(&self) -> &'static str {
        "azurerm_kubernetes_cluster"
    }

    fn schema(&self) -> Schema {
        let default_pool = pool_schema()
            .attr("name", Attribute::required(Type::String).force_new())
            .attr(
                "only_critical_addons_enabled",
                Attribute::optional(Type::Bool).with_default(false),
            );

        let network = Schema::default()
            .attr(
                "network_plugin",
                Attribute::required(Type::String).force_new(),
            )
            .attr(
                "network_plugin_mode",
                Attribute::optional(Type::String).force_new(),
            )
            .attr(
                "network_policy",
                Attribute::optional(Type::String).force_new(),
            )
            .attr(
                "service_cidr",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "dns_service_ip",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "pod_cidr",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "outbound_type",
                Attribute::optional(Type::String)
                    .with_default("loadBalancer")
                    .force_new(),
            );
        tracked_schema()
            .attr("dns_prefix", Attribute::required(Type::String).force_new())
            .attr(
                "kubernetes_version",
                Attribute::optional_computed(Type::String),
            )
            .attr(
                "sku_tier",
                Attribute::optional(Type::String).with_default("Free"),
            )
            .attr(
                "node_resource_group",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "oidc_issuer_enabled",
                Attribute::optional(Type::Bool).with_default(false),
            )
            .attr(
                "workload_identity_enabled",
                Attribute::optional(Type::Bool).with_default(false),
            )
            .attr(
                "private_cluster_enabled",
                Attribute::optional(Type::Bool)
                    .with_default(false)
                    .force_new(),
            )
            .attr("fqdn", Attribute::computed(Type::String))
            .attr("oidc_issuer_url", Attribute::computed(Type::String))
            .block("default_node_pool", single(default_pool, 1, false))
            .block("identity", super::managed_identity::block(0))
            .block("network_profile", single(network, 0, true))
            .with_timeouts(Timeouts::all(Duration::from_secs(90 * 60)))
    }

    fn api_version(&self) -> &'static str {
        API
    }

    fn blocks_azure_fills(&self) -> &'static [&'static str] {
        &["network_profile"]
    }

    fn default_timeout(&self) -> Duration {
        Duration::from_secs(90 * 60)
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut out = a
            .block("default_node_pool")
            .map(|p| check_pool(&p, "default_node_pool"))
            .unwrap_or_default();
        if a.bool("workload_identity_enabled") == Some(true)
            && a.bool("oidc_issuer_enabled") != Some(true)
        {
            out.push(
                "`workload_identity_enabled = true` needs `oidc_issuer_enabled = true`".into(),
            );
        }
        if let Some(tier) = a
            .str("sku_tier")
            .filter(|t| !["Free", "Standard", "Premium"].contains(t))
        {
            out.push(format!(
                "`sku_tier` {tier:?} must be Free, Standard or Premium"
            ));
        }
        if a.block("identity").is_none() {
            out.push("set an `identity` block (type = \"SystemAssigned\" or \"UserAssigned\"): AKS needs one".into());
        }
        out
    }

    fn id(&self, cx: &Cx<'_>, a: &Attrs<'_>) -> Result<String> {
        Ok(ids::resource(
            cx.subscription(),
            a.req_str("resource_group_name")?,
            KIND,
            &[a.req_str("name")?],
        ))
    }

    fn body(&self, _cx: &Cx<'_>, a: &Attrs<'_>) -> Result<Json> {
        let mut props = json!({
            "dnsPrefix": a.req_str("dns_prefix")?,
            "oidcIssuerProfile": {"enabled": a.bool("oidc_issuer_enabled").unwrap_or(false)},
            "securityProfile": {"workloadIdentity": {"enabled": a.bool("workload_identity_enabled").unwrap_or(false)}},
            "apiServerAccessProfile": {"enablePrivateCluster": a.bool("private_cluster_enabled").unwrap_or(false)},
        });
        if let Some(v) = a.str("kubernetes_version") {
            props["kubernetesVersion"] = json!(v);
        }
        if let Some(v) = a.str("node_resource_group") {
            props["nodeResourceGroup"] = json!(v);
        }
        if let Some(pool) = a.block("default_node_pool") {
            let mut p = pool_properties(&pool);
            p["name"] = json!(pool.str("name"));
            p["mode"] = json!("System");
            if pool.bool("only_critical_addons_enabled") == Some(true) {
                p["nodeTaints"] = json!(["CriticalAddonsOnly=true:NoSchedule"]);
            }
            props["agentPoolProfiles"] = json!([p]);
        }
        if let Some(n) = a.block("network_profile") {
            let mut net = json!({"networkPlugin": n.str("network_plugin"), "outboundType": n.str("outbound_type").unwrap_or("loadBalancer")});
            for (attr, field) in [
                ("network_plugin_mode", "networkPluginMode"),
                ("network_policy", "networkPolicy"),
                ("service_cidr", "serviceCidr"),
                ("dns_service_ip", "dnsServiceIP"),
                ("pod_cidr", "podCidr"),
            ] {
                if let Some(v) = n.str(attr) {
                    net[field] = json!(v);
                }
            }
            props["networkProfile"] = net;
        }
        let mut body = json!({
            "location": a.req_str("location")?,
            "sku": {"name": "Base", "tier": a.str("sku_tier").unwrap_or("Free")},
            "properties": props,
        });
        super::managed_identity::put_body(&mut body, a);
        Ok(body)
    }

    fn state(&self, _cx: &Cx<'_>, json: &Json, base: &Value) -> Result<Value> {
        let mut s = tracked_state(json, base);
        let p = &json["properties"];
        let b = Attrs(base);
        s.set_opt("dns_prefix", p["dnsPrefix"].as_str())
            .set_opt("kubernetes_version", p["kubernetesVersion"].as_str())
            .set_opt("sku_tier", json.pointer("/sku/tier").and_then(Json::as_str))
            .set_opt("node_resource_group", p["nodeResourceGroup"].as_str())
            .set(
                "oidc_issuer_enabled",
                p.pointer("/oidcIssuerProfile/enabled")
                    .and_then(Json::as_bool)
                    .unwrap_or(false),
            )
            .set(
                "workload_identity_enabled",
                p.pointer("/securityProfile/workloadIdentity/enabled")
                    .and_then(Json::as_bool)
                    .unwrap_or(false),
            )
            .set(
                "private_cluster_enabled",
                p.pointer("/apiServerAccessProfile/enablePrivateCluster")
                    .and_then(Json::as_bool)
                    .unwrap_or(false),
            )
            .set("fqdn", opt_str(p["fqdn"].as_str()))
            .set(
                "oidc_issuer_url",
                opt_str(
                    p.pointer("/oidcIssuerProfile/issuerURL")
                        .and_then(Json::as_str),
                ),
            );
        let configured_pool = b
            .block("default_node_pool")
            .map(|p| p.str("name").unwrap_or_default().to_owned());
        let pools = p["agentPoolProfiles"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let system = pools
            .iter()
            .find(|pool| {
                configured_pool.as_deref().is_some_and(|n| {
                    pool["name"]
                        .as_str()
                        .is_some_and(|got| got.eq_ignore_ascii_case(n))
                })
            })
            .or_else(|| pools.iter().find(|pool| pool["mode"] == "System"));
        if let Some(pool) = system {
            let prior = b.get("default_node_pool").cloned().unwrap_or(Value::Null);
            let mut ps = Obj::from(&prior);
            pool_state(&mut ps, pool);
            ps.set_opt("name", pool["name"].as_str()).set(
                "only_critical_addons_enabled",
                json_strs(pool.get("nodeTaints"))
                    .iter()
                    .any(|t| t.starts_with("CriticalAddonsOnly")),
            );
            s.set("default_node_pool", ps.into_value());
        }
        super::managed_identity::read_back(&mut s, json);
        if let Some(n) = p.get("networkProfile").filter(|n| n.is_object()) {
            let mut net = Obj::new();
            net.set_opt("network_plugin", n["networkPlugin"].as_str())
                .set(
                    "network_plugin_mode",
                    opt_str(n["networkPluginMode"].as_str()),
                )
                .set("network_policy", opt_str(n["networkPolicy"].as_str()))
                .set("service_cidr", opt_str(n["serviceCidr"].as_str()))
                .set("dns_service_ip", opt_str(n["dnsServiceIP"].as_str()))
                .set("pod_cidr", opt_str(n["podCidr"].as_str()))
                .set(
                    "outbound_type",
                    n["outboundType"].as_str().unwrap_or("loadBalancer"),
                );
            s.set("network_profile", net.into_value());
        }
        Ok(s.into_value())
    }
}

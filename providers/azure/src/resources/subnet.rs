//! `azurerm_subnet`: a child of its virtual network. A subnet has no tags, so crash
//! recovery adopts one only when it is wholly the planned one (its address prefixes) in
//! the planned network, which is this stack's.

use super::{json_strs, ArmType, Cx, Marks};
use crate::arm::ids::{self, ResourceId};
use gantry_provider::attrs::Attrs;
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, Schema, Timeouts, Type, Value};
use serde_json::{json, Value as Json};
use std::time::Duration;

pub struct Subnet;

const KIND: &str = "Microsoft.Network/virtualNetworks/subnets";

#[async_trait]
impl ArmType for Subnet {
    fn name(&self) -> &'static str {
        "azurerm_subnet"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("name", Attribute::required(Type::String).force_new())
            .attr(
                "resource_group_name",
                Attribute::required(Type::String).force_new(),
            )
            .attr(
                "virtual_network_name",
                Attribute::required(Type::String).force_new(),
            )
            .attr(
                "address_prefixes",
                Attribute::required(Type::list(Type::String)),
            )
            .attr(
                "service_endpoints",
                Attribute::optional(Type::set(Type::String)),
            )
            .attr(
                "default_outbound_access_enabled",
                Attribute::optional(Type::Bool).with_default(true),
            )
            .attr(
                "private_endpoint_network_policies",
                Attribute::optional(Type::String).with_default("Disabled"),
            )
            .with_timeouts(Timeouts::all(Duration::from_secs(30 * 60)))
    }

    fn api_version(&self) -> &'static str {
        super::virtual_network::API
    }

    fn marks(&self) -> Marks {
        Marks::None
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut out = Vec::new();
        for cidr in a.strs("address_prefixes") {
            if cidr.parse::<ipnet::IpNet>().is_err() {
                out.push(format!(
                    "`address_prefixes` entry {cidr:?} is not a CIDR block (10.0.1.0/24)"
                ));
            }
        }
        if let Some(p) = a.str("private_endpoint_network_policies") {
            if ![
                "Disabled",
                "Enabled",
                "NetworkSecurityGroupEnabled",
                "RouteTableEnabled",
            ]
            .contains(&p)
            {
                out.push(format!(
                    "`private_endpoint_network_policies` {p:?} must be Disabled, Enabled, NetworkSecurityGroupEnabled or RouteTableEnabled"
                ));
            }
        }
        out
    }

    fn id(&self, cx: &Cx<'_>, a: &Attrs<'_>) -> Result<String> {
        Ok(ids::resource(
            cx.subscription(),
            a.req_str("resource_group_name")?,
            KIND,
            &[a.req_str("virtual_network_name")?, a.req_str("name")?],
        ))
    }

    fn body(&self, _cx: &Cx<'_>, a: &Attrs<'_>) -> Result<Json> {
        let endpoints: Vec<Json> = a
            .strs("service_endpoints")
            .into_iter()
            .map(|s| json!({"service": s}))
            .collect();
        Ok(json!({"properties": {
            "addressPrefixes": a.strs("address_prefixes"),
            "serviceEndpoints": endpoints,
            "defaultOutboundAccess": a.bool("default_outbound_access_enabled").unwrap_or(true),
            "privateEndpointNetworkPolicies": a.str("private_endpoint_network_policies").unwrap_or("Disabled"),
        }}))
    }

    /// A security group set by an association, and route tables, stay on the subnet.
    fn keep_from_current(&self, body: &mut Json, current: &Json) {
        for field in ["networkSecurityGroup", "routeTable", "delegations"] {
            if let Some(v) = current.pointer(&format!("/properties/{field}")) {
                body["properties"][field] = v.clone();
            }
        }
    }

    fn state(&self, _cx: &Cx<'_>, json: &Json, base: &Value) -> Result<Value> {
        let mut s = gantry_provider::attrs::Obj::from(base);
        if let Ok(id) = ResourceId::parse(json["id"].as_str().unwrap_or_default()) {
            s.set_opt("resource_group_name", id.resource_group.clone());
            s.set_opt("virtual_network_name", id.names.first().cloned());
        }
        let p = &json["properties"];
        let mut prefixes = json_strs(p.get("addressPrefixes"));
        if prefixes.is_empty() {
            prefixes = json_strs(Some(&json!([p["addressPrefix"]])));
        }
        let endpoints: Vec<String> = p["serviceEndpoints"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i["service"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        s.set_opt("name", json["name"].as_str())
            .set_strs("address_prefixes", &prefixes)
            .set_str_set("service_endpoints", &endpoints)
            .set_opt(
                "default_outbound_access_enabled",
                p["defaultOutboundAccess"].as_bool(),
            )
            .set_opt(
                "private_endpoint_network_policies",
                p["privateEndpointNetworkPolicies"].as_str(),
            );
        Ok(s.into_value())
    }

    fn provably_this(&self, json: &Json, planned: &Value) -> bool {
        let wanted = Attrs(planned).strs("address_prefixes");
        !wanted.is_empty() && json_strs(json.pointer("/properties/addressPrefixes")) == wanted
    }
}

//! `azurerm_virtual_network`. Subnets are their own resources (`azurerm_subnet`); since a
//! PUT of a network without `properties.subnets` would delete them, an update carries the
//! subnets the network has now, as azurerm does.

use super::{json_strs, tracked_schema, tracked_state, ArmType, Cx};
use crate::arm::ids;
use gantry_provider::attrs::Attrs;
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, Schema, Timeouts, Type, Value};
use serde_json::{json, Value as Json};
use std::time::Duration;

pub struct VirtualNetwork;

pub const KIND: &str = "Microsoft.Network/virtualNetworks";
pub const API: &str = "2024-05-01";

#[async_trait]
impl ArmType for VirtualNetwork {
    fn name(&self) -> &'static str {
        "azurerm_virtual_network"
    }

    fn schema(&self) -> Schema {
        tracked_schema()
            .attr(
                "address_space",
                Attribute::required(Type::list(Type::String)),
            )
            .attr(
                "dns_servers",
                Attribute::optional_computed(Type::list(Type::String)),
            )
            .attr("guid", Attribute::computed(Type::String))
            .attr("subnet_ids", Attribute::computed(Type::list(Type::String)))
            .with_timeouts(Timeouts::all(Duration::from_secs(30 * 60)))
    }

    fn api_version(&self) -> &'static str {
        API
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut out: Vec<String> = a
            .str("resource_group_name")
            .map(|n| super::check_group_name("resource_group_name", n))
            .unwrap_or_default();
        for cidr in a.strs("address_space") {
            if cidr.parse::<ipnet::IpNet>().is_err() {
                out.push(format!(
                    "`address_space` entry {cidr:?} is not a CIDR block (10.0.0.0/16)"
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
            &[a.req_str("name")?],
        ))
    }

    fn body(&self, _cx: &Cx<'_>, a: &Attrs<'_>) -> Result<Json> {
        let mut props = json!({"addressSpace": {"addressPrefixes": a.strs("address_space")}});
        let dns = a.strs("dns_servers");
        if !dns.is_empty() {
            props["dhcpOptions"] = json!({"dnsServers": dns});
        }
        Ok(json!({"location": a.req_str("location")?, "properties": props}))
    }

    fn keep_from_current(&self, body: &mut Json, current: &Json) {
        if let Some(subnets) = current.pointer("/properties/subnets") {
            body["properties"]["subnets"] = subnets.clone();
        }
    }

    fn state(&self, _cx: &Cx<'_>, json: &Json, base: &Value) -> Result<Value> {
        let mut s = tracked_state(json, base);
        let p = &json["properties"];
        let subnet_ids: Vec<String> = p["subnets"]
            .as_array()
            .map(|items| {
                items
                    .iter()
                    .filter_map(|i| i["id"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default();
        s.set_strs(
            "address_space",
            &json_strs(p.pointer("/addressSpace/addressPrefixes")),
        )
        .set_strs(
            "dns_servers",
            &json_strs(p.pointer("/dhcpOptions/dnsServers")),
        )
        .set_strs("subnet_ids", &subnet_ids)
        .set(
            "guid",
            gantry_provider::attrs::opt_str(p["resourceGuid"].as_str()),
        );
        Ok(s.into_value())
    }
}

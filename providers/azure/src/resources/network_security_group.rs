//! `azurerm_network_security_group`, with its inline `security_rule` blocks.

use super::{tracked_schema, tracked_state, ArmType, Cx};
use crate::arm::ids;
use gantry_provider::attrs::{Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, Attribute, NestedBlock, Nesting, Schema, Timeouts, Type, Value,
};
use serde_json::{json, Value as Json};
use std::time::Duration;

pub struct NetworkSecurityGroup;

const KIND: &str = "Microsoft.Network/networkSecurityGroups";

/// azurerm's rule fields and their ARM names.
const FIELDS: [(&str, &str); 8] = [
    ("description", "description"),
    ("protocol", "protocol"),
    ("source_port_range", "sourcePortRange"),
    ("destination_port_range", "destinationPortRange"),
    ("source_address_prefix", "sourceAddressPrefix"),
    ("destination_address_prefix", "destinationAddressPrefix"),
    ("access", "access"),
    ("direction", "direction"),
];

#[async_trait]
impl ArmType for NetworkSecurityGroup {
    fn name(&self) -> &'static str {
        "azurerm_network_security_group"
    }

    fn schema(&self) -> Schema {
        let rule = FIELDS
            .iter()
            .fold(Schema::default(), |s, (attr, _)| {
                let a = if matches!(*attr, "protocol" | "access" | "direction") {
                    Attribute::required(Type::String)
                } else {
                    Attribute::optional(Type::String)
                };
                s.attr(attr, a)
            })
            .attr("name", Attribute::required(Type::String))
            .attr("priority", Attribute::required(Type::Number));
        tracked_schema()
            .block(
                "security_rule",
                NestedBlock {
                    nesting: Nesting::Set,
                    schema: rule,
                    min_items: 0,
                    max_items: None,
                    force_new: false,
                },
            )
            .with_timeouts(Timeouts::all(Duration::from_secs(30 * 60)))
    }

    fn api_version(&self) -> &'static str {
        super::virtual_network::API
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let mut out = Vec::new();
        for rule in Attrs(config).blocks("security_rule") {
            let name = rule.str("name").unwrap_or("?");
            if let Some(p) = rule.i64("priority") {
                if !(100..=4096).contains(&p) {
                    out.push(format!(
                        "security_rule {name:?}: `priority` {p} must be between 100 and 4096"
                    ));
                }
            }
            for (attr, allowed) in [
                ("direction", &["Inbound", "Outbound"][..]),
                ("access", &["Allow", "Deny"][..]),
                ("protocol", &["Tcp", "Udp", "Icmp", "Esp", "Ah", "*"][..]),
            ] {
                if let Some(v) = rule.str(attr).filter(|v| !allowed.contains(v)) {
                    out.push(format!(
                        "security_rule {name:?}: `{attr}` {v:?} must be one of {}",
                        allowed.join(", ")
                    ));
                }
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
        let rules: Vec<Json> = a
            .blocks("security_rule")
            .iter()
            .map(|r| {
                let mut props = json!({"priority": r.i64("priority")});
                for (attr, field) in FIELDS {
                    if let Some(v) = r.str(attr) {
                        props[field] = json!(v);
                    }
                }
                json!({"name": r.str("name"), "properties": props})
            })
            .collect();
        Ok(json!({"location": a.req_str("location")?, "properties": {"securityRules": rules}}))
    }

    fn state(&self, _cx: &Cx<'_>, json: &Json, base: &Value) -> Result<Value> {
        let mut s = tracked_state(json, base);
        let rules: Vec<Value> = json
            .pointer("/properties/securityRules")
            .and_then(Json::as_array)
            .map(|items| {
                items
                    .iter()
                    .map(|r| {
                        let p = &r["properties"];
                        let mut rule = Obj::new();
                        rule.set_opt("name", r["name"].as_str());
                        rule.set(
                            "priority",
                            gantry_provider::attrs::num(p["priority"].as_f64().unwrap_or(0.0)),
                        );
                        for (attr, field) in FIELDS {
                            rule.set(attr, gantry_provider::attrs::opt_str(p[field].as_str()));
                        }
                        rule.into_value()
                    })
                    .collect()
            })
            .unwrap_or_default();
        s.set("security_rule", Value::set(rules));
        Ok(s.into_value())
    }
}

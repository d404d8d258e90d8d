//! `azurerm_proximity_placement_group`: keeps a training fleet's VMs in one datacenter for
//! InfiniBand latency; `allowed_vm_sizes` states the intent so Azure places the group
//! where those sizes are.

use super::{json_strs, tracked_schema, tracked_state, ArmType, Cx};
use crate::arm::ids;
use gantry_provider::attrs::{opt_str, Attrs};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, Schema, Timeouts, Type, Value};
use serde_json::{json, Value as Json};
use std::time::Duration;

pub struct ProximityPlacementGroup;

pub const KIND: &str = "Microsoft.Compute/proximityPlacementGroups";

#[async_trait]
impl ArmType for ProximityPlacementGroup {
    fn name(&self) -> &'static str {
        "azurerm_proximity_placement_group"
    }

    fn schema(&self) -> Schema {
        tracked_schema()
            .attr(
                "allowed_vm_sizes",
                Attribute::optional(Type::set(Type::String)),
            )
            .attr("zone", Attribute::optional(Type::String).force_new())
            .with_timeouts(Timeouts::all(Duration::from_secs(30 * 60)))
    }

    fn api_version(&self) -> &'static str {
        "2024-07-01"
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
        let mut body = json!({"location": a.req_str("location")?, "properties": {"proximityPlacementGroupType": "Standard"}});
        let sizes = a.strs("allowed_vm_sizes");
        if !sizes.is_empty() {
            body["properties"]["intent"] = json!({"vmSizes": sizes});
        }
        if let Some(zone) = a.str("zone") {
            body["zones"] = json!([zone]);
        }
        Ok(body)
    }

    fn state(&self, _cx: &Cx<'_>, json: &Json, base: &Value) -> Result<Value> {
        let mut s = tracked_state(json, base);
        s.set_str_set(
            "allowed_vm_sizes",
            &json_strs(json.pointer("/properties/intent/vmSizes")),
        )
        .set(
            "zone",
            opt_str(json.pointer("/zones/0").and_then(Json::as_str)),
        );
        Ok(s.into_value())
    }
}

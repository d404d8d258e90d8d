//! `azurerm_user_assigned_identity`: a managed identity workloads run as (node pools,
//! training jobs through workload identity), with the principal id role assignments name.

use super::{tracked_schema, tracked_state, ArmType, Cx};
use crate::arm::ids;
use gantry_provider::attrs::{opt_str, Attrs};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, Schema, Timeouts, Type, Value};
use serde_json::{json, Value as Json};
use std::time::Duration;

pub struct UserAssignedIdentity;

const KIND: &str = "Microsoft.ManagedIdentity/userAssignedIdentities";

#[async_trait]
impl ArmType for UserAssignedIdentity {
    fn name(&self) -> &'static str {
        "azurerm_user_assigned_identity"
    }

    fn schema(&self) -> Schema {
        tracked_schema()
            .attr("principal_id", Attribute::computed(Type::String))
            .attr("client_id", Attribute::computed(Type::String))
            .attr("tenant_id", Attribute::computed(Type::String))
            .with_timeouts(Timeouts::all(Duration::from_secs(30 * 60)))
    }

    fn api_version(&self) -> &'static str {
        "2023-01-31"
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
        Ok(json!({"location": a.req_str("location")?}))
    }

    fn state(&self, _cx: &Cx<'_>, json: &Json, base: &Value) -> Result<Value> {
        let mut s = tracked_state(json, base);
        let p = &json["properties"];
        s.set("principal_id", opt_str(p["principalId"].as_str()))
            .set("client_id", opt_str(p["clientId"].as_str()))
            .set("tenant_id", opt_str(p["tenantId"].as_str()));
        Ok(s.into_value())
    }
}

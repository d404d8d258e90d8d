//! `azurerm_resource_group`. Its delete honours azurerm's
//! `features { resource_group { prevent_deletion_if_contains_resources } }` (default on):
//! a group that still holds objects is not deleted, and the error lists them.

use super::{tracked_state, ArmType, Cx};
use crate::arm::ids;
use crate::arm::lro::{self, Wait};
use gantry_provider::attrs::Attrs;
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, Attribute, ErrorClass, ProviderError, Schema, Timeouts, Type, Value,
};
use serde_json::{json, Value as Json};
use std::time::Duration;

pub struct ResourceGroup;

const API: &str = "2021-04-01";

#[async_trait]
impl ArmType for ResourceGroup {
    fn name(&self) -> &'static str {
        "azurerm_resource_group"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("name", Attribute::required(Type::String).force_new())
            .attr("location", Attribute::required(Type::String).force_new())
            .attr("managed_by", Attribute::optional(Type::String).force_new())
            .attr("tags", Attribute::optional(Type::map(Type::String)))
            .with_timeouts(Timeouts::all(Duration::from_secs(90 * 60)))
    }

    fn api_version(&self) -> &'static str {
        API
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        Attrs(config)
            .str("name")
            .map(|n| super::check_group_name("name", n))
            .unwrap_or_default()
    }

    fn id(&self, cx: &Cx<'_>, a: &Attrs<'_>) -> Result<String> {
        Ok(ids::resource_group(cx.subscription(), a.req_str("name")?))
    }

    fn body(&self, _cx: &Cx<'_>, a: &Attrs<'_>) -> Result<Json> {
        let mut body = json!({"location": a.req_str("location")?});
        if let Some(by) = a.str("managed_by") {
            body["managedBy"] = json!(by);
        }
        Ok(body)
    }

    fn state(&self, _cx: &Cx<'_>, json: &Json, base: &Value) -> Result<Value> {
        let mut s = tracked_state(json, base);
        s.set(
            "managed_by",
            gantry_provider::attrs::opt_str(json["managedBy"].as_str()),
        );
        s.set("resource_group_name", Value::Null);
        let mut v = s.into_value();
        if let Value::Map(m) = &mut v {
            m.remove("resource_group_name");
        }
        Ok(v)
    }

    fn default_timeout(&self) -> Duration {
        Duration::from_secs(90 * 60)
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let id = super::state_id(self, cx, state)?;
        let label = super::what(self, "DELETE", &id);
        if cx.settings.features.prevent_group_deletion_with_resources {
            let inside = cx
                .settings
                .arm
                .list(&format!("{id}/resources"), API, &label)
                .await;
            match inside {
                Ok(items) if !items.is_empty() => {
                    let names: Vec<String> = items
                        .iter()
                        .filter_map(|i| i["id"].as_str().map(str::to_owned))
                        .collect();
                    return Err(ProviderError::new(
                        // Not a conflict to wait out: a choice the configuration makes.
                        ErrorClass::InvalidInput,
                        format!(
                            "{label}: the resource group still holds {} object(s) gantry does not manage here:\n  {}\n\
                             delete them first, or set `features {{ resource_group {{ prevent_deletion_if_contains_resources = false }} }}` in the provider \"azurerm\" block",
                            names.len(),
                            names.join("\n  ")
                        ),
                    ));
                }
                Ok(_) => {}
                Err(e) if e.class == ErrorClass::NotFound => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        let wait = Wait::new(
            &label,
            cx.op.timeout_or(self.default_timeout()),
            &cx.op.cancel,
        );
        lro::delete(&cx.settings.arm, &id, API, &wait).await
    }
}

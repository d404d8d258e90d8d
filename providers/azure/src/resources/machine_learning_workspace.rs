//! `azurerm_machine_learning_workspace`: the ML platform (Azure Machine Learning), bound
//! to its key vault, storage account and Application Insights. A deleted workspace stays
//! soft-deleted (its name taken) unless azurerm's `features { machine_learning {
//! purge_soft_deleted_workspace_on_destroy = true } }` asks for a purge on destroy.

use super::{tracked_schema, tracked_state, ArmType, Cx};
use crate::arm::ids;
use crate::arm::lro::{self, Wait};
use gantry_provider::attrs::{opt_str, Attrs};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, Schema, Timeouts, Type, Value};
use serde_json::{json, Value as Json};
use std::time::Duration;

pub struct MachineLearningWorkspace;

const KIND: &str = "Microsoft.MachineLearningServices/workspaces";
const API: &str = "2024-04-01";

#[async_trait]
impl ArmType for MachineLearningWorkspace {
    fn name(&self) -> &'static str {
        "azurerm_machine_learning_workspace"
    }

    fn schema(&self) -> Schema {
        tracked_schema()
            .attr(
                "application_insights_id",
                Attribute::required(Type::String).force_new(),
            )
            .attr(
                "key_vault_id",
                Attribute::required(Type::String).force_new(),
            )
            .attr(
                "storage_account_id",
                Attribute::required(Type::String).force_new(),
            )
            .attr("container_registry_id", Attribute::optional(Type::String))
            .attr(
                "public_network_access_enabled",
                Attribute::optional(Type::Bool).with_default(true),
            )
            .attr(
                "sku_name",
                Attribute::optional(Type::String).with_default("Basic"),
            )
            .attr("description", Attribute::optional(Type::String))
            .attr("friendly_name", Attribute::optional(Type::String))
            .attr(
                "high_business_impact",
                Attribute::optional(Type::Bool)
                    .with_default(false)
                    .force_new(),
            )
            .attr("workspace_id", Attribute::computed(Type::String))
            .attr("discovery_url", Attribute::computed(Type::String))
            .block("identity", super::managed_identity::block(1))
            .with_timeouts(Timeouts::all(Duration::from_secs(30 * 60)))
    }

    fn api_version(&self) -> &'static str {
        API
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
        let sku = a.str("sku_name").unwrap_or("Basic");
        let mut props = json!({
            "applicationInsights": a.req_str("application_insights_id")?,
            "keyVault": a.req_str("key_vault_id")?,
            "storageAccount": a.req_str("storage_account_id")?,
            "publicNetworkAccess": if a.bool("public_network_access_enabled").unwrap_or(true) { "Enabled" } else { "Disabled" },
            "hbiWorkspace": a.bool("high_business_impact").unwrap_or(false),
        });
        for (attr, field) in [
            ("container_registry_id", "containerRegistry"),
            ("description", "description"),
            ("friendly_name", "friendlyName"),
        ] {
            if let Some(v) = a.str(attr) {
                props[field] = json!(v);
            }
        }
        let mut body = json!({"location": a.req_str("location")?, "sku": {"name": sku, "tier": sku}, "properties": props});
        super::managed_identity::put_body(&mut body, a);
        Ok(body)
    }

    fn state(&self, _cx: &Cx<'_>, json: &Json, base: &Value) -> Result<Value> {
        let mut s = tracked_state(json, base);
        let p = &json["properties"];
        s.set_opt("application_insights_id", p["applicationInsights"].as_str())
            .set_opt("key_vault_id", p["keyVault"].as_str())
            .set_opt("storage_account_id", p["storageAccount"].as_str())
            .set(
                "container_registry_id",
                opt_str(p["containerRegistry"].as_str()),
            )
            .set(
                "public_network_access_enabled",
                p["publicNetworkAccess"].as_str() != Some("Disabled"),
            )
            .set_opt("sku_name", json.pointer("/sku/name").and_then(Json::as_str))
            .set("description", opt_str(p["description"].as_str()))
            .set("friendly_name", opt_str(p["friendlyName"].as_str()))
            .set(
                "high_business_impact",
                p["hbiWorkspace"].as_bool().unwrap_or(false),
            )
            .set("workspace_id", opt_str(p["workspaceId"].as_str()))
            .set("discovery_url", opt_str(p["discoveryUrl"].as_str()));
        super::managed_identity::read_back(&mut s, json);
        Ok(s.into_value())
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let id = super::state_id(self, cx, state)?;
        let path = if cx.settings.features.purge_ml_workspace_on_destroy {
            format!("{id}?forceToPurge=true")
        } else {
            id.clone()
        };
        let label = super::what(self, "DELETE", &id);
        let wait = Wait::new(
            &label,
            cx.op.timeout_or(self.default_timeout()),
            &cx.op.cancel,
        );
        lro::delete(&cx.settings.arm, &path, API, &wait).await
    }
}

//! `azurerm_machine_learning_workspace`: the ML platform (Azure Machine Learning), bound
//! to its key vault, storage account and Application Insights. A deleted workspace stays
//! soft-deleted (its name taken) unless azurerm's `features { machine_learning {
//! purge_soft_deleted_workspace_on_destroy = true } }` asks for a purge on destroy.

use super::{tracked_schema, tracked_state, ArmType, Cx};
use crate::arm::ids;
use crate::arm::lro::{self, Wait};
use gantry_provider::attrs::{opt_str, Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, Attribute, NestedBlock, Nesting, Schema, Timeouts, Type, Value,
};
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
        let identity = Schema::default()
            .attr("type", Attribute::required(Type::String))
            .attr("identity_ids", Attribute::optional(Type::set(Type::String)))
            .attr("principal_id", Attribute::computed(Type::String))
            .attr("tenant_id", Attribute::computed(Type::String));
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
            .block(
                "identity",
                NestedBlock {
                    nesting: Nesting::Single,
                    schema: identity,
                    min_items: 1,
                    max_items: Some(1),
                    force_new: false,
                },
            )
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
        if let Some(identity) = a.block("identity") {
            body["identity"] = json!({"type": identity.str("type")});
            let ids = identity.strs("identity_ids");
            if !ids.is_empty() {
                let map: serde_json::Map<String, Json> =
                    ids.into_iter().map(|id| (id, json!({}))).collect();
                body["identity"]["userAssignedIdentities"] = Json::Object(map);
            }
        }
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
        if let Some(identity) = json.get("identity").filter(|i| i.is_object()) {
            let mut i = Obj::new();
            let ids: Vec<String> = identity["userAssignedIdentities"]
                .as_object()
                .map(|m| m.keys().cloned().collect())
                .unwrap_or_default();
            i.set_opt("type", identity["type"].as_str())
                .set_str_set("identity_ids", &ids)
                .set("principal_id", opt_str(identity["principalId"].as_str()))
                .set("tenant_id", opt_str(identity["tenantId"].as_str()));
            s.set("identity", i.into_value());
        }
        Ok(s.into_value())
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let a = Attrs(state);
        let id = match a.str("id") {
            Some(id) => id.to_owned(),
            None => self.id(cx, &a)?,
        };
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

//! `azurerm_key_vault`: the ML workspace's secrets store. Azure keeps a deleted vault
//! soft-deleted (its name taken) for `soft_delete_retention_days`; with azurerm's
//! `features { key_vault { purge_soft_delete_on_destroy = true } }` (the default) a
//! destroy also purges it, unless purge protection forbids that. Creating a vault whose
//! name a soft-deleted vault holds recovers that vault (`createMode: recover`), as azurerm's
//! `recover_soft_deleted_key_vaults = true` (the default) does; with it off, the create
//! fails before any request, saying how to free the name.

use super::{tracked_schema, tracked_state, ArmType, Cx};
use crate::arm::ids;
use crate::arm::lro::{self, Wait};
use gantry_provider::attrs::{num, opt_str, Attrs};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, Schema, Timeouts, Type, Value};
use serde_json::{json, Value as Json};
use std::time::Duration;

pub struct KeyVault;

pub const KIND: &str = "Microsoft.KeyVault/vaults";
const API: &str = "2023-07-01";

#[async_trait]
impl ArmType for KeyVault {
    fn name(&self) -> &'static str {
        "azurerm_key_vault"
    }

    fn schema(&self) -> Schema {
        tracked_schema()
            .attr("tenant_id", Attribute::required(Type::String))
            .attr("sku_name", Attribute::required(Type::String))
            .attr(
                "soft_delete_retention_days",
                Attribute::optional(Type::Number).with_default(90.0),
            )
            .attr(
                "purge_protection_enabled",
                Attribute::optional(Type::Bool).with_default(false),
            )
            .attr(
                "rbac_authorization_enabled",
                Attribute::optional(Type::Bool).with_default(false),
            )
            .attr(
                "public_network_access_enabled",
                Attribute::optional(Type::Bool).with_default(true),
            )
            .attr("vault_uri", Attribute::computed(Type::String))
            .with_timeouts(Timeouts::all(Duration::from_secs(30 * 60)))
    }

    fn api_version(&self) -> &'static str {
        API
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut out = Vec::new();
        if let Some(name) = a.str("name") {
            let ok = (3..=24).contains(&name.len())
                && name.starts_with(|c: char| c.is_ascii_alphabetic())
                && !name.ends_with('-')
                && !name.contains("--")
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
            if !ok {
                out.push(format!("`name` {name:?} is not a valid key vault name: 3-24 letters, digits and single hyphens, starting with a letter"));
            }
        }
        if let Some(sku) = a
            .str("sku_name")
            .filter(|s| !["standard", "premium"].contains(s))
        {
            out.push(format!("`sku_name` {sku:?} must be standard or premium"));
        }
        if let Some(days) = a
            .i64("soft_delete_retention_days")
            .filter(|d| !(7..=90).contains(d))
        {
            out.push(format!(
                "`soft_delete_retention_days` {days} must be between 7 and 90"
            ));
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
            "tenantId": a.req_str("tenant_id")?,
            "sku": {"family": "A", "name": a.req_str("sku_name")?},
            "softDeleteRetentionInDays": a.i64("soft_delete_retention_days").unwrap_or(90),
            "enableSoftDelete": true,
            "enableRbacAuthorization": a.bool("rbac_authorization_enabled").unwrap_or(false),
            "publicNetworkAccess": if a.bool("public_network_access_enabled").unwrap_or(true) { "Enabled" } else { "Disabled" },
            "accessPolicies": [],
        });
        // ARM refuses `enablePurgeProtection: false`: it can only be switched on.
        if a.bool("purge_protection_enabled") == Some(true) {
            props["enablePurgeProtection"] = json!(true);
        }
        Ok(json!({"location": a.req_str("location")?, "properties": props}))
    }

    fn state(&self, _cx: &Cx<'_>, json: &Json, base: &Value) -> Result<Value> {
        let mut s = tracked_state(json, base);
        let p = &json["properties"];
        s.set_opt("tenant_id", p["tenantId"].as_str())
            .set_opt(
                "sku_name",
                p.pointer("/sku/name")
                    .and_then(Json::as_str)
                    .map(str::to_ascii_lowercase),
            )
            .set_opt(
                "soft_delete_retention_days",
                p["softDeleteRetentionInDays"].as_f64().map(num),
            )
            .set(
                "purge_protection_enabled",
                p["enablePurgeProtection"].as_bool().unwrap_or(false),
            )
            .set(
                "rbac_authorization_enabled",
                p["enableRbacAuthorization"].as_bool().unwrap_or(false),
            )
            .set(
                "public_network_access_enabled",
                p["publicNetworkAccess"].as_str() != Some("Disabled"),
            )
            .set("vault_uri", opt_str(p["vaultUri"].as_str()));
        Ok(s.into_value())
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let (name, location) = (a.req_str("name")?, a.req_str("location")?);
        let deleted = deleted_vault_id(cx, name, location);
        let label = format!("{} GET {deleted}", self.name());
        if cx.settings.arm.get(&deleted, API, &label).await?.is_none() {
            return super::create(self, cx, planned).await;
        }
        if !cx.settings.features.recover_soft_deleted_key_vaults {
            return Err(gantry_provider::ProviderError::new(
                gantry_provider::ErrorClass::Conflict,
                format!(
                    "a soft-deleted key vault named {name:?} holds the name in {location}, and `features {{ key_vault {{ recover_soft_deleted_key_vaults = false }} }}` forbids recovering it: purge it (`az keyvault purge --name {name}`), set the feature to true to recover it, or choose another name"
                ),
            )
            .with_code("ConflictError"));
        }
        tracing::info!("recovering the soft-deleted key vault {name} in {location}");
        super::create_with(self, cx, planned, |body| {
            body["properties"]["createMode"] = json!("recover");
        })
        .await
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let a = Attrs(state);
        let id = super::state_id(self, cx, state)?;
        let label = super::what(self, "DELETE", &id);
        let wait = Wait::new(
            &label,
            cx.op.timeout_or(self.default_timeout()),
            &cx.op.cancel,
        );
        lro::delete(&cx.settings.arm, &id, API, &wait).await?;
        let protected = a.bool("purge_protection_enabled") == Some(true);
        if !cx.settings.features.purge_key_vault_on_destroy || protected {
            return Ok(());
        }
        let (Some(name), Some(location)) = (a.str("name"), a.str("location")) else {
            return Ok(());
        };
        let purge = format!("{}/purge", deleted_vault_id(cx, name, location));
        let label = format!("{} purge {name}", self.name());
        let wait = Wait::new(
            &label,
            cx.op.timeout_or(self.default_timeout()),
            &cx.op.cancel,
        );
        match lro::post(&cx.settings.arm, &purge, API, None, &wait).await {
            Ok(_) => Ok(()),
            // Already purged (or never soft-deleted).
            Err(e) if e.class == gantry_provider::ErrorClass::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// Where ARM keeps a soft-deleted vault of this name and location.
fn deleted_vault_id(cx: &Cx<'_>, name: &str, location: &str) -> String {
    format!(
        "/subscriptions/{}/providers/Microsoft.KeyVault/locations/{}/deletedVaults/{name}",
        cx.subscription(),
        super::normalize_location(location)
    )
}

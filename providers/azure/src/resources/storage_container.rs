//! `azurerm_storage_container`, made through Resource Manager
//! (`storageAccounts/{a}/blobServices/default/containers/{c}`) from azurerm 4's
//! `storage_account_id`, so no account key or data-plane access is needed. gantry's marks
//! go in the container's metadata (keys `gantry_stack`, `gantry_address`,
//! `gantry_token`: metadata keys are C# identifiers).

use super::{ArmType, Cx, Marks};
use crate::arm::ids::ResourceId;
use gantry_provider::attrs::{Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, ProviderError, Schema, Timeouts, Type, Value};
use serde_json::{json, Value as Json};
use std::time::Duration;

pub struct StorageContainer;

#[async_trait]
impl ArmType for StorageContainer {
    fn name(&self) -> &'static str {
        "azurerm_storage_container"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("name", Attribute::required(Type::String).force_new())
            .attr(
                "storage_account_id",
                Attribute::required(Type::String).force_new(),
            )
            .attr(
                "container_access_type",
                Attribute::optional(Type::String).with_default("private"),
            )
            .attr("metadata", Attribute::optional(Type::map(Type::String)))
            .attr("has_immutability_policy", Attribute::computed(Type::Bool))
            .attr("has_legal_hold", Attribute::computed(Type::Bool))
            .with_timeouts(Timeouts::all(Duration::from_secs(30 * 60)))
    }

    fn api_version(&self) -> &'static str {
        super::storage_account::API
    }

    fn marks(&self) -> Marks {
        Marks::Metadata
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut out = Vec::new();
        if let Some(name) = a.str("name") {
            let ok = (3..=63).contains(&name.len())
                && name.starts_with(|c: char| c.is_ascii_alphanumeric())
                && !name.contains("--")
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !ok && name != "$root" && name != "$web" {
                out.push(format!("`name` {name:?} is not a valid container name: 3-63 lowercase letters, digits and single hyphens, starting with a letter or digit"));
            }
        }
        if let Some(t) = a
            .str("container_access_type")
            .filter(|t| !["private", "blob", "container"].contains(t))
        {
            out.push(format!(
                "`container_access_type` {t:?} must be private, blob or container"
            ));
        }
        out
    }

    fn id(&self, _cx: &Cx<'_>, a: &Attrs<'_>) -> Result<String> {
        let account = a.req_str("storage_account_id")?.trim_end_matches('/');
        let parsed = ResourceId::parse(account)?;
        if !parsed.is(super::storage_account::KIND) {
            return Err(ProviderError::invalid(format!(
                "`storage_account_id` {account:?} is not a storage account's id"
            )));
        }
        Ok(format!(
            "{account}/blobServices/default/containers/{}",
            a.req_str("name")?
        ))
    }

    fn body(&self, _cx: &Cx<'_>, a: &Attrs<'_>) -> Result<Json> {
        let access = match a.str("container_access_type").unwrap_or("private") {
            "blob" => "Blob",
            "container" => "Container",
            _ => "None",
        };
        Ok(json!({"properties": {"publicAccess": access}}))
    }

    fn state(&self, _cx: &Cx<'_>, json: &Json, base: &Value) -> Result<Value> {
        let p = &json["properties"];
        let mut s = Obj::from(base);
        if let Some(id) = json["id"].as_str() {
            if let Some((account, _)) = id.split_once("/blobServices/") {
                s.set("storage_account_id", account);
            }
        }
        let access = match p["publicAccess"].as_str().unwrap_or("None") {
            "Blob" => "blob",
            "Container" => "container",
            _ => "private",
        };
        s.set_opt("name", json["name"].as_str())
            .set("container_access_type", access)
            .set(
                "has_immutability_policy",
                p["hasImmutabilityPolicy"].as_bool().unwrap_or(false),
            )
            .set(
                "has_legal_hold",
                p["hasLegalHold"].as_bool().unwrap_or(false),
            );
        Ok(s.into_value())
    }
}

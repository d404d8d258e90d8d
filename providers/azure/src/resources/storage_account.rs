//! `azurerm_storage_account`: training data and checkpoints. Its name is global across
//! Azure (3-24 lowercase letters and digits). The account's keys are not read into state:
//! gantry does not hold secrets it was not given (use Entra roles, `Storage Blob Data
//! Contributor`, as the modules do).

use super::{tracked_schema, tracked_state, ArmType, Cx};
use crate::arm::ids;
use gantry_provider::attrs::{opt_str, Attrs};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, Schema, Timeouts, Type, Value};
use serde_json::{json, Value as Json};
use std::time::Duration;

pub struct StorageAccount;

pub const KIND: &str = "Microsoft.Storage/storageAccounts";
pub const API: &str = "2023-05-01";

#[async_trait]
impl ArmType for StorageAccount {
    fn name(&self) -> &'static str {
        "azurerm_storage_account"
    }

    fn schema(&self) -> Schema {
        tracked_schema()
            .attr(
                "account_tier",
                Attribute::required(Type::String).force_new(),
            )
            .attr(
                "account_replication_type",
                Attribute::required(Type::String),
            )
            .attr(
                "account_kind",
                Attribute::optional(Type::String).with_default("StorageV2"),
            )
            .attr(
                "access_tier",
                Attribute::optional(Type::String).with_default("Hot"),
            )
            .attr(
                "is_hns_enabled",
                Attribute::optional(Type::Bool)
                    .with_default(false)
                    .force_new(),
            )
            .attr(
                "min_tls_version",
                Attribute::optional(Type::String).with_default("TLS1_2"),
            )
            .attr(
                "https_traffic_only_enabled",
                Attribute::optional(Type::Bool).with_default(true),
            )
            .attr(
                "allow_nested_items_to_be_public",
                Attribute::optional(Type::Bool).with_default(true),
            )
            .attr(
                "shared_access_key_enabled",
                Attribute::optional(Type::Bool).with_default(true),
            )
            .attr(
                "public_network_access_enabled",
                Attribute::optional(Type::Bool).with_default(true),
            )
            .attr("primary_location", Attribute::computed(Type::String))
            .attr("primary_blob_endpoint", Attribute::computed(Type::String))
            .attr("primary_dfs_endpoint", Attribute::computed(Type::String))
            .with_timeouts(Timeouts::all(Duration::from_secs(60 * 60)))
    }

    fn api_version(&self) -> &'static str {
        API
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut out = Vec::new();
        if let Some(name) = a.str("name") {
            let ok = (3..=24).contains(&name.len())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
            if !ok {
                out.push(format!("`name` {name:?} is not a valid storage account name: 3-24 lowercase letters and digits"));
            }
        }
        for (attr, allowed) in [
            ("account_tier", &["Standard", "Premium"][..]),
            (
                "account_replication_type",
                &["LRS", "ZRS", "GRS", "RAGRS", "GZRS", "RAGZRS"][..],
            ),
            (
                "account_kind",
                &[
                    "StorageV2",
                    "BlobStorage",
                    "BlockBlobStorage",
                    "FileStorage",
                    "Storage",
                ][..],
            ),
            ("access_tier", &["Hot", "Cool", "Cold", "Premium"][..]),
            ("min_tls_version", &["TLS1_0", "TLS1_1", "TLS1_2"][..]),
        ] {
            if let Some(v) = a.str(attr).filter(|v| !allowed.contains(v)) {
                out.push(format!(
                    "`{attr}` {v:?} must be one of {}",
                    allowed.join(", ")
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
        let enabled = |attr: &str, default: bool| a.bool(attr).unwrap_or(default);
        Ok(json!({
            "location": a.req_str("location")?,
            "kind": a.str("account_kind").unwrap_or("StorageV2"),
            "sku": {"name": format!("{}_{}", a.req_str("account_tier")?, a.req_str("account_replication_type")?)},
            "properties": {
                "accessTier": a.str("access_tier").unwrap_or("Hot"),
                "isHnsEnabled": enabled("is_hns_enabled", false),
                "minimumTlsVersion": a.str("min_tls_version").unwrap_or("TLS1_2"),
                "supportsHttpsTrafficOnly": enabled("https_traffic_only_enabled", true),
                "allowBlobPublicAccess": enabled("allow_nested_items_to_be_public", true),
                "allowSharedKeyAccess": enabled("shared_access_key_enabled", true),
                "publicNetworkAccess": if enabled("public_network_access_enabled", true) { "Enabled" } else { "Disabled" },
            }
        }))
    }

    fn state(&self, _cx: &Cx<'_>, json: &Json, base: &Value) -> Result<Value> {
        let mut s = tracked_state(json, base);
        let p = &json["properties"];
        if let Some((tier, replication)) = json
            .pointer("/sku/name")
            .and_then(Json::as_str)
            .and_then(|n| n.split_once('_'))
        {
            s.set("account_tier", tier)
                .set("account_replication_type", replication);
        }
        s.set_opt("account_kind", json["kind"].as_str())
            .set_opt("access_tier", p["accessTier"].as_str())
            .set_opt("is_hns_enabled", p["isHnsEnabled"].as_bool())
            .set_opt("min_tls_version", p["minimumTlsVersion"].as_str())
            .set_opt(
                "https_traffic_only_enabled",
                p["supportsHttpsTrafficOnly"].as_bool(),
            )
            .set_opt(
                "allow_nested_items_to_be_public",
                p["allowBlobPublicAccess"].as_bool(),
            )
            .set_opt(
                "shared_access_key_enabled",
                p["allowSharedKeyAccess"].as_bool(),
            )
            .set_opt(
                "public_network_access_enabled",
                p["publicNetworkAccess"].as_str().map(|v| v != "Disabled"),
            )
            .set("primary_location", opt_str(p["primaryLocation"].as_str()))
            .set(
                "primary_blob_endpoint",
                opt_str(p.pointer("/primaryEndpoints/blob").and_then(Json::as_str)),
            )
            .set(
                "primary_dfs_endpoint",
                opt_str(p.pointer("/primaryEndpoints/dfs").and_then(Json::as_str)),
            );
        Ok(s.into_value())
    }
}

//! Data sources: `azurerm_client_config` (who the provider is) and
//! `azurerm_resource_group` (an existing group).

use crate::resources::Cx;
use gantry_provider::attrs::{Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, ProviderError, Schema, Type, Value};

/// One data source.
#[async_trait]
pub trait DataSource: Send + Sync {
    fn name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    async fn read(&self, cx: &Cx<'_>, config: &Value) -> Result<Value>;
}

pub fn all() -> Vec<Box<dyn DataSource>> {
    vec![Box::new(ClientConfig), Box::new(ResourceGroupData)]
}

/// `azurerm_client_config`: the subscription, tenant and client the provider runs as.
/// `object_id` is the principal's object id when the token says (its `oid` claim).
pub struct ClientConfig;

#[async_trait]
impl DataSource for ClientConfig {
    fn name(&self) -> &'static str {
        "azurerm_client_config"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("subscription_id", Attribute::computed(Type::String))
            .attr("tenant_id", Attribute::computed(Type::String))
            .attr("client_id", Attribute::computed(Type::String))
    }

    async fn read(&self, cx: &Cx<'_>, _config: &Value) -> Result<Value> {
        let s = cx.settings;
        let path = format!("/subscriptions/{}", s.subscription_id);
        let sub = s
            .arm
            .get(
                &path,
                "2022-12-01",
                "azurerm_client_config GET subscription",
            )
            .await?
            .ok_or_else(|| {
                ProviderError::not_found(format!(
                    "subscription {} not found (or not visible to these credentials)",
                    s.subscription_id
                ))
            })?;
        let tenant = s
            .tenant_id
            .clone()
            .or_else(|| sub["tenantId"].as_str().map(str::to_owned));
        let mut o = Obj::new();
        o.set(
            "id",
            format!(
                "clientConfigs/subscriptionId={};tenantId={}",
                s.subscription_id,
                tenant.as_deref().unwrap_or_default()
            ),
        )
        .set("subscription_id", s.subscription_id.as_str())
        .set(
            "tenant_id",
            gantry_provider::attrs::opt_str(tenant.as_deref()),
        )
        .set(
            "client_id",
            gantry_provider::attrs::opt_str(s.client_id.as_deref()),
        );
        Ok(o.into_value())
    }
}

/// `azurerm_resource_group` (data): an existing group, by name.
pub struct ResourceGroupData;

#[async_trait]
impl DataSource for ResourceGroupData {
    fn name(&self) -> &'static str {
        "azurerm_resource_group"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("name", Attribute::required(Type::String))
            .attr("id", Attribute::computed(Type::String))
            .attr("location", Attribute::computed(Type::String))
            .attr("managed_by", Attribute::computed(Type::String))
            .attr("tags", Attribute::computed(Type::map(Type::String)))
    }

    async fn read(&self, cx: &Cx<'_>, config: &Value) -> Result<Value> {
        let name = Attrs(config).req_str("name")?;
        let id = crate::arm::ids::resource_group(cx.subscription(), name);
        let group = cx
            .settings
            .arm
            .get(&id, "2021-04-01", "azurerm_resource_group GET")
            .await?
            .ok_or_else(|| {
                ProviderError::not_found(format!(
                    "resource group {name:?} not found in subscription {}",
                    cx.subscription()
                ))
            })?;
        let mut o = Obj::from(config);
        o.set("id", group["id"].as_str().unwrap_or(&id))
            .set("location", group["location"].as_str().unwrap_or_default())
            .set(
                "managed_by",
                gantry_provider::attrs::opt_str(group["managedBy"].as_str()),
            )
            .set_str_map("tags", &crate::tags::from_json(group.get("tags")));
        Ok(o.into_value())
    }
}

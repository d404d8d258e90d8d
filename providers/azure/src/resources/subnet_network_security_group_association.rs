//! `azurerm_subnet_network_security_group_association`: a security group set on a subnet
//! (the subnet's `networkSecurityGroup`). It is a change to the subnet, not an object of
//! its own: create and delete read the subnet and PUT it back with or without the group,
//! and `azurerm_subnet` keeps the group when it updates. Its id is the subnet's.

use super::{ArmType, Cx, Marks};
use crate::arm::lro::{self, Wait};
use azure_core::http::Method;
use gantry_provider::attrs::{Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, ProviderError, Schema, Timeouts, Type, Value};
use serde_json::{json, Value as Json};
use std::time::Duration;

pub struct SubnetNsgAssociation;

#[async_trait]
impl ArmType for SubnetNsgAssociation {
    fn name(&self) -> &'static str {
        "azurerm_subnet_network_security_group_association"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("subnet_id", Attribute::required(Type::String).force_new())
            .attr(
                "network_security_group_id",
                Attribute::required(Type::String).force_new(),
            )
            .with_timeouts(Timeouts::all(Duration::from_secs(30 * 60)))
    }

    fn api_version(&self) -> &'static str {
        super::virtual_network::API
    }

    fn marks(&self) -> Marks {
        Marks::None
    }

    fn id(&self, _cx: &Cx<'_>, a: &Attrs<'_>) -> Result<String> {
        Ok(a.req_str("subnet_id")?.to_owned())
    }

    fn body(&self, _cx: &Cx<'_>, _a: &Attrs<'_>) -> Result<Json> {
        Ok(Json::Null)
    }

    fn state(&self, _cx: &Cx<'_>, json: &Json, base: &Value) -> Result<Value> {
        let mut s = Obj::from(base);
        s.set_opt("subnet_id", json["id"].as_str()).set(
            "network_security_group_id",
            gantry_provider::attrs::opt_str(
                json.pointer("/properties/networkSecurityGroup/id")
                    .and_then(Json::as_str),
            ),
        );
        Ok(s.into_value())
    }

    /// The subnet carries exactly the planned group.
    fn provably_this(&self, json: &Json, planned: &Value) -> bool {
        let want = Attrs(planned).str("network_security_group_id");
        let got = json
            .pointer("/properties/networkSecurityGroup/id")
            .and_then(Json::as_str);
        matches!((want, got), (Some(w), Some(g)) if w.eq_ignore_ascii_case(g))
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let nsg = a.req_str("network_security_group_id")?;
        let subnet = self
            .set_group(cx, a.req_str("subnet_id")?, Some(nsg))
            .await?;
        self.finish_state(cx, &subnet, planned)
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        let id = Attrs(state).req_str("subnet_id")?;
        let got = cx
            .settings
            .arm
            .get(id, self.api_version(), &super::what(self, "GET", id))
            .await?;
        Ok(match got {
            Some(subnet)
                if subnet
                    .pointer("/properties/networkSecurityGroup/id")
                    .is_some() =>
            {
                Some(self.finish_state(cx, &subnet, state)?)
            }
            _ => None,
        })
    }

    async fn update(&self, cx: &Cx<'_>, _prior: &Value, planned: &Value) -> Result<Value> {
        self.create(cx, planned).await
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let id = Attrs(state).req_str("subnet_id")?;
        match self.set_group(cx, id, None).await {
            Err(e) if e.class == gantry_provider::ErrorClass::NotFound => Ok(()),
            other => other.map(drop),
        }
    }
}

impl SubnetNsgAssociation {
    /// PUTs the subnet as it is with `nsg` as its group (none: without one).
    async fn set_group(&self, cx: &Cx<'_>, subnet_id: &str, nsg: Option<&str>) -> Result<Json> {
        let arm = &cx.settings.arm;
        let api = self.api_version();
        let label = super::what(self, "PUT", subnet_id);
        let mut subnet = arm.get(subnet_id, api, &label).await?.ok_or_else(|| {
            ProviderError::not_found(format!("{label}: subnet {subnet_id} not found"))
        })?;
        match nsg {
            Some(nsg) => subnet["properties"]["networkSecurityGroup"] = json!({"id": nsg}),
            None => {
                if let Some(p) = subnet["properties"].as_object_mut() {
                    p.remove("networkSecurityGroup");
                }
            }
        }
        let body = json!({"properties": subnet["properties"].clone()});
        let wait = Wait::new(
            &label,
            cx.op.timeout_or(self.default_timeout()),
            &cx.op.cancel,
        );
        let first = arm
            .send(
                Method::Put,
                arm.url(subnet_id, Some(api))?,
                Some(&body),
                &label,
            )
            .await?;
        lro::finish_write(arm, subnet_id, api, first, &wait).await
    }
}

//! `aws_internet_gateway`: a VPC's way to the internet. `vpc_id` changes in place: the
//! gateway is detached from the old VPC and attached to the new one.

use super::{accepted, after_accept, ec2_ours, Cx, ResourceType};
use crate::attrs::{Attrs, Obj};
use crate::errors::{none_if_not_found, ok_if_not_found, sdk_error};
use crate::tags::{self, with_tags};
use crate::wait::read_back;
use aws_sdk_ec2::types::ResourceType as Ec2Type;
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, ProviderError, Schema, Type, Value};

pub struct InternetGateway;

#[async_trait]
impl ResourceType for InternetGateway {
    fn name(&self) -> &'static str {
        "aws_internet_gateway"
    }

    fn schema(&self) -> Schema {
        with_tags(
            Schema::default()
                .attr("id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr("owner_id", Attribute::computed(Type::String))
                .attr(
                    "vpc_id",
                    Attribute::optional(Type::String).describe("The VPC to attach the gateway to."),
                ),
        )
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let ec2 = &cx.clients().ec2;
        // No ClientToken on CreateInternetGateway: a killed run's gateway is found again by
        // its identity tags (find_created).
        let out = ec2
            .create_internet_gateway()
            .tag_specifications(tags::ec2_spec(Ec2Type::InternetGateway, &cx.tags(planned)))
            .send()
            .await
            .map_err(|e| sdk_error("CreateInternetGateway", e))?;
        let id = out
            .internet_gateway()
            .and_then(|g| g.internet_gateway_id())
            .ok_or_else(|| ProviderError::fatal("CreateInternetGateway returned no id"))?
            .to_owned();
        let known = accepted(planned, &id);
        after_accept(known.clone(), async {
            if let Some(vpc) = Attrs(planned).str("vpc_id") {
                attach(cx, &id, vpc).await?;
            }
            let noun = format!("internet gateway {id}");
            read_back(cx.op, &noun, || read_into(cx, known.clone())).await
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        read_into(cx, state.clone()).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let id = Attrs(prior).id()?.to_owned();
        let (old_vpc, new_vpc) = (Attrs(prior).str("vpc_id"), Attrs(planned).str("vpc_id"));
        if old_vpc != new_vpc {
            if let Some(old) = old_vpc {
                detach(cx, &id, old).await?;
            }
            if let Some(new) = new_vpc {
                attach(cx, &id, new).await?;
            }
        }
        let old = Attrs(prior).str_map("tags_all");
        let new = tags::merged(&cx.settings.default_tags, planned);
        tags::ec2_update(&cx.clients().ec2, &id, &old, &new).await?;
        let mut state = Obj::from(planned);
        state.set("id", id.as_str());
        read_into(cx, state.into_value())
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("internet gateway {id} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let id = Attrs(state).id()?;
        // Detach from whatever VPC it is attached to now (not only the one in state), so
        // that an out-of-band attachment does not block the delete forever.
        let Some(current) = read_into(cx, state.clone()).await? else {
            return Ok(());
        };
        if let Some(vpc) = Attrs(&current).str("vpc_id") {
            detach(cx, id, vpc).await?;
        }
        ok_if_not_found(
            cx.clients()
                .ec2
                .delete_internet_gateway()
                .internet_gateway_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DeleteInternetGateway", e)),
        )
    }

    /// The gateway tagged with this create's stack, address and token.
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        _token: &str,
        _planned: &Value,
    ) -> Result<Option<Value>> {
        let Some(filters) = tags::ec2_identity_filters(cx.op) else {
            return Ok(None);
        };
        let pages = cx
            .clients()
            .ec2
            .describe_internet_gateways()
            .set_filters(Some(filters))
            .into_paginator()
            .send();
        let found = ec2_ours(
            cx,
            "internet gateway",
            "DescribeInternetGateways",
            pages,
            |page| {
                page.internet_gateways()
                    .iter()
                    .map(|o| (o.tags(), o.internet_gateway_id()))
                    .collect()
            },
        )
        .await?;
        match found {
            Some(id) => read_into(cx, Value::map([("id", Value::string(id))])).await,
            None => Ok(None),
        }
    }
}

async fn attach(cx: &Cx<'_>, id: &str, vpc: &str) -> Result<()> {
    cx.clients()
        .ec2
        .attach_internet_gateway()
        .internet_gateway_id(id)
        .vpc_id(vpc)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("AttachInternetGateway", e))
}

/// Detaches; "not attached" and "gone" count as done. DependencyViolation (public addresses
/// still mapped in the VPC) is a Conflict the engine retries.
async fn detach(cx: &Cx<'_>, id: &str, vpc: &str) -> Result<()> {
    let result = cx
        .clients()
        .ec2
        .detach_internet_gateway()
        .internet_gateway_id(id)
        .vpc_id(vpc)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("DetachInternetGateway", e));
    match result {
        Err(e) if e.code.as_deref() == Some("Gateway.NotAttached") => Ok(()),
        other => ok_if_not_found(other),
    }
}

/// The gateway's state from the API, on top of `base` (which carries at least `id`).
async fn read_into(cx: &Cx<'_>, base: Value) -> Result<Option<Value>> {
    let id = Attrs(&base).id()?.to_owned();
    let out = none_if_not_found(
        cx.clients()
            .ec2
            .describe_internet_gateways()
            .internet_gateway_ids(&id)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeInternetGateways", e)),
    )?;
    let Some(gateway) = out.as_ref().and_then(|o| o.internet_gateways().first()) else {
        return Ok(None);
    };
    let owner = gateway.owner_id().unwrap_or_default();
    let vpc = gateway
        .attachments()
        .iter()
        .find_map(|a| a.vpc_id())
        .map_or(Value::Null, Value::string);
    let mut state = Obj::from(&base);
    state
        .set("id", id.as_str())
        .set(
            "arn",
            format!("arn:aws:ec2:{}:{owner}:internet-gateway/{id}", cx.region()),
        )
        .set("owner_id", owner)
        .set("vpc_id", vpc);
    tags::record(
        &mut state,
        &cx.settings.default_tags,
        &tags::from_ec2(gateway.tags()),
    );
    Ok(Some(state.into_value()))
}

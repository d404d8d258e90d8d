//! `aws_subnet`: a range of a VPC's addresses in one Availability Zone.

use super::{accepted, after_accept, ec2_ours, Cx, ResourceType};
use crate::attrs::{Attrs, Obj};
use crate::errors::{none_if_not_found, ok_if_not_found, sdk_error};
use crate::tags::{self, with_tags};
use crate::wait::{read_back, Wait};
use aws_sdk_ec2::types::{AttributeBooleanValue, ResourceType as Ec2Type, SubnetState};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, ProviderError, Schema, Timeouts, Type, Value};
use std::time::Duration;

pub struct Subnet;

/// Terraform's defaults: a new subnet is `available` within seconds; a delete waits out
/// the network interfaces that still use the subnet (DependencyViolation, retried).
const CREATE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
const DELETE_TIMEOUT: Duration = Duration::from_secs(20 * 60);

#[async_trait]
impl ResourceType for Subnet {
    fn name(&self) -> &'static str {
        "aws_subnet"
    }

    fn schema(&self) -> Schema {
        with_tags(
            Schema::default()
                .attr("id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr("owner_id", Attribute::computed(Type::String))
                .attr("vpc_id", Attribute::required(Type::String).force_new())
                .attr("cidr_block", Attribute::required(Type::String).force_new())
                .attr(
                    "availability_zone",
                    Attribute::optional_computed(Type::String).force_new(),
                )
                .attr(
                    "availability_zone_id",
                    Attribute::optional_computed(Type::String).force_new(),
                )
                .attr(
                    "map_public_ip_on_launch",
                    Attribute::optional(Type::Bool).with_default(false),
                ),
        )
        .with_timeouts(Timeouts {
            create: Some(CREATE_TIMEOUT),
            update: None,
            delete: Some(DELETE_TIMEOUT),
        })
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        if a.str("availability_zone").is_some() && a.str("availability_zone_id").is_some() {
            return vec!["set `availability_zone` or `availability_zone_id`, not both".into()];
        }
        Vec::new()
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let ec2 = &cx.clients().ec2;
        // CreateSubnet takes no ClientToken; a run killed after this call finds the subnet
        // again through its identity tags (find_created).
        let out = ec2
            .create_subnet()
            .vpc_id(a.req_str("vpc_id")?)
            .cidr_block(a.req_str("cidr_block")?)
            .set_availability_zone(a.str("availability_zone").map(str::to_owned))
            .set_availability_zone_id(a.str("availability_zone_id").map(str::to_owned))
            .tag_specifications(tags::ec2_spec(Ec2Type::Subnet, &cx.tags(planned)))
            .send()
            .await
            .map_err(|e| sdk_error("CreateSubnet", e))?;
        let id = out
            .subnet()
            .and_then(|s| s.subnet_id())
            .ok_or_else(|| ProviderError::fatal("CreateSubnet returned no subnet id"))?
            .to_owned();
        let known = accepted(planned, &id);
        after_accept(known.clone(), async {
            wait_available(cx, &id).await?;
            if a.bool("map_public_ip_on_launch") == Some(true) {
                set_map_public_ip(cx, &id, true).await?;
            }
            read_back(cx.op, &format!("subnet {id}"), || {
                read_into(cx, known.clone())
            })
            .await
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        read_into(cx, state.clone()).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let id = Attrs(prior).id()?.to_owned();
        let public = Attrs(planned)
            .bool("map_public_ip_on_launch")
            .unwrap_or(false);
        if Attrs(prior)
            .bool("map_public_ip_on_launch")
            .unwrap_or(false)
            != public
        {
            set_map_public_ip(cx, &id, public).await?;
        }
        let old = Attrs(prior).str_map("tags_all");
        let new = tags::merged(&cx.settings.default_tags, planned);
        tags::ec2_update(&cx.clients().ec2, &id, &old, &new).await?;
        let mut state = Obj::from(planned);
        state.set("id", id.as_str());
        read_into(cx, state.into_value())
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("subnet {id} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        // DependencyViolation (ENIs still in the subnet) is a Conflict: the engine retries.
        ok_if_not_found(
            cx.clients()
                .ec2
                .delete_subnet()
                .subnet_id(Attrs(state).id()?)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DeleteSubnet", e)),
        )
    }

    /// The subnet tagged with this create's stack, address and token.
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
            .describe_subnets()
            .set_filters(Some(filters))
            .into_paginator()
            .send();
        let found = ec2_ours(cx, "subnet", "DescribeSubnets", pages, |page| {
            page.subnets()
                .iter()
                .map(|o| (o.tags(), o.subnet_id()))
                .collect()
        })
        .await?;
        match found {
            Some(id) => read_into(cx, Value::map([("id", Value::string(id))])).await,
            None => Ok(None),
        }
    }
}

async fn set_map_public_ip(cx: &Cx<'_>, id: &str, on: bool) -> Result<()> {
    cx.clients()
        .ec2
        .modify_subnet_attribute()
        .subnet_id(id)
        .map_public_ip_on_launch(AttributeBooleanValue::builder().value(on).build())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("ModifySubnetAttribute", e))
}

/// Waits until the subnet is `available` (a new subnet may briefly be `pending`, or not
/// yet visible to Describe calls).
async fn wait_available(cx: &Cx<'_>, id: &str) -> Result<()> {
    let ec2 = cx.clients().ec2.clone();
    Wait::for_op(cx.op, CREATE_TIMEOUT)
        .until(cx.op, &format!("subnet {id} to become available"), || {
            let ec2 = ec2.clone();
            let id = id.to_owned();
            async move {
                let out = none_if_not_found(
                    ec2.describe_subnets()
                        .subnet_ids(&id)
                        .send()
                        .await
                        .map_err(|e| sdk_error("DescribeSubnets", e)),
                )?;
                let state = out
                    .as_ref()
                    .and_then(|o| o.subnets().first())
                    .and_then(|s| s.state());
                Ok((state == Some(&SubnetState::Available)).then_some(()))
            }
        })
        .await
}

/// The subnet's state from the API, on top of `base` (which carries at least `id`).
async fn read_into(cx: &Cx<'_>, base: Value) -> Result<Option<Value>> {
    let id = Attrs(&base).id()?.to_owned();
    let out = none_if_not_found(
        cx.clients()
            .ec2
            .describe_subnets()
            .subnet_ids(&id)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeSubnets", e)),
    )?;
    let Some(subnet) = out.as_ref().and_then(|o| o.subnets().first()) else {
        return Ok(None);
    };
    let owner = subnet.owner_id().unwrap_or_default();
    let arn = subnet.subnet_arn().map_or_else(
        || format!("arn:aws:ec2:{}:{owner}:subnet/{id}", cx.region()),
        str::to_owned,
    );
    let mut state = Obj::from(&base);
    state
        .set("id", id.as_str())
        .set("arn", arn)
        .set("owner_id", owner)
        .set("vpc_id", subnet.vpc_id().unwrap_or_default())
        .set("cidr_block", subnet.cidr_block().unwrap_or_default())
        .set(
            "availability_zone",
            subnet.availability_zone().unwrap_or_default(),
        )
        .set(
            "availability_zone_id",
            subnet.availability_zone_id().unwrap_or_default(),
        )
        .set(
            "map_public_ip_on_launch",
            subnet.map_public_ip_on_launch().unwrap_or(false),
        );
    tags::record(
        &mut state,
        &cx.settings.default_tags,
        &tags::from_ec2(subnet.tags()),
    );
    Ok(Some(state.into_value()))
}

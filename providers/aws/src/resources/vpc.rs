//! `aws_vpc`: a virtual network.

use super::{accepted, after_accept, ec2_ours, Cx, ResourceType};
use crate::attrs::{Attrs, Obj};
use crate::errors::{ok_if_not_found, sdk_error};
use crate::tags::{self, with_tags};
use crate::wait::read_back;
use aws_sdk_ec2::types::{AttributeBooleanValue, Filter, ResourceType as Ec2Type};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, ProviderError, Schema, Type, Value};

pub struct Vpc;

#[async_trait]
impl ResourceType for Vpc {
    fn name(&self) -> &'static str {
        "aws_vpc"
    }

    fn schema(&self) -> Schema {
        with_tags(
            Schema::default()
                .attr("id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr("cidr_block", Attribute::required(Type::String).force_new())
                .attr(
                    "instance_tenancy",
                    Attribute::optional(Type::String)
                        .with_default("default")
                        .force_new(),
                )
                .attr(
                    "enable_dns_support",
                    Attribute::optional(Type::Bool).with_default(true),
                )
                .attr(
                    "enable_dns_hostnames",
                    Attribute::optional(Type::Bool).with_default(false),
                )
                .attr("main_route_table_id", Attribute::computed(Type::String))
                .attr("default_route_table_id", Attribute::computed(Type::String))
                .attr(
                    "default_security_group_id",
                    Attribute::computed(Type::String),
                )
                .attr("default_network_acl_id", Attribute::computed(Type::String))
                .attr("dhcp_options_id", Attribute::computed(Type::String))
                .attr("owner_id", Attribute::computed(Type::String)),
        )
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        match Attrs(config).str("instance_tenancy") {
            Some("default" | "dedicated") | None => Vec::new(),
            Some(other) => vec![format!(
                "`instance_tenancy` must be \"default\" or \"dedicated\", not {other:?}"
            )],
        }
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let ec2 = &cx.clients().ec2;
        // CreateVpc takes no ClientToken: the identity tags it carries from this call on let
        // find_created tell this create's VPC from any other.
        let out = ec2
            .create_vpc()
            .cidr_block(a.req_str("cidr_block")?)
            .instance_tenancy(a.str("instance_tenancy").unwrap_or("default").into())
            .tag_specifications(tags::ec2_spec(Ec2Type::Vpc, &cx.tags(planned)))
            .send()
            .await
            .map_err(|e| sdk_error("CreateVpc", e))?;
        let id = out
            .vpc()
            .and_then(|v| v.vpc_id())
            .ok_or_else(|| ProviderError::fatal("CreateVpc returned no VPC id"))?
            .to_owned();
        let known = accepted(planned, &id);
        after_accept(known.clone(), async {
            set_dns(cx, &id, &Value::Null, planned).await?;
            read_back(cx.op, &format!("VPC {id}"), || read_into(cx, known.clone())).await
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        read_into(cx, state.clone()).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let id = Attrs(prior).id()?.to_owned();
        set_dns(cx, &id, prior, planned).await?;
        let old = Attrs(prior).str_map("tags_all");
        tags::ec2_update(
            &cx.clients().ec2,
            &id,
            &old,
            &tags::merged(&cx.settings.default_tags, planned),
        )
        .await?;
        let mut state = Obj::from(planned);
        state.set("id", id.as_str());
        read_into(cx, state.into_value())
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("VPC {id} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let id = Attrs(state).id()?;
        ok_if_not_found(
            cx.clients()
                .ec2
                .delete_vpc()
                .vpc_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DeleteVpc", e)),
        )
    }

    /// The VPC tagged with this create's stack, address and token.
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
            .describe_vpcs()
            .set_filters(Some(filters))
            .into_paginator()
            .send();
        let found = ec2_ours(cx, "VPC", "DescribeVpcs", pages, |page| {
            page.vpcs().iter().map(|o| (o.tags(), o.vpc_id())).collect()
        })
        .await?;
        match found {
            Some(id) => read_into(cx, Value::map([("id", Value::string(id))])).await,
            None => Ok(None),
        }
    }
}

/// Sets the DNS attributes that differ from `prior` (one attribute per call, as the API
/// requires).
async fn set_dns(cx: &Cx<'_>, id: &str, prior: &Value, planned: &Value) -> Result<()> {
    let ec2 = &cx.clients().ec2;
    let (p, n) = (Attrs(prior), Attrs(planned));
    let support = n.bool("enable_dns_support").unwrap_or(true);
    if p.bool("enable_dns_support").unwrap_or(true) != support {
        ec2.modify_vpc_attribute()
            .vpc_id(id)
            .enable_dns_support(AttributeBooleanValue::builder().value(support).build())
            .send()
            .await
            .map_err(|e| sdk_error("ModifyVpcAttribute", e))?;
    }
    let hostnames = n.bool("enable_dns_hostnames").unwrap_or(false);
    if p.bool("enable_dns_hostnames").unwrap_or(false) != hostnames {
        ec2.modify_vpc_attribute()
            .vpc_id(id)
            .enable_dns_hostnames(AttributeBooleanValue::builder().value(hostnames).build())
            .send()
            .await
            .map_err(|e| sdk_error("ModifyVpcAttribute", e))?;
    }
    Ok(())
}

/// The VPC's state from the API, on top of `base` (which carries at least `id`).
async fn read_into(cx: &Cx<'_>, base: Value) -> Result<Option<Value>> {
    let id = Attrs(&base).id()?.to_owned();
    let ec2 = &cx.clients().ec2;
    let out = ec2.describe_vpcs().vpc_ids(&id).send().await;
    let out = match out.map_err(|e| sdk_error("DescribeVpcs", e)) {
        Ok(out) => out,
        Err(e) if crate::errors::is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(vpc) = out.vpcs().first() else {
        return Ok(None);
    };
    let mut state = Obj::from(&base);
    let owner = vpc.owner_id().unwrap_or_default();
    state
        .set("id", id.as_str())
        .set(
            "arn",
            format!("arn:aws:ec2:{}:{owner}:vpc/{id}", cx.region()),
        )
        .set_opt("cidr_block", vpc.cidr_block())
        .set_opt(
            "instance_tenancy",
            vpc.instance_tenancy().map(|t| t.as_str().to_owned()),
        )
        .set_opt("dhcp_options_id", vpc.dhcp_options_id())
        .set("owner_id", owner);
    for (attr, name) in [
        (
            aws_sdk_ec2::types::VpcAttributeName::EnableDnsSupport,
            "enable_dns_support",
        ),
        (
            aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames,
            "enable_dns_hostnames",
        ),
    ] {
        let out = ec2
            .describe_vpc_attribute()
            .vpc_id(&id)
            .attribute(attr)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeVpcAttribute", e))?;
        let value = out
            .enable_dns_support()
            .or(out.enable_dns_hostnames())
            .and_then(|v| v.value());
        state.set_opt(name, value);
    }
    let vpc_filter = Filter::builder().name("vpc-id").values(&id).build();
    let tables = ec2
        .describe_route_tables()
        .filters(vpc_filter.clone())
        .filters(
            Filter::builder()
                .name("association.main")
                .values("true")
                .build(),
        )
        .send()
        .await
        .map_err(|e| sdk_error("DescribeRouteTables", e))?;
    let main = tables
        .route_tables()
        .first()
        .and_then(|t| t.route_table_id());
    state
        .set_opt("main_route_table_id", main)
        .set_opt("default_route_table_id", main);
    let groups = ec2
        .describe_security_groups()
        .filters(vpc_filter.clone())
        .filters(
            Filter::builder()
                .name("group-name")
                .values("default")
                .build(),
        )
        .send()
        .await
        .map_err(|e| sdk_error("DescribeSecurityGroups", e))?;
    state.set_opt(
        "default_security_group_id",
        groups.security_groups().first().and_then(|g| g.group_id()),
    );
    let acls = ec2
        .describe_network_acls()
        .filters(vpc_filter)
        .filters(Filter::builder().name("default").values("true").build())
        .send()
        .await
        .map_err(|e| sdk_error("DescribeNetworkAcls", e))?;
    state.set_opt(
        "default_network_acl_id",
        acls.network_acls().first().and_then(|a| a.network_acl_id()),
    );
    tags::record(
        &mut state,
        &cx.settings.default_tags,
        &tags::from_ec2(vpc.tags()),
    );
    Ok(Some(state.into_value()))
}

//! `aws_nat_gateway`: outbound internet (public) or routed VPC (private) access for the
//! instances of private subnets. Only tags change in place. Create waits until the gateway
//! is `available`, delete until it is `deleted` (only then is its Elastic IP free to
//! release).

use super::{accepted, after_accept, ec2_ours, Cx, ResourceType};
use crate::attrs::{opt_str, Attrs, Obj};
use crate::errors::{none_if_not_found, ok_if_not_found, sdk_error, service_error};
use crate::tags::{self, with_tags};
use crate::wait::{read_back, Wait};
use aws_sdk_ec2::types::{
    ConnectivityType, NatGateway as ApiGateway, NatGatewayState, ResourceType as Ec2Type,
};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, ProviderError, Schema, Timeouts, Type, Value};
use std::time::Duration;

pub struct NatGateway;

/// Terraform's defaults: a gateway takes a minute or two to come up, longer to go.
const CREATE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
const DELETE_TIMEOUT: Duration = Duration::from_secs(30 * 60);

const CONNECTIVITY_TYPES: [&str; 2] = ["public", "private"];

#[async_trait]
impl ResourceType for NatGateway {
    fn name(&self) -> &'static str {
        "aws_nat_gateway"
    }

    fn schema(&self) -> Schema {
        with_tags(
            Schema::default()
                .attr("id", Attribute::computed(Type::String))
                .attr(
                    "subnet_id",
                    Attribute::required(Type::String)
                        .force_new()
                        .describe("The subnet to put the gateway in."),
                )
                .attr(
                    "allocation_id",
                    Attribute::optional(Type::String)
                        .force_new()
                        .describe("The Elastic IP of a public gateway."),
                )
                .attr(
                    "connectivity_type",
                    Attribute::optional(Type::String)
                        .with_default("public")
                        .force_new()
                        .describe("`public` or `private`."),
                )
                .attr(
                    "private_ip",
                    Attribute::optional_computed(Type::String).force_new(),
                )
                .attr("association_id", Attribute::computed(Type::String))
                .attr("network_interface_id", Attribute::computed(Type::String))
                .attr("public_ip", Attribute::computed(Type::String)),
        )
        .with_timeouts(Timeouts {
            create: Some(CREATE_TIMEOUT),
            // Accepted as in Terraform; only tags change in place, which does not wait.
            update: Some(CREATE_TIMEOUT),
            delete: Some(DELETE_TIMEOUT),
        })
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let connectivity = a.str("connectivity_type");
        if let Some(c) = connectivity.filter(|c| !CONNECTIVITY_TYPES.contains(c)) {
            return vec![format!(
                "`connectivity_type` must be \"public\" or \"private\", not {c:?}"
            )];
        }
        // An unknown allocation id (an Elastic IP not yet created) counts as set.
        let has_eip = config
            .as_map()
            .and_then(|m| m.get("allocation_id"))
            .is_some_and(|v| !v.is_null());
        if connectivity == Some("private") && has_eip {
            return vec!["a private NAT gateway takes no `allocation_id`".into()];
        }
        Vec::new()
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let connectivity = a.str("connectivity_type").unwrap_or("public");
        let out = cx
            .clients()
            .ec2
            .create_nat_gateway()
            .subnet_id(a.req_str("subnet_id")?)
            .set_allocation_id(a.str("allocation_id").map(str::to_owned))
            .connectivity_type(ConnectivityType::from(connectivity))
            .set_private_ip_address(a.str("private_ip").map(str::to_owned))
            .set_client_token(cx.token().map(str::to_owned))
            .tag_specifications(tags::ec2_spec(Ec2Type::Natgateway, &cx.tags(planned)))
            .send()
            .await
            .map_err(|e| sdk_error("CreateNatGateway", e))?;
        let id = out
            .nat_gateway()
            .and_then(|g| g.nat_gateway_id())
            .ok_or_else(|| ProviderError::fatal("CreateNatGateway returned no id"))?
            .to_owned();
        let known = accepted(planned, &id);
        after_accept(known.clone(), async {
            wait_available(cx, &id).await?;
            let noun = format!("NAT gateway {id}");
            read_back(cx.op, &noun, || read_into(cx, known.clone())).await
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        read_into(cx, state.clone()).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let id = Attrs(prior).id()?.to_owned();
        let old = Attrs(prior).str_map("tags_all");
        let new = tags::merged(&cx.settings.default_tags, planned);
        tags::ec2_update(&cx.clients().ec2, &id, &old, &new).await?;
        let mut state = Obj::from(planned);
        state.set("id", id.as_str());
        read_into(cx, state.into_value())
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("NAT gateway {id} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let id = Attrs(state).id()?;
        let ec2 = cx.clients().ec2.clone();
        if describe(&ec2, id).await?.is_none_or(|g| is_gone(&g)) {
            return Ok(());
        }
        ok_if_not_found(
            ec2.delete_nat_gateway()
                .nat_gateway_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DeleteNatGateway", e)),
        )?;
        // Deleting takes a few minutes on AWS.
        Wait::for_op(cx.op, DELETE_TIMEOUT)
            .until(cx.op, &format!("NAT gateway {id} to be deleted"), || {
                let ec2 = ec2.clone();
                let id = id.to_owned();
                async move {
                    let gateway = describe(&ec2, &id).await?;
                    Ok(gateway
                        .is_none_or(|g| g.state() == Some(&NatGatewayState::Deleted))
                        .then_some(()))
                }
            })
            .await
    }

    /// The gateway tagged with this create's stack, address and token (a retried
    /// CreateNatGateway with this ClientToken returns it too, but DescribeNatGateways cannot
    /// be asked by token). One already deleted or failed is none.
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
            .describe_nat_gateways()
            .set_filter(Some(filters))
            .into_paginator()
            .send();
        let found = ec2_ours(cx, "NAT gateway", "DescribeNatGateways", pages, |page| {
            page.nat_gateways()
                .iter()
                .filter(|g| !is_gone(g))
                .map(|g| (g.tags(), g.nat_gateway_id()))
                .collect()
        })
        .await?;
        match found {
            Some(id) => read_into(cx, Value::map([("id", Value::string(id))])).await,
            None => Ok(None),
        }
    }
}

/// A gateway that no longer routes anything: deleted, being deleted, or failed (AWS removes
/// failed gateways on its own after a while). Such a gateway reads as gone, so the plan
/// creates a new one.
fn is_gone(gateway: &ApiGateway) -> bool {
    matches!(
        gateway.state(),
        Some(NatGatewayState::Deleted | NatGatewayState::Deleting | NatGatewayState::Failed)
    )
}

/// The gateway with this id, `None` when there is none (EC2 lists deleted gateways for
/// about an hour; those are returned, with their state).
async fn describe(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<Option<ApiGateway>> {
    let out = none_if_not_found(
        ec2.describe_nat_gateways()
            .nat_gateway_ids(id)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeNatGateways", e)),
    )?;
    Ok(out.and_then(|o| o.nat_gateways().first().cloned()))
}

/// Waits until the gateway is `available`; a gateway that fails is an error with EC2's
/// failure code and message (`Gateway.NotAttached`: the VPC has no internet gateway).
async fn wait_available(cx: &Cx<'_>, id: &str) -> Result<()> {
    let ec2 = cx.clients().ec2.clone();
    Wait::for_op(cx.op, CREATE_TIMEOUT)
        .until(
            cx.op,
            &format!("NAT gateway {id} to become available"),
            || {
                let ec2 = ec2.clone();
                let id = id.to_owned();
                async move {
                    let Some(gateway) = describe(&ec2, &id).await? else {
                        // Not visible yet (eventual consistency right after create).
                        return Ok(None);
                    };
                    match gateway.state() {
                        Some(NatGatewayState::Available) => Ok(Some(())),
                        Some(NatGatewayState::Failed) => Err(failure(&id, &gateway)),
                        Some(NatGatewayState::Deleting | NatGatewayState::Deleted) => {
                            Err(ProviderError::fatal(format!(
                                "NAT gateway {id} was deleted while it was being created"
                            )))
                        }
                        _ => Ok(None),
                    }
                }
            },
        )
        .await
}

fn failure(id: &str, gateway: &ApiGateway) -> ProviderError {
    let code = gateway.failure_code().unwrap_or_default();
    let message = gateway
        .failure_message()
        .unwrap_or("the gateway failed without a message");
    service_error(
        &format!("CreateNatGateway ({id} failed)"),
        code,
        message,
        None,
    )
}

/// The gateway's state from the API, on top of `base` (which carries at least `id`).
async fn read_into(cx: &Cx<'_>, base: Value) -> Result<Option<Value>> {
    let id = Attrs(&base).id()?.to_owned();
    let Some(gateway) = describe(&cx.clients().ec2, &id).await? else {
        return Ok(None);
    };
    if is_gone(&gateway) {
        return Ok(None);
    }
    // The primary address (the first where EC2 does not say which).
    let addresses = gateway.nat_gateway_addresses();
    let primary = addresses
        .iter()
        .find(|a| a.is_primary() == Some(true))
        .or_else(|| addresses.first());
    let field = |f: fn(&aws_sdk_ec2::types::NatGatewayAddress) -> Option<&str>| {
        opt_str(primary.and_then(f).filter(|s| !s.is_empty()))
    };
    // EC2 always returns the connectivity type; an emulator that does not (moto) leaves
    // what the state says.
    let connectivity = gateway
        .connectivity_type()
        .map(|c| c.as_str().to_owned())
        .or_else(|| Attrs(&base).str("connectivity_type").map(str::to_owned))
        .unwrap_or_else(|| "public".to_owned());
    let mut state = Obj::from(&base);
    state
        .set("id", id.as_str())
        .set("subnet_id", gateway.subnet_id().unwrap_or_default())
        .set("connectivity_type", connectivity)
        .set("allocation_id", field(|a| a.allocation_id()))
        .set("association_id", field(|a| a.association_id()))
        .set("network_interface_id", field(|a| a.network_interface_id()))
        .set("private_ip", field(|a| a.private_ip()))
        .set("public_ip", field(|a| a.public_ip()));
    tags::record(
        &mut state,
        &cx.settings.default_tags,
        &tags::from_ec2(gateway.tags()),
    );
    Ok(Some(state.into_value()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connectivity_type_and_elastic_ip_must_agree() {
        let public = Value::map([
            ("connectivity_type", Value::string("public")),
            ("allocation_id", Value::unknown()),
        ]);
        assert!(NatGateway.validate(&public).is_empty());
        let private = Value::map([("connectivity_type", Value::string("private"))]);
        assert!(NatGateway.validate(&private).is_empty());
        let private_with_ip = Value::map([
            ("connectivity_type", Value::string("private")),
            ("allocation_id", Value::unknown()),
        ]);
        assert_eq!(NatGateway.validate(&private_with_ip).len(), 1);
        let bad = Value::map([("connectivity_type", Value::string("regional"))]);
        assert_eq!(NatGateway.validate(&bad).len(), 1);
    }

    #[test]
    fn deleted_deleting_and_failed_gateways_are_gone() {
        let with = |s: NatGatewayState| ApiGateway::builder().state(s).build();
        assert!(is_gone(&with(NatGatewayState::Deleted)));
        assert!(is_gone(&with(NatGatewayState::Deleting)));
        assert!(is_gone(&with(NatGatewayState::Failed)));
        assert!(!is_gone(&with(NatGatewayState::Available)));
        assert!(!is_gone(&with(NatGatewayState::Pending)));
    }
}

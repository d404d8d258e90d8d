//! `aws_eip`: an Elastic IP address in a VPC. The id is the allocation id (also the import
//! id). Only tags change in place; associating the address with an instance or interface is
//! not this resource's job here (a NAT gateway takes it through its `allocation_id`), so the
//! association attributes are read-only.

use super::{accepted, after_accept, only_one, Cx, ResourceType};
use crate::attrs::{opt_str, Attrs, Obj};
use crate::errors::{none_if_not_found, ok_if_not_found, sdk_error};
use crate::tags::{self, with_tags};
use crate::wait::read_back;
use aws_sdk_ec2::types::{Address, DomainType, ResourceType as Ec2Type};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, ProviderError, Schema, Type, Value};

pub struct Eip;

#[async_trait]
impl ResourceType for Eip {
    fn name(&self) -> &'static str {
        "aws_eip"
    }

    fn schema(&self) -> Schema {
        with_tags(
            Schema::default()
                .attr(
                    "id",
                    Attribute::computed(Type::String).describe("The allocation id."),
                )
                .attr("allocation_id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr(
                    "domain",
                    Attribute::optional(Type::String)
                        .with_default("vpc")
                        .force_new()
                        .describe("`vpc` (EC2-Classic addresses no longer exist)."),
                )
                .attr(
                    "address",
                    Attribute::optional(Type::String)
                        .force_new()
                        .describe("A specific address to allocate from a BYOIP pool."),
                )
                .attr(
                    "public_ipv4_pool",
                    Attribute::optional_computed(Type::String).force_new(),
                )
                .attr(
                    "network_border_group",
                    Attribute::optional_computed(Type::String).force_new(),
                )
                .attr("public_ip", Attribute::computed(Type::String))
                .attr("public_dns", Attribute::computed(Type::String))
                .attr("association_id", Attribute::computed(Type::String))
                .attr("network_interface", Attribute::computed(Type::String))
                .attr("instance", Attribute::computed(Type::String))
                .attr("private_ip", Attribute::computed(Type::String))
                .attr("private_dns", Attribute::computed(Type::String)),
        )
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        match Attrs(config).str("domain") {
            Some(d) if d != "vpc" => vec![format!(
                "`domain` must be \"vpc\", not {d:?} (EC2-Classic addresses no longer exist)"
            )],
            _ => Vec::new(),
        }
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        // AllocateAddress takes no ClientToken: a run killed after this call finds the
        // address again through its identity tags (find_created).
        let out = cx
            .clients()
            .ec2
            .allocate_address()
            .domain(DomainType::Vpc)
            .set_address(a.str("address").map(str::to_owned))
            .set_public_ipv4_pool(a.str("public_ipv4_pool").map(str::to_owned))
            .set_network_border_group(a.str("network_border_group").map(str::to_owned))
            .tag_specifications(tags::ec2_spec(Ec2Type::ElasticIp, &cx.tags(planned)))
            .send()
            .await
            .map_err(|e| sdk_error("AllocateAddress", e))?;
        let id = out
            .allocation_id()
            .ok_or_else(|| ProviderError::fatal("AllocateAddress returned no allocation id"))?
            .to_owned();
        let known = accepted(planned, &id);
        after_accept(
            known.clone(),
            read_back(cx.op, &format!("Elastic IP {id}"), || {
                read_into(cx, known.clone())
            }),
        )
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
            .ok_or_else(|| ProviderError::not_found(format!("Elastic IP {id} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let id = Attrs(state).id()?;
        let ec2 = &cx.clients().ec2;
        // An address still associated cannot be released. An association made out of band
        // (an instance) is undone first, as Terraform does; a NAT gateway's goes with the
        // gateway, and while that is still deleting the release fails with
        // InvalidIPAddress.InUse, a Conflict the engine retries.
        let Some(address) = describe(ec2, id).await? else {
            return Ok(());
        };
        if let Some(association) = address.association_id().filter(|s| !s.is_empty()) {
            ok_if_not_found(
                ec2.disassociate_address()
                    .association_id(association)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| sdk_error("DisassociateAddress", e)),
            )?;
        }
        ok_if_not_found(
            ec2.release_address()
                .allocation_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("ReleaseAddress", e)),
        )
    }

    /// The address tagged with this create's stack, address and token.
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        _token: &str,
        _planned: &Value,
    ) -> Result<Option<Value>> {
        let Some(filters) = tags::ec2_identity_filters(cx.op) else {
            return Ok(None);
        };
        // DescribeAddresses is not paginated: every address of the region comes at once.
        let out = cx
            .clients()
            .ec2
            .describe_addresses()
            .set_filters(Some(filters))
            .send()
            .await
            .map_err(|e| sdk_error("DescribeAddresses", e))?;
        let found = out
            .addresses()
            .iter()
            .filter(|a| tags::are_ours(cx.op, &tags::from_ec2(a.tags())))
            .filter_map(|a| a.allocation_id().map(str::to_owned))
            .collect();
        match only_one("Elastic IP", found) {
            Some(id) => read_into(cx, Value::map([("id", Value::string(id))])).await,
            None => Ok(None),
        }
    }
}

/// The address with this allocation id, `None` when there is none.
async fn describe(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<Option<Address>> {
    let out = none_if_not_found(
        ec2.describe_addresses()
            .allocation_ids(id)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeAddresses", e)),
    )?;
    Ok(out.and_then(|o| o.addresses().first().cloned()))
}

/// The DNS names EC2 gives an address, as the Terraform provider derives them: `us-east-1`
/// has its own legacy suffixes (`compute-1`, `ec2.internal`).
fn public_dns(ip: &str, region: &str) -> String {
    let dashed = ip.replace('.', "-");
    if region == "us-east-1" {
        format!("ec2-{dashed}.compute-1.amazonaws.com")
    } else {
        format!("ec2-{dashed}.{region}.compute.amazonaws.com")
    }
}

fn private_dns(ip: &str, region: &str) -> String {
    let dashed = ip.replace('.', "-");
    if region == "us-east-1" {
        format!("ip-{dashed}.ec2.internal")
    } else {
        format!("ip-{dashed}.{region}.compute.internal")
    }
}

/// An optional string from EC2, where "" (as some responses put it) also means none.
fn non_empty(s: Option<&str>) -> Option<&str> {
    s.filter(|s| !s.is_empty())
}

/// The address's state from the API, on top of `base` (which carries at least `id`).
async fn read_into(cx: &Cx<'_>, base: Value) -> Result<Option<Value>> {
    let id = Attrs(&base).id()?.to_owned();
    let Some(address) = describe(&cx.clients().ec2, &id).await? else {
        return Ok(None);
    };
    let region = cx.region();
    let public_ip = non_empty(address.public_ip());
    let private_ip = non_empty(address.private_ip_address());
    // `address` is an argument EC2 does not echo back: the prior state's stands (null after
    // an import, as for an address EC2 picked).
    let requested = Attrs(&base).get("address").cloned().unwrap_or(Value::Null);
    let mut state = Obj::from(&base);
    state
        .set("id", id.as_str())
        .set("address", requested)
        .set("allocation_id", id.as_str())
        .set(
            "arn",
            format!(
                "arn:aws:ec2:{region}:{}:elastic-ip/{id}",
                cx.settings.account_id
            ),
        )
        .set(
            "domain",
            address.domain().map_or("vpc", |d| d.as_str()).to_owned(),
        )
        .set("public_ip", opt_str(public_ip))
        .set(
            "public_dns",
            opt_str(public_ip.map(|ip| public_dns(ip, region)).as_deref()),
        )
        .set(
            "public_ipv4_pool",
            opt_str(non_empty(address.public_ipv4_pool())),
        )
        .set(
            "network_border_group",
            opt_str(non_empty(address.network_border_group())),
        )
        .set(
            "association_id",
            opt_str(non_empty(address.association_id())),
        )
        .set(
            "network_interface",
            opt_str(non_empty(address.network_interface_id())),
        )
        .set("instance", opt_str(non_empty(address.instance_id())))
        .set("private_ip", opt_str(private_ip))
        .set(
            "private_dns",
            opt_str(private_ip.map(|ip| private_dns(ip, region)).as_deref()),
        );
    tags::record(
        &mut state,
        &cx.settings.default_tags,
        &tags::from_ec2(address.tags()),
    );
    Ok(Some(state.into_value()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_names_follow_the_region_conventions() {
        assert_eq!(
            public_dns("3.5.7.9", "us-east-1"),
            "ec2-3-5-7-9.compute-1.amazonaws.com"
        );
        assert_eq!(
            public_dns("3.5.7.9", "eu-west-1"),
            "ec2-3-5-7-9.eu-west-1.compute.amazonaws.com"
        );
        assert_eq!(
            private_dns("10.0.1.5", "us-east-1"),
            "ip-10-0-1-5.ec2.internal"
        );
        assert_eq!(
            private_dns("10.0.1.5", "us-west-2"),
            "ip-10-0-1-5.us-west-2.compute.internal"
        );
    }

    #[test]
    fn only_vpc_addresses_exist() {
        let ok = Value::map([("domain", Value::string("vpc"))]);
        assert!(Eip.validate(&ok).is_empty());
        let classic = Value::map([("domain", Value::string("standard"))]);
        assert_eq!(Eip.validate(&classic).len(), 1);
    }
}

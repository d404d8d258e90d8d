//! `aws_route_table_association`: ties a subnet (or an internet / virtual private gateway,
//! for edge routing) to a route table. Its id is the association id (`rtbassoc-...`);
//! changing `route_table_id` uses ReplaceRouteTableAssociation, which gives the association
//! a new id. Import takes `subnet-id/rtb-id` or `gateway-id/rtb-id`, as Terraform does.
//!
//! Associations cannot be tagged and have no token: a run killed between AssociateRouteTable
//! and recording it finds the association again as the one between the planned subnet (or
//! gateway) and route table, when both carry this stack's `gantry:stack` tag (find_created).

use super::{accepted, after_accept, Cx, ResourceType};
use crate::attrs::{Attrs, Obj};
use crate::errors::{none_if_not_found, ok_if_not_found, sdk_error};
use crate::tags;
use crate::wait::read_back;
use aws_sdk_ec2::types::{Filter, RouteTable};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, ProviderError, Schema, Type, Value};

pub struct RouteTableAssociation;

#[async_trait]
impl ResourceType for RouteTableAssociation {
    fn name(&self) -> &'static str {
        "aws_route_table_association"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("subnet_id", Attribute::optional(Type::String).force_new())
            .attr("gateway_id", Attribute::optional(Type::String).force_new())
            .attr("route_table_id", Attribute::required(Type::String))
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let set = |k: &str| {
            config
                .as_map()
                .and_then(|m| m.get(k))
                .is_some_and(|v| !v.is_null())
        };
        if set("subnet_id") == set("gateway_id") {
            return vec!["set exactly one of `subnet_id` and `gateway_id`".into()];
        }
        Vec::new()
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let out = cx
            .clients()
            .ec2
            .associate_route_table()
            .route_table_id(a.req_str("route_table_id")?)
            .set_subnet_id(a.str("subnet_id").map(str::to_owned))
            .set_gateway_id(a.str("gateway_id").map(str::to_owned))
            .send()
            .await
            .map_err(|e| sdk_error("AssociateRouteTable", e))?;
        let id = out.association_id().ok_or_else(|| {
            ProviderError::fatal("AssociateRouteTable returned no association id")
        })?;
        let known = accepted(planned, id);
        let noun = format!("route table association {id}");
        after_accept(
            known.clone(),
            read_back(cx.op, &noun, || read_into(cx, known.clone())),
        )
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        read_into(cx, state.clone()).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let id = Attrs(prior).id()?;
        let out = cx
            .clients()
            .ec2
            .replace_route_table_association()
            .association_id(id)
            .route_table_id(Attrs(planned).req_str("route_table_id")?)
            .send()
            .await
            .map_err(|e| sdk_error("ReplaceRouteTableAssociation", e))?;
        let new_id = out.new_association_id().ok_or_else(|| {
            ProviderError::fatal("ReplaceRouteTableAssociation returned no association id")
        })?;
        let mut state = Obj::from(planned);
        state.set("id", new_id);
        read_into(cx, state.into_value()).await?.ok_or_else(|| {
            ProviderError::not_found(format!("route table association {new_id} is gone"))
        })
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        ok_if_not_found(
            cx.clients()
                .ec2
                .disassociate_route_table()
                .association_id(Attrs(state).id()?)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DisassociateRouteTable", e)),
        )
    }

    async fn import(&self, cx: &Cx<'_>, id: &str) -> Result<Option<Value>> {
        let Some((target, table_id)) = parse_import_id(id) else {
            return Err(ProviderError::invalid(format!(
                "import id `{id}`: expected `subnet-id/route-table-id` or `gateway-id/route-table-id`"
            )));
        };
        let Some(table) = describe(
            cx,
            Filter::builder()
                .name("route-table-id")
                .values(table_id)
                .build(),
        )
        .await?
        else {
            return Ok(None);
        };
        let Some(assoc_id) = table
            .associations()
            .iter()
            .find(|a| a.subnet_id() == Some(target) || a.gateway_id() == Some(target))
            .and_then(|a| a.route_table_association_id())
        else {
            return Ok(None);
        };
        read_into(cx, Value::map([("id", Value::string(assoc_id))])).await
    }

    /// An association has no tags or token of its own: it is the one between the planned
    /// subnet (or gateway) and route table, provided both carry this stack's `gantry:stack`
    /// tag. Between objects the stack does not own, an existing association may be anyone's:
    /// none is adopted, and a create sent again fails with `Resource.AlreadyAssociated`
    /// instead of taking it over.
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        _token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let a = Attrs(planned);
        let Some(target) = a.str("subnet_id").or(a.str("gateway_id")) else {
            return Ok(None);
        };
        let table_id = a.req_str("route_table_id")?;
        let ec2 = &cx.clients().ec2;
        for parent in [target, table_id] {
            if !tags::stack_owns(cx.op, &tags::ec2_tags_of(ec2, parent).await?) {
                return Ok(None);
            }
        }
        self.import(cx, &format!("{target}/{table_id}")).await
    }
}

/// `subnet-1/rtb-2` -> (`subnet-1`, `rtb-2`).
fn parse_import_id(id: &str) -> Option<(&str, &str)> {
    let (target, table) = id.split_once('/')?;
    (!target.is_empty() && table.starts_with("rtb-")).then_some((target, table))
}

/// The one route table matching `filter`, if any.
async fn describe(cx: &Cx<'_>, filter: Filter) -> Result<Option<RouteTable>> {
    let out = none_if_not_found(
        cx.clients()
            .ec2
            .describe_route_tables()
            .filters(filter)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeRouteTables", e)),
    )?;
    Ok(out.and_then(|o| o.route_tables().first().cloned()))
}

/// The association's state from the API, on top of `base` (which carries at least `id`).
async fn read_into(cx: &Cx<'_>, base: Value) -> Result<Option<Value>> {
    let id = Attrs(&base).id()?.to_owned();
    let filter = Filter::builder()
        .name("association.route-table-association-id")
        .values(&id)
        .build();
    let Some(table) = describe(cx, filter).await? else {
        return Ok(None);
    };
    let Some(assoc) = table
        .associations()
        .iter()
        .find(|a| a.route_table_association_id() == Some(id.as_str()))
    else {
        return Ok(None);
    };
    let opt = |v: Option<&str>| v.map_or(Value::Null, Value::string);
    let mut state = Obj::from(&base);
    state
        .set("id", id.as_str())
        .set(
            "route_table_id",
            opt(assoc.route_table_id().or(table.route_table_id())),
        )
        .set("subnet_id", opt(assoc.subnet_id()))
        .set("gateway_id", opt(assoc.gateway_id()));
    Ok(Some(state.into_value()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn import_ids_name_the_target_and_the_table() {
        assert_eq!(
            parse_import_id("subnet-1/rtb-2"),
            Some(("subnet-1", "rtb-2"))
        );
        assert_eq!(parse_import_id("igw-1/rtb-2"), Some(("igw-1", "rtb-2")));
        assert_eq!(parse_import_id("rtbassoc-1"), None);
        assert_eq!(parse_import_id("/rtb-2"), None);
    }

    #[test]
    fn exactly_one_target() {
        let both = Value::map([
            ("subnet_id", Value::string("subnet-1")),
            ("gateway_id", Value::string("igw-1")),
            ("route_table_id", Value::string("rtb-1")),
        ]);
        assert_eq!(RouteTableAssociation.validate(&both).len(), 1);
        let none = Value::map([("route_table_id", Value::string("rtb-1"))]);
        assert_eq!(RouteTableAssociation.validate(&none).len(), 1);
        let one = Value::map([("subnet_id", Value::unknown())]);
        assert!(RouteTableAssociation.validate(&one).is_empty());
    }
}

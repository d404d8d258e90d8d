//! `aws_route_table`: a VPC route table with inline `route` blocks, changed in place
//! (CreateRoute / ReplaceRoute / DeleteRoute).
//!
//! The `route` blocks are the whole set of routes gantry keeps on the table: a route added
//! out of band shows as drift and is removed by the next apply. (Terraform leaves routes
//! alone when the `route` argument is omitted altogether; gantry cannot tell an omitted
//! block list from an empty one, so no `route` blocks means no routes, as Terraform's
//! `route = []` does.) The implicit `local` route and propagated routes are never shown.

use super::{accepted, after_accept, ec2_ours, Cx, ResourceType};
use crate::attrs::{Attrs, Obj};
use crate::errors::{none_if_not_found, ok_if_not_found, sdk_error};
use crate::tags::{self, with_tags};
use crate::wait::read_back;
use aws_sdk_ec2::types::{ResourceType as Ec2Type, RouteOrigin};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, Attribute, NestedBlock, Nesting, ProviderError, Schema, Type, Value,
};
use std::collections::BTreeMap;

pub struct RouteTable;

/// Destinations of a route: exactly one is set.
const DESTINATIONS: [&str; 3] = [
    "cidr_block",
    "ipv6_cidr_block",
    "destination_prefix_list_id",
];

/// Targets of a route: exactly one is set.
const TARGETS: [&str; 7] = [
    "gateway_id",
    "nat_gateway_id",
    "network_interface_id",
    "vpc_peering_connection_id",
    "transit_gateway_id",
    "egress_only_gateway_id",
    "vpc_endpoint_id",
];

/// One route: its set fields (destination and target), unset ones left out.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Route(BTreeMap<&'static str, String>);

impl Route {
    fn from_attrs(a: Attrs<'_>) -> Route {
        Route(
            DESTINATIONS
                .iter()
                .chain(TARGETS.iter())
                .filter_map(|k| {
                    a.str(k)
                        .filter(|v| !v.is_empty())
                        .map(|v| (*k, v.to_owned()))
                })
                .collect(),
        )
    }

    /// A route as EC2 describes it; `None` for those Terraform does not manage here: the
    /// VPC's `local` route, routes propagated from a virtual private gateway, and the
    /// prefix-list routes of gateway VPC endpoints.
    fn from_api(r: &aws_sdk_ec2::types::Route) -> Option<Route> {
        let gateway = r.gateway_id().unwrap_or_default();
        if gateway == "local" || r.origin() == Some(&RouteOrigin::EnableVgwRoutePropagation) {
            return None;
        }
        if gateway.starts_with("vpce-") && r.destination_prefix_list_id().is_some() {
            return None;
        }
        let mut m = BTreeMap::new();
        let mut put = |k: &'static str, v: Option<&str>| {
            if let Some(v) = v.filter(|v| !v.is_empty()) {
                m.insert(k, v.to_owned());
            }
        };
        put("cidr_block", r.destination_cidr_block());
        put("ipv6_cidr_block", r.destination_ipv6_cidr_block());
        put("destination_prefix_list_id", r.destination_prefix_list_id());
        if gateway.starts_with("vpce-") {
            put("vpc_endpoint_id", Some(gateway));
        } else {
            put("gateway_id", Some(gateway));
        }
        put("nat_gateway_id", r.nat_gateway_id());
        put("network_interface_id", r.network_interface_id());
        put("vpc_peering_connection_id", r.vpc_peering_connection_id());
        put("transit_gateway_id", r.transit_gateway_id());
        put(
            "egress_only_gateway_id",
            r.egress_only_internet_gateway_id(),
        );
        Some(Route(m))
    }

    /// The destination, which identifies a route within its table.
    fn destination(&self) -> Option<(&'static str, &str)> {
        DESTINATIONS
            .iter()
            .find_map(|k| self.0.get(k).map(|v| (*k, v.as_str())))
    }

    fn get(&self, key: &str) -> Option<String> {
        self.0.get(key).cloned()
    }

    /// The block value: every field present, "" where unset (as the schema defaults them).
    fn to_value(&self) -> Value {
        Value::map(DESTINATIONS.iter().chain(TARGETS.iter()).map(|k| {
            (
                *k,
                Value::string(self.0.get(k).cloned().unwrap_or_default()),
            )
        }))
    }
}

/// Sets a route's destination and target on a CreateRoute or ReplaceRoute request (the two
/// builders share these setters but no trait).
macro_rules! with_route {
    ($req:expr, $route:expr) => {{
        let r: &Route = $route;
        $req.set_destination_cidr_block(r.get("cidr_block"))
            .set_destination_ipv6_cidr_block(r.get("ipv6_cidr_block"))
            .set_destination_prefix_list_id(r.get("destination_prefix_list_id"))
            .set_gateway_id(r.get("gateway_id"))
            .set_nat_gateway_id(r.get("nat_gateway_id"))
            .set_network_interface_id(r.get("network_interface_id"))
            .set_vpc_peering_connection_id(r.get("vpc_peering_connection_id"))
            .set_transit_gateway_id(r.get("transit_gateway_id"))
            .set_egress_only_internet_gateway_id(r.get("egress_only_gateway_id"))
            .set_vpc_endpoint_id(r.get("vpc_endpoint_id"))
    }};
}

fn routes_of(value: &Value) -> Vec<Route> {
    Attrs(value)
        .blocks("route")
        .into_iter()
        .map(Route::from_attrs)
        .collect()
}

/// What to do to turn `old` routes into `new`: delete, create, replace (by destination).
fn plan_routes(old: &[Route], new: &[Route]) -> (Vec<Route>, Vec<Route>, Vec<Route>) {
    let find = |set: &[Route], r: &Route| {
        set.iter()
            .find(|o| o.destination() == r.destination())
            .cloned()
    };
    let deletes = old
        .iter()
        .filter(|o| find(new, o).is_none())
        .cloned()
        .collect();
    let mut creates = Vec::new();
    let mut replaces = Vec::new();
    for r in new {
        match find(old, r) {
            None => creates.push(r.clone()),
            Some(o) if o != *r => replaces.push(r.clone()),
            Some(_) => {}
        }
    }
    (deletes, creates, replaces)
}

#[async_trait]
impl ResourceType for RouteTable {
    fn name(&self) -> &'static str {
        "aws_route_table"
    }

    fn schema(&self) -> Schema {
        let mut route = Schema::default();
        for k in DESTINATIONS.iter().chain(TARGETS.iter()) {
            route = route.attr(k, Attribute::optional(Type::String).with_default(""));
        }
        with_tags(
            Schema::default()
                .attr("id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr("owner_id", Attribute::computed(Type::String))
                .attr("vpc_id", Attribute::required(Type::String).force_new())
                .block(
                    "route",
                    NestedBlock {
                        nesting: Nesting::Set,
                        schema: route,
                        min_items: 0,
                        max_items: None,
                        force_new: false,
                    },
                ),
        )
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let mut problems = Vec::new();
        for (i, block) in Attrs(config).blocks("route").into_iter().enumerate() {
            // Unknown values (references to objects not yet created) are checked at apply.
            let count = |keys: &[&str]| {
                keys.iter()
                    .filter(|k| {
                        block.0.as_map().and_then(|m| m.get(**k)).is_some_and(|v| {
                            v.is_unknown() || v.as_str().is_some_and(|s| !s.is_empty())
                        })
                    })
                    .count()
            };
            if count(&DESTINATIONS) != 1 {
                problems.push(format!(
                    "route {i}: set exactly one of {}",
                    DESTINATIONS.join(", ")
                ));
            }
            if count(&TARGETS) != 1 {
                problems.push(format!(
                    "route {i}: set exactly one of {}",
                    TARGETS.join(", ")
                ));
            }
        }
        problems
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let ec2 = &cx.clients().ec2;
        let out = ec2
            .create_route_table()
            .vpc_id(Attrs(planned).req_str("vpc_id")?)
            .set_client_token(cx.token().map(str::to_owned))
            .tag_specifications(tags::ec2_spec(Ec2Type::RouteTable, &cx.tags(planned)))
            .send()
            .await
            .map_err(|e| sdk_error("CreateRouteTable", e))?;
        let id = out
            .route_table()
            .and_then(|t| t.route_table_id())
            .ok_or_else(|| ProviderError::fatal("CreateRouteTable returned no id"))?
            .to_owned();
        let known = accepted(planned, &id);
        let noun = format!("route table {id}");
        after_accept(known.clone(), async {
            // A retried create (same token) returns the same table, which may already hold
            // some routes: only what is missing is added.
            let base = Value::map([("id", Value::string(&id))]);
            let existing = read_back(cx.op, &noun, || read_into(cx, base.clone())).await?;
            apply_routes(cx, &id, &routes_of(&existing), &routes_of(planned)).await?;
            read_back(cx.op, &noun, || read_into(cx, known.clone())).await
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        read_into(cx, state.clone()).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let id = Attrs(prior).id()?.to_owned();
        apply_routes(cx, &id, &routes_of(prior), &routes_of(planned)).await?;
        let old = Attrs(prior).str_map("tags_all");
        let new = tags::merged(&cx.settings.default_tags, planned);
        tags::ec2_update(&cx.clients().ec2, &id, &old, &new).await?;
        let mut state = Obj::from(planned);
        state.set("id", id.as_str());
        read_into(cx, state.into_value())
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("route table {id} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let id = Attrs(state).id()?;
        let ec2 = &cx.clients().ec2;
        // As Terraform does: subnets still associated (out of band, or by associations
        // deleted in the same run) are disassociated first, else the delete cannot succeed.
        let out = none_if_not_found(
            ec2.describe_route_tables()
                .route_table_ids(id)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeRouteTables", e)),
        )?;
        let Some(table) = out.as_ref().and_then(|o| o.route_tables().first()) else {
            return Ok(());
        };
        for assoc in table.associations() {
            if assoc.main() == Some(true) {
                continue;
            }
            if let Some(assoc_id) = assoc.route_table_association_id() {
                ok_if_not_found(
                    ec2.disassociate_route_table()
                        .association_id(assoc_id)
                        .send()
                        .await
                        .map(|_| ())
                        .map_err(|e| sdk_error("DisassociateRouteTable", e)),
                )?;
            }
        }
        ok_if_not_found(
            ec2.delete_route_table()
                .route_table_id(id)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DeleteRouteTable", e)),
        )
    }

    /// The table tagged with this create's stack, address and token (CreateRouteTable's
    /// ClientToken is not something DescribeRouteTables can filter on).
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
            .describe_route_tables()
            .set_filters(Some(filters))
            .into_paginator()
            .send();
        let found = ec2_ours(cx, "route table", "DescribeRouteTables", pages, |page| {
            page.route_tables()
                .iter()
                .map(|o| (o.tags(), o.route_table_id()))
                .collect()
        })
        .await?;
        match found {
            Some(id) => read_into(cx, Value::map([("id", Value::string(id))])).await,
            None => Ok(None),
        }
    }
}

/// Brings the table's routes from `old` to `new`: deletes first, so that a destination that
/// moves from one target to another never collides.
async fn apply_routes(cx: &Cx<'_>, id: &str, old: &[Route], new: &[Route]) -> Result<()> {
    let ec2 = &cx.clients().ec2;
    let (deletes, creates, replaces) = plan_routes(old, new);
    for r in &deletes {
        let req = ec2
            .delete_route()
            .route_table_id(id)
            .set_destination_cidr_block(r.get("cidr_block"))
            .set_destination_ipv6_cidr_block(r.get("ipv6_cidr_block"))
            .set_destination_prefix_list_id(r.get("destination_prefix_list_id"));
        ok_if_not_found(
            req.send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DeleteRoute", e)),
        )?;
    }
    for r in &replaces {
        with_route!(ec2.replace_route().route_table_id(id), r)
            .send()
            .await
            .map_err(|e| sdk_error("ReplaceRoute", e))?;
    }
    for r in &creates {
        with_route!(ec2.create_route().route_table_id(id), r)
            .send()
            .await
            .map_err(|e| sdk_error("CreateRoute", e))?;
    }
    Ok(())
}

/// The table's state from the API, on top of `base` (which carries at least `id`).
async fn read_into(cx: &Cx<'_>, base: Value) -> Result<Option<Value>> {
    let id = Attrs(&base).id()?.to_owned();
    let out = none_if_not_found(
        cx.clients()
            .ec2
            .describe_route_tables()
            .route_table_ids(&id)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeRouteTables", e)),
    )?;
    let Some(table) = out.as_ref().and_then(|o| o.route_tables().first()) else {
        return Ok(None);
    };
    let owner = table.owner_id().unwrap_or_default();
    let routes: Vec<Value> = table
        .routes()
        .iter()
        .filter_map(Route::from_api)
        .map(|r| r.to_value())
        .collect();
    let mut state = Obj::from(&base);
    state
        .set("id", id.as_str())
        .set(
            "arn",
            format!("arn:aws:ec2:{}:{owner}:route-table/{id}", cx.region()),
        )
        .set("owner_id", owner)
        .set("vpc_id", table.vpc_id().unwrap_or_default())
        .set("route", Value::set(routes));
    tags::record(
        &mut state,
        &cx.settings.default_tags,
        &tags::from_ec2(table.tags()),
    );
    Ok(Some(state.into_value()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(pairs: &[(&'static str, &str)]) -> Route {
        Route(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())).collect())
    }

    #[test]
    fn routes_are_matched_by_destination() {
        let old = [
            route(&[("cidr_block", "0.0.0.0/0"), ("gateway_id", "igw-1")]),
            route(&[
                ("cidr_block", "10.9.0.0/16"),
                ("vpc_peering_connection_id", "pcx-1"),
            ]),
            route(&[("cidr_block", "10.8.0.0/16"), ("gateway_id", "igw-1")]),
        ];
        let new = [
            route(&[("cidr_block", "0.0.0.0/0"), ("nat_gateway_id", "nat-1")]),
            route(&[
                ("cidr_block", "10.9.0.0/16"),
                ("vpc_peering_connection_id", "pcx-1"),
            ]),
            route(&[
                ("ipv6_cidr_block", "::/0"),
                ("egress_only_gateway_id", "eigw-1"),
            ]),
        ];
        let (deletes, creates, replaces) = plan_routes(&old, &new);
        assert_eq!(deletes, vec![old[2].clone()]);
        assert_eq!(creates, vec![new[2].clone()]);
        assert_eq!(replaces, vec![new[0].clone()]);
    }

    #[test]
    fn api_routes_skip_local_and_map_endpoints() {
        let local = aws_sdk_ec2::types::Route::builder()
            .destination_cidr_block("10.0.0.0/16")
            .gateway_id("local")
            .build();
        assert_eq!(Route::from_api(&local), None);
        let endpoint = aws_sdk_ec2::types::Route::builder()
            .destination_cidr_block("10.1.0.0/16")
            .gateway_id("vpce-1")
            .build();
        assert_eq!(
            Route::from_api(&endpoint),
            Some(route(&[
                ("cidr_block", "10.1.0.0/16"),
                ("vpc_endpoint_id", "vpce-1")
            ]))
        );
    }

    #[test]
    fn block_values_carry_every_field() {
        let v = route(&[("cidr_block", "0.0.0.0/0"), ("gateway_id", "igw-1")]).to_value();
        let m = v.as_map().map(BTreeMap::len).unwrap_or_default();
        assert_eq!(m, DESTINATIONS.len() + TARGETS.len());
        assert_eq!(Attrs(&v).str("nat_gateway_id"), Some(""));
        assert_eq!(
            Route::from_attrs(Attrs(&v)).get("gateway_id").as_deref(),
            Some("igw-1")
        );
    }

    #[test]
    fn a_route_needs_one_destination_and_one_target() {
        let config = Value::map([(
            "route",
            Value::set(vec![route(&[("cidr_block", "0.0.0.0/0")]).to_value()]),
        )]);
        let problems = RouteTable.validate(&config);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("gateway_id"), "{problems:?}");
    }
}

//! `google_compute_subnetwork`: a regional subnet of a VPC network, with the secondary
//! ranges GKE takes its pod and service addresses from.

use super::{accepted, after_accept, Cx, ResourceType};
use crate::errors::{call_error, ok_if_not_found};
use crate::operations::{self, Scope};
use crate::wire::{from_model, relative_name, same_reference, str_at, to_model, Body};
use gantry_provider::attrs::{complete, replace_on_change, Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, plan_from_schema, Attribute, NestedBlock, Nesting, PlannedState, ProviderError,
    Schema, Timeouts, Type, Value,
};
use google_cloud_compute_v1::model::{
    Subnetwork, SubnetworksExpandIpCidrRangeRequest, SubnetworksSetPrivateIpGoogleAccessRequest,
};
use ipnet::Ipv4Net;
use serde_json::{json, Value as Json};
use std::time::Duration;

pub struct ComputeSubnetwork;

const TIMEOUT: Duration = Duration::from_secs(20 * 60);

#[async_trait]
impl ResourceType for ComputeSubnetwork {
    fn name(&self) -> &'static str {
        "google_compute_subnetwork"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("name", Attribute::required(Type::String).force_new())
            .attr(
                "ip_cidr_range",
                Attribute::required(Type::String).describe(
                    "Primary range; growing it (same start, shorter prefix) is done in place.",
                ),
            )
            .attr("network", Attribute::required(Type::String).force_new())
            .attr(
                "region",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "project",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("description", Attribute::optional(Type::String).force_new())
            .attr(
                "private_ip_google_access",
                Attribute::optional_computed(Type::Bool),
            )
            .attr(
                "purpose",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "stack_type",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("gateway_address", Attribute::computed(Type::String))
            .attr("fingerprint", Attribute::computed(Type::String))
            .attr("creation_timestamp", Attribute::computed(Type::String))
            .attr("self_link", Attribute::computed(Type::String))
            .block(
                "secondary_ip_range",
                NestedBlock {
                    nesting: Nesting::List,
                    schema: Schema::default()
                        .attr("range_name", Attribute::required(Type::String))
                        .attr("ip_cidr_range", Attribute::required(Type::String)),
                    min_items: 0,
                    max_items: Some(170),
                    force_new: false,
                },
            )
            .with_timeouts(Timeouts::all(TIMEOUT))
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut problems = Vec::new();
        if let Some(name) = a.str("name") {
            problems.extend(super::check_name(name));
        }
        let mut ranges = vec![("ip_cidr_range".to_owned(), a.str("ip_cidr_range"))];
        for (i, r) in a.blocks("secondary_ip_range").iter().enumerate() {
            ranges.push((
                format!("secondary_ip_range[{i}].ip_cidr_range"),
                r.str("ip_cidr_range"),
            ));
        }
        let mut parsed: Vec<(String, Ipv4Net)> = Vec::new();
        for (what, range) in ranges {
            let Some(range) = range else { continue };
            match range.parse::<Ipv4Net>() {
                Ok(net) => {
                    if let Some((other, _)) = parsed
                        .iter()
                        .find(|(_, p)| p.contains(&net) || net.contains(p))
                    {
                        problems.push(format!("`{what}` {range} overlaps `{other}`"));
                    }
                    parsed.push((what, net));
                }
                Err(_) => problems.push(format!("`{what}` {range:?} is not an IPv4 CIDR block")),
            }
        }
        problems
    }

    fn plan(&self, schema: &Schema, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        let mut planned = plan_from_schema(schema, prior, config);
        // Compute Engine only grows a primary range (expandIpCidrRange); any other change
        // of it is a new subnetwork.
        let before = prior.and_then(|p| Attrs(p).str("ip_cidr_range"));
        let after = Attrs(config).str("ip_cidr_range");
        if let (Some(before), Some(after)) = (before, after) {
            if before != after && !is_expansion(before, after) {
                replace_on_change(schema, prior, config, &mut planned, &["ip_cidr_range"]);
            }
        }
        Ok(planned)
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let project = cx.project(planned).to_owned();
        let region = cx.settings.region_or(a.str("region"))?;
        let name = a.req_str("name")?.to_owned();
        let mut body = Body::new();
        body.set("name", a.get("name"))
            .set("ipCidrRange", a.get("ip_cidr_range"))
            .set("network", a.get("network"))
            .set("description", a.get("description"))
            .set("privateIpGoogleAccess", a.get("private_ip_google_access"))
            .set("purpose", a.get("purpose"))
            .set("stackType", a.get("stack_type"))
            .put("secondaryIpRanges", secondary_ranges(&a));
        let subnetwork: Subnetwork = to_model("subnetworks.insert", body.into_json())?;
        let op = cx
            .settings
            .clients
            .subnetworks
            .insert()
            .set_project(&project)
            .set_region(&region)
            .set_or_clear_request_id(cx.request_id()?)
            .set_body(subnetwork)
            .send()
            .await
            .map_err(|e| call_error("subnetworks.insert", e))?;
        let known = accepted(planned, &id_of(&project, &region, &name));
        after_accept(known, async {
            operations::wait(cx, op, "subnetworks.insert", cx.op.timeout_or(TIMEOUT)).await?;
            self.read_named(cx, &project, &region, &name, planned)
                .await?
                .ok_or_else(|| {
                    ProviderError::fatal(format!("subnetwork {name} vanished after its insert"))
                })
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        let (project, region, name) = names(cx, state)?;
        self.read_named(cx, &project, &region, &name, state).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let (project, region, name) = names(cx, prior)?;
        let (p, n) = (Attrs(prior), Attrs(planned));
        let subnetworks = &cx.settings.clients.subnetworks;
        let timeout = cx.op.timeout_or(TIMEOUT);
        if let Some(range) = n
            .str("ip_cidr_range")
            .filter(|r| Some(*r) != p.str("ip_cidr_range"))
        {
            let request: SubnetworksExpandIpCidrRangeRequest = to_model(
                "subnetworks.expandIpCidrRange",
                json!({ "ipCidrRange": range }),
            )?;
            let op = subnetworks
                .expand_ip_cidr_range()
                .set_project(&project)
                .set_region(&region)
                .set_subnetwork(&name)
                .set_body(request)
                .send()
                .await
                .map_err(|e| call_error("subnetworks.expandIpCidrRange", e))?;
            operations::wait(cx, op, "subnetworks.expandIpCidrRange", timeout).await?;
        }
        if let Some(access) = n
            .bool("private_ip_google_access")
            .filter(|v| Some(*v) != p.bool("private_ip_google_access"))
        {
            let request: SubnetworksSetPrivateIpGoogleAccessRequest = to_model(
                "subnetworks.setPrivateIpGoogleAccess",
                json!({ "privateIpGoogleAccess": access }),
            )?;
            let op = subnetworks
                .set_private_ip_google_access()
                .set_project(&project)
                .set_region(&region)
                .set_subnetwork(&name)
                .set_body(request)
                .send()
                .await
                .map_err(|e| call_error("subnetworks.setPrivateIpGoogleAccess", e))?;
            operations::wait(cx, op, "subnetworks.setPrivateIpGoogleAccess", timeout).await?;
        }
        if secondary_ranges(&p) != secondary_ranges(&n) {
            // A patch carries the fingerprint it was computed from: a change made by
            // someone else meanwhile fails it (412) rather than being overwritten.
            let current = self
                .read_named(cx, &project, &region, &name, prior)
                .await?
                .ok_or_else(|| ProviderError::not_found(format!("subnetwork {name} is gone")))?;
            let fingerprint = Attrs(&current)
                .str("fingerprint")
                .unwrap_or_default()
                .to_owned();
            let patch: Subnetwork = to_model(
                "subnetworks.patch",
                json!({ "fingerprint": fingerprint, "secondaryIpRanges": secondary_ranges(&n) }),
            )?;
            let op = subnetworks
                .patch()
                .set_project(&project)
                .set_region(&region)
                .set_subnetwork(&name)
                .set_body(patch)
                .send()
                .await
                .map_err(|e| call_error("subnetworks.patch", e))?;
            operations::wait(cx, op, "subnetworks.patch", timeout).await?;
        }
        self.read_named(cx, &project, &region, &name, planned)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("subnetwork {name} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let (project, region, name) = names(cx, state)?;
        let sent = cx
            .settings
            .clients
            .subnetworks
            .delete()
            .set_project(&project)
            .set_region(&region)
            .set_subnetwork(&name)
            .send()
            .await;
        super::finish_delete(cx, sent, "subnetworks.delete", TIMEOUT).await
    }

    async fn import(&self, cx: &Cx<'_>, id: &str) -> Result<Option<Value>> {
        let (project, region, name) =
            super::split_regional_id(id, "subnetworks", &cx.settings.project)?;
        self.read_named(cx, &project, &region, &name, &Value::Null)
            .await
    }

    async fn find_created(
        &self,
        cx: &Cx<'_>,
        token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let a = Attrs(planned);
        let project = cx.project(planned).to_owned();
        let region = cx.settings.region_or(a.str("region"))?;
        let name = a.req_str("name")?.to_owned();
        let target = id_of(&project, &region, &name);
        let scope = Scope::Region(region.clone());
        match super::insert_proved(cx, &scope, token, &target, "subnetworks.insert", TIMEOUT)
            .await?
        {
            Some(true) => self.read_named(cx, &project, &region, &name, planned).await,
            _ => Ok(None),
        }
    }
}

impl ComputeSubnetwork {
    async fn read_named(
        &self,
        cx: &Cx<'_>,
        project: &str,
        region: &str,
        name: &str,
        base: &Value,
    ) -> Result<Option<Value>> {
        let got = cx
            .settings
            .clients
            .subnetworks
            .get()
            .set_project(project)
            .set_region(region)
            .set_subnetwork(name)
            .send()
            .await
            .map_err(|e| call_error("subnetworks.get", e));
        let Some(subnetwork) = ok_if_not_found(got)? else {
            return Ok(None);
        };
        let json = from_model(&subnetwork);
        let mut s = Obj::from(base);
        let self_link = str_at(&json, "selfLink").unwrap_or_default();
        // The network as written (a name or a link) stays while it names the same network.
        let network = str_at(&json, "network").unwrap_or_default();
        let written = Attrs(base)
            .str("network")
            .filter(|w| same_reference(w, network));
        s.set("id", relative_name(self_link))
            .set("name", str_at(&json, "name").unwrap_or_default())
            .set("project", project)
            .set("region", region)
            .set("self_link", self_link)
            .set("network", written.unwrap_or(network))
            .set_opt("ip_cidr_range", str_at(&json, "ipCidrRange"))
            .set_opt("description", str_at(&json, "description"))
            .set_opt("gateway_address", str_at(&json, "gatewayAddress"))
            .set_opt("fingerprint", str_at(&json, "fingerprint"))
            .set_opt("creation_timestamp", str_at(&json, "creationTimestamp"))
            .set_opt("purpose", str_at(&json, "purpose"))
            .set_opt("stack_type", str_at(&json, "stackType"))
            .set(
                "private_ip_google_access",
                json.get("privateIpGoogleAccess")
                    .and_then(Json::as_bool)
                    .unwrap_or(false),
            )
            .set(
                "secondary_ip_range",
                Value::List(
                    json.get("secondaryIpRanges")
                        .and_then(Json::as_array)
                        .into_iter()
                        .flatten()
                        .map(|r| {
                            Value::map([
                                (
                                    "range_name",
                                    Value::string(str_at(r, "rangeName").unwrap_or_default()),
                                ),
                                (
                                    "ip_cidr_range",
                                    Value::string(str_at(r, "ipCidrRange").unwrap_or_default()),
                                ),
                            ])
                        })
                        .collect(),
                ),
            );
        complete(&mut s, &self.schema());
        Ok(Some(s.into_value()))
    }
}

fn id_of(project: &str, region: &str, name: &str) -> String {
    format!("projects/{project}/regions/{region}/subnetworks/{name}")
}

fn names(cx: &Cx<'_>, state: &Value) -> Result<(String, String, String)> {
    let a = Attrs(state);
    let region = cx.settings.region_or(a.str("region"))?;
    Ok((
        cx.project(state).to_owned(),
        region,
        a.req_str("name")?.to_owned(),
    ))
}

fn secondary_ranges(a: &Attrs<'_>) -> Json {
    Json::Array(
        a.blocks("secondary_ip_range")
            .iter()
            .map(|r| json!({ "rangeName": r.str("range_name"), "ipCidrRange": r.str("ip_cidr_range") }))
            .collect(),
    )
}

/// True when `after` grows `before` in place: the same network address, a shorter prefix.
fn is_expansion(before: &str, after: &str) -> bool {
    match (before.parse::<Ipv4Net>(), after.parse::<Ipv4Net>()) {
        (Ok(b), Ok(a)) => {
            a.prefix_len() < b.prefix_len() && a.contains(&b) && a.network() == b.network()
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_growing_the_primary_range_is_done_in_place() {
        assert!(is_expansion("10.0.0.0/24", "10.0.0.0/20"));
        assert!(!is_expansion("10.0.0.0/20", "10.0.0.0/24"));
        assert!(!is_expansion("10.0.0.0/24", "10.1.0.0/24"));
        let schema = ComputeSubnetwork.schema();
        let prior = Value::map([
            ("name", Value::string("s")),
            ("ip_cidr_range", Value::string("10.0.0.0/24")),
            ("network", Value::string("n")),
        ]);
        let config = |range: &str| {
            Value::map([
                ("name", Value::string("s")),
                ("ip_cidr_range", Value::string(range)),
                ("network", Value::string("n")),
            ])
        };
        let grow = ComputeSubnetwork
            .plan(&schema, Some(&prior), &config("10.0.0.0/20"))
            .expect("plan");
        assert!(grow.requires_replace.is_empty());
        let moved = ComputeSubnetwork
            .plan(&schema, Some(&prior), &config("10.9.0.0/24"))
            .expect("plan");
        assert_eq!(moved.requires_replace, vec!["ip_cidr_range".to_owned()]);
    }

    #[test]
    fn overlapping_ranges_are_refused_before_anything_is_sent() {
        let config = Value::map([
            ("name", Value::string("s")),
            ("ip_cidr_range", Value::string("10.0.0.0/16")),
            (
                "secondary_ip_range",
                Value::List(vec![Value::map([
                    ("range_name", Value::string("pods")),
                    ("ip_cidr_range", Value::string("10.0.4.0/22")),
                ])]),
            ),
        ]);
        let problems = ComputeSubnetwork.validate(&config);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("overlaps"), "{problems:?}");
    }
}

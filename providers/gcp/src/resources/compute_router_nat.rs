//! `google_compute_router_nat`: Cloud NAT, an entry in a Cloud Router's `nats` list. It has
//! no API of its own: each change reads the router and writes it back whole with
//! `routers.update` (a PUT, so removing the last NAT really empties the list, which a patch
//! that omits an empty list would not), one change per router at a time so two NATs of one
//! router never overwrite each other.

use super::compute_router::get_router;
use super::{accepted, after_accept, Cx, ResourceType};
use crate::errors::call_error;
use crate::operations;
use crate::wire::{same_reference, str_at, to_model};
use gantry_provider::attrs::{complete, Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, Attribute, NestedBlock, Nesting, ProviderError, Schema, Timeouts, Type, Value,
};
use google_cloud_compute_v1::model::Router;
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

pub struct ComputeRouterNat;

const TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// One lock per router: its `nats` list is read, changed and written back whole.
static ROUTER_LOCKS: LazyLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(Default::default);

fn router_lock(key: &str) -> Arc<tokio::sync::Mutex<()>> {
    let mut locks = ROUTER_LOCKS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    locks.entry(key.to_owned()).or_default().clone()
}

struct Place {
    project: String,
    region: String,
    router: String,
    name: String,
}

fn place(cx: &Cx<'_>, v: &Value) -> Result<Place> {
    let a = Attrs(v);
    let router = a.req_str("router")?;
    Ok(Place {
        project: cx.project(v).to_owned(),
        region: cx.settings.region_or(a.str("region"))?,
        // The router by name, or by id or link.
        router: crate::wire::last_segment(router).to_owned(),
        name: a.req_str("name")?.to_owned(),
    })
}

fn block(nesting: Nesting, schema: Schema, max: Option<usize>) -> NestedBlock {
    NestedBlock {
        nesting,
        schema,
        min_items: 0,
        max_items: max,
        force_new: false,
    }
}

#[async_trait]
impl ResourceType for ComputeRouterNat {
    fn name(&self) -> &'static str {
        "google_compute_router_nat"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("name", Attribute::required(Type::String).force_new())
            .attr("router", Attribute::required(Type::String).force_new())
            .attr(
                "region",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "project",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("nat_ip_allocate_option", Attribute::required(Type::String))
            .attr(
                "source_subnetwork_ip_ranges_to_nat",
                Attribute::required(Type::String),
            )
            .attr("nat_ips", Attribute::optional(Type::set(Type::String)))
            .attr(
                "min_ports_per_vm",
                Attribute::optional_computed(Type::Number),
            )
            .attr(
                "enable_endpoint_independent_mapping",
                Attribute::optional_computed(Type::Bool),
            )
            .block(
                "subnetwork",
                block(
                    Nesting::Set,
                    Schema::default()
                        .attr("name", Attribute::required(Type::String))
                        .attr(
                            "source_ip_ranges_to_nat",
                            Attribute::required(Type::set(Type::String)),
                        )
                        .attr(
                            "secondary_ip_range_names",
                            Attribute::optional(Type::set(Type::String)),
                        ),
                    None,
                ),
            )
            .block(
                "log_config",
                block(
                    Nesting::List,
                    Schema::default()
                        .attr("enable", Attribute::required(Type::Bool))
                        .attr("filter", Attribute::required(Type::String)),
                    Some(1),
                ),
            )
            .with_timeouts(Timeouts::all(TIMEOUT))
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut problems = Vec::new();
        if let Some(o) = a.str("nat_ip_allocate_option") {
            if !matches!(o, "AUTO_ONLY" | "MANUAL_ONLY") {
                problems.push(format!(
                    "`nat_ip_allocate_option` must be AUTO_ONLY or MANUAL_ONLY, not {o:?}"
                ));
            }
            if o == "MANUAL_ONLY" && a.strs("nat_ips").is_empty() && a.get("nat_ips").is_none() {
                problems.push("MANUAL_ONLY needs `nat_ips`".to_owned());
            }
        }
        if let Some(r) = a.str("source_subnetwork_ip_ranges_to_nat") {
            const KINDS: [&str; 3] = [
                "ALL_SUBNETWORKS_ALL_IP_RANGES",
                "ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES",
                "LIST_OF_SUBNETWORKS",
            ];
            if !KINDS.contains(&r) {
                problems.push(format!(
                    "`source_subnetwork_ip_ranges_to_nat` must be one of {}, not {r:?}",
                    KINDS.join(", ")
                ));
            }
            if (r == "LIST_OF_SUBNETWORKS") == a.blocks("subnetwork").is_empty()
                && a.get("subnetwork").is_some_and(Value::is_wholly_known)
            {
                problems.push(
                    "`subnetwork` blocks are given exactly when the ranges are LIST_OF_SUBNETWORKS"
                        .to_owned(),
                );
            }
        }
        problems
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let p = place(cx, planned)?;
        let known = accepted(
            planned,
            &format!("{}/{}/{}/{}", p.project, p.region, p.router, p.name),
        );
        let nat = nat_json(&Attrs(planned));
        self.change(
            cx,
            &p,
            cx.request_id()?,
            |nats| {
                if nats
                    .iter()
                    .any(|n| str_at(n, "name") == Some(p.name.as_str()))
                {
                    return Err(ProviderError::new(
                        gantry_provider::ErrorClass::Conflict,
                        format!("router {} already has a NAT named {}", p.router, p.name),
                    ));
                }
                nats.push(nat);
                Ok(())
            },
            Some(known),
        )
        .await?;
        self.read_placed(cx, &p, planned).await?.ok_or_else(|| {
            ProviderError::fatal(format!("NAT {} vanished after it was added", p.name))
        })
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        self.read_placed(cx, &place(cx, state)?, state).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let p = place(cx, prior)?;
        let nat = nat_json(&Attrs(planned));
        self.change(
            cx,
            &p,
            None,
            |nats| {
                let slot = nats
                    .iter_mut()
                    .find(|n| str_at(n, "name") == Some(p.name.as_str()))
                    .ok_or_else(|| {
                        ProviderError::not_found(format!(
                            "NAT {} is gone from router {}",
                            p.name, p.router
                        ))
                    })?;
                *slot = nat;
                Ok(())
            },
            None,
        )
        .await?;
        self.read_placed(cx, &p, planned)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("NAT {} is gone", p.name)))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let p = place(cx, state)?;
        let outcome = self
            .change(
                cx,
                &p,
                None,
                |nats| {
                    nats.retain(|n| str_at(n, "name") != Some(p.name.as_str()));
                    Ok(())
                },
                None,
            )
            .await;
        match outcome {
            Err(e) if e.class == gantry_provider::ErrorClass::NotFound => Ok(()),
            other => other,
        }
    }

    async fn import(&self, cx: &Cx<'_>, id: &str) -> Result<Option<Value>> {
        let parts: Vec<&str> = id.trim_matches('/').split('/').collect();
        let [project, region, router, name] = parts.as_slice() else {
            return Err(ProviderError::invalid(format!(
                "cannot import {id:?}: expected PROJECT/REGION/ROUTER/NAME"
            )));
        };
        let p = Place {
            project: (*project).to_owned(),
            region: (*region).to_owned(),
            router: (*router).to_owned(),
            name: (*name).to_owned(),
        };
        self.read_placed(cx, &p, &Value::Null).await
    }

    /// A NAT has no identity of its own: the one of this name on this stack's router, as
    /// wholly defined by `planned`, is this create's.
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        _token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let p = place(cx, planned)?;
        let Some(found) = self.read_placed(cx, &p, planned).await? else {
            return Ok(None);
        };
        let same = |k: &str| Attrs(&found).get(k) == Attrs(planned).get(k);
        Ok([
            "nat_ip_allocate_option",
            "source_subnetwork_ip_ranges_to_nat",
        ]
        .iter()
        .all(|k| same(k))
        .then_some(found))
    }
}

impl ComputeRouterNat {
    /// Reads the router, changes its `nats`, writes it back whole and waits; under the router's
    /// lock. `known`: the state to record if the patch was accepted but its wait failed.
    async fn change(
        &self,
        cx: &Cx<'_>,
        p: &Place,
        request_id: Option<String>,
        edit: impl FnOnce(&mut Vec<Json>) -> Result<()>,
        known: Option<Value>,
    ) -> Result<()> {
        let lock = router_lock(&format!("{}/{}/{}", p.project, p.region, p.router));
        let _held = lock.lock().await;
        let router = get_router(cx, &p.project, &p.region, &p.router)
            .await?
            .ok_or_else(|| {
                ProviderError::not_found(format!("router {} does not exist", p.router))
            })?;
        let mut nats: Vec<Json> = router
            .get("nats")
            .and_then(Json::as_array)
            .cloned()
            .unwrap_or_default();
        edit(&mut nats)?;
        let mut whole = router;
        whole["nats"] = Json::Array(nats);
        let body: Router = to_model("routers.update", whole)?;
        let op = cx
            .settings
            .clients
            .routers
            .update()
            .set_project(&p.project)
            .set_region(&p.region)
            .set_router(&p.router)
            .set_or_clear_request_id(request_id)
            .set_body(body)
            .send()
            .await
            .map_err(|e| call_error("routers.update", e))?;
        let wait = operations::wait(cx, op, "routers.update", cx.op.timeout_or(TIMEOUT));
        match known {
            Some(known) => after_accept(known, wait).await.map(drop),
            None => wait.await.map(drop),
        }
    }

    async fn read_placed(&self, cx: &Cx<'_>, p: &Place, base: &Value) -> Result<Option<Value>> {
        let Some(router) = get_router(cx, &p.project, &p.region, &p.router).await? else {
            return Ok(None);
        };
        let Some(nat) = router
            .get("nats")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .find(|n| str_at(n, "name") == Some(p.name.as_str()))
        else {
            return Ok(None);
        };
        let mut s = Obj::from(base);
        let written = Attrs(base)
            .str("router")
            .filter(|w| same_reference(w, &p.router));
        s.set(
            "id",
            format!("{}/{}/{}/{}", p.project, p.region, p.router, p.name),
        )
        .set("name", p.name.as_str())
        .set("router", written.unwrap_or(&p.router))
        .set("region", p.region.as_str())
        .set("project", p.project.as_str())
        .set_opt("nat_ip_allocate_option", str_at(nat, "natIpAllocateOption"))
        .set_opt(
            "source_subnetwork_ip_ranges_to_nat",
            str_at(nat, "sourceSubnetworkIpRangesToNat"),
        )
        .set_opt(
            "min_ports_per_vm",
            nat.get("minPortsPerVm").and_then(Json::as_f64),
        )
        .set_opt(
            "enable_endpoint_independent_mapping",
            nat.get("enableEndpointIndependentMapping")
                .and_then(Json::as_bool),
        );
        let strings = |v: Option<&Json>| -> Vec<Value> {
            v.and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
                .map(Value::string)
                .collect()
        };
        let ips = strings(nat.get("natIps"));
        s.set(
            "nat_ips",
            if ips.is_empty() && Attrs(base).get("nat_ips").is_none() {
                Value::Null
            } else {
                Value::set(ips)
            },
        );
        // A subnetwork written by id or name stays written so (the API answers links).
        let written_subnets: Vec<String> = Attrs(base)
            .blocks("subnetwork")
            .iter()
            .filter_map(|b| b.str("name").map(str::to_owned))
            .collect();
        let subnets: Vec<Value> = nat
            .get("subnetworks")
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .map(|sn| {
                let secondary = strings(sn.get("secondaryIpRangeNames"));
                let link = str_at(sn, "name").unwrap_or_default();
                let name = written_subnets
                    .iter()
                    .find(|w| same_reference(w, link))
                    .map_or(link, String::as_str);
                Value::map([
                    ("name", Value::string(name)),
                    (
                        "source_ip_ranges_to_nat",
                        Value::set(strings(sn.get("sourceIpRangesToNat"))),
                    ),
                    (
                        "secondary_ip_range_names",
                        if secondary.is_empty() {
                            Value::Null
                        } else {
                            Value::set(secondary)
                        },
                    ),
                ])
            })
            .collect();
        s.set("subnetwork", Value::set(subnets));
        let log = nat.get("logConfig").map(|l| {
            Value::List(vec![Value::map([
                (
                    "enable",
                    Value::Bool(l.get("enable").and_then(Json::as_bool).unwrap_or(false)),
                ),
                (
                    "filter",
                    str_at(l, "filter").map_or(Value::Null, Value::string),
                ),
            ])])
        });
        s.set("log_config", log.unwrap_or(Value::List(Vec::new())));
        complete(&mut s, &self.schema());
        Ok(Some(s.into_value()))
    }
}

fn nat_json(a: &Attrs<'_>) -> Json {
    let mut nat = json!({
        "name": a.str("name"),
        "natIpAllocateOption": a.str("nat_ip_allocate_option"),
        "sourceSubnetworkIpRangesToNat": a.str("source_subnetwork_ip_ranges_to_nat"),
    });
    let ips = a.strs("nat_ips");
    if !ips.is_empty() {
        nat["natIps"] = json!(ips);
    }
    if let Some(n) = a.num("min_ports_per_vm") {
        nat["minPortsPerVm"] = json!(n as i64);
    }
    if let Some(b) = a.bool("enable_endpoint_independent_mapping") {
        nat["enableEndpointIndependentMapping"] = json!(b);
    }
    let subnets: Vec<Json> = a
        .blocks("subnetwork")
        .iter()
        .map(|s| {
            let mut sn = json!({ "name": s.str("name"), "sourceIpRangesToNat": s.strs("source_ip_ranges_to_nat") });
            let secondary = s.strs("secondary_ip_range_names");
            if !secondary.is_empty() {
                sn["secondaryIpRangeNames"] = json!(secondary);
            }
            sn
        })
        .collect();
    if !subnets.is_empty() {
        nat["subnetworks"] = Json::Array(subnets);
    }
    if let Some(log) = a.block("log_config") {
        nat["logConfig"] =
            json!({ "enable": log.bool("enable").unwrap_or(false), "filter": log.str("filter") });
    }
    nat
}

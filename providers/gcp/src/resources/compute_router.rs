//! `google_compute_router`: a Cloud Router in a region and network (what Cloud NAT hangs
//! on, and BGP for interconnects).

use super::{accepted, after_accept, Cx, ResourceType};
use crate::errors::{call_error, ok_if_not_found};
use crate::operations::{self, Scope};
use crate::wire::{from_model, relative_name, same_reference, str_at, to_model};
use gantry_provider::attrs::{complete, Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, Attribute, NestedBlock, Nesting, ProviderError, Schema, Timeouts, Type, Value,
};
use google_cloud_compute_v1::model::Router;
use serde_json::{json, Value as Json};
use std::time::Duration;

pub struct ComputeRouter;

const TIMEOUT: Duration = Duration::from_secs(20 * 60);

pub fn id_of(project: &str, region: &str, name: &str) -> String {
    format!("projects/{project}/regions/{region}/routers/{name}")
}

#[async_trait]
impl ResourceType for ComputeRouter {
    fn name(&self) -> &'static str {
        "google_compute_router"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("name", Attribute::required(Type::String).force_new())
            .attr("network", Attribute::required(Type::String).force_new())
            .attr(
                "region",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "project",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("description", Attribute::optional(Type::String))
            .attr("creation_timestamp", Attribute::computed(Type::String))
            .attr("self_link", Attribute::computed(Type::String))
            .block(
                "bgp",
                NestedBlock {
                    nesting: Nesting::List,
                    schema: Schema::default()
                        .attr("asn", Attribute::required(Type::Number))
                        .attr("advertise_mode", Attribute::optional_computed(Type::String)),
                    min_items: 0,
                    max_items: Some(1),
                    force_new: false,
                },
            )
            .with_timeouts(Timeouts::all(TIMEOUT))
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        Attrs(config)
            .str("name")
            .map(super::check_name)
            .unwrap_or_default()
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let project = cx.project(planned).to_owned();
        let region = cx.settings.region_or(a.str("region"))?;
        let name = a.req_str("name")?.to_owned();
        let mut body = changes(&a);
        body["name"] = json!(name);
        body["network"] = json!(a.str("network"));
        let router: Router = to_model("routers.insert", body)?;
        let op = cx
            .settings
            .clients
            .routers
            .insert()
            .set_project(&project)
            .set_region(&region)
            .set_or_clear_request_id(cx.request_id()?)
            .set_body(router)
            .send()
            .await
            .map_err(|e| call_error("routers.insert", e))?;
        let known = accepted(planned, &id_of(&project, &region, &name));
        after_accept(known, async {
            operations::wait(cx, op, "routers.insert", cx.op.timeout_or(TIMEOUT)).await?;
            self.read_named(cx, &project, &region, &name, planned)
                .await?
                .ok_or_else(|| {
                    ProviderError::fatal(format!("router {name} vanished after its insert"))
                })
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        let a = Attrs(state);
        let region = cx.settings.region_or(a.str("region"))?;
        self.read_named(cx, cx.project(state), &region, a.req_str("name")?, state)
            .await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let a = Attrs(prior);
        let project = cx.project(prior).to_owned();
        let region = cx.settings.region_or(a.str("region"))?;
        let name = a.req_str("name")?.to_owned();
        let patch: Router = to_model("routers.patch", changes(&Attrs(planned)))?;
        let op = cx
            .settings
            .clients
            .routers
            .patch()
            .set_project(&project)
            .set_region(&region)
            .set_router(&name)
            .set_body(patch)
            .send()
            .await
            .map_err(|e| call_error("routers.patch", e))?;
        operations::wait(cx, op, "routers.patch", cx.op.timeout_or(TIMEOUT)).await?;
        self.read_named(cx, &project, &region, &name, planned)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("router {name} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let a = Attrs(state);
        let region = cx.settings.region_or(a.str("region"))?;
        let sent = cx
            .settings
            .clients
            .routers
            .delete()
            .set_project(cx.project(state))
            .set_region(&region)
            .set_router(a.req_str("name")?)
            .send()
            .await;
        super::finish_delete(cx, sent, "routers.delete", TIMEOUT).await
    }

    async fn import(&self, cx: &Cx<'_>, id: &str) -> Result<Option<Value>> {
        let (project, region, name) =
            super::split_regional_id(id, "routers", &cx.settings.project)?;
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
        match super::insert_proved(cx, &scope, token, &target, "routers.insert", TIMEOUT).await? {
            Some(true) => self.read_named(cx, &project, &region, &name, planned).await,
            _ => Ok(None),
        }
    }
}

/// The fields a router's patch sets.
fn changes(a: &Attrs<'_>) -> Json {
    let mut body = json!({ "description": a.str("description").unwrap_or_default() });
    if let Some(bgp) = a.block("bgp") {
        let mut b = json!({ "asn": bgp.num("asn").unwrap_or(64514.0) as i64 });
        if let Some(mode) = bgp.str("advertise_mode") {
            b["advertiseMode"] = json!(mode);
        }
        body["bgp"] = b;
    }
    body
}

impl ComputeRouter {
    async fn read_named(
        &self,
        cx: &Cx<'_>,
        project: &str,
        region: &str,
        name: &str,
        base: &Value,
    ) -> Result<Option<Value>> {
        let Some(json) = get_router(cx, project, region, name).await? else {
            return Ok(None);
        };
        let mut s = Obj::from(base);
        let self_link = str_at(&json, "selfLink").unwrap_or_default();
        let network = str_at(&json, "network").unwrap_or_default();
        let written = Attrs(base)
            .str("network")
            .filter(|w| same_reference(w, network));
        let description = str_at(&json, "description").filter(|d| !d.is_empty());
        s.set("id", relative_name(self_link))
            .set("name", str_at(&json, "name").unwrap_or_default())
            .set("project", project)
            .set("region", region)
            .set("self_link", self_link)
            .set("network", written.unwrap_or(network))
            .set(
                "description",
                description.map_or(Value::Null, Value::string),
            )
            .set_opt("creation_timestamp", str_at(&json, "creationTimestamp"));
        let bgp = json.get("bgp").map(|b| {
            Value::List(vec![Value::map([
                (
                    "asn",
                    b.get("asn")
                        .and_then(Json::as_f64)
                        .map_or(Value::Null, Value::Number),
                ),
                (
                    "advertise_mode",
                    str_at(b, "advertiseMode").map_or(Value::Null, Value::string),
                ),
            ])])
        });
        s.set("bgp", bgp.unwrap_or(Value::List(Vec::new())));
        complete(&mut s, &self.schema());
        Ok(Some(s.into_value()))
    }
}

/// A router's JSON, `None` when it does not exist.
pub async fn get_router(
    cx: &Cx<'_>,
    project: &str,
    region: &str,
    name: &str,
) -> Result<Option<Json>> {
    let got = cx
        .settings
        .clients
        .routers
        .get()
        .set_project(project)
        .set_region(region)
        .set_router(name)
        .send()
        .await
        .map_err(|e| call_error("routers.get", e));
    Ok(ok_if_not_found(got)?.map(|r| from_model(&r)))
}

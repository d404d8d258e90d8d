//! `google_compute_network`: a VPC network (global).

use super::{accepted, after_accept, Cx, ResourceType};
use crate::errors::{call_error, ok_if_not_found};
use crate::operations::{self, Scope};
use crate::wire::{from_model, relative_name, str_at, to_model, Body};
use gantry_provider::attrs::{complete, Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, ProviderError, Schema, Timeouts, Type, Value};
use google_cloud_compute_v1::model::Network;
use serde_json::{json, Value as Json};
use std::time::Duration;

pub struct ComputeNetwork;

const TIMEOUT: Duration = Duration::from_secs(20 * 60);

fn id_of(project: &str, name: &str) -> String {
    format!("projects/{project}/global/networks/{name}")
}

#[async_trait]
impl ResourceType for ComputeNetwork {
    fn name(&self) -> &'static str {
        "google_compute_network"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("name", Attribute::required(Type::String).force_new())
            .attr("description", Attribute::optional(Type::String).force_new())
            .attr(
                "auto_create_subnetworks",
                Attribute::optional(Type::Bool)
                    .with_default(true)
                    .force_new(),
            )
            .attr(
                "routing_mode",
                Attribute::optional_computed(Type::String)
                    .describe("REGIONAL or GLOBAL: where Cloud Routers advertise routes."),
            )
            .attr(
                "mtu",
                Attribute::optional_computed(Type::Number).force_new(),
            )
            .attr(
                "project",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("gateway_ipv4", Attribute::computed(Type::String))
            .attr("numeric_id", Attribute::computed(Type::String))
            .attr("self_link", Attribute::computed(Type::String))
            .with_timeouts(Timeouts::all(TIMEOUT))
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut problems = Vec::new();
        if let Some(mode) = a.str("routing_mode") {
            if !matches!(mode, "REGIONAL" | "GLOBAL") {
                problems.push(format!(
                    "`routing_mode` must be \"REGIONAL\" or \"GLOBAL\", not {mode:?}"
                ));
            }
        }
        if let Some(mtu) = a.num("mtu") {
            if !(1300.0..=8896.0).contains(&mtu) {
                problems.push(format!("`mtu` must be between 1300 and 8896, not {mtu}"));
            }
        }
        if let Some(name) = a.str("name") {
            problems.extend(super::check_name(name));
        }
        problems
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let project = cx.project(planned).to_owned();
        let name = a.req_str("name")?.to_owned();
        let mut body = Body::new();
        body.set("name", a.get("name"))
            .set("description", a.get("description"))
            .put(
                "autoCreateSubnetworks",
                Json::Bool(a.bool("auto_create_subnetworks").unwrap_or(true)),
            )
            .set("mtu", a.get("mtu"));
        if let Some(mode) = a.str("routing_mode") {
            body.put("routingConfig", json!({ "routingMode": mode }));
        }
        let network: Network = to_model("networks.insert", body.into_json())?;
        let op = cx
            .settings
            .clients
            .networks
            .insert()
            .set_project(&project)
            .set_or_clear_request_id(cx.request_id()?)
            .set_body(network)
            .send()
            .await
            .map_err(|e| call_error("networks.insert", e))?;
        let known = accepted(planned, &id_of(&project, &name));
        after_accept(known, async {
            operations::wait(cx, op, "networks.insert", cx.op.timeout_or(TIMEOUT)).await?;
            self.read_named(cx, &project, &name, planned)
                .await?
                .ok_or_else(|| {
                    ProviderError::fatal(format!("network {name} vanished after its insert"))
                })
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        let (project, name) = names(cx, state)?;
        self.read_named(cx, &project, &name, state).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let (project, name) = names(cx, prior)?;
        let mode = Attrs(planned).str("routing_mode");
        if mode.is_some() && mode != Attrs(prior).str("routing_mode") {
            let patch: Network = to_model(
                "networks.patch",
                json!({ "routingConfig": { "routingMode": mode } }),
            )?;
            let op = cx
                .settings
                .clients
                .networks
                .patch()
                .set_project(&project)
                .set_network(&name)
                .set_body(patch)
                .send()
                .await
                .map_err(|e| call_error("networks.patch", e))?;
            operations::wait(cx, op, "networks.patch", cx.op.timeout_or(TIMEOUT)).await?;
        }
        self.read_named(cx, &project, &name, planned)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("network {name} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let (project, name) = names(cx, state)?;
        let sent = cx
            .settings
            .clients
            .networks
            .delete()
            .set_project(&project)
            .set_network(&name)
            .send()
            .await;
        super::finish_delete(cx, sent, "networks.delete", TIMEOUT).await
    }

    async fn import(&self, cx: &Cx<'_>, id: &str) -> Result<Option<Value>> {
        let (project, name) = super::split_global_id(id, "networks", &cx.settings.project)?;
        self.read_named(cx, &project, &name, &Value::Null).await
    }

    async fn find_created(
        &self,
        cx: &Cx<'_>,
        token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let project = cx.project(planned).to_owned();
        let name = Attrs(planned).req_str("name")?.to_owned();
        let target = id_of(&project, &name);
        match super::insert_proved(
            cx,
            &Scope::Global,
            token,
            &target,
            "networks.insert",
            TIMEOUT,
        )
        .await?
        {
            Some(true) => self.read_named(cx, &project, &name, planned).await,
            _ => Ok(None),
        }
    }
}

impl ComputeNetwork {
    async fn read_named(
        &self,
        cx: &Cx<'_>,
        project: &str,
        name: &str,
        base: &Value,
    ) -> Result<Option<Value>> {
        let got = cx
            .settings
            .clients
            .networks
            .get()
            .set_project(project)
            .set_network(name)
            .send()
            .await
            .map_err(|e| call_error("networks.get", e));
        let Some(network) = ok_if_not_found(got)? else {
            return Ok(None);
        };
        Ok(Some(self.state_of(&from_model(&network), project, base)))
    }

    fn state_of(&self, json: &Json, project: &str, base: &Value) -> Value {
        let mut s = Obj::from(base);
        let self_link = str_at(json, "selfLink").unwrap_or_default();
        s.set("id", relative_name(self_link))
            .set("name", str_at(json, "name").unwrap_or_default())
            .set("project", project)
            .set("self_link", self_link)
            .set_opt("description", str_at(json, "description"))
            .set(
                "auto_create_subnetworks",
                json.get("autoCreateSubnetworks")
                    .and_then(Json::as_bool)
                    .unwrap_or(false),
            )
            .set_opt("mtu", json.get("mtu").and_then(Json::as_f64))
            .set_opt(
                "routing_mode",
                json.pointer("/routingConfig/routingMode")
                    .and_then(Json::as_str),
            )
            .set_opt("gateway_ipv4", str_at(json, "gatewayIPv4"))
            .set_opt("numeric_id", json.get("id").map(super::json_string));
        complete(&mut s, &self.schema());
        s.into_value()
    }
}

/// The project and name of an object in state (its id is `projects/p/global/networks/n`).
fn names(cx: &Cx<'_>, state: &Value) -> Result<(String, String)> {
    let a = Attrs(state);
    let name = a.req_str("name")?.to_owned();
    Ok((cx.project(state).to_owned(), name))
}

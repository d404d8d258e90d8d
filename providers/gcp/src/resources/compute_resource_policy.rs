//! `google_compute_resource_policy`: a regional policy VMs name in `resource_policies`;
//! here its `group_placement_policy`, the compact placement that puts a training job's GPU
//! VMs close together on the network.

use super::{accepted, after_accept, Cx, ResourceType};
use crate::errors::{call_error, ok_if_not_found};
use crate::operations::{self, Scope};
use crate::wire::{from_model, relative_name, str_at, to_model};
use gantry_provider::attrs::{complete, Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, Attribute, NestedBlock, Nesting, ProviderError, Schema, Timeouts, Type, Value,
};
use google_cloud_compute_v1::model::ResourcePolicy;
use serde_json::{json, Map, Value as Json};
use std::time::Duration;

pub struct ComputeResourcePolicy;

const TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// The placement arguments and their API fields (numbers first).
const PLACEMENT: [(&str, &str, bool); 4] = [
    ("vm_count", "vmCount", true),
    ("availability_domain_count", "availabilityDomainCount", true),
    ("collocation", "collocation", false),
    ("gpu_topology", "gpuTopology", false),
];

fn id_of(project: &str, region: &str, name: &str) -> String {
    format!("projects/{project}/regions/{region}/resourcePolicies/{name}")
}

#[async_trait]
impl ResourceType for ComputeResourcePolicy {
    fn name(&self) -> &'static str {
        "google_compute_resource_policy"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("name", Attribute::required(Type::String).force_new())
            .attr(
                "region",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "project",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("description", Attribute::optional(Type::String).force_new())
            .attr("self_link", Attribute::computed(Type::String))
            .block(
                "group_placement_policy",
                NestedBlock {
                    nesting: Nesting::List,
                    schema: Schema::default()
                        .attr("vm_count", Attribute::optional(Type::Number))
                        .attr(
                            "availability_domain_count",
                            Attribute::optional(Type::Number),
                        )
                        .attr("collocation", Attribute::optional(Type::String))
                        .attr("gpu_topology", Attribute::optional(Type::String)),
                    min_items: 0,
                    max_items: Some(1),
                    force_new: true,
                },
            )
            .with_timeouts(Timeouts {
                create: Some(TIMEOUT),
                update: None,
                delete: Some(TIMEOUT),
            })
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut problems = Vec::new();
        if let Some(name) = a.str("name") {
            problems.extend(super::check_name(name));
        }
        if let Some(p) = a.block("group_placement_policy") {
            if let Some(c) = p.str("collocation") {
                if !matches!(c, "COLLOCATED" | "UNSPECIFIED_COLLOCATION") {
                    problems.push(format!(
                        "`group_placement_policy.collocation` must be \"COLLOCATED\" or \"UNSPECIFIED_COLLOCATION\", not {c:?}"
                    ));
                }
            }
            if p.str("collocation") == Some("COLLOCATED") && p.num("vm_count").is_none() {
                problems.push(
                    "a COLLOCATED `group_placement_policy` needs `vm_count` (the VMs placed together)".to_owned(),
                );
            }
        }
        problems
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let project = cx.project(planned).to_owned();
        let region = cx.settings.region_or(a.str("region"))?;
        let name = a.req_str("name")?.to_owned();
        let mut body = json!({ "name": name });
        if let Some(d) = a.str("description") {
            body["description"] = json!(d);
        }
        if let Some(p) = a.block("group_placement_policy") {
            let mut placement = Map::new();
            for (attr, field, number) in PLACEMENT {
                if number {
                    if let Some(n) = p.num(attr) {
                        placement.insert(field.into(), json!(n as i64));
                    }
                } else if let Some(s) = p.str(attr) {
                    placement.insert(field.into(), json!(s));
                }
            }
            body["groupPlacementPolicy"] = Json::Object(placement);
        }
        let policy: ResourcePolicy = to_model("resourcePolicies.insert", body)?;
        let op = cx
            .settings
            .clients
            .resource_policies
            .insert()
            .set_project(&project)
            .set_region(&region)
            .set_or_clear_request_id(cx.request_id()?)
            .set_body(policy)
            .send()
            .await
            .map_err(|e| call_error("resourcePolicies.insert", e))?;
        let known = accepted(planned, &id_of(&project, &region, &name));
        after_accept(known, async {
            operations::wait(cx, op, "resourcePolicies.insert", cx.op.timeout_or(TIMEOUT)).await?;
            self.read_named(cx, &project, &region, &name, planned)
                .await?
                .ok_or_else(|| {
                    ProviderError::fatal(format!(
                        "resource policy {name} vanished after its insert"
                    ))
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

    async fn update(&self, _cx: &Cx<'_>, _prior: &Value, _planned: &Value) -> Result<Value> {
        Err(ProviderError::invalid(
            "a resource policy is never changed in place: every argument replaces it",
        ))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let a = Attrs(state);
        let region = cx.settings.region_or(a.str("region"))?;
        let sent = cx
            .settings
            .clients
            .resource_policies
            .delete()
            .set_project(cx.project(state))
            .set_region(&region)
            .set_resource_policy(a.req_str("name")?)
            .send()
            .await;
        super::finish_delete(cx, sent, "resourcePolicies.delete", TIMEOUT).await
    }

    async fn import(&self, cx: &Cx<'_>, id: &str) -> Result<Option<Value>> {
        let (project, region, name) =
            super::split_regional_id(id, "resourcePolicies", &cx.settings.project)?;
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
        match super::insert_proved(
            cx,
            &scope,
            token,
            &target,
            "resourcePolicies.insert",
            TIMEOUT,
        )
        .await?
        {
            Some(true) => self.read_named(cx, &project, &region, &name, planned).await,
            _ => Ok(None),
        }
    }
}

impl ComputeResourcePolicy {
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
            .resource_policies
            .get()
            .set_project(project)
            .set_region(region)
            .set_resource_policy(name)
            .send()
            .await
            .map_err(|e| call_error("resourcePolicies.get", e));
        let Some(policy) = ok_if_not_found(got)? else {
            return Ok(None);
        };
        let json = from_model(&policy);
        let mut s = Obj::from(base);
        let self_link = str_at(&json, "selfLink").unwrap_or_default();
        s.set("id", relative_name(self_link))
            .set("name", str_at(&json, "name").unwrap_or_default())
            .set("project", project)
            .set("region", region)
            .set("self_link", self_link)
            .set_opt("description", str_at(&json, "description"));
        if let Some(p) = json.get("groupPlacementPolicy") {
            let mut block = Obj::new();
            for (attr, field, number) in PLACEMENT {
                let v = match (number, p.get(field)) {
                    (true, Some(n)) => n.as_f64().map_or(Value::Null, Value::Number),
                    (false, Some(s)) => s.as_str().map_or(Value::Null, Value::string),
                    _ => Value::Null,
                };
                block.set(attr, v);
            }
            s.set(
                "group_placement_policy",
                Value::List(vec![block.into_value()]),
            );
        }
        complete(&mut s, &self.schema());
        Ok(Some(s.into_value()))
    }
}

//! `google_compute_firewall`: a VPC firewall rule (global, on one network), e.g. the
//! all-ports rule between GPU nodes that NCCL and GPUDirect need.

use super::{accepted, after_accept, Cx, ResourceType};
use crate::errors::{call_error, ok_if_not_found};
use crate::operations::{self, Scope};
use crate::wire::{from_model, relative_name, same_reference, str_at, to_model, Body};
use gantry_provider::attrs::{complete, str_set_or_null, Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, Attribute, NestedBlock, Nesting, ProviderError, Schema, Timeouts, Type, Value,
};
use google_cloud_compute_v1::model::Firewall;
use serde_json::{json, Value as Json};
use std::time::Duration;

pub struct ComputeFirewall;

const TIMEOUT: Duration = Duration::from_secs(20 * 60);

/// The string-set arguments and their API fields.
const SETS: [(&str, &str); 6] = [
    ("source_ranges", "sourceRanges"),
    ("destination_ranges", "destinationRanges"),
    ("source_tags", "sourceTags"),
    ("target_tags", "targetTags"),
    ("source_service_accounts", "sourceServiceAccounts"),
    ("target_service_accounts", "targetServiceAccounts"),
];

fn rule_block() -> NestedBlock {
    NestedBlock {
        nesting: Nesting::Set,
        schema: Schema::default()
            .attr("protocol", Attribute::required(Type::String))
            .attr("ports", Attribute::optional(Type::list(Type::String))),
        min_items: 0,
        max_items: None,
        force_new: false,
    }
}

fn id_of(project: &str, name: &str) -> String {
    format!("projects/{project}/global/firewalls/{name}")
}

#[async_trait]
impl ResourceType for ComputeFirewall {
    fn name(&self) -> &'static str {
        "google_compute_firewall"
    }

    fn schema(&self) -> Schema {
        let mut schema = Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("name", Attribute::required(Type::String).force_new())
            .attr("network", Attribute::required(Type::String).force_new())
            .attr(
                "project",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("description", Attribute::optional(Type::String))
            .attr(
                "priority",
                Attribute::optional(Type::Number).with_default(1000.0),
            )
            .attr(
                "direction",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "disabled",
                Attribute::optional(Type::Bool).with_default(false),
            )
            .attr("creation_timestamp", Attribute::computed(Type::String))
            .attr("self_link", Attribute::computed(Type::String))
            .block("allow", rule_block())
            .block("deny", rule_block())
            .with_timeouts(Timeouts::all(TIMEOUT));
        for (name, _) in SETS {
            let attribute = if name == "source_ranges" {
                // Compute Engine fills 0.0.0.0/0 in for an ingress rule with no source.
                Attribute::optional_computed(Type::set(Type::String))
            } else {
                Attribute::optional(Type::set(Type::String))
            };
            schema = schema.attr(name, attribute);
        }
        schema
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut problems = Vec::new();
        if let Some(name) = a.str("name") {
            problems.extend(super::check_name(name));
        }
        let (allow, deny) = (a.blocks("allow"), a.blocks("deny"));
        if allow.is_empty() == deny.is_empty() && a.get("allow").is_some_and(Value::is_wholly_known)
        {
            problems
                .push("a firewall rule needs exactly one of `allow` or `deny` blocks".to_owned());
        }
        if let Some(direction) = a.str("direction") {
            if !matches!(direction, "INGRESS" | "EGRESS") {
                problems.push(format!(
                    "`direction` must be \"INGRESS\" or \"EGRESS\", not {direction:?}"
                ));
            }
        }
        if let Some(p) = a.num("priority") {
            if !(0.0..=65535.0).contains(&p) {
                problems.push(format!("`priority` must be between 0 and 65535, not {p}"));
            }
        }
        problems
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let project = cx.project(planned).to_owned();
        let name = a.req_str("name")?.to_owned();
        let mut body = rule_body(&a);
        body.set("name", a.get("name"))
            .set("network", a.get("network"));
        let firewall: Firewall = to_model("firewalls.insert", body.into_json())?;
        let op = cx
            .settings
            .clients
            .firewalls
            .insert()
            .set_project(&project)
            .set_or_clear_request_id(cx.request_id()?)
            .set_body(firewall)
            .send()
            .await
            .map_err(|e| call_error("firewalls.insert", e))?;
        let known = accepted(planned, &id_of(&project, &name));
        after_accept(known, async {
            operations::wait(cx, op, "firewalls.insert", cx.op.timeout_or(TIMEOUT)).await?;
            self.read_named(cx, &project, &name, planned)
                .await?
                .ok_or_else(|| {
                    ProviderError::fatal(format!("firewall {name} vanished after its insert"))
                })
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        let project = cx.project(state).to_owned();
        let name = Attrs(state).req_str("name")?.to_owned();
        self.read_named(cx, &project, &name, state).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let project = cx.project(prior).to_owned();
        let name = Attrs(prior).req_str("name")?.to_owned();
        // The whole rule as planned: an emptied list clears the field.
        let patch: Firewall = to_model("firewalls.patch", rule_body(&Attrs(planned)).into_json())?;
        let op = cx
            .settings
            .clients
            .firewalls
            .patch()
            .set_project(&project)
            .set_firewall(&name)
            .set_body(patch)
            .send()
            .await
            .map_err(|e| call_error("firewalls.patch", e))?;
        operations::wait(cx, op, "firewalls.patch", cx.op.timeout_or(TIMEOUT)).await?;
        self.read_named(cx, &project, &name, planned)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("firewall {name} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let project = cx.project(state).to_owned();
        let name = Attrs(state).req_str("name")?.to_owned();
        let sent = cx
            .settings
            .clients
            .firewalls
            .delete()
            .set_project(&project)
            .set_firewall(&name)
            .send()
            .await;
        super::finish_delete(cx, sent, "firewalls.delete", TIMEOUT).await
    }

    async fn import(&self, cx: &Cx<'_>, id: &str) -> Result<Option<Value>> {
        let (project, name) = super::split_global_id(id, "firewalls", &cx.settings.project)?;
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
            "firewalls.insert",
            TIMEOUT,
        )
        .await?
        {
            Some(true) => self.read_named(cx, &project, &name, planned).await,
            _ => Ok(None),
        }
    }
}

/// The rule's fields (everything but its name and network).
fn rule_body(a: &Attrs<'_>) -> Body {
    let mut body = Body::new();
    body.put(
        "description",
        json!(a.str("description").unwrap_or_default()),
    )
    .put(
        "priority",
        json!(a.num("priority").unwrap_or(1000.0) as i64),
    )
    .put("disabled", json!(a.bool("disabled").unwrap_or(false)))
    .set("direction", a.get("direction"))
    .put("allowed", rules(a, "allow"))
    .put("denied", rules(a, "deny"));
    for (name, field) in SETS {
        if a.get(name).is_some() || name != "source_ranges" {
            body.put(field, json!(a.strs(name)));
        }
    }
    body
}

fn rules(a: &Attrs<'_>, block: &str) -> Json {
    Json::Array(
        a.blocks(block)
            .iter()
            .map(|r| {
                let mut rule = json!({ "IPProtocol": r.str("protocol") });
                let ports = r.strs("ports");
                if !ports.is_empty() {
                    rule["ports"] = json!(ports);
                }
                rule
            })
            .collect(),
    )
}

fn rules_of(json: &Json, field: &str) -> Value {
    Value::set(
        json.get(field)
            .and_then(Json::as_array)
            .into_iter()
            .flatten()
            .map(|r| {
                let ports: Vec<Value> = r
                    .get("ports")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(Json::as_str)
                    .map(Value::string)
                    .collect();
                Value::map([
                    (
                        "protocol",
                        Value::string(str_at(r, "IPProtocol").unwrap_or_default()),
                    ),
                    (
                        "ports",
                        if ports.is_empty() {
                            Value::Null
                        } else {
                            Value::List(ports)
                        },
                    ),
                ])
            })
            .collect(),
    )
}

impl ComputeFirewall {
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
            .firewalls
            .get()
            .set_project(project)
            .set_firewall(name)
            .send()
            .await
            .map_err(|e| call_error("firewalls.get", e));
        let Some(firewall) = ok_if_not_found(got)? else {
            return Ok(None);
        };
        let json = from_model(&firewall);
        let mut s = Obj::from(base);
        let self_link = str_at(&json, "selfLink").unwrap_or_default();
        let network = str_at(&json, "network").unwrap_or_default();
        let written = Attrs(base)
            .str("network")
            .filter(|w| same_reference(w, network));
        s.set("id", relative_name(self_link))
            .set("name", str_at(&json, "name").unwrap_or_default())
            .set("project", project)
            .set("self_link", self_link)
            .set("network", written.unwrap_or(network))
            .set_opt("creation_timestamp", str_at(&json, "creationTimestamp"))
            .set_opt("direction", str_at(&json, "direction"))
            .set_opt("priority", json.get("priority").and_then(Json::as_f64))
            .set(
                "disabled",
                json.get("disabled")
                    .and_then(Json::as_bool)
                    .unwrap_or(false),
            )
            .set("allow", rules_of(&json, "allowed"))
            .set("deny", rules_of(&json, "denied"));
        let description = str_at(&json, "description").filter(|d| !d.is_empty());
        s.set(
            "description",
            description.map_or(Value::Null, Value::string),
        );
        for (name, field) in SETS {
            let items: Vec<&str> = json
                .get(field)
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
                .filter_map(Json::as_str)
                .collect();
            let prior = Attrs(base).get(name);
            let value = if name == "source_ranges" {
                Value::set(items.iter().map(|s| Value::string(*s)).collect())
            } else {
                str_set_or_null(&items, prior)
            };
            s.set(name, value);
        }
        complete(&mut s, &self.schema());
        Ok(Some(s.into_value()))
    }
}

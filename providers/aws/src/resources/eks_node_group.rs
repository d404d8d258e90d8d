//! `aws_eks_node_group`: a managed group of worker nodes (GPU instance types, spot or on
//! demand, optionally from a launch template) in an EKS cluster. Its id is
//! `cluster_name:node_group_name`, as in Terraform.

use super::eks_cluster::{update_tags, wait_update};
use super::{accepted, after_accept, Cx, ResourceType};
use crate::attrs::{fill_unset, replace_on_change, str_set_or_null, Attrs, Obj};
use crate::errors::{is_not_found, ok_if_not_found, sdk_error};
use crate::tags::{self, with_tags, Tags};
use crate::wait::{read_back, through_iam_propagation, Wait};
use aws_sdk_eks::types::{
    LaunchTemplateSpecification, Nodegroup, NodegroupScalingConfig, NodegroupStatus, Taint,
    UpdateLabelsPayload, UpdateTaintsPayload,
};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, plan_from_schema, Attribute, ErrorClass, NestedBlock, Nesting, PlannedState,
    ProviderError, Schema, Timeouts, Type, Value,
};
use std::collections::BTreeMap;
use std::time::Duration;

pub struct EksNodeGroup;

const REPLACE_PATHS: &[&str] = &["launch_template.id", "launch_template.name"];
/// Terraform's defaults.
const CREATE_TIMEOUT: Duration = Duration::from_secs(60 * 60);
const UPDATE_TIMEOUT: Duration = Duration::from_secs(60 * 60);
const DELETE_TIMEOUT: Duration = Duration::from_secs(60 * 60);

fn block(nesting: Nesting, schema: Schema, min_items: usize) -> NestedBlock {
    let max_items = (nesting == Nesting::Single).then_some(1);
    NestedBlock {
        nesting,
        schema,
        min_items,
        max_items,
        force_new: false,
    }
}

#[async_trait]
impl ResourceType for EksNodeGroup {
    fn name(&self) -> &'static str {
        "aws_eks_node_group"
    }

    fn schema(&self) -> Schema {
        let fixed = |ty| Attribute::required(ty).force_new();
        let chosen = |ty| Attribute::optional_computed(ty).force_new();
        with_tags(
            Schema::default()
                .attr("id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr("status", Attribute::computed(Type::String))
                .attr("cluster_name", fixed(Type::String))
                .attr("node_group_name", fixed(Type::String))
                .attr("node_role_arn", fixed(Type::String))
                .attr("subnet_ids", fixed(Type::set(Type::String)))
                .attr("instance_types", chosen(Type::list(Type::String)))
                .attr("ami_type", chosen(Type::String))
                .attr(
                    "capacity_type",
                    chosen(Type::String).describe("ON_DEMAND or SPOT."),
                )
                .attr("disk_size", chosen(Type::Number))
                .attr("labels", Attribute::optional(Type::map(Type::String)))
                .block(
                    "scaling_config",
                    block(
                        Nesting::Single,
                        Schema::default()
                            .attr("desired_size", Attribute::required(Type::Number))
                            .attr("min_size", Attribute::required(Type::Number))
                            .attr("max_size", Attribute::required(Type::Number)),
                        1,
                    ),
                )
                .block(
                    "taint",
                    block(
                        Nesting::Set,
                        Schema::default()
                            .attr("key", Attribute::required(Type::String))
                            .attr("value", Attribute::optional(Type::String))
                            .attr("effect", Attribute::required(Type::String)),
                        0,
                    ),
                )
                .block(
                    "launch_template",
                    block(
                        Nesting::Single,
                        Schema::default()
                            .attr("id", Attribute::optional(Type::String))
                            .attr("name", Attribute::optional(Type::String))
                            .attr(
                                "version",
                                Attribute::optional(Type::String)
                                    .describe("Changed in place (UpdateNodegroupVersion)."),
                            ),
                        0,
                    ),
                ),
        )
        .with_timeouts(Timeouts {
            create: Some(CREATE_TIMEOUT),
            update: Some(UPDATE_TIMEOUT),
            delete: Some(DELETE_TIMEOUT),
        })
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let mut issues = Vec::new();
        if let Some(t) = Attrs(config).block("launch_template") {
            let given = |n: &str| {
                t.0.as_map()
                    .and_then(|m| m.get(n))
                    .is_some_and(|v| !v.is_null())
            };
            if given("id") == given("name") {
                issues.push("`launch_template` takes exactly one of `id` and `name`".to_owned());
            }
            if Attrs(config).get("disk_size").is_some() {
                issues.push("`disk_size` cannot be set with a `launch_template` (set the volume size in the template)".to_owned());
            }
        }
        issues
    }

    fn plan(&self, schema: &Schema, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        // EKS reports both the id and the name of the template, and the version it resolved:
        // what the configuration leaves unset is EKS's to fill in.
        let mut config = config.clone();
        if let (Value::Map(c), Some(p)) = (&mut config, prior) {
            if let Some(lt) = c.get("launch_template").filter(|v| !v.is_null()).cloned() {
                let before = Attrs(p)
                    .get("launch_template")
                    .cloned()
                    .unwrap_or(Value::Null);
                c.insert("launch_template".into(), fill_unset(&lt, &before));
            }
        }
        let mut planned = plan_from_schema(schema, prior, &config);
        replace_on_change(schema, prior, &config, &mut planned, REPLACE_PATHS);
        Ok(planned)
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let cluster = a.req_str("cluster_name")?.to_owned();
        let name = a.req_str("node_group_name")?.to_owned();
        let instance_types = a.strs("instance_types");
        let node_role = a.req_str("node_role_arn")?;
        let eks = &cx.clients().eks;
        let send = || {
            eks.create_nodegroup()
                .cluster_name(&cluster)
                .nodegroup_name(&name)
                .node_role(node_role)
                .set_subnets(Some(a.strs("subnet_ids")))
                .set_scaling_config(a.block("scaling_config").map(|s| scaling(&s)))
                .set_instance_types((!instance_types.is_empty()).then(|| instance_types.clone()))
                .set_ami_type(a.str("ami_type").map(Into::into))
                .set_capacity_type(a.str("capacity_type").map(Into::into))
                .set_disk_size(a.i32("disk_size"))
                .set_labels(
                    Some(a.str_map("labels").into_iter().collect())
                        .filter(|l: &std::collections::HashMap<_, _>| !l.is_empty()),
                )
                .set_taints(Some(taints(&a)).filter(|t| !t.is_empty()))
                .set_launch_template(a.block("launch_template").map(|t| {
                    LaunchTemplateSpecification::builder()
                        .set_id(t.str("id").map(str::to_owned))
                        .set_name(t.str("name").map(str::to_owned))
                        .set_version(t.str("version").map(str::to_owned))
                        .build()
                }))
                .set_client_request_token(cx.token().map(str::to_owned))
                .set_tags(Some(cx.tags(planned).into_iter().collect()))
                .send()
        };
        // EKS may not be able to assume (or find) a node role made moments ago yet.
        let created = through_iam_propagation(cx.op, "CreateNodegroup", || async {
            send().await.map_err(|e| sdk_error("CreateNodegroup", e))
        })
        .await;
        if let Err(e) = created {
            // A retried create finds the group it made (moto ignores the request token).
            let ours = describe(cx, &cluster, &name)
                .await?
                .is_some_and(|g| is_ours(cx, &g));
            if e.class != ErrorClass::Conflict || !ours {
                return Err(e);
            }
        }
        let id = format!("{cluster}:{name}");
        let known = accepted(planned, &id);
        after_accept(known.clone(), async {
            wait_active(cx, &cluster, &name, CREATE_TIMEOUT).await?;
            let noun = format!("node group {id}");
            read_back(cx.op, &noun, || read_into(cx, known.clone())).await
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        read_into(cx, state.clone()).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let id = Attrs(prior).id()?.to_owned();
        let (cluster, name) = split_id(&id)?;
        let eks = &cx.clients().eks;
        let (p, n) = (Attrs(prior), Attrs(planned));
        let version = |a: &Attrs<'_>| {
            a.block("launch_template")
                .and_then(|t| t.str("version").map(str::to_owned))
        };
        if let (Some(t), Some(v)) = (
            n.block("launch_template"),
            version(&n).filter(|v| Some(v) != version(&p).as_ref()),
        ) {
            let out = eks
                .update_nodegroup_version()
                .cluster_name(cluster)
                .nodegroup_name(name)
                .launch_template(
                    LaunchTemplateSpecification::builder()
                        .set_id(t.str("id").map(str::to_owned))
                        .set_name(t.str("name").map(str::to_owned))
                        .version(v)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| sdk_error("UpdateNodegroupVersion", e))?;
            wait_updated(cx, cluster, name, out.update()).await?;
        }
        let scaling_changed = p.get("scaling_config") != n.get("scaling_config");
        let labels = labels_payload(&p.str_map("labels"), &n.str_map("labels"));
        let taints = taints_payload(&taints(&p), &taints(&n));
        if scaling_changed || labels.is_some() || taints.is_some() {
            let out = eks
                .update_nodegroup_config()
                .cluster_name(cluster)
                .nodegroup_name(name)
                .set_scaling_config(
                    n.block("scaling_config")
                        .filter(|_| scaling_changed)
                        .map(|s| scaling(&s)),
                )
                .set_labels(labels)
                .set_taints(taints)
                .send()
                .await
                .map_err(|e| sdk_error("UpdateNodegroupConfig", e))?;
            wait_updated(cx, cluster, name, out.update()).await?;
        }
        if let Some(arn) = p.str("arn") {
            let new = tags::merged(&cx.settings.default_tags, planned);
            update_tags(eks, arn, &p.str_map("tags_all"), &new).await?;
        }
        let mut state = Obj::from(planned);
        state.set("id", id.as_str());
        read_into(cx, state.into_value())
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("node group {id} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let id = Attrs(state).id()?.to_owned();
        let (cluster, name) = split_id(&id)?;
        ok_if_not_found(
            cx.clients()
                .eks
                .delete_nodegroup()
                .cluster_name(cluster)
                .nodegroup_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DeleteNodegroup", e)),
        )?;
        wait_deleted(cx, cluster, name).await
    }

    async fn import(&self, cx: &Cx<'_>, id: &str) -> Result<Option<Value>> {
        split_id(id)?;
        read_into(cx, Value::map([("id", Value::string(id))])).await
    }

    /// The group with the planned cluster and name, when it carries this create's stack,
    /// address and token (DescribeNodegroup does not show the clientRequestToken). Found
    /// still CREATING, it is waited for until ACTIVE.
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        _token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let a = Attrs(planned);
        let (cluster, name) = (a.req_str("cluster_name")?, a.req_str("node_group_name")?);
        let ours = describe(cx, cluster, name)
            .await?
            .is_some_and(|g| is_ours(cx, &g));
        if !ours {
            return Ok(None);
        }
        wait_active(cx, cluster, name, CREATE_TIMEOUT).await?;
        let id = format!("{cluster}:{name}");
        read_into(cx, Value::map([("id", Value::string(id))])).await
    }
}

/// `cluster:nodegroup`.
fn split_id(id: &str) -> Result<(&str, &str)> {
    id.split_once(':')
        .filter(|(c, n)| !c.is_empty() && !n.is_empty())
        .ok_or_else(|| {
            ProviderError::invalid(format!(
                "node group id `{id}` is not `cluster_name:node_group_name`"
            ))
        })
}

/// True when the group carries this create's stack, address and token: a group of the same
/// name made by another stack, or by a deposed predecessor (another token), is not ours.
fn is_ours(cx: &Cx<'_>, g: &Nodegroup) -> bool {
    let cloud: Tags = g
        .tags()
        .map(|t| t.clone().into_iter().collect())
        .unwrap_or_default();
    tags::are_ours(cx.op, &cloud)
}

fn scaling(s: &Attrs<'_>) -> NodegroupScalingConfig {
    NodegroupScalingConfig::builder()
        .set_desired_size(s.i32("desired_size"))
        .set_min_size(s.i32("min_size"))
        .set_max_size(s.i32("max_size"))
        .build()
}

/// The configured taints (by key and effect, which is how EKS tells them apart).
fn taints(a: &Attrs<'_>) -> Vec<Taint> {
    a.blocks("taint")
        .iter()
        .map(|t| {
            Taint::builder()
                .set_key(t.str("key").map(str::to_owned))
                .set_value(t.str("value").map(str::to_owned))
                .set_effect(t.str("effect").map(Into::into))
                .build()
        })
        .collect()
}

fn labels_payload(old: &Tags, new: &Tags) -> Option<UpdateLabelsPayload> {
    let removed: Vec<String> = old
        .keys()
        .filter(|k| !new.contains_key(*k))
        .cloned()
        .collect();
    let changed: std::collections::HashMap<String, String> = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (!removed.is_empty() || !changed.is_empty()).then(|| {
        UpdateLabelsPayload::builder()
            .set_add_or_update_labels((!changed.is_empty()).then_some(changed))
            .set_remove_labels((!removed.is_empty()).then_some(removed))
            .build()
    })
}

fn taints_payload(old: &[Taint], new: &[Taint]) -> Option<UpdateTaintsPayload> {
    let same_slot = |a: &Taint, b: &Taint| a.key() == b.key() && a.effect() == b.effect();
    let removed: Vec<Taint> = old
        .iter()
        .filter(|o| !new.iter().any(|n| same_slot(o, n)))
        .cloned()
        .collect();
    let changed: Vec<Taint> = new.iter().filter(|n| !old.contains(n)).cloned().collect();
    (!removed.is_empty() || !changed.is_empty()).then(|| {
        UpdateTaintsPayload::builder()
            .set_add_or_update_taints((!changed.is_empty()).then_some(changed))
            .set_remove_taints((!removed.is_empty()).then_some(removed))
            .build()
    })
}

async fn describe(cx: &Cx<'_>, cluster: &str, name: &str) -> Result<Option<Nodegroup>> {
    match cx
        .clients()
        .eks
        .describe_nodegroup()
        .cluster_name(cluster)
        .nodegroup_name(name)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeNodegroup", e))
    {
        Ok(out) => Ok(out.nodegroup().cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Waits until the group is ACTIVE (up to the operation's timeout, else `default`); a
/// failed create or a degraded group is an error with EKS's health issues (no capacity for
/// the type shows there).
async fn wait_active(cx: &Cx<'_>, cluster: &str, name: &str, default: Duration) -> Result<()> {
    Wait::for_op(cx.op, default)
        .until(
            cx.op,
            &format!("node group {cluster}:{name} to become ACTIVE"),
            || async {
                let Some(g) = describe(cx, cluster, name).await? else {
                    return Err(ProviderError::not_found(format!(
                        "node group {cluster}:{name} disappeared"
                    )));
                };
                match g.status() {
                    Some(NodegroupStatus::Active) => Ok(Some(())),
                    Some(NodegroupStatus::CreateFailed | NodegroupStatus::Degraded) => {
                        Err(unhealthy(cluster, name, &g))
                    }
                    _ => Ok(None),
                }
            },
        )
        .await
}

/// Waits until the group is gone; DELETE_FAILED is an error with EKS's health issues (a
/// security group or an instance it could not remove) rather than a wait to the deadline.
async fn wait_deleted(cx: &Cx<'_>, cluster: &str, name: &str) -> Result<()> {
    Wait::for_op(cx.op, DELETE_TIMEOUT)
        .until(
            cx.op,
            &format!("node group {cluster}:{name} to be deleted"),
            || async {
                match describe(cx, cluster, name).await? {
                    None => Ok(Some(())),
                    Some(g) if g.status() == Some(&NodegroupStatus::DeleteFailed) => {
                        Err(unhealthy(cluster, name, &g))
                    }
                    Some(_) => Ok(None),
                }
            },
        )
        .await
}

/// Waits for a node group update by the id UpdateNodegroupConfig or
/// UpdateNodegroupVersion returned (DescribeUpdate until Successful); without one (an API
/// that gives none), until the group is ACTIVE again.
async fn wait_updated(
    cx: &Cx<'_>,
    cluster: &str,
    name: &str,
    update: Option<&aws_sdk_eks::types::Update>,
) -> Result<()> {
    match update.and_then(|u| u.id()) {
        Some(id) => wait_update(cx, cluster, Some(name), id, UPDATE_TIMEOUT).await,
        None => wait_active(cx, cluster, name, UPDATE_TIMEOUT).await,
    }
}

/// The error of a group in a failed state, with its health issues; no capacity (or no free
/// addresses) in the subnets is a Capacity error, so the engine can fail over.
fn unhealthy(cluster: &str, name: &str, g: &Nodegroup) -> ProviderError {
    let issues: Vec<String> = g
        .health()
        .map(|h| h.issues())
        .unwrap_or_default()
        .iter()
        .map(|i| {
            format!(
                "{}: {}",
                i.code().map_or("?", |c| c.as_str()),
                i.message().unwrap_or("")
            )
        })
        .collect();
    let (class, detail) = super::eks_cluster::eks_problems(&issues, "no health issues given");
    ProviderError::new(
        class,
        format!(
            "node group {cluster}:{name} is {}: {detail}",
            g.status().map_or("?", |s| s.as_str()),
        ),
    )
}

/// The group's state from the API, on top of `base` (which carries at least `id`).
async fn read_into(cx: &Cx<'_>, base: Value) -> Result<Option<Value>> {
    let id = Attrs(&base).id()?.to_owned();
    let (cluster, name) = split_id(&id)?;
    let Some(g) = describe(cx, cluster, name).await? else {
        return Ok(None);
    };
    let prior = Attrs(&base);
    let mut state = Obj::from(&base);
    let num = |n: Option<i32>| n.map_or(Value::Null, crate::attrs::num);
    state
        .set("id", id.as_str())
        .set("cluster_name", cluster)
        .set("node_group_name", name)
        .set_opt("arn", g.nodegroup_arn())
        .set_opt("status", g.status().map(|s| s.as_str().to_owned()))
        .set_opt("node_role_arn", g.node_role())
        .set("subnet_ids", str_set_or_null(g.subnets(), None))
        .set_strs("instance_types", g.instance_types())
        .set_opt("ami_type", g.ami_type().map(|t| t.as_str().to_owned()))
        .set_opt(
            "capacity_type",
            g.capacity_type().map(|t| t.as_str().to_owned()),
        )
        .set("disk_size", num(g.disk_size()));
    let labels: BTreeMap<String, String> = g
        .labels()
        .map(|l| l.clone().into_iter().collect())
        .unwrap_or_default();
    state.set(
        "labels",
        if labels.is_empty() && prior.get("labels").is_none() {
            Value::Null
        } else {
            crate::attrs::str_map(&labels)
        },
    );
    if let Some(s) = g.scaling_config() {
        state.set(
            "scaling_config",
            Value::map([
                ("desired_size", num(s.desired_size())),
                ("min_size", num(s.min_size())),
                ("max_size", num(s.max_size())),
            ]),
        );
    }
    let taints = g
        .taints()
        .iter()
        .map(|t| {
            Value::map([
                ("key", crate::attrs::opt_str(t.key())),
                ("value", crate::attrs::opt_str(t.value())),
                (
                    "effect",
                    crate::attrs::opt_str(t.effect().map(|e| e.as_str())),
                ),
            ])
        })
        .collect();
    state.set("taint", Value::set(taints));
    let template = g.launch_template().map_or(Value::Null, |t| {
        Value::map([
            ("id", crate::attrs::opt_str(t.id())),
            ("name", crate::attrs::opt_str(t.name())),
            ("version", crate::attrs::opt_str(t.version())),
        ])
    });
    state.set("launch_template", template);
    let cloud: Tags = g
        .tags()
        .map(|t| t.clone().into_iter().collect())
        .unwrap_or_default();
    tags::record(&mut state, &cx.settings.default_tags, &cloud);
    crate::attrs::complete(&mut state, &EksNodeGroup.schema());
    Ok(Some(state.into_value()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taint(key: &str, value: Option<&str>, effect: &str) -> Taint {
        Taint::builder()
            .key(key)
            .set_value(value.map(str::to_owned))
            .effect(effect.into())
            .build()
    }

    #[test]
    fn ids_are_cluster_and_group() {
        assert_eq!(split_id("gpu:a100").ok(), Some(("gpu", "a100")));
        assert!(split_id("gpu").is_err());
        assert!(split_id(":a100").is_err());
    }

    #[test]
    fn label_updates_add_change_and_remove() {
        let old: Tags = [("a", "1"), ("b", "2")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .into();
        let new: Tags = [("a", "1"), ("c", "3")]
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .into();
        let p = labels_payload(&old, &new);
        assert_eq!(
            p.as_ref().map(|p| p.remove_labels().to_vec()),
            Some(vec!["b".to_owned()])
        );
        assert_eq!(
            p.as_ref()
                .and_then(|p| p.add_or_update_labels())
                .and_then(|l| l.get("c"))
                .map(String::as_str),
            Some("3")
        );
        assert!(labels_payload(&old, &old).is_none());
    }

    #[test]
    fn a_taint_changed_in_value_is_updated_not_removed() {
        let old = vec![
            taint("gpu", Some("a"), "NO_SCHEDULE"),
            taint("spot", None, "NO_EXECUTE"),
        ];
        let new = vec![taint("gpu", Some("b"), "NO_SCHEDULE")];
        let p = taints_payload(&old, &new);
        assert_eq!(
            p.as_ref().map(|p| p.add_or_update_taints().to_vec()),
            Some(vec![taint("gpu", Some("b"), "NO_SCHEDULE")])
        );
        assert_eq!(
            p.as_ref().map(|p| p.remove_taints().to_vec()),
            Some(vec![taint("spot", None, "NO_EXECUTE")])
        );
        assert!(taints_payload(&new, &new).is_none());
    }
}

//! `aws_eks_cluster`: a Kubernetes control plane. Creating, updating and deleting one takes
//! minutes: every change waits (bounded) until the cluster is ACTIVE again, or gone.

use super::{Cx, ResourceType};
use crate::attrs::{replace_on_change, str_set_or_null, Attrs, Obj};
use crate::errors::{is_not_found, ok_if_not_found, sdk_error};
use crate::tags::{self, with_tags, Tags};
use crate::wait::Wait;
use aws_sdk_eks::types::{Cluster, ClusterStatus, LogSetup, LogType, Logging, VpcConfigRequest};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, plan_from_schema, Attribute, ErrorClass, NestedBlock, Nesting, ObjectAttr,
    PlannedState, ProviderError, Schema, Type, Value,
};
use std::collections::BTreeMap;
use std::time::Duration;

pub struct EksCluster;

/// vpc_config arguments that UpdateClusterConfig cannot change.
const REPLACE_PATHS: &[&str] = &["vpc_config.subnet_ids", "vpc_config.security_group_ids"];

const CREATE_TIMEOUT: Duration = Duration::from_secs(30 * 60);
const UPDATE_TIMEOUT: Duration = Duration::from_secs(60 * 60);
const DELETE_TIMEOUT: Duration = Duration::from_secs(15 * 60);

#[async_trait]
impl ResourceType for EksCluster {
    fn name(&self) -> &'static str {
        "aws_eks_cluster"
    }

    fn schema(&self) -> Schema {
        let certificate = Type::list(Type::Object(BTreeMap::from([(
            "data".to_owned(),
            ObjectAttr::required(Type::String),
        )])));
        with_tags(
            Schema::default()
                .attr("id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr("name", Attribute::required(Type::String).force_new())
                .attr("role_arn", Attribute::required(Type::String).force_new())
                .attr(
                    "version",
                    Attribute::optional_computed(Type::String)
                        .describe("Kubernetes version; upgraded in place (UpdateClusterVersion)."),
                )
                .attr(
                    "enabled_cluster_log_types",
                    Attribute::optional(Type::set(Type::String)),
                )
                .attr("endpoint", Attribute::computed(Type::String))
                .attr("status", Attribute::computed(Type::String))
                .attr("platform_version", Attribute::computed(Type::String))
                .attr("certificate_authority", Attribute::computed(certificate))
                .block(
                    "vpc_config",
                    NestedBlock {
                        nesting: Nesting::Single,
                        schema: Schema::default()
                            .attr("subnet_ids", Attribute::required(Type::set(Type::String)))
                            .attr(
                                "security_group_ids",
                                Attribute::optional(Type::set(Type::String)),
                            )
                            .attr(
                                "endpoint_public_access",
                                Attribute::optional(Type::Bool).with_default(true),
                            )
                            .attr(
                                "endpoint_private_access",
                                Attribute::optional(Type::Bool).with_default(false),
                            ),
                        min_items: 1,
                        max_items: Some(1),
                        force_new: false,
                    },
                ),
        )
    }

    fn plan(&self, schema: &Schema, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        let mut planned = plan_from_schema(schema, prior, config);
        replace_on_change(schema, prior, config, &mut planned, REPLACE_PATHS);
        Ok(planned)
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let name = a.req_str("name")?.to_owned();
        let vpc = a.block("vpc_config");
        let vpc_config = VpcConfigRequest::builder()
            .set_subnet_ids(vpc.map(|v| v.strs("subnet_ids")))
            .set_security_group_ids(
                vpc.map(|v| v.strs("security_group_ids"))
                    .filter(|s| !s.is_empty()),
            )
            .set_endpoint_public_access(vpc.and_then(|v| v.bool("endpoint_public_access")))
            .set_endpoint_private_access(vpc.and_then(|v| v.bool("endpoint_private_access")))
            .build();
        let log_types = a.strs("enabled_cluster_log_types");
        let created = cx
            .clients()
            .eks
            .create_cluster()
            .name(&name)
            .role_arn(a.req_str("role_arn")?)
            .set_version(a.str("version").map(str::to_owned))
            .resources_vpc_config(vpc_config)
            .set_logging((!log_types.is_empty()).then(|| logging(&log_types, &[])))
            .set_client_request_token(cx.token().map(str::to_owned))
            .set_tags(Some(cx.tags(planned).into_iter().collect()))
            .send()
            .await
            .map_err(|e| sdk_error("CreateCluster", e));
        if let Err(e) = created {
            // A retry of a create that went through finds the cluster it made (AWS answers
            // such a retry itself; moto does not look the token up).
            if e.class != ErrorClass::Conflict || !made_by(cx, &name).await? {
                return Err(e);
            }
        }
        wait_active(cx, &name, CREATE_TIMEOUT).await?;
        let mut state = Obj::from(planned);
        state.set("id", name.as_str());
        read_into(cx, state.into_value()).await?.ok_or_else(|| {
            ProviderError::fatal(format!("EKS cluster {name} vanished after create"))
        })
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        read_into(cx, state.clone()).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let name = Attrs(prior).id()?.to_owned();
        let eks = &cx.clients().eks;
        let (p, n) = (Attrs(prior), Attrs(planned));
        // EKS runs one update at a time: each waits for ACTIVE before the next.
        if let Some(version) = n.str("version").filter(|v| Some(*v) != p.str("version")) {
            eks.update_cluster_version()
                .name(&name)
                .version(version)
                .send()
                .await
                .map_err(|e| sdk_error("UpdateClusterVersion", e))?;
            wait_active(cx, &name, UPDATE_TIMEOUT).await?;
        }
        let flags = |a: &Attrs<'_>| {
            a.block("vpc_config").map(|v| {
                (
                    v.bool("endpoint_public_access"),
                    v.bool("endpoint_private_access"),
                )
            })
        };
        if let Some((public, private)) = flags(&n).filter(|f| Some(*f) != flags(&p)) {
            eks.update_cluster_config()
                .name(&name)
                .resources_vpc_config(
                    VpcConfigRequest::builder()
                        .set_endpoint_public_access(public)
                        .set_endpoint_private_access(private)
                        .build(),
                )
                .send()
                .await
                .map_err(|e| sdk_error("UpdateClusterConfig", e))?;
            wait_active(cx, &name, UPDATE_TIMEOUT).await?;
        }
        let (old_logs, new_logs) = (
            p.strs("enabled_cluster_log_types"),
            n.strs("enabled_cluster_log_types"),
        );
        if sorted(&old_logs) != sorted(&new_logs) {
            let disabled: Vec<String> = old_logs
                .into_iter()
                .filter(|t| !new_logs.contains(t))
                .collect();
            eks.update_cluster_config()
                .name(&name)
                .logging(logging(&new_logs, &disabled))
                .send()
                .await
                .map_err(|e| sdk_error("UpdateClusterConfig", e))?;
            wait_active(cx, &name, UPDATE_TIMEOUT).await?;
        }
        if let Some(arn) = p.str("arn") {
            let new = tags::merged(&cx.settings.default_tags, planned);
            update_tags(&cx.clients().eks, arn, &p.str_map("tags_all"), &new).await?;
        }
        let mut state = Obj::from(planned);
        state.set("id", name.as_str());
        read_into(cx, state.into_value())
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("EKS cluster {name} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let name = Attrs(state).id()?.to_owned();
        // Node groups still attached make this a ResourceInUseException: Conflict, which the
        // engine retries while they go.
        ok_if_not_found(
            cx.clients()
                .eks
                .delete_cluster()
                .name(&name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DeleteCluster", e)),
        )?;
        Wait::up_to(DELETE_TIMEOUT)
            .until_gone(cx.op, &format!("EKS cluster {name}"), || {
                describe(cx, &name)
            })
            .await
    }

    async fn find_created(
        &self,
        cx: &Cx<'_>,
        token: &str,
        _planned: &Value,
    ) -> Result<Option<Value>> {
        // The cluster made with this token, else one tagged with this address.
        let (mut by_token, mut by_tag) = (None, None);
        let mut next = None;
        loop {
            let page = cx
                .clients()
                .eks
                .list_clusters()
                .set_next_token(next)
                .send()
                .await
                .map_err(|e| sdk_error("ListClusters", e))?;
            for name in page.clusters() {
                let Some(c) = describe(cx, name).await? else {
                    continue;
                };
                if c.client_request_token() == Some(token) {
                    by_token = Some(name.clone());
                } else if is_ours(cx, &c) && by_tag.is_none() {
                    by_tag = Some(name.clone());
                }
            }
            next = page.next_token().map(str::to_owned);
            if next.is_none() {
                break;
            }
        }
        let Some(name) = by_token.or(by_tag) else {
            return Ok(None);
        };
        wait_active(cx, &name, CREATE_TIMEOUT).await?;
        read_into(cx, Value::map([("id", Value::string(name))])).await
    }
}

fn sorted(items: &[String]) -> Vec<String> {
    let mut v = items.to_vec();
    v.sort();
    v
}

/// A logging setting that enables `enabled` and disables `disabled`.
fn logging(enabled: &[String], disabled: &[String]) -> Logging {
    let setup = |types: &[String], on: bool| {
        LogSetup::builder()
            .set_types(Some(
                types.iter().map(|t| LogType::from(t.as_str())).collect(),
            ))
            .enabled(on)
            .build()
    };
    let mut setups = Vec::new();
    if !enabled.is_empty() {
        setups.push(setup(enabled, true));
    }
    if !disabled.is_empty() {
        setups.push(setup(disabled, false));
    }
    Logging::builder().set_cluster_logging(Some(setups)).build()
}

fn is_ours(cx: &Cx<'_>, c: &Cluster) -> bool {
    c.tags()
        .and_then(|t| t.get(tags::ADDRESS_TAG))
        .is_some_and(|a| *a == cx.op.address)
}

/// Whether the existing cluster `name` is the one this create made (same token or tag).
async fn made_by(cx: &Cx<'_>, name: &str) -> Result<bool> {
    Ok(describe(cx, name).await?.is_some_and(|c| {
        (cx.token().is_some() && c.client_request_token() == cx.token()) || is_ours(cx, &c)
    }))
}

/// Brings an EKS object's tags (by ARN) from `old` to `new`.
pub(super) async fn update_tags(
    eks: &aws_sdk_eks::Client,
    arn: &str,
    old: &Tags,
    new: &Tags,
) -> Result<()> {
    tags::update_with(
        old,
        new,
        |removed| async move {
            eks.untag_resource()
                .resource_arn(arn)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(|e| sdk_error("UntagResource", e))
        },
        |changed| async move {
            eks.tag_resource()
                .resource_arn(arn)
                .set_tags(Some(changed.into_iter().collect()))
                .send()
                .await
                .map_err(|e| sdk_error("TagResource", e))
        },
    )
    .await
}

async fn describe(cx: &Cx<'_>, name: &str) -> Result<Option<Cluster>> {
    match cx
        .clients()
        .eks
        .describe_cluster()
        .name(name)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeCluster", e))
    {
        Ok(out) => Ok(out.cluster().cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Waits until the cluster is ACTIVE; FAILED is an error. (An update call moves the cluster
/// to UPDATING before it answers, so this also waits out updates.)
async fn wait_active(cx: &Cx<'_>, name: &str, timeout: Duration) -> Result<()> {
    Wait::up_to(timeout)
        .until(
            cx.op,
            &format!("EKS cluster {name} to become ACTIVE"),
            || async {
                let Some(c) = describe(cx, name).await? else {
                    return Err(ProviderError::not_found(format!(
                        "EKS cluster {name} disappeared"
                    )));
                };
                match c.status() {
                    Some(ClusterStatus::Active) => Ok(Some(())),
                    Some(ClusterStatus::Failed) => Err(ProviderError::fatal(format!(
                        "EKS cluster {name} is FAILED"
                    ))),
                    _ => Ok(None),
                }
            },
        )
        .await
}

/// The cluster's state from the API, on top of `base` (which carries at least `id`).
async fn read_into(cx: &Cx<'_>, base: Value) -> Result<Option<Value>> {
    let name = Attrs(&base).id()?.to_owned();
    let Some(c) = describe(cx, &name).await? else {
        return Ok(None);
    };
    let prior = Attrs(&base);
    let mut state = Obj::from(&base);
    state
        .set("id", name.as_str())
        .set("name", name.as_str())
        .set_opt("arn", c.arn())
        .set_opt("role_arn", c.role_arn())
        .set_opt("version", c.version())
        .set_opt("endpoint", c.endpoint())
        .set_opt("status", c.status().map(|s| s.as_str().to_owned()))
        .set_opt("platform_version", c.platform_version());
    if let Some(data) = c.certificate_authority().and_then(|ca| ca.data()) {
        state.set(
            "certificate_authority",
            Value::List(vec![Value::map([("data", Value::string(data))])]),
        );
    }
    if let Some(v) = c.resources_vpc_config() {
        let prior_vpc = prior.block("vpc_config");
        let kept = |name: &str| {
            prior_vpc
                .and_then(|b| b.get(name))
                .cloned()
                .unwrap_or(Value::Null)
        };
        // A cluster always has subnets; none in the answer means the API left the list out
        // (moto drops both lists after UpdateClusterConfig): keep what state knew.
        let (subnets, groups) = if v.subnet_ids().is_empty() {
            (kept("subnet_ids"), kept("security_group_ids"))
        } else {
            (
                str_set_or_null(v.subnet_ids(), None),
                str_set_or_null(
                    v.security_group_ids(),
                    prior_vpc.and_then(|b| b.get("security_group_ids")),
                ),
            )
        };
        state.set(
            "vpc_config",
            Value::map([
                ("subnet_ids", subnets),
                ("security_group_ids", groups),
                (
                    "endpoint_public_access",
                    Value::Bool(v.endpoint_public_access()),
                ),
                (
                    "endpoint_private_access",
                    Value::Bool(v.endpoint_private_access()),
                ),
            ]),
        );
    }
    let setups = c.logging().map(|l| l.cluster_logging()).unwrap_or_default();
    // moto renders each log setup as an empty object: nothing to read, keep what state knew.
    if setups
        .iter()
        .any(|s| s.enabled().is_some() || !s.types().is_empty())
    {
        let enabled: Vec<&str> = setups
            .iter()
            .filter(|s| s.enabled() == Some(true))
            .flat_map(|s| s.types().iter().map(|t| t.as_str()))
            .collect();
        state.set(
            "enabled_cluster_log_types",
            str_set_or_null(&enabled, prior.get("enabled_cluster_log_types")),
        );
    }
    let cloud: Tags = c
        .tags()
        .map(|t| t.clone().into_iter().collect())
        .unwrap_or_default();
    tags::record(&mut state, &cx.settings.default_tags, &cloud);
    crate::attrs::complete(&mut state, &EksCluster.schema());
    Ok(Some(state.into_value()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(subnets: &[&str], public: bool) -> Value {
        Value::map([
            ("id", Value::string("gpu")),
            ("name", Value::string("gpu")),
            ("role_arn", Value::string("arn:aws:iam::1:role/eks")),
            ("endpoint", Value::string("https://x")),
            (
                "vpc_config",
                Value::map([
                    (
                        "subnet_ids",
                        Value::set(subnets.iter().map(|s| Value::string(*s)).collect()),
                    ),
                    ("security_group_ids", Value::Null),
                    ("endpoint_public_access", Value::Bool(public)),
                    ("endpoint_private_access", Value::Bool(false)),
                ]),
            ),
        ])
    }

    #[test]
    fn subnets_replace_the_cluster_access_flags_do_not() {
        let schema = EksCluster.schema();
        let prior = state(&["subnet-a", "subnet-b"], true);
        let flags = EksCluster.plan(
            &schema,
            Some(&prior),
            &state(&["subnet-a", "subnet-b"], false),
        );
        assert!(flags.is_ok_and(|p| p.requires_replace.is_empty()));
        // (A configuration has no computed attributes.)
        let mut config = state(&["subnet-a", "subnet-c"], true);
        if let Value::Map(m) = &mut config {
            m.remove("endpoint");
            m.remove("id");
        }
        let moved = EksCluster.plan(&schema, Some(&prior), &config);
        let moved = moved.ok();
        assert_eq!(
            moved.as_ref().map(|p| p.requires_replace.clone()),
            Some(vec!["vpc_config.subnet_ids".to_owned()])
        );
        // A new cluster gets a new endpoint.
        let endpoint =
            moved.and_then(|p| p.value.as_map().and_then(|m| m.get("endpoint")).cloned());
        assert!(endpoint.is_some_and(|e| e.is_unknown()));
    }

    #[test]
    fn logging_enables_and_disables() {
        let l = logging(&["api".into(), "audit".into()], &["scheduler".into()]);
        let setups = l.cluster_logging();
        assert_eq!(setups.len(), 2);
        assert_eq!(setups[0].enabled(), Some(true));
        assert_eq!(setups[0].types(), [LogType::Api, LogType::Audit]);
        assert_eq!(setups[1].enabled(), Some(false));
        assert_eq!(setups[1].types(), [LogType::Scheduler]);
    }
}

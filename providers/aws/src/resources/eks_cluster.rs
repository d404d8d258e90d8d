//! `aws_eks_cluster`: a Kubernetes control plane. Creating, updating and deleting one takes
//! minutes: every change waits (bounded) until the cluster is ACTIVE again, or gone.

use super::{accepted, after_accept, Cx, ResourceType};
use crate::attrs::{replace_on_change, str_set_or_null, Attrs, Obj};
use crate::errors::{is_not_found, ok_if_not_found, sdk_error};
use crate::tags::{self, with_tags, Tags};
use crate::wait::{read_back, through_iam_propagation, Wait};
use aws_sdk_eks::types::{
    Cluster, ClusterStatus, LogSetup, LogType, Logging, Update, UpdateStatus, VpcConfigRequest,
};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, plan_from_schema, Attribute, ErrorClass, NestedBlock, Nesting, ObjectAttr,
    PlannedState, ProviderError, Schema, Timeouts, Type, Value,
};
use std::collections::BTreeMap;
use std::time::Duration;

pub struct EksCluster;

/// vpc_config arguments that UpdateClusterConfig cannot change.
const REPLACE_PATHS: &[&str] = &["vpc_config.subnet_ids", "vpc_config.security_group_ids"];

/// Terraform's defaults.
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
        .with_timeouts(Timeouts {
            create: Some(CREATE_TIMEOUT),
            update: Some(UPDATE_TIMEOUT),
            delete: Some(DELETE_TIMEOUT),
        })
    }

    fn plan(&self, schema: &Schema, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        let mut planned = plan_from_schema(schema, prior, config);
        replace_on_change(schema, prior, config, &mut planned, REPLACE_PATHS);
        Ok(planned)
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let name = a.req_str("name")?.to_owned();
        let role_arn = a.req_str("role_arn")?;
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
        let eks = &cx.clients().eks;
        let send = || {
            eks.create_cluster()
                .name(&name)
                .role_arn(role_arn)
                .set_version(a.str("version").map(str::to_owned))
                .resources_vpc_config(vpc_config.clone())
                .set_logging((!log_types.is_empty()).then(|| logging(&log_types, &[])))
                .set_client_request_token(cx.token().map(str::to_owned))
                .set_tags(Some(cx.tags(planned).into_iter().collect()))
                .send()
        };
        // EKS may not be able to assume a role made moments ago yet.
        let created = through_iam_propagation(cx.op, "CreateCluster", || async {
            send().await.map_err(|e| sdk_error("CreateCluster", e))
        })
        .await;
        if let Err(e) = created {
            // A retry of a create that went through finds the cluster it made (AWS answers
            // such a retry itself; moto does not look the token up).
            if e.class != ErrorClass::Conflict || !made_by(cx, &name).await? {
                return Err(e);
            }
        }
        let known = accepted(planned, &name);
        after_accept(known.clone(), async {
            wait_active(cx, &name, CREATE_TIMEOUT).await?;
            let noun = format!("EKS cluster {name}");
            read_back(cx.op, &noun, || read_into(cx, known.clone())).await
        })
        .await
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
            let out = eks
                .update_cluster_version()
                .name(&name)
                .version(version)
                .send()
                .await
                .map_err(|e| sdk_error("UpdateClusterVersion", e))?;
            wait_updated(cx, &name, out.update()).await?;
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
            let out = eks
                .update_cluster_config()
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
            wait_updated(cx, &name, out.update()).await?;
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
            let out = eks
                .update_cluster_config()
                .name(&name)
                .logging(logging(&new_logs, &disabled))
                .send()
                .await
                .map_err(|e| sdk_error("UpdateClusterConfig", e))?;
            wait_updated(cx, &name, out.update()).await?;
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
        wait_deleted(cx, &name).await
    }

    /// The cluster with the planned name, when it was made with this create's token (EKS
    /// records the clientRequestToken) or carries this create's stack, address and token.
    /// Found still CREATING, it is waited for until ACTIVE.
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        _token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let name = Attrs(planned).req_str("name")?;
        if !made_by(cx, name).await? {
            return Ok(None);
        }
        wait_active(cx, name, CREATE_TIMEOUT).await?;
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

/// True when the cluster is this create's: made with its clientRequestToken (and not
/// tagged as another stack's or address's), or tagged with its stack, address and token. A
/// cluster of that name with another token (another stack's, or a deposed predecessor) is
/// not.
fn is_ours(cx: &Cx<'_>, c: &Cluster) -> bool {
    let cloud: Tags = c
        .tags()
        .map(|t| t.clone().into_iter().collect())
        .unwrap_or_default();
    let by_token = cx
        .token()
        .is_some_and(|t| c.client_request_token() == Some(t))
        && !tags::contradict(cx.op, &cloud);
    by_token || tags::are_ours(cx.op, &cloud)
}

/// Whether the existing cluster `name` is the one this create made.
async fn made_by(cx: &Cx<'_>, name: &str) -> Result<bool> {
    Ok(describe(cx, name).await?.is_some_and(|c| is_ours(cx, &c)))
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

/// Waits until the cluster is ACTIVE (up to the operation's timeout, else `default`);
/// FAILED is an error with EKS's health issues.
async fn wait_active(cx: &Cx<'_>, name: &str, default: Duration) -> Result<()> {
    Wait::for_op(cx.op, default)
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
                    Some(ClusterStatus::Failed) => Err(failed(name, &c)),
                    _ => Ok(None),
                }
            },
        )
        .await
}

/// Waits until the cluster is gone. A cluster whose deletion failed (EKS shows it FAILED)
/// is an error with its health issues instead of a wait to the deadline.
async fn wait_deleted(cx: &Cx<'_>, name: &str) -> Result<()> {
    Wait::for_op(cx.op, DELETE_TIMEOUT)
        .until(
            cx.op,
            &format!("EKS cluster {name} to be deleted"),
            || async {
                match describe(cx, name).await? {
                    None => Ok(Some(())),
                    Some(c) if c.status() == Some(&ClusterStatus::Failed) => Err(failed(name, &c)),
                    Some(_) => Ok(None),
                }
            },
        )
        .await
}

/// The error of a cluster EKS shows as FAILED, with its health issues.
fn failed(name: &str, c: &Cluster) -> ProviderError {
    let issues: Vec<String> = c
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
    let detail = if issues.is_empty() {
        "no health issues given".to_owned()
    } else {
        issues.join("; ")
    };
    ProviderError::fatal(format!("EKS cluster {name} is FAILED: {detail}"))
}

/// Waits for a cluster update: by its id when EKS returned one (DescribeUpdate until
/// Successful), else until the cluster is ACTIVE again (an update moves it to UPDATING
/// before the call answers; moto answers UpdateClusterConfig without an update).
async fn wait_updated(cx: &Cx<'_>, name: &str, update: Option<&Update>) -> Result<()> {
    match update.and_then(Update::id) {
        Some(id) => wait_update(cx, name, None, id, UPDATE_TIMEOUT).await,
        None => wait_active(cx, name, UPDATE_TIMEOUT).await,
    }
}

/// Polls DescribeUpdate for update `id` of the cluster (or of its node group `nodegroup`)
/// until it is Successful; Failed or Cancelled is an error with EKS's error details.
pub(super) async fn wait_update(
    cx: &Cx<'_>,
    cluster: &str,
    nodegroup: Option<&str>,
    id: &str,
    default: Duration,
) -> Result<()> {
    let of = match nodegroup {
        Some(ng) => format!("node group {cluster}:{ng}"),
        None => format!("EKS cluster {cluster}"),
    };
    let eks = &cx.clients().eks;
    Wait::for_op(cx.op, default)
        .until(cx.op, &format!("update {id} of {of} to finish"), || async {
            let out = eks
                .describe_update()
                .name(cluster)
                .set_nodegroup_name(nodegroup.map(str::to_owned))
                .update_id(id)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeUpdate", e))?;
            let update = out.update().ok_or_else(|| {
                ProviderError::not_found(format!("EKS has no update {id} of {of}"))
            })?;
            update_outcome(&of, update)
        })
        .await
}

/// `Some` once the update succeeded, `None` while it runs, an error when it failed or was
/// cancelled (with EKS's error codes and messages).
pub(super) fn update_outcome(of: &str, update: &Update) -> Result<Option<()>> {
    let status = update.status();
    match status {
        Some(UpdateStatus::Successful) => return Ok(Some(())),
        Some(UpdateStatus::Failed | UpdateStatus::Cancelled) => {}
        _ => return Ok(None),
    }
    let errors: Vec<String> = update
        .errors()
        .iter()
        .map(|e| {
            format!(
                "{}: {}",
                e.error_code().map_or("?", |c| c.as_str()),
                e.error_message().unwrap_or("")
            )
        })
        .collect();
    let (class, detail) = eks_problems(&errors, "no error details given");
    Err(ProviderError::new(
        class,
        format!(
            "update {} of {of} is {}: {detail}",
            update.id().unwrap_or("?"),
            status.map_or("?", |s| s.as_str())
        ),
    ))
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

/// The class and the text of the problems EKS reports for a failed update or deletion
/// (update errors, node group health issues): capacity when it ran out of addresses or
/// capacity, else fatal.
pub(super) fn eks_problems(problems: &[String], none: &str) -> (ErrorClass, String) {
    let capacity = problems
        .iter()
        .any(|p| p.contains("InsufficientFreeAddresses") || p.contains("Capacity"));
    let class = if capacity {
        ErrorClass::Capacity
    } else {
        ErrorClass::Fatal
    };
    let detail = if problems.is_empty() {
        none.to_owned()
    } else {
        problems.join("; ")
    };
    (class, detail)
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

    fn update(status: UpdateStatus, errors: &[(&str, &str)]) -> Update {
        let errors = errors
            .iter()
            .map(|(code, message)| {
                aws_sdk_eks::types::ErrorDetail::builder()
                    .error_code((*code).into())
                    .error_message(*message)
                    .build()
            })
            .collect();
        Update::builder()
            .id("u-1")
            .status(status)
            .set_errors(Some(errors))
            .build()
    }

    #[test]
    fn an_update_is_done_when_successful_and_an_error_when_it_fails() {
        let of = "node group ml:gpu";
        assert_eq!(
            update_outcome(of, &update(UpdateStatus::InProgress, &[])),
            Ok(None)
        );
        assert_eq!(
            update_outcome(of, &update(UpdateStatus::Successful, &[])),
            Ok(Some(()))
        );
        let failed = update_outcome(
            of,
            &update(
                UpdateStatus::Failed,
                &[(
                    "NodeCreationFailure",
                    "Instances failed to join the kubernetes cluster",
                )],
            ),
        )
        .err();
        assert!(failed.as_ref().is_some_and(|e| e.class == ErrorClass::Fatal
            && e.message
                .contains("update u-1 of node group ml:gpu is Failed")
            && e.message
                .contains("NodeCreationFailure: Instances failed to join")));
        let no_room = update_outcome(
            of,
            &update(
                UpdateStatus::Failed,
                &[(
                    "InsufficientFreeAddresses",
                    "subnet-1 has no free addresses",
                )],
            ),
        )
        .err();
        assert!(no_room.is_some_and(|e| e.class == ErrorClass::Capacity));
        let cancelled = update_outcome(of, &update(UpdateStatus::Cancelled, &[])).err();
        assert!(cancelled.is_some_and(|e| e.message.contains("Cancelled")));
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

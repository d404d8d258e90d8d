//! `aws_sagemaker_notebook_instance`: a managed Jupyter notebook on an ML instance (GPU
//! types such as ml.g5.xlarge included).

use super::sagemaker_domain::{made_by, sagemaker_tags, string_set, tags_of, update_tags};
use super::{accepted, after_accept, Cx, ResourceType};
use crate::attrs::{num, Attrs, Obj};
use crate::errors::sdk_error;
use crate::tags::{self, with_tags, Tags};
use crate::wait::{read_back, through_iam_propagation, Wait};
use aws_sdk_sagemaker::operation::describe_notebook_instance::DescribeNotebookInstanceOutput;
use aws_sdk_sagemaker::types::{
    DirectInternetAccess, InstanceType, NotebookInstanceStatus as S, RootAccess,
};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, plan_from_schema, Attribute, ErrorClass, PlannedState, ProviderError, Schema,
    Timeouts, Type, Value,
};
use std::time::Duration;

pub struct NotebookInstance;

/// Starting, stopping and updating a notebook instance take minutes each: Terraform waits
/// up to 60 minutes for InService and 10 for a deletion (it has no `timeouts` block for this
/// type; gantry accepts one).
const TIMEOUT: Duration = Duration::from_secs(60 * 60);
const DELETE_TIMEOUT: Duration = Duration::from_secs(10 * 60);

/// The attributes UpdateNotebookInstance changes (the instance must be stopped for it).
const UPDATABLE: [&str; 5] = [
    "role_arn",
    "instance_type",
    "volume_size",
    "lifecycle_config_name",
    "root_access",
];

#[async_trait]
impl ResourceType for NotebookInstance {
    fn name(&self) -> &'static str {
        "aws_sagemaker_notebook_instance"
    }

    fn schema(&self) -> Schema {
        with_tags(
            Schema::default()
                .attr("id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr("url", Attribute::computed(Type::String))
                .attr("network_interface_id", Attribute::computed(Type::String))
                .attr("name", Attribute::required(Type::String).force_new())
                .attr("role_arn", Attribute::required(Type::String))
                .attr(
                    "instance_type",
                    Attribute::required(Type::String)
                        .describe("ml.t3.medium, ml.g5.xlarge ...; changing it stops, updates and restarts the instance."),
                )
                .attr("platform_identifier", Attribute::optional_computed(Type::String).force_new())
                .attr(
                    "volume_size",
                    Attribute::optional(Type::Number)
                        .with_default(Value::Number(5.0))
                        .describe("GiB; grows in place, shrinking replaces."),
                )
                .attr("subnet_id", Attribute::optional(Type::String).force_new())
                .attr("security_groups", Attribute::optional_computed(Type::set(Type::String)).force_new())
                .attr("kms_key_id", Attribute::optional(Type::String).force_new())
                .attr("lifecycle_config_name", Attribute::optional(Type::String))
                .attr("root_access", Attribute::optional(Type::String).with_default("Enabled"))
                .attr(
                    "direct_internet_access",
                    Attribute::optional(Type::String).with_default("Enabled").force_new(),
                ),
        )
        .with_timeouts(Timeouts {
            create: Some(TIMEOUT),
            update: Some(TIMEOUT),
            delete: Some(DELETE_TIMEOUT),
        })
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        validate(config)
    }

    fn plan(&self, schema: &Schema, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        // An EBS volume grows but never shrinks: a smaller one is a new instance.
        let mut schema = schema.clone();
        let shrinks = prior
            .and_then(|p| Attrs(p).num("volume_size"))
            .zip(Attrs(config).num("volume_size"))
            .is_some_and(|(old, new)| new < old);
        if shrinks {
            if let Some(a) = schema.attributes.get_mut("volume_size") {
                a.force_new = true;
            }
        }
        Ok(plan_from_schema(&schema, prior, config))
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let name = a.req_str("name")?;
        let groups = a.strs("security_groups");
        let (instance_type, role) = (a.req_str("instance_type")?, a.req_str("role_arn")?);
        let sm = &cx.clients().sagemaker;
        let send = || {
            sm.create_notebook_instance()
                .notebook_instance_name(name)
                .instance_type(InstanceType::from(instance_type))
                .role_arn(role)
                .set_subnet_id(a.str("subnet_id").map(str::to_owned))
                .set_security_group_ids((!groups.is_empty()).then(|| groups.clone()))
                .set_kms_key_id(a.str("kms_key_id").map(str::to_owned))
                .set_lifecycle_config_name(a.str("lifecycle_config_name").map(str::to_owned))
                .set_volume_size_in_gb(a.i32("volume_size"))
                .set_root_access(a.str("root_access").map(RootAccess::from))
                .set_direct_internet_access(
                    a.str("direct_internet_access")
                        .map(DirectInternetAccess::from),
                )
                .set_platform_identifier(a.str("platform_identifier").map(str::to_owned))
                .set_tags(Some(sagemaker_tags(&cx.tags(planned))))
                .send()
        };
        // SageMaker may not be able to assume a role made moments ago yet (a refusal:
        // nothing is created, so sending the request again is safe).
        let sent = through_iam_propagation(cx.op, "CreateNotebookInstance", || async {
            send()
                .await
                .map_err(|e| sdk_error("CreateNotebookInstance", e))
        })
        .await;
        let arn = match sent {
            Ok(out) => out.notebook_instance_arn().map(str::to_owned),
            // No client token: a retried create finds the name taken. Adopt it when it is
            // the one this create made.
            Err(e) => {
                let arn = describe(cx, name)
                    .await?
                    .and_then(|nb| nb.notebook_instance_arn().map(str::to_owned));
                let ours = match &arn {
                    Some(arn) => made_by(cx, arn).await?,
                    None => false,
                };
                if !ours {
                    return Err(e);
                }
                arn
            }
        };
        let mut known = Obj::from(&accepted(planned, name));
        known.set_opt("arn", arn);
        let known = known.into_value();
        after_accept(known.clone(), async {
            wait_for(cx, name, &[S::InService]).await?;
            let noun = format!("notebook instance {name}");
            read_back(cx.op, &noun, || read_into(cx, known.clone())).await
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        read_into(cx, state.clone()).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let (p, n) = (Attrs(prior), Attrs(planned));
        let name = p.id()?.to_owned();
        if let Some(arn) = p.str("arn") {
            update_tags(cx, arn, &p.str_map("tags_all"), &cx.tags(planned)).await?;
        }
        if UPDATABLE.iter().any(|a| p.get(a) != n.get(a)) {
            update_stopped(cx, &name, &p, &n).await?;
        }
        let mut state = Obj::from(planned);
        state.set("id", name.as_str());
        read_into(cx, state.into_value())
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("notebook instance {name} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let name = Attrs(state).id()?;
        // Only a Stopped or Failed instance can be deleted.
        let Some(status) = settle(cx, name).await? else {
            return Ok(());
        };
        if status == S::InService {
            stop(cx, name).await?;
        }
        let sent = cx
            .clients()
            .sagemaker
            .delete_notebook_instance()
            .notebook_instance_name(name)
            .send()
            .await
            .map_err(|e| sdk_error("DeleteNotebookInstance", e));
        match sent {
            Err(e) if record_not_found(&e) => return Ok(()),
            Err(e) => return Err(e),
            Ok(_) => {}
        }
        Wait::for_op(cx.op, DELETE_TIMEOUT)
            .until_gone(cx.op, &format!("notebook instance {name}"), || {
                describe(cx, name)
            })
            .await
    }

    /// The instance with the planned name, when it carries this create's stack, address
    /// and token (CreateNotebookInstance takes no client token).
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        _token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let name = Attrs(planned).req_str("name")?;
        let Some(nb) = describe(cx, name).await? else {
            return Ok(None);
        };
        let going = nb.notebook_instance_status() == Some(&S::Deleting);
        let ours = match nb.notebook_instance_arn() {
            Some(arn) if !going => made_by(cx, arn).await?,
            _ => false,
        };
        if !ours {
            return Ok(None);
        }
        read_into(cx, Value::map([("id", Value::string(name))])).await
    }
}

fn validate(config: &Value) -> Vec<String> {
    let a = Attrs(config);
    let mut errors = Vec::new();
    let one_of = |name: &str, allowed: &[&str]| -> Option<String> {
        a.str(name)
            .filter(|v| !allowed.contains(v))
            .map(|v| format!("`{name}` must be one of {}, not {v:?}", allowed.join(", ")))
    };
    errors.extend(one_of("root_access", &["Enabled", "Disabled"]));
    errors.extend(one_of("direct_internet_access", &["Enabled", "Disabled"]));
    if a.str("instance_type")
        .is_some_and(|t| !t.starts_with("ml."))
    {
        errors.push(
            "`instance_type` is a SageMaker ML instance type (ml.t3.medium, ml.g5.xlarge ...)"
                .to_owned(),
        );
    }
    if a.i64("volume_size")
        .is_some_and(|v| !(5..=16384).contains(&v))
    {
        errors.push("`volume_size` must be 5 to 16384 (GiB)".to_owned());
    }
    if let Some(name) = a.str("name") {
        let ok = !name.is_empty()
            && name.len() <= 63
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !name.starts_with('-');
        if !ok {
            errors.push(format!(
                "`name` must be 1 to 63 letters, digits and hyphens: {name:?}"
            ));
        }
    }
    if a.str("direct_internet_access") == Some("Disabled") && a.str("subnet_id").is_none() {
        errors.push("`direct_internet_access = \"Disabled\"` needs a `subnet_id`".to_owned());
    }
    errors
}

/// SageMaker answers DescribeNotebookInstance on an unknown name with a ValidationException
/// saying RecordNotFound.
fn record_not_found(e: &ProviderError) -> bool {
    e.class == ErrorClass::NotFound
        || (e.code.as_deref() == Some("ValidationException")
            && e.message.contains("RecordNotFound"))
}

/// The instance, `None` when it does not exist.
async fn describe(cx: &Cx<'_>, name: &str) -> Result<Option<DescribeNotebookInstanceOutput>> {
    let out = cx
        .clients()
        .sagemaker
        .describe_notebook_instance()
        .notebook_instance_name(name)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeNotebookInstance", e));
    match out {
        Ok(nb) => Ok(Some(nb)),
        Err(e) if record_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Waits for one of `targets`; Failed (unless a target) is an error with SageMaker's reason.
async fn wait_for(cx: &Cx<'_>, name: &str, targets: &[S]) -> Result<S> {
    let states = targets
        .iter()
        .map(S::as_str)
        .collect::<Vec<_>>()
        .join(" or ");
    Wait::for_op(cx.op, TIMEOUT)
        .until_ready(
            cx.op,
            &format!("notebook instance {name}"),
            &states,
            || describe(cx, name),
            |nb| {
                let status = nb.notebook_instance_status().cloned().unwrap_or(S::Pending);
                if targets.contains(&status) {
                    return Ok(Some(status));
                }
                if status == S::Failed {
                    return Err(ProviderError::new(
                        ErrorClass::Fatal,
                        format!(
                            "notebook instance {name} failed: {}",
                            nb.failure_reason().unwrap_or("no reason given")
                        ),
                    ));
                }
                Ok(None)
            },
        )
        .await
}

/// The instance's status once it is not in a transition, `None` when it is gone.
async fn settle(cx: &Cx<'_>, name: &str) -> Result<Option<S>> {
    let Some(nb) = describe(cx, name).await? else {
        return Ok(None);
    };
    let status = nb.notebook_instance_status().cloned().unwrap_or(S::Pending);
    if matches!(status, S::InService | S::Stopped | S::Failed) {
        return Ok(Some(status));
    }
    wait_for(cx, name, &[S::InService, S::Stopped, S::Failed])
        .await
        .map(Some)
}

async fn stop(cx: &Cx<'_>, name: &str) -> Result<()> {
    cx.clients()
        .sagemaker
        .stop_notebook_instance()
        .notebook_instance_name(name)
        .send()
        .await
        .map_err(|e| sdk_error("StopNotebookInstance", e))?;
    wait_for(cx, name, &[S::Stopped]).await.map(|_| ())
}

/// UpdateNotebookInstance needs a stopped instance: stop it, update, wait for the update to
/// finish (Updating -> Stopped) and start it again if it was running, as Terraform does.
async fn update_stopped(cx: &Cx<'_>, name: &str, p: &Attrs<'_>, n: &Attrs<'_>) -> Result<()> {
    let sm = &cx.clients().sagemaker;
    let before = settle(cx, name)
        .await?
        .ok_or_else(|| ProviderError::not_found(format!("notebook instance {name} is gone")))?;
    if before == S::InService {
        stop(cx, name).await?;
    }
    let changed = |a: &str| p.get(a) != n.get(a);
    let mut req = sm.update_notebook_instance().notebook_instance_name(name);
    if changed("role_arn") {
        req = req.set_role_arn(n.str("role_arn").map(str::to_owned));
    }
    if changed("instance_type") {
        req = req.set_instance_type(n.str("instance_type").map(InstanceType::from));
    }
    if changed("volume_size") {
        req = req.set_volume_size_in_gb(n.i32("volume_size"));
    }
    if changed("root_access") {
        req = req.set_root_access(n.str("root_access").map(RootAccess::from));
    }
    if changed("lifecycle_config_name") {
        req = match n.str("lifecycle_config_name") {
            Some(c) => req.lifecycle_config_name(c),
            None => req.disassociate_lifecycle_config(true),
        };
    }
    req.send()
        .await
        .map_err(|e| sdk_error("UpdateNotebookInstance", e))?;
    wait_for(cx, name, &[S::Stopped]).await?;
    if before == S::InService {
        sm.start_notebook_instance()
            .notebook_instance_name(name)
            .send()
            .await
            .map_err(|e| sdk_error("StartNotebookInstance", e))?;
        wait_for(cx, name, &[S::InService]).await?;
    }
    Ok(())
}

/// The instance's state from the API, on top of `base` (which carries at least `id`).
async fn read_into(cx: &Cx<'_>, base: Value) -> Result<Option<Value>> {
    let name = Attrs(&base).id()?.to_owned();
    let Some(nb) = describe(cx, &name).await? else {
        return Ok(None);
    };
    if nb.notebook_instance_status() == Some(&S::Deleting) {
        return Ok(None);
    }
    let tags = tags_of(cx, nb.notebook_instance_arn()).await?;
    Ok(Some(state_of(&base, &nb, &tags, &cx.settings.default_tags)))
}

fn state_of(
    base: &Value,
    nb: &DescribeNotebookInstanceOutput,
    cloud_tags: &Tags,
    default_tags: &Tags,
) -> Value {
    let mut state = Obj::from(base);
    let opt = |s: Option<&str>| s.map_or(Value::Null, Value::string);
    let prior_groups = Attrs(base).get("security_groups").cloned();
    state
        .set("id", opt(nb.notebook_instance_name()))
        .set("name", opt(nb.notebook_instance_name()))
        .set("arn", opt(nb.notebook_instance_arn()))
        .set("url", opt(nb.url()))
        .set("network_interface_id", opt(nb.network_interface_id()))
        .set("role_arn", opt(nb.role_arn()))
        .set("instance_type", opt(nb.instance_type().map(|t| t.as_str())))
        .set(
            "volume_size",
            nb.volume_size_in_gb().map_or(Value::Null, num),
        )
        .set("subnet_id", opt(nb.subnet_id()))
        .set(
            "security_groups",
            string_set(nb.security_groups(), prior_groups.as_ref()),
        )
        .set("kms_key_id", opt(nb.kms_key_id()))
        .set(
            "lifecycle_config_name",
            opt(nb.notebook_instance_lifecycle_config_name()),
        )
        .set("root_access", opt(nb.root_access().map(|r| r.as_str())))
        .set(
            "direct_internet_access",
            opt(nb.direct_internet_access().map(|d| d.as_str())),
        )
        // Older API versions (and emulators) may not return it: keep what state had.
        .set_opt("platform_identifier", nb.platform_identifier());
    if !state.0.contains_key("platform_identifier") {
        state.set("platform_identifier", Value::Null);
    }
    tags::record(&mut state, default_tags, cloud_tags);
    state.into_value()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_not_found_is_gone() {
        let e = crate::errors::service_error(
            "DescribeNotebookInstance",
            "ValidationException",
            "RecordNotFound",
            Some(400),
        );
        assert!(record_not_found(&e));
        let other = crate::errors::service_error(
            "DescribeNotebookInstance",
            "ValidationException",
            "Status (InService) not in ([Stopped, Failed])",
            Some(400),
        );
        assert!(!record_not_found(&other));
    }

    #[test]
    fn shrinking_the_volume_replaces() {
        let schema = NotebookInstance.schema();
        let prior = Value::map([("volume_size", Value::Number(50.0)), ("name", "nb".into())]);
        let config =
            |size: f64| Value::map([("volume_size", Value::Number(size)), ("name", "nb".into())]);
        let plan = |size| NotebookInstance.plan(&schema, Some(&prior), &config(size));
        assert!(plan(20.0).is_ok_and(|p| p.requires_replace == vec!["volume_size".to_owned()]));
        assert!(plan(100.0).is_ok_and(|p| p.requires_replace.is_empty()));
    }

    #[test]
    fn state_reads_the_instance() {
        let nb = DescribeNotebookInstanceOutput::builder()
            .notebook_instance_name("research")
            .notebook_instance_arn(
                "arn:aws:sagemaker:us-east-1:123456789012:notebook-instance/research",
            )
            .instance_type(InstanceType::MlG5Xlarge)
            .volume_size_in_gb(50)
            .root_access(RootAccess::Disabled)
            .direct_internet_access(DirectInternetAccess::Enabled)
            .build();
        let base = Value::map([
            ("id", Value::string("research")),
            ("platform_identifier", "notebook-al2-v3".into()),
        ]);
        let state = state_of(&base, &nb, &Tags::new(), &Tags::new());
        let a = Attrs(&state);
        assert_eq!(a.str("instance_type"), Some("ml.g5.xlarge"));
        assert_eq!(a.i64("volume_size"), Some(50));
        assert_eq!(a.str("root_access"), Some("Disabled"));
        assert_eq!(a.str("platform_identifier"), Some("notebook-al2-v3"));
        assert_eq!(a.get("security_groups"), None);
    }

    #[test]
    fn validation() {
        let bad = Value::map([
            ("instance_type", Value::string("g5.xlarge")),
            ("volume_size", Value::Number(2.0)),
            ("direct_internet_access", Value::string("Disabled")),
        ]);
        let text = validate(&bad).join("\n");
        for name in ["instance_type", "volume_size", "subnet_id"] {
            assert!(text.contains(name), "{name}: {text}");
        }
    }
}

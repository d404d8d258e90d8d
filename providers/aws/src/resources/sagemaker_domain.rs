//! `aws_sagemaker_domain`: a SageMaker Studio domain (the ML platform's front door: user
//! profiles, apps and a home EFS file system in a VPC).

use super::{accepted, after_accept, only_one, Cx, ResourceType};
use crate::attrs::{Attrs, Obj};
use crate::errors::{none_if_not_found, sdk_error};
use crate::tags::{self, with_tags, Tags};
use crate::wait::{read_back, through_iam_propagation, Wait};
use aws_sdk_sagemaker::operation::describe_domain::DescribeDomainOutput;
use aws_sdk_sagemaker::types::{
    AppNetworkAccessType, AuthMode, DomainStatus, RetentionPolicy, RetentionType, Tag, UserSettings,
};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, Attribute, ErrorClass, NestedBlock, Nesting, ProviderError, Schema, Timeouts,
    Type, Value,
};
use std::time::Duration;

pub struct SagemakerDomain;

/// Terraform waits up to 20 minutes for InService and for deletion (it has no `timeouts`
/// block for this type; gantry accepts one).
const TIMEOUT: Duration = Duration::from_secs(20 * 60);

#[async_trait]
impl ResourceType for SagemakerDomain {
    fn name(&self) -> &'static str {
        "aws_sagemaker_domain"
    }

    fn schema(&self) -> Schema {
        let single = |schema: Schema, min_items: usize| NestedBlock {
            nesting: Nesting::List,
            schema,
            min_items,
            max_items: Some(1),
            force_new: false,
        };
        with_tags(
            Schema::default()
                .attr("id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr("url", Attribute::computed(Type::String))
                .attr("domain_name", Attribute::required(Type::String).force_new())
                .attr("auth_mode", Attribute::required(Type::String).force_new())
                .attr("vpc_id", Attribute::required(Type::String).force_new())
                .attr(
                    "subnet_ids",
                    Attribute::required(Type::set(Type::String)).force_new(),
                )
                .attr("kms_key_id", Attribute::optional(Type::String).force_new())
                .attr(
                    "app_network_access_type",
                    Attribute::optional(Type::String).with_default("PublicInternetOnly"),
                )
                .attr("home_efs_file_system_id", Attribute::computed(Type::String))
                .attr(
                    "single_sign_on_managed_application_instance_id",
                    Attribute::computed(Type::String),
                )
                .attr(
                    "single_sign_on_application_arn",
                    Attribute::computed(Type::String),
                )
                .attr(
                    "security_group_id_for_domain_boundary",
                    Attribute::computed(Type::String),
                )
                .block(
                    "default_user_settings",
                    single(
                        Schema::default()
                            .attr("execution_role", Attribute::required(Type::String))
                            .attr(
                                "security_groups",
                                Attribute::optional(Type::set(Type::String)),
                            ),
                        1,
                    ),
                )
                // Read only when deleting. Terraform replaces the domain when it changes;
                // here it changes in state only, as nothing in AWS holds it.
                .block(
                    "retention_policy",
                    single(
                        Schema::default().attr(
                            "home_efs_file_system",
                            Attribute::optional(Type::String).with_default("Retain"),
                        ),
                        0,
                    ),
                ),
        )
        .with_timeouts(Timeouts::all(TIMEOUT))
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        validate(config)
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let (name, auth, vpc) = (
            a.req_str("domain_name")?,
            a.req_str("auth_mode")?,
            a.req_str("vpc_id")?,
        );
        let sm = &cx.clients().sagemaker;
        let send = || {
            sm.create_domain()
                .domain_name(name)
                .auth_mode(AuthMode::from(auth))
                .vpc_id(vpc)
                .set_subnet_ids(Some(a.strs("subnet_ids")))
                .set_kms_key_id(a.str("kms_key_id").map(str::to_owned))
                .set_app_network_access_type(
                    a.str("app_network_access_type")
                        .map(AppNetworkAccessType::from),
                )
                .set_default_user_settings(user_settings(&a))
                .set_tags(Some(sagemaker_tags(&cx.tags(planned))))
                .send()
        };
        // SageMaker may not be able to assume an execution role made moments ago yet (it
        // refuses the request: nothing is created, so sending it again is safe).
        let out = through_iam_propagation(cx.op, "CreateDomain", || async {
            send().await.map_err(|e| sdk_error("CreateDomain", e))
        })
        .await?;
        // The id is the last part of the ARN (…:domain/d-xxxxxxxxxxxx) when not given.
        let id = out
            .domain_id()
            .or_else(|| out.domain_arn().and_then(|arn| arn.rsplit('/').next()))
            .ok_or_else(|| ProviderError::fatal("CreateDomain returned no domain id"))?
            .to_owned();
        let mut known = Obj::from(&accepted(planned, &id));
        known.set_opt("arn", out.domain_arn());
        let known = known.into_value();
        after_accept(known.clone(), async {
            wait_in_service(cx, &id, TIMEOUT).await?;
            let noun = format!("SageMaker domain {id}");
            read_back(cx.op, &noun, || read_into(cx, known.clone())).await
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        read_into(cx, state.clone()).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let (p, n) = (Attrs(prior), Attrs(planned));
        let id = p.id()?.to_owned();
        if let Some(arn) = p.str("arn") {
            update_tags(cx, arn, &p.str_map("tags_all"), &cx.tags(planned)).await?;
        }
        let updatable = ["app_network_access_type", "default_user_settings"];
        if updatable.iter().any(|name| p.get(name) != n.get(name)) {
            cx.clients()
                .sagemaker
                .update_domain()
                .domain_id(&id)
                .set_app_network_access_type(
                    n.str("app_network_access_type")
                        .map(AppNetworkAccessType::from),
                )
                .set_default_user_settings(user_settings(&n))
                .send()
                .await
                .map_err(|e| sdk_error("UpdateDomain", e))?;
            wait_in_service(cx, &id, TIMEOUT).await?;
        }
        let mut state = Obj::from(planned);
        state.set("id", id.as_str());
        read_into(cx, state.into_value())
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("SageMaker domain {id} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let a = Attrs(state);
        let id = a.id()?;
        let retain = a
            .block("retention_policy")
            .and_then(|b| b.str("home_efs_file_system"))
            .unwrap_or("Retain");
        // ResourceInUse (user profiles or apps left) is a Conflict the engine retries.
        let sent = cx
            .clients()
            .sagemaker
            .delete_domain()
            .domain_id(id)
            .retention_policy(
                RetentionPolicy::builder()
                    .home_efs_file_system(RetentionType::from(retain))
                    .build(),
            )
            .send()
            .await
            .map_err(|e| sdk_error("DeleteDomain", e));
        if none_if_not_found(sent)?.is_none() {
            return Ok(());
        }
        Wait::for_op(cx.op, TIMEOUT)
            .until(
                cx.op,
                &format!("SageMaker domain {id} to be deleted"),
                || async move {
                    match describe(cx, id).await? {
                        None => Ok(Some(())),
                        Some(d) if d.status() == Some(&DomainStatus::DeleteFailed) => {
                            Err(ProviderError::new(
                                ErrorClass::Fatal,
                                format!(
                                    "deleting SageMaker domain {id} failed: {}",
                                    d.failure_reason().unwrap_or("no reason given")
                                ),
                            ))
                        }
                        Some(_) => Ok(None),
                    }
                },
            )
            .await
    }

    /// The domain with the planned name tagged with this create's stack, address and
    /// token (CreateDomain takes no client token), paging through ListDomains. One being
    /// deleted is none.
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        _token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let name = Attrs(planned).req_str("domain_name")?;
        let mut pages = cx
            .clients()
            .sagemaker
            .list_domains()
            .into_paginator()
            .send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error("ListDomains", e))?;
            for domain in page.domains() {
                let (Some(id), Some(arn)) = (domain.domain_id(), domain.domain_arn()) else {
                    continue;
                };
                let candidate = domain.domain_name() == Some(name)
                    && domain.status() != Some(&DomainStatus::Deleting);
                if candidate && made_by(cx, arn).await? {
                    found.push(id.to_owned());
                }
            }
        }
        match only_one("SageMaker domain", found) {
            Some(id) => read_into(cx, Value::map([("id", Value::string(id))])).await,
            None => Ok(None),
        }
    }
}

fn validate(config: &Value) -> Vec<String> {
    let a = Attrs(config);
    let one_of = |name: &str, allowed: &[&str]| -> Option<String> {
        a.str(name)
            .filter(|v| !allowed.contains(v))
            .map(|v| format!("`{name}` must be one of {}, not {v:?}", allowed.join(", ")))
    };
    let mut errors: Vec<String> = [
        one_of("auth_mode", &["IAM", "SSO"]),
        one_of(
            "app_network_access_type",
            &["PublicInternetOnly", "VpcOnly"],
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    if let Some(name) = a.str("domain_name") {
        let ok = !name.is_empty()
            && name.len() <= 63
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            && !name.starts_with('-');
        if !ok {
            errors.push(format!(
                "`domain_name` must be 1 to 63 letters, digits and hyphens, not starting with a hyphen: {name:?}"
            ));
        }
    }
    if let Some(r) = a
        .block("retention_policy")
        .and_then(|b| b.str("home_efs_file_system"))
    {
        if !["Retain", "Delete"].contains(&r) {
            errors.push(format!(
                "`retention_policy.home_efs_file_system` must be Retain or Delete, not {r:?}"
            ));
        }
    }
    errors
}

fn user_settings(a: &Attrs<'_>) -> Option<UserSettings> {
    let b = a.block("default_user_settings")?;
    let groups = b.strs("security_groups");
    Some(
        UserSettings::builder()
            .set_execution_role(b.str("execution_role").map(str::to_owned))
            .set_security_groups((!groups.is_empty()).then_some(groups))
            .build(),
    )
}

/// The domain, `None` when it does not exist (or is being deleted).
async fn describe(cx: &Cx<'_>, id: &str) -> Result<Option<DescribeDomainOutput>> {
    let out = cx
        .clients()
        .sagemaker
        .describe_domain()
        .domain_id(id)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeDomain", e));
    none_if_not_found(out)
}

async fn wait_in_service(cx: &Cx<'_>, id: &str, default: Duration) -> Result<()> {
    Wait::for_op(cx.op, default)
        .until_ready(
            cx.op,
            &format!("SageMaker domain {id}"),
            "InService",
            || describe(cx, id),
            |d| match d.status() {
                Some(DomainStatus::InService) => Ok(Some(())),
                Some(s @ (DomainStatus::Failed | DomainStatus::UpdateFailed)) => {
                    Err(ProviderError::new(
                        ErrorClass::Fatal,
                        format!(
                            "SageMaker domain {id} is {}: {}",
                            s.as_str(),
                            d.failure_reason().unwrap_or("no reason given")
                        ),
                    ))
                }
                _ => Ok(None),
            },
        )
        .await
}

/// The domain's state from the API, on top of `base` (which carries at least `id`).
async fn read_into(cx: &Cx<'_>, base: Value) -> Result<Option<Value>> {
    let id = Attrs(&base).id()?.to_owned();
    let Some(d) = describe(cx, &id).await? else {
        return Ok(None);
    };
    if d.status() == Some(&DomainStatus::Deleting) {
        return Ok(None);
    }
    let tags = tags_of(cx, d.domain_arn()).await?;
    Ok(Some(state_of(&base, &d, &tags, &cx.settings.default_tags)))
}

fn state_of(
    base: &Value,
    d: &DescribeDomainOutput,
    cloud_tags: &Tags,
    default_tags: &Tags,
) -> Value {
    let mut state = Obj::from(base);
    let opt = |s: Option<&str>| s.map_or(Value::Null, Value::string);
    let prior_settings = Attrs(base).block("default_user_settings");
    let settings = d
        .default_user_settings()
        .map_or(Value::List(Vec::new()), |u| {
            let prior_groups = prior_settings.and_then(|b| b.get("security_groups"));
            Value::List(vec![Value::map([
                ("execution_role", opt(u.execution_role())),
                (
                    "security_groups",
                    string_set(u.security_groups(), prior_groups),
                ),
            ])])
        });
    state
        .set("id", opt(d.domain_id()))
        .set("arn", opt(d.domain_arn()))
        .set("url", opt(d.url()))
        .set("domain_name", opt(d.domain_name()))
        .set("auth_mode", opt(d.auth_mode().map(|m| m.as_str())))
        .set("vpc_id", opt(d.vpc_id()))
        .set_str_set("subnet_ids", d.subnet_ids())
        .set("kms_key_id", opt(d.kms_key_id()))
        .set(
            "app_network_access_type",
            opt(d.app_network_access_type().map(|t| t.as_str())),
        )
        .set("home_efs_file_system_id", opt(d.home_efs_file_system_id()))
        .set(
            "single_sign_on_managed_application_instance_id",
            opt(d.single_sign_on_managed_application_instance_id()),
        )
        .set(
            "single_sign_on_application_arn",
            opt(d.single_sign_on_application_arn()),
        )
        .set(
            "security_group_id_for_domain_boundary",
            opt(d.security_group_id_for_domain_boundary()),
        )
        .set("default_user_settings", settings);
    // retention_policy stays as state had it (only DeleteDomain takes it); an import starts
    // with none, which is how an unconfigured block plans (an empty list).
    if !matches!(state.0.get("retention_policy"), Some(Value::List(_))) {
        state.set("retention_policy", Value::List(Vec::new()));
    }
    tags::record(&mut state, default_tags, cloud_tags);
    state.into_value()
}

/// A set of strings; an empty list from the API matches how state had it (null or empty).
pub(super) fn string_set(items: &[String], prior: Option<&Value>) -> Value {
    match (items.is_empty(), prior) {
        (true, Some(p @ Value::Set(v))) if v.is_empty() => p.clone(),
        (true, _) => Value::Null,
        (false, _) => Value::set(items.iter().map(|s| Value::string(s.as_str())).collect()),
    }
}

pub(super) fn sagemaker_tags(tags: &Tags) -> Vec<Tag> {
    tags.iter()
        .map(|(k, v)| Tag::builder().key(k).value(v).build())
        .collect()
}

/// The tags on a SageMaker object (DescribeDomain and DescribeNotebookInstance leave them out).
pub(super) async fn list_tags(cx: &Cx<'_>, arn: &str) -> Result<Tags> {
    let mut all = Tags::new();
    let mut pages = cx
        .clients()
        .sagemaker
        .list_tags()
        .resource_arn(arn)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("ListTags", e))?;
        all.extend(
            page.tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned()))),
        );
    }
    Ok(all)
}

/// The tags on a SageMaker object, none when its Describe call gave no ARN to ask with.
pub(super) async fn tags_of(cx: &Cx<'_>, arn: Option<&str>) -> Result<Tags> {
    match arn {
        Some(arn) => list_tags(cx, arn).await,
        None => Ok(Tags::new()),
    }
}

/// True when the SageMaker object `arn` carries this create's stack, address and token:
/// the way to find what a killed run created (SageMaker's create calls take no client
/// token). One that is gone is not.
pub(super) async fn made_by(cx: &Cx<'_>, arn: &str) -> Result<bool> {
    Ok(none_if_not_found(list_tags(cx, arn).await)?
        .is_some_and(|found| tags::are_ours(cx.op, &found)))
}

/// Brings a SageMaker object's tags from `old` to `new` (AddTags / DeleteTags).
pub(super) async fn update_tags(cx: &Cx<'_>, arn: &str, old: &Tags, new: &Tags) -> Result<()> {
    let sm = &cx.clients().sagemaker;
    tags::update_with(
        old,
        new,
        |removed| async move {
            sm.delete_tags()
                .resource_arn(arn)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(|e| sdk_error("DeleteTags", e))
        },
        |changed| async move {
            sm.add_tags()
                .resource_arn(arn)
                .set_tags(Some(sagemaker_tags(&changed)))
                .send()
                .await
                .map_err(|e| sdk_error("AddTags", e))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_keeps_the_retention_policy_and_reads_the_user_settings() {
        let base = Value::map([
            ("id", Value::string("d-abc")),
            (
                "retention_policy",
                Value::List(vec![Value::map([(
                    "home_efs_file_system",
                    Value::string("Delete"),
                )])]),
            ),
        ]);
        let d = DescribeDomainOutput::builder()
            .domain_id("d-abc")
            .domain_arn("arn:aws:sagemaker:us-east-1:123456789012:domain/d-abc")
            .domain_name("ml")
            .auth_mode(AuthMode::Iam)
            .subnet_ids("subnet-2")
            .subnet_ids("subnet-1")
            .default_user_settings(
                UserSettings::builder()
                    .execution_role("arn:aws:iam::123456789012:role/sm")
                    .build(),
            )
            .build();
        let cloud: Tags = [("gantry:address".to_owned(), "x".to_owned())].into();
        let state = state_of(&base, &d, &cloud, &Tags::new());
        let a = Attrs(&state);
        assert_eq!(a.str("auth_mode"), Some("IAM"));
        assert_eq!(a.strs("subnet_ids"), vec!["subnet-1", "subnet-2"]);
        let settings = a.blocks("default_user_settings");
        assert_eq!(
            settings[0].str("execution_role"),
            Some("arn:aws:iam::123456789012:role/sm")
        );
        assert_eq!(settings[0].get("security_groups"), None);
        assert_eq!(
            a.block("retention_policy")
                .and_then(|b| b.str("home_efs_file_system")),
            Some("Delete")
        );
        assert_eq!(a.get("tags"), None);
    }

    #[test]
    fn empty_sets_keep_their_configured_shape() {
        assert_eq!(string_set(&[], None), Value::Null);
        assert_eq!(
            string_set(&[], Some(&Value::Set(Vec::new()))),
            Value::Set(Vec::new())
        );
        assert_eq!(
            string_set(&["b".into(), "a".into()], None),
            Value::set(vec!["a".into(), "b".into()])
        );
    }

    #[test]
    fn validation() {
        let bad = Value::map([
            ("auth_mode", Value::string("LDAP")),
            ("domain_name", Value::string("-ml_platform")),
        ]);
        let text = validate(&bad).join("\n");
        assert!(
            text.contains("auth_mode") && text.contains("domain_name"),
            "{text}"
        );
    }
}

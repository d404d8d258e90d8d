//! `aws_iam_policy`: a customer managed IAM policy. A new `policy` document becomes a new
//! default version (IAM keeps at most five: the oldest non-default one is deleted first).

use super::iam_common;
use super::{accepted, after_accept, naming, policy_json, Cx, ResourceType};
use crate::attrs::{num, Attrs, Obj};
use crate::errors::{is_not_found, none_if_not_found, ok_if_not_found, sdk_error};
use crate::tags::{self, with_tags};
use crate::wait::read_back;
use aws_sdk_iam::types::PolicyScopeType;
use aws_smithy_types::date_time::Format;
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, PlannedState, ProviderError, Schema, Type, Value};

/// IAM's limit of versions per managed policy.
const MAX_VERSIONS: usize = 5;

pub struct IamPolicy;

#[async_trait]
impl ResourceType for IamPolicy {
    fn name(&self) -> &'static str {
        "aws_iam_policy"
    }

    fn schema(&self) -> Schema {
        with_tags(
            Schema::default()
                .attr(
                    "id",
                    Attribute::computed(Type::String).describe("The policy ARN."),
                )
                .attr("arn", Attribute::computed(Type::String))
                .attr(
                    "name",
                    Attribute::optional_computed(Type::String).force_new(),
                )
                .attr("name_prefix", Attribute::optional(Type::String).force_new())
                .attr(
                    "path",
                    Attribute::optional(Type::String)
                        .with_default("/")
                        .force_new(),
                )
                .attr("description", Attribute::optional(Type::String).force_new())
                .attr(
                    "policy",
                    Attribute::required(Type::String).describe("The policy document (JSON)."),
                )
                .attr("policy_id", Attribute::computed(Type::String))
                .attr("attachment_count", Attribute::computed(Type::Number)),
        )
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut errors: Vec<String> = policy_json::check(config, "policy").into_iter().collect();
        if a.str("name").is_some() && a.str("name_prefix").is_some() {
            errors.push("`name` and `name_prefix` cannot both be set".into());
        }
        if a.str("name").is_some_and(|n| n.len() > 128) {
            errors.push("`name` must be at most 128 characters".into());
        }
        errors
    }

    fn plan(&self, schema: &Schema, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        let mut planned = gantry_provider::plan_from_schema(schema, prior, config);
        policy_json::plan_equivalent(&mut planned, prior, "policy");
        Ok(planned)
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let name = iam_common::planned_name(planned, cx.token());
        let path = a.str("path").unwrap_or("/");
        let out = cx
            .clients()
            .iam
            .create_policy()
            .policy_name(&name)
            .path(path)
            .policy_document(a.req_str("policy")?)
            .set_description(a.str("description").map(str::to_owned))
            .set_tags(Some(tags::iam_tags(&cx.tags(planned))))
            .send()
            .await
            .map_err(|e| sdk_error("CreatePolicy", e));
        let arn = match out {
            Ok(out) => out
                .policy()
                .and_then(|p| p.arn())
                .ok_or_else(|| ProviderError::fatal("CreatePolicy returned no policy ARN"))?
                .to_owned(),
            // A retried create whose first attempt went through finds its own policy.
            Err(e) if e.code.as_deref() == Some("EntityAlreadyExists") => {
                match arn_of(cx, &name, path).await? {
                    Some(arn) if ours(cx, &arn).await? => arn,
                    _ => return Err(e),
                }
            }
            Err(e) => return Err(e),
        };
        let known = accepted(planned, &arn);
        let noun = format!("IAM policy {name}");
        after_accept(
            known.clone(),
            read_back(cx.op, &noun, || read_into(cx, known.clone())),
        )
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        read_into(cx, state.clone()).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let iam = &cx.clients().iam;
        let (p, n) = (Attrs(prior), Attrs(planned));
        let arn = p.id()?.to_owned();
        if p.str("policy") != n.str("policy") {
            prune_versions(cx, &arn).await?;
            iam.create_policy_version()
                .policy_arn(&arn)
                .policy_document(n.req_str("policy")?)
                .set_as_default(true)
                .send()
                .await
                .map_err(|e| sdk_error("CreatePolicyVersion", e))?;
        }
        let policy = arn.as_str();
        tags::update_with(
            &p.str_map("tags_all"),
            &tags::merged(&cx.settings.default_tags, planned),
            |removed| async move {
                iam.untag_policy()
                    .policy_arn(policy)
                    .set_tag_keys(Some(removed))
                    .send()
                    .await
                    .map_err(|e| sdk_error("UntagPolicy", e))
            },
            |changed| async move {
                iam.tag_policy()
                    .policy_arn(policy)
                    .set_tags(Some(tags::iam_tags(&changed)))
                    .send()
                    .await
                    .map_err(|e| sdk_error("TagPolicy", e))
            },
        )
        .await?;
        let mut state = Obj::from(planned);
        state.set("id", arn.as_str());
        read_into(cx, state.into_value())
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("IAM policy {arn} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let arn = Attrs(state).id()?;
        let iam = &cx.clients().iam;
        // A policy with versions besides the default cannot be deleted.
        let versions = match list_versions(cx, arn).await {
            Ok(v) => v,
            Err(e) if is_not_found(&e) => return Ok(()),
            Err(e) => return Err(e),
        };
        for (id, is_default, _) in versions {
            if !is_default {
                ok_if_not_found(delete_version(cx, arn, &id).await)?;
            }
        }
        // Still attached somewhere: DeleteConflict, retried by the engine as a Conflict.
        ok_if_not_found(
            iam.delete_policy()
                .policy_arn(arn)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DeletePolicy", e)),
        )
    }

    /// The policy with the planned name (or the one `name_prefix` and this create's token
    /// make) and path, when it carries this create's stack, address and token.
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let name = iam_common::planned_name(planned, Some(token));
        let path = Attrs(planned).str("path").unwrap_or("/");
        match arn_of(cx, &name, path).await? {
            Some(arn) if ours(cx, &arn).await? => {
                read_into(cx, Value::map([("id", Value::string(arn))])).await
            }
            _ => Ok(None),
        }
    }
}

/// The ARN of the customer managed policy `name` under `path`, paging through ListPolicies
/// (the account id is not always known, so the ARN is not built by hand).
async fn arn_of(cx: &Cx<'_>, name: &str, path: &str) -> Result<Option<String>> {
    let mut pages = cx
        .clients()
        .iam
        .list_policies()
        .scope(PolicyScopeType::Local)
        .path_prefix(path)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("ListPolicies", e))?;
        let found = page
            .policies()
            .iter()
            .find(|p| p.policy_name() == Some(name) && p.path().unwrap_or("/") == path);
        if let Some(arn) = found.and_then(|p| p.arn()) {
            return Ok(Some(arn.to_owned()));
        }
    }
    Ok(None)
}

/// True when the policy carries this create's stack, address and token.
async fn ours(cx: &Cx<'_>, arn: &str) -> Result<bool> {
    let out = cx
        .clients()
        .iam
        .list_policy_tags()
        .policy_arn(arn)
        .send()
        .await;
    let found = out
        .map(|out| tags::from_iam(out.tags()))
        .map_err(|e| sdk_error("ListPolicyTags", e));
    iam_common::ours(cx, found)
}

/// The policy's versions: (id, is default, created), oldest first.
async fn list_versions(cx: &Cx<'_>, arn: &str) -> Result<Vec<(String, bool, String)>> {
    let out = cx
        .clients()
        .iam
        .list_policy_versions()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| sdk_error("ListPolicyVersions", e))?;
    let mut versions: Vec<(String, bool, String)> = out
        .versions()
        .iter()
        .map(|v| {
            let created = v
                .create_date()
                .and_then(|d| d.fmt(Format::DateTime).ok())
                .unwrap_or_default();
            (
                v.version_id().unwrap_or_default().to_owned(),
                v.is_default_version(),
                created,
            )
        })
        .collect();
    // Oldest first; version ids (v1, v2, ... v10) break ties numerically.
    let number = |id: &str| id.trim_start_matches('v').parse::<u64>().unwrap_or(0);
    versions.sort_by(|a, b| a.2.cmp(&b.2).then(number(&a.0).cmp(&number(&b.0))));
    Ok(versions)
}

/// Makes room for a new version: at the limit, deletes the oldest non-default one.
async fn prune_versions(cx: &Cx<'_>, arn: &str) -> Result<()> {
    let versions = list_versions(cx, arn).await?;
    if versions.len() < MAX_VERSIONS {
        return Ok(());
    }
    match versions.iter().find(|(_, is_default, _)| !is_default) {
        Some((id, _, _)) => ok_if_not_found(delete_version(cx, arn, id).await),
        None => Ok(()),
    }
}

async fn delete_version(cx: &Cx<'_>, arn: &str, id: &str) -> Result<()> {
    cx.clients()
        .iam
        .delete_policy_version()
        .policy_arn(arn)
        .version_id(id)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("DeletePolicyVersion", e))
}

/// The policy's state from the API, on top of `base` (which carries at least `id`).
async fn read_into(cx: &Cx<'_>, base: Value) -> Result<Option<Value>> {
    let arn = Attrs(&base).id()?.to_owned();
    let iam = &cx.clients().iam;
    let out = iam.get_policy().policy_arn(&arn).send().await;
    let Some(out) = none_if_not_found(out.map_err(|e| sdk_error("GetPolicy", e)))? else {
        return Ok(None);
    };
    let Some(policy) = out.policy() else {
        return Ok(None);
    };
    let b = Attrs(&base);
    let mut state = Obj::from(&base);
    if let Some(version) = policy.default_version_id() {
        let doc = iam
            .get_policy_version()
            .policy_arn(&arn)
            .version_id(version)
            .send()
            .await
            .map_err(|e| sdk_error("GetPolicyVersion", e))?;
        let text = doc.policy_version().and_then(|v| v.document());
        state.set_opt(
            "policy",
            text.map(|t| policy_json::settle(b.str("policy"), t)),
        );
    }
    state
        .set("id", arn.as_str())
        .set("arn", arn.as_str())
        .set_opt("name", policy.policy_name())
        .set_opt("path", policy.path())
        .set(
            "description",
            policy
                .description()
                .filter(|d| !d.is_empty())
                .map_or(Value::Null, Value::string),
        )
        .set_opt("policy_id", policy.policy_id())
        .set(
            "attachment_count",
            num(policy.attachment_count().unwrap_or(0)),
        );
    if !state.0.contains_key("name_prefix") {
        // Imported: the prefix a generated name was made from, as Terraform infers it.
        let prefix = policy.policy_name().and_then(naming::prefix_of);
        state.set("name_prefix", prefix.map_or(Value::Null, Value::string));
    }
    let tags = policy_tags(cx, &arn, policy.tags()).await?;
    tags::record(&mut state, &cx.settings.default_tags, &tags);
    Ok(Some(state.into_value()))
}

/// The policy's tags: GetPolicy returns them on AWS; ListPolicyTags when it gave none.
async fn policy_tags(
    cx: &Cx<'_>,
    arn: &str,
    given: &[aws_sdk_iam::types::Tag],
) -> Result<tags::Tags> {
    if !given.is_empty() {
        return Ok(tags::from_iam(given));
    }
    let out = cx
        .clients()
        .iam
        .list_policy_tags()
        .policy_arn(arn)
        .send()
        .await
        .map_err(|e| sdk_error("ListPolicyTags", e))?;
    Ok(tags::from_iam(out.tags()))
}

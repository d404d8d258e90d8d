//! `aws_iam_role`: an IAM role and its trust policy (`assume_role_policy`, compared by
//! meaning: a reformatted equal policy is no change).

use super::iam_common;
use super::{accepted, after_accept, naming, policy_json, Cx, ResourceType};
use crate::attrs::{num, Attrs, Obj};
use crate::errors::{none_if_not_found, ok_if_not_found, sdk_error};
use crate::tags::{self, with_tags};
use crate::wait::read_back;
use aws_smithy_types::date_time::Format;
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, PlannedState, ProviderError, Schema, Type, Value};

pub struct IamRole;

#[async_trait]
impl ResourceType for IamRole {
    fn name(&self) -> &'static str {
        "aws_iam_role"
    }

    fn schema(&self) -> Schema {
        with_tags(
            Schema::default()
                .attr(
                    "id",
                    Attribute::computed(Type::String).describe("The role name."),
                )
                .attr(
                    "name",
                    Attribute::optional_computed(Type::String).force_new(),
                )
                .attr("name_prefix", Attribute::optional(Type::String).force_new())
                .attr(
                    "assume_role_policy",
                    Attribute::required(Type::String).describe("The trust policy (JSON)."),
                )
                .attr("description", Attribute::optional(Type::String))
                .attr(
                    "path",
                    Attribute::optional(Type::String)
                        .with_default("/")
                        .force_new(),
                )
                .attr(
                    "max_session_duration",
                    Attribute::optional(Type::Number).with_default(3600.0),
                )
                .attr(
                    "force_detach_policies",
                    Attribute::optional(Type::Bool)
                        .with_default(false)
                        .describe("Detach managed and delete inline policies before deleting."),
                )
                .attr("arn", Attribute::computed(Type::String))
                .attr("unique_id", Attribute::computed(Type::String))
                .attr("create_date", Attribute::computed(Type::String)),
        )
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut errors: Vec<String> = policy_json::check(config, "assume_role_policy")
            .into_iter()
            .collect();
        if a.str("name").is_some() && a.str("name_prefix").is_some() {
            errors.push("`name` and `name_prefix` cannot both be set".into());
        }
        if a.str("name").is_some_and(|n| n.len() > 64) {
            errors.push("`name` must be at most 64 characters".into());
        }
        if a.str("name_prefix")
            .is_some_and(|n| n.len() > 64 - naming::SUFFIX_LEN)
        {
            errors.push(format!(
                "`name_prefix` must be at most {} characters",
                64 - naming::SUFFIX_LEN
            ));
        }
        if let Some(d) = a
            .num("max_session_duration")
            .filter(|d| !(3600.0..=43200.0).contains(d))
        {
            errors.push(format!(
                "`max_session_duration` must be between 3600 and 43200 seconds, not {d}"
            ));
        }
        errors
    }

    fn plan(&self, schema: &Schema, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        let mut planned = gantry_provider::plan_from_schema(schema, prior, config);
        policy_json::plan_equivalent(&mut planned, prior, "assume_role_policy");
        Ok(planned)
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let name = iam_common::planned_name(planned, cx.token());
        let created = cx
            .clients()
            .iam
            .create_role()
            .role_name(&name)
            .assume_role_policy_document(a.req_str("assume_role_policy")?)
            .path(a.str("path").unwrap_or("/"))
            .set_description(a.str("description").map(str::to_owned))
            .set_max_session_duration(a.i32("max_session_duration"))
            .set_tags(Some(tags::iam_tags(&cx.tags(planned))))
            .send()
            .await
            .map_err(|e| sdk_error("CreateRole", e));
        if let Err(e) = created {
            // A retried create whose first attempt went through finds its own role.
            if !(e.code.as_deref() == Some("EntityAlreadyExists") && ours(cx, &name).await?) {
                return Err(e);
            }
        }
        let mut known = Obj::from(&accepted(planned, &name));
        known.set("name", name.as_str());
        let known = known.into_value();
        // IAM is eventually consistent: a new role may not be readable at once.
        let noun = format!("IAM role {name}");
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
        let name = p.id()?.to_owned();
        if p.str("assume_role_policy") != n.str("assume_role_policy") {
            iam.update_assume_role_policy()
                .role_name(&name)
                .policy_document(n.req_str("assume_role_policy")?)
                .send()
                .await
                .map_err(|e| sdk_error("UpdateAssumeRolePolicy", e))?;
        }
        if p.str("description") != n.str("description")
            || p.num("max_session_duration") != n.num("max_session_duration")
        {
            iam.update_role()
                .role_name(&name)
                // An unset description is cleared, as Terraform does.
                .description(n.str("description").unwrap_or_default())
                .set_max_session_duration(n.i32("max_session_duration"))
                .send()
                .await
                .map_err(|e| sdk_error("UpdateRole", e))?;
        }
        let role = name.as_str();
        tags::update_with(
            &p.str_map("tags_all"),
            &tags::merged(&cx.settings.default_tags, planned),
            |removed| async move {
                iam.untag_role()
                    .role_name(role)
                    .set_tag_keys(Some(removed))
                    .send()
                    .await
                    .map_err(|e| sdk_error("UntagRole", e))
            },
            |changed| async move {
                iam.tag_role()
                    .role_name(role)
                    .set_tags(Some(tags::iam_tags(&changed)))
                    .send()
                    .await
                    .map_err(|e| sdk_error("TagRole", e))
            },
        )
        .await?;
        let mut state = Obj::from(planned);
        state.set("id", name.as_str());
        read_into(cx, state.into_value())
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("IAM role {name} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let a = Attrs(state);
        let name = a.id()?;
        let iam = &cx.clients().iam;
        if a.bool("force_detach_policies") == Some(true) {
            ok_if_not_found(detach_all(cx, name).await)?;
        }
        // DeleteConflict (policies still attached, still in an instance profile) is a
        // Conflict, which the engine retries while the dependants go.
        ok_if_not_found(
            iam.delete_role()
                .role_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DeleteRole", e)),
        )
    }

    /// The role with the planned name (or the one `name_prefix` and this create's token
    /// make), when it carries this create's stack, address and token.
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let name = iam_common::planned_name(planned, Some(token));
        if !ours(cx, &name).await? {
            return Ok(None);
        }
        read_into(cx, Value::map([("id", Value::string(name))])).await
    }
}

/// True when the role `name` carries this create's stack, address and token.
async fn ours(cx: &Cx<'_>, name: &str) -> Result<bool> {
    let out = cx.clients().iam.get_role().role_name(name).send().await;
    let found = out
        .map(|out| {
            out.role()
                .map(|r| tags::from_iam(r.tags()))
                .unwrap_or_default()
        })
        .map_err(|e| sdk_error("GetRole", e));
    iam_common::ours(cx, found)
}

/// Detaches every managed policy and deletes every inline policy of the role.
async fn detach_all(cx: &Cx<'_>, name: &str) -> Result<()> {
    let iam = &cx.clients().iam;
    let attached = iam
        .list_attached_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| sdk_error("ListAttachedRolePolicies", e))?;
    for policy in attached.attached_policies() {
        if let Some(arn) = policy.policy_arn() {
            ok_if_not_found(
                iam.detach_role_policy()
                    .role_name(name)
                    .policy_arn(arn)
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| sdk_error("DetachRolePolicy", e)),
            )?;
        }
    }
    let inline = iam
        .list_role_policies()
        .role_name(name)
        .send()
        .await
        .map_err(|e| sdk_error("ListRolePolicies", e))?;
    for policy in inline.policy_names() {
        ok_if_not_found(
            iam.delete_role_policy()
                .role_name(name)
                .policy_name(policy)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DeleteRolePolicy", e)),
        )?;
    }
    Ok(())
}

/// The role's state from the API, on top of `base` (which carries at least `id`).
async fn read_into(cx: &Cx<'_>, base: Value) -> Result<Option<Value>> {
    let name = Attrs(&base).id()?.to_owned();
    let out = cx.clients().iam.get_role().role_name(&name).send().await;
    let Some(out) = none_if_not_found(out.map_err(|e| sdk_error("GetRole", e)))? else {
        return Ok(None);
    };
    let Some(role) = out.role() else {
        return Ok(None);
    };
    let b = Attrs(&base);
    let policy = role
        .assume_role_policy_document()
        .map(|doc| policy_json::settle(b.str("assume_role_policy"), doc));
    let mut state = Obj::from(&base);
    state
        .set("id", role.role_name())
        .set("name", role.role_name())
        .set("arn", role.arn())
        .set("unique_id", role.role_id())
        .set("path", role.path())
        .set(
            "description",
            role.description()
                .filter(|d| !d.is_empty())
                .map_or(Value::Null, Value::string),
        )
        .set_opt("max_session_duration", role.max_session_duration().map(num))
        .set_opt("assume_role_policy", policy)
        .set_opt("create_date", role.create_date().fmt(Format::DateTime).ok())
        // Not readable: kept from state, Terraform's default on import.
        .set(
            "force_detach_policies",
            b.bool("force_detach_policies").unwrap_or(false),
        );
    if !state.0.contains_key("name_prefix") {
        // Imported: the prefix a generated name was made from, as Terraform infers it.
        state.set(
            "name_prefix",
            naming::prefix_of(role.role_name()).map_or(Value::Null, Value::string),
        );
    }
    tags::record(
        &mut state,
        &cx.settings.default_tags,
        &tags::from_iam(role.tags()),
    );
    Ok(Some(state.into_value()))
}

//! `aws_iam_instance_profile`: what lets an EC2 instance take a role. The role can be
//! swapped in place (remove the old one, add the new).

use super::iam_common;
use super::{accepted, after_accept, naming, Cx, ResourceType};
use crate::attrs::{Attrs, Obj};
use crate::errors::{is_not_found, none_if_not_found, ok_if_not_found, sdk_error};
use crate::tags::{self, with_tags};
use crate::wait::read_back;
use aws_smithy_types::date_time::Format;
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, ProviderError, Schema, Type, Value};

pub struct IamInstanceProfile;

#[async_trait]
impl ResourceType for IamInstanceProfile {
    fn name(&self) -> &'static str {
        "aws_iam_instance_profile"
    }

    fn schema(&self) -> Schema {
        with_tags(
            Schema::default()
                .attr(
                    "id",
                    Attribute::computed(Type::String).describe("The profile name."),
                )
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
                .attr(
                    "role",
                    Attribute::optional(Type::String).describe("Name of the role."),
                )
                .attr("arn", Attribute::computed(Type::String))
                .attr("unique_id", Attribute::computed(Type::String))
                .attr("create_date", Attribute::computed(Type::String)),
        )
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut errors = Vec::new();
        if a.str("name").is_some() && a.str("name_prefix").is_some() {
            errors.push("`name` and `name_prefix` cannot both be set".into());
        }
        if a.str("name").is_some_and(|n| n.len() > 128) {
            errors.push("`name` must be at most 128 characters".into());
        }
        errors
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let name = iam_common::planned_name(planned, cx.token());
        let created = cx
            .clients()
            .iam
            .create_instance_profile()
            .instance_profile_name(&name)
            .path(a.str("path").unwrap_or("/"))
            .set_tags(Some(tags::iam_tags(&cx.tags(planned))))
            .send()
            .await
            .map_err(|e| sdk_error("CreateInstanceProfile", e));
        if let Err(e) = created {
            // A retried create whose first attempt went through finds its own profile.
            if !(e.code.as_deref() == Some("EntityAlreadyExists") && ours(cx, &name).await?) {
                return Err(e);
            }
        }
        let known = accepted(planned, &name);
        let noun = format!("instance profile {name}");
        after_accept(known.clone(), async {
            if let Some(role) = a.str("role") {
                // A retried create may have added it already (a second role is refused).
                let holds = read_back(cx.op, &noun, || read_into(cx, known.clone())).await?;
                if Attrs(&holds).str("role") != Some(role) {
                    set_role(cx, &name, None, Some(role)).await?;
                }
            }
            read_back(cx.op, &noun, || read_into(cx, known.clone())).await
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        read_into(cx, state.clone()).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let iam = &cx.clients().iam;
        let (p, n) = (Attrs(prior), Attrs(planned));
        let name = p.id()?.to_owned();
        if p.str("role") != n.str("role") {
            set_role(cx, &name, p.str("role"), n.str("role")).await?;
        }
        let profile = name.as_str();
        tags::update_with(
            &p.str_map("tags_all"),
            &tags::merged(&cx.settings.default_tags, planned),
            |removed| async move {
                iam.untag_instance_profile()
                    .instance_profile_name(profile)
                    .set_tag_keys(Some(removed))
                    .send()
                    .await
                    .map_err(|e| sdk_error("UntagInstanceProfile", e))
            },
            |changed| async move {
                iam.tag_instance_profile()
                    .instance_profile_name(profile)
                    .set_tags(Some(tags::iam_tags(&changed)))
                    .send()
                    .await
                    .map_err(|e| sdk_error("TagInstanceProfile", e))
            },
        )
        .await?;
        let mut state = Obj::from(planned);
        state.set("id", name.as_str());
        read_into(cx, state.into_value())
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("instance profile {name} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let name = Attrs(state).id()?;
        let iam = &cx.clients().iam;
        let out = iam
            .get_instance_profile()
            .instance_profile_name(name)
            .send()
            .await;
        let profile = match out.map_err(|e| sdk_error("GetInstanceProfile", e)) {
            Ok(out) => out.instance_profile().cloned(),
            Err(e) if is_not_found(&e) => return Ok(()),
            Err(e) => return Err(e),
        };
        // A profile holding a role cannot be deleted: take every role out first.
        for role in profile.iter().flat_map(|p| p.roles()) {
            set_role(cx, name, Some(role.role_name()), None).await?;
        }
        ok_if_not_found(
            iam.delete_instance_profile()
                .instance_profile_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DeleteInstanceProfile", e)),
        )
    }

    /// The profile with the planned name (or the one `name_prefix` and this create's token
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

/// Moves the profile from role `old` to role `new` (either may be none).
async fn set_role(cx: &Cx<'_>, profile: &str, old: Option<&str>, new: Option<&str>) -> Result<()> {
    let iam = &cx.clients().iam;
    if let Some(old) = old {
        ok_if_not_found(
            iam.remove_role_from_instance_profile()
                .instance_profile_name(profile)
                .role_name(old)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("RemoveRoleFromInstanceProfile", e)),
        )?;
    }
    if let Some(new) = new {
        iam.add_role_to_instance_profile()
            .instance_profile_name(profile)
            .role_name(new)
            .send()
            .await
            .map_err(|e| sdk_error("AddRoleToInstanceProfile", e))?;
    }
    Ok(())
}

/// True when the profile carries this create's stack, address and token.
async fn ours(cx: &Cx<'_>, name: &str) -> Result<bool> {
    let out = cx
        .clients()
        .iam
        .get_instance_profile()
        .instance_profile_name(name)
        .send()
        .await;
    let found = out
        .map(|out| {
            out.instance_profile()
                .map(|p| tags::from_iam(p.tags()))
                .unwrap_or_default()
        })
        .map_err(|e| sdk_error("GetInstanceProfile", e));
    iam_common::ours(cx, found)
}

/// The profile's state from the API, on top of `base` (which carries at least `id`).
async fn read_into(cx: &Cx<'_>, base: Value) -> Result<Option<Value>> {
    let name = Attrs(&base).id()?.to_owned();
    let iam = &cx.clients().iam;
    let out = iam
        .get_instance_profile()
        .instance_profile_name(&name)
        .send()
        .await;
    let Some(out) = none_if_not_found(out.map_err(|e| sdk_error("GetInstanceProfile", e)))? else {
        return Ok(None);
    };
    let Some(profile) = out.instance_profile() else {
        return Ok(None);
    };
    let role = profile.roles().first().map(|r| r.role_name());
    let mut state = Obj::from(&base);
    state
        .set("id", profile.instance_profile_name())
        .set("name", profile.instance_profile_name())
        .set("path", profile.path())
        .set("arn", profile.arn())
        .set("unique_id", profile.instance_profile_id())
        .set("role", role.map_or(Value::Null, Value::string))
        .set_opt(
            "create_date",
            profile.create_date().fmt(Format::DateTime).ok(),
        );
    if !state.0.contains_key("name_prefix") {
        // Imported: the prefix a generated name was made from, as Terraform infers it.
        let prefix = naming::prefix_of(profile.instance_profile_name());
        state.set("name_prefix", prefix.map_or(Value::Null, Value::string));
    }
    // GetInstanceProfile returns the tags (moto has no ListInstanceProfileTags).
    let found = tags::from_iam(profile.tags());
    tags::record(&mut state, &cx.settings.default_tags, &found);
    Ok(Some(state.into_value()))
}

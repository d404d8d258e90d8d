//! `aws_kms_key`: a KMS key. Deleting schedules the deletion (`deletion_window_in_days`,
//! 7 to 30 days; KMS cannot delete at once), and a key pending deletion reads as gone.

use super::{accepted, after_accept, only_one, policy_json, Cx, ResourceType};
use crate::attrs::{num, Attrs, Obj};
use crate::errors::{is_not_found, ok_if_not_found, sdk_error};
use crate::tags::{self, with_tags};
use crate::wait::read_back;
use aws_sdk_kms::types::{KeyMetadata, KeySpec, KeyState, KeyUsageType};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, Attribute, ErrorClass, PlannedState, ProviderError, Schema, Type, Value,
};

pub struct KmsKey;

#[async_trait]
impl ResourceType for KmsKey {
    fn name(&self) -> &'static str {
        "aws_kms_key"
    }

    fn schema(&self) -> Schema {
        with_tags(
            Schema::default()
                .attr(
                    "id",
                    Attribute::computed(Type::String).describe("The key id."),
                )
                .attr("key_id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr("description", Attribute::optional_computed(Type::String))
                .attr(
                    "key_usage",
                    Attribute::optional(Type::String)
                        .with_default("ENCRYPT_DECRYPT")
                        .force_new(),
                )
                .attr(
                    "customer_master_key_spec",
                    Attribute::optional(Type::String)
                        .with_default("SYMMETRIC_DEFAULT")
                        .force_new(),
                )
                .attr(
                    "policy",
                    Attribute::optional_computed(Type::String).describe("The key policy (JSON)."),
                )
                .attr(
                    "bypass_policy_lockout_safety_check",
                    Attribute::optional(Type::Bool).with_default(false),
                )
                .attr(
                    "is_enabled",
                    Attribute::optional(Type::Bool).with_default(true),
                )
                .attr(
                    "enable_key_rotation",
                    Attribute::optional(Type::Bool).with_default(false),
                )
                .attr(
                    "multi_region",
                    Attribute::optional_computed(Type::Bool).force_new(),
                )
                .attr(
                    "deletion_window_in_days",
                    Attribute::optional(Type::Number).describe(
                        "Days between destroy and the key's deletion (7 to 30, default 30).",
                    ),
                ),
        )
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut errors: Vec<String> = policy_json::check(config, "policy").into_iter().collect();
        if let Some(d) = a
            .num("deletion_window_in_days")
            .filter(|d| !(7.0..=30.0).contains(d))
        {
            errors.push(format!(
                "`deletion_window_in_days` must be between 7 and 30, not {d}"
            ));
        }
        if let Some(u) = a.str("key_usage") {
            if !KeyUsageType::values().contains(&u) {
                errors.push(format!(
                    "`key_usage` must be one of {:?}, not {u:?}",
                    KeyUsageType::values()
                ));
            }
        }
        if let Some(s) = a.str("customer_master_key_spec") {
            if !KeySpec::values().contains(&s) {
                errors.push(format!(
                    "`customer_master_key_spec` must be one of {:?}, not {s:?}",
                    KeySpec::values()
                ));
            }
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
        let kms = &cx.clients().kms;
        let out = kms
            .create_key()
            .set_description(a.str("description").map(str::to_owned))
            .key_usage(a.str("key_usage").unwrap_or("ENCRYPT_DECRYPT").into())
            .key_spec(
                a.str("customer_master_key_spec")
                    .unwrap_or("SYMMETRIC_DEFAULT")
                    .into(),
            )
            .set_policy(a.str("policy").map(str::to_owned))
            .bypass_policy_lockout_safety_check(
                a.bool("bypass_policy_lockout_safety_check")
                    .unwrap_or(false),
            )
            .set_multi_region(a.bool("multi_region"))
            .set_tags(Some(tags::kms_tags(&cx.tags(planned))))
            .send()
            .await
            .map_err(|e| sdk_error("CreateKey", e))?;
        let id = out
            .key_metadata()
            .map(|m| m.key_id().to_owned())
            .ok_or_else(|| ProviderError::fatal("CreateKey returned no key"))?;
        let known = accepted(planned, &id);
        after_accept(known.clone(), async {
            let new_key = Value::map([("is_enabled", Value::Bool(true))]);
            set_enabled_and_rotation(cx, &id, &new_key, planned).await?;
            let noun = format!("KMS key {id}");
            read_back(cx.op, &noun, || read_into(cx, known.clone())).await
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        read_into(cx, state.clone()).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let kms = &cx.clients().kms;
        let (p, n) = (Attrs(prior), Attrs(planned));
        let id = p.id()?.to_owned();
        if p.str("description") != n.str("description") {
            kms.update_key_description()
                .key_id(&id)
                .description(n.str("description").unwrap_or_default())
                .send()
                .await
                .map_err(|e| sdk_error("UpdateKeyDescription", e))?;
        }
        if let Some(policy) = n.str("policy").filter(|np| p.str("policy") != Some(*np)) {
            kms.put_key_policy()
                .key_id(&id)
                .policy_name("default")
                .policy(policy)
                .bypass_policy_lockout_safety_check(
                    n.bool("bypass_policy_lockout_safety_check")
                        .unwrap_or(false),
                )
                .send()
                .await
                .map_err(|e| sdk_error("PutKeyPolicy", e))?;
        }
        set_enabled_and_rotation(cx, &id, prior, planned).await?;
        let key = id.as_str();
        tags::update_with(
            &p.str_map("tags_all"),
            &tags::merged(&cx.settings.default_tags, planned),
            |removed| async move {
                kms.untag_resource()
                    .key_id(key)
                    .set_tag_keys(Some(removed))
                    .send()
                    .await
                    .map_err(|e| sdk_error("UntagResource", e))
            },
            |changed| async move {
                kms.tag_resource()
                    .key_id(key)
                    .set_tags(Some(tags::kms_tags(&changed)))
                    .send()
                    .await
                    .map_err(|e| sdk_error("TagResource", e))
            },
        )
        .await?;
        let mut state = Obj::from(planned);
        state.set("id", id.as_str());
        read_into(cx, state.into_value())
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("KMS key {id} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let a = Attrs(state);
        let id = a.id()?;
        let scheduled = cx
            .clients()
            .kms
            .schedule_key_deletion()
            .key_id(id)
            .set_pending_window_in_days(a.i32("deletion_window_in_days"))
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("ScheduleKeyDeletion", e));
        match scheduled {
            // Already scheduled (someone else destroyed it): gone as far as we are concerned.
            Err(e) if e.code.as_deref() == Some("KMSInvalidStateException") => {
                match describe(cx, id).await? {
                    Some(m) if !pending_deletion(&m) => Err(e),
                    _ => Ok(()),
                }
            }
            other => ok_if_not_found(other),
        }
    }

    /// The key tagged with this create's stack, address and token. CreateKey takes no
    /// idempotency token and keys have no name, so every key of the account and region is
    /// looked at (paging through ListKeys), each by its tags.
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        _token: &str,
        _planned: &Value,
    ) -> Result<Option<Value>> {
        if cx.op.identity().len() < 3 {
            return Ok(None);
        }
        let mut pages = cx.clients().kms.list_keys().into_paginator().send();
        let mut found = Vec::new();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error("ListKeys", e))?;
            for id in page.keys().iter().filter_map(|k| k.key_id()) {
                let key_tags = match key_tags(cx, id).await {
                    Ok(t) => t,
                    // Keys of other principals or AWS services may refuse (AccessDenied), and
                    // a key may go while we look: neither is ours.
                    Err(e) if matches!(e.class, ErrorClass::Auth | ErrorClass::NotFound) => {
                        continue
                    }
                    Err(e) => return Err(e),
                };
                if tags::are_ours(cx.op, &key_tags) {
                    found.push(id.to_owned());
                }
            }
        }
        // A key pending deletion reads as gone.
        match only_one("KMS key", found) {
            Some(id) => read_into(cx, Value::map([("id", Value::string(id))])).await,
            None => Ok(None),
        }
    }
}

/// Turns the key on or off and its rotation, from `prior` to `planned`. Rotation can only
/// change on an enabled key: enable first, disable last.
async fn set_enabled_and_rotation(
    cx: &Cx<'_>,
    id: &str,
    prior: &Value,
    planned: &Value,
) -> Result<()> {
    let kms = &cx.clients().kms;
    let (p, n) = (Attrs(prior), Attrs(planned));
    let (was, enabled) = (
        p.bool("is_enabled").unwrap_or(true),
        n.bool("is_enabled").unwrap_or(true),
    );
    if enabled && !was {
        kms.enable_key()
            .key_id(id)
            .send()
            .await
            .map_err(|e| sdk_error("EnableKey", e))?;
    }
    let rotation = n.bool("enable_key_rotation").unwrap_or(false);
    if p.bool("enable_key_rotation").unwrap_or(false) != rotation {
        if rotation {
            kms.enable_key_rotation()
                .key_id(id)
                .send()
                .await
                .map_err(|e| sdk_error("EnableKeyRotation", e))?;
        } else {
            kms.disable_key_rotation()
                .key_id(id)
                .send()
                .await
                .map_err(|e| sdk_error("DisableKeyRotation", e))?;
        }
    }
    if !enabled && was {
        kms.disable_key()
            .key_id(id)
            .send()
            .await
            .map_err(|e| sdk_error("DisableKey", e))?;
    }
    Ok(())
}

fn pending_deletion(m: &KeyMetadata) -> bool {
    matches!(
        m.key_state(),
        Some(KeyState::PendingDeletion | KeyState::PendingReplicaDeletion)
    )
}

/// The key's metadata, `None` when there is no such key.
async fn describe(cx: &Cx<'_>, id: &str) -> Result<Option<KeyMetadata>> {
    let out = cx.clients().kms.describe_key().key_id(id).send().await;
    match out.map_err(|e| sdk_error("DescribeKey", e)) {
        Ok(out) => Ok(out.key_metadata().cloned()),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn key_tags(cx: &Cx<'_>, id: &str) -> Result<tags::Tags> {
    let mut all = tags::Tags::new();
    let mut marker: Option<String> = None;
    loop {
        let page = cx
            .clients()
            .kms
            .list_resource_tags()
            .key_id(id)
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|e| sdk_error("ListResourceTags", e))?;
        all.extend(tags::from_kms(page.tags()));
        match page.next_marker() {
            Some(m) if page.truncated() => marker = Some(m.to_owned()),
            _ => return Ok(all),
        }
    }
}

/// The key's state from the API, on top of `base` (which carries at least `id`).
async fn read_into(cx: &Cx<'_>, base: Value) -> Result<Option<Value>> {
    let id = Attrs(&base).id()?.to_owned();
    let Some(meta) = describe(cx, &id).await? else {
        return Ok(None);
    };
    if pending_deletion(&meta) {
        return Ok(None);
    }
    let kms = &cx.clients().kms;
    let b = Attrs(&base);
    let policy = kms
        .get_key_policy()
        .key_id(&id)
        .policy_name("default")
        .send()
        .await
        .map_err(|e| sdk_error("GetKeyPolicy", e))?;
    let spec = meta.key_spec().map(|s| s.as_str().to_owned());
    let usage = meta.key_usage().map(|u| u.as_str().to_owned());
    // Only symmetric encryption keys rotate; asking about others is an error.
    let rotation = if spec.as_deref() == Some("SYMMETRIC_DEFAULT")
        && usage.as_deref() == Some("ENCRYPT_DECRYPT")
    {
        kms.get_key_rotation_status()
            .key_id(&id)
            .send()
            .await
            .map_err(|e| sdk_error("GetKeyRotationStatus", e))?
            .key_rotation_enabled()
    } else {
        false
    };
    let mut state = Obj::from(&base);
    state
        .set("id", meta.key_id())
        .set("key_id", meta.key_id())
        .set_opt("arn", meta.arn())
        .set("description", meta.description().unwrap_or_default())
        .set_opt("key_usage", usage)
        .set_opt("customer_master_key_spec", spec)
        .set("is_enabled", meta.enabled())
        .set("enable_key_rotation", rotation)
        .set("multi_region", meta.multi_region().unwrap_or(false))
        .set_opt(
            "policy",
            policy
                .policy()
                .map(|p| policy_json::settle(b.str("policy"), p)),
        )
        // Not readable: kept from state, Terraform's default on import.
        .set(
            "bypass_policy_lockout_safety_check",
            b.bool("bypass_policy_lockout_safety_check")
                .unwrap_or(false),
        );
    // Not readable: kept from state (unset on import).
    state.set(
        "deletion_window_in_days",
        b.num("deletion_window_in_days").map_or(Value::Null, num),
    );
    tags::record(
        &mut state,
        &cx.settings.default_tags,
        &key_tags(cx, &id).await?,
    );
    Ok(Some(state.into_value()))
}

//! `google_project_iam_member`: one member granted one role on a project, without
//! touching the project's other grants (non-authoritative, as in Terraform).
//!
//! The project's policy is one document: each change reads it, edits the binding and
//! writes it back with the etag it read, so a policy someone changed in between is
//! refused (409 ABORTED) rather than overwritten; the whole read-modify-write is then
//! retried. Changes to one project from one run take turns (a lock per project), so the
//! grants of one apply do not race each other.
//!
//! A grant has no identity beyond (project, role, member): granting it again is the same
//! grant, so crash recovery takes a grant that is present as the interrupted create's.
//! Conditional bindings (`condition`) are not supported yet: a configuration with one is
//! refused at plan rather than granted unconditionally.

use super::{Cx, ResourceType};
use crate::errors::call_error;
use crate::wire::{from_model, to_model};
use gantry_provider::attrs::{complete, Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, ErrorClass, ProviderError, Schema, Type, Value};
use google_cloud_iam_v1::model::{GetPolicyOptions, Policy};
use serde_json::{json, Value as Json};
use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

pub struct ProjectIamMember;

/// Read-modify-write attempts before a policy that keeps changing is an error.
const ATTEMPTS: u32 = 8;

static PROJECT_LOCKS: LazyLock<Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>> =
    LazyLock::new(Default::default);

fn project_lock(project: &str) -> Arc<tokio::sync::Mutex<()>> {
    let mut locks = PROJECT_LOCKS
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    locks.entry(project.to_owned()).or_default().clone()
}

struct Grant {
    project: String,
    role: String,
    member: String,
}

impl Grant {
    fn of(cx: &Cx<'_>, v: &Value) -> Result<Grant> {
        let a = Attrs(v);
        Ok(Grant {
            project: a
                .str("project")
                .unwrap_or(&cx.settings.project)
                .trim_start_matches("projects/")
                .to_owned(),
            role: a.req_str("role")?.to_owned(),
            member: a.req_str("member")?.to_owned(),
        })
    }

    fn id(&self) -> String {
        format!("{}/{}/{}", self.project, self.role, self.member)
    }
}

#[async_trait]
impl ResourceType for ProjectIamMember {
    fn name(&self) -> &'static str {
        "google_project_iam_member"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr(
                "project",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("role", Attribute::required(Type::String).force_new())
            .attr("member", Attribute::required(Type::String).force_new())
            .attr("condition", Attribute::optional(Type::Any).force_new())
            .attr("etag", Attribute::computed(Type::String))
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut problems = Vec::new();
        if a.get("condition").is_some_and(|c| !c.is_null()) {
            problems.push(
                "conditional grants (`condition`) are not supported yet: gantry would grant the role unconditionally, so it refuses".to_owned(),
            );
        }
        if let Some(role) = a.str("role") {
            let custom = role.starts_with("projects/") || role.starts_with("organizations/");
            if !role.starts_with("roles/") && !custom {
                problems.push(format!(
                    "`role` {role:?} must be `roles/NAME`, `projects/P/roles/NAME` or `organizations/O/roles/NAME`"
                ));
            }
        }
        if let Some(member) = a.str("member") {
            const KINDS: [&str; 6] = [
                "user:",
                "serviceAccount:",
                "group:",
                "domain:",
                "principal:",
                "principalSet:",
            ];
            if !KINDS.iter().any(|k| member.starts_with(k)) {
                problems.push(format!(
                    "`member` {member:?} must start with one of {}",
                    KINDS.join(" ")
                ));
            }
        }
        problems
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let grant = Grant::of(cx, planned)?;
        let etag = change(cx, &grant, true).await?;
        Ok(state(&grant, &etag, planned))
    }

    async fn read(&self, cx: &Cx<'_>, state_now: &Value) -> Result<Option<Value>> {
        let grant = Grant::of(cx, state_now)?;
        let policy = get_policy(cx, &grant.project).await?;
        Ok(has(&policy, &grant).then(|| state(&grant, &etag_of(&policy), state_now)))
    }

    async fn update(&self, cx: &Cx<'_>, _prior: &Value, planned: &Value) -> Result<Value> {
        // Every argument replaces the grant: nothing to change in place.
        let grant = Grant::of(cx, planned)?;
        let policy = get_policy(cx, &grant.project).await?;
        Ok(state(&grant, &etag_of(&policy), planned))
    }

    async fn delete(&self, cx: &Cx<'_>, state_now: &Value) -> Result<()> {
        let grant = Grant::of(cx, state_now)?;
        change(cx, &grant, false).await.map(drop)
    }

    async fn import(&self, cx: &Cx<'_>, id: &str) -> Result<Option<Value>> {
        // `PROJECT ROLE MEMBER` (Terraform's form) or `PROJECT/ROLE/MEMBER`.
        let parts: Vec<&str> = if id.contains(' ') {
            id.split_whitespace().collect()
        } else {
            id.splitn(3, '/').collect()
        };
        let [project, role, member] = parts.as_slice() else {
            return Err(ProviderError::invalid(format!(
                "cannot import {id:?}: expected \"PROJECT ROLE MEMBER\""
            )));
        };
        let config = Value::map([
            ("project", Value::string(*project)),
            ("role", Value::string(*role)),
            ("member", Value::string(*member)),
        ]);
        self.read(cx, &config).await
    }

    async fn find_created(
        &self,
        cx: &Cx<'_>,
        _token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        self.read(cx, planned).await
    }
}

fn state(grant: &Grant, etag: &str, base: &Value) -> Value {
    let mut s = Obj::from(base);
    s.set("id", grant.id())
        .set("project", grant.project.as_str())
        .set("role", grant.role.as_str())
        .set("member", grant.member.as_str())
        .set("etag", etag);
    complete(&mut s, &ProjectIamMember.schema());
    s.into_value()
}

/// Adds (`grant`) or removes the member, retrying the read-modify-write while the policy
/// changes under it; returns the written policy's etag.
async fn change(cx: &Cx<'_>, grant: &Grant, add: bool) -> Result<String> {
    let lock = project_lock(&grant.project);
    let _turn = lock.lock().await;
    let mut pause = Duration::from_millis(200);
    for attempt in 1..=ATTEMPTS {
        let mut policy = get_policy(cx, &grant.project).await?;
        if has(&policy, grant) == add {
            return Ok(etag_of(&policy));
        }
        edit(&mut policy, grant, add);
        match set_policy(cx, &grant.project, policy).await {
            Ok(written) => return Ok(etag_of(&written)),
            Err(e) if e.class == ErrorClass::Conflict && attempt < ATTEMPTS => {
                tracing::debug!(attempt, project = %grant.project, "policy changed under us; reading it again");
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(5));
            }
            Err(e) => return Err(e),
        }
    }
    Err(ProviderError::new(
        ErrorClass::Conflict,
        format!(
            "the IAM policy of project {} kept changing: {ATTEMPTS} attempts to write it were refused",
            grant.project
        ),
    ))
}

/// True when the policy grants the role to the member unconditionally.
fn has(policy: &Json, grant: &Grant) -> bool {
    bindings(policy).iter().any(|b| {
        b.get("role").and_then(Json::as_str) == Some(grant.role.as_str())
            && b.get("condition").is_none_or(Json::is_null)
            && b.get("members")
                .and_then(Json::as_array)
                .is_some_and(|m| m.iter().any(|x| x.as_str() == Some(grant.member.as_str())))
    })
}

fn bindings(policy: &Json) -> Vec<Json> {
    policy
        .get("bindings")
        .and_then(Json::as_array)
        .cloned()
        .unwrap_or_default()
}

/// Adds the member to the role's unconditional binding (making one if needed), or takes
/// it out (dropping a binding left with no members).
fn edit(policy: &mut Json, grant: &Grant, add: bool) {
    let mut all = bindings(policy);
    let unconditional = |b: &Json| {
        b.get("role").and_then(Json::as_str) == Some(grant.role.as_str())
            && b.get("condition").is_none_or(Json::is_null)
    };
    if add {
        match all.iter_mut().find(|b| unconditional(b)) {
            Some(b) => {
                let members = b
                    .as_object_mut()
                    .map(|o| o.entry("members").or_insert_with(|| json!([])));
                if let Some(Json::Array(m)) = members {
                    m.push(json!(grant.member));
                }
            }
            None => all.push(json!({ "role": grant.role, "members": [grant.member] })),
        }
    } else {
        for b in all.iter_mut().filter(|b| unconditional(b)) {
            if let Some(Json::Array(m)) = b.get_mut("members") {
                m.retain(|x| x.as_str() != Some(grant.member.as_str()));
            }
        }
        all.retain(|b| {
            b.get("members")
                .and_then(Json::as_array)
                .is_some_and(|m| !m.is_empty())
        });
    }
    policy["bindings"] = Json::Array(all);
}

fn etag_of(policy: &Json) -> String {
    policy
        .get("etag")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// The project's policy, at version 3 so conditional bindings (which this resource keeps
/// as they are) read back whole.
async fn get_policy(cx: &Cx<'_>, project: &str) -> Result<Json> {
    let policy = cx
        .settings
        .clients
        .projects
        .get_iam_policy()
        .set_resource(format!("projects/{project}"))
        .set_options(GetPolicyOptions::default().set_requested_policy_version(3))
        .send()
        .await
        .map_err(|e| call_error("projects.getIamPolicy", e))?;
    Ok(from_model(&policy))
}

async fn set_policy(cx: &Cx<'_>, project: &str, policy: Json) -> Result<Json> {
    let policy: Policy = to_model("projects.setIamPolicy", policy)?;
    let written = cx
        .settings
        .clients
        .projects
        .set_iam_policy()
        .set_resource(format!("projects/{project}"))
        .set_policy(policy)
        .send()
        .await
        .map_err(|e| call_error("projects.setIamPolicy", e))?;
    Ok(from_model(&written))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(role: &str, member: &str) -> Grant {
        Grant {
            project: "p".into(),
            role: role.into(),
            member: member.into(),
        }
    }

    #[test]
    fn a_member_is_added_beside_others_and_removed_alone() {
        let mut policy = json!({"etag": "e", "bindings": [
            {"role": "roles/viewer", "members": ["user:a@x.com"]},
            {"role": "roles/viewer", "members": ["user:c@x.com"], "condition": {"expression": "true"}}
        ]});
        let b = grant("roles/viewer", "user:b@x.com");
        assert!(!has(&policy, &b));
        edit(&mut policy, &b, true);
        assert!(has(&policy, &b));
        assert_eq!(
            policy["bindings"][0]["members"],
            json!(["user:a@x.com", "user:b@x.com"])
        );
        let new_role = grant("roles/editor", "user:b@x.com");
        edit(&mut policy, &new_role, true);
        assert_eq!(policy["bindings"].as_array().map(Vec::len), Some(3));
        edit(&mut policy, &new_role, false);
        edit(&mut policy, &b, false);
        // The conditional binding and the other member are untouched.
        assert_eq!(
            policy["bindings"],
            json!([
                {"role": "roles/viewer", "members": ["user:a@x.com"]},
                {"role": "roles/viewer", "members": ["user:c@x.com"], "condition": {"expression": "true"}}
            ])
        );
        // A conditional grant is not the unconditional one.
        assert!(!has(&policy, &grant("roles/viewer", "user:c@x.com")));
    }
}

//! `aws_iam_role_policy_attachment`: a managed policy attached to a role. Its id (and
//! import id) is `ROLE-NAME/POLICY-ARN`. Attaching is idempotent: an attachment a killed run
//! made is adopted only on a role of this stack (find_created), else attached again.

use super::{Cx, ResourceType};
use crate::attrs::{Attrs, Obj};
use crate::errors::{is_not_found, none_if_not_found, ok_if_not_found, sdk_error};
use crate::tags;
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, ProviderError, Schema, Type, Value};

pub struct IamRolePolicyAttachment;

#[async_trait]
impl ResourceType for IamRolePolicyAttachment {
    fn name(&self) -> &'static str {
        "aws_iam_role_policy_attachment"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr(
                "id",
                Attribute::computed(Type::String).describe("`ROLE-NAME/POLICY-ARN`."),
            )
            .attr("role", Attribute::required(Type::String).force_new())
            .attr("policy_arn", Attribute::required(Type::String).force_new())
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let (role, arn) = (a.req_str("role")?, a.req_str("policy_arn")?);
        cx.clients()
            .iam
            .attach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .map_err(|e| sdk_error("AttachRolePolicy", e))?;
        let mut state = Obj::from(planned);
        state.set("id", id(role, arn));
        Ok(state.into_value())
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        let a = Attrs(state);
        let (role, arn) = match (a.str("role"), a.str("policy_arn")) {
            (Some(role), Some(arn)) => (role.to_owned(), arn.to_owned()),
            _ => parse_id(a.id()?)?,
        };
        if !attached(cx, &role, &arn).await? {
            return Ok(None);
        }
        let mut out = Obj::from(state);
        out.set("id", id(&role, &arn))
            .set("role", role.as_str())
            .set("policy_arn", arn.as_str());
        Ok(Some(out.into_value()))
    }

    /// An attachment has no identity of its own: it is the planned policy on the planned
    /// role, provided the role carries this stack's `gantry:stack` tag. On a role the stack
    /// does not own the same attachment may be anyone's: none is adopted (attaching again
    /// is harmless, and destroying this address then cannot detach someone else's).
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        _token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let role = Attrs(planned).req_str("role")?;
        let out = cx.clients().iam.get_role().role_name(role).send().await;
        let role_tags = out
            .map(|out| {
                out.role()
                    .map(|r| tags::from_iam(r.tags()))
                    .unwrap_or_default()
            })
            .map_err(|e| sdk_error("GetRole", e));
        let Some(role_tags) = none_if_not_found(role_tags)? else {
            return Ok(None);
        };
        if !tags::stack_owns(cx.op, &role_tags) {
            return Ok(None);
        }
        self.read(cx, planned).await
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let a = Attrs(state);
        ok_if_not_found(
            cx.clients()
                .iam
                .detach_role_policy()
                .role_name(a.req_str("role")?)
                .policy_arn(a.req_str("policy_arn")?)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DetachRolePolicy", e)),
        )
    }

    async fn import(&self, cx: &Cx<'_>, import_id: &str) -> Result<Option<Value>> {
        let (role, arn) = parse_id(import_id)?;
        let state = Value::map([
            ("role", Value::string(role)),
            ("policy_arn", Value::string(arn)),
        ]);
        self.read(cx, &state).await
    }
}

fn id(role: &str, arn: &str) -> String {
    format!("{role}/{arn}")
}

/// `ROLE-NAME/POLICY-ARN` (role names cannot hold a `/`; policy ARNs can).
fn parse_id(id: &str) -> Result<(String, String)> {
    match id.split_once('/') {
        Some((role, arn)) if !role.is_empty() && arn.starts_with("arn:") => {
            Ok((role.to_owned(), arn.to_owned()))
        }
        _ => Err(ProviderError::invalid(format!(
            "`{id}` is not an attachment id: expected ROLE-NAME/POLICY-ARN, e.g. \
             my-role/arn:aws:iam::aws:policy/ReadOnlyAccess"
        ))),
    }
}

/// True when `arn` is attached to `role`; false when either is gone.
async fn attached(cx: &Cx<'_>, role: &str, arn: &str) -> Result<bool> {
    let iam = &cx.clients().iam;
    let mut marker: Option<String> = None;
    loop {
        let page = iam
            .list_attached_role_policies()
            .role_name(role)
            .set_marker(marker.clone())
            .send()
            .await
            .map_err(|e| sdk_error("ListAttachedRolePolicies", e));
        let page = match page {
            Ok(p) => p,
            Err(e) if is_not_found(&e) => return Ok(false),
            Err(e) => return Err(e),
        };
        if page
            .attached_policies()
            .iter()
            .any(|p| p.policy_arn() == Some(arn))
        {
            return Ok(true);
        }
        match page.marker() {
            Some(m) if page.is_truncated() => marker = Some(m.to_owned()),
            _ => return Ok(false),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_split_at_the_first_slash() {
        let (role, arn) =
            parse_id("train/arn:aws:iam::aws:policy/service-role/AmazonSageMakerFullAccess")
                .unwrap_or_default();
        assert_eq!(role, "train");
        assert_eq!(
            arn,
            "arn:aws:iam::aws:policy/service-role/AmazonSageMakerFullAccess"
        );
        assert_eq!(
            id(&role, &arn),
            "train/arn:aws:iam::aws:policy/service-role/AmazonSageMakerFullAccess"
        );
        assert!(parse_id("no-slash").is_err());
        assert!(parse_id("/arn:aws:iam::aws:policy/X").is_err());
        assert!(parse_id("role/not-an-arn").is_err());
    }
}

//! `google_service_account`: an IAM service account, named by its email
//! (`ACCOUNT_ID@PROJECT.iam.gserviceaccount.com`).
//!
//! IAM's create is synchronous and takes no request id, and a service account has no
//! labels: nothing proves that an account of this id is the one an interrupted create
//! made, so crash recovery never adopts one (the next create then fails with a conflict
//! that says how to import it). `display_name` and `description` change in place.

use super::{Cx, ResourceType};
use crate::errors::{call_error, ok_if_not_found};
use crate::wire::{from_model, str_at, to_model};
use gantry_provider::attrs::{complete, Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, ErrorClass, ProviderError, Schema, Type, Value};
use google_cloud_iam_admin_v1::model::ServiceAccount;
use serde_json::{json, Map, Value as Json};

pub struct ServiceAccountType;

pub fn email_of(project: &str, account_id: &str) -> String {
    format!("{account_id}@{project}.iam.gserviceaccount.com")
}

fn name_of(project: &str, email: &str) -> String {
    format!("projects/{project}/serviceAccounts/{email}")
}

#[async_trait]
impl ResourceType for ServiceAccountType {
    fn name(&self) -> &'static str {
        "google_service_account"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("account_id", Attribute::required(Type::String).force_new())
            .attr(
                "project",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("display_name", Attribute::optional(Type::String))
            .attr("description", Attribute::optional(Type::String))
            .attr("email", Attribute::computed(Type::String))
            .attr("name", Attribute::computed(Type::String))
            .attr("unique_id", Attribute::computed(Type::String))
            .attr("member", Attribute::computed(Type::String))
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let Some(id) = Attrs(config).str("account_id") else {
            return Vec::new();
        };
        let ok = (6..=30).contains(&id.len())
            && id.starts_with(|c: char| c.is_ascii_lowercase())
            && !id.ends_with('-')
            && id
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if ok {
            Vec::new()
        } else {
            vec![format!(
                "`account_id` {id:?} must be 6 to 30 lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen"
            )]
        }
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let project = cx.project(planned).to_owned();
        let account_id = a.req_str("account_id")?;
        let account: ServiceAccount = to_model("serviceAccounts.create", editable(&a, &[], false))?;
        let made = cx
            .settings
            .clients
            .iam
            .create_service_account()
            .set_name(format!("projects/{project}"))
            .set_account_id(account_id)
            .set_service_account(account)
            .send()
            .await
            .map_err(|e| {
                let e = call_error("serviceAccounts.create", e);
                if e.class == ErrorClass::Conflict {
                    let email = email_of(&project, account_id);
                    let name = name_of(&project, &email);
                    ProviderError {
                        message: format!(
                            "{}; if an interrupted apply made it, take it under management with `gantry import ADDRESS {name}`",
                            e.message
                        ),
                        ..e
                    }
                } else {
                    e
                }
            })?;
        Ok(self.state(&from_model(&made), &project, planned))
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        let project = cx.project(state).to_owned();
        let email = email_of(&project, Attrs(state).req_str("account_id")?);
        self.read_email(cx, &project, &email, state).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let project = cx.project(prior).to_owned();
        let (a, p) = (Attrs(prior), Attrs(planned));
        let email = email_of(&project, a.req_str("account_id")?);
        let changed: Vec<&str> = [
            ("display_name", "displayName"),
            ("description", "description"),
        ]
        .into_iter()
        .filter(|(attr, _)| a.get(attr) != p.get(attr))
        .map(|(_, field)| field)
        .collect();
        if changed.is_empty() {
            return self
                .read_email(cx, &project, &email, planned)
                .await?
                .ok_or_else(|| ProviderError::not_found(format!("{email} is gone")));
        }
        let mut account: ServiceAccount =
            to_model("serviceAccounts.patch", editable(&p, &changed, true))?;
        account.name = name_of(&project, &email);
        let patched = cx
            .settings
            .clients
            .iam
            .patch_service_account()
            .set_service_account(account)
            .set_update_mask(google_cloud_wkt::FieldMask::default().set_paths(changed))
            .send()
            .await
            .map_err(|e| call_error("serviceAccounts.patch", e))?;
        Ok(self.state(&from_model(&patched), &project, planned))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let project = cx.project(state).to_owned();
        let email = email_of(&project, Attrs(state).req_str("account_id")?);
        let sent = cx
            .settings
            .clients
            .iam
            .delete_service_account()
            .set_name(name_of(&project, &email))
            .send()
            .await
            .map_err(|e| call_error("serviceAccounts.delete", e));
        ok_if_not_found(sent).map(drop)
    }

    async fn import(&self, cx: &Cx<'_>, id: &str) -> Result<Option<Value>> {
        let email = id.rsplit('/').next().unwrap_or(id);
        let project = match id.split('/').collect::<Vec<_>>().as_slice() {
            ["projects", p, "serviceAccounts", _] if *p != "-" => (*p).to_owned(),
            _ => email
                .split_once('@')
                .and_then(|(_, domain)| domain.strip_suffix(".iam.gserviceaccount.com"))
                .map(str::to_owned)
                .ok_or_else(|| {
                    ProviderError::invalid(format!(
                        "cannot import {id:?}: expected projects/PROJECT/serviceAccounts/EMAIL or the account's email"
                    ))
                })?,
        };
        self.read_email(cx, &project, email, &Value::Null).await
    }

    /// Never: no request id, no labels, so no proof (see the module's docs).
    async fn find_created(
        &self,
        _cx: &Cx<'_>,
        _token: &str,
        _planned: &Value,
    ) -> Result<Option<Value>> {
        Ok(None)
    }
}

/// The user-editable fields (all, or only `fields`), `empty` ones sent as "" so a patch
/// can clear them.
fn editable(a: &Attrs<'_>, fields: &[&str], empty: bool) -> Json {
    let mut body = Map::new();
    for (attr, field) in [
        ("display_name", "displayName"),
        ("description", "description"),
    ] {
        if !fields.is_empty() && !fields.contains(&field) {
            continue;
        }
        match a.str(attr) {
            Some(v) => {
                body.insert(field.to_owned(), json!(v));
            }
            None if empty => {
                body.insert(field.to_owned(), json!(""));
            }
            None => {}
        }
    }
    Json::Object(body)
}

impl ServiceAccountType {
    async fn read_email(
        &self,
        cx: &Cx<'_>,
        project: &str,
        email: &str,
        base: &Value,
    ) -> Result<Option<Value>> {
        let got = cx
            .settings
            .clients
            .iam
            .get_service_account()
            .set_name(name_of(project, email))
            .send()
            .await
            .map_err(|e| call_error("serviceAccounts.get", e));
        Ok(ok_if_not_found(got)?.map(|sa| self.state(&from_model(&sa), project, base)))
    }

    fn state(&self, json: &Json, project: &str, base: &Value) -> Value {
        let email = str_at(json, "email").unwrap_or_default();
        let text = |field: &str| {
            str_at(json, field)
                .filter(|v| !v.is_empty())
                .map_or(Value::Null, Value::string)
        };
        let mut s = Obj::from(base);
        s.set("id", name_of(project, email))
            .set("name", str_at(json, "name").unwrap_or_default())
            .set("project", project)
            .set("email", email)
            .set("member", format!("serviceAccount:{email}"))
            .set("account_id", email.split('@').next().unwrap_or_default())
            .set("display_name", text("displayName"))
            .set("description", text("description"))
            .set_opt("unique_id", str_at(json, "uniqueId"));
        complete(&mut s, &self.schema());
        s.into_value()
    }
}

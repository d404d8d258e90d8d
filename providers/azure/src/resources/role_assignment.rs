//! `azurerm_role_assignment`: a role (by `role_definition_name` or `role_definition_id`)
//! for a principal at a scope. The assignment's name is a GUID; when the configuration
//! gives none, gantry names it with the create's token (a UUID), so crash recovery finds
//! exactly the assignment this create made, and nothing else. A principal made moments
//! ago is not yet in the directory everywhere: the PUT is repeated while Azure answers
//! `PrincipalNotFound`, for up to five minutes (azurerm does the same).

use super::{ArmType, Cx, Marks};
use gantry_provider::attrs::{opt_str, Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, Attribute, ErrorClass, ProviderError, Schema, Timeouts, Type, Value,
};
use serde_json::{json, Value as Json};
use std::time::Duration;

pub struct RoleAssignment;

const API: &str = "2022-04-01";

#[async_trait]
impl ArmType for RoleAssignment {
    fn name(&self) -> &'static str {
        "azurerm_role_assignment"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr(
                "name",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("scope", Attribute::required(Type::String).force_new())
            .attr(
                "role_definition_name",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "role_definition_id",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr(
                "principal_id",
                Attribute::required(Type::String).force_new(),
            )
            .attr(
                "principal_type",
                Attribute::optional_computed(Type::String).force_new(),
            )
            .attr("description", Attribute::optional(Type::String).force_new())
            .attr(
                "skip_service_principal_aad_check",
                Attribute::optional(Type::Bool),
            )
            .with_timeouts(Timeouts::all(Duration::from_secs(30 * 60)))
    }

    fn api_version(&self) -> &'static str {
        API
    }

    fn marks(&self) -> Marks {
        Marks::None
    }

    fn settle(&self) -> Option<(&'static str, Duration)> {
        Some(("PrincipalNotFound", Duration::from_secs(5 * 60)))
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let by_name = a.get("role_definition_name").is_some_and(|v| !v.is_null());
        let by_id = a.get("role_definition_id").is_some_and(|v| !v.is_null());
        match (by_name, by_id) {
            (true, true) => {
                vec!["set only one of `role_definition_name` and `role_definition_id`".into()]
            }
            (false, false) => {
                vec!["set `role_definition_name` (\"Contributor\") or `role_definition_id`".into()]
            }
            _ => Vec::new(),
        }
    }

    fn id(&self, cx: &Cx<'_>, a: &Attrs<'_>) -> Result<String> {
        let name = match a.str("name") {
            Some(name) => name.to_owned(),
            None => cx.op.idempotency_token.clone().ok_or_else(|| {
                ProviderError::fatal(
                    "a role assignment without a `name` needs the create's token to name it",
                )
            })?,
        };
        Ok(format!(
            "{}/providers/Microsoft.Authorization/roleAssignments/{name}",
            a.req_str("scope")?.trim_end_matches('/')
        ))
    }

    fn body(&self, _cx: &Cx<'_>, a: &Attrs<'_>) -> Result<Json> {
        let mut props = json!({
            "roleDefinitionId": a.req_str("role_definition_id")?,
            "principalId": a.req_str("principal_id")?,
        });
        if let Some(t) = a.str("principal_type") {
            props["principalType"] = json!(t);
        } else if a.bool("skip_service_principal_aad_check") == Some(true) {
            props["principalType"] = json!("ServicePrincipal");
        }
        if let Some(d) = a.str("description") {
            props["description"] = json!(d);
        }
        Ok(json!({"properties": props}))
    }

    fn state(&self, _cx: &Cx<'_>, json: &Json, base: &Value) -> Result<Value> {
        let p = &json["properties"];
        let mut s = Obj::from(base);
        s.set_opt("name", json["name"].as_str())
            .set_opt("scope", p["scope"].as_str())
            .set_opt("role_definition_id", p["roleDefinitionId"].as_str())
            .set_opt("principal_id", p["principalId"].as_str())
            .set_opt("principal_type", p["principalType"].as_str())
            .set("description", opt_str(p["description"].as_str()));
        if json["properties"]["scope"].is_null() {
            if let Some(id) = json["id"].as_str() {
                let scope = id
                    .split("/providers/Microsoft.Authorization/")
                    .next()
                    .unwrap_or_default();
                s.set("scope", scope);
            }
        }
        Ok(s.into_value())
    }

    /// The name is the token, so an assignment found there is this create's when it also
    /// grants the planned role to the planned principal.
    fn provably_this(&self, json: &Json, planned: &Value) -> bool {
        let a = Attrs(planned);
        let p = &json["properties"];
        let same_role = match a.str("role_definition_id") {
            Some(id) => p["roleDefinitionId"]
                .as_str()
                .is_some_and(|got| got.eq_ignore_ascii_case(id)),
            None => true,
        };
        same_role && p["principalId"].as_str() == a.str("principal_id")
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let resolved = self.resolve_role(cx, planned).await?;
        super::create(self, cx, &resolved).await
    }

    async fn find_created(
        &self,
        cx: &Cx<'_>,
        _token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let resolved = self.resolve_role(cx, planned).await?;
        let id = self.id(cx, &Attrs(&resolved))?;
        let Some(json) = cx
            .settings
            .arm
            .get(&id, API, &super::what(self, "GET", &id))
            .await?
        else {
            return Ok(None);
        };
        if self.provably_this(&json, &resolved) {
            self.finish_state(cx, &json, &resolved).map(Some)
        } else {
            Ok(None)
        }
    }
}

impl RoleAssignment {
    /// `planned` with `role_definition_id` from `role_definition_name`, looked up at the
    /// scope (built-in and custom roles alike).
    async fn resolve_role(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        if a.str("role_definition_id").is_some() {
            return Ok(planned.clone());
        }
        let role = a.req_str("role_definition_name")?;
        let scope = a.req_str("scope")?.trim_end_matches('/');
        let filter = format!("roleName eq '{}'", role.replace('\'', "''"));
        let path = format!(
            "{scope}/providers/Microsoft.Authorization/roleDefinitions?$filter={}",
            percent_encode(&filter)
        );
        let found = cx
            .settings
            .arm
            .list(&path, API, &format!("{} role lookup", self.name()))
            .await?;
        let id = found
            .iter()
            .find(|d| d.pointer("/properties/roleName").and_then(Json::as_str).is_some_and(|n| n.eq_ignore_ascii_case(role)))
            .and_then(|d| d["id"].as_str())
            .ok_or_else(|| {
                ProviderError::new(ErrorClass::InvalidInput, format!("no role named {role:?} at scope {scope} (role names are as the portal shows them: \"Storage Blob Data Contributor\")"))
            })?;
        let mut s = Obj::from(planned);
        s.set("role_definition_id", id);
        Ok(s.into_value())
    }
}

fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

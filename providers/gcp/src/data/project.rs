//! `google_project`: a project's number, display name, parent and labels
//! (`projects.get` of Resource Manager v3), the provider's project unless `project_id`
//! names another.

use super::DataSource;
use crate::errors::call_error;
use crate::resources::Cx;
use crate::wire::{from_model, str_at};
use gantry_provider::attrs::{Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, Schema, Type, Value};

pub struct Project;

#[async_trait]
impl DataSource for Project {
    fn name(&self) -> &'static str {
        "google_project"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("project_id", Attribute::optional_computed(Type::String))
            .attr("number", Attribute::computed(Type::String))
            .attr("name", Attribute::computed(Type::String))
            .attr("org_id", Attribute::computed(Type::String))
            .attr("folder_id", Attribute::computed(Type::String))
            .attr("labels", Attribute::computed(Type::map(Type::String)))
    }

    async fn read(&self, cx: &Cx<'_>, config: &Value) -> Result<Value> {
        let project_id = Attrs(config)
            .str("project_id")
            .unwrap_or(&cx.settings.project)
            .to_owned();
        let project = cx
            .settings
            .clients
            .projects
            .get_project()
            .set_name(format!("projects/{project_id}"))
            .send()
            .await
            .map_err(|e| call_error("projects.get", e))?;
        let json = from_model(&project);
        let parent = str_at(&json, "parent").unwrap_or_default();
        let under = |kind: &str| parent.strip_prefix(kind).map_or(Value::Null, Value::string);
        let labels = crate::labels::from_json(json.get("labels"));
        let mut out = Obj::from(config);
        out.set("id", format!("projects/{project_id}"))
            .set(
                "project_id",
                str_at(&json, "projectId").unwrap_or(&project_id),
            )
            .set(
                "number",
                str_at(&json, "name")
                    .and_then(|n| n.strip_prefix("projects/"))
                    .unwrap_or_default(),
            )
            .set("name", str_at(&json, "displayName").unwrap_or_default())
            .set("org_id", under("organizations/"))
            .set("folder_id", under("folders/"))
            .set("labels", gantry_provider::attrs::str_map(&labels));
        Ok(out.into_value())
    }
}

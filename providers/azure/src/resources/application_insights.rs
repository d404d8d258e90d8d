//! `azurerm_application_insights`: telemetry for the ML workspace. Its instrumentation
//! key and connection string are computed and sensitive (redacted in output).

use super::{tracked_schema, tracked_state, ArmType, Cx};
use crate::arm::ids;
use gantry_provider::attrs::{num, opt_str, Attrs};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, Schema, Timeouts, Type, Value};
use serde_json::{json, Value as Json};
use std::time::Duration;

pub struct ApplicationInsights;

pub const KIND: &str = "Microsoft.Insights/components";

#[async_trait]
impl ArmType for ApplicationInsights {
    fn name(&self) -> &'static str {
        "azurerm_application_insights"
    }

    fn schema(&self) -> Schema {
        tracked_schema()
            .attr(
                "application_type",
                Attribute::required(Type::String).force_new(),
            )
            .attr("workspace_id", Attribute::optional(Type::String))
            .attr(
                "retention_in_days",
                Attribute::optional(Type::Number).with_default(90.0),
            )
            .attr(
                "instrumentation_key",
                Attribute::computed(Type::String).sensitive(),
            )
            .attr(
                "connection_string",
                Attribute::computed(Type::String).sensitive(),
            )
            .attr("app_id", Attribute::computed(Type::String))
            .with_timeouts(Timeouts::all(Duration::from_secs(30 * 60)))
    }

    fn api_version(&self) -> &'static str {
        "2020-02-02"
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let allowed = [
            "web",
            "other",
            "java",
            "MobileCenter",
            "Node.JS",
            "ios",
            "phone",
            "store",
        ];
        match Attrs(config).str("application_type") {
            Some(t) if !allowed.contains(&t) => vec![format!(
                "`application_type` {t:?} must be one of {}",
                allowed.join(", ")
            )],
            _ => Vec::new(),
        }
    }

    fn id(&self, cx: &Cx<'_>, a: &Attrs<'_>) -> Result<String> {
        Ok(ids::resource(
            cx.subscription(),
            a.req_str("resource_group_name")?,
            KIND,
            &[a.req_str("name")?],
        ))
    }

    fn body(&self, _cx: &Cx<'_>, a: &Attrs<'_>) -> Result<Json> {
        let mut props = json!({
            "Application_Type": a.req_str("application_type")?,
            "RetentionInDays": a.i64("retention_in_days").unwrap_or(90),
        });
        if let Some(ws) = a.str("workspace_id") {
            props["WorkspaceResourceId"] = json!(ws);
        }
        Ok(json!({"location": a.req_str("location")?, "kind": "web", "properties": props}))
    }

    fn state(&self, _cx: &Cx<'_>, json: &Json, base: &Value) -> Result<Value> {
        let mut s = tracked_state(json, base);
        let p = &json["properties"];
        s.set_opt("application_type", p["Application_Type"].as_str())
            .set("workspace_id", opt_str(p["WorkspaceResourceId"].as_str()))
            .set_opt("retention_in_days", p["RetentionInDays"].as_f64().map(num))
            .set(
                "instrumentation_key",
                opt_str(p["InstrumentationKey"].as_str()),
            )
            .set("connection_string", opt_str(p["ConnectionString"].as_str()))
            .set("app_id", opt_str(p["AppId"].as_str()));
        Ok(s.into_value())
    }
}

//! `google_client_config`: the provider's project, region and zone, and an OAuth access
//! token of its credentials (sensitive), for providers and tools that need one (a GKE
//! cluster's Kubernetes API).

use super::DataSource;
use crate::resources::Cx;
use gantry_provider::attrs::Obj;
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, ErrorClass, ProviderError, Schema, Type, Value};

pub struct ClientConfig;

#[async_trait]
impl DataSource for ClientConfig {
    fn name(&self) -> &'static str {
        "google_client_config"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("project", Attribute::computed(Type::String))
            .attr("region", Attribute::computed(Type::String))
            .attr("zone", Attribute::computed(Type::String))
            .attr(
                "access_token",
                Attribute::computed(Type::String).sensitive(),
            )
    }

    async fn read(&self, cx: &Cx<'_>, config: &Value) -> Result<Value> {
        let s = cx.settings;
        let token = crate::credentials::access_token(&s.credentials)
            .await
            .map_err(|e| {
                ProviderError::new(ErrorClass::Auth, format!("google_client_config: {e}"))
            })?;
        let region = s.region.clone().unwrap_or_default();
        let zone = s.zone.clone().unwrap_or_default();
        let mut out = Obj::from(config);
        out.set(
            "id",
            format!("projects/{}/regions/{region}/zones/{zone}", s.project),
        )
        .set("project", s.project.as_str())
        .set("region", opt(&s.region))
        .set("zone", opt(&s.zone))
        .set("access_token", Value::sensitive(Value::string(token)));
        Ok(out.into_value())
    }
}

fn opt(v: &Option<String>) -> Value {
    v.as_deref().map_or(Value::Null, Value::string)
}

//! `google_compute_zones`: the zones of a region (the provider's by default), sorted by
//! name, for spreading VMs or listing failover alternatives.

use super::DataSource;
use crate::errors::call_error;
use crate::resources::Cx;
use crate::wire::{from_model, last_segment, str_at};
use gantry_provider::attrs::{Attrs, Obj};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, ProviderError, Schema, Type, Value};
use serde_json::Value as Json;

pub struct ComputeZones;

#[async_trait]
impl DataSource for ComputeZones {
    fn name(&self) -> &'static str {
        "google_compute_zones"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("project", Attribute::optional_computed(Type::String))
            .attr("region", Attribute::optional_computed(Type::String))
            .attr(
                "status",
                Attribute::optional(Type::String).describe("UP or DOWN: only zones in that state."),
            )
            .attr("names", Attribute::computed(Type::list(Type::String)))
    }

    async fn read(&self, cx: &Cx<'_>, config: &Value) -> Result<Value> {
        let a = Attrs(config);
        let project = cx.project(config).to_owned();
        let region = cx.settings.region_or(a.str("region"))?;
        let status = a.str("status");
        if let Some(s) = status.filter(|s| !matches!(*s, "UP" | "DOWN")) {
            return Err(ProviderError::invalid(format!(
                "`status` must be UP or DOWN, not {s:?}"
            )));
        }
        let mut names = Vec::new();
        let mut page_token: Option<String> = None;
        loop {
            let list = cx
                .settings
                .clients
                .zones
                .list()
                .set_project(&project)
                .set_filter(format!("region eq .*/regions/{region}"))
                .set_or_clear_page_token(page_token.clone())
                .send()
                .await
                .map_err(|e| call_error("zones.list", e))?;
            let json = from_model(&list);
            for zone in json
                .get("items")
                .and_then(Json::as_array)
                .into_iter()
                .flatten()
            {
                let in_region = str_at(zone, "region").map(last_segment) == Some(region.as_str());
                let wanted = status.is_none_or(|s| str_at(zone, "status") == Some(s));
                if let (true, true, Some(name)) = (in_region, wanted, str_at(zone, "name")) {
                    names.push(name.to_owned());
                }
            }
            page_token = str_at(&json, "nextPageToken")
                .filter(|t| !t.is_empty())
                .map(str::to_owned);
            if page_token.is_none() {
                break;
            }
        }
        names.sort();
        let mut out = Obj::from(config);
        out.set("id", format!("projects/{project}/regions/{region}"))
            .set("project", project.as_str())
            .set("region", region.as_str())
            .set_strs("names", &names);
        Ok(out.into_value())
    }
}

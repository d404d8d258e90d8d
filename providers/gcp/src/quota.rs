//! Quota pre-flight: a region's quotas as Compute Engine reports them (`regions.get`:
//! each metric's limit and what the project uses now, GPUs by family, spot separately as
//! `PREEMPTIBLE_*`).

use crate::errors::call_error;
use crate::settings::Settings;
use crate::wire::{from_model, str_at};
use gantry_provider::provider::Result;
use gantry_provider::{QuotaQuery, QuotaReading};
use serde_json::Value as Json;

/// The console page where quota increases are requested.
const QUOTAS_PAGE: &str = "https://console.cloud.google.com/iam-admin/quotas";

/// The limit and usage of `query.code` in the query's region (a zone counts in its
/// region); `None` when the region does not report that metric.
pub async fn read(settings: &Settings, query: &QuotaQuery) -> Result<Option<QuotaReading>> {
    let Some(location) = query.region.clone().or_else(|| settings.region.clone()) else {
        return Ok(None);
    };
    let region = crate::sim_model::region_of_zone(&location).unwrap_or(location);
    let got = settings
        .clients
        .regions
        .get()
        .set_project(&settings.project)
        .set_region(&region)
        .send()
        .await
        .map_err(|e| call_error("regions.get", e))?;
    Ok(reading(
        &from_model(&got),
        &query.code,
        &settings.project,
        &region,
    ))
}

fn reading(region: &Json, metric: &str, project: &str, region_name: &str) -> Option<QuotaReading> {
    let quota = region
        .get("quotas")
        .and_then(Json::as_array)?
        .iter()
        .find(|q| str_at(q, "metric") == Some(metric))?;
    Some(QuotaReading {
        name: format!("{metric} in {region_name}"),
        limit: quota.get("limit").and_then(Json::as_f64).unwrap_or(0.0),
        used: quota.get("usage").and_then(Json::as_f64).unwrap_or(0.0),
        request_url: Some(format!("{QUOTAS_PAGE}?project={project}")),
        request_command: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_metric_is_read_with_its_usage() {
        let region = json!({"quotas": [
            {"metric": "CPUS", "limit": 24.0, "usage": 8.0},
            {"metric": "PREEMPTIBLE_NVIDIA_H100_GPUS", "limit": 16.0, "usage": 8.0}
        ]});
        let r =
            reading(&region, "PREEMPTIBLE_NVIDIA_H100_GPUS", "p", "us-central1").expect("found");
        assert_eq!((r.limit, r.used, r.free()), (16.0, 8.0, 8.0));
        assert!(r
            .request_url
            .as_deref()
            .is_some_and(|u| u.contains("project=p")));
        assert!(reading(&region, "NVIDIA_A100_GPUS", "p", "us-central1").is_none());
    }
}

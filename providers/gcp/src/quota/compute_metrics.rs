//! Compute Engine's own quota metrics (`NVIDIA_H100_GPUS`, `TPU_LITE_PODSLICE_V5`): a
//! region's as `regions.get` reports them (each metric's limit and what the project uses
//! now, GPUs by family, spot separately as `PREEMPTIBLE_*`), and for GPUs also the
//! project's `GPUS_ALL_REGIONS` (`projects.get`), which caps every GPU in every region:
//! the tighter of the two decides.

use crate::errors::call_error;
use crate::settings::Settings;
use crate::wire::{from_model, str_at};
use gantry_provider::provider::Result;
use gantry_provider::{QuotaQuery, QuotaReading};
use serde_json::Value as Json;

use super::QUOTAS_PAGE;

/// Whether `code` names one of Compute Engine's metrics (`NVIDIA_H100_GPUS`), which
/// `regions.get` reports, rather than a Cloud Quotas quota id
/// (`TPUV6EPerProjectPerZoneForTPUAPI`, `TPU-V6E-per-project-region`).
pub fn is_metric(code: &str) -> bool {
    !code.is_empty()
        && code
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_')
}

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
    let regional = reading(&from_model(&got), &query.code, &settings.project, &region);
    if !is_gpu_metric(&query.code) {
        return Ok(regional);
    }
    let project = settings
        .clients
        .compute_projects
        .get()
        .set_project(&settings.project)
        .send()
        .await
        .map_err(|e| call_error("projects.get", e))?;
    let global = reading(
        &from_model(&project),
        ALL_REGIONS,
        &settings.project,
        "all regions",
    );
    Ok(tighter(regional, global))
}

/// The project-wide cap on GPUs, spot ones included.
const ALL_REGIONS: &str = "GPUS_ALL_REGIONS";

fn is_gpu_metric(metric: &str) -> bool {
    metric.starts_with("NVIDIA_") || metric.starts_with("PREEMPTIBLE_NVIDIA_")
}

/// Of two readings, the one with less free (a plan must fit both).
fn tighter(a: Option<QuotaReading>, b: Option<QuotaReading>) -> Option<QuotaReading> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.free() < a.free() { b } else { a }),
        (a, b) => a.or(b),
    }
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

    #[test]
    fn the_project_wide_gpu_cap_decides_when_it_is_tighter() {
        let region =
            json!({"quotas": [{"metric": "NVIDIA_H100_GPUS", "limit": 64.0, "usage": 0.0}]});
        let project =
            json!({"quotas": [{"metric": "GPUS_ALL_REGIONS", "limit": 16.0, "usage": 12.0}]});
        let r = tighter(
            reading(&region, "NVIDIA_H100_GPUS", "p", "us-central1"),
            reading(&project, ALL_REGIONS, "p", "all regions"),
        )
        .expect("a reading");
        assert_eq!(r.name, "GPUS_ALL_REGIONS in all regions");
        assert_eq!(r.free(), 4.0);
        assert!(is_gpu_metric("PREEMPTIBLE_NVIDIA_L4_GPUS"));
        assert!(!is_gpu_metric("TPU_LITE_PODSLICE_V5"));
    }

    #[test]
    fn compute_metrics_are_told_from_cloud_quotas_ids() {
        assert!(is_metric("PREEMPTIBLE_TPU_LITE_PODSLICE_V5"));
        assert!(is_metric("GPUS_ALL_REGIONS"));
        assert!(!is_metric("TPU-V6E-per-project-region"));
        assert!(!is_metric("TPUV5sLitepodPerProjectPerZoneForTPUAPI"));
        assert!(!is_metric(""));
    }
}

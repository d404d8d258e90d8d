//! Quota pre-flight. Compute Engine reports its own metrics with their usage
//! (`regions.get`: compute_metrics.rs); the quotas it does not report, Cloud TPU's per
//! zone and GKE's v5p and v6e chips, come from the Cloud Quotas API as limits alone
//! (cloud_quotas.rs), their usage counted from what runs (running.rs).

mod cloud_quotas;
mod compute_metrics;
mod running;

use crate::settings::Settings;
use gantry_provider::provider::Result;
use gantry_provider::{QuotaQuery, QuotaReading};

/// The console page where quota increases are requested.
const QUOTAS_PAGE: &str = "https://console.cloud.google.com/iam-admin/quotas";

/// The limit and usage of `query.code` where the query needs it (a region, or a zone for
/// Cloud TPU's quotas); `None` when the cloud does not report that quota there.
pub async fn read(settings: &Settings, query: &QuotaQuery) -> Result<Option<QuotaReading>> {
    if compute_metrics::is_metric(&query.code) {
        compute_metrics::read(settings, query).await
    } else {
        cloud_quotas::read(settings, query).await
    }
}

/// The gcloud command that asks for more of a Cloud Quotas quota (Compute Engine's
/// metrics are raised from the console page); `project`: the provider's, when it is
/// configured.
pub fn request_command(project: Option<&str>, query: &QuotaQuery) -> Option<String> {
    if compute_metrics::is_metric(&query.code) {
        return None;
    }
    let location = query.region.as_deref()?;
    let dimension = if crate::sim_model::region_of_zone(location).is_some() {
        "zone"
    } else {
        "region"
    };
    let command = cloud_quotas::request_command(
        project.unwrap_or_default(),
        &cloud_quotas::service_name(&query.service),
        &query.code,
        Some(dimension),
        location,
    );
    Some(match project {
        Some(_) => command,
        None => command.replace(" --project=", ""),
    })
}

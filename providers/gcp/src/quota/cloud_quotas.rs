//! The quotas only the Cloud Quotas API reports (Cloud TPU's per zone,
//! `TPUV6EPerProjectPerZoneForTPUAPI`; GKE's v5p and v6e chips,
//! `TPU-V6E-per-project-region`): the limit in effect where the plan needs it
//! (`quotaInfos.get`: one value per combination of dimensions, the most specific first),
//! and the usage counted from what runs (running.rs), which Cloud Quotas does not report.

use super::{running, QUOTAS_PAGE};
use crate::errors::{call_error, ok_if_not_found};
use crate::settings::Settings;
use gantry_provider::provider::Result;
use gantry_provider::{ProviderError, QuotaQuery, QuotaReading};
use google_cloud_api_cloudquotas_v1::model::QuotaInfo;

/// The limit and usage of the quota `query.code` of `query.service` where the query
/// needs it; `None` when Cloud Quotas does not know the quota, it has no value there, or
/// its usage cannot be counted.
pub async fn read(settings: &Settings, query: &QuotaQuery) -> Result<Option<QuotaReading>> {
    let service = service_name(&query.service);
    let name = format!(
        "projects/{}/locations/global/services/{service}/quotaInfos/{}",
        settings.project, query.code
    );
    let got = settings
        .clients
        .quotas
        .get_quota_info()
        .set_name(&name)
        .send()
        .await
        .map_err(|e| call_error("quotaInfos.get", e));
    let Some(info) = ok_if_not_found(got)? else {
        return Ok(None);
    };
    let Some((dimension, location)) = where_counted(
        &info,
        query.region.as_deref(),
        Defaults {
            zone: settings.zone.as_deref(),
            region: settings.region.as_deref(),
        },
    ) else {
        // Not "no such quota": the quota is kept per zone or region and the plan does not
        // say which; the engine reports the quota unchecked with this reason.
        return Err(ProviderError::invalid(format!(
            "{} is kept per {}, and neither the resource nor the provider names one",
            query.code,
            info.dimensions.join(" and ")
        )));
    };
    let Some(limit) = limit_at(&info, dimension, &location) else {
        return Ok(None);
    };
    let Some(used) = running::count(settings, query, &location).await? else {
        return Ok(None);
    };
    let shown = if info.quota_display_name.is_empty() {
        query.code.clone()
    } else {
        info.quota_display_name.clone()
    };
    Ok(Some(QuotaReading {
        name: shown,
        limit,
        used,
        request_url: Some(if info.service_request_quota_uri.is_empty() {
            format!("{QUOTAS_PAGE}?project={}", settings.project)
        } else {
            info.service_request_quota_uri.clone()
        }),
        request_command: Some(request_command(
            &settings.project,
            &service,
            &query.code,
            dimension,
            &location,
        )),
    }))
}

/// `tpu.googleapis.com` from the catalog's service name `tpu`.
pub fn service_name(service: &str) -> String {
    if service.contains('.') {
        service.to_owned()
    } else {
        format!("{service}.googleapis.com")
    }
}

/// The dimension the quota is kept by (`zone`, `region`; `None` for a project-wide one)
/// and the location the query counts in: a zone for a zonal quota (the object's own, else
/// the provider's), its region for a regional one.
fn where_counted(
    info: &QuotaInfo,
    asked: Option<&str>,
    defaults: Defaults<'_>,
) -> Option<(Option<&'static str>, String)> {
    let region_of = |l: &str| crate::sim_model::region_of_zone(l).unwrap_or_else(|| l.to_owned());
    if info.dimensions.iter().any(|d| d == "zone") {
        let zone = asked
            .filter(|l| crate::sim_model::region_of_zone(l).is_some())
            .or(defaults.zone)?;
        Some((Some("zone"), zone.to_owned()))
    } else if info.dimensions.iter().any(|d| d == "region") {
        let region = asked.or(defaults.region).map(region_of)?;
        Some((Some("region"), region))
    } else {
        Some((None, "global".to_owned()))
    }
}

/// The provider configuration's zone and region, for a query that names neither.
#[derive(Clone, Copy, Default)]
struct Defaults<'a> {
    zone: Option<&'a str>,
    region: Option<&'a str>,
}

/// The value in effect at `location`: the first of the quota's dimension infos (most
/// specific first) that names this location, or names no location at all (the default
/// for every location without one of its own). Infos keyed by other dimensions (a GPU
/// family) are not this query's.
fn limit_at(info: &QuotaInfo, dimension: Option<&str>, location: &str) -> Option<f64> {
    info.dimensions_infos
        .iter()
        .find(|d| {
            d.dimensions
                .iter()
                .all(|(key, value)| Some(key.as_str()) == dimension && value == location)
        })
        .map(|d| d.details.as_ref().map_or(0, |v| v.value) as f64)
}

/// The gcloud command that asks for `{desired}` of the quota where it is short.
pub fn request_command(
    project: &str,
    service: &str,
    quota_id: &str,
    dimension: Option<&str>,
    location: &str,
) -> String {
    let dimensions = dimension
        .map(|d| format!(" --dimensions={d}={location}"))
        .unwrap_or_default();
    format!(
        "gcloud beta quotas preferences create --service={service} --quota-id={quota_id} \
         --preferred-value={{desired}}{dimensions} --project={project}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use google_cloud_api_cloudquotas_v1::model::{DimensionsInfo, QuotaDetails};

    fn info(dimension: &str, specific: &[(&str, i64)], default: i64) -> QuotaInfo {
        let mut infos: Vec<DimensionsInfo> = specific
            .iter()
            .map(|(where_, value)| {
                DimensionsInfo::new()
                    .set_dimensions([(dimension, *where_)])
                    .set_details(QuotaDetails::new().set_value(*value))
            })
            .collect();
        infos.push(DimensionsInfo::new().set_details(QuotaDetails::new().set_value(default)));
        QuotaInfo::new()
            .set_dimensions([dimension])
            .set_dimensions_infos(infos)
    }

    #[test]
    fn a_location_of_its_own_wins_over_the_default() {
        let q = info("zone", &[("us-east1-d", 8)], 64);
        assert_eq!(limit_at(&q, Some("zone"), "us-east1-d"), Some(8.0));
        assert_eq!(limit_at(&q, Some("zone"), "us-east1-c"), Some(64.0));
    }

    #[test]
    fn infos_of_other_dimensions_are_not_the_query_s() {
        let q = QuotaInfo::new().set_dimensions_infos([DimensionsInfo::new()
            .set_dimensions([("region", "us-east1"), ("gpu_family", "NVIDIA_H100")])
            .set_details(QuotaDetails::new().set_value(8))]);
        assert_eq!(limit_at(&q, Some("region"), "us-east1"), None);
    }

    #[test]
    fn a_quota_is_counted_in_the_zone_or_region_it_is_kept_by() {
        let zonal = info("zone", &[], 64);
        let regional = info("region", &[], 64);
        let provider = Defaults {
            zone: Some("us-central1-b"),
            region: Some("us-central1"),
        };
        let at = |q: &QuotaInfo, asked: Option<&str>, d: Defaults<'_>| where_counted(q, asked, d);
        assert_eq!(
            at(&zonal, Some("us-west4-a"), provider),
            Some((Some("zone"), "us-west4-a".into()))
        );
        // A region is not a zone: the provider's zone is.
        assert_eq!(
            at(&zonal, Some("us-west4"), provider),
            Some((Some("zone"), "us-central1-b".into()))
        );
        assert_eq!(at(&zonal, Some("us-west4"), Defaults::default()), None);
        assert_eq!(
            at(&regional, Some("us-east1-d"), provider),
            Some((Some("region"), "us-east1".into()))
        );
        assert_eq!(
            at(&QuotaInfo::new(), None, Defaults::default()),
            Some((None, "global".into()))
        );
    }

    #[test]
    fn the_request_names_the_service_quota_and_location() {
        let command = request_command(
            "p",
            &service_name("tpu"),
            "TPUV6EPerProjectPerZoneForTPUAPI",
            Some("zone"),
            "us-east1-d",
        );
        assert_eq!(
            command,
            "gcloud beta quotas preferences create --service=tpu.googleapis.com \
             --quota-id=TPUV6EPerProjectPerZoneForTPUAPI --preferred-value={desired} \
             --dimensions=zone=us-east1-d --project=p"
        );
    }
}

//! Quota pre-flight: a location's compute quotas as Azure reports them
//! (`Microsoft.Compute/locations/{location}/usages`: each VM family's vCPU limit and what
//! the subscription uses now, the regional total `cores`, and `lowPriorityCores` for Spot).
//! A family's VMs also count against the regional total, so the tighter of the two
//! decides. Family names are compared case-insensitively (ARM spells them both ways).

use crate::settings::Settings;
use gantry_provider::provider::Result;
use gantry_provider::{QuotaQuery, QuotaReading};
use serde_json::Value as Json;

const QUOTAS_PAGE: &str =
    "https://portal.azure.com/#view/Microsoft_Azure_Capacity/QuotaMenuBlade/~/myQuotas";
const API: &str = "2024-07-01";

/// The limit and usage of `query.code` in the query's location; `None` when the query
/// names no location (an AKS pool's location is its cluster's, unknown to the pool) or
/// Azure does not report that quota there.
pub async fn read(settings: &Settings, query: &QuotaQuery) -> Result<Option<QuotaReading>> {
    let Some(location) = query.region.as_deref() else {
        return Ok(None);
    };
    let location = crate::resources::normalize_location(location);
    let path = format!(
        "/subscriptions/{}/providers/Microsoft.Compute/locations/{location}/usages",
        settings.subscription_id
    );
    let usages = settings.arm.list(&path, API, "compute usages").await?;
    let family = reading(&usages, &query.code, &location);
    if query.code.eq_ignore_ascii_case("lowPriorityCores")
        || query.code.eq_ignore_ascii_case("cores")
    {
        return Ok(family);
    }
    Ok(tighter(family, reading(&usages, "cores", &location)))
}

/// `az quota` has no family-vCPU verb; the VM quota request is the portal's or this
/// support-request-free CLI call (Microsoft.Quota).
pub fn request_command(query: &QuotaQuery, subscription: &str) -> Option<String> {
    let location = query.region.as_deref()?;
    Some(format!(
        "az quota update --resource-name {} --scope /subscriptions/{subscription}/providers/Microsoft.Compute/locations/{} --limit-object value={{desired}} limit-object-type=LimitValue --resource-type dedicated",
        query.code,
        crate::resources::normalize_location(location)
    ))
}

fn tighter(a: Option<QuotaReading>, b: Option<QuotaReading>) -> Option<QuotaReading> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b.free() < a.free() { b } else { a }),
        (a, b) => a.or(b),
    }
}

fn reading(usages: &[Json], code: &str, location: &str) -> Option<QuotaReading> {
    let usage = usages.iter().find(|u| {
        u.pointer("/name/value")
            .and_then(Json::as_str)
            .is_some_and(|n| n.eq_ignore_ascii_case(code))
    })?;
    let shown = usage
        .pointer("/name/localizedValue")
        .and_then(Json::as_str)
        .unwrap_or(code);
    Some(QuotaReading {
        name: format!("{shown} in {location}"),
        limit: usage["limit"].as_f64().unwrap_or(0.0),
        used: usage["currentValue"].as_f64().unwrap_or(0.0),
        request_url: Some(QUOTAS_PAGE.to_owned()),
        request_command: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_family_is_read_case_insensitively_and_the_regional_total_can_decide() {
        let usages = vec![
            json!({"name": {"value": "cores", "localizedValue": "Total Regional vCPUs"}, "limit": 100, "currentValue": 90}),
            json!({"name": {"value": "standardNDSH100v5Family", "localizedValue": "Standard NDSH100v5 Family vCPUs"}, "limit": 192, "currentValue": 0}),
        ];
        let family = reading(&usages, "StandardNDSH100v5Family", "eastus").expect("found");
        assert_eq!((family.limit, family.used), (192.0, 0.0));
        let decided = tighter(Some(family), reading(&usages, "cores", "eastus")).expect("one");
        assert_eq!(decided.name, "Total Regional vCPUs in eastus");
        assert_eq!(decided.free(), 10.0);
        assert!(reading(&usages, "standardNCASv3_T4Family", "eastus").is_none());
    }
}

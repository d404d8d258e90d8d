//! What Azure offers where, checked at plan (`Provider::check_offered`): a scale set's VM
//! size in its location and zones, from `Microsoft.Compute/skus` and its restrictions
//! (`NotAvailableForSubscription` for the location or for some zones), so an apply does
//! not start what cannot be made. An AKS pool's location is its cluster's: checked when
//! the cluster exists already.

use crate::settings::Settings;
use gantry_provider::attrs::Attrs;
use gantry_provider::provider::Result;
use gantry_provider::Value;
use serde_json::Value as Json;

const SKUS_API: &str = "2021-07-01";

pub async fn check(
    settings: &Settings,
    type_name: &str,
    planned: &Value,
) -> Result<Option<String>> {
    let a = Attrs(planned);
    let (size, location, zones) = match type_name {
        "azurerm_linux_virtual_machine_scale_set" => (
            a.str("sku"),
            a.str("location").map(str::to_owned),
            a.strs("zones"),
        ),
        "azurerm_kubernetes_cluster_node_pool" => {
            if let Some(location) = a.str("location") {
                return verdict_for(settings, a.str("vm_size"), location, &a.strs("zones")).await;
            }
            let Some(cluster) = a.str("kubernetes_cluster_id") else {
                return Ok(None);
            };
            let location = settings
                .arm
                .get(
                    cluster,
                    crate::resources::AKS_API,
                    "check_offered: the pool's cluster",
                )
                .await?
                .and_then(|c| c["location"].as_str().map(str::to_owned));
            (a.str("vm_size"), location, a.strs("zones"))
        }
        _ => return Ok(None),
    };
    let Some(location) = location else {
        return Ok(None);
    };
    verdict_for(settings, size, &location, &zones).await
}

/// The verdict for `size` in `location` and `zones`, from the location's SKUs.
async fn verdict_for(
    settings: &Settings,
    size: Option<&str>,
    location: &str,
    zones: &[String],
) -> Result<Option<String>> {
    let Some(size) = size else {
        return Ok(None);
    };
    let location = crate::resources::normalize_location(location);
    let filter = format!("location eq '{location}'");
    let path = format!(
        "/subscriptions/{}/providers/Microsoft.Compute/skus?$filter={}",
        settings.subscription_id,
        filter.replace(' ', "%20").replace('\'', "%27")
    );
    let skus = settings.arm.list(&path, SKUS_API, "resource SKUs").await?;
    Ok(verdict(&skus, size, &location, zones))
}

/// Why `size` cannot be had in `location` (and `zones`), or `None` when it can.
pub fn verdict(skus: &[Json], size: &str, location: &str, zones: &[String]) -> Option<String> {
    let in_location = |s: &&Json| {
        s["locations"].as_array().is_some_and(|ls| {
            ls.iter()
                .any(|l| l.as_str().is_some_and(|l| l.eq_ignore_ascii_case(location)))
        })
    };
    let Some(sku) = skus
        .iter()
        .filter(|s| s["resourceType"] == "virtualMachines")
        .filter(in_location)
        .find(|s| {
            s["name"]
                .as_str()
                .is_some_and(|n| n.eq_ignore_ascii_case(size))
        })
    else {
        return Some(format!("{size} is not offered in {location}"));
    };
    let offered_zones: Vec<String> = sku["locationInfo"]
        .as_array()
        .and_then(|infos| {
            infos.iter().find(|i| {
                i["location"]
                    .as_str()
                    .is_some_and(|l| l.eq_ignore_ascii_case(location))
            })
        })
        .and_then(|i| i["zones"].as_array())
        .map(|zs| {
            zs.iter()
                .filter_map(|z| z.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    let mut restricted_zones: Vec<String> = Vec::new();
    for r in sku["restrictions"].as_array().into_iter().flatten() {
        let reason = r["reasonCode"].as_str().unwrap_or("restricted");
        match r["type"].as_str() {
            Some("Location") => {
                return Some(format!(
                    "{size} is not available in {location} to this subscription ({reason})"
                ))
            }
            Some("Zone") => restricted_zones.extend(
                r.pointer("/restrictionInfo/zones")
                    .and_then(Json::as_array)
                    .into_iter()
                    .flatten()
                    .filter_map(|z| z.as_str().map(str::to_owned)),
            ),
            _ => {}
        }
    }
    let unavailable: Vec<&String> = zones
        .iter()
        .filter(|z| {
            restricted_zones.contains(z)
                || (!offered_zones.is_empty() && !offered_zones.contains(z))
        })
        .collect();
    if unavailable.is_empty() {
        return None;
    }
    let usable: Vec<&String> = offered_zones
        .iter()
        .filter(|z| !restricted_zones.contains(z))
        .collect();
    Some(format!(
        "{size} is not available in zone(s) {} of {location}{}",
        unavailable
            .iter()
            .map(|z| z.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        if usable.is_empty() {
            String::new()
        } else {
            format!(
                " (available in zone(s) {})",
                usable
                    .iter()
                    .map(|z| z.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sku(restrictions: Json) -> Vec<Json> {
        vec![
            json!({"resourceType": "virtualMachines", "name": "Standard_ND96isr_H100_v5", "locations": ["eastus"],
            "locationInfo": [{"location": "eastus", "zones": ["1", "2", "3"]}], "restrictions": restrictions}),
        ]
    }

    #[test]
    fn restrictions_name_the_zones_and_where_else_to_go() {
        let zone = sku(
            json!([{"type": "Zone", "values": ["eastus"], "restrictionInfo": {"locations": ["eastus"], "zones": ["2"]}, "reasonCode": "NotAvailableForSubscription"}]),
        );
        assert_eq!(
            verdict(&zone, "Standard_ND96isr_H100_v5", "eastus", &["1".into()]),
            None
        );
        let why = verdict(&zone, "standard_nd96isr_h100_v5", "eastus", &["2".into()])
            .expect("restricted");
        assert!(
            why.contains("zone(s) 2 of eastus") && why.contains("available in zone(s) 1, 3"),
            "{why}"
        );
        let location = sku(
            json!([{"type": "Location", "values": ["eastus"], "reasonCode": "NotAvailableForSubscription"}]),
        );
        assert!(verdict(&location, "Standard_ND96isr_H100_v5", "eastus", &[]).is_some());
        assert!(verdict(&sku(json!([])), "Standard_ND96isr_H100_v5", "westus", &[]).is_some());
        assert_eq!(
            verdict(&sku(json!([])), "Standard_ND96isr_H100_v5", "eastus", &[]),
            None
        );
    }
}

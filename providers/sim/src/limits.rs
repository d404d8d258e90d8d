//! Capacity and quotas: the capacity table makes matching creates fail with `Capacity`
//! (`InsufficientInstanceCapacity`), the quota table with `Quota` (`VcpuLimitExceeded`)
//! once as many matching objects exist as the limit allows. An update counts when it makes
//! an object match a rule it did not match before (changing the instance type).

use crate::knobs::{CapacityRule, QuotaRule, Tables};
use crate::world::Txn;
use gantry_provider::{ErrorClass, ProviderError};
use serde_json::Value as J;

/// True when `attributes[attribute]` is `value` (numbers and bools parsed from it).
fn attr_is(attributes: &J, attribute: &str, value: &str) -> bool {
    match attributes.get(attribute) {
        Some(J::String(s)) => s == value,
        Some(J::Number(n)) => {
            n.as_f64().is_some() && n.as_f64() == value.trim().parse::<f64>().ok()
        }
        Some(J::Bool(b)) => value.trim().parse::<bool>().ok() == Some(*b),
        _ => false,
    }
}

fn capacity_matches(rule: &CapacityRule, type_name: &str, attributes: &J) -> bool {
    let over = rule.until_unix_ms.is_some_and(|until| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .is_ok_and(|now| now.as_millis() >= u128::from(until))
    });
    !over
        && rule.type_name == type_name
        && attr_is(attributes, &rule.attribute, &rule.value)
        && match (&rule.zone, rule.zone_attribute()) {
            (Some(zone), Some(zone_attr)) => attr_is(attributes, zone_attr, zone),
            _ => true,
        }
}

fn quota_matches(rule: &QuotaRule, type_name: &str, attributes: &J) -> bool {
    rule.type_name == type_name && attr_is(attributes, &rule.attribute, &rule.value)
}

/// Fails when the new `attributes` hit a capacity shortage that `before` did not.
pub fn check_capacity(
    tables: &Tables,
    type_name: &str,
    before: Option<&J>,
    attributes: &J,
) -> Result<(), ProviderError> {
    for rule in &tables.capacity {
        if !capacity_matches(rule, type_name, attributes)
            || before.is_some_and(|b| capacity_matches(rule, type_name, b))
        {
            continue;
        }
        let zone = rule.zone.clone().or_else(|| zone_of(attributes));
        let (message, code) = shortage(type_name, &rule.value, zone.as_deref());
        return Err(ProviderError::new(ErrorClass::Capacity, message)
            .with_code(rule.code.as_deref().unwrap_or(code)));
    }
    Ok(())
}

/// The zone an object asks for, in each cloud's attribute: AWS's `availability_zone`,
/// Google's `zone`, Azure's `zone` or first of `zones`.
fn zone_of(attributes: &J) -> Option<String> {
    ["availability_zone", "zone"]
        .iter()
        .find_map(|k| attributes.get(*k).and_then(J::as_str))
        .or_else(|| {
            attributes
                .get("zones")
                .and_then(J::as_array)
                .and_then(|z| z.first())
                .and_then(J::as_str)
        })
        .map(str::to_owned)
}

/// The cloud's own words and code for having no capacity, by the type's provider.
fn shortage(type_name: &str, value: &str, zone: Option<&str>) -> (String, &'static str) {
    if type_name.starts_with("google_") {
        let place = zone.map_or_else(|| "The region".to_owned(), |z| format!("The zone '{z}'"));
        (
            format!(
                "{place} does not have enough resources available to fulfill the request \
                 ({value} for {type_name}). Try a different zone, or try again later."
            ),
            "ZONE_RESOURCE_POOL_EXHAUSTED",
        )
    } else if type_name.starts_with("azurerm_") {
        let place = zone.map_or_else(|| "this region".to_owned(), |z| format!("zone {z}"));
        (
            format!(
                "Allocation failed. We do not have sufficient capacity for the requested VM \
                 size {value} in {place} ({type_name}). Read more about improving likelihood \
                 of allocation success at http://aka.ms/allocation-guidance"
            ),
            "ZonalAllocationFailed",
        )
    } else {
        let place = match zone {
            Some(zone) => format!("the Availability Zone you requested ({zone})"),
            None => "the region you requested".to_owned(),
        };
        (
            format!(
                "We currently do not have sufficient {value} capacity in {place} for \
                 {type_name}. Our system will be working on provisioning additional capacity."
            ),
            "InsufficientInstanceCapacity",
        )
    }
}

/// Fails when the new `attributes` would make more objects match a quota than it allows.
/// `own_id` (on update) is not counted among the existing objects.
pub(crate) fn check_quota(
    tables: &Tables,
    txn: &Txn<'_>,
    provider: &str,
    type_name: &str,
    own_id: Option<&str>,
    before: Option<&J>,
    attributes: &J,
) -> Result<(), ProviderError> {
    for rule in &tables.quota {
        if !quota_matches(rule, type_name, attributes)
            || before.is_some_and(|b| quota_matches(rule, type_name, b))
        {
            continue;
        }
        let existing = txn
            .objects_of(provider, type_name)
            .filter(|o| {
                Some(o.id.as_str()) != own_id && quota_matches(rule, type_name, &o.attributes)
            })
            .count() as u64;
        if existing >= rule.limit {
            return Err(ProviderError::new(
                ErrorClass::Quota,
                format!(
                    "You have requested more {} ({type_name}) than your current limit of {} \
                     allows ({existing} exist). Request a limit increase.",
                    rule.value, rule.limit
                ),
            )
            .with_code(rule.code.as_deref().unwrap_or("VcpuLimitExceeded")));
        }
    }
    Ok(())
}

/// The family of an instance type: `p` for `p5.48xlarge`, `trn` for `trn1.32xlarge`.
pub fn instance_family(instance_type: &str) -> &str {
    let end = instance_type
        .find(|c: char| !c.is_ascii_lowercase())
        .unwrap_or(instance_type.len());
    &instance_type[..end]
}

/// What the objects of the world use of a quota: every object with an `instance_type` (or
/// a node group's `instance_types` times `scaling_config.desired_size`) of a counted family,
/// spot or not as the quota counts. A quota that names no families (Google Cloud's, by
/// accelerator or machine type) counts every object whose type it prices: a TPU slice's
/// `accelerator_type`, a VM's `machine_type`, a node pool's machine type times `node_count`.
pub(crate) fn quota_usage<'o>(
    objects: impl Iterator<Item = &'o J>,
    families: &[String],
    units_per_type: &std::collections::BTreeMap<String, f64>,
    spot: bool,
) -> f64 {
    let mut used = 0.0;
    for attrs in objects {
        let Some((instance_type, count)) = typed(attrs) else {
            continue;
        };
        let counted = if families.is_empty() {
            units_per_type.contains_key(instance_type)
        } else {
            families.iter().any(|f| f == instance_family(instance_type))
        };
        if !counted {
            continue;
        }
        let is = |pointer: &str, value: &str| {
            attrs.pointer(pointer).is_some_and(|v| {
                v.as_str().is_some_and(|s| s.eq_ignore_ascii_case(value))
                    || (value == "true" && v.as_bool() == Some(true))
            })
        };
        let is_spot = is("/instance_market_options/0/market_type", "spot")
            || is("/capacity_type", "spot")
            || is("/scheduling_config/0/spot", "true")
            || is("/scheduling_config/0/preemptible", "true")
            || is("/scheduling/0/provisioning_model", "spot")
            || is("/node_config/0/spot", "true");
        if is_spot == spot {
            used += count * units_per_type.get(instance_type).copied().unwrap_or(0.0);
        }
    }
    used
}

/// The type an object runs and how many of it.
fn typed(attrs: &J) -> Option<(&str, f64)> {
    for path in ["/instance_type", "/accelerator_type", "/machine_type"] {
        if let Some(t) = attrs.pointer(path).and_then(J::as_str) {
            return Some((t, 1.0));
        }
    }
    let groups = [
        ("/instance_types/0", "/scaling_config/0/desired_size"),
        ("/node_config/0/machine_type", "/node_count"),
    ];
    groups.iter().find_map(|(type_path, count_path)| {
        let t = attrs.pointer(type_path).and_then(J::as_str)?;
        Some((
            t,
            attrs.pointer(count_path).and_then(J::as_f64).unwrap_or(0.0),
        ))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn capacity_matches_type_value_and_zone() {
        let tables = Tables {
            capacity: vec![
                CapacityRule::new("aws_instance", "instance_type", "p5.48xlarge")
                    .in_zone("us-east-1a"),
            ],
            quota: Vec::new(),
            service_quotas: Vec::new(),
        };
        let here = json!({"instance_type": "p5.48xlarge", "availability_zone": "us-east-1a"});
        let elsewhere = json!({"instance_type": "p5.48xlarge", "availability_zone": "us-east-1b"});
        let small = json!({"instance_type": "t3.micro", "availability_zone": "us-east-1a"});
        let err = check_capacity(&tables, "aws_instance", None, &here).unwrap_err();
        assert_eq!(err.class, ErrorClass::Capacity);
        assert_eq!(err.code.as_deref(), Some("InsufficientInstanceCapacity"));
        assert!(
            err.message.contains("p5.48xlarge") && err.message.contains("us-east-1a"),
            "{}",
            err.message
        );
        assert!(check_capacity(&tables, "aws_instance", None, &elsewhere).is_ok());
        assert!(check_capacity(&tables, "aws_instance", None, &small).is_ok());
        assert!(check_capacity(&tables, "aws_spot_instance", None, &here).is_ok());
        // Already there before the update: not a new request for capacity.
        assert!(check_capacity(&tables, "aws_instance", Some(&here), &here).is_ok());
        assert!(check_capacity(&tables, "aws_instance", Some(&small), &here).is_err());
    }

    #[test]
    fn each_cloud_says_it_has_no_capacity_in_its_own_words() {
        let tables = Tables {
            capacity: vec![
                CapacityRule::new("google_compute_instance", "machine_type", "a3-highgpu-8g"),
                CapacityRule::new(
                    "azurerm_linux_virtual_machine_scale_set",
                    "sku",
                    "Standard_ND96isr_H100_v5",
                ),
            ],
            quota: Vec::new(),
            service_quotas: Vec::new(),
        };
        let vm = json!({"machine_type": "a3-highgpu-8g", "zone": "us-central1-a"});
        let err = check_capacity(&tables, "google_compute_instance", None, &vm).unwrap_err();
        assert_eq!(err.code.as_deref(), Some("ZONE_RESOURCE_POOL_EXHAUSTED"));
        assert!(err.message.contains("'us-central1-a'"), "{}", err.message);
        let set = json!({"sku": "Standard_ND96isr_H100_v5", "zones": ["2"]});
        let err = check_capacity(
            &tables,
            "azurerm_linux_virtual_machine_scale_set",
            None,
            &set,
        )
        .unwrap_err();
        assert_eq!(err.class, ErrorClass::Capacity);
        assert_eq!(err.code.as_deref(), Some("ZonalAllocationFailed"));
        assert!(err.message.contains("zone 2"), "{}", err.message);
    }

    #[test]
    fn numbers_and_bools_match_their_text() {
        let attrs = json!({"gpus": 8, "efa": true, "name": "8"});
        assert!(attr_is(&attrs, "gpus", "8"));
        assert!(attr_is(&attrs, "gpus", "8.0"));
        assert!(!attr_is(&attrs, "gpus", "4"));
        assert!(attr_is(&attrs, "efa", "true"));
        assert!(!attr_is(&attrs, "efa", "false"));
        assert!(attr_is(&attrs, "name", "8"));
        assert!(!attr_is(&attrs, "missing", "8"));
    }

    #[test]
    fn quota_usage_counts_families_units_and_markets() {
        let units: std::collections::BTreeMap<String, f64> = [
            ("p5.48xlarge".to_owned(), 192.0),
            ("g6.xlarge".to_owned(), 4.0),
        ]
        .into();
        let objects = [
            json!({"instance_type": "p5.48xlarge"}),
            json!({"instance_type": "p5.48xlarge",
                   "instance_market_options": [{"market_type": "spot"}]}),
            json!({"instance_type": "g6.xlarge"}),
            json!({"instance_types": ["p5.48xlarge"], "scaling_config": [{"desired_size": 2}]}),
            json!({"cidr_block": "10.0.0.0/16"}),
        ];
        let p = ["p".to_owned()];
        assert_eq!(quota_usage(objects.iter(), &p, &units, false), 192.0 * 3.0);
        assert_eq!(quota_usage(objects.iter(), &p, &units, true), 192.0);
        assert_eq!(
            quota_usage(objects.iter(), &["g".to_owned()], &units, false),
            4.0
        );
        assert_eq!(instance_family("trn1.32xlarge"), "trn");
        assert_eq!(instance_family("vt1.3xlarge"), "vt");
    }
}

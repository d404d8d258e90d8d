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
    rule.type_name == type_name
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
        let zone = rule.zone.clone().or_else(|| {
            attributes
                .get("availability_zone")
                .and_then(J::as_str)
                .map(str::to_owned)
        });
        let place = match zone {
            Some(zone) => format!("the Availability Zone you requested ({zone})"),
            None => "the region you requested".to_owned(),
        };
        return Err(ProviderError::new(
            ErrorClass::Capacity,
            format!(
                "We currently do not have sufficient {} capacity in {place} for {type_name}. \
                 Our system will be working on provisioning additional capacity.",
                rule.value
            ),
        )
        .with_code(
            rule.code
                .as_deref()
                .unwrap_or("InsufficientInstanceCapacity"),
        ));
    }
    Ok(())
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
}

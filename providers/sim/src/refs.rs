//! Referential integrity, as a real cloud enforces it: an object cannot name a missing
//! object by id (a subnet in a VPC that does not exist), and an object others name cannot
//! be deleted (a VPC that still has subnets).
//!
//! A reference is the value of an attribute named `*_id`, or an element of one named
//! `*_ids`, at any depth (nested blocks included), shaped like a simulated id
//! (`vpc-0a1b2c3d4e5f67890`). Only ids whose prefix belongs to a resource type some
//! simulated provider declares are checked, so ids of things the simulation does not model
//! (an AMI in `image_id`) pass.

use crate::ids;
use crate::world::{SimObject, Txn};
use gantry_provider::{ErrorClass, ProviderError};

/// One id an object names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reference {
    /// Where (`vpc_id`, `ingress.0.security_group_ids.1`).
    pub path: String,
    pub id: String,
}

/// The ids `attributes` names (see the module documentation).
pub fn referenced_ids(attributes: &serde_json::Value) -> Vec<Reference> {
    let mut out = Vec::new();
    walk(attributes, "", &mut out);
    out
}

fn walk(value: &serde_json::Value, path: &str, out: &mut Vec<Reference>) {
    use serde_json::Value as J;
    let join = |name: &str| {
        if path.is_empty() {
            name.to_owned()
        } else {
            format!("{path}.{name}")
        }
    };
    match value {
        J::Object(map) => {
            for (name, v) in map {
                let here = join(name);
                match v {
                    J::String(s) if name.ends_with("_id") => push(out, here, s),
                    J::Array(items) if name.ends_with("_ids") => {
                        for (i, item) in items.iter().enumerate() {
                            if let J::String(s) = item {
                                push(out, format!("{here}.{i}"), s);
                            }
                        }
                    }
                    J::Object(_) | J::Array(_) => walk(v, &here, out),
                    _ => {}
                }
            }
        }
        J::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &join(&i.to_string()), out);
            }
        }
        _ => {}
    }
}

fn push(out: &mut Vec<Reference>, path: String, id: &str) {
    if ids::sim_id_prefix(id).is_some() {
        out.push(Reference {
            path,
            id: id.to_owned(),
        });
    }
}

/// Fails with `NotFound` (the cloud's code, `InvalidVpcID.NotFound` on AWS) when
/// `attributes` names a missing object.
pub(crate) fn check_references(
    txn: &Txn<'_>,
    own_id: &str,
    attributes: &serde_json::Value,
    not_found_code: &dyn Fn(&str) -> String,
) -> Result<(), ProviderError> {
    for r in referenced_ids(attributes) {
        if r.id == own_id || txn.id_exists(&r.id) {
            continue;
        }
        let Some(target) = ids::sim_id_prefix(&r.id).and_then(|p| txn.prefix_type(p)) else {
            continue;
        };
        let kind = ids::short_type(target).replace('_', " ");
        return Err(ProviderError::new(
            ErrorClass::NotFound,
            format!("The {kind} ID '{}' does not exist (`{}`)", r.id, r.path),
        )
        .with_code(not_found_code(target)));
    }
    Ok(())
}

/// Fails with `Conflict` (`DependencyViolation`) when other objects name `object`.
pub(crate) fn check_no_dependents(txn: &Txn<'_>, object: &SimObject) -> Result<(), ProviderError> {
    let dependents: Vec<String> = txn
        .referrers(&object.id)
        .filter(|o| o.key() != object.key())
        .map(|o| format!("{} {} ({})", o.type_name, o.id, o.address))
        .collect();
    if dependents.is_empty() {
        return Ok(());
    }
    Err(ProviderError::new(
        ErrorClass::Conflict,
        format!(
            "The {} '{}' has dependencies and cannot be deleted: {}",
            ids::short_type(&object.type_name).replace('_', " "),
            object.id,
            dependents.join(", ")
        ),
    )
    .with_code("DependencyViolation"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_are_found_at_any_depth() {
        let vpc = "vpc-00123456789abcdef";
        let sg = "sg-00123456789abcdef";
        let attrs = json!({
            "id": "subnet-00000000000000000",
            "vpc_id": vpc,
            "name_id": "not-an-id",
            "vpc_security_group_ids": [sg, 3],
            "ingress": [{"source_security_group_id": sg}],
            "tags": {"owner": vpc},
        });
        let found = referenced_ids(&attrs);
        let paths: Vec<(&str, &str)> = found
            .iter()
            .map(|r| (r.path.as_str(), r.id.as_str()))
            .collect();
        assert_eq!(
            paths,
            [
                ("vpc_id", vpc),
                ("vpc_security_group_ids.0", sg),
                ("ingress.0.source_security_group_id", sg),
            ]
        );
    }
}

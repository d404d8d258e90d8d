//! Two blocks of `google_container_cluster`, with the Terraform google provider's names:
//! `addons_config` (the add-ons an AI cluster turns on: the Cloud Storage FUSE, Filestore,
//! Parallelstore and persistent disk CSI drivers, the Ray operator, and the load
//! balancing and autoscaling ones GKE runs by default) and
//! `master_authorized_networks_config` (the CIDR ranges allowed to reach the control
//! plane). Each maps to GKE's `addonsConfig` / `masterAuthorizedNetworksConfig` on create,
//! to one `desired...` change on update, and is read back from the cluster.

use crate::wire::str_at;
use gantry_provider::attrs::Attrs;
use gantry_provider::{Attribute, NestedBlock, Nesting, Schema, Type, Value};
use serde_json::{json, Map, Value as Json};

/// Each add-on: Terraform's block name, GKE's field, and the switch both name (`disabled`
/// for the add-ons GKE runs unless told not to, `enabled` for the others).
const ADDONS: &[(&str, &str, &str)] = &[
    ("http_load_balancing", "httpLoadBalancing", "disabled"),
    (
        "horizontal_pod_autoscaling",
        "horizontalPodAutoscaling",
        "disabled",
    ),
    (
        "gcs_fuse_csi_driver_config",
        "gcsFuseCsiDriverConfig",
        "enabled",
    ),
    (
        "gcp_filestore_csi_driver_config",
        "gcpFilestoreCsiDriverConfig",
        "enabled",
    ),
    (
        "parallelstore_csi_driver_config",
        "parallelstoreCsiDriverConfig",
        "enabled",
    ),
    (
        "gce_persistent_disk_csi_driver_config",
        "gcePersistentDiskCsiDriverConfig",
        "enabled",
    ),
    ("ray_operator_config", "rayOperatorConfig", "enabled"),
];

fn one(schema: Schema) -> NestedBlock {
    NestedBlock {
        nesting: Nesting::List,
        schema,
        min_items: 0,
        max_items: Some(1),
        force_new: false,
    }
}

/// `addons_config { <addon> { enabled|disabled = bool } ... }`.
pub fn addons_schema() -> NestedBlock {
    let mut schema = Schema::default();
    for (name, _, switch) in ADDONS {
        schema = schema.block(
            name,
            one(Schema::default().attr(switch, Attribute::required(Type::Bool))),
        );
    }
    one(schema)
}

/// `master_authorized_networks_config { cidr_blocks { cidr_block, display_name }
/// gcp_public_cidrs_access_enabled }`.
pub fn authorized_networks_schema() -> NestedBlock {
    one(Schema::default()
        .attr(
            "gcp_public_cidrs_access_enabled",
            Attribute::optional_computed(Type::Bool),
        )
        .block(
            "cidr_blocks",
            NestedBlock {
                nesting: Nesting::List,
                schema: Schema::default()
                    .attr("cidr_block", Attribute::required(Type::String))
                    .attr("display_name", Attribute::optional(Type::String)),
                min_items: 0,
                max_items: Some(50),
                force_new: false,
            },
        ))
}

/// GKE's `addonsConfig` for the configured add-ons; `None` without the block.
pub fn addons_json(a: &Attrs<'_>) -> Option<Json> {
    let block = a.block("addons_config")?;
    let mut out = Map::new();
    for (name, field, switch) in ADDONS {
        if let Some(b) = block.block(name) {
            let on = b.bool(switch).unwrap_or(false);
            out.insert((*field).to_owned(), json!({ *switch: on }));
        }
    }
    Some(Json::Object(out))
}

/// GKE's `masterAuthorizedNetworksConfig`: enabled with the block's ranges; without the
/// block, `None` on create and `{"enabled": false}` when an update removes it.
pub fn authorized_networks_json(a: &Attrs<'_>) -> Option<Json> {
    let block = a.block("master_authorized_networks_config")?;
    let cidrs: Vec<Json> = block
        .blocks("cidr_blocks")
        .iter()
        .map(|c| {
            let mut one = json!({ "cidrBlock": c.str("cidr_block") });
            if let Some(name) = c.str("display_name") {
                one["displayName"] = json!(name);
            }
            one
        })
        .collect();
    let mut out = json!({ "enabled": true, "cidrBlocks": cidrs });
    if let Some(public) = block.bool("gcp_public_cidrs_access_enabled") {
        out["gcpPublicCidrsAccessEnabled"] = json!(public);
    }
    Some(out)
}

/// `addons_config` as read: the add-ons GKE reports, each with its switch.
pub fn addons_state(cluster: &Json) -> Value {
    let Some(config) = cluster.get("addonsConfig").filter(|c| c.is_object()) else {
        return Value::List(Vec::new());
    };
    let mut block = std::collections::BTreeMap::new();
    for (name, field, switch) in ADDONS {
        let read = config
            .get(*field)
            .filter(|f| f.is_object())
            .map(|f| {
                let on = f.get(*switch).and_then(Json::as_bool).unwrap_or(false);
                Value::List(vec![Value::map([(*switch, Value::Bool(on))])])
            })
            .unwrap_or_else(|| Value::List(Vec::new()));
        block.insert((*name).to_owned(), read);
    }
    Value::List(vec![Value::Map(block)])
}

/// `master_authorized_networks_config` as read; empty when GKE has it off.
pub fn authorized_networks_state(cluster: &Json) -> Value {
    let Some(config) = cluster
        .get("masterAuthorizedNetworksConfig")
        .filter(|c| c.get("enabled").and_then(Json::as_bool) == Some(true))
    else {
        return Value::List(Vec::new());
    };
    let cidrs = config
        .get("cidrBlocks")
        .and_then(Json::as_array)
        .map(|list| {
            list.iter()
                .map(|c| {
                    Value::map([
                        (
                            "cidr_block",
                            Value::string(str_at(c, "cidrBlock").unwrap_or_default()),
                        ),
                        (
                            "display_name",
                            str_at(c, "displayName")
                                .filter(|n| !n.is_empty())
                                .map_or(Value::Null, Value::string),
                        ),
                    ])
                })
                .collect()
        })
        .unwrap_or_default();
    Value::List(vec![Value::map([
        (
            "gcp_public_cidrs_access_enabled",
            config
                .get("gcpPublicCidrsAccessEnabled")
                .and_then(Json::as_bool)
                .map_or(Value::Null, Value::Bool),
        ),
        ("cidr_blocks", Value::List(cidrs)),
    ])])
}

/// Problems with the configured ranges, for `validate`.
pub fn validate(a: &Attrs<'_>) -> Vec<String> {
    let Some(block) = a.block("master_authorized_networks_config") else {
        return Vec::new();
    };
    block
        .blocks("cidr_blocks")
        .iter()
        .filter_map(|c| c.str("cidr_block"))
        .filter(|cidr| cidr.parse::<ipnet::Ipv4Net>().is_err())
        .map(|cidr| {
            format!(
                "`master_authorized_networks_config.cidr_blocks.cidr_block` {cidr:?} is not an IPv4 CIDR range (10.0.0.0/8)"
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Value {
        Value::map([
            (
                "addons_config",
                Value::List(vec![Value::map([
                    (
                        "gcs_fuse_csi_driver_config",
                        Value::List(vec![Value::map([("enabled", Value::Bool(true))])]),
                    ),
                    (
                        "http_load_balancing",
                        Value::List(vec![Value::map([("disabled", Value::Bool(true))])]),
                    ),
                ])]),
            ),
            (
                "master_authorized_networks_config",
                Value::List(vec![Value::map([(
                    "cidr_blocks",
                    Value::List(vec![Value::map([
                        ("cidr_block", Value::string("10.0.0.0/8")),
                        ("display_name", Value::string("corp")),
                    ])]),
                )])]),
            ),
        ])
    }

    #[test]
    fn blocks_become_gke_fields_and_read_back_the_same() {
        let config = config();
        let a = Attrs(&config);
        let addons = addons_json(&a).expect("addons");
        assert_eq!(
            addons,
            json!({"gcsFuseCsiDriverConfig": {"enabled": true}, "httpLoadBalancing": {"disabled": true}})
        );
        let networks = authorized_networks_json(&a).expect("networks");
        assert_eq!(
            networks,
            json!({"enabled": true, "cidrBlocks": [{"cidrBlock": "10.0.0.0/8", "displayName": "corp"}]})
        );
        let cluster = json!({"addonsConfig": addons, "masterAuthorizedNetworksConfig": networks});
        let read = addons_state(&cluster);
        let read = Attrs(&read.as_seq().expect("list")[0]);
        assert_eq!(
            read.block("gcs_fuse_csi_driver_config")
                .and_then(|b| b.bool("enabled")),
            Some(true)
        );
        assert!(read.block("ray_operator_config").is_none());
        assert_eq!(
            authorized_networks_state(
                &json!({"masterAuthorizedNetworksConfig": {"enabled": false}})
            ),
            Value::List(Vec::new())
        );
    }

    #[test]
    fn a_range_that_is_not_cidr_is_refused() {
        let bad = Value::map([(
            "master_authorized_networks_config",
            Value::List(vec![Value::map([(
                "cidr_blocks",
                Value::List(vec![Value::map([(
                    "cidr_block",
                    Value::string("10.0.0.0"),
                )])]),
            )])]),
        )]);
        assert_eq!(validate(&Attrs(&bad)).len(), 1);
        assert!(validate(&Attrs(&config())).is_empty());
    }
}

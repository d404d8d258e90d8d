//! What a resource costs, from its planned attributes and the catalog: instances and node
//! pools by instance type, node count and spot/on-demand; TPU slices by accelerator type;
//! everything else through the catalog's rates (control planes per hour, Lustre by GiB,
//! buckets as usage-based).

use super::model::Rate;
use super::Catalog;
use gantry_provider::{ComputeModel, Value};
use serde::Serialize;

/// The cost of one resource.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Cost {
    /// A known price per hour.
    Hourly { hourly: f64, what: String },
    /// Billed by use (bytes stored, requests): no fixed price to show.
    UsageBased { what: String },
}

impl Cost {
    pub fn hourly(&self) -> f64 {
        match self {
            Cost::Hourly { hourly, .. } => *hourly,
            Cost::UsageBased { .. } => 0.0,
        }
    }

    pub fn what(&self) -> &str {
        match self {
            Cost::Hourly { what, .. } | Cost::UsageBased { what } => what,
        }
    }
}

/// A value at a dotted path; numeric segments index lists and sets.
pub fn at<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    let mut v = value;
    for seg in path.split('.') {
        v = match v {
            // A single nested block is an object, where Terraform's paths index it as a
            // list of one (`scaling_config.0.desired_size`).
            Value::Map(m) if seg == "0" && !m.contains_key(seg) => v,
            Value::Map(m) => m.get(seg)?,
            Value::List(items) | Value::Set(items) => items.get(seg.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(v)
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(if n.fract() == 0.0 && n.abs() < 1e15 {
            format!("{}", *n as i64)
        } else {
            n.to_string()
        }),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// What one compute unit of a resource is: its instance type, how many, spot or not.
#[derive(Clone, Debug, PartialEq)]
pub struct ComputeUse {
    pub instance_type: String,
    pub count: f64,
    /// The autoscaling upper bound, when above `count`.
    pub max_count: Option<f64>,
    pub spot: bool,
}

/// The compute a resource runs, read with its provider's `model`, when its attributes say.
/// Whether any of the `(path, value)` pairs holds in `attrs` (values compared without case).
fn any_set(attrs: &Value, pairs: &[(&str, &str)]) -> bool {
    pairs.iter().any(|(path, want)| {
        at(attrs, path)
            .and_then(text_of)
            .is_some_and(|v| v.eq_ignore_ascii_case(want))
    })
}

pub fn compute_use(model: &ComputeModel, attrs: &Value) -> Option<ComputeUse> {
    let instance_type = at(attrs, model.type_path)?.as_str()?.to_owned();
    // Counts kept per zone are multiplied by the zones, unless the path is a total.
    let zones = model.per_zone.map_or(1.0, |z| {
        at(attrs, z.zones_path)
            .and_then(Value::as_seq)
            .map_or(0, <[Value]>::len)
            .max(1) as f64
    });
    let scaled = |path: &str, n: f64| match model.per_zone {
        Some(z) if !z.totals.contains(&path) => n * zones,
        _ => n,
    };
    let count = if model.count_paths.is_empty() {
        1.0
    } else {
        model.count_paths.iter().find_map(|p| {
            at(attrs, p)
                .and_then(Value::as_number)
                .map(|n| scaled(p, n))
        })?
    };
    // A stopped machine runs nothing: no cost, no quota.
    let count = if any_set(attrs, model.stopped_when) {
        0.0
    } else {
        count
    };
    let spot = any_set(attrs, model.spot_when);
    let max_count = model
        .max_paths
        .iter()
        .find_map(|p| {
            at(attrs, p)
                .and_then(Value::as_number)
                .map(|n| scaled(p, n))
        })
        .filter(|max| *max > count);
    Some(ComputeUse {
        instance_type,
        count,
        max_count,
        spot,
    })
}

/// What the catalog needs from a resource's provider to price it: the cloud's name in the
/// catalog, how to read its compute (if it runs any), and the region it lives in.
#[derive(Clone, Copy, Debug)]
pub struct Pricing<'a> {
    pub cloud: &'a str,
    pub model: Option<&'a ComputeModel>,
    pub region: Option<&'a str>,
}

/// The cost of a resource; `None` when the catalog cannot price it (not a costed type, an
/// instance type it does not list, attributes known only after apply).
pub fn resource_cost(
    catalog: &Catalog,
    pricing: &Pricing<'_>,
    type_name: &str,
    attrs: &Value,
) -> Option<Cost> {
    if let Some(use_) = pricing.model.and_then(|m| compute_use(m, attrs)) {
        return compute_cost(catalog, pricing, &use_);
    }
    let rate = best_rate(catalog, pricing.cloud, type_name, attrs)?;
    match rate.unit.as_str() {
        "usage" => Some(Cost::UsageBased {
            what: rate.what.clone(),
        }),
        "hour" => Some(Cost::Hourly {
            hourly: rate.price,
            what: rate.what.clone(),
        }),
        "month" => Some(Cost::Hourly {
            hourly: rate.price / catalog.hours_per_month(),
            what: rate.what.clone(),
        }),
        "gib_month" => {
            let gib = at(attrs, rate.quantity.as_deref()?)?.as_number()?;
            Some(Cost::Hourly {
                hourly: gib * rate.price / catalog.hours_per_month(),
                what: format!("{} GiB, {}", gib, rate.what),
            })
        }
        _ => None,
    }
}

fn compute_cost(catalog: &Catalog, pricing: &Pricing<'_>, use_: &ComputeUse) -> Option<Cost> {
    let instance = catalog.instance(pricing.cloud, &use_.instance_type)?;
    let region = pricing.region?;
    let offer = instance.offer(region)?;
    let (price, market) = if use_.spot {
        (offer.spot?, "spot")
    } else {
        (offer.on_demand, "on-demand")
    };
    let mut what = if use_.count == 1.0 {
        format!("{} {market} in {region}", use_.instance_type)
    } else {
        format!(
            "{} x {} {market} in {region}",
            use_.count, use_.instance_type
        )
    };
    if let Some(max) = use_.max_count {
        what.push_str(&format!(
            "; up to {}/h at {max} nodes",
            crate::ui::money::usd(price * max)
        ));
    }
    Some(Cost::Hourly {
        hourly: price * use_.count,
        what,
    })
}

fn best_rate<'c>(
    catalog: &'c Catalog,
    cloud: &str,
    type_name: &str,
    attrs: &Value,
) -> Option<&'c Rate> {
    catalog
        .data()
        .rates
        .iter()
        .filter(|r| r.cloud == cloud && r.resource == type_name)
        .filter(|r| {
            r.when
                .iter()
                .all(|(path, want)| at(attrs, path).and_then(text_of).as_deref() == Some(want))
        })
        .max_by_key(|r| r.when.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(entries: &[(&str, Value)]) -> Value {
        Value::map(entries.iter().map(|(k, v)| (k.to_string(), v.clone())))
    }

    /// Models as the cloud providers declare them (the GCP ones are what the Google Cloud
    /// provider will declare; the catalog is already priced for them).
    const NODE_GROUP: ComputeModel = ComputeModel {
        type_path: "instance_types.0",
        count_paths: &["scaling_config.0.desired_size"],
        max_paths: &["scaling_config.0.max_size"],
        spot_when: &[("capacity_type", "spot")],
        stopped_when: &[],
        per_zone: None,
    };
    const TPU_VM: ComputeModel = ComputeModel {
        type_path: "accelerator_type",
        count_paths: &[],
        max_paths: &[],
        spot_when: &[("scheduling_config.0.spot", "true")],
        stopped_when: &[],
        per_zone: None,
    };
    const NODE_POOL: ComputeModel = ComputeModel {
        type_path: "node_config.0.machine_type",
        count_paths: &["node_count", "initial_node_count"],
        max_paths: &["autoscaling.0.max_node_count"],
        spot_when: &[("node_config.0.spot", "true")],
        stopped_when: &[],
        per_zone: None,
    };
    const INSTANCE: ComputeModel = ComputeModel {
        type_path: "instance_type",
        count_paths: &[],
        max_paths: &[],
        spot_when: &[],
        stopped_when: &[],
        per_zone: None,
    };

    fn aws(model: Option<&ComputeModel>) -> Pricing<'_> {
        Pricing {
            cloud: "aws",
            model,
            region: Some("us-east-1"),
        }
    }

    #[test]
    fn node_groups_read_type_count_and_spot() {
        let attrs = obj(&[
            ("instance_types", Value::List(vec!["g6.xlarge".into()])),
            ("capacity_type", "SPOT".into()),
            (
                "scaling_config",
                Value::List(vec![obj(&[("desired_size", Value::Number(3.0))])]),
            ),
        ]);
        let u = compute_use(&NODE_GROUP, &attrs);
        assert_eq!(
            u,
            Some(ComputeUse {
                instance_type: "g6.xlarge".into(),
                count: 3.0,
                max_count: None,
                spot: true
            })
        );
        let single_block = obj(&[
            ("instance_types", Value::List(vec!["g6.xlarge".into()])),
            (
                "scaling_config",
                obj(&[("desired_size", Value::Number(2.0))]),
            ),
        ]);
        assert_eq!(
            compute_use(&NODE_GROUP, &single_block).map(|u| u.count),
            Some(2.0)
        );
        let unknown_count = obj(&[
            ("instance_types", Value::List(vec!["g6.xlarge".into()])),
            ("scaling_config", Value::unknown()),
        ]);
        assert_eq!(compute_use(&NODE_GROUP, &unknown_count), None);
    }

    #[test]
    fn per_zone_counts_are_multiplied_by_the_zones_but_totals_are_not() {
        const PER_ZONE_POOL: ComputeModel = ComputeModel {
            count_paths: &["node_count"],
            max_paths: &[
                "autoscaling.0.max_node_count",
                "autoscaling.0.total_max_node_count",
            ],
            per_zone: Some(gantry_provider::PerZone {
                zones_path: "node_locations",
                totals: &["autoscaling.0.total_max_node_count"],
            }),
            ..NODE_POOL
        };
        let zones = |n: usize| {
            Value::List(
                (0..n)
                    .map(|i| Value::string(format!("us-central1-{i}")))
                    .collect(),
            )
        };
        let pool = |locations: Value, autoscaling: Value| {
            obj(&[
                (
                    "node_config",
                    Value::List(vec![obj(&[("machine_type", "g2-standard-4".into())])]),
                ),
                ("node_count", Value::Number(2.0)),
                ("node_locations", locations),
                ("autoscaling", Value::List(vec![autoscaling])),
            ])
        };
        let per_zone_max = obj(&[("max_node_count", Value::Number(4.0))]);
        let total_max = obj(&[("total_max_node_count", Value::Number(10.0))]);
        let u = compute_use(&PER_ZONE_POOL, &pool(zones(3), per_zone_max.clone())).expect("use");
        assert_eq!((u.count, u.max_count), (6.0, Some(12.0)));
        let u = compute_use(&PER_ZONE_POOL, &pool(zones(3), total_max)).expect("use");
        assert_eq!((u.count, u.max_count), (6.0, Some(10.0)));
        // Zones not known yet (a regional cluster's pool before it is made): one.
        let u = compute_use(&PER_ZONE_POOL, &pool(Value::unknown(), per_zone_max)).expect("use");
        assert_eq!((u.count, u.max_count), (2.0, Some(4.0)));
    }

    fn builtin() -> Catalog {
        Catalog::builtin().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn tpu_slices_and_gcp_node_pools_are_priced_where_they_are() {
        let c = builtin();
        let tpu = obj(&[("accelerator_type", "v5litepod-16".into())]);
        let price = c
            .instance("gcp", "v5litepod-16")
            .and_then(|i| i.offer("us-central1"))
            .map(|o| o.on_demand);
        let gcp = |model| Pricing {
            cloud: "gcp",
            model: Some(model),
            region: Some("us-central1"),
        };
        let cost = resource_cost(&c, &gcp(&TPU_VM), "google_tpu_v2_vm", &tpu);
        assert_eq!(cost.as_ref().map(Cost::hourly), price);
        assert!(cost.is_some_and(|c| c.what().contains("in us-central1")));
        let pool = obj(&[
            ("node_count", Value::Number(3.0)),
            (
                "node_config",
                Value::List(vec![obj(&[
                    ("machine_type", "a3-highgpu-8g".into()),
                    ("spot", Value::Bool(true)),
                ])]),
            ),
        ]);
        let spot = c
            .instance("gcp", "a3-highgpu-8g")
            .and_then(|i| i.offer("us-central1"))
            .and_then(|o| o.spot);
        let cost = resource_cost(&c, &gcp(&NODE_POOL), "google_container_node_pool", &pool);
        assert_eq!(cost.map(|c| c.hourly()), spot.map(|s| s * 3.0));
    }

    #[test]
    fn storage_is_priced_by_capacity_and_tier_and_buckets_by_use() {
        let c = builtin();
        let lustre = |throughput: f64| {
            obj(&[
                ("deployment_type", "PERSISTENT_2".into()),
                ("per_unit_storage_throughput", Value::Number(throughput)),
                ("storage_capacity", Value::Number(2400.0)),
            ])
        };
        let fsx = "aws_fsx_lustre_file_system";
        let slow = resource_cost(&c, &aws(None), fsx, &lustre(125.0));
        let fast = resource_cost(&c, &aws(None), fsx, &lustre(1000.0));
        let hours = c.hours_per_month();
        assert_eq!(slow.map(|c| c.hourly()), Some(2400.0 * 0.145 / hours));
        assert_eq!(fast.map(|c| c.hourly()), Some(2400.0 * 0.600 / hours));
        let filestore = obj(&[
            ("tier", "BASIC_SSD".into()),
            (
                "file_shares",
                Value::List(vec![obj(&[("capacity_gb", Value::Number(2560.0))])]),
            ),
        ]);
        let gcp = Pricing {
            cloud: "gcp",
            model: None,
            region: Some("us-central1"),
        };
        let cost = resource_cost(&c, &gcp, "google_filestore_instance", &filestore);
        assert_eq!(cost.map(|c| c.hourly()), Some(2560.0 * 0.30 / hours));
        let bucket = resource_cost(&c, &aws(None), "aws_s3_bucket", &obj(&[]));
        assert!(matches!(bucket, Some(Cost::UsageBased { .. })));
        assert_eq!(resource_cost(&c, &aws(None), "aws_vpc", &obj(&[])), None);
        // An instance type the catalog does not list has no price (and no guess).
        let cpu = obj(&[("instance_type", "t3.micro".into())]);
        assert_eq!(
            resource_cost(&c, &aws(Some(&INSTANCE)), "aws_instance", &cpu),
            None
        );
        // Without a region there is no price to pick.
        let p5 = obj(&[("instance_type", "p5.48xlarge".into())]);
        let nowhere = Pricing {
            region: None,
            ..aws(Some(&INSTANCE))
        };
        assert_eq!(resource_cost(&c, &nowhere, "aws_instance", &p5), None);
        assert!(resource_cost(&c, &aws(Some(&INSTANCE)), "aws_instance", &p5).is_some());
    }
}

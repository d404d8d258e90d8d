//! What a resource costs, from its planned attributes and the catalog: instances and node
//! pools by instance type, node count and spot/on-demand; TPU slices by accelerator type;
//! everything else through the catalog's rates (control planes per hour, Lustre by GiB,
//! buckets as usage-based).

use super::model::Rate;
use super::Catalog;
use gantry_provider::Value;
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

/// How to read the compute a resource type runs: where its instance type, node count and
/// spot choice are.
struct ComputeModel {
    resource: &'static str,
    cloud: &'static str,
    /// Path to the instance type (`instance_types.0` takes a list's first element).
    type_path: &'static str,
    /// Path to the number of instances; one when absent.
    count_paths: &'static [&'static str],
    /// Path to the autoscaling upper bound, when the resource has one.
    max_paths: &'static [&'static str],
    /// (path, value meaning spot), compared without case.
    spot_when: &'static [(&'static str, &'static str)],
}

const COMPUTE: &[ComputeModel] = &[
    ComputeModel {
        resource: "aws_instance",
        cloud: "aws",
        type_path: "instance_type",
        count_paths: &[],
        max_paths: &[],
        spot_when: &[("instance_market_options.0.market_type", "spot")],
    },
    ComputeModel {
        resource: "aws_eks_node_group",
        cloud: "aws",
        type_path: "instance_types.0",
        count_paths: &["scaling_config.0.desired_size"],
        max_paths: &["scaling_config.0.max_size"],
        spot_when: &[("capacity_type", "spot")],
    },
    ComputeModel {
        resource: "google_compute_instance",
        cloud: "gcp",
        type_path: "machine_type",
        count_paths: &[],
        max_paths: &[],
        spot_when: &[
            ("scheduling.0.provisioning_model", "spot"),
            ("scheduling.0.preemptible", "true"),
        ],
    },
    ComputeModel {
        resource: "google_container_node_pool",
        cloud: "gcp",
        type_path: "node_config.0.machine_type",
        count_paths: &[
            "node_count",
            "initial_node_count",
            "autoscaling.0.min_node_count",
        ],
        max_paths: &[
            "autoscaling.0.max_node_count",
            "autoscaling.0.total_max_node_count",
        ],
        spot_when: &[
            ("node_config.0.spot", "true"),
            ("node_config.0.preemptible", "true"),
        ],
    },
    ComputeModel {
        resource: "google_tpu_v2_vm",
        cloud: "gcp",
        type_path: "accelerator_type",
        count_paths: &[],
        max_paths: &[],
        spot_when: &[
            ("scheduling_config.0.spot", "true"),
            ("scheduling_config.0.preemptible", "true"),
        ],
    },
    ComputeModel {
        resource: "azurerm_linux_virtual_machine",
        cloud: "azure",
        type_path: "size",
        count_paths: &[],
        max_paths: &[],
        spot_when: &[("priority", "spot")],
    },
    ComputeModel {
        resource: "azurerm_kubernetes_cluster_node_pool",
        cloud: "azure",
        type_path: "vm_size",
        count_paths: &["node_count", "min_count"],
        max_paths: &["max_count"],
        spot_when: &[("priority", "spot")],
    },
];

/// The cloud a resource type belongs to (`google_*` is `gcp`, `azurerm_*` is `azure`).
pub fn cloud_of(type_name: &str) -> Option<&'static str> {
    match type_name.split('_').next()? {
        "aws" => Some("aws"),
        "google" => Some("gcp"),
        "azurerm" => Some("azure"),
        _ => None,
    }
}

/// The region a resource's attributes name (GCP `zone`/`location`, Azure `location`).
pub fn region_in(attrs: &Value) -> Option<String> {
    for key in ["region", "zone", "location", "availability_zone"] {
        if let Some(s) = at(attrs, key)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        {
            return Some(zone_to_region(s));
        }
    }
    None
}

/// `us-central1-a` -> `us-central1`; `us-east-1a` -> `us-east-1`; regions stay as they are.
fn zone_to_region(zone: &str) -> String {
    if let Some((region, suffix)) = zone.rsplit_once('-') {
        if suffix.len() == 1 && suffix.chars().all(|c| c.is_ascii_lowercase()) {
            return region.to_owned();
        }
    }
    let trimmed = zone.trim_end_matches(|c: char| c.is_ascii_lowercase());
    if trimmed.len() + 1 == zone.len() && trimmed.ends_with(|c: char| c.is_ascii_digit()) {
        return trimmed.to_owned();
    }
    zone.to_owned()
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
    pub cloud: &'static str,
    pub instance_type: String,
    pub count: f64,
    /// The autoscaling upper bound, when above `count`.
    pub max_count: Option<f64>,
    pub spot: bool,
}

/// The compute a resource runs, when it is a compute resource with known attributes.
pub fn compute_use(type_name: &str, attrs: &Value) -> Option<ComputeUse> {
    let model = COMPUTE.iter().find(|m| m.resource == type_name)?;
    let instance_type = at(attrs, model.type_path)?.as_str()?.to_owned();
    let count = if model.count_paths.is_empty() {
        1.0
    } else {
        model
            .count_paths
            .iter()
            .find_map(|p| at(attrs, p).and_then(Value::as_number))?
    };
    let spot = model.spot_when.iter().any(|(path, want)| {
        at(attrs, path)
            .and_then(text_of)
            .is_some_and(|v| v.eq_ignore_ascii_case(want))
    });
    let max_count = model
        .max_paths
        .iter()
        .find_map(|p| at(attrs, p).and_then(Value::as_number))
        .filter(|max| *max > count);
    Some(ComputeUse {
        cloud: model.cloud,
        instance_type,
        count,
        max_count,
        spot,
    })
}

/// The cost of a resource in `region`; `None` when the catalog cannot price it (not a
/// costed type, an instance type it does not list, attributes known only after apply).
pub fn resource_cost(
    catalog: &Catalog,
    type_name: &str,
    attrs: &Value,
    region: Option<&str>,
) -> Option<Cost> {
    if let Some(use_) = compute_use(type_name, attrs) {
        return compute_cost(catalog, &use_, attrs, region);
    }
    let cloud = cloud_of(type_name)?;
    let rate = best_rate(catalog, cloud, type_name, attrs)?;
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

fn compute_cost(
    catalog: &Catalog,
    use_: &ComputeUse,
    attrs: &Value,
    region: Option<&str>,
) -> Option<Cost> {
    let instance = catalog.instance(use_.cloud, &use_.instance_type)?;
    // An AWS resource lives in its provider configuration's region; GCP and Azure resources
    // name their zone or location themselves.
    let region = if use_.cloud == "aws" {
        region.map(str::to_owned).or_else(|| region_in(attrs))?
    } else {
        region_in(attrs).or_else(|| region.map(str::to_owned))?
    };
    let offer = instance.offer(&region)?;
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

    #[test]
    fn zones_become_regions() {
        assert_eq!(zone_to_region("us-east-1a"), "us-east-1");
        assert_eq!(zone_to_region("us-central1-a"), "us-central1");
        assert_eq!(zone_to_region("us-east-1"), "us-east-1");
        assert_eq!(zone_to_region("eastus"), "eastus");
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
        let u = compute_use("aws_eks_node_group", &attrs);
        assert_eq!(
            u,
            Some(ComputeUse {
                cloud: "aws",
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
            compute_use("aws_eks_node_group", &single_block).map(|u| u.count),
            Some(2.0)
        );
        let unknown_count = obj(&[
            ("instance_types", Value::List(vec!["g6.xlarge".into()])),
            ("scaling_config", Value::unknown()),
        ]);
        assert_eq!(compute_use("aws_eks_node_group", &unknown_count), None);
        assert_eq!(compute_use("aws_vpc", &attrs), None);
    }

    fn builtin() -> Catalog {
        Catalog::builtin().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn tpu_slices_and_gcp_node_pools_are_priced_from_their_zone() {
        let c = builtin();
        let tpu = obj(&[
            ("accelerator_type", "v5litepod-16".into()),
            ("zone", "us-central1-a".into()),
        ]);
        let price = c
            .instance("gcp", "v5litepod-16")
            .and_then(|i| i.offer("us-central1"))
            .map(|o| o.on_demand);
        let cost = resource_cost(&c, "google_tpu_v2_vm", &tpu, Some("us-east-1"));
        assert_eq!(cost.as_ref().map(Cost::hourly), price);
        assert!(cost.is_some_and(|c| c.what().contains("in us-central1")));
        let pool = obj(&[
            ("location", "us-central1".into()),
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
        let cost = resource_cost(&c, "google_container_node_pool", &pool, None);
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
        let slow = resource_cost(&c, "aws_fsx_lustre_file_system", &lustre(125.0), None);
        let fast = resource_cost(&c, "aws_fsx_lustre_file_system", &lustre(1000.0), None);
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
        let cost = resource_cost(&c, "google_filestore_instance", &filestore, None);
        assert_eq!(cost.map(|c| c.hourly()), Some(2560.0 * 0.30 / hours));
        let bucket = resource_cost(&c, "aws_s3_bucket", &obj(&[]), None);
        assert!(matches!(bucket, Some(Cost::UsageBased { .. })));
        assert_eq!(resource_cost(&c, "aws_vpc", &obj(&[]), None), None);
        // An instance type the catalog does not list has no price (and no guess).
        let cpu = obj(&[("instance_type", "t3.micro".into())]);
        assert_eq!(
            resource_cost(&c, "aws_instance", &cpu, Some("us-east-1")),
            None
        );
    }
}

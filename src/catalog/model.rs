//! The catalog's data, as read from `catalog/catalog.toml` and override files.

use serde::{Deserialize, Serialize};

/// A whole catalog file. Override files use the same shape; every section may be empty.
#[derive(Clone, Debug, Default, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct CatalogFile {
    #[serde(default)]
    pub version: Option<String>,
    /// The date the prices and offerings were taken (`YYYY-MM-DD`).
    #[serde(default)]
    pub taken: Option<String>,
    #[serde(default)]
    pub hours_per_month: Option<f64>,
    #[serde(default, rename = "source")]
    pub sources: Vec<Source>,
    #[serde(default, rename = "accelerator")]
    pub accelerators: Vec<Accelerator>,
    #[serde(default, rename = "quota")]
    pub quotas: Vec<Quota>,
    #[serde(default, rename = "instance")]
    pub instances: Vec<InstanceType>,
    #[serde(default, rename = "rate")]
    pub rates: Vec<Rate>,
}

/// Where some of the data came from.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Source {
    pub cloud: String,
    pub what: String,
    pub url: String,
}

/// An accelerator model, named as specs name it (`H100`, `tpu-v5e`).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Accelerator {
    pub name: String,
    #[serde(default)]
    pub aliases: Vec<String>,
    /// `gpu`, `tpu`, `trainium`, `inferentia`.
    pub kind: String,
    pub vendor: String,
    /// Memory per accelerator.
    pub memory_gib: f64,
}

/// An account quota that governs some instance types.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Quota {
    pub cloud: String,
    pub service: String,
    pub code: String,
    pub name: String,
    /// `vcpus`, `gpus` or `chips`: what one instance uses of it.
    pub unit: String,
    /// AWS instance families counted against the quota (`p`, `g`, `vt`).
    #[serde(default)]
    pub families: Vec<String>,
    #[serde(default)]
    pub spot: bool,
    #[serde(default)]
    pub request_url: Option<String>,
}

/// One instance type (VM size, machine type, TPU slice) with accelerators.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InstanceType {
    pub cloud: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub accelerator: String,
    pub accelerator_count: u32,
    pub vcpus: u32,
    pub memory_gib: f64,
    pub interconnect: String,
    #[serde(default)]
    pub interconnect_gbps: f64,
    #[serde(default)]
    pub network_interfaces: u32,
    pub quota: Option<String>,
    #[serde(default)]
    pub spot_quota: Option<String>,
    /// TPU slices: `4x4`, `2x2x4`.
    #[serde(default)]
    pub topology: Option<String>,
    /// One node of a multi-node slice (GKE's `ct5lp-hightpu-4t`): priced per node, but
    /// never what an accelerator spec resolves to (the spec names the whole slice).
    #[serde(default)]
    pub slice_node: bool,
    pub regions: Vec<RegionOffer>,
}

/// Where an instance type is offered and what it costs there, per hour.
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct RegionOffer {
    pub region: String,
    #[serde(default)]
    pub zones: Vec<String>,
    pub on_demand: f64,
    #[serde(default)]
    pub spot: Option<f64>,
}

/// A partial instance entry in an override file: only `cloud` and `type` are required,
/// other fields replace the built-in entry's, `regions` merge by region.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct InstanceOverride {
    pub cloud: String,
    #[serde(rename = "type")]
    pub type_name: String,
    pub accelerator: Option<String>,
    pub accelerator_count: Option<u32>,
    pub vcpus: Option<u32>,
    pub memory_gib: Option<f64>,
    pub interconnect: Option<String>,
    pub interconnect_gbps: Option<f64>,
    pub network_interfaces: Option<u32>,
    pub quota: Option<String>,
    pub spot_quota: Option<String>,
    pub topology: Option<String>,
    #[serde(default)]
    pub slice_node: Option<bool>,
    #[serde(default)]
    pub regions: Vec<RegionOffer>,
}

/// An override file: like [`CatalogFile`] but instance entries may be partial.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OverrideFile {
    #[serde(default, rename = "source")]
    pub sources: Vec<Source>,
    #[serde(default, rename = "accelerator")]
    pub accelerators: Vec<Accelerator>,
    #[serde(default, rename = "quota")]
    pub quotas: Vec<Quota>,
    #[serde(default, rename = "instance")]
    pub instances: Vec<InstanceOverride>,
    #[serde(default, rename = "rate")]
    pub rates: Vec<Rate>,
}

/// The price of a resource type that is not an instance: a managed control plane per hour,
/// storage per GiB-month, or "usage-based" (billed by what is stored or transferred).
#[derive(Clone, Debug, Deserialize, Serialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct Rate {
    pub cloud: String,
    /// The resource type it prices (`aws_eks_cluster`).
    pub resource: String,
    /// Applies when every attribute named here has this value (`deployment_type =
    /// "PERSISTENT_2"`); the rate with most matching conditions wins.
    #[serde(default)]
    pub when: std::collections::BTreeMap<String, String>,
    /// `hour`, `month`, `gib_month` (times the `quantity` attribute) or `usage`.
    pub unit: String,
    #[serde(default)]
    pub price: f64,
    /// The attribute holding the GiB for `gib_month` rates.
    #[serde(default)]
    pub quantity: Option<String>,
    /// Shown next to the cost: "EKS control plane", "Lustre PERSISTENT_2 125 MB/s/TiB".
    pub what: String,
}

impl InstanceType {
    pub fn offer(&self, region: &str) -> Option<&RegionOffer> {
        self.regions.iter().find(|r| r.region == region)
    }
}

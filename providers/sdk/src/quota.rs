//! Quota pre-flight: what the engine asks a provider about an account limit before it
//! creates anything, and what the provider answers. The engine knows from the accelerator
//! catalog which quota governs an instance type and how many units each instance uses; the
//! provider knows how to read the limit and the current usage from its cloud.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One quota to read, in one region.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuotaQuery {
    /// The cloud's service name: `ec2` (AWS Service Quotas), `compute` (GCP), `Microsoft.Compute`.
    pub service: String,
    /// The cloud's quota code: `L-417A185B`, `NVIDIA_H100_GPUS`, `standardNDSH100v5Family`.
    pub code: String,
    /// Where the quota applies, as the resources needing it are located: a region, or a
    /// zone for clouds with zonal quotas; `None`: the provider's configured region.
    pub region: Option<String>,
    /// What the quota counts: `vcpus`, `gpus`, `chips`, `instances`.
    pub unit: String,
    /// Instance families counted against the quota (AWS: `p`, `g`, `vt`, `trn`, `inf`): the
    /// provider sums the running instances of these families.
    pub families: Vec<String>,
    /// Units one instance of a type uses, for the types the catalog knows; a provider that can
    /// read the units from the cloud (EC2 CPU options) prefers that.
    pub units_per_type: BTreeMap<String, f64>,
    /// Spot (`true`) or on-demand capacity: they are separate quotas on AWS.
    pub spot: bool,
}

/// The account's limit and what is in use now.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuotaReading {
    /// The quota's name as the cloud shows it (`Running On-Demand P instances`).
    pub name: String,
    pub limit: f64,
    pub used: f64,
    /// Where to request more, when the cloud has a page for it.
    pub request_url: Option<String>,
    /// A command that requests more (`aws service-quotas request-service-quota-increase
    /// ...`), `{desired}` standing for the limit the plan needs.
    #[serde(default)]
    pub request_command: Option<String>,
}

impl QuotaReading {
    pub fn free(&self) -> f64 {
        (self.limit - self.used).max(0.0)
    }
}

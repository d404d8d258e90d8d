//! How a provider's resources are priced and located: the engine prices a planned resource
//! from the accelerator catalog (instance types, TPU slices, rates) but only the provider
//! knows where in its resources the instance type, the node count and the spot choice are,
//! and where an object lives ([`crate::Provider::location_of`]). The engine holds no
//! per-cloud rules.

/// Where a compute resource keeps what it runs. Paths are dotted (`scaling_config.0.desired_size`);
/// a numeric segment indexes a list (or, for a single nested block, the block itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ComputeModel {
    /// The instance or machine type (`instance_types.0` takes a list's first element).
    pub type_path: &'static str,
    /// The number of instances, first path present wins; one when empty.
    pub count_paths: &'static [&'static str],
    /// The autoscaling upper bound, when the resource has one.
    pub max_paths: &'static [&'static str],
    /// `(path, value)` pairs meaning spot capacity, compared without case.
    pub spot_when: &'static [(&'static str, &'static str)],
    /// `(path, value)` pairs meaning the compute is stopped (a Workbench instance whose
    /// `desired_state` is `STOPPED`): it runs nothing, so it costs and needs no compute.
    pub stopped_when: &'static [(&'static str, &'static str)],
    /// Counts kept per zone (a GKE node pool's `node_count`): they are multiplied by the
    /// number of zones the object runs in.
    pub per_zone: Option<PerZone>,
}

/// Where the zones of an object whose counts are per zone are listed, and which of its
/// count and bound paths are totals across them all the same.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PerZone {
    /// The list of zones (`node_locations`); while it is unknown (before the object is
    /// made in a regional cluster) or empty, one zone is assumed.
    pub zones_path: &'static str,
    /// Count or bound paths that are totals, not per zone (`autoscaling.0.total_max_node_count`).
    pub totals: &'static [&'static str],
}

//! How the engine prices Google Cloud resources from the accelerator catalog: where a VM
//! keeps its machine type and its spot choice. Everything else is priced by the catalog's
//! rates (`catalog/rates.toml`) by type name.

use gantry_provider::{ComputeModel, PerZone};

const INSTANCE: ComputeModel = ComputeModel {
    type_path: "machine_type",
    count_paths: &[],
    max_paths: &[],
    spot_when: &[
        ("scheduling.0.provisioning_model", "spot"),
        ("scheduling.0.preemptible", "true"),
    ],
    stopped_when: &[],
    per_zone: None,
};

/// A TPU VM is priced by its slice (`v5litepod-16`: 16 chips), which planning derives
/// from `accelerator_config` when only that is given.
const TPU_VM: ComputeModel = ComputeModel {
    type_path: "accelerator_type",
    count_paths: &[],
    max_paths: &[],
    spot_when: &[
        ("scheduling_config.0.spot", "true"),
        ("scheduling_config.0.preemptible", "true"),
    ],
    stopped_when: &[],
    per_zone: None,
};

/// A GKE node pool: its machine type times its nodes, up to the autoscaler's maximum.
/// `node_count`, `initial_node_count` and the autoscaler's `min_node_count` and
/// `max_node_count` are per zone: times the pool's `node_locations` (one zone while they
/// are unknown, before a pool of a regional cluster is made); the `total_*` bounds are not.
/// A TPU slice pool is priced by its TPU machine type (`ct5lp-hightpu-4t`: four v5e chips
/// per node).
const NODE_POOL: ComputeModel = ComputeModel {
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
    stopped_when: &[],
    per_zone: Some(PerZone {
        zones_path: "node_locations",
        totals: &[
            "autoscaling.0.total_min_node_count",
            "autoscaling.0.total_max_node_count",
        ],
    }),
};

/// A Workbench instance is priced as the VM under it (the management fee is not modelled);
/// a stopped one (`desired_state = "STOPPED"`) runs no VM.
const WORKBENCH: ComputeModel = ComputeModel {
    type_path: "gce_setup.0.machine_type",
    count_paths: &[],
    max_paths: &[],
    spot_when: &[],
    stopped_when: &[("desired_state", "STOPPED")],
    per_zone: None,
};

/// The compute model of a Google Cloud resource type that runs VMs.
pub fn compute_model(type_name: &str) -> Option<ComputeModel> {
    match type_name {
        "google_compute_instance" => Some(INSTANCE),
        "google_tpu_v2_vm" => Some(TPU_VM),
        "google_container_node_pool" => Some(NODE_POOL),
        "google_workbench_instance" => Some(WORKBENCH),
        _ => None,
    }
}

//! How the engine prices Google Cloud resources from the accelerator catalog: where a VM
//! keeps its machine type and its spot choice. Everything else is priced by the catalog's
//! rates (`catalog/rates.toml`) by type name.

use gantry_provider::ComputeModel;

const INSTANCE: ComputeModel = ComputeModel {
    type_path: "machine_type",
    count_paths: &[],
    max_paths: &[],
    spot_when: &[
        ("scheduling.0.provisioning_model", "spot"),
        ("scheduling.0.preemptible", "true"),
    ],
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
};

/// The compute model of a Google Cloud resource type that runs VMs.
pub fn compute_model(type_name: &str) -> Option<ComputeModel> {
    match type_name {
        "google_compute_instance" => Some(INSTANCE),
        "google_tpu_v2_vm" => Some(TPU_VM),
        _ => None,
    }
}

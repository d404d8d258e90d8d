//! How the engine prices Azure resources from the accelerator catalog: where a scale set
//! or an AKS pool keeps its VM size, its count and its spot choice. Everything else is
//! priced by the catalog's rates (`catalog/rates.toml`) by type name.

use gantry_provider::ComputeModel;

const SCALE_SET: ComputeModel = ComputeModel {
    type_path: "sku",
    count_paths: &["instances"],
    max_paths: &[],
    spot_when: &[("priority", "spot")],
    stopped_when: &[],
    per_zone: None,
};

const NODE_POOL: ComputeModel = ComputeModel {
    type_path: "vm_size",
    count_paths: &["node_count", "min_count"],
    max_paths: &["max_count"],
    spot_when: &[("priority", "spot")],
    stopped_when: &[],
    per_zone: None,
};

/// An AKS cluster runs its system pool.
const CLUSTER: ComputeModel = ComputeModel {
    type_path: "default_node_pool.0.vm_size",
    count_paths: &[
        "default_node_pool.0.node_count",
        "default_node_pool.0.min_count",
    ],
    max_paths: &["default_node_pool.0.max_count"],
    spot_when: &[],
    stopped_when: &[],
    per_zone: None,
};

/// The compute model of an Azure resource type that runs VMs.
pub fn compute_model(type_name: &str) -> Option<ComputeModel> {
    match type_name {
        "azurerm_linux_virtual_machine_scale_set" => Some(SCALE_SET),
        "azurerm_kubernetes_cluster_node_pool" => Some(NODE_POOL),
        "azurerm_kubernetes_cluster" => Some(CLUSTER),
        _ => None,
    }
}

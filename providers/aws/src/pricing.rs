//! How the engine prices AWS resources from the accelerator catalog: where an instance or a
//! node group keeps its instance type, node count and spot choice. Everything else is priced
//! by the catalog's rates (`catalog/rates.toml`) by type name; an AWS object lives in its
//! provider configuration's region.

use gantry_provider::ComputeModel;

const INSTANCE: ComputeModel = ComputeModel {
    type_path: "instance_type",
    count_paths: &[],
    max_paths: &[],
    spot_when: &[("instance_market_options.0.market_type", "spot")],
    stopped_when: &[],
    per_zone: None,
};

const EKS_NODE_GROUP: ComputeModel = ComputeModel {
    type_path: "instance_types.0",
    count_paths: &["scaling_config.0.desired_size"],
    max_paths: &["scaling_config.0.max_size"],
    spot_when: &[("capacity_type", "spot")],
    stopped_when: &[],
    per_zone: None,
};

/// The compute model of an AWS resource type that runs instances.
pub fn compute_model(type_name: &str) -> Option<ComputeModel> {
    match type_name {
        "aws_instance" => Some(INSTANCE),
        "aws_eks_node_group" => Some(EKS_NODE_GROUP),
        _ => None,
    }
}

output "cluster_name" {
  description = "The EKS cluster"
  value       = aws_eks_cluster.main.name
}

output "cluster_endpoint" {
  description = "The Kubernetes API endpoint"
  value       = aws_eks_cluster.main.endpoint
}

output "cluster_arn" {
  value = aws_eks_cluster.main.arn
}

output "node_group_id" {
  description = "`cluster:node-group`"
  value       = aws_eks_node_group.gpu.id
}

output "instance_type" {
  description = "The instance type chosen for the accelerator spec"
  value       = local.instance_type
}

output "efa_interfaces" {
  description = "EFA interfaces per node (0 without EFA)"
  value       = local.efa_interfaces
}

output "gpus" {
  description = "GPUs in the node group at its desired size"
  value       = local.instance.accelerator_count * var.desired_size
}

output "hourly_cost" {
  description = "USD per hour of the GPU nodes at the desired size, at the catalog's on-demand or typical spot price"
  value       = (var.capacity_type == "SPOT" ? local.instance.spot_hourly[var.region] : local.instance.on_demand_hourly[var.region]) * var.desired_size
}

output "node_role_arn" {
  value = aws_iam_role.node.arn
}

output "node_role_name" {
  description = "Attach further policies (e.g. bucket access) to this role"
  value       = aws_iam_role.node.name
}

output "launch_template_id" {
  value = aws_launch_template.gpu.id
}

output "placement_group" {
  description = "The cluster placement group, or null"
  value       = one(aws_placement_group.gpu[*].name)
}

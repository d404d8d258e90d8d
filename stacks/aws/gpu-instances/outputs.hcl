output "instance_ids" {
  description = "The instances, in index order"
  value       = aws_instance.gpu[*].id
}

output "private_ips" {
  description = "Their primary private addresses (for a hostfile)"
  value       = aws_instance.gpu[*].private_ip
}

output "instance_type" {
  description = "The instance type chosen for the accelerator spec"
  value       = local.instance_type
}

output "efa_interfaces" {
  description = "EFA interfaces per instance (0 without EFA)"
  value       = local.efa_interfaces
}

output "gpus" {
  description = "GPUs in the fleet"
  value       = local.instance.accelerator_count * var.instance_count
}

output "launch_template_id" {
  value = aws_launch_template.gpu.id
}

output "placement_group" {
  description = "The cluster placement group, or null"
  value       = one(aws_placement_group.gpu[*].name)
}

output "role_name" {
  description = "The instances' IAM role, or null"
  value       = one(aws_iam_role.instance[*].name)
}

output "instance_profile_name" {
  description = "The instance profile, or null"
  value       = one(aws_iam_instance_profile.instance[*].name)
}

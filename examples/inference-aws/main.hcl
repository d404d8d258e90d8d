# Inference on AWS: an EKS cluster whose GPU node group autoscales between 1 and 8 nodes
# with one NVIDIA L4 each (g6.xlarge, the cheapest L4 type), in a VPC from the reusable
# network module. No EFA and no placement group: inference replicas do not talk to each
# other, and spreading them over the zones keeps serving through a zone outage.
#
#   gantry plan --sim examples/inference-aws
#   gantry apply examples/inference-aws

budget {
  max_hourly = 25
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "name" {
  type    = string
  default = "inference"
}

variable "accelerator" {
  description = "GPUs per node"
  type        = string
  default     = "L4"
}

provider "aws" {
  region = var.region
  default_tags {
    tags = { project = var.name, managed-by = "gantry" }
  }
}

module "network" {
  source     = "gantry/aws/network"
  name       = var.name
  cidr_block = "10.20.0.0/16"
  zone_count = 3
}

module "cluster" {
  source             = "gantry/aws/gpu-cluster"
  name               = var.name
  region             = var.region
  accelerator        = var.accelerator
  subnet_ids         = module.network.private_subnet_ids
  node_subnet_ids    = module.network.private_subnet_ids
  security_group_ids = [module.network.efa_security_group_id]
  efa                = false
  placement_group    = false
  disk_size          = 200
  min_size           = 1
  desired_size       = 2
  max_size           = 8
  labels             = { workload = "inference" }
}

output "cluster_name" {
  value = module.cluster.cluster_name
}

output "cluster_endpoint" {
  value = module.cluster.cluster_endpoint
}

output "instance_type" {
  value = module.cluster.instance_type
}

output "node_group_id" {
  value = module.cluster.node_group_id
}

output "hourly_cost" {
  description = "GPU nodes at the desired size, USD per hour"
  value       = module.cluster.hourly_cost
}

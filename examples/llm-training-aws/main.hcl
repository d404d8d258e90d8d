# LLM training on AWS, from the reusable modules in stacks/aws: a VPC with an EFA security
# group and a NAT gateway, an EKS cluster with four H100x8 nodes (p5.48xlarge: 32 GPUs,
# 32 EFA interfaces each, in a cluster placement group), a versioned, encrypted bucket with
# FSx for Lustre in the nodes' zone, and a SageMaker domain whose role can use the bucket.
#
#   gantry plan --sim examples/llm-training-aws     # offline: the plan, its cost, the budget
#   gantry apply examples/llm-training-aws          # AWS (check the P-instance quota first)
#
# The budget stops a plan that would cost more than $500/h: four p5.48xlarge are about
# $220/h on demand (see the `# cost:` lines of the plan).

budget {
  max_hourly = 500
}

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "name" {
  type    = string
  default = "llm-train"
}

variable "accelerator" {
  description = "GPUs per node"
  type        = string
  default     = "H100:8"
}

variable "nodes" {
  description = "GPU nodes in the training node group"
  type        = number
  default     = 4
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
  zone_count = 2
}

module "cluster" {
  source             = "gantry/aws/gpu-cluster"
  name               = var.name
  region             = var.region
  accelerator        = var.accelerator
  subnet_ids         = module.network.private_subnet_ids
  security_group_ids = [module.network.efa_security_group_id]
  efa                = true
  min_size           = 0
  desired_size       = var.nodes
  max_size           = var.nodes
}

# Lustre sits in the nodes' zone (the first private subnet) so reads never cross zones.
module "storage" {
  source                      = "gantry/aws/training-storage"
  name                        = var.name
  subnet_id                   = module.network.private_subnet_ids[0]
  security_group_ids          = [module.network.efa_security_group_id]
  storage_capacity            = 2400
  per_unit_storage_throughput = 250
}

module "platform" {
  source             = "gantry/aws/ml-platform"
  name               = var.name
  vpc_id             = module.network.vpc_id
  subnet_ids         = module.network.private_subnet_ids
  security_group_ids = [module.network.efa_security_group_id]
  bucket_arns        = [module.storage.bucket_arn]
  kms_key_arns       = [module.storage.kms_key_arn]
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

output "gpus" {
  value = module.cluster.gpus
}

output "node_group_id" {
  value = module.cluster.node_group_id
}

output "data_bucket" {
  value = module.storage.bucket_name
}

output "lustre_dns_name" {
  value = module.storage.lustre_dns_name
}

output "lustre_mount_name" {
  value = module.storage.lustre_mount_name
}

output "sagemaker_domain_id" {
  value = module.platform.domain_id
}

output "sagemaker_execution_role_arn" {
  value = module.platform.execution_role_arn
}

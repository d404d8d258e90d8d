# Inference on Azure: an AKS cluster whose A100 pool (Standard_NC24ads_A100_v4, one A100
# 80 GB each) autoscales between 1 and 4 nodes, with the NVIDIA driver AKS installs, on a
# network from the reusable module. Inference replicas do not need InfiniBand.
#
#   gantry plan --sim examples/inference-azure
#   ARM_SUBSCRIPTION_ID=... gantry apply examples/inference-azure
#
# The budget bounds the autoscaler's worst case: 4 NC24ads A100 v4 nodes are about
# $14.7/h on demand in eastus, the system pool and AKS's fee about $0.6/h more.

budget {
  max_hourly = 20
}

variable "location" {
  type    = string
  default = "eastus"
}

variable "name" {
  type    = string
  default = "inference"
}

variable "max_nodes" {
  type    = number
  default = 4
}

variable "spot" {
  description = "Spot GPU nodes (evictable)"
  type        = bool
  default     = false
}

provider "azurerm" {
  features {}
  default_tags = {
    project    = var.name
    managed-by = "gantry"
  }
}

resource "azurerm_resource_group" "main" {
  name     = "${var.name}-rg"
  location = var.location
}

module "network" {
  source              = "gantry/azure/network"
  name                = var.name
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
}

module "cluster" {
  source              = "gantry/azure/gpu-cluster"
  name                = var.name
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  subnet_id           = module.network.subnet_id
  gpu_pool_name       = "a100"
  gpu_vm_size         = "Standard_NC24ads_A100_v4"
  autoscale           = true
  gpu_min_count       = 1
  gpu_node_count      = var.max_nodes
  zones               = ["1", "2", "3"]
  spot                = var.spot
}

output "cluster" {
  value = module.cluster.cluster_name
}

output "oidc_issuer_url" {
  value = module.cluster.oidc_issuer_url
}

variable "name" {
  description = "Name of the cluster (and its DNS prefix)"
  type        = string
  default     = "gantry-gpu"

  validation {
    condition     = can(regex("^[a-zA-Z0-9][-a-zA-Z0-9]{0,52}[a-zA-Z0-9]$", var.name))
    error_message = "name must be 2-54 letters, digits and hyphens, starting and ending with a letter or digit."
  }
}

variable "resource_group_name" {
  description = "Resource group of the cluster"
  type        = string
}

variable "location" {
  description = "Azure region"
  type        = string
}

variable "subnet_id" {
  description = "Subnet of the nodes (stacks/azure/network's subnet_id)"
  type        = string
}

variable "kubernetes_version" {
  description = "Kubernetes version (empty: AKS's default)"
  type        = string
  default     = ""
}

variable "sku_tier" {
  description = "Free, Standard (uptime SLA) or Premium"
  type        = string
  default     = "Standard"

  validation {
    condition     = contains(["Free", "Standard", "Premium"], var.sku_tier)
    error_message = "sku_tier must be Free, Standard or Premium."
  }
}

variable "private_cluster" {
  description = "API server reachable only from the network"
  type        = bool
  default     = false
}

variable "pod_cidr" {
  description = "Azure CNI overlay's pod range (outside the network's space)"
  type        = string
  default     = "192.168.0.0/16"
}

variable "system_vm_size" {
  description = "VM size of the system pool"
  type        = string
  default     = "Standard_D4s_v5"
}

variable "system_node_count" {
  description = "Nodes of the system pool"
  type        = number
  default     = 2
}

variable "gpu_pool_name" {
  description = "Name of the GPU pool (1-12 lowercase letters and digits)"
  type        = string
  default     = "gpu"

  validation {
    condition     = can(regex("^[a-z][a-z0-9]{0,11}$", var.gpu_pool_name))
    error_message = "gpu_pool_name must be 1-12 lowercase letters and digits, starting with a letter."
  }
}

variable "gpu_vm_size" {
  description = "VM size of the GPU pool (Standard_ND96isr_H100_v5: 8 x H100 with InfiniBand; Standard_NC24ads_A100_v4: 1 x A100)"
  type        = string
  default     = "Standard_ND96isr_H100_v5"
}

variable "gpu_node_count" {
  description = "GPU nodes (the maximum when autoscaling)"
  type        = number
  default     = 2

  validation {
    condition     = var.gpu_node_count >= 1 && var.gpu_node_count <= 1000
    error_message = "gpu_node_count must be between 1 and 1000."
  }
}

variable "autoscale" {
  description = "Autoscale the GPU pool between gpu_min_count and gpu_node_count"
  type        = bool
  default     = false
}

variable "gpu_min_count" {
  description = "Fewest GPU nodes when autoscaling"
  type        = number
  default     = 0
}

variable "zones" {
  description = "Availability zones of the GPU pool (one zone keeps InfiniBand traffic close)"
  type        = list(string)
  default     = ["1"]
}

variable "spot" {
  description = "Spot GPU nodes (evictable, cheaper; counted against lowPriorityCores)"
  type        = bool
  default     = false
}

variable "gpu_driver" {
  description = "Install: AKS installs the NVIDIA driver; None: the GPU operator does"
  type        = string
  default     = "Install"

  validation {
    condition     = contains(["Install", "None"], var.gpu_driver)
    error_message = "gpu_driver must be Install or None."
  }
}

variable "tags" {
  description = "Tags on everything the module makes"
  type        = map(string)
  default     = {}
}

variable "name" {
  description = "Name of the GKE cluster"
  type        = string
  default     = "gantry-gpu"

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$", var.name))
    error_message = "name must be lowercase letters, digits and hyphens, starting with a letter, at most 40 characters (GKE's limit)."
  }
}

variable "project" {
  description = "Project of the cluster (its workload identity pool is PROJECT.svc.id.goog)"
  type        = string
}

variable "region" {
  description = "Region of the cluster (a regional control plane)"
  type        = string
  default     = "us-central1"
}

variable "accelerator" {
  description = "GPU model and count per node, as the catalog names them: h100:8 (A3), a100:8, l4:1 (G2)"
  type        = string
  default     = "h100:8"

  validation {
    condition     = accelerator_offered("gcp", var.accelerator, var.region)
    error_message = "No Google Cloud machine type carries ${var.accelerator} in ${var.region}: `gantry catalog --cloud gcp` lists them and where each is offered."
  }
}

variable "gpu_type" {
  description = "GKE's name of the GPU (nvidia-h100-80gb, nvidia-a100-80gb, nvidia-l4)"
  type        = string
  default     = "nvidia-h100-80gb"

  validation {
    condition     = can(regex("^nvidia-[a-z0-9-]+$", var.gpu_type))
    error_message = "gpu_type is GKE's accelerator name, like nvidia-h100-80gb or nvidia-l4."
  }
}

variable "gpus_per_node" {
  description = "GPUs each node carries (8 for A3 and A2 ultra, 1 for g2-standard-8)"
  type        = number
  default     = 8
}

variable "zone" {
  description = "Zone of the GPU nodes (empty: the first zone of the region that offers the machine type, from the catalog); one zone, so the compact placement can hold"
  type        = string
  default     = ""
}

variable "nodes" {
  description = "GPU nodes (fixed count; 0 with max_nodes > 0 for a pool the autoscaler fills)"
  type        = number
  default     = 2

  validation {
    condition     = var.nodes >= 0 && var.nodes <= 64 && floor(var.nodes) == var.nodes
    error_message = "nodes must be a whole number from 0 to 64."
  }
}

variable "max_nodes" {
  description = "Autoscaling upper bound (0: no autoscaling, `nodes` fixed)"
  type        = number
  default     = 0

  validation {
    condition     = var.max_nodes == 0 || var.max_nodes >= var.nodes
    error_message = "max_nodes must be 0 (no autoscaling) or at least nodes."
  }
}

variable "spot" {
  description = "Spot GPU nodes: cheaper, may be preempted at any time"
  type        = bool
  default     = false
}

variable "compact_placement" {
  description = "Place the GPU nodes close together (COMPACT placement policy) for NCCL between nodes"
  type        = bool
  default     = true
}

variable "driver_version" {
  description = "GPU driver GKE installs on the nodes: DEFAULT, LATEST or INSTALLATION_DISABLED (you install it)"
  type        = string
  default     = "LATEST"

  validation {
    condition     = contains(["DEFAULT", "LATEST", "INSTALLATION_DISABLED"], var.driver_version)
    error_message = "driver_version must be DEFAULT, LATEST or INSTALLATION_DISABLED."
  }
}

variable "network" {
  description = "VPC network (stacks/gcp/network's network_id)"
  type        = string
}

variable "subnetwork" {
  description = "Subnetwork of the nodes (stacks/gcp/network's subnetwork_id)"
  type        = string
}

variable "pods_range_name" {
  description = "Secondary range of the subnetwork for pods (stacks/gcp/network's pods_range_name)"
  type        = string
}

variable "services_range_name" {
  description = "Secondary range of the subnetwork for services (stacks/gcp/network's services_range_name)"
  type        = string
}

variable "master_cidr" {
  description = "The control plane's private /28"
  type        = string
  default     = "172.16.0.0/28"

  validation {
    condition     = can(cidrhost(var.master_cidr, 0)) && endswith(var.master_cidr, "/28")
    error_message = "master_cidr must be a /28 CIDR block, like 172.16.0.0/28."
  }
}

variable "release_channel" {
  description = "GKE release channel: RAPID, REGULAR or STABLE"
  type        = string
  default     = "REGULAR"

  validation {
    condition     = contains(["RAPID", "REGULAR", "STABLE"], var.release_channel)
    error_message = "release_channel must be RAPID, REGULAR or STABLE."
  }
}

variable "service_account_email" {
  description = "Service account of the nodes (empty: the Compute Engine default account)"
  type        = string
  default     = ""
}

variable "deletion_protection" {
  description = "Refuse to destroy the cluster (set false before a destroy)"
  type        = bool
  default     = true
}

variable "labels" {
  description = "Labels on the cluster and its nodes"
  type        = map(string)
  default     = {}
}

variable "name" {
  description = "Name of the slice (with `slices` > 1, the slices are NAME-0, NAME-1, ...)"
  type        = string
  default     = "gantry-tpu"

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,44}[a-z0-9])?$", var.name))
    error_message = "name must be lowercase letters, digits and hyphens, starting with a letter, at most 46 characters."
  }
}

variable "accelerator" {
  description = "TPU generation and chips per slice, as the catalog names them: tpu-v5e:16, tpu-v5p:8, tpu-v6e:256"
  type        = string
  default     = "tpu-v5e:16"

  validation {
    condition     = can(regex("^tpu-v(4|5e|5p|6e):[0-9]+$", var.accelerator))
    error_message = "accelerator must be tpu-v4:N, tpu-v5e:N, tpu-v5p:N or tpu-v6e:N (N chips per slice; `gantry catalog --cloud gcp` lists the slices)."
  }

  validation {
    condition     = accelerator_offered("gcp", var.accelerator, var.region)
    error_message = "No Cloud TPU slice has ${var.accelerator} in ${var.region}: `gantry catalog --cloud gcp` lists the slices and where each is offered."
  }
}

variable "region" {
  description = "Region to look the slice up in the catalog (its zone must be in it)"
  type        = string
  default     = "us-west4"
}

variable "zone" {
  description = "Zone of the slices (empty: the first zone of the region that offers the slice, from the catalog)"
  type        = string
  default     = ""
}

variable "slices" {
  description = "How many slices (more than one: a multislice job over the data-center network)"
  type        = number
  default     = 1

  validation {
    condition     = var.slices >= 1 && var.slices <= 16 && floor(var.slices) == var.slices
    error_message = "slices must be a whole number from 1 to 16."
  }
}

variable "runtime_version" {
  description = "TPU VM software version (v2-alpha-tpuv5-lite for v5e, v2-alpha-tpuv5 for v5p, v2-alpha-tpuv6e for v6e, tpu-ubuntu2204-base for v4)"
  type        = string
  default     = "v2-alpha-tpuv5-lite"
}

variable "spot" {
  description = "Spot capacity: cheaper, may be preempted at any time"
  type        = bool
  default     = false
}

variable "reserved" {
  description = "Use the project's TPU reservation"
  type        = bool
  default     = false

  validation {
    condition     = !(var.reserved && var.spot)
    error_message = "A slice is spot or reserved, not both."
  }
}

variable "network" {
  description = "VPC network of the slices (stacks/gcp/network's network_id); empty: the project's default network"
  type        = string
  default     = ""
}

variable "subnetwork" {
  description = "Subnetwork of the slices (stacks/gcp/network's subnetwork_id)"
  type        = string
  default     = ""
}

variable "service_account_email" {
  description = "Service account the TPU VMs run as (empty: the Compute Engine default)"
  type        = string
  default     = ""
}

variable "labels" {
  description = "Labels for every slice (the provider's default_labels apply as well)"
  type        = map(string)
  default     = {}
}

variable "platform" {
  description = "How the slices run: \"tpu-vm\" (Cloud TPU VMs) or \"gke\" (TPU node pools of `cluster`)"
  type        = string
  default     = "tpu-vm"

  validation {
    condition     = contains(["tpu-vm", "gke"], var.platform)
    error_message = "platform must be \"tpu-vm\" or \"gke\"."
  }

  validation {
    condition     = var.platform == "tpu-vm" || (startswith(var.accelerator, "tpu-v5e:") || startswith(var.accelerator, "tpu-v6e:")) && (contains([1, 4, 8], accelerator_count(var.accelerator)) || accelerator_count(var.accelerator) >= 16 && accelerator_count(var.accelerator) % 4 == 0) || startswith(var.accelerator, "tpu-v5p:") && accelerator_count(var.accelerator) % 4 == 0
    error_message = "On GKE a slice is tpu-v5e or tpu-v6e with 1, 4 or 8 chips or a multiple of 4 from 16 (ct5lp-hightpu-*, ct6e-standard-* machine types), or tpu-v5p with a multiple of 4 chips (ct5p-hightpu-4t); other generations run as platform = \"tpu-vm\"."
  }
}

variable "cluster" {
  description = "With platform = \"gke\": the GKE cluster's id (stacks/gcp/gpu-cluster's cluster_id, google_container_cluster.x.id)"
  type        = string
  default     = ""
}

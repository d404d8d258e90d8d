variable "name" {
  description = "Name of the notebook instance and prefix of its service account"
  type        = string
  default     = "gantry-ml"

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{4,22}[a-z0-9])$", var.name))
    error_message = "name must be 6-24 lowercase letters, digits and hyphens, starting with a letter (it also names the service account, whose id takes 6-30 characters)."
  }
}

variable "project" {
  description = "Project the service account is granted roles in"
  type        = string
}

variable "zone" {
  description = "Zone of the notebook VM"
  type        = string
  default     = "us-central1-a"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]-[a-z]$", var.zone))
    error_message = "zone is a zone name like us-central1-a."
  }
}

variable "machine_type" {
  description = "Machine type of the notebook VM (g2-standard-8 carries one L4)"
  type        = string
  default     = "g2-standard-8"
}

variable "accelerator_type" {
  description = "Workbench's name of the attached GPU (NVIDIA_L4, NVIDIA_TESLA_T4, NVIDIA_A100_80GB, ...); empty: none"
  type        = string
  default     = "NVIDIA_L4"
}

variable "accelerator_count" {
  description = "How many of accelerator_type"
  type        = number
  default     = 1

  validation {
    condition     = contains([1, 2, 4, 8], var.accelerator_count)
    error_message = "accelerator_count must be 1, 2, 4 or 8."
  }
}

variable "boot_disk_gb" {
  description = "Size of the boot disk in GB"
  type        = number
  default     = 150

  validation {
    condition     = var.boot_disk_gb >= 150 && var.boot_disk_gb <= 64000
    error_message = "boot_disk_gb must be from 150 (Workbench's minimum) to 64000."
  }
}

variable "roles" {
  description = "Project roles of the notebook's service account"
  type        = list(string)
  default     = ["roles/aiplatform.user", "roles/storage.objectUser"]
}

variable "owners" {
  description = "Users who may open the notebook (user:EMAIL); empty: anyone with the service account's access"
  type        = list(string)
  default     = []
}

variable "network" {
  description = "VPC network (stacks/gcp/network's network_id); empty: the project's default"
  type        = string
  default     = ""
}

variable "subnetwork" {
  description = "Subnetwork (stacks/gcp/network's subnetwork_id)"
  type        = string
  default     = ""
}

variable "idle_shutdown_minutes" {
  description = "Stop the VM after this many idle minutes (0: never)"
  type        = number
  default     = 120
}

variable "labels" {
  description = "Labels of the notebook"
  type        = map(string)
  default     = {}
}

variable "name" {
  description = "Prefix of the bucket and name of the Filestore instance"
  type        = string
  default     = "gantry-train"

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$", var.name))
    error_message = "name must be lowercase letters, digits and hyphens, starting with a letter, at most 40 characters."
  }
}

variable "project" {
  description = "Project of the storage (the bucket's name is PROJECT-NAME-data, globally unique)"
  type        = string
}

variable "region" {
  description = "Region of the bucket"
  type        = string
  default     = "us-central1"
}

variable "zone" {
  description = "Zone of the Filestore instance (next to the accelerators that read it)"
  type        = string
  default     = "us-central1-a"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]-[a-z]$", var.zone))
    error_message = "zone is a zone name like us-central1-a."
  }
}

variable "checkpoint_versions" {
  description = "Keep earlier versions of overwritten objects (checkpoints), deleted after keep_noncurrent_days"
  type        = bool
  default     = true
}

variable "keep_noncurrent_days" {
  description = "Days an overwritten or deleted object version is kept"
  type        = number
  default     = 14

  validation {
    condition     = var.keep_noncurrent_days >= 1 && var.keep_noncurrent_days <= 365
    error_message = "keep_noncurrent_days must be from 1 to 365."
  }
}

variable "nearline_after_days" {
  description = "Move objects to Nearline storage after this many days (0: never)"
  type        = number
  default     = 30
}

variable "filestore_tier" {
  description = "Filestore tier of the shared file system: BASIC_HDD, BASIC_SSD, ZONAL; empty: no Filestore"
  type        = string
  default     = "BASIC_SSD"

  validation {
    condition     = contains(["", "BASIC_HDD", "BASIC_SSD", "ZONAL"], var.filestore_tier)
    error_message = "filestore_tier must be BASIC_HDD, BASIC_SSD, ZONAL, or empty for none."
  }
}

variable "filestore_gb" {
  description = "Capacity of the file share in GiB (BASIC_HDD and ZONAL from 1024, BASIC_SSD from 2560)"
  type        = number
  default     = 2560

  validation {
    condition     = var.filestore_gb >= 1024 && var.filestore_gb <= 102400
    error_message = "filestore_gb must be from 1024 to 102400 GiB."
  }
}

variable "network" {
  description = "VPC network the file share is reachable from (stacks/gcp/network's network_name)"
  type        = string
  default     = "default"
}

variable "force_destroy" {
  description = "Let a destroy delete the bucket's objects (otherwise a bucket with data stays and the destroy fails)"
  type        = bool
  default     = false
}

variable "labels" {
  description = "Labels of the bucket and the file share"
  type        = map(string)
  default     = {}
}

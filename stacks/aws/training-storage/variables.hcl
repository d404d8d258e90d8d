variable "name" {
  description = "Prefix of the bucket, key and file system names"
  type        = string
  default     = "training"
}

variable "bucket_name" {
  description = "Name of the bucket (null: NAME-data-ACCOUNT_ID)"
  type        = string
  default     = null

  validation {
    condition     = var.bucket_name == null || can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.bucket_name))
    error_message = "bucket_name must be 3-63 lower-case letters, digits, dots and hyphens."
  }
}

variable "force_destroy" {
  description = "Let destroy delete a bucket that still holds objects (every version of them)"
  type        = bool
  default     = false
}

variable "kms_deletion_window_in_days" {
  description = "Days a destroyed KMS key waits before it is deleted (7-30)"
  type        = number
  default     = 30

  validation {
    condition     = var.kms_deletion_window_in_days >= 7 && var.kms_deletion_window_in_days <= 30
    error_message = "kms_deletion_window_in_days must be from 7 to 30."
  }
}

variable "lustre" {
  description = "Create an FSx for Lustre file system next to the bucket"
  type        = bool
  default     = true
}

variable "subnet_id" {
  description = "Subnet of the file system (the GPU nodes' zone); pass null when lustre = false"
  type        = string

  validation {
    condition     = !var.lustre || var.subnet_id != null
    error_message = "lustre = true needs a subnet_id (the GPU nodes' subnet)."
  }
}

variable "security_group_ids" {
  description = "Security groups of the file system (Lustre needs TCP 988 and 1018-1023 from the clients; the network module's EFA group allows all traffic between members)"
  type        = list(string)
  default     = []
}

variable "deployment_type" {
  description = "PERSISTENT_2 (default: replicated in its zone, throughput per TiB chosen), PERSISTENT_1 or SCRATCH_2"
  type        = string
  default     = "PERSISTENT_2"

  validation {
    condition     = contains(["PERSISTENT_2", "PERSISTENT_1", "SCRATCH_2"], var.deployment_type)
    error_message = "deployment_type must be PERSISTENT_2, PERSISTENT_1 or SCRATCH_2."
  }
}

variable "storage_capacity" {
  description = "File system size in GiB: 1200, or a multiple of 2400"
  type        = number
  default     = 1200

  validation {
    condition     = var.storage_capacity == 1200 || (var.storage_capacity >= 2400 && var.storage_capacity % 2400 == 0)
    error_message = "storage_capacity must be 1200 or a multiple of 2400 (GiB), not ${var.storage_capacity}."
  }
}

variable "per_unit_storage_throughput" {
  description = "MB/s per TiB: 125, 250, 500 or 1000 (PERSISTENT_2); 50, 100 or 200 (PERSISTENT_1); ignored for SCRATCH_2"
  type        = number
  default     = 250

  validation {
    condition = (
      var.deployment_type == "SCRATCH_2" ||
      (var.deployment_type == "PERSISTENT_2" && contains([125, 250, 500, 1000], var.per_unit_storage_throughput)) ||
      (var.deployment_type == "PERSISTENT_1" && contains([50, 100, 200], var.per_unit_storage_throughput))
    )
    error_message = "per_unit_storage_throughput ${var.per_unit_storage_throughput} does not exist for ${var.deployment_type}: 125/250/500/1000 for PERSISTENT_2, 50/100/200 for PERSISTENT_1."
  }
}

variable "data_compression_type" {
  description = "NONE or LZ4 (checkpoints and text compress well)"
  type        = string
  default     = "LZ4"
}

variable "link_bucket" {
  description = "Link the file system to the bucket: import new, changed and deleted objects, export files written (PERSISTENT_2: a data repository association at file_system_path; PERSISTENT_1 and SCRATCH_2: import_path / export_path at the root)"
  type        = bool
  default     = true
}

variable "file_system_path" {
  description = "Directory of a PERSISTENT_2 file system where the bucket appears (mount at /fsx: /fsx/data)"
  type        = string
  default     = "/data"

  validation {
    condition     = can(regex("^/", var.file_system_path))
    error_message = "file_system_path must be an absolute path on the file system, such as /data."
  }
}

variable "tags" {
  description = "Tags for every resource (the provider's default_tags apply as well)"
  type        = map(string)
  default     = {}
}

variable "account_name" {
  description = "Storage account name: global across Azure, 3-24 lowercase letters and digits"
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]{3,24}$", var.account_name))
    error_message = "account_name must be 3-24 lowercase letters and digits (and unique across Azure)."
  }
}

variable "resource_group_name" {
  description = "Resource group of the account"
  type        = string
}

variable "location" {
  description = "Azure region (keep it the compute's)"
  type        = string
}

variable "replication" {
  description = "LRS, ZRS (zone-redundant; the default), GRS, GZRS"
  type        = string
  default     = "ZRS"

  validation {
    condition     = contains(["LRS", "ZRS", "GRS", "RAGRS", "GZRS", "RAGZRS"], var.replication)
    error_message = "replication must be LRS, ZRS, GRS, RAGRS, GZRS or RAGZRS."
  }
}

variable "containers" {
  description = "Private containers to make"
  type        = list(string)
  default     = ["datasets", "checkpoints"]
}

variable "writers" {
  description = "Managed identities granted Storage Blob Data Contributor: a name (known at plan) to each principal id"
  type        = map(string)
  default     = {}
}

variable "tags" {
  description = "Tags on the account"
  type        = map(string)
  default     = {}
}

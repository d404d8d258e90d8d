variable "name" {
  description = "Name of the workspace; prefixes the rest"
  type        = string
  default     = "gantry-ml"

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{1,19}$", var.name))
    error_message = "name must be 2-20 lowercase letters, digits and hyphens, starting with a letter (the key vault's name, NAME-kv, must fit 24 characters)."
  }
}

variable "resource_group_name" {
  description = "Resource group of the platform"
  type        = string
}

variable "location" {
  description = "Azure region"
  type        = string
}

variable "tenant_id" {
  description = "Entra tenant of the key vault (data.azurerm_client_config.tenant_id)"
  type        = string
}

variable "artifacts_account_name" {
  description = "Storage account for the workspace's artifacts: global, 3-24 lowercase letters and digits"
  type        = string

  validation {
    condition     = can(regex("^[a-z0-9]{3,24}$", var.artifacts_account_name))
    error_message = "artifacts_account_name must be 3-24 lowercase letters and digits."
  }
}

variable "public_network_access" {
  description = "Reach the workspace from the Internet (false: private endpoints only)"
  type        = bool
  default     = true
}

variable "purge_protection" {
  description = "Key vault purge protection (a deleted vault cannot be purged for its retention)"
  type        = bool
  default     = false
}

variable "tags" {
  description = "Tags on everything the module makes"
  type        = map(string)
  default     = {}
}

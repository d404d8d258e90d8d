variable "name" {
  description = "Name of the scale set; prefixes the rest"
  type        = string
  default     = "gantry-fleet"

  validation {
    condition     = can(regex("^[a-z][-a-z0-9]{0,13}[a-z0-9]$", var.name))
    error_message = "name must be 2-15 lowercase letters, digits and hyphens (it prefixes the VMs' host names)."
  }
}

variable "resource_group_name" {
  description = "Resource group of the fleet"
  type        = string
}

variable "location" {
  description = "Azure region with the VM size (eastus, southcentralus, westus3 for ND H100 v5)"
  type        = string
}

variable "zone" {
  description = "Availability zone of the fleet and its placement group"
  type        = string
  default     = "1"
}

variable "subnet_id" {
  description = "Subnet of the VMs' front-end NIC (stacks/azure/network's subnet_id)"
  type        = string
}

variable "vm_size" {
  description = "An InfiniBand VM size: Standard_ND96isr_H100_v5, Standard_ND96isr_H200_v5, Standard_ND96asr_v4"
  type        = string
  default     = "Standard_ND96isr_H100_v5"

  validation {
    condition     = can(regex("^Standard_ND", var.vm_size))
    error_message = "vm_size must be an ND-series (InfiniBand) size such as Standard_ND96isr_H100_v5."
  }
}

variable "instances" {
  description = "VMs in the fleet"
  type        = number
  default     = 2

  validation {
    condition     = var.instances >= 1 && var.instances <= 100
    error_message = "instances must be between 1 and 100 (one placement group holds at most 100 VMs)."
  }
}

variable "admin_username" {
  description = "The VMs' admin user"
  type        = string
  default     = "azureuser"
}

variable "ssh_public_key" {
  description = "The admin user's SSH public key"
  type        = string
}

variable "os_disk_size_gb" {
  description = "OS disk size (the HPC image needs at least 64 GB)"
  type        = number
  default     = 256
}

variable "spot" {
  description = "Spot VMs (evictable, cheaper)"
  type        = bool
  default     = false
}

variable "identity_id" {
  description = "A user-assigned identity for the VMs (empty: a system-assigned one)"
  type        = string
  default     = ""
}

variable "tags" {
  description = "Tags on everything the module makes"
  type        = map(string)
  default     = {}
}

variable "name" {
  description = "Name of the virtual network; prefixes the names of everything in it"
  type        = string
  default     = "gantry"

  validation {
    condition     = can(regex("^[a-zA-Z0-9][-a-zA-Z0-9_.]{0,60}[a-zA-Z0-9_]$", var.name))
    error_message = "name must be 2-62 letters, digits, hyphens, periods and underscores, starting with a letter or digit."
  }
}

variable "resource_group_name" {
  description = "Resource group of the network (made by the caller)"
  type        = string
}

variable "location" {
  description = "Azure region (eastus, westus3, ...)"
  type        = string
}

variable "address_space" {
  description = "The network's address space"
  type        = string
  default     = "10.20.0.0/16"

  validation {
    condition     = can(cidrhost(var.address_space, 0))
    error_message = "address_space must be an IPv4 range (e.g. 10.20.0.0/16)."
  }
}

variable "nodes_cidr" {
  description = "The nodes subnet, inside address_space"
  type        = string
  default     = "10.20.0.0/20"

  validation {
    condition     = can(cidrhost(var.nodes_cidr, 0)) && tonumber(split("/", var.nodes_cidr)[1]) <= 24
    error_message = "nodes_cidr must be an IPv4 range of /24 or larger (e.g. 10.20.0.0/20)."
  }
}

variable "ssh_source_ranges" {
  description = "Ranges allowed to SSH to the nodes (empty: SSH from the Internet denied)"
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags on everything the module makes"
  type        = map(string)
  default     = {}
}

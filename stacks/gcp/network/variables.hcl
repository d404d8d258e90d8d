variable "name" {
  description = "Name of the VPC network; prefixes the names of everything in it"
  type        = string
  default     = "gantry"

  validation {
    condition     = can(regex("^[a-z]([-a-z0-9]{0,40}[a-z0-9])?$", var.name))
    error_message = "name must be lowercase letters, digits and hyphens, starting with a letter, at most 42 characters (Compute Engine names the rest after it)."
  }
}

variable "region" {
  description = "Region of the subnetwork and the Cloud Router (empty: the provider's region)"
  type        = string
  default     = ""
}

variable "nodes_cidr" {
  description = "Primary range of the subnetwork: VMs, TPU hosts and GKE nodes"
  type        = string
  default     = "10.10.0.0/20"

  validation {
    condition     = can(cidrhost(var.nodes_cidr, 0)) && tonumber(split("/", var.nodes_cidr)[1]) <= 24
    error_message = "nodes_cidr must be an IPv4 range of /24 or larger (e.g. 10.10.0.0/20)."
  }
}

variable "pods_cidr" {
  description = "Secondary range for GKE pods (range name `pods`)"
  type        = string
  default     = "10.64.0.0/14"

  validation {
    condition     = can(cidrhost(var.pods_cidr, 0))
    error_message = "pods_cidr must be an IPv4 range (e.g. 10.64.0.0/14)."
  }
}

variable "services_cidr" {
  description = "Secondary range for GKE services (range name `services`)"
  type        = string
  default     = "10.80.0.0/20"

  validation {
    condition     = can(cidrhost(var.services_cidr, 0))
    error_message = "services_cidr must be an IPv4 range (e.g. 10.80.0.0/20)."
  }
}

variable "mtu" {
  description = "MTU of the network: 8896 for GPUDirect and large NCCL messages, 1460 otherwise"
  type        = number
  default     = 8896

  validation {
    condition     = var.mtu >= 1300 && var.mtu <= 8896
    error_message = "mtu must be between 1300 and 8896."
  }
}

variable "enable_nat" {
  description = "A Cloud Router with Cloud NAT, so nodes without external addresses reach the internet"
  type        = bool
  default     = true
}

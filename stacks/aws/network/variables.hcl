variable "name" {
  description = "Name of the VPC; prefixes the names of everything in it"
  type        = string
  default     = "gantry"
}

variable "cidr_block" {
  description = "The VPC's IPv4 range; a /16 leaves room for eight /20 private subnets"
  type        = string
  default     = "10.0.0.0/16"

  validation {
    condition     = can(cidrsubnet(var.cidr_block, 8, 255))
    error_message = "cidr_block must be an IPv4 range of /16 or larger (e.g. 10.0.0.0/16)."
  }
}

variable "zones" {
  description = "Availability zones to use, in order (empty: the first zone_count of the region)"
  type        = list(string)
  default     = []

  validation {
    condition     = length(var.zones) <= 8
    error_message = "At most 8 zones: each gets a /20 private subnet from the VPC's bottom half."
  }
}

variable "zone_count" {
  description = "How many of the region's zones to use when `zones` is empty"
  type        = number
  default     = 2

  validation {
    condition     = var.zone_count >= 1 && var.zone_count <= 8 && floor(var.zone_count) == var.zone_count
    error_message = "zone_count must be a whole number from 1 to 8."
  }
}

variable "enable_nat" {
  description = "Create a NAT gateway (and its Elastic IP) for the private subnets' egress"
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags for every resource (the provider's default_tags apply as well)"
  type        = map(string)
  default     = {}
}

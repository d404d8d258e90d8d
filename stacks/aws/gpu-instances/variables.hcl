variable "name" {
  description = "Name of the fleet; prefixes its launch template, placement group and role"
  type        = string
  default     = "gpu"
}

variable "region" {
  description = "Region the instances run in (the accelerator catalog is looked up there)"
  type        = string
  default     = "us-east-1"
}

variable "accelerator" {
  description = "Accelerators per instance, e.g. \"H100:8\", \"A100:8\", \"L4\"; the cheapest instance type that has them in the region is used"
  type        = string
  default     = "H100:8"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]+)?$", var.accelerator))
    error_message = "accelerator is an accelerator name with an optional count per instance, e.g. \"H100:8\" or \"L4\"."
  }

  validation {
    condition     = accelerator_offered("aws", var.accelerator, var.region)
    error_message = "No AWS instance type has ${var.accelerator} in ${var.region}: `gantry catalog` lists where each accelerator is offered."
  }
}

variable "instance_count" {
  description = "How many instances"
  type        = number
  default     = 2

  validation {
    condition     = var.instance_count >= 0 && floor(var.instance_count) == var.instance_count
    error_message = "instance_count must be a whole number, 0 or more."
  }
}

variable "ami_id" {
  description = "AMI of the instances (an AWS Deep Learning AMI has the GPU drivers, EFA and NCCL)"
  type        = string
}

variable "subnet_id" {
  description = "Subnet of the instances (one zone: a cluster placement group cannot span zones)"
  type        = string
}

variable "security_group_ids" {
  description = "Security groups; for EFA, one that allows all traffic between its members (network module: efa_security_group_id)"
  type        = list(string)
  default     = []
}

variable "efa" {
  description = "Give each instance every EFA interface its type has (the type must support EFA)"
  type        = bool
  default     = true

  validation {
    # An accelerator the region lacks is the accelerator variable's error, not this one's.
    condition     = !var.efa || try(instance_type_info("aws", accelerator_instance_type("aws", var.accelerator, var.region)).efa, true)
    error_message = "efa = true, but ${try(accelerator_instance_type("aws", var.accelerator, var.region), "the instance type")} (for ${var.accelerator}) has no EFA interfaces: set efa = false."
  }
}

variable "placement_group" {
  description = "Launch into a cluster placement group (lowest latency between instances)"
  type        = bool
  default     = true
}

variable "spot" {
  description = "Run as spot instances (cheaper, can be reclaimed; `gantry plan` prices them at the catalog's spot rate)"
  type        = bool
  default     = false
}

variable "create_instance_profile" {
  description = "Create an IAM role and instance profile for the instances (with SSM access and policy_arns)"
  type        = bool
  default     = true
}

variable "policy_arns" {
  description = "Further managed policies for the instances' role (e.g. bucket access)"
  type        = list(string)
  default     = []
}

variable "key_name" {
  description = "EC2 key pair for SSH (null: none; SSM Session Manager works without one)"
  type        = string
  default     = null
}

variable "user_data" {
  description = "Cloud-init user data, as text"
  type        = string
  default     = null
}

variable "disk_size" {
  description = "Root volume, GiB (gp3, encrypted)"
  type        = number
  default     = 500
}

variable "tags" {
  description = "Tags for every resource (the provider's default_tags apply as well)"
  type        = map(string)
  default     = {}
}

variable "zone" {
  description = "Availability zone of the subnet the GPU instances go in, when known: checked against the zones the catalog says offer the instance type"
  type        = string
  default     = null

  validation {
    condition     = var.zone == null || contains(try(accelerator_zones("aws", var.accelerator, var.region), []), var.zone)
    error_message = "${var.accelerator} is not offered in zone ${coalesce(var.zone, "-")} of ${var.region}: it is offered in ${join(", ", try(accelerator_zones("aws", var.accelerator, var.region), []))}; choose a subnet in one of those zones."
  }
}

variable "name" {
  description = "Name of the EKS cluster; prefixes its roles, launch template and placement group"
  type        = string
  default     = "gpu"
}

variable "region" {
  description = "Region the cluster runs in (the accelerator catalog is looked up there)"
  type        = string
  default     = "us-east-1"
}

variable "accelerator" {
  description = "Accelerators per node, e.g. \"H100:8\", \"A100:8\", \"L4\", \"L4:4\"; the cheapest instance type that has them in the region is used"
  type        = string
  default     = "H100:8"

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9.-]*(:[0-9]+)?$", var.accelerator))
    error_message = "accelerator is an accelerator name with an optional count per node, e.g. \"H100:8\" or \"L4\"."
  }

  validation {
    condition     = accelerator_offered("aws", var.accelerator, var.region)
    error_message = "No AWS instance type has ${var.accelerator} in ${var.region}: `gantry catalog` lists where each accelerator is offered."
  }
}

variable "kubernetes_version" {
  description = "EKS Kubernetes version"
  type        = string
  default     = "1.31"
}

variable "subnet_ids" {
  description = "Subnets of the control plane (at least two zones); GPU nodes go in the first unless node_subnet_ids is set"
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1
    error_message = "subnet_ids needs at least one subnet (EKS wants two zones)."
  }
}

variable "node_subnet_ids" {
  description = "Subnets of the GPU nodes (empty: the first of subnet_ids, one zone, as a cluster placement group needs)"
  type        = list(string)
  default     = []
}

variable "security_group_ids" {
  description = "Security groups of the control plane and the nodes; for EFA, one that allows all traffic between its members (network module: efa_security_group_id)"
  type        = list(string)
  default     = []
}

variable "min_size" {
  description = "Fewest GPU nodes the node group scales to"
  type        = number
  default     = 0

  validation {
    condition     = var.min_size >= 0 && floor(var.min_size) == var.min_size
    error_message = "min_size must be a whole number, 0 or more."
  }
}

variable "max_size" {
  description = "Most GPU nodes the node group scales to"
  type        = number
  default     = 4

  validation {
    condition     = var.max_size >= 1 && floor(var.max_size) == var.max_size
    error_message = "max_size must be a whole number, 1 or more."
  }

  validation {
    condition     = var.min_size <= var.max_size
    error_message = "min_size (${var.min_size}) must not exceed max_size (${var.max_size})."
  }
}

variable "desired_size" {
  description = "GPU nodes to start with (what `gantry plan` prices and the quota pre-flight checks)"
  type        = number
  default     = 2

  validation {
    condition     = var.desired_size >= var.min_size && var.desired_size <= var.max_size
    error_message = "desired_size (${var.desired_size}) must be between min_size (${var.min_size}) and max_size (${var.max_size})."
  }
}

variable "efa" {
  description = "Give each node every EFA interface its instance type has (the accelerator's type must support EFA)"
  type        = bool
  default     = true

  validation {
    # An accelerator the region lacks is the accelerator variable's error, not this one's.
    condition     = !var.efa || try(instance_type_info("aws", accelerator_instance_type("aws", var.accelerator, var.region)).efa, true)
    error_message = "efa = true, but ${try(accelerator_instance_type("aws", var.accelerator, var.region), "the instance type")} (for ${var.accelerator}) has no EFA interfaces: set efa = false."
  }
}

variable "placement_group" {
  description = "Launch the nodes into a cluster placement group (lowest latency between nodes, one zone)"
  type        = bool
  default     = true
}

variable "capacity_type" {
  description = "ON_DEMAND or SPOT"
  type        = string
  default     = "ON_DEMAND"

  validation {
    condition     = contains(["ON_DEMAND", "SPOT"], var.capacity_type)
    error_message = "capacity_type must be ON_DEMAND or SPOT."
  }
}

variable "ami_type" {
  description = "EKS AMI type of the nodes (GPU drivers included)"
  type        = string
  default     = "AL2_x86_64_GPU"
}

variable "disk_size" {
  description = "Root volume of each node, GiB (gp3, encrypted)"
  type        = number
  default     = 500
}

variable "labels" {
  description = "Extra Kubernetes labels of the GPU nodes"
  type        = map(string)
  default     = {}
}

variable "endpoint_public_access" {
  description = "Whether the Kubernetes API endpoint is reachable from the internet"
  type        = bool
  default     = true
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

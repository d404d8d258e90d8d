# A small stack that plans and applies offline with `--sim`: no cloud account needed.
# It models a training job's moving parts with `gantry_data`, gantry's built-in resource.

variable "project" {
  type        = string
  default     = "llm-pretrain"
  description = "Name prefix for everything this stack creates."

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,30}$", var.project))
    error_message = "project must be 3-31 lowercase letters, digits or dashes."
  }
}

variable "workers" {
  type        = map(object({ gpus = number, zone = optional(string, "us-east-1a") }))
  description = "Training workers by name."
  default = {
    alpha = { gpus = 8 }
    beta  = { gpus = 8, zone = "us-east-1b" }
  }
}

variable "vpc_cidr" {
  type    = string
  default = "10.42.0.0/16"
}

locals {
  zones        = distinct([for w in var.workers : w.zone])
  subnet_cidrs = { for i, z in local.zones : z => cidrsubnet(var.vpc_cidr, 4, i) }
  total_gpus   = sum([for w in var.workers : w.gpus])
  tags = {
    project = var.project
    managed = "gantry"
  }
}

resource "gantry_data" "network" {
  input = {
    name = "${var.project}-net"
    cidr = var.vpc_cidr
    tags = local.tags
  }
}

resource "gantry_data" "subnet" {
  for_each = local.subnet_cidrs

  input = {
    network = gantry_data.network.id
    zone    = each.key
    cidr    = each.value
  }
}

module "worker" {
  source   = "./modules/worker"
  for_each = var.workers

  name      = "${var.project}-${each.key}"
  gpus      = each.value.gpus
  subnet_id = gantry_data.subnet[each.value.zone].id
}

resource "gantry_data" "checkpoints" {
  count = 2

  input = {
    bucket = format("%s-ckpt-%02d", var.project, count.index)
  }
}

output "total_gpus" {
  value       = local.total_gpus
  description = "GPUs across all workers."
}

output "worker_ids" {
  value = { for name, w in module.worker : name => w.id }
}

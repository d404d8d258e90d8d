# One training worker: its node and the disk it trains from.

variable "name" {
  type = string
}

variable "gpus" {
  type = number

  validation {
    condition     = contains([1, 2, 4, 8], var.gpus)
    error_message = "gpus must be 1, 2, 4 or 8."
  }
}

variable "subnet_id" {
  type = string
}

resource "gantry_data" "node" {
  input = {
    name      = var.name
    gpus      = var.gpus
    subnet_id = var.subnet_id
  }
}

resource "gantry_data" "scratch" {
  input = {
    node    = gantry_data.node.id
    size_gb = var.gpus * 512
  }
}

output "id" {
  value = gantry_data.node.id
}

# N nodes of an accelerator on AWS, each created wherever there is capacity: spot in the
# first zone that offers it, spot in the region's other zones, spot in a second region
# (`provider = aws.west`, passed down from the stack), then on demand; cheapest first.
# The zone that holds is kept by later plans.
#
# The contract every cloud's module of this example keeps: inputs `nodes`, `accelerator`;
# outputs `cloud`, `node_ids`, `placement`.

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "west_region" {
  description = "The region nodes go to when the first has no room"
  type        = string
  default     = "us-west-2"
}

variable "accelerator" {
  description = "GPUs per node"
  type        = string
  default     = "H100:8"
}

variable "nodes" {
  description = "Training nodes"
  type        = number
  default     = 2

  validation {
    condition     = var.nodes >= 1 && var.nodes <= 16
    error_message = "nodes must be between 1 and 16."
  }
}

variable "ami" {
  description = "The training image (a Deep Learning AMI in the region)"
  type        = string
  default     = "ami-0123456789abcdef0"
}

variable "west_ami" {
  description = "The same image in the second region (AMI ids are per region)"
  type        = string
  default     = "ami-0fedcba9876543210"
}

locals {
  instance_type = accelerator_instance_type("aws", var.accelerator, var.region)
  zones         = accelerator_zones("aws", var.accelerator, var.region)
  west_zone     = accelerator_zones("aws", var.accelerator, var.west_region)[0]
}

resource "aws_vpc" "train" {
  cidr_block = "10.60.0.0/16"
}

resource "aws_subnet" "zone" {
  for_each          = toset(local.zones)
  vpc_id            = aws_vpc.train.id
  availability_zone = each.key
  cidr_block        = cidrsubnet("10.60.0.0/16", 8, index(local.zones, each.key))
}

resource "aws_vpc" "west" {
  provider   = aws.west
  cidr_block = "10.61.0.0/16"
}

resource "aws_subnet" "west" {
  provider          = aws.west
  vpc_id            = aws_vpc.west.id
  availability_zone = local.west_zone
  cidr_block        = "10.61.0.0/24"
}

resource "aws_instance" "node" {
  count         = var.nodes
  ami           = var.ami
  instance_type = local.instance_type
  subnet_id     = aws_subnet.zone[local.zones[0]].id

  # As written: spot in the first zone.
  instance_market_options {
    market_type = "spot"
  }

  failover {
    on    = ["capacity"]
    order = "cost"

    # Spot in every other zone that offers the accelerator.
    alternatives = [for z in slice(local.zones, 1, length(local.zones)) : {
      subnet_id = aws_subnet.zone[z].id
    }]

    # Spot in the second region, with its own provider configuration and image.
    alternative {
      provider  = aws.west
      ami       = var.west_ami
      subnet_id = aws_subnet.west.id
    }

    # On demand, in the first zone and then the second.
    alternative {
      instance_market_options = null
    }
    alternative {
      instance_market_options = null
      subnet_id               = aws_subnet.zone[local.zones[length(local.zones) > 1 ? 1 : 0]].id
    }
  }

  tags = {
    Name = "train-node-${count.index}"
  }
}

output "cloud" {
  value = "aws"
}

output "node_ids" {
  description = "One id per node"
  value       = aws_instance.node[*].id
}

output "placement" {
  description = "Where each node runs"
  value       = [for n in aws_instance.node : "${n.availability_zone} ${n.instance_type}"]
}

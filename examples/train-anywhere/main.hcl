# Train anywhere there is room: N nodes of H100x8 on AWS, Google Cloud or Azure.
#
# The nodes are one module with a shared contract (inputs `nodes`, `accelerator`; outputs
# `cloud`, `node_ids`, `placement`). On AWS each node fails over by itself: spot in each
# zone that offers H100s, spot in a second region, then on demand. When AWS has no room
# anywhere, the whole module fails over: what it made on AWS is torn down and the Google
# Cloud module is applied (spot A3 VMs, zone by zone), then Azure's (an ND H100 v5 scale
# set). Choices are tried cheapest first, a choice the account's quota cannot hold is
# skipped before anything is created, and the choice that holds is kept by later plans.
#
#   gantry plan --sim examples/train-anywhere       # every choice, its price, the budget
#   gantry apply --sim examples/train-anywhere --wait-for-capacity 2h

budget {
  max_hourly = 500
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

variable "aws_region" {
  type    = string
  default = "us-east-1"
}

variable "aws_west_region" {
  description = "The AWS region nodes go to when the first has no room"
  type        = string
  default     = "us-west-2"
}

variable "gcp_project" {
  type    = string
  default = "my-ml-project"
}

variable "gcp_region" {
  type    = string
  default = "us-central1"
}

variable "azure_location" {
  type    = string
  default = "eastus"
}

provider "aws" {
  region = var.aws_region
  default_tags {
    tags = { project = "train-anywhere", managed-by = "gantry" }
  }
}

provider "aws" {
  alias  = "west"
  region = var.aws_west_region
  default_tags {
    tags = { project = "train-anywhere", managed-by = "gantry" }
  }
}

provider "google" {
  project        = var.gcp_project
  region         = var.gcp_region
  default_labels = { project = "train-anywhere" }
}

provider "azurerm" {
  features {}
  default_tags = { project = "train-anywhere" }
}

module "nodes" {
  source      = "./modules/aws-nodes"
  providers   = { aws = aws, aws.west = aws.west }
  nodes       = var.nodes
  accelerator = var.accelerator
  region      = var.aws_region
  west_region = var.aws_west_region

  failover {
    on    = ["capacity"]
    order = "cost"

    alternative {
      source    = "./modules/gcp-nodes"
      providers = { google = google }
      region    = var.gcp_region
    }

    alternative {
      source    = "./modules/azure-nodes"
      providers = { azurerm = azurerm }
      location  = var.azure_location
    }
  }
}

output "cloud" {
  value = module.nodes.cloud
}

output "placement" {
  description = "Where each node runs"
  value       = module.nodes.placement
}

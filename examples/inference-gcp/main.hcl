# Inference on Google Cloud: a private GKE cluster whose L4 node pool autoscales between
# 1 and 8 nodes (g2-standard-4, one NVIDIA L4 each, the cheapest L4 machine), with the
# driver GKE installs, on a VPC from the reusable network module. No compact placement:
# inference replicas do not talk to each other.
#
#   gantry plan --sim examples/inference-gcp
#   GOOGLE_PROJECT=my-project gantry apply examples/inference-gcp
#
# The budget bounds the autoscaler's worst case: 8 L4 nodes are about $5.6/h on demand.

budget {
  max_hourly = 10
}

variable "project" {
  type    = string
  default = "my-ml-project"
}

variable "region" {
  type    = string
  default = "us-central1"
}

variable "name" {
  type    = string
  default = "inference"
}

variable "max_nodes" {
  description = "Most L4 nodes the autoscaler may run"
  type        = number
  default     = 8
}

variable "deletion_protection" {
  description = "Refuse to destroy the cluster (true for a production cluster; false here so the example can be torn down)"
  type        = bool
  default     = false
}

provider "google" {
  project = var.project
  region  = var.region
  default_labels = {
    project    = var.name
    managed-by = "gantry"
  }
}

data "google_project" "this" {}

module "network" {
  source = "gantry/gcp/network"
  name   = var.name
  region = var.region
}

resource "google_service_account" "nodes" {
  account_id   = "${var.name}-nodes"
  display_name = "GKE nodes of ${var.name}"
}

resource "google_project_iam_member" "nodes" {
  for_each = toset([
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
    "roles/artifactregistry.reader",
  ])
  project = data.google_project.this.project_id
  role    = each.value
  member  = google_service_account.nodes.member
}

module "gke" {
  source                = "gantry/gcp/gpu-cluster"
  name                  = var.name
  project               = data.google_project.this.project_id
  region                = var.region
  accelerator           = "l4:1"
  gpu_type              = "nvidia-l4"
  gpus_per_node         = 1
  nodes                 = 1
  max_nodes             = var.max_nodes
  compact_placement     = false
  driver_version        = "DEFAULT"
  network               = module.network.network_id
  subnetwork            = module.network.subnetwork_id
  pods_range_name       = module.network.pods_range_name
  services_range_name   = module.network.services_range_name
  service_account_email = google_service_account.nodes.email
  deletion_protection   = var.deletion_protection
  labels                = { workload = "inference" }
}

output "cluster" {
  value = module.gke.cluster_id
}

output "endpoint" {
  value = module.gke.endpoint
}

output "nodes" {
  value = "1 to ${var.max_nodes} x ${module.gke.machine_type} in ${module.gke.zone}"
}

# N nodes of an accelerator on Google Cloud: spot VMs in the first zone of the region that
# offers it, then in its other zones, on their own VPC with the all-ports rule NCCL needs.
# Keeps the contract of ../aws-nodes: inputs `nodes`, `accelerator`; outputs `cloud`,
# `node_ids`, `placement`.

variable "region" {
  type    = string
  default = "us-central1"
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
}

locals {
  machine_type = accelerator_instance_type("gcp", var.accelerator, var.region)
  zones        = accelerator_zones("gcp", var.accelerator, var.region)
}

resource "google_compute_network" "train" {
  name                    = "train-anywhere"
  auto_create_subnetworks = false
  mtu                     = 8896
}

resource "google_compute_subnetwork" "nodes" {
  name          = "train-anywhere-nodes"
  network       = google_compute_network.train.id
  region        = var.region
  ip_cidr_range = "10.62.0.0/20"
}

resource "google_compute_firewall" "nccl" {
  name          = "train-anywhere-nccl"
  network       = google_compute_network.train.name
  source_ranges = [google_compute_subnetwork.nodes.ip_cidr_range]
  target_tags   = ["trainer"]

  allow {
    protocol = "all"
  }
}

resource "google_compute_instance" "node" {
  count        = var.nodes
  name         = "train-anywhere-${count.index}"
  machine_type = local.machine_type
  zone         = local.zones[0]
  tags         = ["trainer"]

  boot_disk {
    initialize_params {
      image = "projects/deeplearning-platform-release/global/images/family/common-cu124"
      size  = 200
      type  = "pd-ssd"
    }
  }

  network_interface {
    subnetwork = google_compute_subnetwork.nodes.id
  }

  scheduling {
    provisioning_model          = "SPOT"
    preemptible                 = true
    automatic_restart           = false
    on_host_maintenance         = "TERMINATE"
    instance_termination_action = "DELETE"
  }

  # The region's other zones that offer the accelerator.
  failover {
    on           = ["capacity"]
    alternatives = [for z in slice(local.zones, 1, length(local.zones)) : { zone = z }]
  }
}

output "cloud" {
  value = "gcp"
}

output "node_ids" {
  value = google_compute_instance.node[*].id
}

output "placement" {
  value = [for n in google_compute_instance.node : "${n.zone} ${n.machine_type}"]
}

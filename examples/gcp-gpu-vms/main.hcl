# Two spot A3 (8 x H100) training VMs on Google Cloud, on their own VPC with the
# all-ports rule NCCL needs between nodes. No capacity in the first zone: a VM fails over
# to the next one. (For VMs that must share a zone and a network spine, put them on a
# google_compute_resource_policy with a COLLOCATED group_placement_policy instead.)
#
#   cargo run -q -- plan --sim examples/gcp-gpu-vms          # offline
#   GOOGLE_PROJECT=my-project cargo run -q -- apply examples/gcp-gpu-vms

variable "project" {
  type    = string
  default = "my-ml-project"
}

variable "region" {
  type    = string
  default = "us-central1"
}

variable "nodes" {
  type    = number
  default = 2

  validation {
    condition     = var.nodes >= 1 && var.nodes <= 8
    error_message = "Between 1 and 8 A3 VMs."
  }
}

provider "google" {
  project = var.project
  region  = var.region
  zone    = "${var.region}-a"
  default_labels = {
    workload = "training"
  }
}

data "google_compute_zones" "up" {
  status = "UP"
}

resource "google_compute_network" "vpc" {
  name                    = "train-vpc"
  auto_create_subnetworks = false
  mtu                     = 8896
}

resource "google_compute_subnetwork" "nodes" {
  name                     = "train-nodes"
  network                  = google_compute_network.vpc.id
  ip_cidr_range            = "10.10.0.0/20"
  private_ip_google_access = true
}

resource "google_compute_firewall" "nccl" {
  name          = "train-nccl"
  network       = google_compute_network.vpc.name
  source_ranges = [google_compute_subnetwork.nodes.ip_cidr_range]
  target_tags   = ["trainer"]

  allow {
    protocol = "tcp"
  }
  allow {
    protocol = "udp"
  }
  allow {
    protocol = "icmp"
  }
}

resource "google_compute_instance" "trainer" {
  count        = var.nodes
  name         = "trainer-${count.index}"
  machine_type = "a3-highgpu-8g"
  zone         = "${var.region}-a"
  tags         = ["trainer"]
  labels       = { job = "pretrain" }

  boot_disk {
    initialize_params {
      image = "projects/deeplearning-platform-release/global/images/family/common-cu124"
      size  = 200
      type  = "pd-ssd"
    }
  }
  scratch_disk {}
  scratch_disk {}

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

  # Every other zone of the region that is up, in order.
  failover {
    on           = ["capacity"]
    alternatives = [for z in data.google_compute_zones.up.names : { zone = z } if z != "${var.region}-a"]
  }
}

output "trainer_ips" {
  value = google_compute_instance.trainer[*].network_interface[0].network_ip
}

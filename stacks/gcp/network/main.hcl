# A VPC network laid out for accelerator work on Google Cloud: one subnetwork with the
# secondary ranges GKE takes for pods and services, Private Google Access (nodes without
# external addresses reach Cloud Storage and the APIs), a firewall rule that lets nodes
# talk to each other on every port (NCCL, GPUDirect-TCPX, TPU ICI over DCN, JAX
# coordination), SSH through Identity-Aware Proxy, and Cloud NAT for egress.

locals {
  region = var.region != "" ? var.region : null
}

resource "google_compute_network" "vpc" {
  name                    = var.name
  auto_create_subnetworks = false
  mtu                     = var.mtu
  routing_mode            = "REGIONAL"
}

resource "google_compute_subnetwork" "nodes" {
  name                     = "${var.name}-nodes"
  network                  = google_compute_network.vpc.id
  region                   = local.region
  ip_cidr_range            = var.nodes_cidr
  private_ip_google_access = true

  secondary_ip_range {
    range_name    = "pods"
    ip_cidr_range = var.pods_cidr
  }

  secondary_ip_range {
    range_name    = "services"
    ip_cidr_range = var.services_cidr
  }
}

# Everything between members of the network's ranges: collective communication uses
# many ports, and GKE pods talk from the pods range.
resource "google_compute_firewall" "internal" {
  name          = "${var.name}-internal"
  network       = google_compute_network.vpc.name
  source_ranges = [var.nodes_cidr, var.pods_cidr]

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

# SSH only through Identity-Aware Proxy's range: nodes need no external address.
resource "google_compute_firewall" "iap_ssh" {
  name          = "${var.name}-iap-ssh"
  network       = google_compute_network.vpc.name
  source_ranges = ["35.235.240.0/20"]

  allow {
    protocol = "tcp"
    ports    = ["22"]
  }
}

resource "google_compute_router" "egress" {
  count   = var.enable_nat ? 1 : 0
  name    = "${var.name}-router"
  network = google_compute_network.vpc.id
  region  = local.region
}

resource "google_compute_router_nat" "egress" {
  count                              = var.enable_nat ? 1 : 0
  name                               = "${var.name}-nat"
  router                             = google_compute_router.egress[0].name
  region                             = local.region
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "LIST_OF_SUBNETWORKS"

  subnetwork {
    name                    = google_compute_subnetwork.nodes.id
    source_ip_ranges_to_nat = ["ALL_IP_RANGES"]
  }
}

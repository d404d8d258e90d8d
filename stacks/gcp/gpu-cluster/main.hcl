# A private GKE Standard cluster for GPU training: VPC-native on the stack's network,
# workload identity, a release channel, the default pool removed, and one GPU node pool
# (A3 H100:8 by default) in one zone with compact placement and the driver GKE installs.

locals {
  machine_type = accelerator_instance_type("gcp", var.accelerator, var.region)
  zone         = var.zone != "" ? var.zone : accelerator_zones("gcp", var.accelerator, var.region)[0]
}

resource "google_container_cluster" "this" {
  name                     = var.name
  location                 = var.region
  network                  = var.network
  subnetwork               = var.subnetwork
  remove_default_node_pool = true
  initial_node_count       = 1
  deletion_protection      = var.deletion_protection
  resource_labels          = var.labels

  release_channel {
    channel = var.release_channel
  }

  workload_identity_config {
    workload_pool = "${var.project}.svc.id.goog"
  }

  private_cluster_config {
    enable_private_nodes   = true
    master_ipv4_cidr_block = var.master_cidr
  }

  ip_allocation_policy {
    cluster_secondary_range_name  = var.pods_range_name
    services_secondary_range_name = var.services_range_name
  }
}

resource "google_container_node_pool" "gpu" {
  name               = "${var.name}-gpu"
  cluster            = google_container_cluster.this.id
  node_locations     = [local.zone]
  node_count         = var.max_nodes > 0 ? null : var.nodes
  initial_node_count = var.max_nodes > 0 ? var.nodes : null

  dynamic "autoscaling" {
    for_each = var.max_nodes > 0 ? [var.max_nodes] : []
    content {
      min_node_count = var.nodes
      max_node_count = autoscaling.value
    }
  }

  node_config {
    machine_type    = local.machine_type
    spot            = var.spot ? true : null
    service_account = var.service_account_email != "" ? var.service_account_email : null
    oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]
    labels          = { accelerator = replace(var.accelerator, ":", "x") }
    resource_labels = var.labels

    guest_accelerator {
      type  = var.gpu_type
      count = var.gpus_per_node
      gpu_driver_installation_config {
        gpu_driver_version = var.driver_version
      }
    }

    taint {
      key    = "nvidia.com/gpu"
      value  = "present"
      effect = "NO_SCHEDULE"
    }
  }

  dynamic "placement_policy" {
    for_each = var.compact_placement ? ["COMPACT"] : []
    content {
      type = placement_policy.value
    }
  }
}

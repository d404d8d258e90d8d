# TPU slices, as Cloud TPU VMs or (platform = "gke") as TPU node pools of a GKE cluster: the
# accelerator type and topology come from the spec through the catalog (tpu-v5e:16 is
# v5litepod-16, a 4x4 slice of four hosts; on GKE, four ct5lp-hightpu-4t nodes with
# tpu_topology 4x4; v5p on ct5p-hightpu-4t, v6e on ct6e-standard-*), spot or reserved, on
# the stack's network, running as a service account.

locals {
  accelerator_type = accelerator_instance_type("gcp", var.accelerator, var.region)
  topology         = accelerator_topology(var.accelerator)
  zone             = var.zone != "" ? var.zone : accelerator_zones("gcp", var.accelerator, var.region)[0]
  names            = var.slices == 1 ? [var.name] : [for i in range(var.slices) : "${var.name}-${i}"]
  on_gke           = var.platform == "gke"

  # On GKE a slice is a node pool of the generation's TPU machine type: v5e and v6e
  # single-host slices (1, 4 or 8 chips) are one node of their size, multi-host ones nodes
  # of four chips; v5p nodes always hold four.
  chips            = accelerator_count(var.accelerator)
  generation       = split(":", var.accelerator)[0]
  gke_family       = { "tpu-v5e" = "ct5lp-hightpu-", "tpu-v5p" = "ct5p-hightpu-", "tpu-v6e" = "ct6e-standard-" }
  single_host      = local.generation != "tpu-v5p" && contains([1, 4, 8], local.chips)
  gke_machine_type = "${lookup(local.gke_family, local.generation, "")}${local.single_host ? local.chips : 4}t"
  gke_nodes        = local.single_host ? 1 : local.chips / 4
}

resource "google_container_node_pool" "slice" {
  for_each       = local.on_gke ? toset(local.names) : toset([])
  name           = each.key
  cluster        = var.cluster != "" ? var.cluster : null
  node_locations = [local.zone]
  node_count     = local.gke_nodes

  node_config {
    machine_type    = local.gke_machine_type
    spot            = var.spot ? true : null
    service_account = var.service_account_email != "" ? var.service_account_email : null
    oauth_scopes    = ["https://www.googleapis.com/auth/cloud-platform"]
    labels          = { slice = each.key }
    resource_labels = merge(var.labels, { slice = each.key })

    dynamic "reservation_affinity" {
      for_each = var.reserved ? ["ANY_RESERVATION"] : []
      content {
        consume_reservation_type = reservation_affinity.value
      }
    }
  }

  placement_policy {
    type         = "COMPACT"
    tpu_topology = local.topology
  }
}

resource "google_tpu_v2_vm" "slice" {
  for_each         = local.on_gke ? toset([]) : toset(local.names)
  name             = each.key
  zone             = local.zone
  runtime_version  = var.runtime_version
  accelerator_type = local.accelerator_type
  description      = "${var.accelerator} (${local.topology})"
  labels           = merge(var.labels, { slice = each.key })

  network_config {
    network             = var.network != "" ? var.network : null
    subnetwork          = var.subnetwork != "" ? var.subnetwork : null
    enable_external_ips = false
  }

  scheduling_config {
    spot     = var.spot ? true : null
    reserved = var.reserved ? true : null
  }

  dynamic "service_account" {
    for_each = var.service_account_email != "" ? [var.service_account_email] : []
    content {
      email = service_account.value
      scope = ["https://www.googleapis.com/auth/cloud-platform"]
    }
  }
}

# TPU slices as Cloud TPU VMs: the accelerator type and topology come from the spec
# through the catalog (tpu-v5e:16 is v5litepod-16, a 4x4 slice of four hosts), spot or
# reserved, on the stack's network, running as a service account.
#
# (GKE TPU node pools, the other way to run a slice, are not available yet: the GKE
# resources of the Google Cloud provider are still to come.)

locals {
  accelerator_type = accelerator_instance_type("gcp", var.accelerator, var.region)
  topology         = accelerator_topology(var.accelerator)
  zone             = var.zone != "" ? var.zone : accelerator_zones("gcp", var.accelerator, var.region)[0]
  names            = var.slices == 1 ? [var.name] : [for i in range(var.slices) : "${var.name}-${i}"]
}

resource "google_tpu_v2_vm" "slice" {
  for_each         = toset(local.names)
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

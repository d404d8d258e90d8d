# The ML platform on Google Cloud: a Vertex AI Workbench notebook VM with a GPU, running as
# its own service account, which is granted the project roles the notebook needs.

resource "google_service_account" "notebook" {
  account_id   = "${var.name}-nb"
  display_name = "Workbench notebook ${var.name}"
}

resource "google_project_iam_member" "notebook" {
  for_each = toset(var.roles)
  project  = var.project
  role     = each.key
  member   = google_service_account.notebook.member
}

resource "google_workbench_instance" "this" {
  name            = var.name
  location        = var.zone
  instance_owners = length(var.owners) > 0 ? [for o in var.owners : trimprefix(o, "user:")] : null
  labels          = var.labels

  gce_setup {
    machine_type = var.machine_type
    metadata     = var.idle_shutdown_minutes > 0 ? { idle-timeout-seconds = tostring(var.idle_shutdown_minutes * 60) } : null

    dynamic "accelerator_configs" {
      for_each = var.accelerator_type != "" ? [var.accelerator_type] : []
      content {
        type       = accelerator_configs.value
        core_count = var.accelerator_count
      }
    }

    service_accounts {
      email = google_service_account.notebook.email
    }

    vm_image {
      project = "cloud-notebooks-managed"
      family  = "workbench-instances"
    }

    boot_disk {
      disk_size_gb = var.boot_disk_gb
      disk_type    = "PD_BALANCED"
    }

    dynamic "network_interfaces" {
      for_each = var.network != "" ? [var.network] : []
      content {
        network = network_interfaces.value
        subnet  = var.subnetwork != "" ? var.subnetwork : null
      }
    }

    disable_public_ip = var.network != "" ? true : null
  }

  # The grants first: the notebook's first start uses them.
  depends_on = [google_project_iam_member.notebook]
}

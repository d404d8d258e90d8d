# Training storage on Google Cloud: a bucket for datasets and checkpoints (uniform access,
# no public access, versioned checkpoints whose old versions expire, cold data moved to
# Nearline) and a Filestore NFS share next to the accelerators for what wants a file system.

resource "google_storage_bucket" "data" {
  name                        = "${var.project}-${var.name}-data"
  location                    = var.region
  storage_class               = "STANDARD"
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = var.force_destroy
  labels                      = var.labels

  versioning {
    enabled = var.checkpoint_versions
  }

  lifecycle_rule {
    action {
      type = "Delete"
    }
    condition {
      with_state         = "ARCHIVED"
      num_newer_versions = 1
      age                = var.keep_noncurrent_days
    }
  }

  dynamic "lifecycle_rule" {
    for_each = var.nearline_after_days > 0 ? [var.nearline_after_days] : []
    content {
      action {
        type          = "SetStorageClass"
        storage_class = "NEARLINE"
      }
      condition {
        age                   = lifecycle_rule.value
        matches_storage_class = ["STANDARD"]
      }
    }
  }
}

resource "google_filestore_instance" "shared" {
  count    = var.filestore_tier != "" ? 1 : 0
  name     = var.name
  location = var.zone
  tier     = var.filestore_tier
  labels   = var.labels

  file_shares {
    name        = "share1"
    capacity_gb = var.filestore_gb
  }

  networks {
    network = var.network
    modes   = ["MODE_IPV4"]
  }
}

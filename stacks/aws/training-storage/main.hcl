# Storage for training: a versioned, KMS-encrypted S3 bucket for datasets and checkpoints,
# closed to the public, and an FSx for Lustre file system next to the GPU nodes that
# serves it at hundreds of GB/s.

data "aws_caller_identity" "current" {}

locals {
  bucket = coalesce(var.bucket_name, "${var.name}-data-${data.aws_caller_identity.current.account_id}")
  # PERSISTENT_2 links S3 through a data repository association instead of import_path.
  link       = var.lustre && var.link_bucket && var.deployment_type != "PERSISTENT_2"
  persistent = var.deployment_type != "SCRATCH_2"
}

resource "aws_kms_key" "data" {
  description             = "${var.name}: datasets and checkpoints"
  deletion_window_in_days = var.kms_deletion_window_in_days
  enable_key_rotation     = true
  tags                    = var.tags
}

resource "aws_s3_bucket" "data" {
  bucket        = local.bucket
  force_destroy = var.force_destroy
  tags          = var.tags
}

# Versioning keeps every checkpoint that a later write overwrote or a job deleted.
resource "aws_s3_bucket_versioning" "data" {
  bucket = aws_s3_bucket.data.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  bucket = aws_s3_bucket.data.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.data.arn
    }
    # One KMS request per object and hour instead of per object read: much cheaper for
    # datasets of many small files.
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "data" {
  bucket                  = aws_s3_bucket.data.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}

# Security groups are left unset (not []) when none are given: the file system then gets
# the VPC's default group. Persistent file systems are encrypted with the bucket's key.
resource "aws_fsx_lustre_file_system" "data" {
  count                       = var.lustre ? 1 : 0
  storage_capacity            = var.storage_capacity
  subnet_ids                  = [var.subnet_id]
  security_group_ids          = length(var.security_group_ids) > 0 ? var.security_group_ids : null
  deployment_type             = var.deployment_type
  per_unit_storage_throughput = local.persistent ? var.per_unit_storage_throughput : null
  data_compression_type       = var.data_compression_type
  kms_key_id                  = local.persistent ? aws_kms_key.data.arn : null
  import_path                 = local.link ? "s3://${aws_s3_bucket.data.id}" : null
  export_path                 = local.link ? "s3://${aws_s3_bucket.data.id}" : null
  auto_import_policy          = local.link ? "NEW_CHANGED_DELETED" : null
  tags                        = merge(var.tags, { Name = "${var.name}-lustre" })
}

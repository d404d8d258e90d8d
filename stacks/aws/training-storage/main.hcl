# Storage for training: a versioned, KMS-encrypted S3 bucket for datasets and checkpoints,
# closed to the public, and an FSx for Lustre file system next to the GPU nodes that
# serves it at hundreds of GB/s, linked to the bucket.

data "aws_caller_identity" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = element(split(":", data.aws_caller_identity.current.arn), 1)
  bucket    = coalesce(var.bucket_name, "${var.name}-data-${local.account}")
  # PERSISTENT_2 links S3 through a data repository association (a directory of the file
  # system mapped to the bucket); PERSISTENT_1 and SCRATCH_2 through import_path.
  associate  = var.lustre && var.link_bucket && var.deployment_type == "PERSISTENT_2"
  link       = var.lustre && var.link_bucket && var.deployment_type != "PERSISTENT_2"
  persistent = var.deployment_type != "SCRATCH_2"
}

# The account manages the key through IAM as with the default key policy; FSx reads and
# writes the bucket's objects as the file system's S3-access service-linked role
# (AWSServiceRoleForFSxS3Access_fs-...), which needs the key for SSE-KMS objects: only
# through S3, only for this bucket's objects (with S3 Bucket Keys the context is the
# bucket's ARN, hence both).
data "aws_iam_policy_document" "key" {
  statement {
    sid       = "EnableIAMUserPermissions"
    actions   = ["kms:*"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
  }

  statement {
    sid       = "FSxLinkedBucketObjects"
    actions   = ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]
    resources = ["*"]
    principals {
      type        = "AWS"
      identifiers = ["*"]
    }
    condition {
      test     = "StringLike"
      variable = "aws:PrincipalArn"
      values   = ["arn:${local.partition}:iam::${local.account}:role/aws-service-role/s3.data-source.lustre.fsx.amazonaws.com/AWSServiceRoleForFSxS3Access_*"]
    }
    condition {
      test     = "StringEquals"
      variable = "kms:CallerAccount"
      values   = [local.account]
    }
    condition {
      test     = "StringLike"
      variable = "kms:EncryptionContext:aws:s3:arn"
      values   = ["arn:${local.partition}:s3:::${local.bucket}", "arn:${local.partition}:s3:::${local.bucket}/*"]
    }
  }
}

resource "aws_kms_key" "data" {
  description             = "${var.name}: datasets and checkpoints"
  deletion_window_in_days = var.kms_deletion_window_in_days
  enable_key_rotation     = true
  policy                  = data.aws_iam_policy_document.key.json
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

# PERSISTENT_2: the bucket appears under file_system_path. Existing objects' metadata is
# loaded when the association is made (contents on first read), new, changed and deleted
# objects follow automatically, and files written there (checkpoints) are exported back.
resource "aws_fsx_data_repository_association" "data" {
  count                            = local.associate ? 1 : 0
  file_system_id                   = aws_fsx_lustre_file_system.data[0].id
  data_repository_path             = "s3://${aws_s3_bucket.data.id}"
  file_system_path                 = var.file_system_path
  batch_import_meta_data_on_create = true

  s3 {
    auto_import_policy {
      events = ["NEW", "CHANGED", "DELETED"]
    }
    auto_export_policy {
      events = ["NEW", "CHANGED", "DELETED"]
    }
  }

  tags = merge(var.tags, { Name = "${var.name}-data" })
}

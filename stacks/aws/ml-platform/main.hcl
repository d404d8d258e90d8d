# A SageMaker domain (Studio, notebooks, training and inference jobs) in the stack's VPC,
# with an execution role that has SageMaker's managed policy and, when buckets are given,
# read/write access to them.

locals {
  # Counted from the list's length, which is known at plan time even while the ARNs are not.
  bucket_access = length(var.bucket_arns) > 0
}

data "aws_iam_policy_document" "sagemaker_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["sagemaker.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "execution" {
  name               = "${var.name}-sagemaker-execution"
  assume_role_policy = data.aws_iam_policy_document.sagemaker_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "sagemaker" {
  role       = aws_iam_role.execution.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
}

# ---- bucket access (optional) ----

data "aws_iam_policy_document" "bucket" {
  count = local.bucket_access ? 1 : 0

  statement {
    sid       = "ListBucket"
    actions   = ["s3:ListBucket", "s3:GetBucketLocation"]
    resources = var.bucket_arns
  }

  statement {
    sid       = "ReadWriteObjects"
    actions   = ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:AbortMultipartUpload"]
    resources = [for arn in var.bucket_arns : "${arn}/*"]
  }

  dynamic "statement" {
    for_each = length(var.kms_key_arns) > 0 ? [var.kms_key_arns] : []
    content {
      sid       = "UseBucketKeys"
      actions   = ["kms:Decrypt", "kms:GenerateDataKey"]
      resources = statement.value
    }
  }
}

resource "aws_iam_policy" "bucket" {
  count       = local.bucket_access ? 1 : 0
  name        = "${var.name}-sagemaker-bucket"
  description = "Read and write the training buckets"
  policy      = data.aws_iam_policy_document.bucket[0].json
  tags        = var.tags
}

resource "aws_iam_role_policy_attachment" "bucket" {
  count      = local.bucket_access ? 1 : 0
  role       = aws_iam_role.execution.name
  policy_arn = aws_iam_policy.bucket[0].arn
}

# ---- domain ----

resource "aws_sagemaker_domain" "main" {
  domain_name             = var.name
  auth_mode               = var.auth_mode
  vpc_id                  = var.vpc_id
  subnet_ids              = var.subnet_ids
  app_network_access_type = var.app_network_access_type
  tags                    = var.tags

  default_user_settings {
    execution_role  = aws_iam_role.execution.arn
    security_groups = length(var.security_group_ids) > 0 ? var.security_group_ids : null
  }

  depends_on = [aws_iam_role_policy_attachment.sagemaker]
}

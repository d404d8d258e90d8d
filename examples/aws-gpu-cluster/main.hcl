# A GPU training cluster on AWS: network with an EFA-ready security group, IAM, an encrypted
# versioned bucket for datasets and checkpoints, FSx for Lustre linked to it, a placement
# group of p5.48xlarge instances launched from an EFA launch template, an EKS cluster with a
# GPU node group, and a SageMaker domain.
#
#   gantry plan --sim examples/aws-gpu-cluster        # offline
#   gantry apply examples/aws-gpu-cluster             # AWS (or AWS_ENDPOINT_URL=moto)

variable "region" {
  type    = string
  default = "us-east-1"
}

variable "name" {
  type    = string
  default = "llm-train"
}

variable "gpu_instance_type" {
  type    = string
  default = "p5.48xlarge"
}

variable "gpu_instances" {
  type    = number
  default = 2
}

variable "ami_id" {
  description = "Deep Learning AMI for the GPU instances"
  type        = string
  default     = "ami-0123456789abcdef0"
}

provider "aws" {
  region = var.region
  default_tags {
    tags = { project = var.name, managed-by = "gantry" }
  }
}

data "aws_availability_zones" "available" {
  state = "available"
}

data "aws_caller_identity" "current" {}

locals {
  zones = slice(data.aws_availability_zones.available.names, 0, 2)
}

# ---- network ----

resource "aws_vpc" "main" {
  cidr_block           = "10.0.0.0/16"
  enable_dns_hostnames = true
  tags                 = { Name = var.name }
}

resource "aws_subnet" "private" {
  count             = 2
  vpc_id            = aws_vpc.main.id
  cidr_block        = cidrsubnet(aws_vpc.main.cidr_block, 4, count.index)
  availability_zone = local.zones[count.index]
  tags              = { Name = "${var.name}-private-${count.index}" }
}

resource "aws_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id
}

resource "aws_route_table" "main" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.main.id
  }
}

resource "aws_route_table_association" "private" {
  count          = 2
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.main.id
}

# EFA needs all traffic allowed between the members of the group.
resource "aws_security_group" "efa" {
  name        = "${var.name}-efa"
  description = "EFA: all traffic within the group"
  vpc_id      = aws_vpc.main.id

  ingress {
    from_port = 0
    to_port   = 0
    protocol  = "-1"
    self      = true
  }

  egress {
    from_port = 0
    to_port   = 0
    protocol  = "-1"
    self      = true
  }

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_placement_group" "gpu" {
  name     = "${var.name}-gpu"
  strategy = "cluster"
}

# ---- IAM ----

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "eks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["eks.amazonaws.com"]
    }
  }
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

resource "aws_iam_role" "node" {
  name               = "${var.name}-node"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
}

resource "aws_iam_role_policy_attachment" "node" {
  for_each = toset([
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
    "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
  ])
  role       = aws_iam_role.node.name
  policy_arn = each.value
}

resource "aws_iam_instance_profile" "node" {
  name = "${var.name}-node"
  role = aws_iam_role.node.name
}

resource "aws_iam_role" "cluster" {
  name               = "${var.name}-cluster"
  assume_role_policy = data.aws_iam_policy_document.eks_assume.json
}

resource "aws_iam_role_policy_attachment" "cluster" {
  role       = aws_iam_role.cluster.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
}

resource "aws_iam_role" "sagemaker" {
  name               = "${var.name}-sagemaker"
  assume_role_policy = data.aws_iam_policy_document.sagemaker_assume.json
}

resource "aws_iam_role_policy_attachment" "sagemaker" {
  role       = aws_iam_role.sagemaker.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess"
}

# ---- storage ----

resource "aws_kms_key" "data" {
  description             = "${var.name} datasets and checkpoints"
  deletion_window_in_days = 7
}

resource "aws_s3_bucket" "data" {
  bucket        = "${var.name}-data-${data.aws_caller_identity.current.account_id}"
  force_destroy = true
}

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

resource "aws_fsx_lustre_file_system" "scratch" {
  storage_capacity            = 1200
  subnet_ids                  = [aws_subnet.private[0].id]
  security_group_ids          = [aws_security_group.efa.id]
  deployment_type             = "PERSISTENT_2"
  per_unit_storage_throughput = 250
  tags                        = { Name = "${var.name}-lustre" }
}

# ---- GPU instances ----

resource "aws_launch_template" "gpu" {
  name          = "${var.name}-gpu"
  image_id      = var.ami_id
  instance_type = var.gpu_instance_type

  iam_instance_profile {
    name = aws_iam_instance_profile.node.name
  }

  # p5.48xlarge has 32 EFA interfaces; the first carries IP traffic too.
  network_interfaces {
    device_index       = 0
    network_card_index = 0
    interface_type     = "efa"
    subnet_id          = aws_subnet.private[0].id
    security_groups    = [aws_security_group.efa.id]
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size = 500
      volume_type = "gp3"
      encrypted   = true
    }
  }

  placement {
    group_name = aws_placement_group.gpu.name
  }

  tag_specifications {
    resource_type = "instance"
    tags          = { Name = "${var.name}-gpu" }
  }
}

resource "aws_instance" "gpu" {
  count = var.gpu_instances

  launch_template {
    id      = aws_launch_template.gpu.id
    version = aws_launch_template.gpu.latest_version
  }

  tags = { Name = "${var.name}-gpu-${count.index}" }
}

# ---- EKS ----

resource "aws_eks_cluster" "main" {
  name     = var.name
  role_arn = aws_iam_role.cluster.arn
  version  = "1.31"

  vpc_config {
    subnet_ids              = aws_subnet.private[*].id
    security_group_ids      = [aws_security_group.efa.id]
    endpoint_private_access = true
  }

  depends_on = [aws_iam_role_policy_attachment.cluster]
}

resource "aws_eks_node_group" "gpu" {
  cluster_name    = aws_eks_cluster.main.name
  node_group_name = "gpu"
  node_role_arn   = aws_iam_role.node.arn
  subnet_ids      = [aws_subnet.private[0].id]
  instance_types  = [var.gpu_instance_type]
  ami_type        = "AL2_x86_64_GPU"
  capacity_type   = "ON_DEMAND"

  scaling_config {
    desired_size = 2
    min_size     = 0
    max_size     = 4
  }

  labels = { "nvidia.com/gpu.present" = "true" }

  taint {
    key    = "nvidia.com/gpu"
    value  = "true"
    effect = "NO_SCHEDULE"
  }

  depends_on = [aws_iam_role_policy_attachment.node]
}

# ---- ML platform ----

resource "aws_sagemaker_domain" "main" {
  domain_name = var.name
  auth_mode   = "IAM"
  vpc_id      = aws_vpc.main.id
  subnet_ids  = aws_subnet.private[*].id

  default_user_settings {
    execution_role  = aws_iam_role.sagemaker.arn
    security_groups = [aws_security_group.efa.id]
  }
}

output "cluster_endpoint" {
  value = aws_eks_cluster.main.endpoint
}

output "gpu_instance_ids" {
  value = aws_instance.gpu[*].id
}

output "lustre_dns_name" {
  value = aws_fsx_lustre_file_system.scratch.dns_name
}

output "data_bucket" {
  value = aws_s3_bucket.data.bucket
}

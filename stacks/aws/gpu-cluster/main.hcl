# An EKS cluster with one GPU node group. The instance type comes from the accelerator
# spec (`H100:8` -> p5.48xlarge) through the catalog; the nodes are launched from a
# launch template that gives them every EFA interface the type has and puts them in a
# cluster placement group, so NCCL traffic between nodes takes the fastest path there is.

locals {
  instance_type = accelerator_instance_type("aws", var.accelerator, var.region)
  instance      = instance_type_info("aws", local.instance_type)
  # EFA interfaces per node: one per network card (p5.48xlarge: 32, p4d.24xlarge: 4).
  efa_interfaces  = var.efa ? max(local.instance.network_interfaces, 1) : 0
  node_subnet_ids = length(var.node_subnet_ids) > 0 ? var.node_subnet_ids : [var.subnet_ids[0]]
  # Schedulers select GPU nodes by these (kubelet adds node.kubernetes.io/instance-type).
  gpu_labels = merge(var.labels, {
    "nvidia.com/gpu.present"       = "true"
    "gantry.dev/accelerator"       = local.instance.accelerator
    "gantry.dev/accelerator-count" = tostring(local.instance.accelerator_count)
  })
}

# ---- IAM ----

data "aws_iam_policy_document" "eks_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["eks.amazonaws.com"]
    }
  }
}

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "cluster" {
  name               = "${var.name}-eks-cluster"
  assume_role_policy = data.aws_iam_policy_document.eks_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "cluster" {
  role       = aws_iam_role.cluster.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"
}

resource "aws_iam_role" "node" {
  name               = "${var.name}-eks-node"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
  tags               = var.tags
}

# The three policies every EKS worker node needs.
resource "aws_iam_role_policy_attachment" "node" {
  for_each = toset([
    "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
    "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
    "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
  ])
  role       = aws_iam_role.node.name
  policy_arn = each.value
}

# ---- cluster ----

resource "aws_eks_cluster" "main" {
  name     = var.name
  role_arn = aws_iam_role.cluster.arn
  version  = var.kubernetes_version
  tags     = var.tags

  vpc_config {
    subnet_ids              = var.subnet_ids
    security_group_ids      = length(var.security_group_ids) > 0 ? var.security_group_ids : null
    endpoint_private_access = true
    endpoint_public_access  = var.endpoint_public_access
  }

  depends_on = [aws_iam_role_policy_attachment.cluster]
}

# ---- GPU nodes ----

resource "aws_placement_group" "gpu" {
  count    = var.placement_group ? 1 : 0
  name     = "${var.name}-gpu"
  strategy = "cluster"
  tags     = var.tags
}

# EKS launches the nodes from this template: no instance type (the node group names it, so
# cost and quota checks see it), no subnet or instance profile (EKS sets those).
resource "aws_launch_template" "gpu" {
  name                   = "${var.name}-gpu"
  description            = "${var.accelerator} nodes (${local.instance_type}) of EKS cluster ${var.name}"
  vpc_security_group_ids = var.efa ? null : var.security_group_ids
  tags                   = var.tags

  # With EFA the security groups go on the interfaces: the first interface (device 0 on
  # network card 0) carries IP traffic as well, the rest are EFA-only, one per card.
  dynamic "network_interfaces" {
    for_each = range(local.efa_interfaces)
    content {
      device_index          = network_interfaces.value == 0 ? 0 : 1
      network_card_index    = network_interfaces.value
      interface_type        = "efa"
      security_groups       = var.security_group_ids
      delete_on_termination = true
    }
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = var.disk_size
      volume_type           = "gp3"
      encrypted             = true
      delete_on_termination = true
    }
  }

  dynamic "placement" {
    for_each = aws_placement_group.gpu[*].name
    content {
      group_name = placement.value
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = merge(var.tags, { Name = "${var.name}-gpu" })
  }
}

resource "aws_eks_node_group" "gpu" {
  cluster_name    = aws_eks_cluster.main.name
  node_group_name = "gpu"
  node_role_arn   = aws_iam_role.node.arn
  subnet_ids      = local.node_subnet_ids
  instance_types  = [local.instance_type]
  ami_type        = var.ami_type
  capacity_type   = var.capacity_type
  labels          = local.gpu_labels
  tags            = var.tags

  scaling_config {
    desired_size = var.desired_size
    min_size     = var.min_size
    max_size     = var.max_size
  }

  launch_template {
    id      = aws_launch_template.gpu.id
    version = aws_launch_template.gpu.latest_version
  }

  # Only pods that tolerate this land on the GPU nodes.
  taint {
    key    = "nvidia.com/gpu"
    value  = "true"
    effect = "NO_SCHEDULE"
  }

  depends_on = [aws_iam_role_policy_attachment.node]
}

# A fleet of plain EC2 GPU instances (no Kubernetes): the instance type comes from the
# accelerator spec through the catalog, the instances launch from a template that gives
# them every EFA interface the type has, into a cluster placement group, optionally as
# spot capacity and with an instance profile.

locals {
  instance_type  = accelerator_instance_type("aws", var.accelerator, var.region)
  instance       = instance_type_info("aws", local.instance_type)
  efa_interfaces = var.efa ? max(local.instance.network_interfaces, 1) : 0
}

# ---- IAM (optional) ----

data "aws_iam_policy_document" "ec2_assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "instance" {
  count              = var.create_instance_profile ? 1 : 0
  name               = "${var.name}-gpu-instance"
  assume_role_policy = data.aws_iam_policy_document.ec2_assume.json
  tags               = var.tags
}

resource "aws_iam_role_policy_attachment" "instance" {
  for_each   = toset(var.create_instance_profile ? concat(["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"], var.policy_arns) : [])
  role       = aws_iam_role.instance[0].name
  policy_arn = each.value
}

resource "aws_iam_instance_profile" "instance" {
  count = var.create_instance_profile ? 1 : 0
  name  = "${var.name}-gpu-instance"
  role  = aws_iam_role.instance[0].name
  tags  = var.tags
}

# ---- placement and launch template ----

resource "aws_placement_group" "gpu" {
  count    = var.placement_group ? 1 : 0
  name     = "${var.name}-gpu"
  strategy = "cluster"
  tags     = var.tags
}

resource "aws_launch_template" "gpu" {
  name                   = "${var.name}-gpu"
  description            = "${var.accelerator} instances (${local.instance_type})"
  image_id               = var.ami_id
  key_name               = var.key_name
  vpc_security_group_ids = var.efa ? null : var.security_group_ids
  tags                   = var.tags

  dynamic "iam_instance_profile" {
    for_each = aws_iam_instance_profile.instance[*].name
    content {
      name = iam_instance_profile.value
    }
  }

  # With EFA the subnet and security groups go on the interfaces: the first interface
  # (device 0 on network card 0) carries IP traffic as well, the rest are EFA-only, one
  # per network card.
  dynamic "network_interfaces" {
    for_each = range(local.efa_interfaces)
    content {
      device_index          = network_interfaces.value == 0 ? 0 : 1
      network_card_index    = network_interfaces.value
      interface_type        = "efa"
      subnet_id             = var.subnet_id
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

# The instance type is set here as well as implied by the spec, so that `gantry plan`
# prices the instances and checks the account's quota for them before launching any.
resource "aws_instance" "gpu" {
  count         = var.instance_count
  instance_type = local.instance_type
  # Without EFA interfaces in the template, the subnet is the instance's own.
  subnet_id = var.efa ? null : var.subnet_id
  user_data = var.user_data
  tags      = merge(var.tags, { Name = "${var.name}-gpu-${count.index}" })

  launch_template {
    id      = aws_launch_template.gpu.id
    version = aws_launch_template.gpu.latest_version
  }

  dynamic "instance_market_options" {
    for_each = var.spot ? ["spot"] : []
    content {
      market_type = instance_market_options.value
    }
  }
}

# A VPC for GPU work: private subnets (large, for nodes and file systems) and public
# subnets (small, for the NAT gateway and load balancers) across N zones, an internet
# gateway, an optional NAT gateway for the private subnets' egress, and a security group
# that allows all traffic between its members, which EFA requires.

data "aws_availability_zones" "available" {
  state = "available"
}

locals {
  zone_count = length(var.zones) > 0 ? length(var.zones) : var.zone_count
  # The region's zones are only consulted when the caller does not name them.
  zones = length(var.zones) > 0 ? var.zones : slice(
    data.aws_availability_zones.available.names,
    0,
    min(var.zone_count, length(data.aws_availability_zones.available.names)),
  )
  tags = var.tags
}

resource "aws_vpc" "main" {
  cidr_block           = var.cidr_block
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = merge(local.tags, { Name = var.name })
}

# Private subnets are /20s (4096 addresses each) from the bottom of the VPC: GPU nodes with
# many EFA interfaces use an address per interface.
resource "aws_subnet" "private" {
  count             = local.zone_count
  vpc_id            = aws_vpc.main.id
  cidr_block        = cidrsubnet(var.cidr_block, 4, count.index)
  availability_zone = local.zones[count.index]
  tags              = merge(local.tags, { Name = "${var.name}-private-${local.zones[count.index]}", tier = "private" })
}

# Public subnets are /24s from the top half of the VPC, clear of the private ones.
resource "aws_subnet" "public" {
  count                   = local.zone_count
  vpc_id                  = aws_vpc.main.id
  cidr_block              = cidrsubnet(var.cidr_block, 8, 128 + count.index)
  availability_zone       = local.zones[count.index]
  map_public_ip_on_launch = true
  tags                    = merge(local.tags, { Name = "${var.name}-public-${local.zones[count.index]}", tier = "public" })
}

resource "aws_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id
  tags   = merge(local.tags, { Name = var.name })
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id
  tags   = merge(local.tags, { Name = "${var.name}-public" })

  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.main.id
  }
}

resource "aws_route_table_association" "public" {
  count          = local.zone_count
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

# One NAT gateway, in the first public subnet: the private subnets reach the internet
# (container images, datasets, pip) without public addresses of their own.
resource "aws_eip" "nat" {
  count  = var.enable_nat ? 1 : 0
  domain = "vpc"
  tags   = merge(local.tags, { Name = "${var.name}-nat" })
}

resource "aws_nat_gateway" "main" {
  count         = var.enable_nat ? 1 : 0
  subnet_id     = aws_subnet.public[0].id
  allocation_id = aws_eip.nat[0].id
  tags          = merge(local.tags, { Name = var.name })

  depends_on = [aws_internet_gateway.main]
}

resource "aws_route_table" "private" {
  vpc_id = aws_vpc.main.id
  tags   = merge(local.tags, { Name = "${var.name}-private" })

  dynamic "route" {
    for_each = aws_nat_gateway.main[*].id
    content {
      cidr_block     = "0.0.0.0/0"
      nat_gateway_id = route.value
    }
  }
}

resource "aws_route_table_association" "private" {
  count          = local.zone_count
  subnet_id      = aws_subnet.private[count.index].id
  route_table_id = aws_route_table.private.id
}

# EFA needs all traffic allowed between the members of the group (in and out); nodes also
# need to reach the internet and the AWS APIs.
resource "aws_security_group" "efa" {
  name        = "${var.name}-efa"
  description = "EFA: all traffic within the group, egress anywhere"
  vpc_id      = aws_vpc.main.id
  tags        = merge(local.tags, { Name = "${var.name}-efa" })

  ingress {
    description = "all traffic from members (EFA)"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    self        = true
  }

  egress {
    description = "all traffic to members (EFA)"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    self        = true
  }

  egress {
    description = "anywhere"
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

output "vpc_id" {
  description = "The VPC"
  value       = aws_vpc.main.id
}

output "vpc_cidr_block" {
  description = "The VPC's IPv4 range"
  value       = aws_vpc.main.cidr_block
}

output "public_subnet_ids" {
  description = "Public subnets, one per zone, in the order of `zones`"
  value       = aws_subnet.public[*].id
}

output "private_subnet_ids" {
  description = "Private subnets, one per zone, in the order of `zones`"
  value       = aws_subnet.private[*].id
}

output "efa_security_group_id" {
  description = "Security group allowing all traffic between its members (attach to EFA nodes, Lustre)"
  value       = aws_security_group.efa.id
}

output "nat_gateway_id" {
  description = "The NAT gateway, or null when enable_nat is false"
  value       = one(aws_nat_gateway.main[*].id)
}

output "zones" {
  description = "The availability zones the subnets are in"
  value       = local.zones
}

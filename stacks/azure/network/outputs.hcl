output "network_id" {
  description = "The virtual network's id"
  value       = azurerm_virtual_network.this.id
}

output "network_name" {
  description = "The virtual network's name"
  value       = azurerm_virtual_network.this.name
}

output "subnet_id" {
  description = "The nodes subnet's id"
  value       = azurerm_subnet.nodes.id
}

output "security_group_id" {
  description = "The nodes' network security group"
  value       = azurerm_network_security_group.nodes.id
}

output "scale_set_id" {
  description = "The scale set's id"
  value       = azurerm_linux_virtual_machine_scale_set.this.id
}

output "scale_set_name" {
  description = "The scale set's name"
  value       = azurerm_linux_virtual_machine_scale_set.this.name
}

output "placement_group_id" {
  description = "The proximity placement group"
  value       = azurerm_proximity_placement_group.this.id
}

output "summary" {
  description = "What runs"
  value       = "${var.instances} x ${var.vm_size} in ${var.location} zone ${var.zone}"
}

output "workspace_id" {
  description = "The Azure ML workspace's id"
  value       = azurerm_machine_learning_workspace.this.id
}

output "workspace_name" {
  description = "The workspace's name (az ml ... -w NAME)"
  value       = azurerm_machine_learning_workspace.this.name
}

output "jobs_identity_id" {
  description = "The training jobs' managed identity"
  value       = azurerm_user_assigned_identity.jobs.id
}

output "jobs_principal_id" {
  description = "Its principal id (for more role assignments)"
  value       = azurerm_user_assigned_identity.jobs.principal_id
}

output "key_vault_uri" {
  description = "The key vault's URI"
  value       = azurerm_key_vault.this.vault_uri
}

output "account_id" {
  description = "The storage account's id"
  value       = azurerm_storage_account.this.id
}

output "account_name" {
  description = "The storage account's name"
  value       = azurerm_storage_account.this.name
}

output "dfs_endpoint" {
  description = "The ADLS Gen2 endpoint (abfss://CONTAINER@ACCOUNT.dfs.core.windows.net/)"
  value       = azurerm_storage_account.this.primary_dfs_endpoint
}

output "container_ids" {
  description = "The containers, by name"
  value       = { for name, c in azurerm_storage_container.this : name => c.id }
}

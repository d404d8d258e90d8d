# Training data and checkpoints on Azure Storage: a StorageV2 account with the
# hierarchical namespace (ADLS Gen2: real directories and atomic renames, which
# checkpoint writers rely on), TLS 1.2, no anonymous access and no account keys (access is
# by Entra roles: grant `Storage Blob Data Contributor` to the identities that train), and
# one private container per name given.

resource "azurerm_storage_account" "this" {
  name                            = var.account_name
  resource_group_name             = var.resource_group_name
  location                        = var.location
  account_tier                    = "Standard"
  account_replication_type        = var.replication
  account_kind                    = "StorageV2"
  is_hns_enabled                  = true
  min_tls_version                 = "TLS1_2"
  allow_nested_items_to_be_public = false
  shared_access_key_enabled       = false
  tags                            = var.tags
}

resource "azurerm_storage_container" "this" {
  for_each              = toset(var.containers)
  name                  = each.value
  storage_account_id    = azurerm_storage_account.this.id
  container_access_type = "private"
}

resource "azurerm_role_assignment" "writers" {
  for_each             = var.writers
  scope                = azurerm_storage_account.this.id
  role_definition_name = "Storage Blob Data Contributor"
  principal_id         = each.value
  principal_type       = "ServicePrincipal"
}

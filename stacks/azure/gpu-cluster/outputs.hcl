output "cluster_id" {
  description = "The AKS cluster's id"
  value       = azurerm_kubernetes_cluster.this.id
}

output "cluster_name" {
  description = "The cluster's name (az aks get-credentials -n NAME -g GROUP)"
  value       = azurerm_kubernetes_cluster.this.name
}

output "fqdn" {
  description = "The API server's address"
  value       = azurerm_kubernetes_cluster.this.fqdn
}

output "oidc_issuer_url" {
  description = "For federated credentials of workload identity"
  value       = azurerm_kubernetes_cluster.this.oidc_issuer_url
}

output "gpu_pool_id" {
  description = "The GPU node pool"
  value       = azurerm_kubernetes_cluster_node_pool.gpu.id
}

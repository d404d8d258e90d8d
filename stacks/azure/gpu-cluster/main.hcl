# An AKS cluster for GPU training and inference: a small system pool for the cluster's own
# pods, and a GPU pool (ND H100 v5 by default) with AKS's NVIDIA driver installation,
# tainted so only pods that ask for GPUs land there, spot or on demand, fixed or
# autoscaled, in the zones given. Workload identity and the OIDC issuer let training pods
# get Azure tokens (for storage, for the registry) without secrets.

resource "azurerm_kubernetes_cluster" "this" {
  name                      = var.name
  resource_group_name       = var.resource_group_name
  location                  = var.location
  dns_prefix                = var.name
  kubernetes_version        = var.kubernetes_version != "" ? var.kubernetes_version : null
  sku_tier                  = var.sku_tier
  oidc_issuer_enabled       = true
  workload_identity_enabled = true
  private_cluster_enabled   = var.private_cluster
  tags                      = var.tags

  default_node_pool {
    name                         = "system"
    vm_size                      = var.system_vm_size
    node_count                   = var.system_node_count
    vnet_subnet_id               = var.subnet_id
    only_critical_addons_enabled = true
  }

  identity {
    type = "SystemAssigned"
  }

  network_profile {
    network_plugin      = "azure"
    network_plugin_mode = "overlay"
    pod_cidr            = var.pod_cidr
  }
}

resource "azurerm_kubernetes_cluster_node_pool" "gpu" {
  name                  = var.gpu_pool_name
  kubernetes_cluster_id = azurerm_kubernetes_cluster.this.id
  location              = var.location # gantry's: lets the plan price the pool and check its quota
  vm_size               = var.gpu_vm_size
  node_count            = var.autoscale ? null : var.gpu_node_count
  auto_scaling_enabled  = var.autoscale
  min_count             = var.autoscale ? var.gpu_min_count : null
  max_count             = var.autoscale ? var.gpu_node_count : null
  zones                 = var.zones
  vnet_subnet_id        = var.subnet_id
  priority              = var.spot ? "Spot" : "Regular"
  eviction_policy       = var.spot ? "Delete" : null
  gpu_driver            = var.gpu_driver
  node_labels           = { "gantry.dev/accelerator" = var.gpu_vm_size }
  node_taints           = concat(["nvidia.com/gpu=present:NoSchedule"], var.spot ? ["kubernetes.azure.com/scalesetpriority=spot:NoSchedule"] : [])
  tags                  = var.tags
}

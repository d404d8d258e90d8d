output "accelerator_type" {
  description = "The Cloud TPU accelerator type of each slice (v5litepod-16)"
  value       = local.accelerator_type
}

output "topology" {
  description = "Each slice's chip topology (4x4)"
  value       = local.topology
}

output "zone" {
  description = "The slices' zone"
  value       = local.zone
}

output "slice_ids" {
  description = "The slices, in name order"
  value       = local.on_gke ? [for n in local.names : google_container_node_pool.slice[n].id] : [for n in local.names : google_tpu_v2_vm.slice[n].id]
}

output "worker_ips" {
  description = "Internal addresses of every host, slice by slice (JAX's coordinator is the first); empty on GKE, where the pods find each other"
  value       = local.on_gke ? [] : [for n in local.names : google_tpu_v2_vm.slice[n].network_endpoints[*].ip_address]
}

output "gke_machine_type" {
  description = "On GKE: the TPU machine type of the slices' nodes (ct5lp-hightpu-4t); empty for TPU VMs"
  value       = local.on_gke ? local.gke_machine_type : ""
}

output "gke_nodes" {
  description = "On GKE: nodes per slice; 0 for TPU VMs"
  value       = local.on_gke ? local.gke_nodes : 0
}

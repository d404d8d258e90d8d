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
  value       = [for n in local.names : google_tpu_v2_vm.slice[n].id]
}

output "worker_ips" {
  description = "Internal addresses of every host, slice by slice (JAX's coordinator is the first)"
  value       = [for n in local.names : google_tpu_v2_vm.slice[n].network_endpoints[*].ip_address]
}

output "cluster_id" {
  description = "The cluster (projects/P/locations/REGION/clusters/NAME)"
  value       = google_container_cluster.this.id
}

output "cluster_name" {
  description = "The cluster's name"
  value       = google_container_cluster.this.name
}

output "endpoint" {
  description = "The control plane's address"
  value       = google_container_cluster.this.endpoint
}

output "gpu_pool_id" {
  description = "The GPU node pool"
  value       = google_container_node_pool.gpu.id
}

output "machine_type" {
  description = "The GPU nodes' machine type (a3-highgpu-8g)"
  value       = local.machine_type
}

output "zone" {
  description = "The GPU nodes' zone"
  value       = local.zone
}

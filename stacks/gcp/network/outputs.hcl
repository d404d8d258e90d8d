output "network_id" {
  description = "The VPC network (projects/P/global/networks/NAME)"
  value       = google_compute_network.vpc.id
}

output "network_name" {
  description = "The VPC network's name"
  value       = google_compute_network.vpc.name
}

output "subnetwork_id" {
  description = "The nodes' subnetwork"
  value       = google_compute_subnetwork.nodes.id
}

output "subnetwork_name" {
  description = "The nodes' subnetwork's name"
  value       = google_compute_subnetwork.nodes.name
}

output "region" {
  description = "The subnetwork's region"
  value       = google_compute_subnetwork.nodes.region
}

output "pods_range_name" {
  description = "Secondary range for GKE pods (ip_allocation_policy.cluster_secondary_range_name)"
  value       = "pods"
}

output "services_range_name" {
  description = "Secondary range for GKE services (ip_allocation_policy.services_secondary_range_name)"
  value       = "services"
}

output "nat_name" {
  description = "The Cloud NAT, or null without one"
  value       = var.enable_nat ? google_compute_router_nat.egress[0].name : null
}

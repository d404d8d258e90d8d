output "bucket_name" {
  description = "The bucket's name"
  value       = google_storage_bucket.data.name
}

output "bucket_url" {
  description = "The bucket as gs://NAME"
  value       = google_storage_bucket.data.url
}

output "filestore_ip" {
  description = "The file share's address (mount ADDRESS:/share1); empty without Filestore"
  value       = var.filestore_tier != "" ? google_filestore_instance.shared[0].networks[0].ip_addresses[0] : ""
}

output "filestore_share" {
  description = "The NFS export to mount (ADDRESS:/share1); empty without Filestore"
  value       = var.filestore_tier != "" ? "${google_filestore_instance.shared[0].networks[0].ip_addresses[0]}:/share1" : ""
}

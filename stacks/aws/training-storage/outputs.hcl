output "bucket_name" {
  description = "The bucket"
  value       = aws_s3_bucket.data.id
}

output "bucket_arn" {
  description = "The bucket's ARN (for IAM policies: ml-platform's bucket_arn input)"
  value       = aws_s3_bucket.data.arn
}

output "kms_key_arn" {
  description = "The key that encrypts the bucket (and a persistent file system)"
  value       = aws_kms_key.data.arn
}

output "lustre_id" {
  description = "The file system, or null"
  value       = one(aws_fsx_lustre_file_system.data[*].id)
}

output "lustre_dns_name" {
  description = "Mount with: mount -t lustre DNS_NAME@tcp:/MOUNT_NAME /fsx"
  value       = one(aws_fsx_lustre_file_system.data[*].dns_name)
}

output "lustre_mount_name" {
  value = one(aws_fsx_lustre_file_system.data[*].mount_name)
}

output "lustre_data_path" {
  description = "Where the bucket appears on the file system (PERSISTENT_2), \"/\" (import_path link), or null"
  value       = local.associate ? var.file_system_path : (local.link ? "/" : null)
}

output "data_repository_association_id" {
  description = "The association linking a PERSISTENT_2 file system to the bucket, or null"
  value       = one(aws_fsx_data_repository_association.data[*].id)
}

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

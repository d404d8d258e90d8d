output "domain_id" {
  description = "The SageMaker domain"
  value       = aws_sagemaker_domain.main.id
}

output "domain_url" {
  description = "SageMaker Studio's address"
  value       = aws_sagemaker_domain.main.url
}

output "execution_role_arn" {
  description = "The role jobs and notebooks run as"
  value       = aws_iam_role.execution.arn
}

output "execution_role_name" {
  value = aws_iam_role.execution.name
}

output "bucket_policy_arn" {
  description = "The bucket access policy, or null"
  value       = one(aws_iam_policy.bucket[*].arn)
}

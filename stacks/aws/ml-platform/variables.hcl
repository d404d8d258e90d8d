variable "name" {
  description = "Name of the SageMaker domain; prefixes its execution role"
  type        = string
  default     = "ml"
}

variable "vpc_id" {
  description = "VPC of the domain's apps (network module: vpc_id)"
  type        = string
}

variable "subnet_ids" {
  description = "Subnets of the domain's apps (network module: private_subnet_ids)"
  type        = list(string)

  validation {
    condition     = length(var.subnet_ids) >= 1
    error_message = "subnet_ids needs at least one subnet."
  }
}

variable "security_group_ids" {
  description = "Security groups of the users' apps"
  type        = list(string)
  default     = []
}

variable "auth_mode" {
  description = "IAM or SSO"
  type        = string
  default     = "IAM"

  validation {
    condition     = contains(["IAM", "SSO"], var.auth_mode)
    error_message = "auth_mode must be IAM or SSO."
  }
}

variable "app_network_access_type" {
  description = "VpcOnly (apps reach the internet only through the VPC, e.g. its NAT gateway) or PublicInternetOnly"
  type        = string
  default     = "VpcOnly"

  validation {
    condition     = contains(["VpcOnly", "PublicInternetOnly"], var.app_network_access_type)
    error_message = "app_network_access_type must be VpcOnly or PublicInternetOnly."
  }
}

variable "bucket_arns" {
  description = "Buckets the execution role may read and write (training-storage: bucket_arn); a list, so that its length is known before the buckets exist"
  type        = list(string)
  default     = []
}

variable "kms_key_arns" {
  description = "Keys of those buckets (training-storage: kms_key_arn), so the role can read and write their objects"
  type        = list(string)
  default     = []
}

variable "tags" {
  description = "Tags for every resource (the provider's default_tags apply as well)"
  type        = map(string)
  default     = {}
}

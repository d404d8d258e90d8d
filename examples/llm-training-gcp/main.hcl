# LLM training on Cloud TPU, from the reusable modules in stacks/gcp: a VPC network with
# an all-ports rule between nodes, Private Google Access and Cloud NAT (TPU hosts need no
# external address), a service account for the workers with the roles a training job
# uses (read and write checkpoints in Cloud Storage, write logs and metrics), two v5e
# slices of 16 chips (4x4, four hosts each) for a multislice job, the training storage
# (a versioned bucket for datasets and checkpoints, a Filestore share next to the slices)
# and a Workbench notebook with an L4 to explore data and runs.
#
#   gantry plan --sim examples/llm-training-gcp      # offline: the plan, its cost, the budget
#   GOOGLE_PROJECT=my-project gantry apply examples/llm-training-gcp
#
# The budget stops a plan that would cost more than $60/h: two v5litepod-16 slices are
# about $38/h on demand in us-west4, the file share and the notebook about $2/h more (see
# the `# cost:` lines of the plan).

budget {
  max_hourly = 60
}

variable "project" {
  type    = string
  default = "my-ml-project"
}

variable "region" {
  type    = string
  default = "us-west4"
}

variable "name" {
  type    = string
  default = "llm-train"
}

variable "accelerator" {
  description = "TPU generation and chips per slice"
  type        = string
  default     = "tpu-v5e:16"
}

variable "slices" {
  description = "Slices of the multislice job"
  type        = number
  default     = 2
}

variable "force_destroy" {
  description = "Let a destroy delete the bucket's data"
  type        = bool
  default     = false
}

variable "spot" {
  description = "Spot slices (preemptible, cheaper)"
  type        = bool
  default     = false
}

provider "google" {
  project = var.project
  region  = var.region
  default_labels = {
    project    = var.name
    managed-by = "gantry"
  }
}

data "google_project" "this" {}

module "network" {
  source = "gantry/gcp/network"
  name   = var.name
  region = var.region
}

resource "google_service_account" "workers" {
  account_id   = "${var.name}-workers"
  display_name = "TPU workers of ${var.name}"
}

resource "google_project_iam_member" "workers" {
  for_each = toset([
    "roles/storage.objectAdmin",
    "roles/logging.logWriter",
    "roles/monitoring.metricWriter",
  ])
  project = data.google_project.this.project_id
  role    = each.value
  member  = google_service_account.workers.member
}

module "tpu" {
  source                = "gantry/gcp/tpu-slice"
  name                  = var.name
  accelerator           = var.accelerator
  region                = var.region
  slices                = var.slices
  spot                  = var.spot
  network               = module.network.network_id
  subnetwork            = module.network.subnetwork_id
  service_account_email = google_service_account.workers.email
  labels                = { job = "pretrain" }
}

module "storage" {
  source              = "gantry/gcp/training-storage"
  name                = var.name
  project             = data.google_project.this.project_id
  region              = var.region
  zone                = module.tpu.zone
  network             = module.network.network_name
  force_destroy       = var.force_destroy
  nearline_after_days = 60
  labels              = { job = "pretrain" }
}

module "notebook" {
  source     = "gantry/gcp/ml-platform"
  name       = "${var.name}-nb"
  project    = data.google_project.this.project_id
  zone       = "${var.region}-a"
  network    = module.network.network_id
  subnetwork = module.network.subnetwork_id
  roles      = ["roles/aiplatform.user", "roles/storage.objectUser"]
}

output "slices" {
  value = "${var.slices} x ${module.tpu.accelerator_type} (${module.tpu.topology}) in ${module.tpu.zone}"
}

output "worker_ips" {
  value = module.tpu.worker_ips
}

output "service_account" {
  value = google_service_account.workers.email
}

output "bucket" {
  value = module.storage.bucket_url
}

output "filestore_share" {
  value = module.storage.filestore_share
}

output "notebook" {
  value = module.notebook.proxy_uri
}

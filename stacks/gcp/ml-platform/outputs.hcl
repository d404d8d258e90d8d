output "notebook_id" {
  description = "The Workbench instance"
  value       = google_workbench_instance.this.id
}

output "proxy_uri" {
  description = "Where to open the notebook (JupyterLab through Google's proxy)"
  value       = google_workbench_instance.this.proxy_uri
}

output "service_account_email" {
  description = "The notebook's service account"
  value       = google_service_account.notebook.email
}

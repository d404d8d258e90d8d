# LLM training on Azure's InfiniBand fleet, from the reusable modules in stacks/azure: a
# virtual network, two ND H100 v5 VMs (8 x H100 and 3.2 Tb/s NDR InfiniBand each) in a
# scale set built for one InfiniBand fabric (one placement group, one fault domain, no
# overprovisioning, a proximity placement group, the HPC image), a managed identity the
# VMs run as, ADLS Gen2 storage for datasets and checkpoints that identity may write, and
# an Azure Machine Learning workspace to track runs.
#
#   gantry plan --sim examples/llm-training-azure      # offline: the plan, its cost, the budget
#   ARM_SUBSCRIPTION_ID=... gantry apply examples/llm-training-azure   # az login, or ARM_CLIENT_ID/SECRET, or OIDC
#
# The budget stops a plan that would cost more than $250/h: two Standard_ND96isr_H100_v5
# are about $197/h on demand in eastus (see the `# cost:` lines of the plan).

budget {
  max_hourly = 250
}

variable "location" {
  type    = string
  default = "eastus"
}

variable "name" {
  type    = string
  default = "llmtrain"
}

variable "instances" {
  description = "ND H100 v5 VMs in the fleet"
  type        = number
  default     = 2
}

variable "ssh_public_key" {
  description = "The admin user's SSH public key"
  type        = string
  default     = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGFudHJ5LWV4YW1wbGUta2V5LXJlcGxhY2UtbWU= replace-me"
}

provider "azurerm" {
  features {}
  default_tags = {
    project    = var.name
    managed-by = "gantry"
  }
}

data "azurerm_client_config" "current" {}

resource "azurerm_resource_group" "main" {
  name     = "${var.name}-rg"
  location = var.location
}

module "network" {
  source              = "gantry/azure/network"
  name                = var.name
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
}

resource "azurerm_user_assigned_identity" "trainers" {
  name                = "${var.name}-trainers"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
}

module "fleet" {
  source              = "gantry/azure/gpu-fleet"
  name                = var.name
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  subnet_id           = module.network.subnet_id
  vm_size             = "Standard_ND96isr_H100_v5"
  instances           = var.instances
  ssh_public_key      = var.ssh_public_key
  identity_id         = azurerm_user_assigned_identity.trainers.id
}

module "storage" {
  source              = "gantry/azure/training-storage"
  account_name        = "${var.name}data"
  resource_group_name = azurerm_resource_group.main.name
  location            = azurerm_resource_group.main.location
  writers             = { trainers = azurerm_user_assigned_identity.trainers.principal_id }
}

module "platform" {
  source                 = "gantry/azure/ml-platform"
  name                   = "${var.name}-ml"
  resource_group_name    = azurerm_resource_group.main.name
  location               = azurerm_resource_group.main.location
  tenant_id              = data.azurerm_client_config.current.tenant_id
  artifacts_account_name = "${var.name}mlart"
}

output "fleet" {
  value = module.fleet.summary
}

output "checkpoints" {
  value = "abfss://checkpoints@${module.storage.account_name}.dfs.core.windows.net/"
}

output "workspace" {
  value = module.platform.workspace_name
}

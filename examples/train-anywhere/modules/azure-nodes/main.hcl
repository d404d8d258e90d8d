# N nodes of an accelerator on Azure: one scale set of ND-series VMs (8 x H100 and NDR
# InfiniBand each) in a zone of the region, on its own network, in one placement group so
# every VM shares the InfiniBand fabric. Keeps the contract of ../aws-nodes: inputs
# `nodes`, `accelerator`; outputs `cloud`, `node_ids`, `placement`.

variable "location" {
  type    = string
  default = "eastus"
}

variable "accelerator" {
  description = "GPUs per node"
  type        = string
  default     = "H100:8"
}

variable "nodes" {
  description = "Training nodes"
  type        = number
  default     = 2
}

variable "ssh_public_key" {
  description = "The key the nodes' admin user logs in with"
  type        = string
  default     = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGantryExampleKeyOnlyForSimulatedClouds train"
}

locals {
  vm_size = accelerator_instance_type("azure", var.accelerator, var.location)
  zone    = accelerator_zones("azure", var.accelerator, var.location)[0]
}

resource "azurerm_resource_group" "train" {
  name     = "train-anywhere"
  location = var.location
}

resource "azurerm_virtual_network" "train" {
  name                = "train-anywhere"
  resource_group_name = azurerm_resource_group.train.name
  location            = var.location
  address_space       = ["10.63.0.0/16"]
}

resource "azurerm_subnet" "nodes" {
  name                 = "nodes"
  resource_group_name  = azurerm_resource_group.train.name
  virtual_network_name = azurerm_virtual_network.train.name
  address_prefixes     = ["10.63.0.0/20"]
}

resource "azurerm_linux_virtual_machine_scale_set" "nodes" {
  name                        = "train-anywhere"
  resource_group_name         = azurerm_resource_group.train.name
  location                    = var.location
  sku                         = local.vm_size
  instances                   = var.nodes
  admin_username              = "trainer"
  zones                       = [local.zone]
  single_placement_group      = true
  platform_fault_domain_count = 1
  overprovision               = false
  upgrade_mode                = "Manual"

  admin_ssh_key {
    username   = "trainer"
    public_key = var.ssh_public_key
  }

  source_image_reference {
    publisher = "microsoft-dsvm"
    offer     = "ubuntu-hpc"
    sku       = "2204"
    version   = "latest"
  }

  os_disk {
    caching              = "ReadWrite"
    storage_account_type = "Premium_LRS"
    disk_size_gb         = 256
  }

  network_interface {
    name                          = "nodes"
    primary                       = true
    enable_accelerated_networking = true

    ip_configuration {
      name      = "internal"
      primary   = true
      subnet_id = azurerm_subnet.nodes.id
    }
  }
}

output "cloud" {
  value = "azure"
}

output "node_ids" {
  value = [for i in range(var.nodes) : "${azurerm_linux_virtual_machine_scale_set.nodes.id}/virtualMachines/${i}"]
}

output "placement" {
  value = [for i in range(var.nodes) : "${var.location}-${local.zone} ${local.vm_size}"]
}

# The InfiniBand training fleet: a Linux scale set of ND-series VMs (8 x H100 and
# 3.2 Tb/s NDR InfiniBand each) in one proximity placement group, one placement group and
# one fault domain (so every VM shares the InfiniBand fabric), without overprovisioning
# (extra VMs would join the job's fabric and be billed), accelerated networking on the
# front-end NIC, and Microsoft's HPC image (NVIDIA driver, OFED, NCCL, MPI installed).

resource "azurerm_proximity_placement_group" "this" {
  name                = "${var.name}-ppg"
  resource_group_name = var.resource_group_name
  location            = var.location
  zone                = var.zone
  allowed_vm_sizes    = [var.vm_size]
  tags                = var.tags
}

resource "azurerm_linux_virtual_machine_scale_set" "this" {
  name                         = var.name
  resource_group_name          = var.resource_group_name
  location                     = var.location
  sku                          = var.vm_size
  instances                    = var.instances
  admin_username               = var.admin_username
  zones                        = [var.zone]
  proximity_placement_group_id = azurerm_proximity_placement_group.this.id
  single_placement_group       = true
  platform_fault_domain_count  = 1
  overprovision                = false
  upgrade_mode                 = "Manual"
  priority                     = var.spot ? "Spot" : "Regular"
  eviction_policy              = var.spot ? "Delete" : null
  tags                         = var.tags

  admin_ssh_key {
    username   = var.admin_username
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
    disk_size_gb         = var.os_disk_size_gb
  }

  network_interface {
    name                          = "${var.name}-nic"
    primary                       = true
    enable_accelerated_networking = true

    ip_configuration {
      name      = "internal"
      primary   = true
      subnet_id = var.subnet_id
    }
  }

  identity {
    type         = var.identity_id != "" ? "UserAssigned" : "SystemAssigned"
    identity_ids = var.identity_id != "" ? [var.identity_id] : null
  }
}

//! Capacity failover on Azure: a GPU pool whose zone has no capacity (Azure's
//! `OverconstrainedZonalAllocationRequest`, nested in the failed operation) is made in the
//! next zone its `failover` block names; the plan after is clean and the choice is kept.

use crate::support::Fake;
use serde_json::json;

const STACK: &str = r#"
resource "azurerm_resource_group" "rg" {
  name     = "fo-rg"
  location = "eastus"
}

resource "azurerm_kubernetes_cluster" "aks" {
  name                = "fo-aks"
  resource_group_name = azurerm_resource_group.rg.name
  location            = "eastus"
  dns_prefix          = "fo"
  default_node_pool {
    name       = "system"
    vm_size    = "Standard_D4s_v5"
    node_count = 1
  }
  identity {
    type = "SystemAssigned"
  }
}

resource "azurerm_kubernetes_cluster_node_pool" "h100" {
  name                  = "h100"
  kubernetes_cluster_id = azurerm_kubernetes_cluster.aks.id
  location              = "eastus"
  vm_size               = "Standard_ND96isr_H100_v5"
  node_count            = 1
  zones                 = ["2"]

  failover {
    on = ["capacity"]
    alternative { zones = ["3"] }
  }
}
"#;

#[test]
fn a_gpu_pool_without_capacity_in_its_zone_is_made_in_the_next_one() {
    let fake = Fake::start(0.1);
    fake.admin(
        "POST",
        "/_fake/faults",
        Some(json!({"method": "PUT", "type": "Microsoft.ContainerService/managedClusters/agentPools", "name": "h100",
            "times": 1, "in_operation": true, "status": 409,
            "error": {"code": "OverconstrainedZonalAllocationRequest",
                      "message": "Allocation failed. VM(s) with the following constraints cannot be allocated. Constraints applied are: - Availability Zone: 2 - VM Size: Standard_ND96isr_H100_v5"}})),
    );
    let stack = fake.stack();
    stack.write(STACK);
    let run = stack.apply();
    assert!(
        run.both().contains("OverconstrainedZonalAllocationRequest"),
        "the refusal is reported: {}",
        run.both()
    );
    let pool = fake.python_json("aks.agent_pools.get('fo-rg', 'fo-aks', 'h100')");
    assert_eq!(pool["availability_zones"], json!(["3"]));
    assert_eq!(
        stack.state_attr("azurerm_kubernetes_cluster_node_pool.h100", "zones"),
        json!(["3"])
    );
    // The choice is kept: no change planned back to zone 2.
    stack.assert_no_changes();
    stack.destroy();
}

//! The AI layer on Azure: a plan that needs more of a VM family's vCPU quota than the
//! subscription has free (read from `Microsoft.Compute/locations/{l}/usages`) fails before
//! anything is made; a size Azure restricts in the asked zone (from `Microsoft.Compute/skus`)
//! fails the plan naming the zones that would work; a scale set Azure cannot allocate is
//! a Capacity error.

use crate::support::Fake;
use serde_json::json;

fn fleet(zone: &str, instances: u32) -> String {
    format!(
        r#"
resource "azurerm_resource_group" "rg" {{
  name     = "fleet-rg"
  location = "eastus"
}}

resource "azurerm_virtual_network" "net" {{
  name                = "fleet-net"
  resource_group_name = azurerm_resource_group.rg.name
  location            = "eastus"
  address_space       = ["10.30.0.0/16"]
}}

resource "azurerm_subnet" "nodes" {{
  name                 = "nodes"
  resource_group_name  = azurerm_resource_group.rg.name
  virtual_network_name = azurerm_virtual_network.net.name
  address_prefixes     = ["10.30.0.0/20"]
}}

resource "azurerm_linux_virtual_machine_scale_set" "fleet" {{
  name                        = "fleet"
  resource_group_name         = azurerm_resource_group.rg.name
  location                    = "eastus"
  sku                         = "Standard_ND96isr_H100_v5"
  instances                   = {instances}
  zones                       = ["{zone}"]
  admin_username              = "azureuser"
  single_placement_group      = true
  platform_fault_domain_count = 1
  overprovision               = false

  admin_ssh_key {{
    username   = "azureuser"
    public_key = "ssh-ed25519 AAAAtest"
  }}

  source_image_reference {{
    publisher = "microsoft-dsvm"
    offer     = "ubuntu-hpc"
    sku       = "2204"
    version   = "latest"
  }}

  os_disk {{
    caching              = "ReadWrite"
    storage_account_type = "Premium_LRS"
  }}

  network_interface {{
    name    = "nic"
    primary = true
    ip_configuration {{
      name      = "internal"
      primary   = true
      subnet_id = azurerm_subnet.nodes.id
    }}
  }}
}}
"#
    )
}

#[test]
fn a_plan_needing_more_of_a_family_quota_than_is_free_fails_before_creating_anything() {
    let fake = Fake::start(0.0);
    fake.admin(
        "POST",
        "/_fake/quotas",
        Some(json!({"location": "eastus", "name": "standardNDSH100v5Family", "limit": 96})),
    );
    let stack = fake.stack();
    stack.write(&fleet("1", 2));
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0, "{}", run.both());
    let text = run.both();
    assert!(text.contains("standardNDSH100v5Family"), "{text}");
    assert!(text.contains("192"), "the plan needs 192 vCPUs: {text}");
    assert!(text.contains("portal.azure.com"), "{text}");
    assert_eq!(
        fake.python("print(len(list(resource.resource_groups.list())))"),
        "0",
        "something was created"
    );

    // One VM fits: planned, made, and its usage counted by Azure.
    stack.write(&fleet("1", 1));
    stack.apply();
    let usage = fake.python_json(
        "[u.current_value for u in compute.usage.list('eastus') if u.name.value.lower() == 'standardndsh100v5family'][0]",
    );
    assert_eq!(usage, 96);
    stack.destroy();
}

#[test]
fn a_size_restricted_in_the_zone_fails_the_plan_naming_the_zones_that_work() {
    let fake = Fake::start(0.0);
    fake.admin(
        "POST",
        "/_fake/skus",
        Some(json!({"location": "eastus", "name": "Standard_ND96isr_H100_v5", "restriction": {"type": "Zone", "zones": ["2"], "reasonCode": "NotAvailableForSubscription"}})),
    );
    let stack = fake.stack();
    stack.write(&fleet("2", 1));
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0, "{}", run.both());
    let text = run.both();
    assert!(text.contains("Standard_ND96isr_H100_v5 is not available in zone(s) 2 of eastus (available in zone(s) 1, 3)"), "{text}");
    assert_eq!(
        fake.python("print(len(list(resource.resource_groups.list())))"),
        "0"
    );
    // Zone 1 is fine.
    stack.write(&fleet("1", 1));
    stack.apply();
}

#[test]
fn a_scale_set_azure_cannot_allocate_is_a_capacity_error_and_is_recorded_if_azure_kept_it() {
    let fake = Fake::start(0.1);
    fake.admin(
        "POST",
        "/_fake/faults",
        Some(json!({"method": "PUT", "type": "Microsoft.Compute/virtualMachineScaleSets", "times": 1, "in_operation": true, "status": 409,
            "error": {"code": "ZonalAllocationFailed", "message": "Allocation failed. We do not have sufficient capacity for the requested VM size in this zone."}})),
    );
    let stack = fake.stack();
    stack.write(&fleet("1", 1));
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0, "{}", run.both());
    let text = run.both();
    assert!(
        text.contains("ZonalAllocationFailed") && text.contains("capacity"),
        "{text}"
    );
    // The fake, like ARM for a create, left nothing: nothing is in state for it.
    let in_fake = fake.python(
        "print(exists(lambda: compute.virtual_machine_scale_sets.get('fleet-rg', 'fleet')))",
    );
    let in_state = stack
        .state_addresses()
        .contains(&"azurerm_linux_virtual_machine_scale_set.fleet".to_owned());
    assert_eq!(
        in_fake == "True",
        in_state,
        "state and Azure disagree: fake {in_fake}, state {in_state}"
    );
    stack.apply();
    stack.assert_no_changes();
}

/// A spot AKS pool counts against the region's `lowPriorityCores`: too few free fails the
/// plan (the pool states its cluster's location, so the plan knows where to look; without
/// it the plan warns that the quota was not checked), and a stated location that is not
/// the cluster's is refused before the pool is made.
#[test]
fn a_spot_pool_needing_more_low_priority_cores_than_are_free_fails_the_plan() {
    let fake = Fake::start(0.0);
    fake.admin(
        "POST",
        "/_fake/quotas",
        Some(json!({"location": "eastus", "name": "lowPriorityCores", "limit": 24})),
    );
    let pool = |location: &str, count: u32| {
        format!(
            r#"
resource "azurerm_resource_group" "rg" {{
  name     = "spot-rg"
  location = "eastus"
}}

resource "azurerm_kubernetes_cluster" "aks" {{
  name                = "spot-aks"
  resource_group_name = azurerm_resource_group.rg.name
  location            = "eastus"
  dns_prefix          = "spot"
  default_node_pool {{
    name       = "system"
    vm_size    = "Standard_D4s_v5"
    node_count = 1
  }}
  identity {{
    type = "SystemAssigned"
  }}
}}

resource "azurerm_kubernetes_cluster_node_pool" "a100" {{
  name                  = "a100"
  kubernetes_cluster_id = azurerm_kubernetes_cluster.aks.id
  location              = "{location}"
  vm_size               = "Standard_NC24ads_A100_v4"
  node_count            = {count}
  priority              = "Spot"
  eviction_policy       = "Delete"
}}
"#
        )
    };
    let stack = fake.stack();
    // Without its location, where the pool goes is known only at apply: the plan says the
    // quota was not checked, and why, rather than that the account lacks it.
    stack.write(&pool("eastus", 2).replace("  location              = \"eastus\"\n", ""));
    let (_, unplaced) = stack.plan_code();
    let text = unplaced.both();
    assert!(
        text.contains("quota lowPriorityCores was not checked")
            && text.contains("not known until apply")
            && !text.contains("could not find this quota"),
        "{text}"
    );
    stack.write(&pool("eastus", 2));
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0, "{}", run.both());
    let text = run.both();
    assert!(text.contains("lowPriorityCores"), "{text}");
    assert!(text.contains("48"), "two 24-vCPU spot nodes: {text}");
    // Refused by the plan, not by Azure.
    assert!(!text.contains("Creating..."), "{text}");
    assert_eq!(
        fake.python("print(len(list(resource.resource_groups.list())))"),
        "0"
    );

    stack.write(&pool("westus3", 1));
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0, "{}", run.both());
    assert!(
        run.both().contains("is not the cluster's (eastus)"),
        "{}",
        run.both()
    );
    assert_eq!(
        fake.python("print([p.name for p in aks.agent_pools.list('spot-rg', 'spot-aks')])"),
        "['system']"
    );

    stack.write(&pool("eastus", 1));
    stack.apply();
    let usage = fake.python_json("[u.current_value for u in compute.usage.list('eastus') if u.name.value == 'lowPriorityCores'][0]");
    assert_eq!(usage, 24);
    stack.assert_no_changes();
}

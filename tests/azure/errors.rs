//! Azure's failures as a user meets them: a GPU pool Azure cannot place
//! (`OverconstrainedZonalAllocationRequest` nested in the failed operation) is a Capacity
//! error naming the zone and leaves nothing behind; a bad client secret is an Auth error
//! at the first call; an object that exists but is not this stack's is never taken over.

use crate::support::Fake;

const CLUSTER: &str = r#"
resource "azurerm_resource_group" "k8s" {
  name     = "aks-rg"
  location = "eastus"
}

resource "azurerm_kubernetes_cluster" "main" {
  name                      = "train-aks"
  resource_group_name       = azurerm_resource_group.k8s.name
  location                  = azurerm_resource_group.k8s.location
  dns_prefix                = "train"
  oidc_issuer_enabled       = true
  workload_identity_enabled = true

  default_node_pool {
    name       = "system"
    vm_size    = "Standard_D4s_v5"
    node_count = 2
  }

  identity {
    type = "SystemAssigned"
  }

  network_profile {
    network_plugin      = "azure"
    network_plugin_mode = "overlay"
  }
}

resource "azurerm_kubernetes_cluster_node_pool" "gpu" {
  name                  = "h100"
  kubernetes_cluster_id = azurerm_kubernetes_cluster.main.id
  vm_size               = "Standard_ND96isr_H100_v5"
  node_count            = 2
  zones                 = ["2"]
  gpu_driver            = "Install"
  node_taints           = ["nvidia.com/gpu=present:NoSchedule"]
}
"#;

#[test]
fn a_gpu_pool_azure_cannot_place_fails_as_capacity_naming_the_zone() {
    let fake = Fake::start(0.2);
    fake.admin(
        "POST",
        "/_fake/faults",
        Some(serde_json::json!({
            "method": "PUT",
            "type": "Microsoft.ContainerService/managedClusters/agentPools",
            "name": "h100",
            "times": 1,
            "in_operation": true,
            "error": {"code": "OverconstrainedZonalAllocationRequest",
                      "message": "Allocation failed. VM(s) with the following constraints cannot be allocated, because the condition is too restrictive. Please remove some constraints and try again. Constraints applied are: - Availability Zone: 2 - VM Size: Standard_ND96isr_H100_v5"}
        })),
    );
    let stack = fake.stack();
    stack.write(CLUSTER);
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0, "{}", run.both());
    let text = run.both();
    assert!(
        text.contains("OverconstrainedZonalAllocationRequest"),
        "{text}"
    );
    assert!(text.contains("capacity"), "{text}");
    assert!(text.contains("Availability Zone: 2"), "{text}");
    // The cluster is made and tracked; the pool Azure could not place is not there, and
    // not in state.
    let cluster = fake.python_json("aks.managed_clusters.get('aks-rg', 'train-aks')");
    assert_eq!(cluster["oidc_issuer_profile"]["enabled"], true);
    assert_eq!(
        stack.state_attr("azurerm_kubernetes_cluster.main", "oidc_issuer_url"),
        cluster["oidc_issuer_profile"]["issuer_url"]
    );
    assert!(stack
        .state_addresses()
        .contains(&"azurerm_kubernetes_cluster.main".to_owned()));
    assert!(!stack
        .state_addresses()
        .contains(&"azurerm_kubernetes_cluster_node_pool.gpu".to_owned()));
    let pools =
        fake.python("print(sorted(p.name for p in aks.agent_pools.list('aks-rg', 'train-aks')))");
    assert_eq!(pools, "['system']");

    // The fault was one-off: the next apply makes the pool, as configured.
    let run = stack.apply();
    assert_eq!(run.code, 0, "{}", run.both());
    let pool = fake.python_json("aks.agent_pools.get('aks-rg', 'train-aks', 'h100')");
    assert_eq!(pool["vm_size"], "Standard_ND96isr_H100_v5");
    assert_eq!(pool["availability_zones"], serde_json::json!(["2"]));
    assert_eq!(pool["gpu_profile"]["driver"], "Install");
    assert_eq!(
        pool["node_taints"],
        serde_json::json!(["nvidia.com/gpu=present:NoSchedule"])
    );
    stack.assert_no_changes();
    let run = stack.destroy();
    assert_eq!(run.code, 0, "{}", run.both());
    assert_eq!(
        fake.python("print(exists(lambda: resource.resource_groups.get('aks-rg')))"),
        "False"
    );
}

#[test]
fn a_wrong_client_secret_is_an_auth_error_naming_the_cause() {
    let fake = Fake::start(0.0);
    let stack = fake.stack();
    let block = fake
        .provider_block()
        .replace(crate::support::CLIENT_SECRET, "not-the-secret");
    stack.write_raw(&format!(
        "{block}\nresource \"azurerm_resource_group\" \"main\" {{\n  name = \"x-rg\"\n  location = \"eastus\"\n}}\n"
    ));
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0);
    let text = run.both();
    assert!(
        text.contains("AADSTS7000215") || text.contains("invalid_client"),
        "{text}"
    );
    assert!(
        !text.contains("not-the-secret"),
        "the secret was printed: {text}"
    );
    assert_eq!(
        fake.python("print(len(list(resource.resource_groups.list())))"),
        "0"
    );
}

#[test]
fn an_existing_group_gantry_did_not_make_is_not_taken_over() {
    let fake = Fake::start(0.0);
    fake.python("resource.resource_groups.create_or_update('shared-rg', {'location': 'eastus', 'tags': {'owner': 'platform'}})");
    let stack = fake.stack();
    stack.write("resource \"azurerm_resource_group\" \"main\" {\n  name = \"shared-rg\"\n  location = \"eastus\"\n}\n");
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0);
    assert!(run.both().contains("already exists"), "{}", run.both());
    assert!(
        run.both()
            .contains("gantry import azurerm_resource_group.main"),
        "{}",
        run.both()
    );
    let tags = fake.python_json("resource.resource_groups.get('shared-rg').tags");
    assert_eq!(
        tags,
        serde_json::json!({"owner": "platform"}),
        "the group was changed"
    );
}

/// azurerm's `prevent_deletion_if_contains_resources` (on by default): a group that still
/// holds an object gantry does not manage is not deleted, the error names the object;
/// switched off, the destroy deletes the group and what is in it.
#[test]
fn a_group_holding_objects_gantry_does_not_manage_is_not_deleted_unless_asked() {
    let fake = Fake::start(0.0);
    let stack = fake.stack();
    let group = "resource \"azurerm_resource_group\" \"main\" {\n  name = \"keep-rg\"\n  location = \"eastus\"\n}\n";
    stack.write(group);
    stack.apply();
    fake.python(
        "network.virtual_networks.begin_create_or_update('keep-rg', 'made-by-hand', {'location': 'eastus', 'properties': {'addressSpace': {'addressPrefixes': ['10.9.0.0/16']}}}).result()",
    );
    let run = stack.gantry(&["destroy", "--auto-approve"]);
    assert_ne!(run.code, 0, "{}", run.both());
    assert!(
        run.both().contains("virtualNetworks/made-by-hand"),
        "{}",
        run.both()
    );
    assert!(
        run.both()
            .contains("prevent_deletion_if_contains_resources = false"),
        "{}",
        run.both()
    );
    assert_eq!(
        fake.python(
            "print(exists(lambda: network.virtual_networks.get('keep-rg', 'made-by-hand')))"
        ),
        "True"
    );

    let block = fake
        .provider_block()
        .replace("features {}", "features {\n    resource_group {\n      prevent_deletion_if_contains_resources = false\n    }\n  }");
    stack.write_raw(&format!("{block}\n{group}"));
    stack.destroy();
    assert_eq!(
        fake.python("print(exists(lambda: resource.resource_groups.get('keep-rg')))"),
        "False"
    );
}

//! The Azure examples applied against the contract fake as a user would (their own
//! provider blocks, pointed at the fake), read back through the azure-mgmt SDKs, planned
//! again with no changes, destroyed to nothing: every module of stacks/azure on the way.

use crate::support::Fake;

#[test]
fn the_llm_training_example_applies_plans_clean_and_destroys_to_nothing() {
    let fake = Fake::start(0.1);
    let stack = fake.stack();
    stack.write_raw(&fake.example("llm-training-azure"));
    let run = stack.apply();
    assert!(
        run.stdout
            .contains("fleet = \"2 x Standard_ND96isr_H100_v5 in eastus zone 1\""),
        "{}",
        run.stdout
    );

    // The fleet as InfiniBand jobs need it.
    let fleet =
        fake.python_json("compute.virtual_machine_scale_sets.get('llmtrain-rg', 'llmtrain')");
    assert_eq!(fleet["sku"]["name"], "Standard_ND96isr_H100_v5");
    assert_eq!(fleet["sku"]["capacity"], 2);
    assert_eq!(fleet["single_placement_group"], true);
    assert_eq!(fleet["platform_fault_domain_count"], 1);
    assert_eq!(fleet["overprovision"], false);
    assert_eq!(fleet["zones"], serde_json::json!(["1"]));
    assert!(fleet["proximity_placement_group"]["id"]
        .as_str()
        .is_some_and(|id| id.ends_with("/proximityPlacementGroups/llmtrain-ppg")));
    assert_eq!(
        fleet["virtual_machine_profile"]["storage_profile"]["image_reference"]["offer"],
        "ubuntu-hpc"
    );
    assert_eq!(
        fleet["virtual_machine_profile"]["network_profile"]["network_interface_configurations"][0]
            ["enable_accelerated_networking"],
        true
    );
    // The provider block's default tags and gantry's marks.
    assert_eq!(fleet["tags"]["project"], "llmtrain");
    assert_eq!(
        fleet["tags"]["gantry-address"],
        "module.fleet.azurerm_linux_virtual_machine_scale_set.this"
    );
    // The security group is on the subnet.
    let subnet = fake.python_json("network.subnets.get('llmtrain-rg', 'llmtrain', 'nodes')");
    assert!(subnet["network_security_group"]["id"]
        .as_str()
        .is_some_and(|id| id.ends_with("/networkSecurityGroups/llmtrain-nodes")));
    // Storage: ADLS Gen2, no shared keys, both containers, the trainers may write.
    let account =
        fake.python_json("storage.storage_accounts.get_properties('llmtrain-rg', 'llmtraindata')");
    assert_eq!(account["is_hns_enabled"], true);
    assert_eq!(account["allow_shared_key_access"], false);
    let containers = fake.python("print(sorted(c.name for c in storage.blob_containers.list('llmtrain-rg', 'llmtraindata')))");
    assert_eq!(containers, "['checkpoints', 'datasets']");
    let trainers = stack.state_attr("azurerm_user_assigned_identity.trainers", "principal_id");
    let grants = fake.python_json("[a.principal_id for a in auth.role_assignments.list_for_scope(RG_ID('llmtrain-rg') + '/providers/Microsoft.Storage/storageAccounts/llmtraindata')]");
    assert!(
        grants.as_array().is_some_and(|g| g.contains(&trainers)),
        "{grants}"
    );
    // The platform: the workspace bound to its vault, storage and insights.
    let ws_id = stack.state_attr(
        "module.platform.azurerm_machine_learning_workspace.this",
        "id",
    );
    let ws = fake.python_json(&format!(
        "resource.resources.get_by_id({ws_id}, '2024-04-01')"
    ));
    assert!(
        ws["properties"]["keyVault"]
            .as_str()
            .is_some_and(|k| k.ends_with("/vaults/llmtrain-ml-kv")),
        "{ws}"
    );
    assert!(
        ws["identity"]["principal_id"]
            .as_str()
            .is_some_and(|p| !p.is_empty()),
        "{ws}"
    );

    stack.assert_no_changes();
    stack.destroy();
    assert_eq!(
        fake.python("print(exists(lambda: resource.resource_groups.get('llmtrain-rg')))"),
        "False"
    );
    assert!(stack.state_addresses().is_empty());
}

#[test]
fn the_inference_example_applies_plans_clean_and_destroys_to_nothing() {
    let fake = Fake::start(0.1);
    let stack = fake.stack();
    stack.write_raw(&fake.example("inference-azure"));
    stack.apply();
    let pool = fake.python_json("aks.agent_pools.get('inference-rg', 'inference', 'a100')");
    assert_eq!(pool["vm_size"], "Standard_NC24ads_A100_v4");
    assert_eq!(pool["enable_auto_scaling"], true);
    assert_eq!(
        (pool["min_count"].clone(), pool["max_count"].clone()),
        (1.into(), 4.into())
    );
    assert_eq!(
        pool["availability_zones"],
        serde_json::json!(["1", "2", "3"])
    );
    assert_eq!(pool["gpu_profile"]["driver"], "Install");
    let cluster = fake.python_json("aks.managed_clusters.get('inference-rg', 'inference')");
    assert_eq!(
        cluster["security_profile"]["workload_identity"]["enabled"],
        true
    );
    assert_eq!(cluster["network_profile"]["network_plugin_mode"], "overlay");
    assert_eq!(
        cluster["agent_pool_profiles"].as_array().map(Vec::len),
        Some(2),
        "system + a100"
    );
    stack.assert_no_changes();
    stack.destroy();
    assert_eq!(
        fake.python("print(exists(lambda: resource.resource_groups.get('inference-rg')))"),
        "False"
    );
}

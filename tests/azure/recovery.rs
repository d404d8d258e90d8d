//! Never losing an object: ARM names are deterministic, so a create whose answer was lost
//! is looked up by name, and adopted only when its tags carry this create's stack,
//! address and token (a role assignment: named by the token itself); and a
//! `gantry apply` killed while operations run leaves every object the fake made in state
//! exactly once after the next apply.

use crate::support::{block_on, op, planned, provider, Fake};
use gantry_provider::{Provider, Value};

fn group(name: &str) -> Value {
    Value::map([
        ("name", Value::string(name)),
        ("location", Value::string("eastus")),
    ])
}

#[test]
fn find_created_adopts_only_the_object_this_create_made() {
    let fake = Fake::start(0.0);
    block_on(async {
        let azure = provider(&fake).await;
        let token = "6f1d3c2a-8b7e-4c9d-a1f0-2e3d4c5b6a79";
        let ctx = op("stack-a", "azurerm_resource_group.a", Some(token));
        let plan = planned(&azure, "azurerm_resource_group", &group("made-rg"));
        let made = azure
            .create(&ctx, "azurerm_resource_group", &plan)
            .await
            .expect("create");
        let found = azure
            .find_created(&ctx, "azurerm_resource_group", token, &plan)
            .await
            .expect("ask")
            .expect("found by name and marks");
        assert_eq!(
            found.as_map().and_then(|m| m.get("id")),
            made.as_map().and_then(|m| m.get("id"))
        );

        for (stack, address, other_token) in [
            (
                "stack-a",
                "azurerm_resource_group.a",
                "0b9a8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d",
            ),
            ("stack-b", "azurerm_resource_group.a", token),
            ("stack-a", "azurerm_resource_group.b", token),
        ] {
            let other = op(stack, address, Some(other_token));
            let none = azure
                .find_created(&other, "azurerm_resource_group", other_token, &plan)
                .await
                .expect("ask");
            assert!(
                none.is_none(),
                "adopted for {stack} {address} {other_token}: {none:?}"
            );
        }

        // A group made by hand is never taken for this create's.
        fake.python(
            "resource.resource_groups.create_or_update('by-hand-rg', {'location': 'eastus'})",
        );
        let by_hand = planned(&azure, "azurerm_resource_group", &group("by-hand-rg"));
        let none = azure
            .find_created(&ctx, "azurerm_resource_group", token, &by_hand)
            .await
            .expect("ask");
        assert!(none.is_none(), "adopted a group made by hand");
    });
}

/// SIGKILL while creates run (operations held running), then apply again: every object
/// the fake holds is in state exactly once, and the state names nothing the fake lacks.
#[test]
fn apply_killed_mid_operation_then_applied_again_tracks_every_object_once() {
    let fake = Fake::start(1.0);
    let stack = fake.stack();
    let mut hcl = String::from("resource \"azurerm_resource_group\" \"rg\" {\n  name = \"kill-rg\"\n  location = \"eastus\"\n}\n");
    for i in 0..4 {
        hcl.push_str(&format!(
            "resource \"azurerm_virtual_network\" \"v{i}\" {{\n  name = \"vnet-{i}\"\n  resource_group_name = azurerm_resource_group.rg.name\n  location = \"eastus\"\n  address_space = [\"10.{i}.0.0/16\"]\n}}\n\
             resource \"azurerm_subnet\" \"s{i}\" {{\n  name = \"snet-{i}\"\n  resource_group_name = azurerm_resource_group.rg.name\n  virtual_network_name = azurerm_virtual_network.v{i}.name\n  address_prefixes = [\"10.{i}.1.0/24\"]\n}}\n\
             resource \"azurerm_network_security_group\" \"n{i}\" {{\n  name = \"nsg-{i}\"\n  resource_group_name = azurerm_resource_group.rg.name\n  location = \"eastus\"\n}}\n"
        ));
    }
    stack.write(&hcl);
    let mut running_at_kill = 0;
    for delay_ms in [1500u64, 2600] {
        let mut child = stack
            .command(&["apply", "--auto-approve"], &[])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn gantry");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        running_at_kill += running_operations(&fake);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
    }
    assert!(
        running_at_kill > 0,
        "no operation was running when gantry was killed"
    );
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "apply after the kills failed:\n{}", run.both());

    let in_fake = fake.python(
        "names = [v.name for v in network.virtual_networks.list('kill-rg')]\n\
         names += [s.name for v in network.virtual_networks.list('kill-rg') for s in network.subnets.list('kill-rg', v.name)]\n\
         names += [n.name for n in network.network_security_groups.list('kill-rg')]\n\
         names += ['kill-rg'] if exists(lambda: resource.resource_groups.get('kill-rg')) else []\n\
         print(' '.join(names))",
    );
    let mut in_state: Vec<String> = stack
        .state_addresses()
        .iter()
        .map(|a| {
            stack
                .state_attr(a, "name")
                .as_str()
                .unwrap_or_default()
                .to_owned()
        })
        .collect();
    in_state.sort();
    let mut in_fake: Vec<String> = in_fake.split_whitespace().map(str::to_owned).collect();
    in_fake.sort();
    assert_eq!(in_state, in_fake);
    assert_eq!(in_state.len(), 13);
    stack.assert_no_changes();
}

/// Operations the fake is still running.
fn running_operations(fake: &Fake) -> usize {
    let state = fake.admin("GET", "/_fake/state", None);
    let ops = &state["operations"];
    let list: Vec<&serde_json::Value> = match ops {
        serde_json::Value::Object(m) => m.values().collect(),
        serde_json::Value::Array(a) => a.iter().collect(),
        _ => Vec::new(),
    };
    list.iter()
        .filter(|o| {
            o["status"]
                .as_str()
                .is_some_and(|s| s.eq_ignore_ascii_case("InProgress"))
        })
        .count()
}

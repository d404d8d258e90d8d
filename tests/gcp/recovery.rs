//! Never losing an object: a create whose answer was lost is found again by the
//! requestId Compute Engine keeps on its operation, only then; and a `gantry apply`
//! killed while operations run leaves every object the fake made in state exactly once
//! after the next apply.

use crate::support::{block_on, op, planned, provider, Fake};
use gantry_provider::{Provider, Value};

fn network(name: &str) -> Value {
    Value::map([
        ("name", Value::string(name)),
        ("auto_create_subnetworks", Value::Bool(false)),
    ])
}

#[test]
fn find_created_adopts_only_the_object_this_create_made() {
    let fake = Fake::start(0.0);
    block_on(async {
        let google = provider(&fake).await;
        let token = "6f1d3c2a-8b7e-4c9d-a1f0-2e3d4c5b6a79";
        let ctx = op("stack-a", "google_compute_network.a", Some(token));
        let plan = planned(
            &google,
            "google_compute_network",
            &network("made-by-gantry"),
        );
        let made = google
            .create(&ctx, "google_compute_network", &plan)
            .await
            .expect("create");
        let found = google
            .find_created(&ctx, "google_compute_network", token, &plan)
            .await
            .expect("ask")
            .expect("found by its requestId");
        assert_eq!(
            found.as_map().and_then(|m| m.get("id")),
            made.as_map().and_then(|m| m.get("id"))
        );

        // Another create's token finds nothing, though an object of that name exists.
        let other = "0b9a8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d";
        let ctx_other = op("stack-a", "google_compute_network.a", Some(other));
        let none = google
            .find_created(&ctx_other, "google_compute_network", other, &plan)
            .await
            .expect("ask");
        assert!(
            none.is_none(),
            "adopted an object another create made: {none:?}"
        );

        // An object made by hand (no requestId) is never taken for this create's.
        fake.python(
            "wait(compute.networks().insert(project=PROJECT, body={'name': 'by-hand'}).execute())",
        );
        let by_hand = planned(&google, "google_compute_network", &network("by-hand"));
        let none = google
            .find_created(&ctx, "google_compute_network", token, &by_hand)
            .await
            .expect("ask");
        assert!(none.is_none(), "adopted a network made by hand");
    });
}

#[test]
fn an_insert_whose_operation_failed_is_not_adopted() {
    let fake = Fake::start(0.0);
    fake.admin(
        "POST",
        "/_fake/faults",
        Some(serde_json::json!({"method": "compute.networks.insert", "kind": "stockout", "times": 1})),
    );
    block_on(async {
        let google = provider(&fake).await;
        let token = "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d";
        let ctx = op("s", "google_compute_network.a", Some(token));
        let plan = planned(&google, "google_compute_network", &network("failed"));
        let err = google
            .create(&ctx, "google_compute_network", &plan)
            .await
            .expect_err("the operation fails");
        assert!(
            err.accepted.is_none(),
            "nothing was made, nothing to record: {err}"
        );
        let found = google
            .find_created(&ctx, "google_compute_network", token, &plan)
            .await
            .expect("ask");
        assert!(found.is_none());
    });
}

/// SIGKILL while inserts run (operations held RUNNING for a second), then apply again:
/// every network, subnetwork and firewall the fake holds is in state exactly once, and
/// the state names nothing the fake lacks.
#[test]
fn apply_killed_mid_operation_then_applied_again_tracks_every_object_once() {
    let fake = Fake::start(1.0);
    let stack = fake.stack();
    let mut hcl = String::new();
    for i in 0..4 {
        hcl.push_str(&format!(
            "resource \"google_compute_network\" \"n{i}\" {{\n  name = \"net-{i}\"\n  auto_create_subnetworks = false\n}}\n\
             resource \"google_compute_subnetwork\" \"s{i}\" {{\n  name = \"sub-{i}\"\n  network = google_compute_network.n{i}.id\n  ip_cidr_range = \"10.{i}.0.0/24\"\n}}\n\
             resource \"google_compute_firewall\" \"f{i}\" {{\n  name = \"fw-{i}\"\n  network = google_compute_network.n{i}.name\n  allow {{\n    protocol = \"icmp\"\n  }}\n}}\n"
        ));
    }
    stack.write(&hcl);
    let mut running_at_kill = 0;
    for delay_ms in [700u64, 1900] {
        let mut child = stack
            .command(&["apply", "--auto-approve"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("spawn gantry");
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        running_at_kill += running_operations(&fake);
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
    }
    // The kills landed while the fake was still making objects.
    assert!(
        running_at_kill > 0,
        "no operation was running when gantry was killed"
    );
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "apply after the kills failed:\n{}", run.both());

    let in_fake = fake.python(
        "print(' '.join(names(compute.networks().list(project=PROJECT)) + names(compute.subnetworks().list(project=PROJECT, region=REGION)) + names(compute.firewalls().list(project=PROJECT))))",
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
    assert_eq!(in_fake.len(), 12);
    stack.assert_no_changes();
    stack.destroy();
    let left = fake
        .python("print(len(compute.networks().list(project=PROJECT).execute().get('items', [])))");
    assert_eq!(left, "0");
}

fn running_operations(fake: &Fake) -> usize {
    let state = fake.admin("GET", "/_fake/state", None);
    state["operations"].as_object().map_or(0, |ops| {
        ops.values().filter(|op| op["status"] != "DONE").count()
    })
}

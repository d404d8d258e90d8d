//! What Google Cloud answers, as the engine acts on it and the user reads it: a stockout
//! is a capacity error naming the zone, throttling is retried, a missing permission is
//! named, a missing project is a configuration error before anything is sent.

use crate::support::Fake;
use serde_json::json;

const ONE_NETWORK: &str =
    "resource \"google_compute_network\" \"vpc\" {\n  name = \"vpc\"\n  auto_create_subnetworks = false\n}\n";

#[test]
fn a_stockout_fails_the_create_as_capacity_and_leaves_nothing() {
    let fake = Fake::start(0.0);
    fake.admin(
        "POST",
        "/_fake/faults",
        Some(json!({"method": "compute.networks.insert", "kind": "stockout", "zone": null})),
    );
    let stack = fake.stack();
    stack.write(ONE_NETWORK);
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0);
    let text = run.both();
    assert!(text.contains("ZONE_RESOURCE_POOL_EXHAUSTED"), "{text}");
    assert!(text.contains("capacity"), "{text}");
    assert!(stack.state_addresses().is_empty());
    assert_eq!(
        fake.python("print(names(compute.networks().list(project=PROJECT)))"),
        "[]"
    );
}

#[test]
fn throttling_is_retried_until_the_call_goes_through() {
    let fake = Fake::start(0.0);
    fake.admin(
        "POST",
        "/_fake/faults",
        Some(json!({"method": "compute.networks.insert", "kind": "throttle", "times": 2})),
    );
    let stack = fake.stack();
    stack.write(ONE_NETWORK);
    stack.apply();
    assert_eq!(
        fake.python("print(names(compute.networks().list(project=PROJECT)))"),
        "['vpc']"
    );
}

#[test]
fn a_missing_permission_is_named() {
    let fake = Fake::start(0.0);
    fake.admin(
        "POST",
        "/_fake/faults",
        Some(json!({"method": "compute.networks.insert", "kind": "permission", "permission": "compute.networks.create", "resource": "projects/gantry-test"})),
    );
    let stack = fake.stack();
    stack.write(ONE_NETWORK);
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0);
    assert!(
        run.both()
            .contains("missing permission `compute.networks.create`"),
        "{}",
        run.both()
    );
}

#[test]
fn no_project_is_a_configuration_error_naming_where_it_is_read_from() {
    let fake = Fake::start(0.0);
    let stack = fake.stack();
    std::fs::write(
        stack.path().join("main.hcl"),
        format!(
            "provider \"google\" {{\n  access_token = \"t\"\n  compute_custom_endpoint = \"{}/compute\"\n}}\n{ONE_NETWORK}",
            fake.base()
        ),
    )
    .expect("write");
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0);
    assert!(run.both().contains("GOOGLE_PROJECT"), "{}", run.both());
    assert_eq!(
        fake.python("print(names(compute.networks().list(project=PROJECT)))"),
        "[]"
    );
}

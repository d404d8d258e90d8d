//! examples/gcp-gpu-vms applied against the fake as a user would, with one stockout in
//! the first zone: one VM fails over to the next zone, the plan after is clean, destroy
//! leaves nothing.

use crate::support::{repo_root, Fake};
use serde_json::json;

#[test]
fn the_gpu_vms_example_applies_with_a_stockout_plans_clean_and_destroys_to_nothing() {
    let fake = Fake::start(0.1);
    fake.admin(
        "POST",
        "/_fake/faults",
        Some(json!({"method": "compute.instances.insert", "zone": "us-central1-a", "kind": "stockout", "times": 1})),
    );
    let text = std::fs::read_to_string(repo_root().join("examples/gcp-gpu-vms/main.hcl"))
        .expect("the example");
    let start = text
        .find("provider \"google\" {")
        .expect("its provider block");
    let end = start + text[start..].find("\n}\n").expect("the block's end") + 3;
    let stack = fake.stack();
    // The example's own provider block, pointed at the fake (write() adds it).
    stack.write(&format!("{}{}", &text[..start], &text[end..]));
    stack.apply();

    let listed = fake.python(
        "print(names(compute.instances().list(project=PROJECT, zone='us-central1-a')), names(compute.instances().list(project=PROJECT, zone='us-central1-b')))",
    );
    let (in_a, in_b): (Vec<&str>, Vec<&str>) = (
        listed
            .split("] [")
            .next()
            .unwrap_or_default()
            .matches("trainer-")
            .collect(),
        listed
            .split("] [")
            .nth(1)
            .unwrap_or_default()
            .matches("trainer-")
            .collect(),
    );
    assert_eq!(
        (in_a.len(), in_b.len()),
        (1, 1),
        "one VM in each zone: {listed}"
    );
    let vm = fake.python_json(
        "compute.instances().list(project=PROJECT, zone='us-central1-a').execute()['items'][0]",
    );
    assert_eq!(vm["labels"]["job"], "pretrain");
    let outputs = stack.gantry(&["output", "trainer_ips", "--json"]);
    assert_eq!(outputs.code, 0, "{}", outputs.both());
    assert!(outputs.stdout.contains("10.10."), "{}", outputs.stdout);
    stack.assert_no_changes();
    stack.destroy();
    assert_eq!(
        fake.python("print(names(compute.instances().list(project=PROJECT, zone='us-central1-a')) + names(compute.instances().list(project=PROJECT, zone='us-central1-b')) + names(compute.networks().list(project=PROJECT)) + names(compute.firewalls().list(project=PROJECT)))"),
        "[]"
    );
}

//! Cloud TPU VMs and slices (`google_tpu_v2_vm`) through Cloud TPU's resource-oriented
//! API and its long-running operations: a slice given by topology is planned as the
//! accelerator type it amounts to, made, read back by Google's client, changed in place,
//! replaced, destroyed; a stockout fails over to the next zone; a create whose answer was
//! lost is adopted only by its labels; a SIGKILLed apply loses nothing.

use crate::support::{block_on, op, planned, provider, Fake};
use gantry_provider::{ErrorClass, Provider, Value};

const SLICE: &str = r#"
resource "google_tpu_v2_vm" "slice" {
  name            = "train-slice"
  zone            = "us-west4-a"
  runtime_version = "v2-alpha-tpuv5-lite"
  description     = "pretraining"
  labels          = { team = "ml" }

  accelerator_config {
    type     = "V5LITE_POD"
    topology = "4x4"
  }

  scheduling_config {
    spot = true
  }
}

output "hosts" {
  value = length(google_tpu_v2_vm.slice.network_endpoints)
}
"#;

fn node(fake: &Fake, zone: &str, name: &str) -> serde_json::Value {
    fake.python_json(&format!(
        "tpu.projects().locations().nodes().get(name=f'projects/{{PROJECT}}/locations/{zone}/nodes/{name}').execute()"
    ))
}

fn node_names(fake: &Fake, zone: &str) -> String {
    fake.python(&format!(
        "print(sorted(n['name'].rsplit('/', 1)[1] for n in tpu.projects().locations().nodes().list(parent=f'projects/{{PROJECT}}/locations/{zone}').execute().get('nodes', [])))"
    ))
}

#[test]
fn a_tpu_slice_is_created_changed_in_place_replaced_and_destroyed() {
    let fake = Fake::start(0.3);
    let stack = fake.stack();
    stack.write(SLICE);

    // Planned by the slice it amounts to, and priced as one (16 spot v5e chips).
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2, "{}", plan.both());
    assert!(plan.stdout.contains("v5litepod-16"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("/mo"),
        "the plan prices the slice:\n{}",
        plan.stdout
    );

    let run = stack.apply();
    assert!(run.stdout.contains("hosts = 4"), "{}", run.stdout);
    let made = node(&fake, "us-west4-a", "train-slice");
    assert_eq!(made["state"], "READY");
    assert_eq!(made["acceleratorType"], "v5litepod-16");
    assert_eq!(made["acceleratorConfig"]["topology"], "4x4");
    assert_eq!(made["schedulingConfig"]["spot"], true);
    assert_eq!(made["labels"]["team"], "ml");
    for mark in ["gantry-stack", "gantry-address", "gantry-token"] {
        assert!(made["labels"].get(mark).is_some(), "{mark} missing: {made}");
    }
    assert_eq!(
        stack.state_attr("google_tpu_v2_vm.slice", "id"),
        "projects/gantry-test/locations/us-west4-a/nodes/train-slice"
    );
    assert_eq!(
        stack.state_attr("google_tpu_v2_vm.slice", "accelerator_type"),
        "v5litepod-16"
    );
    stack.assert_no_changes();

    // Labels and description change in place: the same node, nothing else touched.
    let relabelled = SLICE
        .replace("{ team = \"ml\" }", "{ team = \"ml\", run = \"r7\" }")
        .replace("\"pretraining\"", "\"pretraining r7\"");
    stack.write(&relabelled);
    let (_, plan) = stack.plan_code();
    assert!(
        plan.stdout
            .contains("google_tpu_v2_vm.slice will be updated in-place"),
        "{}",
        plan.stdout
    );
    stack.apply();
    let changed = node(&fake, "us-west4-a", "train-slice");
    assert_eq!(changed["id"], made["id"], "changed in place, not replaced");
    assert_eq!(changed["labels"]["run"], "r7");
    assert_eq!(changed["description"], "pretraining r7");
    assert_eq!(
        changed["labels"]["gantry-token"], made["labels"]["gantry-token"],
        "the create's marks are kept"
    );
    stack.assert_no_changes();

    // A bigger slice is a new slice.
    let bigger = relabelled.replace("\"4x4\"", "\"4x8\"");
    stack.write(&bigger);
    let (_, plan) = stack.plan_code();
    assert!(
        plan.stdout
            .contains("google_tpu_v2_vm.slice must be replaced"),
        "{}",
        plan.stdout
    );
    stack.apply();
    let replaced = node(&fake, "us-west4-a", "train-slice");
    assert_eq!(replaced["acceleratorType"], "v5litepod-32");
    assert_eq!(
        replaced["networkEndpoints"].as_array().map(Vec::len),
        Some(8)
    );
    stack.assert_no_changes();

    stack.destroy();
    assert_eq!(node_names(&fake, "us-west4-a"), "[]");
    assert!(stack.state_addresses().is_empty());
}

/// A slice the zone does not offer fails the plan, before anything is sent: Cloud TPU's
/// `acceleratorTypes.list` of the zone is read at plan, and the error names what the zone
/// has instead.
#[test]
fn a_slice_the_zone_does_not_offer_fails_the_plan_naming_what_it_offers() {
    let fake = Fake::start(0.0);
    let stack = fake.stack();
    stack.write(&SLICE.replace("us-west4-a", "us-central2-b"));
    let run = stack.gantry(&["plan"]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.stderr
            .contains("Cloud TPU offers no v5litepod-16 in zone us-central2-b"),
        "{}",
        run.both()
    );
    assert!(
        run.stderr.contains("v4-8"),
        "what the zone offers: {}",
        run.both()
    );
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0);
    assert_eq!(node_names(&fake, "us-central2-b"), "[]");
    let state = fake.admin("GET", "/_fake/state", None);
    assert_eq!(
        state["operations"].as_object().map(|o| o.len()),
        Some(0),
        "no create was sent: {state}"
    );
}

/// No TPU capacity in the first zone (code 8, "no more capacity"): Capacity, naming the
/// zone, and the `failover` block takes the next zone; nothing is left in the first.
#[test]
fn a_tpu_stockout_fails_over_to_the_next_zone() {
    let fake = Fake::start(0.2);
    fake.admin(
        "POST",
        "/_fake/faults",
        Some(serde_json::json!({"method": "tpu.projects.locations.nodes.create", "zone": "us-west4-a", "kind": "stockout"})),
    );
    let stack = fake.stack();
    stack.write(&SLICE.replace(
        "  scheduling_config {",
        "  failover {\n    on = [\"capacity\"]\n    alternative {\n      zone = \"europe-west4-a\"\n    }\n  }\n\n  scheduling_config {",
    ));
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(run.both().contains("us-west4-a"), "{}", run.both());
    assert_eq!(node_names(&fake, "us-west4-a"), "[]");
    assert_eq!(node_names(&fake, "europe-west4-a"), "['train-slice']");
    assert_eq!(
        stack.state_attr("google_tpu_v2_vm.slice", "zone"),
        "europe-west4-a"
    );
    stack.assert_no_changes();
}

fn slice_config() -> Value {
    Value::map([
        ("name", Value::string("lost-answer")),
        ("zone", Value::string("us-west4-a")),
        ("runtime_version", Value::string("v2-alpha-tpuv5-lite")),
        ("accelerator_type", Value::string("v5litepod-4")),
    ])
}

/// The create's answer lost: the node of that name is this create's only when its labels
/// carry this create's stack, address and token; a stockout leaves nothing to adopt.
#[test]
fn find_created_adopts_a_tpu_only_by_its_labels() {
    let fake = Fake::start(0.0);
    block_on(async {
        let google = provider(&fake).await;
        let token = "7c1d3c2a-8b7e-4c9d-a1f0-2e3d4c5b6a79";
        let ctx = op("stack-a", "google_tpu_v2_vm.s", Some(token));
        let plan = planned(&google, "google_tpu_v2_vm", &slice_config());
        google
            .create(&ctx, "google_tpu_v2_vm", &plan)
            .await
            .expect("create");
        let found = google
            .find_created(&ctx, "google_tpu_v2_vm", token, &plan)
            .await
            .expect("ask");
        assert!(found.is_some(), "its own node, by its labels");
        for (stack, address, other_token) in [
            ("stack-b", "google_tpu_v2_vm.s", token),
            ("stack-a", "google_tpu_v2_vm.t", token),
            (
                "stack-a",
                "google_tpu_v2_vm.s",
                "0b9a8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d",
            ),
        ] {
            let ctx = op(stack, address, Some(other_token));
            let none = google
                .find_created(&ctx, "google_tpu_v2_vm", other_token, &plan)
                .await
                .expect("ask");
            assert!(
                none.is_none(),
                "adopted for {stack} {address} {other_token}"
            );
        }

        fake.admin(
            "POST",
            "/_fake/faults",
            Some(serde_json::json!({"method": "tpu.projects.locations.nodes.create", "kind": "stockout", "times": 1})),
        );
        let mut config = slice_config();
        if let Value::Map(m) = &mut config {
            m.insert("name".into(), Value::string("stocked-out"));
        }
        let plan = planned(&google, "google_tpu_v2_vm", &config);
        let err = google
            .create(&ctx, "google_tpu_v2_vm", &plan)
            .await
            .expect_err("stockout");
        assert_eq!(err.class, ErrorClass::Capacity, "{err}");
        assert!(err.message.contains("us-west4-a"), "{err}");
        assert!(err.accepted.is_none(), "nothing was made: {err}");
        let none = google
            .find_created(&ctx, "google_tpu_v2_vm", token, &plan)
            .await
            .expect("ask");
        assert!(none.is_none());
    });
}

/// SIGKILL while the slices' create operations run, then apply again: each slice is in
/// state once (adopted by its labels, never created twice), and destroy removes all.
#[test]
fn apply_killed_while_slices_are_created_loses_none() {
    let fake = Fake::start(1.5);
    let stack = fake.stack();
    let mut hcl = String::new();
    for i in 0..3 {
        hcl.push_str(&format!(
            "resource \"google_tpu_v2_vm\" \"s{i}\" {{\n  name = \"slice-{i}\"\n  zone = \"us-west4-a\"\n  runtime_version = \"v2-alpha-tpuv5-lite\"\n  accelerator_type = \"v5litepod-8\"\n}}\n"
        ));
    }
    stack.write(&hcl);
    let mut child = stack
        .command(&["apply", "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn gantry");
    // Wait until the fake holds running creates, then kill.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while running_creates(&fake) == 0 {
        assert!(std::time::Instant::now() < deadline, "no create ever ran");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();

    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "apply after the kill failed:\n{}", run.both());
    assert_eq!(
        node_names(&fake, "us-west4-a"),
        "['slice-0', 'slice-1', 'slice-2']"
    );
    let mut addresses = stack.state_addresses();
    addresses.sort();
    assert_eq!(
        addresses,
        [
            "google_tpu_v2_vm.s0",
            "google_tpu_v2_vm.s1",
            "google_tpu_v2_vm.s2"
        ]
    );
    stack.assert_no_changes();
    stack.destroy();
    assert_eq!(node_names(&fake, "us-west4-a"), "[]");
}

fn running_creates(fake: &Fake) -> usize {
    let state = fake.admin("GET", "/_fake/state", None);
    state["operations"].as_object().map_or(0, |ops| {
        ops.values()
            .filter(|op| op["done"] == false && op["metadata"]["verb"] == "create")
            .count()
    })
}

const ZONE_QUOTA: &str = "TPUV5sLitepodPerProjectPerZoneForTPUAPI";

fn slice(name: &str, size: u32, spot: bool) -> String {
    format!(
        r#"
resource "google_tpu_v2_vm" "{name}" {{
  name             = "{name}"
  zone             = "us-west4-a"
  runtime_version  = "v2-alpha-tpuv5-lite"
  accelerator_type = "v5litepod-{size}"
  scheduling_config {{
    spot = {spot}
  }}
}}
"#
    )
}

/// Cloud TPU's quotas are per zone and only the Cloud Quotas API reports them, as limits:
/// the plan reads the zone's limit there (`quotaInfos.get`, the zone's own value before
/// the default), counts what the zone's TPU nodes already hold, and fails a slice that
/// does not fit before anything is made, naming the quota, the zone and the gcloud
/// command that asks for more. Spot slices count against their own quota.
#[test]
fn a_slice_over_its_zones_chip_quota_fails_the_plan_counting_the_slices_that_run() {
    let fake = Fake::start(0.0);
    fake.admin(
        "POST",
        "/_fake/quotas",
        Some(
            serde_json::json!({"service": "tpu.googleapis.com", "quota_id": ZONE_QUOTA,
                                "location": "us-west4-a", "limit": 24}),
        ),
    );
    let stack = fake.stack();
    stack.write(&slice("first", 16, false));
    stack.apply();

    stack.write(&(slice("first", 16, false) + &slice("second", 16, false)));
    let run = stack.gantry(&["plan"]);
    assert_ne!(run.code, 0, "{}", run.both());
    let text = run.both();
    assert!(text.contains(ZONE_QUOTA), "{text}");
    assert!(text.contains("us-west4-a"), "the zone is named: {text}");
    assert!(
        text.contains(
            "limit 24 TPU chips, in use 16 TPU chips, free 8 TPU chips, needed 16 TPU chips"
        ),
        "the first slice's chips are counted as in use: {text}"
    );
    assert!(
        text.contains(&format!(
            "gcloud beta quotas preferences create --service=tpu.googleapis.com \
             --quota-id={ZONE_QUOTA} --preferred-value=32 --dimensions=zone=us-west4-a"
        )),
        "{text}"
    );
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0, "{}", run.both());
    assert_eq!(
        node_names(&fake, "us-west4-a"),
        "['first']",
        "nothing more is made"
    );

    // A spot slice draws on the preemptible quota, which the on-demand slice leaves free.
    stack.write(&(slice("first", 16, false) + &slice("second", 16, true)));
    stack.apply();
    assert_eq!(node_names(&fake, "us-west4-a"), "['first', 'second']");
    stack.destroy();
    assert_eq!(node_names(&fake, "us-west4-a"), "[]");
}

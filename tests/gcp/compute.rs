//! GPU VMs: an A3 spot VM on a subnetwork, read back by Google's client with its GPUs,
//! spot scheduling and gantry's identity labels; labels changed in place; a stockout in
//! its zone failing as a capacity error naming the zone, and a `failover` block taking
//! the next zone instead.

use crate::support::Fake;
use serde_json::json;

const NETWORK: &str = r#"
resource "google_compute_network" "vpc" {
  name                    = "gpu-vpc"
  auto_create_subnetworks = false
}

resource "google_compute_subnetwork" "nodes" {
  name          = "gpu-nodes"
  network       = google_compute_network.vpc.id
  ip_cidr_range = "10.30.0.0/20"
}
"#;

fn trainer(extra: &str, labels: &str) -> String {
    format!(
        r#"{NETWORK}
resource "google_compute_instance" "trainer" {{
  name         = "trainer"
  machine_type = "a3-highgpu-8g"
  zone         = "us-central1-a"
  labels       = {{ {labels} }}

  boot_disk {{
    initialize_params {{
      image = "projects/deeplearning-platform-release/global/images/family/common-cu124"
      size  = 200
    }}
  }}
  scratch_disk {{}}

  network_interface {{
    subnetwork = google_compute_subnetwork.nodes.id
  }}

  scheduling {{
    provisioning_model          = "SPOT"
    preemptible                 = true
    automatic_restart           = false
    on_host_maintenance         = "TERMINATE"
    instance_termination_action = "DELETE"
  }}
{extra}
}}
"#
    )
}

const COMPACT: &str = r#"
resource "google_compute_resource_policy" "compact" {
  name = "trainers-compact"
  group_placement_policy {
    vm_count    = 2
    collocation = "COLLOCATED"
  }
}
"#;

/// The trainer placed by the compact policy, with these labels.
fn placed_trainer(labels: &str) -> String {
    let placed = trainer(
        "  resource_policies = [google_compute_resource_policy.compact.id]\n",
        labels,
    );
    format!("{placed}{COMPACT}")
}

#[test]
fn a_spot_gpu_vm_is_created_labelled_changed_in_place_and_destroyed() {
    let fake = Fake::start(0.2);
    let stack = fake.stack();
    stack.write(&placed_trainer("team = \"research\""));
    stack.apply();
    let policy = fake.python_json(
        "compute.resourcePolicies().get(project=PROJECT, region=REGION, resourcePolicy='trainers-compact').execute()",
    );
    assert_eq!(policy["groupPlacementPolicy"]["collocation"], "COLLOCATED");
    assert_eq!(policy["groupPlacementPolicy"]["vmCount"], 2);

    let vm = fake.python_json(
        "compute.instances().get(project=PROJECT, zone='us-central1-a', instance='trainer').execute()",
    );
    assert!(
        vm["machineType"]
            .as_str()
            .is_some_and(|m| m.ends_with("/zones/us-central1-a/machineTypes/a3-highgpu-8g")),
        "{vm}"
    );
    assert_eq!(vm["scheduling"]["provisioningModel"], "SPOT");
    assert_eq!(vm["scheduling"]["instanceTerminationAction"], "DELETE");
    assert_eq!(vm["resourcePolicies"][0], policy["selfLink"]);
    assert_eq!(vm["labels"]["team"], "research");
    // gantry's identity marks, in label form.
    assert_eq!(
        vm["labels"]["gantry-address"]
            .as_str()
            .map(|a| a.starts_with("google_compute_instance_trainer-")),
        Some(true),
        "{}",
        vm["labels"]
    );
    assert!(vm["labels"]["gantry-token"].is_string());
    assert!(vm["labels"]["gantry-stack"].is_string());
    let disks = vm["disks"].as_array().expect("disks");
    assert_eq!(disks.len(), 2, "boot disk and a local SSD");
    assert_eq!(disks[1]["type"], "SCRATCH");
    let ip = vm["networkInterfaces"][0]["networkIP"]
        .as_str()
        .expect("an address")
        .to_owned();
    assert!(ip.starts_with("10.30."), "{ip}");
    assert_eq!(
        stack.state_attr("google_compute_instance.trainer", "network_interface")[0]["network_ip"],
        ip.as_str()
    );
    assert_eq!(
        stack.state_attr("google_compute_instance.trainer", "current_status"),
        "RUNNING"
    );
    stack.assert_no_changes();

    // Labels change in place (same VM id); the identity marks stay.
    let id = vm["id"].clone();
    stack.write(&placed_trainer("team = \"research\"\n    run = \"r42\""));
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2);
    assert!(plan.stdout.contains("updated in-place"), "{}", plan.stdout);
    stack.apply();
    let vm = fake.python_json(
        "compute.instances().get(project=PROJECT, zone='us-central1-a', instance='trainer').execute()",
    );
    assert_eq!(vm["id"], id);
    assert_eq!(vm["labels"]["run"], "r42");
    assert!(vm["labels"]["gantry-token"].is_string());
    stack.assert_no_changes();

    stack.destroy();
    assert_eq!(
        fake.python("print(names(compute.instances().list(project=PROJECT, zone='us-central1-a')), names(compute.networks().list(project=PROJECT)), names(compute.resourcePolicies().list(project=PROJECT, region=REGION)))"),
        "[] [] []"
    );
}

#[test]
fn a_gpu_vm_that_would_live_migrate_is_refused_at_plan() {
    let fake = Fake::start(0.0);
    let stack = fake.stack();
    stack.write(&trainer("", "").replace("    on_host_maintenance         = \"TERMINATE\"\n", ""));
    let run = stack.gantry(&["plan"]);
    assert_ne!(run.code, 0);
    assert!(
        run.both().contains("on_host_maintenance = \"TERMINATE\""),
        "{}",
        run.both()
    );
    assert!(
        run.both().contains("main.hcl:"),
        "points into the stack: {}",
        run.both()
    );
}

#[test]
fn a_stockout_is_a_capacity_error_naming_the_zone() {
    let fake = Fake::start(0.0);
    fake.admin(
        "POST",
        "/_fake/faults",
        Some(json!({"method": "compute.instances.insert", "zone": "us-central1-a", "kind": "stockout", "project": "gantry-test"})),
    );
    let stack = fake.stack();
    stack.write(&trainer("", ""));
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0);
    let text = run.both();
    assert!(text.contains("ZONE_RESOURCE_POOL_EXHAUSTED"), "{text}");
    assert!(text.contains("us-central1-a"), "{text}");
    assert!(!stack
        .state_addresses()
        .iter()
        .any(|a| a.contains("trainer")));
    assert_eq!(
        fake.python(
            "print(names(compute.instances().list(project=PROJECT, zone='us-central1-a')))"
        ),
        "[]"
    );
}

#[test]
fn failover_takes_the_next_zone_when_the_first_has_no_capacity() {
    let fake = Fake::start(0.0);
    fake.admin(
        "POST",
        "/_fake/faults",
        Some(json!({"method": "compute.instances.insert", "zone": "us-central1-a", "kind": "stockout"})),
    );
    let stack = fake.stack();
    stack.write(&trainer(
        "  failover {\n    on = [\"capacity\"]\n    alternative {\n      zone = \"us-central1-b\"\n    }\n  }\n",
        "",
    ));
    let run = stack.apply();
    assert!(
        run.both().contains("us-central1-a"),
        "the refusal is reported: {}",
        run.both()
    );
    assert_eq!(
        fake.python("print(names(compute.instances().list(project=PROJECT, zone='us-central1-a')), names(compute.instances().list(project=PROJECT, zone='us-central1-b')))"),
        "[] ['trainer']"
    );
    assert_eq!(
        stack.state_attr("google_compute_instance.trainer", "zone"),
        "us-central1-b"
    );
    // The held placement is kept: no flapping back to zone a.
    stack.assert_no_changes();
    stack.destroy();
    assert_eq!(
        fake.python(
            "print(names(compute.instances().list(project=PROJECT, zone='us-central1-b')))"
        ),
        "[]"
    );
}

/// A failover alternative in a zone without the VM's GPUs is skipped at plan (the fake's
/// us-central1-f has no H100s): apply goes straight to the next one, and never sends a
/// create to the zone that cannot hold it.
#[test]
fn a_failover_alternative_whose_zone_lacks_the_gpus_is_skipped_at_plan() {
    let fake = Fake::start(0.0);
    let stack = fake.stack();
    stack.write(
        &trainer(
            "  failover {\n    on = [\"capacity\"]\n    alternative {\n      zone = \"us-central1-b\"\n    }\n  }\n",
            "",
        )
        .replace("zone         = \"us-central1-a\"", "zone         = \"us-central1-f\""),
    );
    let plan = stack.gantry(&["plan"]);
    assert_eq!(plan.code, 0, "{}", plan.both());
    assert!(
        plan.stdout.contains("not offered")
            && plan
                .stdout
                .contains("nvidia-h100-80gb in zone us-central1-f"),
        "{}",
        plan.both()
    );
    stack.apply();
    assert_eq!(
        stack.state_attr("google_compute_instance.trainer", "zone"),
        "us-central1-b"
    );
    assert_eq!(
        fake.python("print(names(compute.instances().list(project=PROJECT, zone='us-central1-f')), [o['operationType'] for o in compute.zoneOperations().list(project=PROJECT, zone='us-central1-f').execute().get('items', [])])"),
        "[] []"
    );
    // With no alternative the cloud offers, the plan fails before anything is made.
    stack.destroy();
    stack.write(
        &trainer(
            "  failover {\n    on = [\"capacity\"]\n    alternative {\n      zone = \"asia-east1-a\"\n    }\n  }\n",
            "",
        )
        .replace("zone         = \"us-central1-a\"", "zone         = \"us-central1-f\""),
    );
    let refused = stack.gantry(&["plan"]);
    assert_ne!(refused.code, 0, "{}", refused.both());
    assert!(
        refused
            .stderr
            .contains("the cloud offers none of its failover alternatives"),
        "{}",
        refused.both()
    );
}

/// The region's quota (from `regions.get`, usage counted from the VMs that run) decides
/// before anything is created: a second 8-GPU spot VM does not fit a 12-GPU limit.
#[test]
fn a_plan_needing_more_gpus_than_the_quota_has_free_fails_before_creating_anything() {
    let fake = Fake::start(0.0);
    fake.admin(
        "POST",
        "/_fake/quotas",
        Some(
            json!({"region": "us-central1", "metric": "PREEMPTIBLE_NVIDIA_H100_GPUS", "limit": 12}),
        ),
    );
    let stack = fake.stack();
    stack.write(&trainer("", ""));
    stack.apply();
    let usage = fake.python_json(
        "[q for q in compute.regions().get(project=PROJECT, region=REGION).execute()['quotas'] if q['metric'] == 'PREEMPTIBLE_NVIDIA_H100_GPUS'][0]",
    );
    assert_eq!(usage["usage"], 8.0);

    let mut two = trainer("", "");
    two.push_str(
        &trainer("", "")
            .split("resource \"google_compute_instance\"")
            .nth(1)
            .map(|rest| format!("resource \"google_compute_instance\"{rest}"))
            .expect("the VM block")
            .replace(
                "\"trainer\" {\n  name         = \"trainer\"",
                "\"second\" {\n  name         = \"second\"",
            ),
    );
    stack.write(&two);
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0, "{}", run.both());
    let text = run.both();
    assert!(text.contains("PREEMPTIBLE_NVIDIA_H100_GPUS"), "{text}");
    assert!(
        text.contains("console.cloud.google.com/iam-admin/quotas"),
        "{text}"
    );
    assert_eq!(
        fake.python(
            "print(names(compute.instances().list(project=PROJECT, zone='us-central1-a')))"
        ),
        "['trainer']"
    );
}

/// The project's `GPUS_ALL_REGIONS` caps every GPU in every region: with room in the
/// region's H100 quota but not in the project's, the plan fails before anything is made,
/// naming the project-wide metric.
#[test]
fn the_project_wide_gpu_cap_fails_a_plan_the_region_would_allow() {
    let fake = Fake::start(0.0);
    fake.admin(
        "POST",
        "/_fake/quotas",
        Some(json!({"region": "global", "metric": "GPUS_ALL_REGIONS", "limit": 4})),
    );
    let stack = fake.stack();
    stack.write(&trainer("", ""));
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0, "{}", run.both());
    let text = run.both();
    assert!(text.contains("GPUS_ALL_REGIONS"), "{text}");
    assert_eq!(
        fake.python(
            "print(names(compute.instances().list(project=PROJECT, zone='us-central1-a')))"
        ),
        "[]"
    );
}

/// A GPU the zone does not have fails the plan before anything is sent: the A3's H100s
/// are looked up in the zone with `acceleratorTypes.get` (the fake's us-central1-f has
/// none), and the error names the GPU and the zone.
#[test]
fn a_gpu_the_zone_lacks_fails_the_plan() {
    let fake = Fake::start(0.0);
    let stack = fake.stack();
    stack.write(&trainer("", "").replace("us-central1-a", "us-central1-f"));
    let run = stack.gantry(&["plan"]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.stderr
            .contains("Compute Engine offers no nvidia-h100-80gb in zone us-central1-f"),
        "{}",
        run.both()
    );
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0);
    assert_eq!(
        fake.python(
            "print(names(compute.instances().list(project=PROJECT, zone='us-central1-f')))"
        ),
        "[]"
    );
}

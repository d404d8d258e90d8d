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
    let stack = fake.stack();
    // The example's own provider block, pointed at the fake (write() adds it).
    stack.write(&without_provider("gcp-gpu-vms"));
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

/// The example's text without its provider block (the test's points at the servers).
fn without_provider(example: &str) -> String {
    let text = std::fs::read_to_string(repo_root().join("examples").join(example).join("main.hcl"))
        .expect("the example");
    let start = text
        .find("provider \"google\" {")
        .expect("its provider block");
    let end = start + text[start..].find("\n}\n").expect("the block's end") + 3;
    format!("{}{}", &text[..start], &text[end..])
}

/// examples/llm-training-gcp applied against the fake as a user would (the bucket through
/// the fake's Cloud Storage JSON API: fake-gcs-server drops its location, labels, lifecycle
/// and uniform access, so the plan after would not be clean): the network module's VPC, subnetwork with GKE ranges,
/// firewall rules and Cloud NAT; the workers' service account with its three grants; two
/// v5e slices running as that account on that network; the training bucket and Filestore
/// share; the Workbench notebook with its own account. All read back by Google's client;
/// then a clean plan and a destroy to nothing.
#[test]
fn the_tpu_training_example_applies_reads_back_and_destroys_to_nothing() {
    let fake = Fake::start(0.1);
    let stack = fake.stack_with(&format!(
        "storage_custom_endpoint = \"{}/storage/storage/v1/\"",
        fake.base()
    ));
    stack.write(&without_provider("llm-training-gcp"));
    let run = stack.apply();
    assert!(
        run.stdout
            .contains("slices = \"2 x v5litepod-16 (4x4) in us-west4-a\""),
        "{}",
        run.stdout
    );

    let net =
        fake.python_json("compute.networks().get(project=PROJECT, network='llm-train').execute()");
    assert_eq!(net["mtu"], 8896);
    let sub = fake.python_json(
        "compute.subnetworks().get(project=PROJECT, region='us-west4', subnetwork='llm-train-nodes').execute()",
    );
    assert_eq!(sub["privateIpGoogleAccess"], true);
    let ranges: Vec<&str> = sub["secondaryIpRanges"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["rangeName"].as_str())
        .collect();
    assert_eq!(ranges, ["pods", "services"]);
    let router = fake.python_json(
        "compute.routers().get(project=PROJECT, region='us-west4', router='llm-train-router').execute()",
    );
    assert_eq!(router["nats"][0]["name"], "llm-train-nat");

    let email = "llm-train-workers@gantry-test.iam.gserviceaccount.com";
    let policy = fake.python_json(
        "crm.projects().getIamPolicy(resource=f'projects/{PROJECT}', body={}).execute()",
    );
    let mut granted: Vec<&str> = policy["bindings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| {
            b["members"]
                .as_array()
                .is_some_and(|m| m.iter().any(|x| x == &format!("serviceAccount:{email}")))
        })
        .filter_map(|b| b["role"].as_str())
        .collect();
    granted.sort_unstable();
    assert_eq!(
        granted,
        [
            "roles/logging.logWriter",
            "roles/monitoring.metricWriter",
            "roles/storage.objectAdmin"
        ]
    );

    for slice in ["llm-train-0", "llm-train-1"] {
        let node = fake.python_json(&format!(
            "tpu.projects().locations().nodes().get(name=f'projects/{{PROJECT}}/locations/us-west4-a/nodes/{slice}').execute()"
        ));
        assert_eq!(node["acceleratorType"], "v5litepod-16");
        assert_eq!(node["serviceAccount"]["email"], email);
        assert_eq!(
            node["networkConfig"]["subnetwork"],
            "projects/gantry-test/regions/us-west4/subnetworks/llm-train-nodes"
        );
        // proto3 JSON leaves a false boolean out: no external addresses either way.
        assert_ne!(node["networkConfig"]["enableExternalIps"], true);
        assert_eq!(node["labels"]["job"], "pretrain");
    }
    // The training storage: a versioned bucket in the emulator, a share next to the slices.
    let bucket =
        fake.python_json("storage.buckets().get(bucket='gantry-test-llm-train-data').execute()");
    assert_eq!(bucket["versioning"]["enabled"], true);
    assert_eq!(bucket["location"], "US-WEST4");
    assert_eq!(
        bucket["iamConfiguration"]["uniformBucketLevelAccess"]["enabled"],
        true
    );
    assert_eq!(
        bucket["iamConfiguration"]["publicAccessPrevention"],
        "enforced"
    );
    assert_eq!(
        bucket["lifecycle"]["rule"][1]["action"]["storageClass"],
        "NEARLINE"
    );
    assert_eq!(bucket["labels"]["job"], "pretrain");
    let share = fake.python_json(
        "filestore.projects().locations().instances().get(name=f'projects/{PROJECT}/locations/us-west4-a/instances/llm-train').execute()",
    );
    assert_eq!(share["tier"], "BASIC_SSD");
    assert_eq!(share["networks"][0]["network"], "llm-train");
    let mount = share["networks"][0]["ipAddresses"][0]
        .as_str()
        .expect("an address");
    assert!(
        run.stdout
            .contains(&format!("filestore_share = \"{mount}:/share1\"")),
        "{}",
        run.stdout
    );
    // The notebook runs as its own account, on the stack's network.
    let notebook = fake.python_json(
        "notebooks.projects().locations().instances().get(name=f'projects/{PROJECT}/locations/us-west4-a/instances/llm-train-nb').execute()",
    );
    assert_eq!(notebook["state"], "ACTIVE");
    assert_eq!(
        notebook["gceSetup"]["serviceAccounts"][0]["email"],
        "llm-train-nb-nb@gantry-test.iam.gserviceaccount.com"
    );
    assert_eq!(
        notebook["gceSetup"]["acceleratorConfigs"][0]["type"],
        "NVIDIA_L4"
    );

    let ips = stack.gantry(&["output", "worker_ips", "--json"]);
    assert_eq!(ips.code, 0, "{}", ips.both());
    let ips: serde_json::Value = serde_json::from_str(&ips.stdout).expect("json");
    assert_eq!(ips.as_array().map(Vec::len), Some(2));
    assert_eq!(
        ips[0].as_array().map(Vec::len),
        Some(4),
        "four hosts: {ips}"
    );

    stack.assert_no_changes();
    stack.destroy();
    assert_eq!(
        fake.python("print(names(compute.networks().list(project=PROJECT)) + names(compute.routers().list(project=PROJECT, region='us-west4')) + [n['name'] for n in tpu.projects().locations().nodes().list(parent=f'projects/{PROJECT}/locations/us-west4-a').execute().get('nodes', [])] + [a['email'] for a in iam.projects().serviceAccounts().list(name=f'projects/{PROJECT}').execute().get('accounts', [])])"),
        "[]"
    );
    let policy = fake.python_json(
        "crm.projects().getIamPolicy(resource=f'projects/{PROJECT}', body={}).execute()",
    );
    assert_eq!(policy["bindings"], json!([]));
    assert_eq!(
        fake.python("print([i['name'] for i in filestore.projects().locations().instances().list(parent=f'projects/{PROJECT}/locations/us-west4-a').execute().get('instances', [])] + [i['name'] for i in notebooks.projects().locations().instances().list(parent=f'projects/{PROJECT}/locations/us-west4-a').execute().get('instances', [])])"),
        "[]"
    );
    assert_eq!(
        fake.python("print(storage.buckets().list(project=PROJECT).execute().get('items', []))"),
        "[]"
    );
    assert!(stack.state_addresses().is_empty());
}

/// examples/inference-gcp against the fake: a private GKE cluster whose default pool is
/// gone and whose L4 pool autoscales from 1 to 8, read back by Google's client; a clean
/// plan; a destroy to nothing.
#[test]
fn the_inference_example_applies_reads_back_and_destroys_to_nothing() {
    let fake = Fake::start(0.1);
    let stack = fake.stack();
    stack.write(&without_provider("inference-gcp"));
    let run = stack.apply();
    assert!(
        run.stdout
            .contains("nodes = \"1 to 8 x g2-standard-4 in us-central1-a\""),
        "{}",
        run.stdout
    );
    let pools = fake.python_json(
        "container.projects().locations().clusters().nodePools().list(parent=f'projects/{PROJECT}/locations/us-central1/clusters/inference').execute()['nodePools']",
    );
    assert_eq!(pools.as_array().map(Vec::len), Some(1), "{pools}");
    let pool = &pools[0];
    assert_eq!(pool["name"], "inference-gpu");
    assert_eq!(pool["config"]["machineType"], "g2-standard-4");
    assert_eq!(
        pool["config"]["accelerators"][0]["acceleratorType"],
        "nvidia-l4"
    );
    assert_eq!(pool["autoscaling"]["minNodeCount"], 1);
    assert_eq!(pool["autoscaling"]["maxNodeCount"], 8);
    assert_eq!(
        pool["config"]["serviceAccount"],
        "inference-nodes@gantry-test.iam.gserviceaccount.com"
    );
    let cluster = fake.python_json(
        "container.projects().locations().clusters().get(name=f'projects/{PROJECT}/locations/us-central1/clusters/inference').execute()",
    );
    assert_eq!(cluster["privateClusterConfig"]["enablePrivateNodes"], true);
    assert_eq!(
        cluster["ipAllocationPolicy"]["clusterSecondaryRangeName"],
        "pods"
    );
    stack.assert_no_changes();
    stack.destroy();
    assert_eq!(
        fake.python("print([c['name'] for c in container.projects().locations().clusters().list(parent=f'projects/{PROJECT}/locations/-').execute().get('clusters', [])] + names(compute.networks().list(project=PROJECT)))"),
        "[]"
    );
    assert!(stack.state_addresses().is_empty());
}

/// SIGKILL in the middle of examples/llm-training-gcp's apply (while the TPU slices' creates
/// run), then apply again: every object the fake holds is in state exactly once, and the
/// state names nothing the fake lacks.
#[test]
fn the_tpu_training_example_killed_mid_apply_then_applied_again_tracks_every_object_once() {
    let fake = Fake::start(1.0);
    let stack = fake.stack_with(&format!(
        "storage_custom_endpoint = \"{}/storage/storage/v1/\"",
        fake.base()
    ));
    stack.write(&without_provider("llm-training-gcp"));
    let mut child = stack
        .command(&["apply", "--auto-approve"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawn gantry");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let state = fake.admin("GET", "/_fake/state", None);
        let slices_running = state["operations"].as_object().is_some_and(|ops| {
            ops.values().any(|op| {
                op["done"] == false
                    && op["metadata"]["target"]
                        .as_str()
                        .is_some_and(|t| t.contains("/nodes/"))
            })
        });
        if slices_running {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the slices' creates never ran"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let _ = child.kill(); // SIGKILL
    let _ = child.wait();

    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "apply after the kill failed:\n{}", run.both());
    let held = fake.python(
        "print(' '.join(sorted(\
           [f'net:{n}' for n in names(compute.networks().list(project=PROJECT))]\
         + [f'sub:{n}' for n in names(compute.subnetworks().list(project=PROJECT, region='us-west4'))]\
         + [f'fw:{n}' for n in names(compute.firewalls().list(project=PROJECT))]\
         + [f'router:{n}' for n in names(compute.routers().list(project=PROJECT, region='us-west4'))]\
         + [f'tpu:{n[\"name\"].rsplit(\"/\", 1)[1]}' for n in tpu.projects().locations().nodes().list(parent=f'projects/{PROJECT}/locations/us-west4-a').execute().get('nodes', [])]\
         + [f'file:{i[\"name\"].rsplit(\"/\", 1)[1]}' for i in filestore.projects().locations().instances().list(parent=f'projects/{PROJECT}/locations/us-west4-a').execute().get('instances', [])]\
         + [f'nb:{i[\"name\"].rsplit(\"/\", 1)[1]}' for i in notebooks.projects().locations().instances().list(parent=f'projects/{PROJECT}/locations/us-west4-a').execute().get('instances', [])]\
         + [f'bucket:{b[\"name\"]}' for b in storage.buckets().list(project=PROJECT).execute().get('items', [])]\
         + [f'sa:{a[\"email\"].split(\"@\")[0]}' for a in iam.projects().serviceAccounts().list(name=f'projects/{PROJECT}').execute().get('accounts', [])])))",
    );
    let kinds = [
        ("google_compute_network", "net"),
        ("google_compute_subnetwork", "sub"),
        ("google_compute_firewall", "fw"),
        ("google_compute_router", "router"),
        ("google_tpu_v2_vm", "tpu"),
        ("google_filestore_instance", "file"),
        ("google_workbench_instance", "nb"),
        ("google_storage_bucket", "bucket"),
        ("google_service_account", "sa"),
    ];
    let mut tracked: Vec<String> = stack
        .state_addresses()
        .iter()
        .filter_map(|address| {
            let (_, prefix) = kinds
                .iter()
                .find(|(t, _)| address.contains(&format!("{t}.")))?;
            let attr = if *prefix == "sa" {
                "account_id"
            } else {
                "name"
            };
            let name = stack.state_attr(address, attr);
            Some(format!("{prefix}:{}", name.as_str().unwrap_or_default()))
        })
        .collect();
    tracked.sort();
    let mut held: Vec<String> = held.split_whitespace().map(str::to_owned).collect();
    held.sort();
    assert_eq!(
        tracked, held,
        "state and the fake hold the same objects, once each"
    );
    assert_eq!(held.len(), 12, "{held:?}");
    stack.assert_no_changes();
}

//! GKE (`google_container_cluster`, `google_container_node_pool`) through the container
//! API's own operations: a private, VPC-native cluster with workload identity whose default
//! pool is removed, an H100 pool and a TPU v5e slice pool made at once on one cluster (GKE
//! runs one operation per cluster: they take turns), read back by Google's client,
//! resized and relabelled in place, destroyed; a stockout is a Capacity error naming the
//! zone; a TPU topology that does not fit the node count fails the plan.

use crate::support::{block_on, op, planned, provider, Fake};
use gantry_provider::{ErrorClass, Provider, Value};

const CLUSTER: &str = r#"
resource "google_container_cluster" "train" {
  name                     = "train"
  location                 = "us-central1"
  remove_default_node_pool = true
  initial_node_count       = 1
  deletion_protection      = false
  resource_labels          = { team = "ml" }

  release_channel {
    channel = "REGULAR"
  }

  workload_identity_config {
    workload_pool = "gantry-test.svc.id.goog"
  }

  private_cluster_config {
    enable_private_nodes   = true
    master_ipv4_cidr_block = "172.16.0.0/28"
  }

  ip_allocation_policy {
    cluster_ipv4_cidr_block  = "10.64.0.0/14"
    services_ipv4_cidr_block = "10.68.0.0/20"
  }
}

resource "google_container_node_pool" "h100" {
  name       = "h100"
  cluster    = google_container_cluster.train.name
  location   = "us-central1"
  node_count = 2

  node_config {
    machine_type = "a3-highgpu-8g"
    spot         = true
    labels       = { pool = "h100" }

    guest_accelerator {
      type  = "nvidia-h100-80gb"
      count = 8
      gpu_driver_installation_config {
        gpu_driver_version = "LATEST"
      }
    }
  }

  placement_policy {
    type = "COMPACT"
  }
}

resource "google_container_node_pool" "tpu" {
  name           = "v5e"
  cluster        = google_container_cluster.train.id
  node_locations = ["us-central1-a"]
  node_count     = 4

  node_config {
    machine_type = "ct5lp-hightpu-4t"
  }

  placement_policy {
    type         = "COMPACT"
    tpu_topology = "4x4"
  }
}
"#;

fn get(fake: &Fake, name: &str) -> serde_json::Value {
    fake.python_json(&format!(
        "container.projects().locations().clusters(){}.get(name=f'projects/{{PROJECT}}/locations/us-central1/clusters/{name}').execute()",
        if name.contains("/nodePools/") { ".nodePools()" } else { "" }
    ))
}

fn clusters(fake: &Fake) -> String {
    fake.python(
        "print(sorted(c['name'] for c in container.projects().locations().clusters().list(parent=f'projects/{PROJECT}/locations/-').execute().get('clusters', [])))",
    )
}

fn pools(fake: &Fake) -> String {
    fake.python(
        "print(sorted(p['name'] for p in container.projects().locations().clusters().nodePools().list(parent=f'projects/{PROJECT}/locations/us-central1/clusters/train').execute().get('nodePools', [])))",
    )
}

#[test]
fn a_gke_cluster_with_gpu_and_tpu_pools_is_made_changed_and_destroyed() {
    let fake = Fake::start(0.3);
    let stack = fake.stack();
    stack.write(CLUSTER);
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2, "{}", plan.both());
    assert!(
        plan.stdout.contains("2 x a3-highgpu-8g spot"),
        "the plan prices the GPU pool:\n{}",
        plan.stdout
    );

    stack.apply();
    let cluster = get(&fake, "train");
    assert_eq!(cluster["status"], "RUNNING");
    assert_eq!(cluster["releaseChannel"]["channel"], "REGULAR");
    assert_eq!(
        cluster["workloadIdentityConfig"]["workloadPool"],
        "gantry-test.svc.id.goog"
    );
    assert_eq!(cluster["privateClusterConfig"]["enablePrivateNodes"], true);
    assert_eq!(cluster["resourceLabels"]["team"], "ml");
    assert!(cluster["resourceLabels"].get("gantry-token").is_some());
    assert_eq!(
        pools(&fake),
        "['h100', 'v5e']",
        "the default pool is removed, both pools made"
    );
    let h100 = get(&fake, "train/nodePools/h100");
    assert_eq!(h100["config"]["machineType"], "a3-highgpu-8g");
    assert_eq!(h100["config"]["spot"], true);
    assert_eq!(
        h100["config"]["accelerators"][0]["acceleratorType"],
        "nvidia-h100-80gb"
    );
    assert_eq!(
        h100["config"]["accelerators"][0]["gpuDriverInstallationConfig"]["gpuDriverVersion"],
        "LATEST"
    );
    assert_eq!(h100["placementPolicy"]["type"], "COMPACT");
    assert!(h100["config"]["resourceLabels"]
        .get("gantry-token")
        .is_some());
    let tpu = get(&fake, "train/nodePools/v5e");
    assert_eq!(tpu["placementPolicy"]["tpuTopology"], "4x4");
    assert_eq!(tpu["initialNodeCount"], 4);
    assert_eq!(
        stack.state_attr("google_container_node_pool.tpu", "id"),
        "projects/gantry-test/locations/us-central1/clusters/train/nodePools/v5e"
    );
    stack.assert_no_changes();

    // Labels of the cluster and of the GPU nodes change in place.
    let relabelled = CLUSTER
        .replace("{ team = \"ml\" }", "{ team = \"ml\", run = \"r2\" }")
        .replace("{ pool = \"h100\" }", "{ pool = \"h100\", gen = \"a3\" }");
    stack.write(&relabelled);
    let (_, plan) = stack.plan_code();
    for address in [
        "google_container_cluster.train will be updated in-place",
        "google_container_node_pool.h100 will be updated in-place",
    ] {
        assert!(plan.stdout.contains(address), "{}", plan.stdout);
    }
    stack.apply();
    let cluster = get(&fake, "train");
    assert_eq!(cluster["resourceLabels"]["run"], "r2");
    assert_eq!(
        get(&fake, "train/nodePools/h100")["config"]["labels"]["gen"],
        "a3"
    );
    stack.assert_no_changes();

    // Autoscaling on the GPU pool: set in place.
    stack.write(&relabelled.replace(
        "  node_count = 2\n",
        "  autoscaling {\n    min_node_count = 0\n    max_node_count = 4\n  }\n",
    ));
    stack.apply();
    let h100 = get(&fake, "train/nodePools/h100");
    assert_eq!(h100["autoscaling"]["enabled"], true);
    assert_eq!(h100["autoscaling"]["maxNodeCount"], 4);
    stack.assert_no_changes();

    stack.destroy();
    assert_eq!(clusters(&fake), "[]");
    assert!(stack.state_addresses().is_empty());
}

/// `addons_config` (the storage CSI drivers and the Ray operator a training cluster turns
/// on) and `master_authorized_networks_config`: sent on create, changed in place, read back
/// through google-api-python-client, a clean plan after each; a range that is not CIDR is
/// refused at plan.
#[test]
fn a_clusters_addons_and_authorized_networks_are_made_and_changed_in_place() {
    let fake = Fake::start(0.1);
    let stack = fake.stack();
    let cluster = &CLUSTER[..CLUSTER
        .find("resource \"google_container_node_pool\"")
        .expect("a pool")];
    let with = |addons: &str, networks: &str| {
        cluster.replacen(
            "  release_channel {",
            &format!("  addons_config {{\n{addons}  }}\n\n  master_authorized_networks_config {{\n{networks}  }}\n\n  release_channel {{"),
            1,
        )
    };
    stack.write(&with(
        "    gcs_fuse_csi_driver_config {\n      enabled = true\n    }\n    ray_operator_config {\n      enabled = true\n    }\n",
        "    cidr_blocks {\n      cidr_block   = \"10.0.0.0/8\"\n      display_name = \"corp\"\n    }\n",
    ));
    stack.apply();
    let made = get(&fake, "train");
    assert_eq!(
        made["addonsConfig"]["gcsFuseCsiDriverConfig"]["enabled"],
        true
    );
    assert_eq!(made["addonsConfig"]["rayOperatorConfig"]["enabled"], true);
    assert_eq!(made["masterAuthorizedNetworksConfig"]["enabled"], true);
    assert_eq!(
        made["masterAuthorizedNetworksConfig"]["cidrBlocks"],
        serde_json::json!([{"cidrBlock": "10.0.0.0/8", "displayName": "corp"}])
    );
    stack.assert_no_changes();

    // Ray off, Filestore's driver on, a second range: changed in place, not replaced.
    stack.write(&with(
        "    gcs_fuse_csi_driver_config {\n      enabled = true\n    }\n    ray_operator_config {\n      enabled = false\n    }\n    gcp_filestore_csi_driver_config {\n      enabled = true\n    }\n",
        "    cidr_blocks {\n      cidr_block   = \"10.0.0.0/8\"\n      display_name = \"corp\"\n    }\n    cidr_blocks {\n      cidr_block = \"192.168.0.0/16\"\n    }\n",
    ));
    let plan = stack.gantry(&["plan"]);
    assert!(
        plan.stdout.contains("will be updated in-place")
            && !plan.stdout.contains("must be replaced"),
        "{}",
        plan.both()
    );
    stack.apply();
    let changed = get(&fake, "train");
    // Off is proto3's default, which its JSON leaves out.
    assert!(changed["addonsConfig"]["rayOperatorConfig"].is_object());
    assert_ne!(
        changed["addonsConfig"]["rayOperatorConfig"]["enabled"],
        true
    );
    assert_eq!(
        changed["addonsConfig"]["gcpFilestoreCsiDriverConfig"]["enabled"],
        true
    );
    assert_eq!(
        changed["masterAuthorizedNetworksConfig"]["cidrBlocks"][1]["cidrBlock"],
        "192.168.0.0/16"
    );
    stack.assert_no_changes();

    stack.write(&with(
        "",
        "    cidr_blocks {\n      cidr_block = \"10.0.0.0\"\n    }\n",
    ));
    let refused = stack.gantry(&["plan"]);
    assert_ne!(refused.code, 0, "{}", refused.both());
    assert!(
        refused
            .stderr
            .contains("\"10.0.0.0\" is not an IPv4 CIDR range"),
        "{}",
        refused.both()
    );
    stack.write(cluster);
    stack.destroy();
    assert_eq!(clusters(&fake), "[]");
}

#[test]
fn deletion_protection_refuses_the_destroy_until_it_is_turned_off() {
    let fake = Fake::start(0.0);
    let stack = fake.stack();
    let protected = r#"
resource "google_container_cluster" "c" {
  name     = "keep"
  location = "us-central1"
}
"#;
    stack.write(protected);
    stack.apply();
    let run = stack.gantry(&["destroy", "--auto-approve"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("deletion_protection = false"),
        "{}",
        run.both()
    );
    assert_eq!(clusters(&fake), "['keep']");
    stack.write(&protected.replace(
        "  location = \"us-central1\"\n",
        "  location = \"us-central1\"\n  deletion_protection = false\n",
    ));
    stack.apply();
    stack.destroy();
    assert_eq!(clusters(&fake), "[]");
}

/// No H100s left in the zone: the pool's operation finishes with code 8 GCE_STOCKOUT,
/// which is a Capacity error naming the zone, and no pool is recorded.
#[test]
fn a_node_pool_stockout_is_a_capacity_error() {
    let fake = Fake::start(0.1);
    let stack = fake.stack();
    stack.write(
        &CLUSTER.replace(
            &CLUSTER[CLUSTER
                .find("resource \"google_container_node_pool\" \"tpu\"")
                .unwrap_or(0)..],
            "",
        ),
    );
    fake.admin(
        "POST",
        "/_fake/faults",
        Some(serde_json::json!({"method": "container.projects.locations.clusters.nodePools.create", "zone": "us-central1", "kind": "stockout"})),
    );
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0);
    assert!(run.stderr.contains("capacity"), "{}", run.both());
    assert!(run.stderr.contains("us-central1"), "{}", run.both());
    assert!(stack
        .state_addresses()
        .contains(&"google_container_cluster.train".to_owned()));
    assert!(!stack
        .state_addresses()
        .contains(&"google_container_node_pool.h100".to_owned()));
}

#[test]
fn a_tpu_topology_that_does_not_fit_the_nodes_fails_the_plan() {
    let fake = Fake::start(0.0);
    let stack = fake.stack();
    stack.write(&CLUSTER.replace("node_count     = 4", "node_count     = 2"));
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0);
    assert!(
        run.stderr.contains("takes 4 nodes, not 2"),
        "{}",
        run.both()
    );
    assert_eq!(clusters(&fake), "[]", "nothing is created");
}

/// The create's answer lost: a pool of that name is this create's only when its nodes'
/// resource labels carry this create's marks.
#[test]
fn find_created_adopts_a_node_pool_only_by_its_labels() {
    let fake = Fake::start(0.0);
    block_on(async {
        let google = provider(&fake).await;
        let cluster = Value::map([
            ("name", Value::string("c")),
            ("location", Value::string("us-central1")),
            ("deletion_protection", Value::Bool(false)),
        ]);
        let ctx = op("stack-a", "google_container_cluster.c", None);
        let plan = planned(&google, "google_container_cluster", &cluster);
        google
            .create(&ctx, "google_container_cluster", &plan)
            .await
            .expect("cluster");
        let pool = Value::map([
            ("name", Value::string("p")),
            ("cluster", Value::string("c")),
            ("location", Value::string("us-central1")),
            ("node_count", Value::Number(1.0)),
        ]);
        let token = "3a1d3c2a-8b7e-4c9d-a1f0-2e3d4c5b6a73";
        let ctx = op("stack-a", "google_container_node_pool.p", Some(token));
        let plan = planned(&google, "google_container_node_pool", &pool);
        google
            .create(&ctx, "google_container_node_pool", &plan)
            .await
            .expect("pool");
        let found = google
            .find_created(&ctx, "google_container_node_pool", token, &plan)
            .await
            .expect("ask");
        assert!(found.is_some(), "its own pool, by its labels");
        let other_token = "4b1d3c2a-8b7e-4c9d-a1f0-2e3d4c5b6a74";
        let other = op("stack-a", "google_container_node_pool.p", Some(other_token));
        let found = google
            .find_created(&other, "google_container_node_pool", other_token, &plan)
            .await
            .expect("ask");
        assert!(found.is_none(), "another create's pool is never adopted");
        let err = google
            .create(&other, "google_container_node_pool", &plan)
            .await
            .expect_err("the name is taken");
        assert_eq!(err.class, ErrorClass::Conflict, "{err:?}");
    });
}

/// GKE's TPU nodes draw on the region's Compute Engine quota (`TPU_LITE_PODSLICE_V5`, from
/// `regions.get`, usage counted from the pools that run): a 16-chip slice pool does not
/// fit in 8 chips, and the plan fails before anything is created, naming the metric.
#[test]
fn a_tpu_pool_over_the_regions_chip_quota_fails_the_plan_before_anything_is_made() {
    let fake = Fake::start(0.0);
    fake.admin(
        "POST",
        "/_fake/quotas",
        Some(serde_json::json!({"region": "us-central1", "metric": "TPU_LITE_PODSLICE_V5", "limit": 8})),
    );
    let stack = fake.stack();
    let run = {
        stack.write(CLUSTER);
        stack.gantry(&["apply", "--auto-approve"])
    };
    assert_ne!(run.code, 0, "{}", run.both());
    let text = run.both();
    assert!(text.contains("TPU_LITE_PODSLICE_V5"), "{text}");
    assert!(text.contains("16"), "the need is named: {text}");
    assert!(
        text.contains("console.cloud.google.com/iam-admin/quotas"),
        "{text}"
    );
    assert_eq!(clusters(&fake), "[]", "nothing is created");
    assert!(stack.state_addresses().is_empty());
}

/// The shipped modules together on GKE: gcp/network, gcp/gpu-cluster (an H100 pool) and
/// gcp/tpu-slice with `platform = "gke"` (a v5e 4x4 slice as four ct5lp-hightpu-4t nodes)
/// applied against the fake, read back, planned clean and destroyed to nothing.
#[test]
fn the_gke_modules_make_a_cluster_with_gpu_and_tpu_slice_pools() {
    let fake = Fake::start(0.1);
    let stack = fake.stack();
    stack.write(
        r#"
module "network" {
  source = "gantry/gcp/network"
  name   = "train"
  region = "us-central1"
}

module "gke" {
  source              = "gantry/gcp/gpu-cluster"
  name                = "train"
  project             = "gantry-test"
  nodes               = 1
  spot                = true
  deletion_protection = false
  network             = module.network.network_id
  subnetwork          = module.network.subnetwork_id
  pods_range_name     = module.network.pods_range_name
  services_range_name = module.network.services_range_name
}

module "tpu" {
  source      = "gantry/gcp/tpu-slice"
  name        = "v5e"
  accelerator = "tpu-v5e:16"
  region      = "us-central1"
  platform    = "gke"
  cluster     = module.gke.cluster_id
}

output "tpu_nodes" {
  value = "${module.tpu.gke_nodes} x ${module.tpu.gke_machine_type}"
}
"#,
    );
    let run = stack.apply();
    assert!(
        run.stdout.contains("tpu_nodes = \"4 x ct5lp-hightpu-4t\""),
        "{}",
        run.stdout
    );
    assert_eq!(pools(&fake), "['train-gpu', 'v5e']");
    let slice = get(&fake, "train/nodePools/v5e");
    assert_eq!(slice["placementPolicy"]["tpuTopology"], "4x4");
    assert_eq!(slice["config"]["machineType"], "ct5lp-hightpu-4t");
    assert_eq!(slice["initialNodeCount"], 4);
    let gpu = get(&fake, "train/nodePools/train-gpu");
    assert_eq!(gpu["config"]["machineType"], "a3-highgpu-8g");
    assert_eq!(gpu["config"]["taints"][0]["key"], "nvidia.com/gpu");
    assert_eq!(
        get(&fake, "train")["ipAllocationPolicy"]["servicesSecondaryRangeName"],
        "services"
    );
    stack.assert_no_changes();
    stack.destroy();
    assert_eq!(clusters(&fake), "[]");
    assert!(stack.state_addresses().is_empty());
}

/// A pool without `node_locations` in a regional cluster that exists goes where the
/// cluster's nodes go (its `locations`, read from GKE at plan): the cluster here was made
/// with Google's client in us-central1-a and -f, and -f has no H100s. In a cluster with
/// GKE's default zones the same pool plans.
#[test]
fn a_regional_pool_is_checked_in_its_existing_clusters_zones() {
    let fake = Fake::start(0.1);
    for (name, locations) in [
        ("edge", "['us-central1-a', 'us-central1-f']"),
        ("main", "[]"),
    ] {
        fake.python(&format!(
            "op = container.projects().locations().clusters().create(parent=f'projects/{{PROJECT}}/locations/us-central1', body={{'cluster': {{'name': '{name}', 'initialNodeCount': 1, 'locations': {locations}}}}}).execute()\nfor _ in range(200):\n    if container.projects().locations().operations().get(name=f\"projects/{{PROJECT}}/locations/us-central1/operations/{{op['name']}}\").execute()['status'] == 'DONE':\n        break\n    time.sleep(0.05)"
        ));
    }
    let pool = |cluster: &str| {
        format!(
            "resource \"google_container_node_pool\" \"h100\" {{\n  name       = \"h100\"\n  cluster    = \"projects/gantry-test/locations/us-central1/clusters/{cluster}\"\n  node_count = 1\n\n  node_config {{\n    machine_type = \"a3-highgpu-8g\"\n  }}\n}}\n"
        )
    };
    let stack = fake.stack();
    stack.write(&pool("edge"));
    let run = stack.gantry(&["plan"]);
    assert_ne!(run.code, 0, "{}", run.both());
    assert!(
        run.stderr
            .contains("Compute Engine offers no nvidia-h100-80gb in zone us-central1-f"),
        "{}",
        run.both()
    );
    stack.write(&pool("main"));
    let run = stack.gantry(&["plan"]);
    assert_eq!(run.code, 0, "{}", run.both());
}

/// The GPUs of a node pool are looked up in its zones at plan: its `node_locations`, or the
/// zone of a zonal cluster's pool. The fake's us-central1-f has no H100s.
#[test]
fn a_node_pool_whose_zone_lacks_its_gpus_fails_the_plan_before_anything_is_made() {
    let fake = Fake::start(0.1);
    let stack = fake.stack();
    let zonal = CLUSTER
        .replace(
            "location                 = \"us-central1\"",
            "location                 = \"us-central1-f\"",
        )
        .replace(
            "location   = \"us-central1\"",
            "location   = \"us-central1-f\"",
        );
    let without_tpu = &zonal[..zonal
        .find("resource \"google_container_node_pool\" \"tpu\"")
        .expect("tpu pool")];
    for (what, hcl) in [
        ("a zonal cluster's pool", without_tpu.to_owned()),
        (
            "a regional pool with node_locations",
            CLUSTER[..CLUSTER
                .find("resource \"google_container_node_pool\" \"tpu\"")
                .expect("tpu pool")]
                .replace(
                    "  node_count = 2\n",
                    "  node_count = 2\n  node_locations = [\"us-central1-a\", \"us-central1-f\"]\n",
                ),
        ),
    ] {
        stack.write(&hcl);
        let run = stack.gantry(&["plan"]);
        assert_ne!(run.code, 0, "{what}: {}", run.both());
        assert!(
            run.stderr
                .contains("Compute Engine offers no nvidia-h100-80gb in zone us-central1-f"),
            "{what}: {}",
            run.both()
        );
        let refused = stack.gantry(&["apply", "--auto-approve"]);
        assert_ne!(refused.code, 0, "{what}: {}", refused.both());
        assert_eq!(clusters(&fake), "[]", "{what}: a cluster was made");
    }
}

fn v6e_pool(name: &str, nodes: u32) -> String {
    format!(
        r#"
resource "google_container_node_pool" "{name}" {{
  name           = "{name}"
  cluster        = google_container_cluster.v6e.id
  node_locations = ["us-east1-d"]
  node_count     = {nodes}

  node_config {{
    machine_type = "ct6e-standard-4t"
  }}

  placement_policy {{
    type         = "COMPACT"
    tpu_topology = "4x{topology}"
  }}
}}
"#,
        topology = nodes
    )
}

const V6E_CLUSTER: &str = r#"
resource "google_container_cluster" "v6e" {
  name                     = "v6e"
  location                 = "us-east1"
  remove_default_node_pool = true
  initial_node_count       = 1
  deletion_protection      = false
}
"#;

/// GKE's v6e TPU nodes draw on a Compute Engine quota that only the Cloud Quotas API
/// reports (`TPU-V6E-per-project-region`, limits without usage): the plan reads the
/// region's limit there, counts the chips of the v6e pools already running in the region
/// (clusters.list), and fails a pool that does not fit before anything is made.
#[test]
fn a_v6e_pool_over_the_regions_cloud_quotas_limit_fails_the_plan_counting_the_pools_that_run() {
    let fake = Fake::start(0.0);
    fake.admin(
        "POST",
        "/_fake/quotas",
        Some(serde_json::json!({"service": "compute.googleapis.com",
                                "quota_id": "TPU-V6E-per-project-region",
                                "location": "us-east1", "limit": 24})),
    );
    let stack = fake.stack();
    stack.write(&format!("{V6E_CLUSTER}{}", v6e_pool("first", 4)));
    stack.apply();

    stack.write(&format!(
        "{V6E_CLUSTER}{}{}",
        v6e_pool("first", 4),
        v6e_pool("second", 4)
    ));
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_ne!(run.code, 0, "{}", run.both());
    let text = run.both();
    assert!(text.contains("TPU-V6E-per-project-region"), "{text}");
    assert!(text.contains("us-east1"), "{text}");
    assert!(
        text.contains(
            "limit 24 TPU chips, in use 16 TPU chips, free 8 TPU chips, needed 16 TPU chips"
        ),
        "the running pool's 4 nodes x 4 chips are counted: {text}"
    );
    assert!(
        text.contains("--quota-id=TPU-V6E-per-project-region --preferred-value=32 --dimensions=region=us-east1"),
        "{text}"
    );
    let names = fake.python(
        "print(sorted(p['name'] for p in container.projects().locations().clusters().nodePools().list(parent=f'projects/{PROJECT}/locations/us-east1/clusters/v6e').execute().get('nodePools', [])))",
    );
    assert_eq!(names, "['first']", "nothing more is made");

    // The running pool is counted at the size its instance group holds: shrunk to two
    // nodes outside gantry, it holds 8 chips, and the plan needs 8 to grow it back to its
    // written four nodes besides the second pool's 16.
    resize_pool_group(&fake, "us-east1/clusters/v6e/nodePools/first", 2);
    let run = stack.gantry(&["plan"]);
    assert!(
        run.both().contains(
            "limit 24 TPU chips, in use 8 TPU chips, free 16 TPU chips, needed 24 TPU chips"
        ),
        "{}",
        run.both()
    );
    stack.destroy();
}

/// A pool's current size lives in its Compute Engine instance groups, not in the NodePool:
/// a pool resized outside gantry (`instanceGroupManagers.resize`, as `gcloud container
/// clusters resize` does) reads back at its new size, the plan sets it back, and after
/// that the groups hold the written count again.
#[test]
fn a_pool_resized_outside_gantry_shows_as_a_change_and_is_set_back() {
    let fake = Fake::start(0.0);
    let stack = fake.stack();
    stack.write(
        r#"
resource "google_container_cluster" "c" {
  name                     = "sized"
  location                 = "us-central1-a"
  remove_default_node_pool = true
  initial_node_count       = 1
  deletion_protection      = false
}

resource "google_container_node_pool" "workers" {
  name       = "workers"
  cluster    = google_container_cluster.c.id
  node_count = 2

  node_config {
    machine_type = "n2-standard-8"
  }
}
"#,
    );
    stack.apply();
    assert_eq!(
        stack.state_attr("google_container_node_pool.workers", "node_count"),
        2
    );
    stack.assert_no_changes();
    let pool = "us-central1-a/clusters/sized/nodePools/workers";
    resize_pool_group(&fake, pool, 5);
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2, "the resize is seen:\n{}", plan.both());
    assert!(plan.stdout.contains("node_count"), "{}", plan.stdout);
    assert!(
        plan.stdout.contains("5 -> 2") && plan.stdout.contains("updated in-place"),
        "{}",
        plan.stdout
    );
    stack.apply();
    let size = pool_group_size(&fake, pool);
    assert_eq!(size, "2", "the pool is set back to the written count");
    stack.assert_no_changes();
    stack.destroy();
}

/// Python that finds the first instance group of the node pool `pool`
/// (`<location>/clusters/<cluster>/nodePools/<name>`) as `zone` and `name`.
fn pool_group(pool: &str) -> String {
    format!(
        "g = container.projects().locations().clusters().nodePools().get(name=f'projects/{{PROJECT}}/locations/{pool}').execute()['instanceGroupUrls'][0]\nzone, name = g.split('/zones/')[1].split('/instanceGroupManagers/')\n"
    )
}

/// Resizes the pool's first instance group through Compute Engine, as `gcloud container
/// clusters resize` does, outside gantry.
fn resize_pool_group(fake: &Fake, pool: &str, size: u32) {
    fake.python(&format!(
        "{}op = compute.instanceGroupManagers().resize(project=PROJECT, zone=zone, instanceGroupManager=name, size={size}).execute()\nwhile op['status'] != 'DONE':\n    op = compute.zoneOperations().wait(project=PROJECT, zone=zone, operation=op['name']).execute()\n",
        pool_group(pool)
    ));
}

/// The target size of the pool's first instance group, as Compute Engine reports it.
fn pool_group_size(fake: &Fake, pool: &str) -> String {
    fake.python(&format!(
        "{}print(compute.instanceGroupManagers().get(project=PROJECT, zone=zone, instanceGroupManager=name).execute()['targetSize'])",
        pool_group(pool)
    ))
}

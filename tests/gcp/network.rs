//! VPC networks, subnetworks and firewall rules: created, read back by Google's client,
//! planned again with no changes, changed in place where the API allows, replaced where
//! it does not, destroyed to nothing.

use crate::support::Fake;

const STACK: &str = r#"
resource "google_compute_network" "vpc" {
  name                    = "train-vpc"
  auto_create_subnetworks = false
  mtu                     = 8896
  routing_mode            = "REGIONAL"
}

resource "google_compute_subnetwork" "nodes" {
  name          = "train-nodes"
  network       = google_compute_network.vpc.id
  ip_cidr_range = "10.10.0.0/20"

  secondary_ip_range {
    range_name    = "pods"
    ip_cidr_range = "10.64.0.0/14"
  }
}

resource "google_compute_firewall" "nccl" {
  name          = "train-nccl"
  network       = google_compute_network.vpc.name
  source_ranges = [google_compute_subnetwork.nodes.ip_cidr_range]
  target_tags   = ["gpu"]

  allow {
    protocol = "tcp"
    ports    = ["0-65535"]
  }
  allow {
    protocol = "udp"
  }
}
"#;

#[test]
fn a_network_with_a_subnetwork_and_a_firewall_is_created_changed_and_destroyed() {
    let fake = Fake::start(0.3);
    let stack = fake.stack();
    stack.write(STACK);
    stack.apply();

    let net =
        fake.python_json("compute.networks().get(project=PROJECT, network='train-vpc').execute()");
    assert_eq!(net["mtu"], 8896);
    assert_eq!(net["autoCreateSubnetworks"], false);
    assert_eq!(net["routingConfig"]["routingMode"], "REGIONAL");
    assert_eq!(
        stack.state_attr("google_compute_network.vpc", "id"),
        "projects/gantry-test/global/networks/train-vpc"
    );
    assert_eq!(
        stack.state_attr("google_compute_network.vpc", "self_link"),
        net["selfLink"]
    );
    let sub = fake.python_json(
        "compute.subnetworks().get(project=PROJECT, region=REGION, subnetwork='train-nodes').execute()",
    );
    assert_eq!(sub["ipCidrRange"], "10.10.0.0/20");
    assert_eq!(sub["network"], net["selfLink"]);
    assert_eq!(sub["secondaryIpRanges"][0]["rangeName"], "pods");
    assert_eq!(
        stack.state_attr("google_compute_subnetwork.nodes", "gateway_address"),
        "10.10.0.1"
    );
    let fw = fake
        .python_json("compute.firewalls().get(project=PROJECT, firewall='train-nccl').execute()");
    assert_eq!(fw["sourceRanges"], serde_json::json!(["10.10.0.0/20"]));
    assert_eq!(fw["targetTags"], serde_json::json!(["gpu"]));
    assert_eq!(fw["direction"], "INGRESS");
    let mut protocols: Vec<&str> = fw["allowed"]
        .as_array()
        .expect("allowed")
        .iter()
        .filter_map(|r| r["IPProtocol"].as_str())
        .collect();
    protocols.sort_unstable();
    assert_eq!(protocols, ["tcp", "udp"]);

    stack.assert_no_changes();

    // In place: the routing mode, a second secondary range, a wider primary range, Private
    // Google Access and the firewall's ports.
    let changed = STACK
        .replace("routing_mode            = \"REGIONAL\"", "routing_mode            = \"GLOBAL\"")
        .replace("\"10.10.0.0/20\"", "\"10.10.0.0/19\"\n  private_ip_google_access = true")
        .replace(
            "    ip_cidr_range = \"10.64.0.0/14\"\n  }",
            "    ip_cidr_range = \"10.64.0.0/14\"\n  }\n  secondary_ip_range {\n    range_name    = \"services\"\n    ip_cidr_range = \"10.80.0.0/20\"\n  }",
        )
        .replace("ports    = [\"0-65535\"]", "ports    = [\"1-65535\"]");
    stack.write(&changed);
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2);
    assert!(!plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    let subnet_id = sub["id"].clone();
    stack.apply();
    let net =
        fake.python_json("compute.networks().get(project=PROJECT, network='train-vpc').execute()");
    assert_eq!(net["routingConfig"]["routingMode"], "GLOBAL");
    let sub = fake.python_json(
        "compute.subnetworks().get(project=PROJECT, region=REGION, subnetwork='train-nodes').execute()",
    );
    assert_eq!(sub["id"], subnet_id, "changed in place, not replaced");
    assert_eq!(sub["ipCidrRange"], "10.10.0.0/19");
    assert_eq!(sub["privateIpGoogleAccess"], true);
    assert_eq!(sub["secondaryIpRanges"].as_array().map(Vec::len), Some(2));
    let fw = fake
        .python_json("compute.firewalls().get(project=PROJECT, firewall='train-nccl').execute()");
    let tcp = fw["allowed"]
        .as_array()
        .and_then(|rules| rules.iter().find(|r| r["IPProtocol"] == "tcp"))
        .expect("the tcp rule");
    assert_eq!(tcp["ports"], serde_json::json!(["1-65535"]));
    assert_eq!(fw["sourceRanges"], serde_json::json!(["10.10.0.0/19"]));
    stack.assert_no_changes();

    // Moving the primary range is a new subnetwork (and the firewall that follows it is
    // updated in place).
    let moved = changed.replace("\"10.10.0.0/19\"", "\"10.20.0.0/20\"");
    stack.write(&moved);
    let (_, plan) = stack.plan_code();
    assert!(
        plan.stdout
            .contains("google_compute_subnetwork.nodes must be replaced"),
        "{}",
        plan.stdout
    );
    stack.apply();
    let sub = fake.python_json(
        "compute.subnetworks().get(project=PROJECT, region=REGION, subnetwork='train-nodes').execute()",
    );
    assert_ne!(sub["id"], subnet_id);
    assert_eq!(sub["ipCidrRange"], "10.20.0.0/20");
    stack.assert_no_changes();

    stack.destroy();
    let left = fake.python(
        "print(names(compute.networks().list(project=PROJECT)), names(compute.subnetworks().list(project=PROJECT, region=REGION)), names(compute.firewalls().list(project=PROJECT)))",
    );
    assert_eq!(left, "[] [] []");
    assert!(stack.state_addresses().is_empty());
}

#[test]
fn a_network_made_by_hand_is_imported_and_planned_without_changes() {
    let fake = Fake::start(0.0);
    fake.python(
        "wait(compute.networks().insert(project=PROJECT, body={'name': 'legacy', 'autoCreateSubnetworks': False, 'mtu': 1460}).execute())",
    );
    let stack = fake.stack();
    stack.write(
        "resource \"google_compute_network\" \"legacy\" {\n  name = \"legacy\"\n  auto_create_subnetworks = false\n  mtu = 1460\n}\n",
    );
    let run = stack.gantry(&[
        "import",
        "google_compute_network.legacy",
        "projects/gantry-test/global/networks/legacy",
    ]);
    assert_eq!(run.code, 0, "{}", run.both());
    stack.assert_no_changes();
}

/// `google_compute_zones` lists the region's zones that are UP (examples/gcp-gpu-vms fails
/// over through them); `google_client_config` gives the provider's settings and token.
#[test]
fn zones_and_client_config_are_read() {
    let fake = Fake::start(0.0);
    fake.admin(
        "POST",
        "/_fake/zones",
        Some(serde_json::json!({"down": ["us-central1-c"]})),
    );
    let stack = fake.stack();
    stack.write(
        r#"
data "google_compute_zones" "up" {
  status = "UP"
}

data "google_client_config" "me" {}

output "zones" {
  value = data.google_compute_zones.up.names
}

output "project" {
  value = data.google_client_config.me.project
}

output "token_length" {
  value = nonsensitive(length(data.google_client_config.me.access_token))
}
"#,
    );
    stack.apply();
    let zones = stack.gantry(&["output", "zones", "--json"]);
    assert_eq!(zones.code, 0, "{}", zones.both());
    let names: serde_json::Value = serde_json::from_str(zones.stdout.trim()).expect("json");
    assert_eq!(
        names,
        serde_json::json!(["us-central1-a", "us-central1-b", "us-central1-f"])
    );
    let project = stack.gantry(&["output", "project", "--raw"]);
    assert_eq!(project.stdout.trim(), "gantry-test");
    let token = stack.gantry(&["output", "token_length", "--json"]);
    assert_eq!(
        token.stdout.trim(),
        "10",
        "the provider's token, `fake-token`"
    );
}

const NAT_STACK: &str = r#"
resource "google_compute_network" "vpc" {
  name                    = "egress-vpc"
  auto_create_subnetworks = false
}

resource "google_compute_subnetwork" "nodes" {
  name          = "egress-nodes"
  network       = google_compute_network.vpc.id
  ip_cidr_range = "10.30.0.0/20"
}

resource "google_compute_router" "router" {
  name    = "egress-router"
  network = google_compute_network.vpc.id
  bgp {
    asn = 64514
  }
}

resource "google_compute_router_nat" "nat" {
  name                               = "egress-nat"
  router                             = google_compute_router.router.name
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "LIST_OF_SUBNETWORKS"
  min_ports_per_vm                   = 64

  subnetwork {
    name                    = google_compute_subnetwork.nodes.id
    source_ip_ranges_to_nat = ["ALL_IP_RANGES"]
  }
}

resource "google_compute_router_nat" "logged" {
  name                               = "egress-nat-logged"
  router                             = google_compute_router.router.name
  nat_ip_allocate_option             = "AUTO_ONLY"
  source_subnetwork_ip_ranges_to_nat = "ALL_SUBNETWORKS_ALL_PRIMARY_IP_RANGES"

  log_config {
    enable = true
    filter = "ERRORS_ONLY"
  }
}
"#;

/// Cloud NAT lives inside its router: two NATs of one router are added side by side (the
/// router is written back whole under a per-router lock, so neither overwrites the
/// other), one is changed without touching the other, and removing both leaves the
/// router's list empty, all as Google's client reads the router.
#[test]
fn a_router_with_two_nats_is_created_changed_and_destroyed() {
    let fake = Fake::start(0.3);
    let stack = fake.stack();
    stack.write(NAT_STACK);
    stack.apply();

    let router_nats = || {
        fake.python_json(
            "compute.routers().get(project=PROJECT, region=REGION, router='egress-router').execute()",
        )
    };
    let router = router_nats();
    assert_eq!(router["bgp"]["asn"], 64514);
    let mut names: Vec<String> = router["nats"]
        .as_array()
        .expect("nats")
        .iter()
        .filter_map(|n| n["name"].as_str().map(str::to_owned))
        .collect();
    names.sort();
    assert_eq!(names, ["egress-nat", "egress-nat-logged"]);
    let nat = router["nats"]
        .as_array()
        .and_then(|n| n.iter().find(|n| n["name"] == "egress-nat"))
        .expect("egress-nat")
        .clone();
    assert_eq!(nat["minPortsPerVm"], 64);
    assert_eq!(nat["sourceSubnetworkIpRangesToNat"], "LIST_OF_SUBNETWORKS");
    assert!(
        nat["subnetworks"][0]["name"]
            .as_str()
            .is_some_and(|s| s.ends_with("/regions/us-central1/subnetworks/egress-nodes")),
        "{nat}"
    );
    assert_eq!(
        stack.state_attr("google_compute_router_nat.nat", "id"),
        "gantry-test/us-central1/egress-router/egress-nat"
    );
    stack.assert_no_changes();

    // One NAT changed in place; the other is untouched.
    stack.write(&NAT_STACK.replace(
        "min_ports_per_vm                   = 64",
        "min_ports_per_vm                   = 128",
    ));
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2);
    assert!(
        plan.stdout
            .contains("google_compute_router_nat.nat will be updated in-place"),
        "{}",
        plan.stdout
    );
    stack.apply();
    let router = router_nats();
    let nats = router["nats"].as_array().expect("nats");
    assert_eq!(nats.len(), 2, "{router}");
    let nat = nats
        .iter()
        .find(|n| n["name"] == "egress-nat")
        .expect("egress-nat");
    assert_eq!(nat["minPortsPerVm"], 128);
    let logged = nats
        .iter()
        .find(|n| n["name"] == "egress-nat-logged")
        .expect("logged");
    assert_eq!(logged["logConfig"]["filter"], "ERRORS_ONLY");
    stack.assert_no_changes();

    // Both NATs gone leaves the router with none (a PUT of the whole router, not a patch
    // that cannot say "empty").
    stack.write(
        &NAT_STACK[..NAT_STACK
            .find("resource \"google_compute_router_nat\" \"nat\"")
            .expect("nat block")],
    );
    stack.apply();
    let router = router_nats();
    assert!(
        router
            .get("nats")
            .is_none_or(|n| n.as_array().is_some_and(Vec::is_empty)),
        "{router}"
    );
    assert_eq!(
        router["bgp"]["asn"], 64514,
        "the rest of the router is kept"
    );

    stack.destroy();
    let left = fake.python(
        "print(names(compute.routers().list(project=PROJECT, region=REGION)), names(compute.networks().list(project=PROJECT)))",
    );
    assert_eq!(left, "[] []");
    assert!(stack.state_addresses().is_empty());
}

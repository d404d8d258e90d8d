//! Module failover under `--sim`: a module call's alternatives (other inputs, another
//! module) applied in turn when a create inside the module is refused for lack of
//! capacity; the refused alternative torn down whole, the choice kept by later plans,
//! re-placed on `--replace module.NAME`, waited for with a deadline, and safe to kill.

use crate::failover::{apply, state, tables, world};
use crate::support::{gantry, gantry_env, Run};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::write(path, text).unwrap_or_else(|e| panic!("{e}"));
}

/// A network and `nodes` GPU instances in one zone.
const AWS_NODES: &str = r#"
variable "zone" {
  type    = string
  default = "us-east-1a"
}

variable "instance_type" {
  type    = string
  default = "p5.48xlarge"
}

variable "nodes" {
  type = number
}

resource "aws_vpc" "net" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_subnet" "zone" {
  vpc_id            = aws_vpc.net.id
  cidr_block        = "10.0.1.0/24"
  availability_zone = var.zone
}

resource "aws_instance" "node" {
  count         = var.nodes
  ami           = "ami-0123456789abcdef0"
  instance_type = var.instance_type
  subnet_id     = aws_subnet.zone.id
}

output "zone" {
  value = aws_subnet.zone.availability_zone
}

output "ids" {
  value = aws_instance.node[*].id
}
"#;

/// The same contract on smaller instances, as another module.
const AWS_SMALL_NODES: &str = r#"
variable "nodes" {
  type = number
}

resource "aws_vpc" "net" {
  cidr_block = "10.1.0.0/16"
}

resource "aws_subnet" "zone" {
  vpc_id            = aws_vpc.net.id
  cidr_block        = "10.1.1.0/24"
  availability_zone = "us-east-1c"
}

resource "aws_instance" "small" {
  count         = var.nodes
  ami           = "ami-0123456789abcdef0"
  instance_type = "p4d.24xlarge"
  subnet_id     = aws_subnet.zone.id
}

output "zone" {
  value = aws_subnet.zone.availability_zone
}

output "ids" {
  value = aws_instance.small[*].id
}
"#;

fn stack(failover_extra: &str) -> String {
    format!(
        r#"
provider "aws" {{
  region = "us-east-1"
}}

module "nodes" {{
  source = "./modules/nodes"
  nodes  = 2

  failover {{
    {failover_extra}
    alternative {{
      zone = "us-east-1b"
    }}
    alternative {{
      source = "./modules/small"
    }}
  }}
}}

# Reads only the network of the module: it must still wait for the whole module.
resource "gantry_data" "job" {{
  input = {{
    zone = module.nodes.zone
  }}
}}

output "zone" {{
  value = module.nodes.zone
}}

output "nodes" {{
  value = length(module.nodes.ids)
}}
"#
    )
}

fn setup(dir: &Path, failover_extra: &str) {
    write(dir, "main.hcl", &stack(failover_extra));
    write(dir, "modules/nodes/main.hcl", AWS_NODES);
    write(dir, "modules/small/main.hcl", AWS_SMALL_NODES);
}

const NO_P5_IN_1A: &str = r#"{"capacity": [{"type": "aws_instance", "attribute": "instance_type", "value": "p5.48xlarge", "zone": "us-east-1a"}]}"#;
const NO_P5: &str = r#"{"capacity": [{"type": "aws_instance", "attribute": "instance_type", "value": "p5.48xlarge"}]}"#;
const NO_GPUS: &str = r#"{"capacity": [
    {"type": "aws_instance", "attribute": "instance_type", "value": "p5.48xlarge"},
    {"type": "aws_instance", "attribute": "instance_type", "value": "p4d.24xlarge"}]}"#;

fn events(run: &Run) -> Vec<serde_json::Value> {
    run.stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The module alternative every object of `module.nodes` in state records.
fn placements(dir: &Path) -> Vec<(String, u64, bool)> {
    let s = state(dir);
    let Some(resources) = s["resources"].as_object() else {
        return Vec::new();
    };
    resources
        .iter()
        .filter(|(a, _)| a.starts_with("module.nodes."))
        .map(|(a, r)| {
            let p = &r["module_placements"]["module.nodes"];
            (
                a.clone(),
                p["alternative"].as_u64().unwrap_or(u64::MAX),
                p["placing"].as_bool().unwrap_or(false),
            )
        })
        .collect()
}

#[test]
fn a_module_without_capacity_is_torn_down_and_the_next_alternative_holds() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    setup(dir, "");
    tables(dir, NO_P5_IN_1A);
    let plan = gantry(dir, &["plan", "--sim", "."]);
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    let text = crate::support::squeeze(&plan.stdout);
    for needle in [
        "# module.nodes: failover on capacity, in the stack's order:",
        "# 1. as written ($110.08/h)",
        "# 2. alternative 1: zone = \"us-east-1b\" ($110.08/h)",
        "# 3. alternative 2: source = \"./modules/small\" ($43.92/h)",
    ] {
        assert!(text.contains(needle), "plan lacks {needle:?}:\n{text}");
    }

    let planned = gantry(dir, &["plan", "--sim", "--json", "."]);
    let line = events(&planned)
        .into_iter()
        .find(|e| e["type"] == "module_failover")
        .unwrap_or_else(|| panic!("no module_failover line: {}", planned.stdout));
    assert_eq!(line["address"], "module.nodes");
    assert_eq!(line["attempts"], serde_json::json!([0, 1, 2]));
    assert_eq!(
        line["alternatives"][2]["label"],
        "source = \"./modules/small\""
    );

    let run = apply(dir, &["--json"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let events = events(&run);
    let refused: Vec<&serde_json::Value> = events
        .iter()
        .filter(|e| e["type"] == "module_failover_refused")
        .collect();
    assert_eq!(refused.len(), 1, "{}", run.stdout);
    assert_eq!(refused[0]["module"], "module.nodes");
    assert_eq!(refused[0]["alternative"], 0);
    assert_eq!(refused[0]["class"], "capacity");
    assert_eq!(refused[0]["code"], "InsufficientInstanceCapacity");
    let teardown = events
        .iter()
        .find(|e| e["type"] == "module_failover_teardown")
        .unwrap_or_else(|| panic!("no teardown: {}", run.stdout));
    assert_eq!(teardown["objects"], 2, "the network of the first try");
    let held = events
        .iter()
        .find(|e| e["type"] == "module_failover_held")
        .unwrap_or_else(|| panic!("no held event: {}", run.stdout));
    assert_eq!(held["alternative"], 1);
    // The job outside the module waited for all of it: it started once, after the
    // failover, and never saw the first zone.
    let job_starts: Vec<usize> = events
        .iter()
        .enumerate()
        .filter(|(_, e)| e["type"] == "apply_start" && e["address"] == "gantry_data.job")
        .map(|(i, _)| i)
        .collect();
    let refused_at = events
        .iter()
        .position(|e| e["type"] == "module_failover_refused")
        .unwrap_or(usize::MAX);
    assert_eq!(job_starts.len(), 1, "{}", run.stdout);
    assert!(job_starts[0] > refused_at, "{}", run.stdout);

    // Exactly what the holding alternative made exists; nothing of the first try is left.
    assert_eq!(world(dir, "aws_vpc").len(), 1);
    assert_eq!(world(dir, "aws_subnet").len(), 1);
    assert_eq!(world(dir, "aws_instance").len(), 2);
    let s = state(dir);
    assert_eq!(
        s["resources"]["module.nodes.aws_subnet.zone"]["attributes"]["availability_zone"],
        "us-east-1b"
    );
    assert_eq!(
        s["resources"]["gantry_data.job"]["attributes"]["input"]["zone"],
        "us-east-1b"
    );
    let placed = placements(dir);
    assert_eq!(placed.len(), 4, "{placed:?}");
    assert!(
        placed.iter().all(|(_, alt, placing)| *alt == 1 && !placing),
        "every object records alternative 1, settled: {placed:?}"
    );

    // Capacity returns in the first zone: the module stays where it is.
    tables(dir, "{}");
    let again = gantry(dir, &["plan", "--sim", "--detailed-exitcode", "."]);
    assert_eq!(again.code, 0, "{}", again.transcript());
    assert!(
        again.stdout.contains("module.nodes: held by alternative 1"),
        "{}",
        again.stdout
    );

    // Re-placed on request: the first alternative in order, which has room again.
    let moved = apply(dir, &["--replace", "module.nodes"]);
    assert_eq!(moved.code, 0, "{}", moved.transcript());
    let s = state(dir);
    assert_eq!(
        s["resources"]["module.nodes.aws_subnet.zone"]["attributes"]["availability_zone"],
        "us-east-1a"
    );
    assert_eq!(world(dir, "aws_subnet").len(), 1);
    assert_eq!(world(dir, "aws_instance").len(), 2);
    assert!(placements(dir).iter().all(|(_, alt, _)| *alt == 0));
}

#[test]
fn another_module_takes_over_when_every_zone_is_full_and_outputs_follow_it() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    setup(dir, "");
    tables(dir, NO_P5);
    let run = apply(dir, &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stderr
            .contains("module.nodes: placed as alternative 2 (source = \"./modules/small\") after 2 refused alternatives"),
        "{}",
        run.stderr
    );
    let s = state(dir);
    assert!(s["resources"]["module.nodes.aws_instance.small[0]"].is_object());
    assert!(s["resources"]["module.nodes.aws_instance.node[0]"].is_null());
    assert_eq!(s["outputs"]["zone"]["value"], "us-east-1c");
    assert_eq!(s["outputs"]["nodes"]["value"], 2);
    assert_eq!(world(dir, "aws_vpc").len(), 1);
    assert_eq!(world(dir, "aws_subnet").len(), 1);
    assert_eq!(world(dir, "aws_instance").len(), 2);
}

#[test]
fn cost_order_tries_the_cheapest_alternative_first() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    setup(dir, "order = \"cost\"");
    let plan = gantry(dir, &["plan", "--sim", "."]);
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    let text = crate::support::squeeze(&plan.stdout);
    assert!(
        text.contains("# module.nodes: failover on capacity, cheapest first:")
            && text.contains("# 1. alternative 2: source = \"./modules/small\" ($43.92/h)"),
        "{text}"
    );
    let run = apply(dir, &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(world(dir, "aws_instance").len(), 2);
    assert!(state(dir)["resources"]["module.nodes.aws_instance.small[1]"].is_object());
}

#[test]
fn an_alternative_the_quota_cannot_hold_is_skipped() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    setup(dir, "");
    // Room for the p4d instances (2 x 96 vCPUs) but not the p5 ones (2 x 192).
    tables(
        dir,
        r#"{"service_quotas": [{"code": "L-417A185B", "limit": 300}]}"#,
    );
    let plan = gantry(dir, &["plan", "--sim", "."]);
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    let text = crate::support::squeeze(&plan.stdout);
    assert!(
        text.contains("# 1. alternative 2: source = \"./modules/small\"")
            && text.contains("- as written: skipped, not enough quota")
            && text.contains("- alternative 1: zone = \"us-east-1b\": skipped, not enough quota"),
        "{text}"
    );
    let run = apply(dir, &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(state(dir)["resources"]["module.nodes.aws_instance.small[0]"].is_object());
}

#[test]
fn every_alternative_refused_leaves_nothing_behind_and_says_what_each_got() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    setup(dir, "");
    tables(dir, NO_GPUS);
    let run = apply(dir, &[]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr
            .contains("failed to place `module.nodes`: all 3 of its alternatives were refused"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("InsufficientInstanceCapacity"));
    for t in ["aws_vpc", "aws_subnet", "aws_instance", "gantry_data"] {
        assert!(world(dir, t).is_empty(), "{t} left behind");
    }
    assert!(placements(dir).is_empty(), "{:?}", placements(dir));
}

#[test]
fn waiting_for_capacity_cycles_the_alternatives_until_it_comes_back() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    setup(dir, "");
    let until = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64 + 2500)
        .unwrap_or(0);
    tables(
        dir,
        &format!(
            r#"{{"capacity": [
                {{"type": "aws_instance", "attribute": "instance_type", "value": "p5.48xlarge", "until_unix_ms": {until}}},
                {{"type": "aws_instance", "attribute": "instance_type", "value": "p4d.24xlarge", "until_unix_ms": {until}}}]}}"#
        ),
    );
    let run = gantry_env(
        dir,
        &[
            "apply",
            "--sim",
            "--auto-approve",
            "--json",
            "--wait-for-capacity",
            "1m",
            ".",
        ],
        &[("GANTRY_CAPACITY_BACKOFF", "1s")],
    );
    assert_eq!(run.code, 0, "{}", run.transcript());
    let waits = events(&run)
        .into_iter()
        .filter(|e| e["type"] == "module_failover_waiting")
        .count();
    assert!(waits >= 1, "{}", run.stdout);
    assert_eq!(world(dir, "aws_instance").len(), 2);
    assert_eq!(world(dir, "aws_vpc").len(), 1);
}

/// SIGKILL at varied moments of a module failover, then apply again: the module ends on
/// one alternative, with exactly its objects, and the plan after is empty.
#[test]
fn a_module_failover_killed_at_any_moment_leaks_nothing() {
    for (trial, after_ms) in [300_u64, 700, 1100, 1600, 2200].into_iter().enumerate() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let dir = tmp.path();
        setup(dir, "");
        tables(dir, NO_P5);
        let mut child = Command::new(env!("CARGO_BIN_EXE_gantry"))
            .args(["apply", "--sim", "--auto-approve", "."])
            .current_dir(dir)
            .env("GANTRY_SIM_LATENCY_MS", "120")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        std::thread::sleep(Duration::from_millis(after_ms));
        let _ = child.kill();
        let _ = child.wait();
        let finish = apply(dir, &[]);
        assert_eq!(finish.code, 0, "trial {trial}: {}", finish.transcript());
        assert_eq!(world(dir, "aws_vpc").len(), 1, "trial {trial}");
        assert_eq!(world(dir, "aws_subnet").len(), 1, "trial {trial}");
        assert_eq!(world(dir, "aws_instance").len(), 2, "trial {trial}");
        let s = state(dir);
        assert!(
            s["resources"]["module.nodes.aws_instance.small[0]"].is_object(),
            "trial {trial}: {s}"
        );
        assert!(placements(dir)
            .iter()
            .all(|(_, alt, placing)| *alt == 2 && !placing));
        let again = gantry(dir, &["plan", "--sim", "--detailed-exitcode", "."]);
        assert_eq!(again.code, 0, "trial {trial}: {}", again.transcript());
    }
}

#[test]
fn bad_module_alternatives_are_errors_with_their_place() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    setup(dir, "");
    // An alternative module that lacks an output, and an input no module declares.
    write(
        dir,
        "modules/small/main.hcl",
        &AWS_SMALL_NODES.replace("output \"zone\"", "output \"region\""),
    );
    write(
        dir,
        "main.hcl",
        &stack("").replace("zone = \"us-east-1b\"", "zonee = \"us-east-1b\""),
    );
    let run = gantry(dir, &["validate", "."]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    for needle in [
        "alternative 2 of `module.nodes` lacks outputs of the module as written",
        "missing: zone",
        "alternative 1 of `module.nodes` sets an input its module does not declare",
        "did you mean `zone`?",
    ] {
        assert!(
            run.stderr.contains(needle),
            "no {needle:?}:\n{}",
            run.stderr
        );
    }

    // Failover on a counted module cannot choose one module for every instance.
    write(
        dir,
        "main.hcl",
        &stack("").replace("nodes  = 2", "nodes  = 2\n  count  = 2"),
    );
    write(dir, "modules/small/main.hcl", AWS_SMALL_NODES);
    let run = gantry(dir, &["validate", "."]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr
            .contains("`failover` on a module whose instances come from `count` or `for_each`"),
        "{}",
        run.stderr
    );
}

#[test]
fn waiting_gives_up_at_the_deadline_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    setup(dir, "wait_for_capacity = \"2s\"");
    tables(dir, NO_GPUS);
    let run = gantry_env(
        dir,
        &["apply", "--sim", "--auto-approve", "--json", "."],
        &[("GANTRY_CAPACITY_BACKOFF", "500ms")],
    );
    assert_eq!(run.code, 1, "{}", run.transcript());
    let events = events(&run);
    assert!(
        events
            .iter()
            .any(|e| e["type"] == "module_failover_waiting" && e["module"] == "module.nodes"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains("no capacity came free before the deadline"),
        "{}",
        run.stdout
    );
    for t in ["aws_vpc", "aws_subnet", "aws_instance", "gantry_data"] {
        assert!(world(dir, t).is_empty(), "{t} left behind");
    }
}

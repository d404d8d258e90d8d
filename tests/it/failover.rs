//! Capacity failover under `--sim`: a resource's `failover` alternatives tried in order on
//! a capacity error, ordered by cost, skipped when the quota pre-flight knows they cannot
//! fit, kept across plans, re-placed on `--replace`, waited for with a deadline, and safe
//! to kill in the middle.

use crate::support::{gantry, gantry_env, Run};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{e}"));
}

/// Two subnets in two zones and a trainer that may go to either, or to a smaller type.
fn stack(failover_extra: &str) -> String {
    format!(
        r#"
provider "aws" {{
  region = "us-east-1"
}}

resource "aws_vpc" "main" {{
  cidr_block = "10.0.0.0/16"
}}

resource "aws_subnet" "a" {{
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.0.1.0/24"
  availability_zone = "us-east-1a"
}}

resource "aws_subnet" "b" {{
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.0.2.0/24"
  availability_zone = "us-east-1b"
}}

resource "aws_instance" "trainer" {{
  ami           = "ami-0123456789abcdef0"
  instance_type = "p5.48xlarge"
  subnet_id     = aws_subnet.a.id

  failover {{
    {failover_extra}
    alternative {{
      subnet_id = aws_subnet.b.id
    }}
    alternative {{
      instance_type = "p4d.24xlarge"
    }}
  }}
}}

# Depends on the trainer's zone: it must see the choice that held.
resource "gantry_data" "job" {{
  input = {{
    zone = aws_instance.trainer.availability_zone
    type = aws_instance.trainer.instance_type
  }}
}}

output "zone" {{
  value = aws_instance.trainer.availability_zone
}}
"#
    )
}

pub(crate) fn tables(dir: &Path, json: &str) {
    std::fs::create_dir_all(dir.join(".gantry/sim")).unwrap_or_else(|e| panic!("{e}"));
    write(&dir.join(".gantry/sim"), "capacity.json", json);
}

const NO_P5_IN_1A: &str = r#"{"capacity": [{"type": "aws_instance", "attribute": "instance_type", "value": "p5.48xlarge", "zone": "us-east-1a"}]}"#;
const NO_P5_ANYWHERE: &str = r#"{"capacity": [{"type": "aws_instance", "attribute": "instance_type", "value": "p5.48xlarge"}]}"#;

/// The trainer's `planned_change` event of `gantry plan --json`.
fn planned_trainer(dir: &Path) -> serde_json::Value {
    let plan = gantry(dir, &["plan", "--sim", "--json", "."]);
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    plan.stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|v| v["type"] == "planned_change" && v["address"] == "aws_instance.trainer")
        .unwrap_or_else(|| panic!("{}", plan.stdout))
}

pub(crate) fn apply(dir: &Path, extra: &[&str]) -> Run {
    let mut args = vec!["apply", "--sim", "--auto-approve"];
    args.extend_from_slice(extra);
    args.push(".");
    gantry(dir, &args)
}

fn output(dir: &Path, name: &str) -> String {
    let out = gantry(dir, &["output", "--sim", "--raw", "--dir", ".", name]);
    assert_eq!(out.code, 0, "{}", out.transcript());
    out.stdout.trim().to_owned()
}

pub(crate) fn state(dir: &Path) -> serde_json::Value {
    let text = std::fs::read_to_string(dir.join(".gantry/sim/state.json"))
        .unwrap_or_else(|e| panic!("{e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}"))
}

/// The world's objects of one type: (id, address).
pub(crate) fn world(dir: &Path, type_name: &str) -> Vec<(String, String)> {
    gantry(dir, &["sim", "ls", "--dir", "."])
        .stdout
        .lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split_whitespace().collect();
            (cols.first() == Some(&type_name)).then(|| {
                (
                    cols[1].to_owned(),
                    cols.get(2).copied().unwrap_or("").to_owned(),
                )
            })
        })
        .collect()
}

#[test]
fn a_capacity_error_fails_over_to_the_next_zone_and_dependants_see_it() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(dir, "main.hcl", &stack(""));
    tables(dir, NO_P5_IN_1A);
    let plan = gantry(dir, &["plan", "--sim", "."]);
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    let text = crate::support::squeeze(&plan.stdout);
    assert!(
        text.contains("# failover on capacity, in the stack's order:"),
        "{text}"
    );
    assert!(text.contains("# 1. as written ($55.04/h)"), "{text}");
    assert!(
        text.contains("# 2. alternative 1: subnet_id = (known after apply) ($55.04/h)"),
        "{text}"
    );
    assert!(
        text.contains("# 3. alternative 2: instance_type = \"p4d.24xlarge\" ($21.96/h)"),
        "{text}"
    );

    let run = apply(dir, &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stderr.contains(
            "aws_instance.trainer: as written refused in us-east-1: InsufficientInstanceCapacity"
        ),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("created with failover alternative 1 (subnet_id = \"subnet-"),
        "{}",
        run.stderr
    );
    assert_eq!(output(dir, "zone"), "us-east-1b");
    let s = state(dir);
    let trainer = &s["resources"]["aws_instance.trainer"];
    assert_eq!(trainer["placement"]["alternative"], 1);
    assert_eq!(
        trainer["placement"]["overrides"]["subnet_id"],
        s["resources"]["aws_subnet.b"]["attributes"]["id"]
    );
    assert_eq!(
        s["resources"]["gantry_data.job"]["attributes"]["output"]["zone"], "us-east-1b",
        "the dependant was completed with the choice that held"
    );
    assert_eq!(
        world(dir, "aws_instance").len(),
        1,
        "one instance, no leftovers"
    );

    // Capacity comes back in us-east-1a: the trainer stays where it is.
    tables(dir, "{}");
    let again = gantry(dir, &["plan", "--sim", "--detailed-exitcode", "."]);
    assert_eq!(again.code, 0, "no changes: {}", again.transcript());

    // Asked to, it is placed afresh, and the first choice holds now.
    let replaced = apply(dir, &["--replace", "aws_instance.trainer"]);
    assert_eq!(replaced.code, 0, "{}", replaced.transcript());
    assert_eq!(output(dir, "zone"), "us-east-1a");
    assert_eq!(
        state(dir)["resources"]["aws_instance.trainer"]["placement"]["alternative"],
        0
    );
    assert_eq!(world(dir, "aws_instance").len(), 1);
}

#[test]
fn order_by_cost_tries_the_cheapest_first_and_the_plan_prices_it() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(dir, "main.hcl", &stack("order = \"cost\""));
    let change = planned_trainer(dir);
    let f = &change["failover"];
    assert_eq!(f["order"], "cost");
    assert_eq!(f["attempts"], serde_json::json!([2, 0, 1]), "{f}");
    let cents = |v: &serde_json::Value| (v.as_f64().unwrap_or(-1.0) * 100.0).round();
    assert_eq!(cents(&f["choices"][2]["hourly"]), 2196.0, "{f}");
    assert_eq!(cents(&f["choices"][0]["hourly"]), 5504.0, "{f}");
    assert_eq!(
        cents(&change["cost"]["after_hourly"]),
        2196.0,
        "priced as the choice tried first"
    );
    let run = apply(dir, &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(
        state(dir)["resources"]["aws_instance.trainer"]["attributes"]["instance_type"],
        "p4d.24xlarge"
    );
}

#[test]
fn a_choice_the_quota_cannot_hold_is_skipped_before_anything_is_created() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(dir, "main.hcl", &stack(""));
    // 100 vCPUs of P instances: a p5.48xlarge (192) cannot fit, a p4d.24xlarge (96) can.
    tables(
        dir,
        r#"{"service_quotas": [{"code": "L-417A185B", "limit": 100}]}"#,
    );
    let plan = gantry(dir, &["plan", "--sim", "."]);
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    let text = crate::support::squeeze(&plan.stdout);
    assert!(
        text.contains("# 1. alternative 2: instance_type = \"p4d.24xlarge\" ($21.96/h)"),
        "{text}"
    );
    assert!(
        text.contains(
            "- as written: skipped, quota L-417A185B in us-east-1: needs 192 vCPUs, 100 free"
        ),
        "{text}"
    );
    let run = gantry_env(
        dir,
        &["apply", "--sim", "--auto-approve", "--json", "."],
        &[],
    );
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        !run.stdout.contains("failover_refused"),
        "nothing was refused, the skipped choices were never sent: {}",
        run.stdout
    );
    assert_eq!(
        state(dir)["resources"]["aws_instance.trainer"]["attributes"]["instance_type"],
        "p4d.24xlarge"
    );

    // No choice fits: the plan fails with the shortfall, and nothing is created.
    let none = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write(none.path(), "main.hcl", &stack(""));
    tables(
        none.path(),
        r#"{"service_quotas": [{"code": "L-417A185B", "limit": 10}]}"#,
    );
    let short = gantry(none.path(), &["plan", "--sim", "."]);
    assert_eq!(short.code, 1, "{}", short.transcript());
    assert!(
        short.stderr.contains("not enough quota")
            && short
                .stderr
                .contains("no failover alternative of `aws_instance.trainer` fits"),
        "{}",
        short.stderr
    );
}

#[test]
fn every_choice_refused_fails_naming_each_attempt_and_leaves_nothing() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(dir, "main.hcl", &stack(""));
    tables(
        dir,
        r#"{"capacity": [{"type": "aws_instance", "attribute": "ami", "value": "ami-0123456789abcdef0"}]}"#,
    );
    let run = apply(dir, &["--json"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v["type"] == "failover_refused")
        .collect();
    let tried: Vec<u64> = events
        .iter()
        .filter_map(|e| e["alternative"].as_u64())
        .collect();
    assert_eq!(tried, vec![0, 1, 2], "{}", run.stdout);
    assert!(events
        .iter()
        .all(|e| e["class"] == "capacity" && e["code"] == "InsufficientInstanceCapacity"));
    assert!(
        run.stdout.contains("all 3 failover attempts were refused"),
        "{}",
        run.stdout
    );
    assert!(world(dir, "aws_instance").is_empty());
    assert!(state(dir)["resources"]
        .get("aws_instance.trainer")
        .is_none());
}

#[test]
fn waiting_for_capacity_cycles_until_it_comes_back_or_the_deadline() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    // No p5.48xlarge anywhere, and no other choice: only waiting helps.
    write(
        dir,
        "main.hcl",
        &stack("").replace(
            "    alternative {\n      instance_type = \"p4d.24xlarge\"\n    }\n",
            "",
        ),
    );
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or_default();
    tables(
        dir,
        &format!(
            r#"{{"capacity": [{{"type": "aws_instance", "attribute": "instance_type", "value": "p5.48xlarge", "until_unix_ms": {}}}]}}"#,
            now_ms + 2500
        ),
    );
    let run = gantry_env(
        dir,
        &[
            "apply",
            "--sim",
            "--auto-approve",
            "--wait-for-capacity",
            "2m",
            ".",
        ],
        &[("GANTRY_CAPACITY_BACKOFF", "500ms")],
    );
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stderr
            .contains("no capacity anywhere it may go; round 2 in 0.5s")
            && run
                .stderr
                .contains("aws_instance.trainer: created as written after"),
        "{}",
        run.stderr
    );
    assert_eq!(world(dir, "aws_instance").len(), 1);

    // A deadline that passes first: the error says so.
    let only_p5 = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write(
        only_p5.path(),
        "main.hcl",
        &stack("wait_for_capacity = \"2s\"").replace(
            "    alternative {\n      instance_type = \"p4d.24xlarge\"\n    }\n",
            "",
        ),
    );
    tables(only_p5.path(), NO_P5_ANYWHERE);
    let run = gantry_env(
        only_p5.path(),
        &["apply", "--sim", "--auto-approve", "--json", "."],
        &[("GANTRY_CAPACITY_BACKOFF", "500ms")],
    );
    assert_eq!(run.code, 1, "{}", run.transcript());
    let waits = run
        .stdout
        .lines()
        .filter(|l| l.contains("\"failover_waiting\""))
        .count();
    assert!(waits >= 2, "it waited in rounds: {}", run.stdout);
    assert!(
        run.stdout
            .contains("no capacity came free before the deadline"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains(&format!(
            "failed to create `aws_instance.trainer`: all 2 failover attempts were refused, in each of {} rounds",
            waits + 1
        )),
        "the error counts the rounds and lists the last one's attempts: {}",
        run.stdout
    );
    assert!(world(only_p5.path(), "aws_instance").is_empty());
}

/// SIGKILL at varied moments of a failover, then apply again: exactly one instance, in
/// state with the choice it was created with, and the plan after is empty.
#[test]
fn a_failover_killed_at_any_moment_leaks_nothing_and_duplicates_nothing() {
    for (trial, after_ms) in [250_u64, 450, 650, 900, 1200].into_iter().enumerate() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let dir = tmp.path();
        write(dir, "main.hcl", &stack(""));
        tables(dir, NO_P5_ANYWHERE);
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
        let instances = world(dir, "aws_instance");
        assert_eq!(instances.len(), 1, "trial {trial}: {instances:?}");
        let s = state(dir);
        let trainer = &s["resources"]["aws_instance.trainer"];
        assert_eq!(trainer["attributes"]["id"], instances[0].0.as_str());
        assert_eq!(trainer["attributes"]["instance_type"], "p4d.24xlarge");
        assert_eq!(trainer["placement"]["alternative"], 2, "trial {trial}");
        let again = gantry(dir, &["plan", "--sim", "--detailed-exitcode", "."]);
        assert_eq!(again.code, 0, "trial {trial}: {}", again.transcript());
    }
}

#[test]
fn bad_failover_blocks_are_errors_with_their_place() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        &stack("on = [\"capacty\"]\n    order = \"random\"\n    wait_for_capacity = \"soon\""),
    );
    let run = gantry(dir, &["validate", "."]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    for expected in [
        "unknown failover trigger",
        "expected \"capacity\" or \"quota\"",
        "invalid failover `order`",
        "invalid `wait_for_capacity`",
        "main.hcl:",
    ] {
        assert!(run.stderr.contains(expected), "{expected}: {}", run.stderr);
    }
    write(
        dir,
        "main.hcl",
        &stack("").replace(
            "instance_type = \"p4d.24xlarge\"",
            "instance_typ = \"p4d.24xlarge\"",
        ),
    );
    let run = gantry(dir, &["plan", "--sim", "."]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr
            .contains("`instance_typ` is not an argument of `aws_instance`")
            && run.stderr.contains("did you mean `instance_type`?"),
        "{}",
        run.stderr
    );
    // An alternative the type refuses is an error while planning, at the alternative.
    write(
        dir,
        "main.hcl",
        &stack("").replace(
            "instance_type = \"p4d.24xlarge\"",
            "instance_type = [\"p4d.24xlarge\"]",
        ),
    );
    let run = gantry(dir, &["plan", "--sim", "."]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("with failover alternative 2")
            && run.stderr.contains("main.hcl:")
            && run.stderr.contains("instance_type = [\"p4d.24xlarge\"]"),
        "{}",
        run.stderr
    );
    write(
        dir,
        "main.hcl",
        "resource \"gantry_data\" \"x\" {\n  failover {\n    on = [\"capacity\"]\n  }\n}\n",
    );
    let run = gantry(dir, &["validate", "."]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("`failover` block without alternatives"),
        "{}",
        run.stderr
    );
}

/// `examples/train-anywhere` under `--sim` with no H100 capacity in its first two AWS
/// zones: the plan shows each node's choices and each module alternative's price, the
/// apply puts both nodes in the third zone as spot (the cheapest choice left, no module
/// failover needed), and a second plan keeps them there.
#[test]
fn the_train_anywhere_example_applies_with_its_first_two_zones_full() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    crate::support::copy_dir(
        &crate::support::repo_root().join("examples/train-anywhere"),
        dir,
    );
    tables(
        dir,
        r#"{"capacity": [
            {"type": "aws_instance", "attribute": "instance_type", "value": "p5.48xlarge", "zone": "us-east-1a"},
            {"type": "aws_instance", "attribute": "instance_type", "value": "p5.48xlarge", "zone": "us-east-1b"}]}"#,
    );
    let plan = gantry(dir, &["plan", "--sim", "."]);
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    let text = crate::support::squeeze(&plan.stdout);
    for needle in [
        "# module.nodes: failover on capacity, cheapest first:",
        "# 1. as written ($44.03/h) <- this plan",
        "# 2. alternative 1: source = \"./modules/gcp-nodes\", providers = { google = google }, region = var.gcp_region ($53.09/h)",
        "# 3. alternative 2: source = \"./modules/azure-nodes\", providers = { azurerm = azurerm }, location = var.azure_location ($196.64/h)",
        "# failover on capacity, cheapest first:",
        "# 1. as written ($22.02/h)",
        "instance_market_options = null ($55.04/h)",
        "provider = aws.west, ami = \"ami-0fedcba9876543210\", subnet_id = (known after apply) ($22.02/h)",
        "Budget: within",
    ] {
        assert!(text.contains(needle), "plan lacks {needle:?}:\n{text}");
    }
    let run = apply(dir, &["--json"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let refused = run
        .stdout
        .lines()
        .filter(|l| l.contains("\"failover_refused\""))
        .count();
    assert_eq!(refused, 4, "two refusals per node: {}", run.stdout);
    assert!(
        !run.stdout.contains("module_failover_refused"),
        "{}",
        run.stdout
    );
    let s = state(dir);
    for node in [
        "module.nodes.aws_instance.node[0]",
        "module.nodes.aws_instance.node[1]",
    ] {
        let attrs = &s["resources"][node]["attributes"];
        assert_eq!(attrs["availability_zone"], "us-east-1c", "{node}");
        assert_eq!(
            attrs["instance_market_options"]["market_type"], "spot",
            "{node}"
        );
    }
    assert_eq!(s["outputs"]["cloud"]["value"], "aws");
    assert_eq!(world(dir, "aws_instance").len(), 2);
    tables(dir, "{}");
    let again = gantry(dir, &["plan", "--sim", "--detailed-exitcode", "."]);
    assert_eq!(again.code, 0, "{}", again.transcript());

    // The whole first region full: a node placed afresh goes to the second region.
    tables(
        dir,
        r#"{"capacity": [
            {"type": "aws_instance", "attribute": "instance_type", "value": "p5.48xlarge", "zone": "us-east-1a"},
            {"type": "aws_instance", "attribute": "instance_type", "value": "p5.48xlarge", "zone": "us-east-1b"},
            {"type": "aws_instance", "attribute": "instance_type", "value": "p5.48xlarge", "zone": "us-east-1c"}]}"#,
    );
    let moved = apply(dir, &["--replace", "module.nodes.aws_instance.node[1]"]);
    assert_eq!(moved.code, 0, "{}", moved.transcript());
    let s = state(dir);
    let node = &s["resources"]["module.nodes.aws_instance.node[1]"];
    assert_eq!(node["provider"], "aws.west");
    assert!(
        node["attributes"]["availability_zone"]
            .as_str()
            .is_some_and(|z| z.starts_with("us-west-2")),
        "{node}"
    );
    assert_eq!(
        s["resources"]["module.nodes.aws_instance.node[0]"]["attributes"]["availability_zone"],
        "us-east-1c",
        "the other node was not touched"
    );
    assert_eq!(world(dir, "aws_instance").len(), 2);
}

/// `examples/train-anywhere` with no H100 anywhere on AWS nor on Google Cloud: both
/// module alternatives are refused and torn down, and Azure's holds.
#[test]
fn the_train_anywhere_example_fails_over_across_clouds() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    crate::support::copy_dir(
        &crate::support::repo_root().join("examples/train-anywhere"),
        dir,
    );
    tables(
        dir,
        r#"{"capacity": [
            {"type": "aws_instance", "attribute": "instance_type", "value": "p5.48xlarge"},
            {"type": "google_compute_instance", "attribute": "machine_type", "value": "a3-highgpu-8g"}]}"#,
    );
    let run = apply(dir, &["--json"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let events: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let refused: Vec<(u64, String)> = events
        .iter()
        .filter(|e| e["type"] == "module_failover_refused")
        .map(|e| {
            (
                e["alternative"].as_u64().unwrap_or(99),
                e["code"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    assert_eq!(refused.len(), 2, "{}", run.stdout);
    assert_eq!(refused[0], (0, "InsufficientInstanceCapacity".to_owned()));
    assert_eq!(refused[1].0, 1);
    assert_eq!(refused[1].1, "ZONE_RESOURCE_POOL_EXHAUSTED", "{refused:?}");
    let s = state(dir);
    assert_eq!(s["outputs"]["cloud"]["value"], "azure");
    assert!(
        s["resources"]["module.nodes.azurerm_linux_virtual_machine_scale_set.nodes"].is_object()
    );
    // Nothing of the AWS and Google Cloud attempts is left.
    for t in [
        "aws_vpc",
        "aws_subnet",
        "aws_instance",
        "google_compute_network",
        "google_compute_subnetwork",
        "google_compute_firewall",
        "google_compute_instance",
    ] {
        assert!(world(dir, t).is_empty(), "{t} left behind");
    }
    assert_eq!(
        world(dir, "azurerm_linux_virtual_machine_scale_set").len(),
        1
    );
    tables(dir, "{}");
    let again = gantry(dir, &["plan", "--sim", "--detailed-exitcode", "."]);
    assert_eq!(again.code, 0, "{}", again.transcript());
    assert!(
        again.stdout.contains("module.nodes: held by alternative 2"),
        "{}",
        again.stdout
    );
}

/// The quota pre-flight counts what the plan's other creates claim: with 300 vCPUs of P
/// instances, the first of two trainers takes a p5.48xlarge (192) and the second, for which
/// 108 are left, is planned as the p4d.24xlarge (96) alternative.
#[test]
fn failover_choices_share_the_quota_with_the_rest_of_the_plan() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        r#"
provider "aws" {
  region = "us-east-1"
}

resource "aws_instance" "trainer" {
  count         = 2
  ami           = "ami-0123456789abcdef0"
  instance_type = "p5.48xlarge"

  failover {
    alternative {
      instance_type = "p4d.24xlarge"
    }
  }
}
"#,
    );
    tables(
        dir,
        r#"{"service_quotas": [{"code": "L-417A185B", "limit": 300}]}"#,
    );
    let plan = gantry(dir, &["plan", "--sim", "."]);
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    let text = crate::support::squeeze(&plan.stdout);
    assert!(
        text.contains("- as written: skipped, quota L-417A185B in us-east-1: needs 192 vCPUs, 108 free after 192 vCPUs for the rest of this plan"),
        "{text}"
    );
    let run = apply(dir, &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let s = state(dir);
    assert_eq!(
        s["resources"]["aws_instance.trainer[0]"]["attributes"]["instance_type"],
        "p5.48xlarge"
    );
    assert_eq!(
        s["resources"]["aws_instance.trainer[1]"]["attributes"]["instance_type"],
        "p4d.24xlarge"
    );
}

/// A replacement tries the choice that held the old object first, and when that one is
/// refused, "as written" really is the resource as written (not the held choice again).
#[test]
fn a_replacement_tries_the_held_choice_first_then_the_others_as_written() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(dir, "main.hcl", &stack(""));
    tables(dir, NO_P5_IN_1A);
    let run = apply(dir, &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(output(dir, "zone"), "us-east-1b");

    // A new image forces a replacement; now us-east-1b is full and us-east-1a has room.
    write(
        dir,
        "main.hcl",
        &stack("").replace("ami-0123456789abcdef0", "ami-0fedcba9876543210"),
    );
    tables(
        dir,
        r#"{"capacity": [{"type": "aws_instance", "attribute": "instance_type", "value": "p5.48xlarge", "zone": "us-east-1b"}]}"#,
    );
    let change = planned_trainer(dir);
    assert_eq!(change["action"], "delete_then_create");
    assert_eq!(change["failover"]["attempts"], serde_json::json!([1, 0, 2]));
    let run = apply(dir, &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stderr.contains("alternative 1 (subnet_id = \"subnet-"),
        "the held choice was tried first: {}",
        run.stderr
    );
    assert_eq!(output(dir, "zone"), "us-east-1a");
    assert_eq!(
        state(dir)["resources"]["aws_instance.trainer"]["placement"]["alternative"],
        0
    );
    assert_eq!(world(dir, "aws_instance").len(), 1);
}

const TWO_REGIONS: &str = r#"
provider "aws" {
  region = "us-east-1"
}

provider "aws" {
  alias  = "west"
  region = "us-west-2"
}

resource "aws_vpc" "east" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_vpc" "west" {
  provider   = aws.west
  cidr_block = "10.1.0.0/16"
}

resource "aws_subnet" "east" {
  vpc_id            = aws_vpc.east.id
  cidr_block        = "10.0.1.0/24"
  availability_zone = "us-east-1a"
}

resource "aws_subnet" "west" {
  provider          = aws.west
  vpc_id            = aws_vpc.west.id
  cidr_block        = "10.1.1.0/24"
  availability_zone = "us-west-2a"
}

resource "aws_instance" "trainer" {
  ami           = "ami-0123456789abcdef0"
  instance_type = "p5.48xlarge"
  subnet_id     = aws_subnet.east.id

  failover {
    alternative {
      provider  = aws.west
      subnet_id = aws_subnet.west.id
    }
  }
}

output "zone" {
  value = aws_instance.trainer.availability_zone
}
"#;

/// An alternative may name another provider configuration: no capacity in us-east-1, and
/// the trainer is created in us-west-2 through `aws.west`, kept there by later plans, and
/// destroyed through it.
#[test]
fn an_alternative_in_another_region_uses_its_provider_configuration() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(dir, "main.hcl", TWO_REGIONS);
    tables(dir, NO_P5_IN_1A);
    let plan = gantry(dir, &["plan", "--sim", "."]);
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    assert!(
        crate::support::squeeze(&plan.stdout)
            .contains("# 2. alternative 1: provider = aws.west, subnet_id = (known after apply)"),
        "{}",
        plan.stdout
    );
    let run = apply(dir, &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(output(dir, "zone"), "us-west-2a");
    let s = state(dir);
    let trainer = &s["resources"]["aws_instance.trainer"];
    assert_eq!(trainer["provider"], "aws.west");
    assert_eq!(trainer["placement"]["provider"], "aws.west");
    tables(dir, "{}");
    let again = gantry(dir, &["plan", "--sim", "--detailed-exitcode", "."]);
    assert_eq!(again.code, 0, "kept in us-west-2: {}", again.transcript());

    // Placed afresh with us-east-1 open again: the old instance is deleted where it lives
    // (us-west-2, through aws.west), the new one made as written.
    let west_id = world(dir, "aws_instance")
        .first()
        .map(|(id, _)| id.clone())
        .unwrap_or_default();
    let replaced = apply(dir, &["--replace", "aws_instance.trainer"]);
    assert_eq!(replaced.code, 0, "{}", replaced.transcript());
    assert_eq!(output(dir, "zone"), "us-east-1a");
    let instances = world(dir, "aws_instance");
    assert_eq!(
        instances.len(),
        1,
        "the us-west-2 instance is gone: {instances:?}"
    );
    assert_ne!(instances[0].0, west_id);
    assert_eq!(
        state(dir)["resources"]["aws_instance.trainer"]["provider"],
        "aws"
    );
    let gone = gantry(dir, &["destroy", "--sim", "--auto-approve", "."]);
    assert_eq!(gone.code, 0, "{}", gone.transcript());
    assert!(world(dir, "aws_instance").is_empty());

    // An alternative naming a provider configuration the stack does not declare.
    write(
        dir,
        "main.hcl",
        &std::fs::read_to_string(dir.join("main.hcl"))
            .unwrap_or_default()
            .replace(
                "      provider  = aws.west",
                "      provider  = aws.central",
            ),
    );
    let bad = gantry(dir, &["plan", "--sim", "."]);
    assert_eq!(bad.code, 1, "{}", bad.transcript());
    assert!(
        bad.stderr
            .contains("reference to undeclared provider configuration `aws.central`")
            && bad.stderr.contains("main.hcl:"),
        "{}",
        bad.stderr
    );
}

/// An object a provider alternative placed in us-west-2 whose alternative is then removed
/// from the stack: the plan replaces it, saying why, and the new one is made as written.
#[test]
fn removing_the_region_alternative_that_holds_an_object_replaces_it() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(dir, "main.hcl", TWO_REGIONS);
    tables(dir, NO_P5_IN_1A);
    assert_eq!(apply(dir, &[]).code, 0);
    assert_eq!(output(dir, "zone"), "us-west-2a");
    tables(dir, "{}");
    write(
        dir,
        "main.hcl",
        &TWO_REGIONS.replace("provider  = aws.west", "provider  = aws"),
    );
    let plan = gantry(dir, &["plan", "--sim", "."]);
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    assert!(
        plan.stdout.contains("aws_instance.trainer must be replaced")
            && plan.stdout.contains(
                "the failover alternative it was created with is no longer in the stack, so it is planned as written"
            )
            && plan.stdout.contains("2. alternative 1: subnet_id = "),
        "naming the resource's own provider configuration is no provider override: {}",
        plan.stdout
    );
    let run = apply(dir, &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(output(dir, "zone"), "us-east-1a");
    assert_eq!(world(dir, "aws_instance").len(), 1);
}

/// An object an alternative placed through another provider configuration, whose
/// alternative is gone and whose arguments all still match: it cannot be updated in
/// place through the other configuration, so the plan replaces it, saying why.
#[test]
fn an_object_left_in_another_region_is_replaced_not_updated_across_regions() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    let stack = r#"
provider "aws" {
  region = "us-east-1"
}

provider "aws" {
  alias  = "west"
  region = "us-west-2"
}

resource "aws_s3_bucket" "data" {
  bucket = "train-data-1234"
  failover {
    alternative {
      provider = aws.west
    }
  }
}
"#;
    write(dir, "main.hcl", stack);
    // The simulated S3 refuses this bucket in us-east-1 (a stand-in for any refusal).
    tables(
        dir,
        r#"{"capacity": [{"type": "aws_s3_bucket", "attribute": "bucket", "value": "train-data-1234",
            "zone_attribute": "region", "zone": "us-east-1", "code": "ServiceUnavailable"}]}"#,
    );
    let run = apply(dir, &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(
        state(dir)["resources"]["aws_s3_bucket.data"]["provider"],
        "aws.west"
    );
    tables(dir, "{}");
    write(
        dir,
        "main.hcl",
        &stack.replace("provider = aws.west", "provider = aws"),
    );
    let plan = gantry(dir, &["plan", "--sim", "."]);
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    assert!(
        plan.stdout.contains("aws_s3_bucket.data must be replaced")
            && plan.stdout.contains(
                "it lives in provider configuration `aws.west`, and the plan places it with `aws`"
            ),
        "{}",
        plan.stdout
    );
    let run = apply(dir, &[]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let s = state(dir);
    assert_eq!(s["resources"]["aws_s3_bucket.data"]["provider"], "aws");
    assert_eq!(
        s["resources"]["aws_s3_bucket.data"]["attributes"]["region"],
        "us-east-1"
    );
    assert_eq!(world(dir, "aws_s3_bucket").len(), 1);
}

/// A destroy after a create that was refused: the never-created instances' attributes are
/// unknown, so an output that reads them through a `for` does not fail the destroy.
#[test]
fn destroy_after_a_refused_create_reads_the_missing_instances_as_unknown() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        r#"
provider "aws" {
  region = "us-east-1"
}

resource "aws_vpc" "v" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_instance" "n" {
  count         = 2
  ami           = "ami-0123456789abcdef0"
  instance_type = "p5.48xlarge"
  tags          = { vpc = aws_vpc.v.id }
}

output "zones" {
  value = [for n in aws_instance.n : n.availability_zone]
}
"#,
    );
    tables(dir, NO_P5_ANYWHERE);
    let failed = apply(dir, &[]);
    assert_eq!(failed.code, 1, "{}", failed.transcript());
    assert_eq!(world(dir, "aws_vpc").len(), 1);
    let destroy = gantry(dir, &["destroy", "--sim", "--auto-approve", "."]);
    assert_eq!(destroy.code, 0, "{}", destroy.transcript());
    assert!(world(dir, "aws_vpc").is_empty());
}

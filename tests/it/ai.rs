//! The AI layer as a user meets it, offline with `--sim`: `gantry catalog`, accelerator
//! specs in stacks, cost in plans, budgets and the quota pre-flight.

use crate::support::{gantry, repo_root, Run};
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{e}"));
}

/// Two H100:8 instances, an EKS control plane and a bucket.
const GPU_STACK: &str = r#"
provider "aws" {
  region = "us-east-1"
}

variable "nodes" {
  type    = number
  default = 2
}

resource "aws_instance" "gpu" {
  count         = var.nodes
  ami           = "ami-12345678"
  instance_type = accelerator_instance_type("aws", "H100:8", "us-east-1")
}

resource "aws_s3_bucket" "data" {
  bucket = "ai-layer-data"
}

resource "aws_eks_cluster" "main" {
  name     = "main"
  role_arn = "arn:aws:iam::123456789012:role/eks"
  vpc_config {
    subnet_ids = ["subnet-1", "subnet-2"]
  }
}
"#;

fn p5_price() -> f64 {
    let run = gantry(
        &repo_root(),
        &[
            "catalog",
            "-a",
            "H100:8",
            "--cloud",
            "aws",
            "--region",
            "us-east-1",
            "--json",
        ],
    );
    let row: serde_json::Value =
        serde_json::from_str(run.stdout.lines().next().unwrap_or_default()).unwrap_or_default();
    assert_eq!(row["instance_type"], "p5.48xlarge", "{}", run.transcript());
    row["hourly"].as_f64().unwrap_or_default()
}

fn sim_world_is_empty(dir: &Path) -> bool {
    gantry(dir, &["sim", "ls", "--dir", "."])
        .stdout
        .trim()
        .is_empty()
}

#[test]
fn catalog_filters_sorts_by_price_and_prints_json() {
    let root = repo_root();
    let run = gantry(&root, &["catalog", "--accelerator", "H100", "--json"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let rows: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_default())
        .collect();
    let clouds: std::collections::BTreeSet<&str> =
        rows.iter().filter_map(|r| r["cloud"].as_str()).collect();
    assert_eq!(clouds.len(), 3, "H100 on every cloud: {clouds:?}");
    let prices: Vec<f64> = rows.iter().filter_map(|r| r["hourly"].as_f64()).collect();
    assert_eq!(prices.len(), rows.len());
    assert!(prices.windows(2).all(|w| w[0] <= w[1]), "sorted by price");

    let spot = gantry(
        &root,
        &[
            "catalog",
            "-a",
            "H100:8",
            "--cloud",
            "aws",
            "--region",
            "us-east-1",
            "--spot",
            "--max-price",
            "40",
            "--json",
        ],
    );
    let row: serde_json::Value =
        serde_json::from_str(spot.stdout.lines().next().unwrap_or_default()).unwrap_or_default();
    assert_eq!(row["market"], "spot");
    assert!(row["hourly"]
        .as_f64()
        .is_some_and(|p| p <= 40.0 && p < p5_price()));
    assert_eq!(
        row["quota"], "L-7212CCBC",
        "spot instances count against the spot quota"
    );

    let table = gantry(&root, &["catalog", "-a", "tpu-v5e:16", "--cloud", "gcp"]);
    assert_eq!(table.code, 0);
    assert!(
        table.stdout.contains("v5litepod-16") && table.stdout.contains("(4x4)"),
        "{}",
        table.stdout
    );
    assert!(
        table.stderr.contains("prices of 20"),
        "dated: {}",
        table.stderr
    );

    let none = gantry(&root, &["catalog", "-a", "H100", "--max-price", "0.5"]);
    assert_eq!(none.code, 0);
    assert!(none.stderr.contains("Nothing in the catalog matches"));
    let bad = gantry(&root, &["catalog", "-a", "H900"]);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains("no accelerator `H900`") && bad.stderr.contains("H100"),
        "{}",
        bad.stderr
    );
}

#[test]
fn plans_show_cost_per_resource_the_total_and_the_delta() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(dir, "main.hcl", GPU_STACK);
    let price = p5_price();
    let plan = gantry(dir, &["plan", "--sim", "."]);
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    let per_instance = format!("# cost: ${price:.2}/h");
    assert_eq!(
        plan.stdout.matches(&per_instance).count(),
        2,
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("# cost: $0.10/h"), "EKS control plane");
    assert!(
        plan.stdout.contains("# cost: usage-based (S3"),
        "{}",
        plan.stdout
    );
    let total = 2.0 * price + 0.10;
    assert!(
        plan.stdout.contains(&format!("Cost: +${total:.2}/h")),
        "{}",
        plan.stdout
    );
    assert!(plan
        .stdout
        .contains("Usage-based, not in the total: aws_s3_bucket.data"));

    let json = gantry(dir, &["plan", "--sim", "--json", "."]);
    let lines: Vec<serde_json::Value> = json
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let summary = lines.iter().find(|l| l["type"] == "cost_summary");
    let summary = summary.unwrap_or_else(|| panic!("no cost_summary: {}", json.stdout));
    assert!((summary["total_hourly"].as_f64().unwrap_or_default() - total).abs() < 1e-6);
    assert!((summary["delta_monthly"].as_f64().unwrap_or_default() - total * 730.0).abs() < 1e-3);
    let gpu = lines.iter().find(|l| l["address"] == "aws_instance.gpu[0]");
    let gpu = gpu.unwrap_or_else(|| panic!("no change line"));
    assert_eq!(gpu["cost"]["after_hourly"].as_f64(), Some(price));

    let apply = gantry(dir, &["apply", "--sim", "--auto-approve", "."]);
    assert_eq!(apply.code, 0, "{}", apply.transcript());
    // Shrinking to one node: the plan shows what stops being paid and the new total.
    let shrink = gantry(dir, &["plan", "--sim", "--var", "nodes=1", "."]);
    assert_eq!(shrink.code, 0, "{}", shrink.transcript());
    assert!(
        shrink.stdout.contains(&format!("# cost: -${price:.2}/h")),
        "{}",
        shrink.stdout
    );
    assert!(
        shrink.stdout.contains(&format!("Cost: -${price:.2}/h")),
        "{}",
        shrink.stdout
    );
    assert!(shrink
        .stdout
        .contains(&format!("the stack: ${:.2}/h", price + 0.10)));
    let same = gantry(dir, &["plan", "--sim", "."]);
    assert!(
        same.stdout.contains(&format!("Stack cost: ${total:.2}/h")),
        "{}",
        same.stdout
    );
}

#[test]
fn a_budget_fails_the_plan_before_apply_and_names_the_biggest_cost() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(dir, "main.hcl", GPU_STACK);
    write(dir, "budget.hcl", "budget {\n  max_hourly = 100\n}\n");
    let price = p5_price();
    assert!(
        2.0 * price > 100.0,
        "the test needs two p5s to exceed $100/h"
    );
    let apply = gantry(dir, &["apply", "--sim", "--auto-approve", "."]);
    assert_eq!(apply.code, 1, "{}", apply.transcript());
    assert!(
        apply.stderr.contains("over its budget of $100.00/h"),
        "{}",
        apply.stderr
    );
    assert!(
        apply.stderr.contains("budget.hcl:2:16"),
        "points at the budget: {}",
        apply.stderr
    );
    assert!(
        apply.stderr.contains(&format!(
            "the biggest cost is aws_instance.gpu[0]: ${price:.2}/h"
        )),
        "{}",
        apply.stderr
    );
    assert!(sim_world_is_empty(dir), "nothing was created");

    // Within budget with one node; --max-hourly overrides the block either way.
    assert_eq!(
        gantry(dir, &["plan", "--sim", "--var", "nodes=1", "."]).code,
        0
    );
    let cli = gantry(
        dir,
        &[
            "plan",
            "--sim",
            "--var",
            "nodes=1",
            "--max-hourly",
            "10",
            ".",
        ],
    );
    assert_eq!(cli.code, 1);
    assert!(
        cli.stderr.contains("over its budget of $10.00/h"),
        "{}",
        cli.stderr
    );
    assert_eq!(
        gantry(dir, &["plan", "--sim", "--max-hourly", "1000", "."]).code,
        0
    );

    write(
        dir,
        "budget.hcl",
        "budget {\n  max_hourly = \"lots\"\n  max_daily = 3\n}\n",
    );
    let bad = gantry(dir, &["validate", "."]);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains("invalid `max_hourly`"),
        "{}",
        bad.stderr
    );
    assert!(
        bad.stderr.contains("unsupported argument `max_daily`") || bad.stderr.contains("max_daily"),
        "{}",
        bad.stderr
    );
}

fn quota_table(dir: &Path, limit: u32) {
    std::fs::create_dir_all(dir.join(".gantry/sim")).unwrap_or_else(|e| panic!("{e}"));
    write(
        &dir.join(".gantry/sim"),
        "capacity.json",
        &format!(r#"{{"service_quotas": [{{"code": "L-417A185B", "limit": {limit}}}]}}"#),
    );
}

#[test]
fn the_quota_preflight_fails_the_plan_with_the_numbers_and_creates_nothing() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(dir, "main.hcl", GPU_STACK);
    quota_table(dir, 300);
    let apply = gantry(dir, &["apply", "--sim", "--auto-approve", "."]);
    assert_eq!(apply.code, 1, "{}", apply.transcript());
    let err = &apply.stderr;
    assert!(
        err.contains("not enough quota: Running On-Demand P instances (L-417A185B) in us-east-1"),
        "{err}"
    );
    assert!(err.contains("this plan needs 384 vCPUs, 300 free"), "{err}");
    assert!(err.contains("limit 300 vCPUs, in use 0 vCPUs"), "{err}");
    assert!(
        err.contains("--quota-code L-417A185B --desired-value 384"),
        "{err}"
    );
    assert!(sim_world_is_empty(dir), "nothing was created");

    // One node fits; once it runs, it counts as usage against a second one.
    let one = gantry(
        dir,
        &["apply", "--sim", "--auto-approve", "--var", "nodes=1", "."],
    );
    assert_eq!(one.code, 0, "{}", one.transcript());
    let two = gantry(dir, &["plan", "--sim", "."]);
    assert_eq!(two.code, 1);
    assert!(
        two.stderr.contains("needs 192 vCPUs, 108 free"),
        "{}",
        two.stderr
    );
    assert!(two.stderr.contains("in use 192 vCPUs"), "{}", two.stderr);
    quota_table(dir, 384);
    assert_eq!(gantry(dir, &["plan", "--sim", "."]).code, 0);
}

#[test]
fn a_spec_the_region_lacks_is_a_diagnostic_listing_where_it_is_offered() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        "locals {\n  gpu = accelerator_instance_type(\"aws\", \"H100:8\", \"af-south-1\")\n}\n",
    );
    let run = gantry(dir, &["validate", "."]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("main.hcl:2:9"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("`H100:8` is not offered on aws in af-south-1"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("aws p5.48xlarge in us-east-1"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_catalog_override_in_the_stack_directory_corrects_prices() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(dir, "main.hcl", GPU_STACK);
    write(
        dir,
        "gantry.catalog.toml",
        "[[instance]]\ncloud = \"aws\"\ntype = \"p5.48xlarge\"\nregions = [{ region = \"us-east-1\", on_demand = 31.5 }]\n",
    );
    let plan = gantry(dir, &["plan", "--sim", "."]);
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    assert_eq!(
        plan.stdout.matches("# cost: $31.50/h").count(),
        2,
        "{}",
        plan.stdout
    );
    let catalog = gantry(
        dir,
        &[
            "catalog",
            "-a",
            "H100:8",
            "--region",
            "us-east-1",
            "--cloud",
            "aws",
        ],
    );
    assert!(catalog.stdout.contains("$31.50"), "{}", catalog.stdout);
    assert!(
        catalog.stderr.contains("with overrides from"),
        "{}",
        catalog.stderr
    );

    write(
        dir,
        "gantry.catalog.toml",
        "[[instance]]\ncloud = \"aws\"\ntype = 5\n",
    );
    let bad: Run = gantry(dir, &["plan", "--sim", "."]);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains("invalid catalog file") && bad.stderr.contains(":3:8"),
        "{}",
        bad.stderr
    );
}

/// Cloud TPU's quotas are per zone: under `--sim` as against Google Cloud, a slice's chips
/// count in its zone only. With 16 chips of v5e quota, a second 16-chip slice fits in the
/// next zone but not beside the first one.
#[test]
fn a_zonal_tpu_quota_counts_only_the_slices_of_its_zone() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join(".gantry/sim")).unwrap_or_else(|e| panic!("{e}"));
    write(
        &dir.join(".gantry/sim"),
        "capacity.json",
        r#"{"service_quotas": [{"code": "TPUV5sLitepodPerProjectPerZoneForTPUAPI", "limit": 16}]}"#,
    );
    let slice = |name: &str, zone: &str| {
        format!(
            "resource \"google_tpu_v2_vm\" \"{name}\" {{\n  name             = \"{name}\"\n  zone             = \"{zone}\"\n  runtime_version  = \"v2-alpha-tpuv5-lite\"\n  accelerator_type = \"v5litepod-16\"\n}}\n"
        )
    };
    let provider = "provider \"google\" {\n  project = \"p\"\n  region  = \"us-west4\"\n}\n";
    write(
        dir,
        "main.hcl",
        &format!("{provider}{}", slice("a", "us-west4-a")),
    );
    let first = gantry(dir, &["apply", "--sim", "--auto-approve", "."]);
    assert_eq!(first.code, 0, "{}", first.transcript());

    // The second slice in the next zone, then beside the first.
    let plan_second_in = |zone: &str| {
        let both = format!("{provider}{}{}", slice("a", "us-west4-a"), slice("b", zone));
        write(dir, "main.hcl", &both);
        gantry(dir, &["plan", "--sim", "."])
    };
    let elsewhere = plan_second_in("us-west4-b");
    assert_eq!(elsewhere.code, 0, "{}", elsewhere.transcript());
    let beside = plan_second_in("us-west4-a");
    assert_eq!(beside.code, 1, "{}", beside.transcript());
    assert!(
        beside
            .stderr
            .contains("TPUV5sLitepodPerProjectPerZoneForTPUAPI")
            && beside.stderr.contains("in us-west4-a")
            && beside.stderr.contains("in use 16 TPU chips"),
        "{}",
        beside.stderr
    );
}

//! `gantry show`: saved plans and the state as text, as JSON documents checked against the
//! JSON Schemas in `schemas/`, and as the pull-request report (snapshots of the AI example:
//! a cost delta, a replacement, a destroy, drift; and the 10,000-resource plan's size).

use crate::support::{copy_dir, gantry, repo_root, Run};
use std::path::Path;

fn schema(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo_root().join("schemas").join(name))
        .unwrap_or_else(|e| panic!("{name}: {e}"));
    let json: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    jsonschema::validator_for(&json).unwrap_or_else(|e| panic!("{name} is not a schema: {e}"))
}

/// Parses `run`'s stdout as JSON and validates it against `schema_file`.
fn valid_document(run: &Run, schema_file: &str) -> serde_json::Value {
    assert_eq!(run.code, 0, "{}", run.transcript());
    let doc: serde_json::Value = serde_json::from_str(&run.stdout)
        .unwrap_or_else(|e| panic!("not JSON: {e}\n{}", run.stdout));
    let validator = schema(schema_file);
    let errors: Vec<String> = validator
        .iter_errors(&doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "{schema_file}: {errors:#?}");
    doc
}

/// The AI training example, copied alone into a fresh directory.
fn example() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    copy_dir(&repo_root().join("examples/llm-training-aws"), tmp.path());
    tmp
}

fn ok(dir: &Path, args: &[&str]) -> Run {
    let run = gantry(dir, args);
    assert_eq!(run.code, 0, "gantry {args:?}: {}", run.transcript());
    run
}

/// The report with what changes between runs (the version, the ids the simulated cloud
/// makes up) made stable.
fn stable(report: &str) -> String {
    report.replace(
        &format!("gantry {} ·", env!("CARGO_PKG_VERSION")),
        "gantry VERSION ·",
    )
}

/// Snapshots a report with the simulated cloud's generated ids masked.
macro_rules! assert_report {
    ($name:expr, $report:expr) => {
        insta::with_settings!({filters => vec![
            (r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "[uuid]"),
            (r"\b([a-z]+)-[0-9a-f]{8,17}\b", "$1-[id]"),
            (r#""[0-9]{8,11}""#, r#""[number]""#),
            // A policy document's id is a CRC-32 of its text: 1 to 10 digits.
            (r#"(\bid +=) "[0-9]{1,7}""#, r#"$1 "[number]""#),
        ]}, {
            insta::assert_snapshot!($name, stable(&$report));
        });
    };
}

#[test]
fn a_saved_plan_shows_as_text_json_and_markdown() {
    let tmp = example();
    let dir = tmp.path();
    let plan = ok(dir, &["plan", "--sim", "--out", "plan.bin", "."]);
    let text = ok(dir, &["show", "plan.bin"]);
    assert_eq!(
        text.stdout, plan.stdout,
        "show prints the plan as plan printed it"
    );

    let doc = valid_document(
        &gantry(dir, &["show", "--json", "plan.bin"]),
        "plan.schema.json",
    );
    let changes = doc["resource_changes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let creates = changes.iter().filter(|c| c["action"] == "create").count();
    assert_eq!(doc["summary"]["add"].as_u64(), Some(creates as u64));
    assert!(creates > 30, "{creates} creates");
    // Per-change costs add up to the total.
    let sum: f64 = changes
        .iter()
        .filter_map(|c| c["cost"]["delta_hourly"].as_f64())
        .sum();
    let total = doc["cost"]["delta_hourly"].as_f64().unwrap_or(-1.0);
    assert!((sum - total).abs() < 1e-6, "{sum} vs {total}");
    assert_eq!(doc["cost"]["within_budget"], true);
    assert_eq!(doc["cost"]["budget_hourly"].as_f64(), Some(500.0));
    let node_group = changes
        .iter()
        .find(|c| c["address"] == "module.cluster.aws_eks_node_group.gpu")
        .unwrap_or_else(|| panic!("no node group in {changes:?}"));
    assert_eq!(node_group["module"], "module.cluster");
    assert!(node_group["after_unknown"]
        .as_array()
        .is_some_and(|u| u.iter().any(|p| p == "arn")));
    assert_eq!(doc["quota_checks"][0]["code"], "L-417A185B");
    assert_eq!(doc["quota_checks"][0]["outcome"], "enough");
    assert_eq!(doc["quota_checks"][0]["needed"].as_f64(), Some(768.0));

    let markdown = ok(dir, &["show", "--markdown", "plan.bin"]).stdout;
    assert_report!("show_markdown_create", markdown);
}

#[test]
fn the_report_calls_out_replacements_updates_destroys_and_drift() {
    let tmp = example();
    let dir = tmp.path();
    ok(dir, &["apply", "--sim", "--auto-approve", "."]);

    // A100 nodes instead of H100: the node group is replaced (instance types force it)
    // and the stack gets cheaper; fewer nodes would be an update in place.
    ok(
        dir,
        &[
            "plan",
            "--sim",
            "--out",
            "replace.bin",
            "--var",
            "accelerator=A100:8",
            "--var",
            "nodes=2",
            ".",
        ],
    );
    let doc = valid_document(
        &gantry(dir, &["show", "--json", "replace.bin"]),
        "plan.schema.json",
    );
    assert_eq!(
        doc["summary"]["replace"].as_u64(),
        Some(1),
        "{:#}",
        doc["summary"]
    );
    assert!(doc["cost"]["delta_hourly"].as_f64().unwrap_or(0.0) < 0.0);
    let report = ok(dir, &["show", "--markdown", "replace.bin"]).stdout;
    let destructive = report.find("### Destroyed or replaced");
    let changes = report.find("### Changes");
    assert!(
        destructive.is_some() && destructive < changes,
        "replacements come first:\n{report}"
    );
    assert_report!("show_markdown_replace", report);

    ok(
        dir,
        &["plan", "--sim", "--destroy", "--out", "destroy.bin", "."],
    );
    let report = ok(dir, &["show", "--markdown", "destroy.bin"]).stdout;
    assert_report!("show_markdown_destroy", report);

    // Everything deleted behind gantry's back: drift, listed apart, and a plan to recreate.
    ok(dir, &["sim", "reset", "--dir", "."]);
    ok(dir, &["plan", "--sim", "--out", "drift.bin", "."]);
    let doc = valid_document(
        &gantry(dir, &["show", "--json", "drift.bin"]),
        "plan.schema.json",
    );
    let drift = doc["resource_drift"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(!drift.is_empty() && drift.iter().all(|d| d["deleted"] == true));
    let report = ok(dir, &["show", "--markdown", "drift.bin"]).stdout;
    assert_report!("show_markdown_drift", report);
}

#[test]
fn the_state_shows_as_text_json_and_markdown() {
    let tmp = example();
    let dir = tmp.path();
    let empty = ok(dir, &["show", "--sim", "--dir", "."]);
    assert!(
        empty.stdout.contains("The state is empty"),
        "{}",
        empty.stdout
    );
    ok(dir, &["apply", "--sim", "--auto-approve", "."]);
    let doc = valid_document(
        &gantry(dir, &["show", "--sim", "--json", "--dir", "."]),
        "state.schema.json",
    );
    let listed = ok(dir, &["state", "list", "--sim", "--dir", "."]).stdout;
    let addresses: Vec<&str> = doc["resources"]
        .as_array()
        .map(|r| r.iter().filter_map(|r| r["address"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(addresses, listed.lines().collect::<Vec<_>>());
    let text = ok(dir, &["show", "--sim", "--dir", "."]).stdout;
    assert!(
        text.contains("resource \"aws_eks_node_group\" \"gpu\" {"),
        "{text}"
    );
    let markdown = ok(dir, &["show", "--sim", "--markdown", "--dir", "."]).stdout;
    assert!(markdown.starts_with(&format!(
        "## gantry state: {} resources",
        doc["resources"]
            .as_array()
            .map_or(0, |r| r.iter().filter(|r| r["mode"] == "managed").count())
    )));
    assert!(markdown.contains("| `module.cluster.aws_eks_node_group.gpu` |"));
}

#[test]
fn sensitive_values_never_reach_a_plan_file_or_what_show_prints() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    std::fs::write(
        dir.join("main.hcl"),
        r#"
variable "token" {
  type      = string
  sensitive = true
}

variable "size" {
  type    = number
  default = 1
}

resource "gantry_data" "db" {
  input = { user = "admin", password = var.token, size = var.size }
}

output "password" {
  value     = gantry_data.db.output.password
  sensitive = true
}
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let secret = "s3cr3t-Value-9f1c";
    ok(
        dir,
        &[
            "plan",
            "--out",
            "plan.bin",
            "--var",
            &format!("token={secret}"),
            ".",
        ],
    );
    let file = std::fs::read_to_string(dir.join("plan.bin")).unwrap_or_default();
    assert!(!file.is_empty() && !file.contains(secret), "{file}");
    let json = valid_document(
        &gantry(dir, &["show", "--json", "plan.bin"]),
        "plan.schema.json",
    );
    let db = &json["resource_changes"][0];
    assert_eq!(db["after"]["input"]["password"], serde_json::Value::Null);
    assert!(db["sensitive_paths"]
        .as_array()
        .is_some_and(|p| p.iter().any(|p| p == "input.password")));
    for args in [
        &["show", "plan.bin"][..],
        &["show", "--markdown", "plan.bin"][..],
    ] {
        let out = ok(dir, args).stdout;
        assert!(!out.contains(secret), "{args:?}: {out}");
        assert!(out.contains("(sensitive value)"), "{args:?}: {out}");
    }
    // The plan file holds no secret, so applying it needs the value again: the same one.
    let missing = gantry(dir, &["apply", "plan.bin"]);
    assert_eq!(missing.code, 1, "{}", missing.transcript());
    assert!(
        missing
            .stderr
            .contains("no value for required variable `token`"),
        "{}",
        missing.stderr
    );
    let other = gantry(
        dir,
        &["apply", "--var", "token=another-secret-42", "plan.bin"],
    );
    assert_eq!(other.code, 1, "{}", other.transcript());
    assert!(
        other.stderr.contains("has another value"),
        "{}",
        other.stderr
    );
    let extra = gantry(
        dir,
        &[
            "apply",
            "--var",
            &format!("token={secret}"),
            "--var",
            "size=2",
            "plan.bin",
        ],
    );
    assert_eq!(extra.code, 1, "{}", extra.transcript());
    assert!(
        extra
            .stderr
            .contains("`size` is set now but was not when the plan was made"),
        "{}",
        extra.stderr
    );
    let applied = ok(
        dir,
        &["apply", "--var", &format!("token={secret}"), "plan.bin"],
    );
    assert!(!applied.stdout.contains(secret) && !applied.stderr.contains(secret));
    for args in [
        &["show", "--json"][..],
        &["show", "--markdown"][..],
        &["show"][..],
    ] {
        let out = ok(dir, args).stdout;
        assert!(!out.contains(secret), "{args:?}: {out}");
    }
}

#[test]
fn a_file_that_is_not_a_current_plan_is_refused_with_what_to_do() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    std::fs::write(
        dir.join("old.bin"),
        r#"{"format":"gantry-plan/1","changes":[]}"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.join("junk.bin"), "not json").unwrap_or_else(|e| panic!("{e}"));
    let old = gantry(dir, &["show", "old.bin"]);
    assert_eq!(old.code, 1);
    assert!(
        old.stderr.contains("format `gantry-plan/1`") && old.stderr.contains("gantry plan --out"),
        "{}",
        old.stderr
    );
    let junk = gantry(dir, &["show", "--json", "junk.bin"]);
    assert_eq!(junk.code, 1);
    assert!(
        junk.stderr.contains("is not a gantry plan file"),
        "{}",
        junk.stderr
    );
    let missing = gantry(dir, &["show", "--markdown", "missing.bin"]);
    assert_eq!(missing.code, 1);
    assert!(missing.stderr.contains("cannot read"), "{}", missing.stderr);
}

#[test]
fn the_report_of_a_10000_resource_plan_fits_a_comment_and_counts_what_it_left_out() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let stack = tmp.path().join("stack");
    let generated = std::process::Command::new("python3")
        .arg(repo_root().join("bench/gen_stack.py"))
        .arg(&stack)
        .args(["--resources", "10000", "--modules", "50"])
        .output()
        .unwrap_or_else(|e| panic!("python3: {e}"));
    assert!(generated.status.success(), "{generated:?}");
    let plan_file = tmp.path().join("plan.bin");
    let plan_path = plan_file.to_string_lossy().into_owned();
    ok(tmp.path(), &["plan", "--out", &plan_path, "stack"]);
    let doc = valid_document(
        &gantry(tmp.path(), &["show", "--json", &plan_path]),
        "plan.schema.json",
    );
    let total = doc["resource_changes"].as_array().map_or(0, Vec::len);
    assert!(total >= 10_000, "{total} changes");

    let report = ok(tmp.path(), &["show", "--markdown", &plan_path]).stdout;
    let chars = report.chars().count();
    assert!(chars < 65_536, "{chars} characters");
    assert!(chars > 50_000, "the budget is used, not wasted: {chars}");
    // Every change shown is a whole diff block; the note counts the rest exactly.
    let shown = report.matches("will be created").count();
    let note = format!("**{} of {total} changes are not shown**", total - shown);
    assert!(
        report.contains(&note),
        "expected {note:?} in the report's end:\n{}",
        &report[report.len().saturating_sub(600)..]
    );
    assert_eq!(report.matches("```diff").count(), shown);
    assert_eq!(
        report.matches("<details>").count(),
        report.matches("</details>").count()
    );
    assert!(report.starts_with(&format!(
        "## gantry plan: {total} to add, 0 to change, 0 to destroy"
    )));
}

/// `examples/train-anywhere`'s saved plan, as JSON: its module failover (each alternative
/// priced, the order, the one the plan applies) fits the schema.
#[test]
fn a_plan_with_module_failover_is_a_valid_document() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    copy_dir(&repo_root().join("examples/train-anywhere"), dir);
    ok(dir, &["plan", "--sim", "--out", "p.plan", "."]);
    let doc = valid_document(
        &gantry(dir, &["show", "--json", "p.plan"]),
        "plan.schema.json",
    );
    let m = &doc["module_failovers"][0];
    assert_eq!(m["address"], "module.nodes");
    assert_eq!(m["order"], "cost");
    assert_eq!(m["selected"], 0);
    assert_eq!(m["placing"], true);
    assert_eq!(m["attempts"], serde_json::json!([0, 1, 2]));
    let prices: Vec<f64> = m["alternatives"]
        .as_array()
        .map(|a| a.iter().filter_map(|c| c["hourly_usd"].as_f64()).collect())
        .unwrap_or_default();
    assert_eq!(prices.len(), 3, "{m}");
    assert!(prices[0] < prices[1] && prices[1] < prices[2], "{prices:?}");
}

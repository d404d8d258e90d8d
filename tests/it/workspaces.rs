//! Workspaces: `gantry workspace list|show|new|select|delete`, `terraform.workspace`,
//! `GANTRY_WORKSPACE`, and states kept apart (under --sim too, where workspaces share one
//! simulated cloud).

use crate::support::{gantry, gantry_env, Run};
use std::path::Path;

const STACK: &str = r#"
resource "gantry_data" "bucket" {
  input = { name = "data-${terraform.workspace}" }
}

output "name" {
  value = gantry_data.bucket.output.name
}
"#;

fn ok(dir: &Path, args: &[&str]) -> Run {
    let run = gantry(dir, args);
    assert_eq!(run.code, 0, "gantry {args:?}: {}", run.transcript());
    run
}

fn stack() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(tmp.path().join("main.hcl"), STACK).unwrap_or_else(|e| panic!("{e}"));
    tmp
}

#[test]
fn workspaces_keep_states_apart_and_name_themselves_in_expressions() {
    let tmp = stack();
    let dir = tmp.path();
    assert_eq!(ok(dir, &["workspace", "show"]).stdout, "default\n");
    ok(dir, &["apply", "--sim", "--auto-approve", "."]);
    assert_eq!(
        ok(dir, &["output", "--sim", "--raw", "name"]).stdout,
        "data-default\n"
    );

    let created = ok(dir, &["workspace", "new", "staging"]);
    assert!(created
        .stderr
        .contains("Created and selected workspace \"staging\""));
    assert_eq!(ok(dir, &["workspace", "show"]).stdout, "staging\n");
    assert_eq!(
        ok(dir, &["workspace", "list"]).stdout,
        "  default\n* staging\n"
    );
    // A new workspace starts empty: its plan creates everything again, under its own name.
    let plan = ok(dir, &["plan", "--sim", "."]);
    assert!(plan.stdout.contains("Plan: 1 to add"), "{}", plan.stdout);
    assert!(plan.stdout.contains("data-staging"), "{}", plan.stdout);
    ok(dir, &["apply", "--sim", "--auto-approve", "."]);
    assert_eq!(
        ok(dir, &["output", "--sim", "--raw", "name"]).stdout,
        "data-staging\n"
    );
    assert!(dir
        .join(".gantry/sim/workspaces/staging/state.json")
        .is_file());

    // Both objects exist in the one simulated cloud, each tracked by its own workspace.
    let world = ok(dir, &["sim", "ls", "--dir", "."]).stdout;
    assert_eq!(world.lines().count(), 2, "{world}");

    // The environment chooses for one command, without changing the selection.
    let default_plan = gantry_env(
        dir,
        &["plan", "--sim", "--detailed-exitcode", "."],
        &[("GANTRY_WORKSPACE", "default")],
    );
    assert_eq!(default_plan.code, 0, "{}", default_plan.transcript());
    assert_eq!(ok(dir, &["workspace", "show"]).stdout, "staging\n");

    // A plan saved in one workspace is applied in that one only.
    ok(dir, &["plan", "--sim", "--out", "staging.bin", "."]);
    let elsewhere = gantry_env(
        dir,
        &["apply", "staging.bin"],
        &[("GANTRY_WORKSPACE", "default")],
    );
    assert_eq!(elsewhere.code, 1, "{}", elsewhere.transcript());
    assert!(
        elsewhere
            .stderr
            .contains("made in workspace `staging`, but the current workspace is `default`"),
        "{}",
        elsewhere.stderr
    );
    ok(dir, &["apply", "staging.bin"]);

    // A workspace that tracks resources is not deleted by accident; the current one never.
    ok(dir, &["workspace", "select", "default"]);
    let refused = gantry(dir, &["workspace", "delete", "staging"]);
    assert_eq!(refused.code, 1);
    assert!(
        refused
            .stderr
            .contains("still tracks 1 resource(s) (under --sim)"),
        "{}",
        refused.stderr
    );
    let destroyed = gantry_env(
        dir,
        &["destroy", "--sim", "--auto-approve", "."],
        &[("GANTRY_WORKSPACE", "staging")],
    );
    assert_eq!(destroyed.code, 0, "{}", destroyed.transcript());
    ok(dir, &["workspace", "delete", "staging"]);
    assert_eq!(ok(dir, &["workspace", "list"]).stdout, "* default\n");
    assert_eq!(
        ok(dir, &["output", "--sim", "--raw", "name"]).stdout,
        "data-default\n"
    );
    let current = gantry(dir, &["workspace", "delete", "default"]);
    assert_eq!(current.code, 1);
    assert!(current.stderr.contains("cannot delete workspace `default`"));
}

#[test]
fn bad_workspace_names_and_missing_workspaces_are_errors_with_what_to_do() {
    let tmp = stack();
    let dir = tmp.path();
    let bad = gantry(dir, &["workspace", "new", "../escape"]);
    assert_eq!(bad.code, 1);
    assert!(
        bad.stderr.contains("is not a valid workspace name"),
        "{}",
        bad.stderr
    );
    assert!(!dir.join("escape").exists() && !dir.join(".gantry/escape").exists());

    let missing = gantry(dir, &["workspace", "select", "prod"]);
    assert_eq!(missing.code, 1);
    assert!(
        missing.stderr.contains("workspace `prod` does not exist")
            && missing.stderr.contains("gantry workspace new"),
        "{}",
        missing.stderr
    );
    // Chosen by the environment but never created: no silent empty state.
    let plan = gantry_env(
        dir,
        &["plan", "--sim", "."],
        &[("GANTRY_WORKSPACE", "prod")],
    );
    assert_eq!(plan.code, 1, "{}", plan.transcript());
    assert!(
        plan.stderr.contains("workspace `prod` does not exist"),
        "{}",
        plan.stderr
    );
    let selected = gantry_env(
        dir,
        &["workspace", "select", "default"],
        &[("TF_WORKSPACE", "x")],
    );
    assert_eq!(selected.code, 1);
    assert!(selected
        .stderr
        .contains("chosen by the environment variable TF_WORKSPACE"));
}

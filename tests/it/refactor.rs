//! `moved` and `removed` blocks end to end under `--sim`: a stack is refactored without
//! destroying anything, and a resource is let go of without destroying it.

use crate::support::{gantry, squeeze, Run};
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) {
    if let Some(parent) = dir.join(name).parent() {
        std::fs::create_dir_all(parent).unwrap_or_else(|e| panic!("{e}"));
    }
    std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{e}"));
}

/// The simulated world's objects (id column), which a move must never change.
fn world_ids(dir: &Path) -> Vec<String> {
    let run = gantry(dir, &["sim", "ls", "--dir", "."]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let mut ids: Vec<String> = run
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().nth(1).map(str::to_owned))
        .collect();
    ids.sort();
    ids
}

fn state_list(dir: &Path) -> Vec<String> {
    let run = gantry(dir, &["state", "list", "--sim"]);
    run.stdout.lines().map(str::to_owned).collect()
}

fn ok(run: &Run) {
    assert_eq!(run.code, 0, "{}", run.transcript());
}

const BEFORE: &str = r#"
resource "gantry_data" "a" {
  count = 2
  input = "x${count.index}"
}
resource "gantry_data" "user" { input = gantry_data.a[0].id }
resource "gantry_data" "debug" { input = "keep me" }
resource "gantry_data" "zone" {
  count = 2
  input = "zone-${count.index}"
}
"#;

const AFTER: &str = r#"
module "net" { source = "./net" }
resource "gantry_data" "user" { input = module.net.first }
resource "gantry_data" "zone" {
  for_each = { a = 0, b = 1 }
  input    = "zone-${each.value}"
}

moved {
  from = gantry_data.a
  to   = module.net.gantry_data.a
}
moved {
  from = gantry_data.zone[0]
  to   = gantry_data.zone["a"]
}
moved {
  from = gantry_data.zone[1]
  to   = gantry_data.zone["b"]
}
removed {
  from = gantry_data.debug
  lifecycle {
    destroy = false
  }
}
"#;

const NET: &str = r#"
resource "gantry_data" "a" {
  count = 2
  input = "x${count.index}"
}
output "first" { value = gantry_data.a[0].id }
"#;

#[test]
fn refactoring_moves_and_forgets_without_touching_a_single_object() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(dir, "main.hcl", BEFORE);
    ok(&gantry(dir, &["apply", "--sim", "--auto-approve"]));
    let objects = world_ids(dir);
    assert_eq!(objects.len(), 6);

    write(dir, "main.hcl", AFTER);
    write(dir, "net/main.hcl", NET);
    let plan = gantry(dir, &["plan", "--sim", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.transcript());
    for line in [
        "# gantry_data.a[0] has moved to module.net.gantry_data.a[0]",
        "# gantry_data.a[1] has moved to module.net.gantry_data.a[1]",
        "# gantry_data.zone[0] has moved to gantry_data.zone[\"a\"]",
        "# gantry_data.debug will no longer be managed by gantry",
        "Plan: 0 to add, 0 to change, 0 to destroy, 1 to forget.",
    ] {
        assert!(plan.stdout.contains(line), "{line}\n{}", plan.stdout);
    }
    // Nothing was written by the plan.
    assert!(state_list(dir).contains(&"gantry_data.a[0]".to_owned()));

    let apply = gantry(dir, &["apply", "--sim", "--auto-approve"]);
    ok(&apply);
    assert!(
        apply.stderr.contains(
            "Apply complete! Resources: 0 added, 0 changed, 0 destroyed, 4 moved, 1 forgotten."
        ),
        "{}",
        apply.stderr
    );
    assert_eq!(
        state_list(dir),
        [
            "gantry_data.user",
            "gantry_data.zone[\"a\"]",
            "gantry_data.zone[\"b\"]",
            "module.net.gantry_data.a[0]",
            "module.net.gantry_data.a[1]"
        ]
    );
    // Every object is still there, the forgotten one included, and none was re-created.
    assert_eq!(world_ids(dir), objects);
    let again = gantry(dir, &["plan", "--sim", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}", again.transcript());

    // Destroy takes what state tracks now, and leaves the forgotten object alone.
    ok(&gantry(dir, &["destroy", "--sim", "--auto-approve"]));
    assert_eq!(world_ids(dir).len(), 1);
}

#[test]
fn a_moved_object_that_also_changes_is_updated_at_its_new_address() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        r#"resource "gantry_data" "old" { input = 1 }"#,
    );
    ok(&gantry(dir, &["apply", "--sim", "--auto-approve"]));
    write(
        dir,
        "main.hcl",
        r#"
resource "gantry_data" "new" { input = 2 }
moved {
  from = gantry_data.old
  to   = gantry_data.new
}
"#,
    );
    let plan = gantry(dir, &["plan", "--sim", "--json"]);
    ok(&plan);
    let events: Vec<serde_json::Value> = plan
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    assert!(events.iter().any(|e| e["type"] == "resource_moved"
        && e["from"] == "gantry_data.old"
        && e["to"] == "gantry_data.new"));
    assert!(events.iter().any(|e| e["type"] == "planned_change"
        && e["address"] == "gantry_data.new"
        && e["action"] == "update"));
    let human = gantry(dir, &["plan", "--sim"]);
    assert!(
        human.stdout.contains(
            "# gantry_data.new will be updated in-place\n  # (moved from gantry_data.old)"
        ),
        "{}",
        human.stdout
    );

    // A saved plan carries the move, and applies exactly.
    let out = dir.join("p.plan");
    ok(&gantry(
        dir,
        &["plan", "--sim", "--out", out.to_str().unwrap_or_default()],
    ));
    ok(&gantry(
        dir,
        &["apply", "--sim", out.to_str().unwrap_or_default()],
    ));
    assert_eq!(state_list(dir), ["gantry_data.new"]);
    let show = gantry(dir, &["state", "show", "--sim", "gantry_data.new"]);
    assert!(show.stdout.contains("input"), "{}", show.stdout);
    assert!(
        squeeze(&show.stdout).contains("input = 2"),
        "{}",
        show.stdout
    );
}

#[test]
fn a_move_onto_a_tracked_address_is_an_error_naming_the_block() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        r#"
resource "gantry_data" "a" {}
resource "gantry_data" "b" {}
"#,
    );
    ok(&gantry(dir, &["apply", "--sim", "--auto-approve"]));
    write(
        dir,
        "main.hcl",
        r#"
resource "gantry_data" "b" {}

moved {
  from = gantry_data.a
  to   = gantry_data.b
}
"#,
    );
    let plan = gantry(dir, &["plan", "--sim"]);
    assert_eq!(plan.code, 1, "{}", plan.transcript());
    assert!(
        plan.stderr
            .contains("cannot move `gantry_data.a` to `gantry_data.b`: both are tracked"),
        "{}",
        plan.stderr
    );
    assert!(plan.stderr.contains("main.hcl:4:1"), "{}", plan.stderr);
    assert!(plan.stderr.contains("gantry state rm"), "{}", plan.stderr);
    // Nothing happened.
    let apply = gantry(dir, &["apply", "--sim", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{}", apply.transcript());
    assert_eq!(state_list(dir), ["gantry_data.a", "gantry_data.b"]);
}

#[test]
fn validate_reports_blocks_that_cannot_mean_anything() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        r#"
resource "gantry_data" "kept" {}

moved {
  from = gantry_data.kept
  to   = gantry_data.elsewhere
}

removed {
  from = gantry_data.kept
}

moved {
  from = "gantry_data.quoted"
  to   = gantry_data.kept
}
"#,
    );
    let run = gantry(dir, &["validate"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    for expected in [
        "the destination `gantry_data.elsewhere` is not declared",
        "--> ./main.hcl:6:10",
        "`gantry_data.kept` is still declared",
        "invalid address",
        "--> ./main.hcl:14:10",
    ] {
        assert!(run.stderr.contains(expected), "{expected}\n{}", run.stderr);
    }
}

/// Makes a `gantry_data` object in the simulated world that state does not track (as if
/// made by hand), and returns its id.
fn untracked_object(dir: &Path, input: &str) -> String {
    write(
        dir,
        "main.hcl",
        &format!("resource \"gantry_data\" \"tmp\" {{ input = \"{input}\" }}"),
    );
    ok(&gantry(dir, &["apply", "--sim", "--auto-approve"]));
    let show = gantry(dir, &["state", "show", "--sim", "gantry_data.tmp"]);
    let id = squeeze(&show.stdout)
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("id = \"")
                .map(|r| r.trim_end_matches('"').to_owned())
        })
        .unwrap_or_else(|| panic!("no id in {}", show.stdout));
    ok(&gantry(dir, &["state", "rm", "--sim", "gantry_data.tmp"]));
    id
}

#[test]
fn import_blocks_plan_apply_and_then_do_nothing() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    let id = untracked_object(dir, "by hand");
    let objects = world_ids(dir);
    write(
        dir,
        "main.hcl",
        &format!(
            r#"
variable "legacy_id" {{
  type    = string
  default = "{id}"
}}
resource "gantry_data" "legacy" {{ input = "adopted" }}
import {{
  to = gantry_data.legacy
  id = var.legacy_id
}}
"#
        ),
    );
    let plan = gantry(dir, &["plan", "--sim", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.transcript());
    assert!(
        plan.stdout.contains(&format!(
            "# gantry_data.legacy will be updated in-place\n  # (imported from \"{id}\")"
        )),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("Plan: 1 to import, 0 to add, 1 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    let other = gantry(
        dir,
        &["plan", "--sim", "--var", "legacy_id=d-0000000000000000"],
    );
    assert_eq!(other.code, 1, "{}", other.transcript());
    assert!(
        other
            .stderr
            .contains("cannot import `d-0000000000000000` as `gantry_data.legacy`"),
        "{}",
        other.stderr
    );
    ok(&gantry(dir, &["apply", "--sim", "--auto-approve"]));
    let show = gantry(dir, &["state", "show", "--sim", "gantry_data.legacy"]);
    assert!(
        squeeze(&show.stdout).contains(&format!("id = \"{id}\"")),
        "{}",
        show.stdout
    );
    assert!(
        squeeze(&show.stdout).contains("input = \"adopted\""),
        "{}",
        show.stdout
    );
    // The same object: nothing was created.
    assert_eq!(world_ids(dir), objects);
    let again = gantry(dir, &["plan", "--sim", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}", again.transcript());
}
#[test]
fn import_blocks_that_cannot_mean_anything_are_errors() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    let id = untracked_object(dir, "spare");
    write(
        dir,
        "main.hcl",
        r#"
module "net" { source = "./net" }
resource "gantry_data" "pool" { count = 1 }
locals { id = "d-1" }
import {
  to = gantry_data.pool[5]
  id = "d-5"
}
import {
  to = gantry_data.pool[0]
  id = local.id
}
import {
  to = gantry_data.pool[0]
  id = "d-0"
}
"#,
    );
    write(
        dir,
        "net/main.hcl",
        r#"
resource "gantry_data" "x" {}
import {
  to = gantry_data.x
  id = "d-x"
}
"#,
    );
    let run = gantry(dir, &["plan", "--sim"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    for expected in [
        "`import` blocks belong in the root module",
        "`gantry_data.pool[0]` is imported twice",
    ] {
        assert!(run.stderr.contains(expected), "{expected}\n{}", run.stderr);
    }
    // Without the configuration mistakes, the plan-time ones.
    write(dir, "net/main.hcl", r#"resource "gantry_data" "x" {}"#);
    write(
        dir,
        "main.hcl",
        &format!(
            r#"
module "net" {{ source = "./net" }}
resource "gantry_data" "pool" {{ count = 1 }}
locals {{ id = "d-1" }}
import {{
  to = gantry_data.pool[5]
  id = "{id}"
}}
import {{
  to = gantry_data.pool[0]
  id = local.id
}}
"#
        ),
    );
    let run = gantry(dir, &["plan", "--sim"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    for expected in [
        "the import target `gantry_data.pool[5]` is not an instance of its resource",
        "an import id may use constants and `var.*` only",
    ] {
        assert!(run.stderr.contains(expected), "{expected}\n{}", run.stderr);
    }
    let apply = gantry(dir, &["apply", "--sim", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{}", apply.transcript());
    assert!(state_list(dir).is_empty());
}

//! Custom conditions under `--sim`: preconditions and postconditions stop what they guard
//! (at plan when known, at apply otherwise), output preconditions fail the plan, `check`
//! assertions warn and never stop anything.

use crate::support::{gantry, Run};
use std::path::Path;

fn write(dir: &Path, text: &str) {
    std::fs::write(dir.join("main.hcl"), text).unwrap_or_else(|e| panic!("{e}"));
}

fn state_list(dir: &Path) -> Vec<String> {
    gantry(dir, &["state", "list", "--sim"])
        .stdout
        .lines()
        .map(str::to_owned)
        .collect()
}

fn stack() -> tempfile::TempDir {
    tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))
}

const CLUSTER: &str = r#"
variable "gpus" {
  type    = number
  default = 8
}

resource "gantry_data" "cluster" {
  input = { gpus = var.gpus }
  lifecycle {
    precondition {
      condition     = var.gpus % 8 == 0
      error_message = "GPU count must fill whole nodes (multiples of 8), got ${var.gpus}."
    }
    postcondition {
      condition     = self.output.gpus <= 16
      error_message = "at most 16 GPUs per cluster"
    }
  }
}

output "endpoint" {
  value = gantry_data.cluster.id
  precondition {
    condition     = var.gpus > 0
    error_message = "no GPUs at all"
  }
}

check "finance" {
  assert {
    condition     = var.gpus <= 8
    error_message = "more than 8 GPUs: tell finance"
  }
}
"#;

fn failed(run: &Run, summary: &str, location: &str, message: &str) {
    assert_eq!(run.code, 1, "{}", run.transcript());
    for text in [summary, location, message] {
        assert!(run.stderr.contains(text), "{text}\n{}", run.stderr);
    }
}

#[test]
fn known_conditions_fail_the_plan_and_nothing_is_created() {
    let tmp = stack();
    let dir = tmp.path();
    write(dir, CLUSTER);
    let ok = gantry(dir, &["plan", "--sim"]);
    assert_eq!(ok.code, 0, "{}", ok.transcript());
    assert!(!ok.stderr.contains("warning"), "{}", ok.stderr);

    failed(
        &gantry(dir, &["plan", "--sim", "--var", "gpus=12"]),
        "error: resource precondition failed",
        "main.hcl:11:23",
        "GPU count must fill whole nodes (multiples of 8), got 12.",
    );
    failed(
        &gantry(dir, &["plan", "--sim", "--var", "gpus=24"]),
        "error: resource postcondition failed",
        "main.hcl:15:23",
        "at most 16 GPUs per cluster",
    );
    failed(
        &gantry(dir, &["plan", "--sim", "--var", "gpus=0"]),
        "error: output precondition failed",
        "main.hcl:24:21",
        "no GPUs at all",
    );
    let apply = gantry(
        dir,
        &["apply", "--sim", "--auto-approve", "--var", "gpus=12"],
    );
    assert_eq!(apply.code, 1, "{}", apply.transcript());
    assert!(state_list(dir).is_empty());
}

#[test]
fn a_false_check_assertion_warns_and_the_apply_goes_on() {
    let tmp = stack();
    let dir = tmp.path();
    write(dir, CLUSTER);
    let apply = gantry(
        dir,
        &["apply", "--sim", "--auto-approve", "--var", "gpus=16"],
    );
    assert_eq!(apply.code, 0, "{}", apply.transcript());
    assert!(
        apply.stderr.contains("warning: check assertion failed"),
        "{}",
        apply.stderr
    );
    assert!(
        apply.stderr.contains("more than 8 GPUs: tell finance"),
        "{}",
        apply.stderr
    );
    assert_eq!(state_list(dir), ["gantry_data.cluster"]);
}

#[test]
fn conditions_unknown_at_plan_are_checked_during_apply() {
    let tmp = stack();
    let dir = tmp.path();
    write(
        dir,
        r#"
resource "gantry_data" "base" { input = "b" }

resource "gantry_data" "guarded" {
  input = gantry_data.base.id
  lifecycle {
    precondition {
      condition     = startswith(gantry_data.base.id, "vpc-")
      error_message = "the base is not a VPC: ${gantry_data.base.id}"
    }
  }
}

resource "gantry_data" "checked" {
  input = "c"
  lifecycle {
    postcondition {
      condition     = startswith(self.id, "i-")
      error_message = "not an instance id: ${self.id}"
    }
  }
}

resource "gantry_data" "after_checked" {
  input = gantry_data.checked.id
}
"#,
    );
    // Ids are known only after apply: the plan cannot decide, so it goes ahead.
    let plan = gantry(dir, &["plan", "--sim"]);
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    let apply = gantry(dir, &["apply", "--sim", "--auto-approve"]);
    assert_eq!(apply.code, 1, "{}", apply.transcript());
    assert!(
        apply.stderr.contains("resource precondition failed"),
        "{}",
        apply.stderr
    );
    assert!(
        apply.stderr.contains("the base is not a VPC: d-"),
        "{}",
        apply.stderr
    );
    assert!(
        apply.stderr.contains("resource postcondition failed"),
        "{}",
        apply.stderr
    );
    assert!(
        apply.stderr.contains("not an instance id: d-"),
        "{}",
        apply.stderr
    );
    // The precondition stopped its object before any call; the postcondition's object
    // exists and is tracked, and what depends on it was not built.
    assert_eq!(state_list(dir), ["gantry_data.base", "gantry_data.checked"]);
    assert!(
        apply.stderr.contains("1 skipped") || apply.stderr.contains("skipped"),
        "{}",
        apply.stderr
    );
}

#[test]
fn self_is_only_valid_in_postconditions() {
    let tmp = stack();
    let dir = tmp.path();
    write(
        dir,
        r#"
resource "gantry_data" "x" {
  input = self.id
  lifecycle {
    precondition {
      condition     = self.id != ""
      error_message = "x"
    }
  }
}
"#,
    );
    let run = gantry(dir, &["validate"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert_eq!(
        run.stderr.matches("invalid reference to `self`").count(),
        2,
        "{}",
        run.stderr
    );
    assert!(
        run.stderr
            .contains("only valid in a resource's `postcondition` blocks"),
        "{}",
        run.stderr
    );
}

#[test]
fn condition_blocks_need_both_arguments_and_checks_need_an_assert() {
    let tmp = stack();
    let dir = tmp.path();
    write(
        dir,
        r#"
resource "gantry_data" "x" {
  lifecycle {
    precondition {
      condition = true
    }
  }
}
check "empty" {}
"#,
    );
    let run = gantry(dir, &["validate"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("error_message"), "{}", run.stderr);
    assert!(
        run.stderr.contains("check `empty` has no `assert` block"),
        "{}",
        run.stderr
    );
}

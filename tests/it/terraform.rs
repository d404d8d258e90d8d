//! Coming from Terraform: a directory of `*.tf` files is a stack, `terraform.tfvars` and
//! `*.auto.tfvars` are read in Terraform's order, `terraform_data` works as `gantry_data`.

use crate::support::{copy_dir, fixtures, gantry, squeeze};
use std::path::Path;

fn terraform_stack() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    copy_dir(&fixtures().join("terraform_stack"), tmp.path());
    tmp
}

#[test]
fn a_terraform_directory_plans_applies_and_is_then_a_no_op() {
    let tmp = terraform_stack();
    let dir = tmp.path();
    let plan = gantry(dir, &["plan", "--sim", "--detailed-exitcode"]);
    assert_eq!(plan.code, 2, "{}", plan.transcript());
    assert!(
        plan.stdout
            .contains("Plan: 3 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("terraform_data.release will be created"),
        "{}",
        plan.stdout
    );
    // terraform.tfvars sets both; prod.auto.tfvars, read after it, wins for `environment`.
    let text = squeeze(&plan.stdout);
    assert!(text.contains(r#""Environment" = "prod""#), "{text}");
    assert!(text.contains(r#"cidr_block = "10.1.0.0/16""#), "{text}");
    assert!(text.contains(r#"cidr_block = "10.1.1.0/24""#), "{text}");

    let apply = gantry(dir, &["apply", "--sim", "--auto-approve"]);
    assert_eq!(apply.code, 0, "{}", apply.transcript());
    let out = gantry(dir, &["output", "--sim", "release", "--raw"]);
    assert_eq!(out.stdout.trim(), "prod", "{}", out.transcript());
    let again = gantry(dir, &["plan", "--sim", "--detailed-exitcode"]);
    assert_eq!(again.code, 0, "{}", again.transcript());

    // --var wins over every file, as in Terraform.
    let changed = gantry(dir, &["plan", "--sim", "--var", "environment=staging"]);
    assert_eq!(changed.code, 0, "{}", changed.transcript());
    assert!(
        squeeze(&changed.stdout).contains(r#"~ input = "prod" -> "staging""#),
        "{}",
        changed.stdout
    );

    let destroy = gantry(dir, &["destroy", "--sim", "--auto-approve"]);
    assert_eq!(destroy.code, 0, "{}", destroy.transcript());
    assert!(
        destroy
            .stderr
            .contains("Destroy complete! Resources: 0 added, 0 changed, 3 destroyed."),
        "{}",
        destroy.transcript()
    );
}

#[test]
fn json_configuration_files_are_an_error_not_skipped() {
    let tmp = terraform_stack();
    let dir = tmp.path();
    std::fs::write(dir.join("extra.tf.json"), r#"{"resource": {}}"#)
        .unwrap_or_else(|e| panic!("{e}"));
    let run = gantry(dir, &["validate"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("extra.tf.json"), "{}", run.stderr);
    assert!(
        run.stderr
            .contains("JSON configuration syntax is not supported"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_empty_directory_names_both_kinds_of_file() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let run = gantry(tmp.path(), &["validate"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("no `*.hcl` or `*.tf` files"),
        "{}",
        run.stderr
    );
}

#[test]
fn fmt_formats_tf_and_tfvars_files() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    let write = |name: &str, text: &str| {
        std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{e}"))
    };
    write(
        "main.tf",
        "resource \"terraform_data\" \"x\" {\ninput=1\n}\n",
    );
    write("terraform.tfvars", "a=1\nbee = 2\n");
    write("notes.txt", "x=1\n");
    let check = gantry(dir, &["fmt", "--check", "."]);
    assert_eq!(check.code, 1, "{}", check.transcript());
    let mut listed: Vec<&str> = check.stdout.lines().collect();
    listed.sort_unstable();
    assert_eq!(listed.len(), 2, "{}", check.stdout);
    assert!(
        listed[0].ends_with("main.tf") && listed[1].ends_with("terraform.tfvars"),
        "{listed:?}"
    );
    let fix = gantry(dir, &["fmt", "."]);
    assert_eq!(fix.code, 0, "{}", fix.transcript());
    let text = std::fs::read_to_string(Path::new(dir).join("terraform.tfvars")).unwrap_or_default();
    assert_eq!(text, "a   = 1\nbee = 2\n");
}

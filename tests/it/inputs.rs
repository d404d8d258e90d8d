//! Input variables from every source, in Terraform's precedence.

use crate::support::{gantry, gantry_env};
use std::path::Path;

fn instances(run: &crate::support::Run) -> u64 {
    let line = run.stdout.lines().last().unwrap_or_default();
    let v: serde_json::Value =
        serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {}", run.transcript()));
    v["resource_instances"]
        .as_u64()
        .unwrap_or_else(|| panic!("{}", run.transcript()))
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn later_sources_win() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(dir, "main.hcl", "variable \"n\" {\n  type = number\n}\n\nresource \"gantry_data\" \"x\" {\n  count = var.n\n}\n");
    assert_eq!(
        instances(&gantry_env(
            dir,
            &["validate", "--json", "."],
            &[("TF_VAR_n", "5")]
        )),
        5,
        "Terraform's environment variable"
    );
    let env = [("TF_VAR_n", "5"), ("GANTRY_VAR_n", "1")];
    assert_eq!(
        instances(&gantry_env(dir, &["validate", "--json", "."], &env)),
        1,
        "GANTRY_VAR_ beats TF_VAR_"
    );
    write(dir, "b.auto.vars.hcl", "n = 2\n");
    assert_eq!(
        instances(&gantry_env(dir, &["validate", "--json", "."], &env)),
        2,
        "auto file beats env"
    );
    write(dir, "custom.vars.hcl", "n = 3\n");
    let args = ["validate", "--json", ".", "--var-file", "custom.vars.hcl"];
    assert_eq!(
        instances(&gantry_env(dir, &args, &env)),
        3,
        "--var-file beats auto file"
    );
    let args = [
        "validate",
        "--json",
        ".",
        "--var-file",
        "custom.vars.hcl",
        "--var",
        "n=4",
    ];
    assert_eq!(
        instances(&gantry_env(dir, &args, &env)),
        4,
        "--var beats everything"
    );
}

#[test]
fn var_values_are_hcl_typed() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(dir, "main.hcl", "variable \"zones\" {\n  type = list(string)\n}\n\nresource \"gantry_data\" \"s\" {\n  for_each = toset(var.zones)\n}\n");
    let run = gantry(
        dir,
        &[
            "validate",
            "--json",
            ".",
            "--var",
            "zones=[\"a\",\"b\",\"c\"]",
        ],
    );
    assert_eq!(instances(&run), 3);
}

#[test]
fn string_variables_take_raw_text() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        "variable \"name\" {\n  type = string\n  validation {\n    condition     = var.name == \"[x]\"\n    error_message = \"got ${var.name}\"\n  }\n}\n",
    );
    let run = gantry(dir, &["validate", ".", "--var", "name=[x]"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
}

#[test]
fn undeclared_var_is_an_error_with_a_suggestion() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        "variable \"region\" {\n  default = \"x\"\n}\n",
    );
    let run = gantry(dir, &["validate", ".", "--var", "regoin=us-east-1"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("value for undeclared variable `regoin`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("did you mean `region`?"),
        "{}",
        run.stderr
    );
}

#[test]
fn bad_var_value_points_at_the_flag_and_the_declaration() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        "variable \"nodes\" {\n  type = number\n}\n",
    );
    let run = gantry(dir, &["validate", ".", "--var", "nodes=many"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("invalid value for variable `nodes`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("<--var nodes>"), "{}", run.stderr);
    assert!(run.stderr.contains("main.hcl:2:10"), "{}", run.stderr);
}

//! The engine's guarantees as a user meets them, under `--sim`: destroy works whatever the
//! expansions derive from, secrets never reach any output channel, nothing quietly falls
//! back to something other than what the stack says, an interrupted run is never planned
//! against stale state, `ignore_changes` and `timeouts` work as written, and SIGTERM is an
//! orderly stop.

use super::support::{copy_dir, gantry, gantry_env, Run};
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{e}"));
}

fn state_list(dir: &Path) -> Vec<String> {
    gantry(dir, &["state", "list", "--dir", ".", "--sim"])
        .stdout
        .lines()
        .map(str::to_owned)
        .collect()
}

fn world_len(dir: &Path) -> usize {
    gantry(dir, &["sim", "ls", "--dir", "."])
        .stdout
        .lines()
        .count()
}

fn ok(run: &Run) {
    assert_eq!(run.code, 0, "{}", run.transcript());
}

const ZONES: &str = r#"
provider "aws" {
  region = "us-west-2"
}

data "aws_availability_zones" "zones" {}

locals {
  zones = slice(data.aws_availability_zones.zones.names, 0, 3)
}

resource "aws_vpc" "net" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_subnet" "private" {
  for_each          = toset(local.zones)
  vpc_id            = aws_vpc.net.id
  availability_zone = each.key
  cidr_block        = cidrsubnet("10.0.0.0/16", 8, index(local.zones, each.key))
}

resource "gantry_data" "per_subnet" {
  count = length(aws_subnet.private)
  input = count.index
}
"#;

#[test]
fn destroy_works_when_for_each_derives_from_a_data_source() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(dir, "main.hcl", ZONES);
    ok(&gantry(dir, &["apply", "--sim", "--auto-approve", "."]));
    // The zones' read happened at plan time (it is not kept in state).
    assert_eq!(state_list(dir).len(), 1 + 3 + 3, "{:?}", state_list(dir));
    let plan = gantry(dir, &["plan", "--sim", "--destroy", "."]);
    ok(&plan);
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 0 to change, 7 to destroy."),
        "{}",
        plan.stdout
    );
    ok(&gantry(dir, &["destroy", "--sim", "--auto-approve", "."]));
    assert!(state_list(dir).is_empty(), "{:?}", state_list(dir));
    assert_eq!(world_len(dir), 0);
}

const SECRET: &str = "s3cr3t-Hunter2-value";

fn secret_stack(output_sensitive: bool) -> String {
    format!(
        r#"
variable "db_password" {{
  type      = string
  sensitive = true
}}

resource "gantry_data" "db" {{
  input = {{
    user     = "ml"
    password = var.db_password
    url      = "postgres://ml:${{var.db_password}}@db:5432/ml"
  }}
}}

resource "gantry_data" "client" {{
  input = upper(gantry_data.db.output.password)
}}

output "db_url" {{
  value     = gantry_data.db.output.url
  sensitive = {output_sensitive}
}}

output "user" {{
  value = gantry_data.db.output.user
}}
"#
    )
}

fn assert_no_secret(what: &str, run: &Run) {
    for (stream, text) in [("stdout", &run.stdout), ("stderr", &run.stderr)] {
        assert!(
            !text.contains(SECRET) && !text.contains(&SECRET.to_uppercase()),
            "{what} printed the secret on {stream}:\n{text}"
        );
    }
}

#[test]
fn sensitive_values_never_reach_any_output_channel() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(dir, "main.hcl", &secret_stack(true));
    let var = format!("db_password={SECRET}");
    let env = [("GANTRY_LOG", "trace")];
    let runs: Vec<(&str, Vec<&str>)> = vec![
        ("plan", vec!["plan", "--sim", "--var", &var, "."]),
        (
            "plan --json",
            vec!["plan", "--sim", "--json", "--var", &var, "."],
        ),
        (
            "apply --json",
            vec![
                "apply",
                "--sim",
                "--json",
                "--auto-approve",
                "--var",
                &var,
                ".",
            ],
        ),
        (
            "plan after apply",
            vec!["plan", "--sim", "--var", &var, "."],
        ),
        (
            "state show",
            vec!["state", "show", "gantry_data.db", "--dir", ".", "--sim"],
        ),
        (
            "state show client",
            vec!["state", "show", "gantry_data.client", "--dir", ".", "--sim"],
        ),
        ("state list", vec!["state", "list", "--dir", ".", "--sim"]),
        ("output", vec!["output", "--dir", ".", "--sim"]),
        (
            "output --json",
            vec!["output", "--json", "--dir", ".", "--sim"],
        ),
        ("refresh", vec!["refresh", "--sim", "--var", &var, "."]),
        (
            "destroy plan",
            vec!["plan", "--sim", "--destroy", "--var", &var, "."],
        ),
    ];
    for (what, args) in &runs {
        let run = gantry_env(dir, args, &env);
        assert_eq!(run.code, 0, "{what}: {}", run.transcript());
        assert_no_secret(what, &run);
    }
    // The human apply too, on a change: the update shows the attribute, never its value.
    let other = "s3cr3t-Other-value!";
    let var2 = format!("db_password={other}");
    let apply = gantry_env(
        dir,
        &["apply", "--sim", "--auto-approve", "--var", &var2, "."],
        &env,
    );
    ok(&apply);
    assert!(
        !apply.stdout.contains(other) && !apply.stderr.contains(other),
        "{}",
        apply.transcript()
    );
    assert!(
        apply.stdout.contains("(sensitive value)"),
        "{}",
        apply.stdout
    );
    let show = gantry(
        dir,
        &["state", "show", "gantry_data.db", "--dir", ".", "--sim"],
    );
    assert!(
        show.stdout.contains("\"ml\""),
        "non-secret parts still show: {}",
        show.stdout
    );
    // Asked for by name, an output prints its value.
    let by_name = gantry(dir, &["output", "db_url", "--raw", "--dir", ".", "--sim"]);
    ok(&by_name);
    assert!(by_name.stdout.contains(other), "{}", by_name.transcript());
}

#[test]
fn an_output_derived_from_a_secret_must_be_declared_sensitive() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(dir, "main.hcl", &secret_stack(false));
    let var = format!("db_password={SECRET}");
    let run = gantry(dir, &["plan", "--sim", "--var", &var, "."]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr
            .contains("output `db_url` refers to sensitive values"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("main.hcl:20:"),
        "file:line of the value: {}",
        run.stderr
    );
    assert!(run.stderr.contains("sensitive = true"), "{}", run.stderr);
    assert_no_secret("plan", &run);
}

#[test]
fn sensitive_values_cannot_decide_count() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        "variable \"n\" {\n  type      = number\n  sensitive = true\n}\nresource \"gantry_data\" \"x\" {\n  count = var.n\n}\n",
    );
    let run = gantry(dir, &["plan", "--sim", "--var", "n=3", "."]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("invalid `count` argument"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("derived from a sensitive value"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_provider_configuration_that_is_gone_is_an_error_not_a_fallback() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    let with_alias = r#"
provider "aws" {
  region = "us-east-1"
}
provider "aws" {
  alias  = "west"
  region = "us-west-2"
}
resource "aws_vpc" "west" {
  provider   = aws.west
  cidr_block = "10.1.0.0/16"
}
"#;
    write(dir, "main.hcl", with_alias);
    ok(&gantry(dir, &["apply", "--sim", "--auto-approve", "."]));
    // The alias and the resource go: deleting it needs `aws.west`, which is gone.
    write(
        dir,
        "main.hcl",
        "provider \"aws\" {\n  region = \"us-east-1\"\n}\n",
    );
    let plan = gantry(dir, &["plan", "--sim", "."]);
    assert_eq!(plan.code, 1, "{}", plan.transcript());
    assert!(
        plan.stderr.contains("`aws_vpc.west` is managed by provider configuration `aws.west`, which the stack no longer declares"),
        "{}",
        plan.stderr
    );
    let apply = gantry(dir, &["apply", "--sim", "--auto-approve", "."]);
    assert_eq!(apply.code, 1);
    assert_eq!(
        state_list(dir),
        ["aws_vpc.west"],
        "nothing was deleted elsewhere"
    );
    assert_eq!(world_len(dir), 1);
}

#[test]
fn a_backend_gantry_does_not_implement_is_an_error() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        "terraform {\n  backend \"consul\" {\n    address = \"consul.example.com\"\n    path    = \"llm\"\n  }\n}\nresource \"gantry_data\" \"x\" {}\n",
    );
    for args in [&["validate", "."][..], &["plan", "--sim", "."][..]] {
        let run = gantry(dir, args);
        assert_eq!(run.code, 1, "{}", run.transcript());
        assert!(
            run.stderr
                .contains("state backend `consul` is not supported"),
            "{}",
            run.stderr
        );
        assert!(run.stderr.contains("main.hcl:2:"), "{}", run.stderr);
    }
    assert!(
        !dir.join(".gantry/sim/state.json").exists(),
        "no local state was made"
    );
}

#[test]
fn a_backend_changed_or_removed_since_init_is_an_error_not_another_state() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join(".gantry")).unwrap_or_else(|e| panic!("{e}"));
    write(
        dir,
        ".gantry/backend.json",
        r#"{"kind":"s3","overrides":{},"settings":{"bucket":"tfstate","key":"llm"}}"#,
    );
    write(
        dir,
        "main.hcl",
        "terraform {\n  backend \"s3\" {\n    bucket = \"tfstate\"\n    key    = \"other\"\n  }\n}\nresource \"gantry_data\" \"x\" {}\n",
    );
    let run = gantry(dir, &["plan", "."]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("settings changed since `gantry init`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.hcl:2:"), "{}", run.stderr);
    write(dir, "main.hcl", "resource \"gantry_data\" \"x\" {}\n");
    let run = gantry(dir, &["plan", "."]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("no longer names the `s3` backend"),
        "{}",
        run.stderr
    );
    assert!(
        !dir.join(".gantry/state.json").exists(),
        "fell back to local state"
    );
}

#[test]
fn backend_arguments_are_checked_where_they_are_written() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        "terraform {\n  backend \"s3\" {\n    bukcet = \"tfstate\"\n    key    = \"llm\"\n  }\n}\nresource \"gantry_data\" \"x\" {}\n",
    );
    let run = gantry(dir, &["validate", "."]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("unsupported argument `bukcet`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.hcl:3:"), "{}", run.stderr);
    // Backend settings are read before variables exist.
    write(
        dir,
        "main.hcl",
        "variable \"b\" {}\nterraform {\n  backend \"s3\" {\n    bucket = var.b\n    key    = \"llm\"\n  }\n}\n",
    );
    let run = gantry(dir, &["init", "--dir", "."]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("main.hcl:4:"), "{}", run.stderr);
    assert!(run.stderr.contains("must be a constant"), "{}", run.stderr);
    assert!(run.stderr.contains("bucket = var.b"), "{}", run.stderr);
    // --backend-config without a remote backend block.
    write(dir, "main.hcl", "resource \"gantry_data\" \"x\" {}\n");
    let run = gantry(dir, &["init", "--dir", ".", "--backend-config", "bucket=x"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("needs a remote `backend` block"),
        "{}",
        run.stderr
    );
    let run = gantry(dir, &["init", "--dir", "."]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(run.stderr.contains("Backend `local`"), "{}", run.stderr);
}

#[test]
fn plan_replays_an_unfinished_journal_and_refuses_unchecked_creates() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        "resource \"gantry_data\" \"done\" {\n  input = 1\n}\nresource \"gantry_data\" \"unsure\" {\n  input = 2\n}\n",
    );
    let state_dir = dir.join(".gantry/sim");
    std::fs::create_dir_all(&state_dir).unwrap_or_else(|e| panic!("{e}"));
    // What a run killed mid-apply leaves: `done` created and recorded, `unsure` sent with
    // a configuration nobody can ask about any more.
    let lineage = "0b0f3a52-53c6-4b37-a3a0-3a2dbf1b6c01";
    let journal = format!(
        "{}\n{}\n{}\n{}\n",
        serde_json::json!({"op": "begin", "lineage": lineage, "base_serial": 0}),
        serde_json::json!({"op": "intent", "address": "gantry_data.done", "type": "gantry_data", "provider": "gantry", "token": "t1"}),
        serde_json::json!({"op": "created", "address": "gantry_data.done", "mode": "managed", "type": "gantry_data", "provider": "gantry", "schema_version": 0,
            "attributes": {"id": "t1", "input": 1, "output": 1, "triggers_replace": null}, "sensitive_paths": [], "dependencies": [], "create_token": "t1"}),
        serde_json::json!({"op": "intent", "address": "gantry_data.unsure", "type": "gantry_data", "provider": "gantry.gone", "token": "t2"}),
    );
    write(&state_dir, "journal.ndjson", &journal);
    let plan = gantry(dir, &["plan", "--sim", "--refresh=false", "."]);
    assert_eq!(plan.code, 1, "{}", plan.transcript());
    assert!(
        plan.stderr
            .contains("an interrupted run left 3 journal record(s)"),
        "{}",
        plan.stderr
    );
    assert!(
        plan.stderr
            .contains("`gantry_data.unsure` may already exist"),
        "{}",
        plan.stderr
    );
    assert!(plan
        .stderr
        .contains("gantry state resolve gantry_data.unsure --not-created"));
    // Nothing was written by the plan.
    let before = std::fs::read_to_string(state_dir.join("journal.ndjson")).unwrap_or_default();
    assert_eq!(before, journal);
    // The user settles it; then the plan sees `done` as existing and creates only `unsure`.
    ok(&gantry(
        dir,
        &[
            "state",
            "resolve",
            "gantry_data.unsure",
            "--not-created",
            "--dir",
            ".",
            "--sim",
        ],
    ));
    let plan = gantry(dir, &["plan", "--sim", "--refresh=false", "."]);
    ok(&plan);
    assert!(
        plan.stdout.contains("gantry_data.unsure will be created"),
        "{}",
        plan.stdout
    );
    assert!(
        !plan.stdout.contains("gantry_data.done will be created"),
        "{}",
        plan.stdout
    );
}

#[test]
fn ignore_changes_follows_nested_paths() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    let stack = |a: u32, b: u32| {
        format!(
            "resource \"gantry_data\" \"x\" {{\n  input = {{ a = {a}, b = {b} }}\n  lifecycle {{\n    ignore_changes = [input[\"a\"]]\n  }}\n}}\n"
        )
    };
    write(dir, "main.hcl", &stack(1, 2));
    ok(&gantry(dir, &["apply", "--sim", "--auto-approve", "."]));
    write(dir, "main.hcl", &stack(5, 2));
    let plan = gantry(dir, &["plan", "--sim", "--detailed-exitcode", "."]);
    assert_eq!(
        plan.code,
        0,
        "a change under an ignored path is no change: {}",
        plan.transcript()
    );
    write(dir, "main.hcl", &stack(5, 3));
    let apply = gantry(dir, &["apply", "--sim", "--auto-approve", "."]);
    ok(&apply);
    let show = gantry(
        dir,
        &["state", "show", "gantry_data.x", "--dir", ".", "--sim"],
    );
    assert!(
        show.stdout.contains("{\"a\" = 1, \"b\" = 3}"),
        "a kept, b updated: {}",
        show.stdout
    );
    // A path that names nothing is an error on the entry.
    write(
        dir,
        "main.hcl",
        "resource \"gantry_data\" \"x\" {\n  input = 1\n  lifecycle {\n    ignore_changes = [inptu]\n  }\n}\n",
    );
    let run = gantry(dir, &["plan", "--sim", "."]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .contains("invalid `ignore_changes` entry `inptu`"),
        "{}",
        run.stderr
    );
}

#[test]
fn timeouts_blocks_are_checked_against_the_type() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        "resource \"gantry_data\" \"y\" {\n  timeouts {\n    delete = \"ten minutes\"\n  }\n}\n",
    );
    let run = gantry(dir, &["validate", "."]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("invalid `delete` timeout"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.hcl:3:"), "{}", run.stderr);
    // A well-formed timeout for an operation the type never waits on.
    write(
        dir,
        "main.hcl",
        "resource \"gantry_data\" \"x\" {\n  timeouts {\n    create = \"90m\"\n  }\n}\n",
    );
    let run = gantry(dir, &["plan", "--sim", "."]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("`gantry_data` has no `create` timeout"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.hcl:3:"), "{}", run.stderr);
}

#[test]
fn refresh_retries_faults_and_says_why_when_it_gives_up() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        "resource \"gantry_data\" \"x\" {\n  count = 80\n  input = count.index\n}\n",
    );
    ok(&gantry(dir, &["apply", "--sim", "--auto-approve", "."]));
    // 30% of calls fail transiently or are throttled: reads are retried like writes.
    let faults = [("GANTRY_SIM_FAULT_RATE", "0.3"), ("GANTRY_SIM_SEED", "7")];
    let plan = gantry_env(dir, &["plan", "--sim", "--detailed-exitcode", "."], &faults);
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    let destroy = gantry_env(dir, &["destroy", "--sim", "--auto-approve", "."], &faults);
    ok(&destroy);
    assert!(state_list(dir).is_empty());
    // Every call failing: the error names the cause, and the run gives up instead of
    // waiting out every object's retries.
    write(
        dir,
        "main.hcl",
        "resource \"gantry_data\" \"x\" {\n  count = 12\n  input = count.index\n}\n",
    );
    ok(&gantry(dir, &["apply", "--sim", "--auto-approve", "."]));
    let broken = gantry_env(
        dir,
        &["plan", "--sim", "."],
        &[("GANTRY_SIM_FAULT_RATE", "1")],
    );
    assert_eq!(broken.code, 1);
    assert!(
        broken.stderr.contains("failed to refresh `gantry_data.x["),
        "{}",
        broken.stderr
    );
    assert!(
        broken.stderr.contains("(InternalError)")
            || broken.stderr.contains("(RequestLimitExceeded)"),
        "the cloud's code is shown: {}",
        broken.stderr
    );
}

#[test]
fn sigterm_stops_like_an_interrupt() {
    // What CI systems send when a job is cancelled.
    super::engine::stop_apply_with("-TERM", "SIGTERM received");
}

#[test]
fn long_operations_say_they_are_still_going_in_ci_logs() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        "resource \"gantry_data\" \"slow\" {\n  input = 1\n}\n",
    );
    // Not a terminal (the test captures stderr): plain lines at a steady interval.
    let run = gantry_env(
        dir,
        &["apply", "--sim", "--auto-approve", "."],
        &[
            ("GANTRY_SIM_LATENCY_MS", "700"),
            ("GANTRY_PROGRESS_INTERVAL_MS", "200"),
        ],
    );
    ok(&run);
    assert!(
        run.stderr.contains("gantry_data.slow: Still creating... ["),
        "{}",
        run.stderr
    );
    let json = gantry_env(
        dir,
        &["destroy", "--sim", "--auto-approve", "--json", "."],
        &[
            ("GANTRY_SIM_LATENCY_MS", "700"),
            ("GANTRY_PROGRESS_INTERVAL_MS", "200"),
        ],
    );
    ok(&json);
    assert!(
        json.stdout.contains("\"type\":\"apply_progress\""),
        "{}",
        json.stdout
    );
}

#[test]
fn every_example_plans_its_destroy_and_destroys_to_nothing() {
    let examples = super::support::repo_root().join("examples");
    let mut seen = 0;
    for entry in std::fs::read_dir(&examples).unwrap_or_else(|e| panic!("{e}")) {
        let example = entry.unwrap_or_else(|e| panic!("{e}")).path();
        if !example.is_dir() {
            continue;
        }
        // examples/ci holds CI recipes, not a stack (tests/it/ci_recipes.rs runs them).
        if example.file_name().is_some_and(|n| n == "ci") {
            continue;
        }
        // Each example alone, outside the repository, as a user who copies one gets it:
        // its modules are the ones shipped in the binary.
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let dir = &tmp.path().join(example.file_name().unwrap_or_default());
        std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
        copy_dir(&example, dir);
        let name = example.display().to_string();
        let apply = gantry(dir, &["apply", "--sim", "--auto-approve", "."]);
        assert_eq!(apply.code, 0, "{name}: {}", apply.transcript());
        let plan = gantry(dir, &["plan", "--sim", "--destroy", "."]);
        assert_eq!(plan.code, 0, "{name}: {}", plan.transcript());
        assert!(
            plan.stdout.contains("to destroy."),
            "{name}: {}",
            plan.stdout
        );
        let destroy = gantry(dir, &["destroy", "--sim", "--auto-approve", "."]);
        assert_eq!(destroy.code, 0, "{name}: {}", destroy.transcript());
        assert!(state_list(dir).is_empty(), "{name}: {:?}", state_list(dir));
        assert_eq!(world_len(dir), 0, "{name}");
        seen += 1;
    }
    assert!(seen >= 4, "examples found: {seen}");
}

#[test]
fn the_cluster_autoscaler_idiom_ignores_only_the_node_count() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    let stack = |desired: u32, max: u32| {
        format!(
            r#"
resource "aws_vpc" "main" {{
  cidr_block = "10.0.0.0/16"
}}

resource "aws_subnet" "a" {{
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.0.1.0/24"
}}

resource "aws_eks_node_group" "gpu" {{
  cluster_name    = "train"
  node_group_name = "gpu"
  node_role_arn   = "arn:aws:iam::123456789012:role/node"
  subnet_ids      = [aws_subnet.a.id]
  instance_types  = ["g6.xlarge"]

  scaling_config {{
    desired_size = {desired}
    min_size     = 1
    max_size     = {max}
  }}

  lifecycle {{
    ignore_changes = [scaling_config[0].desired_size]
  }}
}}
"#
        )
    };
    write(dir, "main.hcl", &stack(2, 8));
    ok(&gantry(dir, &["apply", "--sim", "--auto-approve", "."]));
    // The autoscaler's business: no change.
    write(dir, "main.hcl", &stack(5, 8));
    let plan = gantry(dir, &["plan", "--sim", "--detailed-exitcode", "."]);
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    // The stack's business: the bound changes, the count is left as it is.
    write(dir, "main.hcl", &stack(5, 10));
    let plan = gantry(dir, &["plan", "--sim", "--detailed-exitcode", "."]);
    assert_eq!(plan.code, 2, "{}", plan.transcript());
    assert!(
        plan.stdout.contains("~ max_size = 8 -> 10"),
        "{}",
        plan.stdout
    );
    assert!(!plan.stdout.contains("desired_size"), "{}", plan.stdout);
}

//! Whole runs of the engine with `--sim`: plan, apply, no-op plan, update, destroy; locking;
//! bad state files; faults; and SIGKILL at random moments (the crash test).

use crate::support::{gantry, gantry_env, Run};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap_or_else(|e| panic!("{e}"));
}

fn lines(run: &Run) -> Vec<String> {
    let mut v: Vec<String> = run.stdout.lines().map(str::to_owned).collect();
    v.sort();
    v
}

const STACK: &str = r#"
variable "n" {
  type    = number
  default = 3
}

variable "label" {
  type    = string
  default = "a"
}

resource "gantry_data" "root" {
  input = var.label
}

resource "gantry_data" "leaf" {
  count = var.n
  input = "${gantry_data.root.id}-${count.index}"
}

output "leaf_ids" {
  value = gantry_data.leaf[*].id
}
"#;

#[test]
fn plan_apply_noop_update_destroy() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(dir, "main.hcl", STACK);

    let plan = gantry(dir, &["plan", "--sim", "--detailed-exitcode", "."]);
    assert_eq!(plan.code, 2, "{}", plan.transcript());
    assert!(
        plan.stdout
            .contains("Plan: 4 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout.contains("+ id     = (known after apply)"),
        "{}",
        plan.stdout
    );

    let apply = gantry(dir, &["apply", "--sim", "--auto-approve", "."]);
    assert_eq!(apply.code, 0, "{}", apply.transcript());
    assert!(
        apply
            .stderr
            .contains("Apply complete! Resources: 4 added, 0 changed, 0 destroyed."),
        "{}",
        apply.stderr
    );

    let noop = gantry(dir, &["plan", "--sim", "--detailed-exitcode", "."]);
    assert_eq!(
        noop.code,
        0,
        "no-op plan after apply: {}",
        noop.transcript()
    );
    assert!(noop.stdout.contains("No changes."), "{}", noop.stdout);

    // The leaves referenced the root's id, unknown at plan: apply completed it.
    let state = gantry(dir, &["state", "pull", "--dir", ".", "--sim"]);
    let json: serde_json::Value =
        serde_json::from_str(&state.stdout).unwrap_or_else(|e| panic!("{e}: {}", state.stdout));
    let root_id = json["resources"]["gantry_data.root"]["attributes"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!root_id.is_empty());
    assert_eq!(
        json["resources"]["gantry_data.leaf[2]"]["attributes"]["input"],
        format!("{root_id}-2")
    );
    assert_eq!(
        json["outputs"]["leaf_ids"]["value"]
            .as_array()
            .map(Vec::len),
        Some(3)
    );

    let change = gantry(
        dir,
        &[
            "plan",
            "--sim",
            "--detailed-exitcode",
            ".",
            "--var",
            "label=b",
            "--var",
            "n=2",
        ],
    );
    assert_eq!(change.code, 2, "{}", change.transcript());
    assert!(
        change
            .stdout
            .contains("Plan: 0 to add, 1 to change, 1 to destroy."),
        "{}",
        change.stdout
    );
    assert!(
        change.stdout.contains("~ input  = \"a\" -> \"b\""),
        "{}",
        change.stdout
    );
    assert!(
        change.stdout.contains("~ output = \"a\" -> \"b\""),
        "output follows input at plan: {}",
        change.stdout
    );
    assert!(
        change
            .stdout
            .contains("# gantry_data.leaf[2] will be destroyed"),
        "{}",
        change.stdout
    );

    let apply2 = gantry(
        dir,
        &[
            "apply",
            "--sim",
            "--auto-approve",
            ".",
            "--var",
            "label=b",
            "--var",
            "n=2",
        ],
    );
    assert_eq!(apply2.code, 0, "{}", apply2.transcript());

    let destroy = gantry(dir, &["destroy", "--sim", "--auto-approve", "."]);
    assert_eq!(destroy.code, 0, "{}", destroy.transcript());
    assert!(destroy.stderr.contains("3 destroyed"), "{}", destroy.stderr);
    assert!(gantry(dir, &["state", "list", "--dir", ".", "--sim"])
        .stdout
        .is_empty());
    assert!(
        gantry(dir, &["sim", "ls", "--dir", "."]).stdout.is_empty(),
        "nothing left in the simulated world"
    );
}

#[test]
fn apply_without_terminal_needs_auto_approve() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    write(tmp.path(), "main.hcl", STACK);
    let run = gantry(tmp.path(), &["apply", "--sim", "."]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("--auto-approve"), "{}", run.stderr);
    assert!(
        gantry(tmp.path(), &["sim", "ls", "--dir", "."])
            .stdout
            .is_empty(),
        "nothing created"
    );
}

#[test]
fn second_apply_fails_fast_on_the_lock() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        "resource \"gantry_data\" \"x\" {\n  count = 20\n  input = count.index\n}\n",
    );
    let mut slow = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args([
            "apply",
            "--sim",
            "--auto-approve",
            "--parallelism",
            "1",
            ".",
        ])
        .current_dir(dir)
        .env("GANTRY_SIM_LATENCY_MS", "100")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    // Wait until the first run holds the lock.
    let lock_file = dir.join(".gantry/sim/state.lock");
    for _ in 0..100 {
        if std::fs::read_to_string(&lock_file).is_ok_and(|s| s.contains("apply")) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let second = gantry(dir, &["apply", "--sim", "--auto-approve", "."]);
    assert_eq!(second.code, 1, "{}", second.transcript());
    assert!(second.stderr.contains("locked"), "{}", second.stderr);
    assert!(second.stderr.contains("force-unlock"), "{}", second.stderr);
    let status = slow.wait().unwrap_or_else(|e| panic!("{e}"));
    assert!(status.success());
    assert_eq!(
        gantry(dir, &["state", "list", "--dir", ".", "--sim"])
            .stdout
            .lines()
            .count(),
        20,
        "nothing corrupted"
    );
}

#[test]
fn bad_state_files_are_reported_and_left_untouched() {
    for (name, text) in [
        ("truncated", "{\"version\": 1, \"lineage\": \"x\", \"ser"),
        ("invalid", "not json at all"),
        ("future", "{\"version\": 99, \"lineage\": \"x\", \"serial\": 1, \"resources\": {}, \"outputs\": {}}"),
    ] {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let dir = tmp.path();
        write(dir, "main.hcl", STACK);
        std::fs::create_dir_all(dir.join(".gantry/sim")).unwrap_or_else(|e| panic!("{e}"));
        let state = dir.join(".gantry/sim/state.json");
        std::fs::write(&state, text).unwrap_or_else(|e| panic!("{e}"));
        for cmd in [&["plan", "--sim", "."][..], &["apply", "--sim", "--auto-approve", "."][..]] {
            let run = gantry(dir, cmd);
            assert_eq!(run.code, 1, "{name} {cmd:?}: {}", run.transcript());
            assert!(run.stderr.contains("state"), "{name}: {}", run.stderr);
            assert!(!run.stderr.contains("panicked"), "{name}: {}", run.stderr);
        }
        assert_eq!(std::fs::read_to_string(&state).unwrap_or_default(), text, "{name}: file untouched");
    }
}

#[test]
fn transient_faults_are_retried_to_success() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        "resource \"gantry_data\" \"x\" {\n  count = 30\n  input = count.index\n}\n",
    );
    let env = [("GANTRY_SIM_FAULT_RATE", "0.3"), ("GANTRY_SIM_SEED", "7")];
    let run = gantry_env(dir, &["apply", "--sim", "--auto-approve", "."], &env);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stderr.contains("retrying"),
        "faults happened and were retried: {}",
        run.stderr
    );
    assert_eq!(
        lines(&gantry(dir, &["state", "list", "--dir", ".", "--sim"])).len(),
        30
    );
}

#[test]
fn prevent_destroy_fails_the_plan() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(dir, "main.hcl", "resource \"gantry_data\" \"db\" {\n  input = 1\n  lifecycle {\n    prevent_destroy = true\n  }\n}\n");
    assert_eq!(
        gantry(dir, &["apply", "--sim", "--auto-approve", "."]).code,
        0
    );
    let run = gantry(dir, &["destroy", "--sim", "--auto-approve", "."]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("prevent_destroy"), "{}", run.stderr);
    assert_eq!(
        lines(&gantry(dir, &["sim", "ls", "--dir", "."])).len(),
        1,
        "still there"
    );
}

/// SIGKILL an apply of 200 resources at random moments, then apply again: state must equal
/// the simulated world, with no duplicate and no untracked object.
#[test]
fn crash_at_random_moments_never_loses_a_resource() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        "resource \"gantry_data\" \"base\" {\n  count = 40\n  input = count.index\n}\n\nresource \"gantry_data\" \"dep\" {\n  count = 160\n  input = gantry_data.base[count.index % 40].id\n}\n",
    );
    // 30 trials in the suite; `bash tests/soak.sh` runs many more.
    let trials: u32 = std::env::var("GANTRY_CRASH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(30);
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    for trial in 0..trials {
        // Destroying between trials exercises kills during deletes as well.
        let verb: &[&str] = if trial % 3 == 2 {
            &["destroy"]
        } else {
            &["apply"]
        };
        let mut child = Command::new(env!("CARGO_BIN_EXE_gantry"))
            .args(verb)
            .args(["--sim", "--auto-approve", "--parallelism", "16", "."])
            .current_dir(dir)
            .env("GANTRY_SIM_LATENCY_MS", "2-8")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("{e}"));
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        std::thread::sleep(Duration::from_millis(20 + seed % 250));
        let _ = child.kill();
        let _ = child.wait();

        let finish = gantry(dir, &["apply", "--sim", "--auto-approve", "."]);
        assert_eq!(finish.code, 0, "trial {trial}: {}", finish.transcript());
        let state = lines(&gantry(dir, &["state", "list", "--dir", ".", "--sim"]));
        let world_run = gantry(dir, &["sim", "ls", "--dir", "."]);
        let mut world: Vec<String> = world_run
            .stdout
            .lines()
            .filter_map(|l| l.split_whitespace().nth(2).map(str::to_owned))
            .collect();
        world.sort();
        let before = world.len();
        world.dedup();
        assert_eq!(
            before,
            world.len(),
            "trial {trial}: duplicate objects in the world"
        );
        assert_eq!(state.len(), 200, "trial {trial}");
        assert_eq!(state, world, "trial {trial}: state and world differ");
    }
}

#[test]
fn target_limits_the_plan_to_a_resource_and_its_dependencies() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        "resource \"gantry_data\" \"net\" {\n  input = 1\n}\n\nresource \"gantry_data\" \"node\" {\n  input = gantry_data.net.id\n}\n\nresource \"gantry_data\" \"other\" {\n  input = 2\n}\n",
    );
    let run = gantry(
        dir,
        &[
            "apply",
            "--sim",
            "--auto-approve",
            "--target",
            "gantry_data.node",
            ".",
        ],
    );
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert_eq!(
        lines(&gantry(dir, &["state", "list", "--dir", ".", "--sim"])),
        vec!["gantry_data.net", "gantry_data.node"]
    );
    let rest = gantry(dir, &["plan", "--sim", "."]);
    assert!(rest.stdout.contains("Plan: 1 to add"), "{}", rest.stdout);
}

#[test]
fn saved_plans_apply_exactly_and_go_stale() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(dir, "main.hcl", STACK);
    let plan = gantry(
        dir,
        &["plan", "--sim", "--var", "n=2", "--out", "first.plan", "."],
    );
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    // The variable given at plan time is used; none is needed at apply.
    let apply = gantry(dir, &["apply", "first.plan"]);
    assert_eq!(apply.code, 0, "{}", apply.transcript());
    assert_eq!(
        lines(&gantry(dir, &["state", "list", "--dir", ".", "--sim"])).len(),
        3,
        "root + 2 leaves"
    );

    // A plan whose state has moved on is refused.
    let stale = gantry(dir, &["apply", "first.plan"]);
    assert_eq!(stale.code, 1, "{}", stale.transcript());
    assert!(stale.stderr.contains("stale"), "{}", stale.stderr);

    // So is a plan whose stack changed after it was made.
    assert_eq!(
        gantry(
            dir,
            &["plan", "--sim", "--var", "n=4", "--out", "second.plan", "."]
        )
        .code,
        0
    );
    write(
        dir,
        "main.hcl",
        &STACK.replace("default = \"a\"", "default = \"z\""),
    );
    let changed = gantry(dir, &["apply", "second.plan"]);
    assert_eq!(changed.code, 1, "{}", changed.transcript());
    assert!(
        changed.stderr.contains("stack's files changed"),
        "{}",
        changed.stderr
    );
    assert_eq!(
        lines(&gantry(dir, &["state", "list", "--dir", ".", "--sim"])).len(),
        3,
        "nothing applied"
    );
}

#[test]
fn out_of_band_deletes_are_drift_refresh_and_import_reconcile() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(dir, "main.hcl", STACK);
    assert_eq!(
        gantry(dir, &["apply", "--sim", "--auto-approve", "."]).code,
        0
    );

    // Import: forget an object, then adopt it back by its cloud id.
    let pulled: serde_json::Value =
        serde_json::from_str(&gantry(dir, &["state", "pull", "--dir", ".", "--sim"]).stdout)
            .unwrap_or_default();
    let id = pulled["resources"]["gantry_data.root"]["attributes"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(
        gantry(
            dir,
            &["state", "rm", "--dir", ".", "--sim", "gantry_data.root"]
        )
        .code,
        0
    );
    let import = gantry(
        dir,
        &["import", "--dir", ".", "--sim", "gantry_data.root", &id],
    );
    assert_eq!(import.code, 0, "{}", import.transcript());
    let noop = gantry(dir, &["plan", "--sim", "--detailed-exitcode", "."]);
    assert_eq!(
        noop.code,
        0,
        "imported object matches its configuration: {}",
        noop.transcript()
    );

    // Everything deleted behind gantry's back: plan reports it and recreates.
    assert_eq!(gantry(dir, &["sim", "reset", "--dir", "."]).code, 0);
    let plan = gantry(dir, &["plan", "--sim", "."]);
    assert!(
        plan.stdout.contains("# gantry_data.root has been deleted"),
        "{}",
        plan.stdout
    );
    assert!(plan.stdout.contains("Plan: 4 to add"), "{}", plan.stdout);
    let refresh = gantry(dir, &["refresh", "--sim", "."]);
    assert_eq!(refresh.code, 0, "{}", refresh.transcript());
    assert!(
        gantry(dir, &["state", "list", "--dir", ".", "--sim"])
            .stdout
            .is_empty(),
        "refresh forgot the deleted objects"
    );
    assert_eq!(
        gantry(dir, &["apply", "--sim", "--auto-approve", "."]).code,
        0
    );
    assert_eq!(
        lines(&gantry(dir, &["sim", "ls", "--dir", "."])).len(),
        4,
        "recreated"
    );
}

/// `create_before_destroy`: the new object exists before the old one goes, and a run killed
/// in between leaves the old one tracked (as deposed) so the next apply deletes it.
#[test]
fn create_before_destroy_never_loses_the_old_object() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    let stack = |v: u32| {
        format!("resource \"gantry_data\" \"x\" {{\n  count            = 20\n  triggers_replace = {v}\n  lifecycle {{\n    create_before_destroy = true\n  }}\n}}\n")
    };
    write(dir, "main.hcl", &stack(1));
    assert_eq!(
        gantry(dir, &["apply", "--sim", "--auto-approve", "."]).code,
        0
    );
    write(dir, "main.hcl", &stack(2));
    let plan = gantry(dir, &["plan", "--sim", "."]);
    assert!(
        plan.stdout.contains("+/- resource \"gantry_data\" \"x\""),
        "{}",
        plan.stdout
    );
    let mut child = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args([
            "apply",
            "--sim",
            "--auto-approve",
            "--parallelism",
            "4",
            ".",
        ])
        .current_dir(dir)
        .env("GANTRY_SIM_LATENCY_MS", "20")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    std::thread::sleep(Duration::from_millis(150));
    let _ = child.kill();
    let _ = child.wait();
    let finish = gantry(dir, &["apply", "--sim", "--auto-approve", "."]);
    assert_eq!(finish.code, 0, "{}", finish.transcript());
    let state = lines(&gantry(dir, &["state", "list", "--dir", ".", "--sim"]));
    let world: Vec<String> = {
        let mut w: Vec<String> = gantry(dir, &["sim", "ls", "--dir", "."])
            .stdout
            .lines()
            .filter_map(|l| l.split_whitespace().nth(2).map(str::to_owned))
            .collect();
        w.sort();
        w
    };
    assert_eq!(state.len(), 20, "{state:?}");
    assert_eq!(state, world, "no old object left behind, none untracked");
}

/// Ctrl-C: stop starting work, finish what is in flight, save state, release the lock.
/// Sends `signal` to an apply in progress: it must stop starting work, save what was done
/// (nothing created is missing from state), release the lock and exit 1, saying `banner`.
pub fn stop_apply_with(signal: &str, banner: &str) {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        "resource \"gantry_data\" \"x\" {\n  count = 40\n  input = count.index\n}\n",
    );
    let child = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args([
            "apply",
            "--sim",
            "--auto-approve",
            "--parallelism",
            "2",
            ".",
        ])
        .current_dir(dir)
        .env("GANTRY_SIM_LATENCY_MS", "50")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    std::thread::sleep(Duration::from_millis(400));
    let sent = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status();
    assert!(sent.is_ok_and(|s| s.success()));
    let out = child.wait_with_output().unwrap_or_else(|e| panic!("{e}"));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "an orderly exit: {stderr}");
    assert!(stderr.contains(banner), "{stderr}");
    assert!(stderr.contains("Apply interrupted"), "{stderr}");
    let state = lines(&gantry(dir, &["state", "list", "--dir", ".", "--sim"]));
    assert!(
        !state.is_empty() && state.len() < 40,
        "partial progress saved: {}",
        state.len()
    );
    let world = gantry(dir, &["sim", "ls", "--dir", "."])
        .stdout
        .lines()
        .count();
    assert_eq!(state.len(), world, "everything created is in state");
    // The lock was released: the next apply finishes the job.
    assert_eq!(
        gantry(dir, &["apply", "--sim", "--auto-approve", "."]).code,
        0
    );
    assert_eq!(
        lines(&gantry(dir, &["state", "list", "--dir", ".", "--sim"])).len(),
        40
    );
}

#[test]
fn interrupt_saves_state_and_releases_the_lock() {
    stop_apply_with("-INT", "Interrupt received");
}

#[test]
fn state_push_refuses_another_lineage_or_an_older_serial() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(dir, "main.hcl", STACK);
    assert_eq!(
        gantry(dir, &["apply", "--sim", "--auto-approve", "."]).code,
        0
    );
    let state_file = dir.join(".gantry/sim/state.json");
    let current = std::fs::read_to_string(&state_file).unwrap_or_default();
    let mut json: serde_json::Value = serde_json::from_str(&current).unwrap_or_default();

    json["lineage"] = serde_json::Value::from("another-stack");
    write(dir, "other.json", &json.to_string());
    let run = gantry(dir, &["state", "push", "--dir", ".", "--sim", "other.json"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("lineage"), "{}", run.stderr);
    assert_eq!(
        std::fs::read_to_string(&state_file).unwrap_or_default(),
        current,
        "state untouched"
    );

    let mut older: serde_json::Value = serde_json::from_str(&current).unwrap_or_default();
    older["serial"] = serde_json::Value::from(0);
    write(dir, "older.json", &older.to_string());
    let run = gantry(dir, &["state", "push", "--dir", ".", "--sim", "older.json"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("serial"), "{}", run.stderr);
    let forced = gantry(
        dir,
        &[
            "state",
            "push",
            "--dir",
            ".",
            "--sim",
            "--force",
            "older.json",
        ],
    );
    assert_eq!(forced.code, 0, "{}", forced.transcript());
}

#[test]
fn lock_timeout_waits_for_the_holder() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        "resource \"gantry_data\" \"x\" {\n  count = 10\n  input = count.index\n}\n",
    );
    let mut first = Command::new(env!("CARGO_BIN_EXE_gantry"))
        .args([
            "apply",
            "--sim",
            "--auto-approve",
            "--parallelism",
            "1",
            ".",
        ])
        .current_dir(dir)
        .env("GANTRY_SIM_LATENCY_MS", "60")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{e}"));
    let lock_file = dir.join(".gantry/sim/state.lock");
    for _ in 0..100 {
        if std::fs::read_to_string(&lock_file).is_ok_and(|s| s.contains("apply")) {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let waited = gantry(
        dir,
        &[
            "plan",
            "--sim",
            "--lock-timeout",
            "30s",
            "--detailed-exitcode",
            ".",
        ],
    );
    assert_eq!(
        waited.code,
        0,
        "waited for the apply, then found nothing to do: {}",
        waited.transcript()
    );
    assert!(first.wait().is_ok_and(|s| s.success()));
}

#[test]
fn sensitive_outputs_are_redacted_in_human_output() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        "resource \"gantry_data\" \"db\" {\n  input = \"hunter2\"\n}\n\noutput \"password\" {\n  value     = gantry_data.db.output\n  sensitive = true\n}\n\noutput \"id\" {\n  value = gantry_data.db.id\n}\n",
    );
    let apply = gantry(dir, &["apply", "--sim", "--auto-approve", "."]);
    assert_eq!(apply.code, 0, "{}", apply.transcript());
    assert!(
        apply.stdout.contains("password = (sensitive value)"),
        "{}",
        apply.stdout
    );
    assert!(!apply.stdout.contains("hunter2\n"), "{}", apply.stdout);
    let all = gantry(dir, &["output", "--dir", ".", "--sim"]);
    assert!(
        all.stdout.contains("password = (sensitive value)"),
        "{}",
        all.stdout
    );
    assert!(all.stdout.contains("id = \"d-"), "{}", all.stdout);
    let raw = gantry(dir, &["output", "--dir", ".", "--sim", "--raw", "password"]);
    assert_eq!(
        raw.stdout, "hunter2\n",
        "asked for by name, the value is printed"
    );
}

/// A data source read during apply (its configuration names a new object) is read again
/// when that object is replaced by another, never "updated"; a whole destroy forgets it too.
#[test]
fn data_sources_are_read_again_after_their_inputs_are_replaced_and_destroy_forgets_them() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "main.hcl",
        r#"
provider "aws" {
  region = "us-east-1"
}

variable "bucket" {
  type    = string
  default = "reads-after-replace"
}

resource "aws_s3_bucket" "data" {
  bucket = var.bucket
}

data "aws_iam_policy_document" "read" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.data.arn}/*"]
  }
}
"#,
    );
    let apply = gantry(dir, &["apply", "--sim", "--auto-approve", "."]);
    assert_eq!(apply.code, 0, "{}", apply.transcript());
    let listed = gantry(dir, &["state", "list", "--dir", ".", "--sim"]);
    assert!(
        listed.stdout.contains("data.aws_iam_policy_document.read"),
        "{}",
        listed.stdout
    );

    let replace = gantry(
        dir,
        &[
            "apply",
            "--sim",
            "--auto-approve",
            "--var",
            "bucket=renamed",
            ".",
        ],
    );
    assert_eq!(replace.code, 0, "{}", replace.transcript());
    assert!(
        replace
            .stdout
            .contains("data.aws_iam_policy_document.read will be read during apply"),
        "{}",
        replace.stdout
    );
    let renamed = ["--sim", "--var", "bucket=renamed", "."];
    let plan = gantry(
        dir,
        &[&["plan", "--detailed-exitcode"][..], &renamed].concat(),
    );
    assert_eq!(plan.code, 0, "{}", plan.transcript());

    let destroy = gantry(
        dir,
        &[&["destroy", "--auto-approve"][..], &renamed].concat(),
    );
    assert_eq!(destroy.code, 0, "{}", destroy.transcript());
    let left = gantry(dir, &["state", "list", "--dir", ".", "--sim"]);
    assert!(
        left.stdout.trim().is_empty(),
        "left in state: {}",
        left.stdout
    );
}

//! The `gantry` binary run in a stack directory, shared by the per-cloud test suites
//! (tests/aws, tests/gcp: each includes this file and wraps [`StackDir`] with how to
//! reach its cloud).

use std::path::Path;
use std::process::{Command, Output};

/// The outcome of one `gantry` run.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn both(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

impl From<Output> for Run {
    fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

/// A temporary stack directory and the environment every `gantry` run in it gets.
pub struct StackDir {
    dir: tempfile::TempDir,
    /// Variables of the test's own environment that must not reach `gantry` (a developer's
    /// real credentials), by prefix.
    cleared: &'static [&'static str],
    /// Variables every run gets (the local server's endpoint and credentials).
    env: Vec<(String, String)>,
}

impl StackDir {
    pub fn new(cleared: &'static [&'static str], env: Vec<(String, String)>) -> StackDir {
        StackDir {
            dir: tempfile::tempdir().expect("temp dir"),
            cleared,
            env,
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `gantry ARGS` in the directory, with `extra` variables on top of the usual ones.
    pub fn command(&self, args: &[&str], extra: &[(&str, &str)]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gantry"));
        cmd.args(args)
            .current_dir(self.dir.path())
            .env("NO_COLOR", "1");
        for (k, _) in std::env::vars() {
            if self.cleared.iter().any(|p| k.starts_with(p)) {
                cmd.env_remove(k);
            }
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        for (k, v) in extra {
            cmd.env(k, v);
        }
        cmd
    }

    pub fn gantry(&self, args: &[&str]) -> Run {
        self.gantry_env(args, &[])
    }

    pub fn gantry_env(&self, args: &[&str], extra: &[(&str, &str)]) -> Run {
        self.command(args, extra)
            .output()
            .expect("run gantry")
            .into()
    }

    /// `gantry apply --auto-approve`, which must succeed.
    pub fn apply(&self) -> Run {
        let run = self.gantry(&["apply", "--auto-approve"]);
        assert_eq!(run.code, 0, "apply failed:\n{}", run.both());
        run
    }

    /// `gantry destroy --auto-approve`, which must succeed.
    pub fn destroy(&self) -> Run {
        let run = self.gantry(&["destroy", "--auto-approve"]);
        assert_eq!(run.code, 0, "destroy failed:\n{}", run.both());
        run
    }

    /// `gantry plan --detailed-exitcode`: 0 no changes, 2 changes (anything else fails).
    pub fn plan_code(&self) -> (i32, Run) {
        let run = self.gantry(&["plan", "--detailed-exitcode"]);
        assert!(
            run.code == 0 || run.code == 2,
            "plan failed:\n{}",
            run.both()
        );
        (run.code, run)
    }

    /// Asserts the plan has no changes.
    pub fn assert_no_changes(&self) {
        let (code, run) = self.plan_code();
        assert_eq!(code, 0, "expected no changes:\n{}", run.both());
    }

    /// An attribute of a resource in state (`gantry output` is for outputs; this reads
    /// `.gantry/state.json` directly).
    pub fn state_attr(&self, address: &str, attr: &str) -> serde_json::Value {
        let text = std::fs::read_to_string(self.dir.path().join(".gantry/state.json"))
            .expect("state.json");
        let state: serde_json::Value = serde_json::from_str(&text).expect("state json");
        let resource = &state["resources"][address];
        assert!(!resource.is_null(), "`{address}` not in state:\n{text}");
        resource["attributes"][attr].clone()
    }

    /// Addresses in state.
    pub fn state_addresses(&self) -> Vec<String> {
        let run = self.gantry(&["state", "list"]);
        assert_eq!(run.code, 0, "{}", run.both());
        run.stdout.lines().map(str::to_owned).collect()
    }
}

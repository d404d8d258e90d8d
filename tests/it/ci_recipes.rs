//! The CI recipes in `examples/ci` work as written: both YAML files are parsed, and the
//! scripts of their jobs that run gantry are run, in the order CI would run them, against a
//! `--sim` copy of the AI training example: plan and report on a pull request, apply of that
//! saved plan on merge, then the drift check (clean, and after objects vanish behind
//! gantry's back).

use crate::support::{copy_dir, gantry, repo_root};
use std::path::Path;
use std::process::Command;
use yaml_rust2::{Yaml, YamlLoader};

fn load(name: &str) -> Yaml {
    let path = repo_root().join("examples/ci").join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    let mut docs = YamlLoader::load_from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(docs.len(), 1, "{name}: one document");
    docs.remove(0)
}

/// `KEY: value` pairs of a YAML mapping whose values CI would not fill in (`${{ }}`).
fn plain_env(map: &Yaml) -> Vec<(String, String)> {
    map.as_hash()
        .map(|h| {
            h.iter()
                .filter_map(|(k, v)| {
                    let value = match v {
                        Yaml::String(s) => s.clone(),
                        Yaml::Integer(i) => i.to_string(),
                        _ => return None,
                    };
                    let key = k.as_str()?.to_owned();
                    (!value.contains("${{")).then_some((key, value))
                })
                .collect()
        })
        .unwrap_or_default()
}

/// True when a script runs gantry (not merely installs it).
fn runs_gantry(script: &str) -> bool {
    script
        .lines()
        .any(|l| l.trim_start().starts_with("gantry ") || l.contains("$(gantry "))
}

/// The outcome of one job's scripts.
struct JobRun {
    code: i32,
    output: String,
}

/// Runs `scripts` one after another with bash -e in `dir`, as a CI runner would, with
/// gantry on PATH, `env` set and the simulated clouds on.
fn run_scripts(dir: &Path, scripts: &[String], env: &[(String, String)]) -> JobRun {
    let bin = Path::new(env!("CARGO_BIN_EXE_gantry"))
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut output = String::new();
    for script in scripts {
        let mut cmd = Command::new("bash");
        cmd.args(["-e", "-o", "pipefail", "-c", script])
            .current_dir(dir)
            .env("PATH", &path)
            .env("GANTRY_SIM", "1")
            .env("GITHUB_STEP_SUMMARY", dir.join("summary.md"));
        for (k, _) in std::env::vars() {
            if k.starts_with("GANTRY_") && k != "GANTRY_SIM" {
                cmd.env_remove(k);
            }
        }
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap_or_else(|e| panic!("bash: {e}"));
        output.push_str(&String::from_utf8_lossy(&out.stdout));
        output.push_str(&String::from_utf8_lossy(&out.stderr));
        let code = out.status.code().unwrap_or(-1);
        if code != 0 {
            return JobRun {
                code,
                output: format!("{output}\n(script failed: {script})"),
            };
        }
    }
    JobRun { code: 0, output }
}

/// A workspace as a CI checkout would have it: the stack at `infra`.
fn checkout() -> tempfile::TempDir {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let infra = tmp.path().join("infra");
    std::fs::create_dir_all(&infra).unwrap_or_else(|e| panic!("{e}"));
    copy_dir(&repo_root().join("examples/llm-training-aws"), &infra);
    tmp
}

fn summary(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("summary.md")).unwrap_or_default()
}

#[test]
fn the_github_actions_recipe_plans_reports_applies_and_checks_drift() {
    let workflow = load("github-actions.yml");
    let env = plain_env(&workflow["env"]);
    assert!(env.iter().any(|(k, v)| k == "STACK_DIR" && v == "infra"));
    let job_scripts = |job: &str| -> Vec<String> {
        let steps = workflow["jobs"][job]["steps"]
            .as_vec()
            .unwrap_or_else(|| panic!("job {job} has no steps"));
        steps
            .iter()
            .filter_map(|s| s["run"].as_str())
            .filter(|s| runs_gantry(s))
            .map(str::to_owned)
            .collect()
    };
    // What the workflow promises, in its own YAML: OIDC for every cloud, the plan as an
    // artifact, the report as a comment.
    let text = std::fs::read_to_string(repo_root().join("examples/ci/github-actions.yml"))
        .unwrap_or_default();
    for needle in [
        "id-token: write",
        "aws-actions/configure-aws-credentials",
        "google-github-actions/auth",
        "azure/login",
        "actions/upload-artifact",
        "gh pr comment",
    ] {
        assert!(text.contains(needle), "the workflow lacks {needle}");
    }

    let tmp = checkout();
    let dir = tmp.path();
    let plan = run_scripts(dir, &job_scripts("plan"), &env);
    assert_eq!(plan.code, 0, "{}", plan.output);
    let report = std::fs::read_to_string(dir.join("plan.md")).unwrap_or_default();
    assert!(
        report.starts_with("## gantry plan: ") && report.contains("**Budget:** ✅"),
        "{report}"
    );
    assert_eq!(summary(dir), report, "the report is the run's summary too");

    let apply = run_scripts(dir, &job_scripts("apply"), &env);
    assert_eq!(apply.code, 0, "{}", apply.output);
    assert!(apply.output.contains("Apply complete!"), "{}", apply.output);

    let clean = run_scripts(dir, &job_scripts("drift"), &env);
    assert_eq!(
        clean.code, 0,
        "no drift right after the apply: {}",
        clean.output
    );

    // Objects deleted behind gantry's back: the nightly job fails and says why.
    assert_eq!(
        gantry(&dir.join("infra"), &["sim", "reset", "--dir", "."]).code,
        0
    );
    std::fs::remove_file(dir.join("summary.md")).unwrap_or_else(|e| panic!("{e}"));
    let drift = run_scripts(dir, &job_scripts("drift"), &env);
    assert_eq!(drift.code, 1, "{}", drift.output);
    assert!(
        drift
            .output
            .contains("::error::the infrastructure no longer matches"),
        "{}",
        drift.output
    );
    assert!(summary(dir).contains("### Drift"), "{}", summary(dir));
}

#[test]
fn the_gitlab_recipe_plans_reports_applies_and_checks_drift() {
    let pipeline = load("gitlab-ci.yml");
    let env = plain_env(&pipeline["variables"]);
    let job_script = |job: &str| -> Vec<String> {
        let lines: Vec<&str> = pipeline[job]["script"]
            .as_vec()
            .unwrap_or_else(|| panic!("job {job} has no script"))
            .iter()
            .filter_map(Yaml::as_str)
            .collect();
        assert!(lines.iter().any(|l| runs_gantry(l)), "{job} runs gantry");
        // GitLab runs a job's script lines in one shell, stopping at the first failure.
        vec![lines.join("\n")]
    };
    let text =
        std::fs::read_to_string(repo_root().join("examples/ci/gitlab-ci.yml")).unwrap_or_default();
    for needle in [
        "id_tokens:",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "GOOGLE_APPLICATION_CREDENTIALS",
        "AZURE_FEDERATED_TOKEN_FILE",
        "artifacts:",
        "merge_requests/$CI_MERGE_REQUEST_IID/notes",
    ] {
        assert!(text.contains(needle), "the pipeline lacks {needle}");
    }

    let tmp = checkout();
    let dir = tmp.path();
    let plan = run_scripts(dir, &job_script("plan"), &env);
    assert_eq!(plan.code, 0, "{}", plan.output);
    let report = std::fs::read_to_string(dir.join("plan.md")).unwrap_or_default();
    assert!(report.starts_with("## gantry plan: "), "{report}");
    let apply = run_scripts(dir, &job_script("apply"), &env);
    assert_eq!(apply.code, 0, "{}", apply.output);
    let clean = run_scripts(dir, &job_script("drift"), &env);
    assert_eq!(clean.code, 0, "{}", clean.output);
    assert_eq!(
        gantry(&dir.join("infra"), &["sim", "reset", "--dir", "."]).code,
        0
    );
    let drift = run_scripts(dir, &job_script("drift"), &env);
    assert_eq!(drift.code, 1, "{}", drift.output);
    assert!(
        drift.output.contains("no longer matches infra"),
        "{}",
        drift.output
    );
    let drift_report = std::fs::read_to_string(dir.join("drift.md")).unwrap_or_default();
    assert!(drift_report.contains("was deleted"), "{drift_report}");
}

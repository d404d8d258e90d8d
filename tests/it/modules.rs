//! Module sources: local paths and `git::` URLs, tested with local `file://` repositories.

use crate::support::gantry;
use std::path::Path;
use std::process::Command;

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .output()
        .unwrap_or_else(|e| panic!("git: {e}"));
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A repository whose `net/` module has one output, tagged v1 (count 1) and v2 (count 2).
fn module_repo(dir: &Path) {
    std::fs::create_dir_all(dir.join("net")).unwrap_or_else(|e| panic!("{e}"));
    git(dir, &["init", "-q", "-b", "main"]);
    for (tag, n) in [("v1", 1), ("v2", 2)] {
        let body = format!(
            "variable \"prefix\" {{\n  type = string\n}}\n\nresource \"gantry_data\" \"subnet\" {{\n  count = {n}\n  input = \"${{var.prefix}}-${{count.index}}\"\n}}\n\noutput \"ids\" {{\n  value = gantry_data.subnet[*].id\n}}\n"
        );
        std::fs::write(dir.join("net/main.hcl"), body).unwrap_or_else(|e| panic!("{e}"));
        git(dir, &["add", "."]);
        git(dir, &["commit", "-q", "-m", tag]);
        git(dir, &["tag", tag]);
    }
}

fn stack(dir: &Path, source: &str) {
    std::fs::create_dir_all(dir).unwrap_or_else(|e| panic!("{e}"));
    let body = format!(
        "module \"net\" {{\n  source = \"{source}\"\n  prefix = \"gpu\"\n}}\n\nresource \"gantry_data\" \"cluster\" {{\n  input = module.net.ids\n}}\n"
    );
    std::fs::write(dir.join("main.hcl"), body).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn git_sources_are_fetched_at_the_requested_ref() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let repo = tmp.path().join("repo");
    module_repo(&repo);
    let url = format!("file://{}", repo.display());
    let stack_dir = tmp.path().join("stack");
    stack(&stack_dir, &format!("git::{url}//net?ref=v1"));
    let run = gantry(&stack_dir, &["validate", "--json", "."]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stdout.contains("\"resource_instances\":2"),
        "v1 has one subnet: {}",
        run.stdout
    );
    let fetched = std::fs::read_dir(stack_dir.join(".gantry/modules"))
        .map(|d| d.count())
        .unwrap_or(0);
    assert_eq!(fetched, 1, "the clone is cached under .gantry/modules");

    stack(&stack_dir, &format!("git::{url}//net?ref=v2"));
    let run = gantry(&stack_dir, &["graph", "."]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    assert!(
        run.stdout.contains("\"module.net.gantry_data.subnet[1]\""),
        "v2 has two: {}",
        run.stdout
    );
    // The module output depends on the subnets, so the cluster waits for both.
    assert!(run
        .stdout
        .contains("\"gantry_data.cluster\" -> \"module.net.gantry_data.subnet[1]\";"));
}

#[test]
fn unknown_git_ref_is_module_source_not_found() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let repo = tmp.path().join("repo");
    module_repo(&repo);
    let stack_dir = tmp.path().join("stack");
    stack(
        &stack_dir,
        &format!("git::file://{}//net?ref=v9", repo.display()),
    );
    let run = gantry(&stack_dir, &["validate", "."]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("module source not found"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("v9"), "{}", run.stderr);
    assert!(
        !stack_dir
            .join(".gantry/modules")
            .read_dir()
            .is_ok_and(|mut d| d.any(|e| {
                e.is_ok_and(|e| !e.file_name().to_string_lossy().ends_with(".partial"))
            })),
        "a failed clone leaves nothing that looks complete"
    );
}

#[test]
fn module_arguments_are_checked_against_its_variables() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let child = tmp.path().join("child");
    std::fs::create_dir_all(&child).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        child.join("main.hcl"),
        "variable \"size\" {\n  type = number\n}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        tmp.path().join("main.hcl"),
        "module \"c\" {\n  source = \"./child\"\n  sise   = 3\n}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let run = gantry(tmp.path(), &["validate", "."]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("unsupported argument `sise`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("did you mean `size`?"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("missing required argument `size`"),
        "{}",
        run.stderr
    );
}

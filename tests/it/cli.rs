//! The command line itself: help, version, and `validate` on every shipped stack.

use crate::support::{gantry, repo_root};

#[test]
fn every_command_has_help_with_examples() {
    use clap::CommandFactory;
    fn paths(command: &clap::Command, prefix: &[String], out: &mut Vec<Vec<String>>) {
        for sub in command.get_subcommands() {
            let mut path = prefix.to_vec();
            path.push(sub.get_name().to_owned());
            if sub.has_subcommands() {
                paths(sub, &path, out);
            } else {
                out.push(path);
            }
        }
    }
    let mut commands = Vec::new();
    paths(&gantry::cli::Cli::command(), &[], &mut commands);
    assert!(commands.len() > 20, "{commands:?}");
    for path in commands {
        let mut args: Vec<&str> = path.iter().map(String::as_str).collect();
        args.push("--help");
        let run = gantry(&repo_root(), &args);
        assert_eq!(run.code, 0, "{path:?}: {}", run.transcript());
        assert!(
            run.stdout.contains("Examples:"),
            "`gantry {}` --help has no examples:\n{}",
            path.join(" "),
            run.stdout
        );
        assert!(run.stdout.contains("Usage: gantry"), "{}", run.stdout);
    }
}

#[test]
fn version_matches_the_package() {
    let run = gantry(&repo_root(), &["--version"]);
    assert_eq!(
        run.stdout.trim(),
        format!("gantry {}", env!("CARGO_PKG_VERSION"))
    );
}

#[test]
fn unknown_flag_is_a_usage_error_not_a_panic() {
    let run = gantry(&repo_root(), &["validate", "--nope"]);
    assert_eq!(run.code, 2, "clap reports usage errors with exit 2");
    assert!(
        run.stderr.contains("unexpected argument '--nope'"),
        "{}",
        run.stderr
    );
}

/// Every stack directory shipped in `examples/` and `stacks/` validates cleanly.
#[test]
fn shipped_stacks_validate() {
    let mut checked = 0;
    for top in ["examples", "stacks"] {
        let dir = repo_root().join(top);
        for dir in stack_dirs(&dir) {
            let run = gantry(&repo_root(), &["validate", &dir.to_string_lossy()]);
            assert_eq!(run.code, 0, "{}:\n{}", dir.display(), run.transcript());
            assert!(run.stderr.contains("Success!"), "{}", run.stderr);
            checked += 1;
        }
    }
    assert!(checked >= 1, "no stacks found");
}

/// Directories holding `.hcl` files that are not modules of another stack in the list.
fn stack_dirs(root: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(root) else {
        return out;
    };
    for e in entries.filter_map(Result::ok) {
        let p = e.path();
        if !p.is_dir() {
            continue;
        }
        let has_hcl = std::fs::read_dir(&p)
            .map(|rd| {
                rd.filter_map(Result::ok)
                    .any(|f| f.path().extension().is_some_and(|x| x == "hcl"))
            })
            .unwrap_or(false);
        if has_hcl {
            out.push(p);
        } else {
            out.extend(stack_dirs(&p));
        }
    }
    out.sort();
    out
}

#[test]
fn validate_reports_what_it_found() {
    let run = gantry(&repo_root(), &["validate", "examples/quickstart", "--json"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let summary: serde_json::Value =
        serde_json::from_str(run.stdout.trim()).unwrap_or_else(|e| panic!("{e}: {}", run.stdout));
    // network + 2 subnets + 2 checkpoints + 2 workers x (node + scratch)
    assert_eq!(summary["resource_instances"], 9);
    assert_eq!(summary["modules"], 2);
    assert_eq!(summary["valid"], true);
}

#[test]
fn missing_stack_directory_is_a_diagnostic() {
    let run = gantry(&repo_root(), &["validate", "no/such/dir"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("no stack at `no/such/dir`"),
        "{}",
        run.stderr
    );
}

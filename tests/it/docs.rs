//! `gantry completions` and `gantry man`: generated from the clap definitions, checked by the
//! shells and the man tooling that will read them.
#![allow(clippy::unwrap_used)]

use crate::support::{gantry, repo_root};
use clap::CommandFactory;
use std::process::Command;

fn top_level_commands() -> Vec<String> {
    gantry::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect()
}

/// What bash's programmable completion offers for `words` (the last one being completed).
fn bash_complete(script: &str, words: &[&str]) -> Vec<String> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("gantry.bash");
    std::fs::write(&path, script).unwrap();
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let program = format!(
        "source '{}'\nCOMP_WORDS=({})\nCOMP_CWORD={}\nCOMP_LINE=\"${{COMP_WORDS[*]}}\"\nCOMP_POINT=${{#COMP_LINE}}\n_gantry gantry '{}' '{}'\nprintf '%s\\n' \"${{COMPREPLY[@]}}\"",
        path.display(),
        quoted.join(" "),
        words.len() - 1,
        words[words.len() - 1],
        words[words.len() - 2],
    );
    let out = Command::new("bash")
        .args(["--norc", "-c", &program])
        .output()
        .expect("bash runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_owned)
        .collect()
}

#[test]
fn bash_completion_completes_commands_subcommands_and_values() {
    let run = gantry(&repo_root(), &["completions", "bash"]);
    assert_eq!(run.code, 0, "{}", run.transcript());

    let all = bash_complete(&run.stdout, &["gantry", ""]);
    for name in top_level_commands() {
        assert!(all.contains(&name), "`{name}` not offered: {all:?}");
    }
    assert_eq!(bash_complete(&run.stdout, &["gantry", "pl"]), ["plan"]);
    let state = bash_complete(&run.stdout, &["gantry", "state", ""]);
    for sub in ["list", "show", "mv", "rm", "pull", "push", "resolve"] {
        assert!(state.contains(&sub.to_owned()), "{sub}: {state:?}");
    }
    let shells = bash_complete(&run.stdout, &["gantry", "completions", ""]);
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        assert!(shells.contains(&shell.to_owned()), "{shell}: {shells:?}");
    }
    let flags = bash_complete(&run.stdout, &["gantry", "apply", "--au"]);
    assert_eq!(flags, ["--auto-approve"]);
}

#[test]
fn zsh_and_fish_scripts_name_every_command() {
    for shell in ["zsh", "fish"] {
        let run = gantry(&repo_root(), &["completions", shell]);
        assert_eq!(run.code, 0, "{}", run.transcript());
        for name in top_level_commands() {
            assert!(run.stdout.contains(&name), "{shell}: `{name}` missing");
        }
    }
    let zsh = gantry(&repo_root(), &["completions", "zsh"]);
    assert!(zsh.stdout.starts_with("#compdef gantry"), "{}", zsh.stdout);
}

#[test]
fn an_unknown_shell_is_a_usage_error_listing_the_shells() {
    let run = gantry(&repo_root(), &["completions", "tcsh"]);
    assert_eq!(run.code, 2, "{}", run.transcript());
    assert!(
        run.stderr.contains("possible values: bash"),
        "{}",
        run.stderr
    );
}

/// Renders a page with groff, warnings on: returns the text and what groff complained of.
fn groff(page: &[u8]) -> (String, String) {
    use std::io::Write;
    let mut child = Command::new("groff")
        .args(["-man", "-Tutf8", "-ww"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("groff runs");
    child.stdin.take().unwrap().write_all(page).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_manual_page_renders_cleanly_and_lists_every_command() {
    let run = gantry(&repo_root(), &["man"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let (text, warnings) = groff(run.stdout.as_bytes());
    assert_eq!(warnings, "", "groff warned");
    // groff's tty output emboldens by overstriking; compare the plain letters.
    let plain = strip_overstrike(&text);
    assert!(plain.contains("SUBCOMMANDS"), "{plain}");
    for name in top_level_commands() {
        assert!(
            plain.contains(&format!("gantry-{name}(1)")),
            "`{name}` missing:\n{plain}"
        );
    }
}

#[test]
fn man_out_dir_writes_a_page_per_command_at_every_depth() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("man1");
    let run = gantry(&repo_root(), &["man", "--out-dir", out.to_str().unwrap()]);
    assert_eq!(run.code, 0, "{}", run.transcript());
    let pages: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        run.stderr
            .contains(&format!("wrote {} manual pages", pages.len())),
        "{}",
        run.stderr
    );
    for name in [
        "gantry.1",
        "gantry-plan.1",
        "gantry-state-resolve.1",
        "gantry-man.1",
    ] {
        assert!(pages.iter().any(|p| p == name), "{name} missing: {pages:?}");
    }
    let page = std::fs::read(out.join("gantry-state-resolve.1")).unwrap();
    let (text, warnings) = groff(&page);
    assert_eq!(warnings, "");
    assert!(strip_overstrike(&text).contains("--not-created"), "{text}");
}

#[test]
fn man_out_dir_that_cannot_be_written_is_a_diagnostic() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a-file");
    std::fs::write(&file, "").unwrap();
    let run = gantry(&repo_root(), &["man", "--out-dir", file.to_str().unwrap()]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("cannot write manual pages to"),
        "{}",
        run.stderr
    );
}

fn strip_overstrike(text: &str) -> String {
    let mut out: Vec<char> = Vec::new();
    for c in text.chars() {
        if c == '\u{8}' {
            out.pop();
            continue;
        }
        out.push(c);
    }
    // A backspace pops the first letter of "X\bX"; the second remains.
    out.into_iter().collect()
}

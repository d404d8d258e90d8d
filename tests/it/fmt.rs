//! `gantry fmt`: rewrite, check and diff.

use crate::support::gantry;

const UNFORMATTED: &str =
    "# network\nresource \"gantry_data\"   \"x\" {\n    input = 1 # one\n  longer_name=2\n}\n";

#[test]
fn check_then_fix_then_check() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = tmp.path().join("main.hcl");
    std::fs::write(&file, UNFORMATTED).unwrap_or_else(|e| panic!("{e}"));

    let check = gantry(tmp.path(), &["fmt", "--check", "--diff", "."]);
    assert_eq!(check.code, 1, "{}", check.transcript());
    assert!(check.stdout.contains("main.hcl"), "{}", check.stdout);
    assert!(
        check.stdout.contains("+  longer_name = 2"),
        "{}",
        check.stdout
    );
    assert_eq!(
        std::fs::read_to_string(&file).unwrap_or_default(),
        UNFORMATTED,
        "--check writes nothing"
    );

    let fix = gantry(tmp.path(), &["fmt", "."]);
    assert_eq!(fix.code, 0, "{}", fix.transcript());
    let formatted = std::fs::read_to_string(&file).unwrap_or_default();
    assert_eq!(
        formatted,
        "# network\nresource \"gantry_data\" \"x\" {\n  input       = 1 # one\n  longer_name = 2\n}\n"
    );

    let again = gantry(tmp.path(), &["fmt", "--check", "."]);
    assert_eq!(
        again.code,
        0,
        "formatting is idempotent: {}",
        again.transcript()
    );
    assert!(again.stdout.is_empty());
}

#[test]
fn syntax_errors_are_reported_not_rewritten() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(tmp.path().join("bad.hcl"), "resource \"x\" {\n  a = \n}\n")
        .unwrap_or_else(|e| panic!("{e}"));
    let run = gantry(tmp.path(), &["fmt", "."]);
    assert_eq!(run.code, 1);
    assert!(run.stderr.contains("syntax error"), "{}", run.stderr);
    assert!(run.stderr.contains("bad.hcl:2"), "{}", run.stderr);
}

#[test]
fn shipped_stacks_are_formatted() {
    let run = gantry(
        &crate::support::repo_root(),
        &["fmt", "--check", "--recursive", "examples"],
    );
    assert_eq!(
        run.code,
        0,
        "run `gantry fmt --recursive examples`:\n{}",
        run.transcript()
    );
}

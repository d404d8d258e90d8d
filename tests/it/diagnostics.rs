//! Snapshots of the rendered diagnostics for each class of mistake, from fixture stacks in
//! `tests/fixtures/<case>/`. Each must exit 1 (never 101) and point at the source line.

use crate::support::{fixtures, gantry};

fn validate_snapshot(case: &str) {
    let run = gantry(&fixtures(), &["validate", case]);
    assert_eq!(
        run.code,
        1,
        "{case} should fail validation:\n{}",
        run.transcript()
    );
    assert!(
        run.stderr.contains(&format!("--> {case}/")),
        "{case}: no snippet:\n{}",
        run.stderr
    );
    insta::assert_snapshot!(format!("validate_{case}"), run.transcript());
}

macro_rules! validate_cases {
    ($($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                validate_snapshot(stringify!($case));
            }
        )*
    };
}

validate_cases!(
    syntax_error,
    unknown_block_type,
    wrong_label_count,
    duplicates,
    undeclared_reference,
    unsupported_attribute,
    variable_type_mismatch,
    validation_failed,
    function_errors,
    cycle,
    module_source_not_found,
    for_each_list,
    bad_count_and_index,
    meta_misuse,
    undeclared_provider,
);

/// `graph` needs every expansion known: `for_each` over a value known only after apply is an
/// error naming that value and suggesting `--target`.
#[test]
fn unknown_for_each_names_the_unknown_value() {
    let run = gantry(&fixtures(), &["graph", "unknown_for_each"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr
            .contains("depends on `gantry_data.vpc`, which is known only after apply"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("--target gantry_data.vpc"),
        "{}",
        run.stderr
    );
    insta::assert_snapshot!("graph_unknown_for_each", run.transcript());
}

/// `validate` tolerates the same stack: the count is unknown, not wrong.
#[test]
fn validate_accepts_unknown_for_each() {
    let run = gantry(&fixtures(), &["validate", "unknown_for_each"]);
    assert_eq!(run.code, 0, "{}", run.transcript());
}

#[test]
fn missing_required_variable_names_its_declaration() {
    let run = gantry(&fixtures(), &["graph", "missing_variable"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    insta::assert_snapshot!("graph_missing_variable", run.transcript());
    let ok = gantry(
        &fixtures(),
        &["graph", "missing_variable", "--var", "region=us-east-1"],
    );
    assert_eq!(ok.code, 0, "{}", ok.transcript());
}

#[test]
fn json_diagnostics_are_one_object_per_line() {
    let run = gantry(&fixtures(), &["validate", "--json", "undeclared_reference"]);
    assert_eq!(run.code, 1);
    let lines: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l}: {e}")))
        .collect();
    let first = &lines[0];
    assert_eq!(first["type"], "diagnostic");
    assert_eq!(first["severity"], "error");
    assert_eq!(first["range"]["filename"], "undeclared_reference/main.hcl");
    assert_eq!(first["range"]["start"]["line"], 6);
    assert_eq!(
        lines.last().map(|l| l["valid"].clone()),
        Some(serde_json::Value::Bool(false))
    );
}

/// Every fixture, under every command that reads a stack, ends in a diagnostic, never a
/// panic.
#[test]
fn no_fixture_makes_gantry_panic() {
    let mut cases: Vec<_> = std::fs::read_dir(fixtures())
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    cases.sort();
    assert!(cases.len() >= 15);
    for case in cases {
        for cmd in ["validate", "graph"] {
            let run = gantry(&fixtures(), &[cmd, &case]);
            assert!(
                run.code == 0 || run.code == 1,
                "{cmd} {case}: {}",
                run.transcript()
            );
            assert!(
                !run.stderr.contains("panicked"),
                "{cmd} {case}: {}",
                run.stderr
            );
        }
    }
}

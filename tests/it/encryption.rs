//! Client-side encryption of state and plan files (`terraform { encryption { } }` and
//! `GANTRY_ENCRYPTION`), end to end under --sim: what reaches the disk, wrong keys, tampered
//! bytes, rotation through `fallback`, and moving plain state into encryption.

use crate::support::{gantry, gantry_env, Run};
use std::path::Path;

const SECRET: &str = "hunter2-do-not-print";

fn stack(encryption: &str, input: &str) -> String {
    format!(
        "terraform {{\n  encryption {{\n{encryption}\n  }}\n}}\n\nresource \"gantry_data\" \"db\" {{\n  input = {{ password = \"{SECRET}\", size = \"{input}\" }}\n}}\n"
    )
}

fn aes(provider: &str, passphrase: &str) -> String {
    format!(
        "    key_provider \"pbkdf2\" \"{provider}\" {{\n      passphrase = \"{passphrase}\"\n      iterations = 200000\n    }}\n    method \"aes_gcm\" \"{provider}\" {{\n      keys = key_provider.pbkdf2.{provider}\n    }}\n"
    )
}

fn target(method: &str, fallback: Option<&str>) -> String {
    let fallback = fallback
        .map(|f| format!("\n      fallback {{\n        method = {f}\n      }}"))
        .unwrap_or_default();
    format!(
        "    state {{\n      method   = {method}\n      enforced = true{fallback}\n    }}\n    plan {{\n      method = {method}\n    }}\n"
    )
}

fn ok(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Run {
    let run = gantry_env(dir, args, env);
    assert_eq!(run.code, 0, "gantry {args:?}: {}", run.transcript());
    run
}

fn state_bytes(dir: &Path) -> Vec<u8> {
    std::fs::read(dir.join(".gantry/sim/state.json")).unwrap_or_else(|e| panic!("{e}"))
}

fn write(dir: &Path, text: &str) {
    std::fs::write(dir.join("main.hcl"), text).unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn encrypted_state_hides_secrets_refuses_wrong_keys_and_tampering_and_rotates() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    let old = "method.aes_gcm.old";
    write(
        dir,
        &stack(
            &format!(
                "{}{}",
                aes("old", "correct horse battery staple"),
                target(old, None)
            ),
            "1",
        ),
    );
    ok(dir, &["apply", "--sim", "--auto-approve"], &[]);
    let sealed = state_bytes(dir);
    let text = String::from_utf8_lossy(&sealed);
    assert!(text.starts_with("{\"gantry_encrypted\":1,"), "{text}");
    assert!(
        !text.contains(SECRET) && !text.contains("gantry_data"),
        "{text}"
    );
    assert_eq!(
        gantry(dir, &["plan", "--sim", "--detailed-exitcode"]).code,
        0
    );
    let pulled = ok(dir, &["state", "pull", "--sim"], &[]);
    assert!(
        pulled.stdout.contains("gantry_data.db"),
        "{}",
        pulled.stdout
    );

    // A wrong passphrase from the environment (laid over the block): refused, file kept.
    let wrong = aes("old", "incorrect horse battery staple");
    let run = gantry_env(dir, &["plan", "--sim"], &[("GANTRY_ENCRYPTION", &wrong)]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("passphrase is wrong"), "{}", run.stderr);
    assert!(
        !run.stderr.contains("correct horse"),
        "a passphrase was printed"
    );
    assert_eq!(state_bytes(dir), sealed);

    // One character of the ciphertext changed: refused, file kept.
    let mut envelope: serde_json::Value =
        serde_json::from_slice(&sealed).unwrap_or_else(|e| panic!("{e}"));
    let ciphertext = envelope["ciphertext"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let flipped = if ciphertext.starts_with('A') {
        "B"
    } else {
        "A"
    };
    envelope["ciphertext"] = format!("{flipped}{}", &ciphertext[1..]).into();
    let tampered = serde_json::to_vec(&envelope).unwrap_or_default();
    std::fs::write(dir.join(".gantry/sim/state.json"), &tampered).unwrap_or_else(|e| panic!("{e}"));
    let run = gantry(dir, &["plan", "--sim"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("cannot decrypt the state"),
        "{}",
        run.stderr
    );
    assert_eq!(state_bytes(dir), tampered);
    std::fs::write(dir.join(".gantry/sim/state.json"), &sealed).unwrap_or_else(|e| panic!("{e}"));

    // Rotation: the new key writes, the old one reads through the fallback once.
    let new = "method.aes_gcm.new";
    let rotating = format!(
        "{}{}{}",
        aes("old", "correct horse battery staple"),
        aes("new", "a brand new passphrase here"),
        target(new, Some(old))
    );
    write(dir, &stack(&rotating, "2"));
    ok(dir, &["apply", "--sim", "--auto-approve"], &[]);
    let rotated: serde_json::Value =
        serde_json::from_slice(&state_bytes(dir)).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(rotated["key_provider"], "pbkdf2.new");
    let only_new = format!(
        "{}{}",
        aes("new", "a brand new passphrase here"),
        target(new, None)
    );
    write(dir, &stack(&only_new, "2"));
    assert_eq!(
        gantry(dir, &["plan", "--sim", "--detailed-exitcode"]).code,
        0
    );

    // Saved plans are sealed with the plan method and apply as they are.
    write(dir, &stack(&only_new, "3"));
    ok(dir, &["plan", "--sim", "--out", "tfplan"], &[]);
    let plan = std::fs::read(dir.join("tfplan")).unwrap_or_else(|e| panic!("{e}"));
    assert!(plan.starts_with(b"{\"gantry_encrypted\":1,"));
    assert!(!String::from_utf8_lossy(&plan).contains(SECRET));
    ok(dir, &["apply", "tfplan"], &[]);
    assert_eq!(
        gantry(dir, &["plan", "--sim", "--detailed-exitcode"]).code,
        0
    );
}

#[test]
fn plain_state_moves_into_encryption_only_through_an_unencrypted_fallback() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    std::fs::write(
        dir.join("main.hcl"),
        format!(
            "resource \"gantry_data\" \"db\" {{\n  input = {{ password = \"{SECRET}\" }}\n}}\n"
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    ok(dir, &["apply", "--sim", "--auto-approve"], &[]);
    assert!(String::from_utf8_lossy(&state_bytes(dir)).contains(SECRET));
    let method = "method.aes_gcm.k";
    write(
        dir,
        &stack(
            &format!(
                "{}{}",
                aes("k", "correct horse battery staple"),
                target(method, None)
            ),
            "1",
        ),
    );
    let run = gantry(dir, &["plan", "--sim"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("not encrypted"), "{}", run.stderr);
    assert!(run.stderr.contains("method.unencrypted"), "{}", run.stderr);
    let migrating = format!(
        "{}    method \"unencrypted\" \"plain\" {{}}\n{}",
        aes("k", "correct horse battery staple"),
        target(method, Some("method.unencrypted.plain"))
    );
    write(dir, &stack(&migrating, "1"));
    ok(dir, &["apply", "--sim", "--auto-approve"], &[]);
    let text = String::from_utf8_lossy(&state_bytes(dir)).into_owned();
    assert!(
        text.starts_with("{\"gantry_encrypted\":1,") && !text.contains(SECRET),
        "{text}"
    );
}

#[test]
fn encryption_configuration_errors_name_the_place() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    write(
        dir,
        "terraform {\n  encryption {\n    key_provider \"pbkdf2\" \"k\" {\n      passphrase = \"short\"\n    }\n  }\n}\n",
    );
    let run = gantry(dir, &["plan", "--sim"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("main.hcl:3:"), "{}", run.stderr);
    assert!(
        run.stderr.contains("shorter than 16 characters"),
        "{}",
        run.stderr
    );
    write(dir, "resource \"gantry_data\" \"x\" {}\n");
    let run = gantry_env(
        dir,
        &["plan", "--sim"],
        &[("GANTRY_ENCRYPTION", "method \"aes_gcm\" \"m\" { keys = key_provider.pbkdf2.none }\nstate { method = method.aes_gcm.m }")],
    );
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(run.stderr.contains("GANTRY_ENCRYPTION"), "{}", run.stderr);
}

#[test]
fn a_sealed_plan_applies_from_where_it_was_planned_with_its_stacks_configuration() {
    // As the CI recipes run it: plan `infra` from the repository root, apply the file there.
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let root = tmp.path();
    let infra = root.join("infra");
    std::fs::create_dir(&infra).unwrap_or_else(|e| panic!("{e}"));
    let method = "method.aes_gcm.k";
    write(
        &infra,
        &stack(
            &format!(
                "{}{}",
                aes("k", "correct horse battery staple"),
                target(method, None)
            ),
            "1",
        ),
    );
    ok(root, &["plan", "--sim", "--out", "tfplan", "infra"], &[]);
    let plan = std::fs::read(root.join("tfplan")).unwrap_or_else(|e| panic!("{e}"));
    assert!(plan.starts_with(b"{\"gantry_encrypted\":1,"));
    ok(root, &["apply", "tfplan"], &[]);
    assert_eq!(
        gantry(&infra, &["plan", "--sim", "--detailed-exitcode"]).code,
        0
    );
}

//! Stack modules shipped in the binary: `source = "gantry/aws/network"` works from any
//! directory, `gantry modules list|export` show and copy them, and a wrong name says what
//! there is.

use crate::support::{gantry, repo_root};

#[test]
fn a_stack_anywhere_uses_a_shipped_module() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    std::fs::write(
        dir.join("main.hcl"),
        r#"
provider "aws" {
  region = "us-east-1"
}

module "network" {
  source     = "gantry/aws/network"
  name       = "anywhere"
  cidr_block = "10.20.0.0/16"
  zones      = ["us-east-1a", "us-east-1b"]
}

output "vpc_id" {
  value = module.network.vpc_id
}
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let plan = gantry(dir, &["plan", "--sim"]);
    assert_eq!(plan.code, 0, "{}", plan.transcript());
    assert!(
        plan.stdout
            .contains("module.network.aws_vpc.main will be created"),
        "{}",
        plan.stdout
    );
    // The files diagnostics point at are the shipped ones, written under .gantry/.
    let written = dir
        .join(".gantry/modules")
        .join(format!("shipped-{}", env!("CARGO_PKG_VERSION")))
        .join("aws/network/main.hcl");
    let shipped = std::fs::read_to_string(repo_root().join("stacks/aws/network/main.hcl"))
        .unwrap_or_default();
    assert_eq!(
        std::fs::read_to_string(&written).unwrap_or_default(),
        shipped
    );
}

#[test]
fn an_unknown_shipped_module_lists_the_shipped_ones_at_the_source() {
    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let dir = tmp.path();
    std::fs::write(
        dir.join("main.hcl"),
        "module \"n\" {\n  source = \"gantry/aws/netwrk\"\n}\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let run = gantry(dir, &["validate"]);
    assert_eq!(run.code, 1, "{}", run.transcript());
    assert!(
        run.stderr.contains("module source not found"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("main.hcl:2:12"), "{}", run.stderr);
    assert!(
        run.stderr.contains("gantry ships no module `aws/netwrk`"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("gantry/aws/network"), "{}", run.stderr);
}

#[test]
fn modules_list_and_export() {
    let list = gantry(&repo_root(), &["modules", "list"]);
    assert_eq!(list.code, 0, "{}", list.transcript());
    let names: Vec<&str> = list.stdout.lines().collect();
    assert!(
        names.contains(&"gantry/aws/gpu-cluster") && names.contains(&"gantry/aws/network"),
        "{names:?}"
    );
    // Every module directory under stacks/CLOUD/, and nothing else.
    let mut on_disk: Vec<String> = std::fs::read_dir(repo_root().join("stacks"))
        .unwrap_or_else(|e| panic!("{e}"))
        .filter_map(Result::ok)
        .filter(|cloud| cloud.path().is_dir())
        .flat_map(|cloud| {
            let name = cloud.file_name().to_string_lossy().into_owned();
            std::fs::read_dir(cloud.path())
                .into_iter()
                .flatten()
                .filter_map(Result::ok)
                .filter(|m| m.path().is_dir())
                .map(move |m| format!("gantry/{name}/{}", m.file_name().to_string_lossy()))
        })
        .collect();
    on_disk.sort();
    let mut listed: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    listed.sort();
    assert_eq!(listed, on_disk);
    assert!(names.contains(&"gantry/gcp/tpu-slice"), "{names:?}");

    let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let out = tmp.path().join("vendor/network");
    let export = gantry(
        tmp.path(),
        &[
            "modules",
            "export",
            "gantry/aws/network",
            out.to_str().unwrap_or_default(),
        ],
    );
    assert_eq!(export.code, 0, "{}", export.transcript());
    for file in ["main.hcl", "variables.hcl", "outputs.hcl", "README.md"] {
        let exported = std::fs::read_to_string(out.join(file)).unwrap_or_default();
        let original = std::fs::read_to_string(repo_root().join("stacks/aws/network").join(file))
            .unwrap_or_default();
        assert!(!original.is_empty() && exported == original, "{file}");
    }
    let bad = gantry(tmp.path(), &["modules", "export", "aws/nope", "x"]);
    assert_eq!(bad.code, 1, "{}", bad.transcript());
    assert!(bad.stderr.contains("gantry modules list"), "{}", bad.stderr);
}

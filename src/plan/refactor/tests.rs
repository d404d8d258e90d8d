#![allow(clippy::unwrap_used)]

use super::*;
use crate::addrs::ModulePath;
use crate::config::model::Module;
use crate::state::ResourceState;
use std::path::Path;

/// A stack from `(module path, text)` pairs; `""` is the root, `"net"` is `module.net`.
fn stack(modules: &[(&str, &str)]) -> Stack {
    let mut stack = Stack::default();
    for (path, text) in modules {
        let id = stack
            .sources
            .add(Path::new(&format!("{path}.hcl")), (*text).to_owned());
        let mut module = Module::default();
        let mut diags = Diagnostics::new();
        let body = hcl_edit::parser::parse_body(text).unwrap();
        crate::config::decode::decode_file(&mut module, id, &body, &mut diags);
        assert!(
            !diags.has_errors(),
            "{:?}",
            diags.iter().map(|d| &d.summary).collect::<Vec<_>>()
        );
        let path = if path.is_empty() {
            ModulePath::root()
        } else {
            ModulePath(path.split('/').map(str::to_owned).collect())
        };
        stack.modules.insert(path, module);
    }
    stack
}

fn state(entries: &[(&str, &[&str])]) -> State {
    let mut state = State::new();
    for (address, deps) in entries {
        let addr = parse_resource_instance(address).unwrap();
        state.upsert_resource(ResourceState {
            address: (*address).to_owned(),
            mode: crate::state::ResourceMode::Managed,
            type_name: addr.resource.type_name.clone(),
            provider: "gantry".into(),
            schema_version: 0,
            attributes: serde_json::json!({"id": address}),
            sensitive_paths: Vec::new(),
            dependencies: deps.iter().map(|d| (*d).to_owned()).collect(),
            create_token: None,
            tainted: false,
            placement: None,
            module_placements: Default::default(),
        });
    }
    state
}

fn addresses(state: &State) -> Vec<&str> {
    state.resources.keys().map(String::as_str).collect()
}

fn errors(diags: &Diagnostics) -> Vec<String> {
    diags.iter().map(|d| d.summary.clone()).collect()
}

#[test]
fn a_renamed_resource_keeps_every_instance_and_its_dependents_follow() {
    let s = stack(&[(
        "",
        r#"
resource "gantry_data" "b" { count = 2 }
resource "gantry_data" "user" { input = gantry_data.b[0].id }
moved {
  from = gantry_data.a
  to   = gantry_data.b
}
"#,
    )]);
    assert!(check(&s).is_empty());
    let before = state(&[
        ("gantry_data.a[0]", &[]),
        ("gantry_data.a[1]", &[]),
        ("gantry_data.user", &["gantry_data.a"]),
    ]);
    let (after, r, diags) = resolve(&s, &before);
    assert!(diags.is_empty());
    assert_eq!(
        addresses(&after),
        ["gantry_data.b[0]", "gantry_data.b[1]", "gantry_data.user"]
    );
    assert_eq!(
        r.moved,
        [
            ("gantry_data.a[0]".to_owned(), "gantry_data.b[0]".to_owned()),
            ("gantry_data.a[1]".to_owned(), "gantry_data.b[1]".to_owned())
        ]
    );
    // The object itself is untouched: same attributes, new address.
    let b0 = &after.resources["gantry_data.b[0]"];
    assert_eq!(b0.address, "gantry_data.b[0]");
    assert_eq!(b0.attributes["id"], "gantry_data.a[0]");
    assert_eq!(
        after.resources["gantry_data.user"].dependencies,
        ["gantry_data.b"]
    );
}

#[test]
fn resources_move_into_modules_and_modules_are_renamed_with_everything_inside() {
    let s = stack(&[
        (
            "",
            r#"
module "network" { source = "./net" }
moved {
  from = gantry_data.vpc
  to   = module.network.gantry_data.vpc
}
moved {
  from = module.old
  to   = module.network
}
"#,
        ),
        (
            "network",
            r#"resource "gantry_data" "vpc" {}
resource "gantry_data" "subnet" { count = 2 }"#,
        ),
    ]);
    assert!(check(&s).is_empty(), "{:?}", errors(&check(&s)));
    let before = state(&[
        ("gantry_data.vpc", &[]),
        (
            "module.old.gantry_data.subnet[0]",
            &["module.old.gantry_data.vpc"],
        ),
        ("module.old.gantry_data.subnet[1]", &[]),
    ]);
    let (after, r, diags) = resolve(&s, &before);
    assert!(diags.is_empty(), "{:?}", errors(&diags));
    assert_eq!(
        addresses(&after),
        [
            "module.network.gantry_data.subnet[0]",
            "module.network.gantry_data.subnet[1]",
            "module.network.gantry_data.vpc"
        ]
    );
    assert_eq!(r.moved.len(), 3);
    assert_eq!(
        after.resources["module.network.gantry_data.subnet[0]"].dependencies,
        ["module.network.gantry_data.vpc"]
    );
}

#[test]
fn keys_change_from_count_to_for_each_and_an_unkeyed_object_gains_a_key() {
    let s = stack(&[(
        "",
        r#"
resource "gantry_data" "zone" { for_each = toset(["a", "b"]) }
resource "gantry_data" "node" { count = 3 }
moved {
  from = gantry_data.zone[0]
  to   = gantry_data.zone["a"]
}
moved {
  from = gantry_data.zone[1]
  to   = gantry_data.zone["b"]
}
moved {
  from = gantry_data.node
  to   = gantry_data.node[0]
}
"#,
    )]);
    assert!(check(&s).is_empty(), "{:?}", errors(&check(&s)));
    let before = state(&[
        ("gantry_data.zone[0]", &[]),
        ("gantry_data.zone[1]", &[]),
        ("gantry_data.node", &[]),
    ]);
    let (after, _, diags) = resolve(&s, &before);
    assert!(diags.is_empty(), "{:?}", errors(&diags));
    assert_eq!(
        addresses(&after),
        [
            "gantry_data.node[0]",
            "gantry_data.zone[\"a\"]",
            "gantry_data.zone[\"b\"]"
        ]
    );
}

#[test]
fn chains_follow_through_and_report_one_move() {
    let s = stack(&[(
        "",
        r#"
resource "gantry_data" "c" {}
moved {
  from = gantry_data.b
  to   = gantry_data.c
}
moved {
  from = gantry_data.a
  to   = gantry_data.b
}
"#,
    )]);
    let (after, r, diags) = resolve(&s, &state(&[("gantry_data.a", &[])]));
    assert!(diags.is_empty());
    assert_eq!(addresses(&after), ["gantry_data.c"]);
    assert_eq!(
        r.moved,
        [("gantry_data.a".to_owned(), "gantry_data.c".to_owned())]
    );
    assert_eq!(r.new_address("gantry_data.a"), "gantry_data.c");
}

#[test]
fn a_block_inside_a_module_applies_to_every_instance_of_it() {
    let s = stack(&[
        (
            "",
            r#"module "net" {
  source = "./net"
  count  = 2
}"#,
        ),
        (
            "net",
            r#"resource "gantry_data" "vpc" {}
moved {
  from = gantry_data.main
  to   = gantry_data.vpc
}"#,
        ),
    ]);
    let before = state(&[
        ("module.net[0].gantry_data.main", &[]),
        ("module.net[1].gantry_data.main", &[]),
        ("gantry_data.main", &[]),
    ]);
    let (after, _, diags) = resolve(&s, &before);
    assert!(diags.is_empty());
    // The root's own `gantry_data.main` is not the module's.
    assert_eq!(
        addresses(&after),
        [
            "gantry_data.main",
            "module.net[0].gantry_data.vpc",
            "module.net[1].gantry_data.vpc"
        ]
    );
}

#[test]
fn a_destination_already_tracked_is_an_error_and_nothing_moves() {
    let s = stack(&[(
        "",
        r#"
resource "gantry_data" "b" {}
moved {
  from = gantry_data.a
  to   = gantry_data.b
}
"#,
    )]);
    let before = state(&[("gantry_data.a", &[]), ("gantry_data.b", &[])]);
    let (after, r, diags) = resolve(&s, &before);
    assert_eq!(
        errors(&diags),
        ["cannot move `gantry_data.a` to `gantry_data.b`: both are tracked"]
    );
    assert_eq!(addresses(&after), ["gantry_data.a", "gantry_data.b"]);
    assert!(r.moved.is_empty());
}

#[test]
fn removed_blocks_forget_without_destroying_only_when_told() {
    let s = stack(&[(
        "",
        r#"
removed {
  from = gantry_data.debug
  lifecycle {
    destroy = false
  }
}
removed {
  from = gantry_data.scratch
}
"#,
    )]);
    assert!(check(&s).is_empty(), "{:?}", errors(&check(&s)));
    let before = state(&[
        ("gantry_data.debug[0]", &[]),
        ("gantry_data.debug[1]", &[]),
        ("gantry_data.scratch", &[]),
    ]);
    let (after, r, _) = resolve(&s, &before);
    assert_eq!(
        r.forgotten,
        ["gantry_data.debug[0]", "gantry_data.debug[1]"]
    );
    // `destroy = true` (the default) leaves the object to the plan, which destroys it.
    assert_eq!(addresses(&after), ["gantry_data.scratch"]);
}

#[test]
fn configuration_mistakes_are_reported_with_their_place() {
    let s = stack(&[(
        "",
        r#"
resource "gantry_data" "a" {}
resource "aws_vpc" "v" {}
moved {
  from = gantry_data.a
  to   = gantry_data.nowhere
}
moved {
  from = gantry_data.x
  to   = aws_vpc.v
}
moved {
  from = gantry_data.p
  to   = gantry_data.q
}
moved {
  from = gantry_data.q
  to   = gantry_data.p
}
removed {
  from = gantry_data.a
}
removed {
  from = gantry_data.z[0]
}
"#,
    )]);
    let found = errors(&check(&s));
    for expected in [
        "the destination `gantry_data.nowhere` is not declared",
        "`gantry_data.a` is still declared",
        "a move cannot change the resource type",
        "`moved` blocks form a cycle",
        "a `removed` block names a whole resource or module",
    ] {
        assert!(
            found.iter().any(|f| f == expected),
            "{expected} not in {found:?}"
        );
    }
    // The cycle is one mistake, reported once.
    assert_eq!(
        found.iter().filter(|f| f.contains("cycle")).count(),
        1,
        "{found:?}"
    );
    assert!(check(&s).iter().all(|d| d.span.is_some()));
}

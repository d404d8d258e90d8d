#![allow(clippy::unwrap_used)]

use super::*;
use crate::addrs::ResourceAddr;

/// Resolves `var.*` from a map, `aws_vpc.main` as an open object with a known `cidr_block`,
/// and `local.unknown` as unknown.
struct TestResolver;

impl Resolver for TestResolver {
    fn resolve(&self, r: &Reference) -> Result<Resolved<'_>, Diagnostic> {
        match &r.subject {
            Subject::Var(name) => match name.as_str() {
                "zones" => Ok(Value::from(vec!["a", "b", "c"]).into()),
                "n" => Ok(Value::from(3_i64).into()),
                "tags" => Ok(Value::map([("env", Value::from("prod"))]).into()),
                "nothing" => Ok(Value::Null.into()),
                _ => Err(Diagnostic::error("reference to undeclared input variable")),
            },
            Subject::Local(name) if name == "unknown" => Ok(Value::unknown().into()),
            Subject::Resource(addr) if *addr == ResourceAddr::managed("aws_vpc", "main") => {
                Ok(Resolved {
                    value: std::borrow::Cow::Owned(Value::map([(
                        "cidr_block",
                        "10.0.0.0/16".into(),
                    )])),
                    open: true,
                })
            }
            Subject::Resource(addr) if *addr == ResourceAddr::managed("aws_instance", "node") => {
                Ok(Resolved {
                    value: std::borrow::Cow::Owned(Value::List(vec![
                        Value::map([("ami", "ami-1".into())]),
                        Value::map([("ami", "ami-2".into())]),
                    ])),
                    open: true,
                })
            }
            _ => Err(Diagnostic::error("undeclared")),
        }
    }
}

#[test]
fn a_for_over_an_open_resource_reads_missing_attributes_as_unknown() {
    let zones = ok("[for n in aws_instance.node : n.availability_zone]");
    let Value::List(items) = zones else {
        panic!("{zones}");
    };
    assert_eq!(items.len(), 2);
    assert!(items.iter().all(|v| !v.is_wholly_known()));
    assert_eq!(
        ok("[for n in aws_instance.node : n.ami]"),
        Value::from(vec!["ami-1", "ami-2"])
    );
    // Anything else stays closed: a missing attribute is an error.
    assert!(err("[for o in [{a = 1}] : o.b]")
        .label
        .unwrap_or_default()
        .contains("no attribute `b`"));
    // A name bound inside shadows the open one.
    assert!(
        err("[for n in aws_instance.node : [for n in [{a = 1}] : n.b]]")
            .label
            .unwrap_or_default()
            .contains("no attribute `b`")
    );
}

fn eval(src: &str) -> Result<Value, Diagnostic> {
    let expr: Expression = src.parse().unwrap_or_else(|e| panic!("parse {src}: {e}"));
    Evaluator::new(&TestResolver, Path::new(".")).eval(&Expr {
        file: FileId(0),
        expr,
    })
}

fn ok(src: &str) -> Value {
    eval(src).unwrap_or_else(|d| panic!("{src}: {} {:?}", d.summary, d.label))
}

fn err(src: &str) -> Diagnostic {
    match eval(src) {
        Ok(v) => panic!("{src} evaluated to {v}"),
        Err(d) => d,
    }
}

#[test]
fn arithmetic_and_conversion() {
    assert_eq!(ok("1 + 2 * 3"), Value::from(7_i64));
    assert_eq!(ok("\"2\" + 1"), Value::from(3_i64));
    assert_eq!(ok("7 % 3"), Value::from(1_i64));
    assert_eq!(ok("-var.n"), Value::from(-3_i64));
    assert_eq!(err("1 / 0").label.as_deref(), Some("can't divide by zero"));
    assert!(err("\"a\" + 1")
        .label
        .unwrap_or_default()
        .contains("the string \"a\""));
}

#[test]
fn comparison_and_logic() {
    assert_eq!(ok("var.n > 2 && !false"), Value::Bool(true));
    assert_eq!(ok("\"a\" == \"a\""), Value::Bool(true));
    assert_eq!(ok("[1, 2] != [1, 2]"), Value::Bool(false));
    assert!(err("1 && true")
        .label
        .unwrap_or_default()
        .contains("needs a bool"));
}

#[test]
fn conditionals_evaluate_only_the_chosen_branch() {
    assert_eq!(
        ok("length(var.zones) > 5 ? var.zones[9] : \"none\""),
        Value::from("none")
    );
    assert!(ok("local.unknown ? 1 : 2").is_unknown());
}

#[test]
fn references_indexes_and_splats() {
    assert_eq!(ok("var.zones[1]"), Value::from("b"));
    assert_eq!(ok("var.tags.env"), Value::from("prod"));
    assert_eq!(ok("var.tags[\"env\"]"), Value::from("prod"));
    assert_eq!(ok("[{a = 1}, {a = 2}][*].a"), Value::from(vec![1_i64, 2]));
    assert_eq!(ok("var.nothing[*]"), Value::List(vec![]));
    assert_eq!(ok("aws_vpc.main.cidr_block"), Value::from("10.0.0.0/16"));
    assert!(
        ok("aws_vpc.main.id").is_unknown(),
        "open objects yield unknown attributes"
    );
}

#[test]
fn traversal_errors_say_what_exists() {
    let d = err("var.tags.evn");
    assert_eq!(d.summary, "unsupported attribute");
    assert_eq!(d.help.as_deref(), Some("did you mean `env`?"));
    let d = err("var.zones[3]");
    assert_eq!(
        d.label.as_deref(),
        Some("index 3 is out of range for a list of 3 element(s)")
    );
    assert_eq!(
        err("var.nothing.x").summary,
        "attempt to get attribute from null value"
    );
}

#[test]
fn unknown_propagates() {
    assert!(ok("local.unknown + 1").is_unknown());
    assert!(ok("\"x-${local.unknown}\"").is_unknown());
    assert!(ok("local.unknown.anything[0]").is_unknown());
    assert!(ok("[for x in local.unknown : x]").is_unknown());
    assert_eq!(ok("length([local.unknown, 1])"), Value::from(2_i64));
}

#[test]
fn templates_and_directives() {
    assert_eq!(ok("\"${var.n}-gpu\""), Value::from("3-gpu"));
    assert_eq!(
        ok("\"${var.zones}\""),
        Value::from(vec!["a", "b", "c"]),
        "single interpolation"
    );
    assert_eq!(
        ok("\"%{ for z in var.zones }${z},%{ endfor }\""),
        Value::from("a,b,c,")
    );
    assert_eq!(
        ok("\"%{ if var.n > 1 }many%{ else }one%{ endif }\""),
        Value::from("many")
    );
    assert_eq!(ok("\"a  ${~ \"b\" ~}  c\""), Value::from("abc"));
    let heredoc = ok("<<-EOT\n    hello\n      ${var.n}\n    EOT");
    assert_eq!(heredoc, Value::from("hello\n  3\n"));
    assert!(err("\"${var.nothing}x\"").summary.contains("interpolation"));
}

#[test]
fn for_expressions() {
    assert_eq!(
        ok("[for z in var.zones : upper(z) if z != \"b\"]"),
        Value::from(vec!["A", "C"])
    );
    assert_eq!(
        ok("{for i, z in var.zones : z => i}"),
        Value::map([
            ("a", Value::from(0_i64)),
            ("b", 1_i64.into()),
            ("c", 2_i64.into())
        ])
    );
    assert_eq!(
        ok("{for z in [\"a\", \"b\", \"a\"] : z => z...}"),
        Value::map([
            ("a", Value::from(vec!["a", "a"])),
            ("b", Value::from(vec!["b"]))
        ])
    );
    assert_eq!(
        err("{for z in [\"a\", \"a\"] : z => 1}").summary,
        "duplicate object key"
    );
}

#[test]
fn try_and_can() {
    assert_eq!(
        ok("try(var.tags.missing, \"fallback\")"),
        Value::from("fallback")
    );
    assert_eq!(ok("can(var.zones[10])"), Value::Bool(false));
    assert_eq!(ok("can(var.zones[0])"), Value::Bool(true));
    assert_eq!(
        err("try(var.zones[10])").summary,
        "no argument of `try` succeeded"
    );
}

#[test]
fn function_errors_point_at_the_call() {
    let d = err("lenght(var.zones)");
    assert_eq!(d.summary, "call to unknown function `lenght`");
    assert_eq!(d.help.as_deref(), Some("did you mean `length`?"));
}

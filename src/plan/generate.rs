//! Resource blocks written from what the cloud holds (`plan --generate-config-out`): the
//! arguments a user may set, in HCL, so that planning the block against the same object
//! changes nothing.

use gantry_provider::{Nesting, Schema, Value};
use std::fmt::Write;

/// `resource "TYPE" "NAME" { ... }` for an object read from the cloud.
pub fn resource_block(type_name: &str, name: &str, schema: &Schema, value: &Value) -> String {
    let mut out = format!("resource \"{type_name}\" \"{name}\" {{\n");
    body(&mut out, schema, value, 1);
    out.push_str("}\n");
    out
}

fn body(out: &mut String, schema: &Schema, value: &Value, depth: usize) {
    let indent = "  ".repeat(depth);
    let fields = value.as_map();
    for (name, attribute) in &schema.attributes {
        if !(attribute.required || attribute.optional) {
            continue; // set by the cloud only
        }
        let v = fields.and_then(|m| m.get(name)).unwrap_or(&Value::Null);
        if attribute.sensitive {
            let _ = writeln!(
                out,
                "{indent}{name} = null # sensitive: the cloud does not return it; set it yourself"
            );
            continue;
        }
        if matches!(v, Value::Null) && !attribute.required {
            continue;
        }
        let _ = writeln!(out, "{indent}{name} = {}", expression(v));
    }
    for (name, block) in &schema.blocks {
        let items: Vec<&Value> = match fields.and_then(|m| m.get(name)) {
            Some(Value::List(items) | Value::Set(items)) => items.iter().collect(),
            Some(Value::Null) | None => Vec::new(),
            Some(single) if block.nesting == Nesting::Single => vec![single],
            Some(other) => vec![other],
        };
        for item in items {
            let _ = writeln!(out, "{indent}{name} {{");
            body(out, &block.schema, item, depth + 1);
            let _ = writeln!(out, "{indent}}}");
        }
    }
}

/// A value as an HCL expression.
pub fn expression(v: &Value) -> String {
    match v {
        Value::Null | Value::Unknown(_) => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 9.0e15 => format!("{}", *n as i64),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quoted(s),
        Value::List(items) | Value::Set(items) => {
            let parts: Vec<String> = items.iter().map(expression).collect();
            format!("[{}]", parts.join(", "))
        }
        Value::Map(map) => {
            if map.is_empty() {
                return "{}".to_owned();
            }
            let parts: Vec<String> = map
                .iter()
                .map(|(k, v)| format!("{} = {}", key(k), expression(v)))
                .collect();
            format!("{{ {} }}", parts.join(", "))
        }
        Value::Sensitive(_) => "null".to_owned(),
    }
}

/// A map key: bare when it is an identifier, quoted otherwise.
fn key(k: &str) -> String {
    let identifier = k
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if identifier {
        k.to_owned()
    } else {
        quoted(k)
    }
}

/// A quoted HCL string: escapes, and template markers doubled so they stay literal.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use gantry_provider::{Attribute, NestedBlock, Type};

    #[test]
    fn strings_stay_literal_and_parse_back() {
        let v = Value::string("a \"b\" ${not} %{x} \\ \n");
        let text = format!("x = {}\n", expression(&v));
        let body = hcl_edit::parser::parse_body(&text);
        assert!(body.is_ok(), "{text}");
        let expr = crate::config::model::Expr {
            file: crate::diagnostics::FileId(0),
            expr: text["x = ".len()..text.len() - 1]
                .parse()
                .unwrap_or_else(|_| panic!("{text}")),
        };
        assert_eq!(crate::config::eval::eval_constant(&expr).ok(), Some(v));
    }

    #[test]
    fn blocks_and_settable_arguments_only() {
        let schema = Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("cidr_block", Attribute::required(Type::String))
            .attr(
                "tags",
                Attribute::optional(Type::Map(Box::new(Type::String))),
            )
            .attr("note", Attribute::optional(Type::String))
            .attr("password", Attribute::optional(Type::String).sensitive())
            .block(
                "rule",
                NestedBlock {
                    nesting: Nesting::List,
                    schema: Schema::default().attr("port", Attribute::required(Type::Number)),
                    min_items: 0,
                    max_items: None,
                    force_new: false,
                },
            );
        let value = Value::map([
            ("id", Value::string("vpc-1")),
            ("cidr_block", Value::string("10.0.0.0/16")),
            (
                "tags",
                Value::map([
                    ("Name", Value::string("x")),
                    ("team:ml", Value::string("y")),
                ]),
            ),
            ("note", Value::Null),
            ("password", Value::Null),
            (
                "rule",
                Value::List(vec![Value::map([("port", Value::Number(443.0))])]),
            ),
        ]);
        let text = resource_block("aws_vpc", "main", &schema, &value);
        assert_eq!(
            text,
            "resource \"aws_vpc\" \"main\" {\n  cidr_block = \"10.0.0.0/16\"\n  password = null # sensitive: the cloud does not return it; set it yourself\n  tags = { Name = \"x\", \"team:ml\" = \"y\" }\n  rule {\n    port = 443\n  }\n}\n"
        );
    }
}

//! The attribute lines of one resource in a plan, as Terraform draws them: `+`, `-`, `~`
//! markers, `old -> new`, `# forces replacement`, `(known after apply)`, unchanged
//! attributes counted instead of shown, and nested blocks drawn as blocks
//! (`scaling_config { ... }`) wherever the schema says they are blocks. Values marked
//! sensitive print as `(sensitive value)` at whatever depth they sit.

use gantry_provider::{Nesting, Schema, Value};
use std::collections::BTreeMap;
use std::fmt::Write;

/// What is being diffed: an object before and after (either may be absent), its schema if
/// known, and the attributes whose change forces a replacement.
pub struct ObjectDiff<'a> {
    pub before: Option<&'a Value>,
    pub after: Option<&'a Value>,
    pub schema: Option<&'a Schema>,
    pub forces: &'a [String],
}

/// Writes the lines of `diff` at `indent` spaces.
pub fn render(out: &mut String, diff: &ObjectDiff<'_>, indent: usize) {
    let empty = BTreeMap::new();
    let b = diff.before.and_then(Value::as_map).unwrap_or(&empty);
    let a = diff.after.and_then(Value::as_map).unwrap_or(&empty);
    let update = diff.before.is_some() && diff.after.is_some();
    let is_block = |name: &str| diff.schema.is_some_and(|s| s.blocks.contains_key(name));
    let mut names: Vec<&String> = b.keys().chain(a.keys()).collect();
    names.sort();
    names.dedup();
    let (attrs, blocks): (Vec<&String>, Vec<&String>) =
        names.into_iter().partition(|n| !is_block(n));
    let width = attrs
        .iter()
        .filter(|n| shown(b.get(**n), a.get(**n), update))
        .map(|n| n.len())
        .max()
        .unwrap_or(0);
    let pad = " ".repeat(indent);
    let mut hidden = 0;
    for name in attrs {
        let (bv, av) = (b.get(name), a.get(name));
        if !shown(bv, av, update) {
            hidden += usize::from(update);
            continue;
        }
        let force = if diff.forces.iter().any(|f| f == name) {
            " # forces replacement"
        } else {
            ""
        };
        let fmt = |v: &Value| multiline(v, indent);
        let line = match (diff.before.is_some(), diff.after.is_some(), bv, av) {
            (_, _, Some(old), Some(new)) if update => {
                format!(
                    "{pad}~ {name:<width$} = {} -> {}{force}",
                    fmt(old),
                    fmt(new)
                )
            }
            (_, _, _, Some(v)) => format!("{pad}+ {name:<width$} = {}", fmt(v)),
            (_, _, Some(v), None) => format!("{pad}- {name:<width$} = {}", fmt(v)),
            _ => continue,
        };
        out.push_str(&line);
        out.push('\n');
    }
    for name in blocks {
        let Some(block) = diff.schema.and_then(|s| s.blocks.get(name.as_str())) else {
            continue;
        };
        let force = diff.forces.iter().any(|f| f == name);
        hidden += render_block(
            out,
            name,
            block,
            b.get(name),
            a.get(name),
            update,
            force,
            indent,
        );
    }
    if hidden > 0 {
        let _ = writeln!(
            out,
            "{}# ({hidden} unchanged {} hidden)",
            " ".repeat(indent + 2),
            if hidden == 1 { "element" } else { "elements" }
        );
    }
}

/// The items of a nested block's value (a single block's object, or a list's or set's).
fn items(v: Option<&Value>) -> Vec<&Value> {
    match v.map(Value::unmarked) {
        Some(Value::List(items) | Value::Set(items)) => items.iter().collect(),
        Some(m @ Value::Map(_)) => vec![m],
        _ => Vec::new(),
    }
}

/// Draws the blocks of one nested block type; returns how many unchanged ones were hidden.
#[allow(clippy::too_many_arguments)]
fn render_block(
    out: &mut String,
    name: &str,
    block: &gantry_provider::NestedBlock,
    before: Option<&Value>,
    after: Option<&Value>,
    update: bool,
    force: bool,
    indent: usize,
) -> usize {
    let sensitive =
        before.is_some_and(Value::is_sensitive) || after.is_some_and(Value::is_sensitive);
    let (old, new) = (items(before), items(after));
    let pad = " ".repeat(indent);
    let force_note = if force { " # forces replacement" } else { "" };
    if sensitive && !(old.is_empty() && new.is_empty()) {
        let sym = match (old.is_empty(), new.is_empty()) {
            (true, _) => "+",
            (_, true) => "-",
            _ => "~",
        };
        let _ = writeln!(out, "{pad}{sym} {name} {{{force_note}");
        let _ = writeln!(out, "{pad}    # (sensitive value)");
        let _ = writeln!(out, "{pad}  }}");
        return 0;
    }
    let mut pairs: Vec<(Option<&Value>, Option<&Value>)> = Vec::new();
    if block.nesting == Nesting::Set {
        // Set elements have no identity but their content: unchanged ones are hidden,
        // others show as removed and added.
        for o in &old {
            if !new.contains(o) {
                pairs.push((Some(o), None));
            } else {
                pairs.push((Some(o), Some(o)));
            }
        }
        for n in &new {
            if !old.contains(n) {
                pairs.push((None, Some(n)));
            }
        }
    } else {
        for i in 0..old.len().max(new.len()) {
            pairs.push((old.get(i).copied(), new.get(i).copied()));
        }
    }
    let mut hidden = 0;
    for (o, n) in pairs {
        let sym = match (o, n) {
            (Some(o), Some(n)) if update && o == n && n.is_wholly_known() => {
                hidden += 1;
                continue;
            }
            (Some(_), Some(_)) if update => "~",
            (Some(_), Some(_)) | (None, Some(_)) => "+",
            (Some(_), None) => "-",
            (None, None) => continue,
        };
        let _ = writeln!(out, "{pad}{sym} {name} {{{force_note}");
        let inner = ObjectDiff {
            before: if sym == "+" { None } else { o },
            after: if sym == "-" { None } else { n },
            schema: Some(&block.schema),
            forces: &[],
        };
        render(out, &inner, indent + 4);
        let _ = writeln!(out, "{pad}  }}");
    }
    hidden
}

/// Whether an attribute line is worth showing: nulls are hidden, and on updates only
/// changed attributes are shown.
fn shown(before: Option<&Value>, after: Option<&Value>, update: bool) -> bool {
    let present = |v: Option<&Value>| v.is_some_and(|v| !v.unmarked().is_null());
    if update {
        match (before, after) {
            (Some(b), Some(a)) => {
                b != a || !a.is_wholly_known() || b.is_sensitive() != a.is_sensitive()
            }
            (b, a) => present(b) || present(a),
        }
    } else {
        present(before) || present(after)
    }
}

/// A value as HCL, multi-line for long objects and lists.
pub fn multiline(v: &Value, indent: usize) -> String {
    match v {
        Value::Map(m) if !m.is_empty() && v.to_string().len() > 60 => {
            let width = m.keys().map(String::len).max().unwrap_or(0);
            let mut s = String::from("{\n");
            for (k, item) in m {
                let _ = writeln!(
                    s,
                    "{}  {k:<width$} = {}",
                    " ".repeat(indent + 4),
                    multiline(item, indent + 4)
                );
            }
            let _ = write!(s, "{}  }}", " ".repeat(indent));
            s
        }
        Value::List(items) | Value::Set(items) if v.to_string().len() > 60 => {
            let mut s = String::from("[\n");
            for item in items {
                let _ = writeln!(
                    s,
                    "{}  {},",
                    " ".repeat(indent + 4),
                    multiline(item, indent + 4)
                );
            }
            let _ = write!(s, "{}  ]", " ".repeat(indent));
            s
        }
        other => other.to_string(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use gantry_provider::{Attribute, NestedBlock, Type};

    fn schema() -> Schema {
        let scaling = Schema::default()
            .attr("desired_size", Attribute::required(Type::Number))
            .attr("max_size", Attribute::required(Type::Number));
        Schema::default()
            .attr("name", Attribute::required(Type::String))
            .attr("tags", Attribute::optional(Type::map(Type::String)))
            .block(
                "scaling_config",
                NestedBlock {
                    nesting: Nesting::Single,
                    schema: scaling,
                    min_items: 1,
                    max_items: Some(1),
                    force_new: false,
                },
            )
    }

    fn group(desired: i64) -> Value {
        Value::map([
            ("name", Value::from("gpu")),
            ("tags", Value::map([("team", Value::from("ml"))])),
            (
                "scaling_config",
                Value::map([
                    ("desired_size", Value::from(desired)),
                    ("max_size", Value::from(8_i64)),
                ]),
            ),
        ])
    }

    #[test]
    fn nested_blocks_are_drawn_as_blocks() {
        let mut out = String::new();
        let after = group(4);
        let s = schema();
        render(
            &mut out,
            &ObjectDiff {
                before: None,
                after: Some(&after),
                schema: Some(&s),
                forces: &[],
            },
            6,
        );
        assert!(out.contains("      + scaling_config {\n"), "{out}");
        assert!(out.contains("          + desired_size = 4\n"), "{out}");
        assert!(!out.contains("scaling_config = "), "{out}");
        assert!(
            out.contains("+ tags = {\"team\" = \"ml\"}"),
            "maps stay attributes: {out}"
        );
    }

    #[test]
    fn an_update_shows_only_what_changed_inside_a_block() {
        let (before, after) = (group(2), group(4));
        let s = schema();
        let mut out = String::new();
        render(
            &mut out,
            &ObjectDiff {
                before: Some(&before),
                after: Some(&after),
                schema: Some(&s),
                forces: &[],
            },
            6,
        );
        assert!(out.contains("      ~ scaling_config {\n"), "{out}");
        assert!(out.contains("          ~ desired_size = 2 -> 4\n"), "{out}");
        assert!(!out.contains("max_size"), "{out}");
        assert!(out.contains("# (1 unchanged element hidden)"), "{out}");
    }

    #[test]
    fn sensitive_values_are_hidden_at_any_depth() {
        let secret = Value::map([(
            "input",
            Value::map([
                ("password", Value::sensitive(Value::from("hunter2"))),
                ("user", Value::from("ml")),
            ]),
        )]);
        let mut out = String::new();
        render(
            &mut out,
            &ObjectDiff {
                before: None,
                after: Some(&secret),
                schema: None,
                forces: &[],
            },
            6,
        );
        assert!(!out.contains("hunter2"), "{out}");
        assert!(out.contains("(sensitive value)"), "{out}");
        assert!(out.contains("\"ml\""), "{out}");
    }
}

//! YAML for `yamlencode` and `yamldecode`.
//!
//! Terraform encodes with go-cty-yaml, a port of libyaml's emitter, and its output is part
//! of plans and of resources' arguments, so [`encode`] reproduces that emitter's layout
//! rather than using a generic serializer: strings are always double-quoted (a string
//! with a newline becomes a `|` literal block when libyaml allows it), sequences inside
//! mappings are not indented, empty collections are written `[]` and `{}`, a document that
//! is a lone plain scalar ends with `...`, and double-quoted strings are folded at spaces
//! past column 80. Decoding goes through `serde_yaml_ng`.

use gantry_provider::value::format_number;
use gantry_provider::Value;
use std::collections::BTreeMap;

const BEST_INDENT: isize = 2;
const BEST_WIDTH: usize = 80;
/// libyaml writes keys longer than this in the explicit `? key` form.
const SIMPLE_KEY_MAX: usize = 128;

/// Encodes `value` as a YAML document, as Terraform's `yamlencode` does.
pub(super) fn encode(value: &Value) -> Result<String, String> {
    let mut emitter = Emitter {
        out: String::new(),
        column: 0,
        whitespace: true,
        indention: true,
        open_ended: false,
        indent: -1,
        indents: Vec::new(),
    };
    emitter.node(
        value,
        Context {
            root: true,
            ..Context::default()
        },
    )?;
    emitter.write_indent();
    if emitter.open_ended {
        emitter.write_indicator("...", true, false, false);
        emitter.write_indent();
    }
    Ok(emitter.out)
}

/// Where a node sits, as libyaml tracks it.
#[derive(Clone, Copy, Default)]
struct Context {
    root: bool,
    mapping: bool,
    simple_key: bool,
}

struct Emitter {
    out: String,
    /// Characters written on the current line.
    column: usize,
    /// Whether the last character written was whitespace.
    whitespace: bool,
    /// Whether only indentation has been written on the current line.
    indention: bool,
    /// Whether the document needs an explicit `...` end marker.
    open_ended: bool,
    indent: isize,
    indents: Vec<isize>,
}

impl Emitter {
    fn put(&mut self, c: char) {
        self.out.push(c);
        self.column += 1;
    }

    fn put_break(&mut self) {
        self.out.push('\n');
        self.column = 0;
    }

    fn write_indicator(
        &mut self,
        indicator: &str,
        need_whitespace: bool,
        is_whitespace: bool,
        is_indention: bool,
    ) {
        if need_whitespace && !self.whitespace {
            self.put(' ');
        }
        indicator.chars().for_each(|c| self.put(c));
        self.whitespace = is_whitespace;
        self.indention = self.indention && is_indention;
    }

    fn write_indent(&mut self) {
        let indent = usize::try_from(self.indent).unwrap_or(0);
        if !self.indention || self.column > indent || (self.column == indent && !self.whitespace) {
            self.put_break();
        }
        while self.column < indent {
            self.put(' ');
        }
        self.whitespace = true;
        self.indention = true;
    }

    fn increase_indent(&mut self, flow: bool, indentless: bool) {
        self.indents.push(self.indent);
        if self.indent < 0 {
            self.indent = if flow { BEST_INDENT } else { 0 };
        } else if !indentless {
            self.indent += BEST_INDENT;
        }
    }

    fn pop_indent(&mut self) {
        self.indent = self.indents.pop().unwrap_or(-1);
    }

    fn node(&mut self, value: &Value, ctx: Context) -> Result<(), String> {
        match value {
            Value::Sensitive(inner) => return self.node(inner, ctx),
            Value::Null => self.plain("null", ctx),
            Value::Bool(b) => self.plain(if *b { "true" } else { "false" }, ctx),
            Value::Number(n) if n.is_nan() => return Err("cannot encode NaN as YAML".into()),
            Value::Number(n) if n.is_infinite() => {
                self.plain(if *n > 0.0 { "+.Inf" } else { "-.Inf" }, ctx)
            }
            Value::Number(n) => self.plain(&format_number(*n), ctx),
            Value::String(s) => self.string(s, ctx),
            Value::List(items) | Value::Set(items) if items.is_empty() => self.empty_flow("[", "]"),
            Value::List(items) | Value::Set(items) => {
                self.increase_indent(false, ctx.mapping && !self.indention);
                for item in items {
                    self.write_indent();
                    self.write_indicator("-", true, false, true);
                    self.node(item, Context::default())?;
                }
                self.pop_indent();
            }
            Value::Map(map) if map.is_empty() => self.empty_flow("{", "}"),
            Value::Map(map) => self.mapping(map)?,
            Value::Unknown(_) => return Err("cannot serialize unknown value as YAML".into()),
        }
        Ok(())
    }

    fn empty_flow(&mut self, open: &str, close: &str) {
        self.write_indicator(open, true, true, false);
        self.write_indicator(close, false, false, false);
    }

    fn mapping(&mut self, map: &BTreeMap<String, Value>) -> Result<(), String> {
        self.increase_indent(false, false);
        let in_mapping = Context {
            mapping: true,
            ..Context::default()
        };
        for (key, value) in map {
            self.write_indent();
            let simple = key.len() <= SIMPLE_KEY_MAX && !key.chars().any(is_break);
            if simple {
                self.string(
                    key,
                    Context {
                        simple_key: true,
                        ..in_mapping
                    },
                );
                self.write_indicator(":", false, false, false);
            } else {
                self.write_indicator("?", true, false, true);
                self.string(key, in_mapping);
                self.write_indent();
                self.write_indicator(":", true, false, true);
            }
            self.node(value, in_mapping)?;
        }
        self.pop_indent();
        Ok(())
    }

    fn plain(&mut self, text: &str, ctx: Context) {
        self.increase_indent(true, false);
        if !self.whitespace {
            self.put(' ');
        }
        text.chars().for_each(|c| self.put(c));
        self.whitespace = false;
        self.indention = false;
        if ctx.root {
            self.open_ended = true;
        }
        self.pop_indent();
    }

    fn string(&mut self, s: &str, ctx: Context) {
        self.increase_indent(true, false);
        if s.contains('\n') && !ctx.simple_key && block_allowed(s) {
            self.literal(s);
        } else {
            self.double_quoted(s, !ctx.simple_key);
        }
        self.pop_indent();
    }

    fn double_quoted(&mut self, s: &str, allow_breaks: bool) {
        self.write_indicator("\"", true, false, false);
        let mut spaces = false;
        let mut chars = s.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            if !is_printable(c) || c == '\u{FEFF}' || is_break(c) || c == '"' || c == '\\' {
                self.put('\\');
                escape(c).chars().for_each(|e| self.put(e));
                spaces = false;
            } else if c == ' ' {
                let last = i + 1 == s.len();
                if allow_breaks && !spaces && self.column > BEST_WIDTH && i != 0 && !last {
                    self.write_indent();
                    if matches!(chars.peek(), Some((_, ' '))) {
                        self.put('\\');
                    }
                } else {
                    self.put(' ');
                }
                spaces = true;
            } else {
                self.put(c);
                spaces = false;
            }
        }
        self.write_indicator("\"", false, false, false);
    }

    fn literal(&mut self, s: &str) {
        self.write_indicator("|", true, false, false);
        if s.starts_with(' ') || s.starts_with(is_break) {
            self.write_indicator(&BEST_INDENT.to_string(), false, false, false);
        }
        self.open_ended = false;
        let mut tail = s.chars().rev();
        let chomp = match (tail.next(), tail.next()) {
            (None, _) => Some("-"),
            (Some(last), _) if !is_break(last) => Some("-"),
            (Some(_), None) => Some("+"),
            (Some(_), Some(before)) if is_break(before) => Some("+"),
            _ => None,
        };
        if let Some(chomp) = chomp {
            if chomp == "+" {
                self.open_ended = true;
            }
            self.write_indicator(chomp, false, false, false);
        }
        self.put_break();
        self.indention = true;
        self.whitespace = true;
        let mut breaks = true;
        for c in s.chars() {
            if c == '\n' {
                self.put_break();
                self.indention = true;
                breaks = true;
            } else {
                if breaks {
                    self.write_indent();
                    breaks = false;
                }
                self.put(c);
                self.indention = false;
            }
        }
    }
}

/// libyaml's printable set (with unicode output enabled).
fn is_printable(c: char) -> bool {
    matches!(c, '\n' | '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}')
        && c != '\u{FEFF}'
}

fn is_break(c: char) -> bool {
    matches!(c, '\r' | '\n' | '\u{85}' | '\u{2028}' | '\u{2029}')
}

/// Whether libyaml may write `s` as a block scalar: no unprintable characters, no space
/// right before a line break, no trailing space.
fn block_allowed(s: &str) -> bool {
    let mut prev_space = false;
    for c in s.chars() {
        if !is_printable(c) || (prev_space && is_break(c)) {
            return false;
        }
        prev_space = c == ' ';
    }
    !prev_space
}

/// The escape sequence (after the backslash) for a character in a double-quoted scalar.
fn escape(c: char) -> String {
    match c {
        '\0' => "0".into(),
        '\u{07}' => "a".into(),
        '\u{08}' => "b".into(),
        '\t' => "t".into(),
        '\n' => "n".into(),
        '\u{0B}' => "v".into(),
        '\u{0C}' => "f".into(),
        '\r' => "r".into(),
        '\u{1B}' => "e".into(),
        '"' => "\"".into(),
        '\\' => "\\".into(),
        '\u{85}' => "N".into(),
        '\u{A0}' => "_".into(),
        '\u{2028}' => "L".into(),
        '\u{2029}' => "P".into(),
        c if u32::from(c) <= 0xFF => format!("x{:02X}", u32::from(c)),
        c if u32::from(c) <= 0xFFFF => format!("u{:04X}", u32::from(c)),
        c => format!("U{:08X}", u32::from(c)),
    }
}

/// Decodes a single YAML document.
pub(super) fn decode(text: &str) -> Result<Value, String> {
    let mut doc: serde_yaml_ng::Value = serde_yaml_ng::from_str(text).map_err(|e| e.to_string())?;
    doc.apply_merge().map_err(|e| e.to_string())?;
    from_yaml(doc)
}

fn from_yaml(value: serde_yaml_ng::Value) -> Result<Value, String> {
    use serde_yaml_ng::Value as Y;
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => match n.as_f64() {
            Some(f) if f.is_nan() => return Err("floating point NaN is not supported".into()),
            Some(f) => Value::Number(f),
            None => return Err(format!("cannot represent the number {n}")),
        },
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => {
            Value::List(items.into_iter().map(from_yaml).collect::<Result<_, _>>()?)
        }
        Y::Mapping(map) => {
            let mut out = BTreeMap::new();
            for (k, v) in map {
                let key = match k {
                    Y::String(s) => s,
                    Y::Number(n) => n.to_string(),
                    Y::Bool(b) => b.to_string(),
                    Y::Null => "null".to_owned(),
                    _ => return Err("mapping keys must be strings, numbers or bools".into()),
                };
                out.insert(key, from_yaml(v)?);
            }
            Value::Map(out)
        }
        Y::Tagged(tagged) => return Err(format!("unsupported tag \"{}\"", tagged.tag)),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn enc(v: Value) -> String {
        encode(&v).unwrap()
    }

    #[test]
    fn scalars() {
        assert_eq!(enc(Value::Bool(true)), "true\n...\n");
        assert_eq!(enc(Value::from(0_i64)), "0\n...\n");
        assert_eq!(enc(Value::from(1.5)), "1.5\n...\n");
        assert_eq!(enc(Value::Number(f64::INFINITY)), "+.Inf\n...\n");
        assert_eq!(enc(Value::Null), "null\n...\n");
        assert_eq!(enc(Value::from("")), "\"\"\n");
        assert_eq!(enc(Value::from("hello")), "\"hello\"\n");
        assert!(encode(&Value::Number(f64::NAN)).is_err());
        assert!(encode(&Value::unknown()).is_err());
    }

    #[test]
    fn collections() {
        assert_eq!(enc(Value::map::<&str>([])), "{}\n");
        assert_eq!(enc(Value::List(vec![])), "[]\n");
        assert_eq!(enc(Value::map([("a", Value::from("b"))])), "\"a\": \"b\"\n");
        assert_eq!(enc(Value::List(vec!["b".into()])), "- \"b\"\n");
        assert_eq!(enc(Value::set(vec!["b".into()])), "- \"b\"\n");
        let nested = Value::List(vec![
            Value::List(vec![1_i64.into(), 2_i64.into()]),
            3_i64.into(),
        ]);
        assert_eq!(enc(nested), "- - 1\n  - 2\n- 3\n");
        let empties = Value::map([("a", Value::List(vec![])), ("b", Value::map::<&str>([]))]);
        assert_eq!(enc(empties), "\"a\": []\n\"b\": {}\n");
        let deep = Value::map([(
            "a",
            Value::map([("b", Value::map([("c", Value::from(1_i64))]))]),
        )]);
        assert_eq!(enc(deep), "\"a\":\n  \"b\":\n    \"c\": 1\n");
    }

    #[test]
    fn escapes() {
        assert_eq!(enc("tab\there".into()), "\"tab\\there\"\n");
        assert_eq!(enc("quote\" back\\".into()), "\"quote\\\" back\\\\\"\n");
        assert_eq!(enc("emoji 😀".into()), "\"emoji \\U0001F600\"\n");
        assert_eq!(enc("bell\u{7}\u{85}".into()), "\"bell\\a\\N\"\n");
        assert_eq!(enc("ünïcödé ☃".into()), "\"ünïcödé ☃\"\n");
    }

    #[test]
    fn multiline_strings_are_literal_blocks() {
        assert_eq!(enc("a\nb".into()), "|-\n  a\n  b\n");
        assert_eq!(enc("a\nb\n".into()), "|\n  a\n  b\n");
        assert_eq!(enc("a\n\n".into()), "|+\n  a\n\n...\n");
        assert_eq!(enc(" lead\nx".into()), "|2-\n   lead\n  x\n");
        assert_eq!(
            enc(Value::map([("k", Value::from("x\n\ny\n"))])),
            "\"k\": |\n  x\n\n  y\n"
        );
        assert_eq!(enc(Value::List(vec!["x\ny".into()])), "- |-\n  x\n  y\n");
        // Trailing spaces, spaces before breaks and tabs force the double-quoted style.
        assert_eq!(enc("a \nb".into()), "\"a \\nb\"\n");
        assert_eq!(enc("a\nb ".into()), "\"a\\nb \"\n");
        assert_eq!(enc("a\tb\nc".into()), "\"a\\tb\\nc\"\n");
        // Keys are never blocks.
        assert_eq!(
            enc(Value::map([("a\nb", Value::from(1_i64))])),
            "? |-\n  a\n  b\n: 1\n"
        );
    }

    #[test]
    fn long_strings_fold_past_column_80() {
        let words = "word ".repeat(20);
        let text = words.trim_end();
        let out = enc(Value::map([("k", Value::from(text))]));
        let expected = format!(
            "\"k\": \"{}\n  {}\"\n",
            "word ".repeat(16).trim_end(),
            "word ".repeat(4).trim_end()
        );
        assert_eq!(out, expected);
        // A double space at the fold is kept with an escaped space.
        let spaced = format!("{}  tail", "x".repeat(90));
        assert_eq!(
            enc(spaced.as_str().into()),
            format!("\"{}\n  \\ tail\"\n", "x".repeat(90))
        );
        // Keys never fold.
        let key = "k ".repeat(50);
        assert!(!enc(Value::map([(key.trim_end(), Value::Null)])).contains("\n  "));
    }

    #[test]
    fn decode_documents() {
        assert_eq!(
            decode("hello: world").unwrap(),
            Value::map([("hello", Value::from("world"))])
        );
        assert_eq!(decode("true").unwrap(), Value::Bool(true));
        assert_eq!(decode("").unwrap(), Value::Null);
        assert_eq!(
            decode("- 1\n- 2.5\n- x\n- ~").unwrap(),
            Value::List(vec![1_i64.into(), 2.5.into(), "x".into(), Value::Null])
        );
        let aliased = decode("{a: &foo [1, 2, 3], b: *foo}").unwrap();
        let list = Value::List(vec![1_i64.into(), 2_i64.into(), 3_i64.into()]);
        assert_eq!(aliased, Value::map([("a", list.clone()), ("b", list)]));
        let merged = decode("base: &b {x: 1}\nderived:\n  <<: *b\n  y: 2").unwrap();
        assert_eq!(
            merged.as_map().and_then(|m| m.get("derived")).cloned(),
            Some(Value::map([
                ("x", Value::from(1_i64)),
                ("y", Value::from(2_i64))
            ]))
        );
        assert_eq!(
            decode("1: one").unwrap(),
            Value::map([("1", Value::from("one"))])
        );
    }

    #[test]
    fn decode_errors() {
        assert!(decode("{a: !not-supported foo}")
            .unwrap_err()
            .contains("unsupported tag"));
        assert!(decode("a: [1, 2").is_err());
        assert!(decode("a: 1\n---\nb: 2").is_err());
        assert!(decode(".nan").unwrap_err().contains("NaN"));
        assert!(decode("? [1, 2]\n: x").is_err());
    }

    #[test]
    fn round_trip() {
        let value = Value::map([
            (
                "list",
                Value::List(vec!["a\nb".into(), 1_i64.into(), true.into(), Value::Null]),
            ),
            ("nested", Value::map([("x", Value::from("y"))])),
        ]);
        assert_eq!(decode(&enc(value.clone())).unwrap(), value);
    }
}

//! Encoding functions: `base64encode`, `base64decode`, `jsonencode`, `jsondecode`,
//! `urlencode`, `yamlencode` and `yamldecode`.
//!
//! JSON is written the way Terraform (Go's `encoding/json`) writes it: compact, object keys
//! sorted, integers without a fraction, and `<`, `>`, `&`, U+2028 and U+2029 escaped as
//! `\u003c`... so that the output can be embedded in HTML safely.

use super::args::{fixed, string};
use super::text::quote;
use super::yaml;
use super::{FnContext, FnError, FunctionDef};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::Engine;
use gantry_provider::value::format_number;
use gantry_provider::Value;
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

pub(super) fn functions() -> Vec<FunctionDef> {
    vec![
        fixed("base64decode", "base64decode(string)", 1, base64decode),
        fixed("base64encode", "base64encode(string)", 1, base64encode),
        fixed("jsondecode", "jsondecode(string)", 1, jsondecode),
        fixed("jsonencode", "jsonencode(value)", 1, jsonencode),
        fixed("urlencode", "urlencode(string)", 1, urlencode),
        fixed("yamldecode", "yamldecode(string)", 1, yamldecode),
        fixed("yamlencode", "yamlencode(value)", 1, yamlencode),
    ]
}

/// Standard base64 with padding; decoding tolerates non-zero trailing bits, as Go does.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &base64::alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_allow_trailing_bits(true),
);

fn base64encode(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    Ok(BASE64.encode(string(args, 0)?).into())
}

fn base64decode(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let text = string(args, 0)?;
    // Go's decoder skips line breaks.
    let compact: String = text.chars().filter(|c| !matches!(c, '\r' | '\n')).collect();
    let bytes = BASE64
        .decode(compact)
        .map_err(|_| FnError::arg(0, format!("failed to decode base64 data {}", quote(&text))))?;
    String::from_utf8(bytes).map(Value::String).map_err(|_| {
        FnError::arg(
            0,
            "the result of decoding the provided string is not valid UTF-8",
        )
    })
}

fn jsonencode(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let value = args.first().unwrap_or(&Value::Null);
    json_text(value)
        .map(Value::String)
        .map_err(|e| FnError::arg(0, e))
}

fn jsondecode(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let text = string(args, 0)?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| FnError::arg(0, format!("invalid JSON: {e}")))?;
    Ok(Value::from_json(&json))
}

/// Go's `url.QueryEscape`: letters, digits and `-_.~` stay, spaces become `+`, everything
/// else is percent-encoded as UTF-8 bytes.
fn urlencode(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    const QUERY: &AsciiSet = &NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    let text = string(args, 0)?;
    let encoded: Vec<String> = text
        .split(' ')
        .map(|part| utf8_percent_encode(part, QUERY).to_string())
        .collect();
    Ok(encoded.join("+").into())
}

fn yamlencode(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let value = args.first().unwrap_or(&Value::Null);
    yaml::encode(value)
        .map(Value::String)
        .map_err(|e| FnError::arg(0, e))
}

fn yamldecode(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let text = string(args, 0)?;
    yaml::decode(&text).map_err(|e| FnError::arg(0, format!("invalid YAML: {e}")))
}

/// `value` as compact JSON, the way Terraform encodes it.
pub(super) fn json_text(value: &Value) -> Result<String, String> {
    let mut out = String::new();
    write_json(value, &mut out)?;
    Ok(out)
}

fn write_json(value: &Value, out: &mut String) -> Result<(), String> {
    match value {
        // Function arguments arrive unmarked; a mark here is only ever the whole result's.
        Value::Sensitive(inner) => write_json(inner, out)?,
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) if !n.is_finite() => {
            return Err(format!("cannot encode {} as JSON", format_number(*n)))
        }
        Value::Number(n) => out.push_str(&format_number(*n)),
        Value::String(s) => out.push_str(&json_string(s)),
        Value::List(items) | Value::Set(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(item, out)?;
            }
            out.push(']');
        }
        Value::Map(map) => {
            out.push('{');
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&json_string(key));
                out.push(':');
                write_json(item, out)?;
            }
            out.push('}');
        }
        Value::Unknown(_) => return Err("cannot encode an unknown value as JSON".into()),
    }
    Ok(())
}

/// A JSON string literal with Go's escaping.
pub(super) fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            c if u32::from(c) < 0x20 || matches!(c, '<' | '>' | '&' | '\u{2028}' | '\u{2029}') => {
                out.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{error_message, n, run, s, strs};
    use super::*;

    #[test]
    fn base64_round_trip() {
        assert_eq!(
            run("base64encode", vec![s("Hello World")]),
            Ok(s("SGVsbG8gV29ybGQ="))
        );
        assert_eq!(run("base64encode", vec![s("")]), Ok(s("")));
        assert_eq!(run("base64encode", vec![s("☃")]), Ok(s("4piD")));
        assert_eq!(
            run("base64decode", vec![s("SGVsbG8gV29ybGQ=")]),
            Ok(s("Hello World"))
        );
        assert_eq!(
            run("base64decode", vec![s("SGVsbG8g\nV29ybGQ=")]),
            Ok(s("Hello World"))
        );
        assert_eq!(run("base64decode", vec![s("")]), Ok(s("")));
    }

    #[test]
    fn base64decode_errors() {
        assert_eq!(
            run("base64decode", vec![s("not base64!")]),
            Err(FnError::arg(
                0,
                "failed to decode base64 data \"not base64!\""
            ))
        );
        assert_eq!(
            error_message(run("base64decode", vec![s("SGVsbG8gV29ybGQ")])),
            "failed to decode base64 data \"SGVsbG8gV29ybGQ\""
        );
        // 0xFF 0xFE is not UTF-8.
        assert_eq!(
            run("base64decode", vec![s("//4=")]),
            Err(FnError::arg(
                0,
                "the result of decoding the provided string is not valid UTF-8"
            ))
        );
    }

    #[test]
    fn jsonencode_like_terraform() {
        let obj = Value::map([("hello", s("world"))]);
        assert_eq!(run("jsonencode", vec![obj]), Ok(s("{\"hello\":\"world\"}")));
        assert_eq!(run("jsonencode", vec![n(10.0)]), Ok(s("10")));
        assert_eq!(run("jsonencode", vec![n(1.5)]), Ok(s("1.5")));
        assert_eq!(
            run("jsonencode", vec![n(1e21)]),
            Ok(s("1000000000000000000000"))
        );
        assert_eq!(run("jsonencode", vec![Value::Null]), Ok(s("null")));
        assert_eq!(
            run("jsonencode", vec![s("<b> & \u{2028}")]),
            Ok(s("\"\\u003cb\\u003e \\u0026 \\u2028\""))
        );
        assert_eq!(
            run("jsonencode", vec![s("tab\t\u{1}\"")]),
            Ok(s("\"tab\\t\\u0001\\\"\""))
        );
        let nested = Value::map([
            ("b", Value::List(vec![n(1.0), true.into(), Value::Null])),
            ("a", Value::set(vec![s("y"), s("x")])),
        ]);
        assert_eq!(
            run("jsonencode", vec![nested]),
            Ok(s("{\"a\":[\"x\",\"y\"],\"b\":[1,true,null]}"))
        );
        assert_eq!(run("jsonencode", vec![Value::map::<&str>([])]), Ok(s("{}")));
        assert!(run("jsonencode", vec![n(f64::INFINITY)]).is_err());
    }

    #[test]
    fn jsondecode_values() {
        assert_eq!(
            run("jsondecode", vec![s("{\"hello\": \"world\"}")]),
            Ok(Value::map([("hello", s("world"))]))
        );
        assert_eq!(run("jsondecode", vec![s("true")]), Ok(true.into()));
        assert_eq!(run("jsondecode", vec![s("null")]), Ok(Value::Null));
        assert_eq!(
            run("jsondecode", vec![s("[1, \"a\", 2.5]")]),
            Ok(Value::List(vec![n(1.0), s("a"), n(2.5)]))
        );
        let round = run(
            "jsondecode",
            vec![s("{\"b\":[1,{\"c\":null}],\"a\":\"x\"}")],
        );
        assert_eq!(
            run("jsonencode", vec![round.unwrap_or_default()]),
            Ok(s("{\"a\":\"x\",\"b\":[1,{\"c\":null}]}"))
        );
    }

    #[test]
    fn jsondecode_errors_carry_positions() {
        assert_eq!(
            error_message(run("jsondecode", vec![s("{\"a\": }")])),
            "invalid JSON: expected value at line 1 column 7"
        );
        assert_eq!(
            error_message(run("jsondecode", vec![s("[1, 2")])),
            "invalid JSON: EOF while parsing a list at line 1 column 5"
        );
        assert_eq!(
            error_message(run("jsondecode", vec![s("1 2")])),
            "invalid JSON: trailing characters at line 1 column 3"
        );
        assert!(run("jsondecode", vec![s("")]).is_err());
    }

    #[test]
    fn urlencode_like_query_escape() {
        assert_eq!(
            run("urlencode", vec![s("Hello World!")]),
            Ok(s("Hello+World%21"))
        );
        assert_eq!(run("urlencode", vec![s("☃")]), Ok(s("%E2%98%83")));
        assert_eq!(
            run("urlencode", vec![s("foo:bar@localhost?foo=bar&bar=baz")]),
            Ok(s("foo%3Abar%40localhost%3Ffoo%3Dbar%26bar%3Dbaz"))
        );
        assert_eq!(
            run("urlencode", vec![s("a-b_c.d~e/f")]),
            Ok(s("a-b_c.d~e%2Ff"))
        );
        assert_eq!(run("urlencode", vec![s("  ")]), Ok(s("++")));
    }

    #[test]
    fn yamlencode_documented_examples() {
        let ab = Value::map([("a", s("b")), ("c", s("d"))]);
        assert_eq!(
            run("yamlencode", vec![ab.clone()]),
            Ok(s("\"a\": \"b\"\n\"c\": \"d\"\n"))
        );
        let foo = Value::map([
            ("foo", Value::List(vec![n(1.0), n(2.0), n(3.0)])),
            ("bar", s("baz")),
        ]);
        assert_eq!(
            run("yamlencode", vec![foo]),
            Ok(s("\"bar\": \"baz\"\n\"foo\":\n- 1\n- 2\n- 3\n"))
        );
        let mixed = Value::map([
            ("foo", Value::List(vec![n(1.0), ab, n(3.0)])),
            ("bar", s("baz")),
        ]);
        assert_eq!(
            run("yamlencode", vec![mixed]),
            Ok(s(
                "\"bar\": \"baz\"\n\"foo\":\n- 1\n- \"a\": \"b\"\n  \"c\": \"d\"\n- 3\n"
            ))
        );
        assert_eq!(run("yamlencode", vec![strs(&["x"])]), Ok(s("- \"x\"\n")));
    }

    #[test]
    fn yamldecode_documented_examples() {
        assert_eq!(
            run("yamldecode", vec![s("hello: world")]),
            Ok(Value::map([("hello", s("world"))]))
        );
        assert_eq!(run("yamldecode", vec![s("true")]), Ok(true.into()));
        let list = Value::List(vec![n(1.0), n(2.0), n(3.0)]);
        assert_eq!(
            run("yamldecode", vec![s("{a: &foo [1, 2, 3], b: *foo}")]),
            Ok(Value::map([("a", list.clone()), ("b", list)]))
        );
        assert!(
            error_message(run("yamldecode", vec![s("{a: !not-supported foo}")]))
                .starts_with("invalid YAML: ")
        );
        assert!(run("yamldecode", vec![s("{a: &foo [1, *foo, 3]}")]).is_err());
        assert_eq!(
            error_message(run("yamldecode", vec![Value::Null])),
            "argument must not be null"
        );
    }
}

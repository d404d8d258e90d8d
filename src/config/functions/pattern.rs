//! Regular-expression functions: `regex`, `regexall` and `replace` (which searches for a
//! regular expression when its pattern is written `/like this/`). The `regex` crate's
//! syntax is the RE2 syntax Terraform uses, and replacements expand `$1`, `${1}` and
//! `$name` the same way Go's `ReplaceAllString` does.
//!
//! Perl classes keep RE2's ASCII meaning: `\d` is `[0-9]` and `\w` is `[0-9A-Za-z_]`, not
//! their Unicode extensions, and `[` inside a class is a literal as in RE2.
//!
//! A match's result depends on the pattern's capture groups: the matched text when there
//! are none, a map of the named groups when the first group is named, otherwise a list of
//! every group. Groups that did not participate in the match are null.

use super::args::{fixed, string};
use super::{FnContext, FnError, FunctionDef};
use gantry_provider::Value;
use regex::{Captures, Regex};
use std::collections::BTreeMap;

pub(super) fn functions() -> Vec<FunctionDef> {
    vec![
        fixed("regex", "regex(pattern, string)", 2, regex),
        fixed("regexall", "regexall(pattern, string)", 2, regexall),
        fixed(
            "replace",
            "replace(string, substring, replacement)",
            3,
            replace,
        ),
    ]
}

fn compile(pattern: &str, index: usize) -> Result<Regex, FnError> {
    Regex::new(&re2_compatible(pattern))
        .map_err(|e| FnError::arg(index, format!("invalid regular expression pattern: {e}")))
}

/// Rewrites the constructs whose meaning differs between RE2 and the `regex` crate: Perl
/// classes and word boundaries become their ASCII forms, and a `[` inside a class becomes
/// a literal (the crate would open a nested class).
fn re2_compatible(pattern: &str) -> String {
    let mut out = String::with_capacity(pattern.len() + 8);
    let mut chars = pattern.chars().peekable();
    let mut in_class = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let Some(next) = chars.next() else {
                    out.push('\\');
                    break;
                };
                let ascii = match next {
                    'd' => Some("digit"),
                    'D' => Some("^digit"),
                    'w' => Some("word"),
                    'W' => Some("^word"),
                    's' => Some("space"),
                    'S' => Some("^space"),
                    _ => None,
                };
                match ascii {
                    Some(name) if in_class => out.push_str(&format!("[:{name}:]")),
                    Some(name) => out.push_str(&format!("[[:{name}:]]")),
                    None if !in_class && matches!(next, 'b' | 'B') => {
                        out.push_str(&format!("(?-u:\\{next})"));
                    }
                    None => {
                        out.push('\\');
                        out.push(next);
                    }
                }
            }
            '[' if in_class && chars.peek() == Some(&':') => {
                // A POSIX class such as [:alpha:], copied through its closing ":]".
                out.push('[');
                let mut prev = '[';
                for d in chars.by_ref() {
                    out.push(d);
                    if prev == ':' && d == ']' {
                        break;
                    }
                    prev = d;
                }
            }
            '[' if in_class => out.push_str("\\["),
            '[' => {
                in_class = true;
                out.push('[');
                if chars.peek() == Some(&'^') {
                    chars.next();
                    out.push('^');
                }
                if chars.peek() == Some(&']') {
                    chars.next();
                    out.push_str("\\]");
                }
            }
            ']' if in_class => {
                in_class = false;
                out.push(']');
            }
            other => out.push(other),
        }
    }
    out
}

/// Turns one match into the value its pattern's groups call for.
fn match_value(re: &Regex, caps: &Captures<'_>) -> Value {
    let text = |i: usize| caps.get(i).map_or(Value::Null, |m| Value::from(m.as_str()));
    let names: Vec<Option<&str>> = re.capture_names().collect();
    match names.get(1) {
        None => text(0),
        Some(None) => Value::List((1..names.len()).map(text).collect()),
        Some(Some(_)) => {
            let mut map = BTreeMap::new();
            for (i, name) in names.iter().enumerate().skip(1) {
                if let Some(name) = name {
                    map.insert((*name).to_owned(), text(i));
                }
            }
            Value::Map(map)
        }
    }
}

fn regex(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let re = compile(&string(args, 0)?, 0)?;
    let text = string(args, 1)?;
    let caps = re
        .captures(&text)
        .ok_or_else(|| FnError::call("pattern did not match any part of the given string"))?;
    Ok(match_value(&re, &caps))
}

fn regexall(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let re = compile(&string(args, 0)?, 0)?;
    let text = string(args, 1)?;
    Ok(Value::List(
        re.captures_iter(&text)
            .map(|caps| match_value(&re, &caps))
            .collect(),
    ))
}

fn replace(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let text = string(args, 0)?;
    let search = string(args, 1)?;
    let replacement = string(args, 2)?;
    if search.len() > 1 && search.starts_with('/') && search.ends_with('/') {
        let re = compile(&search[1..search.len() - 1], 1)?;
        return Ok(re
            .replace_all(&text, replacement.as_str())
            .into_owned()
            .into());
    }
    Ok(text.replace(&search, &replacement).into())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{error_message, run, s, strs};
    use super::*;

    #[test]
    fn regex_result_shapes() {
        assert_eq!(
            run(
                "regex",
                vec![s("[a-z]+"), s("53453453.345345aaabbbccc23454")]
            ),
            Ok(s("aaabbbccc"))
        );
        assert_eq!(
            run(
                "regex",
                vec![s(r"(\d\d\d\d)-(\d\d)-(\d\d)"), s("2019-02-01")]
            ),
            Ok(strs(&["2019", "02", "01"]))
        );
        assert_eq!(
            run(
                "regex",
                vec![
                    s("^(?:(?P<scheme>[^:/?#]+):)?(?://(?P<authority>[^/?#]*))?"),
                    s("https://terraform.io/docs/")
                ]
            ),
            Ok(Value::map([
                ("authority", s("terraform.io")),
                ("scheme", s("https"))
            ]))
        );
        assert_eq!(
            run("regex", vec![s("(a)|(b)"), s("b")]),
            Ok(Value::List(vec![Value::Null, s("b")]))
        );
        assert_eq!(
            run("regex", vec![s("(?P<x>a)(b)(?P<y>c)?"), s("ab")]),
            Ok(Value::map([("x", s("a")), ("y", Value::Null)]))
        );
        assert_eq!(run("regex", vec![s("(?:a)b"), s("xab")]), Ok(s("ab")));
    }

    #[test]
    fn regex_errors() {
        assert_eq!(
            run("regex", vec![s("[a-z]+"), s("53453453.34534523454")]),
            Err(FnError::call(
                "pattern did not match any part of the given string"
            ))
        );
        let bad = error_message(run("regex", vec![s("(unclosed"), s("x")]));
        assert!(
            bad.starts_with("invalid regular expression pattern: "),
            "{bad}"
        );
        assert!(matches!(
            run("regexall", vec![s("[z-a]"), s("x")]),
            Err(FnError::Arg { index: 0, .. })
        ));
    }

    #[test]
    fn perl_classes_are_ascii_as_in_re2() {
        assert_eq!(run("regex", vec![s(r"\w+"), s("héllo")]), Ok(s("h")));
        assert_eq!(run("regex", vec![s(r"\d+"), s("٣3")]), Ok(s("3")));
        assert_eq!(run("regex", vec![s(r"[\d.]+"), s("v1.25x")]), Ok(s("1.25")));
        assert_eq!(run("regex", vec![s(r"\W"), s("aé")]), Ok(s("é")));
        assert_eq!(
            run("regex", vec![s(r"[[:alpha:]]+"), s("12ab3")]),
            Ok(s("ab"))
        );
        assert_eq!(run("regex", vec![s(r"[]a]+"), s("x]a]")]), Ok(s("]a]")));
        assert_eq!(run("regex", vec![s(r"[a[]+"), s("x[a")]), Ok(s("[a")));
        assert_eq!(run("regex", vec![s(r"\bis\b"), s("this is")]), Ok(s("is")));
        assert_eq!(
            run("replace", vec![s("a b\tc"), s(r"/\s+/"), s("_")]),
            Ok(s("a_b_c"))
        );
        assert_eq!(
            re2_compatible(r"\S\D[^\s]"),
            "[[:^space:]][[:^digit:]][^[:space:]]"
        );
    }

    #[test]
    fn regexall_lists_every_match() {
        assert_eq!(
            run("regexall", vec![s("[a-z]+"), s("1234abcd5678efgh9")]),
            Ok(strs(&["abcd", "efgh"]))
        );
        assert_eq!(
            run("regexall", vec![s("[a-z]+"), s("123456789")]),
            Ok(strs(&[]))
        );
        assert_eq!(
            run("regexall", vec![s(r"(\w)=(\d)"), s("a=1 b=2")]),
            Ok(Value::List(vec![strs(&["a", "1"]), strs(&["b", "2"])]))
        );
        assert_eq!(
            run("regexall", vec![s(r"(?P<k>\w)=(?P<v>\d)"), s("a=1")]),
            Ok(Value::List(vec![Value::map([
                ("k", s("a")),
                ("v", s("1"))
            ])]))
        );
    }

    #[test]
    fn replace_substrings_and_patterns() {
        assert_eq!(
            run("replace", vec![s("1 + 2 + 3"), s("+"), s("-")]),
            Ok(s("1 - 2 - 3"))
        );
        assert_eq!(
            run(
                "replace",
                vec![s("hello world"), s("/w.*d/"), s("everybody")]
            ),
            Ok(s("hello everybody"))
        );
        assert_eq!(
            run(
                "replace",
                vec![s("2019-02-01"), s(r"/(\d+)-(\d+)-(\d+)/"), s("$3/$2/$1")]
            ),
            Ok(s("01/02/2019"))
        );
        assert_eq!(
            run(
                "replace",
                vec![
                    s("key=value"),
                    s(r"/(?P<k>\w+)=(?P<v>\w+)/"),
                    s("${v}=${k}")
                ]
            ),
            Ok(s("value=key"))
        );
        assert_eq!(
            run("replace", vec![s("a.b.c"), s("."), s("")]),
            Ok(s("abc"))
        );
        assert_eq!(run("replace", vec![s("a/b"), s("/"), s("|")]), Ok(s("a|b")));
        assert_eq!(
            run("replace", vec![s("abc"), s(""), s("-")]),
            Ok(s("-a-b-c-"))
        );
        assert_eq!(
            run("replace", vec![s("cost"), s("/o/"), s("$$")]),
            Ok(s("c$st"))
        );
        assert_eq!(run("replace", vec![s("ab"), s("/x/"), s("y")]), Ok(s("ab")));
        assert!(matches!(
            run("replace", vec![s("x"), s("/(/"), s("y")]),
            Err(FnError::Arg { index: 1, .. })
        ));
    }
}

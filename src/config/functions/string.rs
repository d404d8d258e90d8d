//! String functions: `chomp`, `endswith`, `indent`, `join`, `lower`, `split`,
//! `startswith`, `strcontains`, `strrev`, `substr`, `title`, `trim`, `trimprefix`,
//! `trimspace`, `trimsuffix` and `upper`. Lengths and offsets count grapheme clusters, as
//! Terraform does. (`format`, `formatlist`, `regex`, `regexall` and `replace` live in
//! their own files.)

use super::args::{fixed, integer, string, string_elements, variadic};
use super::text::{graphemes, simple_lower, simple_upper, title as go_title};
use super::{FnContext, FnError, FunctionDef};
use gantry_provider::Value;

pub(super) fn functions() -> Vec<FunctionDef> {
    vec![
        fixed("chomp", "chomp(string)", 1, chomp),
        fixed("endswith", "endswith(string, suffix)", 2, endswith),
        fixed("indent", "indent(num_spaces, string)", 2, indent),
        variadic("join", "join(separator, lists...)", 2, join),
        fixed("lower", "lower(string)", 1, lower),
        fixed("split", "split(separator, string)", 2, split),
        fixed("startswith", "startswith(string, prefix)", 2, startswith),
        fixed("strcontains", "strcontains(string, substr)", 2, strcontains),
        fixed("strrev", "strrev(string)", 1, strrev),
        fixed("substr", "substr(string, offset, length)", 3, substr),
        fixed("title", "title(string)", 1, title),
        fixed("trim", "trim(string, str_character_set)", 2, trim),
        fixed("trimprefix", "trimprefix(string, prefix)", 2, trimprefix),
        fixed("trimspace", "trimspace(string)", 1, trimspace),
        fixed("trimsuffix", "trimsuffix(string, suffix)", 2, trimsuffix),
        fixed("upper", "upper(string)", 1, upper),
    ]
}

fn chomp(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let s = string(args, 0)?;
    Ok(s.trim_end_matches(['\r', '\n']).into())
}

fn endswith(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    Ok(string(args, 0)?.ends_with(&string(args, 1)?).into())
}

fn startswith(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    Ok(string(args, 0)?.starts_with(&string(args, 1)?).into())
}

fn strcontains(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    Ok(string(args, 0)?.contains(&string(args, 1)?).into())
}

/// Adds `num_spaces` spaces after every newline (not before the first line).
fn indent(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let spaces = integer(args, 0)?;
    let spaces = usize::try_from(spaces)
        .map_err(|_| FnError::arg(0, "the number of spaces must not be negative"))?;
    let text = string(args, 1)?;
    Ok(text
        .replace('\n', &format!("\n{}", " ".repeat(spaces)))
        .into())
}

fn join(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let separator = string(args, 0)?;
    let lists = args.len().saturating_sub(1);
    let mut items = Vec::new();
    for index in 1..args.len() {
        for (i, item) in string_elements(args, index)?.into_iter().enumerate() {
            let Some(item) = item else {
                let message = if lists > 1 {
                    format!("element {i} of list {index} is null; cannot concatenate null values")
                } else {
                    format!("element {i} is null; cannot concatenate null values")
                };
                return Err(FnError::arg(index, message));
            };
            items.push(item);
        }
    }
    Ok(items.join(&separator).into())
}

fn lower(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    Ok(string(args, 0)?
        .chars()
        .map(simple_lower)
        .collect::<String>()
        .into())
}

fn upper(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    Ok(string(args, 0)?
        .chars()
        .map(simple_upper)
        .collect::<String>()
        .into())
}

/// Go's `strings.Split`: an empty separator splits into characters; splitting the empty
/// string by a non-empty separator gives one empty element.
fn split(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let separator = string(args, 0)?;
    let text = string(args, 1)?;
    let parts: Vec<Value> = if separator.is_empty() {
        text.chars().map(|c| Value::String(c.to_string())).collect()
    } else {
        text.split(separator.as_str()).map(Value::from).collect()
    };
    Ok(Value::List(parts))
}

fn strrev(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let text = string(args, 0)?;
    Ok(graphemes(&text)
        .into_iter()
        .rev()
        .collect::<String>()
        .into())
}

/// `substr(string, offset, length)`: a negative offset counts from the end; a negative
/// length takes the rest of the string. Out-of-range offsets give the empty string.
fn substr(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let text = string(args, 0)?;
    let offset = integer(args, 1)?;
    let length = integer(args, 2)?;
    let clusters = graphemes(&text);
    let total = i64::try_from(clusters.len()).unwrap_or(i64::MAX);
    let start = if offset < 0 {
        (offset + total).max(0)
    } else {
        offset
    };
    if start >= total {
        return Ok("".into());
    }
    let start = usize::try_from(start).unwrap_or(0);
    let rest = &clusters[start..];
    let taken = match usize::try_from(length) {
        Ok(length) => &rest[..length.min(rest.len())],
        Err(_) => rest,
    };
    Ok(taken.concat().into())
}

fn title(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    Ok(go_title(&string(args, 0)?).into())
}

/// Removes any of the characters in the set from both ends.
fn trim(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let text = string(args, 0)?;
    let set = string(args, 1)?;
    Ok(text.trim_matches(|c| set.contains(c)).into())
}

fn trimprefix(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let text = string(args, 0)?;
    let prefix = string(args, 1)?;
    Ok(text.strip_prefix(prefix.as_str()).unwrap_or(&text).into())
}

fn trimsuffix(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let text = string(args, 0)?;
    let suffix = string(args, 1)?;
    Ok(text.strip_suffix(suffix.as_str()).unwrap_or(&text).into())
}

fn trimspace(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    Ok(string(args, 0)?.trim().into())
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{error_message, n, run, s, strs};
    use super::*;

    #[test]
    fn chomp_removes_trailing_newlines_only() {
        assert_eq!(run("chomp", vec![s("hello\n")]), Ok(s("hello")));
        assert_eq!(run("chomp", vec![s("hello\r\n")]), Ok(s("hello")));
        assert_eq!(run("chomp", vec![s("hello\n\n")]), Ok(s("hello")));
        assert_eq!(run("chomp", vec![s("\nhello \n\r\n")]), Ok(s("\nhello ")));
        assert_eq!(run("chomp", vec![s("")]), Ok(s("")));
    }

    #[test]
    fn prefix_suffix_contains() {
        assert_eq!(
            run("startswith", vec![s("hello world"), s("hello")]),
            Ok(true.into())
        );
        assert_eq!(
            run("startswith", vec![s("hello world"), s("world")]),
            Ok(false.into())
        );
        assert_eq!(
            run("endswith", vec![s("hello world"), s("world")]),
            Ok(true.into())
        );
        assert_eq!(
            run("endswith", vec![s("hello world"), s("hello")]),
            Ok(false.into())
        );
        assert_eq!(
            run("strcontains", vec![s("hello world"), s("wor")]),
            Ok(true.into())
        );
        assert_eq!(
            run("strcontains", vec![s("hello world"), s("wod")]),
            Ok(false.into())
        );
        assert_eq!(run("startswith", vec![s("x"), s("")]), Ok(true.into()));
    }

    #[test]
    fn indent_pads_following_lines() {
        assert_eq!(
            run("indent", vec![n(2.0), s("[\n  foo,\n  bar,\n]\n")]),
            Ok(s("[\n    foo,\n    bar,\n  ]\n  "))
        );
        assert_eq!(run("indent", vec![n(4.0), s("single")]), Ok(s("single")));
        assert_eq!(run("indent", vec![n(0.0), s("a\nb")]), Ok(s("a\nb")));
        assert_eq!(
            error_message(run("indent", vec![n(-1.0), s("a")])),
            "the number of spaces must not be negative"
        );
    }

    #[test]
    fn join_concatenates_lists() {
        assert_eq!(
            run("join", vec![s(", "), strs(&["foo", "bar", "baz"])]),
            Ok(s("foo, bar, baz"))
        );
        assert_eq!(run("join", vec![s(", "), strs(&["foo"])]), Ok(s("foo")));
        assert_eq!(run("join", vec![s(","), strs(&[])]), Ok(s("")));
        assert_eq!(
            run("join", vec![s("-"), strs(&["a"]), strs(&["b", "c"])]),
            Ok(s("a-b-c"))
        );
        let mixed = Value::List(vec![n(1.0), true.into(), s("x")]);
        assert_eq!(run("join", vec![s(""), mixed]), Ok(s("1truex")));
        let set = Value::set(vec![s("b"), s("a")]);
        assert_eq!(run("join", vec![s("+"), set]), Ok(s("a+b")));
    }

    #[test]
    fn join_errors() {
        let with_null = Value::List(vec![s("a"), Value::Null]);
        assert_eq!(
            run("join", vec![s(","), with_null.clone()]),
            Err(FnError::arg(
                1,
                "element 1 is null; cannot concatenate null values"
            ))
        );
        assert_eq!(
            run("join", vec![s(","), strs(&["x"]), with_null]),
            Err(FnError::arg(
                2,
                "element 1 of list 2 is null; cannot concatenate null values"
            ))
        );
        assert_eq!(
            error_message(run("join", vec![s(",")])),
            "arity: expected at least 2, got 1"
        );
        assert!(run("join", vec![s(","), s("notalist")]).is_err());
        let nested = Value::List(vec![strs(&["a"])]);
        assert!(run("join", vec![s(","), nested]).is_err());
    }

    #[test]
    fn case_conversion_is_unicode_aware() {
        assert_eq!(run("lower", vec![s("HELLO")]), Ok(s("hello")));
        assert_eq!(run("lower", vec![s("АЛЛО!")]), Ok(s("алло!")));
        assert_eq!(run("upper", vec![s("hello")]), Ok(s("HELLO")));
        assert_eq!(run("upper", vec![s("алло!")]), Ok(s("АЛЛО!")));
        assert_eq!(run("upper", vec![s("straße")]), Ok(s("STRAßE")));
        assert_eq!(run("upper", vec![n(1.5)]), Ok(s("1.5")));
    }

    #[test]
    fn split_like_go() {
        assert_eq!(run("split", vec![s(","), s("foo")]), Ok(strs(&["foo"])));
        assert_eq!(
            run("split", vec![s(","), s("foo,bar,baz")]),
            Ok(strs(&["foo", "bar", "baz"]))
        );
        assert_eq!(run("split", vec![s(","), s("")]), Ok(strs(&[""])));
        assert_eq!(
            run("split", vec![s(","), s("a,,b,")]),
            Ok(strs(&["a", "", "b", ""]))
        );
        assert_eq!(
            run("split", vec![s(""), s("abc")]),
            Ok(strs(&["a", "b", "c"]))
        );
        assert_eq!(run("split", vec![s(""), s("")]), Ok(strs(&[])));
        assert_eq!(
            run("split", vec![s("::"), s("a::b")]),
            Ok(strs(&["a", "b"]))
        );
    }

    #[test]
    fn strrev_reverses_characters() {
        assert_eq!(run("strrev", vec![s("hello")]), Ok(s("olleh")));
        assert_eq!(run("strrev", vec![s("a ☃")]), Ok(s("☃ a")));
        assert_eq!(run("strrev", vec![s("e\u{301}x")]), Ok(s("xe\u{301}")));
        assert_eq!(run("strrev", vec![s("")]), Ok(s("")));
    }

    #[test]
    fn substr_offsets_and_lengths() {
        let sub = |text: &str, offset: f64, length: f64| {
            run("substr", vec![s(text), n(offset), n(length)])
        };
        assert_eq!(sub("hello world", 1.0, 4.0), Ok(s("ello")));
        assert_eq!(sub("🤔🤷", 0.0, 1.0), Ok(s("🤔")));
        assert_eq!(sub("hello world", -5.0, -1.0), Ok(s("world")));
        assert_eq!(sub("hello world", 6.0, 10.0), Ok(s("world")));
        assert_eq!(sub("hello", 0.0, 0.0), Ok(s("")));
        assert_eq!(sub("hello", 10.0, 2.0), Ok(s("")));
        assert_eq!(sub("hello", -10.0, 2.0), Ok(s("he")));
        assert_eq!(sub("hello", 2.0, -1.0), Ok(s("llo")));
        assert_eq!(sub("", 0.0, 1.0), Ok(s("")));
        assert_eq!(
            error_message(sub("hello", 1.5, 1.0)),
            "value must be a whole number"
        );
    }

    #[test]
    fn title_capitalizes_words() {
        assert_eq!(run("title", vec![s("hello world")]), Ok(s("Hello World")));
        assert_eq!(
            run("title", vec![s("hello-there_friend")]),
            Ok(s("Hello-There_friend"))
        );
        assert_eq!(run("title", vec![s("ALREADY up")]), Ok(s("ALREADY Up")));
    }

    #[test]
    fn trim_family() {
        assert_eq!(run("trim", vec![s("?!hello?!"), s("!?")]), Ok(s("hello")));
        assert_eq!(run("trim", vec![s("foobar"), s("far")]), Ok(s("oob")));
        assert_eq!(
            run("trim", vec![s("   hello! world.!  "), s("! ")]),
            Ok(s("hello! world."))
        );
        assert_eq!(run("trim", vec![s("abc"), s("")]), Ok(s("abc")));
        assert_eq!(
            run("trimprefix", vec![s("helloworld"), s("hello")]),
            Ok(s("world"))
        );
        assert_eq!(
            run("trimprefix", vec![s("helloworld"), s("cat")]),
            Ok(s("helloworld"))
        );
        assert_eq!(
            run("trimprefix", vec![s("hellohello"), s("hello")]),
            Ok(s("hello"))
        );
        assert_eq!(
            run("trimsuffix", vec![s("helloworld"), s("world")]),
            Ok(s("hello"))
        );
        assert_eq!(
            run("trimsuffix", vec![s("helloworld"), s("cat")]),
            Ok(s("helloworld"))
        );
        assert_eq!(run("trimspace", vec![s("  hello\n\n")]), Ok(s("hello")));
        assert_eq!(
            run("trimspace", vec![s("\t\u{a0}x y\u{2003}")]),
            Ok(s("x y"))
        );
    }
}

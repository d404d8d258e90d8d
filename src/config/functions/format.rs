//! `format` and `formatlist`: printf-style formatting with Terraform's verbs.
//!
//! A verb is `%`, flags (`0`, `#`, `-`, `+`, space), an optional width, an optional
//! `.precision`, an optional explicit argument index `[n]` (1-based; later verbs continue
//! from n+1) and a letter: `%v` (default format), `%#v` (JSON), `%t`, `%b` `%d` `%o` `%x`
//! `%X` (integers), `%e` `%E` `%f` `%g` `%G` (floats), `%s`, `%q` (JSON-quoted string);
//! `%%` is a literal percent sign. Widths and string precisions count grapheme clusters.
//! Unused arguments are an error, as in Terraform.

use super::args::{string, variadic};
use super::encoding::{json_string, json_text};
use super::text::{grapheme_count, graphemes, quote};
use super::{FnContext, FnError, FunctionDef};
use gantry_provider::{Type, Value};

pub(super) fn functions() -> Vec<FunctionDef> {
    vec![
        variadic("format", "format(spec, values...)", 1, format),
        variadic("formatlist", "formatlist(spec, values...)", 1, formatlist),
    ]
}

fn format(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let spec = string(args, 0)?;
    render(&spec, args.get(1..).unwrap_or_default()).map(Value::String)
}

fn formatlist(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let spec = string(args, 0)?;
    let values = args.get(1..).unwrap_or_default();
    // Sequences are iterated together; everything else repeats on every iteration.
    let mut length: Option<(usize, usize)> = None;
    for (i, value) in values.iter().enumerate() {
        if let Value::List(items) | Value::Set(items) = value {
            match length {
                None => length = Some((items.len(), i + 1)),
                Some((len, first)) if len != items.len() => {
                    return Err(FnError::arg(
                        i + 1,
                        format!(
                            "argument {} has length {}, which is inconsistent with argument \
                             {first} of length {len}",
                            i + 1,
                            items.len()
                        ),
                    ))
                }
                Some(_) => {}
            }
        }
    }
    let count = length.map_or(1, |(len, _)| len);
    let mut out = Vec::with_capacity(count);
    for iteration in 0..count {
        let row: Vec<Value> = values
            .iter()
            .map(|value| match value {
                Value::List(items) | Value::Set(items) => items[iteration].clone(),
                other => other.clone(),
            })
            .collect();
        let text = render(&spec, &row).map_err(|e| {
            let message = match e {
                FnError::Arg { message, .. } | FnError::Call(message) => message,
                FnError::Arity { .. } => String::from("wrong number of arguments"),
            };
            if values.is_empty() {
                FnError::call(message)
            } else {
                FnError::call(format!("error on format iteration {iteration}: {message}"))
            }
        })?;
        out.push(Value::String(text));
    }
    Ok(Value::List(out))
}

/// One `%...` verb as written.
#[derive(Default)]
struct Verb {
    /// The verb's text, for messages (`%-5d`).
    raw: String,
    /// Byte offset of the `%` in the format string.
    offset: usize,
    /// 1-based argument number.
    arg: usize,
    mode: char,
    zero: bool,
    sharp: bool,
    minus: bool,
    plus: bool,
    space: bool,
    width: Option<usize>,
    precision: Option<usize>,
}

/// Formats `values` according to `spec`.
fn render(spec: &str, values: &[Value]) -> Result<String, FnError> {
    let bytes = spec.as_bytes();
    let mut out = String::with_capacity(spec.len());
    let mut next_arg = 1;
    let mut highest = 0;
    let mut p = 0;
    while p < bytes.len() {
        if bytes[p] != b'%' {
            let c = next_char(spec, p);
            out.push(c);
            p += c.len_utf8();
            continue;
        }
        if bytes.get(p + 1) == Some(&b'%') {
            out.push('%');
            p += 2;
            continue;
        }
        let mut verb = Verb {
            offset: p,
            arg: next_arg,
            ..Verb::default()
        };
        p = parse_verb(spec, p + 1, &mut verb)?;
        verb.raw = spec[verb.offset..p].to_owned();
        highest = highest.max(verb.arg);
        append(&verb, values, &mut out)?;
        next_arg = verb.arg + 1;
    }
    if highest < values.len() {
        let message = if highest == 0 {
            "too many arguments; no verbs in format string".to_owned()
        } else {
            format!("too many arguments; only {highest} used by format string")
        };
        return Err(FnError::arg(highest + 1, message));
    }
    Ok(out)
}

fn next_char(s: &str, at: usize) -> char {
    s[at..].chars().next().unwrap_or('\u{FFFD}')
}

/// Parses flags, width, precision, index and mode starting after the `%`; returns the
/// offset just past the verb.
fn parse_verb(spec: &str, mut p: usize, verb: &mut Verb) -> Result<usize, FnError> {
    let bytes = spec.as_bytes();
    let unrecognized = |at: usize| {
        if at >= bytes.len() {
            FnError::call(format!(
                "invalid format string starting at offset {}",
                bytes.len()
            ))
        } else {
            FnError::call(format!(
                "unrecognized format character '{}' at offset {at}",
                next_char(spec, at)
            ))
        }
    };
    while let Some(&b) = bytes.get(p) {
        match b {
            b'0' => verb.zero = true,
            b'#' => verb.sharp = true,
            b'-' => verb.minus = true,
            b'+' => verb.plus = true,
            b' ' => verb.space = true,
            _ => break,
        }
        p += 1;
    }
    if matches!(bytes.get(p), Some(b'1'..=b'9')) {
        let (n, end) = digits(bytes, p);
        verb.width = Some(n);
        p = end;
    }
    if bytes.get(p) == Some(&b'.') {
        let (n, end) = digits(bytes, p + 1);
        verb.precision = Some(n);
        p = end;
    }
    if bytes.get(p) == Some(&b'[') {
        p += 1;
        if !matches!(bytes.get(p), Some(b'1'..=b'9')) {
            return Err(unrecognized(p));
        }
        let (n, end) = digits(bytes, p);
        if bytes.get(end) != Some(&b']') {
            return Err(unrecognized(end));
        }
        verb.arg = n;
        p = end + 1;
    }
    match bytes.get(p) {
        Some(b) if b.is_ascii_alphabetic() => {
            verb.mode = char::from(*b);
            Ok(p + 1)
        }
        _ => Err(unrecognized(p)),
    }
}

/// A run of decimal digits: its value (saturating) and the offset after it.
fn digits(bytes: &[u8], mut p: usize) -> (usize, usize) {
    let mut n: usize = 0;
    while let Some(d @ b'0'..=b'9') = bytes.get(p) {
        n = n.saturating_mul(10).saturating_add(usize::from(d - b'0'));
        p += 1;
    }
    (n, p)
}

/// Formats one verb's argument onto `out`.
fn append(verb: &Verb, values: &[Value], out: &mut String) -> Result<(), FnError> {
    let Some(value) = values.get(verb.arg - 1) else {
        return Err(FnError::call(format!(
            "not enough arguments for {} at {}: need index {} but have {} total",
            quote(&verb.raw),
            verb.offset,
            verb.arg,
            values.len()
        )));
    };
    let unsupported = |why: &dyn std::fmt::Display| {
        FnError::call(format!(
            "unsupported value for {} at {}: {why}",
            quote(&verb.raw),
            verb.offset
        ))
    };
    if verb.mode != 'v' && value.is_null() {
        return Err(unsupported(&"null value cannot be formatted"));
    }
    match verb.mode {
        'v' => {
            let text = match value {
                Value::String(s) if !verb.sharp => s.clone(),
                Value::Number(n) if !verb.sharp => float_text(*n, 'g', None),
                other => json_text(other).map_err(|e| unsupported(&e))?,
            };
            out.push_str(&pad(verb, text));
        }
        't' => match value.convert(&Type::Bool) {
            Ok(Value::Bool(b)) => out.push_str(if b { "true" } else { "false" }),
            Ok(_) => return Err(unsupported(&"bool required")),
            Err(e) => return Err(unsupported(&e)),
        },
        'b' | 'd' | 'o' | 'x' | 'X' | 'e' | 'E' | 'f' | 'g' | 'G' => {
            let n = match value.convert(&Type::Number) {
                Ok(Value::Number(n)) => n,
                Ok(_) => return Err(unsupported(&"number required")),
                Err(e) => return Err(unsupported(&e)),
            };
            if matches!(verb.mode, 'e' | 'E' | 'f' | 'g' | 'G') {
                out.push_str(&format_float(verb, n));
            } else {
                let text = format_integer(verb, n)
                    .ok_or_else(|| unsupported(&"an integer is required"))?;
                out.push_str(&text);
            }
        }
        's' | 'q' => {
            let mut text = match value.convert(&Type::String) {
                Ok(Value::String(s)) => s,
                Ok(_) => return Err(unsupported(&"string required")),
                Err(e) => return Err(unsupported(&e)),
            };
            if let Some(precision) = verb.precision.filter(|p| *p > 0) {
                text = graphemes(&text).into_iter().take(precision).collect();
            }
            if verb.mode == 'q' {
                text = json_string(&text);
            }
            out.push_str(&pad(verb, text));
        }
        other => {
            return Err(FnError::call(format!(
                "unsupported format verb '{other}' in {} at offset {}",
                quote(&verb.raw),
                verb.offset
            )))
        }
    }
    Ok(())
}

/// Pads to the verb's width, counting grapheme clusters.
fn pad(verb: &Verb, text: String) -> String {
    let Some(width) = verb.width else { return text };
    let len = grapheme_count(&text);
    if len >= width {
        return text;
    }
    let fill = if verb.zero { "0" } else { " " }.repeat(width - len);
    if verb.minus {
        text + &fill
    } else {
        fill + &text
    }
}

/// Integer verbs, as Go formats a `big.Int`: precision is a minimum digit count, `#` adds a
/// base prefix, `0` pads with zeros after the sign.
fn format_integer(verb: &Verb, n: f64) -> Option<String> {
    if !n.is_finite() || n.fract() != 0.0 {
        return None;
    }
    let radix = match verb.mode {
        'b' => 2,
        'o' => 8,
        'x' | 'X' => 16,
        _ => 10,
    };
    let mut digits = integer_digits(n.abs(), radix);
    if verb.mode == 'X' {
        digits = digits.to_uppercase();
    }
    let sign = if n < 0.0 {
        "-"
    } else if verb.plus {
        "+"
    } else if verb.space {
        " "
    } else {
        ""
    };
    let prefix = match (verb.sharp, verb.mode) {
        (true, 'b') => "0b",
        (true, 'o') => "0",
        (true, 'x') => "0x",
        (true, 'X') => "0X",
        _ => "",
    };
    let mut zeros = 0;
    if let Some(precision) = verb.precision {
        if digits.len() < precision {
            zeros = precision - digits.len();
        } else if digits == "0" && precision == 0 {
            return Some(String::new());
        }
    }
    let (mut left, mut right) = (0, 0);
    let length = sign.len() + prefix.len() + zeros + digits.len();
    if let Some(width) = verb.width.filter(|w| *w > length) {
        let extra = width - length;
        if verb.minus {
            right = extra;
        } else if verb.zero && verb.precision.is_none() {
            zeros = extra;
        } else {
            left = extra;
        }
    }
    Some(format!(
        "{}{sign}{prefix}{}{digits}{}",
        " ".repeat(left),
        "0".repeat(zeros),
        " ".repeat(right)
    ))
}

/// The digits of a non-negative whole number in `radix` (2, 8, 10 or 16).
fn integer_digits(n: f64, radix: u32) -> String {
    // Below 2^64 the value is exact as an integer.
    if n < 18_446_744_073_709_551_616.0 {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let v = n as u64;
        return match radix {
            2 => format!("{v:b}"),
            8 => format!("{v:o}"),
            16 => format!("{v:x}"),
            _ => v.to_string(),
        };
    }
    if radix == 10 {
        return format!("{n:.0}");
    }
    // n = mantissa * 2^exponent exactly; build the binary digits, then regroup.
    let bits = n.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as usize - 1075;
    let mantissa = (bits & ((1 << 52) - 1)) | (1 << 52);
    let binary = format!("{mantissa:b}{}", "0".repeat(exponent));
    let group = match radix {
        8 => 3,
        16 => 4,
        _ => return binary,
    };
    let padded = format!(
        "{}{binary}",
        "0".repeat((group - binary.len() % group) % group)
    );
    padded
        .as_bytes()
        .chunks(group)
        .map(|chunk| {
            let v = chunk.iter().fold(0, |acc, b| acc * 2 + u32::from(b - b'0'));
            char::from_digit(v, radix).unwrap_or('0')
        })
        .collect::<String>()
        .trim_start_matches('0')
        .to_owned()
}

/// Float verbs, as Go formats a `big.Float`: sign, then padding.
fn format_float(verb: &Verb, n: f64) -> String {
    let mode = verb.mode.to_ascii_lowercase();
    let precision = match mode {
        'g' => verb.precision,
        _ => Some(verb.precision.unwrap_or(6)),
    };
    let mut body = float_text(n, mode, precision);
    if verb.mode.is_ascii_uppercase() {
        body = body.to_uppercase();
    }
    let (sign, body) = match body.strip_prefix('-') {
        Some(rest) => ("-", rest.to_owned()),
        None if verb.plus => ("+", body),
        None if verb.space => (" ", body),
        None => ("", body),
    };
    let width = verb.width.unwrap_or(0);
    let padding = width.saturating_sub(sign.len() + body.len());
    if verb.zero && n.is_finite() {
        format!("{sign}{}{body}", "0".repeat(padding))
    } else if verb.minus {
        format!("{sign}{body}{}", " ".repeat(padding))
    } else {
        format!("{}{sign}{body}", " ".repeat(padding))
    }
}

/// Go's `big.Float.Text(mode, precision)` for `e`, `f` and `g`; `None` precision means the
/// shortest representation that reads back as the same number.
pub(super) fn float_text(n: f64, mode: char, precision: Option<usize>) -> String {
    if n.is_infinite() {
        return if n > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let sign = if n.is_sign_negative() && n != 0.0 {
        "-"
    } else {
        ""
    };
    let x = n.abs();
    let text = match mode {
        'f' => format!("{x:.*}", precision.unwrap_or(6)),
        'e' => {
            let (digits, dp) = decimal_digits(x, precision.map(|p| p + 1));
            exponent_form(&digits, dp, precision.unwrap_or(digits.len() - 1))
        }
        _ => general_form(x, precision),
    };
    format!("{sign}{text}")
}

/// The significant decimal digits of `x` (rounded to `count` digits, or shortest) and the
/// decimal point position: `x = 0.d1d2d3... * 10^dp`.
fn decimal_digits(x: f64, count: Option<usize>) -> (String, i32) {
    let scientific = match count {
        Some(count) => format!("{x:.*e}", count.max(1) - 1),
        None => format!("{x:e}"),
    };
    let (mantissa, exponent) = scientific.split_once('e').unwrap_or((&scientific, "0"));
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    (digits, exponent.parse::<i32>().unwrap_or(0) + 1)
}

/// `d.ddde±XX` with `precision` digits after the point.
fn exponent_form(digits: &str, dp: i32, precision: usize) -> String {
    let mut out = String::new();
    out.push(digits.chars().next().unwrap_or('0'));
    if precision > 0 {
        out.push('.');
        let rest: String = digits
            .chars()
            .skip(1)
            .chain(std::iter::repeat('0'))
            .take(precision)
            .collect();
        out.push_str(&rest);
    }
    let exp = if digits.chars().all(|c| c == '0') {
        0
    } else {
        dp - 1
    };
    out.push_str(&format!(
        "e{}{:02}",
        if exp < 0 { '-' } else { '+' },
        exp.abs()
    ));
    out
}

/// `ddd.ddd` from significant digits, with `precision` digits after the point.
fn fixed_form(digits: &str, dp: i32, precision: usize) -> String {
    let digit_at = |i: i32| -> char {
        usize::try_from(i)
            .ok()
            .and_then(|i| digits.as_bytes().get(i))
            .map_or('0', |b| char::from(*b))
    };
    let mut out = String::new();
    if dp > 0 {
        (0..dp).for_each(|i| out.push(digit_at(i)));
    } else {
        out.push('0');
    }
    if precision > 0 {
        out.push('.');
        let precision = i32::try_from(precision).unwrap_or(i32::MAX);
        (0..precision).for_each(|i| out.push(digit_at(dp + i)));
    }
    out
}

/// `%g`: exponent form for large or small exponents, fixed form otherwise, without trailing
/// zeros.
fn general_form(x: f64, precision: Option<usize>) -> String {
    let shortest = precision.is_none();
    let wanted = precision.map(|p| p.max(1));
    let (mut digits, dp) = decimal_digits(x, wanted);
    let trimmed = digits.trim_end_matches('0').len().max(1);
    digits.truncate(trimmed);
    let nd = i32::try_from(digits.len()).unwrap_or(i32::MAX);
    let mut prec = wanted.map_or(nd, |p| i32::try_from(p).unwrap_or(i32::MAX));
    let mut eprec = prec;
    if eprec > nd && nd >= dp {
        eprec = nd;
    }
    if shortest {
        eprec = 6;
    }
    let exp = dp - 1;
    if x != 0.0 && (exp < -4 || exp >= eprec) {
        prec = prec.min(nd);
        return exponent_form(&digits, dp, usize::try_from(prec - 1).unwrap_or(0));
    }
    if prec > dp {
        prec = nd;
    }
    fixed_form(
        &digits,
        dp,
        usize::try_from((prec - dp).max(0)).unwrap_or(0),
    )
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{error_message, n, nums, run, s, strs};
    use super::*;

    fn fmt(spec: &str, values: Vec<Value>) -> Result<Value, FnError> {
        let mut args = vec![s(spec)];
        args.extend(values);
        run("format", args)
    }

    #[test]
    fn documented_examples() {
        assert_eq!(fmt("Hello, %s!", vec![s("Ander")]), Ok(s("Hello, Ander!")));
        assert_eq!(
            fmt("There are %d lights", vec![n(4.0)]),
            Ok(s("There are 4 lights"))
        );
        assert_eq!(fmt("%-5d|", vec![n(42.0)]), Ok(s("42   |")));
        assert_eq!(fmt("%5d|", vec![n(42.0)]), Ok(s("   42|")));
        assert_eq!(fmt("%05d|", vec![n(42.0)]), Ok(s("00042|")));
        assert_eq!(fmt("%.2f", vec![n(1.23456)]), Ok(s("1.23")));
        assert_eq!(fmt("%8.2f|", vec![n(-1.23456)]), Ok(s("   -1.23|")));
        assert_eq!(fmt("%%", vec![]), Ok(s("%")));
        assert_eq!(fmt("100%% successful", vec![]), Ok(s("100% successful")));
        assert_eq!(fmt("", vec![]), Ok(s("")));
    }

    #[test]
    fn default_formats() {
        assert_eq!(fmt("string %v", vec![s("hello")]), Ok(s("string hello")));
        assert_eq!(fmt("%#v", vec![s("hello")]), Ok(s("\"hello\"")));
        assert_eq!(fmt("number %v", vec![n(2.0)]), Ok(s("number 2")));
        assert_eq!(fmt("%v", vec![n(1.5)]), Ok(s("1.5")));
        assert_eq!(fmt("%v", vec![n(1_234_567.0)]), Ok(s("1.234567e+06")));
        assert_eq!(fmt("%v", vec![n(0.00001)]), Ok(s("1e-05")));
        assert_eq!(fmt("bool %v", vec![true.into()]), Ok(s("bool true")));
        assert_eq!(fmt("%v", vec![Value::Null]), Ok(s("null")));
        assert_eq!(
            fmt("%v", vec![Value::map([("a", n(1.0))])]),
            Ok(s("{\"a\":1}"))
        );
        assert_eq!(fmt("%v", vec![Value::List(vec![])]), Ok(s("[]")));
        assert_eq!(
            fmt("%v", vec![strs(&["<a>"])]),
            Ok(s("[\"\\u003ca\\u003e\"]"))
        );
        assert_eq!(fmt("%%%v", vec![false.into()]), Ok(s("%false")));
        assert_eq!(
            fmt("string %[2]v", vec![true.into(), s("hello")]),
            Ok(s("string hello"))
        );
        assert_eq!(fmt("%6v|", vec![n(1.5)]), Ok(s("   1.5|")));
    }

    #[test]
    fn strings() {
        assert_eq!(
            fmt("Hello, %[2]s!", vec![s("Stephen"), s("Ermintrude")]),
            Ok(s("Hello, Ermintrude!"))
        );
        assert_eq!(fmt("%q!", vec![s("Ermintrude")]), Ok(s("\"Ermintrude\"!")));
        assert_eq!(
            fmt("This statement is %s", vec![false.into()]),
            Ok(s("This statement is false"))
        );
        assert_eq!(fmt("%q", vec![false.into()]), Ok(s("\"false\"")));
        assert_eq!(fmt("%10s", vec![s("hello")]), Ok(s("     hello")));
        assert_eq!(fmt("%-10s|", vec![s("hello")]), Ok(s("hello     |")));
        assert_eq!(fmt("%4s", vec![s("💃🏿")]), Ok(s("   💃🏿")));
        assert_eq!(fmt("%6q", vec![s("💃🏿")]), Ok(s("   \"💃🏿\"")));
        assert_eq!(fmt("%.2s", vec![s("hello")]), Ok(s("he")));
        assert_eq!(fmt("%.2q", vec![s("hello")]), Ok(s("\"he\"")));
        assert_eq!(fmt("%.5s", vec![s("日本語日本語")]), Ok(s("日本語日本")));
        assert_eq!(fmt("%.10s", vec![s("hello")]), Ok(s("hello")));
        assert_eq!(fmt("%4.2s|", vec![s("hello")]), Ok(s("  he|")));
        assert_eq!(fmt("%-4.2s|", vec![s("hello")]), Ok(s("he  |")));
        assert_eq!(
            fmt("%q", vec![s("Hello\nWorld")]),
            Ok(s("\"Hello\\nWorld\""))
        );
        assert_eq!(fmt("%s", vec![n(1.5)]), Ok(s("1.5")));
        assert_eq!(fmt("%05s", vec![s("ab")]), Ok(s("000ab")));
    }

    #[test]
    fn booleans() {
        assert_eq!(fmt("%t", vec![false.into()]), Ok(s("false")));
        assert_eq!(
            fmt("%[2]t", vec![true.into(), false.into()]),
            Ok(s("false"))
        );
        assert_eq!(fmt("%t", vec![s("true")]), Ok(s("true")));
        assert!(
            error_message(fmt("%t", vec![n(1.0)])).starts_with("unsupported value for \"%t\" at 0")
        );
    }

    #[test]
    fn integers() {
        assert_eq!(
            fmt("%d green bottles", vec![n(10.0)]),
            Ok(s("10 green bottles"))
        );
        assert_eq!(
            fmt("%[2]d things", vec![n(1.0), n(10.0)]),
            Ok(s("10 things"))
        );
        assert_eq!(fmt("%+d", vec![n(10.0)]), Ok(s("+10")));
        assert_eq!(fmt("% d", vec![n(10.0)]), Ok(s(" 10")));
        assert_eq!(fmt("%+d", vec![n(-10.0)]), Ok(s("-10")));
        assert_eq!(fmt("%b", vec![n(5.0)]), Ok(s("101")));
        assert_eq!(fmt("%o", vec![n(9.0)]), Ok(s("11")));
        assert_eq!(fmt("%x", vec![n(254.0)]), Ok(s("fe")));
        assert_eq!(fmt("%X", vec![n(254.0)]), Ok(s("FE")));
        assert_eq!(fmt("%#x", vec![n(254.0)]), Ok(s("0xfe")));
        assert_eq!(fmt("%#o", vec![n(8.0)]), Ok(s("010")));
        assert_eq!(fmt("%.5d", vec![n(-42.0)]), Ok(s("-00042")));
        assert_eq!(fmt("%08.3d|", vec![n(7.0)]), Ok(s("     007|")));
        assert_eq!(fmt("%-+6d|", vec![n(7.0)]), Ok(s("+7    |")));
        assert_eq!(fmt("%06d", vec![n(-42.0)]), Ok(s("-00042")));
        assert_eq!(fmt("%d", vec![s("12")]), Ok(s("12")));
        assert_eq!(fmt("%d", vec![n(1e20)]), Ok(s("100000000000000000000")));
        assert_eq!(
            fmt("%x", vec![n(2f64.powi(70))]),
            Ok(s("400000000000000000"))
        );
        assert_eq!(fmt("%.0d|", vec![n(0.0)]), Ok(s("|")));
    }

    #[test]
    fn floats() {
        assert_eq!(fmt("%f things", vec![n(10.0)]), Ok(s("10.000000 things")));
        assert_eq!(fmt("%+f", vec![n(10.0)]), Ok(s("+10.000000")));
        assert_eq!(fmt("% f", vec![n(10.0)]), Ok(s(" 10.000000")));
        assert_eq!(fmt("% f", vec![n(-10.0)]), Ok(s("-10.000000")));
        assert_eq!(fmt("%.1f", vec![s("1.06")]), Ok(s("1.1")));
        assert_eq!(fmt("%.0f", vec![n(2.5)]), Ok(s("2")));
        assert_eq!(fmt("%e", vec![n(1000.0)]), Ok(s("1.000000e+03")));
        assert_eq!(fmt("%E", vec![n(1000.0)]), Ok(s("1.000000E+03")));
        assert_eq!(fmt("%.2e", vec![n(-0.000_123_4)]), Ok(s("-1.23e-04")));
        assert_eq!(fmt("%e", vec![n(0.0)]), Ok(s("0.000000e+00")));
        assert_eq!(fmt("%g", vec![n(1000.0)]), Ok(s("1000")));
        assert_eq!(fmt("%G", vec![n(1000.0)]), Ok(s("1000")));
        assert_eq!(
            fmt("%g", vec![s("0.00000000000000000000001")]),
            Ok(s("1e-23"))
        );
        assert_eq!(
            fmt("%G", vec![s("0.00000000000000000000001")]),
            Ok(s("1E-23"))
        );
        assert_eq!(fmt("%g", vec![n(100_000.0)]), Ok(s("100000")));
        assert_eq!(fmt("%g", vec![n(1e6)]), Ok(s("1e+06")));
        assert_eq!(fmt("%.3g", vec![n(1.23456)]), Ok(s("1.23")));
        assert_eq!(fmt("%.3g", vec![n(1234.5)]), Ok(s("1.23e+03")));
        assert_eq!(fmt("%.5g", vec![n(1.0)]), Ok(s("1")));
        assert_eq!(fmt("%g", vec![n(0.0)]), Ok(s("0")));
        assert_eq!(fmt("%09.3f|", vec![n(-1.23456)]), Ok(s("-0001.235|")));
        assert_eq!(fmt("%-9.3f|", vec![n(1.23456)]), Ok(s("1.235    |")));
    }

    #[test]
    fn errors() {
        assert_eq!(
            error_message(fmt("%d green bottles", vec![true.into()])),
            "unsupported value for \"%d\" at 0: number required, got bool"
        );
        assert_eq!(
            error_message(fmt("%d", vec![n(1.5)])),
            "unsupported value for \"%d\" at 0: an integer is required"
        );
        assert_eq!(
            error_message(fmt("%s", vec![Value::Null])),
            "unsupported value for \"%s\" at 0: null value cannot be formatted"
        );
        assert_eq!(
            error_message(fmt("%s", vec![Value::map([("a", n(1.0))])])),
            "unsupported value for \"%s\" at 0: string required, got object"
        );
        assert_eq!(
            error_message(fmt("%s is not in the args list", vec![])),
            "not enough arguments for \"%s\" at 0: need index 1 but have 0 total"
        );
        assert_eq!(
            error_message(fmt("%[3]s", vec![true.into(), true.into()])),
            "not enough arguments for \"%[3]s\" at 0: need index 3 but have 2 total"
        );
        assert_eq!(
            error_message(fmt("%[0]s", vec![true.into()])),
            "unrecognized format character '0' at offset 2"
        );
        assert_eq!(
            error_message(fmt("%v %v %v", vec![true.into(), true.into()])),
            "not enough arguments for \"%v\" at 6: need index 3 but have 2 total"
        );
        assert_eq!(
            error_message(fmt("%z is not valid", vec![n(10.0)])),
            "unsupported format verb 'z' in \"%z\" at offset 0"
        );
        assert_eq!(
            error_message(fmt("%012z", vec![n(10.0)])),
            "unsupported format verb 'z' in \"%012z\" at offset 0"
        );
        assert_eq!(
            error_message(fmt("%☠ is not valid", vec![n(10.0)])),
            "unrecognized format character '☠' at offset 1"
        );
        assert_eq!(
            error_message(fmt("50%", vec![])),
            "invalid format string starting at offset 3"
        );
        assert_eq!(
            fmt("no format verbs at all", vec![n(10.0)]),
            Err(FnError::arg(
                1,
                "too many arguments; no verbs in format string"
            ))
        );
        assert_eq!(
            fmt("only one verb %d", vec![n(10.0), n(11.0)]),
            Err(FnError::arg(
                2,
                "too many arguments; only 1 used by format string"
            ))
        );
        assert_eq!(
            error_message(run("format", vec![Value::Null])),
            "argument must not be null"
        );
    }

    #[test]
    fn formatlist_broadcasts() {
        let fl = |args: Vec<Value>| run("formatlist", args);
        assert_eq!(
            fl(vec![
                s("Hello, %s!"),
                strs(&["Valentina", "Ander", "Olivia", "Sam"])
            ]),
            Ok(strs(&[
                "Hello, Valentina!",
                "Hello, Ander!",
                "Hello, Olivia!",
                "Hello, Sam!"
            ]))
        );
        assert_eq!(
            fl(vec![
                s("%s, %s!"),
                s("Salutations"),
                strs(&["Valentina", "Ander"])
            ]),
            Ok(strs(&["Salutations, Valentina!", "Salutations, Ander!"]))
        );
        assert_eq!(
            fl(vec![
                s("%s %s"),
                strs(&["hello", "goodbye"]),
                strs(&["world", "universe"])
            ]),
            Ok(strs(&["hello world", "goodbye universe"]))
        );
        assert_eq!(fl(vec![s("hello")]), Ok(strs(&["hello"])));
        assert_eq!(
            fl(vec![s("%s")]),
            Err(FnError::call(
                "not enough arguments for \"%s\" at 0: need index 1 but have 0 total"
            ))
        );
        assert_eq!(fl(vec![s("%d"), nums(&[])]), Ok(strs(&[])));
        assert_eq!(fl(vec![s("%v"), Value::Null]), Ok(strs(&["null"])));
        assert_eq!(fl(vec![s("%s"), s("x")]), Ok(strs(&["x"])));
        assert_eq!(
            fl(vec![s("%03d"), Value::set(vec![n(2.0), n(1.0)])]),
            Ok(strs(&["001", "002"]))
        );
    }

    #[test]
    fn formatlist_errors() {
        assert_eq!(
            run(
                "formatlist",
                vec![s("%s %s"), strs(&["hello", "goodbye"]), strs(&["world"])]
            ),
            Err(FnError::arg(
                2,
                "argument 2 has length 1, which is inconsistent with argument 1 of length 2"
            ))
        );
        assert_eq!(
            error_message(run("formatlist", vec![s("%s"), Value::List(vec![Value::map([("a", n(1.0))])])])),
            "error on format iteration 0: unsupported value for \"%s\" at 0: string required, got object"
        );
        assert_eq!(
            error_message(run("formatlist", vec![s("%d"), nums(&[1.0, 1.5])])),
            "error on format iteration 1: unsupported value for \"%d\" at 0: an integer is required"
        );
    }

    #[test]
    fn float_text_matches_go() {
        assert_eq!(float_text(1e21, 'g', None), "1e+21");
        assert_eq!(float_text(123_456.0, 'g', None), "123456");
        assert_eq!(float_text(0.0001, 'g', None), "0.0001");
        assert_eq!(float_text(-2.5, 'g', None), "-2.5");
        assert_eq!(float_text(f64::INFINITY, 'f', Some(2)), "+Inf");
        assert_eq!(float_text(1.5, 'e', None), "1.5e+00");
    }
}

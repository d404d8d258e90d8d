//! Numeric functions: `abs`, `ceil`, `floor`, `log`, `max`, `min`, `parseint`, `pow` and
//! `signum`. Numbers are IEEE doubles; arguments given as numeric strings convert.

use super::args::{fixed, integer, number, present, variadic};
use super::text::quote;
use super::{FnContext, FnError, FunctionDef};
use gantry_provider::Value;

pub(super) fn functions() -> Vec<FunctionDef> {
    vec![
        fixed("abs", "abs(number)", 1, abs),
        fixed("ceil", "ceil(number)", 1, ceil),
        fixed("floor", "floor(number)", 1, floor),
        fixed("log", "log(number, base)", 2, log),
        variadic("max", "max(numbers...)", 1, max),
        variadic("min", "min(numbers...)", 1, min),
        fixed("parseint", "parseint(number, base)", 2, parseint),
        fixed("pow", "pow(number, power)", 2, pow),
        fixed("signum", "signum(number)", 1, signum),
    ]
}

fn abs(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    Ok(Value::Number(number(args, 0)?.abs()))
}

fn ceil(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    Ok(Value::Number(number(args, 0)?.ceil()))
}

fn floor(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    Ok(Value::Number(number(args, 0)?.floor()))
}

fn log(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let (n, base) = (number(args, 0)?, number(args, 1)?);
    Ok(Value::Number(n.ln() / base.ln()))
}

fn max(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    fold(args, f64::max)
}

fn min(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    fold(args, f64::min)
}

fn fold(args: &[Value], pick: fn(f64, f64) -> f64) -> Result<Value, FnError> {
    let mut acc = number(args, 0)?;
    for i in 1..args.len() {
        acc = pick(acc, number(args, i)?);
    }
    Ok(Value::Number(acc))
}

fn pow(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    Ok(Value::Number(number(args, 0)?.powf(number(args, 1)?)))
}

fn signum(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let n = number(args, 0)?;
    Ok(Value::Number(if n > 0.0 {
        1.0
    } else if n < 0.0 {
        -1.0
    } else {
        0.0
    }))
}

/// `parseint(number, base)`: like Go's `big.Int.SetString`, digits beyond 9 are `a`-`z`
/// (case-insensitive up to base 36), then `A`-`Z` for bases 37 to 62.
fn parseint(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let text = match present(args, 0)? {
        Value::String(s) => s.clone(),
        other => {
            return Err(FnError::arg(
                0,
                format!("first argument must be a string, not {}", other.type_name()),
            ))
        }
    };
    let base = integer(args, 1)?;
    if !(2..=62).contains(&base) {
        return Err(FnError::arg(
            1,
            "base must be a whole number between 2 and 62 inclusive",
        ));
    }
    let invalid = || {
        FnError::arg(
            0,
            format!("cannot parse {} as a base {base} integer", quote(&text)),
        )
    };
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text.as_str()),
    };
    if digits.is_empty() {
        return Err(invalid());
    }
    #[allow(clippy::cast_precision_loss)]
    let radix = base as f64;
    let mut value = 0.0_f64;
    for c in digits.chars() {
        let digit = digit_value(c, base).ok_or_else(invalid)?;
        value = value * radix + f64::from(digit);
    }
    Ok(Value::Number(if negative { -value } else { value }))
}

fn digit_value(c: char, base: i64) -> Option<u32> {
    let d = match c {
        '0'..='9' => c as u32 - '0' as u32,
        'a'..='z' => c as u32 - 'a' as u32 + 10,
        'A'..='Z' if base <= 36 => c as u32 - 'A' as u32 + 10,
        'A'..='Z' => c as u32 - 'A' as u32 + 36,
        _ => return None,
    };
    (i64::from(d) < base).then_some(d)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::test_support::{error_message, n, run, s};
    use super::*;

    #[test]
    fn abs_ceil_floor() {
        assert_eq!(run("abs", vec![n(23.0)]), Ok(n(23.0)));
        assert_eq!(run("abs", vec![n(0.0)]), Ok(n(0.0)));
        assert_eq!(run("abs", vec![n(-12.4)]), Ok(n(12.4)));
        assert_eq!(run("ceil", vec![n(5.0)]), Ok(n(5.0)));
        assert_eq!(run("ceil", vec![n(5.1)]), Ok(n(6.0)));
        assert_eq!(run("floor", vec![n(5.0)]), Ok(n(5.0)));
        assert_eq!(run("floor", vec![n(4.9)]), Ok(n(4.0)));
        assert_eq!(run("floor", vec![n(-4.1)]), Ok(n(-5.0)));
        assert_eq!(run("abs", vec![s("-3")]), Ok(n(3.0)));
        assert_eq!(
            error_message(run("abs", vec![s("x")])),
            "a number is required, got the string \"x\""
        );
        assert_eq!(
            error_message(run("abs", vec![Value::Null])),
            "argument must not be null"
        );
    }

    #[test]
    fn max_and_min() {
        assert_eq!(run("max", vec![n(12.0), n(54.0), n(3.0)]), Ok(n(54.0)));
        assert_eq!(run("min", vec![n(12.0), n(54.0), n(3.0)]), Ok(n(3.0)));
        assert_eq!(run("max", vec![n(-1.0)]), Ok(n(-1.0)));
        assert_eq!(run("min", vec![s("7"), n(9.0)]), Ok(n(7.0)));
        assert_eq!(
            error_message(run("max", vec![])),
            "arity: expected at least 1, got 0"
        );
        assert!(run("min", vec![n(1.0), Value::List(vec![])]).is_err());
    }

    #[test]
    fn pow_log_signum() {
        assert_eq!(run("pow", vec![n(3.0), n(2.0)]), Ok(n(9.0)));
        assert_eq!(run("pow", vec![n(4.0), n(0.0)]), Ok(n(1.0)));
        assert_eq!(run("pow", vec![n(2.0), n(-1.0)]), Ok(n(0.5)));
        assert_eq!(
            run("log", vec![n(50.0), n(10.0)]),
            Ok(n(1.698_970_004_336_018_5))
        );
        assert_eq!(run("log", vec![n(16.0), n(2.0)]), Ok(n(4.0)));
        assert_eq!(run("log", vec![n(1.0), n(10.0)]), Ok(n(0.0)));
        assert_eq!(run("signum", vec![n(-13.0)]), Ok(n(-1.0)));
        assert_eq!(run("signum", vec![n(0.0)]), Ok(n(0.0)));
        assert_eq!(run("signum", vec![n(344.0)]), Ok(n(1.0)));
    }

    #[test]
    fn parseint_bases() {
        assert_eq!(run("parseint", vec![s("100"), n(10.0)]), Ok(n(100.0)));
        assert_eq!(run("parseint", vec![s("FF"), n(16.0)]), Ok(n(255.0)));
        assert_eq!(run("parseint", vec![s("ff"), n(16.0)]), Ok(n(255.0)));
        assert_eq!(run("parseint", vec![s("-10"), n(16.0)]), Ok(n(-16.0)));
        assert_eq!(run("parseint", vec![s("+7"), n(8.0)]), Ok(n(7.0)));
        assert_eq!(
            run("parseint", vec![s("1011111011101111"), n(2.0)]),
            Ok(n(48879.0))
        );
        assert_eq!(run("parseint", vec![s("aA"), n(62.0)]), Ok(n(656.0)));
        assert_eq!(
            run("parseint", vec![s("zZ"), n(62.0)]),
            Ok(n(35.0 * 62.0 + 61.0))
        );
    }

    #[test]
    fn parseint_errors() {
        assert_eq!(
            error_message(run("parseint", vec![s("12"), n(2.0)])),
            "cannot parse \"12\" as a base 2 integer"
        );
        assert_eq!(
            error_message(run("parseint", vec![s(""), n(10.0)])),
            "cannot parse \"\" as a base 10 integer"
        );
        assert_eq!(
            error_message(run("parseint", vec![s("-"), n(10.0)])),
            "cannot parse \"-\" as a base 10 integer"
        );
        assert_eq!(
            error_message(run("parseint", vec![s("0x10"), n(16.0)])),
            "cannot parse \"0x10\" as a base 16 integer"
        );
        assert_eq!(
            run("parseint", vec![s("1"), n(63.0)]),
            Err(FnError::arg(
                1,
                "base must be a whole number between 2 and 62 inclusive"
            ))
        );
        assert_eq!(
            error_message(run("parseint", vec![s("1"), n(1.0)])),
            "base must be a whole number between 2 and 62 inclusive"
        );
        assert_eq!(
            error_message(run("parseint", vec![n(10.0), n(10.0)])),
            "first argument must be a string, not number"
        );
    }
}

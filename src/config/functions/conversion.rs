//! Type conversion functions: `tobool`, `tolist`, `tomap`, `tonumber`, `toset` and
//! `tostring`. They apply Terraform's automatic conversions explicitly; collections convert
//! their elements to a single unified type (`tolist(["a", 1])` is `["a", "1"]`). An unknown
//! argument gives an unknown result of the target type.

use super::args::{convert_all, fixed, kind, unify_values};
use super::text::quote;
use super::{FnContext, FnError, FunctionDef};
use gantry_provider::{Type, Value};

pub(super) fn functions() -> Vec<FunctionDef> {
    vec![
        fixed("tobool", "tobool(value)", 1, tobool).handling_unknown(),
        fixed("tolist", "tolist(value)", 1, tolist).handling_unknown(),
        fixed("tomap", "tomap(value)", 1, tomap).handling_unknown(),
        fixed("tonumber", "tonumber(value)", 1, tonumber).handling_unknown(),
        fixed("toset", "toset(value)", 1, toset).handling_unknown(),
        fixed("tostring", "tostring(value)", 1, tostring).handling_unknown(),
        fixed("sensitive", "sensitive(value)", 1, sensitive).handling_unknown(),
        fixed("nonsensitive", "nonsensitive(value)", 1, nonsensitive).handling_unknown(),
        fixed("issensitive", "issensitive(value)", 1, issensitive).handling_unknown(),
    ]
}

/// The names of the functions that see their arguments' sensitive marks (every other
/// function gets them removed, and its result marked when any argument was).
pub(super) const MARK_AWARE: &[&str] = &["sensitive", "nonsensitive", "issensitive"];

/// `sensitive(value)`: the value, marked sensitive.
fn sensitive(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    Ok(Value::sensitive(value(args).clone()))
}

/// `nonsensitive(value)`: the value with its marks removed, for when the stack author knows
/// a derived value reveals nothing (a hash of a secret).
fn nonsensitive(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    Ok(value(args).clone().unmark_deep().0)
}

/// `issensitive(value)`: whether the value (or anything in it) is marked sensitive.
fn issensitive(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    Ok(Value::Bool(value(args).contains_sensitive()))
}

fn value(args: &[Value]) -> &Value {
    args.first().unwrap_or(&Value::Null)
}

fn tobool(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    match value(args) {
        Value::Unknown(_) => Ok(Value::Unknown(Type::Bool)),
        v @ (Value::Null | Value::Bool(_)) => Ok(v.clone()),
        Value::String(s) if s == "true" => Ok(Value::Bool(true)),
        Value::String(s) if s == "false" => Ok(Value::Bool(false)),
        Value::String(s) => Err(FnError::arg(
            0,
            format!(
                "cannot convert {} to bool; only the strings \"true\" or \"false\" are allowed",
                quote(s)
            ),
        )),
        other => Err(FnError::arg(
            0,
            format!("cannot convert {} to bool", kind(other)),
        )),
    }
}

fn tonumber(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    match value(args) {
        Value::Unknown(_) => Ok(Value::Unknown(Type::Number)),
        v @ (Value::Null | Value::Number(_)) => Ok(v.clone()),
        v @ Value::String(s) => v.convert(&Type::Number).map_err(|_| {
            FnError::arg(
                0,
                format!(
                    "cannot convert {} to number; given string must be a decimal representation \
                     of a number",
                    quote(s)
                ),
            )
        }),
        other => Err(FnError::arg(
            0,
            format!("cannot convert {} to number", kind(other)),
        )),
    }
}

fn tostring(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    match value(args) {
        Value::Unknown(_) => Ok(Value::Unknown(Type::String)),
        v @ (Value::Null | Value::String(_) | Value::Number(_) | Value::Bool(_)) => v
            .convert(&Type::String)
            .map_err(|e| FnError::arg(0, e.to_string())),
        other => Err(FnError::arg(
            0,
            format!("cannot convert {} to string", kind(other)),
        )),
    }
}

/// The elements of a list, tuple or set converted to their unified type.
fn unified_elements(v: &Value, target: &str) -> Result<Vec<Value>, FnError> {
    let Some(items) = v.as_seq() else {
        return Err(FnError::arg(
            0,
            format!("cannot convert {} to {target}", kind(v)),
        ));
    };
    let ty = unify_values(items).ok_or_else(|| {
        FnError::arg(
            0,
            format!("cannot convert {} to {target} of any single type", kind(v)),
        )
    })?;
    convert_all(items, &ty).map_err(|e| FnError::arg(0, e))
}

fn tolist(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    match value(args) {
        Value::Unknown(_) => Ok(Value::Unknown(Type::list(Type::Any))),
        Value::Null => Ok(Value::Null),
        v => unified_elements(v, "list").map(Value::List),
    }
}

fn toset(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    match value(args) {
        Value::Unknown(_) => Ok(Value::Unknown(Type::set(Type::Any))),
        Value::Null => Ok(Value::Null),
        v => unified_elements(v, "set").map(Value::set),
    }
}

fn tomap(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    match value(args) {
        Value::Unknown(_) => Ok(Value::Unknown(Type::map(Type::Any))),
        Value::Null => Ok(Value::Null),
        Value::Map(map) => {
            let values: Vec<Value> = map.values().cloned().collect();
            let ty = unify_values(&values).ok_or_else(|| {
                FnError::arg(0, "cannot convert object to map of any single type")
            })?;
            let converted = convert_all(&values, &ty).map_err(|e| FnError::arg(0, e))?;
            Ok(Value::Map(map.keys().cloned().zip(converted).collect()))
        }
        other => Err(FnError::arg(
            0,
            format!("cannot convert {} to map", kind(other)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{error_message, n, run, s, strs};
    use super::*;

    #[test]
    fn tobool_accepts_bools_and_their_strings() {
        assert_eq!(run("tobool", vec![true.into()]), Ok(true.into()));
        assert_eq!(run("tobool", vec![s("true")]), Ok(true.into()));
        assert_eq!(run("tobool", vec![s("false")]), Ok(false.into()));
        assert_eq!(run("tobool", vec![Value::Null]), Ok(Value::Null));
        assert_eq!(
            run("tobool", vec![s("no")]),
            Err(FnError::arg(
                0,
                "cannot convert \"no\" to bool; only the strings \"true\" or \"false\" are allowed"
            ))
        );
        assert_eq!(
            error_message(run("tobool", vec![n(1.0)])),
            "cannot convert number to bool"
        );
    }

    #[test]
    fn tonumber_parses_decimal_strings() {
        assert_eq!(run("tonumber", vec![n(1.0)]), Ok(n(1.0)));
        assert_eq!(run("tonumber", vec![s("1")]), Ok(n(1.0)));
        assert_eq!(run("tonumber", vec![s("-2.5e3")]), Ok(n(-2500.0)));
        assert_eq!(run("tonumber", vec![Value::Null]), Ok(Value::Null));
        assert_eq!(
            error_message(run("tonumber", vec![s("no")])),
            "cannot convert \"no\" to number; given string must be a decimal representation of a number"
        );
        assert!(run("tonumber", vec![s("abc")]).is_err());
        assert!(run("tonumber", vec![s(" 1")]).is_err());
        assert_eq!(
            error_message(run("tonumber", vec![true.into()])),
            "cannot convert bool to number"
        );
    }

    #[test]
    fn tostring_of_primitives_only() {
        assert_eq!(run("tostring", vec![s("hello")]), Ok(s("hello")));
        assert_eq!(run("tostring", vec![n(1.0)]), Ok(s("1")));
        assert_eq!(run("tostring", vec![n(1.25)]), Ok(s("1.25")));
        assert_eq!(run("tostring", vec![true.into()]), Ok(s("true")));
        assert_eq!(run("tostring", vec![Value::Null]), Ok(Value::Null));
        assert_eq!(
            error_message(run("tostring", vec![strs(&[])])),
            "cannot convert tuple to string"
        );
        assert_eq!(
            error_message(run("tostring", vec![Value::map([("a", n(1.0))])])),
            "cannot convert object to string"
        );
    }

    #[test]
    fn tolist_unifies_elements() {
        assert_eq!(
            run("tolist", vec![strs(&["a", "b", "c"])]),
            Ok(strs(&["a", "b", "c"]))
        );
        let mixed = Value::List(vec![s("a"), s("b"), n(3.0)]);
        assert_eq!(run("tolist", vec![mixed]), Ok(strs(&["a", "b", "3"])));
        assert_eq!(
            run("tolist", vec![Value::set(vec![s("b"), s("a")])]),
            Ok(strs(&["a", "b"]))
        );
        assert_eq!(run("tolist", vec![Value::Null]), Ok(Value::Null));
        let incompatible = Value::List(vec![Value::map([("a", n(1.0))]), s("x")]);
        assert_eq!(
            error_message(run("tolist", vec![incompatible])),
            "cannot convert tuple to list of any single type"
        );
        assert_eq!(
            error_message(run("tolist", vec![Value::List(vec![n(1.0), true.into()])])),
            "cannot convert tuple to list of any single type"
        );
        assert_eq!(
            error_message(run("tolist", vec![s("a")])),
            "cannot convert string to list"
        );
        assert_eq!(
            error_message(run("tolist", vec![Value::map([("a", n(1.0))])])),
            "cannot convert object to list"
        );
    }

    #[test]
    fn toset_sorts_and_dedups() {
        let mixed = Value::List(vec![s("a"), s("b"), n(3.0)]);
        assert_eq!(
            run("toset", vec![mixed]),
            Ok(Value::set(vec![s("3"), s("a"), s("b")]))
        );
        assert_eq!(
            run("toset", vec![strs(&["c", "b", "b"])]),
            Ok(Value::Set(vec![s("b"), s("c")]))
        );
        assert_eq!(run("toset", vec![Value::Null]), Ok(Value::Null));
        assert!(run("toset", vec![n(1.0)]).is_err());
    }

    #[test]
    fn tomap_unifies_values() {
        let ints = Value::map([("a", n(1.0)), ("b", n(2.0))]);
        assert_eq!(run("tomap", vec![ints.clone()]), Ok(ints));
        let mixed = Value::map([("a", s("foo")), ("b", true.into())]);
        assert_eq!(
            run("tomap", vec![mixed]),
            Ok(Value::map([("a", s("foo")), ("b", s("true"))]))
        );
        let bad = Value::map([("a", strs(&["x"])), ("b", s("y"))]);
        assert_eq!(
            error_message(run("tomap", vec![bad])),
            "cannot convert object to map of any single type"
        );
        assert_eq!(
            error_message(run("tomap", vec![strs(&[])])),
            "cannot convert tuple to map"
        );
        assert_eq!(run("tomap", vec![Value::Null]), Ok(Value::Null));
    }

    #[test]
    fn unknowns_take_the_target_type() {
        assert_eq!(
            run("tobool", vec![Value::unknown()]).map(|v| v.type_of()),
            Ok(Type::Bool)
        );
        assert_eq!(
            run("tonumber", vec![Value::unknown()]).map(|v| v.type_of()),
            Ok(Type::Number)
        );
        assert_eq!(
            run("tostring", vec![Value::unknown()]).map(|v| v.type_of()),
            Ok(Type::String)
        );
        assert_eq!(
            run("tolist", vec![Value::unknown()]).map(|v| v.type_of()),
            Ok(Type::list(Type::Any))
        );
        assert_eq!(
            run("toset", vec![Value::unknown()]).map(|v| v.type_of()),
            Ok(Type::set(Type::Any))
        );
        assert_eq!(
            run("tomap", vec![Value::unknown()]).map(|v| v.type_of()),
            Ok(Type::map(Type::Any))
        );
        // Partly unknown collections convert around their unknown elements.
        let partly = Value::List(vec![n(1.0), s("x"), Value::unknown()]);
        let converted = run("tolist", vec![partly]).unwrap_or_default();
        let items = converted
            .as_seq()
            .map(<[Value]>::to_vec)
            .unwrap_or_default();
        assert_eq!(items[..2], [s("1"), s("x")]);
        assert_eq!(items[2].type_of(), Type::String);
    }
}

//! Set functions: `setintersection`, `setproduct`, `setsubtract` and `setunion`. Lists and
//! tuples are accepted as sets; elements are converted to their common type first, so
//! `setunion(["a"], [1])` is the set of strings `["1", "a"]`. Results are sets (sorted and
//! de-duplicated), except that `setproduct` of lists only is a list.

use super::args::{convert_all, fixed, kind, present, unify, unify_values, variadic};
use super::{FnContext, FnError, FunctionDef};
use gantry_provider::{Type, Value};

pub(super) fn functions() -> Vec<FunctionDef> {
    vec![
        variadic(
            "setintersection",
            "setintersection(sets...)",
            1,
            setintersection,
        ),
        variadic("setproduct", "setproduct(sets...)", 2, setproduct),
        fixed("setsubtract", "setsubtract(a, b)", 2, setsubtract),
        variadic("setunion", "setunion(sets...)", 1, setunion),
    ]
}

/// The elements of every argument, converted to one common element type.
fn unified_sets(args: &[Value]) -> Result<Vec<Vec<Value>>, FnError> {
    let mut sets = Vec::with_capacity(args.len());
    for i in 0..args.len() {
        let value = present(args, i)?;
        let items = value
            .as_seq()
            .ok_or_else(|| FnError::arg(i, format!("set required, got {}", kind(value))))?;
        sets.push(items);
    }
    let types: Vec<Type> = sets
        .iter()
        .filter_map(|items| unify_values(items))
        .collect();
    let ty = (types.len() == sets.len())
        .then(|| unify(&types))
        .flatten()
        .ok_or_else(|| FnError::call("given sets must all have compatible element types"))?;
    sets.into_iter()
        .map(|items| convert_all(items, &ty).map_err(FnError::call))
        .collect()
}

fn setunion(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    Ok(Value::set(
        unified_sets(args)?.into_iter().flatten().collect(),
    ))
}

fn setintersection(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let mut sets = unified_sets(args)?.into_iter();
    let first = sets.next().unwrap_or_default();
    let others: Vec<Vec<Value>> = sets.collect();
    Ok(Value::set(
        first
            .into_iter()
            .filter(|item| others.iter().all(|set| set.contains(item)))
            .collect(),
    ))
}

fn setsubtract(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let mut sets = unified_sets(args)?.into_iter();
    let (a, b) = (
        sets.next().unwrap_or_default(),
        sets.next().unwrap_or_default(),
    );
    Ok(Value::set(
        a.into_iter().filter(|item| !b.contains(item)).collect(),
    ))
}

/// `setproduct(sets...)`: every combination, the first argument varying slowest.
fn setproduct(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let mut factors = Vec::with_capacity(args.len());
    let mut all_lists = true;
    for i in 0..args.len() {
        let value = present(args, i)?;
        let items = match value {
            Value::List(items) => items,
            Value::Set(items) => {
                all_lists = false;
                items
            }
            other => {
                return Err(FnError::arg(
                    i,
                    format!("a set or a list is required, got {}", kind(other)),
                ))
            }
        };
        let ty = unify_values(items)
            .ok_or_else(|| FnError::arg(i, "all elements must be of the same type"))?;
        factors.push(convert_all(items, &ty).map_err(|e| FnError::arg(i, e))?);
    }
    let mut product: Vec<Vec<Value>> = vec![Vec::new()];
    for factor in &factors {
        product = product
            .into_iter()
            .flat_map(|prefix| {
                factor.iter().map(move |item| {
                    let mut combination = prefix.clone();
                    combination.push(item.clone());
                    combination
                })
            })
            .collect();
    }
    let tuples: Vec<Value> = product.into_iter().map(Value::List).collect();
    Ok(if all_lists {
        Value::List(tuples)
    } else {
        Value::set(tuples)
    })
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{error_message, n, run, s, strs};
    use super::*;

    fn set(items: &[&str]) -> Value {
        Value::set(items.iter().map(|i| s(i)).collect())
    }

    #[test]
    fn setunion_and_intersection() {
        assert_eq!(
            run(
                "setunion",
                vec![strs(&["a", "b"]), strs(&["b", "c"]), strs(&["d"])]
            ),
            Ok(set(&["a", "b", "c", "d"]))
        );
        assert_eq!(
            run(
                "setintersection",
                vec![strs(&["a", "b"]), strs(&["b", "c"]), strs(&["b", "d"])]
            ),
            Ok(set(&["b"]))
        );
        assert_eq!(
            run("setintersection", vec![strs(&["a"]), strs(&["b"])]),
            Ok(set(&[]))
        );
        assert_eq!(
            run("setunion", vec![strs(&["a"]), Value::List(vec![n(1.0)])]),
            Ok(set(&["1", "a"]))
        );
        assert_eq!(
            run("setunion", vec![strs(&["b", "a", "b"])]),
            Ok(set(&["a", "b"]))
        );
        assert_eq!(
            run("setintersection", vec![set(&["x", "y"])]),
            Ok(set(&["x", "y"]))
        );
        assert_eq!(
            run(
                "setintersection",
                vec![Value::List(vec![n(1.0), n(2.0)]), strs(&["2"])]
            ),
            Ok(set(&["2"]))
        );
    }

    #[test]
    fn setsubtract_removes_elements() {
        assert_eq!(
            run(
                "setsubtract",
                vec![strs(&["a", "b", "c"]), strs(&["a", "c"])]
            ),
            Ok(set(&["b"]))
        );
        assert_eq!(
            run("setsubtract", vec![strs(&["a"]), strs(&[])]),
            Ok(set(&["a"]))
        );
        assert_eq!(
            error_message(run("setsubtract", vec![strs(&["a"])])),
            "arity: expected 2, got 1"
        );
        assert_eq!(
            run(
                "setsubtract",
                vec![strs(&["a"]), strs(&["b"]), strs(&["c"])]
            ),
            Err(FnError::Arity {
                expected: "2".into(),
                got: 3
            })
        );
    }

    #[test]
    fn set_errors() {
        assert_eq!(
            error_message(run("setunion", vec![s("a")])),
            "set required, got string"
        );
        let objects = Value::List(vec![Value::map([("a", n(1.0))])]);
        assert_eq!(
            error_message(run("setunion", vec![strs(&["a"]), objects])),
            "given sets must all have compatible element types"
        );
        assert_eq!(
            error_message(run("setunion", vec![Value::Null])),
            "argument must not be null"
        );
    }

    #[test]
    fn setproduct_combinations() {
        assert_eq!(
            run(
                "setproduct",
                vec![
                    strs(&["development", "staging", "production"]),
                    strs(&["app1", "app2"])
                ]
            ),
            Ok(Value::List(vec![
                strs(&["development", "app1"]),
                strs(&["development", "app2"]),
                strs(&["staging", "app1"]),
                strs(&["staging", "app2"]),
                strs(&["production", "app1"]),
                strs(&["production", "app2"]),
            ]))
        );
        assert_eq!(
            run("setproduct", vec![strs(&["foo"]), strs(&["bar"])]),
            Ok(Value::List(vec![strs(&["foo", "bar"])]))
        );
        assert_eq!(
            run("setproduct", vec![strs(&[]), strs(&[])]),
            Ok(Value::List(vec![]))
        );
        assert_eq!(
            run("setproduct", vec![strs(&[]), strs(&["foo"])]),
            Ok(Value::List(vec![]))
        );
        let with_set = run("setproduct", vec![set(&["b", "a"]), strs(&["x"])]);
        assert_eq!(
            with_set,
            Ok(Value::set(vec![strs(&["a", "x"]), strs(&["b", "x"])]))
        );
        let three = run(
            "setproduct",
            vec![strs(&["a"]), strs(&["b", "c"]), Value::List(vec![n(1.0)])],
        );
        assert_eq!(
            three,
            Ok(Value::List(vec![
                Value::List(vec![s("a"), s("b"), n(1.0)]),
                Value::List(vec![s("a"), s("c"), n(1.0)])
            ]))
        );
    }

    #[test]
    fn setproduct_errors() {
        assert_eq!(
            error_message(run("setproduct", vec![strs(&["a"])])),
            "arity: expected at least 2, got 1"
        );
        assert_eq!(
            run("setproduct", vec![strs(&["a"]), s("b")]),
            Err(FnError::arg(1, "a set or a list is required, got string"))
        );
        let mixed = Value::List(vec![strs(&["x"]), s("y")]);
        assert_eq!(
            run("setproduct", vec![strs(&["a"]), mixed]),
            Err(FnError::arg(1, "all elements must be of the same type"))
        );
    }
}

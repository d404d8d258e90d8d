//! Collection functions over lists, tuples, sets, maps and objects: `alltrue`, `anytrue`,
//! `chunklist`, `coalesce`, `coalescelist`, `compact`, `concat`, `contains`, `distinct`,
//! `element`, `flatten`, `index`, `keys`, `length`, `lookup`, `merge`, `one`, `range`,
//! `reverse`, `slice`, `sort`, `sum`, `transpose`, `values` and `zipmap`. The set
//! functions (`setintersection`, `setproduct`, `setsubtract`, `setunion`) are in `sets.rs`.
//!
//! Maps iterate in key order, as Terraform's do; where Terraform converts a tuple to a
//! list it first unifies the element types (`distinct([1, "1"])` is `["1"]`).

use super::args::{
    between, fixed, homogeneous, integer, kind, mapping, number, present, sequence, string,
    string_elements, unify_values, variadic,
};
use super::text::{grapheme_count, quote};
use super::{FnContext, FnError, FunctionDef};
use gantry_provider::{Type, Value};
use std::collections::BTreeMap;

pub(super) fn functions() -> Vec<FunctionDef> {
    vec![
        fixed("alltrue", "alltrue(list)", 1, alltrue),
        fixed("anytrue", "anytrue(list)", 1, anytrue),
        fixed("chunklist", "chunklist(list, chunk_size)", 2, chunklist),
        variadic("coalesce", "coalesce(values...)", 1, coalesce),
        variadic("coalescelist", "coalescelist(lists...)", 1, coalescelist),
        fixed("compact", "compact(list)", 1, compact),
        variadic("concat", "concat(lists...)", 1, concat),
        fixed("contains", "contains(list, value)", 2, contains),
        fixed("distinct", "distinct(list)", 1, distinct),
        fixed("element", "element(list, index)", 2, element),
        fixed("flatten", "flatten(list)", 1, flatten),
        fixed("index", "index(list, value)", 2, index),
        fixed("keys", "keys(map)", 1, keys),
        fixed("length", "length(value)", 1, length).handling_unknown(),
        between("lookup", "lookup(map, key, default)", 2, 3, lookup),
        variadic("merge", "merge(maps...)", 0, merge),
        fixed("one", "one(list)", 1, one),
        between("range", "range(start, limit, step)", 1, 3, range),
        fixed("reverse", "reverse(list)", 1, reverse),
        fixed("slice", "slice(list, start_index, end_index)", 3, slice),
        fixed("sort", "sort(list)", 1, sort),
        fixed("sum", "sum(list)", 1, sum),
        fixed("transpose", "transpose(map)", 1, transpose),
        fixed("values", "values(map)", 1, values),
        fixed("zipmap", "zipmap(keys, values)", 2, zipmap),
    ]
}

/// The elements of a list, tuple or set argument, each converted to bool.
fn bools(args: &[Value]) -> Result<Vec<Option<bool>>, FnError> {
    sequence(args, 0)?
        .iter()
        .enumerate()
        .map(|(i, item)| match item.convert(&Type::Bool) {
            Ok(Value::Bool(b)) => Ok(Some(b)),
            Ok(_) => Ok(None),
            Err(e) => Err(FnError::arg(0, format!("element {i}: {e}"))),
        })
        .collect()
}

/// `alltrue(list)`: true when every element is true (a null element is not true).
fn alltrue(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    Ok(bools(args)?.iter().all(|b| *b == Some(true)).into())
}

/// `anytrue(list)`: true when any element is true (nulls are skipped).
fn anytrue(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    Ok(bools(args)?.contains(&Some(true)).into())
}

/// A list argument whose elements are converted to one type, as a `list(any)` parameter.
fn list_any(args: &[Value], index: usize) -> Result<Vec<Value>, FnError> {
    homogeneous(sequence(args, index)?).map_err(|e| FnError::arg(index, e))
}

fn chunklist(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let items = list_any(args, 0)?;
    let size = integer(args, 1)?;
    if size < 0 {
        return Err(FnError::arg(1, "the size argument must be positive"));
    }
    if items.is_empty() {
        return Ok(Value::List(Vec::new()));
    }
    if size == 0 {
        return Ok(Value::List(vec![Value::List(items)]));
    }
    let size = usize::try_from(size).unwrap_or(usize::MAX);
    Ok(Value::List(
        items
            .chunks(size)
            .map(|chunk| Value::List(chunk.to_vec()))
            .collect(),
    ))
}

/// `coalesce(values...)`: the first argument that is neither null nor an empty string,
/// after converting all of them to their common type.
fn coalesce(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let ty =
        unify_values(args).ok_or_else(|| FnError::call("all arguments must have the same type"))?;
    for arg in args {
        let value = arg.convert(&ty).map_err(|e| FnError::call(e.to_string()))?;
        match &value {
            Value::Null => {}
            Value::String(s) if s.is_empty() => {}
            _ => return Ok(value),
        }
    }
    Err(FnError::call("no non-null, non-empty-string arguments"))
}

/// `coalescelist(lists...)`: the first non-empty list.
fn coalescelist(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    for (i, arg) in args.iter().enumerate() {
        match arg {
            Value::Null => {}
            Value::List(items) if items.is_empty() => {}
            Value::List(_) => return Ok(arg.clone()),
            _ => {
                return Err(FnError::arg(
                    i,
                    "coalescelist arguments must be lists or tuples",
                ))
            }
        }
    }
    Err(FnError::call("no non-null arguments"))
}

/// `compact(list)`: the list of strings without nulls and empty strings.
fn compact(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let items = string_elements(args, 0)?;
    Ok(Value::List(
        items
            .into_iter()
            .flatten()
            .filter(|s| !s.is_empty())
            .map(Value::String)
            .collect(),
    ))
}

fn concat(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let mut out = Vec::new();
    for i in 0..args.len() {
        match present(args, i)? {
            Value::List(items) => out.extend(items.iter().cloned()),
            other => {
                return Err(FnError::arg(
                    i,
                    format!("all arguments must be lists or tuples; got {}", kind(other)),
                ))
            }
        }
    }
    Ok(Value::List(out))
}

fn contains(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let list = present(args, 0)?;
    let items = list
        .as_seq()
        .ok_or_else(|| FnError::arg(0, "argument must be list, tuple, or set"))?;
    let needle = args.get(1).unwrap_or(&Value::Null);
    Ok(items.iter().any(|item| item == needle).into())
}

/// `distinct(list)`: the list without duplicates, keeping first occurrences.
fn distinct(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let mut out: Vec<Value> = Vec::new();
    for item in list_any(args, 0)? {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    Ok(Value::List(out))
}

/// `element(list, index)`: indexes wrap around the list's length.
fn element(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let list = present(args, 0)?;
    let Value::List(items) = list else {
        return Err(FnError::arg(
            0,
            format!("cannot read elements from {}", kind(list)),
        ));
    };
    let index = integer(args, 1)
        .map_err(|_| FnError::arg(1, "invalid index: value must be a whole number"))?;
    if index < 0 {
        return Err(FnError::arg(
            1,
            "cannot use element function with a negative index",
        ));
    }
    if items.is_empty() {
        return Err(FnError::arg(
            0,
            "cannot use element function with an empty list",
        ));
    }
    let index = usize::try_from(index).unwrap_or(usize::MAX) % items.len();
    Ok(items[index].clone())
}

/// `flatten(list)`: nested lists, tuples and sets spliced in, recursively.
fn flatten(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    fn splice(items: &[Value], out: &mut Vec<Value>) {
        for item in items {
            match item {
                Value::List(inner) | Value::Set(inner) => splice(inner, out),
                other => out.push(other.clone()),
            }
        }
    }
    let items = sequence(args, 0)
        .map_err(|_| FnError::arg(0, "can only flatten lists, sets and tuples"))?;
    let mut out = Vec::new();
    splice(items, &mut out);
    Ok(Value::List(out))
}

/// `index(list, value)`: the position of the first element equal to `value`.
fn index(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let Value::List(items) = present(args, 0)? else {
        return Err(FnError::arg(0, "argument must be a list or tuple"));
    };
    if items.is_empty() {
        return Err(FnError::arg(0, "cannot search an empty list"));
    }
    let needle = args.get(1).unwrap_or(&Value::Null);
    items
        .iter()
        .position(|item| item == needle)
        .map(Value::from)
        .ok_or_else(|| FnError::call("item not found"))
}

fn keys(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let map = mapping(args, 0).map_err(|_| FnError::arg(0, "must have map or object type"))?;
    Ok(Value::List(
        map.keys().map(|k| Value::from(k.as_str())).collect(),
    ))
}

fn values(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let map = mapping(args, 0)
        .map_err(|_| FnError::arg(0, "values() requires a map as the first argument"))?;
    Ok(Value::List(map.values().cloned().collect()))
}

/// `length(value)`: characters of a string, elements of a collection. The length of a
/// collection is known even when some of its elements are not.
fn length(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    match present(args, 0)? {
        Value::Unknown(_) => Ok(Value::Unknown(Type::Number)),
        Value::String(s) => Ok(grapheme_count(s).into()),
        // Unknown set elements may turn out equal to others and merge.
        Value::Set(items) if !items.iter().all(Value::is_wholly_known) => {
            Ok(Value::Unknown(Type::Number))
        }
        Value::List(items) | Value::Set(items) => Ok(items.len().into()),
        Value::Map(map) => Ok(map.len().into()),
        _ => Err(FnError::arg(
            0,
            "argument must be a string, a collection type, or a structural type",
        )),
    }
}

/// `lookup(map, key, default)`: the element at `key`, else `default`; without a default a
/// missing key is an error.
fn lookup(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let map = mapping(args, 0)
        .map_err(|_| FnError::arg(0, "lookup() requires a map as the first argument"))?;
    let key = string(args, 1)?;
    if let Some(found) = map.get(&key) {
        return Ok(found.clone());
    }
    match args.get(2) {
        Some(default) => Ok(default.clone()),
        None => Err(FnError::arg(
            1,
            format!("lookup failed to find key {}", quote(&key)),
        )),
    }
}

/// `merge(maps...)`: later arguments win; null arguments are skipped.
fn merge(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let mut out = BTreeMap::new();
    let mut all_null = !args.is_empty();
    for (i, arg) in args.iter().enumerate() {
        match arg {
            Value::Null => {}
            Value::Map(map) => {
                all_null = false;
                out.extend(map.iter().map(|(k, v)| (k.clone(), v.clone())));
            }
            other => {
                return Err(FnError::arg(
                    i,
                    format!(
                        "arguments must be maps or objects, got {}",
                        quote(kind(other))
                    ),
                ))
            }
        }
    }
    Ok(if all_null {
        Value::Null
    } else {
        Value::Map(out)
    })
}

/// `one(list)`: null for an empty collection, the element of a one-element collection.
fn one(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let invalid = || {
        FnError::arg(
            0,
            "must be a list, set, or tuple value with either zero or one elements",
        )
    };
    match present(args, 0)?.as_seq().ok_or_else(invalid)? {
        [] => Ok(Value::Null),
        [only] => Ok(only.clone()),
        _ => Err(invalid()),
    }
}

/// `range(limit)`, `range(start, limit)`, `range(start, limit, step)`.
fn range(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    const LIMIT: usize = 1024;
    let (start, end, step) = match args.len() {
        1 => {
            let end = number(args, 0)?;
            (0.0, end, if end < 0.0 { -1.0 } else { 1.0 })
        }
        2 => {
            let (start, end) = (number(args, 0)?, number(args, 1)?);
            (start, end, if end < start { -1.0 } else { 1.0 })
        }
        _ => (number(args, 0)?, number(args, 1)?, number(args, 2)?),
    };
    if step == 0.0 {
        return Err(FnError::arg(2, "step must not be zero"));
    }
    let down = step < 0.0;
    if down && end > start {
        return Err(FnError::arg(
            1,
            "end must be less than start when step is negative",
        ));
    }
    if !down && end < start {
        return Err(FnError::arg(
            1,
            "end must be greater than start when step is positive",
        ));
    }
    // Fractional steps accumulate binary rounding errors (0.1 * 3); Terraform computes with
    // arbitrary precision, so round each value to 15 significant digits.
    let fractional = start.fract() != 0.0 || step.fract() != 0.0;
    let mut out = Vec::new();
    let mut i = 0.0;
    loop {
        let mut value = start + i * step;
        if fractional {
            value = format!("{value:.14e}").parse().unwrap_or(value);
        }
        if (down && value <= end) || (!down && value >= end) {
            break;
        }
        if out.len() >= LIMIT {
            return Err(FnError::call(
                "more than 1024 values were generated; either decrease the difference between \
                 start and end or use a smaller step",
            ));
        }
        out.push(Value::Number(value));
        i += 1.0;
    }
    Ok(Value::List(out))
}

fn reverse(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let list = present(args, 0)?;
    let items = list.as_seq().ok_or_else(|| {
        FnError::arg(
            0,
            format!("can only reverse list or tuple values, not {}", kind(list)),
        )
    })?;
    Ok(Value::List(items.iter().rev().cloned().collect()))
}

fn slice(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let items = match present(args, 0)? {
        Value::List(items) => items,
        Value::Set(_) => {
            return Err(FnError::arg(
                0,
                "cannot slice a set, because its elements do not have indices; explicitly \
                 convert to a list if the ordering of the result is not important",
            ))
        }
        _ => return Err(FnError::arg(0, "must be a list or tuple value")),
    };
    let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
    let start = integer(args, 1)
        .map_err(|e| FnError::arg(1, format!("invalid start index: {}", message(e))))?;
    let end = integer(args, 2)
        .map_err(|e| FnError::arg(2, format!("invalid end index: {}", message(e))))?;
    if start < 0 {
        return Err(FnError::arg(1, "start index must not be less than zero"));
    }
    if start > len {
        return Err(FnError::arg(
            1,
            "start index must not be greater than the length of the list",
        ));
    }
    if end < 0 {
        return Err(FnError::arg(2, "end index must not be less than zero"));
    }
    if end > len {
        return Err(FnError::arg(
            2,
            "end index must not be greater than the length of the list",
        ));
    }
    if start > end {
        return Err(FnError::arg(
            1,
            "start index must not be greater than end index",
        ));
    }
    let (start, end) = (
        usize::try_from(start).unwrap_or(0),
        usize::try_from(end).unwrap_or(0),
    );
    Ok(Value::List(items[start..end].to_vec()))
}

fn message(e: FnError) -> String {
    match e {
        FnError::Arg { message, .. } | FnError::Call(message) => message,
        FnError::Arity { expected, got } => format!("expected {expected} arguments, got {got}"),
    }
}

/// `sort(list)`: the elements as strings, in lexical order (so `10` sorts before `9`).
fn sort(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let mut items = Vec::new();
    for (i, item) in string_elements(args, 0)?.into_iter().enumerate() {
        let item = item.ok_or_else(|| {
            FnError::arg(
                0,
                format!("given list element {i} is null; a null string cannot be sorted"),
            )
        })?;
        items.push(item);
    }
    items.sort();
    Ok(Value::List(items.into_iter().map(Value::String).collect()))
}

fn sum(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let list = present(args, 0)?;
    let items = list.as_seq().ok_or_else(|| {
        FnError::arg(
            0,
            format!(
                "argument must be list, set, or tuple. Received {}",
                kind(list)
            ),
        )
    })?;
    if items.is_empty() {
        return Err(FnError::arg(0, "cannot sum an empty list"));
    }
    let mut total = 0.0;
    for item in items {
        let Ok(Value::Number(n)) = item.convert(&Type::Number) else {
            return Err(FnError::arg(
                0,
                "argument must be list, set, or tuple of number values",
            ));
        };
        total += n;
    }
    if total.is_nan() {
        return Err(FnError::call("can't compute sum of opposing infinities"));
    }
    Ok(Value::Number(total))
}

/// `transpose(map)`: a map of lists of strings, keys and values swapped.
fn transpose(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let map = mapping(args, 0)?;
    let invalid = || FnError::arg(0, "input must be a map of lists of strings");
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (key, list) in map {
        for item in list.as_seq().ok_or_else(invalid)? {
            let Ok(Value::String(item)) = item.convert(&Type::String) else {
                return Err(invalid());
            };
            out.entry(item).or_default().push(key.clone());
        }
    }
    Ok(Value::Map(
        out.into_iter()
            .map(|(k, mut keys)| {
                keys.sort();
                (
                    k,
                    Value::List(keys.into_iter().map(Value::String).collect()),
                )
            })
            .collect(),
    ))
}

/// `zipmap(keys, values)`: a map from corresponding elements.
fn zipmap(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let keys = string_elements(args, 0)?;
    let Value::List(values) = present(args, 1)? else {
        return Err(FnError::arg(1, "values must be a list or tuple"));
    };
    if keys.len() != values.len() {
        return Err(FnError::call(format!(
            "number of keys ({}) does not match number of values ({})",
            keys.len(),
            values.len()
        )));
    }
    let mut out = BTreeMap::new();
    for (i, (key, value)) in keys.into_iter().zip(values).enumerate() {
        let key =
            key.ok_or_else(|| FnError::arg(0, format!("keys list has null value at index {i}")))?;
        out.insert(key, value.clone());
    }
    Ok(Value::Map(out))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{error_message, n, nums, run, s, strs};
    use super::*;

    #[test]
    fn alltrue_and_anytrue() {
        assert_eq!(
            run("alltrue", vec![Value::List(vec![s("true"), true.into()])]),
            Ok(true.into())
        );
        assert_eq!(
            run(
                "alltrue",
                vec![Value::List(vec![true.into(), false.into()])]
            ),
            Ok(false.into())
        );
        assert_eq!(run("alltrue", vec![Value::List(vec![])]), Ok(true.into()));
        assert_eq!(
            run("alltrue", vec![Value::List(vec![true.into(), Value::Null])]),
            Ok(false.into())
        );
        assert_eq!(run("anytrue", vec![strs(&["true"])]), Ok(true.into()));
        assert_eq!(
            run(
                "anytrue",
                vec![Value::List(vec![true.into(), false.into()])]
            ),
            Ok(true.into())
        );
        assert_eq!(run("anytrue", vec![Value::List(vec![])]), Ok(false.into()));
        assert_eq!(
            run(
                "anytrue",
                vec![Value::List(vec![Value::Null, false.into()])]
            ),
            Ok(false.into())
        );
        assert!(run("alltrue", vec![strs(&["yes"])]).is_err());
        assert!(run("anytrue", vec![s("true")]).is_err());
    }

    #[test]
    fn chunklist_splits() {
        let letters = strs(&["a", "b", "c", "d", "e"]);
        assert_eq!(
            run("chunklist", vec![letters.clone(), n(2.0)]),
            Ok(Value::List(vec![
                strs(&["a", "b"]),
                strs(&["c", "d"]),
                strs(&["e"])
            ]))
        );
        assert_eq!(
            run("chunklist", vec![letters.clone(), n(1.0)]),
            Ok(Value::List(vec![
                strs(&["a"]),
                strs(&["b"]),
                strs(&["c"]),
                strs(&["d"]),
                strs(&["e"])
            ]))
        );
        assert_eq!(
            run("chunklist", vec![letters.clone(), n(0.0)]),
            Ok(Value::List(vec![letters.clone()]))
        );
        assert_eq!(
            run("chunklist", vec![strs(&[]), n(3.0)]),
            Ok(Value::List(vec![]))
        );
        assert_eq!(
            run("chunklist", vec![letters, n(-1.0)]),
            Err(FnError::arg(1, "the size argument must be positive"))
        );
    }

    #[test]
    fn coalesce_skips_null_and_empty() {
        assert_eq!(run("coalesce", vec![s("a"), s("b")]), Ok(s("a")));
        assert_eq!(run("coalesce", vec![s(""), s("b")]), Ok(s("b")));
        assert_eq!(run("coalesce", vec![n(1.0), n(2.0)]), Ok(n(1.0)));
        assert_eq!(run("coalesce", vec![Value::Null, n(2.0)]), Ok(n(2.0)));
        assert_eq!(
            run("coalesce", vec![Value::Null, s(""), n(3.0)]),
            Ok(s("3"))
        );
        assert_eq!(
            run("coalesce", vec![Value::Null, s("")]),
            Err(FnError::call("no non-null, non-empty-string arguments"))
        );
        assert_eq!(
            run("coalesce", vec![s("a"), strs(&["b"])]),
            Err(FnError::call("all arguments must have the same type"))
        );
    }

    #[test]
    fn coalescelist_picks_first_non_empty() {
        let ab = strs(&["a", "b"]);
        assert_eq!(
            run("coalescelist", vec![ab.clone(), strs(&["c", "d"])]),
            Ok(ab)
        );
        assert_eq!(
            run("coalescelist", vec![strs(&[]), strs(&["c", "d"])]),
            Ok(strs(&["c", "d"]))
        );
        assert_eq!(
            run("coalescelist", vec![Value::Null, strs(&["x"])]),
            Ok(strs(&["x"]))
        );
        assert_eq!(
            run("coalescelist", vec![strs(&[]), strs(&[])]),
            Err(FnError::call("no non-null arguments"))
        );
        assert_eq!(
            run("coalescelist", vec![strs(&[]), s("x")]),
            Err(FnError::arg(
                1,
                "coalescelist arguments must be lists or tuples"
            ))
        );
    }

    #[test]
    fn compact_removes_null_and_empty() {
        let list = Value::List(vec![s("a"), s(""), s("b"), Value::Null, s("c")]);
        assert_eq!(run("compact", vec![list]), Ok(strs(&["a", "b", "c"])));
        assert_eq!(
            run("compact", vec![Value::List(vec![n(1.0), s("")])]),
            Ok(strs(&["1"]))
        );
        assert_eq!(run("compact", vec![strs(&[])]), Ok(strs(&[])));
        assert!(run("compact", vec![Value::List(vec![strs(&["x"])])]).is_err());
    }

    #[test]
    fn concat_joins_sequences() {
        assert_eq!(
            run("concat", vec![strs(&["a", ""]), strs(&["b", "c"])]),
            Ok(strs(&["a", "", "b", "c"]))
        );
        assert_eq!(run("concat", vec![strs(&["a"])]), Ok(strs(&["a"])));
        assert_eq!(
            run("concat", vec![strs(&["a"]), nums(&[1.0])]),
            Ok(Value::List(vec![s("a"), n(1.0)]))
        );
        assert_eq!(
            run("concat", vec![strs(&["a"]), Value::set(vec![s("b")])]),
            Err(FnError::arg(
                1,
                "all arguments must be lists or tuples; got set"
            ))
        );
        assert_eq!(
            error_message(run("concat", vec![Value::Null])),
            "argument must not be null"
        );
    }

    #[test]
    fn contains_compares_values() {
        assert_eq!(
            run("contains", vec![strs(&["a", "b", "c"]), s("a")]),
            Ok(true.into())
        );
        assert_eq!(
            run("contains", vec![strs(&["a", "b", "c"]), s("d")]),
            Ok(false.into())
        );
        assert_eq!(
            run("contains", vec![nums(&[1.0, 2.0]), n(2.0)]),
            Ok(true.into())
        );
        assert_eq!(
            run("contains", vec![strs(&["1"]), n(1.0)]),
            Ok(false.into())
        );
        assert_eq!(
            run("contains", vec![Value::set(vec![s("x")]), s("x")]),
            Ok(true.into())
        );
        assert_eq!(
            run(
                "contains",
                vec![Value::List(vec![strs(&["x"])]), strs(&["x"])]
            ),
            Ok(true.into())
        );
        assert_eq!(
            run("contains", vec![Value::map([("a", s("b"))]), s("a")]),
            Err(FnError::arg(0, "argument must be list, tuple, or set"))
        );
    }

    #[test]
    fn distinct_keeps_first_occurrences() {
        assert_eq!(
            run("distinct", vec![strs(&["a", "b", "a", "c", "d", "b"])]),
            Ok(strs(&["a", "b", "c", "d"]))
        );
        assert_eq!(run("distinct", vec![strs(&[])]), Ok(strs(&[])));
        assert_eq!(
            run("distinct", vec![Value::List(vec![n(1.0), s("1"), s("2")])]),
            Ok(strs(&["1", "2"]))
        );
        assert!(run("distinct", vec![Value::List(vec![n(1.0), strs(&[])])]).is_err());
    }

    #[test]
    fn element_wraps_around() {
        let abc = strs(&["a", "b", "c"]);
        assert_eq!(run("element", vec![abc.clone(), n(1.0)]), Ok(s("b")));
        assert_eq!(run("element", vec![abc.clone(), n(3.0)]), Ok(s("a")));
        assert_eq!(run("element", vec![abc.clone(), n(7.0)]), Ok(s("b")));
        assert_eq!(run("element", vec![abc.clone(), n(2.0)]), Ok(s("c")));
        assert_eq!(
            run("element", vec![abc.clone(), n(-1.0)]),
            Err(FnError::arg(
                1,
                "cannot use element function with a negative index"
            ))
        );
        assert_eq!(
            run("element", vec![strs(&[]), n(0.0)]),
            Err(FnError::arg(
                0,
                "cannot use element function with an empty list"
            ))
        );
        assert_eq!(
            error_message(run("element", vec![abc, n(1.5)])),
            "invalid index: value must be a whole number"
        );
        assert_eq!(
            error_message(run("element", vec![Value::set(vec![s("a")]), n(0.0)])),
            "cannot read elements from set"
        );
    }

    #[test]
    fn flatten_is_recursive() {
        let nested = Value::List(vec![strs(&["a", "b"]), strs(&[]), strs(&["c"])]);
        assert_eq!(run("flatten", vec![nested]), Ok(strs(&["a", "b", "c"])));
        let deep = Value::List(vec![
            Value::List(vec![strs(&["a", "b"]), strs(&[])]),
            strs(&["c"]),
        ]);
        assert_eq!(run("flatten", vec![deep]), Ok(strs(&["a", "b", "c"])));
        let with_map = Value::List(vec![
            Value::map([("k", s("v"))]),
            Value::set(vec![s("x")]),
            Value::Null,
        ]);
        assert_eq!(
            run("flatten", vec![with_map]),
            Ok(Value::List(vec![
                Value::map([("k", s("v"))]),
                s("x"),
                Value::Null
            ]))
        );
        assert_eq!(
            run("flatten", vec![s("x")]),
            Err(FnError::arg(0, "can only flatten lists, sets and tuples"))
        );
    }

    #[test]
    fn index_finds_first_position() {
        assert_eq!(
            run("index", vec![strs(&["a", "b", "c"]), s("b")]),
            Ok(n(1.0))
        );
        assert_eq!(
            run("index", vec![strs(&["a", "b", "b"]), s("b")]),
            Ok(n(1.0))
        );
        assert_eq!(
            run("index", vec![strs(&["a"]), s("z")]),
            Err(FnError::call("item not found"))
        );
        assert_eq!(
            run("index", vec![strs(&[]), s("z")]),
            Err(FnError::arg(0, "cannot search an empty list"))
        );
        assert_eq!(
            run("index", vec![Value::set(vec![s("a")]), s("a")]),
            Err(FnError::arg(0, "argument must be a list or tuple"))
        );
    }

    #[test]
    fn keys_and_values_in_key_order() {
        let map = Value::map([("d", n(1.0)), ("a", n(3.0)), ("c", n(2.0))]);
        assert_eq!(run("keys", vec![map.clone()]), Ok(strs(&["a", "c", "d"])));
        assert_eq!(run("values", vec![map]), Ok(nums(&[3.0, 2.0, 1.0])));
        assert_eq!(run("keys", vec![Value::map::<&str>([])]), Ok(strs(&[])));
        assert_eq!(
            run("keys", vec![strs(&["a"])]),
            Err(FnError::arg(0, "must have map or object type"))
        );
        assert_eq!(
            run("values", vec![s("a")]),
            Err(FnError::arg(
                0,
                "values() requires a map as the first argument"
            ))
        );
    }

    #[test]
    fn length_of_strings_and_collections() {
        assert_eq!(run("length", vec![strs(&[])]), Ok(n(0.0)));
        assert_eq!(run("length", vec![strs(&["a", "b"])]), Ok(n(2.0)));
        assert_eq!(run("length", vec![Value::map([("a", s("b"))])]), Ok(n(1.0)));
        assert_eq!(run("length", vec![s("hello")]), Ok(n(5.0)));
        assert_eq!(run("length", vec![s("👾🕹️")]), Ok(n(2.0)));
        assert_eq!(run("length", vec![s("")]), Ok(n(0.0)));
        assert_eq!(
            run("length", vec![Value::set(vec![s("a"), s("a")])]),
            Ok(n(1.0))
        );
        assert_eq!(
            run("length", vec![n(5.0)]).map_err(|e| matches!(e, FnError::Arg { index: 0, .. })),
            Err(true)
        );
        assert_eq!(
            error_message(run("length", vec![Value::Null])),
            "argument must not be null"
        );
    }

    #[test]
    fn length_is_known_despite_unknown_elements() {
        let partly = Value::List(vec![s("a"), Value::unknown(), Value::unknown()]);
        assert_eq!(run("length", vec![partly]), Ok(n(3.0)));
        let map = Value::map([("a", Value::unknown())]);
        assert_eq!(run("length", vec![map]), Ok(n(1.0)));
        assert!(matches!(
            run("length", vec![Value::unknown()]),
            Ok(Value::Unknown(Type::Number))
        ));
        let set = Value::Set(vec![s("a"), Value::unknown()]);
        assert!(matches!(
            run("length", vec![set]),
            Ok(Value::Unknown(Type::Number))
        ));
    }

    #[test]
    fn lookup_with_and_without_default() {
        let map = Value::map([("a", s("ay")), ("b", s("bee"))]);
        assert_eq!(
            run("lookup", vec![map.clone(), s("a"), s("what?")]),
            Ok(s("ay"))
        );
        assert_eq!(
            run("lookup", vec![map.clone(), s("c"), s("what?")]),
            Ok(s("what?"))
        );
        assert_eq!(run("lookup", vec![map.clone(), s("b")]), Ok(s("bee")));
        assert_eq!(
            run("lookup", vec![map.clone(), s("c")]),
            Err(FnError::arg(1, "lookup failed to find key \"c\""))
        );
        assert_eq!(
            run("lookup", vec![map, s("c"), Value::Null]),
            Ok(Value::Null)
        );
        assert_eq!(
            run("lookup", vec![strs(&["a"]), s("a")]),
            Err(FnError::arg(
                0,
                "lookup() requires a map as the first argument"
            ))
        );
        assert_eq!(
            run("lookup", vec![Value::map([("1", s("x"))]), n(1.0)]),
            Ok(s("x"))
        );
    }

    #[test]
    fn merge_later_wins() {
        let first = Value::map([("a", s("b")), ("c", s("d"))]);
        let second = Value::map([("e", s("f")), ("c", s("z"))]);
        assert_eq!(
            run("merge", vec![first, second]),
            Ok(Value::map([("a", s("b")), ("c", s("z")), ("e", s("f"))]))
        );
        let a = Value::map([("a", s("b"))]);
        let b = Value::map([("a", nums(&[1.0, 2.0])), ("c", s("z"))]);
        let c = Value::map([("d", n(3.0))]);
        assert_eq!(
            run("merge", vec![a.clone(), b, c]),
            Ok(Value::map([
                ("a", nums(&[1.0, 2.0])),
                ("c", s("z")),
                ("d", n(3.0))
            ]))
        );
        assert_eq!(
            run("merge", vec![Value::Null, a.clone(), Value::Null]),
            Ok(a)
        );
        assert_eq!(run("merge", vec![Value::Null]), Ok(Value::Null));
        assert_eq!(run("merge", vec![]), Ok(Value::map::<&str>([])));
        assert_eq!(
            run("merge", vec![Value::map::<&str>([]), s("x")]),
            Err(FnError::arg(
                1,
                "arguments must be maps or objects, got \"string\""
            ))
        );
    }

    #[test]
    fn one_of_zero_or_one() {
        assert_eq!(run("one", vec![strs(&[])]), Ok(Value::Null));
        assert_eq!(run("one", vec![strs(&["hello"])]), Ok(s("hello")));
        assert_eq!(run("one", vec![Value::set(vec![])]), Ok(Value::Null));
        assert_eq!(
            run("one", vec![Value::set(vec![s("hello")])]),
            Ok(s("hello"))
        );
        let message = "must be a list, set, or tuple value with either zero or one elements";
        assert_eq!(
            run("one", vec![strs(&["hello", "goodbye"])]),
            Err(FnError::arg(0, message))
        );
        assert_eq!(run("one", vec![s("x")]), Err(FnError::arg(0, message)));
    }

    #[test]
    fn range_forms() {
        let range = |args: &[f64]| run("range", args.iter().map(|a| n(*a)).collect());
        assert_eq!(range(&[3.0]), Ok(nums(&[0.0, 1.0, 2.0])));
        assert_eq!(range(&[1.0, 4.0]), Ok(nums(&[1.0, 2.0, 3.0])));
        assert_eq!(range(&[1.0, 8.0, 2.0]), Ok(nums(&[1.0, 3.0, 5.0, 7.0])));
        assert_eq!(
            range(&[1.0, 4.0, 0.5]),
            Ok(nums(&[1.0, 1.5, 2.0, 2.5, 3.0, 3.5]))
        );
        assert_eq!(range(&[4.0, 1.0]), Ok(nums(&[4.0, 3.0, 2.0])));
        assert_eq!(range(&[10.0, 5.0, -2.0]), Ok(nums(&[10.0, 8.0, 6.0])));
        assert_eq!(range(&[-3.0]), Ok(nums(&[0.0, -1.0, -2.0])));
        assert_eq!(range(&[0.0]), Ok(nums(&[])));
        assert_eq!(range(&[2.0, 2.0]), Ok(nums(&[])));
        assert_eq!(
            range(&[0.0, 0.5, 0.1]),
            Ok(nums(&[0.0, 0.1, 0.2, 0.3, 0.4]))
        );
        assert_eq!(
            range(&[1024.0]).map(|v| v.as_seq().map_or(0, <[Value]>::len)),
            Ok(1024)
        );
    }

    #[test]
    fn range_errors() {
        let range = |args: &[f64]| run("range", args.iter().map(|a| n(*a)).collect());
        assert_eq!(
            range(&[1.0, 4.0, 0.0]),
            Err(FnError::arg(2, "step must not be zero"))
        );
        assert_eq!(
            range(&[1.0, 4.0, -1.0]),
            Err(FnError::arg(
                1,
                "end must be less than start when step is negative"
            ))
        );
        assert_eq!(
            range(&[4.0, 1.0, 1.0]),
            Err(FnError::arg(
                1,
                "end must be greater than start when step is positive"
            ))
        );
        assert!(error_message(range(&[1025.0])).starts_with("more than 1024 values were generated"));
        assert!(error_message(range(&[0.0, 1.0, 1e-9])).starts_with("more than 1024 values"));
        assert_eq!(
            error_message(run("range", vec![])),
            "arity: expected 1 to 3, got 0"
        );
    }

    #[test]
    fn reverse_sequences() {
        assert_eq!(
            run("reverse", vec![nums(&[1.0, 2.0, 3.0])]),
            Ok(nums(&[3.0, 2.0, 1.0]))
        );
        assert_eq!(run("reverse", vec![strs(&[])]), Ok(strs(&[])));
        assert_eq!(
            run("reverse", vec![Value::set(vec![s("a"), s("b")])]),
            Ok(strs(&["b", "a"]))
        );
        assert_eq!(
            run("reverse", vec![s("abc")]),
            Err(FnError::arg(
                0,
                "can only reverse list or tuple values, not string"
            ))
        );
    }

    #[test]
    fn slice_bounds() {
        let abcd = strs(&["a", "b", "c", "d"]);
        let slice = |start: f64, end: f64| run("slice", vec![abcd.clone(), n(start), n(end)]);
        assert_eq!(slice(1.0, 3.0), Ok(strs(&["b", "c"])));
        assert_eq!(slice(0.0, 4.0), Ok(abcd.clone()));
        assert_eq!(slice(2.0, 2.0), Ok(strs(&[])));
        assert_eq!(slice(4.0, 4.0), Ok(strs(&[])));
        assert_eq!(
            slice(-1.0, 2.0),
            Err(FnError::arg(1, "start index must not be less than zero"))
        );
        assert_eq!(
            slice(5.0, 5.0),
            Err(FnError::arg(
                1,
                "start index must not be greater than the length of the list"
            ))
        );
        assert_eq!(
            slice(0.0, 5.0),
            Err(FnError::arg(
                2,
                "end index must not be greater than the length of the list"
            ))
        );
        assert_eq!(
            slice(3.0, 2.0),
            Err(FnError::arg(
                1,
                "start index must not be greater than end index"
            ))
        );
        assert_eq!(
            error_message(slice(0.5, 2.0)),
            "invalid start index: value must be a whole number"
        );
        assert!(
            error_message(run("slice", vec![Value::set(vec![s("a")]), n(0.0), n(1.0)]))
                .starts_with("cannot slice a set")
        );
    }

    #[test]
    fn sort_is_lexical() {
        assert_eq!(
            run("sort", vec![strs(&["e", "d", "a", "x"])]),
            Ok(strs(&["a", "d", "e", "x"]))
        );
        assert_eq!(
            run("sort", vec![nums(&[10.0, 2.0, 1.0])]),
            Ok(strs(&["1", "10", "2"]))
        );
        assert_eq!(
            run("sort", vec![strs(&["b", "B", "a"])]),
            Ok(strs(&["B", "a", "b"]))
        );
        assert_eq!(run("sort", vec![strs(&[])]), Ok(strs(&[])));
        assert_eq!(
            run("sort", vec![Value::List(vec![s("a"), Value::Null])]),
            Err(FnError::arg(
                0,
                "given list element 1 is null; a null string cannot be sorted"
            ))
        );
    }

    #[test]
    fn sum_numbers() {
        assert_eq!(run("sum", vec![nums(&[10.0, 13.0, 6.0, 4.5])]), Ok(n(33.5)));
        assert_eq!(
            run("sum", vec![Value::List(vec![n(1.0), s("2")])]),
            Ok(n(3.0))
        );
        assert_eq!(
            run("sum", vec![Value::set(vec![n(1.0), n(2.0)])]),
            Ok(n(3.0))
        );
        assert_eq!(
            run("sum", vec![nums(&[])]),
            Err(FnError::arg(0, "cannot sum an empty list"))
        );
        assert_eq!(
            run("sum", vec![Value::List(vec![n(1.0), s("x")])]),
            Err(FnError::arg(
                0,
                "argument must be list, set, or tuple of number values"
            ))
        );
        assert_eq!(
            run("sum", vec![Value::List(vec![n(1.0), Value::Null])]),
            Err(FnError::arg(
                0,
                "argument must be list, set, or tuple of number values"
            ))
        );
        assert_eq!(
            run("sum", vec![nums(&[f64::INFINITY, f64::NEG_INFINITY])]),
            Err(FnError::call("can't compute sum of opposing infinities"))
        );
        assert_eq!(
            error_message(run("sum", vec![s("1")])),
            "argument must be list, set, or tuple. Received string"
        );
    }

    #[test]
    fn transpose_swaps_keys_and_values() {
        let input = Value::map([("a", strs(&["1", "2"])), ("b", strs(&["2", "3"]))]);
        assert_eq!(
            run("transpose", vec![input]),
            Ok(Value::map([
                ("1", strs(&["a"])),
                ("2", strs(&["a", "b"])),
                ("3", strs(&["b"]))
            ]))
        );
        assert_eq!(
            run("transpose", vec![Value::map::<&str>([])]),
            Ok(Value::map::<&str>([]))
        );
        let bad = Value::map([("a", s("x"))]);
        assert_eq!(
            run("transpose", vec![bad]),
            Err(FnError::arg(0, "input must be a map of lists of strings"))
        );
        let nested = Value::map([("a", Value::List(vec![strs(&["x"])]))]);
        assert!(run("transpose", vec![nested]).is_err());
    }

    #[test]
    fn zipmap_pairs_up() {
        assert_eq!(
            run("zipmap", vec![strs(&["a", "b"]), nums(&[1.0, 2.0])]),
            Ok(Value::map([("a", n(1.0)), ("b", n(2.0))]))
        );
        assert_eq!(
            run("zipmap", vec![strs(&["a", "a"]), nums(&[1.0, 2.0])]),
            Ok(Value::map([("a", n(2.0))]))
        );
        assert_eq!(
            run("zipmap", vec![strs(&[]), nums(&[])]),
            Ok(Value::map::<&str>([]))
        );
        assert_eq!(
            run("zipmap", vec![strs(&["a"]), nums(&[1.0, 2.0])]),
            Err(FnError::call(
                "number of keys (1) does not match number of values (2)"
            ))
        );
        assert_eq!(
            run("zipmap", vec![Value::List(vec![Value::Null]), nums(&[1.0])]),
            Err(FnError::arg(0, "keys list has null value at index 0"))
        );
    }
}

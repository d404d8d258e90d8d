//! Helpers shared by the function families: building [`FunctionDef`]s, extracting typed
//! arguments with Terraform's automatic conversions, and Terraform's type unification
//! (the single type that a mix of values converts to, as `tolist(["a", 1])` needs).

use super::{FnError, FnImpl, FunctionDef};
use gantry_provider::{ObjectAttr, Type, Value};
use std::collections::BTreeMap;

/// A function taking exactly `n` arguments.
pub(super) fn fixed(
    name: &'static str,
    signature: &'static str,
    n: usize,
    body: FnImpl,
) -> FunctionDef {
    FunctionDef {
        name,
        min_args: n,
        max_args: Some(n),
        handles_unknown: false,
        signature,
        body,
    }
}

/// A function taking `min` to `max` arguments.
pub(super) fn between(
    name: &'static str,
    signature: &'static str,
    min: usize,
    max: usize,
    body: FnImpl,
) -> FunctionDef {
    FunctionDef {
        name,
        min_args: min,
        max_args: Some(max),
        handles_unknown: false,
        signature,
        body,
    }
}

/// A variadic function taking at least `min` arguments.
pub(super) fn variadic(
    name: &'static str,
    signature: &'static str,
    min: usize,
    body: FnImpl,
) -> FunctionDef {
    FunctionDef {
        name,
        min_args: min,
        max_args: None,
        handles_unknown: false,
        signature,
        body,
    }
}

impl FunctionDef {
    /// Marks the function as dealing with unknown arguments itself.
    pub(super) fn handling_unknown(mut self) -> FunctionDef {
        self.handles_unknown = true;
        self
    }
}

/// The argument at `index`, which must be present and not null.
pub(super) fn present(args: &[Value], index: usize) -> Result<&Value, FnError> {
    match args.get(index) {
        None => Err(FnError::arg(index, "argument is required")),
        Some(Value::Null) => Err(FnError::arg(index, "argument must not be null")),
        Some(value) => Ok(value),
    }
}

/// A string argument; numbers and bools convert as Terraform does.
pub(super) fn string(args: &[Value], index: usize) -> Result<String, FnError> {
    match present(args, index)?.convert(&Type::String) {
        Ok(Value::String(s)) => Ok(s),
        Ok(other) => Err(FnError::arg(
            index,
            format!("string required, got {}", kind(&other)),
        )),
        Err(e) => Err(FnError::arg(index, e.to_string())),
    }
}

/// A number argument; numeric strings convert.
pub(super) fn number(args: &[Value], index: usize) -> Result<f64, FnError> {
    match present(args, index)?.convert(&Type::Number) {
        Ok(Value::Number(n)) => Ok(n),
        Ok(other) => Err(FnError::arg(
            index,
            format!("number required, got {}", kind(&other)),
        )),
        Err(e) => Err(FnError::arg(index, e.to_string())),
    }
}

/// A whole-number argument.
pub(super) fn integer(args: &[Value], index: usize) -> Result<i64, FnError> {
    let n = number(args, index)?;
    whole(n).ok_or_else(|| FnError::arg(index, "value must be a whole number"))
}

/// `n` as an `i64` when it is a whole number in range.
pub(super) fn whole(n: f64) -> Option<i64> {
    // 2^63: the first value that no longer fits in an i64.
    const LIMIT: f64 = 9_223_372_036_854_775_808.0;
    if n.is_finite() && n.fract() == 0.0 && (-LIMIT..LIMIT).contains(&n) {
        #[allow(clippy::cast_possible_truncation)]
        Some(n as i64)
    } else {
        None
    }
}

/// The elements of a list, tuple or set argument.
pub(super) fn sequence(args: &[Value], index: usize) -> Result<&[Value], FnError> {
    let value = present(args, index)?;
    value.as_seq().ok_or_else(|| {
        FnError::arg(
            index,
            format!("list, set or tuple required, got {}", kind(value)),
        )
    })
}

/// The entries of a map or object argument.
pub(super) fn mapping(args: &[Value], index: usize) -> Result<&BTreeMap<String, Value>, FnError> {
    let value = present(args, index)?;
    value.as_map().ok_or_else(|| {
        FnError::arg(
            index,
            format!("map or object required, got {}", kind(value)),
        )
    })
}

/// The elements of a list, tuple or set argument converted to strings, as a `list(string)`
/// parameter receives them. Null elements stay `None`.
pub(super) fn string_elements(
    args: &[Value],
    index: usize,
) -> Result<Vec<Option<String>>, FnError> {
    sequence(args, index)?
        .iter()
        .enumerate()
        .map(|(i, item)| match item.convert(&Type::String) {
            Ok(Value::String(s)) => Ok(Some(s)),
            Ok(_) => Ok(None),
            Err(e) => Err(FnError::arg(index, format!("element {i}: {e}"))),
        })
        .collect()
}

/// The kind of a value as Terraform names it in messages (`string`, `tuple`, `object`...).
pub(super) fn kind(value: &Value) -> &'static str {
    match value {
        Value::List(_) => "tuple",
        Value::Map(_) => "object",
        other => other.type_name(),
    }
}

/// A value's type for unification: null has no type of its own, so it is `any`.
fn type_for_unify(value: &Value) -> Type {
    match value {
        Value::Set(items) => Type::set(unify_values(items).unwrap_or(Type::Any)),
        Value::List(items) => Type::Tuple(items.iter().map(type_for_unify).collect()),
        Value::Map(map) => Type::Object(
            map.iter()
                .map(|(k, v)| (k.clone(), ObjectAttr::required(type_for_unify(v))))
                .collect(),
        ),
        other => other.type_of(),
    }
}

/// The single type all of `values` can convert to, or `None` when there is none.
pub(super) fn unify_values(values: &[Value]) -> Option<Type> {
    unify(&values.iter().map(type_for_unify).collect::<Vec<_>>())
}

/// Terraform's type unification. `any` (unknown type, or null) unifies with everything.
/// Mixed primitives unify to `string` when one of them is a string; tuples of one length
/// unify element-wise, otherwise to a list; objects with the same attributes unify
/// attribute-wise, otherwise to a map.
pub(super) fn unify(types: &[Type]) -> Option<Type> {
    let known: Vec<&Type> = types.iter().filter(|t| !t.is_any()).collect();
    let Some(first) = known.first().copied() else {
        return Some(Type::Any);
    };
    if known.iter().all(|t| *t == first) {
        return Some(first.clone());
    }
    if known.iter().all(|t| t.is_primitive()) {
        return known.contains(&&Type::String).then_some(Type::String);
    }
    if known
        .iter()
        .all(|t| matches!(t, Type::Object(_) | Type::Map(_)))
    {
        return unify_mappings(&known);
    }
    if known
        .iter()
        .all(|t| matches!(t, Type::Tuple(_) | Type::List(_)))
    {
        return unify_sequences(&known);
    }
    if known.iter().all(|t| matches!(t, Type::Set(_))) {
        let elems: Vec<Type> = known
            .iter()
            .filter_map(|t| element_type(t))
            .cloned()
            .collect();
        return unify(&elems).map(Type::set);
    }
    None
}

fn element_type(ty: &Type) -> Option<&Type> {
    match ty {
        Type::List(t) | Type::Set(t) | Type::Map(t) => Some(t),
        _ => None,
    }
}

fn unify_mappings(types: &[&Type]) -> Option<Type> {
    let objects: Vec<&BTreeMap<String, ObjectAttr>> = types
        .iter()
        .filter_map(|t| match t {
            Type::Object(attrs) => Some(attrs),
            _ => None,
        })
        .collect();
    if objects.len() == types.len() {
        let first = objects[0];
        let same_names = objects
            .iter()
            .all(|o| o.len() == first.len() && o.keys().all(|k| first.contains_key(k)));
        if same_names {
            let mut attrs = BTreeMap::new();
            for name in first.keys() {
                let tys: Vec<Type> = objects
                    .iter()
                    .filter_map(|o| o.get(name))
                    .map(|a| a.ty.clone())
                    .collect();
                attrs.insert(name.clone(), ObjectAttr::required(unify(&tys)?));
            }
            return Some(Type::Object(attrs));
        }
    }
    let mut elems = Vec::new();
    for ty in types {
        match ty {
            Type::Object(attrs) => elems.extend(attrs.values().map(|a| a.ty.clone())),
            other => elems.extend(element_type(other).cloned()),
        }
    }
    unify(&elems).map(Type::map)
}

fn unify_sequences(types: &[&Type]) -> Option<Type> {
    let tuples: Vec<&Vec<Type>> = types
        .iter()
        .filter_map(|t| match t {
            Type::Tuple(items) => Some(items),
            _ => None,
        })
        .collect();
    if tuples.len() == types.len() && tuples.iter().all(|t| t.len() == tuples[0].len()) {
        let mut items = Vec::with_capacity(tuples[0].len());
        for i in 0..tuples[0].len() {
            let tys: Vec<Type> = tuples.iter().map(|t| t[i].clone()).collect();
            items.push(unify(&tys)?);
        }
        return Some(Type::Tuple(items));
    }
    let mut elems = Vec::new();
    for ty in types {
        match ty {
            Type::Tuple(items) => elems.extend(items.iter().cloned()),
            other => elems.extend(element_type(other).cloned()),
        }
    }
    unify(&elems).map(Type::list)
}

/// Converts every value to `ty`; the error names the offending element.
pub(super) fn convert_all(values: &[Value], ty: &Type) -> Result<Vec<Value>, String> {
    values
        .iter()
        .enumerate()
        .map(|(i, v)| v.convert(ty).map_err(|e| format!("element {i}: {e}")))
        .collect()
}

/// Converts the elements of a sequence to their unified type, as passing a tuple to a
/// `list(any)` parameter does.
pub(super) fn homogeneous(items: &[Value]) -> Result<Vec<Value>, String> {
    let ty = unify_values(items).ok_or("all elements must have the same type")?;
    if ty.is_any() {
        return Ok(items.to_vec());
    }
    convert_all(items, &ty)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn primitives_unify_to_string() {
        assert_eq!(unify(&[Type::String, Type::Number]), Some(Type::String));
        assert_eq!(
            unify(&[Type::Bool, Type::String, Type::Any]),
            Some(Type::String)
        );
        assert_eq!(unify(&[Type::Number, Type::Bool]), None);
        assert_eq!(unify(&[Type::Any, Type::Any]), Some(Type::Any));
        assert_eq!(unify(&[]), Some(Type::Any));
    }

    #[test]
    fn structures_unify() {
        let a = Value::map([("a", Value::from(1_i64))]);
        let b = Value::map([("b", Value::from("x"))]);
        assert_eq!(unify_values(&[a.clone(), b]), Some(Type::map(Type::String)));
        let a2 = Value::map([("a", Value::from("y"))]);
        let ty = unify_values(&[a, a2]).unwrap();
        assert_eq!(
            ty,
            Type::Object([("a".into(), ObjectAttr::required(Type::String))].into())
        );
        let short = Value::from(vec![Value::from(1_i64)]);
        let long = Value::from(vec![Value::from(1_i64), Value::from("x")]);
        assert_eq!(unify_values(&[short, long]), Some(Type::list(Type::String)));
        assert_eq!(unify_values(&[Value::from("x"), Value::List(vec![])]), None);
    }

    #[test]
    fn homogeneous_converts_elements() {
        let items = vec![Value::from("a"), Value::from(1_i64), Value::Null];
        assert_eq!(
            homogeneous(&items).unwrap(),
            vec!["a".into(), "1".into(), Value::Null]
        );
        assert!(homogeneous(&[Value::from(1_i64), Value::from(true)]).is_err());
    }

    #[test]
    fn argument_extraction_converts_and_rejects() {
        let args = [
            Value::from(5_i64),
            Value::from("7"),
            Value::Null,
            Value::from(2.5),
        ];
        assert_eq!(string(&args, 0), Ok("5".into()));
        assert_eq!(number(&args, 1), Ok(7.0));
        assert_eq!(
            string(&args, 2),
            Err(FnError::arg(2, "argument must not be null"))
        );
        assert_eq!(
            integer(&args, 3),
            Err(FnError::arg(3, "value must be a whole number"))
        );
        assert!(matches!(
            sequence(&args, 0),
            Err(FnError::Arg { index: 0, .. })
        ));
        assert_eq!(whole(-3.0), Some(-3));
        assert_eq!(whole(f64::INFINITY), None);
    }
}

//! [`Value`]: the dynamic value of the stack language, shared by the evaluator, the state
//! and providers. Mirrors Terraform's value model closely enough that its functions and
//! conversions behave the same, including **unknown** values (not known until apply).

use crate::types::Type;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::fmt;

/// A value of the stack language.
///
/// Lists and tuples share [`Value::List`]; maps and objects share [`Value::Map`], whose keys
/// are kept sorted as Terraform iterates them. Sets keep their elements sorted and unique.
///
/// [`Value::Sensitive`] marks a value derived from a sensitive variable, output or
/// attribute, as Terraform's marks do: the evaluator carries the mark through every
/// operation, displays show `(sensitive value)`, and the engine removes marks (keeping their
/// paths) before a value reaches a provider. Equality looks through marks.
#[derive(Clone, Default)]
pub enum Value {
    /// The absence of a value.
    #[default]
    Null,
    Bool(bool),
    /// Numbers are IEEE doubles: integers are exact up to 2^53.
    Number(f64),
    String(String),
    List(Vec<Value>),
    /// Sorted and de-duplicated; build with [`Value::set`].
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    /// A value that will only be known during apply, of the given type (`Type::Any` when even
    /// the type is unknown).
    Unknown(Type),
    /// A sensitive value: never shown. Build with [`Value::sensitive`].
    Sensitive(Box<Value>),
}

impl Value {
    /// An unknown value of unknown type.
    pub fn unknown() -> Value {
        Value::Unknown(Type::Any)
    }

    pub fn string(s: impl Into<String>) -> Value {
        Value::String(s.into())
    }

    /// Marks `v` sensitive (once: a marked value is not wrapped again).
    pub fn sensitive(v: Value) -> Value {
        match v {
            Value::Sensitive(_) => v,
            other => Value::Sensitive(Box::new(other)),
        }
    }

    /// True when this value itself is marked sensitive (not looking inside collections).
    pub fn is_sensitive(&self) -> bool {
        matches!(self, Value::Sensitive(_))
    }

    /// True when this value or anything inside it is marked sensitive.
    pub fn contains_sensitive(&self) -> bool {
        match self {
            Value::Sensitive(_) => true,
            Value::List(items) | Value::Set(items) => items.iter().any(Value::contains_sensitive),
            Value::Map(map) => map.values().any(Value::contains_sensitive),
            _ => false,
        }
    }

    /// The value without its own mark, and whether it had one (marks inside stay).
    pub fn unmark(self) -> (Value, bool) {
        match self {
            Value::Sensitive(inner) => (inner.unmark().0, true),
            other => (other, false),
        }
    }

    /// The value without its own mark, borrowed.
    pub fn unmarked(&self) -> &Value {
        match self {
            Value::Sensitive(inner) => inner.unmarked(),
            other => other,
        }
    }

    /// The value with every mark removed, anywhere inside, and whether there was any.
    pub fn unmark_deep(self) -> (Value, bool) {
        match self {
            Value::Sensitive(inner) => (inner.unmark_deep().0, true),
            Value::List(items) => {
                let (items, any) = unmark_all(items);
                (Value::List(items), any)
            }
            Value::Set(items) => {
                let (items, any) = unmark_all(items);
                (Value::set(items), any)
            }
            Value::Map(map) => {
                let mut any = false;
                let map = map
                    .into_iter()
                    .map(|(k, v)| {
                        let (v, m) = v.unmark_deep();
                        any |= m;
                        (k, v)
                    })
                    .collect();
                (Value::Map(map), any)
            }
            other => (other, false),
        }
    }

    /// Builds a set: sorts and removes duplicates.
    pub fn set(mut items: Vec<Value>) -> Value {
        items.sort_by(Value::total_cmp);
        items.dedup_by(|a, b| a.total_cmp(b) == Ordering::Equal);
        Value::Set(items)
    }

    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Value)>) -> Value {
        Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// True when this value itself is unknown (not looking inside collections).
    pub fn is_unknown(&self) -> bool {
        matches!(self, Value::Unknown(_))
    }

    /// True when the value is known all the way down.
    pub fn is_wholly_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::Sensitive(inner) => inner.is_wholly_known(),
            Value::List(items) | Value::Set(items) => items.iter().all(Value::is_wholly_known),
            Value::Map(map) => map.values().all(Value::is_wholly_known),
            _ => true,
        }
    }

    /// The short kind name users see in messages (`string`, `list`, `object`...).
    pub fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "bool",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::List(_) => "list",
            Value::Set(_) => "set",
            Value::Map(_) => "object",
            Value::Unknown(_) => "unknown",
            Value::Sensitive(inner) => inner.type_name(),
        }
    }

    /// The most specific type describing this value.
    pub fn type_of(&self) -> Type {
        match self {
            Value::Null => Type::Any,
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::List(items) => Type::Tuple(items.iter().map(Value::type_of).collect()),
            Value::Set(items) => Type::Set(Box::new(common_type(items))),
            Value::Map(map) => Type::Object(
                map.iter()
                    .map(|(k, v)| (k.clone(), crate::types::ObjectAttr::required(v.type_of())))
                    .collect(),
            ),
            Value::Unknown(ty) => ty.clone(),
            Value::Sensitive(inner) => inner.type_of(),
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// Elements of a list, tuple or set.
    pub fn as_seq(&self) -> Option<&[Value]> {
        match self {
            Value::List(items) | Value::Set(items) => Some(items),
            _ => None,
        }
    }

    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self {
            Value::Map(map) => Some(map),
            _ => None,
        }
    }

    /// A total order over values, used to sort sets and compare keys. Values of different
    /// kinds order by kind; unknowns sort last.
    pub fn total_cmp(&self, other: &Value) -> Ordering {
        if self.is_sensitive() || other.is_sensitive() {
            return self.unmarked().total_cmp(other.unmarked());
        }
        fn rank(v: &Value) -> u8 {
            match v {
                Value::Null => 0,
                Value::Bool(_) => 1,
                Value::Number(_) => 2,
                Value::String(_) => 3,
                Value::List(_) => 4,
                Value::Set(_) => 5,
                Value::Map(_) => 6,
                Value::Unknown(_) => 7,
                Value::Sensitive(inner) => rank(inner),
            }
        }
        match (self, other) {
            (Value::Bool(a), Value::Bool(b)) => a.cmp(b),
            (Value::Number(a), Value::Number(b)) => a.total_cmp(b),
            (Value::String(a), Value::String(b)) => a.cmp(b),
            (Value::List(a), Value::List(b)) | (Value::Set(a), Value::Set(b)) => {
                cmp_seq(a.iter(), b.iter())
            }
            (Value::Map(a), Value::Map(b)) => {
                for ((ka, va), (kb, vb)) in a.iter().zip(b.iter()) {
                    let ord = ka.cmp(kb).then_with(|| va.total_cmp(vb));
                    if ord != Ordering::Equal {
                        return ord;
                    }
                }
                a.len().cmp(&b.len())
            }
            (Value::Unknown(_), Value::Unknown(_)) | (Value::Null, Value::Null) => Ordering::Equal,
            _ => rank(self).cmp(&rank(other)),
        }
    }

    /// Converts to JSON. Unknown values have no JSON form and become `null`; callers that
    /// must not lose them check [`Value::is_wholly_known`] first. Sensitive values are
    /// written as they are (state keeps them; displays redact by path).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match self {
            Value::Null | Value::Unknown(_) => J::Null,
            Value::Sensitive(inner) => inner.to_json(),
            Value::Bool(b) => J::Bool(*b),
            Value::Number(n) => number_to_json(*n),
            Value::String(s) => J::String(s.clone()),
            Value::List(items) | Value::Set(items) => {
                J::Array(items.iter().map(Value::to_json).collect())
            }
            Value::Map(map) => {
                J::Object(map.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
            }
        }
    }

    /// Converts from JSON: arrays become tuples, objects become objects.
    pub fn from_json(json: &serde_json::Value) -> Value {
        use serde_json::Value as J;
        match json {
            J::Null => Value::Null,
            J::Bool(b) => Value::Bool(*b),
            J::Number(n) => Value::Number(n.as_f64().unwrap_or(f64::NAN)),
            J::String(s) => Value::String(s.clone()),
            J::Array(items) => Value::List(items.iter().map(Value::from_json).collect()),
            J::Object(map) => Value::Map(
                map.iter()
                    .map(|(k, v)| (k.clone(), Value::from_json(v)))
                    .collect(),
            ),
        }
    }
}

/// Every element unmarked deep, and whether any had a mark.
fn unmark_all(items: Vec<Value>) -> (Vec<Value>, bool) {
    let mut any = false;
    let items = items
        .into_iter()
        .map(|v| {
            let (v, m) = v.unmark_deep();
            any |= m;
            v
        })
        .collect();
    (items, any)
}

fn number_to_json(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        // Integral values serialize without a fraction, as Terraform does.
        #[allow(clippy::cast_possible_truncation)]
        return serde_json::Value::from(n as i64);
    }
    serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
}

fn cmp_seq<'a>(
    mut a: impl Iterator<Item = &'a Value>,
    mut b: impl Iterator<Item = &'a Value>,
) -> Ordering {
    loop {
        match (a.next(), b.next()) {
            (None, None) => return Ordering::Equal,
            (None, Some(_)) => return Ordering::Less,
            (Some(_), None) => return Ordering::Greater,
            (Some(x), Some(y)) => match x.total_cmp(y) {
                Ordering::Equal => continue,
                ord => return ord,
            },
        }
    }
}

/// The single element type of a homogeneous collection, or `Any` when elements differ.
pub fn common_type(items: &[Value]) -> Type {
    let mut iter = items.iter().filter(|v| !v.is_null()).map(Value::type_of);
    let Some(first) = iter.next() else {
        return Type::Any;
    };
    if iter.all(|t| t == first) {
        first
    } else {
        Type::Any
    }
}

/// Formats a number the way Terraform prints it: integers without a fraction.
pub fn format_number(n: f64) -> String {
    if n.is_nan() {
        return "NaN".into();
    }
    if n.is_infinite() {
        return if n > 0.0 {
            "Infinity".into()
        } else {
            "-Infinity".into()
        };
    }
    if n == 0.0 {
        return "0".into();
    }
    if n.fract() == 0.0 && n.abs() < 1e21 {
        format!("{n:.0}")
    } else {
        format!("{n}")
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Value) -> bool {
        match (self, other) {
            (Value::Sensitive(a), b) => **a == *b,
            (a, Value::Sensitive(b)) => *a == **b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::Unknown(_), _) | (_, Value::Unknown(_)) => false,
            (Value::Null, Value::Null) => true,
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::List(a), Value::List(b)) | (Value::Set(a), Value::Set(b)) => a == b,
            (Value::Map(a), Value::Map(b)) => a == b,
            _ => false,
        }
    }
}

impl fmt::Display for Value {
    /// Renders the value as HCL-like source, for messages and plan output.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("null"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Number(n) => f.write_str(&format_number(*n)),
            Value::String(s) => write!(f, "{}", serde_json::Value::String(s.clone())),
            Value::List(items) | Value::Set(items) => {
                f.write_str("[")?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{item}")?;
                }
                f.write_str("]")
            }
            Value::Map(map) => {
                f.write_str("{")?;
                for (i, (k, v)) in map.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{} = {v}", serde_json::Value::String(k.clone()))?;
                }
                f.write_str("}")
            }
            Value::Unknown(_) => f.write_str("(known after apply)"),
            Value::Sensitive(_) => f.write_str("(sensitive value)"),
        }
    }
}

impl fmt::Debug for Value {
    /// As derived, except that a sensitive value never shows (logs use `{:?}`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Null => f.write_str("Null"),
            Value::Bool(b) => f.debug_tuple("Bool").field(b).finish(),
            Value::Number(n) => f.debug_tuple("Number").field(n).finish(),
            Value::String(s) => f.debug_tuple("String").field(s).finish(),
            Value::List(items) => f.debug_tuple("List").field(items).finish(),
            Value::Set(items) => f.debug_tuple("Set").field(items).finish(),
            Value::Map(map) => f.debug_tuple("Map").field(map).finish(),
            Value::Unknown(ty) => f.debug_tuple("Unknown").field(ty).finish(),
            Value::Sensitive(_) => f.write_str("Sensitive(..)"),
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Value {
        Value::String(s.to_owned())
    }
}

impl From<String> for Value {
    fn from(s: String) -> Value {
        Value::String(s)
    }
}

impl From<bool> for Value {
    fn from(b: bool) -> Value {
        Value::Bool(b)
    }
}

impl From<f64> for Value {
    fn from(n: f64) -> Value {
        Value::Number(n)
    }
}

impl From<i64> for Value {
    #[allow(clippy::cast_precision_loss)]
    fn from(n: i64) -> Value {
        Value::Number(n as f64)
    }
}

impl From<usize> for Value {
    #[allow(clippy::cast_precision_loss)]
    fn from(n: usize) -> Value {
        Value::Number(n as f64)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    fn from(items: Vec<T>) -> Value {
        Value::List(items.into_iter().map(Into::into).collect())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sets_are_sorted_and_unique() {
        let s = Value::set(vec!["b".into(), "a".into(), "b".into()]);
        assert_eq!(s, Value::Set(vec!["a".into(), "b".into()]));
    }

    #[test]
    fn unknown_is_never_equal() {
        assert_ne!(Value::unknown(), Value::unknown());
        assert!(!Value::List(vec![Value::unknown()]).is_wholly_known());
    }

    #[test]
    fn numbers_print_like_terraform() {
        assert_eq!(format_number(3.0), "3");
        assert_eq!(format_number(2.5), "2.5");
        assert_eq!(format_number(-0.0), "0");
        assert_eq!(Value::from(10_i64).to_json(), serde_json::json!(10));
    }

    #[test]
    fn sensitive_values_never_show_and_compare_through_the_mark() {
        let secret = Value::sensitive(Value::from("hunter2"));
        assert_eq!(secret.to_string(), "(sensitive value)");
        assert_eq!(format!("{secret:?}"), "Sensitive(..)");
        let nested = Value::map([("password", secret.clone())]);
        assert!(!format!("{nested} {nested:?}").contains("hunter2"));
        assert_eq!(secret, Value::from("hunter2"));
        assert_eq!(Value::sensitive(secret.clone()), secret, "marked once");
        assert!(nested.contains_sensitive());
        let (plain, had) = nested.unmark_deep();
        assert!(had);
        assert_eq!(
            plain.as_map().unwrap()["password"].as_str(),
            Some("hunter2")
        );
        assert_eq!(secret.to_json(), serde_json::json!("hunter2"));
    }

    #[test]
    fn json_round_trip() {
        let json = serde_json::json!({"a": [1, "x", true, null], "b": {"c": 2.5}});
        assert_eq!(Value::from_json(&json).to_json(), json);
    }
}

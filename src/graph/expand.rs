//! `count` and `for_each`: turning their values into instance keys, with Terraform's rules
//! (whole non-negative count; for_each over a map or a set of strings, never a list).

use crate::addrs::InstanceKey;
use crate::diagnostics::{Diagnostic, Span};
use gantry_provider::{Type, Value};

/// How an object expands into instances.
#[derive(Clone, Debug, PartialEq)]
pub enum Expansion {
    /// Neither `count` nor `for_each`.
    Single,
    Count(usize),
    /// Keys and their `each.value`, sorted by key.
    ForEach(Vec<(String, Value)>),
    /// Not known until apply (only tolerated by `validate`).
    Unknown,
}

impl Expansion {
    /// The instance keys with their `count.index` / `each` bindings.
    pub fn keys(&self) -> Vec<(InstanceKey, Option<Value>)> {
        match self {
            Expansion::Single => vec![(InstanceKey::None, None)],
            Expansion::Count(n) => (0..*n).map(|i| (InstanceKey::Int(i), None)).collect(),
            Expansion::ForEach(items) => items
                .iter()
                .map(|(k, v)| (InstanceKey::Str(k.clone()), Some(v.clone())))
                .collect(),
            Expansion::Unknown => Vec::new(),
        }
    }

    /// Combines per-instance values into the value a reference to the object sees.
    pub fn collect(&self, instances: Vec<(InstanceKey, Value)>) -> Value {
        match self {
            Expansion::Single => instances.into_iter().next().map_or(Value::Null, |(_, v)| v),
            Expansion::Count(_) => Value::List(instances.into_iter().map(|(_, v)| v).collect()),
            Expansion::ForEach(_) => Value::Map(
                instances
                    .into_iter()
                    .map(|(k, v)| match k {
                        InstanceKey::Str(s) => (s, v),
                        other => (other.to_string(), v),
                    })
                    .collect(),
            ),
            Expansion::Unknown => Value::unknown(),
        }
    }
}

/// Interprets an evaluated `count`.
pub fn count_expansion(value: &Value, span: Span) -> Result<Expansion, Diagnostic> {
    let bad = |label: String| {
        Diagnostic::error("invalid `count` argument")
            .with_span(span)
            .with_label(label)
            .with_help("`count` must be a whole number, 0 or more")
    };
    match value.convert(&Type::Number) {
        Ok(Value::Unknown(_)) => Ok(Expansion::Unknown),
        Ok(Value::Number(n)) if n < 0.0 => Err(bad(format!("`count` is negative ({n})"))),
        Ok(Value::Number(n)) if n.fract() != 0.0 => Err(bad(format!("`count` is not whole ({n})"))),
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Ok(Value::Number(n)) => Ok(Expansion::Count(n as usize)),
        Ok(Value::Null) => Err(bad("`count` is null".into())),
        _ => Err(bad(format!(
            "a number is required, got {}",
            value.type_name()
        ))),
    }
}

/// Interprets an evaluated `for_each`.
pub fn for_each_expansion(value: &Value, span: Span) -> Result<Expansion, Diagnostic> {
    let bad = |label: String, help: &str| {
        Diagnostic::error("invalid `for_each` argument")
            .with_span(span)
            .with_label(label)
            .with_help(help.to_owned())
    };
    match value {
        Value::Unknown(_) => Ok(Expansion::Unknown),
        Value::Null => Err(bad(
            "`for_each` is null".into(),
            "use `{}` or `toset([])` for none",
        )),
        Value::Map(map) => Ok(Expansion::ForEach(
            map.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
        )),
        Value::Set(items) => {
            let mut out = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::String(s) => out.push((s.clone(), item.clone())),
                    Value::Unknown(_) => return Ok(Expansion::Unknown),
                    Value::Null => {
                        return Err(bad(
                            "the set contains null".into(),
                            "remove nulls with `compact(...)`",
                        ))
                    }
                    other => {
                        return Err(bad(
                            format!(
                                "a set of strings is required, the set contains a {}",
                                other.type_name()
                            ),
                            "convert elements with `toset([for x in ... : tostring(x)])`",
                        ))
                    }
                }
            }
            Ok(Expansion::ForEach(out))
        }
        Value::List(items) => {
            let all_strings = items.iter().all(|i| matches!(i, Value::String(_)));
            let label = if all_strings {
                "a list of strings was given; `for_each` needs a map or a set of strings".to_owned()
            } else {
                format!(
                    "a list was given; `for_each` needs a map or a set of strings ({} elements)",
                    items.len()
                )
            };
            Err(bad(
                label,
                "convert the list with `toset(...)`, or build a map with a `for` expression",
            ))
        }
        other => Err(bad(
            format!(
                "a map or set of strings is required, got {}",
                other.type_name()
            ),
            "use `toset([...])` or a map",
        )),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::diagnostics::FileId;

    fn span() -> Span {
        Span::new(FileId(0), 0..1)
    }

    #[test]
    fn count_must_be_whole_and_non_negative() {
        assert_eq!(
            count_expansion(&Value::from(3_i64), span()),
            Ok(Expansion::Count(3))
        );
        assert_eq!(
            count_expansion(&Value::from("2"), span()),
            Ok(Expansion::Count(2))
        );
        assert!(count_expansion(&Value::from(-1_i64), span()).is_err());
        assert!(count_expansion(&Value::Number(1.5), span()).is_err());
        assert_eq!(
            count_expansion(&Value::unknown(), span()),
            Ok(Expansion::Unknown)
        );
    }

    #[test]
    fn for_each_rejects_lists_with_a_hint() {
        let err = for_each_expansion(&Value::from(vec!["a", "b"]), span()).unwrap_err();
        assert_eq!(
            err.help.as_deref(),
            Some("convert the list with `toset(...)`, or build a map with a `for` expression")
        );
        let set = Value::set(vec!["b".into(), "a".into()]);
        let keys: Vec<_> = for_each_expansion(&set, span())
            .map(|e| e.keys())
            .unwrap_or_default();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].0, InstanceKey::Str("a".into()));
    }
}

//! Attribute access and indexing on values (`x.name`, `x[0]`, `x["key"]`).

use crate::diagnostics::{Diagnostic, Span};
use gantry_provider::{Type, Value};
use std::borrow::Cow;

/// Why a traversal step failed; turned into a diagnostic at the step's span.
pub struct TraverseError {
    summary: &'static str,
    label: String,
    help: Option<String>,
}

impl TraverseError {
    pub fn into_diagnostic(self, span: Span) -> Diagnostic {
        let d = Diagnostic::error(self.summary)
            .with_span(span)
            .with_label(self.label);
        match self.help {
            Some(h) => d.with_help(h),
            None => d,
        }
    }
}

fn fail(summary: &'static str, label: String) -> TraverseError {
    TraverseError {
        summary,
        label,
        help: None,
    }
}

/// `value.name`. On an `open` object (unknown schema) a missing attribute is unknown.
pub fn get_attr(value: Value, name: &str, open: bool) -> Result<Value, TraverseError> {
    match value {
        // What is inside a sensitive value is sensitive too.
        Value::Sensitive(inner) => get_attr(*inner, name, open).map(Value::sensitive),
        Value::Unknown(_) => Ok(Value::unknown()),
        Value::Map(mut map) => match map.remove(name) {
            Some(v) => Ok(v),
            None if open => Ok(Value::unknown()),
            None => {
                let help = crate::diagnostics::did_you_mean(name, map.keys().map(String::as_str))
                    .map(|s| format!("did you mean `{s}`?"))
                    .or_else(|| {
                        (!map.is_empty()).then(|| {
                            let keys: Vec<&str> = map.keys().map(String::as_str).take(8).collect();
                            format!("available attributes: {}", keys.join(", "))
                        })
                    });
                Err(TraverseError {
                    summary: "unsupported attribute",
                    label: format!("this object has no attribute `{name}`"),
                    help,
                })
            }
        },
        Value::Null => Err(fail(
            "attempt to get attribute from null value",
            format!("this value is null, so it has no attribute `{name}`"),
        )),
        Value::List(_) | Value::Set(_) => Err(TraverseError {
            summary: "unsupported attribute",
            label: format!("a {} has no attribute `{name}`", value.type_name()),
            help: Some(format!(
                "to read `{name}` of every element, write `[*].{name}`"
            )),
        }),
        other => Err(fail(
            "unsupported attribute",
            format!("a {} has no attributes", other.type_name()),
        )),
    }
}

/// `value[key]`.
pub fn index(value: Value, key: &Value, open: bool) -> Result<Value, TraverseError> {
    if let Value::Sensitive(inner) = value {
        return index(*inner, key, open).map(Value::sensitive);
    }
    if key.contains_sensitive() {
        // Which element a secret key picks is as secret as the key.
        let (plain, _) = key.clone().unmark_deep();
        return match index(value, &plain, open) {
            Ok(v) => Ok(Value::sensitive(v)),
            Err(_) => Err(fail(
                "invalid index",
                "no element for this key (the key is sensitive and not shown)".to_owned(),
            )),
        };
    }
    if let Value::Unknown(_) = key {
        return Ok(Value::unknown());
    }
    match value {
        Value::Unknown(_) => Ok(Value::unknown()),
        Value::List(mut items) => {
            let i = list_index(key, items.len())?;
            Ok(items.swap_remove(i))
        }
        Value::Map(mut map) => {
            let k = match key.convert(&Type::String) {
                Ok(Value::String(k)) => k,
                _ => {
                    return Err(fail(
                        "invalid index",
                        format!("a map key must be a string, got {}", key.type_name()),
                    ))
                }
            };
            match map.remove(&k) {
                Some(v) => Ok(v),
                None if open => Ok(Value::unknown()),
                None => Err(TraverseError {
                    summary: "invalid index",
                    label: format!(
                        "the map has no element with key {}",
                        Value::String(k.clone())
                    ),
                    help: crate::diagnostics::did_you_mean(&k, map.keys().map(String::as_str))
                        .map(|s| format!("did you mean \"{s}\"?")),
                }),
            }
        }
        Value::Set(_) => Err(TraverseError {
            summary: "invalid index",
            label: "elements of a set cannot be indexed".into(),
            help: Some("convert it with `tolist(...)` first".into()),
        }),
        Value::Null => Err(fail("invalid index", "cannot index a null value".into())),
        other => Err(fail(
            "invalid index",
            format!("a {} cannot be indexed", other.type_name()),
        )),
    }
}

fn list_index(key: &Value, len: usize) -> Result<usize, TraverseError> {
    let n = match key.convert(&Type::Number) {
        Ok(Value::Number(n)) => n,
        _ => {
            return Err(fail(
                "invalid index",
                format!("a list index must be a number, got {}", key.type_name()),
            ))
        }
    };
    if n.fract() != 0.0 || n < 0.0 {
        return Err(fail(
            "invalid index",
            format!("index {n} is not a whole non-negative number"),
        ));
    }
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let i = n as usize;
    if i >= len {
        return Err(TraverseError {
            summary: "invalid index",
            label: format!("index {i} is out of range for a list of {len} element(s)"),
            help: (len > 0).then(|| format!("valid indexes are 0 to {}", len - 1)),
        });
    }
    Ok(i)
}

/// [`get_attr`] without copying: borrowed in, borrowed out when possible.
pub fn get_attr_ref<'a>(
    value: Cow<'a, Value>,
    name: &str,
    open: bool,
) -> Result<Cow<'a, Value>, TraverseError> {
    match value {
        Cow::Borrowed(Value::Map(map)) => match map.get(name) {
            Some(v) => Ok(Cow::Borrowed(v)),
            None => get_attr(Value::Map(map.clone()), name, open).map(Cow::Owned),
        },
        other => get_attr(other.into_owned(), name, open).map(Cow::Owned),
    }
}

/// [`index`] without copying: borrowed in, borrowed out when possible.
pub fn index_ref<'a>(
    value: Cow<'a, Value>,
    key: &Value,
    open: bool,
) -> Result<Cow<'a, Value>, TraverseError> {
    match (&value, key) {
        (Cow::Borrowed(Value::Map(map)), Value::String(k)) => {
            if let Some(v) = map.get(k) {
                return Ok(Cow::Borrowed(v));
            }
        }
        (Cow::Borrowed(Value::List(items)), Value::Number(n)) if n.fract() == 0.0 && *n >= 0.0 =>
        {
            #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
            if let Some(v) = items.get(*n as usize) {
                return Ok(Cow::Borrowed(v));
            }
        }
        _ => {}
    }
    index(value.into_owned(), key, open).map(Cow::Owned)
}

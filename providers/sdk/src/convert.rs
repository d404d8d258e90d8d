//! Conversion of a [`Value`] to a [`Type`], with Terraform's automatic conversions
//! (`"5"` to `5`, `true` to `"true"`, tuple to list, object to map, optional attributes
//! with defaults).

use crate::types::Type;
use crate::value::{format_number, Value};
use std::fmt;

/// Why a value does not fit a type; `path` locates the offending element
/// (`.zones[1]`, empty for the value itself).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct ConvertError {
    pub path: String,
    pub message: String,
}

impl fmt::Display for ConvertError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            f.write_str(&self.message)
        } else {
            write!(f, "at `{}`: {}", self.path, self.message)
        }
    }
}

fn err(path: &str, message: impl Into<String>) -> ConvertError {
    ConvertError {
        path: path.to_owned(),
        message: message.into(),
    }
}

impl Value {
    /// Converts this value to `ty`, or explains why it cannot be.
    pub fn convert(&self, ty: &Type) -> Result<Value, ConvertError> {
        convert_at(self, ty, &mut String::new())
    }
}

fn convert_at(value: &Value, ty: &Type, path: &mut String) -> Result<Value, ConvertError> {
    if let Value::Sensitive(inner) = value {
        // The mark stays on the converted value; an error must not quote the value.
        return match convert_at(inner, ty, path) {
            Ok(v) => Ok(Value::sensitive(v)),
            Err(e) => Err(err(
                &e.path,
                format!("{ty} required; the value is sensitive and not shown"),
            )),
        };
    }
    if let Value::Unknown(_) = value {
        return Ok(Value::Unknown(ty.clone()));
    }
    if value.is_null() || ty.is_any() {
        return Ok(value.clone());
    }
    match ty {
        Type::Any => Ok(value.clone()),
        Type::String => match value {
            Value::String(_) => Ok(value.clone()),
            Value::Number(n) => Ok(Value::String(format_number(*n))),
            Value::Bool(b) => Ok(Value::String(b.to_string())),
            _ => Err(err(
                path,
                format!("string required, got {}", value.type_name()),
            )),
        },
        Type::Number => match value {
            Value::Number(_) => Ok(value.clone()),
            Value::String(s) => parse_number(s).map(Value::Number).ok_or_else(|| {
                err(
                    path,
                    format!("a number is required, got the string {value}"),
                )
            }),
            _ => Err(err(
                path,
                format!("number required, got {}", value.type_name()),
            )),
        },
        Type::Bool => match value {
            Value::Bool(_) => Ok(value.clone()),
            Value::String(s) if s == "true" => Ok(Value::Bool(true)),
            Value::String(s) if s == "false" => Ok(Value::Bool(false)),
            _ => Err(err(path, format!("bool required, got {}", describe(value)))),
        },
        Type::List(elem) | Type::Set(elem) => {
            let items = match value {
                Value::List(items) | Value::Set(items) => items,
                _ => {
                    return Err(err(
                        path,
                        format!("{ty} required, got {}", value.type_name()),
                    ))
                }
            };
            let converted = convert_items(items, |_| elem, path)?;
            Ok(if matches!(ty, Type::Set(_)) {
                Value::set(converted)
            } else {
                Value::List(converted)
            })
        }
        Type::Tuple(elems) => {
            let items = match value {
                Value::List(items) | Value::Set(items) => items,
                _ => {
                    return Err(err(
                        path,
                        format!("tuple required, got {}", value.type_name()),
                    ))
                }
            };
            if items.len() != elems.len() {
                return Err(err(
                    path,
                    format!(
                        "tuple of {} elements required, got {}",
                        elems.len(),
                        items.len()
                    ),
                ));
            }
            Ok(Value::List(convert_items(items, |i| &elems[i], path)?))
        }
        Type::Map(elem) => {
            let Value::Map(map) = value else {
                return Err(err(
                    path,
                    format!("{ty} required, got {}", value.type_name()),
                ));
            };
            let mut out = std::collections::BTreeMap::new();
            for (k, v) in map {
                let len = path.len();
                path.push_str(&format!("[{}]", Value::String(k.clone())));
                out.insert(k.clone(), convert_at(v, elem, path)?);
                path.truncate(len);
            }
            Ok(Value::Map(out))
        }
        Type::Object(attrs) => {
            let Value::Map(map) = value else {
                return Err(err(
                    path,
                    format!("object required, got {}", value.type_name()),
                ));
            };
            let mut out = std::collections::BTreeMap::new();
            for (name, attr) in attrs {
                let len = path.len();
                path.push('.');
                path.push_str(name);
                let converted = match map.get(name) {
                    Some(v) if !(v.is_null() && attr.optional) => convert_at(v, &attr.ty, path)?,
                    Some(_) | None if attr.optional => match &attr.default {
                        Some(default) => convert_at(default, &attr.ty, path)?,
                        None => Value::Null,
                    },
                    _ => {
                        path.truncate(len);
                        return Err(err(path, format!("attribute `{name}` is required")));
                    }
                };
                path.truncate(len);
                out.insert(name.clone(), converted);
            }
            Ok(Value::Map(out))
        }
    }
}

fn convert_items<'t>(
    items: &[Value],
    elem_type: impl Fn(usize) -> &'t Type,
    path: &mut String,
) -> Result<Vec<Value>, ConvertError> {
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let len = path.len();
        path.push_str(&format!("[{i}]"));
        out.push(convert_at(item, elem_type(i), path)?);
        path.truncate(len);
    }
    Ok(out)
}

fn describe(value: &Value) -> String {
    match value {
        Value::String(_) => format!("the string {value}"),
        other => other.type_name().to_owned(),
    }
}

/// Parses a number the way Terraform's `tonumber` does: decimal or exponent notation,
/// no surrounding spaces, no hex.
pub fn parse_number(s: &str) -> Option<f64> {
    let valid = !s.is_empty()
        && s.trim() == s
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E'));
    if !valid {
        return None;
    }
    s.parse::<f64>().ok().filter(|n| n.is_finite())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::types::ObjectAttr;

    #[test]
    fn primitives_convert_like_terraform() {
        assert_eq!(Value::from(5_i64).convert(&Type::String), Ok("5".into()));
        assert_eq!(Value::from("5").convert(&Type::Number), Ok(5_i64.into()));
        assert_eq!(Value::from("true").convert(&Type::Bool), Ok(true.into()));
        assert!(Value::from("yes").convert(&Type::Bool).is_err());
        assert!(Value::from("0x10").convert(&Type::Number).is_err());
    }

    #[test]
    fn optional_attributes_take_defaults() {
        let ty = Type::Object(
            [
                ("name".to_owned(), ObjectAttr::required(Type::String)),
                (
                    "size".to_owned(),
                    ObjectAttr::optional(Type::Number, Some(10_i64.into())),
                ),
            ]
            .into(),
        );
        let v = Value::map([("name", Value::from("a"))])
            .convert(&ty)
            .unwrap_or_default();
        assert_eq!(
            v,
            Value::map([("name", "a".into()), ("size", 10_i64.into())])
        );
        let missing = Value::map([("size", Value::from(1_i64))])
            .convert(&ty)
            .unwrap_err();
        assert_eq!(missing.message, "attribute `name` is required");
    }

    #[test]
    fn error_paths_point_inside() {
        let ty = Type::list(Type::Number);
        let e = Value::from(vec![Value::from(1_i64), Value::from("x")])
            .convert(&ty)
            .unwrap_err();
        assert_eq!(e.path, "[1]");
    }

    #[test]
    fn unknown_takes_the_target_type() {
        assert_eq!(
            Value::unknown().convert(&Type::String).map(|v| v.type_of()),
            Ok(Type::String)
        );
    }
}

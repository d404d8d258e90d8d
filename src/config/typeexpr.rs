//! Type constraint expressions (`list(object({ name = string, size = optional(number, 10) }))`)
//! parsed into [`Type`].

use super::eval::eval_constant;
use super::model::{span_of, Expr};
use crate::diagnostics::{Diagnostic, FileId};
use gantry_provider::{ObjectAttr, Type};
use hcl_edit::expr::{Expression, ObjectKey};

const PRIMITIVES: &[&str] = &["string", "number", "bool", "any", "list", "map", "set"];

/// Parses a type constraint written in a `variable` block.
pub fn parse_type(expr: &Expression, file: FileId) -> Result<Type, Diagnostic> {
    parse(expr, file, false)
}

fn parse(expr: &Expression, file: FileId, in_object: bool) -> Result<Type, Diagnostic> {
    let bad = |msg: &str| {
        Diagnostic::error("invalid type constraint")
            .with_span(span_of(file, expr))
            .with_label(msg.to_owned())
            .with_help("types are string, number, bool, any, list(T), set(T), map(T), tuple([T...]), object({name = T})")
    };
    match expr {
        Expression::Variable(v) => match v.as_str() {
            "string" => Ok(Type::String),
            "number" => Ok(Type::Number),
            "bool" => Ok(Type::Bool),
            "any" => Ok(Type::Any),
            // Terraform 0.11 style bare collection names mean "of any".
            "list" => Ok(Type::list(Type::Any)),
            "map" => Ok(Type::map(Type::Any)),
            "set" => Ok(Type::set(Type::Any)),
            other => {
                let hint = crate::diagnostics::did_you_mean(other, PRIMITIVES.iter().copied());
                Err(bad(&match hint {
                    Some(h) => format!("unknown type `{other}`; did you mean `{h}`?"),
                    None => format!("unknown type `{other}`"),
                }))
            }
        },
        // Legacy quoted types: "string", "list", "map".
        Expression::String(s) => match s.value().as_str() {
            "string" => Ok(Type::String),
            "list" => Ok(Type::list(Type::Any)),
            "map" => Ok(Type::map(Type::Any)),
            _ => Err(bad("a type is written without quotes")),
        },
        Expression::FuncCall(call) => {
            let name = call.name.name.as_str();
            let args: Vec<&Expression> = call.args.iter().collect();
            match (name, args.as_slice()) {
                ("list", [t]) => Ok(Type::list(parse(t, file, false)?)),
                ("set", [t]) => Ok(Type::set(parse(t, file, false)?)),
                ("map", [t]) => Ok(Type::map(parse(t, file, false)?)),
                ("tuple", [Expression::Array(items)]) => Ok(Type::Tuple(
                    items
                        .iter()
                        .map(|t| parse(t, file, false))
                        .collect::<Result<_, _>>()?,
                )),
                ("object", [Expression::Object(obj)]) => {
                    let mut attrs = std::collections::BTreeMap::new();
                    for (key, value) in obj.iter() {
                        let name = match key {
                            ObjectKey::Ident(id) => id.as_str().to_owned(),
                            ObjectKey::Expression(Expression::String(s)) => s.value().clone(),
                            ObjectKey::Expression(e) => {
                                return Err(Diagnostic::error("invalid object attribute name")
                                    .with_span(span_of(file, e)))
                            }
                        };
                        attrs.insert(name, parse_attr(value.expr(), file)?);
                    }
                    Ok(Type::Object(attrs))
                }
                ("optional", _) if !in_object => {
                    Err(bad("`optional` is only allowed for object attributes"))
                }
                ("list" | "set" | "map", _) => Err(bad(&format!("`{name}` takes one type"))),
                ("tuple", _) => Err(bad(
                    "`tuple` takes a list of types: tuple([string, number])",
                )),
                ("object", _) => Err(bad("`object` takes attributes: object({ name = string })")),
                _ => Err(bad(&format!("unknown type constructor `{name}`"))),
            }
        }
        _ => Err(bad("not a type")),
    }
}

fn parse_attr(expr: &Expression, file: FileId) -> Result<ObjectAttr, Diagnostic> {
    if let Expression::FuncCall(call) = expr {
        if call.name.name.as_str() == "optional" {
            let args: Vec<&Expression> = call.args.iter().collect();
            return match args.as_slice() {
                [t] => Ok(ObjectAttr::optional(parse(t, file, true)?, None)),
                [t, default] => {
                    let ty = parse(t, file, true)?;
                    let value = eval_constant(&Expr {
                        file,
                        expr: (*default).clone(),
                    })?;
                    let value = value.convert(&ty).map_err(|e| {
                        Diagnostic::error("invalid default for optional attribute")
                            .with_span(span_of(file, *default))
                            .with_label(e.to_string())
                    })?;
                    Ok(ObjectAttr::optional(ty, Some(value)))
                }
                _ => Err(Diagnostic::error("invalid type constraint")
                    .with_span(span_of(file, expr))
                    .with_label("`optional` takes a type and an optional default")),
            };
        }
    }
    Ok(ObjectAttr::required(parse(expr, file, true)?))
}

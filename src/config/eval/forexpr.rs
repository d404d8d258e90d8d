//! `for` expressions: `[for s in var.subnets : s.id if s.public]` and
//! `{ for k, v in var.m : k => v... }` (grouping mode).

use super::Evaluator;
use crate::config::model::span_of;
use crate::diagnostics::{Diagnostic, FileId};
use gantry_provider::{Type, Value};
use std::collections::BTreeMap;

/// The (key, value) pairs of a collection: list index or map key, and element. `None` when
/// the collection is unknown.
pub fn iterate(collection: &Value) -> Result<Option<Vec<(Value, Value)>>, String> {
    match collection {
        Value::Sensitive(inner) => iterate(inner),
        Value::Unknown(_) => Ok(None),
        Value::List(items) => Ok(Some(
            items
                .iter()
                .enumerate()
                .map(|(i, v)| (Value::from(i), v.clone()))
                .collect(),
        )),
        // A set's key is the element itself, as in Terraform.
        Value::Set(items) => Ok(Some(items.iter().map(|v| (v.clone(), v.clone())).collect())),
        Value::Map(map) => Ok(Some(
            map.iter()
                .map(|(k, v)| (Value::String(k.clone()), v.clone()))
                .collect(),
        )),
        Value::Null => Err("cannot iterate over a null value".into()),
        other => Err(format!("cannot iterate over a {}", other.type_name())),
    }
}

impl Evaluator<'_> {
    pub(super) fn for_expr(
        &mut self,
        f: &hcl_edit::expr::ForExpr,
        file: FileId,
    ) -> Result<Value, Diagnostic> {
        // Elements keep their own marks; a mark on the collection as a whole, on a key or on
        // a condition marks the result.
        let open = self.is_open_reference(&f.intro.collection_expr, file);
        let (collection, mut marked) = self.expr(&f.intro.collection_expr, file)?.unmark();
        let pairs = iterate(&collection).map_err(|msg| {
            Diagnostic::error("invalid `for` collection")
                .with_span(span_of(file, &f.intro.collection_expr))
                .with_label(msg)
        })?;
        let Some(pairs) = pairs else {
            return Ok(Value::unknown());
        };
        let value_var = f.intro.value_var.as_str().to_owned();
        let key_var = f.intro.key_var.as_ref().map(|k| k.as_str().to_owned());
        let mut list = Vec::new();
        let mut object: BTreeMap<String, Value> = BTreeMap::new();
        let mut unknown = false;
        for (k, v) in pairs {
            self.locals.push((value_var.clone(), v));
            if open {
                self.open_locals.push(self.locals.len() - 1);
            }
            if let Some(kv) = &key_var {
                self.locals.push((kv.clone(), k));
            }
            let result = self.for_item(f, file, &mut list, &mut object, &mut unknown, &mut marked);
            if key_var.is_some() {
                self.locals.pop();
            }
            if open {
                self.open_locals.pop();
            }
            self.locals.pop();
            result?;
        }
        if unknown {
            return Ok(Value::unknown());
        }
        let out = if f.key_expr.is_some() {
            Value::Map(object)
        } else {
            Value::List(list)
        };
        Ok(if marked { Value::sensitive(out) } else { out })
    }

    fn for_item(
        &mut self,
        f: &hcl_edit::expr::ForExpr,
        file: FileId,
        list: &mut Vec<Value>,
        object: &mut BTreeMap<String, Value>,
        unknown: &mut bool,
        marked: &mut bool,
    ) -> Result<(), Diagnostic> {
        if let Some(cond) = &f.cond {
            let (c, m) = self.expr(&cond.expr, file)?.unmark_deep();
            *marked |= m;
            match c.convert(&Type::Bool) {
                Ok(Value::Bool(true)) => {}
                Ok(Value::Bool(false)) => return Ok(()),
                Ok(Value::Unknown(_)) => {
                    *unknown = true;
                    return Ok(());
                }
                _ => {
                    return Err(Diagnostic::error("invalid `for` condition")
                        .with_span(span_of(file, &cond.expr))
                        .with_label(format!("a bool is required, got {}", c.type_name())))
                }
            }
        }
        let value = self.expr(&f.value_expr, file)?;
        let Some(key_expr) = &f.key_expr else {
            list.push(value);
            return Ok(());
        };
        let (key, m) = self.expr(key_expr, file)?.unmark_deep();
        *marked |= m;
        let key = match key.convert(&Type::String) {
            Ok(Value::String(k)) => k,
            Ok(Value::Unknown(_)) => {
                *unknown = true;
                return Ok(());
            }
            _ => {
                return Err(Diagnostic::error("invalid `for` key")
                    .with_span(span_of(file, key_expr))
                    .with_label(format!(
                        "an object key must be a string, got {}",
                        key.type_name()
                    )))
            }
        };
        let label = format!("two elements produce the key \"{key}\"");
        match object.entry(key) {
            std::collections::btree_map::Entry::Occupied(mut e) if f.grouping => {
                if let Value::List(items) = e.get_mut() {
                    items.push(value);
                }
            }
            std::collections::btree_map::Entry::Occupied(_) => {
                return Err(Diagnostic::error("duplicate object key")
                    .with_span(span_of(file, key_expr))
                    .with_label(label)
                    .with_help("add `...` after the value to group duplicates into lists"));
            }
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(if f.grouping {
                    Value::List(vec![value])
                } else {
                    value
                });
            }
        }
        Ok(())
    }
}

//! How a data source is planned, for every cloud: it keeps its last read while its
//! configuration is unchanged, and is read again at apply once it changes.

use crate::plan::{plan_from_schema, PlannedState};
use crate::schema::{Nesting, Schema};
use crate::value::Value;

/// The plan of a data source: while its configuration is unchanged it keeps what the last
/// read found; once the configuration changes, what it computes is unknown until it is read
/// again at apply (so everything using it is planned against the new values).
pub fn plan_data_source(schema: &Schema, prior: Option<&Value>, config: &Value) -> PlannedState {
    // State gives sets and blocks back as lists: compare in the schema's shape.
    let shaped = prior.map(|p| reshape(schema, p));
    let mut planned = plan_from_schema(schema, shaped.as_ref(), config);
    let get = |v: &Value, name: &str| {
        v.as_map()
            .and_then(|m| m.get(name))
            .cloned()
            .unwrap_or_default()
    };
    let mut configured = schema
        .attributes
        .iter()
        .filter(|(_, a)| !a.computed || a.optional)
        .map(|(name, _)| name)
        .chain(schema.blocks.keys());
    match (prior, &shaped) {
        (Some(p), Some(s)) if !configured.any(|n| get(s, n) != get(&planned.value, n)) => {
            PlannedState {
                value: p.clone(),
                requires_replace: Vec::new(),
            }
        }
        _ => {
            if let (Some(_), Value::Map(map)) = (prior, &mut planned.value) {
                for (name, attr) in schema
                    .attributes
                    .iter()
                    .filter(|(_, a)| a.computed && !a.optional)
                {
                    map.insert(name.clone(), Value::Unknown(attr.ty.clone()));
                }
            }
            planned
        }
    }
}

/// `value` (as state stores it) in the types and nesting `schema` declares.
fn reshape(schema: &Schema, value: &Value) -> Value {
    let Value::Map(map) = value else {
        return value.clone();
    };
    let mut out = map.clone();
    for (name, attr) in &schema.attributes {
        if let Some(Ok(v)) = map.get(name).map(|v| v.convert(&attr.ty)) {
            out.insert(name.clone(), v);
        }
    }
    for (name, block) in &schema.blocks {
        let items: Vec<Value> = match map.get(name) {
            Some(Value::List(items) | Value::Set(items)) => {
                items.iter().map(|i| reshape(&block.schema, i)).collect()
            }
            Some(v @ Value::Map(_)) => vec![reshape(&block.schema, v)],
            _ => continue,
        };
        let shaped = match block.nesting {
            Nesting::Single => items.into_iter().next().unwrap_or_default(),
            Nesting::List => Value::List(items),
            Nesting::Set => Value::set(items),
        };
        out.insert(name.clone(), shaped);
    }
    Value::Map(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Attribute, NestedBlock, Type};

    fn schema() -> Schema {
        Schema::default()
            .attr("version", Attribute::optional(Type::String))
            .attr("json", Attribute::computed(Type::String))
            .block(
                "statement",
                NestedBlock {
                    nesting: Nesting::Set,
                    schema: Schema::default()
                        .attr("actions", Attribute::optional(Type::set(Type::String))),
                    min_items: 0,
                    max_items: None,
                    force_new: false,
                },
            )
    }

    fn statement(actions: &[&str]) -> Value {
        let actions = actions.iter().map(|a| Value::string(*a)).collect();
        Value::map([("actions", Value::set(actions))])
    }

    #[test]
    fn an_unchanged_data_source_keeps_its_last_read_in_the_shape_state_gave() {
        // As state hands it back: sets and set blocks as lists.
        let prior = Value::map([
            ("version", Value::string("1")),
            ("json", Value::string("{}")),
            (
                "statement",
                Value::List(vec![Value::map([(
                    "actions",
                    Value::List(vec![Value::string("b"), Value::string("a")]),
                )])]),
            ),
        ]);
        let config = Value::map([
            ("version", Value::string("1")),
            ("statement", Value::set(vec![statement(&["a", "b"])])),
        ]);
        let same = plan_data_source(&schema(), Some(&prior), &config);
        assert_eq!(same.value, prior);
        let changed = Value::map([
            ("version", Value::string("2")),
            ("statement", Value::set(vec![statement(&["a", "b"])])),
        ]);
        let planned = plan_data_source(&schema(), Some(&prior), &changed);
        let map = planned.value.as_map().cloned().unwrap_or_default();
        assert!(map.get("json").is_some_and(Value::is_unknown));
        assert_eq!(map.get("version"), Some(&Value::string("2")));
    }
}

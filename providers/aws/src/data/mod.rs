//! Data sources, one file each, with Terraform's names.

use crate::resources::Cx;
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, plan_from_schema, Nesting, PlannedState, Schema, Value};

mod availability_zones;
mod caller_identity;
mod ec2_instance_type;
mod ec2_instance_type_offerings;
pub mod iam_policy_document;

/// Every data source of the provider.
pub fn all() -> Vec<Box<dyn DataSource>> {
    vec![
        Box::new(availability_zones::AvailabilityZones),
        Box::new(caller_identity::CallerIdentity),
        Box::new(iam_policy_document::IamPolicyDocument),
        Box::new(ec2_instance_type::Ec2InstanceType),
        Box::new(ec2_instance_type_offerings::Ec2InstanceTypeOfferings),
    ]
}

/// One AWS data source.
#[async_trait]
pub trait DataSource: Send + Sync {
    /// `aws_caller_identity`.
    fn name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// Reads it: the configuration with every computed attribute filled in.
    async fn read(&self, cx: &Cx<'_>, config: &Value) -> Result<Value>;
}

/// The plan of a data source: while its configuration is unchanged it keeps what the last
/// read found; once the configuration changes, what it computes is unknown until it is read
/// again at apply (so everything using it is planned against the new values).
pub fn plan(schema: &Schema, prior: Option<&Value>, config: &Value) -> PlannedState {
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
    use gantry_provider::{Attribute, NestedBlock, Type};

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
        let same = plan(&schema(), Some(&prior), &config);
        assert_eq!(same.value, prior);
        let changed = Value::map([
            ("version", Value::string("2")),
            ("statement", Value::set(vec![statement(&["a", "b"])])),
        ]);
        let planned = plan(&schema(), Some(&prior), &changed);
        let map = planned.value.as_map().cloned().unwrap_or_default();
        assert!(map.get("json").is_some_and(Value::is_unknown));
        assert_eq!(map.get("version"), Some(&Value::string("2")));
    }
}

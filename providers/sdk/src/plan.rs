//! Planning from a schema: the default `Provider::plan`, and checking a resource's evaluated
//! configuration against its schema (unknown arguments, missing required ones, types).

use crate::schema::{Nesting, Schema};
use crate::types::Type;
use crate::value::Value;
use std::collections::BTreeMap;

/// The planned new state of one resource instance.
#[derive(Clone, Debug, PartialEq)]
pub struct PlannedState {
    /// Attributes after the change; computed ones not known yet are unknown.
    pub value: Value,
    /// Attribute paths whose change forces replacing the object (empty: update in place).
    pub requires_replace: Vec<String>,
}

/// One problem in a resource's configuration.
#[derive(Clone, Debug, PartialEq)]
pub struct ConfigIssue {
    /// The argument concerned (`ingress.0.from_port`).
    pub path: String,
    pub message: String,
    /// A close valid name, for "did you mean".
    pub suggestion: Option<String>,
}

/// Checks an evaluated resource body (an object; nested blocks as lists of objects) against
/// `schema` and converts it to the schema's shape: attribute types, block nesting, defaults.
pub fn conform(schema: &Schema, config: &Value) -> Result<Value, Vec<ConfigIssue>> {
    let mut issues = Vec::new();
    let out = conform_at(schema, config, "", &mut issues);
    if issues.is_empty() {
        Ok(out)
    } else {
        Err(issues)
    }
}

fn conform_at(
    schema: &Schema,
    config: &Value,
    prefix: &str,
    issues: &mut Vec<ConfigIssue>,
) -> Value {
    let empty = BTreeMap::new();
    let map = match config {
        Value::Map(m) => m,
        Value::Unknown(_) => return Value::unknown(),
        _ => &empty,
    };
    let path = |name: &str| {
        if prefix.is_empty() {
            name.to_owned()
        } else {
            format!("{prefix}.{name}")
        }
    };
    for name in map.keys() {
        if !schema.attributes.contains_key(name) && !schema.blocks.contains_key(name) {
            let suggestion = closest(name, schema.names());
            issues.push(ConfigIssue {
                path: path(name),
                message: format!("unsupported argument `{name}`"),
                suggestion,
            });
        }
    }
    let mut out = BTreeMap::new();
    for (name, attr) in &schema.attributes {
        let given = map.get(name).filter(|v| !v.is_null());
        let value = match given {
            Some(_) if attr.computed && !attr.optional && !attr.required => {
                issues.push(ConfigIssue {
                    path: path(name),
                    message: format!("`{name}` is set by the provider and cannot be configured"),
                    suggestion: None,
                });
                Value::Null
            }
            Some(v) => match v.convert(&attr.ty) {
                Ok(c) => c,
                Err(e) => {
                    issues.push(ConfigIssue {
                        path: path(name),
                        message: format!("invalid value for `{name}`: {e}"),
                        suggestion: None,
                    });
                    Value::Null
                }
            },
            None if attr.required => {
                issues.push(ConfigIssue {
                    path: path(name),
                    message: format!("missing required argument `{name}`"),
                    suggestion: None,
                });
                Value::Null
            }
            None => attr.default.clone().unwrap_or(Value::Null),
        };
        out.insert(name.clone(), value);
    }
    for (name, block) in &schema.blocks {
        let items: Vec<Value> = match map.get(name) {
            Some(Value::List(items)) | Some(Value::Set(items)) => items.clone(),
            Some(Value::Map(_)) => vec![map[name].clone()],
            Some(Value::Unknown(_)) => {
                out.insert(name.clone(), Value::unknown());
                continue;
            }
            _ => Vec::new(),
        };
        if items.len() < block.min_items {
            issues.push(ConfigIssue {
                path: path(name),
                message: format!("at least {} `{name}` block(s) required", block.min_items),
                suggestion: None,
            });
        }
        if let Some(max) = block.max_items.filter(|m| items.len() > *m) {
            issues.push(ConfigIssue {
                path: path(name),
                message: format!(
                    "at most {max} `{name}` block(s) allowed, found {}",
                    items.len()
                ),
                suggestion: None,
            });
        }
        let converted: Vec<Value> = items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                conform_at(&block.schema, item, &format!("{}.{i}", path(name)), issues)
            })
            .collect();
        let value = match block.nesting {
            Nesting::Single => converted.into_iter().next().unwrap_or(Value::Null),
            Nesting::List => Value::List(converted),
            Nesting::Set => Value::set(converted),
        };
        out.insert(name.clone(), value);
    }
    Value::Map(out)
}

/// The default plan: configuration wins where set; computed attributes keep their prior
/// value on update, or are unknown on create and replace.
pub fn plan_from_schema(schema: &Schema, prior: Option<&Value>, config: &Value) -> PlannedState {
    let prior_map = prior.and_then(Value::as_map);
    let config_map = config.as_map();
    let mut requires_replace = Vec::new();
    let mut planned = BTreeMap::new();
    for (name, attr) in &schema.attributes {
        let configured = config_map
            .and_then(|m| m.get(name))
            .filter(|v| !v.is_null());
        let before = prior_map.and_then(|m| m.get(name));
        let value = match (configured, before) {
            (Some(v), _) => v.clone(),
            (None, Some(b)) if attr.computed => b.clone(),
            (None, _) if attr.computed => Value::Unknown(attr.ty.clone()),
            (None, _) => attr.default.clone().unwrap_or(Value::Null),
        };
        if attr.force_new {
            if let Some(b) = before {
                if differs(b, &value) {
                    requires_replace.push(name.clone());
                }
            }
        }
        planned.insert(name.clone(), value);
    }
    for (name, block) in &schema.blocks {
        let value = config_map
            .and_then(|m| m.get(name))
            .cloned()
            .unwrap_or(Value::Null);
        if block.force_new {
            if let Some(b) = prior_map.and_then(|m| m.get(name)) {
                if differs(b, &value) {
                    requires_replace.push(name.clone());
                }
            }
        }
        planned.insert(name.clone(), value);
    }
    // A replacement is a new object: what the provider computes is unknown again.
    if !requires_replace.is_empty() {
        for (name, attr) in &schema.attributes {
            let configured = config_map
                .and_then(|m| m.get(name))
                .is_some_and(|v| !v.is_null());
            if attr.computed && !configured {
                planned.insert(name.clone(), Value::Unknown(attr.ty.clone()));
            }
        }
    }
    // A new object's blocks: what the cloud computes inside them (a file share's
    // addresses) is unknown until it exists, not null, so references to it wait.
    if prior_map.is_none() || !requires_replace.is_empty() {
        for (name, block) in &schema.blocks {
            if let Some(value) = planned.get_mut(name) {
                unknown_inside(&block.schema, value);
            }
        }
    }
    PlannedState {
        value: Value::Map(planned),
        requires_replace,
    }
}

/// Marks the computed attributes a block leaves unset as unknown, through nested blocks.
fn unknown_inside(schema: &Schema, value: &mut Value) {
    match value {
        Value::List(items) | Value::Set(items) => {
            for item in items {
                unknown_inside(schema, item);
            }
        }
        Value::Map(map) => {
            for (name, attr) in &schema.attributes {
                let unset = map.get(name).is_none_or(Value::is_null);
                if attr.computed && unset {
                    map.insert(name.clone(), Value::Unknown(attr.ty.clone()));
                }
            }
            for (name, block) in &schema.blocks {
                if let Some(inner) = map.get_mut(name) {
                    unknown_inside(&block.schema, inner);
                }
            }
        }
        _ => {}
    }
}

/// True when a planned value may differ from the prior one (unknown counts as a change).
pub fn differs(before: &Value, after: &Value) -> bool {
    !after.is_wholly_known() || before != after
}

fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = edit_distance(name, c);
        if d <= (name.len() / 3).max(2) && best.is_none_or(|(bd, _)| d < bd) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| c.to_owned())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

/// The type of an object conforming to `schema` (for unknown values of whole blocks).
pub fn object_type(schema: &Schema) -> Type {
    let mut attrs: BTreeMap<String, crate::types::ObjectAttr> = schema
        .attributes
        .iter()
        .map(|(n, a)| (n.clone(), crate::types::ObjectAttr::required(a.ty.clone())))
        .collect();
    // Blocks too: converting a state to this type must not drop them.
    for (name, block) in &schema.blocks {
        let item = object_type(&block.schema);
        let ty = match block.nesting {
            Nesting::Single => item,
            Nesting::List => Type::list(item),
            Nesting::Set => Type::set(item),
        };
        attrs.insert(name.clone(), crate::types::ObjectAttr::optional(ty, None));
    }
    Type::Object(attrs)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::schema::Attribute;

    fn schema() -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("cidr_block", Attribute::required(Type::String).force_new())
            .attr("tags", Attribute::optional(Type::map(Type::String)))
            .attr("arn", Attribute::computed(Type::String))
    }

    #[test]
    fn object_type_keeps_blocks_so_typing_a_state_drops_none() {
        use crate::schema::NestedBlock;
        let schema = schema().block(
            "rule",
            NestedBlock {
                nesting: Nesting::Set,
                schema: Schema::default()
                    .attr("ports", Attribute::optional(Type::set(Type::Number))),
                min_items: 0,
                max_items: None,
                force_new: false,
            },
        );
        let json = serde_json::json!({"id": "x", "cidr_block": "10.0.0.0/16", "tags": null, "arn": null,
            "rule": [{"ports": [443, 22]}]});
        let typed = Value::from_json(&json)
            .convert(&object_type(&schema))
            .unwrap();
        let rule = Value::set(vec![Value::map([(
            "ports",
            Value::set(vec![Value::Number(22.0), Value::Number(443.0)]),
        )])]);
        assert_eq!(typed.as_map().unwrap()["rule"], rule);
    }

    #[test]
    fn create_leaves_computed_unknown() {
        let config = Value::map([("cidr_block", Value::from("10.0.0.0/16"))]);
        let p = plan_from_schema(&schema(), None, &config);
        assert!(p.value.as_map().unwrap()["id"].is_unknown());
        assert!(p.requires_replace.is_empty());
    }

    #[test]
    fn force_new_change_requires_replace_and_resets_computed() {
        let prior = Value::map([
            ("id", Value::from("vpc-1")),
            ("cidr_block", "10.0.0.0/16".into()),
            ("arn", "arn:x".into()),
        ]);
        let config = Value::map([("cidr_block", Value::from("10.1.0.0/16"))]);
        let p = plan_from_schema(&schema(), Some(&prior), &config);
        assert_eq!(p.requires_replace, vec!["cidr_block".to_owned()]);
        assert!(p.value.as_map().unwrap()["id"].is_unknown());
        let same = plan_from_schema(
            &schema(),
            Some(&prior),
            &Value::map([("cidr_block", Value::from("10.0.0.0/16"))]),
        );
        assert!(same.requires_replace.is_empty());
        assert_eq!(same.value.as_map().unwrap()["id"], Value::from("vpc-1"));
    }

    #[test]
    fn conform_reports_unknown_missing_and_computed() {
        let config = Value::map([("cidr_blok", Value::from("x")), ("arn", Value::from("y"))]);
        let issues = conform(&schema(), &config).unwrap_err();
        let messages: Vec<&str> = issues.iter().map(|i| i.message.as_str()).collect();
        assert!(messages.contains(&"unsupported argument `cidr_blok`"));
        assert!(messages.contains(&"missing required argument `cidr_block`"));
        assert!(messages.contains(&"`arn` is set by the provider and cannot be configured"));
        assert_eq!(
            issues
                .iter()
                .find(|i| i.path == "cidr_blok")
                .unwrap()
                .suggestion
                .as_deref(),
            Some("cidr_block")
        );
    }
}

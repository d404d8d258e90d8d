//! Filling in what the cloud computes: every computed attribute that the plan left unknown
//! or null gets a value, first from the provider's [`SimModel`] (an IP inside the subnet, an
//! ARN, an endpoint that looks like the cloud's), else a generic one from its name and type
//! (ids, endpoints, timestamps, zeros); and stored JSON is turned back into values of the
//! schema's types (sets stay sets), so that reading an object gives exactly what creating it
//! returned.

use gantry_provider::{Nesting, Schema, SimModel, SimObjectFacts, SimWorldView, Type, Value};
use std::collections::BTreeMap;

/// What generated values are made from.
pub struct Generator<'a> {
    pub type_name: &'a str,
    /// The object's id (already chosen).
    pub id: &'a str,
    pub region: &'a str,
    /// The creation time, RFC 3339.
    pub now: &'a str,
    /// The provider's description of its cloud, if it gave one.
    pub model: Option<&'a dyn SimModel>,
    /// The world, for the model to resolve references.
    pub world: &'a dyn SimWorldView,
    /// The configuration being filled.
    pub planned: &'a Value,
    /// A number unique to the object, for addresses derived from it.
    pub serial: u64,
    /// The provider block's plain string settings (`project`, `zone`).
    pub settings: std::collections::BTreeMap<String, String>,
}

/// A world with nothing in it (tests, data sources).
pub struct EmptyWorld;

impl SimWorldView for EmptyWorld {
    fn object(&self, _id: &str) -> Option<Value> {
        None
    }
}

/// `planned` (an object conforming to `schema`) with computed attributes filled: from
/// `prior` where it has them (the object as it is: a computed-only attribute always keeps
/// the cloud's value), else generated. Unknown values left elsewhere become null. The
/// top-level `id` is `gen.id`.
pub fn fill(schema: &Schema, planned: &Value, prior: Option<&Value>, gen: &Generator<'_>) -> Value {
    let mut out = fill_object(schema, planned.as_map(), prior.and_then(Value::as_map), gen);
    out.insert("id".to_owned(), Value::from(gen.id));
    Value::Map(out)
}

fn known(v: &Value) -> bool {
    !v.is_null() && !v.is_unknown()
}

fn fill_object(
    schema: &Schema,
    value: Option<&BTreeMap<String, Value>>,
    prior: Option<&BTreeMap<String, Value>>,
    gen: &Generator<'_>,
) -> BTreeMap<String, Value> {
    let mut out: BTreeMap<String, Value> = value
        .into_iter()
        .flatten()
        .map(|(k, v)| (k.clone(), strip_unknown(v)))
        .collect();
    for (name, attr) in &schema.attributes {
        let given = value.and_then(|m| m.get(name)).filter(|v| known(v));
        let before = prior.and_then(|m| m.get(name)).filter(|v| known(v));
        let computed_only = attr.computed && !attr.optional && !attr.required;
        let filled = match (given, before) {
            (_, Some(b)) if computed_only => b.clone(),
            (Some(v), _) => strip_unknown(v),
            (None, Some(b)) if attr.computed => b.clone(),
            (None, _) if attr.computed => generate(name, &attr.ty, gen),
            (None, _) => Value::Null,
        };
        out.insert(name.clone(), filled);
    }
    for (name, block) in &schema.blocks {
        let given = value.and_then(|m| m.get(name));
        let before = prior.and_then(|m| m.get(name));
        let item = |v: &Value, p: Option<&Value>| {
            Value::Map(fill_object(
                &block.schema,
                v.as_map(),
                p.and_then(Value::as_map),
                gen,
            ))
        };
        let filled = match (block.nesting, given) {
            (Nesting::Single, Some(v @ Value::Map(_))) => item(v, before),
            (Nesting::Single, _) => Value::Null,
            (nesting, Some(Value::List(items) | Value::Set(items))) => {
                let prior_items = before.and_then(Value::as_seq).unwrap_or(&[]);
                let filled: Vec<Value> = items
                    .iter()
                    .enumerate()
                    .map(|(i, v)| item(v, prior_items.get(i).filter(|_| nesting == Nesting::List)))
                    .collect();
                if nesting == Nesting::Set {
                    Value::set(filled)
                } else {
                    Value::List(filled)
                }
            }
            (_, Some(v)) if known(v) => strip_unknown(v),
            (Nesting::Set, _) => Value::Set(Vec::new()),
            (_, _) => Value::List(Vec::new()),
        };
        out.insert(name.clone(), filled);
    }
    out
}

/// Unknown values (anywhere inside) become null.
fn strip_unknown(v: &Value) -> Value {
    match v {
        Value::Unknown(_) => Value::Null,
        Value::List(items) => Value::List(items.iter().map(strip_unknown).collect()),
        Value::Set(items) => Value::set(items.iter().map(strip_unknown).collect()),
        Value::Map(map) => Value::Map(
            map.iter()
                .map(|(k, v)| (k.clone(), strip_unknown(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// A value for the computed attribute `name` of type `ty`: the provider's model's, else a
/// generic one.
pub fn generate(name: &str, ty: &Type, gen: &Generator<'_>) -> Value {
    // An attribute named like a setting of the provider block (a VM's `project` or
    // `zone`) is that setting when the configuration leaves it open.
    if let (Type::String, Some(setting)) = (ty, gen.settings.get(name)) {
        return Value::string(setting.as_str());
    }
    if let Some(model) = gen.model {
        let facts = SimObjectFacts {
            type_name: gen.type_name,
            id: gen.id,
            region: gen.region,
            planned: gen.planned,
            serial: gen.serial,
        };
        if let Some(v) = model.computed(&facts, name, gen.world) {
            return v.convert(ty).unwrap_or(v);
        }
    }
    generic(name, ty, gen)
}

fn generic(name: &str, ty: &Type, gen: &Generator<'_>) -> Value {
    match ty {
        Type::String => Value::String(generate_string(name, gen)),
        Type::Number => Value::Number(0.0),
        Type::Bool => Value::Bool(false),
        Type::List(_) => Value::List(Vec::new()),
        Type::Set(_) => Value::Set(Vec::new()),
        Type::Map(_) => Value::Map(BTreeMap::new()),
        Type::Object(attrs) => Value::Map(
            attrs
                .iter()
                .map(|(n, a)| (n.clone(), generic(n, &a.ty, gen)))
                .collect(),
        ),
        Type::Tuple(types) => Value::List(types.iter().map(|t| generic(name, t, gen)).collect()),
        Type::Any => Value::Null,
    }
}

fn generate_string(name: &str, gen: &Generator<'_>) -> String {
    let id = gen.id;
    match name {
        "id" => id.to_owned(),
        "region" => gen.region.to_owned(),
        _ if name == "endpoint" || name.ends_with("_endpoint") => {
            format!("https://{id}.sim.gantry.dev")
        }
        _ if is_timestamp(name) => gen.now.to_owned(),
        _ => format!("{id}-{name}"),
    }
}

fn is_timestamp(name: &str) -> bool {
    name.ends_with("_at")
        || name.ends_with("_timestamp")
        || name.ends_with("_time")
        || matches!(
            name,
            "created"
                | "creation_date"
                | "create_date"
                | "created_date"
                | "last_modified"
                | "timestamp"
        )
}

/// Stored JSON as a value of `schema`'s types: sets are sets again, numbers numbers, every
/// attribute and block present.
pub fn typed(schema: &Schema, json: &serde_json::Value) -> Value {
    let Some(map) = json.as_object() else {
        return Value::from_json(json);
    };
    let mut out = BTreeMap::new();
    for (name, v) in map {
        let raw = Value::from_json(v);
        let value = if let Some(attr) = schema.attributes.get(name) {
            raw.convert(&attr.ty).unwrap_or(raw)
        } else if let Some(block) = schema.blocks.get(name) {
            match (block.nesting, v) {
                (Nesting::Single, serde_json::Value::Object(_)) => typed(&block.schema, v),
                (Nesting::List, serde_json::Value::Array(items)) => {
                    Value::List(items.iter().map(|i| typed(&block.schema, i)).collect())
                }
                (Nesting::Set, serde_json::Value::Array(items)) => {
                    Value::set(items.iter().map(|i| typed(&block.schema, i)).collect())
                }
                _ => raw,
            }
        } else {
            raw
        };
        out.insert(name.clone(), value);
    }
    for name in schema.attributes.keys() {
        out.entry(name.clone()).or_insert(Value::Null);
    }
    Value::Map(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use gantry_provider::{Attribute, NestedBlock};

    /// A model that knows one thing: ARNs.
    struct Arns;

    impl SimModel for Arns {
        fn computed(
            &self,
            o: &SimObjectFacts<'_>,
            name: &str,
            _world: &dyn SimWorldView,
        ) -> Option<Value> {
            (name == "arn").then(|| Value::from(format!("arn:test:{}:{}", o.region, o.id)))
        }
    }

    fn gen() -> Generator<'static> {
        Generator {
            type_name: "test_vpc",
            id: "vpc-00000000000000001",
            region: "eu-west-1",
            now: "2025-01-01T00:00:00Z",
            model: Some(&Arns),
            world: &EmptyWorld,
            planned: &Value::Null,
            serial: 1,
            settings: Default::default(),
        }
    }

    fn schema() -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("cidr_block", Attribute::required(Type::String))
            .attr("dns_endpoint", Attribute::computed(Type::String))
            .attr("created_at", Attribute::computed(Type::String))
            .attr("ipv6_count", Attribute::computed(Type::Number))
            .attr("default", Attribute::computed(Type::Bool))
            .attr("owner_id", Attribute::computed(Type::String))
            .attr("zones", Attribute::computed(Type::set(Type::String)))
            .attr("main_route_table_id", Attribute::computed(Type::String))
            .attr("name", Attribute::optional_computed(Type::String))
            .attr("description", Attribute::optional(Type::String))
            .block(
                "rule",
                NestedBlock {
                    nesting: Nesting::Set,
                    schema: Schema::default()
                        .attr("port", Attribute::required(Type::Number))
                        .attr("rule_id", Attribute::computed(Type::String)),
                    min_items: 0,
                    max_items: None,
                    force_new: false,
                },
            )
    }

    #[test]
    fn computed_attributes_get_realistic_values() {
        let planned = Value::map([
            ("id", Value::Unknown(Type::String)),
            ("arn", Value::Unknown(Type::String)),
            ("cidr_block", "10.0.0.0/16".into()),
            ("name", Value::Null),
            ("description", Value::Null),
            (
                "rule",
                Value::set(vec![Value::map([("port", Value::from(443_i64))])]),
            ),
        ]);
        let v = fill(&schema(), &planned, None, &gen());
        let m = v.as_map().unwrap();
        let s = |k: &str| m[k].as_str().unwrap().to_owned();
        assert_eq!(s("id"), "vpc-00000000000000001");
        assert_eq!(
            s("arn"),
            "arn:test:eu-west-1:vpc-00000000000000001",
            "the model's"
        );
        assert_eq!(
            s("dns_endpoint"),
            "https://vpc-00000000000000001.sim.gantry.dev"
        );
        assert_eq!(s("created_at"), "2025-01-01T00:00:00Z");
        assert_eq!(s("owner_id"), "vpc-00000000000000001-owner_id", "generic");
        assert_eq!(s("name"), "vpc-00000000000000001-name");
        assert_eq!(
            s("main_route_table_id"),
            "vpc-00000000000000001-main_route_table_id"
        );
        assert_eq!(m["ipv6_count"], Value::from(0_i64));
        assert_eq!(m["default"], Value::from(false));
        assert_eq!(m["zones"], Value::Set(Vec::new()));
        assert_eq!(m["description"], Value::Null);
        let rule = &m["rule"].as_seq().unwrap()[0];
        assert_eq!(
            rule.as_map().unwrap()["rule_id"],
            Value::from("vpc-00000000000000001-rule_id")
        );
        assert!(v.is_wholly_known());
    }

    #[test]
    fn prior_values_are_kept_and_computed_only_ones_win() {
        let prior = Value::map([
            ("arn", Value::from("arn:old")),
            ("name", "kept".into()),
            ("created_at", "2020-01-01T00:00:00Z".into()),
        ]);
        let planned = Value::map([
            ("cidr_block", Value::from("10.1.0.0/16")),
            ("arn", "arn:stale-plan".into()),
            ("name", Value::Unknown(Type::String)),
        ]);
        let v = fill(&schema(), &planned, Some(&prior), &gen());
        let m = v.as_map().unwrap();
        assert_eq!(m["arn"], Value::from("arn:old"));
        assert_eq!(m["name"], Value::from("kept"));
        assert_eq!(m["created_at"], Value::from("2020-01-01T00:00:00Z"));
        assert_eq!(m["cidr_block"], Value::from("10.1.0.0/16"));
    }

    #[test]
    fn stored_json_reads_back_with_schema_types() {
        let planned = Value::map([
            ("cidr_block", Value::from("10.0.0.0/16")),
            (
                "rule",
                Value::set(vec![
                    Value::map([("port", Value::from(80_i64))]),
                    Value::map([("port", Value::from(443_i64))]),
                ]),
            ),
        ]);
        let v = fill(&schema(), &planned, None, &gen());
        assert_eq!(typed(&schema(), &v.to_json()), v);
    }
}

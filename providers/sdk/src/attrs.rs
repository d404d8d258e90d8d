//! Reading attributes out of planned and prior values, and building state values, without
//! a match on [`Value`] at every call site.

use crate::{ProviderError, Value};
use std::collections::BTreeMap;

/// A view of an object value (a resource's configuration or state, or one nested block).
#[derive(Clone, Copy, Debug)]
pub struct Attrs<'a>(pub &'a Value);

impl<'a> Attrs<'a> {
    pub fn get(&self, name: &str) -> Option<&'a Value> {
        self.0
            .as_map()
            .and_then(|m| m.get(name))
            .filter(|v| !v.is_null() && !v.is_unknown())
    }

    pub fn str(&self, name: &str) -> Option<&'a str> {
        self.get(name).and_then(Value::as_str)
    }

    /// A string the schema requires; its absence is a provider bug, reported as such.
    pub fn req_str(&self, name: &str) -> Result<&'a str, ProviderError> {
        self.str(name)
            .ok_or_else(|| ProviderError::invalid(format!("`{name}` is required")))
    }

    pub fn bool(&self, name: &str) -> Option<bool> {
        self.get(name).and_then(Value::as_bool)
    }

    pub fn num(&self, name: &str) -> Option<f64> {
        self.get(name).and_then(Value::as_number)
    }

    /// A whole number (`i32` is what most AWS counts and sizes take).
    pub fn i32(&self, name: &str) -> Option<i32> {
        self.num(name).map(|n| n as i32)
    }

    pub fn i64(&self, name: &str) -> Option<i64> {
        self.num(name).map(|n| n as i64)
    }

    /// The strings of a list or set attribute (empty when unset).
    pub fn strs(&self, name: &str) -> Vec<String> {
        self.get(name)
            .and_then(Value::as_seq)
            .map(|items| {
                items
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A map of strings (tags, labels); empty when unset.
    pub fn str_map(&self, name: &str) -> BTreeMap<String, String> {
        self.get(name)
            .and_then(Value::as_map)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_owned())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// The nested blocks named `name` (a single block as a one-element list).
    pub fn blocks(&self, name: &str) -> Vec<Attrs<'a>> {
        match self.get(name) {
            Some(Value::List(items)) | Some(Value::Set(items)) => items.iter().map(Attrs).collect(),
            Some(v @ Value::Map(_)) => vec![Attrs(v)],
            _ => Vec::new(),
        }
    }

    /// The first nested block named `name`.
    pub fn block(&self, name: &str) -> Option<Attrs<'a>> {
        self.blocks(name).into_iter().next()
    }

    /// The `id` attribute, which every resource state has.
    pub fn id(&self) -> Result<&'a str, ProviderError> {
        self.str("id")
            .ok_or_else(|| ProviderError::invalid("the resource state has no `id`"))
    }
}

/// Builds an object value: start from a base (the planned or prior value, so that what the
/// API does not return is kept) and set what the API says.
#[derive(Clone, Debug, Default)]
pub struct Obj(pub BTreeMap<String, Value>);

impl Obj {
    pub fn new() -> Obj {
        Obj::default()
    }

    /// Starts from `base`, with unknown values (computed attributes before create) dropped
    /// to null so a state never holds an unknown.
    pub fn from(base: &Value) -> Obj {
        let mut map = base.as_map().cloned().unwrap_or_default();
        for v in map.values_mut() {
            *v = known_or_null(v.clone());
        }
        Obj(map)
    }

    pub fn set(&mut self, name: &str, value: impl Into<Value>) -> &mut Obj {
        self.0.insert(name.to_owned(), value.into());
        self
    }

    /// Sets `name` when the API returned it; leaves the base value otherwise.
    pub fn set_opt<V: Into<Value>>(&mut self, name: &str, value: Option<V>) -> &mut Obj {
        if let Some(v) = value {
            self.0.insert(name.to_owned(), v.into());
        }
        self
    }

    pub fn set_strs<S: AsRef<str>>(&mut self, name: &str, items: &[S]) -> &mut Obj {
        self.0.insert(name.to_owned(), strs(items));
        self
    }

    pub fn set_str_set<S: AsRef<str>>(&mut self, name: &str, items: &[S]) -> &mut Obj {
        self.0.insert(
            name.to_owned(),
            Value::set(items.iter().map(|s| Value::string(s.as_ref())).collect()),
        );
        self
    }

    pub fn set_str_map(&mut self, name: &str, map: &BTreeMap<String, String>) -> &mut Obj {
        self.0.insert(name.to_owned(), str_map(map));
        self
    }

    pub fn value(&self) -> Value {
        Value::Map(self.0.clone())
    }

    pub fn into_value(self) -> Value {
        Value::Map(self.0)
    }
}

/// A list of strings.
pub fn strs<S: AsRef<str>>(items: &[S]) -> Value {
    Value::List(items.iter().map(|s| Value::string(s.as_ref())).collect())
}

/// A map of strings.
pub fn str_map(map: &BTreeMap<String, String>) -> Value {
    Value::map(
        map.iter()
            .map(|(k, v)| (k.clone(), Value::string(v.clone()))),
    )
}

/// Unknown parts of a value replaced by null.
pub fn known_or_null(v: Value) -> Value {
    match v {
        Value::Unknown(_) => Value::Null,
        Value::List(items) => Value::List(items.into_iter().map(known_or_null).collect()),
        Value::Set(items) => Value::Set(items.into_iter().map(known_or_null).collect()),
        Value::Map(m) => Value::Map(m.into_iter().map(|(k, v)| (k, known_or_null(v))).collect()),
        other => other,
    }
}

/// A number attribute from an SDK integer.
pub fn num(n: impl Into<f64>) -> Value {
    Value::Number(n.into())
}

/// Optional+computed semantics for a nested value: where `config` leaves something null,
/// `prior` stands (through objects, and lists element by element). For blocks whose unset
/// arguments the cloud fills in (metadata options, root volumes), so that its defaults are
/// not planned away. Sets are taken as configured: their elements have no stable position.
pub fn fill_unset(config: &Value, prior: &Value) -> Value {
    match (config, prior) {
        (Value::Null, p) => p.clone(),
        (Value::Map(c), Value::Map(p)) => Value::Map(
            c.iter()
                .map(|(k, v)| (k.clone(), fill_unset(v, p.get(k).unwrap_or(&Value::Null))))
                .collect(),
        ),
        (Value::List(c), Value::List(p)) => Value::List(
            c.iter()
                .enumerate()
                .map(|(i, v)| fill_unset(v, p.get(i).unwrap_or(&Value::Null)))
                .collect(),
        ),
        (c, _) => c.clone(),
    }
}

/// The value at `path` (`vpc_config.subnet_ids`) inside an object; through a list or set of
/// blocks, the list of each element's value.
pub fn at_path(value: &Value, path: &str) -> Value {
    let Some((head, rest)) = path.split_once('.') else {
        return value
            .as_map()
            .and_then(|m| m.get(path))
            .cloned()
            .unwrap_or(Value::Null);
    };
    match value.as_map().and_then(|m| m.get(head)) {
        Some(Value::List(items)) | Some(Value::Set(items)) => {
            Value::List(items.iter().map(|i| at_path(i, rest)).collect())
        }
        Some(v @ Value::Map(_)) => at_path(v, rest),
        _ => Value::Null,
    }
}

/// Adds force-new arguments inside nested blocks (`vpc_config.subnet_ids`) to a plan made by
/// `plan_from_schema`, which only knows whole blocks: a change there replaces the object,
/// and the computed attributes the user did not set become unknown again.
pub fn replace_on_change(
    schema: &crate::Schema,
    prior: Option<&Value>,
    config: &Value,
    planned: &mut crate::PlannedState,
    paths: &[&str],
) {
    let Some(prior) = prior else {
        return;
    };
    for path in paths {
        let before = at_path(prior, path);
        let after = at_path(&planned.value, path);
        if (before != after || !after.is_wholly_known())
            && !planned.requires_replace.iter().any(|p| p == path)
        {
            planned.requires_replace.push((*path).to_owned());
        }
    }
    if planned.requires_replace.is_empty() {
        return;
    }
    if let Value::Map(map) = &mut planned.value {
        for (name, attr) in &schema.attributes {
            let configured = Attrs(config).get(name).is_some();
            if attr.computed && !configured {
                map.insert(name.clone(), Value::Unknown(attr.ty.clone()));
            }
        }
    }
}

/// A string list or set read from the cloud: null when empty and the prior value was null
/// too (the user never set it), so an unset argument does not show as a change.
pub fn str_set_or_null<S: AsRef<str>>(items: &[S], prior: Option<&Value>) -> Value {
    if items.is_empty() && prior.is_none_or(Value::is_null) {
        Value::Null
    } else {
        Value::set(items.iter().map(|s| Value::string(s.as_ref())).collect())
    }
}

/// Gives a state every attribute and block of `schema` (null, or no blocks) that it does
/// not have yet, so that a state read from an id alone (import, crash recovery) compares
/// equal to a plan that leaves write-only arguments unset; and gives values kept from a
/// prior state their schema type back (state JSON turns sets into lists).
pub fn complete(state: &mut Obj, schema: &crate::Schema) {
    complete_map(&mut state.0, schema);
}

fn complete_map(map: &mut BTreeMap<String, Value>, schema: &crate::Schema) {
    use crate::Nesting;
    for (name, attr) in &schema.attributes {
        let v = map.entry(name.clone()).or_insert(Value::Null);
        if let Ok(typed) = v.convert(&attr.ty) {
            *v = typed;
        }
    }
    for (name, block) in &schema.blocks {
        let v = map.entry(name.clone()).or_insert(Value::Null);
        let mut items: Vec<Value> = match std::mem::take(v) {
            Value::List(items) | Value::Set(items) => items,
            Value::Null => Vec::new(),
            single => vec![single],
        };
        for item in &mut items {
            if let Value::Map(m) = item {
                complete_map(m, &block.schema);
            }
        }
        *v = match block.nesting {
            Nesting::Single => items.into_iter().next().unwrap_or(Value::Null),
            Nesting::List => Value::List(items),
            Nesting::Set => Value::set(items),
        };
    }
}

/// An optional string from the cloud: the string, or null.
pub fn opt_str(s: Option<&str>) -> Value {
    s.map_or(Value::Null, Value::string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attrs_skip_null_and_unknown() {
        let v = Value::map([
            ("a", Value::string("x")),
            ("b", Value::Null),
            ("c", Value::unknown()),
            ("n", Value::Number(3.0)),
            ("l", Value::List(vec!["p".into(), "q".into()])),
        ]);
        let a = Attrs(&v);
        assert_eq!(a.str("a"), Some("x"));
        assert_eq!(a.str("b"), None);
        assert_eq!(a.get("c"), None);
        assert_eq!(a.i32("n"), Some(3));
        assert_eq!(a.strs("l"), vec!["p", "q"]);
        assert!(a.req_str("b").is_err());
    }

    #[test]
    fn obj_from_a_planned_value_holds_no_unknowns() {
        let planned = Value::map([("id", Value::unknown()), ("name", Value::string("n"))]);
        let mut o = Obj::from(&planned);
        assert_eq!(o.0.get("id"), Some(&Value::Null));
        o.set("id", "vpc-1");
        assert!(o.value().is_wholly_known());
    }

    #[test]
    fn unset_nested_arguments_keep_the_prior_value() {
        let config = Value::map([("size", Value::Number(100.0)), ("type", Value::Null)]);
        let prior = Value::map([("size", Value::Number(8.0)), ("type", Value::string("gp3"))]);
        assert_eq!(
            fill_unset(&config, &prior),
            Value::map([
                ("size", Value::Number(100.0)),
                ("type", Value::string("gp3"))
            ])
        );
        assert_eq!(fill_unset(&Value::Null, &prior), prior);
        let nested = Value::map([(
            "vpc",
            Value::map([("subnets", Value::List(vec!["a".into()]))]),
        )]);
        assert_eq!(
            at_path(&nested, "vpc.subnets"),
            Value::List(vec!["a".into()])
        );
    }

    #[test]
    fn complete_adds_what_is_missing_and_restores_sets() {
        use crate::{Attribute, NestedBlock, Nesting, Schema, Type};
        let schema = Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("groups", Attribute::optional(Type::set(Type::String)))
            .block(
                "taint",
                NestedBlock {
                    nesting: Nesting::Set,
                    schema: Schema::default().attr("key", Attribute::required(Type::String)),
                    min_items: 0,
                    max_items: None,
                    force_new: false,
                },
            );
        let mut o = Obj::from(&Value::map([(
            "groups",
            Value::List(vec!["b".into(), "a".into()]),
        )]));
        complete(&mut o, &schema);
        assert_eq!(o.0.get("id"), Some(&Value::Null));
        assert_eq!(
            o.0.get("groups"),
            Some(&Value::set(vec!["a".into(), "b".into()]))
        );
        assert_eq!(o.0.get("taint"), Some(&Value::Set(Vec::new())));
    }
}

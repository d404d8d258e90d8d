//! Capacity failover, as planned: a resource's `failover` alternatives turned into the
//! choices apply tries, in order, with their prices and what the quota pre-flight knows.
//!
//! - Choice 0 is the resource as written; choice `n` applies the `n`th alternative's
//!   overrides to it. Apply tries them in [`FailoverPlan::attempts`] order: the stack's,
//!   or cheapest first with `order = "cost"`, leaving out those the account's quota cannot
//!   hold ([`Choice::skipped`]).
//! - An object that exists keeps the choice it was created with ([`Placement`] in state):
//!   the plan applies that choice's overrides, so capacity coming back in the first zone
//!   never moves it. `--replace` places it afresh.
//! - While a create is pending, what its alternatives override is unknown to the rest of
//!   the stack: dependants are completed at apply with the choice that held.

use crate::config::model::{FailoverOn, FailoverOrder, Resource};
use crate::diagnostics::{did_you_mean, Diagnostic};
use crate::graph::alternatives::Alternative;
use crate::state::Placement;
use gantry_provider::{ErrorClass, Schema, Value};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// A create's alternatives, as apply will try them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FailoverPlan {
    pub on: Vec<FailoverOn>,
    pub order: FailoverOrder,
    #[serde(serialize_with = "seconds")]
    pub wait_for_capacity: Option<Duration>,
    /// Every choice, in the stack's order (0: as written).
    pub choices: Vec<Choice>,
    /// Indexes into `choices`, in the order apply tries them; skipped choices left out.
    pub attempts: Vec<usize>,
    /// The choice that holds the object, when it exists.
    pub held: Option<usize>,
}

fn seconds<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&d.as_secs()),
        None => s.serialize_none(),
    }
}

/// One way to create the resource.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Choice {
    /// 0: as written; `n`: the `n`th alternative.
    pub alternative: usize,
    /// The arguments it overrides (empty for 0).
    #[serde(skip)]
    pub overrides: BTreeMap<String, Value>,
    /// `availability_zone = "us-east-1b"`: what it changes, for people.
    pub label: String,
    /// USD per hour, when the catalog prices it.
    pub hourly: Option<f64>,
    /// Why apply will not try it (a quota it cannot fit).
    pub skipped: Option<String>,
}

impl FailoverPlan {
    /// Whether an error of `class` at create makes apply try the next choice.
    pub fn triggers(&self, class: ErrorClass) -> bool {
        self.on.iter().any(|on| match on {
            FailoverOn::Capacity => class == ErrorClass::Capacity,
            FailoverOn::Quota => class == ErrorClass::Quota,
        })
    }

    /// What state records for an object created with choice `index`.
    pub fn placement(&self, index: usize) -> Placement {
        let overrides = self
            .choices
            .get(index)
            .map(|c| {
                c.overrides
                    .iter()
                    .map(|(k, v)| (k.clone(), v.to_json()))
                    .collect()
            })
            .unwrap_or_default();
        Placement {
            alternative: index,
            overrides,
        }
    }

    /// Every argument some alternative overrides.
    pub fn overridden_keys(&self) -> BTreeSet<&str> {
        self.choices
            .iter()
            .flat_map(|c| c.overrides.keys().map(String::as_str))
            .collect()
    }

    /// Orders the attempts: by cost when asked (unpriced last, the stack's order among
    /// equals), without the skipped choices.
    pub fn order_attempts(&mut self) {
        let mut attempts: Vec<usize> = (0..self.choices.len())
            .filter(|&i| self.choices[i].skipped.is_none())
            .collect();
        if self.order == FailoverOrder::Cost {
            attempts.sort_by(|&a, &b| {
                let (ca, cb) = (self.choices[a].hourly, self.choices[b].hourly);
                match (ca, cb) {
                    (Some(x), Some(y)) => x.total_cmp(&y),
                    (Some(_), None) => std::cmp::Ordering::Less,
                    (None, Some(_)) => std::cmp::Ordering::Greater,
                    (None, None) => std::cmp::Ordering::Equal,
                }
            });
        }
        self.attempts = attempts;
    }
}

/// The choices of a resource's evaluated alternatives.
pub fn choices(alternatives: &[Alternative]) -> Vec<Choice> {
    let mut out = vec![Choice {
        alternative: 0,
        overrides: BTreeMap::new(),
        label: "as written".to_owned(),
        hourly: None,
        skipped: None,
    }];
    for (i, alt) in alternatives.iter().enumerate() {
        out.push(Choice {
            alternative: i + 1,
            overrides: alt.overrides.clone(),
            label: label(&alt.overrides),
            hourly: None,
            skipped: None,
        });
    }
    out
}

/// A new plan for `resource`'s failover, before prices and quotas are known.
pub fn plan_for(resource: &Resource, alternatives: &[Alternative]) -> Option<FailoverPlan> {
    let f = resource.failover.as_ref()?;
    let mut plan = FailoverPlan {
        on: f.on.clone(),
        order: f.order,
        wait_for_capacity: f.wait_for_capacity,
        choices: choices(alternatives),
        attempts: Vec::new(),
        held: None,
    };
    plan.order_attempts();
    Some(plan)
}

/// `availability_zone = "us-east-1b", subnet_id = (known after apply)`.
pub fn label(overrides: &BTreeMap<String, Value>) -> String {
    overrides
        .iter()
        .map(|(k, v)| {
            let shown = if !v.is_wholly_known() {
                "(known after apply)".to_owned()
            } else if v.contains_sensitive() {
                "(sensitive value)".to_owned()
            } else {
                serde_json::to_string(&v.to_json()).unwrap_or_default()
            };
            format!("{k} = {shown}")
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Errors for overrides that are not arguments of the type: a typo must not become a
/// failover that silently changes nothing.
pub fn check_overrides(
    alternatives: &[Alternative],
    schema: &Schema,
    type_name: &str,
    address: &str,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let arguments: Vec<&str> = schema
        .attributes
        .iter()
        .filter(|(_, a)| a.required || a.optional)
        .map(|(k, _)| k.as_str())
        .chain(schema.blocks.keys().map(String::as_str))
        .collect();
    for alt in alternatives {
        for key in alt.overrides.keys() {
            if arguments.contains(&key.as_str()) {
                continue;
            }
            let mut d = Diagnostic::error(format!("`{key}` is not an argument of `{type_name}`"))
                .with_span(alt.span)
                .with_address(address.to_owned())
                .with_label("in this failover alternative");
            d = match did_you_mean(key, arguments.iter().copied()) {
                Some(s) => d.with_help(format!("did you mean `{s}`?")),
                None => d.with_help(
                    "an alternative overrides arguments of the resource: `availability_zone`, `instance_type`, `subnet_id`, ...",
                ),
            };
            out.push(d);
        }
    }
    out
}

/// `config` with `overrides` laid over it; a nested block given as one object becomes the
/// one-element list blocks are.
pub fn with_overrides(
    config: &Value,
    overrides: &BTreeMap<String, Value>,
    schema: Option<&Schema>,
) -> Value {
    let Value::Map(map) = config else {
        return config.clone();
    };
    let mut map = map.clone();
    for (k, v) in overrides {
        let is_block = schema
            .and_then(|s| s.blocks.get(k))
            .is_some_and(|b| b.nesting != gantry_provider::Nesting::Single);
        let v = match v {
            Value::Map(_) if is_block => Value::List(vec![v.clone()]),
            _ => v.clone(),
        };
        map.insert(k.clone(), v);
    }
    Value::Map(map)
}

/// The choice an existing object's placement names, by its overrides (so reordering the
/// alternatives keeps it). `None` when that alternative is gone from the stack.
pub fn held_choice(placement: Option<&Placement>, choices: &[Choice]) -> Option<usize> {
    let Some(p) = placement else {
        // Created before the stack had a failover block: as written.
        return Some(0);
    };
    choices.iter().position(|c| {
        c.overrides.len() == p.overrides.len()
            && c.overrides
                .iter()
                .all(|(k, v)| p.overrides.get(k) == Some(&v.to_json()))
    })
}

/// The value the rest of the stack sees of a resource about to be created with failover:
/// what any alternative overrides is known only once a choice holds.
pub fn hide_overridden(value: Value, plan: &FailoverPlan) -> Value {
    let Value::Map(mut map) = value else {
        return value;
    };
    for key in plan.overridden_keys() {
        if let Some(v) = map.get_mut(key) {
            *v = Value::unknown();
        }
    }
    Value::Map(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostics::Span;

    fn alt(pairs: &[(&str, Value)]) -> Alternative {
        Alternative {
            overrides: pairs
                .iter()
                .map(|(k, v)| ((*k).to_owned(), v.clone()))
                .collect(),
            span: Span::new(crate::diagnostics::FileId(0), 0..0),
        }
    }

    fn plan(order: FailoverOrder, prices: &[Option<f64>]) -> FailoverPlan {
        let alts: Vec<Alternative> = (1..prices.len())
            .map(|i| alt(&[("availability_zone", Value::from(format!("z{i}")))]))
            .collect();
        let mut choices = choices(&alts);
        for (c, p) in choices.iter_mut().zip(prices) {
            c.hourly = *p;
        }
        let mut p = FailoverPlan {
            on: vec![FailoverOn::Capacity],
            order,
            wait_for_capacity: None,
            choices,
            attempts: Vec::new(),
            held: None,
        };
        p.order_attempts();
        p
    }

    #[test]
    fn cost_order_tries_the_cheapest_first_and_unpriced_last() {
        let p = plan(
            FailoverOrder::Cost,
            &[Some(98.0), None, Some(55.0), Some(98.0)],
        );
        assert_eq!(p.attempts, vec![2, 0, 3, 1]);
        let p = plan(FailoverOrder::Stack, &[Some(98.0), None, Some(55.0)]);
        assert_eq!(p.attempts, vec![0, 1, 2]);
    }

    #[test]
    fn skipped_choices_are_not_attempted() {
        let mut p = plan(FailoverOrder::Stack, &[None, None, None]);
        p.choices[0].skipped = Some("quota".into());
        p.order_attempts();
        assert_eq!(p.attempts, vec![1, 2]);
    }

    #[test]
    fn a_placement_is_found_again_by_its_overrides_not_its_position() {
        let alts = vec![
            alt(&[("availability_zone", Value::from("b"))]),
            alt(&[("instance_type", Value::from("p5e.48xlarge"))]),
        ];
        let choices = choices(&alts);
        let placed = Placement {
            alternative: 1,
            overrides: [(
                "instance_type".to_owned(),
                serde_json::json!("p5e.48xlarge"),
            )]
            .into_iter()
            .collect(),
        };
        assert_eq!(held_choice(Some(&placed), &choices), Some(2));
        assert_eq!(held_choice(None, &choices), Some(0));
        let gone = Placement {
            alternative: 3,
            overrides: [("availability_zone".to_owned(), serde_json::json!("c"))]
                .into_iter()
                .collect(),
        };
        assert_eq!(held_choice(Some(&gone), &choices), None);
        let as_written = Placement {
            alternative: 0,
            overrides: serde_json::Map::new(),
        };
        assert_eq!(held_choice(Some(&as_written), &choices), Some(0));
    }

    #[test]
    fn overrides_replace_arguments_and_wrap_single_blocks() {
        let schema = Schema::default().block(
            "instance_market_options",
            gantry_provider::NestedBlock {
                nesting: gantry_provider::Nesting::List,
                schema: Schema::default(),
                min_items: 0,
                max_items: Some(1),
                force_new: false,
            },
        );
        let config = Value::map([
            ("instance_type", Value::from("p5.48xlarge")),
            ("availability_zone", Value::from("a")),
        ]);
        let o: BTreeMap<String, Value> = [
            ("availability_zone".to_owned(), Value::from("b")),
            (
                "instance_market_options".to_owned(),
                Value::map([("market_type", Value::from("spot"))]),
            ),
        ]
        .into_iter()
        .collect();
        let out = with_overrides(&config, &o, Some(&schema));
        let m = out.as_map().expect("an object");
        assert_eq!(m["availability_zone"], Value::from("b"));
        assert_eq!(m["instance_type"], Value::from("p5.48xlarge"));
        assert!(matches!(&m["instance_market_options"], Value::List(l) if l.len() == 1));
    }

    #[test]
    fn labels_hide_unknown_and_sensitive_values() {
        let o: BTreeMap<String, Value> = [
            ("availability_zone".to_owned(), Value::from("us-east-1b")),
            ("subnet_id".to_owned(), Value::unknown()),
        ]
        .into_iter()
        .collect();
        assert_eq!(
            label(&o),
            "availability_zone = \"us-east-1b\", subnet_id = (known after apply)"
        );
    }
}

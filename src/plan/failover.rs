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
//! - Every choice is planned by the provider while planning (an alternative that is not a
//!   valid configuration is an error now, not at apply). While a create is pending, every
//!   attribute on which the choices differ is unknown to the rest of the stack: dependants
//!   are completed at apply with the choice that held.

use super::refresh::Prior;
use crate::config::model::ProviderRef;
use crate::config::model::{FailoverOn, FailoverOrder, Resource};
use crate::diagnostics::{did_you_mean, Diagnostic};
use crate::graph::alternatives::Alternative;
use crate::state::Placement;
use gantry_provider::{conform, ErrorClass, Provider, Schema, Value};
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
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
    /// A choice tried before the others when it is not skipped: on a replacement, the one
    /// that held the old object.
    #[serde(skip)]
    pub prefer: Option<usize>,
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
    /// The object the provider plans for a create with this choice (set while planning).
    #[serde(skip)]
    pub planned: Option<Value>,
    /// The provider configuration it is created with (`aws.west`), when the alternative
    /// names another than the resource's.
    pub provider: Option<String>,
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
        let none = BTreeMap::new();
        let choice = self.choices.get(index);
        let overrides = choice.map_or(&none, |c| &c.overrides);
        placement_of(index, overrides, choice.and_then(|c| c.provider.as_deref()))
    }

    /// Every argument some alternative overrides.
    pub fn overridden_keys(&self) -> BTreeSet<&str> {
        self.choices
            .iter()
            .flat_map(|c| c.overrides.keys().map(String::as_str))
            .collect()
    }

    /// Orders the attempts: the preferred choice first, then by cost when asked (unpriced
    /// last, the stack's order among equals), without the skipped choices.
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
        if let Some(first) = self.prefer.filter(|p| attempts.contains(p)) {
            attempts.retain(|&i| i != first);
            attempts.insert(0, first);
        }
        self.attempts = attempts;
    }

    /// The choice apply tries first.
    pub fn first(&self) -> Option<&Choice> {
        self.attempts.first().and_then(|&i| self.choices.get(i))
    }
}

/// What state records for an object created with `alternative` and its `overrides`.
pub fn placement_of(
    alternative: usize,
    overrides: &BTreeMap<String, Value>,
    provider: Option<&str>,
) -> Placement {
    Placement {
        alternative,
        overrides: overrides
            .iter()
            .map(|(k, v)| (k.clone(), v.to_json()))
            .collect(),
        provider: provider.map(str::to_owned),
    }
}

/// `as written`, or `alternative 2 (instance_type = "p4d.24xlarge")`.
pub fn choice_name(alternative: usize, label: &str) -> String {
    if alternative == 0 {
        "as written".to_owned()
    } else {
        format!("alternative {alternative} ({label})")
    }
}

/// The choices of a resource's evaluated alternatives.
pub fn choices(alternatives: &[Alternative]) -> Vec<Choice> {
    let mut out = vec![Choice {
        alternative: 0,
        overrides: BTreeMap::new(),
        label: label(&BTreeMap::new()),
        hourly: None,
        skipped: None,
        planned: None,
        provider: None,
    }];
    for (i, alt) in alternatives.iter().enumerate() {
        out.push(Choice {
            alternative: i + 1,
            overrides: alt.overrides.clone(),
            label: label(&alt.overrides),
            hourly: None,
            skipped: None,
            planned: None,
            provider: None,
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
        prefer: None,
    };
    plan.order_attempts();
    Some(plan)
}

/// The failover of a create without a `failover` block under `--wait-for-capacity`: the
/// resource as written, retried on capacity errors until the deadline.
pub fn as_written_only(wait_for_capacity: Duration) -> FailoverPlan {
    let mut plan = FailoverPlan {
        on: vec![FailoverOn::Capacity],
        order: FailoverOrder::Stack,
        wait_for_capacity: Some(wait_for_capacity),
        choices: choices(&[]),
        attempts: Vec::new(),
        held: None,
        prefer: None,
    };
    plan.order_attempts();
    plan
}

/// `provider = aws.west, subnet_id = "subnet-0a1b"`: a choice's label with the provider
/// configuration it names, if any.
pub fn choice_label(overrides: &BTreeMap<String, Value>, provider: Option<&str>) -> String {
    match (provider, overrides.is_empty()) {
        (None, _) => label(overrides),
        (Some(key), true) => format!("provider = {key}"),
        (Some(key), false) => format!("provider = {key}, {}", label(overrides)),
    }
}

/// `availability_zone = "us-east-1b", subnet_id = (known after apply)`.
pub fn label(overrides: &BTreeMap<String, Value>) -> String {
    if overrides.is_empty() {
        return "as written".to_owned();
    }
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
                .with_span(alt.span_of(key))
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
        c.provider == p.provider
            && c.overrides.len() == p.overrides.len()
            && c.overrides
                .iter()
                .all(|(k, v)| p.overrides.get(k) == Some(&v.to_json()))
    })
}

/// The value the rest of the stack sees of a resource about to be created with failover:
/// every attribute on which its choices differ (or that one overrides) is known only once a
/// choice holds.
pub fn hide_differences(value: Value, plan: &FailoverPlan) -> Value {
    let Value::Map(mut map) = value else {
        return value;
    };
    let overridden = plan.overridden_keys();
    for (key, v) in &mut map {
        let differs = plan
            .choices
            .iter()
            .filter_map(|c| c.planned.as_ref())
            .any(|p| p.as_map().and_then(|m| m.get(key)) != Some(&*v));
        if differs || overridden.contains(key.as_str()) {
            *v = Value::unknown();
        }
    }
    Value::Map(map)
}

/// A provider configuration and its key (`aws.west`).
pub type KeyedProvider = (String, Arc<dyn Provider>);

/// What planning one resource instance needs to know of its failover.
pub struct InstanceInputs<'a> {
    pub resource: &'a Resource,
    pub alternatives: &'a [Alternative],
    pub schema: &'a Schema,
    /// The resource's own provider configuration, and its key.
    pub provider: &'a Arc<dyn Provider>,
    pub provider_key: &'a str,
    /// Resolves an alternative's `provider = aws.west` to its key and provider.
    pub resolve: &'a dyn Fn(&ProviderRef) -> Result<KeyedProvider, Diagnostic>,
    pub address: &'a str,
    /// The instance's configuration as written, unmarked.
    pub config: &'a Value,
    /// The object state holds, if any.
    pub prior: Option<&'a Prior>,
    /// `--replace` names it: placed afresh.
    pub forced: bool,
}

/// An instance's failover, planned.
pub struct InstanceFailover {
    pub plan: FailoverPlan,
    /// For an object that exists: the configuration with the choice that holds it (what
    /// the plan compares with the object).
    pub held_config: Option<Value>,
    pub placement: Option<Placement>,
    /// The object was placed by an alternative the stack no longer lists.
    pub placement_lost: bool,
    /// The provider configuration of the choice that holds it, when not the resource's.
    pub held_provider: Option<KeyedProvider>,
}

/// Plans the failover of one instance: checks and plans every choice, and finds the one
/// that holds an existing object. `None` when the resource has no `failover` block.
pub fn plan_instance(i: &InstanceInputs<'_>) -> Result<Option<InstanceFailover>, Vec<Diagnostic>> {
    let type_name = &i.resource.addr.type_name;
    let Some(mut plan) = plan_for(i.resource, i.alternatives) else {
        return Ok(None);
    };
    let issues = check_overrides(i.alternatives, i.schema, type_name, i.address);
    if !issues.is_empty() {
        return Err(issues);
    }
    let mut configs = Vec::with_capacity(plan.choices.len());
    let mut errors = Vec::new();
    // The resource as written is checked by the planner itself: report only what an
    // alternative adds.
    let mut as_written_problems = Vec::new();
    let mut providers = Vec::with_capacity(plan.choices.len());
    for choice in &mut plan.choices {
        let alt = choice
            .alternative
            .checked_sub(1)
            .map(|n| &i.alternatives[n]);
        let provider = match alt.and_then(|a| a.provider.as_ref()) {
            None => None,
            Some(r) => match (i.resolve)(r) {
                // Naming the resource's own configuration changes nothing.
                Ok((key, _)) if key == i.provider_key => None,
                Ok((key, p)) => {
                    choice.label = choice_label(&choice.overrides, Some(&key));
                    choice.provider = Some(key.clone());
                    Some((key, p))
                }
                Err(d) => {
                    errors.push(d.with_address(i.address.to_owned()));
                    providers.push(None);
                    configs.push(Value::Null);
                    continue;
                }
            },
        };
        let plan_with: &dyn Provider = provider
            .as_ref()
            .map_or(i.provider.as_ref(), |(_, p)| p.as_ref());
        providers.push(provider.clone());
        let at = |message: String, key: &str| {
            Diagnostic::error(message)
                .with_span(alt.map_or(i.resource.span, |a| a.span_of(key)))
                .with_address(i.address.to_owned())
                .with_label(format!(
                    "with failover {}",
                    choice_name(choice.alternative, &choice.label)
                ))
        };
        let overlaid = with_overrides(i.config, &choice.overrides, Some(i.schema));
        match conform(i.schema, &overlaid) {
            Ok(conformed) => {
                match plan_with.plan(type_name, None, &conformed) {
                    Ok(p) => choice.planned = Some(p.value),
                    Err(e) => errors.push(at(
                        format!("provider could not plan `{}`: {e}", i.address),
                        "",
                    )),
                }
                let problems = plan_with.validate(type_name, &conformed);
                if alt.is_none() {
                    as_written_problems = problems;
                } else {
                    for message in problems {
                        if !as_written_problems.contains(&message) {
                            errors.push(at(message, ""));
                        }
                    }
                }
                configs.push(conformed);
            }
            Err(issues) => {
                errors.extend(issues.into_iter().map(|issue| {
                    let head = issue.path.split('.').next().unwrap_or_default().to_owned();
                    at(issue.message, &head)
                }));
                configs.push(Value::Null);
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut out = InstanceFailover {
        plan,
        held_config: None,
        placement: None,
        placement_lost: false,
        held_provider: None,
    };
    // An object that exists keeps the alternative it was created with.
    if let Some(p) = i.prior.filter(|p| !i.forced && !p.tainted) {
        match held_choice(p.placement.as_ref(), &out.plan.choices) {
            Some(held) => {
                out.plan.held = Some(held);
                out.placement = Some(out.plan.placement(held));
                out.held_config = Some(configs.swap_remove(held));
                out.held_provider = providers.swap_remove(held);
            }
            None => out.placement_lost = true,
        }
    }
    Ok(Some(out))
}

/// Completes an instance's failover once its action is known: a replacement tries the
/// choice that held the old object first, and a create hides from the rest of the stack
/// what depends on the choice. Returns the value the rest of the stack sees.
pub fn finish(plan: &mut FailoverPlan, action: super::Action, forced: bool, value: Value) -> Value {
    use super::Action;
    if action.is_replace() && !forced {
        plan.prefer = plan.held;
        plan.order_attempts();
    }
    match action {
        Action::Create | Action::DeleteThenCreate | Action::CreateThenDelete => {
            hide_differences(value, plan)
        }
        _ => value,
    }
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
            key_spans: BTreeMap::new(),
            provider: None,
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
            prefer: None,
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
    fn a_preferred_choice_goes_first_unless_skipped() {
        let mut p = plan(FailoverOrder::Cost, &[Some(98.0), Some(40.0), Some(55.0)]);
        assert_eq!(p.attempts, vec![1, 2, 0]);
        p.prefer = Some(2);
        p.order_attempts();
        assert_eq!(p.attempts, vec![2, 1, 0]);
        p.choices[2].skipped = Some("quota".into());
        p.order_attempts();
        assert_eq!(p.attempts, vec![1, 0]);
    }

    #[test]
    fn dependants_see_unknown_wherever_the_choices_differ() {
        let mut p = plan(FailoverOrder::Stack, &[None, None]);
        p.choices[0].planned = Some(Value::map([
            ("availability_zone", Value::from("a")),
            ("instance_type", Value::from("p5")),
            ("ami", Value::from("ami-1")),
        ]));
        p.choices[1].planned = Some(Value::map([
            ("availability_zone", Value::from("b")),
            ("instance_type", Value::from("p5")),
            ("ami", Value::from("ami-1")),
        ]));
        // Alternative 1 overrides availability_zone itself here; make the zone differ
        // through planning alone by overriding another key.
        p.choices[1].overrides = [("subnet_id".to_owned(), Value::from("s-b"))]
            .into_iter()
            .collect();
        let seen = hide_differences(p.choices[0].planned.clone().unwrap_or_default(), &p);
        let m = seen.as_map().expect("an object");
        assert!(
            m["availability_zone"].is_unknown(),
            "derived from the subnet"
        );
        assert_eq!(m["instance_type"], Value::from("p5"));
        assert_eq!(m["ami"], Value::from("ami-1"));
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
            provider: None,
        };
        assert_eq!(held_choice(Some(&placed), &choices), Some(2));
        // The same overrides with another provider configuration are another choice.
        let elsewhere = Placement {
            provider: Some("aws.west".into()),
            ..placed.clone()
        };
        assert_eq!(held_choice(Some(&elsewhere), &choices), None);
        assert_eq!(held_choice(None, &choices), Some(0));
        let gone = Placement {
            alternative: 3,
            overrides: [("availability_zone".to_owned(), serde_json::json!("c"))]
                .into_iter()
                .collect(),
            provider: None,
        };
        assert_eq!(held_choice(Some(&gone), &choices), None);
        let as_written = Placement {
            alternative: 0,
            overrides: serde_json::Map::new(),
            provider: None,
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

//! Capacity failover of whole modules, as planned: a module call's `failover` alternatives
//! (other inputs, or another module with the same outputs, on another cloud say), each
//! priced and checked against the account's quotas, and the one this plan applies.
//!
//! - The module a call loads is chosen before the stack is evaluated
//!   ([`ModuleSelection`]): the rest of the engine plans and applies an ordinary module.
//! - Every alternative is planned (without refresh) to price the objects it would make and
//!   to run the quota pre-flight on them; an alternative that cannot fit is skipped, and
//!   one that does not plan at all is an error now rather than in the middle of a failover.
//! - A module whose objects exist keeps the alternative that made them (recorded on each
//!   object, [`crate::state::ModulePlacement`]), so capacity returning elsewhere never moves
//!   it; `--replace module.NAME` places it afresh.
//! - While a module is being placed, whatever outside it reads its objects waits for all
//!   of them ([`wait_for_whole_modules`]): if the module fails over, nothing outside was
//!   built on the alternative that is torn down.
//!
//! Apply carries the failover out (`commands::module_failover`): a trigger error on a
//! create inside the module tears down everything the alternative made, in reverse
//! dependency order, and applies the next one.

use super::run::{configure, plan_one, PlanRequest, Planned};
use super::Action;
use crate::apply::calls::ProviderCalls;
use crate::config::alternatives::{failover_calls, instance_address, label};
use crate::config::load::{ModuleSelection, Stack};
use crate::config::model::{FailoverOn, FailoverOrder};
use crate::diagnostics::Diagnostic;
use crate::providers::Providers;
use crate::state::{ResourceMode, State};
use gantry_provider::ErrorClass;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

/// One module call's alternatives, as apply will try them.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModuleFailoverPlan {
    /// `module.nodes`.
    pub address: String,
    #[serde(skip)]
    pub path: crate::addrs::ModulePath,
    pub on: Vec<FailoverOn>,
    pub order: FailoverOrder,
    #[serde(serialize_with = "seconds")]
    pub wait_for_capacity: Option<Duration>,
    /// Every alternative, in the stack's order (0: as written).
    pub choices: Vec<ModuleChoice>,
    /// Indexes into `choices`, in the order apply tries them; skipped ones left out.
    pub attempts: Vec<usize>,
    /// The alternative whose objects exist (kept by this plan), when some do.
    pub held: Option<usize>,
    /// The module is being placed: none of it existed, or its alternative's creates have
    /// not all succeeded yet. Only then does a refusal fail it over.
    pub placing: bool,
    /// The alternative this plan applies.
    pub selected: usize,
}

fn seconds<S: serde::Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => s.serialize_some(&d.as_secs()),
        None => s.serialize_none(),
    }
}

/// One alternative of a module call.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ModuleChoice {
    pub alternative: usize,
    /// What it sets, as written.
    pub label: String,
    /// USD per hour of the objects it makes, when the catalog prices some.
    pub hourly: Option<f64>,
    /// Why apply will not try it (the quota pre-flight says it cannot fit).
    pub skipped: Option<String>,
}

impl ModuleFailoverPlan {
    /// Whether an error of `class` on a create inside the module fails it over.
    pub fn triggers(&self, class: ErrorClass) -> bool {
        self.on.iter().any(|on| match on {
            FailoverOn::Capacity => class == ErrorClass::Capacity,
            FailoverOn::Quota => class == ErrorClass::Quota,
        })
    }

    /// Whether `address` is an object of this module (or of a module inside it).
    pub fn contains(&self, address: &str) -> bool {
        inside(&self.address, address)
    }

    /// The alternatives to try after `current` in this apply, in order.
    pub fn after(&self, current: usize) -> Vec<usize> {
        match self.attempts.iter().position(|&a| a == current) {
            Some(i) => self.attempts[i + 1..].to_vec(),
            None => self.attempts.clone(),
        }
    }

    /// `alternative 2: source = "./gcp"`, or `as written`.
    pub fn name_of(&self, alternative: usize) -> String {
        match (alternative, self.choices.get(alternative)) {
            (0, _) | (_, None) => "as written".to_owned(),
            (n, Some(c)) => format!("alternative {n}: {}", c.label),
        }
    }
}

/// Whether `address` lies inside the module instance `module`.
pub fn inside(module: &str, address: &str) -> bool {
    address
        .strip_prefix(module)
        .is_some_and(|rest| rest.starts_with('.'))
}

/// The second half of a plan for a stack with module failover: price every alternative,
/// choose what each call applies (forced by `req.module_choices`, else what holds, else
/// the first to try), and plan that.
pub async fn plan_with_module_failover(
    configured: super::run::Configured,
    req: &PlanRequest<'_>,
    state: &State,
    providers: &Providers,
    calls: &ProviderCalls,
    blocked: &BTreeMap<String, String>,
) -> Planned {
    let infos = call_infos(&configured.stack, state);
    let mut diags = crate::diagnostics::Diagnostics::new();
    let held: ModuleSelection = infos
        .iter()
        .filter_map(|i| i.held.map(|(h, _)| (i.path.clone(), h)))
        .collect();
    let mut plans: Vec<ModuleFailoverPlan> = Vec::new();
    let mut selection = ModuleSelection::new();
    let destroy = req.options.destroy;
    for info in &infos {
        let forced = req.module_choices.get(&info.path).copied();
        let replace = req.options.replace.iter().any(|r| r == &info.address);
        let mut choices = Vec::new();
        // Pricing needs a plan per alternative; a destroy, or a forced choice (a later
        // round of a failover, whose order is already known), needs none.
        for alternative in 0..info.labels.len() {
            let mut choice = ModuleChoice {
                alternative,
                label: info.labels[alternative].clone(),
                hourly: None,
                skipped: None,
            };
            if !destroy && forced.is_none() {
                let mut trial = held.clone();
                trial.insert(info.path.clone(), alternative);
                let priced =
                    price(req, &trial, state, providers, calls, blocked, &info.address).await;
                match priced {
                    Ok((hourly, skipped)) => {
                        choice.hourly = hourly;
                        choice.skipped = skipped;
                    }
                    Err(errors) => {
                        for d in errors {
                            diags.push(d.with_detail(format!(
                                "while planning {} of `{}`",
                                if alternative == 0 {
                                    "the module as written".to_owned()
                                } else {
                                    format!("alternative {alternative}")
                                },
                                info.address
                            )));
                        }
                    }
                }
            }
            choices.push(choice);
        }
        let mut attempts: Vec<usize> = (0..choices.len())
            .filter(|&i| choices[i].skipped.is_none())
            .collect();
        if info.order == FailoverOrder::Cost {
            attempts.sort_by(|&a, &b| match (choices[a].hourly, choices[b].hourly) {
                (Some(x), Some(y)) => x.total_cmp(&y),
                (Some(_), None) => std::cmp::Ordering::Less,
                (None, Some(_)) => std::cmp::Ordering::Greater,
                (None, None) => std::cmp::Ordering::Equal,
            });
        }
        let kept = info.held.map(|(h, _)| h).filter(|_| !replace);
        let placing = kept.is_none() || info.held.is_some_and(|(_, placing)| placing);
        let selected = forced
            .or(kept)
            .or_else(|| attempts.first().copied())
            .unwrap_or(0);
        selection.insert(info.path.clone(), selected);
        plans.push(ModuleFailoverPlan {
            address: info.address.clone(),
            path: info.path.clone(),
            on: info.on.clone(),
            order: info.order,
            wait_for_capacity: info.wait_for_capacity,
            choices,
            attempts,
            held: kept,
            placing,
            selected,
        });
    }
    if diags.has_errors() {
        let mut failed = configured;
        failed.diagnostics.extend(diags);
        return plan_one(failed, req, state, providers, calls, blocked).await;
    }
    let configured = if selection == held_as_loaded(&configured.stack) {
        configured
    } else {
        configure_selected(req, &selection, providers).await
    };
    let mut planned = plan_one(configured, req, state, providers, calls, blocked).await;
    planned.diagnostics.extend(diags);
    let placing: Vec<&ModuleFailoverPlan> = plans.iter().filter(|p| p.placing).collect();
    wait_for_whole_modules(&mut planned.plan.changes, &placing);
    for change in &mut planned.plan.changes {
        for module in &placing {
            if let Some(p) = change.module_placements.get_mut(&module.address) {
                p.placing = true;
            }
        }
    }
    if !destroy {
        restamp_kept_objects(&mut planned, state);
    }
    planned.plan.module_failovers = plans;
    planned
}

/// Objects a plan leaves alone inside a failover module but whose recorded alternative is
/// not the one the plan applies (a module re-placed where some objects are the same, or
/// objects made before the call had a `failover` block): state is told, as for drift.
fn restamp_kept_objects(planned: &mut Planned, state: &State) {
    for change in &planned.plan.changes {
        if change.action != Action::NoOp || !change.managed || change.module_placements.is_empty() {
            continue;
        }
        let Some(current) = state.resources.get(&change.address) else {
            continue;
        };
        if current.module_placements == change.module_placements {
            continue;
        }
        match planned
            .refreshed
            .iter_mut()
            .find(|r| r.address == change.address)
        {
            Some(r) => r.module_placements.clone_from(&change.module_placements),
            None => planned.refreshed.push(crate::state::ResourceState {
                module_placements: change.module_placements.clone(),
                ..current.clone()
            }),
        }
    }
}

/// What the loader applied to each failover call of `stack`.
fn held_as_loaded(stack: &Stack) -> ModuleSelection {
    failover_calls(stack)
        .into_iter()
        .map(|(path, call)| (path, call.chosen))
        .collect()
}

async fn configure_selected(
    req: &PlanRequest<'_>,
    selection: &ModuleSelection,
    providers: &Providers,
) -> super::run::Configured {
    let request = PlanRequest {
        selection: selection.clone(),
        ..req.clone()
    };
    configure(&request, providers).await
}

/// Plans the stack with `selection`, without refresh, and returns what the objects of
/// `module` cost an hour and why the quota pre-flight says they cannot fit, if it does; or
/// the errors that keep the alternative from planning at all.
async fn price(
    req: &PlanRequest<'_>,
    selection: &ModuleSelection,
    state: &State,
    providers: &Providers,
    calls: &ProviderCalls,
    blocked: &BTreeMap<String, String>,
    module: &str,
) -> Result<(Option<f64>, Option<String>), Vec<Diagnostic>> {
    let request = PlanRequest {
        selection: selection.clone(),
        refresh: false,
        pricing_only: true,
        ..req.clone()
    };
    let configured = configure(&request, providers).await;
    let planned = plan_one(configured, &request, state, providers, calls, blocked).await;
    let errors: Vec<Diagnostic> = planned
        .diagnostics
        .iter()
        .filter(|d| d.severity == crate::diagnostics::Severity::Error)
        .cloned()
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    let plan = &planned.plan;
    let priced: Vec<f64> = plan
        .costs
        .resources
        .iter()
        .filter(|(address, _)| inside(module, address))
        .filter_map(|(_, c)| c.after.as_ref().map(crate::catalog::cost::Cost::hourly))
        .collect();
    let hourly = (!priced.is_empty()).then(|| priced.iter().sum());
    let skipped = plan.preflight_findings.iter().find_map(|d| {
        // Findings name the objects they concern in their text (`needed by: ...`).
        let named = format!("{module}.");
        let concerns_module = d.address.as_deref().is_some_and(|a| inside(module, a))
            || d.summary.contains(&named)
            || d.detail.as_deref().is_some_and(|t| t.contains(&named))
            || d.label.as_deref().is_some_and(|t| t.contains(&named));
        concerns_module.then(|| {
            let mut why = d.summary.clone();
            if let Some(label) = &d.label {
                why.push_str(": ");
                why.push_str(label);
            }
            why
        })
    });
    Ok((hourly, skipped))
}

/// A failover call as the stack and state have it.
struct CallInfo {
    path: crate::addrs::ModulePath,
    address: String,
    on: Vec<FailoverOn>,
    order: FailoverOrder,
    wait_for_capacity: Option<Duration>,
    /// Each alternative's label (0: as written).
    labels: Vec<String>,
    /// The alternative the module's existing objects were made by, and whether it is
    /// still being placed.
    held: Option<(usize, bool)>,
}

fn call_infos(stack: &Stack, state: &State) -> Vec<CallInfo> {
    let mut out = Vec::new();
    for (path, call) in failover_calls(stack) {
        let Some(failover) = &call.failover else {
            continue;
        };
        let address = instance_address(&path);
        let labels: Vec<String> = (0..=failover.alternatives.len())
            .map(|i| label(&stack.sources, call, i))
            .collect();
        out.push(CallInfo {
            held: held_alternative(state, &address, &labels),
            path,
            address,
            on: failover.on.clone(),
            order: failover.order,
            wait_for_capacity: failover.wait_for_capacity,
            labels,
        });
    }
    out
}

/// The alternative the objects of `module` in state were made by: found by its label (the
/// blocks may have been reordered), else by its number when the label changed but the
/// number still exists. Objects made before the call had a `failover` block record none:
/// they were made as written.
fn held_alternative(state: &State, module: &str, labels: &[String]) -> Option<(usize, bool)> {
    let mut any = false;
    let mut found = None;
    let mut placing = false;
    for r in state.resources.values() {
        if r.mode != ResourceMode::Managed || !inside(module, &r.address) {
            continue;
        }
        any = true;
        if let Some(p) = r.module_placements.get(module) {
            placing |= p.placing;
            if found.is_none() {
                found = Some(p);
            }
        }
    }
    let Some(p) = found else {
        return any.then_some((0, false));
    };
    if let Some(i) = labels.iter().position(|l| *l == p.label) {
        return Some((i, placing));
    }
    if p.alternative < labels.len() {
        return Some((p.alternative, placing));
    }
    // The alternative is gone from the stack: the module is placed afresh.
    None
}

/// Makes every change outside a module being placed that depends on one of its objects
/// wait for all of them: a module that fails over is torn down whole, and nothing outside
/// may have been built on it by then.
pub fn wait_for_whole_modules(
    changes: &mut [super::ResourceChange],
    placing: &[&ModuleFailoverPlan],
) {
    for module in placing {
        let groups: BTreeSet<String> = changes
            .iter()
            .filter(|c| module.contains(&c.address) && c.action != Action::NoOp)
            .flat_map(|c| {
                crate::addrs::parse_resource_instance(&c.address)
                    .map(|a| crate::graph::instances::groups_of(&a))
                    .unwrap_or_default()
            })
            .collect();
        if groups.is_empty() {
            continue;
        }
        let prefix = format!("{}.", module.address);
        for c in changes.iter_mut() {
            if module.contains(&c.address) {
                continue;
            }
            if c.dependencies.iter().any(|d| d.starts_with(&prefix)) {
                let mut all: BTreeSet<String> = c.dependencies.drain(..).collect();
                all.extend(groups.iter().cloned());
                c.dependencies = all.into_iter().collect();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_inside_its_module_and_not_a_namesake() {
        assert!(inside("module.nodes", "module.nodes.aws_instance.n[0]"));
        assert!(inside("module.nodes", "module.nodes.module.net.aws_vpc.v"));
        assert!(!inside("module.nodes", "module.nodes2.aws_instance.n"));
        assert!(!inside("module.nodes", "aws_instance.n"));
    }

    fn plan(attempts: Vec<usize>) -> ModuleFailoverPlan {
        ModuleFailoverPlan {
            address: "module.nodes".into(),
            path: crate::addrs::ModulePath(vec!["nodes".into()]),
            on: vec![FailoverOn::Capacity],
            order: FailoverOrder::Cost,
            wait_for_capacity: None,
            choices: Vec::new(),
            attempts,
            held: None,
            placing: true,
            selected: 0,
        }
    }

    #[test]
    fn the_next_alternatives_follow_the_current_in_the_attempt_order() {
        let p = plan(vec![2, 0, 3]);
        assert_eq!(p.after(2), vec![0, 3]);
        assert_eq!(p.after(3), Vec::<usize>::new());
        // One that was skipped (or forced) starts the order over.
        assert_eq!(p.after(1), vec![2, 0, 3]);
        assert!(p.triggers(ErrorClass::Capacity));
        assert!(!p.triggers(ErrorClass::Quota));
    }
}

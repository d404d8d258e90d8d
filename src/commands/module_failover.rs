//! Module failover at apply: after a round in which a create inside a module being placed
//! was refused for lack of capacity (or quota, when its block says so), everything that
//! alternative made is torn down (a destroy of the module, in reverse dependency order) and
//! the next alternative is planned and applied, until one holds, none is left, or the
//! deadline for waiting passes.
//!
//! Crash safety comes from state alone: every object records the module alternative that
//! made it and that the module is still being placed, so the next `apply` after a kill
//! resumes the same alternative (its interrupted creates recovered first, as always) and
//! may still fail it over; a teardown cut short is finished the same way.

use super::progress::Progress;
use crate::apply::calls::ProviderCalls;
use crate::apply::executor::{
    apply_plan, ApplyInputs, ApplyOptions, ApplyReport, CreateFailure, Event,
};
use crate::apply::failover::backoff;
use crate::apply::recorder::JournalRecorder;
use crate::config::load::{ModuleSelection, Stack};
use crate::diagnostics::Diagnostic;
use crate::graph::build::ConfigGraph;
use crate::graph::walk::Evaluation;
use crate::plan::module_failover::ModuleFailoverPlan;
use crate::plan::planner::PlanOptions;
use crate::plan::run::{configure, plan_configured, PlanRequest};
use crate::plan::{Action, Plan};
use crate::state::{Journal, Record};
use crate::ui::Ui;
use gantry_provider::CancellationToken;
use std::collections::BTreeMap;
use std::time::Instant;

/// What every round needs.
pub struct Context<'a> {
    pub rt: &'a tokio::runtime::Runtime,
    pub journal: &'a Journal,
    pub providers: &'a crate::providers::Providers,
    pub calls: &'a ProviderCalls,
    pub request: &'a PlanRequest<'a>,
    pub options: &'a ApplyOptions,
    pub recorder: &'a JournalRecorder,
    pub cancel: &'a CancellationToken,
    pub ui: Ui,
}

/// One applied plan.
pub struct Applied {
    pub plan: Plan,
    pub stack: Stack,
    pub graph: ConfigGraph,
    pub evaluation: Evaluation,
    pub report: ApplyReport,
    pub failures: Vec<CreateFailure>,
}

/// Objects added, changed and destroyed, over every round.
#[derive(Clone, Copy, Debug, Default)]
pub struct Tally {
    pub added: usize,
    pub changed: usize,
    pub destroyed: usize,
}

impl Tally {
    /// Counts what `report` carried out of `plan`.
    pub fn add(&mut self, plan: &Plan, report: &ApplyReport) {
        let applied: std::collections::HashSet<&str> =
            report.applied.iter().map(String::as_str).collect();
        for c in plan
            .changes
            .iter()
            .filter(|c| applied.contains(c.address.as_str()))
        {
            match c.action {
                Action::Create => self.added += 1,
                Action::Update => self.changed += 1,
                Action::Delete => self.destroyed += 1,
                Action::DeleteThenCreate | Action::CreateThenDelete => {
                    self.added += 1;
                    self.destroyed += 1;
                }
                _ => {}
            }
        }
    }
}

/// Applies `plan` with `stack`'s graph and evaluation, showing progress.
pub fn apply_round(
    cx: &Context<'_>,
    plan: Plan,
    stack: Stack,
    graph: ConfigGraph,
    mut evaluation: Evaluation,
    inputs: &InputValues,
) -> Applied {
    let progress = Progress::new(cx.ui, plan.step_count());
    let events = |e: Event| progress.event(&e);
    let io = ApplyInputs {
        stack: &stack,
        graph: &graph,
        inputs,
        providers: cx.providers,
        calls: cx.calls,
        recorder: cx.recorder,
        options: cx.options,
        cancel: cx.cancel.clone(),
        events: &events,
        create_failures: Default::default(),
    };
    let report = cx.rt.block_on(apply_plan(&plan, &mut evaluation, &io));
    progress.finish();
    let failures = io.create_failures.into_inner().unwrap_or_default();
    Applied {
        plan,
        stack,
        graph,
        evaluation,
        report,
        failures,
    }
}

/// A plan's input values.
pub type InputValues = std::collections::HashMap<String, crate::config::inputs::InputValue>;

/// How the failover of the modules ended.
pub struct Outcome {
    /// The last round applied.
    pub last: Applied,
    /// Errors besides the last round's own: a teardown that failed, every alternative
    /// refused, a plan that could not be made.
    pub errors: Vec<Diagnostic>,
}

/// A refused alternative, for the final error.
struct Refusal {
    alternative: usize,
    failure: CreateFailure,
}

/// Carries on from the first round `first`: fails over each module being placed whose
/// create was refused, until every module holds or cannot.
pub fn follow(cx: &Context<'_>, first: Applied, tally: &mut Tally) -> Outcome {
    let modules: Vec<ModuleFailoverPlan> = first.plan.module_failovers.clone();
    let mut choices: ModuleSelection = modules
        .iter()
        .map(|m| (m.path.clone(), m.selected))
        .collect();
    let started = Instant::now();
    let mut refusals: BTreeMap<String, Vec<Refusal>> = BTreeMap::new();
    let mut rounds: BTreeMap<String, u32> = BTreeMap::new();
    let mut current = first;
    let mut errors = Vec::new();
    loop {
        if current.report.cancelled || cx.cancel.is_cancelled() {
            break;
        }
        let Some((module, failure)) = failed_over(&modules, &current) else {
            break;
        };
        let alternative = choices
            .get(&module.path)
            .copied()
            .unwrap_or(module.selected);
        let label = module
            .choices
            .get(alternative)
            .map(|c| c.label.clone())
            .unwrap_or_default();
        (progress_line(cx))(Event::ModuleFailoverRefused {
            module: module.address.clone(),
            alternative,
            label,
            address: failure.address.clone(),
            class: failure.class.as_str().to_owned(),
            code: failure.code.clone(),
            error: failure.message.clone(),
        });
        refusals
            .entry(module.address.clone())
            .or_default()
            .push(Refusal {
                alternative,
                failure,
            });
        if let Err(d) = tear_down(cx, module, alternative, &choices, tally) {
            errors.extend(d);
            break;
        }
        let next = match module.after(alternative).first() {
            Some(&next) => next,
            None => {
                let wait = module.wait_for_capacity.or(cx.options.wait_for_capacity);
                let left = wait.and_then(|w| (started + w).checked_duration_since(Instant::now()));
                let (Some(left), Some(&first_choice)) = (left, module.attempts.first()) else {
                    errors.push(all_refused(
                        module,
                        &refusals[&module.address],
                        wait.is_some(),
                    ));
                    break;
                };
                let round = rounds.entry(module.address.clone()).or_insert(0);
                let pause = backoff(cx.options.capacity_backoff, *round).min(left);
                *round += 1;
                (progress_line(cx))(Event::ModuleWaitingForCapacity {
                    module: module.address.clone(),
                    round: *round,
                    wait: pause,
                });
                let cancelled = cx.rt.block_on(async {
                    tokio::select! {
                        () = tokio::time::sleep(pause) => false,
                        () = cx.cancel.cancelled() => true,
                    }
                });
                if cancelled {
                    errors.push(all_refused(module, &refusals[&module.address], false));
                    break;
                }
                first_choice
            }
        };
        choices.insert(module.path.clone(), next);
        let request = PlanRequest {
            module_choices: choices.clone(),
            refresh: false,
            ..cx.request.clone()
        };
        match plan_and_apply(cx, &request, |_| true, tally) {
            Ok(Some(round)) => current = round,
            Ok(None) => break,
            Err(d) => {
                errors.extend(d);
                break;
            }
        }
    }
    if current.report.errors.is_empty() && errors.is_empty() && !current.report.cancelled {
        for module in &modules {
            let Some(refused) = refusals.get(&module.address) else {
                continue;
            };
            let alternative = choices
                .get(&module.path)
                .copied()
                .unwrap_or(module.selected);
            (progress_line(cx))(Event::ModuleFailoverHeld {
                module: module.address.clone(),
                alternative,
                label: module
                    .choices
                    .get(alternative)
                    .map(|c| c.label.clone())
                    .unwrap_or_default(),
                refused: refused.len(),
            });
        }
    }
    Outcome {
        last: current,
        errors,
    }
}

/// The module being placed whose create the round's errors come from, when every error
/// of the round is such a refusal inside it: any other failure stops the failover, as it
/// stops any apply.
fn failed_over<'m>(
    modules: &'m [ModuleFailoverPlan],
    round: &Applied,
) -> Option<(&'m ModuleFailoverPlan, CreateFailure)> {
    let module = modules.iter().filter(|m| m.placing).find(|m| {
        round
            .failures
            .iter()
            .any(|f| m.contains(&f.address) && m.triggers(f.class))
    })?;
    let all_refusals = round.report.errors.iter().all(|d| {
        d.address.as_deref().is_some_and(|a| {
            module.contains(a)
                && round
                    .failures
                    .iter()
                    .any(|f| f.address == a && module.triggers(f.class))
        })
    });
    if !all_refusals {
        return None;
    }
    let failure = round
        .failures
        .iter()
        .find(|f| module.contains(&f.address) && module.triggers(f.class))?
        .clone();
    Some((module, failure))
}

/// Destroys everything `module` holds (and whatever outside depends on it), as the
/// alternative `alternative` made it.
fn tear_down(
    cx: &Context<'_>,
    module: &ModuleFailoverPlan,
    alternative: usize,
    choices: &ModuleSelection,
    tally: &mut Tally,
) -> Result<(), Vec<Diagnostic>> {
    let request = PlanRequest {
        options: PlanOptions {
            replace: Vec::new(),
            destroy: true,
            targets: vec![module.address.clone()],
        },
        refresh: false,
        module_choices: choices.clone(),
        ..cx.request.clone()
    };
    let announce = |plan: &Plan| {
        let count = plan
            .changes
            .iter()
            .filter(|c| c.action == Action::Delete)
            .count();
        if count > 0 {
            (progress_line(cx))(Event::ModuleTearingDown {
                module: module.address.clone(),
                alternative,
                count,
            });
        }
        count > 0
    };
    let Some(done) = plan_and_apply(cx, &request, announce, tally)? else {
        return Ok(());
    };
    if done.report.errors.is_empty() && !done.report.cancelled {
        return Ok(());
    }
    let mut errors = done.report.errors;
    errors.push(
        Diagnostic::error(format!(
            "could not tear down what {} of `{}` made",
            module.name_of(alternative),
            module.address
        ))
        .with_help("what remains is in state: run `gantry apply` again to finish the failover, or `gantry destroy` to remove it"),
    );
    Err(errors)
}

/// Plans `request` against state as it is now and, when `go` says so for the plan, applies
/// it (`None`: not applied). A plan with errors is returned as its errors.
fn plan_and_apply(
    cx: &Context<'_>,
    request: &PlanRequest<'_>,
    go: impl FnOnce(&Plan) -> bool,
    tally: &mut Tally,
) -> Result<Option<Applied>, Vec<Diagnostic>> {
    let state = cx.journal.current();
    let configured = cx.rt.block_on(configure(request, cx.providers));
    let planned = cx.rt.block_on(plan_configured(
        configured,
        request,
        &state,
        cx.providers,
        cx.calls,
        &BTreeMap::new(),
    ));
    if planned.diagnostics.has_errors() {
        return Err(planned.diagnostics.iter().cloned().collect());
    }
    if !go(&planned.plan) {
        return Ok(None);
    }
    let (Some(graph), Some(evaluation)) = (planned.graph, planned.evaluation) else {
        return Err(vec![Diagnostic::error(
            "internal error: the plan has no evaluation",
        )]);
    };
    let done = apply_round(
        cx,
        planned.plan,
        planned.stack,
        graph,
        evaluation,
        &planned.inputs,
    );
    tally.add(&done.plan, &done.report);
    Ok(Some(done))
}

/// Marks every object of the modules placed by this apply as holding: a later refusal is
/// then an error, not a reason to move the module.
pub async fn settle(
    journal: &Journal,
    modules: &[ModuleFailoverPlan],
) -> Result<(), crate::state::StateError> {
    for module in modules.iter().filter(|m| m.placing) {
        let placing: Vec<crate::state::ResourceState> = journal.with_state(|s| {
            s.resources
                .values()
                .filter(|r| {
                    r.module_placements
                        .get(&module.address)
                        .is_some_and(|p| p.placing)
                })
                .cloned()
                .collect()
        });
        for mut r in placing {
            if let Some(p) = r.module_placements.get_mut(&module.address) {
                p.placing = false;
            }
            journal.append(Record::Updated(r)).await?;
        }
    }
    Ok(())
}

/// A sink for the loop's own events, printed like the executor's.
fn progress_line<'a>(cx: &'a Context<'_>) -> impl Fn(Event) + 'a {
    move |e: Event| Progress::lines(cx.ui).event(&e)
}

/// Every alternative refused: the error names each attempt and what the cloud said.
fn all_refused(module: &ModuleFailoverPlan, refusals: &[Refusal], waited: bool) -> Diagnostic {
    let tried: Vec<String> = refusals
        .iter()
        .map(|r| {
            format!(
                "{}: `{}`: {}{}",
                module.name_of(r.alternative),
                r.failure.address,
                r.failure
                    .code
                    .as_deref()
                    .map(|c| format!("{c}: "))
                    .unwrap_or_default(),
                r.failure.message
            )
        })
        .collect();
    let d = Diagnostic::error(format!(
        "failed to place `{}`: all {} of its alternatives were refused",
        module.address,
        refusals.len()
    ))
    .with_detail(format!(
        "tried:\n  {}\nwhat each alternative made was torn down",
        tried.join("\n  ")
    ));
    if waited {
        d.with_help("no capacity came free before the deadline; wait longer (`--wait-for-capacity`), or add alternatives")
    } else {
        d.with_help("add alternatives in other zones, regions or clouds to the module's `failover` block, or queue with `--wait-for-capacity 2h`")
    }
}

//! The apply executor: a concurrent walk of the plan's changes (see the module docs of
//! [`crate::apply`]).

use super::calls::ProviderCalls;
use super::failover::{PreparedChoice, PreparedFailover};
use super::operation::{self, StepInputs, StepResult};
use super::schedule::{schedule, Node, Phase, Schedule};
use crate::addrs::{parse_resource_instance, ResourceInstanceAddr};
use crate::config::inputs::InputValue;
use crate::config::load::Stack;
use crate::diagnostics::Diagnostic;
use crate::graph::build::ConfigGraph;
use crate::graph::nodes::{ConfigNode, NodeKind};
use crate::graph::walk::{
    check_instance_conditions, evaluate_instance_alternatives, evaluate_instance_config,
    reevaluate_value_node, set_instance_value, Evaluation,
};
use crate::plan::failover::FailoverPlan;
use crate::plan::{Action, Plan, ResourceChange};
use crate::providers::Providers;
use futures::stream::{FuturesUnordered, StreamExt};
use gantry_provider::{async_trait, conform, CancellationToken, Provider, Value};
use petgraph::graph::NodeIndex;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Durable record of what apply does; the state journal implements it.
#[async_trait]
pub trait Recorder: Send + Sync {
    /// Called, and awaited, before a create: the intent (token, configuration,
    /// dependencies) must be durable first. `change.after` is the planned state sent.
    async fn intent(&self, change: &ResourceChange, token: &str) -> Result<(), String>;
    /// The create with `token` made the object `value`; `tainted` when it failed after
    /// the cloud accepted it.
    async fn created(
        &self,
        change: &ResourceChange,
        value: &Value,
        token: &str,
        tainted: bool,
    ) -> Result<(), String>;
    /// The create with `token` made nothing.
    async fn not_created(&self, token: &str) -> Result<(), String>;
    /// An update or read finished with `value` (or an object was recorded at a new
    /// address, such as a deposed one).
    async fn applied(&self, change: &ResourceChange, value: &Value) -> Result<(), String>;
    /// The object at `address` was deleted.
    async fn deleted(&self, address: &str) -> Result<(), String>;
}

/// Progress of an apply, for the UI.
#[derive(Clone, Debug)]
pub enum Event {
    Started {
        address: String,
        action: Action,
    },
    Retrying {
        address: String,
        attempt: u32,
        error: String,
        wait: Duration,
    },
    Finished {
        address: String,
        action: Action,
        elapsed: Duration,
        id: Option<String>,
    },
    Failed {
        address: String,
        error: String,
    },
    Skipped {
        address: String,
        because: String,
    },
    /// A failover choice was refused (no capacity, no quota); the next one is tried.
    FailoverRefused {
        address: String,
        /// 0: as written; `n`: the `n`th alternative.
        alternative: usize,
        label: String,
        /// The error class (`capacity`, `quota`) and the cloud's code.
        class: String,
        code: Option<String>,
        error: String,
        /// Where it was refused (the choice's zone or region), when known.
        location: Option<String>,
    },
    /// Every choice was refused; the next round starts after `wait`.
    WaitingForCapacity {
        address: String,
        round: u32,
        wait: Duration,
    },
    /// The create succeeded with this choice after others were refused.
    FailoverHeld {
        address: String,
        alternative: usize,
        label: String,
        /// How many creates were refused before it.
        refused: usize,
    },
    /// A module alternative failed: a create inside it was refused (`address`, the cloud's
    /// class and code); what it made is torn down and the next alternative applied.
    ModuleFailoverRefused {
        module: String,
        alternative: usize,
        label: String,
        address: String,
        class: String,
        code: Option<String>,
        error: String,
    },
    /// A module alternative's objects are being torn down (`count` of them).
    ModuleTearingDown {
        module: String,
        alternative: usize,
        count: usize,
    },
    /// Every alternative of a module was refused; the next round starts after `wait`.
    ModuleWaitingForCapacity {
        module: String,
        round: u32,
        wait: Duration,
    },
    /// A module alternative holds after others were refused.
    ModuleFailoverHeld {
        module: String,
        alternative: usize,
        label: String,
        refused: usize,
    },
}

/// A create that failed, with the cloud's reason: what module failover reacts to.
#[derive(Clone, Debug)]
pub struct CreateFailure {
    pub address: String,
    pub class: gantry_provider::ErrorClass,
    pub code: Option<String>,
    /// Scrubbed of secrets.
    pub message: String,
}

/// Knobs of one apply.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    pub parallelism: usize,
    /// The stack's stable identity (from state), tagged on every object created.
    pub stack_identity: String,
    /// `--wait-for-capacity`: keep cycling through a create's choices until then when the
    /// cloud has no capacity (a `failover` block's own `wait_for_capacity` wins).
    pub wait_for_capacity: Option<Duration>,
    /// The first pause between rounds of waiting for capacity; it doubles up to 5 minutes.
    pub capacity_backoff: Duration,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 256,
            stack_identity: String::new(),
            wait_for_capacity: None,
            capacity_backoff: Duration::from_secs(30),
        }
    }
}

/// What happened.
#[derive(Debug, Default)]
pub struct ApplyReport {
    /// Changes carried out completely (both steps of a replacement).
    pub applied: Vec<String>,
    pub errors: Vec<Diagnostic>,
    pub skipped: Vec<String>,
    pub cancelled: bool,
    pub outputs: BTreeMap<String, Value>,
}

/// Everything the executor reads.
pub struct ApplyInputs<'a> {
    pub stack: &'a Stack,
    pub graph: &'a ConfigGraph,
    pub inputs: &'a HashMap<String, InputValue>,
    pub providers: &'a Providers,
    /// Limits and retries shared with the refresh of the same command.
    pub calls: &'a ProviderCalls,
    pub recorder: &'a dyn Recorder,
    pub options: &'a ApplyOptions,
    pub cancel: CancellationToken,
    pub events: &'a (dyn Fn(Event) + Sync),
    /// Every create that failed, as it fails (read after [`apply_plan`]).
    pub create_failures: std::sync::Mutex<Vec<CreateFailure>>,
}

/// Applies `plan`. `evaluation` is the plan's evaluation; it is updated with real values as
/// resources finish, so that configurations with unknowns are completed before their call.
pub async fn apply_plan(
    plan: &Plan,
    evaluation: &mut Evaluation,
    io: &ApplyInputs<'_>,
) -> ApplyReport {
    let mut report = ApplyReport::default();
    let changes: Vec<&ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .collect();
    let sched = match schedule(&changes) {
        Ok(s) => s,
        Err(cycle) => {
            report.errors.push(
                Diagnostic::error("the changes of this plan cannot be ordered")
                    .with_detail(format!("they wait for each other: {}", cycle.join(", ")))
                    .with_help("apply part of the change first with `--target`, or set `create_before_destroy` consistently on these resources"),
            );
            return report;
        }
    };
    let mut waits_for = sched.waits_for.clone();
    let mut steps_left: Vec<usize> = sched.steps.iter().map(Vec::len).collect();
    let mut deposed_at: HashMap<usize, String> = HashMap::new();
    let mut ready: VecDeque<usize> = (0..sched.nodes.len())
        .filter(|&n| waits_for[n] == 0)
        .collect();
    let mut failed: HashSet<usize> = HashSet::new();
    let mut in_flight = FuturesUnordered::new();
    let mut reeval = Reevaluator::new(io.graph);
    let mut started_steps = 0;
    let total_steps = sched
        .nodes
        .iter()
        .filter(|n| matches!(n, Node::Step { .. }))
        .count();

    loop {
        if !io.cancel.is_cancelled() {
            while in_flight.len() < io.options.parallelism.max(1) {
                let Some(n) = ready.pop_front() else { break };
                let Node::Step { change: ci, phase } = sched.nodes[n] else {
                    // A barrier is done as soon as what it waits for is.
                    release(&sched, n, &mut waits_for, &failed, &mut ready);
                    continue;
                };
                let change = changes[ci];
                let step = match start_step(change, phase, evaluation, io, &mut reeval) {
                    Ok(s) => s,
                    Err(d) => {
                        (io.events)(Event::Failed {
                            address: change.address.clone(),
                            error: d.summary.clone(),
                        });
                        report.errors.push(d);
                        fail_node(&sched, &changes, n, &mut failed, &mut report, io);
                        continue;
                    }
                };
                started_steps += 1;
                (io.events)(Event::Started {
                    address: change.address.clone(),
                    action: step_action(change.action, phase),
                });
                let deposed = deposed_at.get(&ci).cloned();
                if phase == Phase::Apply && change.action == Action::CreateThenDelete {
                    deposed_at.insert(ci, crate::plan::deposed::deposed_address(&change.address));
                }
                let new_deposed = deposed_at.get(&ci).cloned();
                in_flight.push(run_step(n, change, phase, step, deposed, new_deposed, io));
            }
        }
        if in_flight.is_empty() {
            if ready.is_empty() || io.cancel.is_cancelled() {
                break;
            }
            continue;
        }
        let next = tokio::select! {
            n = in_flight.next() => n,
            () = io.cancel.cancelled(), if !report.cancelled => {
                report.cancelled = true;
                continue;
            }
        };
        let Some((n, started, result)) = next else {
            break;
        };
        let Node::Step { change: ci, phase } = sched.nodes[n] else {
            continue;
        };
        let change = changes[ci];
        match result {
            Ok(value) => {
                let mut broken = Vec::new();
                if let (Some(v), Ok(addr)) = (&value, parse_resource_instance(&change.address)) {
                    let marked =
                        crate::config::sensitive::mark_paths(v.clone(), &change.sensitive_paths);
                    if phase == Phase::Apply {
                        broken = check_instance_conditions(
                            io.stack,
                            evaluation,
                            &addr,
                            Some(marked.clone()),
                        );
                    }
                    set_instance_value(evaluation, &addr, marked);
                    reeval.touch();
                }
                // A false postcondition: the object exists (state has it) but what depends
                // on it must not be built on it.
                if let Some(first) = broken.first() {
                    (io.events)(Event::Failed {
                        address: change.address.clone(),
                        error: first.summary.clone(),
                    });
                    report.errors.extend(broken);
                    fail_node(&sched, &changes, n, &mut failed, &mut report, io);
                    continue;
                }
                let id = value
                    .as_ref()
                    .and_then(|v| v.as_map())
                    .and_then(|m| m.get("id"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                (io.events)(Event::Finished {
                    address: change.address.clone(),
                    action: step_action(change.action, phase),
                    elapsed: started.elapsed(),
                    id,
                });
                steps_left[ci] -= 1;
                if steps_left[ci] == 0 {
                    report.applied.push(change.address.clone());
                }
                release(&sched, n, &mut waits_for, &failed, &mut ready);
            }
            Err(d) => {
                (io.events)(Event::Failed {
                    address: change.address.clone(),
                    error: d.summary.clone(),
                });
                report.errors.push(d);
                fail_node(&sched, &changes, n, &mut failed, &mut report, io);
            }
        }
    }
    // Whatever never started (cancelled) is reported as skipped.
    report.cancelled |= io.cancel.is_cancelled() && started_steps < total_steps;
    if report.cancelled {
        let done: HashSet<String> = report
            .applied
            .iter()
            .chain(report.skipped.iter())
            .cloned()
            .collect();
        let mut failed_changes = HashSet::new();
        for &n in &failed {
            if let Node::Step { change, .. } = sched.nodes[n] {
                failed_changes.insert(change);
            }
        }
        for (i, c) in changes.iter().enumerate() {
            if !done.contains(&c.address) && !failed_changes.contains(&i) {
                report.skipped.push(c.address.clone());
            }
        }
    }
    // Outputs, now that values are known.
    let output_nodes: Vec<NodeIndex> = io
        .graph
        .graph
        .node_indices()
        .filter(|&n| {
            io.graph.graph[n].module.is_root()
                && matches!(io.graph.graph[n].kind, NodeKind::Output(_))
        })
        .collect();
    reeval.refresh_all(evaluation, io, &output_nodes);
    report.outputs = evaluation.root_outputs.clone();
    report
}

/// The action a step shows as: the halves of a replacement show as its delete and create.
fn step_action(action: Action, phase: Phase) -> Action {
    match (action, phase) {
        (Action::DeleteThenCreate | Action::CreateThenDelete, Phase::Apply) => Action::Create,
        (Action::DeleteThenCreate | Action::CreateThenDelete, Phase::Delete) => Action::Delete,
        (a, _) => a,
    }
}

/// Node `n` is done: what waited only for it is ready.
fn release(
    sched: &Schedule,
    n: usize,
    waits_for: &mut [usize],
    failed: &HashSet<usize>,
    ready: &mut VecDeque<usize>,
) {
    for &d in &sched.dependents[n] {
        waits_for[d] -= 1;
        if waits_for[d] == 0 && !failed.contains(&d) {
            ready.push_back(d);
        }
    }
}

/// Node `n` failed: everything downstream is skipped (reported once per change).
fn fail_node(
    sched: &Schedule,
    changes: &[&ResourceChange],
    n: usize,
    failed: &mut HashSet<usize>,
    report: &mut ApplyReport,
    io: &ApplyInputs<'_>,
) {
    failed.insert(n);
    let because = match sched.nodes[n] {
        Node::Step { change, .. } => changes[change].address.clone(),
        Node::Barrier => String::new(),
    };
    let mut stack = sched.dependents[n].clone();
    let mut reported: HashSet<usize> = HashSet::new();
    while let Some(d) = stack.pop() {
        if !failed.insert(d) {
            continue;
        }
        if let Node::Step { change, .. } = sched.nodes[d] {
            let address = &changes[change].address;
            if address != &because && reported.insert(change) && !report.skipped.contains(address) {
                (io.events)(Event::Skipped {
                    address: address.clone(),
                    because: because.clone(),
                });
                report.skipped.push(address.clone());
            }
        }
        stack.extend(sched.dependents[d].iter().copied());
    }
}

/// Everything a step carries into its future.
struct StartedStep {
    provider: Arc<dyn Provider>,
    planned: Option<Value>,
    /// A create's failover, ready to try.
    failover: Option<PreparedFailover>,
    secrets: Vec<String>,
}

fn start_step(
    change: &ResourceChange,
    phase: Phase,
    evaluation: &mut Evaluation,
    io: &ApplyInputs<'_>,
    reeval: &mut Reevaluator,
) -> Result<StartedStep, Diagnostic> {
    let key = match phase {
        Phase::Delete => change.prior_provider(),
        Phase::Apply => &change.provider,
    };
    let provider = io.providers.get(key).ok_or_else(|| {
        Diagnostic::error(format!(
            "no provider configuration `{key}` for `{}`",
            change.address
        ))
        .with_help("the stack no longer declares it; add the `provider` block back to apply or destroy what it manages")
    })?;
    let secrets = crate::ui::redact::change_secrets(change);
    let (planned, failover) = match phase {
        Phase::Delete => (None, None),
        Phase::Apply => {
            let p = prepare(change, evaluation, io, reeval)?;
            (p.planned, p.failover)
        }
    };
    Ok(StartedStep {
        provider,
        planned,
        failover,
        secrets,
    })
}

type Outcome = (usize, Instant, StepResult);

async fn run_step(
    n: usize,
    change: &ResourceChange,
    phase: Phase,
    step: StartedStep,
    deposed: Option<String>,
    new_deposed: Option<String>,
    io: &ApplyInputs<'_>,
) -> Outcome {
    let started = Instant::now();
    let s = StepInputs {
        io,
        calls: io.calls,
        provider: step.provider,
        planned: step.planned,
        failover: step.failover,
        secrets: &step.secrets,
    };
    let result = match (phase, change.action) {
        (Phase::Delete, Action::CreateThenDelete) => {
            operation::delete(&s, &change.prior_side(), deposed.as_deref()).await
        }
        (Phase::Delete, _) => operation::delete(&s, &change.prior_side(), None).await,
        (Phase::Apply, Action::Update) => operation::update(&s, change).await,
        (Phase::Apply, Action::Read) => operation::read(&s, change).await,
        (Phase::Apply, Action::CreateThenDelete) => {
            let deposed = new_deposed.unwrap_or_default();
            match operation::depose(&s, change, &deposed).await {
                Ok(()) => operation::create(&s, change).await,
                Err(d) => Err(d),
            }
        }
        (Phase::Apply, _) => operation::create(&s, change).await,
    };
    (n, started, result)
}

/// What a change sends to its provider.
struct Prepared {
    /// The planned state to create or update to.
    planned: Option<Value>,
    /// For a create with failover: its choices, planned, in the order to try them.
    failover: Option<PreparedFailover>,
}

/// Completes a change's configuration: when planning left unknowns (ids of resources created
/// in this apply), evaluate it again now that they are known.
fn prepare(
    change: &ResourceChange,
    evaluation: &mut Evaluation,
    io: &ApplyInputs<'_>,
    reeval: &mut Reevaluator,
) -> Result<Prepared, Diagnostic> {
    if change.action == Action::Delete {
        return Ok(Prepared {
            planned: None,
            failover: None,
        });
    }
    // Preconditions again, now that what they read may be known: nothing is sent when one
    // is false.
    if let (Some(res), Ok(addr)) = (
        resource_of(io.stack, &change.address),
        parse_resource_instance(&change.address),
    ) {
        if !res.lifecycle.preconditions.is_empty() {
            reeval.refresh_for(evaluation, io, &addr);
            let broken = check_instance_conditions(io.stack, evaluation, &addr, None);
            if let Some(first) = broken.into_iter().next() {
                return Err(first);
            }
        }
    }
    let provider = io.providers.get(&change.provider).ok_or_else(|| {
        Diagnostic::error(format!(
            "no provider configuration `{}` for `{}`",
            change.provider, change.address
        ))
    })?;
    let config_known = change.config.as_ref().is_some_and(Value::is_wholly_known);
    let config = if config_known {
        change.config.clone().unwrap_or(Value::Null)
    } else {
        let addr = parse_resource_instance(&change.address)
            .map_err(|e| Diagnostic::error(e.to_string()))?;
        reeval.refresh_for(evaluation, io, &addr);
        let raw = evaluate_instance_config(io.stack, evaluation, &addr).map_err(|mut errs| {
            errs.pop()
                .unwrap_or_else(|| Diagnostic::error("configuration could not be evaluated"))
        })?;
        // Marks were recorded as paths at plan time; the provider gets plain values.
        let (raw, _) = crate::config::sensitive::unmark_paths(raw);
        let schemas = provider.schema();
        let schema = if change.managed {
            schemas.resources.get(&change.type_name)
        } else {
            schemas.data_sources.get(&change.type_name)
        }
        .ok_or_else(|| {
            Diagnostic::error(format!("unsupported resource type `{}`", change.type_name))
        })?;
        conform(schema, &raw)
            .map_err(|issues| invalid_config(&format!("`{}`", change.address), &issues))?
    };
    if !config.is_wholly_known() {
        return Err(Diagnostic::error(format!(
            "configuration of `{}` is still unknown during apply",
            change.address
        ))
        .with_help(
            "this is a bug in gantry or a provider: a value it depends on was never known",
        ));
    }
    let prior = match change.action {
        Action::Update => change.before.as_ref(),
        _ => None,
    };
    let ignore = |config: &mut Value| {
        if let (Some(p), Some(res)) = (prior, resource_of(io.stack, &change.address)) {
            super::super::plan::ignore::apply(
                config,
                p,
                &res.lifecycle.ignore_changes,
                res.lifecycle.ignore_all_changes,
            );
        }
    };
    let mut config = config;
    if !config_known {
        ignore(&mut config);
    }
    // The alternatives as known now: values unknown while planning (a subnet made in this
    // apply) are evaluated again.
    let overrides = match &change.failover {
        Some(f) => current_overrides(change, f, evaluation, io, reeval)?,
        None => vec![BTreeMap::new()],
    };
    let schemas = provider.schema();
    let schema = schemas.resources.get(&change.type_name);
    // An object a failover alternative placed is updated with that alternative.
    let held = change.failover.as_ref().and_then(|f| f.held);
    let update_config = match (change.action, held, schema) {
        (Action::Update, Some(h), Some(schema)) if h > 0 => {
            let mut c = overlay(change, schema, &config, &overrides[h], h)?;
            ignore(&mut c);
            c
        }
        _ => config.clone(),
    };
    let planned = provider
        .plan(&change.type_name, prior, &update_config)
        .map_err(|e| {
            Diagnostic::error(format!("provider could not plan `{}`", change.address))
                .with_label(e.to_string())
        })?;
    let failover = match (failover_of(change, io), schema) {
        (Some(plan), Some(schema)) => {
            let choices = plan
                .attempts
                .iter()
                .map(|&i| {
                    let key = plan.choices[i].provider.as_deref().unwrap_or(&change.provider);
                    let provider = io.providers.get(key).ok_or_else(|| {
                        Diagnostic::error(format!(
                            "no provider configuration `{key}` for failover alternative {i} of `{}`",
                            change.address
                        ))
                    })?;
                    prepare_choice(change, schema, (key, provider), &config, &overrides[i], i)
                })
                .collect::<Result<Vec<_>, _>>()?;
            Some(PreparedFailover { plan, choices })
        }
        _ => None,
    };
    Ok(Prepared {
        planned: Some(planned.value),
        failover,
    })
}

/// The failover a create runs with: its block's, or, under `--wait-for-capacity`, the
/// resource as written retried until the deadline.
fn failover_of(change: &ResourceChange, io: &ApplyInputs<'_>) -> Option<FailoverPlan> {
    let creates = matches!(
        change.action,
        Action::Create | Action::DeleteThenCreate | Action::CreateThenDelete
    );
    if !creates || !change.managed {
        return None;
    }
    // Inside a module being placed, `--wait-for-capacity` is the module's: waiting here
    // would hold the whole module on its first alternative until the deadline.
    let placing_module = change.module_placements.values().any(|p| p.placing);
    let wait = io.options.wait_for_capacity.filter(|_| !placing_module);
    let Some(mut f) = change.failover.clone() else {
        return wait.map(crate::plan::failover::as_written_only);
    };
    if f.wait_for_capacity.is_none() {
        f.wait_for_capacity = wait;
    }
    Some(f)
}

/// Each choice's overrides as known now (index 0: none).
fn current_overrides(
    change: &ResourceChange,
    f: &FailoverPlan,
    evaluation: &mut Evaluation,
    io: &ApplyInputs<'_>,
    reeval: &mut Reevaluator,
) -> Result<Vec<BTreeMap<String, Value>>, Diagnostic> {
    let mut overrides: Vec<_> = f.choices.iter().map(|c| c.overrides.clone()).collect();
    if overrides
        .iter()
        .all(|o| o.values().all(Value::is_wholly_known))
    {
        return Ok(overrides);
    }
    let addr =
        parse_resource_instance(&change.address).map_err(|e| Diagnostic::error(e.to_string()))?;
    reeval.refresh_for(evaluation, io, &addr);
    let alternatives =
        evaluate_instance_alternatives(io.stack, evaluation, &addr).map_err(|mut errs| {
            errs.pop().unwrap_or_else(|| {
                Diagnostic::error("failover alternatives could not be evaluated")
            })
        })?;
    if alternatives.len() + 1 != overrides.len() {
        return Err(Diagnostic::error(format!(
            "the failover alternatives of `{}` changed during apply",
            change.address
        )));
    }
    for (i, alt) in alternatives.into_iter().enumerate() {
        overrides[i + 1] = alt.overrides;
    }
    Ok(overrides)
}

/// `config` with one choice's overrides, conformed and wholly known.
fn overlay(
    change: &ResourceChange,
    schema: &gantry_provider::Schema,
    config: &Value,
    overrides: &BTreeMap<String, Value>,
    alternative: usize,
) -> Result<Value, Diagnostic> {
    let overlaid = crate::plan::failover::with_overrides(config, overrides, Some(schema));
    let conformed = conform(schema, &overlaid).map_err(|issues| {
        invalid_config(
            &format!("failover alternative {alternative} of `{}`", change.address),
            &issues,
        )
    })?;
    if !conformed.is_wholly_known() {
        return Err(Diagnostic::error(format!(
            "failover alternative {alternative} of `{}` is still unknown during apply",
            change.address
        ))
        .with_help(
            "this is a bug in gantry or a provider: a value it depends on was never known",
        ));
    }
    Ok(conformed)
}

/// One failover choice, planned and ready to send.
fn prepare_choice(
    change: &ResourceChange,
    schema: &gantry_provider::Schema,
    (provider_key, provider): (&str, Arc<dyn Provider>),
    config: &Value,
    overrides: &BTreeMap<String, Value>,
    alternative: usize,
) -> Result<PreparedChoice, Diagnostic> {
    let named = (provider_key != change.provider).then_some(provider_key);
    let conformed = overlay(change, schema, config, overrides, alternative)?;
    let planned = provider
        .plan(&change.type_name, None, &conformed)
        .map_err(|e| {
            Diagnostic::error(format!(
                "provider could not plan failover alternative {alternative} of `{}`",
                change.address
            ))
            .with_label(e.to_string())
        })?;
    Ok(PreparedChoice {
        alternative,
        label: crate::plan::failover::choice_label(overrides, named),
        location: provider.location_of(&change.type_name, &planned.value),
        placement: crate::plan::failover::placement_of(alternative, overrides, named),
        planned: planned.value,
        provider_key: provider_key.to_owned(),
        provider,
    })
}

/// A configuration the schema refuses, with every issue.
fn invalid_config(what: &str, issues: &[gantry_provider::ConfigIssue]) -> Diagnostic {
    Diagnostic::error(format!("invalid configuration for {what} at apply")).with_detail(
        issues
            .iter()
            .map(|i| i.message.clone())
            .collect::<Vec<_>>()
            .join("; "),
    )
}

/// The `resource` block of an instance address.
fn resource_of<'s>(stack: &'s Stack, address: &str) -> Option<&'s crate::config::model::Resource> {
    let addr = parse_resource_instance(address).ok()?;
    stack
        .module(&addr.module.path())?
        .resources
        .get(&addr.resource)
}

/// Re-evaluates variables, locals and outputs whose inputs changed since they were last
/// evaluated: only those between a resource and the configuration being completed.
struct Reevaluator {
    version: u64,
    evaluated_at: HashMap<NodeIndex, u64>,
    ancestors: HashMap<NodeIndex, Vec<NodeIndex>>,
    topo_rank: HashMap<NodeIndex, usize>,
}

impl Reevaluator {
    fn new(graph: &ConfigGraph) -> Reevaluator {
        let topo_rank = petgraph::algo::toposort(&graph.graph, None)
            .map(|o| o.into_iter().enumerate().map(|(i, n)| (n, i)).collect())
            .unwrap_or_default();
        Reevaluator {
            version: 1,
            evaluated_at: HashMap::new(),
            ancestors: HashMap::new(),
            topo_rank,
        }
    }

    /// A resource got its real value.
    fn touch(&mut self) {
        self.version += 1;
    }

    fn value_ancestors(&mut self, graph: &ConfigGraph, start: NodeIndex) -> Vec<NodeIndex> {
        if let Some(a) = self.ancestors.get(&start) {
            return a.clone();
        }
        let mut seen = HashSet::new();
        let mut stack = vec![start];
        while let Some(n) = stack.pop() {
            for d in graph
                .graph
                .neighbors_directed(n, petgraph::Direction::Incoming)
            {
                if matches!(
                    graph.graph[d].kind,
                    NodeKind::Var(_) | NodeKind::Local(_) | NodeKind::Output(_)
                ) && seen.insert(d)
                {
                    stack.push(d);
                }
            }
        }
        let mut list: Vec<NodeIndex> = seen.into_iter().collect();
        list.sort_by_key(|n| self.topo_rank.get(n).copied().unwrap_or(usize::MAX));
        self.ancestors.insert(start, list.clone());
        list
    }

    fn refresh_nodes(
        &mut self,
        evaluation: &mut Evaluation,
        io: &ApplyInputs<'_>,
        nodes: &[NodeIndex],
    ) {
        let mut diags = crate::diagnostics::Diagnostics::new();
        for &n in nodes {
            if self.evaluated_at.get(&n).copied().unwrap_or(0) < self.version {
                reevaluate_value_node(io.stack, io.graph, io.inputs, evaluation, n, &mut diags);
                self.evaluated_at.insert(n, self.version);
            }
        }
    }

    fn refresh_for(
        &mut self,
        evaluation: &mut Evaluation,
        io: &ApplyInputs<'_>,
        addr: &ResourceInstanceAddr,
    ) {
        let node = ConfigNode {
            module: addr.module.path(),
            kind: NodeKind::Resource(addr.resource.clone()),
        };
        let Some(idx) = io.graph.node(&node) else {
            return;
        };
        let ancestors = self.value_ancestors(io.graph, idx);
        self.refresh_nodes(evaluation, io, &ancestors);
    }

    fn refresh_all(
        &mut self,
        evaluation: &mut Evaluation,
        io: &ApplyInputs<'_>,
        outputs: &[NodeIndex],
    ) {
        let mut all = Vec::new();
        for &o in outputs {
            all.extend(self.value_ancestors(io.graph, o));
            all.push(o);
        }
        all.sort_by_key(|n| self.topo_rank.get(n).copied().unwrap_or(usize::MAX));
        all.dedup();
        self.version += 1;
        self.refresh_nodes(evaluation, io, &all);
    }
}

//! The apply executor: a concurrent walk of the plan's changes (see the module docs of
//! [`crate::apply`]).

use super::limiter::Limiter;
use super::retry::RetryPolicy;
use crate::addrs::{parse_resource_instance, ResourceInstanceAddr};
use crate::config::inputs::InputValue;
use crate::config::load::Stack;
use crate::diagnostics::Diagnostic;
use crate::graph::build::ConfigGraph;
use crate::graph::nodes::{ConfigNode, NodeKind};
use crate::graph::walk::{
    evaluate_instance_config, reevaluate_value_node, set_instance_value, Evaluation,
};
use crate::plan::{Action, Plan, ResourceChange};
use crate::providers::Providers;
use futures::stream::{FuturesUnordered, StreamExt};
use gantry_provider::{
    async_trait, conform, CancellationToken, ErrorClass, OpContext, Provider, ProviderError, Value,
};
use petgraph::graph::NodeIndex;
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Durable record of what apply does; the state journal implements it.
#[async_trait]
pub trait Recorder: Send + Sync {
    /// Called, and awaited, before a create: the intent must be durable first.
    async fn intent(&self, change: &ResourceChange, token: &str) -> Result<(), String>;
    /// A create, update or read finished with `value`.
    async fn applied(
        &self,
        change: &ResourceChange,
        value: &Value,
        token: Option<&str>,
    ) -> Result<(), String>;
    /// A delete finished.
    async fn deleted(&self, change: &ResourceChange) -> Result<(), String>;
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
}

/// Knobs of one apply.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    pub parallelism: usize,
    pub retry: RetryPolicy,
    pub stack_name: String,
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions {
            parallelism: 256,
            retry: RetryPolicy::default(),
            stack_name: String::new(),
        }
    }
}

/// What happened.
#[derive(Debug, Default)]
pub struct ApplyReport {
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
    pub recorder: &'a dyn Recorder,
    pub options: &'a ApplyOptions,
    pub cancel: CancellationToken,
    pub events: &'a (dyn Fn(Event) + Sync),
}

struct Node<'p> {
    change: &'p ResourceChange,
    waits_for: usize,
    dependents: Vec<usize>,
}

/// Applies `plan`. `evaluation` is the plan's evaluation; it is updated with real values as
/// resources finish, so that configurations with unknowns are completed before their call.
pub async fn apply_plan(
    plan: &Plan,
    evaluation: &mut Evaluation,
    io: &ApplyInputs<'_>,
) -> ApplyReport {
    let mut report = ApplyReport::default();
    let mut nodes: Vec<Node<'_>> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| Node {
            change: c,
            waits_for: 0,
            dependents: Vec::new(),
        })
        .collect();
    let index: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.change.address.as_str(), i))
        .collect();
    // Edges: creates/updates wait for what they depend on; deletes wait for the deletes of
    // what depends on them.
    let mut edges = Vec::new();
    for (i, n) in nodes.iter().enumerate() {
        for dep in &n.change.dependencies {
            let Some(&j) = index.get(dep.as_str()) else {
                continue;
            };
            let both_delete =
                n.change.action == Action::Delete && nodes[j].change.action == Action::Delete;
            if both_delete {
                edges.push((i, j)); // delete the dependent (i) before its dependency (j)
            } else if n.change.action != Action::Delete && nodes[j].change.action != Action::Delete
            {
                edges.push((j, i));
            }
        }
    }
    edges.sort_unstable();
    edges.dedup();
    for (from, to) in edges {
        nodes[from].dependents.push(to);
        nodes[to].waits_for += 1;
    }

    let mut limiter = Limiter::new(io.options.parallelism);
    for key in io.providers.keys() {
        if let Some(p) = io.providers.get(&key) {
            limiter.register(&key, p.initial_concurrency());
        }
    }
    let limiter = Mutex::new(limiter);
    let mut ready: VecDeque<usize> = (0..nodes.len())
        .filter(|&i| nodes[i].waits_for == 0)
        .collect();
    let mut deferred: Vec<usize> = Vec::new();
    let mut failed: HashSet<usize> = HashSet::new();
    let mut in_flight = FuturesUnordered::new();
    let mut reeval = Reevaluator::new(io.graph);

    loop {
        if !io.cancel.is_cancelled() {
            ready.extend(deferred.drain(..));
            while in_flight.len() < io.options.parallelism {
                let Some(i) = ready.pop_front() else { break };
                let change = nodes[i].change;
                let acquired = limiter
                    .lock()
                    .map(|mut l| l.try_acquire(&change.provider))
                    .unwrap_or(true);
                if !acquired {
                    deferred.push(i);
                    continue;
                }
                let prepared = match prepare(change, evaluation, io, &mut reeval) {
                    Ok(p) => p,
                    Err(d) => {
                        if let Ok(mut l) = limiter.lock() {
                            l.release(&change.provider);
                        }
                        report.errors.push(d);
                        failed.insert(i);
                        skip_dependents(&nodes, i, &mut failed, &mut report, io);
                        continue;
                    }
                };
                (io.events)(Event::Started {
                    address: change.address.clone(),
                    action: change.action,
                });
                in_flight.push(run_change(i, change, prepared, io, &limiter));
            }
        }
        if in_flight.is_empty() {
            break;
        }
        let next = tokio::select! {
            n = in_flight.next() => n,
            () = io.cancel.cancelled(), if !report.cancelled => {
                report.cancelled = true;
                continue;
            }
        };
        let Some((i, started, result)) = next else {
            break;
        };
        let change = nodes[i].change;
        if let Ok(mut l) = limiter.lock() {
            l.release(&change.provider);
        }
        match result {
            Ok(value) => {
                if let (Some(v), Ok(addr)) = (&value, parse_resource_instance(&change.address)) {
                    set_instance_value(evaluation, &addr, v.clone());
                    reeval.touch();
                }
                let id = value
                    .as_ref()
                    .and_then(|v| v.as_map())
                    .and_then(|m| m.get("id"))
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                (io.events)(Event::Finished {
                    address: change.address.clone(),
                    action: change.action,
                    elapsed: started.elapsed(),
                    id,
                });
                report.applied.push(change.address.clone());
                for &d in &nodes[i].dependents.clone() {
                    nodes[d].waits_for -= 1;
                    if nodes[d].waits_for == 0 && !failed.contains(&d) {
                        ready.push_back(d);
                    }
                }
            }
            Err(d) => {
                (io.events)(Event::Failed {
                    address: change.address.clone(),
                    error: d.summary.clone(),
                });
                report.errors.push(d);
                failed.insert(i);
                skip_dependents(&nodes, i, &mut failed, &mut report, io);
            }
        }
    }
    // Whatever never started (cancelled) is reported as skipped.
    report.cancelled |=
        io.cancel.is_cancelled() && report.applied.len() + failed.len() < nodes.len();
    if report.cancelled {
        let done: HashSet<String> = report
            .applied
            .iter()
            .chain(report.skipped.iter())
            .cloned()
            .collect();
        for (i, n) in nodes.iter().enumerate() {
            if !done.contains(&n.change.address) && !failed.contains(&i) {
                report.skipped.push(n.change.address.clone());
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

fn skip_dependents(
    nodes: &[Node<'_>],
    i: usize,
    failed: &mut HashSet<usize>,
    report: &mut ApplyReport,
    io: &ApplyInputs<'_>,
) {
    let mut stack = nodes[i].dependents.clone();
    while let Some(d) = stack.pop() {
        if failed.insert(d) {
            let address = nodes[d].change.address.clone();
            (io.events)(Event::Skipped {
                address: address.clone(),
                because: nodes[i].change.address.clone(),
            });
            report.skipped.push(address);
            stack.extend(nodes[d].dependents.iter().copied());
        }
    }
}

/// What a change sends to its provider.
struct Prepared {
    /// The planned state to create or update to.
    planned: Option<Value>,
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
        return Ok(Prepared { planned: None });
    }
    let provider = io.providers.get(&change.provider).ok_or_else(|| {
        Diagnostic::error(format!(
            "no provider `{}` for `{}`",
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
        let schemas = provider.schema();
        let schema = if change.managed {
            schemas.resources.get(&change.type_name)
        } else {
            schemas.data_sources.get(&change.type_name)
        }
        .ok_or_else(|| {
            Diagnostic::error(format!("unsupported resource type `{}`", change.type_name))
        })?;
        conform(schema, &raw).map_err(|issues| {
            Diagnostic::error(format!(
                "invalid configuration for `{}` at apply",
                change.address
            ))
            .with_detail(
                issues
                    .iter()
                    .map(|i| i.message.clone())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        })?
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
    let planned = provider
        .plan(&change.type_name, prior, &config)
        .map_err(|e| {
            Diagnostic::error(format!("provider could not plan `{}`", change.address))
                .with_label(e.to_string())
        })?;
    Ok(Prepared {
        planned: Some(planned.value),
    })
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

type Outcome = (usize, Instant, Result<Option<Value>, Diagnostic>);

async fn run_change(
    i: usize,
    change: &ResourceChange,
    prepared: Prepared,
    io: &ApplyInputs<'_>,
    limiter: &Mutex<Limiter>,
) -> Outcome {
    let started = Instant::now();
    let result = run_change_inner(change, prepared, io, limiter).await;
    (i, started, result)
}

async fn run_change_inner(
    change: &ResourceChange,
    prepared: Prepared,
    io: &ApplyInputs<'_>,
    limiter: &Mutex<Limiter>,
) -> Result<Option<Value>, Diagnostic> {
    let provider = io
        .providers
        .get(&change.provider)
        .ok_or_else(|| Diagnostic::error(format!("no provider `{}`", change.provider)))?
        .clone();
    let mut ctx = OpContext::new(change.address.clone());
    ctx.cancel = io.cancel.child_token();
    ctx.stack.clone_from(&io.options.stack_name);
    let fail = |what: &str, e: ProviderError| provider_failure(change, what, &e);
    let record = |e: String| {
        Diagnostic::error(format!("could not record `{}` in state", change.address)).with_detail(e)
    };
    match change.action {
        Action::NoOp => Ok(change.before.clone()),
        Action::Delete => {
            delete(&*provider, &ctx, change, io, limiter)
                .await
                .map_err(|e| fail("delete", e))?;
            io.recorder.deleted(change).await.map_err(record)?;
            Ok(None)
        }
        Action::Update => {
            let planned = prepared.planned.unwrap_or(Value::Null);
            let prior = change.before.clone().unwrap_or(Value::Null);
            let value = with_retries(io, limiter, change, false, || {
                provider.update(&ctx, &change.type_name, &prior, &planned)
            })
            .await
            .map_err(|e| fail("update", e))?;
            io.recorder
                .applied(change, &value, None)
                .await
                .map_err(record)?;
            Ok(Some(value))
        }
        Action::Read => {
            let planned = prepared.planned.unwrap_or(Value::Null);
            let value = with_retries(io, limiter, change, false, || {
                provider.read_data(&ctx, &change.type_name, &planned)
            })
            .await
            .map_err(|e| fail("read", e))?;
            io.recorder
                .applied(change, &value, None)
                .await
                .map_err(record)?;
            Ok(Some(value))
        }
        Action::Create | Action::DeleteThenCreate | Action::CreateThenDelete => {
            if change.action == Action::DeleteThenCreate {
                delete(&*provider, &ctx, change, io, limiter)
                    .await
                    .map_err(|e| fail("delete", e))?;
                io.recorder.deleted(change).await.map_err(record)?;
            }
            // create_before_destroy: the old object is first recorded as deposed, under its
            // own address, so that whatever happens next (a crash, a failed delete) it stays
            // tracked and the next plan deletes it.
            let deposed = (change.action == Action::CreateThenDelete).then(|| ResourceChange {
                address: deposed_address(&change.address),
                ..change.clone()
            });
            if let (Some(d), Some(before)) = (&deposed, &change.before) {
                io.recorder.applied(d, before, None).await.map_err(record)?;
            }
            let planned = prepared.planned.unwrap_or(Value::Null);
            let token = uuid::Uuid::new_v4().to_string();
            io.recorder.intent(change, &token).await.map_err(record)?;
            let mut create_ctx = ctx.clone();
            create_ctx.idempotency_token = Some(token.clone());
            let value = with_retries(io, limiter, change, false, || {
                provider.create(&create_ctx, &change.type_name, &planned)
            })
            .await
            .map_err(|e| fail("create", e))?;
            io.recorder
                .applied(change, &value, Some(&token))
                .await
                .map_err(record)?;
            if let Some(d) = &deposed {
                delete(&*provider, &ctx, change, io, limiter)
                    .await
                    .map_err(|e| fail("delete the old object of", e))?;
                io.recorder.deleted(d).await.map_err(record)?;
            }
            Ok(Some(value))
        }
    }
}

async fn delete(
    provider: &dyn Provider,
    ctx: &OpContext,
    change: &ResourceChange,
    io: &ApplyInputs<'_>,
    limiter: &Mutex<Limiter>,
) -> Result<(), ProviderError> {
    let Some(before) = change.before.clone() else {
        return Ok(());
    };
    match with_retries(io, limiter, change, true, || {
        provider.delete(ctx, &change.type_name, &before)
    })
    .await
    {
        Err(e) if e.class == ErrorClass::NotFound => Ok(()),
        other => other,
    }
}

async fn with_retries<T, F, Fut>(
    io: &ApplyInputs<'_>,
    limiter: &Mutex<Limiter>,
    change: &ResourceChange,
    deleting: bool,
    mut call: F,
) -> Result<T, ProviderError>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, ProviderError>>,
{
    let mut attempt = 0;
    loop {
        match call().await {
            Ok(v) => {
                if let Ok(mut l) = limiter.lock() {
                    l.succeeded(&change.provider);
                }
                return Ok(v);
            }
            Err(e) => {
                if e.class == ErrorClass::Throttled {
                    if let Ok(mut l) = limiter.lock() {
                        l.throttled(&change.provider);
                    }
                }
                attempt += 1;
                let Some(wait) = io.options.retry.delay(&e, attempt, deleting) else {
                    return Err(e);
                };
                if io.cancel.is_cancelled() {
                    return Err(e);
                }
                (io.events)(Event::Retrying {
                    address: change.address.clone(),
                    attempt,
                    error: e.to_string(),
                    wait,
                });
                tokio::time::sleep(wait).await;
            }
        }
    }
}

/// The state address of an object replaced under `create_before_destroy` until it is deleted.
pub fn deposed_address(address: &str) -> String {
    format!("{address} (deposed)")
}

fn provider_failure(change: &ResourceChange, what: &str, e: &ProviderError) -> Diagnostic {
    let mut d = Diagnostic::error(format!("failed to {what} `{}`", change.address))
        .with_label(e.to_string())
        .with_address(change.address.clone())
        .with_detail(format!(
            "{}\nerror class: {}{}",
            e.message,
            e.class.as_str(),
            e.code
                .as_ref()
                .map(|c| format!(", cloud code: {c}"))
                .unwrap_or_default()
        ));
    d = match e.class {
        ErrorClass::Capacity => {
            d.with_help("no capacity for this machine type here; try another zone or region")
        }
        ErrorClass::Quota => d.with_help(
            "an account quota would be exceeded; request an increase or use fewer instances",
        ),
        ErrorClass::Auth => d.with_help("check the credentials and permissions gantry runs with"),
        _ => d,
    };
    d
}

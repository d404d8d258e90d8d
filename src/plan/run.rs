//! Making a plan end to end: load and evaluate the stack, refresh what state tracks, walk
//! the graph with the [`Planner`], and attach dependencies from the instance graph.

use super::planner::{PlanOptions, Planner};
use super::refresh::{refresh, Prior};
use super::Plan;
use crate::config::inputs::{InputOptions, InputValue};
use crate::config::load::Stack;
use crate::config::sources::ModuleFetcher;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::graph::build::ConfigGraph;
use crate::graph::instances::build_instances;
use crate::graph::walk::{walk_with, Evaluation, WalkMode};
use crate::providers::Providers;
use crate::stack::{prepare, Prepared};
use crate::state::{ResourceMode, State};
use gantry_provider::Value;
use petgraph::visit::EdgeRef;
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// What to plan.
pub struct PlanRequest<'a> {
    pub path: &'a Path,
    pub inputs: &'a InputOptions,
    pub options: PlanOptions,
    /// Read every tracked resource first (`--refresh=false` skips it).
    pub refresh: bool,
    pub parallelism: usize,
    /// `--max-hourly`: overrides the stack's `budget { max_hourly }`.
    pub max_hourly: Option<f64>,
}

/// A plan and everything apply needs to carry it out.
pub struct Planned {
    pub stack: Stack,
    pub graph: Option<ConfigGraph>,
    pub inputs: HashMap<String, InputValue>,
    pub evaluation: Option<Evaluation>,
    pub plan: Plan,
    pub diagnostics: Diagnostics,
}

/// The planner's view of what state tracks.
pub fn priors_from_state(state: &State) -> BTreeMap<String, Prior> {
    state
        .resources
        .iter()
        .map(|(address, r)| {
            (
                address.clone(),
                Prior {
                    type_name: r.type_name.clone(),
                    provider: r.provider.clone(),
                    managed: r.mode == ResourceMode::Managed,
                    attributes: Value::from_json(&r.attributes),
                    dependencies: r.dependencies.clone(),
                    schema_version: r.schema_version,
                    sensitive_paths: r.sensitive_paths.clone(),
                },
            )
        })
        .collect()
}

pub async fn make_plan(req: &PlanRequest<'_>, state: &State, providers: &Providers) -> Planned {
    let fetcher = ModuleFetcher::default();
    let Prepared {
        stack,
        inputs,
        graph,
        has_cycles,
        diagnostics: mut diags,
    } = prepare(req.path, req.inputs, &fetcher);
    let mut planned = Planned {
        stack: Stack::default(),
        graph: None,
        inputs: HashMap::new(),
        evaluation: None,
        plan: Plan::default(),
        diagnostics: Diagnostics::new(),
    };
    let graph = match graph {
        Some(g) if !has_cycles && !diags.has_errors() => g,
        other => {
            planned.stack = stack;
            planned.graph = other;
            planned.diagnostics = diags;
            return planned;
        }
    };
    let config_diags = providers.configure_for(&stack, &graph, &inputs).await;
    let configured = !config_diags.has_errors();
    diags.extend(config_diags);
    if !configured {
        planned.stack = stack;
        planned.graph = Some(graph);
        planned.diagnostics = diags;
        return planned;
    }
    let mut prior = priors_from_state(state);
    super::refresh::type_priors(providers, &mut prior);
    let mut drift = Vec::new();
    if req.refresh && !prior.is_empty() {
        let (refreshed, found, errors) = refresh(providers, prior, req.parallelism).await;
        prior = refreshed;
        drift = found;
        for (address, e) in errors {
            diags.push(
                Diagnostic::error(format!("failed to refresh `{address}`"))
                    .with_label(e.to_string()),
            );
        }
    }
    let mut planner = Planner::new(&stack, providers, &prior, &req.options);
    let evaluation = walk_with(
        &stack,
        &graph,
        &inputs,
        WalkMode::Plan,
        &mut planner,
        &mut diags,
    );
    let instances = build_instances(&graph, &evaluation);
    // Only changes that do something need their dependencies (a no-op plan of a large stack
    // then formats no edge at all); each address is formatted once, not once per edge.
    let changed = planner.changed_addresses();
    let names: Vec<String> = instances
        .graph
        .node_weights()
        .map(ToString::to_string)
        .collect();
    let mut dependencies: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for e in instances.graph.edge_references() {
        if !changed.contains(&names[e.target().index()]) {
            continue;
        }
        dependencies
            .entry(names[e.target().index()].clone())
            .or_default()
            .push(names[e.source().index()].clone());
    }
    let mut plan = planner.finish(&dependencies);
    plan.drift = drift;
    let catalog = crate::catalog::current();
    plan.costs = super::costs::price_plan(&plan, providers, catalog);
    if !req.options.destroy && !diags.has_errors() {
        let limits = budget_limits(&stack, req.max_hourly);
        if let Some(d) = super::preflight::check_budget(&plan.costs, &limits) {
            diags.push(d);
        }
        super::preflight::check_quotas(&plan, providers, catalog, &mut diags).await;
    }
    for (name, value) in &evaluation.root_outputs {
        let sensitive = stack.output_sensitive(name);
        let before = state.outputs.get(name).map(|o| Value::from_json(&o.value));
        if !req.options.destroy {
            plan.outputs.insert(
                name.clone(),
                super::OutputChange {
                    before,
                    after: value.clone(),
                    sensitive,
                },
            );
        }
    }
    planned.stack = stack;
    planned.graph = Some(graph);
    planned.inputs = inputs;
    planned.evaluation = Some(evaluation);
    planned.plan = plan;
    planned.diagnostics = diags;
    planned
}

/// The root module's `budget` block, with `--max-hourly` taking the place of its hourly limit.
fn budget_limits(stack: &Stack, max_hourly: Option<f64>) -> super::preflight::BudgetLimits {
    let budget = stack.root().and_then(|m| m.budget.as_ref());
    let mut limits = super::preflight::BudgetLimits {
        max_hourly: budget.and_then(|b| b.max_hourly.map(|(v, _)| v)),
        max_monthly: budget.and_then(|b| b.max_monthly.map(|(v, _)| v)),
        hourly_span: budget.and_then(|b| b.max_hourly.map(|(_, s)| s)),
        monthly_span: budget.and_then(|b| b.max_monthly.map(|(_, s)| s)),
    };
    if let Some(max) = max_hourly {
        limits.max_hourly = Some(max);
        limits.hourly_span = None;
    }
    limits
}

//! Making a plan end to end: load and evaluate the stack, refresh what state tracks, walk
//! the graph with the [`Planner`], and attach dependencies from the instance graph.

use super::planner::{PlanOptions, Planner};
use super::refresh::{refresh, Prior};
use super::Plan;
use crate::apply::calls::ProviderCalls;
use crate::apply::retry::RetryPolicy;
use crate::config::inputs::{InputOptions, InputValue};
use crate::config::load::{ModuleSelection, Stack};
use crate::config::sources::ModuleFetcher;
use crate::diagnostics::Diagnostics;
use crate::graph::build::ConfigGraph;
use crate::graph::instances::dependency_groups;
use crate::graph::walk::{walk_with, Evaluation, WalkMode};
use crate::providers::Providers;
use crate::stack::{prepare_selected, Prepared};
use crate::state::{ResourceMode, ResourceState, State};
use gantry_provider::{CancellationToken, Value};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;

/// What to plan.
#[derive(Clone)]
pub struct PlanRequest<'a> {
    pub path: &'a Path,
    pub inputs: &'a InputOptions,
    pub options: PlanOptions,
    /// Read every tracked resource first (`--refresh=false` skips it).
    pub refresh: bool,
    pub parallelism: usize,
    /// `--max-hourly`: overrides the stack's `budget { max_hourly }`.
    pub max_hourly: Option<f64>,
    /// `plan --generate-config-out FILE`: write resource blocks for import targets the
    /// stack does not declare.
    pub generate_config_out: Option<std::path::PathBuf>,
    /// The alternative each module call with `failover` loads ([`configure`]); empty: each
    /// as written.
    pub selection: ModuleSelection,
    /// Alternatives apply has chosen for module calls (a later round of a failover): they
    /// win over what holds and over the order.
    pub module_choices: ModuleSelection,
    /// A plan made only to price a module alternative: the pre-flight's findings go into
    /// [`Plan::preflight_findings`] rather than failing it, and no budget is checked.
    pub pricing_only: bool,
}

/// A plan and everything apply needs to carry it out.
pub struct Planned {
    pub stack: Stack,
    pub graph: Option<ConfigGraph>,
    pub inputs: HashMap<String, InputValue>,
    pub evaluation: Option<Evaluation>,
    pub plan: Plan,
    pub diagnostics: Diagnostics,
    /// Objects whose state refresh changed (drift, a schema upgrade) and that the plan does
    /// not otherwise touch: apply records them so state matches what was read.
    pub refreshed: Vec<ResourceState>,
}

/// A stack loaded, evaluated as far as its provider blocks, and its providers configured:
/// the first half of a plan. Apply resolves an interrupted run's creates between the two
/// halves, with the stack's own provider configurations.
pub struct Configured {
    pub stack: Stack,
    pub graph: Option<ConfigGraph>,
    pub inputs: HashMap<String, InputValue>,
    pub diagnostics: Diagnostics,
}

impl Configured {
    /// Whether planning can go on.
    pub fn ok(&self) -> bool {
        self.graph.is_some() && !self.diagnostics.has_errors()
    }

    fn into_failed(self) -> Planned {
        Planned {
            stack: self.stack,
            graph: self.graph,
            inputs: self.inputs,
            evaluation: None,
            plan: Plan::default(),
            diagnostics: self.diagnostics,
            refreshed: Vec::new(),
        }
    }
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
                    tainted: r.tainted,
                    placement: r.placement.clone(),
                },
            )
        })
        .collect()
}

/// Loads the stack and configures its providers.
pub async fn configure(req: &PlanRequest<'_>, providers: &Providers) -> Configured {
    let fetcher = ModuleFetcher::default();
    let Prepared {
        stack,
        inputs,
        graph,
        has_cycles,
        diagnostics: mut diags,
    } = prepare_selected(req.path, req.inputs, &fetcher, &req.selection);
    let graph = match graph {
        Some(g) if !has_cycles && !diags.has_errors() => g,
        other => {
            return Configured {
                stack,
                graph: other,
                inputs,
                diagnostics: diags,
            }
        }
    };
    diags.extend(providers.configure_for(&stack, &graph, &inputs).await);
    Configured {
        stack,
        graph: Some(graph),
        inputs,
        diagnostics: diags,
    }
}

/// Both halves: [`configure`], then [`plan_configured`] against `state`.
pub async fn make_plan(req: &PlanRequest<'_>, state: &State, providers: &Providers) -> Planned {
    let configured = configure(req, providers).await;
    let calls = ProviderCalls::new(
        providers,
        req.parallelism,
        RetryPolicy::default(),
        CancellationToken::new(),
    );
    plan_configured(configured, req, state, providers, &calls, &BTreeMap::new()).await
}

/// The second half of a plan: refresh what state tracks, walk the graph with the
/// [`Planner`], attach dependencies, price and check the plan. `blocked` names addresses an
/// interrupted create may have made that could not be checked: creating them is refused.
/// A stack with module calls that fail over plans each alternative first
/// ([`super::module_failover`]).
pub async fn plan_configured(
    configured: Configured,
    req: &PlanRequest<'_>,
    state: &State,
    providers: &Providers,
    calls: &ProviderCalls,
    blocked: &BTreeMap<String, String>,
) -> Planned {
    let fails_over = configured.ok()
        && !crate::config::alternatives::failover_calls(&configured.stack).is_empty();
    if fails_over {
        return Box::pin(super::module_failover::plan_with_module_failover(
            configured, req, state, providers, calls, blocked,
        ))
        .await;
    }
    plan_one(configured, req, state, providers, calls, blocked).await
}

/// [`plan_configured`] for the modules as `configured` loaded them.
pub async fn plan_one(
    configured: Configured,
    req: &PlanRequest<'_>,
    state: &State,
    providers: &Providers,
    calls: &ProviderCalls,
    blocked: &BTreeMap<String, String>,
) -> Planned {
    if !configured.ok() {
        return configured.into_failed();
    }
    let Configured {
        stack,
        graph,
        inputs,
        diagnostics: mut diags,
    } = configured;
    let Some(graph) = graph else {
        return Planned {
            stack,
            graph: None,
            inputs,
            evaluation: None,
            plan: Plan::default(),
            diagnostics: diags,
            refreshed: Vec::new(),
        };
    };
    // `moved`, `removed` and `import` blocks apply to a copy of state: the plan is made
    // against it. Most stacks have none, and plan against state as it is.
    let refactors = stack
        .modules
        .values()
        .any(|m| !m.moved.is_empty() || !m.removed.is_empty() || !m.imports.is_empty());
    let refactored;
    let (state, refactoring, imports) = if refactors {
        let (mut copy, refactoring, refactor_diags) = super::refactor::resolve(&stack, state);
        diags.extend(refactor_diags);
        let imports = if req.options.destroy {
            super::imports::Imports::default()
        } else {
            super::imports::import_targets(
                &stack,
                &inputs,
                &mut copy,
                providers,
                calls,
                req.generate_config_out.is_some(),
                &mut diags,
            )
            .await
        };
        refactored = copy;
        (&refactored, refactoring, imports)
    } else {
        (
            state,
            super::refactor::Refactoring::default(),
            super::imports::Imports::default(),
        )
    };
    if let (Some(file), false) = (&req.generate_config_out, imports.undeclared.is_empty()) {
        match super::imports::write_generated(file, &imports.undeclared) {
            Ok(n) => diags.push(
                crate::diagnostics::Diagnostic::warning(format!(
                    "wrote {n} resource block{} to `{}`",
                    if n == 1 { "" } else { "s" },
                    file.display()
                ))
                .with_detail("their imports are not in this plan")
                .with_help("review the file (sensitive arguments are left as null), then run `gantry plan` again"),
            ),
            Err(d) => diags.push(d),
        }
    }
    let mut prior = priors_from_state(state);
    diags.extend(super::refresh::type_priors(providers, &mut prior));
    let versions: BTreeMap<String, u32> = state
        .resources
        .iter()
        .map(|(a, r)| (a.clone(), r.schema_version))
        .collect();
    let mut drift = Vec::new();
    if req.refresh && !prior.is_empty() {
        let (refreshed, found, errors) = refresh(providers, calls, prior).await;
        prior = refreshed;
        drift = found;
        for e in &errors {
            diags.push(e.diagnostic());
        }
    }
    let mut planner = Planner::new(&stack, providers, &prior, &req.options, blocked);
    let evaluation = walk_with(
        &stack,
        &graph,
        &inputs,
        WalkMode::Plan,
        &mut planner,
        &mut diags,
    );
    // Only changes that do something need their dependencies (a no-op plan of a large stack
    // then computes none); dependencies are groups, linear in the stack's size.
    let changed = planner.changed_addresses();
    let groups = dependency_groups(&graph, &evaluation);
    let mut dependencies: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (i, instance) in evaluation.instances.iter().enumerate() {
        if groups[i].is_empty() {
            continue;
        }
        let address = instance.addr.to_string();
        if changed.contains(&address) {
            dependencies.insert(address, groups[i].clone());
        }
    }
    if !req.options.destroy {
        for d in crate::graph::walk::evaluate_checks(&stack, &evaluation) {
            diags.push(d);
        }
    }
    let (mut plan, finish_diags) = planner.finish(&dependencies);
    diags.extend(finish_diags);
    plan.drift = drift;
    plan.refactoring = refactoring;
    super::imports::check_planned(&stack, &imports.objects, &plan, &mut diags);
    plan.imports = imports.objects;
    let refreshed = refreshed_states(state, &prior, &plan, &versions);
    let catalog = stack.catalog.clone();
    let catalog = catalog.as_ref();
    super::costs::price_choices(&mut plan, providers, catalog);
    // Quotas first: a failover choice they cannot hold is skipped, and the plan is priced
    // (and held to its budget) as the choice apply tries first.
    let checked = !req.options.destroy && !diags.has_errors();
    if checked {
        let mut found = Diagnostics::new();
        super::preflight::check_offered(&plan, providers, &mut found).await;
        super::preflight::check_choice_offers(&mut plan, providers, &mut found).await;
        plan.quotas = super::preflight::check_quotas(&plan, providers, catalog, &mut found).await;
        let choices =
            super::preflight::check_choice_quotas(&mut plan, providers, catalog, &mut found).await;
        plan.quotas.extend(choices);
        if req.pricing_only {
            plan.preflight_findings = found
                .iter()
                .filter(|d| d.severity == crate::diagnostics::Severity::Error)
                .cloned()
                .collect();
        } else {
            diags.extend(found);
        }
    }
    plan.costs = super::costs::price_plan(&plan, providers, catalog);
    if !req.options.destroy {
        let limits = budget_limits(&stack, req.max_hourly);
        plan.costs.budget_hourly = limits.max_hourly;
        plan.costs.budget_monthly = limits.max_monthly;
        if checked && !req.pricing_only {
            if let Some(d) = super::preflight::check_budget(&plan.costs, &limits) {
                diags.push(d);
            }
        }
    }
    if !req.options.destroy {
        for (name, value) in &evaluation.root_outputs {
            let sensitive = stack.output_sensitive(name);
            let before = state.outputs.get(name).map(|o| Value::from_json(&o.value));
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
    Planned {
        stack,
        graph: Some(graph),
        inputs,
        evaluation: Some(evaluation),
        plan,
        diagnostics: diags,
        refreshed,
    }
}

/// State entries that refresh changed (drift, a schema upgrade) where the plan leaves the
/// object alone: apply writes them back.
fn refreshed_states(
    state: &State,
    prior: &BTreeMap<String, Prior>,
    plan: &Plan,
    versions: &BTreeMap<String, u32>,
) -> Vec<ResourceState> {
    let touched: std::collections::HashSet<&str> = plan
        .changes
        .iter()
        .filter(|c| c.action != super::Action::NoOp)
        .map(|c| c.address.as_str())
        .collect();
    let mut out = Vec::new();
    for (address, p) in prior {
        if !p.managed || touched.contains(address.as_str()) {
            continue;
        }
        let Some(current) = state.resources.get(address) else {
            continue;
        };
        let attributes = p.attributes.to_json();
        let upgraded = versions
            .get(address)
            .is_some_and(|v| *v != p.schema_version);
        if upgraded || attributes != current.attributes {
            out.push(ResourceState {
                attributes,
                schema_version: p.schema_version,
                ..current.clone()
            });
        }
    }
    out
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

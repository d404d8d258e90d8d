//! `gantry apply` and `gantry destroy`: plan, confirm, then change infrastructure, recording
//! every finished operation in the state journal as it happens.

use super::session::{cancel_on_signal, sim_enabled, Session};
use super::{input_options, module_failover, ExitStatus};
use crate::apply::calls::ProviderCalls;
use crate::apply::executor::ApplyOptions;
use crate::apply::recorder::{recover, JournalRecorder, Recovered};
use crate::apply::retry::RetryPolicy;
use crate::cli::ApplyArgs;
use crate::diagnostics::{Diagnostic, Diagnostics, SourceMap};
use crate::plan::file::{change_list, stack_digest, PlanFile, PlanFileError};
use crate::plan::planner::PlanOptions;
use crate::plan::run::{configure, plan_configured, PlanRequest};
use crate::state::{OutputState, Record, StateError};
use crate::ui::plan::render_plan_styled;
use crate::ui::Ui;
use serde_json::json;
use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};

/// A state error as a diagnostic, with the hint the error carries.
pub fn state_error(e: &StateError) -> Diagnostic {
    Diagnostic::error(e.to_string())
}

/// A saved plan given instead of a stack directory.
fn saved_plan(args: &ApplyArgs) -> Result<Option<PlanFile>, Diagnostic> {
    let path = &args.stack.dir;
    if !path.is_file() || path.extension().is_some_and(|e| e == "hcl") {
        return Ok(None);
    }
    // A sealed plan names its stack, whose configuration opens it; a plain one needs none.
    let stack = std::fs::read(path)
        .ok()
        .and_then(|bytes| crate::state::encryption::sealed_plan_stack_dir(&bytes))
        .unwrap_or_else(|| std::path::PathBuf::from("."));
    let codec = super::session::stack_codec(&stack, sim_enabled(args.engine.sim))?;
    read_plan_file(path, &codec).map(Some)
}

/// Checks that a saved plan is applied with the inputs it was made with: every sensitive
/// value given again and equal to the one planned (by digest), and no variable set now that
/// was not set then.
fn check_inputs_match(
    file: &PlanFile,
    inputs: &std::collections::HashMap<String, crate::config::inputs::InputValue>,
) -> Result<(), Diagnostic> {
    for (name, digest) in &file.sensitive_variables {
        let given = inputs
            .get(name)
            .map(|v| crate::plan::file::sensitive_digest(&file.salt, name, &v.value));
        if given.as_deref() != Some(digest.as_str()) {
            let what = if given.is_none() {
                "was not given"
            } else {
                "has another value than when the plan was made"
            };
            return Err(Diagnostic::error(format!(
                "the sensitive variable `{name}` {what}"
            ))
            .with_detail("plan files do not hold sensitive values: apply needs them again")
            .with_help(format!(
                "give the value the plan was made with: --var {name}=..., --var-file, or GANTRY_VAR_{name}"
            )));
        }
    }
    let mut extra: Vec<&String> = inputs
        .keys()
        .filter(|k| !file.variables.contains_key(*k) && !file.sensitive_variables.contains_key(*k))
        .collect();
    extra.sort();
    if let Some(name) = extra.first() {
        return Err(Diagnostic::error(format!(
            "the variable `{name}` is set now but was not when the plan was made"
        ))
        .with_help("a saved plan applies with its own inputs: drop the value, or run `gantry plan --out FILE` with it"));
    }
    Ok(())
}

/// A plan file, or the diagnostic that says why it cannot be used.
pub(super) fn read_plan_file(
    path: &std::path::Path,
    codec: &crate::state::encryption::Codec,
) -> Result<PlanFile, Diagnostic> {
    PlanFile::read_with(path, codec).map_err(|e| {
        let help = match &e {
            PlanFileError::Read { .. } => "check the path",
            PlanFileError::NotAPlan { .. } => {
                "make one with `gantry plan --out FILE`, or pass a stack directory"
            }
            PlanFileError::Format { .. } => {
                "plan files are read by the gantry that wrote them: run `gantry plan --out FILE` again"
            }
            PlanFileError::Sealed(_) => {
                "run apply in the stack's directory, with the encryption configuration the plan was written with"
            }
        };
        Diagnostic::error(e.to_string()).with_help(help)
    })
}

pub fn run(args: &ApplyArgs, ui: Ui, destroy: bool) -> ExitStatus {
    let fail = |d: Diagnostic| {
        ui.diagnostics(&Diagnostics::from(d), &SourceMap::new());
        ExitStatus::Failure
    };
    let saved = match saved_plan(args) {
        Ok(s) => s,
        Err(d) => return fail(d),
    };
    let destroy = destroy || saved.as_ref().is_some_and(|s| s.destroy);
    let sim = saved
        .as_ref()
        .map_or_else(|| sim_enabled(args.engine.sim), |s| s.sim);
    let path = saved
        .as_ref()
        .map_or_else(|| args.stack.dir.clone(), |s| s.stack_dir.clone());
    let operation = if destroy { "destroy" } else { "apply" };
    let session = match Session::open(&path, sim, operation, args.engine.lock_timeout) {
        Ok(s) => s,
        Err(d) => return fail(d),
    };
    let dir = session.dir.clone();
    let rt = &session.rt;
    let providers = &session.providers;
    // Signal handling spawns onto the runtime, and is in place before anything is read: a
    // SIGTERM while planning stops the command cleanly too.
    let _guard = rt.enter();
    let cancel = cancel_on_signal();
    let (journal, recovery) = match session.lock.open_journal() {
        Ok(j) => j,
        Err(e) => return fail(state_error(&e)),
    };
    let mut inputs = input_options(&args.stack);
    let mut options = PlanOptions {
        replace: args.engine.replace.clone(),
        destroy,
        targets: args.engine.target.clone(),
    };
    if let Some(file) = &saved {
        let workspace = match super::session::current_workspace(&dir, sim) {
            Ok((name, _)) => name,
            Err(d) => return fail(d),
        };
        if workspace != file.workspace {
            let _ = rt.block_on(journal.commit());
            return fail(
                Diagnostic::error(format!(
                    "the saved plan was made in workspace `{}`, but the current workspace is `{workspace}`",
                    file.workspace
                ))
                .with_help(format!(
                    "select it (`gantry workspace select {}` or GANTRY_WORKSPACE={}) to apply this plan",
                    file.workspace, file.workspace
                )),
            );
        }
        let state = journal.current();
        // A plan made before any state existed holds a lineage nobody wrote; it still fits
        // a state that tracks nothing (one a failed command wrote, say).
        let fresh = file.serial == 0 && state.resources.is_empty();
        if !fresh && (file.lineage != state.lineage || file.serial != state.serial) {
            let _ = rt.block_on(journal.commit());
            return fail(Diagnostic::error("the saved plan is stale: state changed since it was made")
                .with_detail(format!("plan made at state serial {} (lineage {}); state is now at serial {} (lineage {})", file.serial, file.lineage, state.serial, state.lineage))
                .with_help("run `gantry plan --out FILE` again"));
        }
        // The saved values win; sensitive ones were not saved and come from this command
        // line or environment again (checked against their digests below).
        inputs.preset = file
            .variables
            .iter()
            .map(|(k, v)| (k.clone(), gantry_provider::Value::from_json(v)))
            .collect();
        options = PlanOptions {
            replace: file.replace.clone(),
            destroy: file.destroy,
            targets: file.targets.clone(),
        };
    }
    let request = PlanRequest {
        path: &dir,
        inputs: &inputs,
        options,
        refresh: args.engine.refresh,
        parallelism: args.engine.parallelism as usize,
        max_hourly: args.engine.max_hourly,
        generate_config_out: None,
        selection: Default::default(),
        module_choices: Default::default(),
        pricing_only: false,
    };
    let calls = ProviderCalls::new(
        providers,
        args.engine.parallelism as usize,
        RetryPolicy::default(),
        cancel.clone(),
    );
    // Providers are configured from the stack before an interrupted run is recovered:
    // its creates are looked up where they were made (region, account, endpoint, alias).
    let configured = rt.block_on(configure(&request, providers));
    let identity = journal.with_state(|s| s.lineage.clone());
    let mut blocked = BTreeMap::new();
    if !recovery.is_empty() && configured.ok() {
        ui.status(&format!(
            "Recovering an interrupted run: {} journal record(s) replayed, {} create(s) to look up.",
            recovery.replayed_records,
            recovery.pending_creates.len()
        ));
        let outcomes = rt.block_on(recover(
            Some(&journal),
            recovery.pending_creates,
            providers,
            &identity,
        ));
        report_recovery(&ui, &outcomes, &mut blocked);
    } else if !recovery.pending_creates.is_empty() {
        // The stack does not configure: the creates stay pending for the next run.
        for intent in &recovery.pending_creates {
            blocked.insert(
                intent.address.clone(),
                "the stack's providers could not be configured to look it up".to_owned(),
            );
        }
    }
    let state = journal.current();
    let planned = rt.block_on(plan_configured(
        configured, &request, &state, providers, &calls, &blocked,
    ));
    ui.diagnostics(&planned.diagnostics, &planned.stack.sources);
    if planned.diagnostics.has_errors() || cancel.is_cancelled() {
        let _ = rt.block_on(journal.commit());
        return ExitStatus::Failure;
    }
    let plan = planned.plan;
    if let Some(file) = &saved {
        if let Err(d) = check_inputs_match(file, &planned.inputs) {
            let _ = rt.block_on(journal.commit());
            return fail(d);
        }
        let stale = if stack_digest(&planned.stack) != file.stack_digest {
            Some("the stack's files changed since the plan was made")
        } else if change_list(&plan) != file.changes {
            Some("the changes planned now differ from the saved plan (something changed outside gantry)")
        } else {
            None
        };
        if let Some(why) = stale {
            let _ = rt.block_on(journal.commit());
            return fail(
                Diagnostic::error("the saved plan is stale")
                    .with_detail(why)
                    .with_help("run `gantry plan --out FILE` again"),
            );
        }
    }
    let mut diags = Diagnostics::new();
    // What refresh read about objects the plan leaves alone goes into state.
    for rs in &planned.refreshed {
        if let Err(e) = rt.block_on(journal.append(Record::Updated(rs.clone()))) {
            diags.push(state_error(&e));
        }
    }
    let args_auto_approve = args.auto_approve || saved.is_some();
    if !ui.json {
        ui.data(&render_plan_styled(&plan, ui.color_stdout()));
    }
    if !plan.has_changes() {
        let _ = rt.block_on(journal.commit());
        let _ = session.flush_world();
        ui.diagnostics(&diags, &planned.stack.sources);
        if ui.json {
            ui.json_line(&json!({"type": "apply_complete", "add": 0, "change": 0, "destroy": 0}));
        }
        return if diags.has_errors() {
            ExitStatus::Failure
        } else {
            ExitStatus::Success
        };
    }
    if !args_auto_approve {
        match confirm(destroy) {
            Ok(true) => {}
            Ok(false) => {
                let _ = rt.block_on(journal.commit());
                ui.status(if destroy {
                    "Destroy cancelled."
                } else {
                    "Apply cancelled."
                });
                return ExitStatus::Failure;
            }
            Err(d) => {
                let _ = rt.block_on(journal.commit());
                return fail(d);
            }
        }
    }
    if let Err(e) = rt.block_on(record_refactoring(&journal, &plan)) {
        let _ = rt.block_on(journal.commit());
        return fail(state_error(&e));
    }
    let (Some(graph), Some(evaluation)) = (planned.graph, planned.evaluation) else {
        return fail(Diagnostic::error(
            "internal error: the plan has no evaluation",
        ));
    };
    let recorder = JournalRecorder {
        journal: journal.clone(),
    };
    let capacity_backoff = match capacity_backoff() {
        Ok(b) => b,
        Err(d) => return fail(d),
    };
    let options = ApplyOptions {
        parallelism: args.engine.parallelism as usize,
        stack_identity: identity,
        wait_for_capacity: args.wait_for_capacity,
        capacity_backoff,
    };
    let cx = module_failover::Context {
        rt,
        journal: &journal,
        providers,
        calls: &calls,
        request: &request,
        options: &options,
        recorder: &recorder,
        cancel: &cancel,
        ui,
    };
    let first =
        module_failover::apply_round(&cx, plan, planned.stack, graph, evaluation, &planned.inputs);
    let mut tally = module_failover::Tally::default();
    tally.add(&first.plan, &first.report);
    let (last, failover_errors) = if destroy || first.plan.module_failovers.is_empty() {
        (first, Vec::new())
    } else {
        let outcome = module_failover::follow(&cx, first, &mut tally);
        (outcome.last, outcome.errors)
    };
    let module_failover::Applied {
        plan,
        stack: planned_stack,
        evaluation,
        report,
        ..
    } = last;
    if report.errors.is_empty() && failover_errors.is_empty() && !report.cancelled {
        if let Err(e) = rt.block_on(module_failover::settle(&journal, &plan.module_failovers)) {
            diags.push(state_error(&e));
        }
    }
    // Outputs of the root module, as now known (the values themselves, marks removed: state
    // records which are sensitive).
    let mut outputs = BTreeMap::new();
    if !destroy {
        for (name, value) in &report.outputs {
            let sensitive = planned_stack.output_sensitive(name);
            if value.is_wholly_known() {
                outputs.insert(
                    name.clone(),
                    OutputState {
                        value: value.to_json(),
                        sensitive,
                    },
                );
            }
        }
    }
    // A whole destroy that succeeded also forgets the data sources it read, as Terraform
    // does: state is then empty, not left holding reads of deleted objects.
    if destroy && report.errors.is_empty() && args.engine.target.is_empty() && !report.cancelled {
        let data: Vec<String> = journal.with_state(|s| {
            s.resources
                .iter()
                .filter(|(_, r)| r.mode == crate::state::ResourceMode::Data)
                .map(|(a, _)| a.clone())
                .collect()
        });
        for address in data {
            if let Err(e) = rt.block_on(journal.append(Record::Deleted { address })) {
                diags.push(state_error(&e));
            }
        }
    }
    if let Err(e) = rt.block_on(journal.append(Record::Outputs(outputs))) {
        diags.push(state_error(&e));
    }
    if let Err(e) = rt.block_on(journal.commit()) {
        diags.push(state_error(&e));
    }
    if let Some(warning) = session.flush_world() {
        diags.push(warning);
    }
    for d in report.errors {
        diags.push(d);
    }
    for d in failover_errors {
        diags.push(d);
    }
    // Check blocks, on what the apply left (a false assertion warns, as in Terraform).
    if !destroy {
        for d in crate::graph::walk::evaluate_checks(&planned_stack, &evaluation) {
            diags.push(d);
        }
    }
    ui.diagnostics(&diags, &planned_stack.sources);
    let module_failover::Tally {
        added,
        changed,
        destroyed,
    } = tally;
    if ui.json {
        ui.json_line(&json!({
            "type": if diags.has_errors() { "apply_errored" } else { "apply_complete" },
            "add": added, "change": changed, "destroy": destroyed,
            "move": plan.refactoring.moved.len(), "forget": plan.refactoring.forgotten.len(),
            "import": plan.imports.len(),
            "skipped": report.skipped, "cancelled": report.cancelled,
        }));
    } else {
        let word = if destroy { "Destroy" } else { "Apply" };
        if diags.has_errors() || report.cancelled {
            ui.status(&format!(
                "{word} {}: {added} added, {changed} changed, {destroyed} destroyed; {} skipped. State holds everything that succeeded.",
                if report.cancelled { "interrupted" } else { "failed" },
                report.skipped.len()
            ));
        } else {
            let mut refactored = String::new();
            if !plan.imports.is_empty() {
                refactored.push_str(&format!(", {} imported", plan.imports.len()));
            }
            if !plan.refactoring.moved.is_empty() {
                refactored.push_str(&format!(", {} moved", plan.refactoring.moved.len()));
            }
            if !plan.refactoring.forgotten.is_empty() {
                refactored.push_str(&format!(", {} forgotten", plan.refactoring.forgotten.len()));
            }
            ui.status(&format!("{word} complete! Resources: {added} added, {changed} changed, {destroyed} destroyed{refactored}."));
            if !destroy && !report.outputs.is_empty() {
                let mut text = String::from("\nOutputs:\n\n");
                for (name, value) in &report.outputs {
                    let sensitive = planned_stack.output_sensitive(name);
                    let shown = if sensitive {
                        "(sensitive value)".to_owned()
                    } else {
                        value.to_string()
                    };
                    text.push_str(&format!("{name} = {shown}\n"));
                }
                ui.data(&text);
            }
        }
    }
    if diags.has_errors() || report.cancelled {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    }
}

/// Says what recovery found; addresses it could not check go into `blocked`.
pub fn report_recovery(ui: &Ui, outcomes: &[Recovered], blocked: &mut BTreeMap<String, String>) {
    for outcome in outcomes {
        match outcome {
            Recovered::Adopted(a, _) => {
                ui.status(&format!("  {a}: found in the cloud, adopted into state"));
            }
            Recovered::NotCreated(a) => ui.status(&format!("  {a}: was not created")),
            Recovered::Unresolved(a, why) => {
                ui.status(&format!(
                    "  {a}: could not be checked ({why}); it will not be created again until it is"
                ));
                blocked.insert(a.clone(), why.clone());
            }
        }
    }
}

/// Asks for `yes` on a terminal; without one, refuses (CI must pass `--auto-approve`).
fn confirm(destroy: bool) -> Result<bool, Diagnostic> {
    if !std::io::stdin().is_terminal() {
        return Err(Diagnostic::error("no terminal to confirm on")
            .with_help("pass `--auto-approve` to apply without confirmation (as CI jobs do)"));
    }
    let what = if destroy {
        "destroy all these resources"
    } else {
        "perform these actions"
    };
    let mut err = std::io::stderr();
    let _ = write!(
        err,
        "\nDo you want to {what}? Only `yes` will be accepted.\n  Enter a value: "
    );
    let _ = err.flush();
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| Diagnostic::error("cannot read the answer").with_detail(e.to_string()))?;
    Ok(line.trim() == "yes")
}

/// Writes what `moved`, `removed` and `import` blocks do to state, before any operation:
/// each instance move is one journal record, then the forgotten instances, dependencies
/// renamed by the moves, and the imported objects (which settle any interrupted create at
/// their address: the user said which object it is).
async fn record_refactoring(
    journal: &crate::state::Journal,
    plan: &crate::plan::Plan,
) -> Result<(), StateError> {
    let refactoring = &plan.refactoring;
    for (from, to) in &refactoring.moved {
        journal
            .append(Record::Moved {
                from: from.clone(),
                to: to.clone(),
            })
            .await?;
    }
    for address in &refactoring.forgotten {
        journal
            .append(Record::Deleted {
                address: address.clone(),
            })
            .await?;
    }
    for (address, dependencies) in &refactoring.dependencies {
        let current = journal.with_state(|s| s.resources.get(address).cloned());
        if let Some(mut resource) = current {
            resource.dependencies.clone_from(dependencies);
            journal.append(Record::Updated(resource)).await?;
        }
    }
    for object in &plan.imports {
        journal
            .append(Record::Updated(object.state.clone()))
            .await?;
        let pending: Vec<String> = journal
            .pending_intents()
            .into_iter()
            .filter(|i| i.address == object.address)
            .map(|i| i.token)
            .collect();
        for token in pending {
            journal.resolve_intent(&token).await?;
        }
    }
    Ok(())
}

/// The first pause between rounds of waiting for capacity: `GANTRY_CAPACITY_BACKOFF`
/// (a duration such as `5s`), else 30 seconds.
fn capacity_backoff() -> Result<std::time::Duration, Diagnostic> {
    match std::env::var("GANTRY_CAPACITY_BACKOFF") {
        Err(_) => Ok(ApplyOptions::default().capacity_backoff),
        Ok(text) => crate::config::decode::parse_duration(&text).map_err(|why| {
            Diagnostic::error(format!("invalid GANTRY_CAPACITY_BACKOFF `{text}`"))
                .with_label(why)
                .with_help("write a duration such as `5s` or `1m`")
        }),
    }
}

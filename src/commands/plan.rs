//! `gantry plan`: what apply would do.

use super::session::{sim_enabled, Access, Session};
use super::{input_options, ExitStatus};
use crate::apply::calls::ProviderCalls;
use crate::apply::recorder::{recover, Recovered};
use crate::apply::retry::RetryPolicy;
use crate::cli::PlanArgs;
use crate::diagnostics::{Diagnostic, Diagnostics, SourceMap};
use crate::plan::document::PlanDocument;
use crate::plan::file::{change_list, stack_digest, variables_json, PlanFile, PLAN_FILE_FORMAT};
use crate::plan::planner::PlanOptions;
use crate::plan::run::{configure, plan_configured, PlanRequest};
use crate::ui::plan::{plan_json_lines, render_plan, render_plan_styled};
use crate::ui::Ui;
use gantry_provider::CancellationToken;
use std::collections::BTreeMap;

pub fn run(args: &PlanArgs, ui: Ui) -> ExitStatus {
    let fail = |d: Diagnostic| {
        ui.diagnostics(&Diagnostics::from(d), &SourceMap::new());
        ExitStatus::Failure
    };
    let session = match Session::open_with(
        &args.stack.dir,
        sim_enabled(args.engine.sim),
        "plan",
        args.engine.lock_timeout,
        Access::ReadOnly,
    ) {
        Ok(s) => s,
        Err(d) => return fail(d),
    };
    let (sim, dir) = (session.sim, session.dir.clone());
    // State as an apply would see it: a journal an interrupted run left is replayed (in
    // memory only; the next apply records it).
    let (mut state, recovery) = match session.lock.read_state_with_journal() {
        Ok(s) => s,
        Err(e) => return fail(super::apply::state_error(&e)),
    };
    let inputs = input_options(&args.stack);
    let request = PlanRequest {
        path: &args.stack.dir,
        inputs: &inputs,
        options: PlanOptions {
            replace: args.engine.replace.clone(),
            destroy: args.destroy,
            targets: args.engine.target.clone(),
        },
        refresh: args.engine.refresh,
        parallelism: args.engine.parallelism as usize,
        max_hourly: args.engine.max_hourly,
        generate_config_out: args.generate_config_out.clone(),
        selection: Default::default(),
        module_choices: Default::default(),
        pricing_only: false,
    };
    let providers = &session.providers;
    let calls = ProviderCalls::new(
        providers,
        args.engine.parallelism as usize,
        RetryPolicy::default(),
        CancellationToken::new(),
    );
    let configured = session.rt.block_on(configure(&request, providers));
    let mut notes = Diagnostics::new();
    let mut blocked = BTreeMap::new();
    if recovery.replayed_records > 0 {
        notes.push(
            Diagnostic::warning(format!(
                "an interrupted run left {} journal record(s); this plan includes them",
                recovery.replayed_records
            ))
            .with_help("`gantry apply` (or `gantry refresh`) writes them into state"),
        );
    }
    if !recovery.pending_creates.is_empty() {
        if configured.ok() {
            let outcomes = session.rt.block_on(recover(
                None,
                recovery.pending_creates,
                providers,
                &state.lineage,
            ));
            for outcome in outcomes {
                match outcome {
                    Recovered::Adopted(address, rs) => {
                        notes.push(Diagnostic::warning(format!(
                            "`{address}` was created by an interrupted run: found in the cloud; `gantry apply` adopts it into state"
                        )));
                        state.upsert_resource(*rs);
                    }
                    Recovered::NotCreated(_) => {}
                    Recovered::Unresolved(address, why) => {
                        blocked.insert(address, why);
                    }
                }
            }
        } else {
            for intent in &recovery.pending_creates {
                blocked.insert(
                    intent.address.clone(),
                    "the stack's providers could not be configured to look it up".to_owned(),
                );
            }
        }
    }
    let mut planned = session.rt.block_on(plan_configured(
        configured, &request, &state, providers, &calls, &blocked,
    ));
    let mut all = notes;
    all.extend(std::mem::take(&mut planned.diagnostics));
    planned.diagnostics = all;
    if let (Some(out), false) = (&args.out, planned.diagnostics.has_errors()) {
        let salt = uuid::Uuid::new_v4().to_string();
        let (variables, sensitive_variables) = variables_json(
            &planned
                .inputs
                .iter()
                .map(|(k, v)| (k.clone(), v.value.clone()))
                .collect(),
            |name, value| value.contains_sensitive() || planned.stack.variable_sensitive(name),
            &salt,
        );
        let file = PlanFile {
            format: PLAN_FILE_FORMAT.to_owned(),
            stack_dir: dir.canonicalize().unwrap_or_else(|_| dir.clone()),
            stack_digest: stack_digest(&planned.stack),
            sim,
            variables,
            sensitive_variables,
            salt,
            workspace: planned.stack.workspace.clone(),
            lineage: state.lineage.clone(),
            serial: state.serial,
            destroy: args.destroy,
            replace: args.engine.replace.clone(),
            targets: args.engine.target.clone(),
            changes: change_list(&planned.plan),
            plan: PlanDocument::from_plan(&planned.plan),
            rendered: render_plan(&planned.plan),
        };
        let written = serde_json::to_vec_pretty(&file)
            .map_err(|e| e.to_string())
            .and_then(|bytes| {
                let codec = super::session::stack_codec(&dir, sim).map_err(|d| d.summary)?;
                codec
                    .seal_plan(bytes, &file.lineage, file.serial, &file.stack_dir)
                    .map_err(|e| e.to_string())
            })
            .and_then(|bytes| std::fs::write(out, bytes).map_err(|e| e.to_string()));
        if let Err(e) = written {
            return fail(
                Diagnostic::error(format!("cannot write the plan to `{}`", out.display()))
                    .with_detail(e),
            );
        }
        ui.status(&format!(
            "Saved the plan to {}. To apply exactly this plan: gantry apply {}",
            out.display(),
            out.display()
        ));
    }
    if let Some(warning) = session.flush_world() {
        planned.diagnostics.push(warning);
    }
    ui.diagnostics(&planned.diagnostics, &planned.stack.sources);
    if planned.diagnostics.has_errors() {
        return ExitStatus::Failure;
    }
    if ui.json {
        for line in plan_json_lines(&planned.plan) {
            ui.json_line(&line);
        }
    } else {
        ui.data(&render_plan_styled(&planned.plan, ui.color_stdout()));
    }
    let status = if args.detailed_exitcode && planned.plan.has_changes() {
        ExitStatus::Changes
    } else {
        ExitStatus::Success
    };
    // The process ends right after this: freeing a 10,000-resource evaluation piece by piece
    // would only delay the exit (about a tenth of a large plan's time).
    std::mem::forget(planned);
    status
}

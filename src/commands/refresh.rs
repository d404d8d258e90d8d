//! `gantry refresh` and `gantry import`: bring state in line with what exists in the cloud.

use super::apply::state_error;
use super::session::{sim_enabled, Session};
use super::{fail, ExitStatus};
use crate::apply::calls::ProviderCalls;
use crate::apply::recorder::recover;
use crate::apply::retry::RetryPolicy;
use crate::cli::{ApplyArgs, ImportArgs};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceMap};
use crate::plan::refresh::refresh;
use crate::plan::run::priors_from_state;
use crate::state::{Record, ResourceMode, ResourceState};
use crate::ui::Ui;
use gantry_provider::OpContext;

pub fn run_refresh(args: &ApplyArgs, ui: Ui) -> ExitStatus {
    let session = match Session::open(
        &args.stack.dir,
        sim_enabled(args.engine.sim),
        "refresh",
        args.engine.lock_timeout,
    ) {
        Ok(s) => s,
        Err(d) => return fail(ui, d),
    };
    let (stack, config_diags) = session.configure_providers(&super::input_options(&args.stack));
    if config_diags.has_errors() {
        let sources = stack.map(|s| s.sources).unwrap_or_default();
        ui.diagnostics(&config_diags, &sources);
        return ExitStatus::Failure;
    }
    let (rt, providers) = (&session.rt, &session.providers);
    let _guard = rt.enter();
    let cancel = super::session::cancel_on_signal();
    let (journal, recovery) = match session.lock.open_journal() {
        Ok(j) => j,
        Err(e) => return fail(ui, state_error(&e)),
    };
    if !recovery.pending_creates.is_empty() {
        let identity = journal.with_state(|s| s.lineage.clone());
        let outcomes = rt.block_on(recover(
            Some(&journal),
            recovery.pending_creates,
            providers,
            &identity,
        ));
        super::apply::report_recovery(&ui, &outcomes, &mut std::collections::BTreeMap::new());
    }
    let state = journal.current();
    let mut priors = priors_from_state(&state);
    let mut diags = crate::plan::refresh::type_priors(providers, &mut priors);
    let calls = ProviderCalls::new(
        providers,
        args.engine.parallelism as usize,
        RetryPolicy::default(),
        cancel,
    );
    let (refreshed, drift, errors) = rt.block_on(refresh(providers, &calls, priors));
    for e in &errors {
        diags.push(e.diagnostic());
    }
    // Schema upgrades are written back too.
    for (address, p) in &refreshed {
        let Some(current) = state.resources.get(address) else {
            continue;
        };
        if p.managed
            && p.schema_version != current.schema_version
            && !drift.iter().any(|d| &d.address == address)
        {
            let record = Record::Updated(ResourceState {
                attributes: p.attributes.to_json(),
                schema_version: p.schema_version,
                ..current.clone()
            });
            if let Err(e) = rt.block_on(journal.append(record)) {
                diags.push(state_error(&e));
            }
        }
    }
    for d in &drift {
        let Some(current) = state.resources.get(&d.address) else {
            continue;
        };
        let record = match &d.after {
            None => {
                ui.status(&format!(
                    "{}: deleted outside gantry; removed from state",
                    d.address
                ));
                Record::Deleted {
                    address: d.address.clone(),
                }
            }
            Some(after) => {
                ui.status(&format!(
                    "{}: changed outside gantry; state updated",
                    d.address
                ));
                Record::Updated(ResourceState {
                    attributes: after.to_json(),
                    schema_version: refreshed
                        .get(&d.address)
                        .map_or(current.schema_version, |p| p.schema_version),
                    ..current.clone()
                })
            }
        };
        if let Err(e) = rt.block_on(journal.append(record)) {
            diags.push(state_error(&e));
        }
    }
    if let Err(e) = rt.block_on(journal.commit()) {
        diags.push(state_error(&e));
    }
    if let Some(warning) = session.flush_world() {
        diags.push(warning);
    }
    ui.diagnostics(&diags, &SourceMap::new());
    if diags.has_errors() {
        return ExitStatus::Failure;
    }
    ui.status(&format!(
        "Refresh complete: {} resource(s) read, {} changed outside gantry.",
        state.resources.len(),
        drift.len()
    ));
    ExitStatus::Success
}

pub fn run_import(args: &ImportArgs, ui: Ui) -> ExitStatus {
    let addr = match crate::addrs::parse_resource_instance(&args.address) {
        Ok(a) => a,
        Err(e) => {
            return fail(
                ui,
                Diagnostic::error(e.to_string())
                    .with_help("write e.g. `aws_vpc.main` or `module.net.aws_subnet.a[\"x\"]`"),
            )
        }
    };
    let session = match Session::open(
        &args.at.dir,
        sim_enabled(args.at.sim),
        "import",
        std::time::Duration::ZERO,
    ) {
        Ok(s) => s,
        Err(d) => return fail(ui, d),
    };
    let (stack, config_diags) = session
        .configure_providers(&crate::config::inputs::InputOptions::default().with_process_env());
    if config_diags.has_errors() {
        let sources = stack.map(|s| s.sources).unwrap_or_default();
        ui.diagnostics(&config_diags, &sources);
        return ExitStatus::Failure;
    }
    let (rt, providers) = (&session.rt, &session.providers);
    let type_name = &addr.resource.type_name;
    let provider_key = stack
        .as_ref()
        .and_then(|s| {
            let module = s.module(&addr.module.path())?;
            let resource = module.resources.get(&addr.resource)?;
            Some(crate::providers::resolve::config_key(
                s,
                &addr.module.path(),
                type_name,
                resource.provider.as_ref(),
            ))
        })
        .unwrap_or_else(|| crate::providers::provider_name(type_name).to_owned());
    let Some(provider) = providers.get(&provider_key) else {
        return fail(
            ui,
            Diagnostic::error(format!("no provider for resource type `{type_name}`")),
        );
    };
    let Some(schema) = provider.schema().resources.get(type_name).cloned() else {
        return fail(
            ui,
            Diagnostic::error(format!("unsupported resource type `{type_name}`")),
        );
    };
    let (journal, _) = match session.lock.open_journal() {
        Ok(j) => j,
        Err(e) => return fail(ui, state_error(&e)),
    };
    let address = addr.to_string();
    if journal.with_state(|s| s.resources.contains_key(&address)) {
        let _ = rt.block_on(journal.commit());
        return fail(
            ui,
            Diagnostic::error(format!("`{address}` is already in state"))
                .with_help("`gantry state rm` it first to import another object"),
        );
    }
    let ctx = OpContext::new(address.clone());
    let value = match rt.block_on(provider.import(&ctx, type_name, &args.id)) {
        Ok(v) => v,
        Err(e) => {
            let _ = rt.block_on(journal.commit());
            return fail(
                ui,
                Diagnostic::error(format!("cannot import `{}` as `{address}`", args.id))
                    .with_label(e.to_string()),
            );
        }
    };
    let rs = ResourceState {
        address: address.clone(),
        mode: ResourceMode::Managed,
        type_name: type_name.clone(),
        provider: provider_key,
        schema_version: schema.version,
        attributes: value.to_json(),
        sensitive_paths: schema.sensitive_paths(),
        dependencies: Vec::new(),
        create_token: None,
        tainted: false,
        placement: None,
        module_placements: Default::default(),
    };
    // An interrupted create at this address is settled by the import: the user says which
    // object it is.
    let pending: Vec<String> = journal
        .pending_intents()
        .into_iter()
        .filter(|i| i.address == address)
        .map(|i| i.token)
        .collect();
    let mut result = rt.block_on(journal.append(Record::Updated(rs)));
    for token in pending {
        result = result.and_then(|()| rt.block_on(journal.resolve_intent(&token)));
    }
    let result = result.and_then(|()| rt.block_on(journal.commit()).map(|_| ()));
    if let Some(warning) = session.flush_world() {
        ui.diagnostics(&Diagnostics::from(warning), &SourceMap::new());
    }
    match result {
        Ok(()) => {
            ui.status(&format!(
                "Imported `{}` as `{address}`. Run `gantry plan` to compare it with the stack.",
                args.id
            ));
            ExitStatus::Success
        }
        Err(e) => fail(ui, state_error(&e)),
    }
}

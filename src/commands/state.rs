//! `gantry state list|show|rm|mv|pull|push`, `gantry output`, `gantry force-unlock` and
//! `gantry sim ls|reset`: small commands over the state and the simulated world.

use super::apply::state_error;
use super::session::{
    base_state_dir, open_state, runtime, sim_enabled, stack_dir, state_dir, Access,
};
use super::{fail, ExitStatus};
use crate::cli::{ForceUnlockArgs, OutputArgs, SimCommand, StateCommand, StateDirArgs};
use crate::diagnostics::Diagnostic;
use crate::state::{force_unlock, ops, LocalBackend, LockInfo, State, StateLock};
use crate::ui::Ui;
use gantry_provider::Value;
use std::time::Duration;

/// The state of the stack `at` names, locked for `operation` (with a remote backend, its
/// working copy).
pub(super) fn lock(at: &StateDirArgs, operation: &str) -> Result<StateLock, Diagnostic> {
    open_state(
        &stack_dir(&at.dir),
        sim_enabled(at.sim),
        operation,
        Duration::ZERO,
        Access::Locked,
    )
}

fn read(ui: Ui, at: &StateDirArgs) -> Result<State, ExitStatus> {
    let copy = open_state(
        &stack_dir(&at.dir),
        sim_enabled(at.sim),
        "state read",
        Duration::ZERO,
        Access::ReadOnly,
    )
    .map_err(|d| fail(ui, d))?;
    match copy.read_state() {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Ok(State::new()),
        Err(e) => Err(fail(ui, state_error(&e))),
    }
}

pub fn run_state(cmd: &StateCommand, ui: Ui) -> ExitStatus {
    match cmd {
        StateCommand::List(a) => match read(ui, &a.at) {
            Ok(state) => {
                for addr in ops::list(&state, a.filter.as_deref()) {
                    ui.data(&format!("{addr}\n"));
                }
                ExitStatus::Success
            }
            Err(code) => code,
        },
        StateCommand::Show(a) => match read(ui, &a.at) {
            Ok(state) => match ops::show(&state, &a.address) {
                Some(r) => {
                    ui.data(&crate::ui::state::render_resource(r));
                    ExitStatus::Success
                }
                None => fail(
                    ui,
                    Diagnostic::error(format!("no resource `{}` in state", a.address))
                        .with_help("`gantry state list` shows what state tracks"),
                ),
            },
            Err(code) => code,
        },
        StateCommand::Rm(a) => mutate(ui, &a.at, "state rm", |state| {
            ops::rm(state, &a.addresses)
                .map(|removed| removed.iter().map(|r| format!("Removed {r}\n")).collect())
        }),
        StateCommand::Mv(a) => mutate(ui, &a.at, "state mv", |state| {
            ops::mv(state, &a.from, &a.to).map(|moves| {
                moves
                    .iter()
                    .map(|(f, t)| format!("Moved {f} to {t}\n"))
                    .collect()
            })
        }),
        StateCommand::Pull(at) => match read(ui, at) {
            Ok(state) => match ops::pull(&state) {
                Ok(text) => {
                    ui.data(&text);
                    if !text.ends_with('\n') {
                        ui.data("\n");
                    }
                    ExitStatus::Success
                }
                Err(e) => fail(ui, state_error(&e)),
            },
            Err(code) => code,
        },
        StateCommand::Resolve(a) => resolve(ui, a),
        StateCommand::Takeover(a) => super::takeover::run(ui, a),
        StateCommand::Push(a) => {
            let bytes = match std::fs::read(&a.file) {
                Ok(b) => b,
                Err(e) => {
                    return fail(
                        ui,
                        Diagnostic::error(format!("cannot read `{}`", a.file.display()))
                            .with_detail(e.to_string()),
                    )
                }
            };
            let incoming = match State::from_json(&bytes, &a.file) {
                Ok(s) => s,
                Err(e) => return fail(ui, state_error(&e)),
            };
            let lock = match lock(&a.at, "state push") {
                Ok(l) => l,
                Err(d) => return fail(ui, d),
            };
            let current = match lock.read_state() {
                Ok(c) => c,
                Err(e) => return fail(ui, state_error(&e)),
            };
            match ops::push(current.as_ref(), incoming, a.force).and_then(|s| lock.write_state(&s))
            {
                Ok(serial) => {
                    ui.status(&format!("State pushed (serial {serial})."));
                    ExitStatus::Success
                }
                Err(e) => fail(ui, state_error(&e)),
            }
        }
    }
}

fn mutate(
    ui: Ui,
    at: &StateDirArgs,
    operation: &str,
    f: impl FnOnce(&mut State) -> Result<String, crate::state::StateError>,
) -> ExitStatus {
    let lock = match lock(at, operation) {
        Ok(l) => l,
        Err(d) => return fail(ui, d),
    };
    let mut state = match lock.read_state() {
        Ok(Some(s)) => s,
        Ok(None) => State::new(),
        Err(e) => return fail(ui, state_error(&e)),
    };
    match f(&mut state).and_then(|msg| lock.write_state(&state).map(|_| msg)) {
        Ok(msg) => {
            ui.data(&msg);
            ExitStatus::Success
        }
        Err(e) => fail(ui, state_error(&e)),
    }
}

pub fn run_output(args: &OutputArgs, ui: Ui) -> ExitStatus {
    let at = StateDirArgs {
        dir: args.dir.clone(),
        sim: args.sim,
    };
    let state = match read(ui, &at) {
        Ok(s) => s,
        Err(code) => return code,
    };
    if let Some(name) = &args.name {
        let Some(out) = state.outputs.get(name) else {
            let names: Vec<&str> = state.outputs.keys().map(String::as_str).collect();
            let mut d = Diagnostic::error(format!("no output named `{name}`"));
            if let Some(s) = crate::diagnostics::did_you_mean(name, names.iter().copied()) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            return fail(ui, d);
        };
        let value = Value::from_json(&out.value);
        if args.json {
            ui.data(&format!("{}\n", out.value));
        } else if args.raw {
            match &value {
                Value::String(s) => ui.data(&format!("{s}\n")),
                Value::Number(_) | Value::Bool(_) => ui.data(&format!("{value}\n")),
                _ => {
                    return fail(
                        ui,
                        Diagnostic::error("`--raw` prints only strings, numbers and bools")
                            .with_help("use `--json` for lists and objects"),
                    )
                }
            }
        } else {
            ui.data(&format!("{value}\n"));
        }
        return ExitStatus::Success;
    }
    if args.json {
        let all: serde_json::Map<String, serde_json::Value> = state
            .outputs
            .iter()
            .map(|(k, o)| (k.clone(), serde_json::json!({"value": if o.sensitive { serde_json::Value::Null } else { o.value.clone() }, "sensitive": o.sensitive})))
            .collect();
        ui.data(&format!("{}\n", serde_json::Value::Object(all)));
    } else {
        for (name, o) in &state.outputs {
            let shown = if o.sensitive {
                "(sensitive value)".to_owned()
            } else {
                Value::from_json(&o.value).to_string()
            };
            ui.data(&format!("{name} = {shown}\n"));
        }
    }
    ExitStatus::Success
}

/// `gantry state resolve ADDRESS --not-created`.
fn resolve(ui: Ui, a: &crate::cli::StateResolveArgs) -> ExitStatus {
    let lock = match lock(&a.at, "state resolve") {
        Ok(l) => l,
        Err(d) => return fail(ui, d),
    };
    let rt = match runtime() {
        Ok(rt) => rt,
        Err(d) => return fail(ui, d),
    };
    let (journal, _) = match lock.open_journal() {
        Ok(j) => j,
        Err(e) => return fail(ui, state_error(&e)),
    };
    let pending: Vec<String> = journal
        .pending_intents()
        .into_iter()
        .filter(|i| i.address == a.address)
        .map(|i| i.token)
        .collect();
    if pending.is_empty() {
        let _ = rt.block_on(journal.commit());
        return fail(
            ui,
            Diagnostic::error(format!(
                "no interrupted create of `{}` is pending",
                a.address
            ))
            .with_help("`gantry plan` names the creates an interrupted run left unchecked"),
        );
    }
    let mut result = Ok(());
    for token in &pending {
        result = result.and_then(|()| rt.block_on(journal.resolve_intent(token)));
    }
    let result = result.and_then(|()| rt.block_on(journal.commit()).map(|_| ()));
    match result {
        Ok(()) => {
            ui.status(&format!(
                "Recorded that the interrupted create of `{}` made nothing; `gantry apply` may create it now.",
                a.address
            ));
            ExitStatus::Success
        }
        Err(e) => fail(ui, state_error(&e)),
    }
}

pub fn run_force_unlock(args: &ForceUnlockArgs, ui: Ui) -> ExitStatus {
    let stack = stack_dir(&args.at.dir);
    let sim = sim_enabled(args.at.sim);
    let remote = match (!sim).then(|| crate::state::remote::resolve(&stack)) {
        Some(Ok(settings)) => settings,
        Some(Err(d)) => return fail(ui, d),
        None => None,
    };
    let result = match remote {
        Some(settings) => match force_unlock_remote(&stack, &settings, &args.id) {
            Ok(r) => r,
            Err(d) => return fail(ui, d),
        },
        None => match state_dir(&args.at.dir, sim) {
            Ok(dir) => force_unlock(&dir, &args.id),
            Err(d) => return fail(ui, d),
        },
    };
    match result {
        Ok(info) => {
            ui.status(&format!(
                "Lock {} (held by {} for `{}`) released.",
                info.id, info.who, info.operation
            ));
            ExitStatus::Success
        }
        Err(e) => fail(ui, state_error(&e)),
    }
}

fn force_unlock_remote(
    stack: &std::path::Path,
    settings: &crate::state::remote::config::BackendSettings,
    id: &str,
) -> Result<Result<LockInfo, crate::state::StateError>, Diagnostic> {
    let (workspace, _) = super::session::current_workspace(stack, false)?;
    let remote = crate::state::remote::Remote::connect(settings, &workspace).map_err(|m| {
        Diagnostic::error(format!("cannot use the `{}` state backend", settings.kind))
            .with_detail(m)
    })?;
    Ok(crate::state::remote::lock::force_unlock(&remote, id))
}

pub fn run_sim(cmd: &SimCommand, ui: Ui) -> ExitStatus {
    match cmd {
        SimCommand::Ls(at) => {
            let dir = base_state_dir(&at.dir, true);
            match gantry_sim::SimWorld::peek(&dir) {
                Ok(objects) => {
                    if ui.json {
                        for o in objects {
                            ui.json_line(&serde_json::json!({"type": o.type_name, "id": o.id, "address": o.address, "provider": o.provider}));
                        }
                    } else {
                        for o in objects {
                            ui.data(&format!("{:<28} {:<40} {}\n", o.type_name, o.id, o.address));
                        }
                    }
                    ExitStatus::Success
                }
                Err(e) => fail(
                    ui,
                    Diagnostic::error("cannot read the simulated world").with_detail(e.to_string()),
                ),
            }
        }
        SimCommand::Reset(at) => {
            let dir = base_state_dir(&at.dir, true);
            // Not while a `--sim` run has the world open.
            let _lock =
                match LocalBackend::new(&dir).lock(LockInfo::new("sim reset"), Duration::ZERO) {
                    Ok(l) => l,
                    Err(e) => return fail(ui, state_error(&e)),
                };
            let rt = match runtime() {
                Ok(rt) => rt,
                Err(d) => return fail(ui, d),
            };
            let result = gantry_sim::SimWorld::open(&dir)
                .map_err(|e| e.to_string())
                .and_then(|w| rt.block_on(w.reset()).map_err(|e| e.to_string()));
            match result {
                Ok(()) => {
                    ui.status("The simulated world is empty.");
                    ExitStatus::Success
                }
                Err(e) => fail(
                    ui,
                    Diagnostic::error("cannot reset the simulated world").with_detail(e),
                ),
            }
        }
    }
}

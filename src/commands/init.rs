//! `gantry init`: records `--backend-config` values for the stack's backend, checks that the
//! backend answers, and with `--migrate-state` copies state from the previous backend to
//! the new one.

use super::session::{connect, current_workspace, open_backend, stack_dir, Access};
use super::{fail, ExitStatus};
use crate::cli::InitArgs;
use crate::diagnostics::Diagnostic;
use crate::state::remote::config::BackendSettings;
use crate::state::remote::{self, Recorded};
use crate::state::{State, StateError, JOURNAL_FILE};
use crate::ui::Ui;
use std::path::Path;

pub fn run(args: &InitArgs, ui: Ui) -> ExitStatus {
    match init(args, ui) {
        Ok(()) => ExitStatus::Success,
        Err(d) => fail(ui, d),
    }
}

fn init(args: &InitArgs, ui: Ui) -> Result<(), Diagnostic> {
    let dir = stack_dir(&args.dir);
    let gantry = dir.join(".gantry");
    let overrides = remote::parse_overrides(&args.backend_config)?;
    let previous = Recorded::read(&gantry)?;
    let new = match remote::config::resolve_block(&dir)? {
        Some(mut block) => {
            block.values.extend(overrides.clone());
            Some(block)
        }
        None if !overrides.is_empty() => {
            return Err(Diagnostic::error(
                "--backend-config needs a remote `backend` block in the stack",
            )
            .with_help("add e.g. `terraform { backend \"s3\" {} }` and pass its values here"))
        }
        None => None,
    };
    let old = previous.as_ref().map(Recorded::backend);
    let (workspace, _) = current_workspace(&dir, false)?;
    let changed = old.as_ref() != new.as_ref();
    if let Some(new) = &new {
        // Fails here, not on the first apply, when the bucket or credentials are wrong.
        let remote = connect(new, &workspace)?;
        let r = std::sync::Arc::clone(&remote);
        remote
            .block_on(async move { r.store.get(&r.keys.state).await })
            .map_err(|e| Diagnostic::error(remote.error(&e).to_string()))?;
        ui.status(&format!(
            "Backend `{}`: state of workspace `{workspace}` in {}",
            new.kind,
            remote.location()
        ));
    }
    if args.migrate_state {
        if !changed {
            ui.status(
                "The backend did not change since the last `gantry init`: nothing to migrate.",
            );
        } else {
            migrate(&dir, old.as_ref(), new.as_ref(), args.lock_timeout, ui)?;
        }
    } else if changed {
        refuse_to_strand(&dir, old.as_ref(), new.as_ref())?;
    }
    let record = new.as_ref().map(|n| Recorded {
        kind: n.kind.clone(),
        overrides,
        settings: n.values.clone(),
    });
    Recorded::write(&gantry, record.as_ref())?;
    if new.is_none() {
        ui.status(&format!(
            "Backend `local`: state in {}",
            super::session::state_dir(&dir, false)?.display()
        ));
    }
    Ok(())
}

fn describe(settings: Option<&BackendSettings>) -> String {
    match settings {
        Some(s) => format!("`{}`", s.kind),
        None => "local state".to_owned(),
    }
}

/// Switching backends without migrating would make the next apply start from nothing and
/// create everything again: refused while the old backend tracks resources and the new one
/// tracks none.
fn refuse_to_strand(
    dir: &Path,
    old: Option<&BackendSettings>,
    new: Option<&BackendSettings>,
) -> Result<(), Diagnostic> {
    let Some(old_state) = read_copy(dir, old)? else {
        return Ok(());
    };
    if old_state.resources.is_empty() {
        return Ok(());
    }
    let new_state = read_copy(dir, new)?;
    if new_state.is_some_and(|s| !s.resources.is_empty()) {
        return Ok(());
    }
    Err(Diagnostic::error(format!(
        "the backend changed from {} to {}, and the old one tracks {} resource(s) the new one does not",
        describe(old),
        describe(new),
        old_state.resources.len()
    ))
    .with_help("run `gantry init --migrate-state` to copy the state over; otherwise the next apply would create everything again"))
}

/// The state of a backend, read without its lock.
fn read_copy(dir: &Path, settings: Option<&BackendSettings>) -> Result<Option<State>, Diagnostic> {
    let copy = open_backend(
        dir,
        false,
        settings,
        "init",
        std::time::Duration::ZERO,
        Access::ReadOnly,
    )?;
    // With the journal: resources only an interrupted run recorded count too.
    let (state, recovery) = copy
        .read_state_with_journal()
        .map_err(|e| state_error(&e))?;
    let nothing = state.resources.is_empty() && recovery.is_empty();
    if nothing && copy.read_state().map_err(|e| state_error(&e))?.is_none() {
        return Ok(None);
    }
    Ok(Some(state))
}

fn state_error(e: &StateError) -> Diagnostic {
    super::apply::state_error(e)
}

/// Copies the current workspace's state from `old` to `new` under both locks and verifies
/// the copy; the old state stays as it was.
fn migrate(
    dir: &Path,
    old: Option<&BackendSettings>,
    new: Option<&BackendSettings>,
    wait: std::time::Duration,
    ui: Ui,
) -> Result<(), Diagnostic> {
    let from = open_backend(dir, false, old, "init -migrate-state", wait, Access::Locked)?;
    if from.dir().join(JOURNAL_FILE).exists() {
        return Err(Diagnostic::error(format!(
            "{} holds operations of an interrupted run that are not in its state yet",
            describe(old)
        ))
        .with_help("run `gantry apply` (or `gantry refresh`) against the old backend first, so nothing it recorded is left behind"));
    }
    let Some(state) = from.read_state().map_err(|e| state_error(&e))? else {
        ui.status(&format!(
            "{} holds no state: nothing to migrate.",
            describe(old)
        ));
        return Ok(());
    };
    let to = open_backend(dir, false, new, "init -migrate-state", wait, Access::Locked)?;
    if to.dir().join(JOURNAL_FILE).exists() {
        return Err(Diagnostic::error(format!(
            "{} holds operations of an interrupted run",
            describe(new)
        ))
        .with_help("recover them with `gantry apply` against the new backend, or empty it"));
    }
    if let Some(current) = to.read_state().map_err(|e| state_error(&e))? {
        if current.lineage != state.lineage && !current.resources.is_empty() {
            return Err(Diagnostic::error(format!(
                "{} already holds the state of another stack (lineage {}, {} resources)",
                describe(new),
                current.lineage,
                current.resources.len()
            ))
            .with_help("point the backend block at an empty key, or move that state away first"));
        }
        if current.lineage == state.lineage && current.serial >= state.serial {
            ui.status(&format!(
                "{} already holds this state at serial {} (the old one is at {}): nothing to copy.",
                describe(new),
                current.serial,
                state.serial
            ));
            return Ok(());
        }
    }
    let serial = to.write_state(&state).map_err(|e| state_error(&e))?;
    // Read back as any later command will: through the backend, not this lock's copy.
    drop(to);
    verify(dir, new, &state, serial)?;
    drop(from);
    ui.status(&format!(
        "Copied the state ({} resources, serial {serial}) from {} to {}; the old state was left as it was.",
        state.resources.len(),
        describe(old),
        describe(new)
    ));
    Ok(())
}

/// Reads the new backend's state back and compares it with what was copied.
fn verify(
    dir: &Path,
    new: Option<&BackendSettings>,
    copied: &State,
    serial: u64,
) -> Result<(), Diagnostic> {
    let back = read_copy(dir, new)?;
    let matches = back.as_ref().is_some_and(|b| {
        b.lineage == copied.lineage && b.serial == serial && b.resources == copied.resources
    });
    if matches {
        return Ok(());
    }
    Err(Diagnostic::error(format!(
        "the state read back from {} is not the one copied there",
        describe(new)
    ))
    .with_help("the old state is untouched; check the backend, then run `gantry init --migrate-state` again"))
}

//! `gantry workspace list|show|new|select|delete`.

use super::apply::state_error;
use super::session::workspace_error;
use super::{fail, ExitStatus};
use crate::cli::WorkspaceCommand;
use crate::diagnostics::Diagnostic;
use crate::state::workspace::{self, WorkspaceError};
use crate::state::{LocalBackend, LockInfo};
use crate::ui::Ui;
use std::path::Path;
use std::time::Duration;

pub fn run(cmd: &WorkspaceCommand, ui: Ui) -> ExitStatus {
    let result = match cmd {
        WorkspaceCommand::List(at) => list(ui, &at.dir),
        WorkspaceCommand::Show(at) => current(&at.dir).map(|name| ui.data(&format!("{name}\n"))),
        WorkspaceCommand::New(a) => new(ui, &a.at.dir, &a.name),
        WorkspaceCommand::Select(a) => select(ui, &a.at.dir, &a.name),
        WorkspaceCommand::Delete(a) => delete(ui, &a.workspace.at.dir, &a.workspace.name, a.force),
    };
    match result {
        Ok(()) => ExitStatus::Success,
        Err(d) => fail(ui, d),
    }
}

fn gantry_dir(stack: &Path) -> std::path::PathBuf {
    stack.join(".gantry")
}

fn current(stack: &Path) -> Result<String, Diagnostic> {
    workspace::selected(&gantry_dir(stack)).map_err(|e| workspace_error(&e))
}

/// With a remote backend, the workspaces whose state is in it (`None`: local state).
fn remote_workspaces(stack: &Path) -> Result<Option<Vec<String>>, Diagnostic> {
    let Some(settings) = crate::state::remote::resolve(stack)? else {
        return Ok(None);
    };
    let remote = super::session::connect(&settings, workspace::DEFAULT)?;
    remote.workspaces().map(Some).map_err(|e| state_error(&e))
}

fn list(ui: Ui, stack: &Path) -> Result<(), Diagnostic> {
    let current = current(stack)?;
    let mut names = workspace::list(&gantry_dir(stack)).map_err(|e| workspace_error(&e))?;
    names.extend(remote_workspaces(stack)?.unwrap_or_default());
    names[1..].sort();
    names.dedup();
    for name in names {
        let mark = if name == current { "*" } else { " " };
        ui.data(&format!("{mark} {name}\n"));
    }
    Ok(())
}

/// Selection is refused while the environment chooses the workspace: the choice would not
/// take effect, and that would surprise.
fn env_override() -> Option<String> {
    ["GANTRY_WORKSPACE", "TF_WORKSPACE"]
        .into_iter()
        .find(|v| std::env::var(v).is_ok_and(|x| !x.is_empty()))
        .map(str::to_owned)
}

fn new(ui: Ui, stack: &Path, name: &str) -> Result<(), Diagnostic> {
    workspace::create(&gantry_dir(stack), name).map_err(|e| workspace_error(&e))?;
    if let Some(var) = env_override() {
        ui.status(&format!(
            "Created workspace \"{name}\"; {var} still chooses the workspace commands use."
        ));
        return Ok(());
    }
    workspace::select(&gantry_dir(stack), name).map_err(|e| workspace_error(&e))?;
    ui.status(&format!(
        "Created and selected workspace \"{name}\": its state is empty."
    ));
    Ok(())
}

fn select(ui: Ui, stack: &Path, name: &str) -> Result<(), Diagnostic> {
    if let Some(var) = env_override() {
        return Err(Diagnostic::error(format!(
            "the workspace is chosen by the environment variable {var}"
        ))
        .with_help(format!(
            "unset {var} to select one with `gantry workspace select`"
        )));
    }
    workspace::check_name(name).map_err(|e| workspace_error(&e))?;
    if !workspace::exists(&gantry_dir(stack), name) {
        let in_backend = remote_workspaces(stack)?.is_some_and(|w| w.iter().any(|n| n == name));
        if !in_backend {
            return Err(workspace_error(&WorkspaceError::Missing {
                name: name.to_owned(),
            }));
        }
        workspace::create(&gantry_dir(stack), name).map_err(|e| workspace_error(&e))?;
    }
    workspace::select(&gantry_dir(stack), name).map_err(|e| workspace_error(&e))?;
    ui.status(&format!("Switched to workspace \"{name}\"."));
    Ok(())
}

fn delete(ui: Ui, stack: &Path, name: &str, force: bool) -> Result<(), Diagnostic> {
    let gantry = gantry_dir(stack);
    let current = current(stack)?;
    workspace::check_name(name).map_err(|e| workspace_error(&e))?;
    if name == workspace::DEFAULT || name == current {
        return Err(workspace_error(&WorkspaceError::Refused(
            "delete",
            name.to_owned(),
        )));
    }
    if let Some(settings) = crate::state::remote::resolve(stack)? {
        return delete_remote(ui, stack, &settings, name, &current, force);
    }
    if !workspace::exists(&gantry, name) {
        return Err(workspace_error(&WorkspaceError::Missing {
            name: name.to_owned(),
        }));
    }
    // Both states (real and simulated) locked and empty, or --force.
    let mut locks = Vec::new();
    for sim in [false, true] {
        let dir = workspace::state_dir(&gantry, sim, name);
        if !dir.is_dir() {
            continue;
        }
        let codec = crate::state::encryption::codec_for(stack, name)?;
        let backend = LocalBackend::new(&dir).with_codec(codec);
        let lock = backend
            .lock(LockInfo::new("workspace delete"), Duration::ZERO)
            .map_err(|e| state_error(&e))?;
        let tracked = lock
            .read_state()
            .map_err(|e| state_error(&e))?
            .map_or(0, |s| s.resources.len());
        if tracked > 0 && !force {
            let which = if sim { " (under --sim)" } else { "" };
            return Err(Diagnostic::error(format!(
                "workspace `{name}` still tracks {tracked} resource(s){which}"
            ))
            .with_help(format!(
                "destroy them first (`GANTRY_WORKSPACE={name} gantry destroy`), or use --force to delete the workspace and leave them untracked"
            )));
        }
        locks.push(lock);
    }
    workspace::delete(&gantry, name, &current).map_err(|e| workspace_error(&e))?;
    drop(locks);
    ui.status(&format!("Deleted workspace \"{name}\"."));
    Ok(())
}

/// Deletes a workspace whose state is in a remote backend: under its lock, the state only
/// if it tracks nothing (or `--force`) and no interrupted run left a journal to recover,
/// then this checkout's copy of it.
fn delete_remote(
    ui: Ui,
    stack: &Path,
    settings: &crate::state::remote::config::BackendSettings,
    name: &str,
    current: &str,
    force: bool,
) -> Result<(), Diagnostic> {
    use crate::state::remote::{lock as remote_lock, session as remote_session};
    let gantry = gantry_dir(stack);
    let remote = super::session::connect(settings, name)?;
    let fail = |e: crate::state::StateError| state_error(&e);
    let known_here = workspace::exists(&gantry, name);
    if !known_here && !remote.state_exists().map_err(fail)? {
        return Err(workspace_error(&WorkspaceError::Missing {
            name: name.to_owned(),
        }));
    }
    let held = remote_lock::acquire(&remote, LockInfo::new("workspace delete"), Duration::ZERO)
        .map_err(fail)?;
    let work = super::session::remote_dir(stack, name);
    let codec = crate::state::encryption::codec_for(stack, name)?;
    let snapshot = remote_session::materialize(&remote, &work, &codec).map_err(fail)?;
    held.check().map_err(fail)?;
    if !snapshot.segments.is_empty() && !force {
        return Err(Diagnostic::error(format!(
            "workspace `{name}` has the journal of an interrupted run in {}",
            remote.location()
        ))
        .with_help(format!(
            "run `GANTRY_WORKSPACE={name} gantry apply` to recover what it was doing first, or use --force to delete the workspace and leave it untracked"
        )));
    }
    let tracked = {
        let local = LocalBackend::new(&work)
            .with_codec(codec)
            .lock(LockInfo::new("workspace delete"), Duration::ZERO)
            .map_err(fail)?;
        local
            .read_state()
            .map_err(fail)?
            .map_or(0, |s| s.resources.len())
    };
    if tracked > 0 && !force {
        return Err(Diagnostic::error(format!(
            "workspace `{name}` still tracks {tracked} resource(s)"
        ))
        .with_help(format!(
            "destroy them first (`GANTRY_WORKSPACE={name} gantry destroy`), or use --force to delete the workspace and leave them untracked"
        )));
    }
    remote_session::delete_state(&remote, &held, &snapshot).map_err(fail)?;
    held.release();
    let _ = std::fs::remove_dir_all(&work);
    if known_here {
        workspace::delete(&gantry, name, current).map_err(|e| workspace_error(&e))?;
    }
    ui.status(&format!(
        "Deleted workspace \"{name}\" and its state in {}.",
        remote.location()
    ));
    Ok(())
}

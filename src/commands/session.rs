//! What plan, apply, destroy and the state commands share: where state lives, which
//! providers run (real or simulated), the tokio runtime and Ctrl-C handling.

use crate::diagnostics::Diagnostic;
use crate::providers::Providers;
use crate::state::encryption::{codec_for, Codec};
use crate::state::remote::{self, lock as remote_lock, session as remote_session, Remote};
use crate::state::{workspace, LocalBackend, LockInfo, StateLock};
use gantry_provider::{CancellationToken, Provider};
use gantry_sim::{Knobs, SimHooks, SimProvider, SimWorld};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The stack directory of a path given on the command line (a file's directory).
pub fn stack_dir(path: &Path) -> PathBuf {
    if path.is_file() {
        path.parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf)
    } else {
        path.to_path_buf()
    }
}

/// `.gantry/` next to the stack, or `.gantry/sim/` for the simulated clouds (the two never
/// share state): where the default workspace's state and the simulated world live.
pub fn base_state_dir(stack: &Path, sim: bool) -> PathBuf {
    let base = stack.join(".gantry");
    if sim {
        base.join("sim")
    } else {
        base
    }
}

/// The state directory of the stack's current workspace ([`workspace`]); an error when that
/// workspace does not exist or its name is invalid.
pub fn state_dir(stack: &Path, sim: bool) -> Result<PathBuf, Diagnostic> {
    let (name, dir) = current_workspace(stack, sim)?;
    if !workspace::exists(&stack.join(".gantry"), &name) {
        return Err(workspace_error(&workspace::WorkspaceError::Missing {
            name,
        }));
    }
    Ok(dir)
}

/// The current workspace's name and state directory.
pub fn current_workspace(stack: &Path, sim: bool) -> Result<(String, PathBuf), Diagnostic> {
    let gantry_dir = stack.join(".gantry");
    let name = workspace::selected(&gantry_dir).map_err(|e| workspace_error(&e))?;
    let dir = workspace::state_dir(&gantry_dir, sim, &name);
    Ok((name, dir))
}

pub fn workspace_error(e: &workspace::WorkspaceError) -> Diagnostic {
    Diagnostic::error(e.to_string()).with_help(e.help())
}

/// How a command uses state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Takes the lock: the command may write.
    Locked,
    /// Reads a consistent copy without the (remote) lock: plans, `state list`. Local state
    /// is still locked for the command, as the simulated world is compacted by plans.
    ReadOnly,
}

/// The state of the stack in `dir` for `operation`: the local backend's directory, or a
/// remote backend's working copy (locked remotely too) or read copy. Under `--sim` state is
/// always local (`.gantry/sim/`): the simulated clouds never touch a real backend.
pub fn open_state(
    dir: &Path,
    sim: bool,
    operation: &str,
    wait: std::time::Duration,
    access: Access,
) -> Result<StateLock, Diagnostic> {
    let settings = if sim { None } else { remote::resolve(dir)? };
    open_backend(dir, sim, settings.as_ref(), operation, wait, access)
}

/// [`open_state`] for the backend `settings` describe (`None`: local state).
pub fn open_backend(
    dir: &Path,
    sim: bool,
    settings: Option<&remote::config::BackendSettings>,
    operation: &str,
    wait: std::time::Duration,
    access: Access,
) -> Result<StateLock, Diagnostic> {
    let lock_error = |e: crate::state::StateError| Diagnostic::error(e.to_string());
    let (name, _) = current_workspace(dir, sim && settings.is_none())?;
    let codec = codec_for(dir, &name)?;
    if access == Access::Locked {
        codec.ready_to_write().map_err(lock_error)?;
    }
    let Some(settings) = settings else {
        return LocalBackend::new(state_dir(dir, sim)?)
            .with_codec(codec)
            .lock(LockInfo::new(operation), wait)
            .map_err(lock_error);
    };
    let remote = connect(settings, &name)?;
    let gantry = dir.join(".gantry");
    if !workspace::exists(&gantry, &name) {
        // A workspace another machine made exists in the backend: this checkout learns it.
        if !remote.state_exists().map_err(lock_error)? {
            return Err(workspace_error(&workspace::WorkspaceError::Missing {
                name,
            }));
        }
        workspace::create(&gantry, &name).map_err(|e| workspace_error(&e))?;
    }
    let work = remote_dir(dir, &name);
    match access {
        Access::Locked => {
            // The local lock keeps two commands in this checkout off one working copy.
            let local = LocalBackend::new(&work)
                .with_codec(Arc::clone(&codec))
                .lock(LockInfo::new(operation), wait)
                .map_err(lock_error)?;
            let held =
                remote_lock::acquire(&remote, local.info().clone(), wait).map_err(lock_error)?;
            let snapshot =
                remote_session::materialize(&remote, &work, &codec).map_err(lock_error)?;
            // What was read counts only if the lock was still ours after reading it (a
            // runner paused meanwhile may have lost it).
            held.check().map_err(lock_error)?;
            Ok(local.attach_remote(remote_session::RemoteSession::new(remote, held, snapshot)))
        }
        Access::ReadOnly => {
            let read = work.join("read");
            let local = LocalBackend::new(&read)
                .with_codec(Arc::clone(&codec))
                .lock(LockInfo::new(operation), wait)
                .map_err(lock_error)?;
            remote_session::materialize(&remote, &read, &codec).map_err(lock_error)?;
            Ok(local)
        }
    }
}

/// Connects to a remote backend for `workspace`.
pub fn connect(
    settings: &remote::config::BackendSettings,
    workspace: &str,
) -> Result<std::sync::Arc<Remote>, Diagnostic> {
    Remote::connect(settings, workspace).map_err(|m| {
        Diagnostic::error(format!("cannot use the `{}` state backend", settings.kind))
            .with_detail(m)
            .with_help(
                "check the `backend` block and the values `gantry init --backend-config` recorded",
            )
    })
}

/// The encryption of the stack in `dir` for its current workspace (plan files use it).
pub fn stack_codec(dir: &Path, sim: bool) -> Result<Arc<Codec>, Diagnostic> {
    let (name, _) = current_workspace(dir, sim)?;
    codec_for(dir, &name)
}

/// A remote backend's working copy for `workspace`: `.gantry/remote/<workspace>/`.
pub fn remote_dir(stack: &Path, workspace: &str) -> PathBuf {
    stack.join(".gantry").join("remote").join(workspace)
}

/// `--sim` on the command line or `GANTRY_SIM=1` in the environment.
pub fn sim_enabled(flag: bool) -> bool {
    flag || std::env::var("GANTRY_SIM").is_ok_and(|v| !v.is_empty() && v != "0" && v != "false")
}

/// The providers of a run; with `sim`, every one is swapped for its simulated twin sharing
/// one persisted world.
pub fn providers(
    stack: &Path,
    sim: bool,
) -> Result<(Providers, Option<Arc<SimWorld>>), Diagnostic> {
    let real = Providers::real();
    if !sim {
        return Ok((real, None));
    }
    let dir = base_state_dir(stack, true);
    let world = SimWorld::open(&dir).map_err(|e| {
        Diagnostic::error("cannot open the simulated world")
            .with_detail(e.to_string())
            .with_help(format!(
                "`gantry sim reset` empties it (it lives in `{}`)",
                dir.display()
            ))
    })?;
    let world = Arc::new(world);
    let knobs = Knobs::load(&dir)
        .map_err(|e| Diagnostic::error("invalid simulation settings").with_detail(e.to_string()))?;
    let mut sim = Providers::default();
    for name in real.names() {
        let Some(factory) = real.factory(name) else {
            continue;
        };
        let (name, world, knobs) = (name.to_owned(), world.clone(), knobs.clone());
        sim.register(Arc::new(move || {
            let real = factory();
            let mut twin =
                SimProvider::new(&name, real.schema().clone(), world.clone(), knobs.clone());
            for (_, type_name) in crate::providers::builtin::BUILTIN_TYPES {
                twin = twin.with_hook(type_name, Arc::new(GantryDataHook));
            }
            // The real provider says what its cloud looks like; the simulator knows none.
            if let Some(model) = real.sim_model() {
                twin = twin.with_model(model);
            }
            Arc::new(crate::providers::twin::Twin {
                real,
                sim: Arc::new(twin),
            }) as Arc<dyn Provider>
        }));
    }
    Ok((sim, Some(world)))
}

/// `gantry_data` (and `terraform_data`) in the simulated world behave as the real one:
/// `output` is `input`.
struct GantryDataHook;

impl SimHooks for GantryDataHook {
    fn on_create(
        &self,
        _type_name: &str,
        attributes: &mut serde_json::Value,
    ) -> gantry_provider::provider::Result<()> {
        mirror_input(attributes);
        Ok(())
    }

    fn on_update(
        &self,
        _type_name: &str,
        _before: &serde_json::Value,
        attributes: &mut serde_json::Value,
    ) -> gantry_provider::provider::Result<()> {
        mirror_input(attributes);
        Ok(())
    }
}

fn mirror_input(attributes: &mut serde_json::Value) {
    if let Some(map) = attributes.as_object_mut() {
        let input = map.get("input").cloned().unwrap_or(serde_json::Value::Null);
        map.insert("output".to_owned(), input);
    }
}

/// What a command that talks to providers needs: the stack's directory, the state lock, a
/// runtime, the providers (real or simulated) and, under `--sim`, the simulated world.
///
/// The lock is taken before the simulated world is opened: the world is read into memory,
/// so opening it while another run still changes it would plan against a stale copy.
pub struct Session {
    pub dir: PathBuf,
    pub sim: bool,
    pub rt: tokio::runtime::Runtime,
    pub providers: Providers,
    pub world: Option<Arc<SimWorld>>,
    /// Held for the whole command; released when the session is dropped.
    pub lock: StateLock,
    /// Under `--sim` in a workspace other than `default`: the simulated world's lock (the
    /// default workspace's), as every workspace shares one simulated cloud.
    _world_lock: Option<StateLock>,
}

impl Session {
    /// Locks the state of the stack at `path` (a directory or one of its files) for
    /// `operation`, waiting up to `wait`, then starts its providers.
    pub fn open(
        path: &Path,
        sim: bool,
        operation: &str,
        wait: std::time::Duration,
    ) -> Result<Session, Diagnostic> {
        Session::open_with(path, sim, operation, wait, Access::Locked)
    }

    /// [`Session::open`] with the state access the command needs.
    pub fn open_with(
        path: &Path,
        sim: bool,
        operation: &str,
        wait: std::time::Duration,
        access: Access,
    ) -> Result<Session, Diagnostic> {
        let dir = stack_dir(path);
        let world_lock = if sim && state_dir(&dir, sim)? != base_state_dir(&dir, sim) {
            let lock = LocalBackend::new(base_state_dir(&dir, sim))
                .lock(LockInfo::new(operation), wait)
                .map_err(|e| Diagnostic::error(e.to_string()))?;
            Some(lock)
        } else {
            None
        };
        let lock = open_state(&dir, sim, operation, wait, access)?;
        let rt = runtime()?;
        let (providers, world) = {
            let _guard = rt.enter();
            providers(&dir, sim)?
        };
        Ok(Session {
            dir,
            sim,
            rt,
            providers,
            world,
            lock,
            _world_lock: world_lock,
        })
    }

    /// Loads the stack and configures the providers it uses (for commands that talk to
    /// providers without planning: refresh, import). Returns the stack when it loaded.
    pub fn configure_providers(
        &self,
        inputs: &crate::config::inputs::InputOptions,
    ) -> (
        Option<crate::config::load::Stack>,
        crate::diagnostics::Diagnostics,
    ) {
        let fetcher = crate::config::sources::ModuleFetcher::default();
        let prepared = crate::stack::prepare(&self.dir, inputs, &fetcher);
        let mut diags = prepared.diagnostics;
        let Some(graph) = prepared.graph else {
            return (None, diags);
        };
        if prepared.has_cycles || diags.has_errors() {
            return (Some(prepared.stack), diags);
        }
        diags.extend(self.rt.block_on(self.providers.configure_for(
            &prepared.stack,
            &graph,
            &prepared.inputs,
        )));
        (Some(prepared.stack), diags)
    }

    /// Compacts the simulated world's log, if there is one; a failure is only a warning
    /// because every change is already durable in the log.
    pub fn flush_world(&self) -> Option<Diagnostic> {
        let world = self.world.as_ref()?;
        self.rt.block_on(world.flush()).err().map(|e| {
            Diagnostic::warning("could not compact the simulated world").with_detail(e.to_string())
        })
    }
}

/// A multi-threaded runtime for one command.
pub fn runtime() -> Result<tokio::runtime::Runtime, Diagnostic> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Diagnostic::error("cannot start the async runtime").with_detail(e.to_string()))
}

/// The first Ctrl-C, or a SIGTERM (what CI systems send when a job is cancelled), cancels:
/// nothing new starts, operations in flight finish or are recorded, state is saved and the
/// lock released. A second signal exits at once; the journal keeps state consistent even
/// then.
pub fn cancel_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        let mut signals = Signals::new();
        if let Some(name) = signals.next().await {
            crate::ui::Ui::new(false, true).status(&format!(
                "\n{name} received: finishing operations in flight and saving state. Send it again to exit at once."
            ));
            t.cancel();
            if signals.next().await.is_some() {
                std::process::exit(130);
            }
        }
    });
    token
}

/// Ctrl-C and, on Unix, SIGTERM, as one stream of signal names.
struct Signals {
    #[cfg(unix)]
    term: Option<tokio::signal::unix::Signal>,
}

impl Signals {
    fn new() -> Signals {
        Signals {
            #[cfg(unix)]
            term: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok(),
        }
    }

    async fn next(&mut self) -> Option<&'static str> {
        #[cfg(unix)]
        if let Some(term) = &mut self.term {
            return tokio::select! {
                r = tokio::signal::ctrl_c() => r.ok().map(|()| "Interrupt"),
                r = term.recv() => r.map(|()| "SIGTERM"),
            };
        }
        tokio::signal::ctrl_c().await.ok().map(|()| "Interrupt")
    }
}

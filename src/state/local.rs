//! The local backend: one directory (`<stack>/.gantry/`, or `<stack>/.gantry/sim/` under
//! `--sim`) holding `state.json`, `state.json.backup`, `journal.ndjson` and `state.lock`.
//!
//! Writers take an exclusive OS lock on `state.lock` ([`std::fs::File::try_lock`], released by
//! the OS when the process dies) and record who they are in it. Every write of a state file
//! is atomic: a temporary file in the same directory is written and fsync'd, renamed over the
//! target, and the directory is fsync'd. A state file that does not parse is never
//! overwritten.

// `File::try_lock` and `File::unlock` are stable since Rust 1.89 (the toolchain is 1.95);
// the workspace `rust-version` still says 1.85 and needs raising to 1.89.
#![allow(clippy::incompatible_msrv)]

use super::encryption::Codec;
use super::error::StateError;
use super::model::State;
use super::remote::RemoteSession;
use serde::{Deserialize, Serialize};
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

/// The state file.
pub const STATE_FILE: &str = "state.json";
/// The state file as it was before the last write.
pub const BACKUP_FILE: &str = "state.json.backup";
/// The journal of operations not yet compacted into `state.json`.
pub const JOURNAL_FILE: &str = "journal.ndjson";
/// The lock file.
pub const LOCK_FILE: &str = "state.lock";

/// How often a waiting [`LocalBackend::lock`] retries.
const LOCK_POLL: Duration = Duration::from_millis(50);

/// Who holds a lock, recorded as JSON in `state.lock` while it is held.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockInfo {
    /// A UUID naming this lock; `gantry force-unlock` takes it.
    pub id: String,
    /// The command that took it: `apply`, `state rm`, ...
    pub operation: String,
    /// `user@host`.
    pub who: String,
    /// The process id of the holder.
    pub pid: u32,
    /// When it was taken, RFC 3339 in UTC: `2025-06-01T12:00:00Z`.
    pub created: String,
}

impl LockInfo {
    /// Information for a lock taken now by this process for `operation`.
    pub fn new(operation: &str) -> LockInfo {
        LockInfo {
            id: uuid::Uuid::new_v4().to_string(),
            operation: operation.to_owned(),
            who: format!("{}@{}", user_name(), host_name()),
            pid: std::process::id(),
            created: rfc3339(SystemTime::now()),
        }
    }

    /// Placeholder for a holder that has not (yet) written its information.
    pub(crate) fn unknown() -> LockInfo {
        LockInfo {
            id: String::new(),
            operation: String::new(),
            who: String::new(),
            pid: 0,
            created: String::new(),
        }
    }
}

/// A state directory on the local file system.
#[derive(Debug, Clone)]
pub struct LocalBackend {
    dir: PathBuf,
    codec: Arc<Codec>,
}

impl LocalBackend {
    /// A backend in `dir`; nothing is touched until it is used.
    pub fn new(dir: impl Into<PathBuf>) -> LocalBackend {
        LocalBackend {
            dir: dir.into(),
            codec: Codec::none(),
        }
    }

    /// State and journal written and read through `codec` (encryption).
    pub fn with_codec(mut self, codec: Arc<Codec>) -> LocalBackend {
        self.codec = codec;
        self
    }

    /// The backend directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Reads `state.json` without locking (writes are atomic renames, so a reader always
    /// sees a whole file). `None` when there is no state yet.
    pub fn read_state(&self) -> Result<Option<State>, StateError> {
        load_state_file_with(&self.dir.join(STATE_FILE), &self.codec)
    }

    /// Takes the exclusive state lock, creating the directory (mode 0700) if needed.
    ///
    /// If another process holds it, fails at once with [`StateError::Locked`] when `wait`
    /// is zero, and otherwise retries until `wait` has passed, then fails with
    /// [`StateError::LockTimeout`]. This blocks the calling thread; async callers should use
    /// `spawn_blocking` for a non-zero `wait`.
    pub fn lock(&self, info: LockInfo, wait: Duration) -> Result<StateLock, StateError> {
        create_dir_private(&self.dir)?;
        let path = self.dir.join(LOCK_FILE);
        let mut file = open_private(
            OpenOptions::new().read(true).write(true).create(true),
            &path,
        )
        .map_err(|e| StateError::io("open", &path, e))?;
        let start = Instant::now();
        loop {
            match file.try_lock() {
                Ok(()) => break,
                Err(TryLockError::WouldBlock) => {
                    let waited = start.elapsed();
                    if waited >= wait {
                        let holder = read_holder(&path);
                        return Err(if wait.is_zero() {
                            StateError::Locked { holder }
                        } else {
                            StateError::LockTimeout { holder, waited }
                        });
                    }
                    std::thread::sleep(LOCK_POLL.min(wait - waited));
                }
                Err(TryLockError::Error(e)) => return Err(StateError::io("lock", &path, e)),
            }
        }
        let json = serde_json::to_vec_pretty(&info).map_err(StateError::Encode)?;
        file.set_len(0)
            .and_then(|()| file.seek(SeekFrom::Start(0)))
            .and_then(|_| file.write_all(&json))
            .map_err(|e| StateError::io("write", &path, e))?;
        Ok(StateLock {
            inner: Arc::new(LockInner {
                file,
                dir: self.dir.clone(),
                info,
                journal_open: AtomicBool::new(false),
                remote: None,
                codec: Arc::clone(&self.codec),
            }),
        })
    }

    /// See [`force_unlock`].
    pub fn force_unlock(&self, id: &str) -> Result<LockInfo, StateError> {
        force_unlock(&self.dir, id)
    }
}

/// Clears a lock left behind in `dir`, returning what it recorded.
///
/// Refuses with [`StateError::LockIdMismatch`] when `id` is not the recorded lock id, with
/// [`StateError::LockHeld`] when a running process still holds the lock, and with
/// [`StateError::NotLocked`] when no lock is recorded.
pub fn force_unlock(dir: &Path, id: &str) -> Result<LockInfo, StateError> {
    let path = dir.join(LOCK_FILE);
    let mut file = match OpenOptions::new().read(true).write(true).open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            return Err(StateError::NotLocked {
                dir: dir.to_path_buf(),
            })
        }
        Err(e) => return Err(StateError::io("open", &path, e)),
    };
    let held = match file.try_lock() {
        Ok(()) => false,
        Err(TryLockError::WouldBlock) => true,
        Err(TryLockError::Error(e)) => return Err(StateError::io("lock", &path, e)),
    };
    let recorded = if held {
        Some(read_holder(&path)).filter(|h| !h.id.is_empty())
    } else {
        read_info(&mut file, &path)?
    };
    let Some(holder) = recorded else {
        return Err(if held {
            StateError::LockHeld {
                holder: LockInfo::unknown(),
            }
        } else {
            StateError::NotLocked {
                dir: dir.to_path_buf(),
            }
        });
    };
    if holder.id != id {
        return Err(StateError::LockIdMismatch {
            given: id.to_owned(),
            holder,
        });
    }
    if held {
        return Err(StateError::LockHeld { holder });
    }
    file.set_len(0)
        .and_then(|()| file.sync_all())
        .map_err(|e| StateError::io("clear", &path, e))?;
    Ok(holder)
}

/// An acquired state lock. Released (and its information cleared) when this value and
/// every [`Journal`](super::Journal) opened from it are dropped.
#[derive(Debug)]
pub struct StateLock {
    pub(crate) inner: Arc<LockInner>,
}

/// The lock file handle and what the lock protects; shared with an open journal so the lock
/// outlives the journal writer.
#[derive(Debug)]
pub(crate) struct LockInner {
    file: File,
    pub(crate) dir: PathBuf,
    info: LockInfo,
    /// Whether a journal writer is running under this lock.
    pub(crate) journal_open: AtomicBool,
    /// With a remote backend, this directory is the run's working copy and every write is
    /// forwarded there ([`super::remote`]).
    pub(crate) remote: Option<Arc<RemoteSession>>,
    /// How state and journal are sealed and opened.
    pub(crate) codec: Arc<Codec>,
}

impl Drop for LockInner {
    fn drop(&mut self) {
        // Clear the information before the OS lock goes, so no one sees a stale holder.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

impl StateLock {
    /// What this lock recorded about its holder.
    pub fn info(&self) -> &LockInfo {
        &self.inner.info
    }

    /// The backend directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    /// Reads `state.json`; `None` when there is no state yet.
    pub fn read_state(&self) -> Result<Option<State>, StateError> {
        load_state_file_with(&self.inner.dir.join(STATE_FILE), &self.inner.codec)
    }

    /// Makes this lock's directory the working copy of a locked remote backend: later
    /// writes of state and journal are forwarded to it. Only before any journal is open.
    pub fn attach_remote(mut self, session: RemoteSession) -> StateLock {
        if let Some(inner) = Arc::get_mut(&mut self.inner) {
            inner.remote = Some(Arc::new(session));
        }
        self
    }

    /// The remote backend this lock's directory mirrors, if any.
    pub fn remote(&self) -> Option<&Arc<RemoteSession>> {
        self.inner.remote.as_ref()
    }

    /// Writes `state` as `state.json`, atomically, after saving the current file as
    /// `state.json.backup`. Returns the serial written: one more than the current file's, or
    /// `state.serial` if that is higher (at least 1).
    ///
    /// Refuses to overwrite a `state.json` that does not parse, and refuses while a journal
    /// exists (its records would be replayed onto the new file).
    pub fn write_state(&self, state: &State) -> Result<u64, StateError> {
        let dir = &self.inner.dir;
        let journal = dir.join(JOURNAL_FILE);
        if self
            .inner
            .journal_open
            .load(std::sync::atomic::Ordering::SeqCst)
            || journal.exists()
        {
            return Err(StateError::JournalPending { path: journal });
        }
        let path = dir.join(STATE_FILE);
        let old = read_optional(&path)?;
        let floor = match &old {
            Some(bytes) => State::from_json(&self.inner.codec.open_state(bytes, &path)?, &path)?
                .serial
                .saturating_add(1),
            None => 1,
        };
        let mut new = state.clone();
        new.serial = state.serial.max(floor);
        let bytes = self
            .inner
            .codec
            .seal_state(new.to_json_pretty()?, &new.lineage, new.serial)?;
        if let Some(remote) = &self.inner.remote {
            // The remote copy is the truth: only once it holds the new state does the
            // working copy follow.
            remote.push_state(&bytes)?;
        }
        persist_state(dir, old.as_deref(), &bytes)?;
        Ok(new.serial)
    }
}

/// Reads and validates a plain state file; `None` if it does not exist.
#[cfg(test)]
pub(crate) fn load_state_file(path: &Path) -> Result<Option<State>, StateError> {
    load_state_file_with(path, &Codec::default())
}

/// Reads, opens (decrypts) and validates a state file; `None` if it does not exist.
pub(crate) fn load_state_file_with(
    path: &Path,
    codec: &Codec,
) -> Result<Option<State>, StateError> {
    match read_optional(path)? {
        Some(bytes) => State::from_json(&codec.open_state(&bytes, path)?, path).map(Some),
        None => Ok(None),
    }
}

/// The bytes of `path`, `None` if it does not exist.
pub(crate) fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, StateError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StateError::io("read", path, e)),
    }
}

/// Saves `old` (the current `state.json`, if any) as the backup, then writes `new` as
/// `state.json`, each atomically.
pub(crate) fn persist_state(dir: &Path, old: Option<&[u8]>, new: &[u8]) -> Result<(), StateError> {
    if let Some(old) = old {
        write_atomic(dir, BACKUP_FILE, old)?;
    }
    write_atomic(dir, STATE_FILE, new)
}

/// Writes `dir/name` atomically with mode 0600: temporary file, fsync, rename, fsync dir.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), StateError> {
    let tmp = dir.join(format!(".{name}.tmp"));
    let target = dir.join(name);
    remove_if_exists(&tmp)?;
    let result = (|| {
        let mut file = open_private(OpenOptions::new().write(true).create_new(true), &tmp)
            .map_err(|e| StateError::io("create", &tmp, e))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| StateError::io("write", &tmp, e))?;
        fs::rename(&tmp, &target).map_err(|e| StateError::io("rename into place", &target, e))
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result?;
    sync_dir(dir)
}

/// Makes a rename, creation or removal in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), StateError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| StateError::io("fsync directory", dir, e))
}

/// Removes `path`, succeeding if it is already gone.
pub(crate) fn remove_if_exists(path: &Path) -> Result<(), StateError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StateError::io("remove", path, e)),
    }
}

/// Opens with mode 0600 for files it creates.
pub(crate) fn open_private(options: &mut OpenOptions, path: &Path) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

/// Creates `dir` and missing parents with mode 0700; an existing directory is left as is.
pub(crate) fn create_dir_private(dir: &Path) -> Result<(), StateError> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| StateError::io("create directory", dir, e))
}

/// The lock information in an open lock file; `None` when it is empty.
fn read_info(file: &mut File, path: &Path) -> Result<Option<LockInfo>, StateError> {
    let mut text = String::new();
    file.seek(SeekFrom::Start(0))
        .and_then(|_| file.read_to_string(&mut text))
        .map_err(|e| StateError::io("read", path, e))?;
    if text.trim().is_empty() {
        return Ok(None);
    }
    serde_json::from_str(&text)
        .map(Some)
        .map_err(|e| StateError::Corrupt {
            path: path.to_path_buf(),
            line: e.line(),
            column: e.column(),
            message: format!("unreadable lock information: {e}"),
        })
}

/// The holder recorded in a lock file held by someone else. The holder writes it just after
/// acquiring, so an empty file is retried briefly before giving up.
fn read_holder(path: &Path) -> LockInfo {
    for _ in 0..20 {
        if let Ok(text) = fs::read_to_string(path) {
            if let Ok(info) = serde_json::from_str::<LockInfo>(&text) {
                return info;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    LockInfo::unknown()
}

fn user_name() -> String {
    ["USER", "LOGNAME", "USERNAME"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "unknown".into())
}

fn host_name() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .find_map(|p| {
            fs::read_to_string(p)
                .ok()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
        })
        .or_else(|| std::env::var("HOSTNAME").ok().filter(|v| !v.is_empty()))
        .unwrap_or_else(|| "localhost".into())
}

/// When a lock was taken, as written in the lock file.
pub(crate) fn rfc3339(t: SystemTime) -> String {
    gantry_provider::time::rfc3339_at(t)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::state::model::tests::resource;
    use std::time::UNIX_EPOCH;

    fn snapshot(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[cfg(unix)]
    fn mode(path: &Path) -> u32 {
        use std::os::unix::fs::PermissionsExt;
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn lock(backend: &LocalBackend) -> StateLock {
        backend.lock(LockInfo::new("test"), Duration::ZERO).unwrap()
    }

    #[test]
    fn rfc3339_by_hand() {
        let at = |s: u64| rfc3339(UNIX_EPOCH + Duration::from_secs(s));
        assert_eq!(at(0), "1970-01-01T00:00:00Z");
        assert_eq!(at(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(at(1_709_210_096), "2024-02-29T12:34:56Z");
        assert_eq!(at(4_102_444_799), "2099-12-31T23:59:59Z");
    }

    #[test]
    fn lock_info_describes_this_process() {
        let info = LockInfo::new("apply");
        assert_eq!(info.pid, std::process::id());
        assert!(info.who.contains('@'));
        assert_eq!(info.operation, "apply");
        assert!(uuid::Uuid::parse_str(&info.id).is_ok());
        assert_eq!(info.created.len(), "2025-01-01T00:00:00Z".len());
    }

    #[test]
    fn write_then_read_round_trips_with_private_modes_and_no_temp_files() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("stack/.gantry/sim");
        let backend = LocalBackend::new(&dir);
        assert!(backend.read_state().unwrap().is_none());
        let lock = lock(&backend);
        #[cfg(unix)]
        {
            assert_eq!(mode(&dir), 0o700);
            assert_eq!(mode(&tmp.path().join("stack/.gantry")), 0o700);
        }
        let mut state = State::new();
        state.upsert_resource(resource("aws_vpc.a"));
        assert_eq!(lock.write_state(&state).unwrap(), 1);
        let read = lock.read_state().unwrap().unwrap();
        assert_eq!(read.serial, 1);
        assert_eq!(read.resources, state.resources);
        assert_eq!(read.lineage, state.lineage);
        assert_eq!(snapshot(&dir), vec![STATE_FILE, LOCK_FILE]);
        #[cfg(unix)]
        assert_eq!(mode(&dir.join(STATE_FILE)), 0o600);

        state.upsert_resource(resource("aws_vpc.b"));
        state.serial = read.serial;
        assert_eq!(lock.write_state(&state).unwrap(), 2);
        assert_eq!(snapshot(&dir), vec![STATE_FILE, BACKUP_FILE, LOCK_FILE]);
        let backup = load_state_file(&dir.join(BACKUP_FILE)).unwrap().unwrap();
        assert_eq!(backup.serial, 1);
        assert_eq!(backup.resources.len(), 1);
        #[cfg(unix)]
        assert_eq!(mode(&dir.join(BACKUP_FILE)), 0o600);
        assert_eq!(backend.read_state().unwrap().unwrap().serial, 2);
    }

    #[test]
    fn write_never_lowers_the_serial() {
        let tmp = tempfile::tempdir().unwrap();
        let backend = LocalBackend::new(tmp.path());
        let lock = lock(&backend);
        let mut state = State::new();
        state.serial = 10;
        assert_eq!(lock.write_state(&state).unwrap(), 10);
        state.serial = 3;
        assert_eq!(lock.write_state(&state).unwrap(), 11);
    }

    #[test]
    fn bad_state_files_are_reported_and_never_overwritten() {
        let mut future = serde_json::to_value(State::new()).unwrap();
        future["version"] = serde_json::json!(99);
        let mut missing = serde_json::to_value(State::new()).unwrap();
        missing.as_object_mut().unwrap().remove("serial");
        let full = State::new().to_json_pretty().unwrap();
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("truncated", full[..full.len() - 20].to_vec()),
            ("invalid", b"{ \"version\": 1, ]".to_vec()),
            ("future", future.to_string().into_bytes()),
            ("missing", missing.to_string().into_bytes()),
        ];
        for (name, bytes) in cases {
            let tmp = tempfile::tempdir().unwrap();
            let backend = LocalBackend::new(tmp.path());
            let path = tmp.path().join(STATE_FILE);
            fs::write(&path, &bytes).unwrap();
            let err = backend.read_state().unwrap_err();
            match name {
                "future" => assert!(
                    matches!(err, StateError::FutureVersion { found: 99, .. }),
                    "{name}: {err:?}"
                ),
                _ => assert!(matches!(err, StateError::Corrupt { .. }), "{name}: {err:?}"),
            }
            let lock = lock(&backend);
            assert!(lock.read_state().is_err(), "{name}");
            let err = lock.write_state(&State::new()).unwrap_err();
            assert!(
                matches!(
                    err,
                    StateError::Corrupt { .. } | StateError::FutureVersion { .. }
                ),
                "{name}: {err:?}"
            );
            assert!(lock.open_journal().is_err(), "{name}");
            assert_eq!(fs::read(&path).unwrap(), bytes, "{name}: file changed");
            assert!(!tmp.path().join(BACKUP_FILE).exists(), "{name}");
            assert!(!tmp.path().join(JOURNAL_FILE).exists(), "{name}");
        }
    }

    #[test]
    fn second_lock_fails_fast_with_holder_information() {
        let tmp = tempfile::tempdir().unwrap();
        let backend = LocalBackend::new(tmp.path());
        let first = backend
            .lock(LockInfo::new("apply"), Duration::ZERO)
            .unwrap();
        let start = Instant::now();
        let err = backend
            .lock(LockInfo::new("plan"), Duration::ZERO)
            .unwrap_err();
        assert!(start.elapsed() < Duration::from_secs(1));
        let StateError::Locked { holder } = &err else {
            panic!("expected Locked, got {err:?}");
        };
        assert_eq!(holder, first.info());
        let text = err.to_string();
        assert!(text.contains(&first.info().who), "{text}");
        assert!(text.contains(&first.info().created), "{text}");
        assert!(text.contains("`apply`"), "{text}");
        assert!(
            text.contains(&format!("gantry force-unlock {}", first.info().id)),
            "{text}"
        );
        drop(first);
        assert_eq!(fs::read(tmp.path().join(LOCK_FILE)).unwrap(), b"");
        let again = lock(&backend);
        assert_eq!(again.info().operation, "test");
    }

    #[test]
    fn waiting_lock_succeeds_after_release_and_times_out_otherwise() {
        let tmp = tempfile::tempdir().unwrap();
        let backend = LocalBackend::new(tmp.path());
        let first = lock(&backend);
        let err = backend
            .lock(LockInfo::new("plan"), Duration::from_millis(120))
            .unwrap_err();
        assert!(
            matches!(&err, StateError::LockTimeout { holder, waited } if holder.id == first.info().id && *waited >= Duration::from_millis(120)),
            "{err:?}"
        );
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(150));
            drop(first);
        });
        let start = Instant::now();
        let second = backend
            .lock(LockInfo::new("plan"), Duration::from_secs(10))
            .unwrap();
        assert!(start.elapsed() >= Duration::from_millis(100));
        assert_eq!(second.info().operation, "plan");
        releaser.join().unwrap();
    }

    #[test]
    fn force_unlock_rules() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        assert!(matches!(
            force_unlock(dir, "x"),
            Err(StateError::NotLocked { .. })
        ));
        let held = lock(&LocalBackend::new(dir));
        let id = held.info().id.clone();
        // Held by a live process: refused, even with the right id.
        let err = force_unlock(dir, &id).unwrap_err();
        assert!(
            matches!(&err, StateError::LockHeld { holder } if holder.id == id),
            "{err:?}"
        );
        assert!(err.to_string().contains("running process"));
        let err = force_unlock(dir, "wrong").unwrap_err();
        assert!(matches!(err, StateError::LockIdMismatch { .. }), "{err:?}");
        drop(held);
        assert!(matches!(
            force_unlock(dir, &id),
            Err(StateError::NotLocked { .. })
        ));
        // A stale record left by a process that died (the OS released its lock).
        let stale = LockInfo::new("apply");
        fs::write(dir.join(LOCK_FILE), serde_json::to_vec(&stale).unwrap()).unwrap();
        let err = force_unlock(dir, "wrong").unwrap_err();
        assert!(
            matches!(&err, StateError::LockIdMismatch { given, holder } if given == "wrong" && holder.id == stale.id),
            "{err:?}"
        );
        assert!(!fs::read(dir.join(LOCK_FILE)).unwrap().is_empty());
        assert_eq!(force_unlock(dir, &stale.id).unwrap(), stale);
        assert_eq!(fs::read(dir.join(LOCK_FILE)).unwrap(), b"");
        // A stale record does not block a new lock either.
        fs::write(dir.join(LOCK_FILE), serde_json::to_vec(&stale).unwrap()).unwrap();
        let fresh = lock(&LocalBackend::new(dir));
        let recorded: LockInfo =
            serde_json::from_slice(&fs::read(dir.join(LOCK_FILE)).unwrap()).unwrap();
        assert_eq!(&recorded, fresh.info());
    }
}

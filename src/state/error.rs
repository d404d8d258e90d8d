//! [`StateError`]: every way reading, writing, locking or journaling state can fail.
//!
//! Messages are lowercase, name the file involved and end with a hint where one is obvious,
//! so the CLI can print them as they are.

use super::local::LockInfo;
use std::fmt;
use std::io;
use std::path::PathBuf;
use std::time::Duration;

/// An error from the state layer.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// A file-system operation on a state file failed.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        /// What was being done, as a verb phrase: "read", "rename", "fsync".
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// A state or journal file is not valid: bad JSON, a truncated file, a missing field, or a
    /// journal that does not belong to the state next to it. The file is left untouched.
    #[error(
        "{}{}: {message}\nhint: gantry left the file as it is; repair it by hand, or restore the previous state from `state.json.backup`",
        path.display(),
        Position(*line, *column)
    )]
    Corrupt {
        /// The offending file.
        path: PathBuf,
        /// 1-based line of the problem, 0 when not known.
        line: usize,
        /// 1-based column of the problem, 0 when not known.
        column: usize,
        /// What is wrong.
        message: String,
    },

    /// The state file was written by a newer gantry with a format this one does not know.
    #[error(
        "{} uses state format version {found}, but this gantry supports up to version {supported}\nhint: upgrade gantry; the file was not modified",
        path.display()
    )]
    FutureVersion {
        /// The state file.
        path: PathBuf,
        /// The version found in the file.
        found: u64,
        /// The newest version this build understands.
        supported: u32,
    },

    /// The state is locked by another process and the caller did not want to wait.
    #[error("state is locked: {}{}", HolderText(holder), ForceUnlockHint(holder))]
    Locked {
        /// Who holds the lock, as recorded in `state.lock`.
        holder: LockInfo,
    },

    /// The state stayed locked by another process for the whole wait.
    #[error(
        "timed out after {waited:?} waiting for the state lock: {}{}",
        HolderText(holder),
        ForceUnlockHint(holder)
    )]
    LockTimeout {
        /// Who holds the lock, as recorded in `state.lock`.
        holder: LockInfo,
        /// How long the caller waited.
        waited: Duration,
    },

    /// `force-unlock` refused: the lock is held by a process that is still running.
    #[error(
        "refusing to force-unlock: the lock is held by a running process: {}\nhint: wait for it to finish or stop it; force-unlock is only for locks left by a process that is gone",
        HolderText(holder)
    )]
    LockHeld {
        /// The live holder.
        holder: LockInfo,
    },

    /// `force-unlock` was given a lock id that is not the one in the lock file.
    #[error(
        "lock id `{given}` does not match the current lock `{}` ({})\nhint: copy the id from the lock error message",
        holder.id,
        HolderText(holder)
    )]
    LockIdMismatch {
        /// The id the user gave.
        given: String,
        /// The lock actually recorded.
        holder: LockInfo,
    },

    /// `force-unlock` found no lock to remove.
    #[error("the state in {} is not locked; nothing to unlock", dir.display())]
    NotLocked {
        /// The backend directory.
        dir: PathBuf,
    },

    /// A journal from an interrupted run exists, so writing state.json directly would lose or
    /// contradict what it records.
    #[error(
        "{} holds operations from an interrupted run that are not in state.json yet\nhint: run `gantry apply` or `gantry refresh` first so gantry recovers them",
        path.display()
    )]
    JournalPending {
        /// The journal file.
        path: PathBuf,
    },

    /// A journal is already open on this lock; only one writer may exist.
    #[error("a journal is already open for {}", dir.display())]
    JournalAlreadyOpen {
        /// The backend directory.
        dir: PathBuf,
    },

    /// The journal was committed or failed and accepts no more records.
    #[error("the state journal is closed: {reason}")]
    JournalClosed {
        /// Why it closed.
        reason: String,
    },

    /// An address given to a state command is not in state.
    #[error(
        "no resource `{address}` in state\nhint: `gantry state list` shows the addresses in state"
    )]
    ResourceNotFound {
        /// The address asked for.
        address: String,
    },

    /// The destination of a move is already in state.
    #[error("`{address}` already exists in state\nhint: remove it first with `gantry state rm {address}` or choose another address")]
    AddressExists {
        /// The existing address.
        address: String,
    },

    /// A move that cannot be done, such as one between resource types.
    #[error("cannot move `{from}` to `{to}`: {reason}")]
    InvalidMove {
        /// The source address.
        from: String,
        /// The destination address.
        to: String,
        /// Why not.
        reason: String,
    },

    /// A pushed state belongs to another stack history.
    #[error("the pushed state has lineage {incoming}, but the current state has lineage {current}: they are different stacks\nhint: use --force to replace it anyway")]
    LineageMismatch {
        /// The lineage of the state in the backend.
        current: String,
        /// The lineage of the pushed state.
        incoming: String,
    },

    /// A pushed state is not newer than the current one.
    #[error("the pushed state has serial {incoming}, which is not newer than the current serial {current}\nhint: pull the current state and apply your change to it, or use --force")]
    StaleSerial {
        /// The serial of the state in the backend.
        current: u64,
        /// The serial of the pushed state.
        incoming: u64,
    },

    /// A remote backend's store failed or answered something gantry cannot use.
    #[error("state backend {location}: {message}")]
    Remote {
        /// Where the state is: `s3://bucket/key`.
        location: String,
        /// What went wrong.
        message: String,
    },

    /// A remote backend's lock is held by another run.
    #[error(
        "state is locked in {location}{}: {}{}{}",
        Waited(*waited),
        HolderText(holder),
        HeartbeatText(*heartbeat_age, *stale_after),
        RemoteLockHint(holder, *stale_after)
    )]
    RemoteLocked {
        location: String,
        /// Who holds it, as its lock object records.
        holder: LockInfo,
        /// How long ago the holder's heartbeat was, by this machine's clock.
        heartbeat_age: Option<Duration>,
        /// After how long without a heartbeat the holder counts as gone.
        stale_after: Duration,
        /// How long this run waited (`--lock-timeout`), if at all.
        waited: Option<Duration>,
    },

    /// This run's lock on a remote backend was taken over or could not be kept.
    #[error("this run lost the state lock on {location}: {reason}\nhint: nothing more is written; run the command again (the next run recovers what this one recorded)")]
    LockLost { location: String, reason: String },

    /// Encrypted state, journal or plan that cannot be opened, or plain data the encryption
    /// configuration refuses. The file is left as it is.
    #[error("{}: {message}\nhint: the file was left as it is", path.display())]
    Encryption { path: PathBuf, message: String },

    /// The key state is sealed with could not be had before a command that writes started
    /// (a cloud key provider that refused or could not be reached). Nothing was changed.
    #[error("cannot encrypt state with `{provider}`: {message}\nhint: nothing was planned or changed; fix the key provider (or its credentials) and run the command again")]
    EncryptionKey { provider: String, message: String },

    /// The journal could not be copied to the remote backend, so the records it holds were
    /// not acknowledged (and the creates they announce were not sent).
    #[error("could not copy the state journal to the state backend: {message}")]
    JournalCopy { message: String },

    /// A fenced state write found a newer state than the one this run read.
    #[error("refusing to overwrite the state in {location}: it changed since this run read it (another run took the lock)\nhint: run the command again; it starts from the newer state")]
    Fenced { location: String },

    /// Encoding state as JSON failed (not expected for valid values).
    #[error("could not encode state as JSON: {0}")]
    Encode(#[source] serde_json::Error),
}

impl StateError {
    /// An I/O error with the action and path it concerns.
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        StateError::Io {
            action,
            path: path.into(),
            source,
        }
    }
}

/// ` (line L, column C)` or nothing when unknown.
struct Position(usize, usize);

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0, self.1) {
            (0, _) => Ok(()),
            (line, 0) => write!(f, ":{line}"),
            (line, column) => write!(f, ":{line}:{column}"),
        }
    }
}

/// "held by ... since ..., lock id ...".
struct HolderText<'a>(&'a LockInfo);

impl fmt::Display for HolderText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = self.0;
        if h.id.is_empty() {
            return f.write_str("the holder did not record who it is");
        }
        write!(
            f,
            "held by {} (pid {}) for `{}` since {}, lock id {}",
            h.who, h.pid, h.operation, h.created, h.id
        )
    }
}

/// ` after waiting 30s`, when the run waited.
struct Waited(Option<Duration>);

impl fmt::Display for Waited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(w) => write!(f, " (waited {:.0?})", w),
            None => Ok(()),
        }
    }
}

/// `; last heartbeat 3s ago`.
struct HeartbeatText(Option<Duration>, Duration);

impl fmt::Display for HeartbeatText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Some(age) if age >= self.1 => write!(
                f,
                "; its heartbeat stopped {}s ago, so its runner is probably gone",
                age.as_secs()
            ),
            Some(age) => write!(f, "; last heartbeat {}s ago (alive)", age.as_secs()),
            None => Ok(()),
        }
    }
}

/// What to do about a remote lock.
struct RemoteLockHint<'a>(&'a LockInfo, Duration);

impl fmt::Display for RemoteLockHint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "\nhint: wait with `--lock-timeout` (a lock whose heartbeat stops for {}s is taken over)",
            self.1.as_secs()
        )?;
        if !self.0.id.is_empty() {
            write!(
                f,
                ", or if its runner is gone, `gantry force-unlock {}`",
                self.0.id
            )?;
        }
        Ok(())
    }
}

/// The force-unlock hint, when the holder's id is known.
struct ForceUnlockHint<'a>(&'a LockInfo);

impl fmt::Display for ForceUnlockHint<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.id.is_empty() {
            return Ok(());
        }
        write!(
            f,
            "\nhint: if that process is gone, run `gantry force-unlock {}`",
            self.0.id
        )
    }
}

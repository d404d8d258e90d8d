//! A group-committed, append-only log of opaque lines, compacted into a snapshot: the one
//! durability mechanism behind gantry's state journal (`journal.ndjson` + `state.json`)
//! and the simulated cloud's world (`world.ndjson` + `world.json`).
//!
//! **What it owns.** One writer thread per [`GroupLog`] is the only code that touches the
//! log file, the snapshot and the backup. Callers on any thread or task queue lines with
//! [`GroupLog::append`], which returns a [`Ticket`] at once; the writer takes everything
//! queued, writes it with one `write`, fsyncs once and publishes how far the log is
//! durable, and [`GroupLog::wait`] returns once the caller's ticket is. Hundreds of
//! concurrent callers thus share a few fsyncs. Callers that are about to append can
//! [`announce`](GroupLog::announce) it, and the writer then waits a moment for them (the
//! commit delay, as PostgreSQL's `commit_delay`). After a failed write the files may be in
//! any state, so the log refuses everything from then on and says why.
//!
//! [`GroupLog::compact`] is queued like a record: the writer makes the records before it
//! durable, replaces the snapshot atomically (optionally keeping the previous one as a
//! backup), then starts a new log holding the caller's carried lines. In that order a crash
//! between two steps leaves either the old snapshot with the whole log, or the new
//! snapshot with a log whose records it already holds, which the owner's replay must skip
//! or apply idempotently. [`LogContent`] reads a log back, tolerating what a crash leaves.
//!
//! **What it does not know.** Records are opaque lines; owners keep their in-memory
//! models, record types, headers and file names. The ordering contract that makes a
//! snapshot exact: an owner applies each record to its model and appends its line while
//! holding its own lock, then awaits the ticket after releasing it; a snapshot taken under
//! that lock and queued under it holds exactly the records queued before it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), gantry_grouplog::LogError> {
//! use gantry_grouplog::{Compaction, GroupLog, Options};
//! let log = GroupLog::open(Options::new("/tmp/world", "log.ndjson", "snapshot.json"), Vec::new())?;
//! let ticket = log.append(b"{\"seq\":1}\n".to_vec())?;
//! log.wait(ticket).await?;
//! let done = log.compact(Compaction::snapshot(b"{\"seq\":1}".to_vec()))?;
//! log.wait(done).await?;
//! # Ok(()) }
//! ```

mod error;
mod files;
mod log;
mod replay;
mod writer;

#[cfg(test)]
mod tests;

pub use crate::log::{Announced, GroupLog};
pub use error::LogError;
pub use files::read_optional;
pub use replay::{Line, LogContent};

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// A copy of the log kept somewhere else (a remote state backend). The writer thread calls
/// it after each local write and before acknowledging anything, so a record is reported
/// durable only once the mirror holds it too; an error fails the log like a failed write.
pub trait Mirror: Send + Sync {
    /// `bytes` were appended to the log; `starts_log` when they begin a new log file (the
    /// header is then their first line).
    fn appended(&self, bytes: &[u8], starts_log: bool) -> Result<(), String>;
    /// A compaction replaced the snapshot (when `snapshot` is `Some`) and started a new log
    /// holding `log` (header and carried lines), or no log at all (`None`).
    fn compacted(&self, snapshot: Option<&[u8]>, log: Option<&[u8]>) -> Result<(), String>;
}

/// The longest the writer waits for announced appends before writing a batch, unless
/// configured otherwise.
pub const DEFAULT_COMMIT_DELAY: Duration = Duration::from_millis(2);

/// A position in the log: every message queued up to it (records, compactions, the close)
/// is done once [`GroupLog::wait`] for it returns `Ok`. Tickets grow in queue order.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Ticket(pub(crate) u64);

/// Where a log lives and how it behaves; see the builder methods.
#[derive(Clone)]
pub struct Options {
    pub(crate) dir: PathBuf,
    pub(crate) log_file: String,
    pub(crate) snapshot_file: String,
    pub(crate) backup_file: Option<String>,
    pub(crate) remove_empty_log: bool,
    pub(crate) commit_delay: Duration,
    pub(crate) thread_name: String,
    pub(crate) mirror: Option<Arc<dyn Mirror>>,
}

impl std::fmt::Debug for Options {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Options")
            .field("dir", &self.dir)
            .field("log_file", &self.log_file)
            .field("snapshot_file", &self.snapshot_file)
            .field("mirrored", &self.mirror.is_some())
            .finish_non_exhaustive()
    }
}

impl Options {
    /// A log `dir/log_file` compacted into `dir/snapshot_file`; no backup, the log file
    /// always exists, [`DEFAULT_COMMIT_DELAY`].
    pub fn new(dir: impl Into<PathBuf>, log_file: &str, snapshot_file: &str) -> Options {
        Options {
            dir: dir.into(),
            log_file: log_file.to_owned(),
            snapshot_file: snapshot_file.to_owned(),
            backup_file: None,
            remove_empty_log: false,
            commit_delay: DEFAULT_COMMIT_DELAY,
            thread_name: "grouplog".to_owned(),
            mirror: None,
        }
    }

    /// Compactions that ask for it copy the current snapshot to `dir/name` first.
    pub fn backup_file(mut self, name: &str) -> Options {
        self.backup_file = Some(name.to_owned());
        self
    }

    /// A log without records is not kept on disk: compaction removes it, and the first
    /// record after creates it, starting with the header. (Otherwise the file always
    /// exists, holding at least the header.)
    pub fn remove_empty_log(mut self) -> Options {
        self.remove_empty_log = true;
        self
    }

    /// The longest the writer gathers announced appends before writing a batch.
    pub fn commit_delay(mut self, delay: Duration) -> Options {
        self.commit_delay = delay;
        self
    }

    /// The writer thread's name, as debuggers and panics show it.
    pub fn thread_name(mut self, name: &str) -> Options {
        self.thread_name = name.to_owned();
        self
    }

    /// Keeps a copy of every write in `mirror`; see [`Mirror`].
    pub fn mirror(mut self, mirror: Arc<dyn Mirror>) -> Options {
        self.mirror = Some(mirror);
        self
    }

    /// The log file.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join(&self.log_file)
    }

    /// The directory of the files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }
}

/// What a compaction writes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Compaction {
    /// The new snapshot file, holding every record queued before the compaction; `None`
    /// only restarts the log (e.g. to remove a log whose records are all in the snapshot).
    pub snapshot: Option<Vec<u8>>,
    /// Copy the current snapshot file (if any) to the backup file first.
    pub keep_backup: bool,
    /// What the new log, and any log re-created after it, starts with (e.g. a line naming
    /// the snapshot it continues); whole lines.
    pub header: Vec<u8>,
    /// Lines the new log holds after the header: records still needed after the snapshot.
    pub carried: Vec<u8>,
}

impl Compaction {
    /// A compaction into `snapshot`, with no backup, header or carried lines.
    pub fn snapshot(snapshot: Vec<u8>) -> Compaction {
        Compaction {
            snapshot: Some(snapshot),
            ..Compaction::default()
        }
    }
}

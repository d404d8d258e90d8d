//! The writer thread: the only code that touches the log, the snapshot and the backup.
//!
//! It takes every queued message (waiting up to the commit delay while appends are
//! announced), writes the lines of consecutive records with one `write` and one fsync,
//! and publishes the highest done ticket on a `watch` channel that every waiter watches.
//! A compaction or the close in the middle of a batch first makes the records before it
//! durable, so messages take effect exactly in queue order.

use crate::files::{open_private, read_optional, remove_if_exists, sync_dir, write_atomic};
use crate::{Compaction, LogError, Options};
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};
use tokio::sync::watch;

/// How long one wait for announced appends lasts at most; the commit delay bounds the sum.
const COMMIT_WAIT: Duration = Duration::from_micros(200);

/// A message to the writer; `ticket` numbers it in queue order.
pub(crate) enum Msg {
    Append { ticket: u64, line: Vec<u8> },
    Compact { ticket: u64, compaction: Compaction },
    Close { ticket: u64 },
}

/// Counters shared by the handle and the writer.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    pub(crate) fsyncs: AtomicU64,
    pub(crate) compactions: AtomicU64,
    /// Callers that announced an append; the writer waits a moment for them.
    pub(crate) announced: AtomicUsize,
}

/// What the writer has done, as every waiter sees it.
#[derive(Debug, Default)]
pub(crate) struct Progress {
    /// Every message up to this ticket is done.
    pub(crate) done: u64,
    /// Set once, by the first failed write; nothing is done after it.
    pub(crate) failure: Option<Arc<Failure>>,
}

#[derive(Debug)]
pub(crate) struct Failure {
    /// The last ticket of the failed write: its waiters get `error` itself.
    pub(crate) last: u64,
    pub(crate) error: LogError,
    /// What everything queued later is refused with.
    pub(crate) reason: String,
}

pub(crate) struct Writer {
    options: Options,
    path: PathBuf,
    /// The log, open for appending; `None` while it does not exist (see
    /// [`Options::remove_empty_log`]) and after the close or a failure.
    file: Option<File>,
    /// What the log starts with whenever it is created.
    header: Vec<u8>,
    counters: Arc<Counters>,
    progress: watch::Sender<Progress>,
    failed: bool,
}

/// Lines of consecutive records, written together.
#[derive(Default)]
struct Pending {
    bytes: Vec<u8>,
    last: Option<u64>,
}

impl Writer {
    pub(crate) fn new(
        options: Options,
        file: Option<File>,
        header: Vec<u8>,
        counters: Arc<Counters>,
        progress: watch::Sender<Progress>,
    ) -> Writer {
        Writer {
            path: options.log_path(),
            options,
            file,
            header,
            counters,
            progress,
            failed: false,
        }
    }

    pub(crate) fn run(mut self, rx: &mpsc::Receiver<Msg>) {
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            self.gather(rx, &mut batch);
            if !self.process(batch) {
                break;
            }
        }
    }

    /// Drains what is queued; while appends are announced, waits briefly for them.
    fn gather(&self, rx: &mpsc::Receiver<Msg>, batch: &mut Vec<Msg>) {
        let deadline = Instant::now() + self.options.commit_delay;
        loop {
            batch.extend(rx.try_iter());
            let now = Instant::now();
            if self.counters.announced.load(Ordering::Acquire) == 0 || now >= deadline {
                return;
            }
            match rx.recv_timeout((deadline - now).min(COMMIT_WAIT)) {
                Ok(msg) => batch.push(msg),
                Err(_) => return,
            }
        }
    }

    /// Handles a batch in order; `false` once the log is closed.
    fn process(&mut self, batch: Vec<Msg>) -> bool {
        let mut pending = Pending::default();
        for msg in batch {
            match msg {
                Msg::Append { ticket, line } => {
                    pending.bytes.extend_from_slice(&line);
                    pending.last = Some(ticket);
                }
                Msg::Compact { ticket, compaction } => {
                    self.commit(&mut pending);
                    self.compact(ticket, compaction);
                }
                Msg::Close { ticket } => {
                    self.commit(&mut pending);
                    self.file = None;
                    if !self.failed {
                        self.publish(ticket);
                    }
                    return false;
                }
            }
        }
        self.commit(&mut pending);
        true
    }

    /// Writes and fsyncs the pending lines, then publishes them as done.
    fn commit(&mut self, pending: &mut Pending) {
        let Some(last) = pending.last.take() else {
            return;
        };
        let bytes = std::mem::take(&mut pending.bytes);
        if self.failed {
            return;
        }
        match self.write(&bytes) {
            Ok(()) => {
                self.counters.fsyncs.fetch_add(1, Ordering::SeqCst);
                self.publish(last);
            }
            Err(e) => self.fail(last, e),
        }
    }

    fn write(&mut self, lines: &[u8]) -> Result<(), LogError> {
        if let Some(file) = &mut self.file {
            // fdatasync: the data and the file size, which is all an append changes.
            file.write_all(lines)
                .and_then(|()| file.sync_data())
                .map_err(|e| LogError::io("append to", &self.path, e))?;
            return self.mirror(|m| m.appended(lines, false));
        }
        let mut bytes = self.header.clone();
        bytes.extend_from_slice(lines);
        let path = &self.path;
        let mut file = open_private(
            OpenOptions::new().append(true).create(true).truncate(false),
            path,
        )
        .map_err(|e| LogError::io("create", path, e))?;
        // Not `truncate(true)`: a leftover file is cut here, where a failure is reported.
        file.set_len(0)
            .and_then(|()| file.write_all(&bytes))
            .and_then(|()| file.sync_all())
            .map_err(|e| LogError::io("write", path, e))?;
        sync_dir(&self.options.dir)?;
        self.file = Some(file);
        self.mirror(|m| m.appended(&bytes, true))
    }

    /// Hands a write that is durable locally to the mirror, if there is one.
    fn mirror(
        &self,
        call: impl FnOnce(&dyn crate::Mirror) -> Result<(), String>,
    ) -> Result<(), LogError> {
        match &self.options.mirror {
            Some(mirror) => call(mirror.as_ref()).map_err(|message| LogError::Mirror {
                target: self.path.display().to_string(),
                message,
            }),
            None => Ok(()),
        }
    }

    fn compact(&mut self, ticket: u64, compaction: Compaction) {
        if self.failed {
            return;
        }
        let wrote_snapshot = compaction.snapshot.is_some();
        match self.replace(compaction) {
            Ok(()) => {
                if wrote_snapshot {
                    self.counters.compactions.fetch_add(1, Ordering::SeqCst);
                }
                self.publish(ticket);
            }
            Err(e) => self.fail(ticket, e),
        }
    }

    /// Backup, snapshot, new log: in this order a crash between two steps loses nothing
    /// (see the crate docs).
    fn replace(&mut self, compaction: Compaction) -> Result<(), LogError> {
        let Options { dir, .. } = &self.options;
        if let Some(snapshot) = &compaction.snapshot {
            if let (true, Some(backup)) = (compaction.keep_backup, &self.options.backup_file) {
                let current = dir.join(&self.options.snapshot_file);
                if let Some(old) = read_optional(&current)? {
                    write_atomic(dir, backup, &old)?;
                }
            }
            write_atomic(dir, &self.options.snapshot_file, snapshot)?;
        }
        // The snapshot now holds every record of the old log: start the new one.
        self.file = None;
        self.header = compaction.header;
        if compaction.carried.is_empty() && self.options.remove_empty_log {
            remove_if_exists(&self.path)?;
            sync_dir(dir)?;
            return self.mirror(|m| m.compacted(compaction.snapshot.as_deref(), None));
        }
        let mut bytes = self.header.clone();
        bytes.extend_from_slice(&compaction.carried);
        self.file = Some(write_atomic(dir, &self.options.log_file, &bytes)?);
        self.mirror(|m| m.compacted(compaction.snapshot.as_deref(), Some(&bytes)))
    }

    fn publish(&self, ticket: u64) {
        self.progress.send_modify(|p| p.done = p.done.max(ticket));
    }

    /// Stops the log: the files may now be in any state, so nothing more is written.
    fn fail(&mut self, last: u64, error: LogError) {
        self.failed = true;
        self.file = None;
        let reason = format!("an earlier write failed: {error}");
        let failure = Arc::new(Failure {
            last,
            error,
            reason,
        });
        self.progress.send_modify(|p| p.failure = Some(failure));
    }
}

//! [`GroupLog`]: the handle callers queue records, compactions and the close through, and
//! wait on. Queueing is synchronous and cheap (it never touches the disk), so owners can do
//! it under their own lock; waiting is async and happens after they release it.

use crate::writer::{Counters, Msg, Progress, Writer};
use crate::{Compaction, LogError, Options, Ticket};
use std::fs::OpenOptions;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use tokio::sync::watch;

/// An open log and its writer thread. Dropping it lets the writer finish everything
/// queued, then joins it.
pub struct GroupLog {
    path: PathBuf,
    queue: Mutex<Queue>,
    progress: watch::Receiver<Progress>,
    counters: Arc<Counters>,
    writer: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for GroupLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GroupLog")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The sending side. Tickets are numbered under this lock, so their order is the order in
/// which the writer receives the messages.
struct Queue {
    last: u64,
    tx: Option<mpsc::Sender<Msg>>,
    closed: Option<String>,
}

/// Marks a caller that is about to append; the writer waits a moment for it (up to the
/// commit delay) so it joins the batch in progress. Dropping it withdraws the mark.
#[must_use = "the mark is withdrawn when this is dropped"]
pub struct Announced<'a>(&'a AtomicUsize);

impl Drop for Announced<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl GroupLog {
    /// Opens the log in `options`' directory for appending and starts the writer. An
    /// existing log file is appended to as it is (repair a torn one first, see
    /// [`LogContent::repair`](crate::LogContent::repair)); a missing one is created
    /// holding `header`, or, with [`Options::remove_empty_log`], when the first record
    /// comes.
    pub fn open(options: Options, header: Vec<u8>) -> Result<GroupLog, LogError> {
        let path = options.log_path();
        let file = match OpenOptions::new().append(true).open(&path) {
            Ok(file) => Some(file),
            Err(e) if e.kind() == io::ErrorKind::NotFound && options.remove_empty_log => None,
            Err(e) if e.kind() == io::ErrorKind::NotFound => Some(crate::files::write_atomic(
                &options.dir,
                &options.log_file,
                &header,
            )?),
            Err(e) => return Err(LogError::io("open", &path, e)),
        };
        let (tx, rx) = mpsc::channel();
        let (progress_tx, progress) = watch::channel(Progress::default());
        let counters = Arc::new(Counters::default());
        let name = options.thread_name.clone();
        let writer = Writer::new(options, file, header, Arc::clone(&counters), progress_tx);
        let handle = std::thread::Builder::new()
            .name(name)
            .spawn(move || writer.run(&rx))
            .map_err(|e| LogError::io("start the writer thread for", &path, e))?;
        Ok(GroupLog {
            path,
            queue: Mutex::new(Queue {
                last: 0,
                tx: Some(tx),
                closed: None,
            }),
            progress,
            counters,
            writer: Some(handle),
        })
    }

    /// Queues one record line (a trailing newline is added when missing; there must be no
    /// other). Returns its ticket without waiting; see [`GroupLog::wait`].
    pub fn append(&self, mut line: Vec<u8>) -> Result<Ticket, LogError> {
        if line.last() != Some(&b'\n') {
            line.push(b'\n');
        }
        debug_assert!(
            !line[..line.len() - 1].contains(&b'\n'),
            "a record must be one line"
        );
        self.send(|ticket| Msg::Append { ticket, line }, None)
    }

    /// Queues a compaction. Its snapshot must hold exactly the records queued before it:
    /// build it under the same lock the records are queued under.
    pub fn compact(&self, compaction: Compaction) -> Result<Ticket, LogError> {
        self.send(|ticket| Msg::Compact { ticket, compaction }, None)
    }

    /// Stops accepting messages: later ones fail with [`LogError::Closed`] naming `reason`.
    /// The writer finishes what is queued, closes the log file and stops; the ticket is
    /// done then.
    pub fn close(&self, reason: impl Into<String>) -> Result<Ticket, LogError> {
        self.send(|ticket| Msg::Close { ticket }, Some(reason.into()))
    }

    /// Waits until every message up to `ticket` is done. Fails with the I/O error itself
    /// for the records of the write that failed, and with [`LogError::Closed`] for the
    /// messages queued after it.
    pub async fn wait(&self, ticket: Ticket) -> Result<(), LogError> {
        let mut progress = self.progress.clone();
        // An error means the writer is gone; its last word still says how far it got.
        let _ = progress
            .wait_for(|p| p.done >= ticket.0 || p.failure.is_some())
            .await;
        let p = progress.borrow();
        if p.done >= ticket.0 {
            return Ok(());
        }
        Err(match &p.failure {
            Some(failure) if ticket.0 <= failure.last => failure.error.duplicate(),
            Some(failure) => LogError::closed(failure.reason.clone()),
            None => stopped(),
        })
    }

    /// How far the log is done (durable) now.
    pub fn durable(&self) -> Ticket {
        Ticket(self.progress.borrow().done)
    }

    /// Fails with [`LogError::Closed`] when the log accepts no more messages.
    pub fn check(&self) -> Result<(), LogError> {
        match self.refusal(&self.queue()) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Marks the caller as about to append; see [`Announced`].
    pub fn announce(&self) -> Announced<'_> {
        self.counters.announced.fetch_add(1, Ordering::AcqRel);
        Announced(&self.counters.announced)
    }

    /// How many times the log file was fsync'd for appended records (a metric: group
    /// commit keeps it far below the number of records).
    pub fn fsync_count(&self) -> u64 {
        self.counters.fsyncs.load(Ordering::SeqCst)
    }

    /// How many snapshots compactions have written.
    pub fn compaction_count(&self) -> u64 {
        self.counters.compactions.load(Ordering::SeqCst)
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Why nothing more may be queued, if so. A failure wins over a close: it says more.
    fn refusal(&self, queue: &Queue) -> Option<LogError> {
        if let Some(failure) = &self.progress.borrow().failure {
            return Some(LogError::closed(failure.reason.clone()));
        }
        queue.closed.as_ref().map(LogError::closed)
    }

    fn send(
        &self,
        msg: impl FnOnce(u64) -> Msg,
        close: Option<String>,
    ) -> Result<Ticket, LogError> {
        let mut queue = self.queue();
        if let Some(e) = self.refusal(&queue) {
            return Err(e);
        }
        let ticket = queue.last + 1;
        let tx = queue.tx.as_ref().ok_or_else(stopped)?;
        tx.send(msg(ticket)).map_err(|_| stopped())?;
        queue.last = ticket;
        if close.is_some() {
            queue.closed = close;
        }
        Ok(Ticket(ticket))
    }
}

/// The writer thread is gone without a word: it panicked.
fn stopped() -> LogError {
    LogError::closed("the log writer stopped")
}

impl Drop for GroupLog {
    fn drop(&mut self) {
        // Without a sender the writer's loop ends once it has handled everything queued.
        drop(
            self.queue
                .get_mut()
                .unwrap_or_else(PoisonError::into_inner)
                .tx
                .take(),
        );
        if let Some(writer) = self.writer.take() {
            // A panicked writer has nothing left to write.
            let _ = writer.join();
        }
    }
}

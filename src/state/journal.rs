//! The operation journal, `journal.ndjson`: how apply stays crash-safe without rewriting
//! the whole state after every operation.
//!
//! Before a create, the engine appends an [`Record::Intent`] and waits until it is durable;
//! after each operation it appends the result. Each line is one self-describing JSON record
//! (`{"op":"created",...}`); the first line is `{"op":"begin","lineage":..,"base_serial":..}`
//! naming the `state.json` the records apply to.
//!
//! The file mechanics are the shared [`gantry_grouplog`] crate's (the simulated world's log
//! uses the same): appends are **group-committed** by its writer thread, which takes every
//! line queued by concurrent [`Journal::append`] calls, writes them with one `write`,
//! fsyncs once and acknowledges them all, so the cost of an append does not depend on the
//! size of the state. This module keeps the records, the `begin` header and two models:
//! the state with every *durable* record applied (what [`Journal::current`] shows), and the
//! records queued but not yet durable, in log order. Every
//! [`JournalOptions::compact_every`] records, and at [`Journal::commit`], a compaction is
//! queued under the same lock as the records: the merged state (serial + 1) is written to
//! `state.json` atomically, the previous file kept as the backup, and a new journal is
//! started that carries only the intents still pending.
//!
//! After a crash, [`StateLock::open_journal`] replays the journal onto `state.json` and
//! reports the intents that have no result yet ([`Recovery::pending_creates`]): objects that
//! may exist in the cloud and that the engine must look up by token. Replay is idempotent
//! (records set or remove whole values), so a journal that survived a compaction's rename of
//! `state.json` replays harmlessly onto it.

use super::encryption::Codec;
use super::error::StateError;
use super::local::{
    load_state_file_with, LockInner, StateLock, BACKUP_FILE, JOURNAL_FILE, STATE_FILE,
};
use super::model::{strip_position, OutputState, ResourceState, State};
use gantry_grouplog::{Compaction, GroupLog, LogContent, LogError, Options, Ticket};
use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

/// Records between automatic compactions unless configured otherwise.
pub const DEFAULT_COMPACT_EVERY: usize = 10_000;

/// The engine is about to create an object; recorded durably before the cloud call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Intent {
    /// The instance address being created.
    pub address: String,
    /// The resource type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The provider configuration.
    pub provider: String,
    /// The idempotency token passed to the cloud; the created object can be found by it.
    pub token: String,
    /// The configuration the create is sent with (computed attributes null): recovery looks
    /// the object up by it where the cloud has names.
    #[serde(default, skip_serializing_if = "serde_json::Value::is_null")]
    pub config: serde_json::Value,
    /// What the instance depends on, so an adopted object keeps its place in the graph.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dependencies: Vec<String>,
    /// Paths of sensitive values in the object, kept when it is adopted.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sensitive_paths: Vec<String>,
    /// When the create was about to be sent (Unix milliseconds): a create sent just before a
    /// crash may still be landing in the cloud, so recovery looks again until it has settled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_at_ms: Option<u64>,
    /// The `failover` alternative this create tries, so an adopted object keeps it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<super::model::Placement>,
    /// The module alternatives it is made by, so an adopted object keeps them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub module_placements: BTreeMap<String, super::model::ModulePlacement>,
}

/// Milliseconds since the Unix epoch, now.
pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// One journal entry.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A create is about to be sent (`{"op":"intent",...}`).
    Intent(Intent),
    /// An object was created; clears the intent with the same address and token
    /// (`create_token`).
    Created(ResourceState),
    /// An object was updated, read or refreshed.
    Updated(ResourceState),
    /// An object was deleted (or forgotten).
    Deleted {
        /// Its address.
        address: String,
    },
    /// An object is tracked at another address (a `moved` block): one record, so no crash
    /// can leave it tracked at neither. Replaying it when `from` is gone does nothing.
    Moved { from: String, to: String },
    /// The root module outputs, replacing the previous ones.
    Outputs(BTreeMap<String, OutputState>),
    /// The create behind the intent with this token did not happen (recovery looked it up
    /// and found nothing, or the cloud refused the call).
    NotCreated {
        /// The intent's token.
        token: String,
    },
}

/// What [`StateLock::open_journal`] found from an interrupted run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Recovery {
    /// Intents with no later `Created` (same address and token) or `NotCreated`: the
    /// object may or may not exist. Resolve each with [`Journal::append`]`(Record::Created)`
    /// or [`Journal::resolve_intent`].
    pub pending_creates: Vec<Intent>,
    /// How many records were replayed onto `state.json`.
    pub replayed_records: usize,
    /// Whether a partial last line (a write cut short by the crash) was dropped.
    pub discarded_torn_line: bool,
}

impl Recovery {
    /// Whether there was nothing to recover.
    pub fn is_empty(&self) -> bool {
        self.pending_creates.is_empty() && self.replayed_records == 0
    }
}

/// Journal settings.
#[derive(Debug, Clone)]
pub struct JournalOptions {
    /// Compact into `state.json` after this many records (at least 1).
    pub compact_every: usize,
    /// Also wait until the journal holds twice as many records as state has resources
    /// (a create is two: intent and result), so that rewriting the whole state costs no
    /// more than the records did and an apply's bytes written stay linear in its size (on
    /// by default).
    pub grow_with_state: bool,
}

impl Default for JournalOptions {
    fn default() -> Self {
        JournalOptions {
            compact_every: DEFAULT_COMPACT_EVERY,
            grow_with_state: true,
        }
    }
}

/// A handle on the open journal; cheap to clone and share between tasks.
///
/// The state lock stays held while any handle exists. Dropping every handle without
/// [`commit`](Journal::commit) leaves the journal on disk, exactly as a crash would, and the
/// next [`StateLock::open_journal`] recovers it; dropping the last handle waits for the
/// writer thread to finish the writes queued.
#[derive(Clone)]
pub struct Journal {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Journal")
            .field("path", &self.shared.log.path())
            .finish_non_exhaustive()
    }
}

/// Owned by the handles. Fields drop in order: the log first (its writer finishes what is
/// queued and stops), then the flag, which lets the lock open a journal again and keeps
/// the lock held until then.
struct Shared {
    log: GroupLog,
    /// Seals record lines and snapshots when state is encrypted.
    codec: Arc<Codec>,
    inner: Mutex<Inner>,
    compact_every: usize,
    grow_with_state: bool,
    open: OpenFlag,
}

/// Marks the lock's journal as open until the commit, or until it is dropped.
struct OpenFlag {
    lock: Arc<LockInner>,
    released: AtomicBool,
}

impl OpenFlag {
    fn release(&self) {
        // Once only: after a commit the lock may already have opened the next journal.
        if !self.released.swap(true, Ordering::SeqCst) {
            self.lock.journal_open.store(false, Ordering::SeqCst);
        }
    }
}

impl Drop for OpenFlag {
    fn drop(&mut self) {
        self.release();
    }
}

/// A state and the intents pending in it.
#[derive(Clone)]
struct Mem {
    state: State,
    pending: IndexMap<String, Intent>,
}

impl Mem {
    fn apply(&mut self, record: Record) {
        match record {
            Record::Intent(intent) => {
                self.pending.insert(intent.token.clone(), intent);
            }
            Record::Created(resource) => {
                if let Some(token) = &resource.create_token {
                    if self
                        .pending
                        .get(token)
                        .is_some_and(|i| i.address == resource.address)
                    {
                        self.pending.shift_remove(token);
                    }
                }
                self.state.upsert_resource(resource);
            }
            Record::Updated(resource) => self.state.upsert_resource(resource),
            Record::Deleted { address } => {
                self.state.resources.remove(&address);
            }
            Record::Moved { from, to } => {
                if !self.state.resources.contains_key(&to) {
                    if let Some(mut resource) = self.state.resources.remove(&from) {
                        resource.address.clone_from(&to);
                        self.state.upsert_resource(resource);
                    }
                }
            }
            Record::Outputs(outputs) => self.state.outputs = outputs,
            Record::NotCreated { token } => {
                self.pending.shift_remove(&token);
            }
        }
    }

    fn apply_queued(&mut self, queued: Queued) {
        match queued {
            Queued::Record(record) => self.apply(record),
            Queued::Compacted { serial } => self.state.serial = serial,
        }
    }
}

/// What the log was given and has not made durable yet.
// Nearly every entry is a `Record`, so boxing it would only add an allocation.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
enum Queued {
    Record(Record),
    /// A compaction writing `state.json` with this serial.
    Compacted {
        serial: u64,
    },
}

/// Guarded by one lock: records are queued to the log in the order they are listed here.
struct Inner {
    /// Every durable record applied.
    mem: Mem,
    /// Queued after those, in log order, each with its ticket.
    queued: VecDeque<(Ticket, Queued)>,
    since_compact: usize,
    /// Whether records were queued since `state.json` was last (queued to be) written.
    dirty: bool,
    state_exists: bool,
    /// The `base_serial` of the log's current `begin` line: sealed lines are bound to it.
    header_serial: u64,
    /// `state.json.backup` was (queued to be) written by this run already.
    backed_up: bool,
}

impl Inner {
    /// Moves what the log has made durable from the queue into the model, in log order.
    fn catch_up(&mut self, durable: Ticket) {
        while self.queued.front().is_some_and(|(t, _)| *t <= durable) {
            if let Some((_, queued)) = self.queued.pop_front() {
                self.mem.apply_queued(queued);
            }
        }
    }

    /// The model once everything queued is durable: what a compaction must write.
    fn projected(&self) -> Mem {
        let mut mem = self.mem.clone();
        for (_, queued) in &self.queued {
            mem.apply_queued(queued.clone());
        }
        mem
    }

    /// Queues the compaction of every record queued so far: `state.json` with serial + 1,
    /// then a journal holding only the pending intents (none at all if there are none).
    fn queue_compaction(&mut self, log: &GroupLog, codec: &Codec) -> Result<Ticket, StateError> {
        let mut next = self.projected();
        next.state.serial += 1;
        let (lineage, serial) = (next.state.lineage.clone(), next.state.serial);
        let mut carried = Vec::new();
        for intent in next.pending.values() {
            carried.extend(codec.seal_line(encode(&WireOut::Intent(intent))?, &lineage, serial)?);
        }
        // The backup keeps the state as it was before this run: later compactions of the
        // same run would only copy snapshots nobody asked for (and double the bytes an
        // apply writes).
        let keep_backup = self.state_exists && !self.backed_up;
        let ticket = log.compact(Compaction {
            snapshot: Some(codec.seal_state(next.state.to_json_pretty()?, &lineage, serial)?),
            keep_backup,
            header: begin_line(&next.state)?,
            carried,
        })?;
        self.backed_up |= keep_backup;
        self.state_exists = true;
        self.since_compact = 0;
        self.dirty = false;
        self.header_serial = serial;
        self.queued
            .push_back((ticket, Queued::Compacted { serial }));
        Ok(ticket)
    }
}

impl From<LogError> for StateError {
    fn from(e: LogError) -> Self {
        match e {
            LogError::Io {
                action,
                path,
                source,
            } => StateError::Io {
                action,
                path,
                source,
            },
            LogError::Corrupt {
                path,
                line,
                column,
                message,
            } => StateError::Corrupt {
                path,
                line,
                column,
                message,
            },
            LogError::Closed { reason } => StateError::JournalClosed { reason },
            LogError::Mirror { target: _, message } => StateError::JournalCopy { message },
        }
    }
}

/// The on-disk form of a record, borrowed for writing.
#[derive(Serialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum WireOut<'a> {
    Begin {
        lineage: &'a str,
        base_serial: u64,
    },
    Intent(&'a Intent),
    Created(&'a ResourceState),
    Updated(&'a ResourceState),
    Deleted {
        address: &'a str,
    },
    Moved {
        from: &'a str,
        to: &'a str,
    },
    Outputs {
        outputs: &'a BTreeMap<String, OutputState>,
    },
    NotCreated {
        token: &'a str,
    },
}

/// The on-disk form of a record, owned for reading.
#[derive(Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum WireIn {
    Begin {
        lineage: String,
        base_serial: u64,
    },
    Intent(Intent),
    Created(ResourceState),
    Updated(ResourceState),
    Deleted {
        address: String,
    },
    Moved {
        from: String,
        to: String,
    },
    Outputs {
        outputs: BTreeMap<String, OutputState>,
    },
    NotCreated {
        token: String,
    },
}

impl<'a> From<&'a Record> for WireOut<'a> {
    fn from(record: &'a Record) -> Self {
        match record {
            Record::Intent(i) => WireOut::Intent(i),
            Record::Created(r) => WireOut::Created(r),
            Record::Updated(r) => WireOut::Updated(r),
            Record::Deleted { address } => WireOut::Deleted { address },
            Record::Moved { from, to } => WireOut::Moved { from, to },
            Record::Outputs(outputs) => WireOut::Outputs { outputs },
            Record::NotCreated { token } => WireOut::NotCreated { token },
        }
    }
}

/// One NDJSON line, with its newline.
fn encode(wire: &WireOut<'_>) -> Result<Vec<u8>, StateError> {
    let mut line = serde_json::to_vec(wire).map_err(StateError::Encode)?;
    line.push(b'\n');
    Ok(line)
}

fn begin_line(state: &State) -> Result<Vec<u8>, StateError> {
    encode(&WireOut::Begin {
        lineage: &state.lineage,
        base_serial: state.serial,
    })
}

impl StateLock {
    /// Opens the journal with default options; see [`StateLock::open_journal_with`].
    pub fn open_journal(&self) -> Result<(Journal, Recovery), StateError> {
        self.open_journal_with(JournalOptions::default())
    }

    /// Opens the journal for an apply: loads `state.json` (or starts a new state), replays a
    /// journal left by an interrupted run, and starts the writer thread. Only one journal
    /// may be open per lock.
    ///
    /// Fails with [`StateError::Corrupt`] if `state.json` or the journal is damaged (a
    /// partial last line is expected after a crash and dropped), or if the journal belongs to
    /// another lineage. Nothing is modified in that case.
    pub fn open_journal_with(
        &self,
        options: JournalOptions,
    ) -> Result<(Journal, Recovery), StateError> {
        let lock = &self.inner;
        if lock
            .journal_open
            .compare_exchange(false, true, Ordering::SeqCst, Ordering::SeqCst)
            .is_err()
        {
            return Err(StateError::JournalAlreadyOpen {
                dir: lock.dir.clone(),
            });
        }
        match open(lock, options) {
            Ok(opened) => Ok(opened),
            Err(e) => {
                lock.journal_open.store(false, Ordering::SeqCst);
                Err(e)
            }
        }
    }
}

fn open(lock: &Arc<LockInner>, options: JournalOptions) -> Result<(Journal, Recovery), StateError> {
    let dir = &lock.dir;
    let loaded = load(dir, &lock.codec)?;
    if let Some(content) = &loaded.journal {
        if loaded.header {
            content.repair()?;
        } else {
            // Not even the header survived: nothing was ever acknowledged.
            content.discard()?;
        }
    }
    let mut log_options = Options::new(dir, JOURNAL_FILE, STATE_FILE)
        .backup_file(BACKUP_FILE)
        .remove_empty_log()
        .thread_name("gantry-journal");
    if let Some(remote) = &lock.remote {
        log_options = log_options.mirror(Arc::clone(remote) as Arc<dyn gantry_grouplog::Mirror>);
    }
    let log = GroupLog::open(log_options, begin_line(&loaded.mem.state)?)?;
    let replayed = loaded.recovery.replayed_records;
    // Appends go on after the header of a journal left behind, else a new one's.
    let header_serial = loaded.header_serial.unwrap_or(loaded.mem.state.serial);
    let inner = Inner {
        mem: loaded.mem,
        queued: VecDeque::new(),
        since_compact: replayed,
        dirty: replayed > 0,
        state_exists: loaded.state_exists,
        header_serial,
        backed_up: false,
    };
    let journal = Journal {
        shared: Arc::new(Shared {
            log,
            codec: Arc::clone(&lock.codec),
            inner: Mutex::new(inner),
            compact_every: options.compact_every.max(1),
            grow_with_state: options.grow_with_state,
            open: OpenFlag {
                lock: Arc::clone(lock),
                released: AtomicBool::new(false),
            },
        }),
    };
    Ok((journal, loaded.recovery))
}

impl StateLock {
    /// The state as an apply would see it, without changing anything on disk: `state.json`
    /// (or a new state) with a journal left by an interrupted run replayed in memory, and
    /// the creates whose outcome that run never learnt. `plan` uses it so it never plans
    /// against a stale `state.json`.
    pub fn read_state_with_journal(&self) -> Result<(State, Recovery), StateError> {
        let loaded = load(&self.inner.dir, &self.inner.codec)?;
        Ok((loaded.mem.state, loaded.recovery))
    }
}

/// `state.json` (or a new state) with the journal replayed onto it, in memory.
struct Loaded {
    mem: Mem,
    recovery: Recovery,
    state_exists: bool,
    /// The journal file, if there is one.
    journal: Option<LogContent>,
    /// Whether its `begin` header survived.
    header: bool,
    /// The `base_serial` of that header.
    header_serial: Option<u64>,
}

fn load(dir: &Path, codec: &Codec) -> Result<Loaded, StateError> {
    let base = load_state_file_with(&dir.join(STATE_FILE), codec)?;
    let state_exists = base.is_some();
    let journal = LogContent::read(dir.join(JOURNAL_FILE))?;
    let replay = match &journal {
        Some(content) => Some(parse_journal(content, base.as_ref(), codec)?),
        None => None,
    };
    let mut mem = Mem {
        state: base.unwrap_or_default(),
        pending: IndexMap::new(),
    };
    let mut recovery = Recovery::default();
    let mut header = false;
    let mut header_serial = None;
    if let (Some(content), Some(replay)) = (&journal, replay) {
        recovery.discarded_torn_line = content.is_torn();
        recovery.replayed_records = replay.records.len();
        if let Some(lineage) = replay.lineage {
            header = true;
            header_serial = Some(replay.base_serial);
            if !state_exists {
                // A new stack that crashed before its first compaction.
                mem.state.lineage = lineage;
            }
            for record in replay.records {
                mem.apply(record);
            }
        }
    }
    recovery.pending_creates = mem.pending.values().cloned().collect();
    Ok(Loaded {
        mem,
        recovery,
        state_exists,
        journal,
        header,
        header_serial,
    })
}

/// A parsed journal file.
struct Replay {
    /// The header's lineage; `None` when no complete line survived.
    lineage: Option<String>,
    /// The header's `base_serial`.
    base_serial: u64,
    records: Vec<Record>,
}

fn parse_journal(
    content: &LogContent,
    base: Option<&State>,
    codec: &Codec,
) -> Result<Replay, StateError> {
    let mut lineage: Option<String> = None;
    let mut header_serial = 0;
    let mut records = Vec::new();
    // Torn last lines and zeroed holes are left out by `lines`: see gantry_grouplog.
    for line in content.lines() {
        let bytes = match &lineage {
            Some(l) => codec
                .open_line(line.bytes, l, header_serial)
                .map_err(|m| line.corrupt(1, m))?,
            None => std::borrow::Cow::Borrowed(line.bytes),
        };
        let wire: WireIn = serde_json::from_slice(&bytes).map_err(|e| {
            line.corrupt(
                e.column(),
                format!("invalid journal record: {}", strip_position(&e.to_string())),
            )
        })?;
        let record = match (wire, lineage.is_some()) {
            (
                WireIn::Begin {
                    lineage: l,
                    base_serial,
                },
                false,
            ) => {
                check_base(&l, base_serial, base).map_err(|m| line.corrupt(1, m))?;
                lineage = Some(l);
                header_serial = base_serial;
                continue;
            }
            (WireIn::Begin { .. }, true) => {
                return Err(line.corrupt(1, "a second `begin` record").into())
            }
            (_, false) => {
                return Err(line
                    .corrupt(1, "the journal does not start with a `begin` record")
                    .into())
            }
            (WireIn::Intent(i), true) => Record::Intent(i),
            (WireIn::Created(r), true) => Record::Created(r),
            (WireIn::Updated(r), true) => Record::Updated(r),
            (WireIn::Deleted { address }, true) => Record::Deleted { address },
            (WireIn::Moved { from, to }, true) => Record::Moved { from, to },
            (WireIn::Outputs { outputs }, true) => Record::Outputs(outputs),
            (WireIn::NotCreated { token }, true) => Record::NotCreated { token },
        };
        records.push(record);
    }
    Ok(Replay {
        lineage,
        base_serial: header_serial,
        records,
    })
}

/// Whether a journal with this header applies to `base` (the parsed `state.json`).
fn check_base(lineage: &str, base_serial: u64, base: Option<&State>) -> Result<(), String> {
    match base {
        Some(state) if state.lineage != lineage => Err(format!(
            "the journal belongs to lineage {lineage}, but state.json has lineage {}",
            state.lineage
        )),
        // state.json may be one serial ahead: a compaction renamed it but the crash came
        // before the journal was replaced. Replay is idempotent, so that is fine.
        Some(state) if base_serial > state.serial => Err(format!(
            "the journal continues serial {base_serial}, but state.json has the older serial {}",
            state.serial
        )),
        None if base_serial != 0 => Err(format!(
            "the journal continues serial {base_serial}, but there is no state.json"
        )),
        _ => Ok(()),
    }
}

impl Shared {
    /// The models, caught up with what the log has made durable.
    fn inner(&self) -> MutexGuard<'_, Inner> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        inner.catch_up(self.log.durable());
        inner
    }

    /// Queues `record` (encoded as `line`) under the models' lock, so the log's order is
    /// the order of `queued`, and a compaction when one is due.
    fn enqueue(&self, line: Vec<u8>, record: Record) -> Result<Ticket, StateError> {
        let mut inner = self.inner();
        let line = self
            .codec
            .seal_line(line, &inner.mem.state.lineage, inner.header_serial)?;
        let ticket = self.log.append(line)?;
        inner.queued.push_back((ticket, Queued::Record(record)));
        inner.since_compact += 1;
        inner.dirty = true;
        let threshold = if self.grow_with_state {
            // Counted on the durable state: the records in flight are few.
            self.compact_every.max(2 * inner.mem.state.resources.len())
        } else {
            self.compact_every
        };
        if inner.since_compact >= threshold {
            if let Err(e) = inner.queue_compaction(&self.log, &self.codec) {
                // The record itself is queued and may well become durable; refuse only
                // what comes after it.
                let _ = self
                    .log
                    .close(format!("compacting into state.json failed: {e}"));
            }
        }
        Ok(ticket)
    }
}

impl Journal {
    /// Appends a record and returns once it is durable (written and fsync'd), and applied
    /// to [`current`](Journal::current). Concurrent calls share one fsync.
    pub async fn append(&self, record: Record) -> Result<(), StateError> {
        let line = encode(&WireOut::from(&record))?;
        let ticket = self.shared.enqueue(line, record)?;
        let result = self.shared.log.wait(ticket).await;
        // Catch up, so the record shows in `current` when this returns.
        drop(self.shared.inner());
        Ok(result?)
    }

    /// Records that the create behind the intent with `token` did not happen.
    pub async fn resolve_intent(&self, token: &str) -> Result<(), StateError> {
        self.append(Record::NotCreated {
            token: token.to_owned(),
        })
        .await
    }

    /// Compacts the journal into `state.json` (serial + 1, previous file kept as
    /// `state.json.backup`) and removes it, then closes the journal: later appends fail with
    /// [`StateError::JournalClosed`]. Returns the state written.
    ///
    /// Intents still pending are not dropped: the journal is rewritten to hold just them,
    /// so the next [`StateLock::open_journal`] reports them again. When nothing was recorded
    /// since the last write of an existing `state.json`, it is left as is.
    pub async fn commit(&self) -> Result<State, StateError> {
        let shared = &self.shared;
        let (compacted, closed) = {
            let mut inner = shared.inner();
            shared.log.check()?;
            let compacted = if inner.dirty || !inner.state_exists {
                Some(inner.queue_compaction(&shared.log, &shared.codec)?)
            } else if inner.projected().pending.is_empty() {
                // Nothing to carry: restart the log empty, which removes the file.
                let header = begin_line(&inner.mem.state)?;
                Some(shared.log.compact(Compaction {
                    header,
                    ..Compaction::default()
                })?)
            } else {
                None
            };
            (compacted, shared.log.close("it was committed")?)
        };
        if let Some(compacted) = compacted {
            // Its own error (the failed write) rather than "closed".
            shared.log.wait(compacted).await?;
        }
        shared.log.wait(closed).await?;
        shared.open.release();
        Ok(shared.inner().mem.state.clone())
    }

    /// A copy of the state with every durable record applied.
    pub fn current(&self) -> State {
        self.shared.inner().mem.state.clone()
    }

    /// Runs `f` on the current state without copying it. Appends wait while `f` runs, so keep
    /// it short.
    pub fn with_state<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.shared.inner().mem.state)
    }

    /// Intents with no result yet, oldest first.
    pub fn pending_intents(&self) -> Vec<Intent> {
        self.shared.inner().mem.pending.values().cloned().collect()
    }

    /// How many times the journal file was fsync'd for appends (a metric; group commit
    /// keeps it far below the number of records).
    pub fn fsync_count(&self) -> u64 {
        self.shared.log.fsync_count()
    }

    /// How many times the journal was compacted into `state.json`, including at commit.
    pub fn compaction_count(&self) -> u64 {
        self.shared.log.compaction_count()
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        self.shared.log.path()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use crate::state::local::{load_state_file, LocalBackend, LockInfo};
    use crate::state::model::tests::resource;
    use std::fs::{self, File, OpenOptions};
    use std::io::Write;
    use std::path::PathBuf;
    use std::time::Duration;

    fn lock(dir: &Path) -> StateLock {
        LocalBackend::new(dir)
            .lock(LockInfo::new("apply"), Duration::ZERO)
            .unwrap()
    }

    pub(crate) fn intent(address: &str, token: &str) -> Intent {
        Intent {
            address: address.into(),
            type_name: "aws_vpc".into(),
            provider: "aws".into(),
            token: token.into(),
            config: serde_json::Value::Null,
            dependencies: Vec::new(),
            sensitive_paths: Vec::new(),
            sent_at_ms: None,
            placement: None,
            module_placements: BTreeMap::new(),
        }
    }

    fn created(address: &str, token: &str) -> ResourceState {
        let mut r = resource(address);
        r.create_token = Some(token.into());
        r
    }

    fn lines(path: &Path) -> Vec<serde_json::Value> {
        fs::read_to_string(path)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn journal_is_shareable_between_tasks() {
        fn check<T: Clone + Send + Sync + 'static>() {}
        check::<Journal>();
    }

    #[test]
    fn records_are_self_describing_lines() {
        let r = Record::Outputs(BTreeMap::from([(
            "op".to_string(),
            OutputState {
                value: serde_json::json!(1),
                sensitive: true,
            },
        )]));
        let line = encode(&WireOut::from(&r)).unwrap();
        let v: serde_json::Value = serde_json::from_slice(&line).unwrap();
        assert_eq!(v["op"], "outputs");
        assert_eq!(v["outputs"]["op"]["sensitive"], true);
        let line = encode(&WireOut::from(&Record::Intent(intent("a.b", "t")))).unwrap();
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "{\"op\":\"intent\",\"address\":\"a.b\",\"type\":\"aws_vpc\",\"provider\":\"aws\",\"token\":\"t\"}\n"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_appends_all_land_with_few_fsyncs() {
        let tmp = tempfile::tempdir().unwrap();
        let lock = lock(tmp.path());
        let (journal, recovery) = lock.open_journal().unwrap();
        assert!(recovery.is_empty());
        let barrier = Arc::new(tokio::sync::Barrier::new(200));
        let mut tasks = Vec::new();
        for i in 0..200 {
            let journal = journal.clone();
            let barrier = Arc::clone(&barrier);
            tasks.push(tokio::spawn(async move {
                barrier.wait().await;
                let addr = format!("aws_vpc.v[{i}]");
                let token = format!("tok-{i}");
                journal
                    .append(Record::Intent(intent(&addr, &token)))
                    .await
                    .unwrap();
                journal
                    .append(Record::Created(created(&addr, &token)))
                    .await
                    .unwrap();
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(journal.with_state(|s| s.resources.len()), 200);
        assert!(journal.pending_intents().is_empty());
        let fsyncs = journal.fsync_count();
        assert!(
            fsyncs >= 2,
            "at least one fsync per dependent round: {fsyncs}"
        );
        assert!(fsyncs <= 50, "400 records took {fsyncs} fsyncs");
        let on_disk = lines(&tmp.path().join(JOURNAL_FILE));
        assert_eq!(on_disk.len(), 401);
        assert_eq!(on_disk[0]["op"], "begin");
        assert_eq!(on_disk[0]["base_serial"], 0);
        // Each task's intent precedes its result in the file.
        for i in 0..200 {
            let addr = format!("aws_vpc.v[{i}]");
            let pos = |op: &str| {
                on_disk
                    .iter()
                    .position(|l| l["op"] == op && l["address"] == addr.as_str())
                    .unwrap()
            };
            assert!(pos("intent") < pos("created"));
        }
        // Nothing was written to state.json yet: appends do not rewrite the state.
        assert!(!tmp.path().join(STATE_FILE).exists());
    }

    /// Compactions queued while other appends are in flight: each snapshot must hold
    /// exactly the records before it, so a crash afterwards recovers every record.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_appends_across_compactions_lose_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let lock = lock(tmp.path());
        let (journal, _) = lock
            .open_journal_with(JournalOptions {
                compact_every: 7,
                grow_with_state: false,
            })
            .unwrap();
        let tasks: Vec<_> = (0..100)
            .map(|i| {
                let journal = journal.clone();
                tokio::spawn(async move {
                    let (addr, token) = (format!("aws_vpc.v[{i}]"), format!("t{i}"));
                    let intent = Record::Intent(intent(&addr, &token));
                    journal.append(intent).await.unwrap();
                    if i % 10 != 0 {
                        let done = Record::Created(created(&addr, &token));
                        journal.append(done).await.unwrap();
                    }
                })
            })
            .collect();
        for task in tasks {
            task.await.unwrap();
        }
        assert!(journal.compaction_count() >= 20, "190 records, every 7");
        assert_eq!(journal.with_state(|s| s.resources.len()), 90);
        drop(journal);
        // Crash: whatever state.json and the journal hold now must be everything.
        let (journal, recovery) = lock.open_journal().unwrap();
        assert_eq!(journal.with_state(|s| s.resources.len()), 90);
        let mut pending: Vec<String> = recovery
            .pending_creates
            .into_iter()
            .map(|i| i.token)
            .collect();
        pending.sort();
        let mut expected: Vec<String> = (0..100).step_by(10).map(|i| format!("t{i}")).collect();
        expected.sort();
        assert_eq!(pending, expected);
    }

    #[tokio::test]
    async fn a_move_is_one_record_that_survives_a_crash_and_replays_idempotently() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let lock = lock(dir);
        let mut base = State::new();
        base.upsert_resource(resource("aws_vpc.old"));
        base.upsert_resource(resource("aws_vpc.other"));
        lock.write_state(&base).unwrap();
        let (journal, _) = lock.open_journal().unwrap();
        let moved = Record::Moved {
            from: "aws_vpc.old".into(),
            to: "module.net.aws_vpc.main".into(),
        };
        journal.append(moved.clone()).await.unwrap();
        // Replaying the same move, or a move onto a tracked address, changes nothing.
        journal.append(moved).await.unwrap();
        journal
            .append(Record::Moved {
                from: "aws_vpc.other".into(),
                to: "module.net.aws_vpc.main".into(),
            })
            .await
            .unwrap();
        drop(journal); // a crash: nothing committed
        let (journal, recovery) = lock.open_journal().unwrap();
        assert_eq!(recovery.replayed_records, 3);
        let state = journal.current();
        assert_eq!(
            state.resources.keys().collect::<Vec<_>>(),
            ["aws_vpc.other", "module.net.aws_vpc.main"]
        );
        assert_eq!(
            state.resources["module.net.aws_vpc.main"].address,
            "module.net.aws_vpc.main"
        );
    }

    #[tokio::test]
    async fn commit_merges_into_state_and_removes_the_journal() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let lock = lock(dir);
        let mut base = State::new();
        base.upsert_resource(resource("aws_vpc.old"));
        base.upsert_resource(resource("aws_vpc.gone"));
        assert_eq!(lock.write_state(&base).unwrap(), 1);

        let (journal, _) = lock.open_journal().unwrap();
        journal
            .append(Record::Intent(intent("aws_vpc.new", "t1")))
            .await
            .unwrap();
        journal
            .append(Record::Created(created("aws_vpc.new", "t1")))
            .await
            .unwrap();
        let mut updated = resource("aws_vpc.old");
        updated.attributes = serde_json::json!({"id": "vpc-9"});
        journal.append(Record::Updated(updated)).await.unwrap();
        journal
            .append(Record::Deleted {
                address: "aws_vpc.gone".into(),
            })
            .await
            .unwrap();
        let outputs = BTreeMap::from([(
            "id".to_string(),
            OutputState {
                value: serde_json::json!("vpc-9"),
                sensitive: false,
            },
        )]);
        journal
            .append(Record::Outputs(outputs.clone()))
            .await
            .unwrap();
        assert!(dir.join(JOURNAL_FILE).exists());
        // Writing state.json directly while the journal is open is refused.
        assert!(matches!(
            lock.write_state(&base),
            Err(StateError::JournalPending { .. })
        ));

        let committed = journal.commit().await.unwrap();
        assert_eq!(committed.serial, 2);
        assert_eq!(committed.lineage, base.lineage);
        assert_eq!(
            committed.resources.keys().collect::<Vec<_>>(),
            ["aws_vpc.new", "aws_vpc.old"]
        );
        assert_eq!(committed.resources["aws_vpc.old"].attributes["id"], "vpc-9");
        assert_eq!(committed.outputs, outputs);
        assert!(!dir.join(JOURNAL_FILE).exists());
        assert_eq!(lock.read_state().unwrap().unwrap(), committed);
        let backup = load_state_file(&dir.join(BACKUP_FILE)).unwrap().unwrap();
        assert_eq!(backup.serial, 1);
        let err = journal
            .append(Record::Deleted {
                address: "x".into(),
            })
            .await
            .unwrap_err();
        assert!(matches!(err, StateError::JournalClosed { .. }), "{err:?}");
        assert!(matches!(
            journal.commit().await,
            Err(StateError::JournalClosed { .. })
        ));
        drop(journal);
        // The journal is closed, so state.json may be written directly again.
        assert_eq!(lock.write_state(&committed).unwrap(), 3);
    }

    #[tokio::test]
    async fn commit_without_changes_keeps_the_serial() {
        let tmp = tempfile::tempdir().unwrap();
        let lock = lock(tmp.path());
        lock.write_state(&State::new()).unwrap();
        let (journal, _) = lock.open_journal().unwrap();
        let state = journal.commit().await.unwrap();
        assert_eq!(state.serial, 1);
        assert!(!tmp.path().join(JOURNAL_FILE).exists());
        assert!(!tmp.path().join(BACKUP_FILE).exists());
    }

    #[tokio::test]
    async fn new_stack_starts_from_an_empty_state() {
        let tmp = tempfile::tempdir().unwrap();
        let lock = lock(tmp.path());
        let (journal, recovery) = lock.open_journal().unwrap();
        assert!(recovery.is_empty());
        let lineage = journal.with_state(|s| {
            assert_eq!(s.serial, 0);
            assert!(s.resources.is_empty());
            s.lineage.clone()
        });
        let committed = journal.commit().await.unwrap();
        assert_eq!(committed.serial, 1);
        assert_eq!(committed.lineage, lineage);
        assert!(tmp.path().join(STATE_FILE).exists());
    }

    #[tokio::test]
    async fn second_open_on_one_lock_is_refused_and_journal_keeps_the_lock() {
        let tmp = tempfile::tempdir().unwrap();
        let lock = lock(tmp.path());
        let (journal, _) = lock.open_journal().unwrap();
        assert!(matches!(
            lock.open_journal(),
            Err(StateError::JournalAlreadyOpen { .. })
        ));
        drop(lock);
        let err = LocalBackend::new(tmp.path())
            .lock(LockInfo::new("plan"), Duration::ZERO)
            .unwrap_err();
        assert!(matches!(err, StateError::Locked { .. }), "{err:?}");
        drop(journal);
        assert!(LocalBackend::new(tmp.path())
            .lock(LockInfo::new("plan"), Duration::ZERO)
            .is_ok());
    }

    #[tokio::test]
    async fn a_committed_journal_does_not_release_the_next_one() {
        let tmp = tempfile::tempdir().unwrap();
        let lock = lock(tmp.path());
        let (first, _) = lock.open_journal().unwrap();
        first.commit().await.unwrap();
        let (second, _) = lock.open_journal().unwrap();
        drop(first);
        assert!(matches!(
            lock.open_journal(),
            Err(StateError::JournalAlreadyOpen { .. })
        ));
        drop(second);
        assert!(lock.open_journal().is_ok());
    }

    #[tokio::test]
    async fn recovery_replays_records_and_reports_pending_intents() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let lineage;
        {
            let lock = lock(dir);
            let mut base = State::new();
            base.upsert_resource(resource("aws_vpc.kept"));
            lock.write_state(&base).unwrap();
            lineage = base.lineage;
            let (journal, _) = lock.open_journal().unwrap();
            for (addr, tok) in [
                ("aws_vpc.a", "ta"),
                ("aws_vpc.b", "tb"),
                ("aws_vpc.c", "tc"),
            ] {
                journal
                    .append(Record::Intent(intent(addr, tok)))
                    .await
                    .unwrap();
            }
            journal
                .append(Record::Created(created("aws_vpc.a", "ta")))
                .await
                .unwrap();
            // A Created with another token does not settle c's intent.
            journal
                .append(Record::Created(created("aws_vpc.c", "other")))
                .await
                .unwrap();
            journal.resolve_intent("tb").await.unwrap();
            journal
                .append(Record::Intent(intent("aws_vpc.d", "td")))
                .await
                .unwrap();
            // Crash: drop without commit.
        }
        let before = fs::read(dir.join(STATE_FILE)).unwrap();
        let lock = lock(dir);
        let (journal, recovery) = lock.open_journal().unwrap();
        assert_eq!(recovery.replayed_records, 7);
        assert!(!recovery.discarded_torn_line);
        assert_eq!(
            recovery.pending_creates,
            vec![intent("aws_vpc.c", "tc"), intent("aws_vpc.d", "td")]
        );
        // Opening does not rewrite state.json.
        assert_eq!(fs::read(dir.join(STATE_FILE)).unwrap(), before);
        journal.with_state(|s| {
            assert_eq!(s.lineage, lineage);
            assert_eq!(
                s.resources.keys().collect::<Vec<_>>(),
                ["aws_vpc.a", "aws_vpc.c", "aws_vpc.kept"]
            );
        });
        // The engine adopts c and drops d, then carries on.
        journal
            .append(Record::Created(created("aws_vpc.c", "tc")))
            .await
            .unwrap();
        journal.resolve_intent("td").await.unwrap();
        assert!(journal.pending_intents().is_empty());
        let state = journal.commit().await.unwrap();
        assert_eq!(state.serial, 2);
        assert!(!dir.join(JOURNAL_FILE).exists());
    }

    #[tokio::test]
    async fn torn_last_line_is_dropped_and_appending_continues() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        {
            let lock = lock(dir);
            let (journal, _) = lock.open_journal().unwrap();
            journal
                .append(Record::Intent(intent("aws_vpc.a", "ta")))
                .await
                .unwrap();
            journal
                .append(Record::Created(created("aws_vpc.a", "ta")))
                .await
                .unwrap();
        }
        let path = dir.join(JOURNAL_FILE);
        let mut file = OpenOptions::new().append(true).open(&path).unwrap();
        file.write_all(b"{\"op\":\"intent\",\"address\":\"aws_vpc.b\",\"ty")
            .unwrap();
        drop(file);

        let lock = lock(dir);
        let (journal, recovery) = lock.open_journal().unwrap();
        assert!(recovery.discarded_torn_line);
        assert_eq!(recovery.replayed_records, 2);
        assert!(recovery.pending_creates.is_empty());
        // No state.json existed: the state takes the journal's lineage.
        let header = &lines_until_torn(&path)[0];
        journal.with_state(|s| {
            assert_eq!(s.lineage, header["lineage"].as_str().unwrap());
            assert!(s.resources.contains_key("aws_vpc.a"));
        });
        journal
            .append(Record::Intent(intent("aws_vpc.b", "tb")))
            .await
            .unwrap();
        // The torn bytes were cut off, so the file is whole lines again.
        assert_eq!(lines(&path).len(), 4);
        drop(journal);
        drop(lock);
        let lock = self::lock(dir);
        let (_journal, recovery) = lock.open_journal().unwrap();
        assert!(!recovery.discarded_torn_line);
        assert_eq!(recovery.pending_creates, vec![intent("aws_vpc.b", "tb")]);
    }

    fn lines_until_torn(path: &Path) -> Vec<serde_json::Value> {
        fs::read_to_string(path)
            .unwrap()
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    #[tokio::test]
    async fn zeroed_blocks_from_a_crash_are_skipped() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        {
            let lock = lock(dir);
            let (journal, _) = lock.open_journal().unwrap();
            journal
                .append(Record::Intent(intent("aws_vpc.a", "ta")))
                .await
                .unwrap();
        }
        let path = dir.join(JOURNAL_FILE);
        let mut bytes = fs::read(&path).unwrap();
        bytes.extend_from_slice(&[0; 64]);
        bytes.extend_from_slice(b"\n");
        bytes.extend(encode(&WireOut::Created(&created("aws_vpc.a", "ta"))).unwrap());
        bytes.extend_from_slice(&[0; 100]);
        fs::write(&path, &bytes).unwrap();
        let lock = lock(dir);
        let (_journal, recovery) = lock.open_journal().unwrap();
        assert_eq!(recovery.replayed_records, 2);
        assert!(recovery.discarded_torn_line);
        assert!(recovery.pending_creates.is_empty());
    }

    #[tokio::test]
    async fn malformed_line_in_the_middle_is_corrupt_and_untouched() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        {
            let lock = lock(dir);
            let (journal, _) = lock.open_journal().unwrap();
            journal
                .append(Record::Intent(intent("aws_vpc.a", "ta")))
                .await
                .unwrap();
        }
        let path = dir.join(JOURNAL_FILE);
        let mut bytes = fs::read(&path).unwrap();
        bytes.extend_from_slice(b"{\"op\":\"created\",\"address\":\n");
        bytes.extend(encode(&WireOut::NotCreated { token: "ta" }).unwrap());
        fs::write(&path, &bytes).unwrap();
        let lock = lock(dir);
        let err = lock.open_journal().unwrap_err();
        assert!(
            matches!(&err, StateError::Corrupt { line: 3, path: p, .. } if p == &path),
            "{err:?}"
        );
        assert_eq!(fs::read(&path).unwrap(), bytes);
        // A failed open does not leave the lock thinking a journal is open.
        assert!(matches!(
            lock.open_journal(),
            Err(StateError::Corrupt { .. })
        ));
        assert_eq!(fs::read(&path).unwrap(), bytes);
    }

    #[tokio::test]
    async fn journal_of_another_lineage_is_corrupt() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        {
            let lock = lock(dir);
            let (journal, _) = lock.open_journal().unwrap();
            journal
                .append(Record::Intent(intent("aws_vpc.a", "ta")))
                .await
                .unwrap();
            // Simulate another stack's state.json appearing next to the journal.
            let other = State::new();
            fs::write(dir.join(STATE_FILE), other.to_json_pretty().unwrap()).unwrap();
        }
        let journal_bytes = fs::read(dir.join(JOURNAL_FILE)).unwrap();
        let state_bytes = fs::read(dir.join(STATE_FILE)).unwrap();
        let lock = lock(dir);
        let err = lock.open_journal().unwrap_err();
        assert!(
            matches!(&err, StateError::Corrupt { line: 1, message, .. } if message.contains("lineage")),
            "{err:?}"
        );
        assert_eq!(fs::read(dir.join(JOURNAL_FILE)).unwrap(), journal_bytes);
        assert_eq!(fs::read(dir.join(STATE_FILE)).unwrap(), state_bytes);
    }

    #[tokio::test]
    async fn journal_ahead_of_state_is_corrupt() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let lock = lock(dir);
        let state = State::new();
        lock.write_state(&state).unwrap();
        let header = encode(&WireOut::Begin {
            lineage: &state.lineage,
            base_serial: 5,
        })
        .unwrap();
        fs::write(dir.join(JOURNAL_FILE), header).unwrap();
        let err = lock.open_journal().unwrap_err();
        assert!(
            matches!(&err, StateError::Corrupt { message, .. } if message.contains("serial 5")),
            "{err:?}"
        );
    }

    #[tokio::test]
    async fn the_backup_keeps_the_state_from_before_the_run() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let lock = lock(dir);
        let mut before = State::new();
        before.upsert_resource(resource("aws_vpc.old"));
        let serial = lock.write_state(&before).unwrap();
        let (journal, _) = lock
            .open_journal_with(JournalOptions {
                compact_every: 5,
                grow_with_state: false,
            })
            .unwrap();
        for i in 0..12 {
            journal
                .append(Record::Created(resource(&format!("aws_vpc.r[{i}]"))))
                .await
                .unwrap();
        }
        assert_eq!(journal.compaction_count(), 2);
        let backup = load_state_file(&dir.join(BACKUP_FILE)).unwrap().unwrap();
        assert_eq!(backup.serial, serial, "not a snapshot taken during the run");
        assert_eq!(backup.resources.len(), 1);
    }

    #[tokio::test]
    async fn compaction_waits_until_the_journal_outgrows_the_state() {
        let tmp = tempfile::tempdir().unwrap();
        let lock = lock(tmp.path());
        let (journal, _) = lock
            .open_journal_with(JournalOptions {
                compact_every: 10,
                grow_with_state: true,
            })
            .unwrap();
        for i in 0..15 {
            let address = format!("aws_vpc.r[{i}]");
            journal
                .append(Record::Intent(intent(&address, &format!("t{i}"))))
                .await
                .unwrap();
            let mut created = resource(&address);
            created.create_token = Some(format!("t{i}"));
            journal.append(Record::Created(created)).await.unwrap();
        }
        // After 5 creates (10 records) the state held 5 resources: compact. After that the
        // journal never holds twice as many records as the state has resources: wait.
        assert_eq!(journal.compaction_count(), 1);
        assert_eq!(journal.with_state(|s| s.resources.len()), 15);
        assert!(journal.pending_intents().is_empty());
    }

    #[tokio::test]
    async fn auto_compaction_every_n_records_keeps_the_journal_short() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let lock = lock(dir);
        let (journal, _) = lock
            .open_journal_with(JournalOptions {
                compact_every: 10,
                grow_with_state: false,
            })
            .unwrap();
        // An intent left pending across compactions must survive them.
        journal
            .append(Record::Intent(intent("aws_vpc.slow", "slow")))
            .await
            .unwrap();
        for i in 0..24 {
            journal
                .append(Record::Created(resource(&format!("aws_vpc.r[{i}]"))))
                .await
                .unwrap();
        }
        assert_eq!(journal.compaction_count(), 2);
        let on_disk = load_state_file(&dir.join(STATE_FILE)).unwrap().unwrap();
        assert_eq!(on_disk.serial, 2);
        assert_eq!(on_disk.resources.len(), 19);
        let backup = load_state_file(&dir.join(BACKUP_FILE)).unwrap().unwrap();
        assert_eq!(backup.serial, 1);
        let journal_lines = lines(&dir.join(JOURNAL_FILE));
        assert_eq!(journal_lines[0]["op"], "begin");
        assert_eq!(journal_lines[0]["base_serial"], 2);
        assert_eq!(journal_lines[1]["token"], "slow");
        assert_eq!(journal_lines.len(), 2 + 5);

        // A crash now recovers everything, including the carried intent.
        drop(journal);
        let (journal, recovery) = lock.open_journal().unwrap();
        assert_eq!(
            recovery.pending_creates,
            vec![intent("aws_vpc.slow", "slow")]
        );
        assert_eq!(journal.with_state(|s| s.resources.len()), 24);
        // Commit with the intent unresolved keeps it in a journal rather than losing it.
        let state = journal.commit().await.unwrap();
        assert_eq!(state.serial, 3);
        assert_eq!(state.resources.len(), 24);
        assert_eq!(lines(&dir.join(JOURNAL_FILE)).len(), 2);
        drop(journal);
        let (journal, recovery) = lock.open_journal().unwrap();
        assert_eq!(recovery.pending_creates.len(), 1);
        journal.resolve_intent("slow").await.unwrap();
        assert_eq!(journal.commit().await.unwrap().serial, 4);
        assert!(!dir.join(JOURNAL_FILE).exists());
    }

    #[tokio::test]
    async fn journal_from_before_a_compaction_rename_replays_idempotently() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        let lock = lock(dir);
        let (journal, _) = lock.open_journal().unwrap();
        journal
            .append(Record::Intent(intent("aws_vpc.a", "ta")))
            .await
            .unwrap();
        journal
            .append(Record::Created(created("aws_vpc.a", "ta")))
            .await
            .unwrap();
        journal
            .append(Record::Intent(intent("aws_vpc.b", "tb")))
            .await
            .unwrap();
        drop(journal);
        let old_journal = fs::read(dir.join(JOURNAL_FILE)).unwrap();
        // Crash right after state.json was renamed during compaction: state.json has
        // serial 1 but the old journal (base 0) is still there.
        let (journal, _) = lock.open_journal().unwrap();
        let merged = journal.commit().await.unwrap();
        drop(journal);
        assert_eq!(merged.serial, 1);
        fs::write(dir.join(JOURNAL_FILE), &old_journal).unwrap();
        let (journal, recovery) = lock.open_journal().unwrap();
        assert_eq!(recovery.pending_creates, vec![intent("aws_vpc.b", "tb")]);
        assert_eq!(
            journal.with_state(|s| s.resources.clone()),
            merged.resources
        );
    }

    #[tokio::test]
    async fn header_only_torn_journal_is_discarded() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path();
        fs::write(dir.join(JOURNAL_FILE), b"{\"op\":\"beg").unwrap();
        let lock = lock(dir);
        let (journal, recovery) = lock.open_journal().unwrap();
        assert!(recovery.discarded_torn_line);
        assert_eq!(recovery.replayed_records, 0);
        assert!(!dir.join(JOURNAL_FILE).exists());
        journal
            .append(Record::Created(resource("aws_vpc.a")))
            .await
            .unwrap();
        assert_eq!(lines(&dir.join(JOURNAL_FILE)).len(), 2);
    }

    #[tokio::test]
    async fn a_failed_write_stops_the_journal() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("backend");
        let lock = lock(&dir);
        let (journal, _) = lock
            .open_journal_with(JournalOptions {
                compact_every: 1,
                grow_with_state: false,
            })
            .unwrap();
        journal
            .append(Record::Created(resource("aws_vpc.a")))
            .await
            .unwrap();
        // Compaction runs after the acknowledgement; wait for it.
        let start = std::time::Instant::now();
        while journal.compaction_count() == 0 {
            assert!(start.elapsed() < Duration::from_secs(10));
            std::thread::sleep(Duration::from_millis(1));
        }
        // Compacted: the next append creates a new journal file, which now cannot work.
        fs::remove_dir_all(&dir).unwrap();
        let err = journal
            .append(Record::Created(resource("aws_vpc.b")))
            .await
            .unwrap_err();
        assert!(matches!(err, StateError::Io { .. }), "{err:?}");
        let err = journal
            .append(Record::Created(resource("aws_vpc.c")))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, StateError::JournalClosed { reason } if reason.contains("earlier write failed")),
            "{err:?}"
        );
        assert!(journal.commit().await.is_err());
        assert!(!journal.with_state(|s| s.resources.contains_key("aws_vpc.b")));
    }

    /// Environment variable naming the directory of a [`crash_child`] run.
    const CRASH_DIR: &str = "GANTRY_TEST_JOURNAL_CRASH_DIR";

    /// The simulated cloud of the crash test: `+token` when an object is created, `-token`
    /// when deleted. Each line is one `write` on an `O_APPEND` file, so it survives SIGKILL.
    fn cloud_objects(root: &Path) -> (std::collections::BTreeSet<String>, usize) {
        let text = fs::read_to_string(root.join("cloud.log")).unwrap_or_default();
        let mut live = std::collections::BTreeSet::new();
        let mut ever = 0;
        for line in text.lines() {
            if let Some(token) = line.strip_prefix('+') {
                live.insert(token.to_owned());
                ever += 1;
            } else if let Some(token) = line.strip_prefix('-') {
                live.remove(token);
            }
        }
        (live, ever)
    }

    fn cloud_write(root: &Path, line: String) {
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(root.join("cloud.log"))
            .unwrap();
        log.write_all(line.as_bytes()).unwrap();
    }

    /// Resolves pending creates against the simulated cloud, as the engine would.
    async fn adopt_or_drop(journal: &Journal, pending: &[Intent], root: &Path) {
        let (live, _) = cloud_objects(root);
        for intent in pending {
            if live.contains(&intent.token) {
                journal
                    .append(Record::Created(created(&intent.address, &intent.token)))
                    .await
                    .unwrap();
            } else {
                journal.resolve_intent(&intent.token).await.unwrap();
            }
        }
    }

    /// The process the crash test kills: 8 tasks creating (and sometimes deleting) objects
    /// in the simulated cloud through the journal, compacting every 11 records, until killed.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "helper process of sigkill_at_any_instant_loses_no_created_object"]
    async fn crash_child() {
        let Ok(root) = std::env::var(CRASH_DIR) else {
            return;
        };
        let root = PathBuf::from(root);
        let lock = lock(&root.join(".gantry"));
        let (journal, recovery) = lock
            .open_journal_with(JournalOptions {
                compact_every: 11,
                grow_with_state: false,
            })
            .unwrap();
        adopt_or_drop(&journal, &recovery.pending_creates, &root).await;
        let deadline = std::time::Instant::now() + Duration::from_secs(20);
        let mut tasks = Vec::new();
        for worker in 0..8 {
            let journal = journal.clone();
            let root = root.clone();
            tasks.push(tokio::spawn(async move {
                let mut n = 0u64;
                while std::time::Instant::now() < deadline {
                    n += 1;
                    let token = uuid::Uuid::new_v4().to_string();
                    let address = format!("sim_thing.t[\"{token}\"]");
                    journal
                        .append(Record::Intent(intent(&address, &token)))
                        .await
                        .unwrap();
                    cloud_write(&root, format!("+{token}\n"));
                    journal
                        .append(Record::Created(created(&address, &token)))
                        .await
                        .unwrap();
                    if (n + worker).is_multiple_of(5) {
                        cloud_write(&root, format!("-{token}\n"));
                        journal.append(Record::Deleted { address }).await.unwrap();
                    }
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    }

    #[tokio::test]
    async fn sigkill_at_any_instant_loses_no_created_object() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let backend = root.join(".gantry");
        let exe = std::env::current_exe().unwrap();
        for round in 0..12u64 {
            let before = cloud_objects(root).1;
            let stderr = File::create(root.join("child.stderr")).unwrap();
            let mut child = std::process::Command::new(&exe)
                .args([
                    "--exact",
                    "state::journal::tests::crash_child",
                    "--ignored",
                    "--nocapture",
                ])
                .env(CRASH_DIR, root)
                .stdout(std::process::Stdio::null())
                .stderr(stderr)
                .spawn()
                .unwrap();
            // Let it make progress, then kill it at a different moment each round.
            let start = std::time::Instant::now();
            while cloud_objects(root).1 <= before {
                if let Some(status) = child.try_wait().unwrap() {
                    let log = fs::read_to_string(root.join("child.stderr")).unwrap();
                    panic!("child exited early ({status}):\n{log}");
                }
                assert!(
                    start.elapsed() < Duration::from_secs(30),
                    "child made no progress"
                );
                std::thread::sleep(Duration::from_millis(1));
            }
            std::thread::sleep(Duration::from_millis(round * 7 % 40));
            child.kill().unwrap();
            child.wait().unwrap();

            // The OS released the dead child's lock; its record can be cleared by id.
            let stale: LockInfo =
                serde_json::from_slice(&fs::read(backend.join(crate::state::LOCK_FILE)).unwrap())
                    .unwrap();
            assert_ne!(stale.pid, std::process::id());
            if round % 2 == 0 {
                assert_eq!(
                    crate::state::force_unlock(&backend, &stale.id).unwrap(),
                    stale
                );
            }
            let lock = lock(&backend);
            let (journal, recovery) = lock.open_journal().unwrap();
            let (live, _) = cloud_objects(root);
            let known: std::collections::BTreeSet<String> = journal.with_state(|s| {
                s.resources
                    .values()
                    .filter_map(|r| r.create_token.clone())
                    .collect()
            });
            let pending: std::collections::BTreeSet<String> = recovery
                .pending_creates
                .iter()
                .map(|i| i.token.clone())
                .collect();
            let lost: Vec<&String> = live
                .iter()
                .filter(|t| !known.contains(*t) && !pending.contains(*t))
                .collect();
            assert!(
                lost.is_empty(),
                "round {round}: objects unknown to state: {lost:?}"
            );
            if round % 3 == 2 {
                // Sometimes finish the recovery here, as a following apply would.
                adopt_or_drop(&journal, &recovery.pending_creates, root).await;
                journal.commit().await.unwrap();
            }
        }
        // Final recovery: afterwards state knows every live object and nothing else.
        let lock = lock(&backend);
        let (journal, recovery) = lock.open_journal().unwrap();
        adopt_or_drop(&journal, &recovery.pending_creates, root).await;
        let state = journal.commit().await.unwrap();
        let (live, ever) = cloud_objects(root);
        assert!(ever > 8, "the children created only {ever} objects");
        let known: std::collections::BTreeSet<String> = state
            .resources
            .values()
            .filter_map(|r| r.create_token.clone())
            .collect();
        assert!(live.is_subset(&known));
        // Objects deleted between the cloud call and its record may linger in state (a
        // refresh drops them), but nothing the cloud never created appears.
        let all_created: std::collections::BTreeSet<String> =
            fs::read_to_string(root.join("cloud.log"))
                .unwrap()
                .lines()
                .filter_map(|l| l.strip_prefix('+').map(str::to_owned))
                .collect();
        assert!(known.is_subset(&all_created));
        assert!(!backend.join(JOURNAL_FILE).exists());
    }
}

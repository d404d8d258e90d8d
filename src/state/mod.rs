//! State: what gantry has created, where, and how to never lose track of it.
//!
//! A local backend is one directory, `<stack>/.gantry/` (or `<stack>/.gantry/sim/` under
//! `--sim`; the caller picks it), created with mode 0700. Each file in it and the code that
//! owns it:
//!
//! | file | contents | owner |
//! |---|---|---|
//! | `state.json` | the [`State`]: pretty JSON, mode 0600, `version`/`lineage`/`serial` | [`model`] (format), [`local`] (atomic write: temp file, fsync, rename, fsync dir); during an apply, [`journal`] compactions |
//! | `state.json.backup` | the previous `state.json`, written atomically before each replacement (an apply keeps the one from before it) | [`local::persist_state`](local), [`journal`] compactions |
//! | `journal.ndjson` | operations since the last compaction, one JSON record a line, after a `begin` header | [`journal`]: records, header, replay; the file mechanics are [`gantry_grouplog`]'s |
//! | `state.lock` | the OS lock ([`std::fs::File::try_lock`]) and, while held, the holder's [`LockInfo`] | [`local`]: [`LocalBackend::lock`], [`force_unlock`] |
//! | `.state.json.tmp`, `.state.json.backup.tmp`, `.journal.ndjson.tmp` | only during an atomic write | [`local`], [`gantry_grouplog`] |
//!
//! An apply takes the lock, opens the journal ([`StateLock::open_journal`], which replays a
//! journal left by a crash and reports creates whose outcome is unknown), appends an
//! [`Intent`] before each create and the result after, and ends with [`Journal::commit`].
//! The journal's group commit (one writer thread, one write and one fsync per batch), its
//! compaction into `state.json` (backup, atomic replace, new journal carrying the pending
//! intents) and the crash-tolerant reading of `journal.ndjson` are the shared
//! [`gantry_grouplog`] crate, which also keeps the simulated cloud's world; [`journal`]
//! owns what the lines mean.
//! The state commands use [`ops`] on a state read and written through the lock.
//!
//! A remote backend ([`remote`], `backend "s3"`) runs this same code on a working copy in
//! `.gantry/remote/<workspace>/`, forwarding every write to the store, fenced, under a lock
//! object with a heartbeat; [`encryption`] seals what reaches the disk or the store.
//! [`error`] holds the one error type, [`StateError`].

pub mod backend;
pub mod encryption;
pub mod error;
pub mod journal;
pub mod local;
pub mod model;
pub mod ops;
pub mod remote;
pub mod takeover;
pub mod workspace;

pub use error::StateError;
pub use journal::{Intent, Journal, JournalOptions, Record, Recovery, DEFAULT_COMPACT_EVERY};
pub use local::{
    force_unlock, LocalBackend, LockInfo, StateLock, BACKUP_FILE, JOURNAL_FILE, LOCK_FILE,
    STATE_FILE,
};
pub use model::{
    ModulePlacement, OutputState, Placement, ResourceMode, ResourceState, State, FORMAT_VERSION,
};

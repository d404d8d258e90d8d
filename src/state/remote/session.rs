//! One run's hold on a remote backend: copying state and journal to the working directory
//! ([`materialize`]), and forwarding every write back, fenced ([`RemoteSession`]).

use super::lock::HeldLock;
use super::Remote;
use crate::state::error::StateError;
use crate::state::local::{remove_if_exists, write_atomic, JOURNAL_FILE, STATE_FILE};
use gantry_provider::{Precondition, StoreError, Version};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

/// Attempts of a remote write before a transient failure is reported.
const PUT_ATTEMPTS: u32 = 4;

/// How a journal line that starts a log begins (see `journal::begin_line`).
const BEGIN: &[u8] = b"{\"op\":\"begin\"";

/// What a remote backend held when it was read.
#[derive(Debug, Default)]
pub struct Snapshot {
    /// The state's version, `None` when there is no state yet.
    pub state_version: Option<Version>,
    /// Every journal segment key, in order (the older ones are garbage of a compaction a
    /// crash interrupted; the next compaction deletes them).
    pub segments: Vec<String>,
    /// The sequence number the next segment gets.
    pub next_segment: u64,
}

/// Copies the remote state and journal into `dir`, replacing whatever local copy is
/// there, and says what was read.
pub fn materialize(
    remote: &Arc<Remote>,
    dir: &Path,
    codec: &crate::state::encryption::Codec,
) -> Result<Snapshot, StateError> {
    let r = Arc::clone(remote);
    let (state, segments) = remote
        .block_on(async move {
            // An unlocked reader (a plan) may race a compaction: read until the state did
            // not change while the journal was read, so the two belong together.
            let mut attempts = 0;
            loop {
                let state = r.store.get(&r.keys.state).await?;
                let keys = r.store.list(&r.keys.journal).await?;
                let mut segments = Vec::with_capacity(keys.len());
                for key in keys {
                    if let Some(obj) = r.store.get(&key).await? {
                        segments.push((key, obj.bytes));
                    }
                }
                let again = r.store.get(&r.keys.state).await?;
                let version = |o: &Option<gantry_provider::StoredObject>| {
                    o.as_ref().map(|o| o.version.clone())
                };
                attempts += 1;
                if version(&state) == version(&again) || attempts >= 5 {
                    break Ok::<_, StoreError>((again, segments));
                }
            }
        })
        .map_err(|e| remote.error(&e))?;
    crate::state::local::create_dir_private(dir)?;
    let state_version = match state {
        Some(obj) => {
            write_atomic(dir, STATE_FILE, &obj.bytes)?;
            Some(obj.version)
        }
        None => {
            remove_if_exists(&dir.join(STATE_FILE))?;
            None
        }
    };
    let mut next_segment = 0;
    for (key, _) in &segments {
        let seq = key
            .strip_prefix(&remote.keys.journal)
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or_else(|| StateError::Remote {
                location: remote.location(),
                message: format!("`{key}` is not a journal segment gantry wrote; move it away"),
            })?;
        let after = seq.checked_add(1).ok_or_else(|| StateError::Remote {
            location: remote.location(),
            message: format!("`{key}` has the largest sequence number there is; move it away"),
        })?;
        next_segment = next_segment.max(after);
    }
    let base = segments
        .iter()
        .rposition(|(_, bytes)| bytes.starts_with(BEGIN));
    let journal: Option<Vec<u8>> = match base {
        Some(base) => Some(
            segments[base..]
                .iter()
                .flat_map(|(_, bytes)| bytes.iter().copied())
                .collect(),
        ),
        // Segments without a beginning were written by a run after its successor had
        // compacted everything (it had lost the lock without knowing yet). What they record
        // (creates above all) must not be lost: replay them onto the current state.
        None if !segments.is_empty() => Some(orphan_journal(remote, dir, &segments, codec)?),
        None => None,
    };
    match journal {
        Some(journal) => write_atomic(dir, JOURNAL_FILE, &journal)?,
        None => remove_if_exists(&dir.join(JOURNAL_FILE))?,
    }
    Ok(Snapshot {
        state_version,
        next_segment,
        segments: segments.into_iter().map(|(k, _)| k).collect(),
    })
}

/// A journal for segments that have no `begin` line: one naming the current state, then
/// their records.
fn orphan_journal(
    remote: &Remote,
    dir: &Path,
    segments: &[(String, Vec<u8>)],
    codec: &crate::state::encryption::Codec,
) -> Result<Vec<u8>, StateError> {
    let path = dir.join(STATE_FILE);
    let Some(state) = crate::state::local::load_state_file_with(&path, codec)? else {
        return Err(StateError::Remote {
            location: remote.location(),
            message: format!(
                "journal segments {} have no state to apply to; move them away after checking what they record",
                segments.iter().map(|(k, _)| format!("`{k}`")).collect::<Vec<_>>().join(", ")
            ),
        });
    };
    tracing::warn!(
        "{} journal segment(s) of a run that lost its lock are replayed",
        segments.len()
    );
    // Sealed records are bound to the base serial of the journal they were written to: the
    // synthesised `begin` must name it, or they would not open.
    let sealed_serial = segments
        .first()
        .and_then(|(_, bytes)| bytes.split(|b| *b == b'\n').next())
        .filter(|line| line.starts_with(b"{\"op\":\"sealed\""))
        .and_then(|line| serde_json::from_slice::<serde_json::Value>(line).ok())
        .filter(|v| v["lineage"].as_str() == Some(state.lineage.as_str()))
        .and_then(|v| v["serial"].as_u64())
        .filter(|serial| *serial <= state.serial);
    let mut journal = serde_json::to_vec(&serde_json::json!({
        "op": "begin",
        "lineage": state.lineage,
        "base_serial": sealed_serial.unwrap_or(state.serial),
    }))
    .map_err(StateError::Encode)?;
    journal.push(b'\n');
    for (_, bytes) in segments {
        journal.extend_from_slice(bytes);
    }
    Ok(journal)
}

/// A locked remote backend attached to a [`StateLock`](crate::state::StateLock): the
/// journal's [`Mirror`](gantry_grouplog::Mirror) and the uploader of state writes.
#[derive(Debug)]
pub struct RemoteSession {
    remote: Arc<Remote>,
    lock: HeldLock,
    inner: Mutex<Uploaded>,
}

#[derive(Debug)]
struct Uploaded {
    state_version: Option<Version>,
    segments: Vec<String>,
    next_segment: u64,
}

impl RemoteSession {
    pub fn new(remote: Arc<Remote>, lock: HeldLock, snapshot: Snapshot) -> RemoteSession {
        RemoteSession {
            remote,
            lock,
            inner: Mutex::new(Uploaded {
                state_version: snapshot.state_version,
                segments: snapshot.segments,
                next_segment: snapshot.next_segment,
            }),
        }
    }

    pub fn remote(&self) -> &Arc<Remote> {
        &self.remote
    }

    fn uploaded(&self) -> std::sync::MutexGuard<'_, Uploaded> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Uploads `bytes` as the state, conditional on the version this run last saw.
    pub fn push_state(&self, bytes: &[u8]) -> Result<(), StateError> {
        self.lock.check()?;
        let mut up = self.uploaded();
        let condition = match &up.state_version {
            Some(v) => Precondition::Matches(v.clone()),
            None => Precondition::Absent,
        };
        let key = self.remote.keys.state.clone();
        match self.put(&key, bytes, condition) {
            Ok(v) => {
                up.state_version = Some(v);
                Ok(())
            }
            Err(StoreError::PreconditionFailed { .. }) => {
                self.lock
                    .mark_lost("the remote state changed under this run");
                Err(StateError::Fenced {
                    location: self.remote.location(),
                })
            }
            Err(e) => Err(self.remote.error(&e)),
        }
    }

    /// A conditional put that survives a lost answer: after any failure the object is read
    /// back, and if it holds exactly our bytes our write went through (an SDK retry of a
    /// write that had succeeded fails its precondition). Transient failures are retried.
    fn put(&self, key: &str, bytes: &[u8], condition: Precondition) -> Result<Version, StoreError> {
        let (r, key, bytes) = (Arc::clone(&self.remote), key.to_owned(), bytes.to_vec());
        self.remote.block_on(async move {
            let mut attempt = 0u32;
            loop {
                let error = match r.store.put(&key, bytes.clone(), condition.clone()).await {
                    Ok(v) => return Ok(v),
                    Err(e) => e,
                };
                if let Ok(Some(obj)) = r.store.get(&key).await {
                    if obj.bytes == bytes {
                        return Ok(obj.version);
                    }
                }
                attempt += 1;
                if !error.is_transient() || attempt >= PUT_ATTEMPTS {
                    return Err(error);
                }
                tokio::time::sleep(std::time::Duration::from_millis(100 << attempt)).await;
            }
        })
    }

    fn put_segment(&self, up: &mut Uploaded, bytes: &[u8]) -> Result<(), String> {
        let key = format!("{}{:012}", self.remote.keys.journal, up.next_segment);
        match self.put(&key, bytes, Precondition::Absent) {
            Ok(_) => {
                up.next_segment += 1;
                up.segments.push(key);
                Ok(())
            }
            Err(StoreError::PreconditionFailed { .. }) => {
                self.lock
                    .mark_lost("another run wrote the journal segment this run was about to write");
                Err(format!(
                    "journal segment `{key}` already exists: another run holds this state now"
                ))
            }
            Err(e) => Err(e.to_string()),
        }
    }

    /// Deletes every segment but the last `keep`.
    fn delete_segments(&self, up: &mut Uploaded, keep: usize) -> Result<(), String> {
        let cut = up.segments.len().saturating_sub(keep);
        let old: Vec<String> = up.segments.drain(..cut).collect();
        let r = Arc::clone(&self.remote);
        self.remote
            .block_on(async move {
                // Newest first: stopped half-way, what is left still starts with its
                // `begin` segment and replays (idempotently) as the journal it was.
                for key in old.into_iter().rev() {
                    r.store.delete(&key, Precondition::None).await?;
                }
                Ok::<_, StoreError>(())
            })
            .map_err(|e| e.to_string())
    }
}

impl gantry_grouplog::Mirror for RemoteSession {
    fn appended(&self, bytes: &[u8], starts_log: bool) -> Result<(), String> {
        self.lock.check().map_err(|e| e.to_string())?;
        let mut up = self.uploaded();
        self.put_segment(&mut up, bytes)?;
        if starts_log {
            // Anything before a new log's first segment is already in the state.
            self.delete_segments(&mut up, 1)?;
        }
        Ok(())
    }

    fn compacted(&self, snapshot: Option<&[u8]>, log: Option<&[u8]>) -> Result<(), String> {
        self.lock.check().map_err(|e| e.to_string())?;
        if let Some(snapshot) = snapshot {
            self.push_state(snapshot).map_err(|e| e.to_string())?;
        }
        let mut up = self.uploaded();
        match log {
            Some(log) => {
                self.put_segment(&mut up, log)?;
                self.delete_segments(&mut up, 1)
            }
            None => self.delete_segments(&mut up, 0),
        }
    }
}

/// Deletes a workspace's state and journal from the store, under the lock `_held` proves
/// is ours: the state only if it is still the version `snapshot` read (a writer that
/// slipped in since keeps its state), then the segments.
pub fn delete_state(
    remote: &Arc<Remote>,
    _held: &HeldLock,
    snapshot: &Snapshot,
) -> Result<(), StateError> {
    let r = Arc::clone(remote);
    let version = snapshot.state_version.clone();
    let segments = snapshot.segments.clone();
    remote
        .block_on(async move {
            if let Some(version) = version {
                r.store
                    .delete(&r.keys.state, Precondition::Matches(version))
                    .await?;
            }
            for key in segments {
                r.store.delete(&key, Precondition::None).await?;
            }
            Ok::<_, StoreError>(())
        })
        .map_err(|e| remote.error(&e))
}

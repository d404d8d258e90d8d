//! The lock object of a remote backend (`<state key>.lock`) and its heartbeat.
//!
//! **Taking it.** The lock is created with "only if absent" (`If-None-Match: *`). When that
//! fails, the holder is read back: if it is our own id, a response was lost (or the SDK
//! retried a request that had succeeded) and we hold it. Otherwise the holder is named.
//!
//! **Heartbeat.** While held, the lock body is rewritten every quarter of its
//! `stale_after_seconds`, each time conditional on the version we last wrote, so every write
//! changes the object's version. A runner that dies stops changing it.
//!
//! **Stale locks.** A waiting run (`--lock-timeout`) watches the holder's version on its own
//! clock; when it has not changed for the holder's `stale_after_seconds`, the holder is gone
//! and the lock is deleted conditional on that exact version, then taken as usual. A live
//! holder changes its version long before that, so it is never broken, and clocks of
//! different machines never matter. `gantry force-unlock ID` refuses a lock whose recorded
//! heartbeat is younger than its stale period.
//!
//! **Leases.** A store that leases the lock object (Azure Blob Storage) refuses anyone but
//! the holder a write or delete while the lease runs ([`StoreError::Leased`]); the heartbeat
//! renews it well within its term ([`gantry_provider::ObjectStore::renew_within`]), never an
//! infinite lease. A stale lock is then taken over only once its heartbeat has stopped for
//! the stale period *and* its lease has lapsed.
//!
//! **Lost lock.** A heartbeat refused because the version changed means another run took
//! the lock: the holder marks itself lost and every later remote write fails. Writes are
//! fenced as well ([`super::session`]), so even a write racing that discovery cannot
//! overwrite a newer state.

use super::Remote;
use crate::state::error::StateError;
use crate::state::local::LockInfo;
use gantry_provider::{Precondition, StoreError, StoredObject, Version};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How often a waiting run reads the lock again.
const POLL: Duration = Duration::from_millis(250);

/// What the lock object holds: who, since when, and the heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockBody {
    #[serde(flatten)]
    pub info: LockInfo,
    /// The last heartbeat, RFC 3339 in UTC (for people).
    pub heartbeat: String,
    /// The last heartbeat in milliseconds since the Unix epoch.
    pub heartbeat_unix_ms: u64,
    /// After how long without a heartbeat the holder counts as gone.
    pub stale_after_seconds: u64,
}

impl LockBody {
    fn new(info: &LockInfo, stale_after: Duration) -> LockBody {
        let mut body = LockBody {
            info: info.clone(),
            heartbeat: String::new(),
            heartbeat_unix_ms: 0,
            stale_after_seconds: stale_after.as_secs().max(1),
        };
        body.beat();
        body
    }

    fn beat(&mut self) {
        let now = SystemTime::now();
        self.heartbeat = crate::state::local::rfc3339(now);
        self.heartbeat_unix_ms = now
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as u64);
    }

    fn to_bytes(&self) -> Vec<u8> {
        let mut bytes = serde_json::to_vec_pretty(self).unwrap_or_default();
        bytes.push(b'\n');
        bytes
    }

    fn stale_after(&self) -> Duration {
        Duration::from_secs(self.stale_after_seconds.max(1))
    }

    /// How long ago the holder last beat, by this machine's clock (`None` if in the future).
    pub fn heartbeat_age(&self) -> Option<Duration> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .ok()?
            .as_millis() as u64;
        now.checked_sub(self.heartbeat_unix_ms)
            .map(Duration::from_millis)
    }
}

/// The holder of a lock object, as read; a body that does not parse names nobody.
fn holder(object: &StoredObject) -> Option<LockBody> {
    serde_json::from_slice(&object.bytes).ok()
}

/// A held lock: its heartbeat runs until [`HeldLock::release`] or drop.
#[derive(Debug)]
pub struct HeldLock {
    remote: Arc<Remote>,
    body: LockBody,
    state: Arc<Beat>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

/// What the heartbeat and the holder share.
#[derive(Debug)]
struct Beat {
    /// The version we last wrote; the heartbeat holds it while it writes.
    version: tokio::sync::Mutex<Version>,
    stop: AtomicBool,
    wake: tokio::sync::Notify,
    /// Why the lock is no longer ours, once it is not.
    lost: Mutex<Option<String>>,
    /// When the lock object last held our heartbeat for sure.
    last_beat: Mutex<Instant>,
    stale_after: Duration,
}

impl Beat {
    fn beat_ok(&self) {
        *self
            .last_beat
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }
}

impl HeldLock {
    /// What this lock recorded.
    pub fn info(&self) -> &LockInfo {
        &self.body.info
    }

    /// `Err` once the lock is known to be lost; checked before every remote write.
    ///
    /// Also `Err` once the heartbeat has not been confirmed for half the stale period: a
    /// runner that was paused (a stopped VM, a swapped-out process) while another run took
    /// its lock over must not write. A waiting run takes a lock only after watching it
    /// unchanged for the whole stale period, so a holder that may still write has beaten
    /// within it.
    pub fn check(&self) -> Result<(), StateError> {
        let since = self
            .state
            .last_beat
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .elapsed();
        if since >= self.state.stale_after / 2 {
            self.mark_lost(&format!(
                "its heartbeat was last confirmed {:.1}s ago, too long to be sure no other run took it over",
                since.as_secs_f64()
            ));
        }
        let lost = self
            .state
            .lost
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        match &*lost {
            Some(reason) => Err(StateError::LockLost {
                location: self.remote.location(),
                reason: reason.clone(),
            }),
            None => Ok(()),
        }
    }

    /// Marks the lock lost (a fenced write found a newer state).
    pub fn mark_lost(&self, reason: &str) {
        let mut lost = self
            .state
            .lost
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        lost.get_or_insert_with(|| reason.to_owned());
    }

    /// Stops the heartbeat and deletes the lock object if it is still ours.
    pub fn release(&self) {
        let task = self
            .task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let Some(task) = task else {
            return;
        };
        self.state.stop.store(true, Ordering::SeqCst);
        self.state.wake.notify_one();
        let (remote, state, key) = (
            Arc::clone(&self.remote),
            Arc::clone(&self.state),
            self.remote.keys.lock.clone(),
        );
        let result = self.remote.block_on(async move {
            let _ = task.await;
            let version = state.version.lock().await.clone();
            remote
                .store
                .delete(&key, Precondition::Matches(version))
                .await
        });
        match result {
            Ok(()) => {}
            // Someone took it over: it is not ours to delete.
            Err(StoreError::PreconditionFailed { .. } | StoreError::Leased { .. }) => {}
            Err(e) => tracing::warn!("could not release the state lock: {e}"),
        }
    }
}

impl Drop for HeldLock {
    fn drop(&mut self) {
        self.release();
    }
}

/// Takes the lock of `remote` for `info`, waiting up to `wait` (see the module docs).
pub fn acquire(
    remote: &Arc<Remote>,
    info: LockInfo,
    wait: Duration,
) -> Result<HeldLock, StateError> {
    let body = LockBody::new(&info, remote.stale_after);
    let version = remote.block_on(acquire_async(Arc::clone(remote), body.clone(), wait))?;
    let state = Arc::new(Beat {
        version: tokio::sync::Mutex::new(version),
        stop: AtomicBool::new(false),
        wake: tokio::sync::Notify::new(),
        lost: Mutex::new(None),
        last_beat: Mutex::new(Instant::now()),
        stale_after: body.stale_after(),
    });
    let task = remote.spawn(heartbeat(
        Arc::clone(remote),
        body.clone(),
        Arc::clone(&state),
    ));
    Ok(HeldLock {
        remote: Arc::clone(remote),
        body,
        state,
        task: Mutex::new(Some(task)),
    })
}

async fn acquire_async(
    remote: Arc<Remote>,
    mut body: LockBody,
    wait: Duration,
) -> Result<Version, StateError> {
    let key = remote.keys.lock.clone();
    let start = Instant::now();
    // The holder's version and when we first saw it, on our own clock.
    let mut watched: Option<(Version, Instant)> = None;
    loop {
        body.beat();
        let attempt = remote
            .store
            .put(&key, body.to_bytes(), Precondition::Absent)
            .await;
        let put_error = match attempt {
            Ok(version) => return Ok(version),
            Err(e) => e,
        };
        let current = remote.store.get(&key).await.map_err(|e| remote.error(&e))?;
        let Some(current) = current else {
            if let StoreError::Failed { .. } = put_error {
                return Err(remote.error(&put_error));
            }
            // Released between our two requests: try again.
            continue;
        };
        let holder = holder(&current);
        if holder.as_ref().is_some_and(|h| h.info.id == body.info.id) {
            // Our create succeeded and its answer was lost.
            return Ok(current.version);
        }
        if let StoreError::Failed { .. } = put_error {
            return Err(remote.error(&put_error));
        }
        let stale_after = holder
            .as_ref()
            .map_or(remote.stale_after, LockBody::stale_after);
        match &watched {
            Some((version, since)) if *version == current.version => {
                if since.elapsed() >= stale_after && !wait.is_zero() {
                    tracing::warn!(
                        "taking over the state lock {}: its heartbeat stopped {:?} ago",
                        holder.as_ref().map_or("", |h| h.info.id.as_str()),
                        since.elapsed()
                    );
                    match remote
                        .store
                        .delete(&key, Precondition::Matches(current.version.clone()))
                        .await
                    {
                        Ok(()) | Err(StoreError::PreconditionFailed { .. }) => {
                            watched = None;
                            continue;
                        }
                        // The heartbeat stopped but the holder's lease has not lapsed yet:
                        // the lease, not our clock, says when it is gone. Keep watching.
                        Err(StoreError::Leased { .. }) => {}
                        Err(e) => return Err(remote.error(&e)),
                    }
                }
            }
            _ => watched = Some((current.version.clone(), Instant::now())),
        }
        let waited = start.elapsed();
        if waited >= wait {
            return Err(StateError::RemoteLocked {
                location: remote.location(),
                heartbeat_age: holder.as_ref().and_then(LockBody::heartbeat_age),
                stale_after,
                holder: holder.map_or_else(LockInfo::unknown, |h| h.info),
                waited: (!wait.is_zero()).then_some(waited),
            });
        }
        tokio::time::sleep(POLL.min(wait - waited)).await;
    }
}

/// Rewrites the lock body every quarter of its stale period until told to stop or lost.
async fn heartbeat(remote: Arc<Remote>, mut body: LockBody, state: Arc<Beat>) {
    // Often enough for the heartbeat to show, and for a store's lease to be renewed
    // before it lapses.
    let mut every = body.stale_after() / 4;
    if let Some(term) = remote.store.renew_within() {
        every = every.min(term / 3);
    }
    let every = every.max(Duration::from_millis(200));
    let mut last_ok = Instant::now();
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = state.wake.notified() => {}
        }
        if state.stop.load(Ordering::SeqCst) {
            return;
        }
        let mut version = state.version.lock().await;
        if state.stop.load(Ordering::SeqCst) {
            return;
        }
        body.beat();
        let bytes = body.to_bytes();
        match remote
            .store
            .put(
                &remote.keys.lock,
                bytes.clone(),
                Precondition::Matches(version.clone()),
            )
            .await
        {
            Ok(v) => {
                *version = v;
                last_ok = Instant::now();
                state.beat_ok();
            }
            Err(StoreError::PreconditionFailed { .. } | StoreError::Leased { .. }) => {
                match remote.store.get(&remote.keys.lock).await {
                    // Still ours: an earlier beat whose answer was lost went through.
                    Ok(Some(obj)) if holder(&obj).is_some_and(|h| h.info.id == body.info.id) => {
                        *version = obj.version;
                        last_ok = Instant::now();
                        state.beat_ok();
                    }
                    _ => {
                        let mut lost = state.lost.lock().unwrap_or_else(PoisonError::into_inner);
                        lost.get_or_insert_with(|| {
                            "another run took the lock over (this run's heartbeat was refused)"
                                .to_owned()
                        });
                        return;
                    }
                }
            }
            Err(e) => {
                tracing::warn!("state lock heartbeat failed: {e}");
                if last_ok.elapsed() >= body.stale_after() / 2 {
                    let mut lost = state.lost.lock().unwrap_or_else(PoisonError::into_inner);
                    lost.get_or_insert_with(|| {
                        format!("its heartbeat failed for {:?}: {e}", last_ok.elapsed())
                    });
                    return;
                }
            }
        }
    }
}

/// `gantry force-unlock ID` on a remote backend: deletes the lock if it is `id` and its
/// heartbeat is older than its stale period.
pub fn force_unlock(remote: &Arc<Remote>, id: &str) -> Result<LockInfo, StateError> {
    let key = remote.keys.lock.clone();
    let r = Arc::clone(remote);
    let current = remote
        .block_on(async move { r.store.get(&key).await })
        .map_err(|e| remote.error(&e))?;
    let Some(current) = current else {
        return Err(StateError::NotLocked {
            dir: remote.location().into(),
        });
    };
    let Some(holder) = holder(&current) else {
        return Err(StateError::Remote {
            location: remote.location(),
            message: format!(
                "the lock object `{}` does not hold a gantry lock; delete it by hand if you are sure no run holds it",
                remote.keys.lock
            ),
        });
    };
    if holder.info.id != id {
        return Err(StateError::LockIdMismatch {
            given: id.to_owned(),
            holder: holder.info,
        });
    }
    if holder
        .heartbeat_age()
        .is_none_or(|age| age < holder.stale_after())
    {
        return Err(StateError::LockHeld {
            holder: holder.info,
        });
    }
    let (r, key) = (Arc::clone(remote), remote.keys.lock.clone());
    remote
        .block_on(async move {
            r.store
                .delete(&key, Precondition::Matches(current.version))
                .await
        })
        .map_err(|e| match e {
            StoreError::PreconditionFailed { .. } => StateError::Remote {
                location: remote.location(),
                message: "the lock changed while it was being removed: its holder is alive, or another run took it".into(),
            },
            StoreError::Leased { .. } => StateError::Remote {
                location: remote.location(),
                message: format!(
                    "the lock's lease is still held: its holder renewed it within the lease's term{}. A holder that died stops renewing, and the lease lapses by itself; run force-unlock again then",
                    remote.store.renew_within().map_or(String::new(), |t| format!(" ({} s)", t.as_secs()))
                ),
            },
            e => remote.error(&e),
        })?;
    Ok(holder.info)
}

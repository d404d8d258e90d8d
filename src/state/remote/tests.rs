//! The remote backend's protocol on an in-memory object store that keeps S3's conditional
//! contract (versions change on every write; `Absent` and `Matches` are checked atomically).
//! The S3 store itself is tested against moto in `tests/aws/remote_state.rs`.

#![allow(clippy::unwrap_used)]

use super::lock::{acquire, force_unlock};
use super::session::{materialize, RemoteSession};
use super::{Keys, Remote};
use crate::state::journal::tests::intent;
use crate::state::journal::Record;
use crate::state::model::tests::resource;
use crate::state::{LocalBackend, LockInfo, State, StateError};
use gantry_provider::{async_trait, ObjectStore, Precondition, StoreError, StoredObject, Version};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Debug, Default)]
struct MemoryStore {
    objects: Mutex<BTreeMap<String, (Vec<u8>, u64)>>,
    versions: AtomicU64,
    /// The next put is applied, then answered with a transient error (a lost response).
    lose_next_answer: AtomicBool,
}

impl MemoryStore {
    fn bytes(&self, key: &str) -> Option<Vec<u8>> {
        self.objects
            .lock()
            .unwrap()
            .get(key)
            .map(|(b, _)| b.clone())
    }

    /// Writes behind gantry's back, as another run (or a person) would: a new version.
    fn write_behind(&self, key: &str, bytes: Vec<u8>) {
        let v = self.versions.fetch_add(1, Ordering::SeqCst) + 1;
        self.objects.lock().unwrap().insert(key.into(), (bytes, v));
    }

    fn keys(&self) -> Vec<String> {
        self.objects.lock().unwrap().keys().cloned().collect()
    }

    fn check(
        &self,
        objects: &BTreeMap<String, (Vec<u8>, u64)>,
        key: &str,
        condition: &Precondition,
    ) -> Result<(), StoreError> {
        let current = objects.get(key).map(|(_, v)| v.to_string());
        let holds = match condition {
            Precondition::None => true,
            Precondition::Absent => current.is_none(),
            Precondition::Matches(v) => current.as_deref() == Some(v.0.as_str()),
        };
        if holds {
            Ok(())
        } else {
            Err(StoreError::PreconditionFailed { key: key.into() })
        }
    }
}

#[async_trait]
impl ObjectStore for MemoryStore {
    fn location(&self) -> String {
        "mem://bucket".into()
    }

    async fn get(&self, key: &str) -> Result<Option<StoredObject>, StoreError> {
        Ok(self
            .objects
            .lock()
            .unwrap()
            .get(key)
            .map(|(b, v)| StoredObject {
                bytes: b.clone(),
                version: Version(v.to_string()),
            }))
    }

    async fn put(
        &self,
        key: &str,
        bytes: Vec<u8>,
        condition: Precondition,
    ) -> Result<Version, StoreError> {
        let mut objects = self.objects.lock().unwrap();
        self.check(&objects, key, &condition)?;
        let v = self.versions.fetch_add(1, Ordering::SeqCst) + 1;
        objects.insert(key.into(), (bytes, v));
        if self.lose_next_answer.swap(false, Ordering::SeqCst) {
            return Err(StoreError::Failed {
                operation: "put",
                key: key.into(),
                message: "connection reset".into(),
                transient: true,
            });
        }
        Ok(Version(v.to_string()))
    }

    async fn delete(&self, key: &str, condition: Precondition) -> Result<(), StoreError> {
        let mut objects = self.objects.lock().unwrap();
        if matches!(condition, Precondition::Matches(_)) && !objects.contains_key(key) {
            return Err(StoreError::PreconditionFailed { key: key.into() });
        }
        self.check(&objects, key, &condition)?;
        objects.remove(key);
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .objects
            .lock()
            .unwrap()
            .keys()
            .filter(|k| k.starts_with(prefix))
            .cloned()
            .collect())
    }
}

fn remote(store: &Arc<MemoryStore>, stale_after: Duration) -> Arc<Remote> {
    Remote::with_store(
        Arc::clone(store) as Arc<dyn ObjectStore>,
        Keys::for_state("team/app.tfstate".into()),
        stale_after,
    )
    .unwrap()
}

/// A machine: a working directory locked locally and remotely, with the remote state
/// copied in.
fn open(remote: &Arc<Remote>, dir: &std::path::Path, wait: Duration) -> crate::state::StateLock {
    let local = LocalBackend::new(dir)
        .lock(LockInfo::new("apply"), Duration::ZERO)
        .unwrap();
    let held = acquire(remote, local.info().clone(), wait).unwrap();
    let snapshot = materialize(remote, dir, &crate::state::encryption::Codec::default()).unwrap();
    local.attach_remote(RemoteSession::new(Arc::clone(remote), held, snapshot))
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

#[test]
fn a_crashed_runs_intents_reach_the_next_machine_and_commit_cleans_up() {
    let store = Arc::new(MemoryStore::default());
    let remote = remote(&store, Duration::from_secs(60));
    let one = tempfile::tempdir().unwrap();
    let lock = open(&remote, one.path(), Duration::ZERO);
    let (journal, recovery) = lock.open_journal().unwrap();
    assert!(recovery.is_empty());
    let rt = rt();
    rt.block_on(journal.append(Record::Intent(intent("aws_vpc.a", "ta"))))
        .unwrap();
    let mut done = resource("aws_vpc.b");
    done.create_token = Some("tb".into());
    rt.block_on(journal.append(Record::Intent(intent("aws_vpc.b", "tb"))))
        .unwrap();
    rt.block_on(journal.append(Record::Created(done))).unwrap();
    // Acknowledged records are on the store before the append returns.
    let segments: Vec<String> = store
        .keys()
        .into_iter()
        .filter(|k| k.starts_with("team/app.tfstate.journal/"))
        .collect();
    assert!(!segments.is_empty());
    // The machine dies: nothing is committed, the lock stays behind.
    std::mem::forget(journal);
    std::mem::forget(lock);

    let two = tempfile::tempdir().unwrap();
    let remote2 = super::Remote::with_store(
        Arc::clone(&store) as Arc<dyn ObjectStore>,
        Keys::for_state("team/app.tfstate".into()),
        Duration::from_secs(60),
    )
    .unwrap();
    // The dead machine's lock is still there and looks alive to a run that does not wait.
    let local = LocalBackend::new(two.path())
        .lock(LockInfo::new("apply"), Duration::ZERO)
        .unwrap();
    let refused = acquire(&remote2, local.info().clone(), Duration::ZERO).unwrap_err();
    assert!(
        matches!(refused, StateError::RemoteLocked { .. }),
        "{refused}"
    );
    drop(local);
    // Remove it as an operator would (its heartbeat age is checked: make it old).
    let lock_key = "team/app.tfstate.lock";
    let mut body: serde_json::Value =
        serde_json::from_slice(&store.bytes(lock_key).unwrap()).unwrap();
    body["heartbeat_unix_ms"] = serde_json::json!(0);
    let id = body["id"].as_str().unwrap().to_owned();
    store.write_behind(lock_key, serde_json::to_vec(&body).unwrap());
    force_unlock(&remote2, &id).unwrap();

    let lock2 = open(&remote2, two.path(), Duration::ZERO);
    let (journal2, recovery) = lock2.open_journal().unwrap();
    assert_eq!(
        recovery
            .pending_creates
            .iter()
            .map(|i| i.token.as_str())
            .collect::<Vec<_>>(),
        vec!["ta"]
    );
    assert!(journal2.current().resources.contains_key("aws_vpc.b"));
    rt.block_on(journal2.resolve_intent("ta")).unwrap();
    let committed = rt.block_on(journal2.commit()).unwrap();
    drop(journal2);
    drop(lock2);
    // State uploaded, journal segments and lock gone.
    assert_eq!(store.keys(), vec!["team/app.tfstate".to_owned()]);
    let uploaded = State::from_json(
        &store.bytes("team/app.tfstate").unwrap(),
        std::path::Path::new("s"),
    )
    .unwrap();
    assert_eq!(uploaded.serial, committed.serial);
    assert!(uploaded.resources.contains_key("aws_vpc.b"));
}

#[test]
fn a_state_write_is_fenced_on_the_version_the_run_read() {
    let store = Arc::new(MemoryStore::default());
    let remote = remote(&store, Duration::from_secs(60));
    let dir = tempfile::tempdir().unwrap();
    let lock = open(&remote, dir.path(), Duration::ZERO);
    lock.write_state(&State::new()).unwrap();
    let ours = store.bytes("team/app.tfstate").unwrap();
    // Another run (which took the lock over) writes a newer state.
    let newer = b"{\"newer\":true}".to_vec();
    store.write_behind("team/app.tfstate", newer.clone());
    let mut state = State::from_json(&ours, std::path::Path::new("s")).unwrap();
    state
        .resources
        .insert("aws_vpc.a".into(), resource("aws_vpc.a"));
    let err = lock.write_state(&state).unwrap_err();
    assert!(matches!(err, StateError::Fenced { .. }), "{err}");
    assert_eq!(store.bytes("team/app.tfstate").unwrap(), newer);
    // From then on the run writes nothing, journal included.
    let (journal, _) = lock.open_journal().unwrap();
    let err = rt()
        .block_on(journal.append(Record::Intent(intent("aws_vpc.c", "tc"))))
        .unwrap_err();
    assert!(err.to_string().contains("lost the state lock"), "{err}");
}

#[test]
fn a_lost_answer_to_a_conditional_write_is_settled_by_reading_back() {
    let store = Arc::new(MemoryStore::default());
    let remote = remote(&store, Duration::from_secs(60));
    let dir = tempfile::tempdir().unwrap();
    // The lock's create is applied but its answer lost: reading back shows our id.
    store.lose_next_answer.store(true, Ordering::SeqCst);
    let lock = open(&remote, dir.path(), Duration::ZERO);
    // Same for a state write.
    store.lose_next_answer.store(true, Ordering::SeqCst);
    lock.write_state(&State::new()).unwrap();
    store.lose_next_answer.store(true, Ordering::SeqCst);
    lock.write_state(&State::new()).unwrap();
    let st = State::from_json(
        &store.bytes("team/app.tfstate").unwrap(),
        std::path::Path::new("s"),
    )
    .unwrap();
    assert_eq!(st.serial, 2);
}

#[test]
fn a_stale_lock_is_taken_over_by_a_waiting_run_and_a_live_one_never_is() {
    let store = Arc::new(MemoryStore::default());
    let stale = Duration::from_millis(1200);
    let remote = remote(&store, stale);
    let live_dir = tempfile::tempdir().unwrap();
    let live = open(&remote, live_dir.path(), Duration::ZERO);
    // A live holder beats every quarter of its stale period: a run waiting three stale
    // periods still does not get it.
    let other = tempfile::tempdir().unwrap();
    let local = LocalBackend::new(other.path())
        .lock(LockInfo::new("apply"), Duration::ZERO)
        .unwrap();
    let start = Instant::now();
    let err = acquire(&remote, local.info().clone(), stale * 3).unwrap_err();
    assert!(start.elapsed() >= stale * 3);
    match &err {
        StateError::RemoteLocked { holder, .. } => assert_eq!(holder.id, live.info().id),
        other => panic!("{other}"),
    }
    drop(live);
    assert!(
        store.bytes("team/app.tfstate.lock").is_none(),
        "not released"
    );
    // A holder that died left its lock behind, heartbeat fresh at the moment of death.
    let mut dead = serde_json::json!({
        "id": "dead-run", "operation": "apply", "who": "ci@runner-7", "pid": 4242,
        "created": "2026-12-04T10:00:00Z", "heartbeat": "2026-12-04T10:00:00Z",
        "heartbeat_unix_ms": 0, "stale_after_seconds": 1,
    });
    dead["heartbeat_unix_ms"] = serde_json::json!(std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64);
    store.write_behind("team/app.tfstate.lock", serde_json::to_vec(&dead).unwrap());
    // Without waiting it is reported, with how old its heartbeat is.
    let err = acquire(&remote, local.info().clone(), Duration::ZERO).unwrap_err();
    assert!(err.to_string().contains("held by ci@runner-7"), "{err}");
    assert!(err.to_string().contains("force-unlock dead-run"), "{err}");
    let start = Instant::now();
    let held = acquire(&remote, local.info().clone(), Duration::from_secs(30)).unwrap();
    assert!(
        start.elapsed() >= Duration::from_secs(1),
        "taken before it was stale"
    );
    let body: serde_json::Value =
        serde_json::from_slice(&store.bytes("team/app.tfstate.lock").unwrap()).unwrap();
    assert_eq!(body["id"], local.info().id.as_str());
    drop(held);
    assert!(store.bytes("team/app.tfstate.lock").is_none());
}

#[test]
fn segments_without_a_beginning_are_replayed_not_dropped() {
    let store = Arc::new(MemoryStore::default());
    let remote = remote(&store, Duration::from_secs(60));
    let dir = tempfile::tempdir().unwrap();
    let lock = open(&remote, dir.path(), Duration::ZERO);
    lock.write_state(&State::new()).unwrap();
    drop(lock);
    // A run that had lost its lock appended an intent after its successor compacted.
    let line = serde_json::to_vec(&serde_json::json!({
        "op": "intent", "address": "aws_vpc.z", "type": "aws_vpc", "provider": "aws", "token": "tz"
    }))
    .unwrap();
    let mut bytes = line;
    bytes.push(b'\n');
    store.write_behind("team/app.tfstate.journal/000000000007", bytes);
    let next = tempfile::tempdir().unwrap();
    let lock = open(&remote, next.path(), Duration::ZERO);
    let (_, recovery) = lock.read_state_with_journal().unwrap();
    assert_eq!(recovery.pending_creates.len(), 1);
    assert_eq!(recovery.pending_creates[0].token, "tz");
}

#[test]
fn sealed_segments_without_a_beginning_are_replayed_too() {
    use crate::state::encryption::{seal, Codec, Method, Target};
    let store = Arc::new(MemoryStore::default());
    let remote = remote(&store, Duration::from_secs(60));
    let codec = Codec::new(
        Some(Target {
            primary: Method::AesGcm(seal::KeyProvider::Pbkdf2(seal::Pbkdf2::new(
                "pbkdf2.k".into(),
                "a long enough passphrase".into(),
                1000,
            ))),
            fallback: None,
            enforced: true,
        }),
        None,
        "default",
    );
    let dir = tempfile::tempdir().unwrap();
    let local = LocalBackend::new(dir.path())
        .with_codec(Arc::new(codec.clone()))
        .lock(LockInfo::new("apply"), Duration::ZERO)
        .unwrap();
    let held = acquire(&remote, local.info().clone(), Duration::ZERO).unwrap();
    let snapshot = materialize(&remote, dir.path(), &codec).unwrap();
    let lock = local.attach_remote(RemoteSession::new(Arc::clone(&remote), held, snapshot));
    let mut state = State::new();
    state.serial = 3;
    lock.write_state(&state).unwrap();
    let lineage = lock.read_state().unwrap().unwrap().lineage;
    drop(lock);
    // A run that lost its lock sealed an intent against base serial 2, after compaction.
    let line =
        br#"{"op":"intent","address":"aws_vpc.z","type":"aws_vpc","provider":"aws","token":"tz"}"#;
    let sealed = codec.seal_line(line.to_vec(), &lineage, 2).unwrap();
    store.write_behind("team/app.tfstate.journal/000000000004", sealed);
    let next = tempfile::tempdir().unwrap();
    materialize(&remote, next.path(), &codec).unwrap();
    let reader = LocalBackend::new(next.path())
        .with_codec(Arc::new(codec))
        .lock(LockInfo::new("plan"), Duration::ZERO)
        .unwrap();
    let (_, recovery) = reader.read_state_with_journal().unwrap();
    assert_eq!(recovery.pending_creates.len(), 1);
    assert_eq!(recovery.pending_creates[0].token, "tz");
}

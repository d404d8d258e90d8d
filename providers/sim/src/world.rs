//! [`SimWorld`]: the simulated cloud itself, shared by every simulated provider of a run and
//! persisted in a directory (`<stack>/.gantry/sim/`).
//!
//! The world is an in-memory map of [`SimObject`]s plus indexes (idempotency tokens, ids,
//! who references whom). Every change is a [`log::Op`] applied and queued to the
//! append-only log (the shared [`GroupLog`]) under the world's lock, so the log's order is
//! the order changes became visible; the operation then waits, outside the lock, for the
//! log to be durable up to its change before returning. Reads wait for what they saw to be
//! durable as well, so nothing is ever reported that a crash could take back. A compaction
//! is queued under the lock too, so its snapshot holds exactly the records before it.

use crate::log::{self, Op, Record, SnapshotRef};
use crate::refs;
use gantry_grouplog::{Announced, Compaction, GroupLog, LogError, Ticket};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

/// The log is compacted into `world.json` once it has grown past this many bytes.
pub const DEFAULT_COMPACT_AFTER: u64 = 8 << 20;

/// One object in the simulated cloud.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SimObject {
    /// The provider that made it (`aws`).
    pub provider: String,
    /// Its resource type (`aws_vpc`).
    #[serde(rename = "type")]
    pub type_name: String,
    pub id: String,
    /// Every attribute, as JSON.
    pub attributes: serde_json::Value,
    /// The `gantry:address` tag: the resource address that created it.
    pub address: String,
    /// The `gantry:stack` tag.
    pub stack: String,
    /// The idempotency token of its create call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    /// Creation time, seconds since the Unix epoch.
    pub created: u64,
}

/// Objects are keyed by provider, type and id.
pub type Key = (String, String, String);

impl SimObject {
    pub fn key(&self) -> Key {
        (
            self.provider.clone(),
            self.type_name.clone(),
            self.id.clone(),
        )
    }
}

fn key(provider: &str, type_name: &str, id: &str) -> Key {
    (provider.to_owned(), type_name.to_owned(), id.to_owned())
}

/// Why the world cannot be opened or changed.
#[derive(Debug, thiserror::Error)]
pub enum WorldError {
    #[error("cannot create the sim world directory {}: {source}", path.display())]
    CreateDir {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot load the sim world: {0}")]
    Load(#[source] LogError),
    #[error("the sim world's storage failed: {0}")]
    Storage(#[source] LogError),
    #[error("cannot encode a sim world record: {0}")]
    Encode(#[from] serde_json::Error),
}

impl From<WorldError> for gantry_provider::ProviderError {
    fn from(e: WorldError) -> Self {
        gantry_provider::ProviderError::fatal(e.to_string()).with_code("SimWorldStorage")
    }
}

/// The replayable part of the world: what the log and the snapshot describe.
#[derive(Default)]
struct State {
    objects: BTreeMap<Key, SimObject>,
    /// (provider, type, token) -> object.
    tokens: HashMap<Key, Key>,
    /// id -> objects with that id (ids are unique per type, names may repeat across types).
    ids: HashMap<String, BTreeSet<Key>>,
    /// id -> objects whose `*_id` / `*_ids` attributes name it.
    referrers: HashMap<String, BTreeSet<Key>>,
    /// Ids of objects outside the world (data source results).
    external: BTreeSet<String>,
}

impl State {
    fn apply(&mut self, op: Op) {
        match op {
            Op::Put { object } => {
                let k = object.key();
                self.remove(&k);
                if let Some(token) = &object.token {
                    self.tokens
                        .insert(key(&object.provider, &object.type_name, token), k.clone());
                }
                self.ids
                    .entry(object.id.clone())
                    .or_default()
                    .insert(k.clone());
                for target in refs::referenced_ids(&object.attributes) {
                    self.referrers
                        .entry(target.id)
                        .or_default()
                        .insert(k.clone());
                }
                self.objects.insert(k, object);
            }
            Op::Delete {
                provider,
                type_name,
                id,
            } => {
                self.remove(&(provider, type_name, id));
            }
            Op::Reset => *self = State::default(),
            Op::External { id } => {
                self.external.insert(id);
            }
        }
    }

    fn remove(&mut self, k: &Key) -> Option<SimObject> {
        let object = self.objects.remove(k)?;
        if let Some(token) = &object.token {
            self.tokens
                .remove(&key(&object.provider, &object.type_name, token));
        }
        unindex(&mut self.ids, &object.id, k);
        for target in refs::referenced_ids(&object.attributes) {
            unindex(&mut self.referrers, &target.id, k);
        }
        Some(object)
    }
}

fn unindex(index: &mut HashMap<String, BTreeSet<Key>>, id: &str, k: &Key) {
    if let Some(keys) = index.get_mut(id) {
        keys.remove(k);
        if keys.is_empty() {
            index.remove(id);
        }
    }
}

struct Inner {
    state: State,
    /// Id prefix -> the resource type that uses it, registered by the providers.
    prefixes: BTreeMap<String, String>,
    /// The sequence number of the last queued record.
    seq: u64,
    /// The log's ticket for that record: what an operation waits for.
    last: Ticket,
    /// Bytes in the log since the last compaction.
    log_bytes: u64,
    compact_after: u64,
    /// Size of the last snapshot written. The log is compacted only once it outgrows the
    /// snapshot too, so rewriting the whole world costs at most as much as the log did:
    /// the bytes an apply writes stay linear in its size.
    snapshot_bytes: u64,
}

impl Inner {
    /// Queues the compaction of everything so far; its ticket is done once it is durable.
    fn queue_compaction(&mut self, log: &GroupLog) -> Result<Ticket, WorldError> {
        let snapshot = serde_json::to_vec(&SnapshotRef::new(
            self.seq,
            self.state.objects.values(),
            self.state.external.iter(),
        ))?;
        let snapshot_len = snapshot.len() as u64;
        let ticket = log
            .compact(Compaction::snapshot(snapshot))
            .map_err(WorldError::Storage)?;
        self.log_bytes = 0;
        self.snapshot_bytes = snapshot_len;
        Ok(ticket)
    }
}

/// Loads the snapshot and replays the log: the state, its sequence number, and whether a
/// torn final line was found (and, with `repair`, cut off).
fn replay(dir: &Path, repair: bool) -> Result<(State, u64, bool), WorldError> {
    let loaded = log::load(dir, repair).map_err(WorldError::Load)?;
    let mut state = State::default();
    let mut seq = loaded.snapshot.seq;
    for object in loaded.snapshot.objects {
        state.apply(Op::Put { object });
    }
    state.external.extend(loaded.snapshot.external_ids);
    for record in loaded.records {
        seq = seq.max(record.seq);
        state.apply(record.op);
    }
    Ok((state, seq, loaded.torn_tail))
}

/// The simulated cloud: every object the simulated providers made, durable on disk.
pub struct SimWorld {
    dir: PathBuf,
    inner: Mutex<Inner>,
    /// Dropped after `inner`: its writer finishes what is queued, then stops.
    log: GroupLog,
    repaired_torn_log: bool,
}

impl std::fmt::Debug for SimWorld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimWorld")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// Marks an operation that is about to queue a record, so the log writer waits for it and
/// commits it with the others (group commit). Dropping it withdraws the mark.
pub(crate) type Intent<'a> = Announced<'a>;

impl SimWorld {
    /// Opens (or creates) the world stored in `dir`: loads `world.json`, replays
    /// `world.ndjson` (cutting off a torn final line) and starts the log writer. One
    /// process at a time may have a world open; others can [`SimWorld::peek`] at it.
    pub fn open(dir: impl AsRef<Path>) -> Result<SimWorld, WorldError> {
        let dir = dir.as_ref().to_owned();
        std::fs::create_dir_all(&dir).map_err(|source| WorldError::CreateDir {
            path: dir.clone(),
            source,
        })?;
        let (state, seq, repaired_torn_log) = replay(&dir, true)?;
        let log_bytes = std::fs::metadata(dir.join(log::LOG_FILE)).map_or(0, |m| m.len());
        let snapshot_bytes = std::fs::metadata(dir.join(log::SNAPSHOT_FILE)).map_or(0, |m| m.len());
        let log = GroupLog::open(log::options(&dir), Vec::new()).map_err(WorldError::Load)?;
        Ok(SimWorld {
            dir,
            inner: Mutex::new(Inner {
                state,
                prefixes: BTreeMap::new(),
                seq,
                last: Ticket::default(),
                log_bytes,
                compact_after: DEFAULT_COMPACT_AFTER,
                snapshot_bytes,
            }),
            log,
            repaired_torn_log,
        })
    }

    /// The objects of the world stored in `dir`, read without changing anything there, so
    /// it is safe while another process has the world open (`gantry sim ls` during an
    /// apply). Empty when there is no world yet.
    pub fn peek(dir: impl AsRef<Path>) -> Result<Vec<SimObject>, WorldError> {
        let dir = dir.as_ref();
        if !dir.exists() {
            return Ok(Vec::new());
        }
        let (state, _, _) = replay(dir, false)?;
        Ok(state.objects.into_values().collect())
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// True when opening found the log's last line torn by a crash and cut it off (the
    /// operation it recorded had not returned).
    pub fn repaired_torn_log(&self) -> bool {
        self.repaired_torn_log
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Every object, ordered by provider, type and id (for `gantry sim ls`).
    pub fn list(&self) -> Vec<SimObject> {
        self.lock().state.objects.values().cloned().collect()
    }

    /// One object, as it is in memory now.
    pub fn get(&self, provider: &str, type_name: &str, id: &str) -> Option<SimObject> {
        self.lock()
            .state
            .objects
            .get(&key(provider, type_name, id))
            .cloned()
    }

    pub fn len(&self) -> usize {
        self.lock().state.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Deletes an object behind gantry's back (a test, a colleague with the console):
    /// no dependency check. Durable when it returns.
    pub async fn remove(
        &self,
        provider: &str,
        type_name: &str,
        id: &str,
    ) -> Result<Option<SimObject>, WorldError> {
        self.transact(None, |txn| txn.delete(provider, type_name, id))
            .await
    }

    /// Empties the world, durably, and compacts its files.
    pub async fn reset(&self) -> Result<(), WorldError> {
        self.transact(None, |txn| txn.commit(Op::Reset)).await?;
        self.flush().await
    }

    /// Compacts the log into `world.json`; returns once that is durable.
    pub async fn flush(&self) -> Result<(), WorldError> {
        let done = {
            let mut inner = self.lock();
            if inner.log_bytes == 0 && self.dir.join(log::SNAPSHOT_FILE).exists() {
                return Ok(());
            }
            inner.queue_compaction(&self.log)?
        };
        self.log.wait(done).await.map_err(WorldError::Storage)
    }

    /// How many times the log has been fsynced since the world was opened.
    pub fn fsync_count(&self) -> u64 {
        self.log.fsync_count()
    }

    /// Compacts the log automatically once it holds more than `bytes`.
    pub fn set_compact_after(&self, bytes: u64) {
        self.lock().compact_after = bytes.max(1);
    }

    /// Registers the id prefixes of a provider's resource types, for reference checks.
    pub(crate) fn register_prefix(&self, prefix: &str, type_name: &str) {
        self.lock()
            .prefixes
            .entry(prefix.to_owned())
            .or_insert_with(|| type_name.to_owned());
    }

    pub(crate) fn intent(&self) -> Intent<'_> {
        self.log.announce()
    }

    /// Runs `f` under the world's lock, then waits until everything it saw or changed is
    /// durable. `intent` (taken before any slow work) is withdrawn once `f` has queued.
    pub(crate) async fn transact<T, E: From<WorldError>>(
        &self,
        intent: Option<Intent<'_>>,
        f: impl FnOnce(&mut Txn<'_>) -> Result<T, E>,
    ) -> Result<T, E> {
        // A log that failed or stopped refuses everything: say so before doing anything.
        self.log.check().map_err(WorldError::Storage)?;
        let (result, last) = {
            let mut inner = self.lock();
            let mut txn = Txn {
                inner: &mut inner,
                log: &self.log,
            };
            let result = f(&mut txn);
            (result, inner.last)
        };
        drop(intent);
        self.log.wait(last).await.map_err(WorldError::Storage)?;
        result
    }
}

/// The world seen and changed under its lock, by one operation.
pub(crate) struct Txn<'a> {
    inner: &'a mut Inner,
    log: &'a GroupLog,
}

impl Txn<'_> {
    pub fn get(&self, provider: &str, type_name: &str, id: &str) -> Option<&SimObject> {
        self.inner.state.objects.get(&key(provider, type_name, id))
    }

    pub fn by_token(&self, provider: &str, type_name: &str, token: &str) -> Option<&SimObject> {
        let k = self
            .inner
            .state
            .tokens
            .get(&key(provider, type_name, token))?;
        self.inner.state.objects.get(k)
    }

    /// True when some object has this id, or a data source reported it.
    pub fn id_exists(&self, id: &str) -> bool {
        self.inner.state.ids.contains_key(id) || self.inner.state.external.contains(id)
    }

    /// The resource type whose ids start with `prefix`, when a provider registered one.
    pub fn prefix_type(&self, prefix: &str) -> Option<&str> {
        self.inner.prefixes.get(prefix).map(String::as_str)
    }

    /// Objects whose attributes name `id`.
    pub fn referrers(&self, id: &str) -> impl Iterator<Item = &SimObject> {
        let state = &self.inner.state;
        state
            .referrers
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|k| state.objects.get(k))
    }

    /// Objects of one provider's type.
    pub fn objects_of<'s>(
        &'s self,
        provider: &'s str,
        type_name: &'s str,
    ) -> impl Iterator<Item = &'s SimObject> + 's {
        self.inner
            .state
            .objects
            .range(key(provider, type_name, "")..)
            .take_while(move |((p, t, _), _)| p == provider && t == type_name)
            .map(|(_, o)| o)
    }

    /// Creates or replaces an object.
    pub fn put(&mut self, object: SimObject) -> Result<(), WorldError> {
        self.commit(Op::Put { object })
    }

    /// Deletes an object; `None` when there was none.
    pub fn delete(
        &mut self,
        provider: &str,
        type_name: &str,
        id: &str,
    ) -> Result<Option<SimObject>, WorldError> {
        let Some(object) = self.get(provider, type_name, id).cloned() else {
            return Ok(None);
        };
        self.commit(Op::Delete {
            provider: provider.to_owned(),
            type_name: type_name.to_owned(),
            id: id.to_owned(),
        })?;
        Ok(Some(object))
    }

    /// The object with this id, whatever its type (ids are unique across types in a cloud).
    pub fn by_id(&self, id: &str) -> Option<&SimObject> {
        let key = self.inner.state.ids.get(id)?.iter().next()?;
        self.inner.state.objects.get(key)
    }

    /// Remembers an id that exists outside the world.
    pub fn add_external(&mut self, id: &str) -> Result<(), WorldError> {
        if self.inner.state.external.contains(id) {
            return Ok(());
        }
        self.commit(Op::External { id: id.to_owned() })
    }

    /// Queues `op` to the log and applies it.
    fn commit(&mut self, op: Op) -> Result<(), WorldError> {
        let inner = &mut *self.inner;
        let record = Record {
            seq: inner.seq + 1,
            op,
        };
        let line = log::encode(&record)?;
        let len = line.len() as u64;
        inner.last = self.log.append(line).map_err(WorldError::Storage)?;
        inner.seq = record.seq;
        inner.log_bytes += len;
        inner.state.apply(record.op);
        if inner.log_bytes >= inner.compact_after.max(inner.snapshot_bytes) {
            inner.queue_compaction(self.log)?;
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::Arc;

    fn object(type_name: &str, id: &str, attributes: serde_json::Value) -> SimObject {
        SimObject {
            provider: "aws".into(),
            type_name: type_name.into(),
            id: id.into(),
            attributes,
            address: format!("{type_name}.x"),
            stack: "test".into(),
            token: Some(format!("tok-{id}")),
            created: 1,
        }
    }

    async fn put(world: &SimWorld, o: SimObject) {
        world
            .transact(Some(world.intent()), |txn| txn.put(o))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn peek_reads_an_open_world_without_touching_it() {
        let dir = tempfile::tempdir().unwrap();
        assert!(SimWorld::peek(dir.path().join("none")).unwrap().is_empty());
        assert!(!dir.path().join("none").exists());
        let world = SimWorld::open(dir.path()).unwrap();
        put(&world, object("aws_vpc", "vpc-1", json!({}))).await;
        let log = dir.path().join(log::LOG_FILE);
        let before = std::fs::read(&log).unwrap();
        let peeked = SimWorld::peek(dir.path()).unwrap();
        assert_eq!(peeked, world.list());
        assert_eq!(std::fs::read(&log).unwrap(), before);
    }

    #[tokio::test]
    async fn objects_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let world = SimWorld::open(dir.path()).unwrap();
        put(&world, object("aws_vpc", "vpc-1", json!({"id": "vpc-1"}))).await;
        // Written (and fsynced) before the change returned, not at some later point.
        let log = std::fs::read_to_string(dir.path().join(log::LOG_FILE)).unwrap();
        assert!(log.contains("\"id\":\"vpc-1\""), "{log}");
        assert!(world.fsync_count() >= 1);
        put(&world, object("aws_vpc", "vpc-2", json!({"id": "vpc-2"}))).await;
        world.remove("aws", "aws_vpc", "vpc-1").await.unwrap();
        drop(world);
        let world = SimWorld::open(dir.path()).unwrap();
        let ids: Vec<String> = world.list().into_iter().map(|o| o.id).collect();
        assert_eq!(ids, ["vpc-2"]);
        assert_eq!(
            world
                .get("aws", "aws_vpc", "vpc-2")
                .and_then(|o| o.token)
                .as_deref(),
            Some("tok-vpc-2")
        );
    }

    #[tokio::test]
    async fn a_torn_last_line_is_ignored_and_appends_continue() {
        let dir = tempfile::tempdir().unwrap();
        let world = SimWorld::open(dir.path()).unwrap();
        put(&world, object("aws_vpc", "vpc-1", json!({}))).await;
        drop(world);
        let path = dir.path().join(log::LOG_FILE);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.extend_from_slice(b"{\"seq\":2,\"op\":\"put\",\"object\":{\"provider\":\"aws\",\"ty");
        std::fs::write(&path, bytes).unwrap();
        let peeked: Vec<String> = SimWorld::peek(dir.path())
            .unwrap()
            .into_iter()
            .map(|o| o.id)
            .collect();
        assert_eq!(peeked, ["vpc-1"]);
        let world = SimWorld::open(dir.path()).unwrap();
        assert!(world.repaired_torn_log());
        assert_eq!(world.len(), 1);
        put(&world, object("aws_vpc", "vpc-3", json!({}))).await;
        drop(world);
        let world = SimWorld::open(dir.path()).unwrap();
        assert!(!world.repaired_torn_log());
        let ids: Vec<String> = world.list().into_iter().map(|o| o.id).collect();
        assert_eq!(ids, ["vpc-1", "vpc-3"]);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_creates_share_fsyncs_and_all_persist() {
        let dir = tempfile::tempdir().unwrap();
        let world = Arc::new(SimWorld::open(dir.path()).unwrap());
        let tasks: Vec<_> = (0..300)
            .map(|i| {
                let world = Arc::clone(&world);
                tokio::spawn(async move {
                    let id = format!("i-{i}");
                    put(&world, object("aws_instance", &id, json!({"id": id}))).await;
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let fsyncs = world.fsync_count();
        assert!(fsyncs >= 1);
        assert!(fsyncs < 100, "300 creates took {fsyncs} fsyncs");
        drop(world);
        let world = SimWorld::open(dir.path()).unwrap();
        assert_eq!(world.len(), 300);
    }

    #[tokio::test]
    async fn flush_compacts_and_reset_empties_durably() {
        let dir = tempfile::tempdir().unwrap();
        let world = SimWorld::open(dir.path()).unwrap();
        for i in 0..5 {
            put(&world, object("aws_vpc", &format!("vpc-{i}"), json!({}))).await;
        }
        world.remove("aws", "aws_vpc", "vpc-0").await.unwrap();
        world.flush().await.unwrap();
        assert_eq!(
            std::fs::metadata(dir.path().join(log::LOG_FILE))
                .unwrap()
                .len(),
            0
        );
        put(&world, object("aws_vpc", "vpc-9", json!({}))).await;
        drop(world);
        let world = SimWorld::open(dir.path()).unwrap();
        assert_eq!(world.len(), 5);
        world.reset().await.unwrap();
        assert!(world.is_empty());
        drop(world);
        assert!(SimWorld::open(dir.path()).unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_large_log_is_compacted_automatically() {
        let dir = tempfile::tempdir().unwrap();
        let world = SimWorld::open(dir.path()).unwrap();
        world.set_compact_after(2_000);
        for i in 0..50 {
            put(
                &world,
                object("aws_vpc", &format!("vpc-{i}"), json!({"n": i})),
            )
            .await;
        }
        // Wait for the queued compaction: the writer handles messages in order.
        world.flush().await.unwrap();
        drop(world);
        assert!(dir.path().join(log::SNAPSHOT_FILE).exists());
        let world = SimWorld::open(dir.path()).unwrap();
        assert_eq!(world.len(), 50);
    }

    #[tokio::test]
    async fn compaction_waits_until_the_log_outgrows_the_snapshot() {
        let dir = tempfile::tempdir().unwrap();
        let world = SimWorld::open(dir.path()).unwrap();
        world.set_compact_after(200);
        for i in 0..40 {
            put(
                &world,
                object("aws_vpc", &format!("vpc-{i}"), json!({"n": i})),
            )
            .await;
        }
        world.flush().await.unwrap();
        let snapshot = world.lock().snapshot_bytes;
        assert!(snapshot > 1_000, "40 objects: {snapshot} bytes");
        for i in 40..45 {
            put(
                &world,
                object("aws_vpc", &format!("vpc-{i}"), json!({"n": i})),
            )
            .await;
        }
        let log = world.lock().log_bytes;
        assert!(
            log > 200 && log < snapshot,
            "past compact_after but smaller than the snapshot: not compacted ({log} bytes)"
        );
    }

    #[tokio::test]
    async fn after_a_failed_write_every_operation_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("sim");
        let world = SimWorld::open(&dir).unwrap();
        put(&world, object("aws_vpc", "vpc-1", json!({}))).await;
        // A compaction cannot write world.json into a directory that is gone.
        std::fs::remove_dir_all(&dir).unwrap();
        let err = world.flush().await.unwrap_err();
        assert!(matches!(err, WorldError::Storage(_)), "{err}");
        let err = world
            .transact(Some(world.intent()), |txn| {
                txn.put(object("aws_vpc", "vpc-2", json!({})))
            })
            .await
            .unwrap_err();
        assert!(err.to_string().contains("an earlier write failed"), "{err}");
        assert!(world.remove("aws", "aws_vpc", "vpc-1").await.is_err());
    }

    #[tokio::test]
    async fn indexes_follow_puts_and_deletes() {
        let dir = tempfile::tempdir().unwrap();
        let world = SimWorld::open(dir.path()).unwrap();
        let vpc = "vpc-00123456789abcdef";
        put(&world, object("aws_vpc", vpc, json!({"id": vpc}))).await;
        put(
            &world,
            object("aws_subnet", "subnet-1", json!({"vpc_id": vpc})),
        )
        .await;
        let referrers = world
            .transact(None, |txn| {
                Ok::<_, WorldError>(txn.referrers(vpc).map(|o| o.id.clone()).collect::<Vec<_>>())
            })
            .await
            .unwrap();
        assert_eq!(referrers, ["subnet-1"]);
        world.remove("aws", "aws_subnet", "subnet-1").await.unwrap();
        let (referrers, by_token, exists) = world
            .transact(None, |txn| {
                Ok::<_, WorldError>((
                    txn.referrers(vpc).count(),
                    txn.by_token("aws", "aws_vpc", &format!("tok-{vpc}"))
                        .map(|o| o.id.clone()),
                    txn.id_exists("subnet-1"),
                ))
            })
            .await
            .unwrap();
        assert_eq!(referrers, 0);
        assert_eq!(by_token.as_deref(), Some(vpc));
        assert!(!exists);
    }
}

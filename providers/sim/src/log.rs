//! The world's durable storage: an append-only log (`world.ndjson`, one JSON record a line)
//! written by one writer thread with group commit, and compaction into a snapshot
//! (`world.json`).
//!
//! Records are queued in order (the world queues them under its lock) and carry increasing
//! sequence numbers. The writer takes everything queued, writes it, fsyncs once and then
//! publishes the highest durable sequence number on a `watch` channel; operations wait for
//! their own number there. Hundreds of concurrent operations therefore share a few fsyncs.
//! While other operations are about to queue a record (see [`LogStats::pending`]), the writer
//! waits a moment for them, as PostgreSQL's `commit_delay` does.
//!
//! Compaction is a queued message too: the snapshot it carries holds exactly the records
//! before it, so the writer commits those, replaces `world.json` atomically and truncates the
//! log. Loading skips log records already in the snapshot, so a crash between the two steps
//! is harmless.

use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{oneshot, watch};

use crate::world::SimObject;

pub const LOG_FILE: &str = "world.ndjson";
pub const SNAPSHOT_FILE: &str = "world.json";
const SNAPSHOT_VERSION: u32 = 1;

/// How long the writer keeps gathering records while other operations are about to queue
/// theirs, in total and per wait.
const MAX_COMMIT_DELAY: Duration = Duration::from_millis(2);
const COMMIT_WAIT: Duration = Duration::from_micros(200);

/// One change to the world.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum Op {
    /// Creates or replaces an object.
    Put { object: SimObject },
    /// Removes an object.
    Delete {
        provider: String,
        #[serde(rename = "type")]
        type_name: String,
        id: String,
    },
    /// Empties the world.
    Reset,
    /// Remembers the id of an object that exists outside the world (a data source result),
    /// so that references to it are valid.
    External { id: String },
}

/// A line of the log.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub seq: u64,
    #[serde(flatten)]
    pub op: Op,
}

/// The content of `world.json`: the world as of record `seq`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Snapshot {
    pub version: u32,
    pub seq: u64,
    pub objects: Vec<SimObject>,
    #[serde(default)]
    pub external_ids: Vec<String>,
}

/// The same, borrowed, for writing without copying the world.
#[derive(Serialize)]
pub struct SnapshotRef<'a> {
    pub version: u32,
    pub seq: u64,
    pub objects: Vec<&'a SimObject>,
    pub external_ids: Vec<&'a String>,
}

impl<'a> SnapshotRef<'a> {
    pub fn new(
        seq: u64,
        objects: impl Iterator<Item = &'a SimObject>,
        external_ids: impl Iterator<Item = &'a String>,
    ) -> SnapshotRef<'a> {
        SnapshotRef {
            version: SNAPSHOT_VERSION,
            seq,
            objects: objects.collect(),
            external_ids: external_ids.collect(),
        }
    }
}

/// What the writer has made durable: every record up to `seq`, or nothing more after an
/// I/O error.
#[derive(Clone, Debug, Default)]
pub struct Durable {
    pub seq: u64,
    pub error: Option<Arc<str>>,
}

/// A message to the writer.
pub enum Msg {
    Append {
        seq: u64,
        line: Vec<u8>,
    },
    Compact {
        seq: u64,
        snapshot: Vec<u8>,
        done: Option<oneshot::Sender<Result<(), Arc<str>>>>,
    },
}

/// Counters shared with the writer.
#[derive(Debug, Default)]
pub struct LogStats {
    /// fsyncs of the log (not of snapshots).
    pub fsyncs: AtomicU64,
    /// Operations that will queue a record soon; the writer waits a moment for them.
    pub pending: AtomicUsize,
}

/// What a loaded log holds.
pub struct Loaded {
    pub snapshot: Snapshot,
    /// Records after the snapshot, in order.
    pub records: Vec<Record>,
    /// A torn (incomplete) final line was dropped.
    pub torn_tail: bool,
}

/// Why the log cannot be loaded.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{line}: corrupt record: {message}", path.display())]
    Corrupt {
        path: PathBuf,
        line: usize,
        message: String,
    },
}

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> LoadError + '_ {
    move |source| LoadError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Reads the snapshot and the log of `dir`. With `repair`, cuts a torn final line off the
/// log file so that later appends start on a fresh line; without, changes nothing on disk.
pub fn load(dir: &Path, repair: bool) -> Result<Loaded, LoadError> {
    let snap_path = dir.join(SNAPSHOT_FILE);
    let snapshot = match std::fs::read(&snap_path) {
        Ok(bytes) => {
            serde_json::from_slice::<Snapshot>(&bytes).map_err(|e| LoadError::Corrupt {
                path: snap_path.clone(),
                line: e.line(),
                message: e.to_string(),
            })?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Snapshot::default(),
        Err(e) => return Err(io_err(&snap_path)(e)),
    };
    let log_path = dir.join(LOG_FILE);
    let bytes = match std::fs::read(&log_path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(io_err(&log_path)(e)),
    };
    let mut records = Vec::new();
    let mut valid_len = 0;
    let mut torn_tail = false;
    let mut lines = bytes
        .split_inclusive(|b| *b == b'\n')
        .enumerate()
        .peekable();
    while let Some((i, line)) = lines.next() {
        let last = lines.peek().is_none();
        let complete = line.ends_with(b"\n");
        match serde_json::from_slice::<Record>(line) {
            Ok(record) if complete => {
                valid_len += line.len();
                if record.seq > snapshot.seq {
                    records.push(record);
                }
            }
            // A write cut short by a crash: only ever the final line.
            _ if last => torn_tail = true,
            other => {
                let message = match other {
                    Err(e) => e.to_string(),
                    Ok(_) => "line without its end".to_owned(),
                };
                return Err(LoadError::Corrupt {
                    path: log_path,
                    line: i + 1,
                    message,
                });
            }
        }
    }
    if torn_tail && repair {
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&log_path)
            .map_err(io_err(&log_path))?;
        file.set_len(valid_len as u64).map_err(io_err(&log_path))?;
        file.sync_all().map_err(io_err(&log_path))?;
    }
    Ok(Loaded {
        snapshot,
        records,
        torn_tail,
    })
}

/// A running writer.
pub struct Started {
    pub tx: mpsc::Sender<Msg>,
    pub durable: watch::Receiver<Durable>,
    pub stats: Arc<LogStats>,
    pub handle: std::thread::JoinHandle<()>,
}

/// Opens the log for appending and starts the writer thread. `durable_seq` is the sequence
/// number everything loaded is at.
pub fn start(dir: &Path, durable_seq: u64) -> Result<Started, LoadError> {
    let log_path = dir.join(LOG_FILE);
    let existed = log_path.exists();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&log_path)
        .map_err(io_err(&log_path))?;
    if !existed {
        sync_dir(dir).map_err(io_err(dir))?;
    }
    let (tx, rx) = mpsc::channel();
    let (durable_tx, durable_rx) = watch::channel(Durable {
        seq: durable_seq,
        error: None,
    });
    let stats = Arc::new(LogStats::default());
    let writer = Writer {
        file,
        dir: dir.to_owned(),
        stats: Arc::clone(&stats),
        durable: durable_tx,
        failed: None,
        durable_seq,
    };
    let handle = std::thread::Builder::new()
        .name("gantry-sim-log".into())
        .spawn(move || writer.run(&rx))
        .map_err(io_err(dir))?;
    Ok(Started {
        tx,
        durable: durable_rx,
        stats,
        handle,
    })
}

struct Writer {
    file: File,
    dir: PathBuf,
    stats: Arc<LogStats>,
    durable: watch::Sender<Durable>,
    failed: Option<Arc<str>>,
    durable_seq: u64,
}

impl Writer {
    fn run(mut self, rx: &mpsc::Receiver<Msg>) {
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            gather(rx, &mut batch, &self.stats.pending);
            self.process(batch);
        }
    }

    fn process(&mut self, batch: Vec<Msg>) {
        let mut buf = Vec::new();
        let mut last = None;
        for msg in batch {
            match msg {
                Msg::Append { seq, line } => {
                    buf.extend_from_slice(&line);
                    last = Some(seq);
                }
                Msg::Compact {
                    seq,
                    snapshot,
                    done,
                } => {
                    let result = self
                        .commit(&mut buf, last.take())
                        .and_then(|()| self.compact(seq, &snapshot));
                    if let Some(done) = done {
                        // Nobody waiting (automatic compaction, or the caller gave up): fine.
                        let _ = done.send(result);
                    }
                }
            }
        }
        // A failure is published to every waiter by `commit` itself.
        let _ = self.commit(&mut buf, last);
    }

    /// Writes and fsyncs `buf`, then publishes `seq` as durable.
    fn commit(&mut self, buf: &mut Vec<u8>, seq: Option<u64>) -> Result<(), Arc<str>> {
        if let Some(error) = &self.failed {
            return Err(Arc::clone(error));
        }
        let Some(seq) = seq else { return Ok(()) };
        let result = self
            .file
            .write_all(buf)
            .and_then(|()| self.file.sync_data());
        buf.clear();
        match result {
            Ok(()) => {
                self.stats.fsyncs.fetch_add(1, Ordering::Relaxed);
                self.publish(seq);
                Ok(())
            }
            Err(e) => Err(self.fail(format!(
                "writing {}: {e}",
                self.dir.join(LOG_FILE).display()
            ))),
        }
    }

    /// Replaces the snapshot with `snapshot` (as of `seq`) and empties the log.
    fn compact(&mut self, seq: u64, snapshot: &[u8]) -> Result<(), Arc<str>> {
        if let Some(error) = &self.failed {
            return Err(Arc::clone(error));
        }
        let tmp = self.dir.join(format!("{SNAPSHOT_FILE}.tmp"));
        let result = (|| -> std::io::Result<()> {
            let mut f = File::create(&tmp)?;
            f.write_all(snapshot)?;
            f.sync_all()?;
            drop(f);
            std::fs::rename(&tmp, self.dir.join(SNAPSHOT_FILE))?;
            sync_dir(&self.dir)?;
            // The snapshot now holds every record of the log: start the log afresh.
            self.file.set_len(0)?;
            self.file.sync_all()
        })();
        match result {
            Ok(()) => {
                self.publish(seq);
                Ok(())
            }
            Err(e) => Err(self.fail(format!("compacting {}: {e}", self.dir.display()))),
        }
    }

    fn publish(&mut self, seq: u64) {
        self.durable_seq = self.durable_seq.max(seq);
        let durable = self.durable_seq;
        self.durable.send_modify(|d| d.seq = durable);
    }

    fn fail(&mut self, message: String) -> Arc<str> {
        let error: Arc<str> = message.into();
        self.failed = Some(Arc::clone(&error));
        let e = Arc::clone(&error);
        self.durable.send_modify(|d| d.error = Some(e));
        error
    }
}

/// Drains what is queued; while other operations are about to queue, waits briefly for them.
fn gather(rx: &mpsc::Receiver<Msg>, batch: &mut Vec<Msg>, pending: &AtomicUsize) {
    let deadline = Instant::now() + MAX_COMMIT_DELAY;
    loop {
        while let Ok(msg) = rx.try_recv() {
            batch.push(msg);
        }
        let now = Instant::now();
        if pending.load(Ordering::Acquire) == 0 || now >= deadline {
            return;
        }
        match rx.recv_timeout((deadline - now).min(COMMIT_WAIT)) {
            Ok(msg) => batch.push(msg),
            Err(_) => return,
        }
    }
}

/// Makes a rename or a file creation in `dir` durable.
fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Encodes a record as one log line.
pub fn encode(record: &Record) -> Result<Vec<u8>, serde_json::Error> {
    let mut line = serde_json::to_vec(record)?;
    line.push(b'\n');
    Ok(line)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn put(seq: u64, id: &str) -> Record {
        Record {
            seq,
            op: Op::Put {
                object: SimObject {
                    provider: "aws".into(),
                    type_name: "aws_vpc".into(),
                    id: id.into(),
                    attributes: serde_json::json!({"id": id}),
                    address: "aws_vpc.main".into(),
                    stack: "s".into(),
                    token: None,
                    created: 0,
                },
            },
        }
    }

    #[test]
    fn records_round_trip_as_single_lines() {
        let r = put(3, "vpc-1");
        let line = encode(&r).unwrap();
        assert_eq!(line.iter().filter(|b| **b == b'\n').count(), 1);
        assert_eq!(serde_json::from_slice::<Record>(&line).unwrap(), r);
        let del = Record {
            seq: 4,
            op: Op::Delete {
                provider: "aws".into(),
                type_name: "aws_vpc".into(),
                id: "vpc-1".into(),
            },
        };
        let text = String::from_utf8(encode(&del).unwrap()).unwrap();
        assert_eq!(text, "{\"seq\":4,\"op\":\"delete\",\"provider\":\"aws\",\"type\":\"aws_vpc\",\"id\":\"vpc-1\"}\n");
    }

    #[test]
    fn a_torn_final_line_is_dropped_and_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = encode(&put(1, "vpc-1")).unwrap();
        bytes.extend(encode(&put(2, "vpc-2")).unwrap());
        let good = bytes.len();
        bytes.extend_from_slice(b"{\"seq\":3,\"op\":\"put\",\"obj");
        std::fs::write(dir.path().join(LOG_FILE), &bytes).unwrap();
        let peeked = load(dir.path(), false).unwrap();
        assert!(peeked.torn_tail);
        assert_eq!(
            std::fs::metadata(dir.path().join(LOG_FILE)).unwrap().len(),
            bytes.len() as u64
        );
        let loaded = load(dir.path(), true).unwrap();
        assert!(loaded.torn_tail);
        assert_eq!(
            loaded.records.iter().map(|r| r.seq).collect::<Vec<_>>(),
            [1, 2]
        );
        assert_eq!(
            std::fs::metadata(dir.path().join(LOG_FILE)).unwrap().len(),
            good as u64
        );
    }

    #[test]
    fn a_corrupt_middle_line_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let mut bytes = b"garbage\n".to_vec();
        bytes.extend(encode(&put(1, "vpc-1")).unwrap());
        std::fs::write(dir.path().join(LOG_FILE), &bytes).unwrap();
        match load(dir.path(), true) {
            Err(LoadError::Corrupt { line, .. }) => assert_eq!(line, 1),
            other => panic!("expected corrupt, got {:?}", other.map(|l| l.records.len())),
        }
    }

    #[test]
    fn records_in_the_snapshot_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        let snap = Snapshot {
            version: 1,
            seq: 1,
            objects: Vec::new(),
            external_ids: Vec::new(),
        };
        std::fs::write(
            dir.path().join(SNAPSHOT_FILE),
            serde_json::to_vec(&snap).unwrap(),
        )
        .unwrap();
        let mut bytes = encode(&put(1, "vpc-1")).unwrap();
        bytes.extend(encode(&put(2, "vpc-2")).unwrap());
        std::fs::write(dir.path().join(LOG_FILE), &bytes).unwrap();
        let loaded = load(dir.path(), true).unwrap();
        assert_eq!(
            loaded.records.iter().map(|r| r.seq).collect::<Vec<_>>(),
            [2]
        );
    }

    #[tokio::test]
    async fn the_writer_publishes_durable_sequence_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let Started {
            tx,
            mut durable,
            stats,
            handle,
        } = start(dir.path(), 0).unwrap();
        for seq in 1..=3 {
            tx.send(Msg::Append {
                seq,
                line: encode(&put(seq, &format!("vpc-{seq}"))).unwrap(),
            })
            .unwrap();
        }
        durable.wait_for(|d| d.seq >= 3).await.unwrap();
        assert!(stats.fsyncs.load(Ordering::Relaxed) >= 1);
        let (done_tx, done_rx) = oneshot::channel();
        tx.send(Msg::Compact {
            seq: 3,
            snapshot: b"{\"version\":1,\"seq\":3,\"objects\":[]}".to_vec(),
            done: Some(done_tx),
        })
        .unwrap();
        done_rx.await.unwrap().unwrap();
        drop(tx);
        handle.join().unwrap();
        assert_eq!(
            std::fs::metadata(dir.path().join(LOG_FILE)).unwrap().len(),
            0
        );
        assert_eq!(load(dir.path(), true).unwrap().snapshot.seq, 3);
    }
}

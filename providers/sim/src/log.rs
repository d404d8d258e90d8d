//! The world's files and their format: `world.ndjson`, an append-only log with one JSON
//! [`Record`] a line, and `world.json`, a [`Snapshot`] of the world as of a sequence
//! number.
//!
//! The mechanics (the writer thread, group commit, the commit delay, compaction, reading a
//! log back after a crash) are the shared [`gantry_grouplog`] crate's, the same that
//! keeps gantry's state journal; this module only says what the lines mean. Records carry
//! increasing sequence numbers and a snapshot the number of the last record it holds, so
//! loading skips log records already in the snapshot and a crash between a compaction's
//! two steps (snapshot replaced, log not yet restarted) is harmless.

use gantry_grouplog::{read_optional, LogContent, LogError, Options};
use serde::{Deserialize, Serialize};
use std::path::Path;

use crate::world::SimObject;

pub const LOG_FILE: &str = "world.ndjson";
pub const SNAPSHOT_FILE: &str = "world.json";
const SNAPSHOT_VERSION: u32 = 1;

/// Why the world's files cannot be loaded (or, later, written): the shared log's error.
pub type LoadError = LogError;

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

/// How the world's log is kept: `world.ndjson` compacted into `world.json`, no backup (the
/// simulated cloud has no previous version to go back to), the log file always present.
pub fn options(dir: &Path) -> Options {
    Options::new(dir, LOG_FILE, SNAPSHOT_FILE).thread_name("gantry-sim-log")
}

/// What a loaded log holds.
pub struct Loaded {
    pub snapshot: Snapshot,
    /// Records after the snapshot, in order.
    pub records: Vec<Record>,
    /// A torn (incomplete) final line was dropped.
    pub torn_tail: bool,
}

/// Reads the snapshot and the log of `dir`. With `repair`, cuts a torn final line off the
/// log file so that later appends start on a fresh line; without, changes nothing on disk.
pub fn load(dir: &Path, repair: bool) -> Result<Loaded, LoadError> {
    let snap_path = dir.join(SNAPSHOT_FILE);
    let snapshot = match read_optional(&snap_path)? {
        Some(bytes) => {
            serde_json::from_slice::<Snapshot>(&bytes).map_err(|e| LogError::Corrupt {
                path: snap_path.clone(),
                line: e.line(),
                column: e.column(),
                message: format!("corrupt snapshot: {}", without_position(&e)),
            })?
        }
        None => Snapshot::default(),
    };
    let mut records = Vec::new();
    let mut torn_tail = false;
    if let Some(content) = LogContent::read(dir.join(LOG_FILE))? {
        for line in content.lines() {
            let record = serde_json::from_slice::<Record>(line.bytes).map_err(|e| {
                line.corrupt(
                    e.column(),
                    format!("corrupt record: {}", without_position(&e)),
                )
            })?;
            if record.seq > snapshot.seq {
                records.push(record);
            }
        }
        torn_tail = content.is_torn();
        if repair {
            content.repair()?;
        }
    }
    Ok(Loaded {
        snapshot,
        records,
        torn_tail,
    })
}

/// serde_json's message without its " at line L column C": the error names the position.
fn without_position(e: &serde_json::Error) -> String {
    let message = e.to_string();
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message,
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
}

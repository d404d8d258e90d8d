//! Tests of the whole log: group commit, queue order, failure, compaction and its crash
//! points. The records are small text lines; a number is a record, `h`/`c` lines are
//! headers and carried lines, and a snapshot holds the highest record it includes.

#![allow(clippy::unwrap_used)]

use crate::*;
use std::fs;
use std::path::Path;
use std::sync::Arc;

const LOG: &str = "log.ndjson";
const SNAP: &str = "snap.json";
const BACKUP: &str = "snap.json.backup";

fn options(dir: &Path) -> Options {
    Options::new(dir, LOG, SNAP).backup_file(BACKUP)
}

fn read(dir: &Path, name: &str) -> String {
    fs::read_to_string(dir.join(name)).unwrap()
}

/// What an owner would recover: records 1..=N from the snapshot, plus the log's numbered
/// lines after N (the log may predate the snapshot: a crash between the two steps).
fn recover(dir: &Path) -> Vec<u64> {
    let upto: u64 = read_optional(&dir.join(SNAP))
        .unwrap()
        .map_or(0, |b| String::from_utf8(b).unwrap().parse().unwrap());
    let mut records: Vec<u64> = (1..=upto).collect();
    if let Some(content) = LogContent::read(dir.join(LOG)).unwrap() {
        for line in content.lines() {
            if let Ok(n) = std::str::from_utf8(line.bytes).unwrap().parse::<u64>() {
                if n > upto {
                    records.push(n);
                }
            }
        }
    }
    records
}

async fn append(log: &GroupLog, n: u64) {
    let ticket = log.append(n.to_string().into_bytes()).unwrap();
    log.wait(ticket).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_appends_share_few_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let log = Arc::new(GroupLog::open(options(dir.path()), Vec::new()).unwrap());
    let barrier = Arc::new(tokio::sync::Barrier::new(200));
    let tasks: Vec<_> = (1..=200u64)
        .map(|n| {
            let (log, barrier) = (Arc::clone(&log), Arc::clone(&barrier));
            tokio::spawn(async move {
                // Announced: the writer gathers the others' records into the same write.
                let announced = log.announce();
                barrier.wait().await;
                let ticket = log.append(format!("{n}\n").into_bytes()).unwrap();
                drop(announced);
                log.wait(ticket).await.unwrap();
                // Acknowledged means on disk.
                let text = read(log.path().parent().unwrap(), LOG);
                assert!(text.lines().any(|l| l == n.to_string()));
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let fsyncs = log.fsync_count();
    assert!(
        (1..100).contains(&fsyncs),
        "200 records took {fsyncs} fsyncs"
    );
    let mut on_disk = recover(dir.path());
    on_disk.sort_unstable();
    assert_eq!(on_disk, (1..=200).collect::<Vec<_>>());
}

#[tokio::test]
async fn messages_take_effect_in_queue_order() {
    let dir = tempfile::tempdir().unwrap();
    let log = GroupLog::open(options(dir.path()), b"h0\n".to_vec()).unwrap();
    assert_eq!(
        read(dir.path(), LOG),
        "h0\n",
        "created at once, with its header"
    );
    // Queued without waiting in between: the compaction sits between records 2 and 3.
    log.append(b"1".to_vec()).unwrap();
    log.append(b"2\n".to_vec()).unwrap();
    log.compact(Compaction {
        snapshot: Some(b"2".to_vec()),
        keep_backup: false,
        header: b"h2\n".to_vec(),
        carried: b"c\n".to_vec(),
    })
    .unwrap();
    let last = log.append(b"3".to_vec()).unwrap();
    log.wait(last).await.unwrap();
    assert!(log.durable() >= last);
    assert_eq!(read(dir.path(), SNAP), "2");
    assert_eq!(read(dir.path(), LOG), "h2\nc\n3\n");
    assert_eq!(log.compaction_count(), 1);
    assert!(!dir.path().join(BACKUP).exists(), "no backup asked for");
    assert_eq!(recover(dir.path()), [1, 2, 3]);
}

#[tokio::test]
async fn an_empty_log_can_live_only_while_it_has_records() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(LOG);
    let log = GroupLog::open(options(dir.path()).remove_empty_log(), b"h0\n".to_vec()).unwrap();
    assert!(!path.exists());
    append(&log, 1).await;
    assert_eq!(read(dir.path(), LOG), "h0\n1\n");
    let done = log
        .compact(Compaction {
            header: b"h1\n".to_vec(),
            keep_backup: true,
            ..Compaction::snapshot(b"1".to_vec())
        })
        .unwrap();
    log.wait(done).await.unwrap();
    assert!(!path.exists());
    assert!(
        !dir.path().join(BACKUP).exists(),
        "there was no snapshot to keep"
    );
    append(&log, 2).await;
    assert_eq!(
        read(dir.path(), LOG),
        "h1\n2\n",
        "re-created with the new header"
    );
    // A restart without a snapshot keeps the snapshot and rewrites the log.
    let done = log
        .compact(Compaction {
            header: b"h1\n".to_vec(),
            carried: b"c\n".to_vec(),
            ..Compaction::default()
        })
        .unwrap();
    log.wait(done).await.unwrap();
    assert_eq!(read(dir.path(), LOG), "h1\nc\n");
    assert_eq!(log.compaction_count(), 1, "only snapshots count");
    let done = log.compact(Compaction::snapshot(b"2".to_vec())).unwrap();
    log.wait(done).await.unwrap();
    assert!(!dir.path().join(LOG).exists());
    assert!(!dir.path().join(BACKUP).exists(), "backups only when asked");
}

#[tokio::test]
async fn backups_keep_the_previous_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(SNAP), b"0").unwrap();
    let log = GroupLog::open(options(dir.path()), Vec::new()).unwrap();
    append(&log, 1).await;
    let compaction = Compaction {
        keep_backup: true,
        ..Compaction::snapshot(b"1".to_vec())
    };
    log.wait(log.compact(compaction).unwrap()).await.unwrap();
    assert_eq!(read(dir.path(), BACKUP), "0");
    assert_eq!(read(dir.path(), SNAP), "1");
    assert_eq!(read(dir.path(), LOG), "", "kept, empty");
}

#[tokio::test]
async fn a_failed_write_stops_the_log() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("d");
    fs::create_dir(&dir).unwrap();
    let log = GroupLog::open(options(&dir).remove_empty_log(), Vec::new()).unwrap();
    let first = log.append(b"1".to_vec()).unwrap();
    log.wait(log.compact(Compaction::snapshot(b"1".to_vec())).unwrap())
        .await
        .unwrap();
    // The next record must create the log, which now cannot work.
    fs::remove_dir_all(&dir).unwrap();
    let ticket = log.append(b"2".to_vec()).unwrap();
    let err = log.wait(ticket).await.unwrap_err();
    assert!(
        matches!(
            err,
            LogError::Io {
                action: "create",
                ..
            }
        ),
        "{err}"
    );
    let refused = |e: LogError| matches!(&e, LogError::Closed { reason } if reason.starts_with("an earlier write failed: could not create"));
    assert!(refused(log.append(b"3".to_vec()).unwrap_err()));
    assert!(refused(log.compact(Compaction::default()).unwrap_err()));
    assert!(refused(log.close("done").unwrap_err()));
    assert!(refused(log.check().unwrap_err()));
    // What was durable before stays acknowledged.
    log.wait(first).await.unwrap();
}

#[tokio::test]
async fn close_finishes_the_queue_and_refuses_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let log = GroupLog::open(options(dir.path()), Vec::new()).unwrap();
    log.append(b"1".to_vec()).unwrap();
    let closed = log.close("it was committed").unwrap();
    log.wait(closed).await.unwrap();
    assert_eq!(recover(dir.path()), [1]);
    let err = log.append(b"2".to_vec()).unwrap_err();
    assert_eq!(err.to_string(), "the log is closed: it was committed");
    assert!(log.check().is_err());
}

/// A crash at each step of a compaction, simulated by making that step fail (a directory
/// where its temporary file goes): every record stays recoverable from the files as they
/// are, and the log refuses to go on.
#[tokio::test]
async fn compaction_crash_points_lose_nothing() {
    for (step, obstacle) in [
        ("backup", BACKUP),
        ("snapshot", SNAP),
        ("log", LOG),
        ("none", ""),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path();
        fs::write(dir.join(SNAP), b"0").unwrap();
        let log = GroupLog::open(options(dir), b"h\n".to_vec()).unwrap();
        for n in 1..=3 {
            append(&log, n).await;
        }
        if !obstacle.is_empty() {
            fs::create_dir(crate::files::tmp_path(dir, obstacle)).unwrap();
        }
        let compaction = Compaction {
            snapshot: Some(b"3".to_vec()),
            keep_backup: true,
            header: b"h\n".to_vec(),
            carried: b"c\n".to_vec(),
        };
        let result = log.wait(log.compact(compaction).unwrap()).await;
        assert_eq!(result.is_ok(), obstacle.is_empty(), "{step}: {result:?}");
        assert_eq!(recover(dir), [1, 2, 3], "{step}");
        let expected_snapshot = if matches!(step, "backup" | "snapshot") {
            "0"
        } else {
            "3"
        };
        assert_eq!(read(dir, SNAP), expected_snapshot, "{step}");
        if obstacle.is_empty() {
            assert_eq!(read(dir, LOG), "h\nc\n");
            assert_eq!(read(dir, BACKUP), "0");
            append(&log, 4).await;
        } else {
            assert!(log.append(b"4".to_vec()).is_err(), "{step}: stopped");
            // The next run appends after what the failed one left.
            drop(log);
            fs::remove_dir(crate::files::tmp_path(dir, obstacle)).unwrap();
            let log = GroupLog::open(options(dir), b"h\n".to_vec()).unwrap();
            append(&log, 4).await;
        }
        assert_eq!(recover(dir), [1, 2, 3, 4], "{step}");
    }
}

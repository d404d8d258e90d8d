//! [`LogError`]: every way the log can fail. The owners map it onto their own error types
//! (the state journal onto `StateError`, the simulated world onto `WorldError`), so the
//! variants carry the same facts theirs do: the action and file of an I/O error, the line
//! and column of a corrupt record, and why a log stopped accepting records.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

/// An error from the log, its files or its writer thread.
#[derive(Debug, thiserror::Error)]
pub enum LogError {
    /// A file-system operation on the log, the snapshot or the backup failed.
    #[error("could not {action} {}: {source}", path.display())]
    Io {
        /// What was being done, as a verb phrase: "append to", "rename into place".
        action: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: io::Error,
    },

    /// A line of a log (or a snapshot) does not parse. Reported by the owner, which knows
    /// the record format, through [`Line::corrupt`](crate::Line::corrupt).
    #[error("{}{}: {message}", path.display(), Position(*line, *column))]
    Corrupt {
        /// The offending file.
        path: PathBuf,
        /// 1-based line of the problem, 0 when not known.
        line: usize,
        /// 1-based column of the problem, 0 when not known.
        column: usize,
        /// What is wrong.
        message: String,
    },

    /// The mirror ([`Mirror`](crate::Mirror)) refused a write.
    #[error("could not copy the log to {target}: {message}")]
    Mirror {
        /// What the mirror copies to, e.g. the log file it mirrors.
        target: String,
        /// The mirror's error.
        message: String,
    },

    /// The log accepts no more records: it was closed, or an earlier write failed and the
    /// files may be in any state, so nothing more may be built on them.
    #[error("the log is closed: {reason}")]
    Closed {
        /// Why, e.g. "an earlier write failed: could not append to ...".
        reason: String,
    },
}

impl LogError {
    /// An I/O error with the action and path it concerns.
    pub(crate) fn io(action: &'static str, path: &Path, source: io::Error) -> LogError {
        LogError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    }

    pub(crate) fn closed(reason: impl Into<String>) -> LogError {
        LogError::Closed {
            reason: reason.into(),
        }
    }

    /// An equivalent error for another waiter of the same failed write: `io::Error` is not
    /// `Clone`, so its kind and message are copied.
    pub(crate) fn duplicate(&self) -> LogError {
        match self {
            LogError::Io {
                action,
                path,
                source,
            } => LogError::Io {
                action,
                path: path.clone(),
                source: io::Error::new(source.kind(), source.to_string()),
            },
            LogError::Corrupt {
                path,
                line,
                column,
                message,
            } => LogError::Corrupt {
                path: path.clone(),
                line: *line,
                column: *column,
                message: message.clone(),
            },
            LogError::Closed { reason } => LogError::closed(reason.clone()),
            LogError::Mirror { target, message } => LogError::Mirror {
                target: target.clone(),
                message: message.clone(),
            },
        }
    }
}

/// `:L:C`, `:L` or nothing, as far as the position is known.
struct Position(usize, usize);

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0, self.1) {
            (0, _) => Ok(()),
            (line, 0) => write!(f, ":{line}"),
            (line, column) => write!(f, ":{line}:{column}"),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_file_and_position() {
        let e = LogError::Corrupt {
            path: "/d/log.ndjson".into(),
            line: 3,
            column: 7,
            message: "bad".into(),
        };
        assert_eq!(e.to_string(), "/d/log.ndjson:3:7: bad");
        let e = LogError::io(
            "append to",
            Path::new("/d/log.ndjson"),
            io::Error::new(io::ErrorKind::StorageFull, "disk full"),
        );
        assert_eq!(
            e.to_string(),
            "could not append to /d/log.ndjson: disk full"
        );
        let copy = e.duplicate();
        assert_eq!(copy.to_string(), e.to_string());
        assert!(
            matches!(copy, LogError::Io { source, .. } if source.kind() == io::ErrorKind::StorageFull)
        );
    }
}

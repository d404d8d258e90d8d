//! Reading a log back after a run or a crash: [`LogContent`] splits a log file into its
//! complete lines and tells what a crash may have left behind, so that every owner
//! tolerates the same damage and refuses the same corruption.
//!
//! - A **torn final line** (bytes after the last newline) is a write the crash cut short.
//!   Its record was never acknowledged, so it is ignored; [`LogContent::repair`] cuts it
//!   off before appending resumes, so that the next record starts on a line of its own.
//! - A **hole** is a line holding a NUL byte: blocks the file system had allocated but not
//!   yet written read back as zeros. A record encoder never writes a raw NUL (JSON escapes
//!   it), so such a line is not a record. Blank lines are skipped too.
//! - Any other line that does not parse is **corruption**: the owner reports it with
//!   [`Line::corrupt`], naming the file, line and column, and changes nothing on disk.

use crate::files::{read_optional, remove_if_exists, sync_dir};
use crate::LogError;
use std::fs::OpenOptions;
use std::path::{Path, PathBuf};

/// A log file as read from disk.
#[derive(Debug, Clone)]
pub struct LogContent {
    path: PathBuf,
    bytes: Vec<u8>,
    /// Length of the complete lines: everything up to and including the last newline.
    valid_len: usize,
}

/// One complete, non-blank line of a log.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    /// 1-based line number in the file (holes and blank lines count).
    pub number: usize,
    /// The line, without its newline.
    pub bytes: &'a [u8],
    path: &'a Path,
}

impl Line<'_> {
    /// The error for this line not being a valid record; `column` is 1-based (0 when not
    /// known).
    pub fn corrupt(&self, column: usize, message: impl Into<String>) -> LogError {
        LogError::Corrupt {
            path: self.path.to_path_buf(),
            line: self.number,
            column,
            message: message.into(),
        }
    }
}

impl LogContent {
    /// Reads the log at `path`; `None` when there is none.
    pub fn read(path: impl Into<PathBuf>) -> Result<Option<LogContent>, LogError> {
        let path = path.into();
        Ok(read_optional(&path)?.map(|bytes| LogContent::from_bytes(path, bytes)))
    }

    /// The log `bytes`, as read from `path`.
    pub fn from_bytes(path: impl Into<PathBuf>, bytes: Vec<u8>) -> LogContent {
        let valid_len = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        LogContent {
            path: path.into(),
            bytes,
            valid_len,
        }
    }

    /// The log file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the file ends in a partial line (a write cut short by a crash).
    pub fn is_torn(&self) -> bool {
        self.valid_len < self.bytes.len()
    }

    /// The complete lines, in order, without holes and blank lines.
    pub fn lines(&self) -> impl Iterator<Item = Line<'_>> {
        let path = self.path.as_path();
        self.bytes[..self.valid_len]
            .split(|&b| b == b'\n')
            .enumerate()
            .filter(|(_, line)| !line.contains(&0) && !line.iter().all(u8::is_ascii_whitespace))
            .map(move |(index, bytes)| Line {
                number: index + 1,
                bytes,
                path,
            })
    }

    /// Cuts a torn final line off the file (and fsyncs it) so that appends resume on a
    /// line of their own; does nothing when the file is whole.
    pub fn repair(&self) -> Result<(), LogError> {
        if !self.is_torn() {
            return Ok(());
        }
        OpenOptions::new()
            .write(true)
            .open(&self.path)
            .and_then(|f| f.set_len(self.valid_len as u64).and_then(|()| f.sync_all()))
            .map_err(|e| LogError::io("truncate the torn last line of", &self.path, e))
    }

    /// Removes the file, durably: for a log that holds nothing an owner can use (not even
    /// its header survived the crash).
    pub fn discard(&self) -> Result<(), LogError> {
        remove_if_exists(&self.path)?;
        match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => sync_dir(dir),
            _ => sync_dir(Path::new(".")),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn numbered(content: &LogContent) -> Vec<(usize, &str)> {
        content
            .lines()
            .map(|l| (l.number, std::str::from_utf8(l.bytes).unwrap()))
            .collect()
    }

    #[test]
    fn a_torn_final_line_is_left_out_and_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        std::fs::write(&path, b"a\nb\n{\"par").unwrap();
        let content = LogContent::read(&path).unwrap().unwrap();
        assert!(content.is_torn());
        assert_eq!(numbered(&content), [(1, "a"), (2, "b")]);
        // Reading changes nothing; repairing cuts exactly the torn bytes.
        assert_eq!(std::fs::read(&path).unwrap().len(), 9);
        content.repair().unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"a\nb\n");
        let again = LogContent::read(&path).unwrap().unwrap();
        assert!(!again.is_torn());
        again.repair().unwrap();
    }

    #[test]
    fn zeroed_holes_and_blank_lines_are_skipped_but_counted() {
        let mut bytes = b"a\n".to_vec();
        bytes.extend_from_slice(&[0; 40]);
        bytes.extend_from_slice(b"\n\nb\nc");
        bytes.extend_from_slice(&[0; 8]);
        bytes.extend_from_slice(b"\n");
        bytes.extend_from_slice(&[0; 100]);
        let content = LogContent::from_bytes("log", bytes);
        assert!(content.is_torn(), "trailing zeros are a torn write");
        assert_eq!(numbered(&content), [(1, "a"), (4, "b")]);
    }

    #[test]
    fn corrupt_lines_name_file_line_and_column() {
        let content = LogContent::from_bytes("/x/log", b"a\n\n{oops\n".to_vec());
        let bad = content.lines().nth(1).unwrap();
        let err = bad.corrupt(2, "expected a string");
        assert_eq!(err.to_string(), "/x/log:3:2: expected a string");
    }

    #[test]
    fn a_missing_log_reads_as_none_and_discard_removes_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("log");
        assert!(LogContent::read(&path).unwrap().is_none());
        std::fs::write(&path, b"{\"beg").unwrap();
        let content = LogContent::read(&path).unwrap().unwrap();
        assert_eq!(content.lines().count(), 0);
        content.discard().unwrap();
        assert!(!path.exists());
    }
}

//! The few file operations the log is built from, each with the fsyncs that make it
//! survive a crash. Every file is created with mode 0600: logs and snapshots hold whatever
//! their owners record, secrets included.

use crate::LogError;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The bytes of `path`, `None` if it does not exist.
pub fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, LogError> {
    match fs::read(path) {
        Ok(bytes) => Ok(Some(bytes)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(LogError::io("read", path, e)),
    }
}

/// The temporary file an atomic write of `dir/name` goes through: hidden, in the same
/// directory so the rename cannot cross file systems.
pub(crate) fn tmp_path(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!(".{name}.tmp"))
}

/// Writes `dir/name` atomically: temporary file, fsync, rename over the target, fsync of
/// the directory. A crash leaves either the old file or the new one, never a mix. Returns
/// the new file, open for appending.
pub(crate) fn write_atomic(dir: &Path, name: &str, bytes: &[u8]) -> Result<File, LogError> {
    let tmp = tmp_path(dir, name);
    let target = dir.join(name);
    // A crash during an earlier write may have left the temporary file behind.
    remove_if_exists(&tmp)?;
    let result = (|| {
        let mut file = open_private(OpenOptions::new().append(true).create_new(true), &tmp)
            .map_err(|e| LogError::io("create", &tmp, e))?;
        file.write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|e| LogError::io("write", &tmp, e))?;
        fs::rename(&tmp, &target).map_err(|e| LogError::io("rename into place", &target, e))?;
        Ok(file)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    let file = result?;
    sync_dir(dir)?;
    Ok(file)
}

/// Makes a rename, creation or removal in `dir` durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<(), LogError> {
    #[cfg(unix)]
    {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| LogError::io("fsync directory", dir, e))
    }
    #[cfg(not(unix))]
    {
        // Directories cannot be opened (or need not be synced) elsewhere.
        let _ = dir;
        Ok(())
    }
}

/// Removes `path`, succeeding if it is already gone.
pub(crate) fn remove_if_exists(path: &Path) -> Result<(), LogError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(LogError::io("remove", path, e)),
    }
}

/// Opens with mode 0600 for files it creates.
pub(crate) fn open_private(options: &mut OpenOptions, path: &Path) -> io::Result<File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    options.open(path)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn atomic_writes_replace_stale_temporaries_and_are_private() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(tmp_path(dir.path(), "s.json"), b"left by a crash").unwrap();
        let mut file = write_atomic(dir.path(), "s.json", b"one\n").unwrap();
        file.write_all(b"two\n").unwrap();
        assert_eq!(fs::read(dir.path().join("s.json")).unwrap(), b"one\ntwo\n");
        assert!(!tmp_path(dir.path(), "s.json").exists());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join("s.json"))
                .unwrap()
                .permissions();
            assert_eq!(mode.mode() & 0o777, 0o600);
        }
        assert_eq!(read_optional(&dir.path().join("none")).unwrap(), None);
        remove_if_exists(&dir.path().join("none")).unwrap();
    }

    #[test]
    fn a_failed_atomic_write_leaves_the_target_alone() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("s.json"), b"old").unwrap();
        // A directory where the temporary file goes cannot be removed as a file.
        fs::create_dir(tmp_path(dir.path(), "s.json")).unwrap();
        let err = write_atomic(dir.path(), "s.json", b"new").unwrap_err();
        assert!(
            matches!(
                err,
                LogError::Io {
                    action: "remove",
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(fs::read(dir.path().join("s.json")).unwrap(), b"old");
    }
}

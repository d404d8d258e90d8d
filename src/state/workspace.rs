//! Workspaces: several states for one stack (`dev`, `staging`, `prod`), as Terraform has
//! them. `default` always exists. The one in use is `GANTRY_WORKSPACE` (or Terraform's
//! `TF_WORKSPACE`) when set, else the one `gantry workspace select` wrote to
//! `.gantry/workspace`; expressions read it as `terraform.workspace`.
//!
//! Under the local backend, `default`'s state stays where it always was (`.gantry/`, or
//! `.gantry/sim/` under `--sim`) and another workspace's lives in `workspaces/NAME/` beside
//! it, as Terraform's `terraform.tfstate.d/NAME/`. A remote backend keys its objects the same
//! way (`workspace_key_prefix`): the name is the only thing a backend needs.

use std::path::{Path, PathBuf};

pub const DEFAULT: &str = "default";

/// The file under `.gantry/` that records `gantry workspace select`.
const SELECTED_FILE: &str = "workspace";

/// Why a workspace cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error("`{0}` is not a valid workspace name: use letters, digits, `-`, `_` and `.`, not starting with `.`")]
    InvalidName(String),
    #[error("workspace `{name}` does not exist")]
    Missing { name: String },
    #[error("workspace `{0}` already exists")]
    Exists(String),
    #[error("cannot {0} workspace `{1}`")]
    Refused(&'static str, String),
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl WorkspaceError {
    /// What the user can do about it.
    pub fn help(&self) -> &'static str {
        match self {
            WorkspaceError::InvalidName(_) => "for example `dev`, `staging-2` or `team_a`",
            WorkspaceError::Missing { .. } => {
                "create it with `gantry workspace new NAME`, or see `gantry workspace list`"
            }
            WorkspaceError::Exists(_) => "select it with `gantry workspace select NAME`",
            WorkspaceError::Refused(..) => {
                "the default workspace cannot be deleted; select another before deleting this one"
            }
            WorkspaceError::Io { .. } => "check the permissions of the stack's .gantry directory",
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> WorkspaceError + '_ {
    move |source| WorkspaceError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Checks a workspace name: it becomes a directory (and a remote key) as it is written.
pub fn check_name(name: &str) -> Result<(), WorkspaceError> {
    let ok = !name.is_empty()
        && name.len() <= 90
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(WorkspaceError::InvalidName(name.to_owned()))
    }
}

/// The workspace in use for the stack whose gantry directory is `gantry_dir`: the
/// environment's choice, else the selected one, else `default`.
pub fn selected(gantry_dir: &Path) -> Result<String, WorkspaceError> {
    for var in ["GANTRY_WORKSPACE", "TF_WORKSPACE"] {
        if let Ok(name) = std::env::var(var) {
            if !name.is_empty() {
                check_name(&name)?;
                return Ok(name);
            }
        }
    }
    let path = gantry_dir.join(SELECTED_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let name = text.trim().to_owned();
            check_name(&name)?;
            Ok(name)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(DEFAULT.to_owned()),
        Err(e) => Err(io(&path)(e)),
    }
}

/// Where a workspace's state lives: `gantry_dir` (`.gantry`), or `.gantry/sim` for the
/// simulated clouds, then `workspaces/NAME` for any workspace but `default`.
pub fn state_dir(gantry_dir: &Path, sim: bool, workspace: &str) -> PathBuf {
    let base = if sim {
        gantry_dir.join("sim")
    } else {
        gantry_dir.to_owned()
    };
    if workspace == DEFAULT {
        base
    } else {
        base.join("workspaces").join(workspace)
    }
}

/// Whether a workspace exists (`default` always does). The real state's directory is the
/// record; the simulated clouds' is made when first used.
pub fn exists(gantry_dir: &Path, workspace: &str) -> bool {
    workspace == DEFAULT || state_dir(gantry_dir, false, workspace).is_dir()
}

/// Every workspace, `default` first, the rest by name.
pub fn list(gantry_dir: &Path) -> Result<Vec<String>, WorkspaceError> {
    let dir = gantry_dir.join("workspaces");
    let mut names = Vec::new();
    match std::fs::read_dir(&dir) {
        Ok(entries) => {
            for entry in entries {
                let entry = entry.map_err(io(&dir))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if entry.path().is_dir() && check_name(&name).is_ok() {
                    names.push(name);
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(&dir)(e)),
    }
    names.sort();
    names.insert(0, DEFAULT.to_owned());
    Ok(names)
}

/// Creates a workspace.
pub fn create(gantry_dir: &Path, name: &str) -> Result<(), WorkspaceError> {
    check_name(name)?;
    if exists(gantry_dir, name) {
        return Err(WorkspaceError::Exists(name.to_owned()));
    }
    let dir = state_dir(gantry_dir, false, name);
    std::fs::create_dir_all(&dir).map_err(io(&dir))
}

/// Records `name` as the selected workspace of the stack whose gantry directory is
/// `gantry_dir` (written atomically: a torn file would select nothing).
pub fn select(gantry_dir: &Path, name: &str) -> Result<(), WorkspaceError> {
    check_name(name)?;
    std::fs::create_dir_all(gantry_dir).map_err(io(gantry_dir))?;
    let path = gantry_dir.join(SELECTED_FILE);
    if name == DEFAULT {
        return match std::fs::remove_file(&path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(io(&path)(e)),
            _ => Ok(()),
        };
    }
    let tmp = gantry_dir.join(format!("{SELECTED_FILE}.tmp"));
    std::fs::write(&tmp, format!("{name}\n")).map_err(io(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io(&path))
}

/// Deletes a workspace's directories (real and simulated). The caller has checked that its
/// states track nothing (or was told `--force`) and holds their locks.
pub fn delete(gantry_dir: &Path, name: &str, current: &str) -> Result<(), WorkspaceError> {
    check_name(name)?;
    if name == DEFAULT || name == current {
        return Err(WorkspaceError::Refused("delete", name.to_owned()));
    }
    if !exists(gantry_dir, name) {
        return Err(WorkspaceError::Missing {
            name: name.to_owned(),
        });
    }
    for sim in [true, false] {
        let dir = state_dir(gantry_dir, sim, name);
        match std::fs::remove_dir_all(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(&dir)(e)),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_paths_so_only_safe_ones_pass() {
        for good in ["dev", "staging-2", "team_a", "v1.2"] {
            assert!(check_name(good).is_ok(), "{good}");
        }
        for bad in ["", ".hidden", "a/b", "..", "with space", "ünï"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn default_stays_in_place_and_others_get_a_directory() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let base = tmp.path();
        assert_eq!(state_dir(base, false, DEFAULT), base);
        assert_eq!(state_dir(base, true, DEFAULT), base.join("sim"));
        assert_eq!(list(base).unwrap_or_default(), vec!["default"]);
        create(base, "prod").unwrap_or_else(|e| panic!("{e}"));
        create(base, "dev").unwrap_or_else(|e| panic!("{e}"));
        assert!(matches!(
            create(base, "dev"),
            Err(WorkspaceError::Exists(_))
        ));
        assert_eq!(
            list(base).unwrap_or_default(),
            vec!["default", "dev", "prod"]
        );
        assert!(state_dir(base, false, "dev").ends_with("workspaces/dev"));
        assert!(state_dir(base, true, "dev").ends_with("sim/workspaces/dev"));
        assert!(matches!(
            delete(base, "dev", "dev"),
            Err(WorkspaceError::Refused(..))
        ));
        assert!(matches!(
            delete(base, DEFAULT, "dev"),
            Err(WorkspaceError::Refused(..))
        ));
        delete(base, "dev", DEFAULT).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(list(base).unwrap_or_default(), vec!["default", "prod"]);
    }
}

//! Saved plans (`gantry plan -out FILE`, `gantry apply FILE`). A plan file pins what the plan
//! was made from: the stack's sources (a digest), the input values, the state's lineage and
//! serial, and the options. Apply re-plans from exactly those inputs and refuses the file
//! when the stack or the state changed since, or when the new plan's changes differ.
//!
//! The file also carries the plan itself, redacted ([`PlanDocument`], and the text `gantry
//! plan` printed), for `gantry show PLANFILE`: a CI job can review exactly what it applies.

use super::document::PlanDocument;
use super::{Action, Plan};
use crate::config::load::Stack;
use gantry_provider::Value;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const PLAN_FILE_FORMAT: &str = "gantry-plan/2";

/// The saved plan.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlanFile {
    pub format: String,
    pub stack_dir: PathBuf,
    pub stack_digest: String,
    pub sim: bool,
    /// The input values the plan was made with, except sensitive ones.
    pub variables: BTreeMap<String, serde_json::Value>,
    /// Sensitive input values are not saved: apply must be given them again, and checks each
    /// against its digest here ([`sensitive_digest`]), so the plan file holds no secret.
    #[serde(default)]
    pub sensitive_variables: BTreeMap<String, String>,
    /// A random salt for those digests, fresh for every plan file.
    #[serde(default)]
    pub salt: String,
    /// The workspace whose state the plan was made from.
    pub workspace: String,
    pub lineage: String,
    pub serial: u64,
    pub destroy: bool,
    pub replace: Vec<String>,
    pub targets: Vec<String>,
    /// Address and action of every change, sorted by address.
    pub changes: Vec<(String, Action)>,
    /// The plan, redacted (`gantry show --json PLANFILE`).
    pub plan: PlanDocument,
    /// The plan as `gantry plan` printed it, without colour (`gantry show PLANFILE`).
    pub rendered: String,
}

/// Why a plan file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error("cannot read `{path}`: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{path}` is not a gantry plan file: {detail}")]
    NotAPlan { path: PathBuf, detail: String },
    #[error("`{path}` is a plan file of format `{found}`; this gantry reads `{PLAN_FILE_FORMAT}`")]
    Format { path: PathBuf, found: String },
    #[error("{0}")]
    Sealed(String),
}

impl PlanFile {
    /// Reads a plan file, checking its format before its fields.
    pub fn read(path: &Path) -> Result<PlanFile, PlanFileError> {
        PlanFile::read_with(path, &crate::state::encryption::Codec::default())
    }

    /// Reads a plan file that may be encrypted (the `plan` method of `codec`).
    pub fn read_with(
        path: &Path,
        codec: &crate::state::encryption::Codec,
    ) -> Result<PlanFile, PlanFileError> {
        let sealed = std::fs::read(path).map_err(|source| PlanFileError::Read {
            path: path.to_owned(),
            source,
        })?;
        let bytes = codec
            .open_plan(&sealed, path)
            .map_err(|e| PlanFileError::Sealed(e.to_string()))?;
        let not_a_plan = |detail: String| PlanFileError::NotAPlan {
            path: path.to_owned(),
            detail,
        };
        let json: serde_json::Value =
            serde_json::from_slice(&bytes).map_err(|e| not_a_plan(e.to_string()))?;
        let found = json
            .get("format")
            .and_then(serde_json::Value::as_str)
            .ok_or_else(|| not_a_plan("it has no `format`".to_owned()))?;
        if found != PLAN_FILE_FORMAT {
            return Err(PlanFileError::Format {
                path: path.to_owned(),
                found: found.to_owned(),
            });
        }
        serde_json::from_value(json).map_err(|e| not_a_plan(e.to_string()))
    }
}

/// A digest of every source file of the stack (paths relative to the stack, and contents).
pub fn stack_digest(stack: &Stack) -> String {
    let root = stack
        .root_dir
        .canonicalize()
        .unwrap_or_else(|_| stack.root_dir.clone());
    let mut files: Vec<(String, &str)> = (0..)
        .map_while(|i| stack.sources.get(crate::diagnostics::FileId(i)))
        .filter(|f| !f.display_path.starts_with('<'))
        .map(|f| {
            let path = f.path.canonicalize().unwrap_or_else(|_| f.path.clone());
            let shown = path
                .strip_prefix(&root)
                .map_or_else(|_| path.clone(), Path::to_path_buf);
            (shown.display().to_string(), f.text.as_str())
        })
        .collect();
    files.sort();
    let mut h = sha2::Sha256::new();
    for (path, text) in files {
        h.update(path.as_bytes());
        h.update([0]);
        h.update(text.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The changes of a plan, as a plan file records them.
pub fn change_list(plan: &Plan) -> Vec<(String, Action)> {
    let mut v: Vec<(String, Action)> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .map(|c| (c.address.clone(), c.action))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

/// Input values as JSON (unknown values cannot be saved and are left out), split into the
/// plain ones and digests of the sensitive ones.
pub fn variables_json(
    values: &BTreeMap<String, Value>,
    is_sensitive: impl Fn(&str, &Value) -> bool,
    salt: &str,
) -> (
    BTreeMap<String, serde_json::Value>,
    BTreeMap<String, String>,
) {
    let mut plain = BTreeMap::new();
    let mut digests = BTreeMap::new();
    for (name, value) in values.iter().filter(|(_, v)| v.is_wholly_known()) {
        if is_sensitive(name, value) {
            digests.insert(name.clone(), sensitive_digest(salt, name, value));
        } else {
            plain.insert(name.clone(), value.to_json());
        }
    }
    (plain, digests)
}

/// A salted SHA-256 of one sensitive input value (its JSON form).
pub fn sensitive_digest(salt: &str, name: &str, value: &Value) -> String {
    let mut h = sha2::Sha256::new();
    for part in [salt, name, &value.to_json().to_string()] {
        h.update(part.as_bytes());
        h.update([0]);
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

//! Saved plans (`gantry plan -out FILE`, `gantry apply FILE`). A plan file pins what the plan
//! was made from: the stack's sources (a digest), the input values, the state's lineage and
//! serial, and the options. Apply re-plans from exactly those inputs and refuses the file
//! when the stack or the state changed since, or when the new plan's changes differ.

use super::{Action, Plan};
use crate::config::load::Stack;
use gantry_provider::Value;
use serde::{Deserialize, Serialize};
use sha2::Digest;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub const PLAN_FILE_FORMAT: &str = "gantry-plan/1";

/// The saved plan.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct PlanFile {
    pub format: String,
    pub stack_dir: PathBuf,
    pub stack_digest: String,
    pub sim: bool,
    pub variables: BTreeMap<String, serde_json::Value>,
    pub lineage: String,
    pub serial: u64,
    pub destroy: bool,
    pub replace: Vec<String>,
    pub targets: Vec<String>,
    /// Address and action of every change, sorted by address.
    pub changes: Vec<(String, Action)>,
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

/// Input values as JSON (unknown values cannot be saved and are left out).
pub fn variables_json(values: &BTreeMap<String, Value>) -> BTreeMap<String, serde_json::Value> {
    values
        .iter()
        .filter(|(_, v)| v.is_wholly_known())
        .map(|(k, v)| (k.clone(), v.to_json()))
        .collect()
}

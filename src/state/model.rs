//! The state model: what gantry knows about the objects it manages, as stored in
//! `state.json` (pretty-printed JSON, meant to be readable and diffable by people).
//!
//! Parsing is strict about structure and never lenient about damage: bad JSON, a truncated
//! file or a missing field is [`StateError::Corrupt`] with the line and column, and a file
//! from a newer format is [`StateError::FutureVersion`].

use super::error::StateError;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;

/// The state format this build reads and writes.
pub const FORMAT_VERSION: u32 = 1;

/// Everything gantry tracks for one stack.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Format version, [`FORMAT_VERSION`] when written by this build.
    pub version: u32,
    /// A UUID v4 naming this stack's history; it never changes once created.
    pub lineage: String,
    /// Incremented by every write of `state.json`.
    pub serial: u64,
    /// Resource instances, keyed by their address string.
    pub resources: BTreeMap<String, ResourceState>,
    /// Root module outputs, by name.
    pub outputs: BTreeMap<String, OutputState>,
}

/// One resource instance as last seen by gantry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    /// The instance address: `module.gpu["a"].aws_instance.node[0]`.
    pub address: String,
    /// Managed resource or data source.
    pub mode: ResourceMode,
    /// The resource type: `aws_instance`.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The provider configuration that manages it: `aws` or `aws.west`.
    pub provider: String,
    /// The provider's schema version for `attributes`.
    pub schema_version: u32,
    /// The attributes the provider returned.
    pub attributes: serde_json::Value,
    /// Paths inside `attributes` whose values are sensitive and redacted in displays.
    pub sensitive_paths: Vec<String>,
    /// Addresses this instance depended on when it was last applied.
    pub dependencies: Vec<String>,
    /// The idempotency token the create call carried, when there was one; recovery after a
    /// crash finds the object in the cloud by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create_token: Option<String>,
    /// The create was accepted by the cloud but failed afterwards (a wait, a read-back):
    /// the object exists but may not be what the stack asked for, so the next plan
    /// replaces it (Terraform's "tainted").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tainted: bool,
    /// For a resource with a `failover` block: the alternative it was created with, kept by
    /// later plans so it does not move back when capacity returns elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub placement: Option<Placement>,
    /// For an object inside module calls with a `failover` block: the alternative of each
    /// (by module address) that made it. Later plans keep the module on that alternative,
    /// and a module being placed afresh is known to own exactly these objects.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub module_placements: BTreeMap<String, ModulePlacement>,
}

/// Which alternative of a module call's `failover` block made an object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModulePlacement {
    /// 0: the call as written; 1..: its `alternative` blocks in the stack's order.
    pub alternative: usize,
    /// What the alternative sets, as written (`source = "./gcp", zone = "us-central1-a"`):
    /// later plans find the alternative again by it, so reordering the blocks keeps it.
    pub label: String,
    /// The module is still being placed with this alternative (not every create of it has
    /// succeeded yet): a capacity refusal may still fail it over, even after a crash. Once
    /// it holds, a refusal is an error like any other and the module stays where it is.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub placing: bool,
}

/// Which of a resource's `failover` alternatives holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    /// 0: the resource as written; 1..: its alternatives in the stack's order.
    pub alternative: usize,
    /// The arguments that alternative overrode, as applied (empty for 0). Later plans
    /// find the alternative again by these, so reordering the blocks keeps the placement.
    #[serde(default, skip_serializing_if = "serde_json::Map::is_empty")]
    pub overrides: serde_json::Map<String, serde_json::Value>,
    /// The provider configuration the alternative named (`aws.west`), when it named one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
}

/// `managed` (a `resource` block) or `data` (a `data` block).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ResourceMode {
    /// A `resource` block: gantry creates, updates and deletes it.
    Managed,
    /// A `data` block: gantry only reads it.
    Data,
}

/// A root module output value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputState {
    /// The value.
    pub value: serde_json::Value,
    /// Whether displays must redact it.
    pub sensitive: bool,
}

impl Default for State {
    fn default() -> Self {
        State::new()
    }
}

impl State {
    /// An empty state with a fresh lineage and serial 0.
    pub fn new() -> State {
        State {
            version: FORMAT_VERSION,
            lineage: uuid::Uuid::new_v4().to_string(),
            serial: 0,
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
        }
    }

    /// Parses and validates state JSON read from `path` (the path is only used in errors).
    pub fn from_json(bytes: &[u8], path: &Path) -> Result<State, StateError> {
        let corrupt = |line: usize, column: usize, message: String| StateError::Corrupt {
            path: path.to_path_buf(),
            line,
            column,
            message,
        };
        let state: State = match serde_json::from_slice(bytes) {
            Ok(state) => state,
            Err(err) => {
                // A newer format may legitimately lack fields we require: say so instead of
                // calling it corrupt.
                if err.is_data() {
                    if let Some(found) = probe_version(bytes) {
                        if found > u64::from(FORMAT_VERSION) {
                            return Err(future(path, found));
                        }
                    }
                }
                let message = if err.is_eof() {
                    format!("the file ends unexpectedly (truncated?): {err}")
                } else {
                    err.to_string()
                };
                return Err(corrupt(err.line(), err.column(), strip_position(&message)));
            }
        };
        if u64::from(state.version) > u64::from(FORMAT_VERSION) {
            return Err(future(path, u64::from(state.version)));
        }
        if state.version == 0 {
            return Err(corrupt(0, 0, "`version` must be at least 1".into()));
        }
        if state.lineage.trim().is_empty() {
            return Err(corrupt(0, 0, "`lineage` is empty".into()));
        }
        for (key, resource) in &state.resources {
            if key != &resource.address {
                return Err(corrupt(
                    0,
                    0,
                    format!(
                        "resource under key `{key}` records address `{}`; they must be equal",
                        resource.address
                    ),
                ));
            }
        }
        Ok(state)
    }

    /// The state as pretty-printed JSON with a final newline, as stored in `state.json`.
    pub fn to_json_pretty(&self) -> Result<Vec<u8>, StateError> {
        let mut bytes = serde_json::to_vec_pretty(self).map_err(StateError::Encode)?;
        bytes.push(b'\n');
        Ok(bytes)
    }

    /// Applies a resource create or update: inserts or replaces the instance.
    pub fn upsert_resource(&mut self, resource: ResourceState) {
        self.resources.insert(resource.address.clone(), resource);
    }
}

fn future(path: &Path, found: u64) -> StateError {
    StateError::FutureVersion {
        path: path.to_path_buf(),
        found,
        supported: FORMAT_VERSION,
    }
}

/// The top-level `version` of a JSON document that may not match [`State`].
fn probe_version(bytes: &[u8]) -> Option<u64> {
    #[derive(Deserialize)]
    struct Probe {
        version: Option<u64>,
    }
    serde_json::from_slice::<Probe>(bytes).ok()?.version
}

/// serde_json appends " at line L column C"; the position is reported separately.
pub(crate) fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(at) => message[..at].to_owned(),
        None => message.to_owned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    pub(crate) fn resource(address: &str) -> ResourceState {
        ResourceState {
            address: address.into(),
            mode: ResourceMode::Managed,
            type_name: "aws_vpc".into(),
            provider: "aws".into(),
            schema_version: 0,
            attributes: json!({"id": "vpc-1", "cidr_block": "10.0.0.0/16"}),
            sensitive_paths: vec![],
            dependencies: vec![],
            create_token: None,
            tainted: false,
            placement: None,
            module_placements: BTreeMap::new(),
        }
    }

    fn p() -> &'static Path {
        Path::new("state.json")
    }

    #[test]
    fn new_state_has_a_fresh_lineage_and_serial_zero() {
        let a = State::new();
        let b = State::new();
        assert_eq!(a.serial, 0);
        assert_eq!(a.version, FORMAT_VERSION);
        assert_ne!(a.lineage, b.lineage);
        assert_eq!(
            uuid::Uuid::parse_str(&a.lineage).unwrap().get_version_num(),
            4
        );
    }

    #[test]
    fn round_trips_through_pretty_json() {
        let mut state = State::new();
        state.serial = 7;
        let mut r = resource("aws_vpc.main");
        r.create_token = Some("tok-1".into());
        r.sensitive_paths = vec!["password".into()];
        state.upsert_resource(r);
        let mut d = resource("data.aws_ami.ubuntu");
        d.mode = ResourceMode::Data;
        state.upsert_resource(d);
        state.outputs.insert(
            "id".into(),
            OutputState {
                value: json!("vpc-1"),
                sensitive: false,
            },
        );
        let bytes = state.to_json_pretty().unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert!(
            text.contains("\n  \"serial\": 7,"),
            "pretty-printed: {text}"
        );
        assert!(text.contains("\"type\": \"aws_vpc\""));
        assert!(text.contains("\"mode\": \"data\""));
        assert!(text.contains("\"mode\": \"managed\""));
        assert!(text.ends_with("}\n"));
        assert_eq!(State::from_json(&bytes, p()).unwrap(), state);
    }

    #[test]
    fn invalid_json_is_corrupt_with_position() {
        let err = State::from_json(b"{\n  \"version\": 1,\n  oops\n}", p()).unwrap_err();
        match err {
            StateError::Corrupt { line, column, .. } => {
                assert_eq!(line, 3);
                assert!(column > 0);
            }
            other => panic!("expected Corrupt, got {other:?}"),
        }
    }

    #[test]
    fn truncated_json_is_corrupt() {
        let full = State::new().to_json_pretty().unwrap();
        let err = State::from_json(&full[..full.len() / 2], p()).unwrap_err();
        assert!(
            matches!(&err, StateError::Corrupt { message, .. } if message.contains("truncated")),
            "{err:?}"
        );
        let empty = State::from_json(b"", p()).unwrap_err();
        assert!(matches!(empty, StateError::Corrupt { .. }), "{empty:?}");
    }

    #[test]
    fn future_version_is_reported_even_with_unknown_shape() {
        let mut v = serde_json::to_value(State::new()).unwrap();
        v["version"] = json!(99);
        let err = State::from_json(v.to_string().as_bytes(), p()).unwrap_err();
        assert!(
            matches!(
                err,
                StateError::FutureVersion {
                    found: 99,
                    supported: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        let err = State::from_json(br#"{"version": 99, "stacks": []}"#, p()).unwrap_err();
        assert!(
            matches!(err, StateError::FutureVersion { found: 99, .. }),
            "{err:?}"
        );
        assert!(err.to_string().contains("upgrade gantry"));
    }

    #[test]
    fn missing_field_is_corrupt() {
        let mut v = serde_json::to_value(State::new()).unwrap();
        v.as_object_mut().unwrap().remove("lineage");
        let err = State::from_json(v.to_string().as_bytes(), p()).unwrap_err();
        assert!(
            matches!(&err, StateError::Corrupt { message, .. } if message.contains("lineage")),
            "{err:?}"
        );
        let mut state = State::new();
        state.upsert_resource(resource("aws_vpc.a"));
        let mut v = serde_json::to_value(&state).unwrap();
        v["resources"]["aws_vpc.a"]
            .as_object_mut()
            .unwrap()
            .remove("provider");
        let err = State::from_json(v.to_string().as_bytes(), p()).unwrap_err();
        assert!(
            matches!(&err, StateError::Corrupt { message, .. } if message.contains("provider")),
            "{err:?}"
        );
    }

    #[test]
    fn key_and_address_must_agree() {
        let mut state = State::new();
        state
            .resources
            .insert("aws_vpc.a".into(), resource("aws_vpc.b"));
        let bytes = state.to_json_pretty().unwrap();
        let err = State::from_json(&bytes, p()).unwrap_err();
        assert!(matches!(err, StateError::Corrupt { .. }), "{err:?}");
    }

    #[test]
    fn corrupt_message_names_file_and_position() {
        let err = State::from_json(b"{\n  nope", Path::new("/x/state.json")).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with("/x/state.json:2:"), "{text}");
        assert!(text.contains("hint:"), "{text}");
    }
}

//! Which backend a stack's state lives in: its `backend "KIND" { }` block (at the top level
//! or in `terraform { }`), with the values `gantry init --backend-config` recorded in
//! `.gantry/backend.json` laid over it, exactly as Terraform's `-backend-config` does.
//! Backend arguments are constants: no variables, locals or resources (the backend is
//! needed before any of those can be read).

use crate::config::eval::eval_constant;
use crate::config::load::{load_module, stack_files};
use crate::config::model::{Backend, BlockItem, BodyConfig};
use crate::diagnostics::{Diagnostic, Diagnostics, SourceMap};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

/// The file `gantry init` records backend settings in.
pub const BACKEND_FILE: &str = "backend.json";

/// How long a lock whose heartbeat stopped is still respected, unless the backend block
/// says `lock_stale_after_seconds`.
pub const DEFAULT_STALE_AFTER: Duration = Duration::from_secs(60);

/// A backend's settings: a flat map of argument paths (`bucket`, `endpoints.s3`,
/// `assume_role.role_arn`) to their values as strings, and where each came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackendSettings {
    pub kind: String,
    pub values: BTreeMap<String, String>,
}

impl BackendSettings {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.values.get(key).map(String::as_str)
    }

    /// A boolean argument; `Err` names a value that is not `true` or `false`.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, String> {
        match self.get(key) {
            None => Ok(None),
            Some("true") => Ok(Some(true)),
            Some("false") => Ok(Some(false)),
            Some(other) => Err(format!("`{key}` must be true or false, not `{other}`")),
        }
    }

    /// A required string argument.
    pub fn required(&self, key: &str) -> Result<&str, String> {
        self.get(key)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| format!("`backend \"{}\"` needs `{key}`", self.kind))
    }

    /// `lock_stale_after_seconds`, or the default.
    pub fn stale_after(&self) -> Result<Duration, String> {
        match self.get("lock_stale_after_seconds") {
            None => Ok(DEFAULT_STALE_AFTER),
            Some(v) => v
                .parse::<u64>()
                .ok()
                .filter(|s| *s >= 1)
                .map(Duration::from_secs)
                .ok_or_else(|| {
                    format!("`lock_stale_after_seconds` must be a whole number of seconds, at least 1, not `{v}`")
                }),
        }
    }
}

/// What `gantry init` recorded: the backend kind it was run for, the `--backend-config`
/// values and the whole settings they made (so `gantry init --migrate-state` can still read
/// the old backend after the block changed). They may hold credentials: the file is
/// private to the user.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    pub kind: String,
    pub overrides: BTreeMap<String, String>,
    pub settings: BTreeMap<String, String>,
}

impl Recorded {
    pub fn read(gantry_dir: &Path) -> Result<Option<Recorded>, Diagnostic> {
        let path = gantry_dir.join(BACKEND_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(
                    Diagnostic::error(format!("cannot read `{}`", path.display()))
                        .with_detail(e.to_string()),
                )
            }
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            Diagnostic::error(format!("`{}` is not valid", path.display()))
                .with_detail(e.to_string())
                .with_help("run `gantry init` again to rewrite it")
        })
    }

    /// The settings of the backend this records.
    pub fn backend(&self) -> BackendSettings {
        BackendSettings {
            kind: self.kind.clone(),
            values: self.settings.clone(),
        }
    }

    /// Writes the record (mode 0600), or removes it for local state (`None`).
    pub fn write(gantry_dir: &Path, record: Option<&Recorded>) -> Result<(), Diagnostic> {
        let path = gantry_dir.join(BACKEND_FILE);
        let fail = |e: crate::state::StateError| {
            Diagnostic::error(format!("cannot write `{}`", path.display()))
                .with_detail(e.to_string())
        };
        match record {
            Some(r) => {
                crate::state::local::create_dir_private(gantry_dir).map_err(fail)?;
                let mut bytes = serde_json::to_vec_pretty(r).unwrap_or_default();
                bytes.push(b'\n');
                crate::state::local::write_atomic(gantry_dir, BACKEND_FILE, &bytes).map_err(fail)
            }
            None => crate::state::local::remove_if_exists(&path).map_err(fail),
        }
    }
}

/// The arguments of Terraform's S3 backend gantry reads, and its own `lock_stale_after_seconds`.
pub const S3_ARGUMENTS: &[&str] = &[
    "bucket",
    "key",
    "region",
    "workspace_key_prefix",
    "encrypt",
    "kms_key_id",
    "endpoints.s3",
    "endpoint",
    "use_path_style",
    "force_path_style",
    "profile",
    "access_key",
    "secret_key",
    "assume_role.role_arn",
    "assume_role.session_name",
    "assume_role.external_id",
    "use_lockfile",
    "dynamodb_table",
    "lock_stale_after_seconds",
];

/// The arguments of Terraform's gcs backend gantry reads, and its own
/// `lock_stale_after_seconds`.
pub const GCS_ARGUMENTS: &[&str] = &[
    "bucket",
    "prefix",
    "credentials",
    "access_token",
    "storage_custom_endpoint",
    "kms_encryption_key",
    "encryption_key",
    "impersonate_service_account",
    "lock_stale_after_seconds",
];

/// The arguments of Terraform's pg backend gantry reads, and its own
/// `lock_stale_after_seconds`.
pub const PG_ARGUMENTS: &[&str] = &[
    "conn_str",
    "schema_name",
    "skip_schema_creation",
    "skip_table_creation",
    "skip_index_creation",
    "lock_stale_after_seconds",
];

/// The arguments of Terraform's azurerm backend gantry reads, and its own
/// `lock_stale_after_seconds`; with `use_azuread_auth`, also
/// [`AZURE_CREDENTIAL_ARGUMENTS`].
pub const AZURERM_ARGUMENTS: &[&str] = &[
    "storage_account_name",
    "container_name",
    "key",
    "access_key",
    "sas_token",
    "use_azuread_auth",
    "endpoint",
    "resource_group_name",
    "subscription_id",
    "snapshot",
    "lock_stale_after_seconds",
];

/// The azurerm provider's credential arguments, which Azure's data planes gantry uses
/// outside the provider take too (`backend "azurerm"`, `key_provider "azure_key_vault"`).
pub const AZURE_CREDENTIAL_ARGUMENTS: &[&str] = &[
    "environment",
    "metadata_host",
    "tenant_id",
    "client_id",
    "client_id_file_path",
    "client_secret",
    "client_secret_file_path",
    "use_oidc",
    "oidc_token",
    "oidc_token_file_path",
    "oidc_request_url",
    "oidc_request_token",
    "use_aks_workload_identity",
    "use_msi",
    "use_cli",
];

/// The arguments a backend kind takes, flattened (`endpoints.s3`).
pub fn known_arguments(kind: &str) -> Option<Vec<&'static str>> {
    let lists: &[&[&str]] = match kind {
        "s3" => &[S3_ARGUMENTS],
        "gcs" => &[GCS_ARGUMENTS],
        "pg" => &[PG_ARGUMENTS],
        "azurerm" => &[AZURERM_ARGUMENTS, AZURE_CREDENTIAL_ARGUMENTS],
        "local" => &[],
        _ => return None,
    };
    Some(lists.concat())
}

/// The stack's backend block, if any, as settings, with what `gantry init` recorded laid
/// over it. `None` means local state. An error carries its file, line and source line in
/// its text, as it is shown before any stack is loaded.
pub fn resolve(stack_dir: &Path) -> Result<Option<BackendSettings>, Diagnostic> {
    resolve_with_sources(stack_dir, true).map_err(detach_first)
}

/// The stack's backend block alone, without what `gantry init` recorded.
pub fn resolve_block(stack_dir: &Path) -> Result<Option<BackendSettings>, Diagnostic> {
    resolve_with_sources(stack_dir, false).map_err(detach_first)
}

fn detach_first((diags, sources): (Diagnostics, SourceMap)) -> Diagnostic {
    let first = diags
        .iter()
        .find(|d| d.severity == crate::diagnostics::Severity::Error)
        .cloned()
        .unwrap_or_else(|| Diagnostic::error("cannot read the backend block"));
    detach(first, &sources)
}

/// A diagnostic that stands without its source map: `file:line:col: summary`, the source
/// line in its detail.
pub(crate) fn detach(mut d: Diagnostic, sources: &SourceMap) -> Diagnostic {
    let Some(span) = d.span.take() else {
        return d;
    };
    d.summary = format!("{}: {}", sources.location(span), d.summary);
    if let Some(file) = sources.get(span.file) {
        let (line, _) = file.line_col(span.start);
        let text = file
            .text
            .get(file.line_range(line))
            .unwrap_or("")
            .trim_end();
        let mut detail = format!("{line:>4} | {text}");
        if let Some(more) = d.detail.take() {
            detail.push('\n');
            detail.push_str(&more);
        }
        d.detail = Some(detail);
    }
    d.label = None;
    d
}

fn resolve_with_sources(
    stack_dir: &Path,
    with_recorded: bool,
) -> Result<Option<BackendSettings>, (Diagnostics, SourceMap)> {
    let mut sources = SourceMap::new();
    let mut diags = Diagnostics::new();
    let files = match stack_files(stack_dir) {
        Ok(files) => files,
        Err(e) => {
            diags.push(
                Diagnostic::error(format!("cannot read `{}`", stack_dir.display()))
                    .with_detail(e.to_string()),
            );
            return Err((diags, sources));
        }
    };
    let module = load_module(&mut sources, stack_dir, &files, &mut diags);
    if diags.has_errors() {
        return Err((diags, sources));
    }
    let Some(block) = &module.backend else {
        return no_block(stack_dir, with_recorded, &sources, diags);
    };
    let mut settings = match block_settings(block) {
        Ok(s) => s,
        Err(d) => {
            diags.push(d);
            return Err((diags, sources));
        }
    };
    if !with_recorded {
        return Ok((settings.kind != "local").then_some(settings));
    }
    if settings.kind == "local" {
        return no_block(stack_dir, with_recorded, &sources, diags);
    }
    let recorded = Recorded::read(&stack_dir.join(".gantry")).map_err(|d| {
        diags.push(d);
        (diags.clone(), SourceMap::new())
    })?;
    if let Some(recorded) = recorded {
        if recorded.kind != settings.kind {
            diags.push(
                Diagnostic::error(format!(
                    "the backend changed from `{}` to `{}` since `gantry init`",
                    recorded.kind, settings.kind
                ))
                .with_span(block.span)
                .with_help("run `gantry init` to use the new backend (the settings recorded for the old one are dropped)"),
            );
            return Err((diags, sources));
        }
        settings.values.extend(recorded.overrides);
        if settings.values != recorded.settings {
            diags.push(
                Diagnostic::error(format!(
                    "the `backend \"{}\"` settings changed since `gantry init`",
                    settings.kind
                ))
                .with_span(block.span)
                .with_help("run `gantry init --migrate-state` to move the state, or `gantry init` to use the new settings"),
            );
            return Err((diags, sources));
        }
    }
    Ok(Some(settings))
}

/// No remote backend in the stack: local state, unless `gantry init` recorded one (the
/// block was removed: using local state now would start from nothing).
fn no_block(
    stack_dir: &Path,
    with_recorded: bool,
    sources: &SourceMap,
    mut diags: Diagnostics,
) -> Result<Option<BackendSettings>, (Diagnostics, SourceMap)> {
    if !with_recorded {
        return Ok(None);
    }
    match Recorded::read(&stack_dir.join(".gantry")) {
        Ok(None) => Ok(None),
        Ok(Some(recorded)) => {
            diags.push(
                Diagnostic::error(format!(
                    "the stack no longer names the `{}` backend `gantry init` set up",
                    recorded.kind
                ))
                .with_help("run `gantry init --migrate-state` to bring the state back to local state, or `gantry init` to start over locally"),
            );
            Err((diags, sources.clone()))
        }
        Err(d) => {
            diags.push(d);
            Err((diags, sources.clone()))
        }
    }
}

/// The arguments of one backend block, flattened, as constants.
pub fn block_settings(block: &Backend) -> Result<BackendSettings, Diagnostic> {
    let mut settings = BackendSettings {
        kind: block.kind.clone(),
        values: BTreeMap::new(),
    };
    flatten(&block.body, "", &mut settings.values)?;
    Ok(settings)
}

fn flatten(
    body: &BodyConfig,
    prefix: &str,
    out: &mut BTreeMap<String, String>,
) -> Result<(), Diagnostic> {
    for attr in body.attributes.values() {
        let value = eval_constant(&attr.value).map_err(|d| {
            Diagnostic::error(format!("`{}` in a backend block must be a constant", attr.name))
                .with_span(attr.span)
                .with_detail(d.summary.clone())
                .with_help("backend settings are read before variables exist: write the value, or pass it with `gantry init --backend-config KEY=VALUE`")
        })?;
        let text = scalar_text(&value).ok_or_else(|| {
            Diagnostic::error(format!("`{}` must be a string, number or bool", attr.name))
                .with_span(attr.span)
        })?;
        out.insert(format!("{prefix}{}", attr.name), text);
    }
    for item in &body.blocks {
        match item {
            BlockItem::Static(nested) => {
                flatten(&nested.body, &format!("{prefix}{}.", nested.type_name), out)?;
            }
            BlockItem::Dynamic(d) => {
                return Err(
                    Diagnostic::error("a backend block cannot use `dynamic` blocks")
                        .with_span(d.span),
                )
            }
        }
    }
    Ok(())
}

fn scalar_text(value: &gantry_provider::Value) -> Option<String> {
    use gantry_provider::Value;
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) if n.fract() == 0.0 && n.abs() < 1e15 => Some(format!("{}", *n as i64)),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// Parses `--backend-config` values: `KEY=VALUE`, or a file of `key = value` lines in HCL.
pub fn parse_overrides(args: &[String]) -> Result<BTreeMap<String, String>, Diagnostic> {
    let mut out = BTreeMap::new();
    for arg in args {
        if let Some((key, value)) = arg.split_once('=').filter(|(k, _)| !k.contains('/')) {
            let key = key.trim();
            if key.is_empty() {
                return Err(
                    Diagnostic::error(format!("`--backend-config {arg}` has no key"))
                        .with_help("write KEY=VALUE, e.g. `--backend-config bucket=tfstate`"),
                );
            }
            out.insert(key.to_owned(), value.to_owned());
            continue;
        }
        let path = Path::new(arg);
        let text = std::fs::read_to_string(path).map_err(|e| {
            Diagnostic::error(format!("cannot read backend settings file `{arg}`"))
                .with_detail(e.to_string())
                .with_help("pass KEY=VALUE, or the path of a file of `key = \"value\"` lines")
        })?;
        // Not the parser's text: it quotes the line, which may hold a secret key.
        let body: hcl::Body = hcl::from_str(&text).map_err(|_| {
            Diagnostic::error(format!("`{arg}` is not a backend settings file"))
                .with_help("it holds `key = \"value\"` lines and blocks of them, in HCL")
        })?;
        flatten_hcl(&body, "", &mut out).map_err(|what| {
            Diagnostic::error(format!("`{arg}`: {what}"))
                .with_help("backend settings files hold constants: strings, numbers, booleans and blocks of them")
        })?;
    }
    Ok(out)
}

fn flatten_hcl(
    body: &hcl::Body,
    prefix: &str,
    out: &mut BTreeMap<String, String>,
) -> Result<(), String> {
    for attr in body.attributes() {
        let text = match attr.expr() {
            hcl::Expression::String(s) => s.clone(),
            hcl::Expression::Bool(b) => b.to_string(),
            hcl::Expression::Number(n) => n.to_string(),
            _ => return Err(format!("`{}` is not a constant", attr.key())),
        };
        out.insert(format!("{prefix}{}", attr.key()), text);
    }
    for block in body.blocks() {
        flatten_hcl(
            block.body(),
            &format!("{prefix}{}.", block.identifier()),
            out,
        )?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn overrides_take_pairs_and_files() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("prod.s3.tfbackend");
        std::fs::write(
            &file,
            "bucket = \"tfstate\"\nuse_path_style = true\nendpoints {\n  s3 = \"http://127.0.0.1:5000\"\n}\n",
        )
        .unwrap();
        let got =
            parse_overrides(&["key=team/llm.tfstate".into(), file.display().to_string()]).unwrap();
        assert_eq!(got["key"], "team/llm.tfstate");
        assert_eq!(got["bucket"], "tfstate");
        assert_eq!(got["use_path_style"], "true");
        assert_eq!(got["endpoints.s3"], "http://127.0.0.1:5000");
        let err = parse_overrides(&["=x".into()]).unwrap_err();
        assert!(err.summary.contains("has no key"), "{}", err.summary);
        let err = parse_overrides(&["/no/such/file".into()]).unwrap_err();
        assert!(err.summary.contains("cannot read"), "{}", err.summary);
    }

    #[test]
    fn settings_check_their_values() {
        let mut s = BackendSettings {
            kind: "s3".into(),
            values: BTreeMap::new(),
        };
        assert_eq!(s.stale_after().unwrap(), DEFAULT_STALE_AFTER);
        assert!(s.required("bucket").unwrap_err().contains("needs `bucket`"));
        s.values.insert("encrypt".into(), "yes".into());
        assert!(s.bool("encrypt").is_err());
        s.values
            .insert("lock_stale_after_seconds".into(), "0".into());
        assert!(s.stale_after().is_err());
        s.values
            .insert("lock_stale_after_seconds".into(), "5".into());
        assert_eq!(s.stale_after().unwrap(), Duration::from_secs(5));
    }
}

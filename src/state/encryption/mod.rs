//! Client-side encryption of state, the journal and saved plans, OpenTofu-style
//! ([`config`]): the bytes that reach the disk or a remote backend are sealed with
//! AES-256-GCM under a key derived from a passphrase (`pbkdf2`) or a data key wrapped by a
//! cloud's key service (`aws_kms`, `gcp_kms`, `azure_key_vault`) ([`seal`]).
//!
//! * A sealed state file is one JSON envelope (it starts with [`seal::MAGIC`]) naming the
//!   method, the key provider and its key material (salt or encrypted data key), and binding the lineage, serial and workspace
//!   as associated data: a ciphertext relabelled with another serial or workspace, or with
//!   one byte changed, does not open, and a state sealed for another workspace is refused.
//! * Journal records are sealed one line each (`{"op":"sealed",...}`), bound to the
//!   journal's lineage, base serial and workspace; the `begin` line stays plain.
//! * Saved plans are sealed whole with the `plan` method.
//! * Rotation: the primary method writes; the primary or the `fallback` reads, so a state
//!   written under the old key is read once and written back under the new one.
//!   Unencrypted state is read only when `method "unencrypted"` is the primary or the
//!   fallback (migrating into encryption, or out of it).
//! * A failure to open leaves the file as it is and says which key and why.

pub mod config;
pub mod seal;

use crate::state::error::StateError;
use seal::{Binding, Envelope, KeyProvider, SealError, MAGIC};
use std::borrow::Cow;
use std::path::Path;
use std::sync::Arc;

/// One encryption method.
#[derive(Debug, Clone)]
pub enum Method {
    Unencrypted,
    AesGcm(KeyProvider),
}

/// What one kind of file is written and read with.
#[derive(Debug, Clone)]
pub struct Target {
    pub primary: Method,
    pub fallback: Option<Method>,
    pub enforced: bool,
}

impl Target {
    fn reads_plain(&self) -> bool {
        matches!(self.primary, Method::Unencrypted)
            || matches!(self.fallback, Some(Method::Unencrypted))
    }

    /// The key provider named `name` among the primary and fallback methods.
    fn provider(&self, name: &str) -> Option<&KeyProvider> {
        [Some(&self.primary), self.fallback.as_ref()]
            .into_iter()
            .flatten()
            .find_map(|m| match m {
                Method::AesGcm(p) if p.name() == name => Some(p),
                _ => None,
            })
    }

    fn sealing(&self) -> Option<&KeyProvider> {
        match &self.primary {
            Method::AesGcm(p) => Some(p),
            Method::Unencrypted => None,
        }
    }
}

/// How one run seals and opens state, journal and plan files, for one workspace.
#[derive(Debug, Clone, Default)]
pub struct Codec {
    state: Option<Target>,
    plan: Option<Target>,
    workspace: String,
}

/// A journal line's form once sealed.
#[derive(serde::Serialize, serde::Deserialize)]
struct SealedLine {
    op: String,
    #[serde(flatten)]
    envelope: Envelope,
}

impl Codec {
    /// No encryption: everything is written and read as plain JSON.
    pub fn none() -> Arc<Codec> {
        Arc::new(Codec::default())
    }

    pub fn new(state: Option<Target>, plan: Option<Target>, workspace: &str) -> Codec {
        Codec {
            state,
            plan,
            workspace: workspace.to_owned(),
        }
    }

    /// Takes the key state will be sealed with, for a command that writes, before it
    /// starts: a cloud key provider's data key is made and wrapped now (once for the run),
    /// so a wrong or missing key fails the command before anything is planned or changed,
    /// not at its first write.
    pub fn ready_to_write(&self) -> Result<(), StateError> {
        let Some(provider) = self.state.as_ref().and_then(Target::sealing) else {
            return Ok(());
        };
        provider
            .prepare_write()
            .map_err(|e| StateError::EncryptionKey {
                provider: provider.name().to_owned(),
                message: e.to_string(),
            })
    }

    /// Whether state is written sealed.
    pub fn seals_state(&self) -> bool {
        self.state.as_ref().and_then(Target::sealing).is_some()
    }

    fn binding(&self, kind: &str, lineage: &str, serial: u64) -> Binding {
        Binding {
            kind: kind.to_owned(),
            lineage: lineage.to_owned(),
            serial,
            workspace: self.workspace.clone(),
        }
    }

    /// The bytes to store for a state file with this lineage and serial.
    pub fn seal_state(
        &self,
        plain: Vec<u8>,
        lineage: &str,
        serial: u64,
    ) -> Result<Vec<u8>, StateError> {
        let Some(provider) = self.state.as_ref().and_then(Target::sealing) else {
            return Ok(plain);
        };
        sealed_bytes(provider, self.binding("state", lineage, serial), &plain)
    }

    /// The plain JSON of a stored state file.
    pub fn open_state<'a>(
        &self,
        bytes: &'a [u8],
        path: &Path,
    ) -> Result<Cow<'a, [u8]>, StateError> {
        self.open(bytes, path, "state", self.state.as_ref())
    }

    /// The bytes to store for a saved plan.
    pub fn seal_plan(
        &self,
        plain: Vec<u8>,
        lineage: &str,
        serial: u64,
        stack_dir: &Path,
    ) -> Result<Vec<u8>, StateError> {
        let Some(provider) = self.plan.as_ref().and_then(Target::sealing) else {
            return Ok(plain);
        };
        let mut envelope = seal::seal(provider, self.binding("plan", lineage, serial), &plain)
            .map_err(|e| encryption_error(stack_dir, &e.to_string()))?;
        envelope.stack_dir = Some(stack_dir.display().to_string());
        let mut out = serde_json::to_vec(&envelope).map_err(StateError::Encode)?;
        out.push(b'\n');
        Ok(out)
    }

    /// The plain bytes of a saved plan.
    pub fn open_plan<'a>(&self, bytes: &'a [u8], path: &Path) -> Result<Cow<'a, [u8]>, StateError> {
        self.open(bytes, path, "plan", self.plan.as_ref())
    }

    /// A journal record line as stored (sealed when state is).
    pub fn seal_line(
        &self,
        line: Vec<u8>,
        lineage: &str,
        base_serial: u64,
    ) -> Result<Vec<u8>, StateError> {
        let Some(provider) = self.state.as_ref().and_then(Target::sealing) else {
            return Ok(line);
        };
        let envelope = seal::seal(
            provider,
            self.binding("journal", lineage, base_serial),
            &line,
        )
        .map_err(|e| encryption_error(Path::new("journal"), &e.to_string()))?;
        let mut out = serde_json::to_vec(&SealedLine {
            op: "sealed".into(),
            envelope,
        })
        .map_err(StateError::Encode)?;
        out.push(b'\n');
        Ok(out)
    }

    /// A stored journal line as plain JSON; `Err` carries the message for the line.
    pub fn open_line<'a>(
        &self,
        line: &'a [u8],
        lineage: &str,
        base_serial: u64,
    ) -> Result<Cow<'a, [u8]>, String> {
        if !line.starts_with(b"{\"op\":\"sealed\"") {
            return match &self.state {
                Some(t) if !t.reads_plain() => Err(
                    "an unencrypted journal record, but the encryption configuration does not read unencrypted state".into(),
                ),
                _ => Ok(Cow::Borrowed(line)),
            };
        }
        let sealed: SealedLine =
            serde_json::from_slice(line).map_err(|e| format!("invalid sealed record: {e}"))?;
        let expected = self.binding("journal", lineage, base_serial);
        if sealed.envelope.binding != expected {
            return Err("a sealed record of another journal".into());
        }
        let target = self
            .state
            .as_ref()
            .ok_or("the journal is encrypted, and no encryption is configured")?;
        let provider = target
            .provider(&sealed.envelope.key_provider)
            .ok_or_else(|| {
                format!(
                    "sealed with key provider `{}`, which the configuration does not name",
                    sealed.envelope.key_provider
                )
            })?;
        seal::open(provider, &sealed.envelope)
            .map(Cow::Owned)
            .map_err(|e| e.to_string())
    }

    fn open<'a>(
        &self,
        bytes: &'a [u8],
        path: &Path,
        kind: &str,
        target: Option<&Target>,
    ) -> Result<Cow<'a, [u8]>, StateError> {
        if !bytes.starts_with(MAGIC.as_bytes()) {
            return match target {
                Some(t) if !t.reads_plain() => Err(encryption_error(
                    path,
                    &format!("the {kind} is not encrypted, but the encryption configuration requires it; to encrypt existing {kind} add `fallback {{ method = method.unencrypted.NAME }}` (with `method \"unencrypted\" \"NAME\" {{}}`) for one run"),
                )),
                _ => Ok(Cow::Borrowed(bytes)),
            };
        }
        let envelope: Envelope = serde_json::from_slice(bytes).map_err(|e| {
            encryption_error(path, &format!("the encrypted {kind} is malformed: {e}"))
        })?;
        let Some(target) = target else {
            return Err(encryption_error(
                path,
                &format!("the {kind} is encrypted (key provider `{}`), and no encryption is configured; configure the `encryption` block or GANTRY_ENCRYPTION", envelope.key_provider),
            ));
        };
        if envelope.binding.kind != kind {
            return Err(encryption_error(
                path,
                &format!("this is an encrypted {}, not {kind}", envelope.binding.kind),
            ));
        }
        if envelope.binding.workspace != self.workspace {
            return Err(encryption_error(
                path,
                &format!(
                    "this {kind} was sealed for workspace `{}`, not `{}`",
                    envelope.binding.workspace, self.workspace
                ),
            ));
        }
        let Some(provider) = target.provider(&envelope.key_provider) else {
            return Err(encryption_error(
                path,
                &format!("the {kind} was sealed with key provider `{}`, which the configuration names neither as method nor as fallback", envelope.key_provider),
            ));
        };
        let plain = seal::open(provider, &envelope).map_err(|e| match e {
            SealError::Rejected => encryption_error(
                path,
                &format!(
                    "cannot decrypt the {kind} with key provider `{}`: {}, or the file was changed after it was written",
                    envelope.key_provider,
                    if envelope.key_provider.starts_with("pbkdf2.") {
                        "the passphrase is wrong"
                    } else {
                        "the key is not the one it was written with"
                    }
                ),
            ),
            e => encryption_error(path, &e.to_string()),
        })?;
        check_inner(&plain, &envelope.binding, path)?;
        Ok(Cow::Owned(plain))
    }
}

/// The stack directory a sealed plan file names, if it is one.
pub fn sealed_plan_stack_dir(bytes: &[u8]) -> Option<std::path::PathBuf> {
    if !bytes.starts_with(MAGIC.as_bytes()) {
        return None;
    }
    let envelope: Envelope = serde_json::from_slice(bytes).ok()?;
    envelope.stack_dir.map(std::path::PathBuf::from)
}

/// The sealed state names its lineage and serial outside; the plain JSON inside must agree.
fn check_inner(plain: &[u8], binding: &Binding, path: &Path) -> Result<(), StateError> {
    if binding.kind != "state" {
        return Ok(());
    }
    #[derive(serde::Deserialize)]
    struct Head {
        lineage: String,
        serial: u64,
    }
    match serde_json::from_slice::<Head>(plain) {
        Ok(h) if h.lineage == binding.lineage && h.serial == binding.serial => Ok(()),
        _ => Err(encryption_error(
            path,
            "the decrypted state does not match the lineage and serial it was sealed with",
        )),
    }
}

fn sealed_bytes(
    provider: &KeyProvider,
    binding: Binding,
    plain: &[u8],
) -> Result<Vec<u8>, StateError> {
    let envelope = seal::seal(provider, binding, plain)
        .map_err(|e| encryption_error(Path::new("-"), &e.to_string()))?;
    let mut out = serde_json::to_vec(&envelope).map_err(StateError::Encode)?;
    out.push(b'\n');
    Ok(out)
}

fn encryption_error(path: &Path, message: &str) -> StateError {
    StateError::Encryption {
        path: path.to_path_buf(),
        message: message.to_owned(),
    }
}

/// The codec of the stack in `dir` for `workspace`: its `encryption` block with
/// `GANTRY_ENCRYPTION` (or `TF_ENCRYPTION`) laid over it.
pub fn codec_for(
    stack_dir: &Path,
    workspace: &str,
) -> Result<Arc<Codec>, crate::diagnostics::Diagnostic> {
    let mut blocks = config::Blocks::default();
    let mut sources = crate::diagnostics::SourceMap::new();
    let mut found = false;
    // A file that cannot be read or parsed is an error here: carrying on without its
    // `encryption` block would write state in the clear.
    let files = crate::config::load::stack_files(stack_dir).map_err(|e| {
        crate::diagnostics::Diagnostic::error(format!("cannot read `{}`", stack_dir.display()))
            .with_detail(e.to_string())
    })?;
    for file in files {
        let text = std::fs::read_to_string(&file).map_err(|e| {
            crate::diagnostics::Diagnostic::error(format!("cannot read `{}`", file.display()))
                .with_detail(e.to_string())
        })?;
        if !text.contains("encryption") {
            continue;
        }
        let id = sources.add(&file, text.clone());
        let body = hcl_edit::parser::parse_body(&text).map_err(|e| {
            crate::state::remote::config::detach(
                crate::config::load::parse_error(&e, id, &text),
                &sources,
            )
        })?;
        for terraform in body.get_blocks("terraform") {
            for block in terraform.body.get_blocks("encryption") {
                found = true;
                blocks
                    .add_file(id, &block.body)
                    .map_err(|d| crate::state::remote::config::detach(d, &sources))?;
            }
        }
    }
    for name in ["TF_ENCRYPTION", "GANTRY_ENCRYPTION"] {
        if let Ok(text) = std::env::var(name) {
            if !text.trim().is_empty() {
                found = true;
                blocks.add_env(name, &text)?;
            }
        }
    }
    if !found {
        return Ok(Codec::none());
    }
    let (state, plan) = blocks
        .targets()
        .map_err(|d| crate::state::remote::config::detach(d, &sources))?;
    Ok(Arc::new(Codec::new(state, plan, workspace)))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn provider(name: &str, pass: &str) -> Method {
        Method::AesGcm(KeyProvider::Pbkdf2(seal::Pbkdf2::new(
            name.into(),
            pass.into(),
            1000,
        )))
    }

    fn codec(primary: Method, fallback: Option<Method>, ws: &str) -> Codec {
        Codec::new(
            Some(Target {
                primary,
                fallback,
                enforced: true,
            }),
            None,
            ws,
        )
    }

    const STATE: &[u8] = br#"{"version":1,"lineage":"L","serial":4,"resources":{}}"#;

    #[test]
    fn state_round_trips_and_rotation_reads_old_writes_new() {
        let old = codec(
            provider("pbkdf2.old", "old passphrase 123"),
            None,
            "default",
        );
        let sealed = old.seal_state(STATE.to_vec(), "L", 4).unwrap();
        assert!(sealed.starts_with(MAGIC.as_bytes()));
        let p = Path::new("state.json");
        assert_eq!(&*old.open_state(&sealed, p).unwrap(), STATE);
        // The new key writes; the old one is still read through the fallback.
        let rotated = codec(
            provider("pbkdf2.new", "new passphrase 456"),
            Some(provider("pbkdf2.old", "old passphrase 123")),
            "default",
        );
        assert_eq!(&*rotated.open_state(&sealed, p).unwrap(), STATE);
        let resealed = rotated.seal_state(STATE.to_vec(), "L", 4).unwrap();
        let env: Envelope = serde_json::from_slice(&resealed).unwrap();
        assert_eq!(env.key_provider, "pbkdf2.new");
        // Without the fallback the old file names a key nobody configured.
        let only_new = codec(
            provider("pbkdf2.new", "new passphrase 456"),
            None,
            "default",
        );
        let err = only_new.open_state(&sealed, p).unwrap_err().to_string();
        assert!(err.contains("pbkdf2.old"), "{err}");
    }

    #[test]
    fn wrong_keys_other_workspaces_and_plain_files_are_refused_clearly() {
        let c = codec(provider("pbkdf2.k", "right passphrase 1"), None, "prod");
        let sealed = c.seal_state(STATE.to_vec(), "L", 4).unwrap();
        let p = Path::new("state.json");
        let wrong = codec(provider("pbkdf2.k", "wrong passphrase 1"), None, "prod");
        let err = wrong.open_state(&sealed, p).unwrap_err().to_string();
        assert!(err.contains("passphrase is wrong"), "{err}");
        let staging = codec(provider("pbkdf2.k", "right passphrase 1"), None, "staging");
        let err = staging.open_state(&sealed, p).unwrap_err().to_string();
        assert!(err.contains("workspace `prod`"), "{err}");
        let err = c.open_state(STATE, p).unwrap_err().to_string();
        assert!(err.contains("not encrypted"), "{err}");
        let migrating = codec(
            provider("pbkdf2.k", "right passphrase 1"),
            Some(Method::Unencrypted),
            "prod",
        );
        assert_eq!(&*migrating.open_state(STATE, p).unwrap(), STATE);
        let none = Codec::default();
        let err = none.open_state(&sealed, p).unwrap_err().to_string();
        assert!(err.contains("no encryption is configured"), "{err}");
        // A sealed state whose inner serial disagrees with its label: never accepted.
        let lying = c.seal_state(STATE.to_vec(), "L", 9).unwrap();
        let err = c.open_state(&lying, p).unwrap_err().to_string();
        assert!(err.contains("does not match"), "{err}");
    }

    #[test]
    fn journal_lines_are_sealed_and_bound_to_their_journal() {
        let c = codec(provider("pbkdf2.k", "right passphrase 1"), None, "default");
        let line = br#"{"op":"intent","address":"a"}"#.to_vec();
        let sealed = c.seal_line(line.clone(), "L", 3).unwrap();
        assert!(!String::from_utf8_lossy(&sealed).contains("intent"));
        assert_eq!(
            &*c.open_line(sealed.trim_ascii_end(), "L", 3).unwrap(),
            &line[..]
        );
        assert!(c.open_line(sealed.trim_ascii_end(), "L", 4).is_err());
        assert!(
            c.open_line(&line, "L", 3).is_err(),
            "plain lines are refused"
        );
    }

    #[test]
    fn an_encrypted_journal_survives_a_crash_and_hides_its_records() {
        use crate::state::journal::tests::intent;
        use crate::state::{LocalBackend, LockInfo, Record, JOURNAL_FILE};
        let dir = tempfile::tempdir().unwrap();
        let codec = std::sync::Arc::new(codec(
            provider("pbkdf2.k", "right passphrase 1"),
            None,
            "default",
        ));
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let open = || {
            LocalBackend::new(dir.path())
                .with_codec(std::sync::Arc::clone(&codec))
                .lock(LockInfo::new("apply"), std::time::Duration::ZERO)
                .unwrap()
        };
        let lock = open();
        let (journal, _) = lock.open_journal().unwrap();
        rt.block_on(journal.append(Record::Intent(intent("aws_vpc.secret_net", "tok"))))
            .unwrap();
        // The run dies: no commit.
        drop(journal);
        drop(lock);
        let text = std::fs::read_to_string(dir.path().join(JOURNAL_FILE)).unwrap();
        assert!(!text.contains("secret_net"), "{text}");
        assert!(text.contains("\"op\":\"sealed\""), "{text}");
        // The next run (same key) sees the pending create.
        let lock = open();
        let (_, recovery) = lock.read_state_with_journal().unwrap();
        assert_eq!(recovery.pending_creates[0].address, "aws_vpc.secret_net");
        drop(lock);
        // Without the key the journal is not read, and not touched.
        let plain = LocalBackend::new(dir.path())
            .lock(LockInfo::new("apply"), std::time::Duration::ZERO)
            .unwrap();
        assert!(plain.read_state_with_journal().is_err());
        assert_eq!(
            std::fs::read_to_string(dir.path().join(JOURNAL_FILE)).unwrap(),
            text
        );
    }
}

//! Keeping secrets out of what gantry prints: the values at a change's sensitive paths, and
//! the same strings wherever else they turn up (a cloud's error message that quotes the
//! request, a retry notice).

use crate::config::sensitive::secrets_at;
use crate::plan::ResourceChange;
use std::sync::RwLock;

/// Every secret this process has met (sensitive variables, values at sensitive paths):
/// diagnostics, status lines and logs are scrubbed of them as a last line of defence, so a
/// message that quotes a value it should not (a cloud error echoing a request, a source line
/// holding a literal default) still never shows it.
static KNOWN: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Adds secrets to the process-wide set scrubbed from messages and logs.
pub fn register(secrets: impl IntoIterator<Item = String>) {
    let mut fresh: Vec<String> = secrets
        .into_iter()
        .filter(|s| s.len() >= MIN_SCRUBBED_LEN)
        .collect();
    if fresh.is_empty() {
        return;
    }
    let mut known = KNOWN
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    known.append(&mut fresh);
    known.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    known.dedup();
}

/// `text` scrubbed of every registered secret.
pub fn scrub_known(text: &str) -> String {
    let known = KNOWN
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if known.is_empty() {
        return text.to_owned();
    }
    scrub(text, &known)
}

/// A writer for logs that scrubs every registered secret from what it writes (the fmt layer
/// writes each event whole, so a secret is never split across writes).
pub struct ScrubbingStderr;

impl std::io::Write for ScrubbingStderr {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(scrub_known(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// What replaces a secret in text.
pub const REDACTED: &str = "(sensitive value)";

/// Strings shorter than this are not scrubbed from free text: replacing every `1` or `on`
/// in a message would make it unreadable while hiding nothing.
const MIN_SCRUBBED_LEN: usize = 4;

/// The secret strings of a change: its values at its sensitive paths, before and after.
pub fn change_secrets(change: &ResourceChange) -> Vec<String> {
    if change.sensitive_paths.is_empty() {
        return Vec::new();
    }
    let mut out = Vec::new();
    for v in [&change.before, &change.after, &change.config]
        .into_iter()
        .flatten()
    {
        out.extend(secrets_at(v, &change.sensitive_paths));
    }
    out.retain(|s| s.len() >= MIN_SCRUBBED_LEN);
    // Longest first, so a secret containing another is replaced whole.
    out.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    out.dedup();
    out
}

/// `text` with every occurrence of each secret replaced by [`REDACTED`].
pub fn scrub(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_owned();
    for s in secrets {
        if s.len() >= MIN_SCRUBBED_LEN && out.contains(s.as_str()) {
            out = out.replace(s.as_str(), REDACTED);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_scrubbed_longest_first() {
        let secrets = vec![
            "hunter2-long".to_owned(),
            "hunter2".to_owned(),
            "ab".to_owned(),
        ];
        assert_eq!(
            scrub("bad password hunter2-long (not hunter2); ab", &secrets),
            "bad password (sensitive value) (not (sensitive value)); ab"
        );
    }
}

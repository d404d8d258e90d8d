//! Keeping secrets out of what gantry prints: the values at a change's sensitive paths, and
//! the same strings wherever else they turn up (a cloud's error message that quotes the
//! request, a retry notice).

use crate::config::sensitive::secrets_at;
use crate::plan::ResourceChange;

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
    for v in [&change.before, &change.after, &change.config].into_iter().flatten() {
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
        let secrets = vec!["hunter2-long".to_owned(), "hunter2".to_owned(), "ab".to_owned()];
        assert_eq!(
            scrub("bad password hunter2-long (not hunter2); ab", &secrets),
            "bad password (sensitive value) (not (sensitive value)); ab"
        );
    }
}

//! Names of new objects when the stack gives only a prefix (or nothing): Terraform's
//! `name_prefix` / `bucket_prefix`, a prefix plus a 26-character unique suffix.

/// Length of the unique suffix (as Terraform's `id.PrefixedUniqueId`).
pub const SUFFIX_LEN: usize = 26;

/// `name` when set; else `prefix` (or `default_prefix`) plus a suffix taken from the
/// create's idempotency token, so that a retried or recovered create asks for the same name
/// and `find_created` can recognise it.
pub fn unique(
    name: Option<&str>,
    prefix: Option<&str>,
    default_prefix: &str,
    token: Option<&str>,
) -> String {
    if let Some(n) = name {
        return n.to_owned();
    }
    format!("{}{}", prefix.unwrap_or(default_prefix), suffix(token))
}

/// The suffix for `token` (lower-case hex, usable in bucket names too).
pub fn suffix(token: Option<&str>) -> String {
    let mut hex: String = token
        .unwrap_or_default()
        .chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if hex.len() < SUFFIX_LEN {
        // No token (never the case for engine creates): fall back to the clock.
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        hex.push_str(&format!("{nanos:032x}"));
    }
    hex.truncate(SUFFIX_LEN);
    hex
}

/// The `name_prefix` a name was made from, when it ends in a suffix of ours.
pub fn prefix_of(name: &str) -> Option<&str> {
    let cut = name.len().checked_sub(SUFFIX_LEN)?;
    let tail = name.get(cut..)?;
    tail.chars()
        .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
        .then(|| &name[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_come_from_the_name_the_prefix_or_the_token() {
        let token = Some("0f8fad5b-d9cb-469f-a165-70867728950e");
        assert_eq!(unique(Some("exact"), Some("p-"), "gantry-", token), "exact");
        assert_eq!(
            unique(None, Some("p-"), "gantry-", token),
            "p-0f8fad5bd9cb469fa165708677"
        );
        assert_eq!(
            unique(None, None, "gantry-", token).len(),
            "gantry-".len() + SUFFIX_LEN
        );
        assert_eq!(unique(None, None, "x", None).len(), 1 + SUFFIX_LEN);
        assert_eq!(prefix_of("p-0f8fad5bd9cb469fa165708677"), Some("p-"));
        assert_eq!(prefix_of("short"), None);
    }
}

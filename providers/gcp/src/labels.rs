//! Labels: the user's, the provider's `default_labels`, and gantry's identity marks
//! (`gantry-stack`, `gantry-address`, `gantry-token`) that crash recovery proves an object
//! is this create's by.
//!
//! Label values are at most 63 lowercase letters, digits, `-` and `_`: an address like
//! `google_compute_instance.trainer["a"]` does not fit, so each mark is the value made to
//! fit, and a value that had to change carries a hash of the original, so two different
//! addresses never share a mark.

use gantry_provider::OpContext;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

pub type Labels = BTreeMap<String, String>;

pub const STACK: &str = "gantry-stack";
pub const ADDRESS: &str = "gantry-address";
pub const TOKEN: &str = "gantry-token";

/// A string as a label value: itself when it already is one, else its fitting form with
/// the first 12 hex digits of its SHA-256.
pub fn label_value(s: &str) -> String {
    let fits = s.len() <= 63
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if fits {
        return s.to_owned();
    }
    let cleaned: String = s
        .chars()
        .map(|c| match c {
            'a'..='z' | '0'..='9' | '-' | '_' => c,
            'A'..='Z' => c.to_ascii_lowercase(),
            _ => '_',
        })
        .take(50)
        .collect();
    let digest = Sha256::digest(s.as_bytes());
    let hash: String = digest.iter().take(6).map(|b| format!("{b:02x}")).collect();
    format!("{cleaned}-{hash}")
}

/// A JSON object of strings (an API's `labels`, `metadata`) as a map; absent is empty.
pub fn from_json(v: Option<&serde_json::Value>) -> Labels {
    v.and_then(serde_json::Value::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

/// gantry's marks for this operation (only those known).
pub fn identity(ctx: &OpContext) -> Labels {
    ctx.identity()
        .into_iter()
        .map(|(key, value)| {
            let key = match key {
                "stack" => STACK,
                "address" => ADDRESS,
                _ => TOKEN,
            };
            (key.to_owned(), label_value(value))
        })
        .collect()
}

/// Every label a new or updated object gets: default labels, then the user's, then
/// gantry's marks (which the user cannot override).
pub fn desired(defaults: &Labels, user: &Labels, ctx: &OpContext) -> Labels {
    let mut all = defaults.clone();
    all.extend(user.iter().map(|(k, v)| (k.clone(), v.clone())));
    all.extend(identity(ctx));
    all
}

/// True when an object's labels prove it is this create's: all three marks present and
/// equal to this operation's.
pub fn are_ours(ctx: &OpContext, labels: &Labels) -> bool {
    let wanted = identity(ctx);
    wanted.len() == 3 && wanted.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Every label an object being updated gets: as [`desired`], but with the identity marks
/// it was created with (`on_object`), since an update has no create token of its own.
pub fn for_update(defaults: &Labels, user: &Labels, ctx: &OpContext, on_object: &Labels) -> Labels {
    let mut all = desired(defaults, user, ctx);
    all.extend(
        on_object
            .iter()
            .filter(|(k, _)| k.starts_with("gantry-"))
            .map(|(k, v)| (k.clone(), v.clone())),
    );
    all
}

/// The `labels` attribute read back from an object's labels (`all`): the ones the user
/// manages, or null when `base` (the configuration or state read against) sets no
/// `labels` and the object carries none of the user's.
pub fn user_attribute(
    all: &Labels,
    defaults: &Labels,
    base: &gantry_provider::attrs::Attrs<'_>,
) -> gantry_provider::Value {
    user_attribute_named(all, defaults, base, "labels")
}

/// [`user_attribute`] for a type whose labels argument has another name (GKE's
/// `resource_labels`).
pub fn user_attribute_named(
    all: &Labels,
    defaults: &Labels,
    base: &gantry_provider::attrs::Attrs<'_>,
    attribute: &str,
) -> gantry_provider::Value {
    let users = users(all, defaults, &base.str_map(attribute));
    if users.is_empty() && base.get(attribute).is_none() {
        gantry_provider::Value::Null
    } else {
        gantry_provider::attrs::str_map(&users)
    }
}

/// For crash recovery: the object read back, when its labels (`effective_labels`) carry
/// all three of this create's marks; otherwise nothing is adopted.
pub fn adopt_if_ours(
    ctx: &OpContext,
    state: Option<gantry_provider::Value>,
) -> Option<gantry_provider::Value> {
    let state = state?;
    let on_object = gantry_provider::attrs::Attrs(&state).str_map("effective_labels");
    are_ours(ctx, &on_object).then_some(state)
}

/// The labels a user manages: everything but gantry's marks and the provider's defaults
/// (a default the user also set is the user's).
pub fn users(all: &Labels, defaults: &Labels, configured: &Labels) -> Labels {
    all.iter()
        .filter(|(k, _)| !k.starts_with("gantry-"))
        .filter(|(k, v)| configured.contains_key(*k) || defaults.get(*k) != Some(v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(stack: &str, address: &str, token: &str) -> OpContext {
        let mut c = OpContext::new(address);
        c.stack = stack.to_owned();
        c.idempotency_token = Some(token.to_owned());
        c
    }

    #[test]
    fn an_update_keeps_the_marks_the_object_was_made_with() {
        let made = ctx("s", "google_tpu_v2_vm.a", "tok-1");
        let on_object = desired(&Labels::new(), &Labels::new(), &made);
        // An update's context has no create token.
        let mut update = OpContext::new("google_tpu_v2_vm.a");
        update.stack = "s".to_owned();
        let user = Labels::from([("team".to_owned(), "ml".to_owned())]);
        let all = for_update(&Labels::new(), &user, &update, &on_object);
        assert_eq!(all.get(TOKEN), on_object.get(TOKEN));
        assert_eq!(all.get("team").map(String::as_str), Some("ml"));
        assert!(are_ours(&made, &all));
    }

    #[test]
    fn marks_fit_label_rules_and_stay_distinct() {
        let a = label_value("google_compute_instance.trainer[0]");
        let b = label_value("google_compute_instance.trainer[1]");
        assert_ne!(a, b);
        assert!(
            a.len() <= 63
                && a.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_'),
            "{a}"
        );
        assert_eq!(label_value("plain-value_1"), "plain-value_1");
        let long = label_value(&"x".repeat(200));
        assert!(long.len() <= 63, "{long}");
    }

    #[test]
    fn only_all_three_marks_prove_an_object_is_ours() {
        let me = ctx(
            "stack-1",
            "google_compute_instance.a",
            "6f1d3c2a-8b7e-4c9d-a1f0-2e3d4c5b6a79",
        );
        let labels = identity(&me);
        assert!(are_ours(&me, &labels));
        let other_token = ctx(
            "stack-1",
            "google_compute_instance.a",
            "0b9a8c7d-6e5f-4a3b-9c2d-1e0f9a8b7c6d",
        );
        assert!(!are_ours(&other_token, &labels));
        let other_stack = ctx(
            "stack-2",
            "google_compute_instance.a",
            "6f1d3c2a-8b7e-4c9d-a1f0-2e3d4c5b6a79",
        );
        assert!(!are_ours(&other_stack, &labels));
        let mut partial = labels.clone();
        partial.remove(TOKEN);
        assert!(!are_ours(&me, &partial));
    }

    #[test]
    fn users_labels_exclude_marks_and_defaults() {
        let me = ctx("s", "a", "6f1d3c2a-8b7e-4c9d-a1f0-2e3d4c5b6a79");
        let defaults: Labels = [("team".to_owned(), "ml".to_owned())].into();
        let user: Labels = [("job".to_owned(), "pretrain".to_owned())].into();
        let all = desired(&defaults, &user, &me);
        assert_eq!(all.len(), 5);
        assert_eq!(users(&all, &defaults, &user), user);
    }
}

//! Tags: the provider's `default_tags`, the user's `tags`, and gantry's identity marks
//! (`gantry-stack`, `gantry-address`, `gantry-token`) that crash recovery proves an object
//! is this create's by. ARM names are deterministic, so recovery looks the object up by
//! name and adopts it only when all three marks are this create's.
//!
//! Azure tag values take any character up to 256 (an address like
//! `azurerm_subnet.gpu["a"]` fits as it is); keys may not contain `<>%&\?/`.

use gantry_provider::OpContext;
use serde_json::{Map, Value as Json};
use std::collections::BTreeMap;

pub type Tags = BTreeMap<String, String>;

pub const STACK: &str = "gantry-stack";
pub const ADDRESS: &str = "gantry-address";
pub const TOKEN: &str = "gantry-token";
const MARKS: [&str; 3] = [STACK, ADDRESS, TOKEN];

/// A JSON object of strings (an object's `tags`, a container's `metadata`); absent is empty.
pub fn from_json(v: Option<&Json>) -> Tags {
    v.and_then(Json::as_object)
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_owned())))
                .collect()
        })
        .unwrap_or_default()
}

pub fn to_json(tags: &Tags) -> Json {
    Json::Object(
        tags.iter()
            .map(|(k, v)| (k.clone(), Json::String(v.clone())))
            .collect::<Map<_, _>>(),
    )
}

/// gantry's marks for this operation (those known).
pub fn identity(ctx: &OpContext) -> Tags {
    ctx.identity()
        .into_iter()
        .map(|(key, value)| {
            let key = match key {
                "stack" => STACK,
                "address" => ADDRESS,
                _ => TOKEN,
            };
            (key.to_owned(), value.to_owned())
        })
        .collect()
}

/// Every tag an object gets: default tags, then the user's, then gantry's marks. An update
/// keeps the marks the object already carries (`kept`), so the proof of who made it stays.
pub fn desired(defaults: &Tags, user: &Tags, ctx: &OpContext, kept: &Tags) -> Tags {
    let mut all = defaults.clone();
    all.extend(user.iter().map(|(k, v)| (k.clone(), v.clone())));
    let kept_marks: Tags = kept
        .iter()
        .filter(|(k, _)| MARKS.iter().any(|m| m.eq_ignore_ascii_case(k)))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if kept_marks.is_empty() {
        all.extend(identity(ctx));
    } else {
        all.extend(kept_marks);
    }
    all
}

/// True when an object's tags prove it is this create's: all three marks present and
/// equal to this operation's (tag keys are case-insensitive in ARM).
pub fn are_ours(ctx: &OpContext, tags: &Tags) -> bool {
    let mark = |name: &str| {
        tags.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    ctx.is_ours(mark(STACK), mark(ADDRESS), mark(TOKEN))
}

/// The user's tags: an object's tags without gantry's marks and the provider's defaults
/// (a default the user also set with the same value stays the user's).
pub fn user_view(all: &Tags, defaults: &Tags, configured: &Tags) -> Tags {
    all.iter()
        .filter(|(k, _)| !MARKS.iter().any(|m| m.eq_ignore_ascii_case(k)))
        .filter(|(k, v)| configured.contains_key(*k) || defaults.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// Tags as blob metadata, whose keys are C# identifiers: gantry's marks with `_`.
pub fn as_metadata(all: &Tags) -> Tags {
    all.iter()
        .map(|(k, v)| (mark_key(k, '-', '_'), v.clone()))
        .collect()
}

/// Blob metadata read back: gantry's marks with their usual `-` names.
pub fn from_metadata(metadata: &Tags) -> Tags {
    metadata
        .iter()
        .map(|(k, v)| (mark_key(k, '_', '-'), v.clone()))
        .collect()
}

fn mark_key(key: &str, from: char, to: char) -> String {
    let is_mark = MARKS
        .iter()
        .any(|m| m.replace('-', &from.to_string()).eq_ignore_ascii_case(key));
    if is_mark {
        key.replace(from, &to.to_string())
    } else {
        key.to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(token: &str) -> OpContext {
        let mut c = OpContext::new("azurerm_resource_group.main");
        c.stack = "stack-1".into();
        c.idempotency_token = Some(token.into());
        c
    }

    #[test]
    fn only_all_three_marks_prove_an_object_ours() {
        let c = ctx("t1");
        let tags = desired(
            &Tags::new(),
            &Tags::from([("team".into(), "ml".into())]),
            &c,
            &Tags::new(),
        );
        assert!(are_ours(&c, &tags));
        assert!(!are_ours(&ctx("t2"), &tags), "another create's token");
        let mut other = tags.clone();
        other.insert(ADDRESS.into(), "azurerm_resource_group.other".into());
        assert!(!are_ours(&c, &other), "another address");
        assert_eq!(
            user_view(&tags, &Tags::new(), &Tags::new()),
            Tags::from([("team".into(), "ml".into())])
        );
    }

    #[test]
    fn updates_keep_the_marks_of_the_create() {
        let made = desired(&Tags::new(), &Tags::new(), &ctx("t1"), &Tags::new());
        let mut later = ctx("t9");
        later.idempotency_token = None;
        let updated = desired(&Tags::new(), &Tags::new(), &later, &made);
        assert_eq!(updated.get(TOKEN).map(String::as_str), Some("t1"));
    }
}

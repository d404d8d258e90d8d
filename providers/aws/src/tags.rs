//! Tags: the user's `tags`, the provider's `default_tags`, and the three tags gantry adds to
//! everything taggable at create (`gantry:stack`, `gantry:address`, `gantry:token`) so that
//! an object created by a run that was killed before it could record it can be found and
//! adopted, and only that object ([`are_ours`]).

use crate::attrs::{str_map, Attrs};
use crate::errors::sdk_error;
use gantry_provider::provider::Result;
use gantry_provider::{Attribute, OpContext, Schema, Type, Value};
use std::collections::BTreeMap;
use std::future::Future;

pub const ADDRESS_TAG: &str = "gantry:address";
pub const STACK_TAG: &str = "gantry:stack";
pub const TOKEN_TAG: &str = "gantry:token";

pub type Tags = BTreeMap<String, String>;

/// Adds `tags` (optional) and `tags_all` (computed: with `default_tags` merged in).
pub fn with_tags(schema: Schema) -> Schema {
    schema
        .attr(
            "tags",
            Attribute::optional(Type::map(Type::String)).describe("Tags of the object."),
        )
        .attr(
            "tags_all",
            Attribute::computed(Type::map(Type::String))
                .describe("`tags` with the provider's `default_tags` merged in."),
        )
}

/// `default_tags` overlaid with the resource's `tags`: what `tags_all` shows.
pub fn merged(default_tags: &Tags, config: &Value) -> Tags {
    let mut all = default_tags.clone();
    all.extend(Attrs(config).str_map("tags"));
    all
}

/// Everything to put on the object: [`merged`] plus gantry's own tags (the token only on a
/// create, which is the only operation that has one).
pub fn desired(default_tags: &Tags, config: &Value, ctx: &OpContext) -> Tags {
    let mut all = merged(default_tags, config);
    for (mark, value) in ctx.identity() {
        all.insert(tag_of(mark).to_owned(), value.to_owned());
    }
    all
}

/// The tag key of one of [`OpContext::identity`]'s marks.
fn tag_of(mark: &str) -> &'static str {
    match mark {
        "stack" => STACK_TAG,
        "address" => ADDRESS_TAG,
        _ => TOKEN_TAG,
    }
}

/// True for tags the user does not manage (gantry's and AWS's own).
pub fn is_system_tag(key: &str) -> bool {
    key.starts_with("gantry:") || key.starts_with("aws:")
}

/// Sets `tags_all` and `tags` on a state from what the cloud holds: `tags_all` is every
/// user-managed tag, `tags` drops the default tags (unless the prior state set one itself).
pub fn record(state: &mut crate::attrs::Obj, default_tags: &Tags, cloud: &Tags) {
    let all: Tags = cloud
        .iter()
        .filter(|(k, _)| !is_system_tag(k))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let prior_tags = state
        .0
        .get("tags")
        .and_then(Value::as_map)
        .cloned()
        .unwrap_or_default();
    let own: Tags = all
        .iter()
        .filter(|(k, v)| prior_tags.contains_key(*k) || default_tags.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let tags_value = if own.is_empty() && state.0.get("tags").is_none_or(Value::is_null) {
        Value::Null
    } else {
        str_map(&own)
    };
    state.set("tags", tags_value);
    state.set("tags_all", str_map(&all));
}

/// The keys to remove and the pairs to set to turn `old` into `new`.
pub fn diff(old: &Tags, new: &Tags) -> (Vec<String>, Tags) {
    let removed = old
        .keys()
        .filter(|k| !new.contains_key(*k) && !is_system_tag(k))
        .cloned()
        .collect();
    let changed = new
        .iter()
        .filter(|(k, v)| old.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    (removed, changed)
}

/// Brings an object's tags from `old` to `new`: `untag` removes the keys that went, then
/// `tag` sets the pairs that are new or changed; neither is called with nothing to do.
pub async fn update_with<U, UFut, UOut, T, TFut, TOut>(
    old: &Tags,
    new: &Tags,
    untag: U,
    tag: T,
) -> Result<()>
where
    U: FnOnce(Vec<String>) -> UFut,
    UFut: Future<Output = Result<UOut>>,
    T: FnOnce(Tags) -> TFut,
    TFut: Future<Output = Result<TOut>>,
{
    let (removed, changed) = diff(old, new);
    if !removed.is_empty() {
        untag(removed).await?;
    }
    if !changed.is_empty() {
        tag(changed).await?;
    }
    Ok(())
}

/// True when `found` proves the object is the one this create made: it carries this
/// operation's stack identity, address and token (see [`OpContext::is_ours`]).
pub fn are_ours(op: &OpContext, found: &Tags) -> bool {
    op.is_ours(
        found.get(STACK_TAG).map(String::as_str),
        found.get(ADDRESS_TAG).map(String::as_str),
        found.get(TOKEN_TAG).map(String::as_str),
    )
}

/// True when `found` carries an identity tag (stack, address or token) whose value is not
/// this operation's. An object the cloud's own idempotency token ties to this create is
/// still not adopted then: its marks say it is another stack's or address's, and the
/// contradiction is not resolved by guessing.
pub fn contradict(op: &OpContext, found: &Tags) -> bool {
    op.identity()
        .into_iter()
        .any(|(mark, value)| found.get(tag_of(mark)).is_some_and(|v| v != value))
}

/// True when a parent object (the bucket of a bucket setting, the role of a policy
/// attachment, the route table of an association) belongs to this operation's stack:
/// objects without an identity of their own are adopted only on parents this stack made.
pub fn stack_owns(op: &OpContext, found: &Tags) -> bool {
    !op.stack.is_empty() && found.get(STACK_TAG) == Some(&op.stack)
}

// ---- EC2 ----

/// A TagSpecification for an EC2 create call.
pub fn ec2_spec(
    resource_type: aws_sdk_ec2::types::ResourceType,
    tags: &Tags,
) -> aws_sdk_ec2::types::TagSpecification {
    aws_sdk_ec2::types::TagSpecification::builder()
        .resource_type(resource_type)
        .set_tags(Some(ec2_tags(tags)))
        .build()
}

pub fn ec2_tags(tags: &Tags) -> Vec<aws_sdk_ec2::types::Tag> {
    tags.iter()
        .map(|(k, v)| aws_sdk_ec2::types::Tag::builder().key(k).value(v).build())
        .collect()
}

pub fn from_ec2(tags: &[aws_sdk_ec2::types::Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned())))
        .collect()
}

/// Brings an EC2 object's tags from `old` to `new` (CreateTags / DeleteTags).
pub async fn ec2_update(ec2: &aws_sdk_ec2::Client, id: &str, old: &Tags, new: &Tags) -> Result<()> {
    update_with(
        old,
        new,
        |removed| async move {
            ec2.delete_tags()
                .resources(id)
                .set_tags(Some(
                    removed
                        .iter()
                        .map(|k| aws_sdk_ec2::types::Tag::builder().key(k).build())
                        .collect(),
                ))
                .send()
                .await
                .map_err(|e| sdk_error("DeleteTags", e))
        },
        |changed| async move {
            ec2.create_tags()
                .resources(id)
                .set_tags(Some(ec2_tags(&changed)))
                .send()
                .await
                .map_err(|e| sdk_error("CreateTags", e))
        },
    )
    .await
}

/// EC2 filters that narrow a Describe call to what this create made: its stack and token
/// tags (callers still check [`are_ours`], all three marks, on what comes back); `None`
/// when the operation lacks a mark, as then nothing can be proven to be its object.
///
/// The address is checked only client-side: EC2 reads `*` and `?` in filter values as
/// wildcards, and moto reads them with `fnmatch`, where `aws_subnet.private[0]` is a
/// character class that never matches the literal address. Stack identities and tokens are
/// UUIDs, which no filter syntax reads specially.
pub fn ec2_identity_filters(op: &OpContext) -> Option<Vec<aws_sdk_ec2::types::Filter>> {
    let marks = op.identity();
    (marks.len() == 3).then(|| {
        marks
            .into_iter()
            .filter(|(mark, _)| *mark != "address")
            .map(|(mark, value)| {
                aws_sdk_ec2::types::Filter::builder()
                    .name(format!("tag:{}", tag_of(mark)))
                    .values(value)
                    .build()
            })
            .collect()
    })
}

/// The tags of any EC2 object by id (DescribeTags), for objects whose Describe call is not
/// at hand (a subnet or gateway an association names).
pub async fn ec2_tags_of(ec2: &aws_sdk_ec2::Client, id: &str) -> Result<Tags> {
    let mut pages = ec2
        .describe_tags()
        .filters(
            aws_sdk_ec2::types::Filter::builder()
                .name("resource-id")
                .values(id)
                .build(),
        )
        .into_paginator()
        .send();
    let mut found = Tags::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("DescribeTags", e))?;
        found.extend(
            page.tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned()))),
        );
    }
    Ok(found)
}

// ---- IAM, S3, KMS ----

pub fn iam_tags(tags: &Tags) -> Vec<aws_sdk_iam::types::Tag> {
    tags.iter()
        .filter_map(|(k, v)| {
            aws_sdk_iam::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .ok()
        })
        .collect()
}

pub fn from_iam(tags: &[aws_sdk_iam::types::Tag]) -> Tags {
    tags.iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

pub fn s3_tags(tags: &Tags) -> Vec<aws_sdk_s3::types::Tag> {
    tags.iter()
        .filter_map(|(k, v)| {
            aws_sdk_s3::types::Tag::builder()
                .key(k)
                .value(v)
                .build()
                .ok()
        })
        .collect()
}

pub fn from_s3(tags: &[aws_sdk_s3::types::Tag]) -> Tags {
    tags.iter()
        .map(|t| (t.key().to_owned(), t.value().to_owned()))
        .collect()
}

pub fn kms_tags(tags: &Tags) -> Vec<aws_sdk_kms::types::Tag> {
    tags.iter()
        .filter_map(|(k, v)| {
            aws_sdk_kms::types::Tag::builder()
                .tag_key(k)
                .tag_value(v)
                .build()
                .ok()
        })
        .collect()
}

pub fn from_kms(tags: &[aws_sdk_kms::types::Tag]) -> Tags {
    tags.iter()
        .map(|t| (t.tag_key().to_owned(), t.tag_value().to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attrs::Obj;

    fn tags(pairs: &[(&str, &str)]) -> Tags {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn desired_tags_merge_defaults_user_tags_and_gantry_tags() {
        let config = Value::map([(
            "tags",
            Value::map([
                ("team", Value::string("ml")),
                ("env", Value::string("prod")),
            ]),
        )]);
        let mut ctx = OpContext::new("aws_vpc.main");
        ctx.stack = "llm".into();
        let all = desired(&tags(&[("env", "dev"), ("owner", "x")]), &config, &ctx);
        assert_eq!(
            all,
            tags(&[
                ("env", "prod"),
                ("gantry:address", "aws_vpc.main"),
                ("gantry:stack", "llm"),
                ("owner", "x"),
                ("team", "ml"),
            ])
        );
    }

    #[test]
    fn recorded_tags_leave_out_defaults_and_system_tags() {
        let mut state = Obj::from(&Value::map([(
            "tags",
            Value::map([("team", Value::string("ml"))]),
        )]));
        let cloud = tags(&[
            ("team", "ml"),
            ("owner", "x"),
            ("gantry:address", "a"),
            ("drift", "y"),
        ]);
        record(&mut state, &tags(&[("owner", "x")]), &cloud);
        let v = state.into_value();
        let a = Attrs(&v);
        assert_eq!(a.str_map("tags"), tags(&[("drift", "y"), ("team", "ml")]));
        assert_eq!(
            a.str_map("tags_all"),
            tags(&[("drift", "y"), ("owner", "x"), ("team", "ml")])
        );
    }

    #[tokio::test]
    async fn update_with_removes_then_sets_and_skips_empty_steps() {
        use std::sync::Mutex;
        let calls = Mutex::new(Vec::new());
        let run = |old: Tags, new: Tags| {
            let calls = &calls;
            async move {
                update_with(
                    &old,
                    &new,
                    |removed| async move {
                        calls
                            .lock()
                            .map(|mut c| c.push(format!("untag {removed:?}")))
                            .ok();
                        Ok(())
                    },
                    |changed| async move {
                        calls
                            .lock()
                            .map(|mut c| c.push(format!("tag {changed:?}")))
                            .ok();
                        Ok(())
                    },
                )
                .await
            }
        };
        assert_eq!(
            run(tags(&[("a", "1"), ("b", "2")]), tags(&[("a", "9")])).await,
            Ok(())
        );
        assert_eq!(run(tags(&[("a", "1")]), tags(&[("a", "1")])).await, Ok(()));
        let calls = calls.into_inner().unwrap_or_default();
        assert_eq!(calls, vec![r#"untag ["b"]"#, r#"tag {"a": "9"}"#]);
    }

    #[test]
    fn our_tags_need_the_stack_the_address_and_the_token() {
        let mut op = OpContext::new("aws_iam_role.r");
        op.stack = "llm".into();
        op.idempotency_token = Some("tok-1".into());
        let ours = tags(&[
            ("gantry:address", "aws_iam_role.r"),
            ("gantry:stack", "llm"),
            ("gantry:token", "tok-1"),
        ]);
        assert!(are_ours(&op, &ours));
        // A create carries all three; an update carries no token.
        assert_eq!(desired(&Tags::new(), &Value::Null, &op), ours);
        for missing in ["gantry:address", "gantry:stack", "gantry:token"] {
            let mut partial = ours.clone();
            partial.remove(missing);
            assert!(!are_ours(&op, &partial), "without {missing}");
        }
        // Another stack's object, or a deposed predecessor (another token), is not ours.
        let mut other_stack = ours.clone();
        other_stack.insert("gantry:stack".into(), "llm-staging".into());
        assert!(!are_ours(&op, &other_stack));
        let mut older = ours.clone();
        older.insert("gantry:token".into(), "tok-0".into());
        assert!(!are_ours(&op, &older));
        assert!(!are_ours(&OpContext::new(""), &Tags::new()));
    }

    #[test]
    fn marks_that_name_another_stack_address_or_token_contradict() {
        let mut op = OpContext::new("aws_instance.gpu");
        op.stack = "llm".into();
        op.idempotency_token = Some("tok-1".into());
        // No marks at all (an emulator that dropped them, a tag call that never ran): no
        // contradiction; the matching ones: none either.
        assert!(!contradict(&op, &Tags::new()));
        assert!(!contradict(
            &op,
            &tags(&[("gantry:address", "aws_instance.gpu")])
        ));
        for (key, other) in [
            ("gantry:stack", "llm-staging"),
            ("gantry:address", "aws_instance.cpu"),
            ("gantry:token", "tok-0"),
        ] {
            assert!(contradict(&op, &tags(&[(key, other)])), "{key}");
        }
    }

    #[test]
    fn identity_filters_need_every_mark_and_leave_the_address_to_are_ours() {
        let mut op = OpContext::new("aws_vpc.main");
        op.stack = "llm".into();
        assert!(ec2_identity_filters(&op).is_none());
        op.idempotency_token = Some("tok-1".into());
        let filters = ec2_identity_filters(&op).unwrap_or_default();
        let pairs: Vec<(String, Vec<String>)> = filters
            .iter()
            .map(|f| (f.name().unwrap_or("").to_owned(), f.values().to_vec()))
            .collect();
        assert_eq!(
            pairs,
            vec![
                ("tag:gantry:stack".to_owned(), vec!["llm".to_owned()]),
                ("tag:gantry:token".to_owned(), vec!["tok-1".to_owned()]),
            ]
        );
    }

    #[test]
    fn a_parent_is_the_stacks_by_its_stack_tag_alone() {
        let mut op = OpContext::new("aws_s3_bucket_versioning.v");
        assert!(!stack_owns(&op, &tags(&[("gantry:stack", "")])));
        op.stack = "llm".into();
        assert!(stack_owns(
            &op,
            &tags(&[
                ("gantry:stack", "llm"),
                ("gantry:address", "aws_s3_bucket.b")
            ])
        ));
        assert!(!stack_owns(&op, &tags(&[("gantry:stack", "other")])));
        assert!(!stack_owns(&op, &Tags::new()));
    }

    #[test]
    fn diff_never_removes_system_tags() {
        let (removed, changed) = diff(
            &tags(&[("a", "1"), ("b", "2"), ("gantry:address", "x")]),
            &tags(&[("a", "1"), ("c", "3")]),
        );
        assert_eq!(removed, vec!["b"]);
        assert_eq!(changed, tags(&[("c", "3")]));
    }
}

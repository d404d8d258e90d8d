//! `aws_s3_bucket`: an S3 bucket (its versioning, encryption and public access block are
//! separate resources, as in Terraform's AWS provider v4+). With `force_destroy`, destroy
//! empties it first, every object version and delete marker included.

use super::{accepted, after_accept, naming, Cx, ResourceType};
use crate::attrs::{Attrs, Obj};
use crate::errors::{is_not_found, ok_if_not_found, sdk_error};
use crate::tags::{self, with_tags};
use crate::wait::read_back;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier, Tagging,
};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, ErrorClass, ProviderError, Schema, Type, Value};

pub struct S3Bucket;

#[async_trait]
impl ResourceType for S3Bucket {
    fn name(&self) -> &'static str {
        "aws_s3_bucket"
    }

    fn schema(&self) -> Schema {
        with_tags(
            Schema::default()
                .attr(
                    "id",
                    Attribute::computed(Type::String).describe("The bucket name."),
                )
                .attr(
                    "bucket",
                    Attribute::optional_computed(Type::String).force_new(),
                )
                .attr(
                    "bucket_prefix",
                    Attribute::optional(Type::String).force_new(),
                )
                .attr(
                    "force_destroy",
                    Attribute::optional(Type::Bool)
                        .with_default(false)
                        .describe("Destroy deletes every object (and version) first."),
                )
                .attr("arn", Attribute::computed(Type::String))
                .attr("bucket_domain_name", Attribute::computed(Type::String))
                .attr(
                    "bucket_regional_domain_name",
                    Attribute::computed(Type::String),
                )
                .attr("region", Attribute::computed(Type::String)),
        )
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let mut errors = Vec::new();
        if a.str("bucket").is_some() && a.str("bucket_prefix").is_some() {
            errors.push("`bucket` and `bucket_prefix` cannot both be set".into());
        }
        if let Some(problem) = a.str("bucket").and_then(bucket_name_problem) {
            errors.push(problem);
        }
        if a.str("bucket_prefix")
            .is_some_and(|p| p.len() > 63 - naming::SUFFIX_LEN)
        {
            errors.push(format!(
                "`bucket_prefix` must be at most {} characters",
                63 - naming::SUFFIX_LEN
            ));
        }
        errors
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let (name, generated) = planned_name(planned, cx.token());
        // Bucket names are global and us-east-1 answers a CreateBucket for a bucket the
        // account already owns with success: look first, so another stack's bucket (or one
        // made by hand) is never taken over and retagged.
        match owner(cx, &name, generated).await? {
            Owner::Nobody => {}
            Owner::ThisCreate => {
                tracing::info!(bucket = %name, "bucket made by an earlier attempt of this create")
            }
            Owner::Someone => return Err(not_ours(&name)),
        }
        let s3 = &cx.clients().s3;
        // Tags go on at creation (CreateBucketConfiguration.Tags), so a run killed right
        // after the call leaves a bucket that already proves whose it is.
        let mut config =
            CreateBucketConfiguration::builder().set_tags(Some(tags::s3_tags(&cx.tags(planned))));
        // us-east-1 is the default location and must not be named.
        if cx.region() != "us-east-1" {
            config = config.location_constraint(BucketLocationConstraint::from(cx.region()));
        }
        let create = s3
            .create_bucket()
            .bucket(&name)
            .create_bucket_configuration(config.build());
        match create
            .send()
            .await
            .map_err(|e| sdk_error("CreateBucket", e))
        {
            Ok(_) => {}
            // A retried create whose first attempt went through (seen above as this
            // create's, or made between the look and the call by this create's retry).
            Err(e) if e.code.as_deref() == Some("BucketAlreadyOwnedByYou") => {
                if owner(cx, &name, generated).await? != Owner::ThisCreate {
                    return Err(not_ours(&name));
                }
            }
            Err(e) => return Err(e),
        }
        let known = accepted(planned, &name);
        after_accept(known.clone(), async {
            let noun = format!("S3 bucket {name}");
            read_back(cx.op, &noun, || read_into(cx, known.clone())).await
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        read_into(cx, state.clone()).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let name = Attrs(prior).id()?.to_owned();
        if Attrs(prior).str_map("tags_all") != tags::merged(&cx.settings.default_tags, planned) {
            put_tags(cx, &name, &cx.tags(planned)).await?;
        }
        let mut state = Obj::from(planned);
        state.set("id", name.as_str());
        read_into(cx, state.into_value())
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("S3 bucket {name} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let a = Attrs(state);
        let name = a.id()?;
        if a.bool("force_destroy") == Some(true) {
            ok_if_not_found(empty_bucket(cx, name).await)?;
        }
        // Objects left without force_destroy: BucketNotEmpty, a Conflict.
        ok_if_not_found(
            cx.clients()
                .s3
                .delete_bucket()
                .bucket(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DeleteBucket", e)),
        )
    }

    /// The bucket with the planned name (or the one `bucket_prefix` and this create's token
    /// make), when it is this create's: tagged with its stack, address and token, or, for a
    /// name made from the token, not tagged by gantry at all yet (a run killed between
    /// CreateBucket and PutBucketTagging).
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let (name, generated) = planned_name(planned, Some(token));
        if owner(cx, &name, generated).await? != Owner::ThisCreate {
            return Ok(None);
        }
        read_into(cx, Value::map([("id", Value::string(name))])).await
    }
}

/// The bucket name a create of `planned` asks for, and whether it was made from the
/// create's token (no `bucket` given): `bucket`, else `bucket_prefix` (or `terraform-`) and
/// a suffix from the token.
fn planned_name(planned: &Value, token: Option<&str>) -> (String, bool) {
    let a = Attrs(planned);
    let given = a.str("bucket");
    let name = naming::unique(given, a.str("bucket_prefix"), "terraform-", token);
    (name, given.is_none())
}

/// Whose a bucket of a given name is, as far as a create can tell.
#[derive(Debug, PartialEq, Eq)]
enum Owner {
    /// No such bucket.
    Nobody,
    /// Made by this create (an earlier attempt, or a killed run).
    ThisCreate,
    /// Another stack's, another create's, made by hand, or another account's.
    Someone,
}

/// Whose the bucket `name` is. A name made from the create's token is proof on its own
/// while the bucket carries no gantry tags yet (tags come in a second call); otherwise the
/// bucket must carry this create's stack, address and token.
async fn owner(cx: &Cx<'_>, name: &str, generated: bool) -> Result<Owner> {
    let head = cx.clients().s3.head_bucket().bucket(name).send().await;
    match head.map_err(|e| sdk_error("HeadBucket", e)) {
        Ok(_) => {}
        Err(e) if is_not_found(&e) => return Ok(Owner::Nobody),
        // 403: the name is another account's bucket.
        Err(e) if e.class == ErrorClass::Auth => return Ok(Owner::Someone),
        Err(e) => return Err(e),
    }
    let found = match bucket_tags(cx, name).await {
        Ok(t) => t,
        Err(e) if is_not_found(&e) => return Ok(Owner::Nobody),
        Err(e) => return Err(e),
    };
    let untouched = !found.keys().any(|k| k.starts_with("gantry:"));
    Ok(
        if tags::are_ours(cx.op, &found) || (generated && untouched) {
            Owner::ThisCreate
        } else {
            Owner::Someone
        },
    )
}

/// A create refused because the bucket exists and is not this create's.
fn not_ours(name: &str) -> ProviderError {
    ProviderError::new(
        ErrorClass::Conflict,
        format!(
            "S3 bucket {name} already exists and was not made by this create (another stack's, \
             made by hand, or another account's): choose another name, or `gantry import` it"
        ),
    )
    .with_code("BucketAlreadyExists")
}

/// Why `name` is not a valid bucket name, if it is not (the common rules).
fn bucket_name_problem(name: &str) -> Option<String> {
    let ok_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.');
    let ends_ok = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if !(3..=63).contains(&name.len()) || !ok_chars || !ends_ok || name.contains("..") {
        return Some(format!(
            "`bucket` {name:?} is not a valid bucket name: 3 to 63 lower-case letters, digits, \
             dots and hyphens, starting and ending with a letter or digit"
        ));
    }
    None
}

/// Whether the bucket carries this stack's `gantry:stack` tag: the settings resources
/// (versioning, encryption, public access block) adopt only settings of such buckets.
pub(super) async fn stack_owns(cx: &Cx<'_>, name: &str) -> Result<bool> {
    match bucket_tags(cx, name).await {
        Ok(found) => Ok(tags::stack_owns(cx.op, &found)),
        Err(e) if is_not_found(&e) || e.class == ErrorClass::Auth => Ok(false),
        Err(e) => Err(e),
    }
}

/// What find_created of a bucket setting (versioning, encryption, public access block)
/// returns: the setting as `read` finds it, but only on a bucket of this stack and only when
/// it already is what `planned` asks for in every attribute of `compared` (else the create
/// was not carried out, and putting the setting again is harmless).
pub(super) async fn adopt_setting<F>(
    cx: &Cx<'_>,
    planned: &Value,
    compared: &[&str],
    read: F,
) -> Result<Option<Value>>
where
    F: std::future::Future<Output = Result<Option<Value>>>,
{
    let bucket = Attrs(planned).req_str("bucket")?;
    if !stack_owns(cx, bucket).await? {
        return Ok(None);
    }
    let Some(found) = read.await? else {
        return Ok(None);
    };
    let same = |name: &&str| {
        let get = |v: &Value| normal(Attrs(v).get(name).cloned().unwrap_or(Value::Null));
        get(&found) == get(planned)
    };
    Ok(compared.iter().all(same).then_some(found))
}

/// A value compared by content: unknowns as null, blocks as sets (their order, and whether
/// the schema keeps them as a list or a set, says nothing about the setting).
fn normal(v: Value) -> Value {
    match v {
        Value::Unknown(_) => Value::Null,
        Value::List(items) | Value::Set(items) => {
            Value::set(items.into_iter().map(normal).collect())
        }
        Value::Map(m) => Value::Map(m.into_iter().map(|(k, v)| (k, normal(v))).collect()),
        other => other,
    }
}

/// Replaces the bucket's whole tag set (S3 has no per-key tag calls).
async fn put_tags(cx: &Cx<'_>, name: &str, all: &tags::Tags) -> Result<()> {
    let s3 = &cx.clients().s3;
    if all.is_empty() {
        return ok_if_not_found(
            s3.delete_bucket_tagging()
                .bucket(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DeleteBucketTagging", e)),
        );
    }
    let tagging = Tagging::builder()
        .set_tag_set(Some(tags::s3_tags(all)))
        .build()
        .map_err(|e| ProviderError::fatal(format!("PutBucketTagging: {e}")))?;
    s3.put_bucket_tagging()
        .bucket(name)
        .tagging(tagging)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("PutBucketTagging", e))
}

/// The bucket's tags; none is `NoSuchTagSet`, an empty set here.
async fn bucket_tags(cx: &Cx<'_>, name: &str) -> Result<tags::Tags> {
    let out = cx
        .clients()
        .s3
        .get_bucket_tagging()
        .bucket(name)
        .send()
        .await;
    match out.map_err(|e| sdk_error("GetBucketTagging", e)) {
        Ok(out) => Ok(tags::from_s3(out.tag_set())),
        Err(e) if e.code.as_deref() == Some("NoSuchTagSet") => Ok(tags::Tags::new()),
        Err(e) => Err(e),
    }
}

/// Deletes every object version and delete marker, 1000 per call.
async fn empty_bucket(cx: &Cx<'_>, name: &str) -> Result<()> {
    let s3 = &cx.clients().s3;
    let (mut key_marker, mut version_marker): (Option<String>, Option<String>) = (None, None);
    loop {
        let page = s3
            .list_object_versions()
            .bucket(name)
            .set_key_marker(key_marker.clone())
            .set_version_id_marker(version_marker.clone())
            .send()
            .await
            .map_err(|e| sdk_error("ListObjectVersions", e))?;
        let versions = page.versions().iter().map(|v| (v.key(), v.version_id()));
        let markers = page
            .delete_markers()
            .iter()
            .map(|m| (m.key(), m.version_id()));
        let objects: Vec<ObjectIdentifier> = versions
            .chain(markers)
            .filter_map(|(key, version)| {
                ObjectIdentifier::builder()
                    .set_key(key.map(str::to_owned))
                    .set_version_id(version.map(str::to_owned))
                    .build()
                    .ok()
            })
            .collect();
        if !objects.is_empty() {
            let delete = Delete::builder()
                .set_objects(Some(objects))
                .quiet(true)
                .build()
                .map_err(|e| ProviderError::fatal(format!("DeleteObjects: {e}")))?;
            let out = s3
                .delete_objects()
                .bucket(name)
                .delete(delete)
                .send()
                .await
                .map_err(|e| sdk_error("DeleteObjects", e))?;
            if let Some(err) = out.errors().first() {
                return Err(crate::errors::service_error(
                    "DeleteObjects",
                    err.code().unwrap_or_default(),
                    err.message().unwrap_or_default(),
                    None,
                ));
            }
        }
        if page.is_truncated() != Some(true) {
            return Ok(());
        }
        key_marker = page.next_key_marker().map(str::to_owned);
        version_marker = page.next_version_id_marker().map(str::to_owned);
    }
}

/// The bucket's state from the API, on top of `base` (which carries at least `id`).
async fn read_into(cx: &Cx<'_>, base: Value) -> Result<Option<Value>> {
    let name = Attrs(&base).id()?.to_owned();
    let s3 = &cx.clients().s3;
    let head = s3.head_bucket().bucket(&name).send().await;
    let head = match head.map_err(|e| sdk_error("HeadBucket", e)) {
        Ok(out) => out,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let region = match head.bucket_region() {
        Some(r) => r.to_owned(),
        None => {
            let loc = s3
                .get_bucket_location()
                .bucket(&name)
                .send()
                .await
                .map_err(|e| sdk_error("GetBucketLocation", e))?;
            // No constraint means us-east-1.
            loc.location_constraint()
                .map(|c| c.as_str().to_owned())
                .filter(|c| !c.is_empty())
                .unwrap_or_else(|| "us-east-1".to_owned())
        }
    };
    let found = match bucket_tags(cx, &name).await {
        Ok(t) => t,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let b = Attrs(&base);
    let mut state = Obj::from(&base);
    state
        .set("id", name.as_str())
        .set("bucket", name.as_str())
        .set("arn", format!("arn:aws:s3:::{name}"))
        .set("bucket_domain_name", format!("{name}.s3.amazonaws.com"))
        .set(
            "bucket_regional_domain_name",
            format!("{name}.s3.{region}.amazonaws.com"),
        )
        .set("region", region)
        // Not readable: kept from state, Terraform's default on import.
        .set("force_destroy", b.bool("force_destroy").unwrap_or(false));
    if !state.0.contains_key("bucket_prefix") {
        // Imported: the prefix a generated name was made from, as Terraform infers it.
        state.set(
            "bucket_prefix",
            naming::prefix_of(&name).map_or(Value::Null, Value::string),
        );
    }
    tags::record(&mut state, &cx.settings.default_tags, &found);
    Ok(Some(state.into_value()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_names_follow_s3_rules() {
        assert_eq!(bucket_name_problem("training-data.v2"), None);
        for bad in ["ab", "Upper", "-start", "end-", "a..b", "under_score"] {
            assert!(bucket_name_problem(bad).is_some(), "{bad}");
        }
    }
}

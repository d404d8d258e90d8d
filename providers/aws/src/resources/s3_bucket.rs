//! `aws_s3_bucket`: an S3 bucket (its versioning, encryption and public access block are
//! separate resources, as in Terraform's AWS provider v4+). With `force_destroy`, destroy
//! empties it first, every object version and delete marker included.

use super::{naming, Cx, ResourceType};
use crate::attrs::{Attrs, Obj};
use crate::errors::{is_not_found, ok_if_not_found, sdk_error};
use crate::tags::{self, with_tags};
use crate::wait;
use aws_sdk_s3::types::{
    BucketLocationConstraint, CreateBucketConfiguration, Delete, ObjectIdentifier, Tagging,
};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, ProviderError, Schema, Type, Value};

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
        let a = Attrs(planned);
        let name = naming::unique(
            a.str("bucket"),
            a.str("bucket_prefix"),
            "terraform-",
            cx.token(),
        );
        let s3 = &cx.clients().s3;
        let mut create = s3.create_bucket().bucket(&name);
        // us-east-1 is the default location and must not be named.
        if cx.region() != "us-east-1" {
            create = create.create_bucket_configuration(
                CreateBucketConfiguration::builder()
                    .location_constraint(BucketLocationConstraint::from(cx.region()))
                    .build(),
            );
        }
        match create
            .send()
            .await
            .map_err(|e| sdk_error("CreateBucket", e))
        {
            Ok(_) => {}
            // A retried create whose first attempt went through.
            Err(e) if e.code.as_deref() == Some("BucketAlreadyOwnedByYou") => {}
            Err(e) => return Err(e),
        }
        put_tags(cx, &name, &cx.tags(planned)).await?;
        let mut state = Obj::from(planned);
        state.set("id", name.as_str());
        let base = state.into_value();
        wait::until_visible(cx.op, &format!("S3 bucket {name}"), || {
            read_into(cx, base.clone())
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

    async fn find_created(
        &self,
        cx: &Cx<'_>,
        token: &str,
        _planned: &Value,
    ) -> Result<Option<Value>> {
        let suffix = naming::suffix(Some(token));
        let wanted = tags::desired(&Default::default(), &Value::Null, cx.op);
        let out = cx
            .clients()
            .s3
            .list_buckets()
            .send()
            .await
            .map_err(|e| sdk_error("ListBuckets", e))?;
        for bucket in out.buckets() {
            let Some(name) = bucket.name() else { continue };
            let mine = name.ends_with(&suffix)
                || (!wanted.is_empty() && {
                    let found = bucket_tags(cx, name).await.unwrap_or_default();
                    wanted.iter().all(|(k, v)| found.get(k) == Some(v))
                });
            if mine {
                return read_into(cx, Value::map([("id", Value::string(name))])).await;
            }
        }
        Ok(None)
    }
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

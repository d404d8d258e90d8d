//! `aws_s3_bucket_versioning`: a bucket's versioning state. A versioned bucket can never
//! be unversioned again, so (as in Terraform) destroying this resource suspends versioning,
//! and `status = "Disabled"` is only meaningful for a bucket that was never versioned.

use super::{accepted, after_accept, Cx, ResourceType};
use crate::attrs::{Attrs, Obj};
use crate::errors::{is_not_found, ok_if_not_found, sdk_error};
use crate::wait::read_back;
use aws_sdk_s3::types::{BucketVersioningStatus, MfaDelete, VersioningConfiguration};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, Attribute, NestedBlock, Nesting, ProviderError, Schema, Type, Value,
};

pub struct S3BucketVersioning;

const STATUSES: [&str; 3] = ["Enabled", "Suspended", "Disabled"];

#[async_trait]
impl ResourceType for S3BucketVersioning {
    fn name(&self) -> &'static str {
        "aws_s3_bucket_versioning"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr(
                "id",
                Attribute::computed(Type::String).describe("The bucket name."),
            )
            .attr("bucket", Attribute::required(Type::String).force_new())
            .block(
                "versioning_configuration",
                NestedBlock {
                    nesting: Nesting::List,
                    schema: Schema::default()
                        .attr("status", Attribute::required(Type::String))
                        .attr("mfa_delete", Attribute::optional(Type::String)),
                    min_items: 1,
                    max_items: Some(1),
                    force_new: false,
                },
            )
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let mut errors = Vec::new();
        if let Some(c) = Attrs(config).block("versioning_configuration") {
            if let Some(s) = c.str("status").filter(|s| !STATUSES.contains(s)) {
                errors.push(format!("`status` must be one of {STATUSES:?}, not {s:?}"));
            }
            if let Some(m) = c
                .str("mfa_delete")
                .filter(|m| *m != "Enabled" && *m != "Disabled")
            {
                errors.push(format!(
                    "`mfa_delete` must be \"Enabled\" or \"Disabled\", not {m:?}"
                ));
            }
        }
        errors
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let bucket = Attrs(planned).req_str("bucket")?.to_owned();
        put(cx, &bucket, &Value::Null, planned).await?;
        let known = accepted(planned, &bucket);
        let noun = format!("versioning of S3 bucket {bucket}");
        after_accept(
            known.clone(),
            read_back(cx.op, &noun, || read_into(cx, known.clone())),
        )
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        read_into(cx, state.clone()).await
    }

    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let bucket = Attrs(prior).id()?.to_owned();
        put(cx, &bucket, prior, planned).await?;
        let mut state = Obj::from(planned);
        state.set("id", bucket.as_str());
        read_into(cx, state.into_value())
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("S3 bucket {bucket} is gone")))
    }

    /// A bucket setting has no identity of its own: it is the planned bucket's setting,
    /// adopted when the bucket carries this stack's `gantry:stack` tag and already holds what
    /// was planned (else the create is sent again, which is idempotent).
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        _token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let bucket = Attrs(planned).req_str("bucket")?;
        let mut state = Obj::from(planned);
        state.set("id", bucket);
        let read = read_into(cx, state.into_value());
        super::s3_bucket::adopt_setting(cx, planned, &["versioning_configuration"], read).await
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let a = Attrs(state);
        let bucket = a.id()?;
        // An unversioned bucket has nothing to undo.
        if status_of(&a) == Some("Disabled") {
            return Ok(());
        }
        let config = VersioningConfiguration::builder()
            .status(BucketVersioningStatus::Suspended)
            .build();
        ok_if_not_found(
            cx.clients()
                .s3
                .put_bucket_versioning()
                .bucket(bucket)
                .versioning_configuration(config)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("PutBucketVersioning", e)),
        )
    }
}

fn status_of<'a>(a: &Attrs<'a>) -> Option<&'a str> {
    a.block("versioning_configuration")
        .and_then(|c| c.str("status"))
}

/// Sets the bucket's versioning to `planned`'s. `Disabled` is not a state S3 can be put
/// in: for a bucket that was never versioned there is nothing to do.
async fn put(cx: &Cx<'_>, bucket: &str, prior: &Value, planned: &Value) -> Result<()> {
    let n = Attrs(planned);
    let status = status_of(&n).unwrap_or("Enabled");
    let mfa = n
        .block("versioning_configuration")
        .and_then(|c| c.str("mfa_delete"));
    let before = status_of(&Attrs(prior));
    if status == "Disabled" {
        if matches!(before, Some("Enabled" | "Suspended")) {
            return Err(ProviderError::invalid(format!(
                "bucket {bucket} has been versioned and cannot be unversioned: use status = \"Suspended\""
            )));
        }
        return Ok(());
    }
    let config = VersioningConfiguration::builder()
        .status(BucketVersioningStatus::from(status))
        .set_mfa_delete(mfa.map(MfaDelete::from))
        .build();
    cx.clients()
        .s3
        .put_bucket_versioning()
        .bucket(bucket)
        .versioning_configuration(config)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("PutBucketVersioning", e))
}

/// The state from the API, on top of `base` (which carries at least `id`).
async fn read_into(cx: &Cx<'_>, base: Value) -> Result<Option<Value>> {
    let b = Attrs(&base);
    let bucket = b
        .str("bucket")
        .map_or_else(|| b.id().map(str::to_owned), |s| Ok(s.to_owned()))?;
    let out = cx
        .clients()
        .s3
        .get_bucket_versioning()
        .bucket(&bucket)
        .send()
        .await;
    let out = match out.map_err(|e| sdk_error("GetBucketVersioning", e)) {
        Ok(out) => out,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    // A bucket never versioned reports no status: Terraform's "Disabled".
    let status = out.status().map_or("Disabled", |s| s.as_str());
    let prior_mfa = b
        .block("versioning_configuration")
        .and_then(|c| c.str("mfa_delete"));
    // S3 reports MFA delete once it was ever configured; keep it unset unless the stack
    // set it or it is on.
    let mfa = match (out.mfa_delete().map(|m| m.as_str()), prior_mfa) {
        (Some(now), Some(_)) => Some(now.to_owned()),
        (Some("Enabled"), None) => Some("Enabled".to_owned()),
        (_, prior) => prior.map(str::to_owned),
    };
    let mut state = Obj::from(&base);
    state
        .set("id", bucket.as_str())
        .set("bucket", bucket.as_str())
        .set(
            "versioning_configuration",
            Value::List(vec![Value::map([
                ("status", Value::string(status)),
                ("mfa_delete", mfa.map_or(Value::Null, Value::string)),
            ])]),
        );
    Ok(Some(state.into_value()))
}

//! `aws_s3_bucket_public_access_block`: a bucket's four public access switches.

use super::{accepted, after_accept, Cx, ResourceType};
use crate::attrs::{Attrs, Obj};
use crate::errors::{is_not_found, ok_if_not_found, sdk_error};
use crate::wait::read_back;
use aws_sdk_s3::types::PublicAccessBlockConfiguration;
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, Schema, Type, Value};

pub struct S3BucketPublicAccessBlock;

const SWITCHES: [&str; 4] = [
    "block_public_acls",
    "block_public_policy",
    "ignore_public_acls",
    "restrict_public_buckets",
];

#[async_trait]
impl ResourceType for S3BucketPublicAccessBlock {
    fn name(&self) -> &'static str {
        "aws_s3_bucket_public_access_block"
    }

    fn schema(&self) -> Schema {
        SWITCHES.iter().fold(
            Schema::default()
                .attr(
                    "id",
                    Attribute::computed(Type::String).describe("The bucket name."),
                )
                .attr("bucket", Attribute::required(Type::String).force_new()),
            |schema, name| schema.attr(name, Attribute::optional(Type::Bool).with_default(false)),
        )
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let bucket = Attrs(planned).req_str("bucket")?.to_owned();
        put(cx, &bucket, planned).await?;
        let known = accepted(planned, &bucket);
        let noun = format!("public access block of S3 bucket {bucket}");
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
        put(cx, &bucket, planned).await?;
        let known = accepted(planned, &bucket);
        let noun = format!("public access block of S3 bucket {bucket}");
        after_accept(
            known.clone(),
            read_back(cx.op, &noun, || read_into(cx, known.clone())),
        )
        .await
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
        super::s3_bucket::adopt_setting(cx, planned, &SWITCHES, read).await
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let bucket = Attrs(state).id()?;
        ok_if_not_found(
            cx.clients()
                .s3
                .delete_public_access_block()
                .bucket(bucket)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DeletePublicAccessBlock", e)),
        )
    }
}

async fn put(cx: &Cx<'_>, bucket: &str, planned: &Value) -> Result<()> {
    let a = Attrs(planned);
    let flag = |name: &str| a.bool(name).unwrap_or(false);
    let config = PublicAccessBlockConfiguration::builder()
        .block_public_acls(flag("block_public_acls"))
        .block_public_policy(flag("block_public_policy"))
        .ignore_public_acls(flag("ignore_public_acls"))
        .restrict_public_buckets(flag("restrict_public_buckets"))
        .build();
    cx.clients()
        .s3
        .put_public_access_block()
        .bucket(bucket)
        .public_access_block_configuration(config)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("PutPublicAccessBlock", e))
}

/// The state from the API, on top of `base` (which carries at least `id`). No
/// configuration (`NoSuchPublicAccessBlockConfiguration`) or no bucket reads as gone.
async fn read_into(cx: &Cx<'_>, base: Value) -> Result<Option<Value>> {
    let b = Attrs(&base);
    let bucket = b
        .str("bucket")
        .map_or_else(|| b.id().map(str::to_owned), |s| Ok(s.to_owned()))?;
    let out = cx
        .clients()
        .s3
        .get_public_access_block()
        .bucket(&bucket)
        .send()
        .await;
    let out = match out.map_err(|e| sdk_error("GetPublicAccessBlock", e)) {
        Ok(out) => out,
        Err(e) if is_not_found(&e) => return Ok(None),
        Err(e) => return Err(e),
    };
    let Some(c) = out.public_access_block_configuration() else {
        return Ok(None);
    };
    let mut state = Obj::from(&base);
    state
        .set("id", bucket.as_str())
        .set("bucket", bucket.as_str())
        .set("block_public_acls", c.block_public_acls().unwrap_or(false))
        .set(
            "block_public_policy",
            c.block_public_policy().unwrap_or(false),
        )
        .set(
            "ignore_public_acls",
            c.ignore_public_acls().unwrap_or(false),
        )
        .set(
            "restrict_public_buckets",
            c.restrict_public_buckets().unwrap_or(false),
        );
    Ok(Some(state.into_value()))
}

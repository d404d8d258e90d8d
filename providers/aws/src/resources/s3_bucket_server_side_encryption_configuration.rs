//! `aws_s3_bucket_server_side_encryption_configuration`: a bucket's default encryption
//! (SSE-S3 `AES256`, or `aws:kms` / `aws:kms:dsse` with an optional key and S3 Bucket Keys).

use super::{accepted, after_accept, Cx, ResourceType};
use crate::attrs::{Attrs, Obj};
use crate::errors::{is_not_found, ok_if_not_found, sdk_error};
use crate::wait::read_back;
use aws_sdk_s3::types::{
    ServerSideEncryption, ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration,
    ServerSideEncryptionRule,
};
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, Attribute, NestedBlock, Nesting, ProviderError, Schema, Type, Value,
};

pub struct S3BucketServerSideEncryptionConfiguration;

/// The code S3 answers with when a bucket has no encryption configuration.
const NOT_CONFIGURED: &str = "ServerSideEncryptionConfigurationNotFoundError";

#[async_trait]
impl ResourceType for S3BucketServerSideEncryptionConfiguration {
    fn name(&self) -> &'static str {
        "aws_s3_bucket_server_side_encryption_configuration"
    }

    fn schema(&self) -> Schema {
        let by_default = NestedBlock {
            nesting: Nesting::List,
            schema: Schema::default()
                .attr("sse_algorithm", Attribute::required(Type::String))
                .attr("kms_master_key_id", Attribute::optional(Type::String)),
            min_items: 0,
            max_items: Some(1),
            force_new: false,
        };
        Schema::default()
            .attr(
                "id",
                Attribute::computed(Type::String).describe("The bucket name."),
            )
            .attr("bucket", Attribute::required(Type::String).force_new())
            .block(
                "rule",
                NestedBlock {
                    nesting: Nesting::Set,
                    schema: Schema::default()
                        .attr("bucket_key_enabled", Attribute::optional(Type::Bool))
                        .block("apply_server_side_encryption_by_default", by_default),
                    min_items: 1,
                    max_items: None,
                    force_new: false,
                },
            )
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let allowed = ServerSideEncryption::values();
        Attrs(config)
            .blocks("rule")
            .iter()
            .flat_map(|r| r.blocks("apply_server_side_encryption_by_default"))
            .filter_map(|d| d.str("sse_algorithm"))
            .filter(|alg| !allowed.contains(alg))
            .map(|alg| format!("`sse_algorithm` must be one of {allowed:?}, not {alg:?}"))
            .collect()
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let bucket = Attrs(planned).req_str("bucket")?.to_owned();
        put(cx, &bucket, planned).await?;
        let known = accepted(planned, &bucket);
        let noun = format!("encryption configuration of S3 bucket {bucket}");
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
        let noun = format!("encryption configuration of S3 bucket {bucket}");
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
        super::s3_bucket::adopt_setting(cx, planned, &["rule"], read).await
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let bucket = Attrs(state).id()?;
        let deleted = cx
            .clients()
            .s3
            .delete_bucket_encryption()
            .bucket(bucket)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| sdk_error("DeleteBucketEncryption", e));
        match deleted {
            Err(e) if e.code.as_deref() == Some(NOT_CONFIGURED) => Ok(()),
            other => ok_if_not_found(other),
        }
    }
}

/// The API's configuration for `planned`'s rules.
fn configuration(planned: &Value) -> Result<ServerSideEncryptionConfiguration> {
    let rules = Attrs(planned)
        .blocks("rule")
        .iter()
        .map(|r| {
            let by_default = match r.block("apply_server_side_encryption_by_default") {
                Some(d) => Some(
                    ServerSideEncryptionByDefault::builder()
                        .sse_algorithm(ServerSideEncryption::from(d.req_str("sse_algorithm")?))
                        .set_kms_master_key_id(d.str("kms_master_key_id").map(str::to_owned))
                        .build()
                        .map_err(|e| ProviderError::invalid(e.to_string()))?,
                ),
                None => None,
            };
            Ok(ServerSideEncryptionRule::builder()
                .set_apply_server_side_encryption_by_default(by_default)
                .set_bucket_key_enabled(r.bool("bucket_key_enabled"))
                .build())
        })
        .collect::<Result<Vec<_>>>()?;
    ServerSideEncryptionConfiguration::builder()
        .set_rules(Some(rules))
        .build()
        .map_err(|e| ProviderError::invalid(e.to_string()))
}

async fn put(cx: &Cx<'_>, bucket: &str, planned: &Value) -> Result<()> {
    cx.clients()
        .s3
        .put_bucket_encryption()
        .bucket(bucket)
        .server_side_encryption_configuration(configuration(planned)?)
        .send()
        .await
        .map(|_| ())
        .map_err(|e| sdk_error("PutBucketEncryption", e))
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
        .get_bucket_encryption()
        .bucket(&bucket)
        .send()
        .await;
    let out = match out.map_err(|e| sdk_error("GetBucketEncryption", e)) {
        Ok(out) => out,
        Err(e) if is_not_found(&e) || e.code.as_deref() == Some(NOT_CONFIGURED) => return Ok(None),
        Err(e) => return Err(e),
    };
    let rules = out
        .server_side_encryption_configuration()
        .map(|c| c.rules())
        .unwrap_or_default();
    // `bucket_key_enabled` is optional, not computed: S3's `false` for an unset one is not
    // a difference.
    let prior_key_flag = b
        .blocks("rule")
        .iter()
        .any(|r| r.bool("bucket_key_enabled").is_some());
    let rules = rules
        .iter()
        .map(|r| {
            let by_default = r.apply_server_side_encryption_by_default().map(|d| {
                Value::map([
                    ("sse_algorithm", Value::string(d.sse_algorithm().as_str())),
                    (
                        "kms_master_key_id",
                        d.kms_master_key_id().map_or(Value::Null, Value::string),
                    ),
                ])
            });
            let key_flag = match r.bucket_key_enabled() {
                Some(true) => Value::Bool(true),
                Some(false) if prior_key_flag => Value::Bool(false),
                _ => Value::Null,
            };
            Value::map([
                ("bucket_key_enabled", key_flag),
                (
                    "apply_server_side_encryption_by_default",
                    Value::List(by_default.into_iter().collect()),
                ),
            ])
        })
        .collect();
    let mut state = Obj::from(&base);
    state
        .set("id", bucket.as_str())
        .set("bucket", bucket.as_str())
        .set("rule", Value::set(rules));
    Ok(Some(state.into_value()))
}

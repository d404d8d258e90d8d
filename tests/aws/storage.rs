//! Storage against moto: `aws_s3_bucket`, `aws_s3_bucket_versioning`,
//! `aws_s3_bucket_server_side_encryption_configuration`, `aws_s3_bucket_public_access_block`
//! and `aws_kms_key` (the bucket's encryption key) in one stack. Every result is read back
//! with the SDK, never through gantry.

use crate::support::{block_on, Moto, Stack};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{
    BucketVersioningStatus, PublicAccessBlockConfiguration, ServerSideEncryption,
    ServerSideEncryptionByDefault, ServerSideEncryptionConfiguration, ServerSideEncryptionRule,
    Tag, Tagging, VersioningConfiguration,
};

const BUCKET: &str = "gantry-training-data";

const V1: &str = r#"
provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = { owner = "ml-platform" }
  }
}

resource "aws_kms_key" "data" {
  description             = "training data"
  deletion_window_in_days = 7
  enable_key_rotation     = true
  tags                    = { team = "ml" }
}

resource "aws_s3_bucket" "data" {
  bucket        = "gantry-training-data"
  force_destroy = true
  tags          = { team = "ml" }
}

resource "aws_s3_bucket" "logs" {
  bucket_prefix = "gantry-logs-"
  force_destroy = true
}

resource "aws_s3_bucket_versioning" "data" {
  bucket = aws_s3_bucket.data.id
  versioning_configuration {
    status = "Enabled"
  }
}

resource "aws_s3_bucket_server_side_encryption_configuration" "data" {
  bucket = aws_s3_bucket.data.id
  rule {
    apply_server_side_encryption_by_default {
      sse_algorithm     = "aws:kms"
      kms_master_key_id = aws_kms_key.data.arn
    }
    bucket_key_enabled = true
  }
}

resource "aws_s3_bucket_public_access_block" "data" {
  bucket                  = aws_s3_bucket.data.id
  block_public_acls       = true
  block_public_policy     = true
  ignore_public_acls      = true
  restrict_public_buckets = true
}
"#;

/// In-place changes to every type.
fn v2() -> String {
    V1.replace(
        "description             = \"training data\"",
        "description = \"training data, v2\"\n  is_enabled = false",
    )
    .replace("enable_key_rotation     = true", "enable_key_rotation = false")
    .replace(
        "force_destroy = true\n  tags          = { team = \"ml\" }",
        "force_destroy = true\n  tags = { team = \"ml\", tier = \"hot\" }",
    )
    .replace("status = \"Enabled\"", "status = \"Suspended\"")
    .replace(
        "      sse_algorithm     = \"aws:kms\"\n      kms_master_key_id = aws_kms_key.data.arn\n    }\n    bucket_key_enabled = true",
        "      sse_algorithm = \"AES256\"\n    }",
    )
    .replace("restrict_public_buckets = true", "restrict_public_buckets = false")
}

fn s3_tag(tags: &[Tag], key: &str) -> Option<String> {
    tags.iter()
        .find(|t| t.key() == key)
        .map(|t| t.value().to_owned())
}

fn assert_plan_shows(stack: &Stack<'_>, needles: &[&str]) {
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2, "expected changes:\n{}", plan.both());
    for n in needles {
        assert!(
            plan.stdout.contains(n),
            "plan lacks {n:?}:\n{}",
            plan.stdout
        );
    }
}

#[test]
fn storage_lifecycle() {
    let moto = Moto::start();
    let s3 = moto.s3();
    let kms = moto.kms();
    let stack = moto.stack();
    stack.write(V1);
    stack.apply();

    // Read back: the key, the buckets and the bucket's three settings.
    let key_id = stack.state_id("aws_kms_key.data");
    let key_arn = stack.state_attr("aws_kms_key.data", "arn");
    let key = block_on(kms.describe_key().key_id(&key_id).send()).expect("key");
    let meta = key.key_metadata().expect("metadata");
    assert_eq!(meta.description(), Some("training data"));
    assert!(meta.enabled());
    let rotation =
        block_on(kms.get_key_rotation_status().key_id(&key_id).send()).expect("rotation");
    assert!(rotation.key_rotation_enabled());
    let key_tags = block_on(kms.list_resource_tags().key_id(&key_id).send()).expect("key tags");
    let key_tag = |k: &str| {
        key_tags
            .tags()
            .iter()
            .find(|t| t.tag_key() == k)
            .map(|t| t.tag_value().to_owned())
    };
    assert_eq!(
        key_tag("gantry:address").as_deref(),
        Some("aws_kms_key.data")
    );
    assert_eq!(key_tag("owner").as_deref(), Some("ml-platform"));

    block_on(s3.head_bucket().bucket(BUCKET).send()).expect("bucket");
    let tags = block_on(s3.get_bucket_tagging().bucket(BUCKET).send()).expect("tagging");
    assert_eq!(s3_tag(tags.tag_set(), "team").as_deref(), Some("ml"));
    assert_eq!(
        s3_tag(tags.tag_set(), "owner").as_deref(),
        Some("ml-platform")
    );
    assert_eq!(
        s3_tag(tags.tag_set(), "gantry:address").as_deref(),
        Some("aws_s3_bucket.data")
    );
    assert_eq!(
        stack.state_attr("aws_s3_bucket.data", "arn"),
        "arn:aws:s3:::gantry-training-data"
    );
    assert_eq!(
        stack.state_attr("aws_s3_bucket.data", "region"),
        "us-east-1"
    );
    assert_eq!(
        stack.state_attr("aws_s3_bucket.data", "bucket_regional_domain_name"),
        "gantry-training-data.s3.us-east-1.amazonaws.com"
    );
    let logs = stack.state_id("aws_s3_bucket.logs");
    assert!(
        logs.starts_with("gantry-logs-") && logs.len() == "gantry-logs-".len() + 26,
        "{logs}"
    );
    block_on(s3.head_bucket().bucket(&logs).send()).expect("logs bucket");

    let versioning =
        block_on(s3.get_bucket_versioning().bucket(BUCKET).send()).expect("versioning");
    assert_eq!(versioning.status(), Some(&BucketVersioningStatus::Enabled));
    let sse = block_on(s3.get_bucket_encryption().bucket(BUCKET).send()).expect("encryption");
    let rule = &sse
        .server_side_encryption_configuration()
        .expect("config")
        .rules()[0];
    let by_default = rule
        .apply_server_side_encryption_by_default()
        .expect("default");
    assert_eq!(by_default.sse_algorithm(), &ServerSideEncryption::AwsKms);
    assert_eq!(by_default.kms_master_key_id(), key_arn.as_str());
    assert_eq!(rule.bucket_key_enabled(), Some(true));
    let pab =
        block_on(s3.get_public_access_block().bucket(BUCKET).send()).expect("public access block");
    let pab = pab.public_access_block_configuration().expect("config");
    assert_eq!(pab.restrict_public_buckets(), Some(true));
    assert_eq!(pab.block_public_acls(), Some(true));
    stack.assert_no_changes();

    // In place: every type changes something; the same key and bucket afterwards.
    stack.write(&v2());
    assert_plan_shows(
        &stack,
        &[
            "will be updated in-place",
            "training data, v2",
            "Suspended",
            "AES256",
        ],
    );
    stack.apply();
    assert_eq!(stack.state_id("aws_kms_key.data"), key_id);
    assert_eq!(stack.state_id("aws_s3_bucket.data"), BUCKET);
    let key = block_on(kms.describe_key().key_id(&key_id).send()).expect("key");
    let meta = key.key_metadata().expect("metadata");
    assert_eq!(meta.description(), Some("training data, v2"));
    assert!(!meta.enabled());
    let rotation =
        block_on(kms.get_key_rotation_status().key_id(&key_id).send()).expect("rotation");
    assert!(!rotation.key_rotation_enabled());
    let tags = block_on(s3.get_bucket_tagging().bucket(BUCKET).send()).expect("tagging");
    assert_eq!(s3_tag(tags.tag_set(), "tier").as_deref(), Some("hot"));
    assert_eq!(
        s3_tag(tags.tag_set(), "gantry:address").as_deref(),
        Some("aws_s3_bucket.data")
    );
    let versioning =
        block_on(s3.get_bucket_versioning().bucket(BUCKET).send()).expect("versioning");
    assert_eq!(
        versioning.status(),
        Some(&BucketVersioningStatus::Suspended)
    );
    let sse = block_on(s3.get_bucket_encryption().bucket(BUCKET).send()).expect("encryption");
    let rule = &sse
        .server_side_encryption_configuration()
        .expect("config")
        .rules()[0];
    let by_default = rule
        .apply_server_side_encryption_by_default()
        .expect("default");
    assert_eq!(by_default.sse_algorithm(), &ServerSideEncryption::Aes256);
    assert_eq!(by_default.kms_master_key_id(), None);
    let pab =
        block_on(s3.get_public_access_block().bucket(BUCKET).send()).expect("public access block");
    assert_eq!(
        pab.public_access_block_configuration()
            .and_then(|c| c.restrict_public_buckets()),
        Some(false)
    );
    stack.assert_no_changes();

    // Out-of-band changes to each: the plan shows the drift, apply undoes it.
    block_on(
        kms.update_key_description()
            .key_id(&key_id)
            .description("hand-edited key")
            .send(),
    )
    .expect("describe");
    block_on(
        s3.put_bucket_tagging()
            .bucket(BUCKET)
            .tagging(
                Tagging::builder()
                    .tag_set(
                        Tag::builder()
                            .key("team")
                            .value("hand-tagged")
                            .build()
                            .expect("tag"),
                    )
                    .build()
                    .expect("tagging"),
            )
            .send(),
    )
    .expect("put tagging");
    block_on(
        s3.put_bucket_versioning()
            .bucket(BUCKET)
            .versioning_configuration(
                VersioningConfiguration::builder()
                    .status(BucketVersioningStatus::Enabled)
                    .build(),
            )
            .send(),
    )
    .expect("put versioning");
    block_on(
        s3.put_bucket_encryption()
            .bucket(BUCKET)
            .server_side_encryption_configuration(
                ServerSideEncryptionConfiguration::builder()
                    .rules(
                        ServerSideEncryptionRule::builder()
                            .apply_server_side_encryption_by_default(
                                ServerSideEncryptionByDefault::builder()
                                    .sse_algorithm(ServerSideEncryption::AwsKmsDsse)
                                    .build()
                                    .expect("default"),
                            )
                            .build(),
                    )
                    .build()
                    .expect("config"),
            )
            .send(),
    )
    .expect("put encryption");
    block_on(
        s3.put_public_access_block()
            .bucket(BUCKET)
            .public_access_block_configuration(
                PublicAccessBlockConfiguration::builder()
                    .block_public_acls(false)
                    .build(),
            )
            .send(),
    )
    .expect("put public access block");
    assert_plan_shows(
        &stack,
        &[
            "hand-edited key",
            "hand-tagged",
            "Enabled",
            "aws:kms:dsse",
            "block_public_acls",
        ],
    );
    stack.apply();
    stack.assert_no_changes();
    let tags = block_on(s3.get_bucket_tagging().bucket(BUCKET).send()).expect("tagging");
    assert_eq!(s3_tag(tags.tag_set(), "team").as_deref(), Some("ml"));
    assert_eq!(
        s3_tag(tags.tag_set(), "gantry:address").as_deref(),
        Some("aws_s3_bucket.data")
    );

    // Import: forget each object, import it by id, and the plan is empty again.
    stack.reimport("aws_kms_key.data", &key_id);
    stack.reimport("aws_s3_bucket.data", BUCKET);
    stack.reimport("aws_s3_bucket.logs", &logs);
    stack.reimport("aws_s3_bucket_versioning.data", BUCKET);
    stack.reimport(
        "aws_s3_bucket_server_side_encryption_configuration.data",
        BUCKET,
    );
    stack.reimport("aws_s3_bucket_public_access_block.data", BUCKET);
    // Not readable from AWS, so unknown after an import: the plan sets them again.
    let (_, plan) = stack.plan_code();
    assert!(!plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    stack.apply();
    stack.assert_no_changes();

    // Out-of-band deletes: the encryption configuration, the public access block, the key
    // (scheduled for deletion reads as gone) and the logs bucket; apply recreates them.
    block_on(s3.delete_bucket_encryption().bucket(BUCKET).send()).expect("delete encryption");
    block_on(s3.delete_public_access_block().bucket(BUCKET).send()).expect("delete pab");
    block_on(
        kms.schedule_key_deletion()
            .key_id(&key_id)
            .pending_window_in_days(7)
            .send(),
    )
    .expect("schedule");
    block_on(s3.delete_bucket().bucket(&logs).send()).expect("delete logs");
    assert_plan_shows(
        &stack,
        &[
            "aws_s3_bucket_server_side_encryption_configuration.data will be created",
            "aws_s3_bucket_public_access_block.data will be created",
            "aws_kms_key.data will be created",
            "aws_s3_bucket.logs will be created",
        ],
    );
    stack.apply();
    let new_key = stack.state_id("aws_kms_key.data");
    assert_ne!(new_key, key_id);
    block_on(s3.get_bucket_encryption().bucket(BUCKET).send()).expect("encryption again");
    block_on(s3.get_public_access_block().bucket(BUCKET).send()).expect("pab again");
    stack.assert_no_changes();

    // The data bucket itself, with its versioning, goes out of band: all four come back.
    block_on(s3.delete_bucket().bucket(BUCKET).send()).expect("delete data bucket");
    assert_plan_shows(
        &stack,
        &[
            "aws_s3_bucket.data will be created",
            "aws_s3_bucket_versioning.data will be created",
        ],
    );
    stack.apply();
    let versioning =
        block_on(s3.get_bucket_versioning().bucket(BUCKET).send()).expect("versioning");
    assert_eq!(
        versioning.status(),
        Some(&BucketVersioningStatus::Suspended)
    );
    stack.assert_no_changes();

    // force_destroy: objects, old versions and delete markers do not stop the destroy.
    // moto gap: in a bucket whose versioning is Suspended (as the data bucket is when its
    // versioning resource has been destroyed first), moto's DeleteObjects fails with HTTP
    // 500 on a delete marker (`FakeDeleteMarker` has no `dispose`); real S3 does not. So
    // the delete markers go in the logs bucket (versioning left Enabled), the data bucket
    // gets plain versions.
    let versioned = |bucket: &str| {
        block_on(
            s3.put_bucket_versioning()
                .bucket(bucket)
                .versioning_configuration(
                    VersioningConfiguration::builder()
                        .status(BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send(),
        )
        .expect("enable versioning")
    };
    let put = |bucket: &str, body: &'static str| {
        block_on(
            s3.put_object()
                .bucket(bucket)
                .key("shard-0")
                .body(ByteStream::from_static(body.as_bytes()))
                .send(),
        )
        .expect("put object")
    };
    let logs = stack.state_id("aws_s3_bucket.logs");
    for bucket in [BUCKET, logs.as_str()] {
        versioned(bucket);
        put(bucket, "one");
        put(bucket, "two");
    }
    block_on(s3.delete_object().bucket(&logs).key("shard-0").send()).expect("delete marker");
    let versions = block_on(s3.list_object_versions().bucket(&logs).send()).expect("versions");
    assert_eq!(versions.versions().len(), 2);
    assert_eq!(versions.delete_markers().len(), 1);
    let versions = block_on(s3.list_object_versions().bucket(BUCKET).send()).expect("versions");
    assert_eq!(versions.versions().len(), 2);

    // Destroy leaves nothing gantry made: no buckets, the keys pending deletion.
    stack.destroy();
    let buckets = block_on(s3.list_buckets().send()).expect("buckets");
    assert!(
        buckets.buckets().is_empty(),
        "buckets left: {:?}",
        buckets.buckets()
    );
    for id in [&key_id, &new_key] {
        let key = block_on(kms.describe_key().key_id(id).send()).expect("key");
        assert_eq!(
            key.key_metadata().and_then(|m| m.key_state()),
            Some(&aws_sdk_kms::types::KeyState::PendingDeletion),
            "{id}"
        );
    }
}

//! `aws_fsx_data_repository_association` against moto: a PERSISTENT_2 Lustre file system
//! linked to a bucket through two associations (one with every argument set, one with FSx's
//! defaults), through apply, SDK read-back, no-op plan, in-place update, drift, import,
//! out-of-band delete and destroy.
//!
//! moto 5.2.5 has none of the four data repository association actions: every association
//! step runs against the launcher's fake (tests/moto/README.md), which follows the FSx API
//! reference (lifecycle CREATING / UPDATING / DELETING seen once, then AVAILABLE or gone).

use crate::support::{block_on, Moto, Stack};
use aws_sdk_fsx::types::{
    AutoExportPolicy, DataRepositoryAssociation, EventType, S3DataRepositoryConfiguration,
};

/// The bucket of the stacks below.
const BUCKET: &str = "gantry-dra-data";

const V1: &str = r#"
provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = { owner = "ml-platform" }
  }
}

resource "aws_vpc" "main" {
  cidr_block = "10.50.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.50.1.0/24"
  availability_zone = "us-east-1a"
}

resource "aws_s3_bucket" "data" {
  bucket        = "gantry-dra-data"
  force_destroy = true
}

resource "aws_fsx_lustre_file_system" "train" {
  storage_capacity            = 1200
  subnet_ids                  = [aws_subnet.a.id]
  deployment_type             = "PERSISTENT_2"
  per_unit_storage_throughput = 125
}

resource "aws_fsx_data_repository_association" "data" {
  file_system_id                   = aws_fsx_lustre_file_system.train.id
  data_repository_path             = "s3://${aws_s3_bucket.data.id}/datasets"
  file_system_path                 = "/data"
  batch_import_meta_data_on_create = true
  imported_file_chunk_size         = 2048

  s3 {
    auto_export_policy {
      events = ["NEW", "CHANGED", "DELETED"]
    }
    auto_import_policy {
      events = ["NEW", "CHANGED"]
    }
  }

  tags = { Name = "datasets" }
}

resource "aws_fsx_data_repository_association" "checkpoints" {
  file_system_id       = aws_fsx_lustre_file_system.train.id
  data_repository_path = "s3://${aws_s3_bucket.data.id}/checkpoints"
  file_system_path     = "/checkpoints"
}
"#;

/// In place: fewer export events, a new tag, and delete the data with the association.
fn v2() -> String {
    V1.replace(
        "events = [\"NEW\", \"CHANGED\", \"DELETED\"]",
        "events = [\"NEW\", \"CHANGED\"]",
    )
    .replace(
        "tags = { Name = \"datasets\" }",
        "tags = { Name = \"datasets-2\" }\n  delete_data_in_filesystem = true",
    )
}

fn describe(moto: &Moto, id: &str) -> DataRepositoryAssociation {
    let out = block_on(
        moto.fsx()
            .describe_data_repository_associations()
            .association_ids(id)
            .send(),
    )
    .expect("describe association");
    out.associations()[0].clone()
}

fn events(list: Option<&[EventType]>) -> Vec<&str> {
    list.unwrap_or_default()
        .iter()
        .map(EventType::as_str)
        .collect()
}

fn export_events(dra: &DataRepositoryAssociation) -> Vec<&str> {
    events(
        dra.s3()
            .and_then(|s| s.auto_export_policy())
            .map(AutoExportPolicy::events),
    )
}

fn tag(dra: &DataRepositoryAssociation, key: &str) -> Option<String> {
    dra.tags()
        .iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
        .map(str::to_owned)
}

fn plan_changes(stack: &Stack<'_>) -> String {
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2, "expected changes:\n{}", plan.both());
    plan.stdout
}

#[test]
fn fsx_dra_lifecycle() {
    let moto = Moto::start();
    let fsx = moto.fsx();
    let stack = moto.stack();
    stack.write(V1);
    stack.apply();

    // Read back: both associations link the file system to their prefix of the bucket.
    let fs_id = stack.state_id("aws_fsx_lustre_file_system.train");
    let id = stack.state_id("aws_fsx_data_repository_association.data");
    assert!(id.starts_with("dra-"), "{id}");
    assert_eq!(
        stack.state_attr("aws_fsx_data_repository_association.data", "association_id"),
        serde_json::json!(id)
    );
    let dra = describe(&moto, &id);
    assert_eq!(dra.lifecycle().map(|l| l.as_str()), Some("AVAILABLE"));
    assert_eq!(dra.file_system_id(), Some(fs_id.as_str()));
    assert_eq!(dra.file_system_path(), Some("/data"));
    assert_eq!(
        dra.data_repository_path(),
        Some(format!("s3://{BUCKET}/datasets").as_str())
    );
    assert_eq!(dra.batch_import_meta_data_on_create(), Some(true));
    assert_eq!(dra.imported_file_chunk_size(), Some(2048));
    assert_eq!(export_events(&dra), ["NEW", "CHANGED", "DELETED"]);
    assert_eq!(
        events(
            dra.s3()
                .and_then(|s| s.auto_import_policy())
                .map(|p| p.events())
        ),
        ["NEW", "CHANGED"]
    );
    assert_eq!(tag(&dra, "Name").as_deref(), Some("datasets"));
    assert_eq!(tag(&dra, "owner").as_deref(), Some("ml-platform"));
    assert_eq!(
        tag(&dra, "gantry:address").as_deref(),
        Some("aws_fsx_data_repository_association.data")
    );
    assert_eq!(
        stack
            .state_attr("aws_fsx_data_repository_association.data", "arn")
            .as_str(),
        dra.resource_arn()
    );
    // The one left to FSx's defaults: chunk size 1024 MiB, read back into state.
    let checkpoints = stack.state_id("aws_fsx_data_repository_association.checkpoints");
    let dra = describe(&moto, &checkpoints);
    assert_eq!(
        dra.data_repository_path(),
        Some(format!("s3://{BUCKET}/checkpoints").as_str())
    );
    assert_eq!(dra.imported_file_chunk_size(), Some(1024));
    assert_eq!(
        stack.state_attr(
            "aws_fsx_data_repository_association.checkpoints",
            "imported_file_chunk_size"
        ),
        serde_json::json!(1024)
    );
    stack.assert_no_changes();

    // In place: the export events, a tag and the delete flag; the same association after.
    stack.write(&v2());
    let plan = plan_changes(&stack);
    assert!(plan.contains("will be updated in-place"), "{plan}");
    assert!(!plan.contains("must be replaced"), "{plan}");
    stack.apply();
    assert_eq!(
        stack.state_id("aws_fsx_data_repository_association.data"),
        id
    );
    let dra = describe(&moto, &id);
    assert_eq!(export_events(&dra), ["NEW", "CHANGED"]);
    assert_eq!(dra.imported_file_chunk_size(), Some(2048));
    assert_eq!(tag(&dra, "Name").as_deref(), Some("datasets-2"));
    assert_eq!(
        stack.state_attr(
            "aws_fsx_data_repository_association.data",
            "delete_data_in_filesystem"
        ),
        serde_json::json!(true)
    );
    stack.assert_no_changes();

    // Another directory is another association: a replacement (planned, not applied).
    stack.write(&v2().replace("\"/data\"", "\"/datasets\""));
    let plan = plan_changes(&stack);
    assert!(plan.contains("must be replaced"), "{plan}");
    stack.write(&v2());

    // Drift: the export events changed out of band; the plan shows it, apply undoes it.
    block_on(
        fsx.update_data_repository_association()
            .association_id(&id)
            .s3(S3DataRepositoryConfiguration::builder()
                .auto_export_policy(
                    AutoExportPolicy::builder()
                        .events(EventType::Deleted)
                        .build(),
                )
                .build())
            .send(),
    )
    .expect("update out of band");
    let plan = plan_changes(&stack);
    assert!(plan.contains("will be updated in-place"), "{plan}");
    assert!(plan.contains("DELETED"), "{plan}");
    stack.apply();
    assert_eq!(export_events(&describe(&moto, &id)), ["NEW", "CHANGED"]);
    stack.assert_no_changes();

    // Import by id: the defaults-only one imports to an empty plan; the other's
    // delete_data_in_filesystem cannot be read from FSx, so the plan sets it again in state.
    stack.reimport(
        "aws_fsx_data_repository_association.checkpoints",
        &checkpoints,
    );
    stack.assert_no_changes();
    stack.reimport("aws_fsx_data_repository_association.data", &id);
    let plan = plan_changes(&stack);
    assert!(plan.contains("delete_data_in_filesystem"), "{plan}");
    assert!(!plan.contains("must be replaced"), "{plan}");
    stack.apply();
    stack.assert_no_changes();

    // Out-of-band delete: apply makes a new association.
    block_on(
        fsx.delete_data_repository_association()
            .association_id(&checkpoints)
            .send(),
    )
    .expect("delete out of band");
    let plan = plan_changes(&stack);
    assert!(
        plan.contains("aws_fsx_data_repository_association.checkpoints will be created"),
        "{plan}"
    );
    stack.apply();
    let new_checkpoints = stack.state_id("aws_fsx_data_repository_association.checkpoints");
    assert_ne!(new_checkpoints, checkpoints);
    assert_eq!(
        describe(&moto, &new_checkpoints).file_system_path(),
        Some("/checkpoints")
    );
    stack.assert_no_changes();

    // Destroy leaves no association, file system or bucket.
    stack.destroy();
    let left = block_on(fsx.describe_data_repository_associations().send()).expect("describe");
    assert!(
        left.associations().is_empty(),
        "associations left: {:?}",
        left.associations()
    );
    let fs = block_on(fsx.describe_file_systems().send()).expect("file systems");
    assert!(fs.file_systems().is_empty(), "file systems left");
    let buckets = block_on(moto.s3().list_buckets().send()).expect("buckets");
    assert!(buckets.buckets().is_empty(), "buckets left");
}

//! `import` blocks against moto: objects made by hand with boto3 are taken under
//! management as a planned change, and `plan --generate-config-out` writes configuration
//! that plans them with no changes. boto3 reads back that nothing was re-created.

use crate::support::Moto;

/// A VPC and a bucket made by hand; returns (vpc id, bucket name).
fn made_by_hand(moto: &Moto) -> (String, String) {
    let out = moto.boto3(
        r#"
ec2 = client("ec2")
vpc = ec2.create_vpc(CidrBlock="10.42.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "by-hand"}]}])["Vpc"]["VpcId"]
s3 = client("s3")
s3.create_bucket(Bucket="hand-made-datasets")
print(vpc)
"#,
    );
    (out, "hand-made-datasets".to_owned())
}

fn vpc_count(moto: &Moto) -> usize {
    moto.boto3(r#"print(len(client("ec2").describe_vpcs(Filters=[{"Name": "cidr-block", "Values": ["10.42.0.0/16"]}])["Vpcs"]))"#)
        .parse()
        .unwrap_or(usize::MAX)
}

#[test]
fn import_blocks_take_hand_made_objects_under_management() {
    let moto = Moto::start();
    let (vpc, bucket) = made_by_hand(&moto);
    let stack = moto.stack();
    stack.write(&format!(
        r#"
provider "aws" {{
  region = "us-east-1"
}}

variable "vpc_id" {{
  type    = string
  default = "{vpc}"
}}

resource "aws_vpc" "main" {{
  cidr_block = "10.42.0.0/16"
  tags = {{
    Name = "by-hand"
    Team = "ml-platform"
  }}
}}

resource "aws_s3_bucket" "datasets" {{
  bucket = "{bucket}"
}}

import {{
  to = aws_vpc.main
  id = var.vpc_id
}}

import {{
  to = aws_s3_bucket.datasets
  id = "{bucket}"
}}
"#
    ));
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2, "{}", plan.both());
    assert!(
        plan.stdout
            .contains("Plan: 2 to import, 0 to add, 1 to change, 0 to destroy."),
        "{}",
        plan.both()
    );
    assert!(
        plan.stdout.contains(&format!(
            "# aws_vpc.main will be updated in-place\n  # (imported from \"{vpc}\")"
        )),
        "{}",
        plan.stdout
    );
    assert!(
        plan.stdout
            .contains("# aws_s3_bucket.datasets will be imported"),
        "{}",
        plan.stdout
    );
    // A plan changes nothing: state is still empty, the VPC still has one tag.
    assert!(stack.state_addresses().is_empty());

    let apply = stack.apply();
    assert!(
        apply
            .stderr
            .contains("0 added, 1 changed, 0 destroyed, 2 imported"),
        "{}",
        apply.both()
    );
    assert_eq!(stack.state_id("aws_vpc.main"), vpc);
    assert_eq!(stack.state_id("aws_s3_bucket.datasets"), bucket);
    // boto3 sees the same VPC, now with the stack's tag, and no second one.
    assert_eq!(vpc_count(&moto), 1);
    let tags = moto.boto3(&format!(
        r#"print(sorted((t["Key"], t["Value"]) for t in client("ec2").describe_vpcs(VpcIds=["{vpc}"])["Vpcs"][0]["Tags"]))"#
    ));
    assert!(tags.contains("('Team', 'ml-platform')"), "{tags}");
    stack.assert_no_changes();

    // The import blocks stay and do nothing once state tracks the objects; destroy
    // deletes what was imported, as Terraform does.
    stack.destroy();
    assert_eq!(vpc_count(&moto), 0);
    let buckets =
        moto.boto3(r#"print([b["Name"] for b in client("s3").list_buckets()["Buckets"]])"#);
    assert!(!buckets.contains("hand-made-datasets"), "{buckets}");
}

#[test]
fn generated_configuration_imports_with_no_changes() {
    let moto = Moto::start();
    let (vpc, bucket) = made_by_hand(&moto);
    let stack = moto.stack();
    stack.write(&format!(
        r#"
provider "aws" {{
  region = "us-east-1"
}}

import {{
  to = aws_vpc.imported
  id = "{vpc}"
}}

import {{
  to = aws_s3_bucket.imported
  id = "{bucket}"
}}
"#
    ));
    let plan = stack.gantry(&["plan"]);
    assert_eq!(plan.code, 1, "{}", plan.both());
    assert!(
        plan.stderr
            .contains("the import target `aws_vpc.imported` is not declared"),
        "{}",
        plan.both()
    );
    assert!(
        plan.stderr.contains("--generate-config-out"),
        "{}",
        plan.both()
    );

    let generate = stack.gantry(&["plan", "--generate-config-out", "generated.hcl"]);
    assert_eq!(generate.code, 0, "{}", generate.both());
    assert!(
        generate
            .stderr
            .contains("wrote 2 resource blocks to `generated.hcl`"),
        "{}",
        generate.both()
    );
    let text = std::fs::read_to_string(stack.path().join("generated.hcl")).unwrap_or_default();
    assert!(text.contains("resource \"aws_vpc\" \"imported\""), "{text}");
    assert!(
        text.contains("cidr_block") && text.contains("10.42.0.0/16"),
        "{text}"
    );
    assert!(
        text.contains(&format!("bucket = \"{bucket}\""))
            || text.contains(&format!("bucket        = \"{bucket}\"")),
        "{text}"
    );
    // Never overwritten.
    let again = stack.gantry(&["plan", "--generate-config-out", "generated.hcl"]);
    assert_eq!(again.code, 0, "{}", again.both());

    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2, "{}", plan.both());
    assert!(
        plan.stdout
            .contains("Plan: 2 to import, 0 to add, 0 to change, 0 to destroy."),
        "{}",
        plan.both()
    );
    stack.apply();
    stack.assert_no_changes();
    assert_eq!(vpc_count(&moto), 1);
}

#[test]
fn an_id_that_does_not_exist_fails_the_plan_naming_it() {
    let moto = Moto::start();
    let stack = moto.stack();
    stack.write(
        r#"
provider "aws" {
  region = "us-east-1"
}

resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

import {
  to = aws_vpc.main
  id = "vpc-00000000000000000"
}
"#,
    );
    let plan = stack.gantry(&["plan"]);
    assert_eq!(plan.code, 1, "{}", plan.both());
    assert!(
        plan.stderr
            .contains("cannot import `vpc-00000000000000000` as `aws_vpc.main`"),
        "{}",
        plan.both()
    );
    assert!(stack.state_addresses().is_empty());
}

//! `moved` and `removed` blocks against moto: a VPC and its subnets moved into a module
//! (count turned into for_each on the way) and a bucket let go of; boto3 reads back that
//! every object is the one that was there, and the forgotten bucket is still in the cloud
//! after destroy.

use crate::support::Moto;

fn vpc_ids(moto: &Moto) -> String {
    moto.boto3(
        r#"print(sorted(v["VpcId"] for v in client("ec2").describe_vpcs(Filters=[{"Name": "cidr-block", "Values": ["10.9.0.0/16"]}])["Vpcs"]))"#,
    )
}

fn subnet_ids(moto: &Moto) -> String {
    moto.boto3(
        r#"print(sorted(s["SubnetId"] for s in client("ec2").describe_subnets(Filters=[{"Name": "cidr-block", "Values": ["10.9.1.0/24", "10.9.2.0/24"]}])["Subnets"]))"#,
    )
}

#[test]
fn moves_into_a_module_and_a_removed_bucket_touch_nothing_in_the_cloud() {
    let moto = Moto::start();
    let stack = moto.stack();
    stack.write(
        r#"
provider "aws" {
  region = "us-east-1"
}

resource "aws_vpc" "main" {
  cidr_block = "10.9.0.0/16"
}

resource "aws_subnet" "zone" {
  count             = 2
  vpc_id            = aws_vpc.main.id
  availability_zone = ["us-east-1a", "us-east-1b"][count.index]
  cidr_block        = cidrsubnet("10.9.0.0/16", 8, count.index + 1)
}

resource "aws_s3_bucket" "scratch" {
  bucket = "refactor-scratch"
}
"#,
    );
    stack.apply();
    let (vpcs, subnets) = (vpc_ids(&moto), subnet_ids(&moto));
    assert_eq!(vpcs.matches("vpc-").count(), 1, "{vpcs}");
    assert_eq!(subnets.matches("subnet-").count(), 2, "{subnets}");

    std::fs::create_dir_all(stack.path().join("network")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        stack.path().join("network/main.hcl"),
        r#"
resource "aws_vpc" "main" {
  cidr_block = "10.9.0.0/16"
}

resource "aws_subnet" "zone" {
  for_each          = { "us-east-1a" = 1, "us-east-1b" = 2 }
  vpc_id            = aws_vpc.main.id
  availability_zone = each.key
  cidr_block        = cidrsubnet("10.9.0.0/16", 8, each.value)
}
"#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    stack.write(
        r#"
provider "aws" {
  region = "us-east-1"
}

module "network" {
  source = "./network"
}

moved {
  from = aws_vpc.main
  to   = module.network.aws_vpc.main
}

moved {
  from = aws_subnet.zone[0]
  to   = module.network.aws_subnet.zone["us-east-1a"]
}

moved {
  from = aws_subnet.zone[1]
  to   = module.network.aws_subnet.zone["us-east-1b"]
}

removed {
  from = aws_s3_bucket.scratch
  lifecycle {
    destroy = false
  }
}
"#,
    );
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2, "{}", plan.both());
    assert!(
        plan.stdout
            .contains("Plan: 0 to add, 0 to change, 0 to destroy, 1 to forget."),
        "{}",
        plan.both()
    );
    assert!(
        plan.stdout.contains(
            "# aws_subnet.zone[0] has moved to module.network.aws_subnet.zone[\"us-east-1a\"]"
        ),
        "{}",
        plan.stdout
    );
    let apply = stack.apply();
    assert!(
        apply.stderr.contains("3 moved, 1 forgotten"),
        "{}",
        apply.both()
    );
    stack.assert_no_changes();
    // The very same objects, none created or deleted.
    assert_eq!(vpc_ids(&moto), vpcs);
    assert_eq!(subnet_ids(&moto), subnets);

    stack.destroy();
    assert_eq!(vpc_ids(&moto), "[]");
    // The forgotten bucket was not destroyed.
    let buckets =
        moto.boto3(r#"print([b["Name"] for b in client("s3").list_buckets()["Buckets"]])"#);
    assert!(buckets.contains("refactor-scratch"), "{buckets}");
}

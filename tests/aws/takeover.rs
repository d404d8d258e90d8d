//! Taking over a Terraform state against moto: a VPC, subnets, a security group, an IAM
//! role and a bucket made with boto3, a version-4 state written for them as Terraform's
//! AWS provider records such objects (with attributes gantry does not track, a data
//! source, a resource of a type gantry does not support), and the Terraform configuration
//! in `.tf` files. The takeover touches nothing in the cloud and the next plan is a no-op.

use crate::support::Moto;

struct Made {
    vpc: String,
    subnet_a: String,
    subnet_b: String,
    sg: String,
    role_arn: String,
}

fn made_with_boto3(moto: &Moto) -> Made {
    let out = moto.boto3(
        r#"
ec2 = client("ec2")
vpc = ec2.create_vpc(CidrBlock="10.7.0.0/16", TagSpecifications=[{"ResourceType": "vpc", "Tags": [{"Key": "Name", "Value": "legacy"}]}])["Vpc"]["VpcId"]
a = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.1.0/24", AvailabilityZone="us-east-1a")["Subnet"]["SubnetId"]
b = ec2.create_subnet(VpcId=vpc, CidrBlock="10.7.2.0/24", AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
sg = ec2.create_security_group(GroupName="legacy-train", Description="legacy training nodes", VpcId=vpc)["GroupId"]
iam = client("iam")
policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
role = iam.create_role(RoleName="legacy-node", AssumeRolePolicyDocument=policy)["Role"]["Arn"]
client("s3").create_bucket(Bucket="legacy-checkpoints")
print(json.dumps({"vpc": vpc, "a": a, "b": b, "sg": sg, "role": role}))
"#,
    );
    let v: serde_json::Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let s = |k: &str| v[k].as_str().unwrap_or_default().to_owned();
    Made {
        vpc: s("vpc"),
        subnet_a: s("a"),
        subnet_b: s("b"),
        sg: s("sg"),
        role_arn: s("role"),
    }
}

/// What `terraform.tfstate` holds after Terraform made these objects.
fn tfstate(m: &Made) -> serde_json::Value {
    let aws = r#"provider["registry.terraform.io/hashicorp/aws"]"#;
    let policy = r#"{"Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"}}],"Version":"2012-10-17"}"#;
    serde_json::json!({
        "version": 4,
        "terraform_version": "1.9.5",
        "serial": 12,
        "lineage": "5e0c1b7a-0b6f-4d7e-9f1e-1b2c3d4e5f60",
        "outputs": {"vpc_id": {"value": m.vpc, "type": "string"}},
        "resources": [
            {"mode": "data", "type": "aws_caller_identity", "name": "current", "provider": aws,
             "instances": [{"schema_version": 0, "attributes": {"account_id": "123456789012", "id": "123456789012"}}]},
            {"mode": "managed", "type": "aws_vpc", "name": "main", "provider": aws,
             "instances": [{"schema_version": 1, "attributes": {
                 "id": m.vpc, "arn": format!("arn:aws:ec2:us-east-1:123456789012:vpc/{}", m.vpc),
                 "cidr_block": "10.7.0.0/16", "enable_dns_support": true, "enable_dns_hostnames": false,
                 "instance_tenancy": "default", "tags": {"Name": "legacy"}, "tags_all": {"Name": "legacy"},
                 "assign_generated_ipv6_cidr_block": false, "ipv6_netmask_length": 0,
                 "enable_network_address_usage_metrics": false},
               "sensitive_attributes": [], "private": "eyJzY2hlbWFfdmVyc2lvbiI6IjEifQ=="}]},
            {"mode": "managed", "type": "aws_subnet", "name": "zone", "each": "map", "provider": aws,
             "instances": [
               {"index_key": "us-east-1a", "schema_version": 1, "attributes": {
                  "id": m.subnet_a, "vpc_id": m.vpc, "cidr_block": "10.7.1.0/24", "availability_zone": "us-east-1a",
                  "map_public_ip_on_launch": false, "tags": null, "enable_dns64": false},
                "dependencies": ["aws_vpc.main"]},
               {"index_key": "us-east-1b", "schema_version": 1, "attributes": {
                  "id": m.subnet_b, "vpc_id": m.vpc, "cidr_block": "10.7.2.0/24", "availability_zone": "us-east-1b",
                  "map_public_ip_on_launch": false, "tags": null, "enable_dns64": false},
                "dependencies": ["aws_vpc.main"]}
             ]},
            {"mode": "managed", "type": "aws_security_group", "name": "train", "provider": aws,
             "instances": [{"schema_version": 1, "attributes": {
                 "id": m.sg, "name": "legacy-train", "description": "legacy training nodes", "vpc_id": m.vpc,
                 "revoke_rules_on_delete": false, "tags": null, "timeouts": null},
               "dependencies": ["aws_vpc.main"]}]},
            {"mode": "managed", "type": "aws_iam_role", "name": "node", "provider": aws,
             "instances": [{"schema_version": 0, "attributes": {
                 "id": "legacy-node", "arn": m.role_arn, "name": "legacy-node", "path": "/",
                 "assume_role_policy": policy, "max_session_duration": 3600, "force_detach_policies": false,
                 "managed_policy_arns": [], "inline_policy": []}}]},
            {"mode": "managed", "type": "aws_s3_bucket", "name": "checkpoints", "provider": aws,
             "instances": [{"schema_version": 0, "attributes": {
                 "id": "legacy-checkpoints", "bucket": "legacy-checkpoints", "force_destroy": false,
                 "arn": "arn:aws:s3:::legacy-checkpoints", "object_lock_enabled": false}}]},
            {"mode": "managed", "type": "aws_lambda_function", "name": "hook", "provider": aws,
             "instances": [{"schema_version": 0, "attributes": {"id": "hook", "function_name": "hook"}}]}
        ]
    })
}

const MAIN_TF: &str = r#"
terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

provider "aws" {
  region = "us-east-1"
}

data "aws_caller_identity" "current" {}

resource "aws_vpc" "main" {
  cidr_block = "10.7.0.0/16"
  tags = {
    Name = "legacy"
  }
}

resource "aws_subnet" "zone" {
  for_each          = { "us-east-1a" = "10.7.1.0/24", "us-east-1b" = "10.7.2.0/24" }
  vpc_id            = aws_vpc.main.id
  availability_zone = each.key
  cidr_block        = each.value
}

resource "aws_security_group" "train" {
  name        = "legacy-train"
  description = "legacy training nodes"
  vpc_id      = aws_vpc.main.id

  egress {
    from_port   = 0
    to_port     = 0
    protocol    = "-1"
    cidr_blocks = ["0.0.0.0/0"]
  }
}

resource "aws_iam_role" "node" {
  name = "legacy-node"
  assume_role_policy = jsonencode({
    Version = "2012-10-17"
    Statement = [{
      Effect    = "Allow"
      Principal = { Service = "ec2.amazonaws.com" }
      Action    = "sts:AssumeRole"
    }]
  })
}

resource "aws_s3_bucket" "checkpoints" {
  bucket = "legacy-checkpoints"
}

output "vpc_id" {
  value = aws_vpc.main.id
}
"#;

fn cloud_counts(moto: &Moto) -> String {
    moto.boto3(
        r#"
ec2 = client("ec2")
print(json.dumps([
    len(ec2.describe_vpcs()["Vpcs"]),
    len(ec2.describe_subnets()["Subnets"]),
    len(ec2.describe_security_groups()["SecurityGroups"]),
    len(client("iam").list_roles()["Roles"]),
    len(client("s3").list_buckets()["Buckets"]),
]))
"#,
    )
}

#[test]
fn a_terraform_state_is_taken_over_and_the_next_plan_is_a_no_op() {
    let moto = Moto::start();
    let made = made_with_boto3(&moto);
    let before = cloud_counts(&moto);
    let stack = moto.stack();
    std::fs::write(stack.path().join("main.tf"), MAIN_TF).unwrap_or_else(|e| panic!("{e}"));
    let file = stack.path().join("terraform.tfstate");
    std::fs::write(&file, tfstate(&made).to_string()).unwrap_or_else(|e| panic!("{e}"));

    // An unsupported type refuses the whole takeover, naming it.
    let refused = stack.gantry(&["state", "takeover", "terraform.tfstate"]);
    assert_eq!(refused.code, 1, "{}", refused.both());
    assert!(
        refused.stderr.contains("aws_lambda_function.hook"),
        "{}",
        refused.both()
    );
    assert!(
        refused.stderr.contains("--skip-unsupported"),
        "{}",
        refused.both()
    );
    assert!(stack.state_addresses().is_empty());

    let run = stack.gantry(&[
        "state",
        "takeover",
        "--skip-unsupported",
        "terraform.tfstate",
    ]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.stderr
            .contains("Took over 6 resource instances from Terraform 1.9.5"),
        "{}",
        run.both()
    );
    assert!(
        run.stderr
            .contains("1 data source instance will be read again"),
        "{}",
        run.both()
    );
    assert_eq!(
        stack.state_addresses(),
        [
            "aws_iam_role.node",
            "aws_s3_bucket.checkpoints",
            "aws_security_group.train",
            "aws_subnet.zone[\"us-east-1a\"]",
            "aws_subnet.zone[\"us-east-1b\"]",
            "aws_vpc.main"
        ]
    );
    assert_eq!(stack.state_id("aws_vpc.main"), made.vpc);
    // Attributes gantry does not track are not carried over.
    assert!(stack
        .state_attr("aws_vpc.main", "ipv6_netmask_length")
        .is_null());

    stack.assert_no_changes();
    // Nothing was created, changed or deleted in the cloud.
    assert_eq!(cloud_counts(&moto), before);

    // A second takeover into a state that tracks something is refused.
    let again = stack.gantry(&[
        "state",
        "takeover",
        "--skip-unsupported",
        "terraform.tfstate",
    ]);
    assert_eq!(again.code, 1, "{}", again.both());
    assert!(again.stderr.contains("not empty"), "{}", again.both());
}

#[test]
fn resources_the_stack_does_not_declare_refuse_the_takeover() {
    let moto = Moto::start();
    let made = made_with_boto3(&moto);
    let stack = moto.stack();
    // Only the VPC is declared: taking over the rest would plan their destruction.
    stack.write(
        r#"
provider "aws" {
  region = "us-east-1"
}

resource "aws_vpc" "main" {
  cidr_block = "10.7.0.0/16"
  tags = {
    Name = "legacy"
  }
}
"#,
    );
    let file = stack.path().join("terraform.tfstate");
    std::fs::write(&file, tfstate(&made).to_string()).unwrap_or_else(|e| panic!("{e}"));
    let run = stack.gantry(&[
        "state",
        "takeover",
        "--skip-unsupported",
        "terraform.tfstate",
    ]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.stderr
            .contains("does not declare 5 of the resource instances"),
        "{}",
        run.both()
    );
    assert!(
        run.stderr.contains("aws_subnet.zone[\"us-east-1a\"]"),
        "{}",
        run.both()
    );
    assert!(stack.state_addresses().is_empty());
}

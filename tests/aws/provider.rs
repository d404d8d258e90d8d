//! The `provider "aws"` block against moto: aliases for several regions, configurations
//! passed into modules, default tags, and the diagnostics for missing or bad credentials.

use crate::support::{block_on, Moto};

const TWO_REGIONS: &str = r#"
variable "west" {
  type    = string
  default = "us-west-2"
}

provider "aws" {
  region = "us-east-1"
}

provider "aws" {
  alias  = "west"
  region = var.west
}

resource "aws_vpc" "east" {
  cidr_block = "10.10.0.0/16"
}

resource "aws_vpc" "west" {
  provider   = aws.west
  cidr_block = "10.20.0.0/16"
}

module "replica" {
  source    = "./replica"
  providers = { aws = aws.west }
}
"#;

const REPLICA: &str = r#"
resource "aws_vpc" "this" {
  cidr_block = "10.30.0.0/16"
}
"#;

fn vpc_cidrs_in(moto: &Moto, region: &str) -> Vec<String> {
    let conf = aws_sdk_ec2::config::Builder::from(&moto.sdk())
        .region(aws_sdk_ec2::config::Region::new(region.to_owned()))
        .build();
    let ec2 = aws_sdk_ec2::Client::from_conf(conf);
    let out = block_on(
        ec2.describe_vpcs()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("tag-key")
                    .values("gantry:address")
                    .build(),
            )
            .send(),
    )
    .expect("describe");
    let mut cidrs: Vec<String> = out
        .vpcs()
        .iter()
        .filter_map(|v| v.cidr_block().map(str::to_owned))
        .collect();
    cidrs.sort();
    cidrs
}

#[test]
fn aliases_put_resources_in_their_regions_and_modules_inherit_the_passed_configuration() {
    let moto = Moto::start();
    let stack = moto.stack();
    stack.write(TWO_REGIONS);
    std::fs::create_dir_all(stack.path().join("replica")).expect("mkdir");
    std::fs::write(stack.path().join("replica/main.hcl"), REPLICA).expect("write module");
    stack.apply();
    assert_eq!(vpc_cidrs_in(&moto, "us-east-1"), vec!["10.10.0.0/16"]);
    assert_eq!(
        vpc_cidrs_in(&moto, "us-west-2"),
        vec!["10.20.0.0/16", "10.30.0.0/16"]
    );
    // State remembers which configuration made each object, so refresh reads the right
    // region: no changes.
    let state = std::fs::read_to_string(stack.path().join(".gantry/state.json")).expect("state");
    let state: serde_json::Value = serde_json::from_str(&state).expect("json");
    assert_eq!(state["resources"]["aws_vpc.west"]["provider"], "aws.west");
    assert_eq!(
        state["resources"]["module.replica.aws_vpc.this"]["provider"],
        "aws.west"
    );
    assert_eq!(state["resources"]["aws_vpc.east"]["provider"], "aws");
    stack.assert_no_changes();
    stack.destroy();
    assert!(vpc_cidrs_in(&moto, "us-west-2").is_empty());
    assert!(vpc_cidrs_in(&moto, "us-east-1").is_empty());
}

#[test]
fn missing_credentials_fail_the_plan_naming_every_source_tried() {
    let moto = Moto::start();
    let stack = moto.stack();
    stack.write("provider \"aws\" {\n  region = \"us-east-1\"\n}\n\nresource \"aws_vpc\" \"main\" {\n  cidr_block = \"10.0.0.0/16\"\n}\n");
    let run = stack.gantry_env(
        &["plan"],
        &[("AWS_ACCESS_KEY_ID", ""), ("AWS_SECRET_ACCESS_KEY", "")],
    );
    assert_eq!(run.code, 1, "{}", run.both());
    let text = run.both();
    assert!(text.contains("cannot configure provider `aws`"), "{text}");
    assert!(text.contains("no valid AWS credentials"), "{text}");
    for source in [
        "AWS_ACCESS_KEY_ID",
        "~/.aws/credentials",
        "SSO",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "IMDS",
    ] {
        assert!(text.contains(source), "missing {source}: {text}");
    }
    // The diagnostic points at the provider block.
    assert!(text.contains("main.hcl:1"), "{text}");
}

#[test]
fn a_region_nobody_set_is_a_diagnostic() {
    let moto = Moto::start();
    let stack = moto.stack();
    stack.write("resource \"aws_vpc\" \"main\" {\n  cidr_block = \"10.0.0.0/16\"\n}\n");
    let run = stack.gantry_env(&["plan"], &[("AWS_REGION", "")]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(run.both().contains("no AWS region"), "{}", run.both());
}

#[test]
fn a_provider_configured_from_a_resource_attribute_is_refused_at_plan() {
    let moto = Moto::start();
    let stack = moto.stack();
    stack.write(
        r#"
resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

provider "aws" {
  alias  = "odd"
  region = aws_vpc.main.id
}

resource "aws_vpc" "other" {
  provider   = aws.odd
  cidr_block = "10.1.0.0/16"
}
"#,
    );
    let run = stack.gantry(&["plan"]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.both()
            .contains("provider configuration `aws.odd` depends on values known only after apply"),
        "{}",
        run.both()
    );
}

#[test]
fn a_data_source_known_only_at_apply_is_read_then() {
    let moto = Moto::start();
    let stack = moto.stack();
    stack.write(
        r#"
resource "aws_s3_bucket" "b" {
  bucket = "gantry-late-data"
}

data "aws_iam_policy_document" "read" {
  statement {
    actions   = ["s3:GetObject"]
    resources = ["${aws_s3_bucket.b.arn}/*"]
  }
}

resource "aws_iam_policy" "read" {
  name   = "read-late-data"
  policy = data.aws_iam_policy_document.read.json
}
"#,
    );
    stack.apply();
    let arn = stack.state_id("aws_iam_policy.read");
    let iam = moto.iam();
    let policy = block_on(iam.get_policy().policy_arn(&arn).send()).expect("policy");
    let version = policy
        .policy()
        .and_then(|p| p.default_version_id())
        .expect("version")
        .to_owned();
    let doc = block_on(
        iam.get_policy_version()
            .policy_arn(&arn)
            .version_id(version)
            .send(),
    )
    .expect("version");
    let text = doc
        .policy_version()
        .and_then(|v| v.document())
        .unwrap_or_default();
    // IAM returns policy documents URL-encoded.
    let text = percent_encoding::percent_decode_str(text).decode_utf8_lossy();
    assert!(
        text.contains("arn:aws:s3:::gantry-late-data/*"),
        "policy document: {text}"
    );
    stack.destroy();
}

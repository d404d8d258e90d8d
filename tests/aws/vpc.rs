//! `aws_vpc`: the whole lifecycle against moto.

use crate::support::{block_on, Moto};

const V1: &str = r#"
provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = { owner = "ml-platform" }
  }
}

resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
  tags       = { Name = "training" }
}
"#;

#[test]
fn vpc_lifecycle() {
    let moto = Moto::start();
    let ec2 = moto.ec2();
    let stack = moto.stack();
    stack.write(V1);
    stack.apply();
    let id = stack.state_id("aws_vpc.main");

    // Read back with an independent client: the CIDR, the user's, default and gantry tags.
    let vpc = block_on(ec2.describe_vpcs().vpc_ids(&id).send()).expect("describe");
    let vpc = &vpc.vpcs()[0];
    assert_eq!(vpc.cidr_block(), Some("10.0.0.0/16"));
    let tag = |k: &str| {
        vpc.tags()
            .iter()
            .find(|t| t.key() == Some(k))
            .and_then(|t| t.value())
            .map(str::to_owned)
    };
    assert_eq!(tag("Name").as_deref(), Some("training"));
    assert_eq!(tag("owner").as_deref(), Some("ml-platform"));
    assert_eq!(tag("gantry:address").as_deref(), Some("aws_vpc.main"));
    assert!(stack
        .state_attr("aws_vpc.main", "main_route_table_id")
        .is_string());
    stack.assert_no_changes();

    // In-place update: tags and DNS hostnames, same VPC.
    stack.write(&V1.replace(
        r#"tags       = { Name = "training" }"#,
        "tags = { Name = \"training-2\" }\n  enable_dns_hostnames = true",
    ));
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2);
    assert!(
        plan.stdout.contains("will be updated in-place"),
        "{}",
        plan.stdout
    );
    stack.apply();
    assert_eq!(stack.state_id("aws_vpc.main"), id);
    let attr = block_on(
        ec2.describe_vpc_attribute()
            .vpc_id(&id)
            .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames)
            .send(),
    )
    .expect("attribute");
    assert_eq!(
        attr.enable_dns_hostnames().and_then(|v| v.value()),
        Some(true)
    );
    stack.assert_no_changes();

    // Out-of-band change: plan shows the drift and the update that undoes it.
    block_on(
        ec2.create_tags()
            .resources(&id)
            .tags(
                aws_sdk_ec2::types::Tag::builder()
                    .key("Name")
                    .value("hand-edited")
                    .build(),
            )
            .send(),
    )
    .expect("tag");
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2, "{}", plan.stdout);
    assert!(plan.stdout.contains("hand-edited"), "{}", plan.stdout);
    stack.apply();
    stack.assert_no_changes();

    // Import: forget it, import it by id, and the plan is empty again.
    stack.reimport("aws_vpc.main", &id);
    stack.assert_no_changes();

    // Out-of-band delete: apply creates a new one.
    block_on(ec2.delete_vpc().vpc_id(&id).send()).expect("delete");
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2);
    assert!(plan.stdout.contains("will be created"), "{}", plan.stdout);
    stack.apply();
    let new_id = stack.state_id("aws_vpc.main");
    assert_ne!(new_id, id);

    // A force-new change replaces it.
    stack.write(&V1.replace("10.0.0.0/16", "10.1.0.0/16"));
    let (_, plan) = stack.plan_code();
    assert!(plan.stdout.contains("must be replaced"), "{}", plan.stdout);
    stack.apply();
    assert_ne!(stack.state_id("aws_vpc.main"), new_id);

    // Destroy leaves nothing gantry made.
    stack.destroy();
    let left = block_on(
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
    assert!(left.vpcs().is_empty(), "left behind: {:?}", left.vpcs());
}

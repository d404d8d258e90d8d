//! Replacements against moto, in both orders, read back through the SDK:
//! - delete-then-create: a subnet whose CIDR changes while an instance sits in it. The
//!   instance (its `subnet_id` forces replacement) is deleted first, then the old subnet,
//!   then the new subnet is made and the instance again in it.
//! - create-before-destroy: a security group replaced while an instance uses it. The new
//!   group exists first, the instance switches to it in place, and only then does the old
//!   group go.

use crate::support::{block_on, Moto, Stack};
use aws_sdk_ec2::types::{Filter, InstanceStateName};

fn subnet_stack(cidr: &str) -> String {
    format!(
        r#"
resource "aws_vpc" "main" {{
  cidr_block = "10.0.0.0/16"
}}

resource "aws_subnet" "a" {{
  vpc_id            = aws_vpc.main.id
  cidr_block        = "{cidr}"
  availability_zone = "us-east-1a"
}}

resource "aws_instance" "node" {{
  ami           = "ami-12c6146b"
  instance_type = "t3.micro"
  subnet_id     = aws_subnet.a.id
}}
"#
    )
}

/// The instances moto runs (not terminated), with their subnets.
fn running(moto: &Moto) -> Vec<(String, String)> {
    let ec2 = moto.ec2();
    block_on(async {
        let out = ec2
            .describe_instances()
            .send()
            .await
            .expect("DescribeInstances");
        out.reservations()
            .iter()
            .flat_map(|r| r.instances())
            .filter(|i| {
                !matches!(
                    i.state().and_then(|s| s.name()),
                    Some(InstanceStateName::Terminated | InstanceStateName::ShuttingDown)
                )
            })
            .map(|i| {
                (
                    i.instance_id().unwrap_or_default().to_owned(),
                    i.subnet_id().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    })
}

fn subnets(moto: &Moto, vpc: &str) -> Vec<(String, String)> {
    let ec2 = moto.ec2();
    block_on(async {
        let out = ec2
            .describe_subnets()
            .filters(Filter::builder().name("vpc-id").values(vpc).build())
            .send()
            .await
            .expect("DescribeSubnets");
        out.subnets()
            .iter()
            .map(|s| {
                (
                    s.subnet_id().unwrap_or_default().to_owned(),
                    s.cidr_block().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    })
}

fn plan_shows(stack: &Stack<'_>, needles: &[&str]) {
    let (code, plan) = stack.plan_code();
    assert_eq!(code, 2, "{}", plan.both());
    for n in needles {
        assert!(
            plan.stdout.contains(n),
            "plan lacks {n:?}:\n{}",
            plan.stdout
        );
    }
}

#[test]
fn a_subnet_replaced_under_an_instance_takes_the_instance_with_it_in_order() {
    let moto = Moto::start();
    let stack = moto.stack();
    stack.write(&subnet_stack("10.0.1.0/24"));
    stack.apply();
    let vpc = stack.state_id("aws_vpc.main");
    let (old_subnet, old_instance) = (
        stack.state_id("aws_subnet.a"),
        stack.state_id("aws_instance.node"),
    );
    stack.write(&subnet_stack("10.0.2.0/24"));
    plan_shows(
        &stack,
        &[
            "aws_subnet.a must be replaced",
            "aws_instance.node must be replaced",
            "# forces replacement",
        ],
    );
    let run = stack.apply();
    // The order the log shows: the instance goes before its subnet, and comes back after.
    let pos = |needle: &str| {
        run.stderr
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in:\n{}", run.stderr))
    };
    assert!(pos("aws_instance.node: Destruction complete") < pos("aws_subnet.a: Destroying"));
    assert!(pos("aws_subnet.a: Creation complete") < pos("aws_instance.node: Creating"));
    let (new_subnet, new_instance) = (
        stack.state_id("aws_subnet.a"),
        stack.state_id("aws_instance.node"),
    );
    assert_ne!(new_subnet, old_subnet);
    assert_ne!(new_instance, old_instance);
    assert_eq!(
        subnets(&moto, &vpc),
        [(new_subnet.clone(), "10.0.2.0/24".to_owned())]
    );
    assert_eq!(running(&moto), [(new_instance, new_subnet)]);
    stack.assert_no_changes();
    stack.destroy();
    assert!(running(&moto).is_empty());
}

fn group_stack(description: &str) -> String {
    format!(
        r#"
resource "aws_vpc" "main" {{
  cidr_block = "10.1.0.0/16"
}}

resource "aws_subnet" "a" {{
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.1.1.0/24"
}}

resource "aws_security_group" "node" {{
  name_prefix = "node-"
  description = "{description}"
  vpc_id      = aws_vpc.main.id

  lifecycle {{
    create_before_destroy = true
  }}
}}

resource "aws_instance" "node" {{
  ami                    = "ami-12c6146b"
  instance_type          = "t3.micro"
  subnet_id              = aws_subnet.a.id
  vpc_security_group_ids = [aws_security_group.node.id]
}}
"#
    )
}

fn instance_groups(moto: &Moto, id: &str) -> Vec<String> {
    let ec2 = moto.ec2();
    block_on(async {
        let out = ec2
            .describe_instances()
            .instance_ids(id)
            .send()
            .await
            .expect("DescribeInstances");
        out.reservations()
            .iter()
            .flat_map(|r| r.instances())
            .flat_map(|i| i.security_groups())
            .filter_map(|g| g.group_id().map(str::to_owned))
            .collect()
    })
}

fn group_exists(moto: &Moto, id: &str) -> bool {
    let ec2 = moto.ec2();
    block_on(async {
        ec2.describe_security_groups()
            .group_ids(id)
            .send()
            .await
            .is_ok_and(|o| !o.security_groups().is_empty())
    })
}

#[test]
fn create_before_destroy_moves_users_to_the_new_group_before_the_old_one_goes() {
    let moto = Moto::start();
    let stack = moto.stack();
    stack.write(&group_stack("nodes, v1"));
    stack.apply();
    let instance = stack.state_id("aws_instance.node");
    let old_group = stack.state_id("aws_security_group.node");
    stack.write(&group_stack("nodes, v2"));
    plan_shows(
        &stack,
        &[
            "aws_security_group.node must be replaced",
            "aws_instance.node will be updated in-place",
        ],
    );
    let run = stack.apply();
    let pos = |needle: &str| {
        run.stderr
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} not in:\n{}", run.stderr))
    };
    assert!(
        pos("aws_security_group.node: Creation complete") < pos("aws_instance.node: Modifying")
    );
    assert!(
        pos("aws_instance.node: Modifications complete")
            < pos("aws_security_group.node: Destroying")
    );
    let new_group = stack.state_id("aws_security_group.node");
    assert_ne!(new_group, old_group);
    assert_eq!(
        stack.state_id("aws_instance.node"),
        instance,
        "updated in place"
    );
    assert_eq!(
        instance_groups(&moto, &instance),
        std::slice::from_ref(&new_group)
    );
    assert!(
        !group_exists(&moto, &old_group),
        "the old group was deleted"
    );
    assert!(group_exists(&moto, &new_group));
    assert!(
        !stack
            .state_addresses()
            .iter()
            .any(|a| a.contains("deposed")),
        "no deposed object left"
    );
    stack.assert_no_changes();
    stack.destroy();
}

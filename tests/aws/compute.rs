//! `aws_launch_template` and `aws_instance` against moto: the lifecycle of each, a
//! RunInstances capacity error (injected by the launcher) that must come out as a Capacity
//! error naming the instance type and zone with nothing left behind, and crash recovery of
//! instances a killed run launched (found by ClientToken, else by the gantry:address tag).
//! Every result is read back with the SDK, never through gantry.
//!
//! moto gaps met here (also in providers/aws/README.md):
//! - moto keeps a launch template's network interfaces as given (so `interface_type = "efa"`
//!   is checked in the template), and an instance launched from the template gets the
//!   template's type, AMI and (through the launcher) placement group; but moto ignores the
//!   template's network interfaces (the instance lands in the default subnet of its zone)
//!   and makes one interface of type `interface` whatever is asked, in a template or in
//!   RunInstances: no EFA, no second network card.
//! - DescribeInstances cannot tell which launch template or spot options an instance was
//!   launched with (moto sets no `aws:ec2launchtemplate:*` tags and makes no spot request),
//!   so import is tested on an instance launched from an AMI; the spot instance is checked
//!   through its `InstanceLifecycle`.
//! - The `client-token` filter of DescribeInstances is not implemented by moto (HTTP 500):
//!   crash recovery finds instances by their gantry:address tag and prefers the one with the
//!   run's ClientToken.

use crate::support::{block_on, Moto, Stack};
use aws_sdk_ec2::types::{Filter, InstanceStateName, Tag};

fn tag_of(tags: &[Tag], key: &str) -> Option<String> {
    tags.iter()
        .find(|t| t.key() == Some(key))
        .and_then(|t| t.value())
        .map(str::to_owned)
}

/// The plan must show changes and contain every one of `needles`.
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

/// What the instances need, as stack resources: a VPC with a subnet in us-east-1a, an EFA
/// security group (all traffic within itself) and an SSH one, an instance profile and a
/// cluster placement group (the launcher's fake: moto has none).
const BASE: &str = r#"
provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = { owner = "ml-platform" }
  }
}

resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.0.1.0/24"
  availability_zone = "us-east-1a"
}

resource "aws_security_group" "efa" {
  name   = "efa"
  vpc_id = aws_vpc.main.id

  ingress {
    from_port = 0
    to_port   = 0
    protocol  = "-1"
    self      = true
  }

  egress {
    from_port = 0
    to_port   = 0
    protocol  = "-1"
    self      = true
  }
}

resource "aws_security_group" "ssh" {
  name   = "ssh"
  vpc_id = aws_vpc.main.id

  ingress {
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = ["10.0.0.0/8"]
  }
}

resource "aws_iam_role" "node" {
  name = "gpu-node"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }]
  })
}

resource "aws_iam_instance_profile" "node" {
  name = "gpu-node"
  role = aws_iam_role.node.name
}

resource "aws_placement_group" "p5" {
  name     = "p5-cluster"
  strategy = "cluster"
}
"#;

/// An AMI and key pairs: no resource type makes them (AMIs are looked up, key pairs made
/// with the SDK).
fn ami_and_keys(moto: &Moto) -> String {
    let ec2 = moto.ec2();
    for key in ["ops", "ops-2"] {
        block_on(ec2.create_key_pair().key_name(key).send()).expect("key pair");
    }
    moto.an_ami()
}

/// Nothing gantry made is left: no VPC, launch template or live instance with its tag.
fn assert_nothing_left(ec2: &aws_sdk_ec2::Client) {
    let tagged = || {
        Filter::builder()
            .name("tag-key")
            .values("gantry:address")
            .build()
    };
    let vpcs = block_on(ec2.describe_vpcs().filters(tagged()).send()).expect("vpcs");
    assert!(vpcs.vpcs().is_empty(), "left behind: {:?}", vpcs.vpcs());
    let templates =
        block_on(ec2.describe_launch_templates().filters(tagged()).send()).expect("templates");
    assert!(
        templates.launch_templates().is_empty(),
        "left behind: {:?}",
        templates.launch_templates()
    );
    let live = live_instances(ec2);
    assert!(live.is_empty(), "left running: {live:?}");
}

// ---- aws_launch_template ----

const LAUNCH_TEMPLATE: &str = r#"
resource "aws_launch_template" "gpu" {
  name          = "p5-nodes"
  description   = "H100 training nodes"
  image_id      = "__AMI__"
  instance_type = "p5.48xlarge"
  key_name      = "ops"
  user_data     = "IyEvYmluL2Jhc2gKZWNobyBoaQo="

  iam_instance_profile {
    name = aws_iam_instance_profile.node.name
  }

  placement {
    group_name        = aws_placement_group.p5.name
    availability_zone = aws_subnet.a.availability_zone
  }

  network_interfaces {
    device_index          = 0
    network_card_index    = 0
    interface_type        = "efa"
    subnet_id             = aws_subnet.a.id
    security_groups       = [aws_security_group.efa.id]
    delete_on_termination = true
  }

  network_interfaces {
    device_index       = 1
    network_card_index = 1
    interface_type     = "efa"
    subnet_id          = aws_subnet.a.id
    security_groups    = [aws_security_group.efa.id]
  }

  block_device_mappings {
    device_name = "/dev/xvda"
    ebs {
      volume_size           = 500
      volume_type           = "gp3"
      iops                  = 6000
      throughput            = 500
      encrypted             = true
      delete_on_termination = true
    }
  }

  instance_market_options {
    market_type = "spot"
    spot_options {
      max_price                      = "40.5"
      instance_interruption_behavior = "terminate"
      spot_instance_type             = "one-time"
    }
  }

  tag_specifications {
    resource_type = "instance"
    tags          = { role = "trainer" }
  }

  metadata_options {
    http_tokens                 = "required"
    http_put_response_hop_limit = 2
  }

  tags = { Name = "p5" }
}
"#;

#[test]
fn launch_template_lifecycle() {
    let moto = Moto::start();
    let ec2 = moto.ec2();
    let ami = ami_and_keys(&moto);
    let stack = moto.stack();
    let v1 = format!("{BASE}{}", LAUNCH_TEMPLATE.replace("__AMI__", &ami));
    stack.write(&v1);
    stack.apply();
    let addr = "aws_launch_template.gpu";
    let id = stack.state_id(addr);
    let (subnet, efa) = (
        stack.state_id("aws_subnet.a"),
        stack.state_id("aws_security_group.efa"),
    );
    assert_eq!(stack.state_attr(addr, "latest_version"), 1);

    // Read back: the template's tags, and its version's arguments, EFA interfaces included.
    let t = block_on(
        ec2.describe_launch_templates()
            .launch_template_ids(&id)
            .send(),
    )
    .expect("describe");
    let t = &t.launch_templates()[0];
    assert_eq!(t.launch_template_name(), Some("p5-nodes"));
    assert_eq!(tag_of(t.tags(), "Name").as_deref(), Some("p5"));
    assert_eq!(tag_of(t.tags(), "owner").as_deref(), Some("ml-platform"));
    assert_eq!(tag_of(t.tags(), "gantry:address").as_deref(), Some(addr));
    let latest = |ec2: &aws_sdk_ec2::Client| {
        let v = block_on(
            ec2.describe_launch_template_versions()
                .launch_template_id(&id)
                .versions("$Latest")
                .send(),
        )
        .expect("versions");
        v.launch_template_versions()[0].clone()
    };
    let v = latest(&ec2);
    assert_eq!(v.version_description(), Some("H100 training nodes"));
    let d = v.launch_template_data().expect("data");
    assert_eq!(d.instance_type().map(|t| t.as_str()), Some("p5.48xlarge"));
    assert_eq!(d.image_id(), Some(ami.as_str()));
    assert_eq!(
        d.iam_instance_profile().and_then(|p| p.name()),
        Some("gpu-node")
    );
    let placement = d.placement().expect("placement");
    assert_eq!(placement.group_name(), Some("p5-cluster"));
    assert_eq!(placement.availability_zone(), Some("us-east-1a"));
    let nics = d.network_interfaces();
    assert_eq!(nics.len(), 2);
    assert!(
        nics.iter().all(|n| n.interface_type() == Some("efa")),
        "{nics:?}"
    );
    assert!(
        nics.iter().all(|n| n.subnet_id() == Some(subnet.as_str())),
        "{nics:?}"
    );
    assert_eq!(nics[1].network_card_index(), Some(1));
    assert_eq!(nics[0].groups(), std::slice::from_ref(&efa));
    let ebs = d.block_device_mappings()[0].ebs().expect("ebs");
    assert_eq!(
        (ebs.volume_size(), ebs.iops(), ebs.throughput()),
        (Some(500), Some(6000), Some(500))
    );
    let market = d.instance_market_options().expect("market options");
    assert_eq!(market.market_type().map(|m| m.as_str()), Some("spot"));
    assert_eq!(
        market.spot_options().and_then(|s| s.max_price()),
        Some("40.5")
    );
    assert_eq!(
        d.metadata_options()
            .and_then(|m| m.http_tokens())
            .map(|t| t.as_str()),
        Some("required")
    );
    stack.assert_no_changes();

    // Import: forget it, import it by id, and the plan is empty again.
    stack.reimport(addr, &id);
    stack.assert_no_changes();

    // In-place update: a new version (H100 -> A100), made the default; retagged in place.
    let v2 = v1
        .replace(
            r#"instance_type = "p5.48xlarge""#,
            "instance_type = \"p4d.24xlarge\"\n  update_default_version = true",
        )
        .replace(r#"tags = { Name = "p5" }"#, r#"tags = { Name = "p4d" }"#);
    stack.write(&v2);
    assert_plan_shows(&stack, &["will be updated in-place", "p4d.24xlarge"]);
    stack.apply();
    assert_eq!(stack.state_id(addr), id);
    let v = latest(&ec2);
    assert_eq!(v.version_number(), Some(2));
    assert_eq!(v.default_version(), Some(true));
    let d = v.launch_template_data().expect("data");
    assert_eq!(d.instance_type().map(|t| t.as_str()), Some("p4d.24xlarge"));
    assert_eq!(
        d.network_interfaces().len(),
        2,
        "a new version carries every argument"
    );
    let t = block_on(
        ec2.describe_launch_templates()
            .launch_template_ids(&id)
            .send(),
    )
    .expect("describe");
    assert_eq!(t.launch_templates()[0].default_version_number(), Some(2));
    // (moto's DescribeLaunchTemplates shows the tags of create time: DescribeTags is current.)
    let tags = block_on(
        ec2.describe_tags()
            .filters(Filter::builder().name("resource-id").values(&id).build())
            .send(),
    )
    .expect("tags");
    let name = tags
        .tags()
        .iter()
        .find(|t| t.key() == Some("Name"))
        .and_then(|t| t.value());
    assert_eq!(name, Some("p4d"));
    assert_eq!(stack.state_attr(addr, "latest_version"), 2);
    assert_eq!(stack.state_attr(addr, "default_version"), 2);
    stack.assert_no_changes();

    // Out-of-band change: someone adds a version with another type; the plan shows it and
    // the apply makes a version with the configured type again.
    block_on(
        ec2.create_launch_template_version()
            .launch_template_id(&id)
            .launch_template_data(
                aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                    .image_id(&ami)
                    .instance_type("g5.48xlarge".into())
                    .build(),
            )
            .send(),
    )
    .expect("version");
    assert_plan_shows(&stack, &["g5.48xlarge", "p4d.24xlarge"]);
    stack.apply();
    let v = latest(&ec2);
    assert_eq!(v.version_number(), Some(4));
    assert_eq!(
        v.launch_template_data()
            .and_then(|d| d.instance_type())
            .map(|t| t.as_str()),
        Some("p4d.24xlarge")
    );
    stack.assert_no_changes();

    // Out-of-band delete: apply creates it again.
    block_on(ec2.delete_launch_template().launch_template_id(&id).send()).expect("delete");
    assert_plan_shows(&stack, &["will be created"]);
    stack.apply();
    let new_id = stack.state_id(addr);
    assert_ne!(new_id, id);
    stack.assert_no_changes();

    // A new name replaces it.
    stack.write(&v2.replace(r#""p5-nodes""#, r#""a100-nodes""#));
    assert_plan_shows(&stack, &["must be replaced"]);
    stack.apply();
    assert_ne!(stack.state_id(addr), new_id);

    stack.destroy();
    assert_nothing_left(&ec2);
}

// ---- aws_instance ----

const INSTANCES: &str = r##"
resource "aws_instance" "gpu" {
  ami                    = "__AMI__"
  instance_type          = "p5.48xlarge"
  subnet_id              = aws_subnet.a.id
  vpc_security_group_ids = [aws_security_group.efa.id]
  key_name               = "ops"
  iam_instance_profile   = aws_iam_instance_profile.node.name
  placement_group        = aws_placement_group.p5.name
  ebs_optimized          = true
  user_data              = "#!/bin/bash\necho ready\n"

  root_block_device {
    volume_size = 200
    volume_type = "gp3"
  }

  tags = { Name = "trainer-0" }
}

resource "aws_launch_template" "efa" {
  name          = "p5-efa"
  image_id      = "__AMI__"
  instance_type = "p5.48xlarge"

  placement {
    group_name = aws_placement_group.p5.name
  }

  network_interfaces {
    device_index          = 0
    network_card_index    = 0
    interface_type        = "efa"
    subnet_id             = aws_subnet.a.id
    security_groups       = [aws_security_group.efa.id]
    delete_on_termination = true
  }
}

resource "aws_instance" "spot" {
  launch_template {
    id      = aws_launch_template.efa.id
    version = "$Latest"
  }

  instance_market_options {
    market_type = "spot"
    spot_options {
      max_price                      = "12.5"
      instance_interruption_behavior = "terminate"
      spot_instance_type             = "one-time"
    }
  }
}
"##;

/// The idempotency token the create of `address` carried, as state records it.
pub fn create_token(stack: &Stack<'_>, address: &str) -> String {
    let text = std::fs::read_to_string(stack.path().join(".gantry/state.json")).expect("state");
    let state: serde_json::Value = serde_json::from_str(&text).expect("state json");
    state["resources"][address]["create_token"]
        .as_str()
        .unwrap_or_else(|| panic!("no create_token for {address}:\n{text}"))
        .to_owned()
}

fn describe_instance(ec2: &aws_sdk_ec2::Client, id: &str) -> aws_sdk_ec2::types::Instance {
    let out = block_on(ec2.describe_instances().instance_ids(id).send()).expect("describe");
    out.reservations()[0].instances()[0].clone()
}

/// Instances gantry launched that are not terminated.
fn live_instances(ec2: &aws_sdk_ec2::Client) -> Vec<aws_sdk_ec2::types::Instance> {
    let out = block_on(
        ec2.describe_instances()
            .filters(
                Filter::builder()
                    .name("tag-key")
                    .values("gantry:address")
                    .build(),
            )
            .send(),
    )
    .expect("describe");
    out.reservations()
        .iter()
        .flat_map(|r| r.instances())
        .filter(|i| i.state().and_then(|s| s.name()) != Some(&InstanceStateName::Terminated))
        .cloned()
        .collect()
}

#[test]
fn instance_lifecycle() {
    let moto = Moto::start();
    let ec2 = moto.ec2();
    let ami = ami_and_keys(&moto);
    let stack = moto.stack();
    let v1 = format!("{BASE}{}", INSTANCES.replace("__AMI__", &ami));
    stack.write(&v1);
    stack.apply();
    let addr = "aws_instance.gpu";
    let id = stack.state_id(addr);
    let subnet = stack.state_id("aws_subnet.a");
    let (efa, ssh) = (
        stack.state_id("aws_security_group.efa"),
        stack.state_id("aws_security_group.ssh"),
    );

    // Read back: type, network, placement group, profile, EBS optimisation, root volume,
    // user data, tags.
    let i = describe_instance(&ec2, &id);
    assert_eq!(i.instance_type().map(|t| t.as_str()), Some("p5.48xlarge"));
    assert_eq!(
        i.state().and_then(|s| s.name()),
        Some(&InstanceStateName::Running)
    );
    assert_eq!(i.subnet_id(), Some(subnet.as_str()));
    assert_eq!(
        i.placement().and_then(|p| p.availability_zone()),
        Some("us-east-1a")
    );
    assert_eq!(
        i.placement().and_then(|p| p.group_name()),
        Some("p5-cluster")
    );
    assert_eq!(i.key_name(), Some("ops"));
    assert_eq!(i.ebs_optimized(), Some(true));
    assert!(
        i.iam_instance_profile()
            .and_then(|p| p.arn())
            .is_some_and(|a| a.ends_with("/gpu-node")),
        "{:?}",
        i.iam_instance_profile()
    );
    let groups: Vec<&str> = i
        .security_groups()
        .iter()
        .filter_map(|g| g.group_id())
        .collect();
    assert_eq!(groups, [efa.as_str()]);
    assert_eq!(tag_of(i.tags(), "Name").as_deref(), Some("trainer-0"));
    assert_eq!(tag_of(i.tags(), "owner").as_deref(), Some("ml-platform"));
    assert_eq!(tag_of(i.tags(), "gantry:address").as_deref(), Some(addr));
    assert_eq!(i.client_token(), Some(create_token(&stack, addr).as_str()));
    let root = i
        .block_device_mappings()
        .iter()
        .find(|m| m.device_name() == i.root_device_name())
        .and_then(|m| m.ebs())
        .and_then(|e| e.volume_id())
        .expect("root volume");
    let vol = block_on(ec2.describe_volumes().volume_ids(root).send()).expect("volume");
    assert_eq!(vol.volumes()[0].size(), Some(200));
    let user_data = block_on(
        ec2.describe_instance_attribute()
            .instance_id(&id)
            .attribute(aws_sdk_ec2::types::InstanceAttributeName::UserData)
            .send(),
    )
    .expect("user data");
    let encoded = user_data
        .user_data()
        .and_then(|u| u.value())
        .expect("user data value");
    // base64 of "#!/bin/bash\necho ready\n": gantry encodes the text it is given.
    assert_eq!(encoded, "IyEvYmluL2Jhc2gKZWNobyByZWFkeQo=");
    assert_eq!(stack.state_attr(addr, "instance_state"), "running");
    assert_eq!(
        stack.state_attr(addr, "private_ip").as_str(),
        i.private_ip_address()
    );
    assert!(stack
        .state_attr(addr, "primary_network_interface_id")
        .as_str()
        .is_some_and(|e| e.starts_with("eni-")));
    assert!(stack
        .state_attr(addr, "arn")
        .as_str()
        .is_some_and(|a| a.ends_with(&format!("instance/{id}"))));

    // The spot instance, from the EFA launch template: its type and placement group come
    // from the template, and it is on the spot market. (moto ignores the template's network
    // interfaces: the instance lands in the default subnet with one plain interface. See the
    // module comment.)
    let spot_id = stack.state_id("aws_instance.spot");
    let spot = describe_instance(&ec2, &spot_id);
    assert_eq!(
        spot.instance_type().map(|t| t.as_str()),
        Some("p5.48xlarge")
    );
    assert_eq!(spot.instance_lifecycle().map(|l| l.as_str()), Some("spot"));
    assert_eq!(
        spot.placement().and_then(|p| p.group_name()),
        Some("p5-cluster")
    );
    assert_eq!(stack.state_attr("aws_instance.spot", "ami"), ami.as_str());
    assert_eq!(
        stack.state_attr("aws_instance.spot", "subnet_id").as_str(),
        spot.subnet_id()
    );
    assert_eq!(
        stack.state_attr("aws_instance.spot", "placement_group"),
        "p5-cluster"
    );
    stack.assert_no_changes();

    // In-place update: H100 -> A100 (stop, modify, start), other security group, new tag.
    let v2 = v1
        .replace(r#""p5.48xlarge""#, r#""p4d.24xlarge""#)
        .replace("[aws_security_group.efa.id]", "[aws_security_group.ssh.id]")
        .replace(
            r#"tags = { Name = "trainer-0" }"#,
            r#"tags = { Name = "trainer-1" }"#,
        );
    stack.write(&v2);
    assert_plan_shows(&stack, &["will be updated in-place", "p4d.24xlarge"]);
    stack.apply();
    assert_eq!(stack.state_id(addr), id);
    let i = describe_instance(&ec2, &id);
    assert_eq!(i.instance_type().map(|t| t.as_str()), Some("p4d.24xlarge"));
    assert_eq!(
        i.state().and_then(|s| s.name()),
        Some(&InstanceStateName::Running)
    );
    let groups: Vec<&str> = i
        .security_groups()
        .iter()
        .filter_map(|g| g.group_id())
        .collect();
    assert_eq!(groups, [ssh.as_str()]);
    assert_eq!(tag_of(i.tags(), "Name").as_deref(), Some("trainer-1"));
    stack.assert_no_changes();

    // Out-of-band change: a hand-edited tag shows in the plan and is undone.
    block_on(
        ec2.create_tags()
            .resources(&id)
            .tags(Tag::builder().key("Name").value("hand-edited").build())
            .send(),
    )
    .expect("tag");
    assert_plan_shows(&stack, &["hand-edited"]);
    stack.apply();
    assert_eq!(
        tag_of(describe_instance(&ec2, &id).tags(), "Name").as_deref(),
        Some("trainer-1")
    );
    stack.assert_no_changes();

    // Import (an instance launched from an AMI: see the module comment).
    stack.reimport(addr, &id);
    stack.assert_no_changes();

    // Out-of-band delete: apply launches a new one.
    block_on(ec2.terminate_instances().instance_ids(&id).send()).expect("terminate");
    assert_plan_shows(&stack, &["will be created"]);
    stack.apply();
    let new_id = stack.state_id(addr);
    assert_ne!(new_id, id);
    stack.assert_no_changes();

    // A force-new change (another key pair) replaces it.
    stack.write(&v2.replace(r#""ops""#, r#""ops-2""#));
    assert_plan_shows(&stack, &["must be replaced"]);
    stack.apply();
    assert_ne!(stack.state_id(addr), new_id);

    stack.destroy();
    assert_nothing_left(&ec2);
}

const CAPACITY: &str = r#"
resource "aws_instance" "gpu" {
  ami           = "__AMI__"
  instance_type = "p5.48xlarge"
  subnet_id     = aws_subnet.a.id
}
"#;

/// No p5.48xlarge capacity in us-east-1a (the launcher's fault): apply fails with a
/// Capacity error that names the type and the zone (which the request only gave through
/// the subnet), launches nothing and records no instance in state.
#[test]
fn instance_capacity_error_names_type_and_zone() {
    let moto = Moto::start();
    let ec2 = moto.ec2();
    let ami = ami_and_keys(&moto);
    moto.set_faults(&serde_json::json!({
        "capacity": [{"instance_type": "p5.48xlarge", "zone": "us-east-1a"}]
    }));
    let stack = moto.stack();
    stack.write(&format!("{BASE}{}", CAPACITY.replace("__AMI__", &ami)));
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 1, "{}", run.both());
    let out = run.both();
    for needle in [
        "error class: capacity",
        "InsufficientInstanceCapacity",
        "no capacity for p5.48xlarge in us-east-1a",
    ] {
        assert!(out.contains(needle), "output lacks {needle:?}:\n{out}");
    }
    // The same in the JSON diagnostics, for CI.
    let run = stack.gantry(&["apply", "--auto-approve", "--json"]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.both()
            .contains("no capacity for p5.48xlarge in us-east-1a"),
        "{}",
        run.both()
    );
    let all = block_on(ec2.describe_instances().send()).expect("describe");
    assert!(
        all.reservations().is_empty(),
        "launched anyway: {:?}",
        all.reservations()
    );
    let state = stack.state_addresses();
    assert!(state.iter().any(|a| a == "aws_subnet.a"), "{state:?}");
    assert!(!state.iter().any(|a| a == "aws_instance.gpu"), "{state:?}");

    // Capacity comes back: the same stack applies; destroy leaves nothing.
    moto.set_faults(&serde_json::json!({}));
    stack.apply();
    assert_eq!(live_instances(&ec2).len(), 1);
    stack.destroy();
    assert_nothing_left(&ec2);
}

const RECOVERY: &str = r#"
resource "aws_instance" "by_token" {
  ami           = "__AMI__"
  instance_type = "p5.48xlarge"
  subnet_id     = aws_subnet.a.id
}

resource "aws_instance" "by_tag" {
  ami           = "__AMI__"
  instance_type = "p5.48xlarge"
  subnet_id     = aws_subnet.a.id
}

resource "aws_instance" "never_launched" {
  ami           = "__AMI__"
  instance_type = "p5.48xlarge"
  subnet_id     = aws_subnet.a.id
}
"#;

/// A run killed between RunInstances and recording the result leaves a journal intent and
/// a running instance. The next run must adopt that instance (by its ClientToken, EC2's own
/// idempotency token) instead of launching a second one, launch only what was never
/// launched, and never adopt an instance another create launched for the same address (the
/// gantry:address tag alone proves nothing: it may be a deposed predecessor's or another
/// stack's).
#[test]
fn instance_crash_recovery_adopts_what_a_killed_run_launched() {
    let moto = Moto::start();
    let ec2 = moto.ec2();
    let ami = ami_and_keys(&moto);
    let stack = moto.stack();
    // The network exists (an earlier apply); the killed run was launching the instances.
    stack.write(BASE);
    stack.apply();
    let subnet = stack.state_id("aws_subnet.a");
    let state: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(stack.path().join(".gantry/state.json")).expect("state"),
    )
    .expect("state json");
    let launch = |address: &str, token: &str| {
        let out = block_on(
            ec2.run_instances()
                .image_id(&ami)
                .instance_type("p5.48xlarge".into())
                .subnet_id(&subnet)
                .min_count(1)
                .max_count(1)
                .client_token(token)
                .tag_specifications(
                    aws_sdk_ec2::types::TagSpecification::builder()
                        .resource_type(aws_sdk_ec2::types::ResourceType::Instance)
                        .tags(Tag::builder().key("gantry:address").value(address).build())
                        .build(),
                )
                .send(),
        )
        .expect("run instances");
        out.instances()[0].instance_id().expect("id").to_owned()
    };
    let by_token = launch(
        "aws_instance.by_token",
        "11111111-1111-4111-8111-111111111111",
    );
    // Launched by another create (another token) for the same address: only the address tag
    // ties it to the address, which does not make it this create's.
    let stray = launch(
        "aws_instance.by_tag",
        "33333333-3333-4333-8333-333333333333",
    );
    let intent = |address: &str, token: &str| {
        serde_json::json!({"op": "intent", "address": address, "type": "aws_instance", "provider": "aws", "token": token})
            .to_string()
    };
    let journal = [
        serde_json::json!({"op": "begin", "lineage": state["lineage"], "base_serial": state["serial"]}).to_string(),
        intent("aws_instance.by_token", "11111111-1111-4111-8111-111111111111"),
        intent("aws_instance.by_tag", "22222222-2222-4222-8222-222222222222"),
        intent("aws_instance.never_launched", "44444444-4444-4444-8444-444444444444"),
    ];
    std::fs::write(
        stack.path().join(".gantry/journal.ndjson"),
        journal.join("\n") + "\n",
    )
    .expect("journal");

    stack.write(&format!("{BASE}{}", RECOVERY.replace("__AMI__", &ami)));
    let run = stack.apply();
    assert_eq!(
        stack.state_id("aws_instance.by_token"),
        by_token,
        "{}",
        run.both()
    );
    let by_tag = stack.state_id("aws_instance.by_tag");
    assert_ne!(
        by_tag,
        stray,
        "adopted another create's instance:\n{}",
        run.both()
    );
    let launched = stack.state_id("aws_instance.never_launched");
    let mut live: Vec<String> = live_instances(&ec2)
        .iter()
        .filter_map(|i| i.instance_id().map(str::to_owned))
        .collect();
    live.sort();
    let mut expected = vec![by_token, by_tag, launched, stray.clone()];
    expected.sort();
    assert_eq!(
        live, expected,
        "one instance per address, none launched twice, the stray left alone"
    );
    stack.assert_no_changes();
    // The stray is not the stack's to delete: its owner (here, the test) removes it.
    block_on(ec2.terminate_instances().instance_ids(&stray).send()).expect("terminate");
    stack.destroy();
    assert_nothing_left(&ec2);
}

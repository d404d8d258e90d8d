//! The reusable stack modules in stacks/aws and the two AI examples built from them
//! (examples/llm-training-aws, examples/inference-aws), applied against moto as a user
//! would: a small root stack calls each module by a relative `source`, the result is read
//! back with the AWS SDK, a second plan must be empty, and destroy must leave nothing.
//!
//! What moto cannot show (providers/aws/README.md): instances launched from a template
//! get one plain interface whatever the template says, so EFA is checked in the launch
//! templates; placement groups, FSx and Service Quotas are the launcher's fakes.

use crate::support::{block_on, repo_root, Moto, Stack};
use aws_sdk_ec2::types::Filter;
use std::path::{Component, Path, PathBuf};

const PROVIDER: &str = r#"
provider "aws" {
  region = "us-east-1"
  default_tags {
    tags = { project = "stacks-test" }
  }
}
"#;

/// `to` relative to `from` (both made absolute), as module sources must be written:
/// `../../work/main`.
fn relative(from: &Path, to: &Path) -> String {
    let canon = |p: &Path| p.canonicalize().unwrap_or_else(|_| p.to_path_buf());
    let (from, to) = (canon(from), canon(to));
    let f: Vec<Component<'_>> = from.components().collect();
    let t: Vec<Component<'_>> = to.components().collect();
    let common = f.iter().zip(&t).take_while(|(a, b)| a == b).count();
    let mut rel = PathBuf::new();
    for _ in common..f.len() {
        rel.push("..");
    }
    for c in &t[common..] {
        rel.push(c.as_os_str());
    }
    let rel = rel.to_string_lossy().into_owned();
    if rel.starts_with("..") {
        rel
    } else {
        format!("./{rel}")
    }
}

/// Writes a root stack whose `__STACKS__` stands for the repository's stacks/aws.
fn write_root(stack: &Stack<'_>, body: &str) {
    let stacks = format!("{}/stacks/aws", relative(stack.path(), &repo_root()));
    stack.write(&format!(
        "{PROVIDER}{}",
        body.replace("__STACKS__", &stacks)
    ));
}

/// Copies an example's `*.hcl` into the stack directory, its `../../stacks/` sources
/// pointed at the repository's.
fn write_example(stack: &Stack<'_>, name: &str) {
    let dir = repo_root().join("examples").join(name);
    let stacks = format!("\"{}/stacks/", relative(stack.path(), &repo_root()));
    let mut files = 0;
    for entry in std::fs::read_dir(&dir).expect("example dir") {
        let path = entry.expect("entry").path();
        if path.extension().and_then(|e| e.to_str()) != Some("hcl") {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("example file");
        let file = path.file_name().expect("file name");
        std::fs::write(
            stack.path().join(file),
            text.replace("\"../../stacks/", &stacks),
        )
        .expect("write example file");
        files += 1;
    }
    assert!(files > 0, "no .hcl files in {}", dir.display());
}

/// A root output as JSON.
fn output(stack: &Stack<'_>, name: &str) -> serde_json::Value {
    let run = stack.gantry(&["output", name, "--json"]);
    assert_eq!(run.code, 0, "{}", run.both());
    serde_json::from_str(run.stdout.trim()).expect("output json")
}

fn output_str(stack: &Stack<'_>, name: &str) -> String {
    output(stack, name)
        .as_str()
        .unwrap_or_else(|| panic!("output {name} is not a string"))
        .to_owned()
}

fn output_strs(stack: &Stack<'_>, name: &str) -> Vec<String> {
    output(stack, name)
        .as_array()
        .unwrap_or_else(|| panic!("output {name} is not a list"))
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect()
}

/// Quotas high enough for any of these stacks (the plan's quota pre-flight reads them).
fn generous_quotas(moto: &Moto) {
    moto.set_faults(&serde_json::json!({
        "ec2_quotas": {
            "L-417A185B": 2048.0,
            "L-7212CCBC": 2048.0,
            "L-DB2E81BA": 2048.0,
            "L-3819A6DF": 2048.0,
            "L-1216C47A": 2048.0
        }
    }));
}

fn tagged() -> Filter {
    Filter::builder()
        .name("tag-key")
        .values("gantry:address")
        .build()
}

/// Managed policies attached to a role, by ARN.
fn attached(moto: &Moto, role: &str) -> Vec<String> {
    let out = block_on(
        moto.iam()
            .list_attached_role_policies()
            .role_name(role)
            .send(),
    )
    .expect("attached policies");
    let mut arns: Vec<String> = out
        .attached_policies()
        .iter()
        .filter_map(|p| p.policy_arn().map(str::to_owned))
        .collect();
    arns.sort();
    arns
}

/// Nothing any of these stacks makes is left in the account.
fn assert_nothing_left(moto: &Moto) {
    let ec2 = moto.ec2();
    let vpcs = block_on(ec2.describe_vpcs().filters(tagged()).send()).expect("vpcs");
    assert!(vpcs.vpcs().is_empty(), "VPCs left: {:?}", vpcs.vpcs());
    let subnets = block_on(ec2.describe_subnets().filters(tagged()).send()).expect("subnets");
    assert!(subnets.subnets().is_empty(), "subnets left");
    let nats = block_on(ec2.describe_nat_gateways().send()).expect("nat gateways");
    let live_nats: Vec<_> = nats
        .nat_gateways()
        .iter()
        .filter(|n| {
            !matches!(
                n.state(),
                Some(aws_sdk_ec2::types::NatGatewayState::Deleted)
                    | Some(aws_sdk_ec2::types::NatGatewayState::Deleting)
            )
        })
        .collect();
    assert!(live_nats.is_empty(), "NAT gateways left: {live_nats:?}");
    let eips = block_on(ec2.describe_addresses().send()).expect("addresses");
    assert!(
        eips.addresses().is_empty(),
        "addresses left: {:?}",
        eips.addresses()
    );
    let templates =
        block_on(ec2.describe_launch_templates().filters(tagged()).send()).expect("templates");
    assert!(
        templates.launch_templates().is_empty(),
        "launch templates left"
    );
    let live = block_on(
        ec2.describe_instances()
            .filters(
                Filter::builder()
                    .name("instance-state-name")
                    .values("pending")
                    .values("running")
                    .values("stopped")
                    .build(),
            )
            .send(),
    )
    .expect("instances");
    assert!(live.reservations().is_empty(), "instances left");
    let clusters = block_on(moto.eks().list_clusters().send()).expect("clusters");
    assert!(clusters.clusters().is_empty(), "clusters left");
    let fs = block_on(moto.fsx().describe_file_systems().send()).expect("fsx");
    assert!(fs.file_systems().is_empty(), "file systems left");
    let dras = block_on(moto.fsx().describe_data_repository_associations().send())
        .expect("data repository associations");
    assert!(
        dras.associations().is_empty(),
        "data repository associations left: {:?}",
        dras.associations()
    );
    let domains = block_on(moto.sagemaker().list_domains().send()).expect("domains");
    assert!(domains.domains().is_empty(), "domains left");
    let roles = block_on(moto.iam().list_roles().send()).expect("roles");
    let ours: Vec<&str> = roles
        .roles()
        .iter()
        .map(|r| r.role_name())
        .filter(|n| !n.starts_with("AWSServiceRole"))
        .collect();
    assert!(ours.is_empty(), "roles left: {ours:?}");
    let policies = block_on(
        moto.iam()
            .list_policies()
            .scope(aws_sdk_iam::types::PolicyScopeType::Local)
            .send(),
    )
    .expect("policies");
    assert!(policies.policies().is_empty(), "policies left");
    let profiles = block_on(moto.iam().list_instance_profiles().send()).expect("profiles");
    assert!(
        profiles.instance_profiles().is_empty(),
        "instance profiles left"
    );
    let buckets = block_on(moto.s3().list_buckets().send()).expect("buckets");
    assert!(buckets.buckets().is_empty(), "buckets left");
    let kms = moto.kms();
    let keys = block_on(kms.list_keys().send()).expect("keys");
    for key in keys.keys() {
        let id = key.key_id().unwrap_or_default();
        let meta = block_on(kms.describe_key().key_id(id).send()).expect("describe key");
        // Only the keys gantry made (moto makes an aws/ebs key for encrypted volumes).
        let tags = block_on(kms.list_resource_tags().key_id(id).send()).expect("key tags");
        if !tags.tags().iter().any(|t| t.tag_key() == "gantry:address") {
            continue;
        }
        let state = meta.key_metadata().and_then(|m| m.key_state());
        assert_eq!(
            state,
            Some(&aws_sdk_kms::types::KeyState::PendingDeletion),
            "key {id} is not scheduled for deletion"
        );
    }
}

/// What a launch template's latest version launches.
fn template_data(moto: &Moto, template_id: &str) -> aws_sdk_ec2::types::ResponseLaunchTemplateData {
    let out = block_on(
        moto.ec2()
            .describe_launch_template_versions()
            .launch_template_id(template_id)
            .versions("$Latest")
            .send(),
    )
    .expect("template versions");
    out.launch_template_versions()
        .first()
        .and_then(|v| v.launch_template_data())
        .expect("template data")
        .clone()
}

/// The EFA interfaces of a launch template's latest version: (device index, card index).
fn efa_interfaces(moto: &Moto, template_id: &str) -> Vec<(i32, i32)> {
    template_data(moto, template_id)
        .network_interfaces()
        .iter()
        .filter(|n| n.interface_type() == Some("efa"))
        .map(|n| {
            (
                n.device_index().unwrap_or(-1),
                n.network_card_index().unwrap_or(-1),
            )
        })
        .collect()
}

fn template_placement(moto: &Moto, template_id: &str) -> Option<String> {
    template_data(moto, template_id)
        .placement()
        .and_then(|p| p.group_name())
        .map(str::to_owned)
}

/// (desired, min, max) of an EKS node group.
fn node_group(moto: &Moto, cluster: &str, group: &str) -> aws_sdk_eks::types::Nodegroup {
    let out = block_on(
        moto.eks()
            .describe_nodegroup()
            .cluster_name(cluster)
            .nodegroup_name(group)
            .send(),
    )
    .expect("describe nodegroup");
    out.nodegroup().expect("nodegroup").clone()
}

fn scaling(g: &aws_sdk_eks::types::Nodegroup) -> (i32, i32, i32) {
    let s = g.scaling_config().expect("scaling config");
    (
        s.desired_size().unwrap_or(-1),
        s.min_size().unwrap_or(-1),
        s.max_size().unwrap_or(-1),
    )
}

// ---------------------------------------------------------------------------------------
// stacks/aws/network

const NETWORK: &str = r#"
module "net" {
  source     = "__STACKS__/network"
  name       = "net-test"
  zone_count = 3
}

module "flat" {
  source     = "__STACKS__/network"
  name       = "flat-test"
  cidr_block = "10.9.0.0/16"
  zones      = ["us-east-1c", "us-east-1b"]
  enable_nat = false
}

output "vpc_id" {
  value = module.net.vpc_id
}

output "public_subnet_ids" {
  value = module.net.public_subnet_ids
}

output "private_subnet_ids" {
  value = module.net.private_subnet_ids
}

output "efa_security_group_id" {
  value = module.net.efa_security_group_id
}

output "nat_gateway_id" {
  value = module.net.nat_gateway_id
}

output "zones" {
  value = module.net.zones
}

output "flat_private_subnet_ids" {
  value = module.flat.private_subnet_ids
}

output "flat_nat_gateway_id" {
  value = module.flat.nat_gateway_id
}
"#;

#[test]
fn network_stack_module_applies_reads_back_and_destroys() {
    let moto = Moto::start();
    let ec2 = moto.ec2();
    let stack = moto.stack();
    write_root(&stack, NETWORK);
    stack.apply();

    let vpc_id = output_str(&stack, "vpc_id");
    let vpcs = block_on(ec2.describe_vpcs().vpc_ids(&vpc_id).send()).expect("vpc");
    assert_eq!(vpcs.vpcs()[0].cidr_block(), Some("10.0.0.0/16"));
    assert_eq!(
        output(&stack, "zones"),
        serde_json::json!(["us-east-1a", "us-east-1b", "us-east-1c"])
    );

    // Three zones: a /20 private and a /24 public subnet in each, in zone order.
    let subnet = |id: &str| {
        let out = block_on(ec2.describe_subnets().subnet_ids(id).send()).expect("subnet");
        out.subnets()[0].clone()
    };
    let private = output_strs(&stack, "private_subnet_ids");
    let public = output_strs(&stack, "public_subnet_ids");
    assert_eq!((private.len(), public.len()), (3, 3));
    for (i, zone) in ["us-east-1a", "us-east-1b", "us-east-1c"]
        .iter()
        .enumerate()
    {
        let p = subnet(&private[i]);
        assert_eq!(p.availability_zone(), Some(*zone));
        assert_eq!(
            p.cidr_block(),
            Some(format!("10.0.{}.0/20", i * 16).as_str())
        );
        assert_eq!(p.map_public_ip_on_launch(), Some(false));
        let q = subnet(&public[i]);
        assert_eq!(q.availability_zone(), Some(*zone));
        assert_eq!(
            q.cidr_block(),
            Some(format!("10.0.{}.0/24", 128 + i).as_str())
        );
        assert_eq!(q.map_public_ip_on_launch(), Some(true));
        assert_eq!(q.vpc_id(), Some(vpc_id.as_str()));
    }

    // The NAT gateway is in the first public subnet with the Elastic IP; the private
    // subnets route 0.0.0.0/0 to it, the public ones to the internet gateway.
    let nat_id = output_str(&stack, "nat_gateway_id");
    let nats = block_on(ec2.describe_nat_gateways().nat_gateway_ids(&nat_id).send()).expect("nat");
    let nat = &nats.nat_gateways()[0];
    assert_eq!(nat.subnet_id(), Some(public[0].as_str()));
    assert_eq!(
        nat.state(),
        Some(&aws_sdk_ec2::types::NatGatewayState::Available)
    );
    let eips = block_on(ec2.describe_addresses().send()).expect("addresses");
    assert_eq!(
        eips.addresses().len(),
        1,
        "one Elastic IP, for the NAT gateway"
    );
    assert_eq!(
        nat.nat_gateway_addresses()[0].allocation_id(),
        eips.addresses()[0].allocation_id()
    );
    let default_route = |subnet_id: &str| {
        let out = block_on(
            ec2.describe_route_tables()
                .filters(
                    Filter::builder()
                        .name("association.subnet-id")
                        .values(subnet_id)
                        .build(),
                )
                .send(),
        )
        .expect("route tables");
        let table = out.route_tables().first().expect("a route table").clone();
        table
            .routes()
            .iter()
            .find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"))
            .cloned()
            .expect("a default route")
    };
    for id in &private {
        assert_eq!(default_route(id).nat_gateway_id(), Some(nat_id.as_str()));
    }
    for id in &public {
        assert!(
            default_route(id)
                .gateway_id()
                .is_some_and(|g| g.starts_with("igw-")),
            "public subnet {id} does not route to the internet gateway"
        );
    }

    // The EFA group: all traffic from and to itself, and out anywhere.
    let sg_id = output_str(&stack, "efa_security_group_id");
    let sgs = block_on(ec2.describe_security_groups().group_ids(&sg_id).send()).expect("sg");
    let sg = &sgs.security_groups()[0];
    let self_rule = |perms: &[aws_sdk_ec2::types::IpPermission]| {
        perms.iter().any(|p| {
            p.ip_protocol() == Some("-1")
                && p.user_id_group_pairs()
                    .iter()
                    .any(|g| g.group_id() == Some(sg_id.as_str()))
        })
    };
    assert!(self_rule(sg.ip_permissions()), "no self ingress: {sg:?}");
    assert!(
        self_rule(sg.ip_permissions_egress()),
        "no self egress: {sg:?}"
    );
    assert!(
        sg.ip_permissions_egress().iter().any(|p| p
            .ip_ranges()
            .iter()
            .any(|r| r.cidr_ip() == Some("0.0.0.0/0"))),
        "no egress to anywhere: {sg:?}"
    );

    // Without NAT: the given zones in the given order, no default route for private.
    assert_eq!(
        output(&stack, "flat_nat_gateway_id"),
        serde_json::Value::Null
    );
    let flat = output_strs(&stack, "flat_private_subnet_ids");
    assert_eq!(subnet(&flat[0]).availability_zone(), Some("us-east-1c"));
    assert_eq!(subnet(&flat[1]).availability_zone(), Some("us-east-1b"));
    assert_eq!(subnet(&flat[0]).cidr_block(), Some("10.9.0.0/20"));
    let flat_tables = block_on(
        ec2.describe_route_tables()
            .filters(
                Filter::builder()
                    .name("association.subnet-id")
                    .values(&flat[0])
                    .build(),
            )
            .send(),
    )
    .expect("route tables");
    assert!(
        flat_tables.route_tables()[0]
            .routes()
            .iter()
            .all(|r| r.destination_cidr_block() != Some("0.0.0.0/0")),
        "private subnets without NAT have no default route"
    );

    stack.assert_no_changes();
    stack.destroy();
    assert_nothing_left(&moto);
}

// ---------------------------------------------------------------------------------------
// stacks/aws/gpu-cluster

const GPU_CLUSTER: &str = r#"
module "net" {
  source     = "__STACKS__/network"
  name       = "gc-test"
  enable_nat = false
}

module "cluster" {
  source             = "__STACKS__/gpu-cluster"
  name               = "gc-test"
  accelerator        = "H100:8"
  subnet_ids         = module.net.private_subnet_ids
  security_group_ids = [module.net.efa_security_group_id]
  min_size           = 1
  desired_size       = 2
  max_size           = 4
  labels             = { team = "research" }
}

output "cluster_name" {
  value = module.cluster.cluster_name
}

output "instance_type" {
  value = module.cluster.instance_type
}

output "launch_template_id" {
  value = module.cluster.launch_template_id
}

output "efa_interfaces" {
  value = module.cluster.efa_interfaces
}

output "node_role_name" {
  value = module.cluster.node_role_name
}

output "private_subnet_ids" {
  value = module.net.private_subnet_ids
}

output "efa_security_group_id" {
  value = module.net.efa_security_group_id
}
"#;

#[test]
fn gpu_cluster_stack_module_applies_reads_back_and_destroys() {
    let moto = Moto::start();
    generous_quotas(&moto);
    let stack = moto.stack();
    write_root(&stack, GPU_CLUSTER);
    stack.apply();

    assert_eq!(output_str(&stack, "instance_type"), "p5.48xlarge");
    assert_eq!(output(&stack, "efa_interfaces"), serde_json::json!(32));
    let cluster = block_on(moto.eks().describe_cluster().name("gc-test").send()).expect("eks");
    let cluster = cluster.cluster().expect("cluster");
    assert_eq!(cluster.status().map(|s| s.as_str()), Some("ACTIVE"));
    assert_eq!(cluster.version(), Some("1.31"));

    // The node group: the type from the spec, 1/2/4 nodes in the first private subnet,
    // launched from the module's template, GPU labels and taint.
    let g = node_group(&moto, "gc-test", "gpu");
    assert_eq!(g.instance_types(), ["p5.48xlarge".to_owned()]);
    assert_eq!(scaling(&g), (2, 1, 4));
    let subnets = output_strs(&stack, "private_subnet_ids");
    assert_eq!(g.subnets(), [subnets[0].clone()]);
    let template_id = output_str(&stack, "launch_template_id");
    assert_eq!(
        g.launch_template().and_then(|t| t.id()),
        Some(template_id.as_str())
    );
    let labels = g.labels().cloned().unwrap_or_default();
    assert_eq!(
        labels.get("nvidia.com/gpu.present").map(String::as_str),
        Some("true")
    );
    assert_eq!(
        labels.get("gantry.dev/accelerator").map(String::as_str),
        Some("H100")
    );
    assert_eq!(labels.get("team").map(String::as_str), Some("research"));
    assert!(
        g.taints().iter().any(|t| t.key() == Some("nvidia.com/gpu")
            && t.effect().map(|e| e.as_str()) == Some("NO_SCHEDULE")),
        "no GPU taint: {:?}",
        g.taints()
    );

    // The template: 32 EFA interfaces (device 0 on card 0, then device 1 on cards 1..31),
    // each in the EFA group, and the cluster placement group.
    let efa = efa_interfaces(&moto, &template_id);
    let expected: Vec<(i32, i32)> = (0..32).map(|i| (i32::from(i != 0), i)).collect();
    assert_eq!(efa, expected);
    assert_eq!(
        template_placement(&moto, &template_id).as_deref(),
        Some("gc-test-gpu")
    );

    // IAM: the cluster role and the node role with the three worker-node policies.
    let node_role = output_str(&stack, "node_role_name");
    assert_eq!(
        attached(&moto, &node_role),
        [
            "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly",
            "arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy",
            "arn:aws:iam::aws:policy/AmazonEKS_CNI_Policy",
        ]
    );
    assert_eq!(
        attached(&moto, "gc-test-eks-cluster"),
        ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"]
    );

    stack.assert_no_changes();
    stack.destroy();
    assert_nothing_left(&moto);
}

// ---------------------------------------------------------------------------------------
// stacks/aws/gpu-instances

const GPU_INSTANCES: &str = r#"
module "net" {
  source     = "__STACKS__/network"
  name       = "gi-test"
  enable_nat = false
}

module "train" {
  source             = "__STACKS__/gpu-instances"
  name               = "gi-test"
  accelerator        = "A100:8"
  instance_count     = 2
  ami_id             = "__AMI__"
  subnet_id          = module.net.private_subnet_ids[0]
  security_group_ids = [module.net.efa_security_group_id]
}

module "spot" {
  source                  = "__STACKS__/gpu-instances"
  name                    = "gi-spot"
  accelerator             = "L4"
  instance_count          = 1
  ami_id                  = "__AMI__"
  subnet_id               = module.net.private_subnet_ids[1]
  security_group_ids      = [module.net.efa_security_group_id]
  efa                     = false
  placement_group         = false
  spot                    = true
  create_instance_profile = false
}

output "instance_ids" {
  value = module.train.instance_ids
}

output "launch_template_id" {
  value = module.train.launch_template_id
}

output "instance_profile_name" {
  value = module.train.instance_profile_name
}

output "spot_instance_ids" {
  value = module.spot.instance_ids
}

output "spot_launch_template_id" {
  value = module.spot.launch_template_id
}

output "spot_role_name" {
  value = module.spot.role_name
}

output "private_subnet_ids" {
  value = module.net.private_subnet_ids
}
"#;

#[test]
fn gpu_instances_stack_module_checks_quota_applies_and_destroys() {
    let moto = Moto::start();
    let ec2 = moto.ec2();
    let ami = moto.an_ami();
    let stack = moto.stack();
    write_root(&stack, &GPU_INSTANCES.replace("__AMI__", &ami));

    // The instance type is on the instances, so the plan checks the P quota before
    // anything is made: two p4d.24xlarge need 192 vCPUs.
    moto.set_faults(&serde_json::json!({ "ec2_quotas": { "L-417A185B": 96.0 } }));
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 1, "{}", run.both());
    assert!(
        run.both().contains("L-417A185B") && run.both().contains("192"),
        "no quota diagnostic:\n{}",
        run.both()
    );
    assert!(
        block_on(ec2.describe_vpcs().filters(tagged()).send())
            .expect("vpcs")
            .vpcs()
            .is_empty(),
        "created something despite the quota"
    );

    generous_quotas(&moto);
    stack.apply();
    let ids = output_strs(&stack, "instance_ids");
    assert_eq!(ids.len(), 2);
    let out =
        block_on(ec2.describe_instances().set_instance_ids(Some(ids)).send()).expect("instances");
    let instances: Vec<_> = out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .collect();
    assert_eq!(instances.len(), 2);
    for i in &instances {
        assert_eq!(i.instance_type().map(|t| t.as_str()), Some("p4d.24xlarge"));
        assert_eq!(
            i.placement().and_then(|p| p.group_name()),
            Some("gi-test-gpu")
        );
    }
    // p4d.24xlarge has 4 EFA interfaces, and the instance profile: both in the template
    // (moto does not carry either from a template to its instances).
    let template_id = output_str(&stack, "launch_template_id");
    assert_eq!(
        efa_interfaces(&moto, &template_id),
        [(0, 0), (1, 1), (1, 2), (1, 3)]
    );
    let profile = output_str(&stack, "instance_profile_name");
    assert_eq!(
        template_data(&moto, &template_id)
            .iam_instance_profile()
            .and_then(|p| p.name()),
        Some(profile.as_str())
    );
    assert_eq!(
        attached(&moto, "gi-test-gpu-instance"),
        ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"]
    );

    // The spot fleet: g6.xlarge for L4, no EFA, no placement group, no role; the subnet is
    // the instance's own.
    let spot_ids = output_strs(&stack, "spot_instance_ids");
    let out = block_on(
        ec2.describe_instances()
            .set_instance_ids(Some(spot_ids))
            .send(),
    )
    .expect("spot instance");
    let spot = out.reservations()[0].instances()[0].clone();
    assert_eq!(spot.instance_type().map(|t| t.as_str()), Some("g6.xlarge"));
    let subnets = output_strs(&stack, "private_subnet_ids");
    assert_eq!(spot.subnet_id(), Some(subnets[1].as_str()));
    assert!(efa_interfaces(&moto, &output_str(&stack, "spot_launch_template_id")).is_empty());
    assert_eq!(output(&stack, "spot_role_name"), serde_json::Value::Null);
    assert_eq!(
        stack.state_attr("module.spot.aws_instance.gpu[0]", "instance_market_options")
            ["market_type"],
        "spot"
    );

    stack.assert_no_changes();
    stack.destroy();
    assert_nothing_left(&moto);
}

// ---------------------------------------------------------------------------------------
// stacks/aws/training-storage

const TRAINING_STORAGE: &str = r#"
module "net" {
  source     = "__STACKS__/network"
  name       = "ts-test"
  enable_nat = false
}

module "storage" {
  source                      = "__STACKS__/training-storage"
  name                        = "ts-test"
  force_destroy               = true
  kms_deletion_window_in_days = 7
  subnet_id                   = module.net.private_subnet_ids[0]
  security_group_ids          = [module.net.efa_security_group_id]
  per_unit_storage_throughput = 500
}

module "scratch" {
  source                      = "__STACKS__/training-storage"
  name                        = "ts-scratch"
  bucket_name                 = "ts-scratch-datasets"
  force_destroy               = true
  kms_deletion_window_in_days = 7
  subnet_id                   = module.net.private_subnet_ids[0]
  deployment_type             = "SCRATCH_2"
  storage_capacity            = 2400
}

output "bucket_name" {
  value = module.storage.bucket_name
}

output "kms_key_arn" {
  value = module.storage.kms_key_arn
}

output "lustre_id" {
  value = module.storage.lustre_id
}

output "scratch_lustre_id" {
  value = module.scratch.lustre_id
}

output "dra_id" {
  value = module.storage.data_repository_association_id
}

output "lustre_data_path" {
  value = module.storage.lustre_data_path
}

output "scratch_dra_id" {
  value = module.scratch.data_repository_association_id
}
"#;

#[test]
fn training_storage_stack_module_applies_reads_back_and_destroys() {
    let moto = Moto::start();
    let s3 = moto.s3();
    let stack = moto.stack();
    write_root(&stack, TRAINING_STORAGE);
    stack.apply();

    // The bucket: NAME-data-ACCOUNT, versioned, encrypted with the module's key, closed.
    let bucket = output_str(&stack, "bucket_name");
    assert_eq!(bucket, "ts-test-data-123456789012");
    let v = block_on(s3.get_bucket_versioning().bucket(&bucket).send()).expect("versioning");
    assert_eq!(v.status().map(|s| s.as_str()), Some("Enabled"));
    let enc = block_on(s3.get_bucket_encryption().bucket(&bucket).send()).expect("encryption");
    let rule = enc
        .server_side_encryption_configuration()
        .and_then(|c| c.rules().first())
        .and_then(|r| r.apply_server_side_encryption_by_default())
        .expect("a default encryption rule")
        .clone();
    assert_eq!(rule.sse_algorithm().as_str(), "aws:kms");
    let key_arn = output_str(&stack, "kms_key_arn");
    assert_eq!(rule.kms_master_key_id(), Some(key_arn.as_str()));
    let block = block_on(s3.get_public_access_block().bucket(&bucket).send()).expect("pab");
    let c = block
        .public_access_block_configuration()
        .expect("configuration");
    assert_eq!(
        (
            c.block_public_acls(),
            c.block_public_policy(),
            c.ignore_public_acls(),
            c.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let key =
        block_on(moto.kms().get_key_rotation_status().key_id(&key_arn).send()).expect("rotation");
    assert!(key.key_rotation_enabled(), "key rotation is off");

    // Lustre: PERSISTENT_2, 1200 GiB at 500 MB/s/TiB, encrypted with the same key; the
    // SCRATCH_2 one imports from and exports to its bucket.
    let describe = |id: &str| {
        let out = block_on(
            moto.fsx()
                .describe_file_systems()
                .file_system_ids(id)
                .send(),
        )
        .expect("fsx");
        out.file_systems()[0].clone()
    };
    let fs = describe(&output_str(&stack, "lustre_id"));
    assert_eq!(fs.storage_capacity(), Some(1200));
    let lustre = fs.lustre_configuration().expect("lustre configuration");
    assert_eq!(
        lustre.deployment_type().map(|d| d.as_str()),
        Some("PERSISTENT_2")
    );
    assert_eq!(lustre.per_unit_storage_throughput(), Some(500));
    assert_eq!(fs.kms_key_id(), Some(key_arn.as_str()));
    let scratch = describe(&output_str(&stack, "scratch_lustre_id"));
    assert_eq!(scratch.storage_capacity(), Some(2400));
    let repo = scratch
        .lustre_configuration()
        .and_then(|l| l.data_repository_configuration())
        .expect("data repository");
    assert_eq!(repo.import_path(), Some("s3://ts-scratch-datasets"));
    assert_eq!(repo.export_path(), Some("s3://ts-scratch-datasets"));

    // The PERSISTENT_2 one is linked through a data repository association: the bucket at
    // /data, every event imported and exported; the SCRATCH_2 one has none.
    let dra_id = output_str(&stack, "dra_id");
    let dras = block_on(
        moto.fsx()
            .describe_data_repository_associations()
            .association_ids(&dra_id)
            .send(),
    )
    .expect("data repository association");
    let dra = &dras.associations()[0];
    assert_eq!(dra.lifecycle().map(|l| l.as_str()), Some("AVAILABLE"));
    assert_eq!(dra.file_system_id(), fs.file_system_id());
    assert_eq!(dra.file_system_path(), Some("/data"));
    assert_eq!(output_str(&stack, "lustre_data_path"), "/data");
    let bucket_path = format!("s3://{bucket}");
    assert_eq!(dra.data_repository_path(), Some(bucket_path.as_str()));
    assert_eq!(dra.batch_import_meta_data_on_create(), Some(true));
    let all_events = |events: Option<&[aws_sdk_fsx::types::EventType]>| {
        events
            .unwrap_or_default()
            .iter()
            .map(|e| e.as_str().to_owned())
            .collect::<Vec<_>>()
    };
    let s3_config = dra.s3().expect("S3 policies");
    for policy in [
        s3_config.auto_import_policy().map(|p| p.events()),
        s3_config.auto_export_policy().map(|p| p.events()),
    ] {
        assert_eq!(all_events(policy), ["NEW", "CHANGED", "DELETED"]);
    }
    assert_eq!(output(&stack, "scratch_dra_id"), serde_json::Value::Null);
    // FSx's S3-access role may use the key for this bucket's objects (SSE-KMS).
    let policy = block_on(
        moto.kms()
            .get_key_policy()
            .key_id(&key_arn)
            .policy_name("default")
            .send(),
    )
    .expect("key policy");
    let policy = policy.policy().unwrap_or_default();
    assert!(
        policy.contains("AWSServiceRoleForFSxS3Access_*")
            && policy.contains(&format!("arn:aws:s3:::{bucket}/*")),
        "{policy}"
    );

    // Something to force-destroy: a checkpoint in two versions.
    for body in ["v1", "v2"] {
        block_on(
            s3.put_object()
                .bucket(&bucket)
                .key("checkpoints/step-100.pt")
                .body(aws_sdk_s3::primitives::ByteStream::from_static(
                    body.as_bytes(),
                ))
                .send(),
        )
        .expect("put object");
    }

    stack.assert_no_changes();
    stack.destroy();
    assert_nothing_left(&moto);
}

// ---------------------------------------------------------------------------------------
// stacks/aws/ml-platform

const ML_PLATFORM: &str = r#"
module "net" {
  source     = "__STACKS__/network"
  name       = "ml-test"
  enable_nat = false
}

module "storage" {
  source        = "__STACKS__/training-storage"
  name          = "ml-test"
  force_destroy = true
  lustre        = false
  subnet_id     = null
}

module "platform" {
  source             = "__STACKS__/ml-platform"
  name               = "ml-test"
  vpc_id             = module.net.vpc_id
  subnet_ids         = module.net.private_subnet_ids
  security_group_ids = [module.net.efa_security_group_id]
  bucket_arns        = [module.storage.bucket_arn]
  kms_key_arns       = [module.storage.kms_key_arn]
}

output "domain_id" {
  value = module.platform.domain_id
}

output "execution_role_arn" {
  value = module.platform.execution_role_arn
}

output "bucket_policy_arn" {
  value = module.platform.bucket_policy_arn
}

output "bucket_name" {
  value = module.storage.bucket_name
}
"#;

#[test]
fn ml_platform_stack_module_applies_reads_back_and_destroys() {
    let moto = Moto::start();
    let stack = moto.stack();
    write_root(&stack, ML_PLATFORM);
    stack.apply();

    let sm = moto.sagemaker();
    let id = output_str(&stack, "domain_id");
    let d = block_on(sm.describe_domain().domain_id(id).send()).expect("domain");
    assert_eq!(d.domain_name(), Some("ml-test"));
    assert_eq!(d.status().map(|s| s.as_str()), Some("InService"));
    let role_arn = output_str(&stack, "execution_role_arn");
    assert_eq!(
        d.default_user_settings().and_then(|s| s.execution_role()),
        Some(role_arn.as_str())
    );

    // The role: SageMaker's managed policy and the bucket policy.
    let policy_arn = output_str(&stack, "bucket_policy_arn");
    let mut want = vec![
        "arn:aws:iam::aws:policy/AmazonSageMakerFullAccess".to_owned(),
        policy_arn.clone(),
    ];
    want.sort();
    assert_eq!(attached(&moto, "ml-test-sagemaker-execution"), want);
    let iam = moto.iam();
    let policy = block_on(iam.get_policy().policy_arn(&policy_arn).send()).expect("policy");
    let version = policy
        .policy()
        .and_then(|p| p.default_version_id())
        .expect("default version")
        .to_owned();
    let doc = block_on(
        iam.get_policy_version()
            .policy_arn(&policy_arn)
            .version_id(version)
            .send(),
    )
    .expect("policy version");
    let text = doc
        .policy_version()
        .and_then(|v| v.document())
        .expect("document")
        .replace("%3A", ":")
        .replace("%2F", "/")
        .replace("%2A", "*");
    let bucket = output_str(&stack, "bucket_name");
    for needle in [
        "s3:GetObject".to_owned(),
        format!("arn:aws:s3:::{bucket}/*"),
        "kms:GenerateDataKey".to_owned(),
    ] {
        assert!(text.contains(&needle), "policy lacks {needle}: {text}");
    }

    stack.assert_no_changes();
    stack.destroy();
    assert_nothing_left(&moto);
}

// ---------------------------------------------------------------------------------------
// examples/llm-training-aws and examples/inference-aws

#[test]
fn llm_training_example_applies_against_moto_and_destroys() {
    let moto = Moto::start();
    let stack = moto.stack();
    write_example(&stack, "llm-training-aws");
    // Four p5.48xlarge need 768 vCPUs of the P quota, which the plan checks against
    // Service Quotas before anything is created.
    moto.set_faults(&serde_json::json!({ "ec2_quotas": { "L-417A185B": 512.0 } }));
    let run = stack.gantry(&["plan"]);
    assert_eq!(run.code, 1, "{}", run.both());
    for needle in ["L-417A185B", "768", "module.cluster.aws_eks_node_group.gpu"] {
        assert!(
            run.both().contains(needle),
            "no {needle:?}:\n{}",
            run.both()
        );
    }
    generous_quotas(&moto);
    let run = stack.apply();
    assert!(run.both().contains("Apply complete!"), "{}", run.both());

    assert_eq!(output_str(&stack, "instance_type"), "p5.48xlarge");
    assert_eq!(output(&stack, "gpus"), serde_json::json!(32));
    let g = node_group(&moto, "llm-train", "gpu");
    assert_eq!(g.instance_types(), ["p5.48xlarge".to_owned()]);
    assert_eq!(scaling(&g), (4, 0, 4));
    let template = g
        .launch_template()
        .and_then(|t| t.id())
        .expect("launch template")
        .to_owned();
    assert_eq!(efa_interfaces(&moto, &template).len(), 32);

    let fs = block_on(moto.fsx().describe_file_systems().send()).expect("fsx");
    assert_eq!(fs.file_systems().len(), 1);
    assert_eq!(fs.file_systems()[0].storage_capacity(), Some(2400));
    let bucket = output_str(&stack, "data_bucket");
    let v = block_on(moto.s3().get_bucket_versioning().bucket(bucket).send()).expect("versioning");
    assert_eq!(v.status().map(|s| s.as_str()), Some("Enabled"));
    let domain = output_str(&stack, "sagemaker_domain_id");
    let d = block_on(moto.sagemaker().describe_domain().domain_id(domain).send()).expect("domain");
    assert_eq!(d.status().map(|s| s.as_str()), Some("InService"));
    let nats = block_on(moto.ec2().describe_nat_gateways().send()).expect("nat");
    assert_eq!(nats.nat_gateways().len(), 1);

    stack.assert_no_changes();
    stack.destroy();
    assert_nothing_left(&moto);
}

#[test]
fn inference_example_applies_against_moto_and_destroys() {
    let moto = Moto::start();
    generous_quotas(&moto);
    let stack = moto.stack();
    write_example(&stack, "inference-aws");
    stack.apply();

    assert_eq!(output_str(&stack, "instance_type"), "g6.xlarge");
    let g = node_group(&moto, "inference", "gpu");
    assert_eq!(g.instance_types(), ["g6.xlarge".to_owned()]);
    assert_eq!(scaling(&g), (2, 1, 8));
    // Spread over the three zones' private subnets; no EFA, no placement group.
    assert_eq!(g.subnets().len(), 3);
    let template = g
        .launch_template()
        .and_then(|t| t.id())
        .expect("launch template")
        .to_owned();
    assert!(efa_interfaces(&moto, &template).is_empty());
    assert_eq!(template_placement(&moto, &template), None);
    assert_eq!(
        g.labels()
            .and_then(|l| l.get("workload"))
            .map(String::as_str),
        Some("inference")
    );

    stack.assert_no_changes();
    stack.destroy();
    assert_nothing_left(&moto);
}

//! Capacity failover against moto: the launcher refuses p5.48xlarge in one zone (EC2's
//! `InsufficientInstanceCapacity`), gantry creates the instance with the next alternative,
//! and boto3, an independent client, reads back that exactly one instance exists, where
//! the alternative put it, tagged with the stack and address. A run killed in the middle of
//! a failover is finished by the next apply without a second instance.

use crate::support::Moto;
use std::time::Duration;

const STACK: &str = r#"
provider "aws" {
  region = "us-east-1"
}

resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.0.1.0/24"
  availability_zone = "us-east-1a"
}

resource "aws_subnet" "b" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.0.2.0/24"
  availability_zone = "us-east-1b"
}

resource "aws_instance" "trainer" {
  ami           = "__AMI__"
  instance_type = "p5.48xlarge"
  subnet_id     = aws_subnet.a.id

  failover {
    alternative {
      subnet_id = aws_subnet.b.id
    }
    alternative {
      instance_type = "p4d.24xlarge"
    }
  }
}

output "zone" {
  value = aws_instance.trainer.availability_zone
}
"#;

/// Instances not terminated, as boto3 sees them: one JSON line each with id, type, zone,
/// subnet and the gantry address tag.
fn live_instances(moto: &Moto) -> Vec<serde_json::Value> {
    live_instances_in(moto, "us-east-1")
}

fn live_instances_in(moto: &Moto, region: &str) -> Vec<serde_json::Value> {
    let out = moto.boto3(&format!(
        "ec2 = session.client('ec2', endpoint_url=ENDPOINT, region_name='{region}')\n\
         for r in ec2.describe_instances()['Reservations']:\n\
         \x20   for i in r['Instances']:\n\
         \x20       if i['State']['Name'] in ('terminated', 'shutting-down'):\n\
         \x20           continue\n\
         \x20       tags = {{t['Key']: t['Value'] for t in i.get('Tags', [])}}\n\
         \x20       print(json.dumps({{'id': i['InstanceId'], 'type': i['InstanceType'], 'zone': i['Placement']['AvailabilityZone'], 'subnet': i.get('SubnetId'), 'address': tags.get('gantry:address')}}))\n",
    ));
    out.lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect()
}

#[test]
fn no_capacity_in_the_first_zone_puts_the_instance_in_the_next() {
    let moto = Moto::start();
    let ami = moto.an_ami();
    moto.set_faults(&serde_json::json!({
        "capacity": [{"instance_type": "p5.48xlarge", "zone": "us-east-1a"}]
    }));
    let stack = moto.stack();
    stack.write(&STACK.replace("__AMI__", &ami));
    let run = stack.gantry(&["apply", "--auto-approve", "--json"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let refused: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "failover_refused")
        .collect();
    assert_eq!(refused.len(), 1, "{}", run.stdout);
    assert_eq!(refused[0]["code"], "InsufficientInstanceCapacity");
    assert_eq!(refused[0]["class"], "capacity");
    assert!(
        refused[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("us-east-1a")),
        "the zone is named: {}",
        refused[0]
    );
    assert!(run.stdout.contains("\"failover_held\""), "{}", run.stdout);

    let live = live_instances(&moto);
    assert_eq!(live.len(), 1, "exactly one instance: {live:?}");
    assert_eq!(live[0]["zone"], "us-east-1b");
    assert_eq!(live[0]["type"], "p5.48xlarge");
    assert_eq!(
        live[0]["subnet"].as_str(),
        Some(stack.state_id("aws_subnet.b").as_str())
    );
    assert_eq!(live[0]["address"], "aws_instance.trainer");
    assert_eq!(
        stack.state_id("aws_instance.trainer"),
        live[0]["id"].as_str().unwrap_or_default()
    );
    // Capacity returns to us-east-1a: the refreshed plan keeps the instance where it is.
    moto.set_faults(&serde_json::json!({}));
    stack.assert_no_changes();

    stack.destroy();
    assert!(live_instances(&moto).is_empty());
}

/// SIGKILL at several moments of a failover (the first two choices refused everywhere),
/// then apply again: one p4d.24xlarge, the one state records, and nothing else running.
#[test]
fn a_failover_killed_midway_is_finished_without_a_second_instance() {
    let moto = Moto::start();
    let ami = moto.an_ami();
    moto.set_faults(&serde_json::json!({
        "capacity": [{"instance_type": "p5.48xlarge"}]
    }));
    let mut cut_midway = 0;
    // Killed at moments measured from the first refusal the run reports, not from its
    // start: how long the plan and the first attempt take depends on the machine's load.
    for (trial, after_ms) in [0_u64, 150, 400, 900].into_iter().enumerate() {
        let stack = moto.stack();
        stack.write(&STACK.replace("__AMI__", &ami));
        let mut child = stack.spawn(&["apply", "--auto-approve"]);
        let said = kill_after_refusal(&mut child, Duration::from_millis(after_ms));
        if said.contains("refused") && !said.contains("Apply complete") {
            cut_midway += 1;
        }
        let finish = stack.gantry(&["apply", "--auto-approve"]);
        assert_eq!(finish.code, 0, "trial {trial}: {}", finish.both());
        let live = live_instances(&moto);
        assert_eq!(live.len(), 1, "trial {trial}: {live:?}");
        assert_eq!(live[0]["type"], "p4d.24xlarge");
        assert_eq!(
            stack.state_id("aws_instance.trainer"),
            live[0]["id"].as_str().unwrap_or_default(),
            "trial {trial}"
        );
        stack.assert_no_changes();
        stack.destroy();
        assert!(live_instances(&moto).is_empty(), "trial {trial}");
    }
    assert!(
        cut_midway > 0,
        "no trial was killed between a refusal and the end: move the kill times"
    );
}

/// Reads the run's stderr until it reports a refusal (or ends), waits `after`, SIGKILLs
/// it and returns everything it said.
fn kill_after_refusal(child: &mut std::process::Child, after: Duration) -> String {
    use std::io::{BufRead, BufReader};
    let stderr = child.stderr.take().expect("piped stderr");
    let said = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let (refused_tx, refused_rx) = std::sync::mpsc::channel();
    let reader = {
        let said = said.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let refusal = line.contains("refused");
                if let Ok(mut s) = said.lock() {
                    s.push_str(&line);
                    s.push('\n');
                }
                if refusal {
                    let _ = refused_tx.send(());
                }
            }
        })
    };
    // A run that ends without a refusal closes the channel: no wait then.
    let _ = refused_rx.recv_timeout(Duration::from_secs(120));
    std::thread::sleep(after);
    let _ = child.kill();
    let _ = child.wait();
    let _ = reader.join();
    let out = said.lock().map(|s| s.clone()).unwrap_or_default();
    out
}

const TWO_REGIONS: &str = r#"
provider "aws" {
  region = "us-east-1"
}

provider "aws" {
  alias  = "west"
  region = "us-west-2"
}

resource "aws_vpc" "east" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_subnet" "east" {
  vpc_id            = aws_vpc.east.id
  cidr_block        = "10.0.1.0/24"
  availability_zone = "us-east-1a"
}

resource "aws_vpc" "west" {
  provider   = aws.west
  cidr_block = "10.1.0.0/16"
}

resource "aws_subnet" "west" {
  provider          = aws.west
  vpc_id            = aws_vpc.west.id
  cidr_block        = "10.1.1.0/24"
  availability_zone = "us-west-2a"
}

resource "aws_instance" "trainer" {
  ami           = "__AMI__"
  instance_type = "p5.48xlarge"
  subnet_id     = aws_subnet.east.id

  failover {
    alternative {
      provider  = aws.west
      ami       = "__WEST_AMI__"
      subnet_id = aws_subnet.west.id
    }
  }
}
"#;

/// No p5.48xlarge in us-east-1: the alternative naming `aws.west` creates the instance in
/// us-west-2, which boto3 finds there (and nothing in us-east-1); later plans keep it and
/// destroy removes it through the same configuration.
#[test]
fn no_capacity_in_the_region_puts_the_instance_in_the_alternative_region() {
    let moto = Moto::start();
    let east_ami = moto.an_ami();
    let west_ami = moto.boto3(
        "ec2 = session.client('ec2', endpoint_url=ENDPOINT, region_name='us-west-2')\n\
         imgs = [i for i in ec2.describe_images(Owners=['amazon'])['Images'] if i.get('RootDeviceName')]\n\
         print(imgs[0]['ImageId'])\n",
    );
    moto.set_faults(&serde_json::json!({
        "capacity": [{"instance_type": "p5.48xlarge", "zone": "us-east-1a"}]
    }));
    let stack = moto.stack();
    stack.write(
        &TWO_REGIONS
            .replace("__AMI__", &east_ami)
            .replace("__WEST_AMI__", &west_ami),
    );
    let run = stack.gantry(&["apply", "--auto-approve"]);
    assert_eq!(run.code, 0, "{}", run.both());
    assert!(
        run.both()
            .contains("created with failover alternative 1 (provider = aws.west"),
        "{}",
        run.both()
    );
    assert!(live_instances_in(&moto, "us-east-1").is_empty());
    let west = live_instances_in(&moto, "us-west-2");
    assert_eq!(west.len(), 1, "{west:?}");
    assert_eq!(west[0]["zone"], "us-west-2a");
    assert_eq!(west[0]["address"], "aws_instance.trainer");
    assert_eq!(
        stack.state_id("aws_instance.trainer"),
        west[0]["id"].as_str().unwrap_or_default()
    );
    assert_eq!(
        stack.state_attr("aws_instance.trainer", "availability_zone"),
        "us-west-2a"
    );
    moto.set_faults(&serde_json::json!({}));
    stack.assert_no_changes();

    // Placed afresh with room in us-east-1 again: the us-west-2 instance is terminated
    // where it lives (through aws.west), not looked for in us-east-1 and leaked.
    let replaced = stack.gantry(&[
        "apply",
        "--auto-approve",
        "--replace",
        "aws_instance.trainer",
    ]);
    assert_eq!(replaced.code, 0, "{}", replaced.both());
    assert!(
        live_instances_in(&moto, "us-west-2").is_empty(),
        "left running in us-west-2: {:?}",
        live_instances_in(&moto, "us-west-2")
    );
    let east = live_instances_in(&moto, "us-east-1");
    assert_eq!(east.len(), 1, "{east:?}");
    assert_eq!(
        stack.state_id("aws_instance.trainer"),
        east[0]["id"].as_str().unwrap_or_default()
    );
    stack.destroy();
    assert!(live_instances_in(&moto, "us-east-1").is_empty());
}

const NODE_GROUP: &str = r#"
provider "aws" {
  region = "us-east-1"
}

resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_subnet" "a" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.0.1.0/24"
  availability_zone = "us-east-1a"
}

resource "aws_subnet" "b" {
  vpc_id            = aws_vpc.main.id
  cidr_block        = "10.0.2.0/24"
  availability_zone = "us-east-1b"
}

resource "aws_iam_role" "cluster" {
  name = "eks-cluster"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "eks.amazonaws.com" } }]
  })
}

resource "aws_iam_role" "node" {
  name = "eks-node"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }]
  })
}

resource "aws_eks_cluster" "gpu" {
  name     = "gpu"
  role_arn = aws_iam_role.cluster.arn

  vpc_config {
    subnet_ids = [aws_subnet.a.id, aws_subnet.b.id]
  }
}

resource "aws_eks_node_group" "h100" {
  cluster_name    = aws_eks_cluster.gpu.name
  node_group_name = "h100"
  node_role_arn   = aws_iam_role.node.arn
  subnet_ids      = [aws_subnet.a.id]
  instance_types  = ["p5.48xlarge"]

  scaling_config {
    desired_size = 2
    min_size     = 1
    max_size     = 2
  }

  failover {
    alternative {
      subnet_ids = [aws_subnet.b.id]
    }
  }
}
"#;

/// A node group EKS accepts and then fails for lack of capacity (CREATE_FAILED with an
/// InsufficientInstanceCapacity health issue, as the launcher does for a type with no
/// capacity in its subnets' zones) is deleted before the alternative is created: boto3
/// finds one ACTIVE group, in the alternative's subnet.
#[test]
fn a_node_group_that_failed_for_capacity_is_deleted_and_recreated_in_the_next_zone() {
    let moto = Moto::start();
    moto.set_faults(&serde_json::json!({
        "capacity": [{"instance_type": "p5.48xlarge", "zone": "us-east-1a"}]
    }));
    let stack = moto.stack();
    stack.write(NODE_GROUP);
    let run = stack.gantry(&["apply", "--auto-approve", "--json"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let refused: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "failover_refused")
        .collect();
    assert_eq!(refused.len(), 1, "{}", run.stdout);
    assert_eq!(refused[0]["class"], "capacity");
    assert!(
        refused[0]["error"]
            .as_str()
            .is_some_and(|e| e.contains("InsufficientInstanceCapacity") && e.contains("us-east-1a")),
        "{}",
        refused[0]
    );
    let groups = moto.boto3(
        "eks = client('eks')\n\
         for name in eks.list_nodegroups(clusterName='gpu')['nodegroups']:\n\
         \x20   g = eks.describe_nodegroup(clusterName='gpu', nodegroupName=name)['nodegroup']\n\
         \x20   print(json.dumps({'name': name, 'status': g['status'], 'subnets': g['subnets']}))\n",
    );
    let groups: Vec<serde_json::Value> = groups
        .lines()
        .map(|l| serde_json::from_str(l).expect("json line"))
        .collect();
    assert_eq!(groups.len(), 1, "the failed group is gone: {groups:?}");
    assert_eq!(groups[0]["status"], "ACTIVE");
    assert_eq!(
        groups[0]["subnets"],
        serde_json::json!([stack.state_id("aws_subnet.b")])
    );
    let state = stack.state_attr("aws_eks_node_group.h100", "subnet_ids");
    assert_eq!(state, serde_json::json!([stack.state_id("aws_subnet.b")]));
    moto.set_faults(&serde_json::json!({}));
    stack.assert_no_changes();
    stack.destroy();
}

/// A module with network and instance, placed in us-east-1a first and us-east-1b as its
/// alternative.
const MODULE: &str = r#"
variable "zone" {
  type    = string
  default = "us-east-1a"
}

variable "ami" {
  type = string
}

resource "aws_vpc" "net" {
  cidr_block = "10.20.0.0/16"
}

resource "aws_subnet" "zone" {
  vpc_id            = aws_vpc.net.id
  cidr_block        = "10.20.1.0/24"
  availability_zone = var.zone
}

resource "aws_instance" "node" {
  ami           = var.ami
  instance_type = "p5.48xlarge"
  subnet_id     = aws_subnet.zone.id
}

output "zone" {
  value = aws_instance.node.availability_zone
}
"#;

/// VPCs, subnets and instances gantry made, as boto3 sees them (by gantry's address tag):
/// one `KIND ADDRESS ZONE` line each.
fn made_by_gantry(moto: &Moto) -> Vec<String> {
    let out = moto.boto3(
        "ec2 = session.client('ec2', endpoint_url=ENDPOINT, region_name='us-east-1')\n\
         tag = lambda o: {t['Key']: t['Value'] for t in o.get('Tags', [])}.get('gantry:address')\n\
         for v in ec2.describe_vpcs()['Vpcs']:\n\
         \x20   if tag(v): print('vpc', tag(v), '-')\n\
         for s in ec2.describe_subnets()['Subnets']:\n\
         \x20   if tag(s): print('subnet', tag(s), s['AvailabilityZone'])\n\
         for r in ec2.describe_instances()['Reservations']:\n\
         \x20   for i in r['Instances']:\n\
         \x20       if i['State']['Name'] not in ('terminated', 'shutting-down') and tag(i):\n\
         \x20           print('instance', tag(i), i['Placement']['AvailabilityZone'])\n",
    );
    let mut lines: Vec<String> = out.lines().map(str::to_owned).collect();
    lines.sort();
    lines
}

/// Module failover against moto: no p5.48xlarge in us-east-1a, so the module's first
/// placement is refused; its VPC and subnet there are deleted, and the alternative in
/// us-east-1b holds. boto3 reads back exactly the second placement's objects.
#[test]
fn a_module_without_capacity_is_torn_down_and_placed_in_the_next_zone() {
    let moto = Moto::start();
    let ami = moto.an_ami();
    moto.set_faults(&serde_json::json!({
        "capacity": [{"instance_type": "p5.48xlarge", "zone": "us-east-1a"}]
    }));
    let stack = moto.stack();
    let modules = stack.path().join("modules/nodes");
    std::fs::create_dir_all(&modules).expect("module dir");
    std::fs::write(modules.join("main.hcl"), MODULE).expect("write module");
    stack.write(&format!(
        r#"
provider "aws" {{
  region = "us-east-1"
}}

module "nodes" {{
  source = "./modules/nodes"
  ami    = "{ami}"

  failover {{
    alternative {{
      zone = "us-east-1b"
    }}
  }}
}}

output "zone" {{
  value = module.nodes.zone
}}
"#
    ));
    let run = stack.gantry(&["apply", "--auto-approve", "--json"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let refused: Vec<serde_json::Value> = run
        .stdout
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["type"] == "module_failover_refused")
        .collect();
    assert_eq!(refused.len(), 1, "{}", run.stdout);
    assert_eq!(refused[0]["code"], "InsufficientInstanceCapacity");
    assert_eq!(refused[0]["address"], "module.nodes.aws_instance.node");
    assert_eq!(
        made_by_gantry(&moto),
        vec![
            "instance module.nodes.aws_instance.node us-east-1b",
            "subnet module.nodes.aws_subnet.zone us-east-1b",
            "vpc module.nodes.aws_vpc.net -",
        ],
        "only the holding placement's objects exist"
    );
    assert_eq!(
        stack.state_id("module.nodes.aws_instance.node"),
        live_instances(&moto)[0]["id"].as_str().unwrap_or_default()
    );
    moto.set_faults(&serde_json::json!({}));
    stack.assert_no_changes();
    stack.destroy();
    assert!(made_by_gantry(&moto).is_empty());
}

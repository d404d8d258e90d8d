//! Crash soak against moto: an apply (or destroy) is killed with SIGKILL at a random moment,
//! the next apply runs to completion, and then everything moto holds is compared with
//! state, read independently through the AWS SDK: every object is in state exactly once,
//! nothing else carries the stack's identity, and a final destroy leaves nothing behind.
//!
//! `GANTRY_AWS_SOAK_TRIALS` sets the number of trials of each soak (20 in the suite).

use super::support::{block_on, Moto, Stack};
use std::collections::{BTreeMap, BTreeSet};
use std::process::{Command, Stdio};
use std::time::Duration;

fn trials() -> u32 {
    std::env::var("GANTRY_AWS_SOAK_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20)
}

/// One object in moto: what kind, its id (as state records it), and its gantry tags.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Object {
    kind: &'static str,
    id: String,
    stack: Option<String>,
}

type Tags = BTreeMap<String, String>;

fn ec2_tags(tags: &[aws_sdk_ec2::types::Tag]) -> Tags {
    tags.iter()
        .filter_map(|t| Some((t.key()?.to_owned(), t.value().unwrap_or("").to_owned())))
        .collect()
}

fn object(kind: &'static str, id: &str, tags: &Tags) -> Object {
    Object {
        kind,
        id: id.to_owned(),
        stack: tags.get("gantry:stack").cloned(),
    }
}

/// Everything in moto that a stack could have made (AWS's own defaults left out).
fn inventory(moto: &Moto) -> Vec<Object> {
    let ec2 = moto.ec2();
    let iam = moto.iam();
    let s3 = moto.s3();
    block_on(async {
        let mut out = Vec::new();
        let vpcs = ec2.describe_vpcs().send().await.expect("DescribeVpcs");
        for v in vpcs
            .vpcs()
            .iter()
            .filter(|v| !v.is_default().unwrap_or(false))
        {
            out.push(object("vpc", v.vpc_id().unwrap_or(""), &ec2_tags(v.tags())));
        }
        let subnets = ec2
            .describe_subnets()
            .send()
            .await
            .expect("DescribeSubnets");
        for s in subnets
            .subnets()
            .iter()
            .filter(|s| !s.default_for_az().unwrap_or(false))
        {
            out.push(object(
                "subnet",
                s.subnet_id().unwrap_or(""),
                &ec2_tags(s.tags()),
            ));
        }
        let groups = ec2
            .describe_security_groups()
            .send()
            .await
            .expect("DescribeSecurityGroups");
        for g in groups
            .security_groups()
            .iter()
            .filter(|g| g.group_name() != Some("default"))
        {
            out.push(object(
                "security_group",
                g.group_id().unwrap_or(""),
                &ec2_tags(g.tags()),
            ));
        }
        let reservations = ec2
            .describe_instances()
            .send()
            .await
            .expect("DescribeInstances");
        for i in reservations
            .reservations()
            .iter()
            .flat_map(|r| r.instances())
        {
            let gone = i
                .state()
                .and_then(|s| s.name())
                .is_some_and(|n| n.as_str() == "terminated" || n.as_str() == "shutting-down");
            if !gone {
                out.push(object(
                    "instance",
                    i.instance_id().unwrap_or(""),
                    &ec2_tags(i.tags()),
                ));
            }
        }
        let igws = ec2
            .describe_internet_gateways()
            .send()
            .await
            .expect("DescribeInternetGateways");
        for g in igws.internet_gateways() {
            let attached_to_default = g.attachments().iter().any(|a| {
                vpcs.vpcs()
                    .iter()
                    .any(|v| v.is_default().unwrap_or(false) && v.vpc_id() == a.vpc_id())
            });
            if !attached_to_default {
                out.push(object(
                    "internet_gateway",
                    g.internet_gateway_id().unwrap_or(""),
                    &ec2_tags(g.tags()),
                ));
            }
        }
        let tables = ec2
            .describe_route_tables()
            .send()
            .await
            .expect("DescribeRouteTables");
        for t in tables.route_tables() {
            let main = t.associations().iter().any(|a| a.main().unwrap_or(false));
            if !main {
                out.push(object(
                    "route_table",
                    t.route_table_id().unwrap_or(""),
                    &ec2_tags(t.tags()),
                ));
            }
        }
        let templates = ec2
            .describe_launch_templates()
            .send()
            .await
            .expect("DescribeLaunchTemplates");
        for t in templates.launch_templates() {
            out.push(object(
                "launch_template",
                t.launch_template_id().unwrap_or(""),
                &ec2_tags(t.tags()),
            ));
        }
        let pgs = ec2
            .describe_placement_groups()
            .send()
            .await
            .expect("DescribePlacementGroups");
        for g in pgs.placement_groups() {
            out.push(object(
                "placement_group",
                g.group_name().unwrap_or(""),
                &ec2_tags(g.tags()),
            ));
        }
        let roles = iam
            .list_roles()
            .max_items(1000)
            .send()
            .await
            .expect("ListRoles");
        for r in roles
            .roles()
            .iter()
            .filter(|r| !r.path().starts_with("/aws-service-role/"))
        {
            let tags = iam
                .list_role_tags()
                .role_name(r.role_name())
                .send()
                .await
                .expect("ListRoleTags");
            let tags: Tags = tags
                .tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned()))
                .collect();
            out.push(object("iam_role", r.role_name(), &tags));
        }
        let buckets = s3.list_buckets().send().await.expect("ListBuckets");
        for b in buckets.buckets() {
            let name = b.name().unwrap_or("");
            let tags = match s3.get_bucket_tagging().bucket(name).send().await {
                Ok(t) => t
                    .tag_set()
                    .iter()
                    .map(|t| (t.key().to_owned(), t.value().to_owned()))
                    .collect(),
                Err(_) => Tags::new(),
            };
            out.push(object("s3_bucket", name, &tags));
        }
        out.sort();
        out
    })
}

/// The ids state records, by address.
fn state_ids(stack: &Stack<'_>) -> (String, BTreeMap<String, String>) {
    let text = std::fs::read_to_string(stack.path().join(".gantry/state.json")).expect("state");
    let state: serde_json::Value = serde_json::from_str(&text).expect("state json");
    let lineage = state["lineage"].as_str().unwrap_or_default().to_owned();
    let mut ids = BTreeMap::new();
    if let Some(resources) = state["resources"].as_object() {
        for (address, r) in resources {
            if r["mode"] == "managed" {
                if let Some(id) = r["attributes"]["id"].as_str() {
                    ids.insert(address.clone(), id.to_owned());
                }
            }
        }
    }
    (lineage, ids)
}

/// Kills `gantry ARGS` with SIGKILL after `after`.
fn kill_after(stack: &Stack<'_>, moto: &Moto, args: &[&str], after: Duration) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gantry"));
    cmd.args(args)
        .current_dir(stack.path())
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    for (k, _) in std::env::vars() {
        if k.starts_with("GANTRY_") || k.starts_with("AWS_") {
            cmd.env_remove(k);
        }
    }
    for (k, v) in moto.env() {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("spawn gantry");
    std::thread::sleep(after);
    let _ = child.kill();
    let _ = child.wait();
}

/// Runs the trials: kill, finish, compare moto with state. Objects carrying `ignore` as
/// their stack identity (a neighbour stack's) are left out of the comparison.
fn soak(
    moto: &Moto,
    stack: &Stack<'_>,
    expected: usize,
    window_ms: (u64, u64),
    ignore: Option<&str>,
) {
    let ours = |objects: Vec<Object>| -> Vec<Object> {
        objects
            .into_iter()
            .filter(|o| ignore.is_none() || o.stack.as_deref() != ignore)
            .collect()
    };
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    for trial in 0..trials() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let delay = window_ms.0 + seed % (window_ms.1 - window_ms.0);
        // Most trials kill an apply; every fourth kills a destroy, so deletes are killed
        // half-way too.
        let verb = if trial % 4 == 3 { "destroy" } else { "apply" };
        kill_after(
            stack,
            moto,
            &[verb, "--auto-approve"],
            Duration::from_millis(delay),
        );
        let finish = stack.gantry(&["apply", "--auto-approve"]);
        let when = format!("trial {trial} (killed {verb} after {delay} ms)");
        assert_eq!(
            finish.code,
            0,
            "{when}: the next apply failed:\n{}",
            finish.both()
        );
        let (lineage, ids) = state_ids(stack);
        assert_eq!(ids.len(), expected, "{when}: {:?}", ids.keys());
        let objects = ours(inventory(moto));
        let in_state: BTreeSet<&str> = ids.values().map(String::as_str).collect();
        let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
        for o in &objects {
            *seen.entry(o.id.as_str()).or_default() += 1;
            assert!(
                in_state.contains(o.id.as_str()),
                "{when}: {} {} exists in moto but not in state (stack tag {:?})",
                o.kind,
                o.id,
                o.stack
            );
            assert_eq!(
                o.stack.as_deref(),
                Some(lineage.as_str()),
                "{when}: {} {} does not carry this stack's identity",
                o.kind,
                o.id
            );
        }
        for (address, id) in &ids {
            if INVENTORIED
                .iter()
                .any(|t| address.starts_with(&format!("{t}.")))
            {
                assert_eq!(
                    seen.get(id.as_str()).copied(),
                    Some(1),
                    "{when}: `{address}` ({id}) is not in moto exactly once"
                );
            }
        }
    }
    stack.destroy();
    let left = ours(inventory(moto));
    assert!(left.is_empty(), "destroy left objects behind: {left:?}");
}

/// The resource types [`inventory`] lists.
const INVENTORIED: &[&str] = &[
    "aws_vpc",
    "aws_subnet",
    "aws_security_group",
    "aws_instance",
    "aws_internet_gateway",
    "aws_route_table",
    "aws_launch_template",
    "aws_placement_group",
    "aws_iam_role",
    "aws_s3_bucket",
];

const CROWD: &str = r#"
resource "aws_vpc" "main" {
  cidr_block = "10.9.0.0/16"
}

resource "aws_subnet" "main" {
  vpc_id     = aws_vpc.main.id
  cidr_block = "10.9.1.0/24"
}

resource "aws_iam_role" "worker" {
  count = 30
  name  = "soak-worker-${count.index}"
  assume_role_policy = jsonencode({
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Action = "sts:AssumeRole", Principal = { Service = "ec2.amazonaws.com" } }]
  })
}

resource "aws_s3_bucket" "data" {
  count  = 10
  bucket = "gantry-soak-data-${count.index}"
}

resource "aws_security_group" "tier" {
  count  = 10
  name   = "soak-tier-${count.index}"
  vpc_id = aws_vpc.main.id
}

resource "aws_instance" "node" {
  count                  = 10
  ami                    = "ami-12c6146b"
  instance_type          = "t3.micro"
  subnet_id              = aws_subnet.main.id
  vpc_security_group_ids = [aws_security_group.tier[count.index].id]
}
"#;

#[test]
fn sigkill_at_random_moments_of_a_crowded_stack_loses_nothing_and_adopts_nothing_foreign() {
    let moto = Moto::start();
    // A second stack from the same configuration in the same account and region (other
    // names, the same addresses): recovery of the first never adopts its objects, and the
    // first's destroy never touches them.
    let neighbour = moto.stack();
    neighbour.write(
        &CROWD
            .replace("soak-", "next-")
            .replace("gantry-soak-data", "gantry-next-data")
            .replace("10.9.", "10.8."),
    );
    neighbour.apply();
    let (neighbour_lineage, neighbour_ids) = state_ids(&neighbour);
    let theirs = |objects: Vec<Object>| -> Vec<Object> {
        objects
            .into_iter()
            .filter(|o| o.stack.as_deref() == Some(neighbour_lineage.as_str()))
            .collect()
    };
    let before = theirs(inventory(&moto));
    assert_eq!(before.len(), neighbour_ids.len(), "{before:?}");
    let stack = moto.stack();
    stack.write(CROWD);
    soak(&moto, &stack, 62, (300, 2500), Some(&neighbour_lineage));
    assert_eq!(
        theirs(inventory(&moto)),
        before,
        "the neighbour's objects are untouched"
    );
    neighbour.assert_no_changes();
    neighbour.destroy();
}

#[test]
fn sigkill_at_random_moments_of_the_gpu_cluster_example_loses_nothing() {
    let moto = Moto::start();
    let stack = moto.stack();
    let example = super::support::repo_root().join("examples/aws-gpu-cluster");
    for entry in std::fs::read_dir(&example).expect("example dir") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "hcl") {
            std::fs::copy(&path, stack.path().join(path.file_name().expect("name")))
                .expect("copy example");
        }
    }
    stack.apply();
    let expected = state_ids(&stack).1.len();
    stack.destroy();
    soak(&moto, &stack, expected, (300, 2500), None);
}

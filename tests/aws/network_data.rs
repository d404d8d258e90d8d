//! The network data sources against moto: `aws_availability_zones`,
//! `aws_ec2_instance_type` and `aws_ec2_instance_type_offerings`, read by `gantry apply` of a
//! stack whose outputs carry them, and `gantry output --json` compared with what the SDK
//! returns for the same questions.

use crate::support::{block_on, Moto, Stack};
use aws_sdk_ec2::types::{Filter, InstanceType, LocationType};
use serde_json::{json, Value};

const STACK: &str = r#"
provider "aws" {
  region = "us-east-1"
}

data "aws_availability_zones" "available" {
  state = "available"
}

data "aws_availability_zones" "some" {
  exclude_names = ["us-east-1a"]
  filter {
    name   = "zone-name"
    values = ["us-east-1a", "us-east-1b", "us-east-1c"]
  }
}

data "aws_ec2_instance_type" "h100" {
  instance_type = "p5.48xlarge"
}

data "aws_ec2_instance_type" "cpu" {
  instance_type = "m5.large"
}

data "aws_ec2_instance_type_offerings" "h100_zones" {
  location_type = "availability-zone"
  filter {
    name   = "instance-type"
    values = ["p5.48xlarge"]
  }
}

output "zone_names" { value = data.aws_availability_zones.available.names }
output "zone_ids" { value = data.aws_availability_zones.available.zone_ids }
output "zone_groups" { value = data.aws_availability_zones.available.group_names }
output "zone_region" { value = data.aws_availability_zones.available.id }
output "some_zones" { value = data.aws_availability_zones.some.names }

output "h100_gpus" { value = data.aws_ec2_instance_type.h100.gpus }
output "h100_total_gpu_memory" { value = data.aws_ec2_instance_type.h100.total_gpu_memory }
output "h100_efa" { value = data.aws_ec2_instance_type.h100.efa_supported }
output "h100_efa_interfaces" { value = data.aws_ec2_instance_type.h100.efa_maximum_interfaces }
output "h100_vcpus" { value = data.aws_ec2_instance_type.h100.default_vcpus }
output "h100_memory" { value = data.aws_ec2_instance_type.h100.memory_size }
output "h100_enis" { value = data.aws_ec2_instance_type.h100.maximum_network_interfaces }
output "h100_network" { value = data.aws_ec2_instance_type.h100.network_performance }
output "cpu_gpus" { value = data.aws_ec2_instance_type.cpu.gpus }
output "cpu_efa" { value = data.aws_ec2_instance_type.cpu.efa_supported }

output "offered_types" { value = data.aws_ec2_instance_type_offerings.h100_zones.instance_types }
output "offered_in" { value = data.aws_ec2_instance_type_offerings.h100_zones.locations }
output "offered_kinds" { value = data.aws_ec2_instance_type_offerings.h100_zones.location_types }
"#;

/// `gantry output --json`, as name -> value.
fn outputs(stack: &Stack<'_>) -> Value {
    let run = stack.gantry(&["output", "--json"]);
    assert_eq!(run.code, 0, "{}", run.both());
    let all: Value = serde_json::from_str(run.stdout.trim()).expect("output json");
    let map = all
        .as_object()
        .expect("object")
        .iter()
        .map(|(k, v)| (k.clone(), v["value"].clone()))
        .collect();
    Value::Object(map)
}

/// A JSON list sorted (set-valued outputs come in the set's order, not the API's).
fn sorted(v: &Value) -> Vec<String> {
    let mut items: Vec<String> = v
        .as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(ToString::to_string)
        .collect();
    items.sort();
    items
}

#[test]
fn availability_zones_instance_type_and_offerings_match_the_sdk() {
    let moto = Moto::start();
    let ec2 = moto.ec2();
    let stack = moto.stack();
    stack.write(STACK);
    stack.apply();
    let out = outputs(&stack);

    // Availability zones: what DescribeAvailabilityZones says, sorted by name.
    let zones = block_on(
        ec2.describe_availability_zones()
            .filters(Filter::builder().name("state").values("available").build())
            .send(),
    )
    .expect("zones");
    let mut zones: Vec<_> = zones.availability_zones().to_vec();
    zones.sort_by_key(|z| z.zone_name().unwrap_or_default().to_owned());
    let names: Vec<&str> = zones
        .iter()
        .map(|z| z.zone_name().unwrap_or_default())
        .collect();
    let ids: Vec<&str> = zones
        .iter()
        .map(|z| z.zone_id().unwrap_or_default())
        .collect();
    assert!(names.len() >= 3, "{names:?}");
    assert_eq!(out["zone_names"], json!(names));
    assert_eq!(out["zone_ids"], json!(ids));
    assert_eq!(out["zone_groups"], json!(["us-east-1"]));
    assert_eq!(out["zone_region"], json!("us-east-1"));
    assert_eq!(out["some_zones"], json!(["us-east-1b", "us-east-1c"]));

    // One instance type: GPUs, EFA and networking, under Terraform's names.
    let types = block_on(
        ec2.describe_instance_types()
            .instance_types(InstanceType::P548xlarge)
            .send(),
    )
    .expect("instance types");
    let info = &types.instance_types()[0];
    let gpu = info.gpu_info().expect("p5 has GPUs");
    let gpus: Vec<Value> = gpu
        .gpus()
        .iter()
        .map(|g| {
            json!({
                "count": g.count(),
                "manufacturer": g.manufacturer(),
                "memory_size": g.memory_info().and_then(|m| m.size_in_mib()),
                "name": g.name(),
            })
        })
        .collect();
    assert_eq!(out["h100_gpus"], json!(gpus));
    assert_eq!(
        out["h100_total_gpu_memory"],
        json!(gpu.total_gpu_memory_in_mib())
    );
    let net = info.network_info().expect("network info");
    assert_eq!(out["h100_efa"], json!(net.efa_supported()));
    assert_eq!(out["h100_efa"], json!(true));
    assert_eq!(
        out["h100_efa_interfaces"],
        json!(net.efa_info().and_then(|e| e.maximum_efa_interfaces()))
    );
    assert_eq!(out["h100_enis"], json!(net.maximum_network_interfaces()));
    assert_eq!(out["h100_network"], json!(net.network_performance()));
    assert_eq!(
        out["h100_vcpus"],
        json!(info.v_cpu_info().and_then(|v| v.default_v_cpus()))
    );
    assert_eq!(
        out["h100_memory"],
        json!(info.memory_info().and_then(|m| m.size_in_mib()))
    );
    // A type without GPUs: an empty set, not an error.
    assert_eq!(out["cpu_gpus"], json!([]));
    assert_eq!(out["cpu_efa"], json!(false));

    // Offerings by zone: the same (type, zone) pairs as the SDK, in the SDK's order.
    let offers = block_on(
        ec2.describe_instance_type_offerings()
            .location_type(LocationType::AvailabilityZone)
            .filters(
                Filter::builder()
                    .name("instance-type")
                    .values("p5.48xlarge")
                    .build(),
            )
            .send(),
    )
    .expect("offerings");
    let offers = offers.instance_type_offerings();
    assert!(!offers.is_empty());
    let types: Vec<&str> = offers
        .iter()
        .map(|o| o.instance_type().map_or("", |t| t.as_str()))
        .collect();
    let locations: Vec<&str> = offers
        .iter()
        .map(|o| o.location().unwrap_or_default())
        .collect();
    assert_eq!(out["offered_types"], json!(types));
    assert_eq!(out["offered_in"], json!(locations));
    assert_eq!(
        sorted(&out["offered_kinds"]),
        vec!["\"availability-zone\"".to_owned(); offers.len()]
    );
}

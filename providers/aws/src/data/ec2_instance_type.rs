//! `aws_ec2_instance_type`: what one instance type offers (vCPUs, memory, GPUs, Neuron
//! devices, EFA, networking), with Terraform's attribute names (`efa_maximum_interfaces`,
//! memory sizes in MiB).

use super::DataSource;
use crate::attrs::{num, Attrs, Obj};
use crate::errors::sdk_error;
use crate::resources::Cx;
use aws_sdk_ec2::types::{InstanceType, InstanceTypeInfo};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, ObjectAttr, ProviderError, Schema, Type, Value};

pub struct Ec2InstanceType;

/// A set of objects whose fields are all computed (`gpus`, `neuron_devices`).
fn object_set(fields: &[(&str, Type)]) -> Type {
    Type::set(Type::Object(
        fields
            .iter()
            .map(|(k, t)| ((*k).to_owned(), ObjectAttr::required(t.clone())))
            .collect(),
    ))
}

fn gpus_type() -> Type {
    object_set(&[
        ("count", Type::Number),
        ("manufacturer", Type::String),
        ("memory_size", Type::Number),
        ("name", Type::String),
    ])
}

fn neuron_type() -> Type {
    object_set(&[
        ("count", Type::Number),
        ("core_count", Type::Number),
        ("core_version", Type::Number),
        ("memory_size", Type::Number),
        ("name", Type::String),
    ])
}

/// The computed attributes, from the API's description of the type.
fn describe(info: &InstanceTypeInfo, state: &mut Obj) {
    let n = |v: Option<i32>| num(v.unwrap_or(0));
    let vcpu = info.v_cpu_info();
    let net = info.network_info();
    let gpu = info.gpu_info();
    let neuron = info.neuron_info();
    let gpus: Vec<Value> = gpu
        .map(|g| g.gpus())
        .unwrap_or_default()
        .iter()
        .map(|d| {
            Value::map([
                ("count", n(d.count())),
                (
                    "manufacturer",
                    Value::string(d.manufacturer().unwrap_or_default()),
                ),
                (
                    "memory_size",
                    n(d.memory_info().and_then(|m| m.size_in_mib())),
                ),
                ("name", Value::string(d.name().unwrap_or_default())),
            ])
        })
        .collect();
    let neuron_devices: Vec<Value> = neuron
        .map(|i| i.neuron_devices())
        .unwrap_or_default()
        .iter()
        .map(|d| {
            Value::map([
                ("count", n(d.count())),
                ("core_count", n(d.core_info().and_then(|c| c.count()))),
                ("core_version", n(d.core_info().and_then(|c| c.version()))),
                (
                    "memory_size",
                    n(d.memory_info().and_then(|m| m.size_in_mib())),
                ),
                ("name", Value::string(d.name().unwrap_or_default())),
            ])
        })
        .collect();
    let nums = |v: &[i32]| Value::List(v.iter().map(|x| num(*x)).collect());
    let strs = |v: Vec<&str>| Value::List(v.into_iter().map(Value::string).collect());
    #[allow(clippy::cast_precision_loss)]
    let memory = info
        .memory_info()
        .and_then(|m| m.size_in_mib())
        .unwrap_or(0) as f64;
    state
        .set("default_vcpus", n(vcpu.and_then(|v| v.default_v_cpus())))
        .set("default_cores", n(vcpu.and_then(|v| v.default_cores())))
        .set(
            "default_threads_per_core",
            n(vcpu.and_then(|v| v.default_threads_per_core())),
        )
        .set(
            "valid_cores",
            nums(vcpu.map(|v| v.valid_cores()).unwrap_or_default()),
        )
        .set(
            "valid_threads_per_core",
            nums(vcpu.map(|v| v.valid_threads_per_core()).unwrap_or_default()),
        )
        .set("memory_size", Value::Number(memory))
        .set("gpus", Value::set(gpus))
        .set(
            "total_gpu_memory",
            n(gpu.and_then(|g| g.total_gpu_memory_in_mib())),
        )
        .set("neuron_devices", Value::set(neuron_devices))
        .set(
            "total_neuron_device_memory",
            n(neuron.and_then(|i| i.total_neuron_device_memory_in_mib())),
        )
        .set(
            "efa_supported",
            net.and_then(|x| x.efa_supported()).unwrap_or(false),
        )
        .set(
            "efa_maximum_interfaces",
            n(net
                .and_then(|x| x.efa_info())
                .and_then(|e| e.maximum_efa_interfaces())),
        )
        .set(
            "ena_support",
            net.and_then(|x| x.ena_support())
                .map(|e| e.as_str())
                .unwrap_or_default(),
        )
        .set(
            "ipv6_supported",
            net.and_then(|x| x.ipv6_supported()).unwrap_or(false),
        )
        .set(
            "maximum_network_interfaces",
            n(net.and_then(|x| x.maximum_network_interfaces())),
        )
        .set(
            "maximum_network_cards",
            n(net.and_then(|x| x.maximum_network_cards())),
        )
        .set(
            "network_performance",
            net.and_then(|x| x.network_performance())
                .unwrap_or_default(),
        )
        .set(
            "supported_architectures",
            strs(
                info.processor_info()
                    .map(|p| {
                        p.supported_architectures()
                            .iter()
                            .map(|a| a.as_str())
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
        )
        .set(
            "sustained_clock_speed",
            Value::Number(
                info.processor_info()
                    .and_then(|p| p.sustained_clock_speed_in_ghz())
                    .unwrap_or(0.0),
            ),
        )
        .set(
            "supported_placement_strategies",
            strs(
                info.placement_group_info()
                    .map(|p| {
                        p.supported_strategies()
                            .iter()
                            .map(|s| s.as_str())
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
        )
        .set(
            "current_generation",
            info.current_generation().unwrap_or(false),
        )
        .set("bare_metal", info.bare_metal().unwrap_or(false))
        .set(
            "hypervisor",
            info.hypervisor().map(|h| h.as_str()).unwrap_or_default(),
        );
}

#[async_trait]
impl DataSource for Ec2InstanceType {
    fn name(&self) -> &'static str {
        "aws_ec2_instance_type"
    }

    fn schema(&self) -> Schema {
        let computed = |t: Type| Attribute::computed(t);
        let mut s = Schema::default()
            .attr("id", computed(Type::String))
            .attr("instance_type", Attribute::required(Type::String))
            .attr("gpus", computed(gpus_type()))
            .attr("neuron_devices", computed(neuron_type()))
            .attr("valid_cores", computed(Type::list(Type::Number)))
            .attr("valid_threads_per_core", computed(Type::list(Type::Number)))
            .attr(
                "supported_architectures",
                computed(Type::list(Type::String)),
            )
            .attr(
                "supported_placement_strategies",
                computed(Type::list(Type::String)),
            );
        for name in [
            "default_vcpus",
            "default_cores",
            "default_threads_per_core",
            "memory_size",
            "total_gpu_memory",
            "total_neuron_device_memory",
            "efa_maximum_interfaces",
            "maximum_network_interfaces",
            "maximum_network_cards",
            "sustained_clock_speed",
        ] {
            s = s.attr(name, computed(Type::Number));
        }
        for name in [
            "efa_supported",
            "ipv6_supported",
            "current_generation",
            "bare_metal",
        ] {
            s = s.attr(name, computed(Type::Bool));
        }
        for name in ["ena_support", "network_performance", "hypervisor"] {
            s = s.attr(name, computed(Type::String));
        }
        s
    }

    async fn read(&self, cx: &Cx<'_>, config: &Value) -> Result<Value> {
        let name = Attrs(config).req_str("instance_type")?;
        let out = cx
            .clients()
            .ec2
            .describe_instance_types()
            .instance_types(InstanceType::from(name))
            .send()
            .await
            .map_err(|e| sdk_error("DescribeInstanceTypes", e))?;
        let info = match out.instance_types() {
            [one] => one,
            [] => {
                return Err(ProviderError::not_found(format!(
                    "no EC2 instance type `{name}` in {}",
                    cx.region()
                )))
            }
            _ => {
                return Err(ProviderError::invalid(format!(
                    "more than one EC2 instance type matched `{name}`"
                )))
            }
        };
        let mut state = Obj::from(config);
        state.set("id", name);
        describe(info, &mut state);
        Ok(state.into_value())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::{
        EfaInfo, GpuDeviceInfo, GpuDeviceMemoryInfo, GpuInfo, NetworkInfo, VCpuInfo,
    };

    #[test]
    fn gpus_and_efa_use_terraform_names() {
        let info = InstanceTypeInfo::builder()
            .v_cpu_info(VCpuInfo::builder().default_v_cpus(192).build())
            .gpu_info(
                GpuInfo::builder()
                    .gpus(
                        GpuDeviceInfo::builder()
                            .name("H100")
                            .manufacturer("NVIDIA")
                            .count(8)
                            .memory_info(GpuDeviceMemoryInfo::builder().size_in_mib(81920).build())
                            .build(),
                    )
                    .total_gpu_memory_in_mib(655_360)
                    .build(),
            )
            .network_info(
                NetworkInfo::builder()
                    .efa_supported(true)
                    .efa_info(EfaInfo::builder().maximum_efa_interfaces(32).build())
                    .network_performance("3200 Gigabit")
                    .build(),
            )
            .build();
        let mut state = Obj::new();
        describe(&info, &mut state);
        let v = state.into_value();
        let a = Attrs(&v);
        assert_eq!(a.i32("default_vcpus"), Some(192));
        assert_eq!(a.bool("efa_supported"), Some(true));
        assert_eq!(a.i32("efa_maximum_interfaces"), Some(32));
        assert_eq!(a.i32("total_gpu_memory"), Some(655_360));
        assert_eq!(a.str("network_performance"), Some("3200 Gigabit"));
        let gpu = a.blocks("gpus");
        assert_eq!(gpu.len(), 1);
        assert_eq!(gpu[0].str("name"), Some("H100"));
        assert_eq!(gpu[0].i32("count"), Some(8));
        assert_eq!(gpu[0].i32("memory_size"), Some(81920));
        // Every attribute of the schema is set, so a reference never finds a gap.
        let schema = Ec2InstanceType.schema();
        for name in schema.attributes.keys() {
            if name != "id" && name != "instance_type" {
                assert!(v.as_map().is_some_and(|m| m.contains_key(name)), "{name}");
            }
        }
    }
}

//! Accelerator functions: a stack names what it needs (`H100:8`, `L4`, `tpu-v5e:16`) and
//! these answer from the accelerator catalog with the instance type, zones, topology and
//! facts (EFA interfaces, GPU memory, prices) on a cloud and region.
//!
//! `accelerator_instance_type("aws", "H100:8", "us-east-1")` is `"p5.48xlarge"`; a spec the
//! catalog cannot satisfy there is an error listing where it is offered.

use super::args::{fixed, string};
use super::{FnContext, FnError, FunctionDef};
use crate::catalog::{self, Catalog, InstanceType, Spec};
use gantry_provider::Value;
use std::collections::BTreeMap;

pub(super) fn functions() -> Vec<FunctionDef> {
    vec![
        fixed(
            "accelerator_instance_type",
            "accelerator_instance_type(cloud, spec, region)",
            3,
            accelerator_instance_type,
        ),
        fixed(
            "accelerator_instance_types",
            "accelerator_instance_types(cloud, spec, region)",
            3,
            accelerator_instance_types,
        ),
        fixed(
            "accelerator_zones",
            "accelerator_zones(cloud, spec, region)",
            3,
            accelerator_zones,
        ),
        fixed(
            "accelerator_offered",
            "accelerator_offered(cloud, spec, region)",
            3,
            accelerator_offered,
        ),
        fixed(
            "accelerator_count",
            "accelerator_count(spec)",
            1,
            accelerator_count,
        ),
        fixed(
            "accelerator_topology",
            "accelerator_topology(spec)",
            1,
            accelerator_topology,
        ),
        fixed(
            "instance_type_info",
            "instance_type_info(cloud, instance_type)",
            2,
            instance_type_info,
        ),
    ]
}

fn spec_arg(args: &[Value], index: usize) -> Result<Spec, FnError> {
    Spec::parse(&string(args, index)?).map_err(|e| FnError::arg(index, e.to_string()))
}

/// cloud, spec, region.
fn where_args(args: &[Value]) -> Result<(String, Spec, String), FnError> {
    Ok((string(args, 0)?, spec_arg(args, 1)?, string(args, 2)?))
}

fn accelerator_instance_type(ctx: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let (cloud, spec, region) = where_args(args)?;
    let offer = ctx
        .catalog
        .choose(&cloud, &spec, &region)
        .map_err(|e| FnError::call(e.to_string()))?;
    Ok(Value::from(offer.instance.type_name.as_str()))
}

fn accelerator_instance_types(ctx: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let (cloud, spec, region) = where_args(args)?;
    let offers = ctx
        .catalog
        .offers_for(&cloud, &spec, &region)
        .map_err(|e| FnError::call(e.to_string()))?;
    Ok(Value::List(
        offers
            .iter()
            .map(|o| Value::from(o.instance.type_name.as_str()))
            .collect(),
    ))
}

fn accelerator_zones(ctx: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let (cloud, spec, region) = where_args(args)?;
    let offer = ctx
        .catalog
        .choose(&cloud, &spec, &region)
        .map_err(|e| FnError::call(e.to_string()))?;
    Ok(Value::List(
        offer
            .region
            .zones
            .iter()
            .map(|z| Value::from(z.as_str()))
            .collect(),
    ))
}

fn accelerator_offered(ctx: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let (cloud, spec, region) = where_args(args)?;
    match ctx.catalog.choose(&cloud, &spec, &region) {
        Ok(_) => Ok(Value::Bool(true)),
        Err(catalog::Unsatisfied::NotOffered { .. }) => Ok(Value::Bool(false)),
        Err(e) => Err(FnError::call(e.to_string())),
    }
}

fn accelerator_count(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    Ok(Value::Number(f64::from(spec_arg(args, 0)?.count)))
}

/// The TPU slice topology for a chip count: `tpu-v5e:16` -> `4x4`.
fn accelerator_topology(ctx: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let spec = spec_arg(args, 0)?;
    let catalog = ctx.catalog;
    let slices = catalog
        .satisfying(None, &spec)
        .map_err(|e| FnError::call(e.to_string()))?;
    match slices.iter().find_map(|i| i.topology.as_deref()) {
        Some(t) => Ok(Value::from(t)),
        None if slices.is_empty() => Err(FnError::call(format!(
            "no TPU slice in the catalog has `{spec}`; slices: {}",
            tpu_sizes(catalog, &spec.accelerator)
        ))),
        None => Err(FnError::arg(
            0,
            format!(
                "`{}` is not a TPU: only TPU slices have a topology",
                spec.accelerator
            ),
        )),
    }
}

fn tpu_sizes(catalog: &Catalog, accelerator: &str) -> String {
    let name = catalog
        .accelerator(accelerator)
        .map(|a| a.name.clone())
        .unwrap_or_default();
    let mut sizes: Vec<u32> = catalog
        .instances()
        .iter()
        .filter(|i| i.accelerator == name && i.topology.is_some())
        .map(|i| i.accelerator_count)
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    sizes
        .iter()
        .map(|n| format!("{name}:{n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn instance_type_info(ctx: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let cloud = string(args, 0)?;
    let type_name = string(args, 1)?;
    let catalog = ctx.catalog;
    let instance = catalog.instance(&cloud, &type_name).ok_or_else(|| {
        FnError::arg(
            1,
            format!("the catalog has no {cloud} instance type `{type_name}`; `gantry catalog --cloud {cloud}` lists them"),
        )
    })?;
    Ok(info(catalog, instance))
}

fn info(catalog: &Catalog, i: &InstanceType) -> Value {
    let memory = catalog
        .accelerator(&i.accelerator)
        .map_or(0.0, |a| a.memory_gib);
    let by_region = |f: &dyn Fn(&catalog::RegionOffer) -> Option<Value>| {
        Value::Map(
            i.regions
                .iter()
                .filter_map(|r| f(r).map(|v| (r.region.clone(), v)))
                .collect::<BTreeMap<_, _>>(),
        )
    };
    let text = |s: &Option<String>| s.as_deref().map_or(Value::Null, Value::from);
    Value::map([
        ("cloud", Value::from(i.cloud.as_str())),
        ("instance_type", Value::from(i.type_name.as_str())),
        ("accelerator", Value::from(i.accelerator.as_str())),
        (
            "accelerator_count",
            Value::Number(f64::from(i.accelerator_count)),
        ),
        ("accelerator_memory_gib", Value::Number(memory)),
        ("vcpus", Value::Number(f64::from(i.vcpus))),
        ("memory_gib", Value::Number(i.memory_gib)),
        ("interconnect", Value::from(i.interconnect.as_str())),
        ("interconnect_gbps", Value::Number(i.interconnect_gbps)),
        ("efa", Value::Bool(i.interconnect == "EFA")),
        (
            "network_interfaces",
            Value::Number(f64::from(i.network_interfaces)),
        ),
        ("quota", text(&i.quota)),
        ("spot_quota", text(&i.spot_quota)),
        ("topology", text(&i.topology)),
        (
            "regions",
            Value::List(
                i.regions
                    .iter()
                    .map(|r| Value::from(r.region.as_str()))
                    .collect(),
            ),
        ),
        (
            "zones",
            by_region(&|r| {
                Some(Value::List(
                    r.zones.iter().map(|z| Value::from(z.as_str())).collect(),
                ))
            }),
        ),
        (
            "on_demand_hourly",
            by_region(&|r| Some(Value::Number(r.on_demand))),
        ),
        ("spot_hourly", by_region(&|r| r.spot.map(Value::Number))),
    ])
}

#[cfg(test)]
mod tests {
    use super::super::test_support::run;
    use super::*;

    fn s(v: &str) -> Value {
        Value::from(v)
    }

    #[test]
    fn specs_pick_the_cheapest_instance_type_in_the_region() {
        let t = run(
            "accelerator_instance_type",
            vec![s("aws"), s("H100:8"), s("us-east-1")],
        );
        assert_eq!(t, Ok(s("p5.48xlarge")));
        let l4 = run(
            "accelerator_instance_type",
            vec![s("aws"), s("L4"), s("us-east-1")],
        );
        assert_eq!(l4, Ok(s("g6.xlarge")));
        let all = run(
            "accelerator_instance_types",
            vec![s("aws"), s("l4:1"), s("us-east-1")],
        );
        let Ok(Value::List(types)) = all else {
            panic!("{all:?}")
        };
        assert!(types.len() > 1 && types[0] == s("g6.xlarge"), "{types:?}");
    }

    #[test]
    fn unsatisfiable_specs_say_where_they_are_offered() {
        let err = run(
            "accelerator_instance_type",
            vec![s("aws"), s("H100:8"), s("sa-east-9")],
        );
        let Err(FnError::Call(message)) = err else {
            panic!("{err:?}")
        };
        assert!(
            message.contains("not offered on aws in sa-east-9"),
            "{message}"
        );
        assert!(
            message.contains("aws p5.48xlarge in us-east-1"),
            "{message}"
        );
        assert!(message.contains("gcp a3-highgpu-8g"), "{message}");
        let err = run(
            "accelerator_instance_type",
            vec![s("aws"), s("H100:3"), s("us-east-1")],
        );
        assert!(matches!(err, Err(FnError::Call(m)) if m.contains("counts per instance there: 8")));
        let err = run(
            "accelerator_instance_type",
            vec![s("aws"), s("H900"), s("us-east-1")],
        );
        assert!(matches!(err, Err(FnError::Call(m)) if m.contains("no accelerator `H900`")));
        let offered = run(
            "accelerator_offered",
            vec![s("gcp"), s("H100:8"), s("us-east-1")],
        );
        assert_eq!(offered, Ok(Value::Bool(false)));
    }

    #[test]
    fn tpu_topologies_come_from_the_catalog() {
        assert_eq!(
            run("accelerator_topology", vec![s("tpu-v5e:16")]),
            Ok(s("4x4"))
        );
        assert_eq!(
            run("accelerator_count", vec![s("tpu-v5e:16")]),
            Ok(Value::Number(16.0))
        );
        let err = run("accelerator_topology", vec![s("tpu-v5e:15")]);
        assert!(matches!(err, Err(FnError::Call(m)) if m.contains("tpu-v5e:16")));
        let err = run("accelerator_topology", vec![s("H100:8")]);
        assert!(matches!(err, Err(FnError::Arg { index: 0, .. })));
    }

    #[test]
    fn instance_type_info_carries_efa_and_prices() {
        let Ok(info) = run("instance_type_info", vec![s("aws"), s("p5.48xlarge")]) else {
            panic!("no info")
        };
        let get = |k: &str| info.as_map().and_then(|m| m.get(k)).cloned();
        assert_eq!(get("efa"), Some(Value::Bool(true)));
        assert_eq!(get("accelerator_count"), Some(Value::Number(8.0)));
        assert!(matches!(get("network_interfaces"), Some(Value::Number(n)) if n >= 1.0));
        let price = get("on_demand_hourly")
            .and_then(|m| m.as_map().and_then(|m| m.get("us-east-1")).cloned());
        assert!(matches!(price, Some(Value::Number(p)) if p > 0.0));
        let err = run("instance_type_info", vec![s("aws"), s("p9.huge")]);
        assert!(matches!(err, Err(FnError::Arg { index: 1, .. })));
    }
}

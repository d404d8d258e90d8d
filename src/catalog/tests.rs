//! The built-in catalog's data is checked here: it parses, it is consistent, it covers the
//! accelerators the documentation promises, and every instance type a stack module or
//! example names is in it.

use super::*;
use std::path::Path;

fn builtin() -> Catalog {
    match Catalog::builtin() {
        Ok(c) => c,
        Err(e) => panic!("the built-in catalog is invalid: {e}"),
    }
}

#[test]
fn the_builtin_catalog_parses_and_is_consistent() {
    let c = builtin();
    assert!(load::check(c.data()).is_empty());
    assert!(c.data().taken.as_deref().is_some_and(|t| t.len() == 10));
    assert!(!c.data().sources.is_empty());
    for i in c.instances() {
        for r in &i.regions {
            assert!(r.on_demand > 0.0, "{} {}", i.type_name, r.region);
            assert!(
                !r.zones.is_empty(),
                "{} {} has no zones",
                i.type_name,
                r.region
            );
        }
    }
}

#[test]
fn it_covers_the_promised_accelerators_on_each_cloud() {
    let c = builtin();
    for (cloud, types) in [
        (
            "aws",
            &[
                "p5.48xlarge",
                "p5e.48xlarge",
                "p5en.48xlarge",
                "p4d.24xlarge",
                "p4de.24xlarge",
                "g6.xlarge",
                "g5.xlarge",
                "g6e.xlarge",
                "g4dn.xlarge",
                "trn1.32xlarge",
                "trn2.48xlarge",
                "inf2.xlarge",
            ][..],
        ),
        (
            "gcp",
            &[
                "a3-highgpu-8g",
                "a3-megagpu-8g",
                "a3-ultragpu-8g",
                "a2-highgpu-8g",
                "a2-ultragpu-8g",
                "g2-standard-4",
                "v4-32",
                "v5litepod-16",
                "v5p-16",
                "v6e-16",
            ][..],
        ),
        (
            "azure",
            &[
                "Standard_ND96isr_H100_v5",
                "Standard_ND96isr_H200_v5",
                "Standard_ND96asr_v4",
                "Standard_ND96amsr_A100_v4",
            ][..],
        ),
    ] {
        for t in types {
            assert!(c.instance(cloud, t).is_some(), "{cloud} {t} missing");
        }
    }
    for spec in ["tpu-v4:16", "tpu-v5e:16", "tpu-v5p:8", "tpu-v6e:16"] {
        let spec = Spec::parse(spec).ok();
        let found = spec.and_then(|s| c.satisfying(Some("gcp"), &s).ok());
        assert!(found.is_some_and(|v| v.iter().all(|i| i.topology.is_some()) && !v.is_empty()));
    }
}

#[test]
fn every_instance_has_a_known_quota_and_tpus_a_consistent_topology() {
    let c = builtin();
    for i in c.instances() {
        let code = i.quota.as_deref();
        assert!(
            code.is_some_and(|q| c.quota(&i.cloud, q).is_some()),
            "{} {} has no quota",
            i.cloud,
            i.type_name
        );
        let tpu = c
            .accelerator(&i.accelerator)
            .is_some_and(|a| a.kind == "tpu");
        assert_eq!(tpu, i.topology.is_some(), "{}", i.type_name);
        if let Some(t) = &i.topology {
            assert_eq!(
                spec::topology_chips(t),
                Some(i.accelerator_count),
                "{}",
                i.type_name
            );
        }
    }
}

/// Quoted AWS instance types (`"p5.48xlarge"`) and accelerator specs (`"H100:8"`, with the
/// cloud of the stack naming them: `gcp` under a path naming it, else `aws`) in the stack
/// modules and examples.
fn named_in_stacks() -> (Vec<String>, Vec<(&'static str, String)>) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let instance = regex::Regex::new(r#""((?:p|g|trn|inf)[0-9][a-z]*\.[0-9]*x?large)""#)
        .unwrap_or_else(|e| panic!("{e}"));
    // `accelerator = "H100:8"` in module calls, `variable "accelerator" { default = ... }`,
    // and specs passed to the catalog functions.
    let spec = regex::Regex::new(
        r#"(?s)(?:accelerator\s*=\s*|variable "accelerator"\s*\{[^}]*?default\s*=\s*|accelerator_[a-z_]+\("(?:aws|gcp)",\s*)"([A-Za-z0-9-]+(?::[0-9]+)?)""#,
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let (mut types, mut specs) = (Vec::new(), Vec::new());
    let mut stack = vec![root.join("stacks"), root.join("examples")];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "hcl") {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let cloud = if path.to_string_lossy().contains("gcp") {
                    "gcp"
                } else {
                    "aws"
                };
                if cloud == "aws" {
                    types.extend(instance.captures_iter(&text).map(|c| c[1].to_owned()));
                }
                specs.extend(spec.captures_iter(&text).map(|c| (cloud, c[1].to_owned())));
            }
        }
    }
    (types, specs)
}

#[test]
fn every_instance_type_and_spec_in_stacks_and_examples_is_in_the_catalog() {
    let c = builtin();
    let (types, specs) = named_in_stacks();
    assert!(!types.is_empty(), "the scan found no instance type at all");
    assert!(specs.len() >= 4, "the scan found too few specs: {specs:?}");
    for t in types {
        assert!(c.instance("aws", &t).is_some(), "{t} is not in the catalog");
    }
    assert!(
        specs.iter().any(|(cloud, _)| *cloud == "gcp"),
        "the scan found no Google Cloud spec: {specs:?}"
    );
    for (cloud, s) in specs {
        let spec = Spec::parse(&s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert!(
            c.satisfying(Some(cloud), &spec)
                .is_ok_and(|v| !v.is_empty()),
            "spec {s} has no {cloud} instance type"
        );
    }
}

#[test]
fn overrides_correct_entries_field_by_field_and_add_new_ones() {
    let text = r#"
[[instance]]
cloud = "aws"
type = "p5.48xlarge"
regions = [{ region = "us-east-1", zones = ["us-east-1a"], on_demand = 40.0 }]

[[instance]]
cloud = "aws"
type = "p6-b200.48xlarge"
accelerator = "B200"
accelerator_count = 8
vcpus = 192
memory_gib = 2048
interconnect = "EFA"
quota = "L-417A185B"
regions = [{ region = "us-west-2", zones = ["us-west-2a"], on_demand = 113.93 }]

[[accelerator]]
name = "B200"
kind = "gpu"
vendor = "nvidia"
memory_gib = 180
"#;
    let c = builtin()
        .with_override_text(Path::new("gantry.catalog.toml"), text)
        .unwrap_or_else(|e| panic!("{e}"));
    let p5 = c.instance("aws", "p5.48xlarge");
    assert_eq!(
        p5.and_then(|i| i.offer("us-east-1")).map(|o| o.on_demand),
        Some(40.0)
    );
    // Fields not given keep their built-in values; other regions stay.
    assert_eq!(p5.map(|i| i.accelerator_count), Some(8));
    assert!(p5.is_some_and(|i| i.offer("us-west-2").is_some()));
    let b200 = c.choose(
        "aws",
        &Spec::parse("B200:8").unwrap_or_else(|e| panic!("{e}")),
        "us-west-2",
    );
    assert_eq!(
        b200.map(|o| o.instance.type_name.clone()).ok(),
        Some("p6-b200.48xlarge".into())
    );
}

#[test]
fn bad_overrides_are_reported_with_their_line_and_problems() {
    let err = builtin()
        .with_override_text(
            Path::new("o.toml"),
            "[[instance]]\ncloud = \"aws\"\ntype = 5\n",
        )
        .err();
    match err {
        Some(CatalogError::Parse {
            line, source_line, ..
        }) => {
            assert_eq!(line, 3);
            assert_eq!(source_line, "type = 5");
        }
        other => panic!("{other:?}"),
    }
    let text = "[[instance]]\ncloud = \"aws\"\ntype = \"x1.big\"\naccelerator = \"Nope\"\naccelerator_count = 1\nvcpus = 4\nmemory_gib = 16\nquota = \"L-X\"\nregions = [{ region = \"r\", zones = [\"z\"], on_demand = -1.0 }]\n";
    match builtin()
        .with_override_text(Path::new("o.toml"), text)
        .err()
    {
        Some(CatalogError::Invalid { problems, .. }) => {
            let all = problems.join("\n");
            assert!(all.contains("unknown accelerator `Nope`"), "{all}");
            assert!(all.contains("unknown quota `L-X`"), "{all}");
            assert!(all.contains("prices must be positive"), "{all}");
        }
        other => panic!("{other:?}"),
    }
    let partial = "[[instance]]\ncloud = \"aws\"\ntype = \"new.type\"\n";
    let err = builtin()
        .with_override_text(Path::new("o.toml"), partial)
        .err();
    assert!(
        matches!(err, Some(CatalogError::Invalid { problems, .. }) if problems[0].contains("needs `accelerator`"))
    );
}

#[test]
fn offers_filter_and_sort_by_price() {
    let c = builtin();
    let filter = OfferFilter {
        accelerator: Some("h100".into()),
        cloud: None,
        max_price: Some(1000.0),
        ..OfferFilter::default()
    };
    let offers = c.offers(&filter).unwrap_or_default();
    assert!(offers.len() > 3);
    assert!(offers.windows(2).all(|w| w[0].hourly <= w[1].hourly));
    assert!(offers.iter().all(|o| o.instance.accelerator == "H100"));
    let spot = c
        .offers(&OfferFilter {
            spot: true,
            max_price: Some(30.0),
            ..filter
        })
        .unwrap_or_default();
    assert!(spot
        .iter()
        .all(|o| o.region.spot == Some(o.hourly) && o.hourly <= 30.0));
    assert!(matches!(
        c.offers(&OfferFilter {
            accelerator: Some("H900".into()),
            ..OfferFilter::default()
        }),
        Err(Unsatisfied::UnknownAccelerator { .. })
    ));
}

//! Tests of [`SimProvider`] through the [`Provider`] trait, as the engine calls it.

#![allow(clippy::unwrap_used)]

use super::*;
use crate::knobs::{CapacityRule, Latency, QuotaRule};
use gantry_provider::{plan_from_schema, Attribute, Type};
use std::time::Duration;

fn aws_schema() -> ProviderSchema {
    let base = || {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("arn", Attribute::computed(Type::String))
            .attr("tags", Attribute::optional(Type::map(Type::String)))
    };
    let mut s = ProviderSchema::default();
    s.resources.insert(
        "aws_vpc".into(),
        base()
            .attr("cidr_block", Attribute::required(Type::String).force_new())
            .attr("main_route_table_id", Attribute::computed(Type::String))
            .attr("owner_id", Attribute::computed(Type::String)),
    );
    s.resources.insert(
        "aws_subnet".into(),
        base()
            .attr("vpc_id", Attribute::required(Type::String).force_new())
            .attr("cidr_block", Attribute::required(Type::String))
            .attr(
                "availability_zone",
                Attribute::optional_computed(Type::String),
            ),
    );
    s.resources.insert(
        "aws_instance".into(),
        base()
            .attr("instance_type", Attribute::required(Type::String))
            .attr(
                "availability_zone",
                Attribute::optional_computed(Type::String),
            )
            .attr("subnet_id", Attribute::optional(Type::String))
            .attr(
                "vpc_security_group_ids",
                Attribute::optional(Type::set(Type::String)),
            )
            .attr("private_dns_endpoint", Attribute::computed(Type::String))
            .attr("launched_at", Attribute::computed(Type::String))
            .attr("cpu_core_count", Attribute::computed(Type::Number)),
    );
    s.resources.insert(
        "aws_placement_group".into(),
        base()
            .attr("name", Attribute::required(Type::String))
            .attr("strategy", Attribute::required(Type::String)),
    );
    s.resources.insert(
        "gantry_data".into(),
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr("input", Attribute::optional(Type::Any))
            .attr("output", Attribute::computed(Type::Any)),
    );
    s.data_sources.insert(
        "aws_vpc".into(),
        Schema::default()
            .attr("id", Attribute::optional_computed(Type::String))
            .attr("default", Attribute::optional(Type::Bool))
            .attr("cidr_block", Attribute::computed(Type::String)),
    );
    s
}

/// AWS as the AWS provider describes it to its twin.
fn model() -> Arc<dyn SimModel> {
    Arc::new(gantry_aws::sim_model::AwsSimModel)
}

struct Fixture {
    _dir: tempfile::TempDir,
    world: Arc<SimWorld>,
    aws: SimProvider,
}

fn fixture(knobs: Knobs) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let world = Arc::new(SimWorld::open(dir.path()).unwrap());
    let aws = SimProvider::new("aws", aws_schema(), Arc::clone(&world), knobs).with_model(model());
    Fixture {
        _dir: dir,
        world,
        aws,
    }
}

fn ctx(address: &str, token: Option<&str>) -> OpContext {
    let mut ctx = OpContext::new(address);
    ctx.idempotency_token = token.map(str::to_owned);
    ctx.stack = "prod".into();
    ctx
}

fn planned(p: &SimProvider, type_name: &str, config: &[(&str, Value)]) -> Value {
    let config = Value::map(config.iter().cloned());
    plan_from_schema(&p.schema().resources[type_name], None, &config).value
}

fn attr(v: &Value, name: &str) -> Value {
    v.as_map().unwrap()[name].clone()
}

fn id_of(v: &Value) -> String {
    attr(v, "id").as_str().unwrap().to_owned()
}

async fn vpc(f: &Fixture, token: &str) -> Value {
    let p = planned(&f.aws, "aws_vpc", &[("cidr_block", "10.0.0.0/16".into())]);
    f.aws
        .create(&ctx("aws_vpc.main", Some(token)), "aws_vpc", &p)
        .await
        .unwrap()
}

async fn subnet(f: &Fixture, vpc_id: &str, token: &str) -> Result<Value> {
    let p = planned(
        &f.aws,
        "aws_subnet",
        &[
            ("vpc_id", vpc_id.into()),
            ("cidr_block", "10.0.1.0/24".into()),
        ],
    );
    f.aws
        .create(&ctx("aws_subnet.a", Some(token)), "aws_subnet", &p)
        .await
}

#[tokio::test]
async fn create_fills_computed_attributes_realistically() {
    let f = fixture(Knobs::new());
    let v = vpc(&f, "t1").await;
    let id = id_of(&v);
    assert_eq!(ids::sim_id_prefix(&id), Some("vpc"), "{id}");
    assert_eq!(
        attr(&v, "arn"),
        Value::from(format!("arn:aws:ec2:us-east-1:123456789012:vpc/{id}"))
    );
    assert_eq!(attr(&v, "owner_id"), Value::from("123456789012"));
    assert_eq!(attr(&v, "cidr_block"), Value::from("10.0.0.0/16"));
    assert!(v.is_wholly_known());

    let p = planned(
        &f.aws,
        "aws_instance",
        &[
            ("instance_type", "p5.48xlarge".into()),
            ("availability_zone", "eu-west-1b".into()),
        ],
    );
    let i = f
        .aws
        .create(&ctx("aws_instance.gpu", Some("t2")), "aws_instance", &p)
        .await
        .unwrap();
    let iid = id_of(&i);
    assert_eq!(ids::sim_id_prefix(&iid), Some("i"));
    assert_eq!(
        attr(&i, "arn"),
        Value::from(format!("arn:aws:ec2:eu-west-1:123456789012:instance/{iid}"))
    );
    assert_eq!(
        attr(&i, "private_dns_endpoint"),
        Value::from(format!("https://{iid}.sim.gantry.dev"))
    );
    let launched = attr(&i, "launched_at");
    let launched = launched.as_str().unwrap();
    assert!(
        launched.len() == 20 && launched.ends_with('Z') && &launched[10..11] == "T",
        "{launched}"
    );
    assert_eq!(attr(&i, "cpu_core_count"), Value::from(0_i64));

    let stored = f.world.get("aws", "aws_vpc", &id).unwrap();
    assert_eq!(
        (stored.address.as_str(), stored.stack.as_str()),
        ("aws_vpc.main", "prod")
    );
    assert_eq!(stored.token.as_deref(), Some("t1"));
    assert_eq!(stored.attributes["id"], serde_json::json!(id));
}

#[tokio::test]
async fn the_same_token_creates_one_object() {
    let f = fixture(Knobs::new());
    let a = vpc(&f, "same").await;
    let b = vpc(&f, "same").await;
    assert_eq!(a, b);
    assert_eq!(f.world.len(), 1);
    let c = vpc(&f, "other").await;
    assert_ne!(id_of(&a), id_of(&c));
    assert_eq!(f.world.len(), 2);
}

#[tokio::test]
async fn read_sees_the_world_and_deletes_outside_gantry() {
    let f = fixture(Knobs::new());
    let v = vpc(&f, "t").await;
    let c = ctx("aws_vpc.main", None);
    assert_eq!(
        f.aws.read(&c, "aws_vpc", &v).await.unwrap(),
        Some(v.clone())
    );
    f.aws.delete(&c, "aws_vpc", &v).await.unwrap();
    assert_eq!(f.aws.read(&c, "aws_vpc", &v).await.unwrap(), None);
    // Deleting what is gone is fine.
    f.aws.delete(&c, "aws_vpc", &v).await.unwrap();

    let w = vpc(&f, "t2").await;
    f.world.remove("aws", "aws_vpc", &id_of(&w)).await.unwrap();
    assert_eq!(f.aws.read(&c, "aws_vpc", &w).await.unwrap(), None);
}

#[tokio::test]
async fn update_keeps_the_id_and_computed_attributes() {
    let f = fixture(Knobs::new());
    let v = vpc(&f, "t").await;
    let config = Value::map([
        ("cidr_block", Value::from("10.0.0.0/16")),
        ("tags", Value::map([("team", Value::from("ml"))])),
    ]);
    let plan = plan_from_schema(&f.aws.schema().resources["aws_vpc"], Some(&v), &config);
    assert!(plan.requires_replace.is_empty());
    let c = ctx("aws_vpc.main", None);
    let u = f.aws.update(&c, "aws_vpc", &v, &plan.value).await.unwrap();
    assert_eq!(id_of(&u), id_of(&v));
    assert_eq!(attr(&u, "arn"), attr(&v, "arn"));
    assert_eq!(
        attr(&u, "main_route_table_id"),
        attr(&v, "main_route_table_id")
    );
    assert_eq!(attr(&u, "tags"), Value::map([("team", Value::from("ml"))]));
    assert_eq!(f.aws.read(&c, "aws_vpc", &v).await.unwrap(), Some(u));

    f.world.remove("aws", "aws_vpc", &id_of(&v)).await.unwrap();
    let err = f
        .aws
        .update(&c, "aws_vpc", &v, &plan.value)
        .await
        .unwrap_err();
    assert_eq!(
        (err.class, err.code.as_deref()),
        (ErrorClass::NotFound, Some("InvalidVpcID.NotFound"))
    );
}

#[tokio::test]
async fn references_must_exist_and_block_deletes() {
    let f = fixture(Knobs::new());
    let missing = ids::format_id("vpc", 42);
    let err = subnet(&f, &missing, "s0").await.unwrap_err();
    assert_eq!(err.class, ErrorClass::NotFound);
    assert_eq!(err.code.as_deref(), Some("InvalidVpcID.NotFound"));
    assert!(err.message.contains(&missing), "{}", err.message);
    assert!(f.world.is_empty());

    let v = vpc(&f, "v").await;
    let s = subnet(&f, &id_of(&v), "s1").await.unwrap();
    let c = ctx("aws_vpc.main", None);
    let err = f.aws.delete(&c, "aws_vpc", &v).await.unwrap_err();
    assert_eq!(
        (err.class, err.code.as_deref()),
        (ErrorClass::Conflict, Some("DependencyViolation"))
    );
    assert!(err.message.contains(&id_of(&s)), "{}", err.message);
    assert!(f.world.get("aws", "aws_vpc", &id_of(&v)).is_some());

    // Ids of things the simulation does not model are not checked.
    let p = planned(
        &f.aws,
        "aws_instance",
        &[
            ("instance_type", "t3.micro".into()),
            ("subnet_id", "ami-0123456789abcdef0".into()),
        ],
    );
    f.aws
        .create(&ctx("aws_instance.x", Some("i")), "aws_instance", &p)
        .await
        .unwrap();

    f.aws.delete(&c, "aws_subnet", &s).await.unwrap();
    f.aws.delete(&c, "aws_vpc", &v).await.unwrap();
    assert!(f.world.get("aws", "aws_vpc", &id_of(&v)).is_none());
}

#[tokio::test]
async fn references_in_id_lists_are_checked() {
    let f = fixture(Knobs::new());
    let v = vpc(&f, "v").await;
    let p = planned(
        &f.aws,
        "aws_instance",
        &[
            ("instance_type", "t3.micro".into()),
            (
                "vpc_security_group_ids",
                Value::set(vec![id_of(&v).into(), ids::format_id("vpc", 7).into()]),
            ),
        ],
    );
    let err = f
        .aws
        .create(&ctx("aws_instance.x", Some("i")), "aws_instance", &p)
        .await
        .unwrap_err();
    assert_eq!(err.code.as_deref(), Some("InvalidVpcID.NotFound"));
}

#[tokio::test]
async fn import_and_find_created() {
    let f = fixture(Knobs::new());
    let v = vpc(&f, "tok-1").await;
    let c = ctx("aws_vpc.main", None);
    assert_eq!(f.aws.import(&c, "aws_vpc", &id_of(&v)).await.unwrap(), v);
    let err = f.aws.import(&c, "aws_vpc", "vpc-nope").await.unwrap_err();
    assert_eq!(err.code.as_deref(), Some("InvalidVpcID.NotFound"));
    assert_eq!(
        f.aws
            .find_created(&c, "aws_vpc", "tok-1", &Value::Null)
            .await
            .unwrap(),
        Some(v)
    );
    assert_eq!(
        f.aws
            .find_created(&c, "aws_vpc", "tok-2", &Value::Null)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        f.aws
            .find_created(&c, "aws_subnet", "tok-1", &Value::Null)
            .await
            .unwrap(),
        None
    );
    // The token alone proves nothing: another stack's object, or this stack's object at
    // another address, is never adopted.
    let mut other_stack = c.clone();
    other_stack.stack = "staging".into();
    assert_eq!(
        f.aws
            .find_created(&other_stack, "aws_vpc", "tok-1", &Value::Null)
            .await
            .unwrap(),
        None
    );
    let other_address = ctx("aws_vpc.other", None);
    assert_eq!(
        f.aws
            .find_created(&other_address, "aws_vpc", "tok-1", &Value::Null)
            .await
            .unwrap(),
        None
    );
    let err = f
        .aws
        .find_created(&c, "aws_nothing", "tok-1", &Value::Null)
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::InvalidInput);
}

#[tokio::test]
async fn objects_persist_across_worlds_and_providers() {
    let dir = tempfile::tempdir().unwrap();
    let (v, s) = {
        let world = Arc::new(SimWorld::open(dir.path()).unwrap());
        let f = Fixture {
            _dir: tempfile::tempdir().unwrap(),
            aws: SimProvider::new("aws", aws_schema(), Arc::clone(&world), Knobs::new())
                .with_model(model()),
            world,
        };
        let v = vpc(&f, "v").await;
        let s = subnet(&f, &id_of(&v), "s").await.unwrap();
        (v, s)
    };
    let world = Arc::new(SimWorld::open(dir.path()).unwrap());
    let aws =
        SimProvider::new("aws", aws_schema(), Arc::clone(&world), Knobs::new()).with_model(model());
    let c = ctx("aws_vpc.main", None);
    assert_eq!(aws.read(&c, "aws_vpc", &v).await.unwrap(), Some(v.clone()));
    assert_eq!(
        aws.find_created(&ctx("aws_subnet.a", None), "aws_subnet", "s", &Value::Null)
            .await
            .unwrap(),
        Some(s)
    );
    // The dependency index is rebuilt from disk too.
    let err = aws.delete(&c, "aws_vpc", &v).await.unwrap_err();
    assert_eq!(err.class, ErrorClass::Conflict);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundreds_of_concurrent_creates_persist_with_few_fsyncs() {
    let dir = tempfile::tempdir().unwrap();
    let world = Arc::new(SimWorld::open(dir.path()).unwrap());
    let aws = Arc::new(
        SimProvider::new("aws", aws_schema(), Arc::clone(&world), Knobs::new()).with_model(model()),
    );
    let tasks: Vec<_> = (0..300)
        .map(|i| {
            let aws = Arc::clone(&aws);
            tokio::spawn(async move {
                let p = planned(&aws, "aws_vpc", &[("cidr_block", "10.0.0.0/16".into())]);
                // Every fifth create is retried concurrently with the same token.
                let token = format!("t{}", if i % 5 == 1 { i - 1 } else { i });
                let c = ctx(&format!("aws_vpc.v[{i}]"), Some(&token));
                id_of(&aws.create(&c, "aws_vpc", &p).await.unwrap())
            })
        })
        .collect();
    let mut ids = std::collections::BTreeSet::new();
    for t in tasks {
        ids.insert(t.await.unwrap());
    }
    assert_eq!(ids.len(), 240);
    let fsyncs = world.fsync_count();
    assert!(
        (1..100).contains(&fsyncs),
        "300 creates took {fsyncs} fsyncs"
    );
    drop(aws);
    drop(world);
    let world = SimWorld::open(dir.path()).unwrap();
    let persisted: std::collections::BTreeSet<String> =
        world.list().into_iter().map(|o| o.id).collect();
    assert_eq!(persisted, ids);
}

#[tokio::test]
async fn fault_rate_one_fails_every_call() {
    let f = fixture(Knobs::new().with_fault_rate(1.0).with_seed(3));
    let c = ctx("aws_vpc.main", Some("t"));
    let p = planned(&f.aws, "aws_vpc", &[("cidr_block", "10.0.0.0/16".into())]);
    let state = Value::map([("id", Value::from("vpc-00000000000000001"))]);
    let mut classes = std::collections::BTreeSet::new();
    for _ in 0..10 {
        let results = [
            f.aws.create(&c, "aws_vpc", &p).await.map(drop),
            f.aws.read(&c, "aws_vpc", &state).await.map(drop),
            f.aws.update(&c, "aws_vpc", &state, &p).await.map(drop),
            f.aws.delete(&c, "aws_vpc", &state).await,
            f.aws.import(&c, "aws_vpc", "vpc-1").await.map(drop),
            f.aws
                .find_created(&c, "aws_vpc", "t", &Value::Null)
                .await
                .map(drop),
            f.aws
                .read_data(&c, "aws_vpc", &Value::map([("default", Value::from(true))]))
                .await
                .map(drop),
        ];
        for r in results {
            let e = r.unwrap_err();
            match e.class {
                ErrorClass::Transient => assert_eq!(e.code.as_deref(), Some("InternalError")),
                ErrorClass::Throttled => {
                    assert_eq!(e.code.as_deref(), Some("RequestLimitExceeded"));
                    assert!(e.retry_after.is_some());
                }
                other => panic!("unexpected class {other:?}"),
            }
            classes.insert(e.class.as_str());
        }
    }
    assert_eq!(classes.len(), 2, "both kinds of fault occur: {classes:?}");
    assert!(f.world.is_empty());
}

#[tokio::test]
async fn a_seed_makes_ids_deterministic() {
    async fn run(seed: u64) -> Vec<String> {
        let f = fixture(Knobs::new().with_seed(seed));
        let mut out = Vec::new();
        for token in ["a", "b"] {
            out.push(id_of(&vpc(&f, token).await));
        }
        // Without a token the address is the basis.
        let p = planned(&f.aws, "aws_vpc", &[("cidr_block", "10.9.0.0/16".into())]);
        let v = f
            .aws
            .create(&ctx("aws_vpc.x", None), "aws_vpc", &p)
            .await
            .unwrap();
        out.push(id_of(&v));
        out.push(attr(&v, "arn").as_str().unwrap().to_owned());
        out.push(
            f.world
                .get("aws", "aws_vpc", &id_of(&v))
                .unwrap()
                .created
                .to_string(),
        );
        out
    }
    let first = run(99).await;
    assert_eq!(first, run(99).await);
    assert_ne!(first[0], first[1]);
    assert_eq!(first[4], SEEDED_EPOCH.to_string());
    assert_ne!(&first[..3], &run(100).await[..3]);
}

#[tokio::test(start_paused = true)]
async fn latency_applies_to_operations() {
    let f = fixture(Knobs::new().with_latency(Latency::Between(200, 300)));
    let start = tokio::time::Instant::now();
    let v = vpc(&f, "t").await;
    let after_create = start.elapsed();
    assert!(
        (Duration::from_millis(200)..=Duration::from_millis(300)).contains(&after_create),
        "{after_create:?}"
    );
    f.aws.read(&ctx("a", None), "aws_vpc", &v).await.unwrap();
    let after_read = start.elapsed() - after_create;
    assert!(
        (Duration::from_millis(200)..=Duration::from_millis(300)).contains(&after_read),
        "{after_read:?}"
    );
}

#[tokio::test]
async fn capacity_and_quota_tables_fail_with_cloud_codes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(crate::TABLES_FILE),
        r#"{"capacity": [{"type": "aws_instance", "attribute": "instance_type", "value": "p5.48xlarge",
                          "zone_attribute": "availability_zone", "zone": "us-east-1a"}]}"#,
    )
    .unwrap();
    let knobs = Knobs::new()
        .with_tables_from(dir.path())
        .unwrap()
        .with_quota(QuotaRule::new(
            "aws_instance",
            "instance_type",
            "p5.48xlarge",
            2,
        ))
        .with_capacity(CapacityRule::new(
            "aws_instance",
            "instance_type",
            "p4d.24xlarge",
        ));
    let f = fixture(knobs);
    let gpu = |zone: &str, kind: &str| {
        planned(
            &f.aws,
            "aws_instance",
            &[
                ("instance_type", kind.into()),
                ("availability_zone", zone.into()),
            ],
        )
    };
    let c = |n: u32| ctx(&format!("aws_instance.gpu[{n}]"), Some(&format!("t{n}")));

    let err = f
        .aws
        .create(&c(0), "aws_instance", &gpu("us-east-1a", "p5.48xlarge"))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Capacity);
    assert_eq!(err.code.as_deref(), Some("InsufficientInstanceCapacity"));
    assert!(
        err.message.contains("p5.48xlarge") && err.message.contains("us-east-1a"),
        "{}",
        err.message
    );
    let err = f
        .aws
        .create(&c(0), "aws_instance", &gpu("us-west-2c", "p4d.24xlarge"))
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Capacity);

    let first = f
        .aws
        .create(&c(1), "aws_instance", &gpu("us-east-1b", "p5.48xlarge"))
        .await
        .unwrap();
    f.aws
        .create(&c(2), "aws_instance", &gpu("us-east-1b", "p5.48xlarge"))
        .await
        .unwrap();
    let err = f
        .aws
        .create(&c(3), "aws_instance", &gpu("us-east-1b", "p5.48xlarge"))
        .await
        .unwrap_err();
    assert_eq!(
        (err.class, err.code.as_deref()),
        (ErrorClass::Quota, Some("VcpuLimitExceeded"))
    );
    // A retry of a create that succeeded is not a new request.
    f.aws
        .create(&c(2), "aws_instance", &gpu("us-east-1b", "p5.48xlarge"))
        .await
        .unwrap();
    // Other types are not counted; freeing one makes room.
    f.aws
        .create(&c(4), "aws_instance", &gpu("us-east-1b", "t3.micro"))
        .await
        .unwrap();
    f.aws.delete(&c(1), "aws_instance", &first).await.unwrap();
    f.aws
        .create(&c(3), "aws_instance", &gpu("us-east-1b", "p5.48xlarge"))
        .await
        .unwrap();
    assert_eq!(f.world.len(), 3);
}

#[tokio::test]
async fn quotas_apply_to_updates_that_change_the_matched_value() {
    let f = fixture(Knobs::new().with_quota(QuotaRule::new(
        "aws_instance",
        "instance_type",
        "p5.48xlarge",
        1,
    )));
    let c = ctx("aws_instance.x", Some("a"));
    let big = planned(
        &f.aws,
        "aws_instance",
        &[("instance_type", "p5.48xlarge".into())],
    );
    let small = planned(
        &f.aws,
        "aws_instance",
        &[("instance_type", "t3.micro".into())],
    );
    let a = f.aws.create(&c, "aws_instance", &big).await.unwrap();
    let b = f
        .aws
        .create(&ctx("aws_instance.y", Some("b")), "aws_instance", &small)
        .await
        .unwrap();
    // Updating the one that already counts is fine; growing the other is not.
    f.aws.update(&c, "aws_instance", &a, &big).await.unwrap();
    let err = f
        .aws
        .update(&c, "aws_instance", &b, &big)
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::Quota);
}

#[tokio::test]
async fn placement_groups_are_named_and_names_are_unique() {
    let f = fixture(Knobs::new());
    let p = planned(
        &f.aws,
        "aws_placement_group",
        &[("name", "train".into()), ("strategy", "cluster".into())],
    );
    let g = f
        .aws
        .create(
            &ctx("aws_placement_group.pg", Some("1")),
            "aws_placement_group",
            &p,
        )
        .await
        .unwrap();
    assert_eq!(id_of(&g), "train");
    assert_eq!(
        attr(&g, "arn"),
        Value::from("arn:aws:ec2:us-east-1:123456789012:placement-group/train")
    );
    let err = f
        .aws
        .create(
            &ctx("aws_placement_group.other", Some("2")),
            "aws_placement_group",
            &p,
        )
        .await
        .unwrap_err();
    assert_eq!(
        (err.class, err.code.as_deref()),
        (
            ErrorClass::Conflict,
            Some("InvalidPlacementGroup.Duplicate")
        )
    );
}

struct Echo;

impl SimHooks for Echo {
    fn on_create(&self, _type_name: &str, attributes: &mut serde_json::Value) -> Result<()> {
        if attributes["input"] == serde_json::json!("reject") {
            return Err(ProviderError::invalid("rejected by the hook"));
        }
        attributes["output"] = attributes["input"].clone();
        attributes["id"] = serde_json::json!(uuid::Uuid::new_v4().to_string());
        Ok(())
    }
}

#[tokio::test]
async fn hooks_shape_what_a_type_does() {
    let dir = tempfile::tempdir().unwrap();
    let world = Arc::new(SimWorld::open(dir.path()).unwrap());
    let p = SimProvider::new("aws", aws_schema(), Arc::clone(&world), Knobs::new())
        .with_model(model())
        .with_hook("gantry_data", Arc::new(Echo));
    let input = Value::map([("a", Value::from(1_i64))]);
    let plan = planned(&p, "gantry_data", &[("input", input.clone())]);
    let v = p
        .create(&ctx("gantry_data.x", Some("t")), "gantry_data", &plan)
        .await
        .unwrap();
    assert_eq!(attr(&v, "output"), input);
    let id = id_of(&v);
    assert!(uuid::Uuid::parse_str(&id).is_ok(), "{id}");
    assert!(world.get("aws", "gantry_data", &id).is_some());
    let plan = planned(&p, "gantry_data", &[("input", "reject".into())]);
    let err = p
        .create(&ctx("gantry_data.y", Some("u")), "gantry_data", &plan)
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::InvalidInput);
    assert_eq!(world.len(), 1);
}

#[tokio::test]
async fn data_sources_are_stable_and_can_be_referenced() {
    let f = fixture(Knobs::new());
    let c = ctx("data.aws_vpc.default", None);
    let config = Value::map([("default", Value::from(true))]);
    let a = f.aws.read_data(&c, "aws_vpc", &config).await.unwrap();
    let b = f.aws.read_data(&c, "aws_vpc", &config).await.unwrap();
    assert_eq!(a, b);
    assert_eq!(ids::sim_id_prefix(&id_of(&a)), Some("vpc"));
    assert_eq!(
        attr(&a, "cidr_block"),
        Value::from(format!("{}-cidr_block", id_of(&a)))
    );
    // A subnet in the data source's VPC is accepted, and nothing joined the world.
    subnet(&f, &id_of(&a), "s").await.unwrap();
    assert_eq!(f.world.len(), 1);

    // Naming a world object by id reads it.
    let v = vpc(&f, "v").await;
    let found = f
        .aws
        .read_data(&c, "aws_vpc", &Value::map([("id", attr(&v, "id"))]))
        .await
        .unwrap();
    assert_eq!(attr(&found, "cidr_block"), Value::from("10.0.0.0/16"));

    let err = f
        .aws
        .read_data(&c, "aws_nothing", &config)
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::InvalidInput);
}

#[tokio::test]
async fn configure_sets_the_region() {
    let f = fixture(Knobs::new());
    f.aws
        .configure(&Value::map([("region", Value::from("ap-northeast-1"))]))
        .await
        .unwrap();
    let v = vpc(&f, "t").await;
    assert!(attr(&v, "arn")
        .as_str()
        .unwrap()
        .starts_with("arn:aws:ec2:ap-northeast-1:"));
    let err = f
        .aws
        .create(
            &ctx("x", None),
            "aws_nothing",
            &Value::map([("a", Value::Null)]),
        )
        .await
        .unwrap_err();
    assert_eq!(err.class, ErrorClass::InvalidInput);
}

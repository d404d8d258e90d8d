//! Crash adoption, for every resource type, against moto: the provider is called directly
//! (`Provider::create` and `Provider::find_created`, what the engine calls before it sends a
//! create again after a run died between the call and recording its answer).
//!
//! For each type three objects are created at the same address: this create's (this stack,
//! token T), a decoy of another stack (its own token), and a deposed predecessor (this stack,
//! an older token). Then:
//! - `find_created` for this create finds exactly its object, and each decoy is found by its
//!   own create (so the decoys are findable, and the checks below mean something);
//! - with another stack identity, another address or another token it finds nothing;
//! - asked by this create with any of the three configurations it returns this create's
//!   object or nothing, never a decoy; asked by a new create (a new token), nothing.
//!
//! Types without an identity of their own (a route table association, a role policy
//! attachment, bucket settings) are checked by their own rule: adopted only on parents of
//! this stack, and (settings) only when they already hold what was planned.

use crate::support::{block_on, id_of, op, planned, provider, Moto};
use gantry_aws::AwsProvider;
use gantry_provider::{OpContext, Provider, Value};

const STACK: &str = "3f0c1d4e-stack-this";
const OTHER_STACK: &str = "8a7b6c5d-stack-other";
const THIRD_STACK: &str = "00000000-stack-third";

const TOKEN: &str = "0f8fad5b-d9cb-469f-a165-70867728950e";
const THEIR_TOKEN: &str = "7c9e6679-7425-40de-944b-e07fc1f90ae7";
const OLD_TOKEN: &str = "e4eaaaf2-d142-11e1-b3e4-080027620cdd";
const NEW_TOKEN: &str = "16fd2706-8baf-433b-82eb-8c7fada847da";

/// The tokens of one round of [`adoption`]: this create's, the other stack's decoy's, the
/// deposed predecessor's, and a later create's. A second round of a type uses fresh ones
/// (a token names one create: reusing it with other parameters is an error).
struct Tokens {
    this: &'static str,
    theirs: &'static str,
    old: &'static str,
    new: &'static str,
}

const FIRST: Tokens = Tokens {
    this: TOKEN,
    theirs: THEIR_TOKEN,
    old: OLD_TOKEN,
    new: NEW_TOKEN,
};

const SECOND: Tokens = Tokens {
    this: "9b2e1f7a-3c4d-4e5f-8a6b-7c8d9e0f1a2b",
    theirs: "a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d",
    old: "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e",
    new: "c3d4e5f6-a7b8-4c9d-8e1f-2a3b4c5d6e7f",
};

fn s(v: &str) -> Value {
    Value::string(v)
}

fn list(items: Vec<Value>) -> Value {
    Value::List(items)
}

fn strs(items: &[&str]) -> Value {
    Value::List(items.iter().map(|i| s(i)).collect())
}

async fn create(aws: &AwsProvider, ctx: &OpContext, type_name: &str, config: &Value) -> Value {
    aws.create(ctx, type_name, &planned(aws, type_name, config))
        .await
        .unwrap_or_else(|e| panic!("create {type_name} ({}): {e}", ctx.stack))
}

async fn find(
    aws: &AwsProvider,
    ctx: &OpContext,
    type_name: &str,
    config: &Value,
) -> Option<String> {
    let token = ctx.idempotency_token.clone().unwrap_or_default();
    aws.find_created(ctx, type_name, &token, &planned(aws, type_name, config))
        .await
        .unwrap_or_else(|e| panic!("find_created {type_name}: {e}"))
        .map(|state| id_of(&state))
}

/// The checks of the module doc for a type with an identity: `configs` are this create's,
/// the other stack's decoy's and the deposed predecessor's configurations (the same for types
/// found by tags alone; different names for named types).
async fn adoption(aws: &AwsProvider, type_name: &str, configs: [Value; 3]) {
    adoption_with(aws, type_name, configs, &FIRST).await;
}

async fn adoption_with(aws: &AwsProvider, type_name: &str, configs: [Value; 3], tokens: &Tokens) {
    // A for_each address: brackets and quotes, which EC2 filters and moto's `fnmatch`
    // would read as wildcards or character classes if an address were sent as a filter.
    let address = format!("{type_name}.this[\"gpu[0]\"]");
    let [mine, theirs, deposed] = &configs;
    let this = op(STACK, &address, Some(tokens.this));
    let other = op(OTHER_STACK, &address, Some(tokens.theirs));
    let predecessor = op(STACK, &address, Some(tokens.old));
    let real = id_of(&create(aws, &this, type_name, mine).await);
    let decoy = id_of(&create(aws, &other, type_name, theirs).await);
    let old = id_of(&create(aws, &predecessor, type_name, deposed).await);
    assert!(
        real != decoy && real != old && decoy != old,
        "{type_name}: three objects"
    );

    assert_eq!(
        find(aws, &this, type_name, mine).await,
        Some(real.clone()),
        "{type_name}"
    );
    assert_eq!(
        find(aws, &other, type_name, theirs).await,
        Some(decoy.clone()),
        "{type_name}: the decoy by its own create"
    );
    assert_eq!(
        find(aws, &predecessor, type_name, deposed).await,
        Some(old.clone()),
        "{type_name}: the predecessor by its own create"
    );

    let strangers = [
        (
            "another stack",
            op(THIRD_STACK, &address, Some(tokens.this)),
        ),
        (
            "another address",
            op(STACK, &format!("{type_name}.other"), Some(tokens.this)),
        ),
        (
            "an address that, read as a pattern, matches this one",
            op(
                STACK,
                &format!("{type_name}.this[\"gpu*\"]"),
                Some(tokens.this),
            ),
        ),
        ("another token", op(STACK, &address, Some(tokens.new))),
    ];
    for (who, ctx) in &strangers {
        assert_eq!(
            find(aws, ctx, type_name, mine).await,
            None,
            "{type_name}: {who}"
        );
    }
    for config in &configs {
        let got = find(aws, &this, type_name, config).await;
        assert!(
            got.is_none() || got.as_deref() == Some(real.as_str()),
            "{type_name}: adopted a decoy: {got:?}"
        );
        let got = find(
            aws,
            &op(STACK, &address, Some(tokens.new)),
            type_name,
            config,
        )
        .await;
        assert_eq!(
            got, None,
            "{type_name}: a new create adopted an earlier one's object"
        );
    }
}

/// A VPC and a subnet in it, made by this stack (parents of what the tests create).
async fn network(aws: &AwsProvider, cidr: &str) -> (String, String) {
    let ctx = |a: &str| op(STACK, a, Some(TOKEN));
    let vpc = id_of(
        &create(
            aws,
            &ctx("aws_vpc.net"),
            "aws_vpc",
            &Value::map([("cidr_block", s(cidr))]),
        )
        .await,
    );
    let subnet_cidr = cidr.replace(".0.0/16", ".1.0/24");
    let subnet = Value::map([
        ("vpc_id", s(&vpc)),
        ("cidr_block", s(&subnet_cidr)),
        ("availability_zone", s("us-east-1a")),
    ]);
    let subnet = id_of(&create(aws, &ctx("aws_subnet.net"), "aws_subnet", &subnet).await);
    (vpc, subnet)
}

fn role_policy(service: &str) -> Value {
    s(&format!(
        r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Action":"sts:AssumeRole","Principal":{{"Service":"{service}"}}}}]}}"#
    ))
}

/// A role made directly (not by a stack), for resources that only name one.
async fn role_arn(moto: &Moto, name: &str, service: &str) -> String {
    let out = moto
        .iam()
        .create_role()
        .role_name(name)
        .assume_role_policy_document(role_policy(service).as_str().unwrap_or_default())
        .send()
        .await
        .expect("role");
    out.role().map(|r| r.arn().to_owned()).expect("role arn")
}

fn run<F: std::future::Future<Output = ()>>(test: impl FnOnce(Moto) -> F) {
    let moto = Moto::start();
    block_on(test(moto));
}

// ---- network ----

#[test]
fn vpc_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let vpc = |cidr: &str| Value::map([("cidr_block", s(cidr))]);
        adoption(
            &aws,
            "aws_vpc",
            [vpc("10.1.0.0/16"), vpc("10.2.0.0/16"), vpc("10.3.0.0/16")],
        )
        .await;
    });
}

#[test]
fn subnet_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let (vpc, _) = network(&aws, "10.10.0.0/16").await;
        let subnet = |cidr: &str| Value::map([("vpc_id", s(&vpc)), ("cidr_block", s(cidr))]);
        let configs = [
            subnet("10.10.11.0/24"),
            subnet("10.10.12.0/24"),
            subnet("10.10.13.0/24"),
        ];
        adoption(&aws, "aws_subnet", configs).await;
    });
}

#[test]
fn internet_gateway_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let gateway = Value::map([("tags", Value::map([("Name", s("edge"))]))]);
        adoption(
            &aws,
            "aws_internet_gateway",
            [gateway.clone(), gateway.clone(), gateway],
        )
        .await;
    });
}

#[test]
fn eip_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let eip = Value::map([("domain", s("vpc"))]);
        adoption(&aws, "aws_eip", [eip.clone(), eip.clone(), eip]).await;
    });
}

#[test]
fn nat_gateway_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let (_, subnet) = network(&aws, "10.20.0.0/16").await;
        // Private gateways: a public one needs an Elastic IP of its own each.
        let nat = Value::map([
            ("subnet_id", s(&subnet)),
            ("connectivity_type", s("private")),
        ]);
        adoption(&aws, "aws_nat_gateway", [nat.clone(), nat.clone(), nat]).await;
    });
}

#[test]
fn route_table_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let (vpc, _) = network(&aws, "10.30.0.0/16").await;
        let table = Value::map([("vpc_id", s(&vpc))]);
        adoption(
            &aws,
            "aws_route_table",
            [table.clone(), table.clone(), table],
        )
        .await;
    });
}

#[test]
fn security_group_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let (vpc, _) = network(&aws, "10.40.0.0/16").await;
        // Names from name_prefix and each create's token; given names are unique per VPC.
        let group = |prefix: &str| Value::map([("vpc_id", s(&vpc)), ("name_prefix", s(prefix))]);
        adoption(
            &aws,
            "aws_security_group",
            [group("ml-"), group("ml-"), group("ml-")],
        )
        .await;
        let named = |name: &str| Value::map([("vpc_id", s(&vpc)), ("name", s(name))]);
        let address = "aws_security_group.named";
        let (this, other) = (
            op(STACK, address, Some(NEW_TOKEN)),
            op(OTHER_STACK, address, Some(THEIR_TOKEN)),
        );
        create(&aws, &other, "aws_security_group", &named("shared-name")).await;
        // Another stack's group of the planned name is not this create's.
        assert_eq!(
            find(&aws, &this, "aws_security_group", &named("shared-name")).await,
            None
        );
    });
}

#[test]
fn placement_group_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let group = |name: &str| Value::map([("name", s(name)), ("strategy", s("cluster"))]);
        adoption(
            &aws,
            "aws_placement_group",
            [group("train-a"), group("train-b"), group("train-c")],
        )
        .await;
    });
}

#[test]
fn launch_template_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        // Names from name_prefix and each create's token.
        let template = Value::map([
            ("name_prefix", s("gpu-")),
            ("instance_type", s("p5.48xlarge")),
        ]);
        adoption(
            &aws,
            "aws_launch_template",
            [template.clone(), template.clone(), template],
        )
        .await;
        let named = |name: &str| Value::map([("name", s(name)), ("instance_type", s("g5.xlarge"))]);
        let configs = [named("lt-a"), named("lt-b"), named("lt-c")];
        adoption_with(&aws, "aws_launch_template", configs, &SECOND).await;
    });
}

#[test]
fn instance_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let ami = crate::support::an_ami(&moto.ec2()).await;
        let instance = Value::map([("ami", s(&ami)), ("instance_type", s("t3.micro"))]);
        adoption(
            &aws,
            "aws_instance",
            [instance.clone(), instance.clone(), instance],
        )
        .await;
    });
}

#[test]
fn route_table_association_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let (vpc, subnet) = network(&aws, "10.50.0.0/16").await;
        let ctx = |stack: &str, a: &str| op(stack, a, Some(TOKEN));
        let table = Value::map([("vpc_id", s(&vpc))]);
        let table = id_of(
            &create(
                &aws,
                &ctx(STACK, "aws_route_table.t"),
                "aws_route_table",
                &table,
            )
            .await,
        );
        let association =
            |subnet: &str| Value::map([("subnet_id", s(subnet)), ("route_table_id", s(&table))]);
        let address = "aws_route_table_association.a";
        let made = create(
            &aws,
            &ctx(STACK, address),
            "aws_route_table_association",
            &association(&subnet),
        )
        .await;
        let t = "aws_route_table_association";
        // The one between the planned subnet and table, both this stack's: whatever the
        // token (it has none of its own) or address.
        assert_eq!(
            find(&aws, &ctx(STACK, address), t, &association(&subnet)).await,
            Some(id_of(&made))
        );
        assert_eq!(
            find(
                &aws,
                &op(STACK, address, Some(NEW_TOKEN)),
                t,
                &association(&subnet)
            )
            .await,
            Some(id_of(&made))
        );
        // Another stack does not own the parents: nothing to adopt.
        assert_eq!(
            find(&aws, &ctx(THIRD_STACK, address), t, &association(&subnet)).await,
            None
        );
        // A subnet of another stack, associated with this stack's table: not adopted.
        let theirs = Value::map([("vpc_id", s(&vpc)), ("cidr_block", s("10.50.2.0/24"))]);
        let theirs = id_of(
            &create(
                &aws,
                &ctx(OTHER_STACK, "aws_subnet.theirs"),
                "aws_subnet",
                &theirs,
            )
            .await,
        );
        create(&aws, &ctx(OTHER_STACK, address), t, &association(&theirs)).await;
        assert_eq!(
            find(&aws, &ctx(STACK, address), t, &association(&theirs)).await,
            None
        );
        // A subnet of this stack that nothing associated yet: nothing.
        let free = Value::map([("vpc_id", s(&vpc)), ("cidr_block", s("10.50.3.0/24"))]);
        let free = id_of(&create(&aws, &ctx(STACK, "aws_subnet.free"), "aws_subnet", &free).await);
        assert_eq!(
            find(&aws, &ctx(STACK, address), t, &association(&free)).await,
            None
        );
    });
}

// ---- IAM, KMS, S3 ----

#[test]
fn iam_role_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let role = |name: Option<&str>| {
            let name = name.map_or(("name_prefix", s("trainer-")), |n| ("name", s(n)));
            Value::map([
                name,
                ("assume_role_policy", role_policy("ec2.amazonaws.com")),
            ])
        };
        adoption(
            &aws,
            "aws_iam_role",
            [role(Some("r-a")), role(Some("r-b")), role(Some("r-c"))],
        )
        .await;
        // Names made from each create's token (name_prefix).
        adoption_with(
            &aws,
            "aws_iam_role",
            [role(None), role(None), role(None)],
            &SECOND,
        )
        .await;
    });
}

#[test]
fn iam_policy_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let document = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"*"}]}"#;
        let policy = |name: &str| Value::map([("name", s(name)), ("policy", s(document))]);
        adoption(
            &aws,
            "aws_iam_policy",
            [policy("p-a"), policy("p-b"), policy("p-c")],
        )
        .await;
    });
}

#[test]
fn iam_instance_profile_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let profile = |name: &str| Value::map([("name", s(name))]);
        adoption(
            &aws,
            "aws_iam_instance_profile",
            [profile("ip-a"), profile("ip-b"), profile("ip-c")],
        )
        .await;
    });
}

#[test]
fn iam_role_policy_attachment_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let t = "aws_iam_role_policy_attachment";
        let policy = "arn:aws:iam::aws:policy/ReadOnlyAccess";
        let role = |stack: &str, name: &str| {
            let config = Value::map([
                ("name", s(name)),
                ("assume_role_policy", role_policy("ec2.amazonaws.com")),
            ]);
            let ctx = op(stack, &format!("aws_iam_role.{name}"), Some(TOKEN));
            let aws = &aws;
            async move { id_of(&create(aws, &ctx, "aws_iam_role", &config).await) }
        };
        let ours = role(STACK, "ours").await;
        let theirs = role(OTHER_STACK, "theirs").await;
        let attachment = |role: &str| Value::map([("role", s(role)), ("policy_arn", s(policy))]);
        let address = "aws_iam_role_policy_attachment.read";
        let made = create(
            &aws,
            &op(STACK, address, Some(TOKEN)),
            t,
            &attachment(&ours),
        )
        .await;
        assert_eq!(
            find(
                &aws,
                &op(STACK, address, Some(TOKEN)),
                t,
                &attachment(&ours)
            )
            .await,
            Some(id_of(&made))
        );
        assert_eq!(
            find(
                &aws,
                &op(THIRD_STACK, address, Some(TOKEN)),
                t,
                &attachment(&ours)
            )
            .await,
            None
        );
        // The same policy on another stack's role: not this stack's to adopt.
        create(
            &aws,
            &op(OTHER_STACK, address, Some(THEIR_TOKEN)),
            t,
            &attachment(&theirs),
        )
        .await;
        assert_eq!(
            find(
                &aws,
                &op(STACK, address, Some(TOKEN)),
                t,
                &attachment(&theirs)
            )
            .await,
            None
        );
        // Not attached (yet): nothing.
        let bare = role(STACK, "bare").await;
        assert_eq!(
            find(
                &aws,
                &op(STACK, address, Some(TOKEN)),
                t,
                &attachment(&bare)
            )
            .await,
            None
        );
    });
}

#[test]
fn kms_key_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let key = |d: &str| {
            Value::map([
                ("description", s(d)),
                ("deletion_window_in_days", Value::Number(7.0)),
            ])
        };
        adoption(&aws, "aws_kms_key", [key("a"), key("b"), key("c")]).await;
    });
}

#[test]
fn s3_bucket_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let bucket = |name: &str| Value::map([("bucket", s(name))]);
        adoption(
            &aws,
            "aws_s3_bucket",
            [bucket("adopt-a"), bucket("adopt-b"), bucket("adopt-c")],
        )
        .await;
        // Names made from each create's token (bucket_prefix).
        let prefixed = Value::map([("bucket_prefix", s("ckpt-"))]);
        let configs = [prefixed.clone(), prefixed.clone(), prefixed.clone()];
        adoption_with(&aws, "aws_s3_bucket", configs, &SECOND).await;

        // A run killed between CreateBucket and PutBucketTagging leaves an untagged bucket:
        // a name made from the token is proof enough, a given one is not.
        let token = "c56a4180-65aa-42ec-a945-5fd21dec0538";
        let ctx = op(STACK, "aws_s3_bucket.killed", Some(token));
        let generated = id_of(&create(&aws, &ctx, "aws_s3_bucket", &prefixed).await);
        moto.s3()
            .delete_bucket_tagging()
            .bucket(&generated)
            .send()
            .await
            .expect("untag");
        assert_eq!(
            find(&aws, &ctx, "aws_s3_bucket", &prefixed).await,
            Some(generated)
        );
        moto.s3()
            .create_bucket()
            .bucket("given-untagged")
            .send()
            .await
            .expect("bucket");
        assert_eq!(
            find(&aws, &ctx, "aws_s3_bucket", &bucket("given-untagged")).await,
            None
        );
        // Nor does a create take over a bucket of that name that is not its own.
        let refused = aws
            .create(
                &ctx,
                "aws_s3_bucket",
                &planned(&aws, "aws_s3_bucket", &bucket("adopt-b")),
            )
            .await
            .expect_err("another stack's bucket is refused");
        assert_eq!(
            refused.class,
            gantry_provider::ErrorClass::Conflict,
            "{refused}"
        );
        let tags = moto
            .s3()
            .get_bucket_tagging()
            .bucket("adopt-b")
            .send()
            .await
            .expect("tags");
        let stack = tags
            .tag_set()
            .iter()
            .find(|t| t.key() == "gantry:stack")
            .map(|t| t.value().to_owned());
        assert_eq!(
            stack.as_deref(),
            Some(OTHER_STACK),
            "retagged another stack's bucket"
        );
    });
}

/// The bucket settings: adopted on a bucket of this stack when they hold what was planned.
async fn setting_adoption(
    aws: &AwsProvider,
    type_name: &str,
    planned_now: Value,
    planned_else: Value,
) {
    let with = |config: &Value, bucket: &str| {
        let mut m = config.as_map().cloned().unwrap_or_default();
        m.insert("bucket".into(), s(bucket));
        Value::Map(m)
    };
    let bucket = |stack: &str, name: &str| {
        let ctx = op(stack, &format!("aws_s3_bucket.{name}"), Some(TOKEN));
        let config = Value::map([("bucket", s(name))]);
        async move { id_of(&create(aws, &ctx, "aws_s3_bucket", &config).await) }
    };
    let ours = bucket(STACK, &format!("{}-ours", type_name.replace('_', "-"))).await;
    let theirs = bucket(
        OTHER_STACK,
        &format!("{}-theirs", type_name.replace('_', "-")),
    )
    .await;
    let address = format!("{type_name}.this");
    let ctx = op(STACK, &address, Some(TOKEN));
    create(aws, &ctx, type_name, &with(&planned_now, &ours)).await;
    assert_eq!(
        find(aws, &ctx, type_name, &with(&planned_now, &ours)).await,
        Some(ours.clone()),
        "{type_name}"
    );
    // Not what was planned: the create was not carried out (putting it again is harmless).
    assert_eq!(
        find(aws, &ctx, type_name, &with(&planned_else, &ours)).await,
        None,
        "{type_name}"
    );
    assert_eq!(
        find(
            aws,
            &op(THIRD_STACK, &address, Some(TOKEN)),
            type_name,
            &with(&planned_now, &ours)
        )
        .await,
        None
    );
    // The same setting on another stack's bucket is not this stack's.
    create(
        aws,
        &op(OTHER_STACK, &address, Some(THEIR_TOKEN)),
        type_name,
        &with(&planned_now, &theirs),
    )
    .await;
    assert_eq!(
        find(aws, &ctx, type_name, &with(&planned_now, &theirs)).await,
        None,
        "{type_name}"
    );
}

#[test]
fn s3_bucket_versioning_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let status = |st: &str| {
            Value::map([(
                "versioning_configuration",
                list(vec![Value::map([("status", s(st))])]),
            )])
        };
        setting_adoption(
            &aws,
            "aws_s3_bucket_versioning",
            status("Enabled"),
            status("Suspended"),
        )
        .await;
    });
}

#[test]
fn s3_bucket_public_access_block_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let block = |on: bool| {
            Value::map([
                ("block_public_acls", Value::Bool(true)),
                ("block_public_policy", Value::Bool(on)),
                ("ignore_public_acls", Value::Bool(true)),
                ("restrict_public_buckets", Value::Bool(true)),
            ])
        };
        setting_adoption(
            &aws,
            "aws_s3_bucket_public_access_block",
            block(true),
            block(false),
        )
        .await;
    });
}

#[test]
fn s3_bucket_server_side_encryption_configuration_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let rule = |alg: &str| {
            let default = Value::map([("sse_algorithm", s(alg))]);
            Value::map([(
                "rule",
                list(vec![Value::map([(
                    "apply_server_side_encryption_by_default",
                    list(vec![default]),
                )])]),
            )])
        };
        setting_adoption(
            &aws,
            "aws_s3_bucket_server_side_encryption_configuration",
            rule("aws:kms"),
            rule("AES256"),
        )
        .await;
    });
}

// ---- storage and ML platform ----

#[test]
fn fsx_lustre_file_system_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let (_, subnet) = network(&aws, "10.60.0.0/16").await;
        let lustre = Value::map([
            ("storage_capacity", Value::Number(1200.0)),
            ("subnet_ids", strs(&[&subnet])),
            ("deployment_type", s("SCRATCH_2")),
        ]);
        adoption(
            &aws,
            "aws_fsx_lustre_file_system",
            [lustre.clone(), lustre.clone(), lustre],
        )
        .await;
    });
}

#[test]
fn fsx_data_repository_association_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let (_, subnet) = network(&aws, "10.70.0.0/16").await;
        let lustre = Value::map([
            ("storage_capacity", Value::Number(1200.0)),
            ("subnet_ids", strs(&[&subnet])),
            ("deployment_type", s("PERSISTENT_2")),
            ("per_unit_storage_throughput", Value::Number(125.0)),
        ]);
        let ctx = op(STACK, "aws_fsx_lustre_file_system.fs", Some(TOKEN));
        let fs = id_of(&create(&aws, &ctx, "aws_fsx_lustre_file_system", &lustre).await);
        for bucket in ["dra-a", "dra-b", "dra-c"] {
            moto.s3()
                .create_bucket()
                .bucket(bucket)
                .send()
                .await
                .expect("bucket");
        }
        let dra = |bucket: &str| {
            Value::map([
                ("file_system_id", s(&fs)),
                ("file_system_path", s(&format!("/{bucket}"))),
                ("data_repository_path", s(&format!("s3://{bucket}"))),
            ])
        };
        adoption(
            &aws,
            "aws_fsx_data_repository_association",
            [dra("dra-a"), dra("dra-b"), dra("dra-c")],
        )
        .await;
    });
}

#[test]
fn efs_file_system_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        // The CreationToken is each create's own token.
        let efs = Value::map([("encrypted", Value::Bool(true))]);
        adoption(&aws, "aws_efs_file_system", [efs.clone(), efs.clone(), efs]).await;
        // A creation_token the stack chose proves nothing by itself (any create may use it):
        // the file system must also carry this create's marks.
        let chosen = Value::map([("creation_token", s("shared-home"))]);
        let address = "aws_efs_file_system.home";
        let other = op(OTHER_STACK, address, Some(THEIR_TOKEN));
        create(&aws, &other, "aws_efs_file_system", &chosen).await;
        assert!(find(&aws, &other, "aws_efs_file_system", &chosen)
            .await
            .is_some());
        assert_eq!(
            find(
                &aws,
                &op(STACK, address, Some(TOKEN)),
                "aws_efs_file_system",
                &chosen
            )
            .await,
            None
        );
    });
}

#[test]
fn sagemaker_domain_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let (vpc, subnet) = network(&aws, "10.80.0.0/16").await;
        let role = role_arn(&moto, "sagemaker-domain", "sagemaker.amazonaws.com").await;
        let domain = |name: &str| {
            Value::map([
                ("domain_name", s(name)),
                ("auth_mode", s("IAM")),
                ("vpc_id", s(&vpc)),
                ("subnet_ids", strs(&[&subnet])),
                (
                    "default_user_settings",
                    list(vec![Value::map([("execution_role", s(&role))])]),
                ),
            ])
        };
        adoption(
            &aws,
            "aws_sagemaker_domain",
            [domain("studio-a"), domain("studio-b"), domain("studio-c")],
        )
        .await;
    });
}

#[test]
fn sagemaker_notebook_instance_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let role = role_arn(&moto, "notebooks", "sagemaker.amazonaws.com").await;
        let notebook = |name: &str| {
            Value::map([
                ("name", s(name)),
                ("instance_type", s("ml.t3.medium")),
                ("role_arn", s(&role)),
            ])
        };
        adoption(
            &aws,
            "aws_sagemaker_notebook_instance",
            [notebook("nb-a"), notebook("nb-b"), notebook("nb-c")],
        )
        .await;
    });
}

// ---- EKS ----

fn cluster_config(name: &str, role: &str, subnet: &str) -> Value {
    Value::map([
        ("name", s(name)),
        ("role_arn", s(role)),
        (
            "vpc_config",
            list(vec![Value::map([("subnet_ids", strs(&[subnet]))])]),
        ),
    ])
}

#[test]
fn eks_cluster_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let (_, subnet) = network(&aws, "10.90.0.0/16").await;
        let role = role_arn(&moto, "eks-cluster", "eks.amazonaws.com").await;
        let cluster = |name: &str| cluster_config(name, &role, &subnet);
        adoption(
            &aws,
            "aws_eks_cluster",
            [cluster("eks-a"), cluster("eks-b"), cluster("eks-c")],
        )
        .await;
    });
}

#[test]
fn eks_node_group_adoption() {
    run(|moto| async move {
        let aws = provider(&moto).await;
        let (_, subnet) = network(&aws, "10.91.0.0/16").await;
        let role = role_arn(&moto, "eks", "eks.amazonaws.com").await;
        let ctx = op(STACK, "aws_eks_cluster.gpu", Some(TOKEN));
        create(
            &aws,
            &ctx,
            "aws_eks_cluster",
            &cluster_config("gpu", &role, &subnet),
        )
        .await;
        let group = |name: &str| {
            Value::map([
                ("cluster_name", s("gpu")),
                ("node_group_name", s(name)),
                ("node_role_arn", s(&role)),
                ("subnet_ids", strs(&[&subnet])),
                (
                    "scaling_config",
                    list(vec![Value::map([
                        ("desired_size", Value::Number(1.0)),
                        ("min_size", Value::Number(0.0)),
                        ("max_size", Value::Number(2.0)),
                    ])]),
                ),
            ])
        };
        adoption(
            &aws,
            "aws_eks_node_group",
            [group("ng-a"), group("ng-b"), group("ng-c")],
        )
        .await;
    });
}

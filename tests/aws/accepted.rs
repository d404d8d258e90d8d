//! What happens after the cloud accepted a create, and in the waits around it, against moto
//! (the provider called directly):
//! - a create whose wait runs out of time (`timeouts`), is cancelled, or whose follow-up call
//!   fails returns its error with the object (`accepted`, at least its id): the object
//!   exists and the engine records it, tainted, instead of creating another;
//! - a read-back right after a create polls past NotFound;
//! - throttling of a step after acceptance is retried far longer than the SDK's usual
//!   attempts (nothing else could retry it), while the create call itself still goes back
//!   to the engine;
//! - a create the service refuses while IAM propagates a new role or instance profile is
//!   sent again until it goes through (other refusals are not);
//! - an EKS node group update is followed by its update id (DescribeUpdate), so an update
//!   that fails in EKS fails the apply even though the group is ACTIVE again;
//! - a node group or cluster whose deletion fails is an error with EKS's health issues, at
//!   once, not a wait to the deadline.
//!
//! moto gaps faked by the launcher (tests/moto/README.md): the CREATING state of EKS
//! objects, DescribeUpdate, UpdateNodegroupVersion, failed updates and deletions
//! (`eks_failures`), and injected errors (`errors`). FSx is the launcher's fake (CREATING
//! once after a create).

use crate::support::{block_on, id_of, op, planned, provider, Moto};
use gantry_aws::AwsProvider;
use gantry_provider::{ErrorClass, OpContext, Provider, ProviderError, Value};
use std::time::{Duration, Instant};

const STACK: &str = "5d41402a-stack";
const TOKEN: &str = "6f1ed002-ab5d-4b1e-9c8a-0e6f3c1b2a4d";

fn s(v: &str) -> Value {
    Value::string(v)
}

fn create_op(address: &str) -> OpContext {
    op(STACK, address, Some(TOKEN))
}

async fn create(
    aws: &AwsProvider,
    ctx: &OpContext,
    type_name: &str,
    config: &Value,
) -> Result<Value, ProviderError> {
    aws.create(ctx, type_name, &planned(aws, type_name, config))
        .await
}

/// The id a create that failed after acceptance reports.
fn accepted_id(e: &ProviderError) -> String {
    let state = e
        .accepted
        .as_deref()
        .unwrap_or_else(|| panic!("no object with the error: {e}"));
    id_of(state)
}

async fn network(aws: &AwsProvider) -> String {
    let vpc = create(
        aws,
        &create_op("aws_vpc.n"),
        "aws_vpc",
        &Value::map([("cidr_block", s("10.0.0.0/16"))]),
    )
    .await
    .expect("vpc");
    let subnet = Value::map([
        ("vpc_id", s(&id_of(&vpc))),
        ("cidr_block", s("10.0.1.0/24")),
        ("availability_zone", s("us-east-1a")),
    ]);
    let subnet = create(aws, &create_op("aws_subnet.n"), "aws_subnet", &subnet)
        .await
        .expect("subnet");
    id_of(&subnet)
}

fn lustre(subnet: &str) -> Value {
    Value::map([
        ("storage_capacity", Value::Number(1200.0)),
        ("subnet_ids", Value::List(vec![s(subnet)])),
        ("deployment_type", s("SCRATCH_2")),
    ])
}

fn cluster(name: &str, subnet: &str) -> Value {
    Value::map([
        ("name", s(name)),
        ("role_arn", s("arn:aws:iam::123456789012:role/eks")),
        (
            "vpc_config",
            Value::List(vec![Value::map([(
                "subnet_ids",
                Value::List(vec![s(subnet)]),
            )])]),
        ),
    ])
}

fn node_group(
    cluster: &str,
    name: &str,
    subnet: &str,
    desired: f64,
    template: Option<(&str, &str)>,
) -> Value {
    let mut m = vec![
        ("cluster_name", s(cluster)),
        ("node_group_name", s(name)),
        ("node_role_arn", s("arn:aws:iam::123456789012:role/nodes")),
        ("subnet_ids", Value::List(vec![s(subnet)])),
        (
            "scaling_config",
            Value::List(vec![Value::map([
                ("desired_size", Value::Number(desired)),
                ("min_size", Value::Number(0.0)),
                ("max_size", Value::Number(4.0)),
            ])]),
        ),
    ];
    if let Some((id, version)) = template {
        m.push((
            "launch_template",
            Value::List(vec![Value::map([("id", s(id)), ("version", s(version))])]),
        ));
    }
    Value::map(m)
}

#[test]
fn an_fsx_create_that_runs_out_of_time_reports_the_file_system_it_made() {
    let moto = Moto::start();
    block_on(async {
        let aws = provider(&moto).await;
        let subnet = network(&aws).await;
        let mut ctx = create_op("aws_fsx_lustre_file_system.scratch");
        // `timeouts { create = "0s" }`: the file system is CREATING at the first look.
        ctx.timeout = Some(Duration::ZERO);
        let e = create(&aws, &ctx, "aws_fsx_lustre_file_system", &lustre(&subnet))
            .await
            .expect_err("the wait runs out of time");
        assert_eq!(e.class, ErrorClass::Timeout, "{e}");
        let id = accepted_id(&e);
        assert!(id.starts_with("fs-"), "{id}");
        // What the create answered is kept too.
        let arn = e
            .accepted
            .as_deref()
            .and_then(|v| v.as_map())
            .and_then(|m| m.get("arn"))
            .cloned();
        assert!(arn
            .and_then(|a| a.as_str().map(|a| a.ends_with(&id)))
            .unwrap_or(false));
        // It exists, and the create's lookup finds that very file system (no second one).
        let out = moto
            .fsx()
            .describe_file_systems()
            .file_system_ids(&id)
            .send()
            .await
            .expect("describe");
        assert_eq!(out.file_systems().len(), 1);
        let found = aws
            .find_created(
                &ctx,
                "aws_fsx_lustre_file_system",
                TOKEN,
                &planned(&aws, "aws_fsx_lustre_file_system", &lustre(&subnet)),
            )
            .await
            .expect("lookup");
        assert_eq!(found.map(|v| id_of(&v)), Some(id));
    });
}

#[test]
fn an_eks_create_that_runs_out_of_time_or_is_cancelled_reports_the_cluster() {
    let moto = Moto::start();
    block_on(async {
        let aws = provider(&moto).await;
        let subnet = network(&aws).await;
        let mut ctx = create_op("aws_eks_cluster.gpu");
        ctx.timeout = Some(Duration::ZERO);
        let e = create(&aws, &ctx, "aws_eks_cluster", &cluster("gpu", &subnet))
            .await
            .expect_err("timeout");
        assert_eq!(e.class, ErrorClass::Timeout, "{e}");
        assert_eq!(accepted_id(&e), "gpu");
        let described = moto
            .eks()
            .describe_cluster()
            .name("gpu")
            .send()
            .await
            .expect("the cluster exists");
        assert_eq!(
            described.cluster().and_then(|c| c.client_request_token()),
            Some(TOKEN)
        );

        // Ctrl-C during the wait: the same, with the cancellation's error.
        let ctx = op(
            STACK,
            "aws_eks_cluster.cpu",
            Some("0a0b0c0d-1e2f-4a3b-8c4d-5e6f7a8b9c0d"),
        );
        ctx.cancel.cancel();
        let e = create(&aws, &ctx, "aws_eks_cluster", &cluster("cpu", &subnet))
            .await
            .expect_err("cancelled");
        assert!(e.message.contains("interrupted"), "{e}");
        assert_eq!(accepted_id(&e), "cpu");
    });
}

#[test]
fn a_create_whose_follow_up_call_fails_reports_the_object() {
    let moto = Moto::start();
    block_on(async {
        let aws = provider(&moto).await;
        // CreateVpc goes through; turning DNS hostnames on (ModifyVpcAttribute) is refused.
        moto.set_faults(&serde_json::json!({"errors": [{
            "action": "ModifyVpcAttribute", "count": 1, "code": "UnauthorizedOperation",
            "message": "You are not authorized to perform this operation.", "status": 403
        }]}));
        let config = Value::map([
            ("cidr_block", s("10.9.0.0/16")),
            ("enable_dns_hostnames", Value::Bool(true)),
        ]);
        let e = create(&aws, &create_op("aws_vpc.main"), "aws_vpc", &config)
            .await
            .expect_err("refused");
        assert_eq!(e.class, ErrorClass::Auth, "{e}");
        let id = accepted_id(&e);
        let vpcs = moto
            .ec2()
            .describe_vpcs()
            .vpc_ids(&id)
            .send()
            .await
            .expect("the VPC exists");
        assert_eq!(vpcs.vpcs().len(), 1);
    });
}

#[test]
fn throttling_after_a_create_was_accepted_is_ridden_out() {
    let moto = Moto::start();
    block_on(async {
        let aws = provider(&moto).await;
        // Turning DNS hostnames on (ModifyVpcAttribute, after CreateVpc was accepted) is
        // throttled four times: more than the three attempts of max_retries = 2, which is
        // what a call that the engine can retry gets. Failing here would leave the VPC
        // tainted, to be replaced on the next apply.
        moto.set_faults(&serde_json::json!({
            "throttle": [{"action": "ModifyVpcAttribute", "count": 4}]
        }));
        let config = Value::map([
            ("cidr_block", s("10.7.0.0/16")),
            ("enable_dns_hostnames", Value::Bool(true)),
        ]);
        let vpc = create(&aws, &create_op("aws_vpc.main"), "aws_vpc", &config)
            .await
            .expect("the throttled step is retried until it goes through");
        let hostnames = moto
            .ec2()
            .describe_vpc_attribute()
            .vpc_id(id_of(&vpc))
            .attribute(aws_sdk_ec2::types::VpcAttributeName::EnableDnsHostnames)
            .send()
            .await
            .expect("the VPC exists");
        assert_eq!(
            hostnames.enable_dns_hostnames().and_then(|v| v.value()),
            Some(true)
        );
        // The create call itself, throttled as often, goes back to the engine after the
        // SDK's three attempts (the engine retries it with its own backoff and slows down),
        // and nothing was created.
        moto.set_faults(&serde_json::json!({
            "throttle": [{"action": "CreateVpc", "count": 3}]
        }));
        let e = create(&aws, &create_op("aws_vpc.other"), "aws_vpc", &config)
            .await
            .expect_err("throttled");
        assert_eq!(e.class, ErrorClass::Throttled, "{e}");
        assert!(e.accepted.is_none(), "{e:?}");
    });
}

#[test]
fn a_read_back_right_after_a_create_waits_out_not_found() {
    let moto = Moto::start();
    block_on(async {
        let aws = provider(&moto).await;
        // The new VPC is not visible to DescribeVpcs for two calls (eventual consistency).
        moto.set_faults(&serde_json::json!({"errors": [{
            "action": "DescribeVpcs", "count": 2, "code": "InvalidVpcID.NotFound",
            "message": "The vpc ID 'vpc-0' does not exist"
        }]}));
        let vpc = create(
            &aws,
            &create_op("aws_vpc.main"),
            "aws_vpc",
            &Value::map([("cidr_block", s("10.8.0.0/16"))]),
        )
        .await
        .expect("the create waits until the VPC can be read");
        let cidr = vpc
            .as_map()
            .and_then(|m| m.get("cidr_block"))
            .and_then(Value::as_str);
        assert_eq!(cidr, Some("10.8.0.0/16"));
    });
}

#[test]
fn creates_refused_while_iam_propagates_are_sent_again() {
    let moto = Moto::start();
    block_on(async {
        let aws = provider(&moto).await;
        let subnet = network(&aws).await;
        let ami = crate::support::an_ami(&moto.ec2()).await;
        moto.iam()
            .create_instance_profile()
            .instance_profile_name("gpu-node")
            .send()
            .await
            .expect("profile");
        let instance = Value::map([
            ("ami", s(&ami)),
            ("instance_type", s("t3.micro")),
            ("subnet_id", s(&subnet)),
            ("iam_instance_profile", s("gpu-node")),
        ]);
        // EC2's and EKS's own words for a profile or role they cannot see yet.
        moto.set_faults(&serde_json::json!({"errors": [
            {"action": "RunInstances", "count": 2, "code": "InvalidParameterValue",
             "message": "Value (gpu-node) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name"},
            {"action": "CreateCluster", "count": 2, "code": "InvalidParameterException",
             "message": "Role with arn: arn:aws:iam::123456789012:role/eks, could not be assumed because it does not exist or the trusted entity is not correct"}
        ]}));
        let launched = create(
            &aws,
            &create_op("aws_instance.gpu"),
            "aws_instance",
            &instance,
        )
        .await
        .expect("launched");
        let live = moto
            .ec2()
            .describe_instances()
            .instance_ids(id_of(&launched))
            .send()
            .await
            .expect("describe");
        assert_eq!(live.reservations().len(), 1);
        create(
            &aws,
            &create_op("aws_eks_cluster.gpu"),
            "aws_eks_cluster",
            &cluster("gpu", &subnet),
        )
        .await
        .expect("created once EKS can assume the role");

        // Any other refusal is returned at once: the call after it would have succeeded.
        moto.set_faults(&serde_json::json!({"errors": [
            {"action": "RunInstances", "count": 1, "code": "InvalidParameterValue",
             "message": "Invalid value 'p9.huge' for InstanceType."}
        ]}));
        let ctx = op(
            STACK,
            "aws_instance.other",
            Some("1b4e28ba-2fa1-41d2-883f-0016d3cca427"),
        );
        let e = create(&aws, &ctx, "aws_instance", &instance)
            .await
            .expect_err("refused");
        assert_eq!(e.class, ErrorClass::InvalidInput, "{e}");
        assert!(e.accepted.is_none(), "nothing was created: {e}");
    });
}

/// A cluster and a node group (from a launch template), made by the provider.
async fn cluster_with_group(moto: &Moto, aws: &AwsProvider) -> (String, String, Value) {
    let subnet = network(aws).await;
    let template = moto
        .ec2()
        .create_launch_template()
        .launch_template_name("nodes")
        .launch_template_data(
            aws_sdk_ec2::types::RequestLaunchTemplateData::builder()
                .instance_type(aws_sdk_ec2::types::InstanceType::G5Xlarge)
                .build(),
        )
        .send()
        .await
        .expect("template");
    let template = template
        .launch_template()
        .and_then(|t| t.launch_template_id())
        .expect("template id")
        .to_owned();
    create(
        aws,
        &create_op("aws_eks_cluster.ml"),
        "aws_eks_cluster",
        &cluster("ml", &subnet),
    )
    .await
    .expect("cluster");
    let config = node_group("ml", "gpu", &subnet, 1.0, Some((&template, "1")));
    let group = create(
        aws,
        &create_op("aws_eks_node_group.gpu"),
        "aws_eks_node_group",
        &config,
    )
    .await
    .expect("node group");
    (subnet, template, group)
}

#[test]
fn node_group_updates_are_followed_by_their_update_id() {
    let moto = Moto::start();
    block_on(async {
        let aws = provider(&moto).await;
        let (subnet, template, group) = cluster_with_group(&moto, &aws).await;
        let t = "aws_eks_node_group";
        let ctx = op(STACK, "aws_eks_node_group.gpu", None);
        // A scaling change and a launch template version change, both succeeding.
        let scaled = planned(
            &aws,
            t,
            &node_group("ml", "gpu", &subnet, 3.0, Some((&template, "2"))),
        );
        let after = aws.update(&ctx, t, &group, &scaled).await.expect("update");
        let read = moto
            .eks()
            .describe_nodegroup()
            .cluster_name("ml")
            .nodegroup_name("gpu")
            .send()
            .await
            .expect("describe");
        let read = read.nodegroup().expect("group");
        assert_eq!(
            read.scaling_config().and_then(|s| s.desired_size()),
            Some(3)
        );
        assert_eq!(read.launch_template().and_then(|l| l.version()), Some("2"));
        let version = after
            .as_map()
            .and_then(|m| m.get("launch_template"))
            .and_then(|l| l.as_map())
            .and_then(|l| l.get("version"))
            .and_then(Value::as_str);
        assert_eq!(version, Some("2"));

        // EKS accepts the next update and then fails it; the group is ACTIVE again, so only
        // the update's own status tells.
        moto.set_faults(&serde_json::json!({"eks_failures": [{
            "operation": "UpdateNodegroupConfig", "cluster": "ml", "nodegroup": "gpu",
            "code": "NodeCreationFailure", "message": "Instances failed to join the kubernetes cluster"
        }]}));
        let bigger = planned(
            &aws,
            t,
            &node_group("ml", "gpu", &subnet, 4.0, Some((&template, "2"))),
        );
        let e = aws
            .update(&ctx, t, &after, &bigger)
            .await
            .expect_err("the update failed in EKS");
        assert!(
            e.message
                .contains("NodeCreationFailure: Instances failed to join"),
            "{e}"
        );
        assert!(e.message.contains("is Failed"), "{e}");
        assert_eq!(e.class, ErrorClass::Fatal, "{e}");
        // A version update that fails likewise.
        moto.set_faults(&serde_json::json!({"eks_failures": [{
            "operation": "UpdateNodegroupVersion", "cluster": "ml", "nodegroup": "gpu"
        }]}));
        let newer = planned(
            &aws,
            t,
            &node_group("ml", "gpu", &subnet, 3.0, Some((&template, "3"))),
        );
        let e = aws
            .update(&ctx, t, &after, &newer)
            .await
            .expect_err("the version update failed");
        assert!(e.message.contains("NodeCreationFailure"), "{e}");
    });
}

#[test]
fn a_node_group_or_cluster_whose_deletion_fails_is_an_error_at_once() {
    let moto = Moto::start();
    block_on(async {
        let aws = provider(&moto).await;
        let (_, _, group) = cluster_with_group(&moto, &aws).await;
        moto.set_faults(&serde_json::json!({"eks_failures": [
            {"operation": "DeleteNodegroup", "cluster": "ml", "nodegroup": "gpu",
             "message": "sg-0123 has a dependent object"},
            {"operation": "DeleteCluster", "cluster": "ml", "code": "ClusterUnreachable",
             "message": "the cluster's network interfaces are still in use"}
        ]}));
        let mut ctx = op(STACK, "aws_eks_node_group.gpu", None);
        // Far more than the test takes when the failure is noticed.
        ctx.timeout = Some(Duration::from_secs(120));
        let started = Instant::now();
        let e = aws
            .delete(&ctx, "aws_eks_node_group", &group)
            .await
            .expect_err("DELETE_FAILED");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "waited {:?}",
            started.elapsed()
        );
        assert_ne!(e.class, ErrorClass::Timeout, "{e}");
        assert!(e.message.contains("DELETE_FAILED"), "{e}");
        assert!(
            e.message
                .contains("Ec2SecurityGroupDeletionFailure: sg-0123 has a dependent object"),
            "{e}"
        );

        let state = Value::map([("id", s("ml"))]);
        let mut ctx = op(STACK, "aws_eks_cluster.ml", None);
        ctx.timeout = Some(Duration::from_secs(120));
        let e = aws
            .delete(&ctx, "aws_eks_cluster", &state)
            .await
            .expect_err("FAILED");
        assert_ne!(e.class, ErrorClass::Timeout, "{e}");
        assert!(
            e.message
                .contains("ClusterUnreachable: the cluster's network interfaces are still in use"),
            "{e}"
        );

        // Once EKS can delete them, the same deletes finish.
        moto.set_faults(&serde_json::json!({}));
        aws.delete(
            &op(STACK, "aws_eks_node_group.gpu", None),
            "aws_eks_node_group",
            &group,
        )
        .await
        .expect("deleted");
        aws.delete(
            &op(STACK, "aws_eks_cluster.ml", None),
            "aws_eks_cluster",
            &state,
        )
        .await
        .expect("deleted");
    });
}

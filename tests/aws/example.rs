//! examples/aws-gpu-cluster, applied and destroyed against moto as a user would run it.

use crate::support::{block_on, repo_root, Moto};

#[test]
fn the_gpu_cluster_example_applies_plans_clean_and_destroys_to_nothing() {
    let moto = Moto::start();
    let stack = moto.stack();
    let source = std::fs::read_to_string(repo_root().join("examples/aws-gpu-cluster/main.hcl"))
        .expect("example");
    stack.write(&source);
    let run = stack.apply();
    assert!(run.both().contains("Apply complete!"), "{}", run.both());
    // The faults file sets no EC2 quota, so Service Quotas knows none: the plan says the P
    // quota was not checked rather than failing or passing silently.
    assert!(
        run.both()
            .contains("quota L-417A185B in us-east-1 was not checked"),
        "{}",
        run.both()
    );

    // Read back through the SDK: two GPU instances from the EFA launch template, in the
    // cluster placement group; the EKS cluster and its GPU node group; Lustre; the bucket.
    let ec2 = moto.ec2();
    let ids: Vec<String> = stack
        .gantry(&["output", "gpu_instance_ids", "--json"])
        .stdout
        .parse::<serde_json::Value>()
        .expect("json")
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    assert_eq!(ids.len(), 2);
    let out = block_on(
        ec2.describe_instances()
            .set_instance_ids(Some(ids.clone()))
            .send(),
    )
    .expect("describe instances");
    let instances: Vec<_> = out
        .reservations()
        .iter()
        .flat_map(|r| r.instances())
        .collect();
    assert_eq!(instances.len(), 2);
    for i in &instances {
        assert_eq!(i.instance_type().map(|t| t.as_str()), Some("p5.48xlarge"));
        assert_eq!(
            i.placement().and_then(|p| p.group_name()),
            Some("llm-train-gpu")
        );
    }
    let cluster = block_on(moto.eks().describe_cluster().name("llm-train").send()).expect("eks");
    assert_eq!(
        cluster
            .cluster()
            .and_then(|c| c.status())
            .map(|s| s.as_str()),
        Some("ACTIVE")
    );
    let group = block_on(
        moto.eks()
            .describe_nodegroup()
            .cluster_name("llm-train")
            .nodegroup_name("gpu")
            .send(),
    )
    .expect("nodegroup");
    assert_eq!(
        group.nodegroup().map(|g| g.instance_types().to_vec()),
        Some(vec!["p5.48xlarge".to_owned()])
    );
    let fs = block_on(moto.fsx().describe_file_systems().send()).expect("fsx");
    assert_eq!(fs.file_systems().len(), 1);
    let bucket = stack.gantry(&["output", "data_bucket", "--raw"]).stdout;
    let versioning = block_on(
        moto.s3()
            .get_bucket_versioning()
            .bucket(bucket.trim())
            .send(),
    )
    .expect("versioning");
    assert_eq!(versioning.status().map(|s| s.as_str()), Some("Enabled"));

    stack.assert_no_changes();
    stack.destroy();

    let left = block_on(
        ec2.describe_instances()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("instance-state-name")
                    .values("pending")
                    .values("running")
                    .values("stopped")
                    .build(),
            )
            .send(),
    )
    .expect("describe");
    assert!(left.reservations().is_empty(), "instances left: {left:?}");
    let vpcs = block_on(
        ec2.describe_vpcs()
            .filters(
                aws_sdk_ec2::types::Filter::builder()
                    .name("tag-key")
                    .values("gantry:address")
                    .build(),
            )
            .send(),
    )
    .expect("vpcs");
    assert!(vpcs.vpcs().is_empty());
    let clusters = block_on(moto.eks().list_clusters().send()).expect("clusters");
    assert!(clusters.clusters().is_empty());
    let fs = block_on(moto.fsx().describe_file_systems().send()).expect("fsx");
    assert!(fs.file_systems().is_empty());
    let roles = block_on(moto.iam().list_roles().send()).expect("roles");
    assert!(
        !roles
            .roles()
            .iter()
            .any(|r| r.role_name().starts_with("llm-train")),
        "roles left"
    );
    let buckets = block_on(moto.s3().list_buckets().send()).expect("buckets");
    assert!(buckets.buckets().is_empty());
}

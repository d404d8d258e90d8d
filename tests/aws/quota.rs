//! The AWS provider's quota reading (`Provider::read_quota`, the engine's quota pre-flight)
//! against moto, called on the provider directly: limits from Service Quotas (the
//! launcher's `ec2_quotas` and `ec2_default_quotas`), usage from the instances running in
//! moto, counted by family and purchase option. Expected vCPUs come from moto's
//! DescribeInstanceTypes, not from figures written here.
//!
//! moto's DescribeInstances returns no `CpuOptions` (also for instances launched with
//! some), so the provider's first source of vCPUs is never exercised here; the unit tests in
//! providers/aws/src/quota.rs cover it.

use crate::support::{block_on, Moto};
use aws_sdk_ec2::types::{InstanceMarketOptionsRequest, InstanceType, MarketType};
use gantry_aws::AwsProvider;
use gantry_provider::{ErrorClass, Provider, QuotaQuery, Value};
use std::collections::BTreeMap;

const P_ON_DEMAND: &str = "L-417A185B";
const P_SPOT: &str = "L-7212CCBC";
const G_ON_DEMAND: &str = "L-DB2E81BA";

/// A provider configured as a `provider "aws"` block pointing at moto would configure it.
async fn provider(moto: &Moto) -> AwsProvider {
    let provider = AwsProvider::new();
    let config = Value::map([
        ("region", Value::string("us-east-1")),
        ("endpoint_url", Value::string(&moto.url)),
        ("access_key", Value::string("testing")),
        ("secret_key", Value::string("testing")),
        ("max_retries", Value::Number(2.0)),
    ]);
    provider.configure(&config).await.expect("configure");
    provider
}

fn query(code: &str, families: &[&str], spot: bool) -> QuotaQuery {
    QuotaQuery {
        service: "ec2".into(),
        code: code.into(),
        region: None,
        unit: "vcpus".into(),
        families: families.iter().map(|f| (*f).to_owned()).collect(),
        units_per_type: BTreeMap::new(),
        spot,
    }
}

/// Default vCPUs of a type, as moto's DescribeInstanceTypes reports them.
async fn vcpus(ec2: &aws_sdk_ec2::Client, instance_type: &str) -> f64 {
    let out = ec2
        .describe_instance_types()
        .instance_types(InstanceType::from(instance_type))
        .send()
        .await
        .expect("describe instance types");
    let n = out.instance_types()[0]
        .v_cpu_info()
        .and_then(|v| v.default_v_cpus())
        .expect("default vCPUs");
    f64::from(n)
}

async fn launch(ec2: &aws_sdk_ec2::Client, ami: &str, instance_type: &str, spot: bool) -> String {
    let market = spot.then(|| {
        InstanceMarketOptionsRequest::builder()
            .market_type(MarketType::Spot)
            .build()
    });
    let out = ec2
        .run_instances()
        .image_id(ami)
        .instance_type(InstanceType::from(instance_type))
        .min_count(1)
        .max_count(1)
        .set_instance_market_options(market)
        .send()
        .await
        .expect("run instances");
    out.instances()[0]
        .instance_id()
        .expect("instance id")
        .to_owned()
}

#[test]
fn reads_the_limit_and_the_vcpus_in_use_by_family_and_purchase_option() {
    let moto = Moto::start();
    moto.set_faults(&serde_json::json!({
        "ec2_quotas": {P_ON_DEMAND: 384, P_SPOT: 96, G_ON_DEMAND: 64}
    }));
    let ec2 = moto.ec2();
    // One runtime for the whole test: the provider's clients keep connections on it.
    block_on(async {
        let aws = provider(&moto).await;
        assert_eq!(aws.region().as_deref(), Some("us-east-1"));

        // Nothing running yet.
        let p = query(P_ON_DEMAND, &["p"], false);
        let reading = aws.read_quota(&p).await.expect("read").expect("a reading");
        assert_eq!(reading.name, "Running On-Demand P instances");
        assert_eq!((reading.limit, reading.used), (384.0, 0.0));
        let url = reading.request_url.unwrap_or_default();
        assert!(
            url.contains("servicequotas/home/services/ec2/quotas/L-417A185B")
                && url.contains("us-east-1"),
            "{url}"
        );
        // The command that asks for more, the limit left for the engine to fill in.
        assert_eq!(
            reading.request_command.as_deref(),
            Some(
                "aws service-quotas request-service-quota-increase --service-code ec2 \
                 --quota-code L-417A185B --desired-value {desired} --region us-east-1"
            )
        );

        // One on-demand p5.48xlarge, one spot p5.48xlarge, one on-demand g6.xlarge.
        let ami = crate::support::an_ami(&ec2).await;
        let p5 = launch(&ec2, &ami, "p5.48xlarge", false).await;
        launch(&ec2, &ami, "p5.48xlarge", true).await;
        launch(&ec2, &ami, "g6.xlarge", false).await;
        let (p5_vcpus, g6_vcpus) = (
            vcpus(&ec2, "p5.48xlarge").await,
            vcpus(&ec2, "g6.xlarge").await,
        );

        // The on-demand P quota counts only the on-demand p5; with no figure from the
        // query, its vCPUs come from DescribeInstanceTypes.
        let reading = aws.read_quota(&p).await.expect("read").expect("a reading");
        assert_eq!((reading.limit, reading.used), (384.0, p5_vcpus));
        // The spot P quota counts only the spot one.
        let spot = aws
            .read_quota(&query(P_SPOT, &["p"], true))
            .await
            .expect("read")
            .expect("a reading");
        assert_eq!(spot.name, "All P Spot Instance Requests");
        assert_eq!((spot.limit, spot.used), (96.0, p5_vcpus));
        // The G and VT quota counts the g6, not the p5s.
        let g = aws
            .read_quota(&query(G_ON_DEMAND, &["g", "vt"], false))
            .await
            .expect("read")
            .expect("a reading");
        assert_eq!((g.limit, g.used), (64.0, g6_vcpus));

        // The engine's figure per type counts when the instance does not say (moto never
        // does; AWS always returns CpuOptions, which win for vCPU quotas).
        let mut with_figures = p.clone();
        with_figures
            .units_per_type
            .insert("p5.48xlarge".into(), 150.0);
        let reading = aws
            .read_quota(&with_figures)
            .await
            .expect("read")
            .expect("a reading");
        assert_eq!(reading.used, 150.0);
        // A quota in other units (GPUs) counts the engine's figures only.
        let mut gpus = p.clone();
        gpus.unit = "gpus".into();
        gpus.units_per_type.insert("p5.48xlarge".into(), 8.0);
        let reading = aws
            .read_quota(&gpus)
            .await
            .expect("read")
            .expect("a reading");
        assert_eq!(reading.used, 8.0);

        // Another region: same limits (the file has no regions), none of us-east-1's usage.
        let mut west = p.clone();
        west.region = Some("us-west-2".into());
        let reading = aws
            .read_quota(&west)
            .await
            .expect("read")
            .expect("a reading");
        assert_eq!((reading.limit, reading.used), (384.0, 0.0));
        assert!(
            reading.request_url.is_some_and(|u| u.contains("us-west-2")),
            "request URL names the quota's region"
        );
        assert!(
            reading
                .request_command
                .is_some_and(|c| c.ends_with("--region us-west-2")),
            "request command names the quota's region"
        );

        // A terminated instance no longer counts.
        ec2.terminate_instances()
            .instance_ids(&p5)
            .send()
            .await
            .expect("terminate");
        let reading = aws.read_quota(&p).await.expect("read").expect("a reading");
        assert_eq!(reading.used, 0.0);
    });
}

#[test]
fn unknown_codes_and_services_are_not_checked_and_defaults_stand_in() {
    let moto = Moto::start();
    moto.set_faults(&serde_json::json!({
        "ec2_quotas": {P_ON_DEMAND: 384},
        "ec2_default_quotas": {G_ON_DEMAND: 64}
    }));
    block_on(async {
        let aws = provider(&moto).await;
        // A code Service Quotas does not know: not checked, not an error.
        let unknown = aws
            .read_quota(&query("L-00000000", &["p"], false))
            .await
            .expect("read");
        assert_eq!(unknown, None);
        // Another service: not this provider's to read.
        let mut compute = query(P_ON_DEMAND, &["p"], false);
        compute.service = "compute".into();
        assert_eq!(aws.read_quota(&compute).await.expect("read"), None);
        // No applied value (GetServiceQuota: NoSuchResourceException): the AWS default.
        let g = aws
            .read_quota(&query(G_ON_DEMAND, &["g", "vt"], false))
            .await
            .expect("read")
            .expect("the default");
        assert_eq!(g.name, "Running On-Demand G and VT instances");
        assert_eq!((g.limit, g.used), (64.0, 0.0));
    });

    // Errors are classified like every other AWS call: throttling that outlasts the SDK's
    // attempts (3 with max_retries = 2) reaches the engine as Throttled.
    moto.set_faults(&serde_json::json!({
        "ec2_quotas": {P_ON_DEMAND: 384},
        "throttle": [{"action": "GetServiceQuota", "count": 3}]
    }));
    block_on(async {
        let aws = provider(&moto).await;
        let err = aws
            .read_quota(&query(P_ON_DEMAND, &["p"], false))
            .await
            .expect_err("throttled");
        assert_eq!(err.class, ErrorClass::Throttled, "{err:?}");
        assert_eq!(err.code.as_deref(), Some("ThrottlingException"));
    });
}

#[test]
fn region_is_unknown_until_configured() {
    assert_eq!(AwsProvider::new().region(), None);
}

//! EC2 quota reading for the engine's quota pre-flight: the account's limit from Service
//! Quotas and the current usage summed over the running instances of the quota's families.
//!
//! EC2's instance quotas are vCPU quotas per family group and purchase option (`Running
//! On-Demand P instances`, `All P Spot Instance Requests`); the engine says which code
//! governs a type and how many units each type uses (from its catalog), this module reads
//! the rest from the account.

use crate::errors::{is_not_found, sdk_error};
use crate::settings::Settings;
use aws_sdk_ec2::types::{Filter, Instance, InstanceLifecycleType, InstanceType};
use aws_sdk_servicequotas::types::ServiceQuota;
use aws_types::region::Region;
use gantry_provider::provider::Result;
use gantry_provider::{QuotaQuery, QuotaReading};
use std::collections::{BTreeMap, BTreeSet};

/// The Service Quotas code of EC2.
const EC2: &str = "ec2";

/// Reads `query` for EC2 quotas; `Ok(None)` for other services, and for a quota code that
/// Service Quotas does not know (neither an applied nor a default value): the engine then
/// reports the quota as not checked rather than failing the plan over a catalog entry
/// this account or region does not have.
pub async fn read(settings: &Settings, query: &QuotaQuery) -> Result<Option<QuotaReading>> {
    if query.service != EC2 {
        return Ok(None);
    }
    let region = query
        .region
        .clone()
        .unwrap_or_else(|| settings.clients.region.clone());
    let (quotas, ec2) = clients_for(settings, &region);
    let Some(quota) = limit(&quotas, &query.code).await? else {
        return Ok(None);
    };
    let Some(limit) = quota.value() else {
        return Ok(None);
    };
    let used = usage(&ec2, query).await?;
    Ok(Some(QuotaReading {
        name: quota
            .quota_name()
            .filter(|n| !n.is_empty())
            .unwrap_or(&query.code)
            .to_owned(),
        limit,
        used,
        request_url: Some(request_url(&region, &query.code)),
        request_command: Some(request_command(query, Some(&region))),
    }))
}

/// Service Quotas and EC2 clients for `region`: the configured ones, or copies of their
/// configuration (credentials, endpoint, retries) with the region replaced.
fn clients_for(
    settings: &Settings,
    region: &str,
) -> (aws_sdk_servicequotas::Client, aws_sdk_ec2::Client) {
    let clients = &settings.clients;
    if region == clients.region {
        return (clients.quotas.clone(), clients.ec2.clone());
    }
    let quotas = clients
        .quotas
        .config()
        .to_builder()
        .region(Region::new(region.to_owned()))
        .build();
    let ec2 = clients
        .ec2
        .config()
        .to_builder()
        .region(Region::new(region.to_owned()))
        .build();
    (
        aws_sdk_servicequotas::Client::from_conf(quotas),
        aws_sdk_ec2::Client::from_conf(ec2),
    )
}

/// The quota as applied to the account, else its AWS default (an account without an
/// increase has no applied value: NoSuchResourceException); `None` when neither exists.
async fn limit(quotas: &aws_sdk_servicequotas::Client, code: &str) -> Result<Option<ServiceQuota>> {
    let applied = quotas
        .get_service_quota()
        .service_code(EC2)
        .quota_code(code)
        .send()
        .await
        .map_err(|e| sdk_error("servicequotas:GetServiceQuota", e));
    match applied {
        Ok(out) if out.quota().is_some_and(|q| q.value().is_some()) => return Ok(out.quota),
        Ok(_) => {}
        Err(e) if is_not_found(&e) => {}
        Err(e) => return Err(e),
    }
    let default = quotas
        .get_aws_default_service_quota()
        .service_code(EC2)
        .quota_code(code)
        .send()
        .await
        .map_err(|e| sdk_error("servicequotas:GetAWSDefaultServiceQuota", e));
    match default {
        Ok(out) => Ok(out.quota),
        Err(e) if is_not_found(&e) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Units in use: every pending or running instance of the query's families and purchase
/// option, weighted by [`units_of`].
async fn usage(ec2: &aws_sdk_ec2::Client, query: &QuotaQuery) -> Result<f64> {
    let families: BTreeSet<String> = query
        .families
        .iter()
        .map(|f| f.to_ascii_lowercase())
        .collect();
    let mut pages = ec2
        .describe_instances()
        .filters(
            Filter::builder()
                .name("instance-state-name")
                .values("pending")
                .values("running")
                .build(),
        )
        .into_paginator()
        .send();
    let mut counted = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("DescribeInstances", e))?;
        for instance in page.reservations().iter().flat_map(|r| r.instances()) {
            let Some(instance_type) = instance.instance_type().map(InstanceType::as_str) else {
                continue;
            };
            if families.contains(&family(instance_type)) && is_spot(instance) == query.spot {
                counted.push(instance.clone());
            }
        }
    }
    let catalog = default_vcpus(ec2, query, &counted).await?;
    Ok(counted.iter().map(|i| units_of(i, query, &catalog)).sum())
}

/// The family an instance type counts under: its leading letters (`p` for `p5.48xlarge`,
/// `trn` for `trn1.32xlarge`, `vt` for `vt1.3xlarge`).
pub fn family(instance_type: &str) -> String {
    instance_type
        .chars()
        .take_while(|c| !c.is_ascii_digit() && *c != '.')
        .collect::<String>()
        .to_ascii_lowercase()
}

fn is_spot(instance: &Instance) -> bool {
    instance.instance_lifecycle() == Some(&InstanceLifecycleType::Spot)
}

/// The units one instance uses: for vCPU quotas the instance's own CPU options (cores ×
/// threads per core, which is what EC2 counts when CPU options were reduced at launch);
/// else the engine's figure for its type; else, for vCPU quotas, the type's default vCPUs
/// from DescribeInstanceTypes; else 0, with a warning (the reading is then too low).
fn units_of(instance: &Instance, query: &QuotaQuery, catalog: &BTreeMap<String, f64>) -> f64 {
    let instance_type = instance
        .instance_type()
        .map(InstanceType::as_str)
        .unwrap_or_default();
    if query.unit == "vcpus" {
        if let Some(vcpus) = instance
            .cpu_options()
            .and_then(|o| Some(o.core_count()? * o.threads_per_core()?))
        {
            return f64::from(vcpus);
        }
    }
    if let Some(units) = query.units_per_type.get(instance_type) {
        return *units;
    }
    if let Some(vcpus) = catalog.get(instance_type).filter(|_| query.unit == "vcpus") {
        return *vcpus;
    }
    tracing::warn!(
        instance_type,
        instance = instance.instance_id().unwrap_or_default(),
        quota = query.code,
        unit = query.unit,
        "no unit count for this instance type: counted as 0"
    );
    0.0
}

/// Default vCPUs of the counted instances' types that neither their CPU options nor the
/// query answer for (one DescribeInstanceTypes call; empty when there are none, or for
/// quotas not counted in vCPUs).
async fn default_vcpus(
    ec2: &aws_sdk_ec2::Client,
    query: &QuotaQuery,
    instances: &[Instance],
) -> Result<BTreeMap<String, f64>> {
    if query.unit != "vcpus" {
        return Ok(BTreeMap::new());
    }
    let missing: BTreeSet<&str> = instances
        .iter()
        .filter(|i| i.cpu_options().is_none_or(|o| o.core_count().is_none()))
        .filter_map(|i| i.instance_type().map(InstanceType::as_str))
        .filter(|t| !query.units_per_type.contains_key(*t))
        .collect();
    if missing.is_empty() {
        return Ok(BTreeMap::new());
    }
    let mut pages = ec2
        .describe_instance_types()
        .set_instance_types(Some(
            missing.iter().map(|t| InstanceType::from(*t)).collect(),
        ))
        .into_paginator()
        .send();
    let mut vcpus = BTreeMap::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("DescribeInstanceTypes", e))?;
        for info in page.instance_types() {
            if let (Some(t), Some(n)) = (
                info.instance_type(),
                info.v_cpu_info().and_then(|v| v.default_v_cpus()),
            ) {
                vcpus.insert(t.as_str().to_owned(), f64::from(n));
            }
        }
    }
    Ok(vcpus)
}

/// The AWS CLI command that requests more of the quota (`{desired}` for the new limit).
pub fn request_command(query: &QuotaQuery, region: Option<&str>) -> String {
    let region = region.map(|r| format!(" --region {r}")).unwrap_or_default();
    format!(
        "aws service-quotas request-service-quota-increase --service-code {} --quota-code {} --desired-value {{desired}}{region}",
        query.service, query.code
    )
}

/// The Service Quotas console page of the quota, in the quota's region.
fn request_url(region: &str, code: &str) -> String {
    format!(
        "https://{region}.console.aws.amazon.com/servicequotas/home/services/ec2/quotas/{code}?region={region}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ec2::types::CpuOptions;

    fn query(unit: &str, units: &[(&str, f64)]) -> QuotaQuery {
        QuotaQuery {
            service: "ec2".into(),
            code: "L-417A185B".into(),
            region: None,
            unit: unit.into(),
            families: vec!["p".into()],
            units_per_type: units.iter().map(|(t, n)| ((*t).to_owned(), *n)).collect(),
            spot: false,
        }
    }

    #[test]
    fn the_family_is_the_leading_letters() {
        assert_eq!(family("p5.48xlarge"), "p");
        assert_eq!(family("p4de.24xlarge"), "p");
        assert_eq!(family("trn1.32xlarge"), "trn");
        assert_eq!(family("trn2n.48xlarge"), "trn");
        assert_eq!(family("inf2.xlarge"), "inf");
        assert_eq!(family("g6e.xlarge"), "g");
        assert_eq!(family("vt1.3xlarge"), "vt");
        assert_eq!(family("m7i.large"), "m");
        assert_eq!(family("P5.48XLARGE"), "p");
    }

    #[test]
    fn units_prefer_cpu_options_then_the_query_then_the_type_catalog() {
        let reduced = Instance::builder()
            .instance_type(InstanceType::from("p5.48xlarge"))
            .cpu_options(
                CpuOptions::builder()
                    .core_count(48)
                    .threads_per_core(2)
                    .build(),
            )
            .build();
        let plain = Instance::builder()
            .instance_type(InstanceType::from("p5.48xlarge"))
            .build();
        let catalog = BTreeMap::from([("p5.48xlarge".to_owned(), 192.0)]);
        let q = query("vcpus", &[("p5.48xlarge", 190.0)]);
        assert_eq!(units_of(&reduced, &q, &catalog), 96.0);
        assert_eq!(units_of(&plain, &q, &catalog), 190.0);
        assert_eq!(units_of(&plain, &query("vcpus", &[]), &catalog), 192.0);
        // GPU quotas count the query's figure; CPU options and vCPUs do not apply.
        let gpus = query("gpus", &[("p5.48xlarge", 8.0)]);
        assert_eq!(units_of(&reduced, &gpus, &catalog), 8.0);
        assert_eq!(units_of(&plain, &query("gpus", &[]), &catalog), 0.0);
    }

    #[test]
    fn the_request_page_is_in_the_quota_region() {
        assert_eq!(
            request_url("us-west-2", "L-417A185B"),
            "https://us-west-2.console.aws.amazon.com/servicequotas/home/services/ec2/quotas/L-417A185B?region=us-west-2"
        );
    }

    #[test]
    fn the_request_command_names_the_quota_region_and_leaves_the_value_to_fill() {
        assert_eq!(
            request_command(&query("vcpus", &[]), Some("us-west-2")),
            "aws service-quotas request-service-quota-increase --service-code ec2 \
             --quota-code L-417A185B --desired-value {desired} --region us-west-2"
        );
    }
}

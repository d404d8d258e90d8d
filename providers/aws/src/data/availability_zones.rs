//! `aws_availability_zones`: the Availability Zones of the provider's region, sorted by
//! name, for spreading subnets and node groups over zones.

use super::DataSource;
use crate::attrs::{Attrs, Obj};
use crate::errors::sdk_error;
use crate::resources::Cx;
use aws_sdk_ec2::types::Filter;
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, NestedBlock, Nesting, Schema, Type, Value};
use std::collections::BTreeSet;

pub struct AvailabilityZones;

/// The EC2 `filter { name = ..., values = [...] }` block of Terraform's data sources.
pub(super) fn filter_block() -> NestedBlock {
    NestedBlock {
        nesting: Nesting::Set,
        schema: Schema::default()
            .attr("name", Attribute::required(Type::String))
            .attr("values", Attribute::required(Type::set(Type::String))),
        min_items: 0,
        max_items: None,
        force_new: false,
    }
}

/// The `filter` blocks of a configuration as EC2 filters.
pub(super) fn filters(config: &Value) -> Vec<Filter> {
    Attrs(config)
        .blocks("filter")
        .into_iter()
        .filter_map(|f| {
            Some(
                Filter::builder()
                    .name(f.str("name")?)
                    .set_values(Some(f.strs("values")))
                    .build(),
            )
        })
        .collect()
}

#[async_trait]
impl DataSource for AvailabilityZones {
    fn name(&self) -> &'static str {
        "aws_availability_zones"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr(
                "all_availability_zones",
                Attribute::optional(Type::Bool)
                    .describe("Include Local and Wavelength Zones, whatever their opt-in status."),
            )
            .attr(
                "exclude_names",
                Attribute::optional(Type::set(Type::String)),
            )
            .attr(
                "exclude_zone_ids",
                Attribute::optional(Type::set(Type::String)),
            )
            .attr(
                "state",
                Attribute::optional(Type::String)
                    .describe("available, information, impaired or unavailable."),
            )
            .attr("names", Attribute::computed(Type::list(Type::String)))
            .attr("zone_ids", Attribute::computed(Type::list(Type::String)))
            .attr("group_names", Attribute::computed(Type::set(Type::String)))
            .block("filter", filter_block())
    }

    async fn read(&self, cx: &Cx<'_>, config: &Value) -> Result<Value> {
        let a = Attrs(config);
        let mut all_filters = Vec::new();
        if let Some(state) = a.str("state") {
            all_filters.push(Filter::builder().name("state").values(state).build());
        }
        all_filters.extend(filters(config));
        let out = cx
            .clients()
            .ec2
            .describe_availability_zones()
            .set_all_availability_zones(a.bool("all_availability_zones"))
            // An empty filter list is not sent: EC2 rejects it.
            .set_filters((!all_filters.is_empty()).then_some(all_filters))
            .send()
            .await
            .map_err(|e| sdk_error("DescribeAvailabilityZones", e))?;
        let exclude_names: BTreeSet<String> = a.strs("exclude_names").into_iter().collect();
        let exclude_ids: BTreeSet<String> = a.strs("exclude_zone_ids").into_iter().collect();
        let mut zones: Vec<_> = out
            .availability_zones()
            .iter()
            .filter(|z| !z.zone_name().is_some_and(|n| exclude_names.contains(n)))
            .filter(|z| !z.zone_id().is_some_and(|i| exclude_ids.contains(i)))
            .collect();
        zones.sort_by_key(|z| z.zone_name().unwrap_or_default().to_owned());
        let names: Vec<&str> = zones
            .iter()
            .map(|z| z.zone_name().unwrap_or_default())
            .collect();
        let ids: Vec<&str> = zones
            .iter()
            .map(|z| z.zone_id().unwrap_or_default())
            .collect();
        let groups: Vec<&str> = zones.iter().filter_map(|z| z.group_name()).collect();
        let mut state = Obj::from(config);
        state
            .set("id", cx.region())
            .set_strs("names", &names)
            .set_strs("zone_ids", &ids)
            .set_str_set("group_names", &groups);
        Ok(state.into_value())
    }
}

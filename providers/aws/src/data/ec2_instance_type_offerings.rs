//! `aws_ec2_instance_type_offerings`: which instance types are offered where (region, zone
//! name or zone id), for finding the zones that sell a GPU type before planning subnets.

use super::availability_zones::{filter_block, filters};
use super::DataSource;
use crate::attrs::{Attrs, Obj};
use crate::errors::sdk_error;
use crate::resources::Cx;
use aws_sdk_ec2::types::LocationType;
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, Schema, Type, Value};

pub struct Ec2InstanceTypeOfferings;

const LOCATION_TYPES: [&str; 3] = ["region", "availability-zone", "availability-zone-id"];

#[async_trait]
impl DataSource for Ec2InstanceTypeOfferings {
    fn name(&self) -> &'static str {
        "aws_ec2_instance_type_offerings"
    }

    fn schema(&self) -> Schema {
        Schema::default()
            .attr("id", Attribute::computed(Type::String))
            .attr(
                "location_type",
                Attribute::optional(Type::String)
                    .describe("region (the default), availability-zone or availability-zone-id."),
            )
            .attr(
                "instance_types",
                Attribute::computed(Type::list(Type::String)),
            )
            .attr("locations", Attribute::computed(Type::list(Type::String)))
            .attr(
                "location_types",
                Attribute::computed(Type::list(Type::String)),
            )
            .block("filter", filter_block())
    }

    async fn read(&self, cx: &Cx<'_>, config: &Value) -> Result<Value> {
        let location_type = Attrs(config).str("location_type");
        if let Some(t) = location_type.filter(|t| !LOCATION_TYPES.contains(t)) {
            return Err(gantry_provider::ProviderError::invalid(format!(
                "`location_type` must be one of {}, not {t:?}",
                LOCATION_TYPES.join(", ")
            )));
        }
        let filters = filters(config);
        let mut pages = cx
            .clients()
            .ec2
            .describe_instance_type_offerings()
            .set_location_type(location_type.map(LocationType::from))
            .set_filters((!filters.is_empty()).then_some(filters))
            .into_paginator()
            .send();
        let (mut types, mut locations, mut kinds) = (Vec::new(), Vec::new(), Vec::new());
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error("DescribeInstanceTypeOfferings", e))?;
            for o in page.instance_type_offerings() {
                types.push(
                    o.instance_type()
                        .map(|t| t.as_str().to_owned())
                        .unwrap_or_default(),
                );
                locations.push(o.location().unwrap_or_default().to_owned());
                kinds.push(
                    o.location_type()
                        .map(|t| t.as_str().to_owned())
                        .unwrap_or_default(),
                );
            }
        }
        let mut state = Obj::from(config);
        state
            .set("id", cx.region())
            .set_strs("instance_types", &types)
            .set_strs("locations", &locations)
            .set_strs("location_types", &kinds);
        Ok(state.into_value())
    }
}

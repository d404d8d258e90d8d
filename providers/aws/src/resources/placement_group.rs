//! `aws_placement_group`: where EC2 puts instances relative to each other: `cluster` (one
//! low-latency network segment, what EFA training jobs want), `spread` or `partition`.
//! As in Terraform the id is the group's name; every argument forces a new group.

use super::{accepted, after_accept, Cx, ResourceType};
use crate::attrs::{num, Attrs, Obj};
use crate::errors::{none_if_not_found, ok_if_not_found, sdk_error};
use crate::tags::{self, with_tags};
use crate::wait::{read_back, Wait};
use aws_sdk_ec2::types::{
    PlacementGroupState, PlacementStrategy, ResourceType as Ec2Type, SpreadLevel,
};
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Attribute, ProviderError, Schema, Timeouts, Type, Value};
use std::time::Duration;

pub struct PlacementGroup;

/// Terraform's waits: a group is `available` (or gone) within seconds.
const CREATE_TIMEOUT: Duration = Duration::from_secs(5 * 60);
const DELETE_TIMEOUT: Duration = Duration::from_secs(5 * 60);

#[async_trait]
impl ResourceType for PlacementGroup {
    fn name(&self) -> &'static str {
        "aws_placement_group"
    }

    fn schema(&self) -> Schema {
        with_tags(
            Schema::default()
                .attr("id", Attribute::computed(Type::String))
                .attr("arn", Attribute::computed(Type::String))
                .attr("placement_group_id", Attribute::computed(Type::String))
                .attr("name", Attribute::required(Type::String).force_new())
                .attr("strategy", Attribute::required(Type::String).force_new())
                .attr(
                    "partition_count",
                    Attribute::optional_computed(Type::Number)
                        .force_new()
                        .describe("Partitions of a `partition` group, 1 to 7 (AWS's default: 2)."),
                )
                .attr(
                    "spread_level",
                    Attribute::optional_computed(Type::String)
                        .force_new()
                        .describe("`host` or `rack` for a `spread` group (AWS's default: rack)."),
                ),
        )
        .with_timeouts(Timeouts {
            create: Some(CREATE_TIMEOUT),
            update: None,
            delete: Some(DELETE_TIMEOUT),
        })
    }

    fn validate(&self, config: &Value) -> Vec<String> {
        let a = Attrs(config);
        let strategy = a.str("strategy");
        let mut problems = Vec::new();
        if let Some(s) = strategy.filter(|s| !["cluster", "spread", "partition"].contains(s)) {
            problems.push(format!(
                "`strategy` must be \"cluster\", \"spread\" or \"partition\", not {s:?}"
            ));
        }
        if let Some(n) = a.num("partition_count").filter(|n| *n != 0.0) {
            if strategy.is_some_and(|s| s != "partition") {
                problems.push("`partition_count` is only valid with strategy \"partition\"".into());
            } else if !(1.0..=7.0).contains(&n) || n.fract() != 0.0 {
                problems.push(format!(
                    "`partition_count` must be a whole number from 1 to 7, not {n}"
                ));
            }
        }
        if let Some(level) = a.str("spread_level").filter(|l| !l.is_empty()) {
            if strategy.is_some_and(|s| s != "spread") {
                problems.push("`spread_level` is only valid with strategy \"spread\"".into());
            } else if !["host", "rack"].contains(&level) {
                problems.push(format!(
                    "`spread_level` must be \"host\" or \"rack\", not {level:?}"
                ));
            }
        }
        problems
    }

    async fn create(&self, cx: &Cx<'_>, planned: &Value) -> Result<Value> {
        let a = Attrs(planned);
        let name = a.req_str("name")?;
        // CreatePlacementGroup takes no ClientToken; the name is unique per region, and a
        // killed run's group is found again by its name and identity tags (find_created).
        let out = cx
            .clients()
            .ec2
            .create_placement_group()
            .group_name(name)
            .strategy(PlacementStrategy::from(a.req_str("strategy")?))
            .set_partition_count(a.i32("partition_count").filter(|n| *n != 0))
            .set_spread_level(
                a.str("spread_level")
                    .filter(|l| !l.is_empty())
                    .map(SpreadLevel::from),
            )
            .tag_specifications(tags::ec2_spec(Ec2Type::PlacementGroup, &cx.tags(planned)))
            .send()
            .await
            .map_err(|e| sdk_error("CreatePlacementGroup", e))?;
        // The id is the name (as in Terraform); the group id is known from the answer.
        let mut known = Obj::from(&accepted(planned, name));
        known.set_opt(
            "placement_group_id",
            out.placement_group().and_then(|g| g.group_id()),
        );
        let known = known.into_value();
        after_accept(known.clone(), async {
            wait_for(cx, name, Presence::Available).await?;
            let noun = format!("placement group {name}");
            read_back(cx.op, &noun, || read_into(cx, known.clone())).await
        })
        .await
    }

    async fn read(&self, cx: &Cx<'_>, state: &Value) -> Result<Option<Value>> {
        read_into(cx, state.clone()).await
    }

    /// Only tags change in place.
    async fn update(&self, cx: &Cx<'_>, prior: &Value, planned: &Value) -> Result<Value> {
        let group_id = Attrs(prior).req_str("placement_group_id")?;
        let old = Attrs(prior).str_map("tags_all");
        let new = tags::merged(&cx.settings.default_tags, planned);
        tags::ec2_update(&cx.clients().ec2, group_id, &old, &new).await?;
        let id = Attrs(prior).id()?;
        let mut state = Obj::from(planned);
        state.set("id", id);
        read_into(cx, state.into_value())
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("placement group {id} is gone")))
    }

    async fn delete(&self, cx: &Cx<'_>, state: &Value) -> Result<()> {
        let name = Attrs(state).id()?;
        let ec2 = &cx.clients().ec2;
        // InvalidPlacementGroup.InUse (instances still in it) is a Conflict: the engine
        // retries while they terminate.
        ok_if_not_found(
            ec2.delete_placement_group()
                .group_name(name)
                .send()
                .await
                .map(|_| ())
                .map_err(|e| sdk_error("DeletePlacementGroup", e)),
        )?;
        wait_for(cx, name, Presence::Gone).await
    }

    /// The group with the planned name, when it carries this create's stack, address and
    /// token (a group of that name made by anyone else is not adopted).
    async fn find_created(
        &self,
        cx: &Cx<'_>,
        _token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        let name = Attrs(planned).req_str("name")?;
        let group = describe(&cx.clients().ec2, name).await?;
        let ours = group.is_some_and(|g| {
            g.state() != Some(&PlacementGroupState::Deleted)
                && tags::are_ours(cx.op, &tags::from_ec2(g.tags()))
        });
        if !ours {
            return Ok(None);
        }
        read_into(cx, Value::map([("id", Value::string(name))])).await
    }
}

/// What [`wait_for`] waits for.
#[derive(Clone, Copy, PartialEq)]
enum Presence {
    Available,
    Gone,
}

/// Waits until the group is `available` (after a create) or gone (after a delete).
async fn wait_for(cx: &Cx<'_>, name: &str, want: Presence) -> Result<()> {
    let (what, timeout) = match want {
        Presence::Available => ("become available", CREATE_TIMEOUT),
        Presence::Gone => ("be deleted", DELETE_TIMEOUT),
    };
    let ec2 = &cx.clients().ec2;
    Wait::for_op(cx.op, timeout)
        .until(
            cx.op,
            &format!("placement group {name} to {what}"),
            || async move {
                let state = describe(ec2, name).await?.and_then(|g| g.state().cloned());
                let done = match want {
                    Presence::Available => state == Some(PlacementGroupState::Available),
                    Presence::Gone => state.is_none_or(|s| s == PlacementGroupState::Deleted),
                };
                Ok(done.then_some(()))
            },
        )
        .await
}

/// The group named `name`, `None` when there is none.
async fn describe(
    ec2: &aws_sdk_ec2::Client,
    name: &str,
) -> Result<Option<aws_sdk_ec2::types::PlacementGroup>> {
    let out = none_if_not_found(
        ec2.describe_placement_groups()
            .group_names(name)
            .send()
            .await
            .map_err(|e| sdk_error("DescribePlacementGroups", e)),
    )?;
    Ok(out.and_then(|o| o.placement_groups().first().cloned()))
}

/// The group's state from the API, on top of `base` (which carries at least `id`, the name).
async fn read_into(cx: &Cx<'_>, base: Value) -> Result<Option<Value>> {
    let name = Attrs(&base).id()?.to_owned();
    let Some(group) = describe(&cx.clients().ec2, &name).await? else {
        return Ok(None);
    };
    if group.state() == Some(&PlacementGroupState::Deleted) {
        return Ok(None);
    }
    let group_id = group.group_id().unwrap_or_default();
    let arn = group.group_arn().map_or_else(
        || {
            format!(
                "arn:aws:ec2:{}:{}:placement-group/{name}",
                cx.region(),
                cx.settings.account_id
            )
        },
        str::to_owned,
    );
    // As Terraform shows them: 0 partitions and no spread level where they do not apply.
    let mut state = Obj::from(&base);
    state
        .set("id", name.as_str())
        .set("name", name.as_str())
        .set("arn", arn)
        .set("placement_group_id", group_id)
        .set(
            "strategy",
            group
                .strategy()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
        )
        .set("partition_count", num(group.partition_count().unwrap_or(0)))
        .set(
            "spread_level",
            group
                .spread_level()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_default(),
        );
    tags::record(
        &mut state,
        &cx.settings.default_tags,
        &tags::from_ec2(group.tags()),
    );
    Ok(Some(state.into_value()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: Vec<(&str, Value)>) -> Value {
        Value::map(pairs)
    }

    #[test]
    fn options_must_fit_the_strategy() {
        let ok = config(vec![("strategy", "cluster".into())]);
        assert!(PlacementGroup.validate(&ok).is_empty());
        let bad = config(vec![("strategy", "ring".into())]);
        assert_eq!(PlacementGroup.validate(&bad).len(), 1);
        let bad = config(vec![
            ("strategy", "cluster".into()),
            ("partition_count", Value::Number(3.0)),
        ]);
        assert_eq!(PlacementGroup.validate(&bad).len(), 1);
        let bad = config(vec![
            ("strategy", "partition".into()),
            ("partition_count", Value::Number(9.0)),
        ]);
        assert_eq!(PlacementGroup.validate(&bad).len(), 1);
        let ok = config(vec![
            ("strategy", "spread".into()),
            ("spread_level", "host".into()),
        ]);
        assert!(PlacementGroup.validate(&ok).is_empty());
        let bad = config(vec![
            ("strategy", "partition".into()),
            ("spread_level", "host".into()),
        ]);
        assert_eq!(PlacementGroup.validate(&bad).len(), 1);
    }
}

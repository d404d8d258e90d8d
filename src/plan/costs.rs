//! Prices a plan: the cost of every resource before and after it, the stack's total and the
//! change this plan makes to it.

use super::{Action, Plan};
use crate::catalog::cost::{resource_cost, Cost};
use crate::catalog::Catalog;
use crate::providers::Providers;
use serde::Serialize;
use std::collections::BTreeMap;

/// One resource's cost as it is and as the plan leaves it.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ChangeCost {
    pub before: Option<Cost>,
    pub after: Option<Cost>,
}

impl ChangeCost {
    pub fn delta_hourly(&self) -> f64 {
        self.after.as_ref().map_or(0.0, Cost::hourly)
            - self.before.as_ref().map_or(0.0, Cost::hourly)
    }
}

/// The plan's costs, in USD.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct PlanCosts {
    /// By resource address; only resources the catalog can price.
    pub resources: BTreeMap<String, ChangeCost>,
    /// The stack's hourly cost now (tracked resources) and after the plan.
    pub total_before: f64,
    pub total_after: f64,
    pub hours_per_month: f64,
    /// The date the catalog's prices were taken.
    pub taken: Option<String>,
}

impl PlanCosts {
    pub fn delta_hourly(&self) -> f64 {
        self.total_after - self.total_before
    }

    pub fn monthly(&self, hourly: f64) -> f64 {
        hourly * self.hours_per_month
    }

    /// True when some resource has a price (the plan then shows a cost section).
    pub fn any(&self) -> bool {
        !self.resources.is_empty()
    }

    /// Resources by hourly cost after the plan, biggest first.
    pub fn biggest(&self) -> Vec<(&str, &Cost)> {
        let mut all: Vec<(&str, &Cost)> = self
            .resources
            .iter()
            .filter_map(|(a, c)| c.after.as_ref().map(|cost| (a.as_str(), cost)))
            .filter(|(_, c)| c.hourly() > 0.0)
            .collect();
        all.sort_by(|a, b| b.1.hourly().total_cmp(&a.1.hourly()).then(a.0.cmp(b.0)));
        all
    }
}

/// Prices every managed resource of `plan`. The region is the resource's own (zone,
/// location) or its provider configuration's.
pub fn price_plan(plan: &Plan, providers: &Providers, catalog: &Catalog) -> PlanCosts {
    let mut costs = PlanCosts {
        hours_per_month: catalog.hours_per_month(),
        taken: catalog.data().taken.clone(),
        ..PlanCosts::default()
    };
    let mut regions: BTreeMap<&str, Option<String>> = BTreeMap::new();
    for change in plan.changes.iter().filter(|c| c.managed) {
        if crate::catalog::cost::cloud_of(&change.type_name).is_none() {
            continue;
        }
        let region = regions
            .entry(change.provider.as_str())
            .or_insert_with(|| providers.get(&change.provider).and_then(|p| p.region()))
            .clone();
        let price = |v: &Option<gantry_provider::Value>| {
            v.as_ref()
                .and_then(|v| resource_cost(catalog, &change.type_name, v, region.as_deref()))
        };
        let after = if change.action == Action::Delete {
            None
        } else {
            price(&change.after)
        };
        let before = if change.action == Action::NoOp {
            after.clone()
        } else {
            price(&change.before)
        };
        if before.is_none() && after.is_none() {
            continue;
        }
        costs.total_before += before.as_ref().map_or(0.0, Cost::hourly);
        costs.total_after += after.as_ref().map_or(0.0, Cost::hourly);
        costs
            .resources
            .insert(change.address.clone(), ChangeCost { before, after });
    }
    costs
}

//! Prices a plan: the cost of every resource before and after it, the stack's total and the
//! change this plan makes to it.

use super::{Action, Plan, ResourceChange};
use crate::catalog::cost::{resource_cost, Cost, Pricing};
use crate::catalog::Catalog;
use crate::providers::Providers;
use gantry_provider::Value;
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
    /// The budget the plan was checked against (`budget { }` or `--max-hourly`), USD per
    /// hour and per month.
    pub budget_hourly: Option<f64>,
    pub budget_monthly: Option<f64>,
}

impl PlanCosts {
    pub fn delta_hourly(&self) -> f64 {
        self.total_after - self.total_before
    }

    pub fn monthly(&self, hourly: f64) -> f64 {
        hourly * self.hours_per_month
    }

    /// Whether the stack after the plan stays within its budget (`None`: no budget).
    pub fn within_budget(&self) -> Option<bool> {
        if self.budget_hourly.is_none() && self.budget_monthly.is_none() {
            return None;
        }
        let hourly_ok = self.budget_hourly.is_none_or(|max| self.total_after <= max);
        let monthly_ok = self
            .budget_monthly
            .is_none_or(|max| self.monthly(self.total_after) <= max);
        Some(hourly_ok && monthly_ok)
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

/// Prices every managed resource of `plan`, as its provider describes it (the cloud's name
/// in the catalog, how to read its compute, where it lives). A create with failover
/// alternatives is priced as the choice apply tries first.
pub fn price_plan(plan: &Plan, providers: &Providers, catalog: &Catalog) -> PlanCosts {
    let mut costs = PlanCosts {
        hours_per_month: catalog.hours_per_month(),
        taken: catalog.data().taken.clone(),
        ..PlanCosts::default()
    };
    for change in plan.changes.iter().filter(|c| c.managed) {
        let after = if change.action == Action::Delete {
            None
        } else {
            first_choice(change).and_then(|(provider, v)| {
                price_value(provider, &change.type_name, &v, providers, catalog)
            })
        };
        let before = if change.action == Action::NoOp {
            after.clone()
        } else {
            let before = change.before.as_ref();
            before.and_then(|v| {
                price_value(&change.provider, &change.type_name, v, providers, catalog)
            })
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

/// The planned object apply creates first, and its provider configuration: for a create
/// with failover, the first choice it tries.
fn first_choice(change: &ResourceChange) -> Option<(&str, Value)> {
    match change.failover.as_ref().filter(|_| creates(change.action)) {
        Some(f) => {
            let first = f.first()?;
            let provider = first.provider.as_deref().unwrap_or(&change.provider);
            Some((provider, first.planned.clone()?))
        }
        None => Some((&change.provider, change.after.clone()?)),
    }
}

fn creates(action: Action) -> bool {
    matches!(
        action,
        Action::Create | Action::DeleteThenCreate | Action::CreateThenDelete
    )
}

/// What one object of `type_name` costs as `value` describes it, created with the
/// provider configuration `provider_key` (which says where it lives).
pub fn price_value(
    provider_key: &str,
    type_name: &str,
    value: &Value,
    providers: &Providers,
    catalog: &Catalog,
) -> Option<Cost> {
    let provider = providers.get(provider_key)?;
    let cloud = provider.catalog_cloud()?;
    let model = provider.compute_model(type_name);
    let region = provider.location_of(type_name, value);
    let pricing = Pricing {
        cloud,
        model: model.as_ref(),
        region: region.as_deref(),
    };
    resource_cost(catalog, &pricing, type_name, value)
}

/// Prices every failover choice of the plan's creates and orders their attempts (cheapest
/// first under `order = "cost"`).
pub fn price_choices(plan: &mut Plan, providers: &Providers, catalog: &Catalog) {
    for change in plan.changes.iter_mut().filter(|c| creates(c.action)) {
        let Some(mut f) = change.failover.take() else {
            continue;
        };
        for choice in &mut f.choices {
            let provider = choice.provider.as_deref().unwrap_or(&change.provider);
            choice.hourly = choice
                .planned
                .as_ref()
                .and_then(|v| price_value(provider, &change.type_name, v, providers, catalog))
                .map(|c| c.hourly());
        }
        f.order_attempts();
        change.failover = Some(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_verdict_checks_every_limit_given() {
        let mut c = PlanCosts {
            total_after: 221.0,
            hours_per_month: 730.0,
            ..PlanCosts::default()
        };
        assert_eq!(c.within_budget(), None);
        c.budget_hourly = Some(500.0);
        assert_eq!(c.within_budget(), Some(true));
        c.budget_monthly = Some(100_000.0); // 221 x 730 = 161,330
        assert_eq!(c.within_budget(), Some(false));
        c.budget_monthly = None;
        c.budget_hourly = Some(221.0);
        assert_eq!(c.within_budget(), Some(true), "at the limit is within it");
    }
}

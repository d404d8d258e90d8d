//! The plan and the state as documents other tools read: `gantry show --json`, and what a
//! saved plan file carries. The format is versioned (`format_version`) and described by the
//! JSON Schemas in `schemas/`; a change that would break a reader bumps the major version.
//!
//! Values are redacted here, once: a value at a sensitive path is `null` and its path is
//! listed in `sensitive_paths`; a value known only after apply is `null` and its path is
//! listed in `after_unknown`. A document never holds a secret, so plan files and CI
//! artifacts made from it are safe to keep.

use super::preflight::{QuotaCheck, QuotaOutcome};
use super::{Action, Plan, ResourceChange};
use crate::catalog::cost::Cost;
use crate::config::sensitive::mark_paths;
use crate::state::{ResourceMode, State};
use gantry_provider::Value;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The version of the plan and state documents. Readers accept every `1.x`.
pub const FORMAT_VERSION: &str = "1.0";

/// A plan, as `gantry show --json PLANFILE` prints it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PlanDocument {
    pub format_version: String,
    /// Always `plan`.
    pub kind: String,
    pub gantry_version: String,
    /// A `destroy` plan.
    pub destroy: bool,
    pub summary: ChangeSummary,
    /// Every change except no-ops, sorted by address.
    pub resource_changes: Vec<ResourceChangeDoc>,
    /// What refresh found changed or deleted outside gantry.
    pub resource_drift: Vec<DriftDoc>,
    pub moved: Vec<MoveDoc>,
    /// Addresses `removed` blocks take out of state without destroying.
    pub forgotten: Vec<String>,
    pub imports: Vec<ImportDoc>,
    pub outputs: BTreeMap<String, OutputDoc>,
    /// `None` when the catalog prices nothing in the stack.
    pub cost: Option<CostDoc>,
    pub quota_checks: Vec<QuotaDoc>,
    /// Module calls with `failover`: their alternatives, priced, and which this plan applies.
    #[serde(default)]
    pub module_failovers: Vec<ModuleFailoverDoc>,
}

/// A module call's failover, as planned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModuleFailoverDoc {
    pub address: String,
    /// `capacity`, `quota`.
    pub on: Vec<String>,
    /// `stack` or `cost`.
    pub order: String,
    pub wait_for_capacity_seconds: Option<u64>,
    pub alternatives: Vec<ModuleAlternativeDoc>,
    /// Alternative numbers in the order apply tries them.
    pub attempts: Vec<usize>,
    /// The alternative whose objects exist, when some do.
    pub held: Option<usize>,
    /// The alternative this plan applies.
    pub selected: usize,
    /// Still being placed: a refusal fails it over.
    pub placing: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModuleAlternativeDoc {
    pub alternative: usize,
    pub label: String,
    pub hourly_usd: Option<f64>,
    pub skipped: Option<String>,
}

impl ModuleFailoverDoc {
    pub fn of(m: &super::module_failover::ModuleFailoverPlan) -> ModuleFailoverDoc {
        ModuleFailoverDoc {
            address: m.address.clone(),
            on: m.on.iter().map(|o| o.as_str().to_owned()).collect(),
            order: match m.order {
                crate::config::model::FailoverOrder::Stack => "stack",
                crate::config::model::FailoverOrder::Cost => "cost",
            }
            .to_owned(),
            wait_for_capacity_seconds: m.wait_for_capacity.map(|d| d.as_secs()),
            alternatives: m
                .choices
                .iter()
                .map(|c| ModuleAlternativeDoc {
                    alternative: c.alternative,
                    label: c.label.clone(),
                    hourly_usd: c.hourly,
                    skipped: c.skipped.clone(),
                })
                .collect(),
            attempts: m.attempts.clone(),
            held: m.held,
            selected: m.selected,
            placing: m.placing,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeSummary {
    pub add: usize,
    pub change: usize,
    pub destroy: usize,
    /// Replacements, counted in `add` and `destroy` too.
    pub replace: usize,
    #[serde(rename = "move")]
    pub moves: usize,
    pub forget: usize,
    pub import: usize,
    pub has_changes: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceChangeDoc {
    pub address: String,
    /// `module.gpu["a"]`; empty for the root module.
    pub module: String,
    pub mode: ResourceMode,
    #[serde(rename = "type")]
    pub type_name: String,
    pub name: String,
    pub provider: String,
    pub action: Action,
    /// Why, when it is not obvious: `deleted outside gantry`, `--replace`.
    pub reason: Option<String>,
    /// The attributes whose change forces a replacement.
    pub replace_paths: Vec<String>,
    /// The address it had before a `moved` block.
    pub moved_from: Option<String>,
    /// The cloud id an `import` block takes it from.
    pub imported_id: Option<String>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
    /// Dotted paths in `after` known only after apply.
    pub after_unknown: Vec<String>,
    /// Dotted paths in `before` and `after` whose values are sensitive (written as null).
    pub sensitive_paths: Vec<String>,
    pub cost: Option<ChangeCostDoc>,
    /// A create's failover alternatives, or the one that holds an existing object.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover: Option<FailoverDoc>,
}

/// A resource's `failover` choices as planned.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailoverDoc {
    /// `capacity`, `quota`.
    pub on: Vec<String>,
    /// `stack` or `cost`.
    pub order: String,
    pub wait_for_capacity_seconds: Option<u64>,
    /// Every choice in the stack's order (0: as written).
    pub choices: Vec<FailoverChoiceDoc>,
    /// Choice numbers in the order apply tries them.
    pub attempts: Vec<usize>,
    /// The choice that holds the existing object.
    pub held: Option<usize>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FailoverChoiceDoc {
    pub alternative: usize,
    pub label: String,
    pub hourly: Option<f64>,
    /// Why apply will not try it.
    pub skipped: Option<String>,
}

impl FailoverDoc {
    pub fn of(f: &super::failover::FailoverPlan) -> FailoverDoc {
        FailoverDoc {
            on: f.on.iter().map(|o| o.as_str().to_owned()).collect(),
            order: match f.order {
                crate::config::model::FailoverOrder::Stack => "stack",
                crate::config::model::FailoverOrder::Cost => "cost",
            }
            .to_owned(),
            wait_for_capacity_seconds: f.wait_for_capacity.map(|d| d.as_secs()),
            choices: f
                .choices
                .iter()
                .map(|c| FailoverChoiceDoc {
                    alternative: c.alternative,
                    label: c.label.clone(),
                    hourly: c.hourly,
                    skipped: c.skipped.clone(),
                })
                .collect(),
            attempts: f.attempts.clone(),
            held: f.held,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChangeCostDoc {
    pub before_hourly: Option<f64>,
    pub after_hourly: Option<f64>,
    pub delta_hourly: f64,
    pub delta_monthly: f64,
    /// Billed by use: no fixed price.
    pub usage_based: bool,
    /// `2 x p5.48xlarge on-demand in us-east-1`.
    pub what: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DriftDoc {
    pub address: String,
    pub deleted: bool,
    pub before: serde_json::Value,
    pub after: Option<serde_json::Value>,
    pub sensitive_paths: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MoveDoc {
    pub from: String,
    pub to: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportDoc {
    pub address: String,
    pub id: String,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct OutputDoc {
    pub sensitive: bool,
    /// The value is known only after apply.
    pub unknown: bool,
    pub changed: bool,
    /// `null` when sensitive or unknown.
    pub value: serde_json::Value,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CostDoc {
    pub currency: String,
    pub before_hourly: f64,
    pub after_hourly: f64,
    pub delta_hourly: f64,
    pub before_monthly: f64,
    pub after_monthly: f64,
    pub delta_monthly: f64,
    pub hours_per_month: f64,
    /// The date the catalog's prices were taken.
    pub catalog_taken: Option<String>,
    pub budget_hourly: Option<f64>,
    pub budget_monthly: Option<f64>,
    /// `None` when the stack has no budget.
    pub within_budget: Option<bool>,
    /// Resources billed by use, not in the totals.
    pub usage_based: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct QuotaDoc {
    pub code: String,
    pub name: String,
    pub region: Option<String>,
    pub unit: String,
    pub needed: f64,
    /// `None` when unread or unlimited.
    pub limit: Option<f64>,
    pub used: Option<f64>,
    pub free: Option<f64>,
    /// `enough`, `short` or `unchecked`.
    pub outcome: String,
    pub needed_by: Vec<String>,
}

impl PlanDocument {
    pub fn from_plan(plan: &Plan) -> PlanDocument {
        let moved_from = plan.moved_from();
        let imported = plan.imported_ids();
        let mut resource_changes: Vec<ResourceChangeDoc> = plan
            .changes
            .iter()
            .filter(|c| c.action != Action::NoOp)
            .map(|c| change_doc(plan, c, &moved_from, &imported))
            .collect();
        resource_changes.sort_by(|a, b| a.address.cmp(&b.address));
        let s = plan.summary();
        PlanDocument {
            format_version: FORMAT_VERSION.to_owned(),
            kind: "plan".to_owned(),
            gantry_version: env!("CARGO_PKG_VERSION").to_owned(),
            destroy: plan.destroy,
            summary: ChangeSummary {
                add: s.add,
                change: s.change,
                destroy: s.destroy,
                replace: plan
                    .changes
                    .iter()
                    .filter(|c| c.managed && c.action.is_replace())
                    .count(),
                moves: plan.refactoring.moved.len(),
                forget: plan.refactoring.forgotten.len(),
                import: plan.imports.len(),
                has_changes: plan.has_changes(),
            },
            resource_changes,
            resource_drift: plan
                .drift
                .iter()
                .map(|d| {
                    let paths = plan
                        .changes
                        .iter()
                        .find(|c| c.address == d.address)
                        .map(|c| c.sensitive_paths.clone())
                        .unwrap_or_default();
                    DriftDoc {
                        address: d.address.clone(),
                        deleted: d.after.is_none(),
                        before: redacted(&d.before, &paths).0,
                        after: d.after.as_ref().map(|v| redacted(v, &paths).0),
                        sensitive_paths: paths,
                    }
                })
                .collect(),
            moved: plan
                .refactoring
                .moved
                .iter()
                .map(|(from, to)| MoveDoc {
                    from: from.clone(),
                    to: to.clone(),
                })
                .collect(),
            forgotten: plan.refactoring.forgotten.clone(),
            imports: plan
                .imports
                .iter()
                .map(|i| ImportDoc {
                    address: i.address.clone(),
                    id: i.id.clone(),
                })
                .collect(),
            outputs: plan
                .outputs
                .iter()
                .map(|(name, o)| {
                    let unknown = !o.after.is_wholly_known();
                    let doc = OutputDoc {
                        sensitive: o.sensitive,
                        unknown,
                        changed: unknown || o.before.as_ref() != Some(&o.after),
                        value: if o.sensitive || unknown {
                            serde_json::Value::Null
                        } else {
                            redacted(&o.after, &[]).0
                        },
                    };
                    (name.clone(), doc)
                })
                .collect(),
            cost: plan.costs.any().then(|| cost_doc(plan)),
            quota_checks: plan.quotas.iter().map(quota_doc).collect(),
            module_failovers: plan
                .module_failovers
                .iter()
                .map(ModuleFailoverDoc::of)
                .collect(),
        }
    }
}

fn change_doc(
    plan: &Plan,
    c: &ResourceChange,
    moved_from: &BTreeMap<&str, &str>,
    imported: &BTreeMap<&str, &str>,
) -> ResourceChangeDoc {
    let module = crate::addrs::parse_resource_instance(&c.address)
        .map(|a| {
            if a.module.is_root() {
                String::new()
            } else {
                a.module.to_string()
            }
        })
        .unwrap_or_default();
    let after = c.after.as_ref().map(|v| redacted(v, &c.sensitive_paths));
    let cost = plan.costs.resources.get(&c.address).map(|cost| {
        let delta = cost.delta_hourly();
        ChangeCostDoc {
            before_hourly: cost.before.as_ref().map(Cost::hourly),
            after_hourly: cost.after.as_ref().map(Cost::hourly),
            delta_hourly: delta,
            delta_monthly: plan.costs.monthly(delta),
            usage_based: matches!(cost.after, Some(Cost::UsageBased { .. })),
            what: cost
                .after
                .as_ref()
                .or(cost.before.as_ref())
                .map(|c| c.what().to_owned()),
        }
    });
    ResourceChangeDoc {
        address: c.address.clone(),
        module,
        mode: if c.managed {
            ResourceMode::Managed
        } else {
            ResourceMode::Data
        },
        type_name: c.type_name.clone(),
        name: c.name.clone(),
        provider: c.provider.clone(),
        action: c.action,
        reason: c.reason.clone(),
        replace_paths: c.requires_replace.clone(),
        moved_from: moved_from.get(c.address.as_str()).map(|s| (*s).to_owned()),
        imported_id: imported.get(c.address.as_str()).map(|s| (*s).to_owned()),
        before: c.before.as_ref().map(|v| redacted(v, &c.sensitive_paths).0),
        after_unknown: after.as_ref().map(|a| a.1.clone()).unwrap_or_default(),
        after: after.map(|a| a.0),
        sensitive_paths: c.sensitive_paths.clone(),
        cost,
        failover: c.failover.as_ref().map(FailoverDoc::of),
    }
}

fn cost_doc(plan: &Plan) -> CostDoc {
    let c = &plan.costs;
    CostDoc {
        currency: "USD".to_owned(),
        before_hourly: c.total_before,
        after_hourly: c.total_after,
        delta_hourly: c.delta_hourly(),
        before_monthly: c.monthly(c.total_before),
        after_monthly: c.monthly(c.total_after),
        delta_monthly: c.monthly(c.delta_hourly()),
        hours_per_month: c.hours_per_month,
        catalog_taken: c.taken.clone(),
        budget_hourly: c.budget_hourly,
        budget_monthly: c.budget_monthly,
        within_budget: c.within_budget(),
        usage_based: c
            .resources
            .iter()
            .filter(|(_, cost)| matches!(cost.after, Some(Cost::UsageBased { .. })))
            .map(|(address, _)| address.clone())
            .collect(),
    }
}

fn quota_doc(q: &QuotaCheck) -> QuotaDoc {
    QuotaDoc {
        code: q.code.clone(),
        name: q.name.clone(),
        region: q.region.clone(),
        unit: q.unit.clone(),
        needed: q.needed,
        // An unlimited quota (the simulated clouds' default) has no finite limit to write.
        limit: q.limit.filter(|l| l.is_finite()),
        used: q.used,
        free: q
            .limit
            .filter(|l| l.is_finite())
            .zip(q.used)
            .map(|(l, u)| (l - u).max(0.0)),
        outcome: match q.outcome {
            QuotaOutcome::Enough => "enough",
            QuotaOutcome::Short => "short",
            QuotaOutcome::Unchecked => "unchecked",
        }
        .to_owned(),
        needed_by: q.needed_by.clone(),
    }
}

/// The state, as `gantry show --json` prints it without a plan file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StateDocument {
    pub format_version: String,
    /// Always `state`.
    pub kind: String,
    pub gantry_version: String,
    pub lineage: String,
    pub serial: u64,
    /// Sorted by address.
    pub resources: Vec<StateResourceDoc>,
    pub outputs: BTreeMap<String, OutputDoc>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StateResourceDoc {
    pub address: String,
    pub module: String,
    pub mode: ResourceMode,
    #[serde(rename = "type")]
    pub type_name: String,
    pub provider: String,
    pub tainted: bool,
    pub values: serde_json::Value,
    pub sensitive_paths: Vec<String>,
    pub dependencies: Vec<String>,
    /// The `failover` alternative that holds it (0: as written).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover_alternative: Option<usize>,
}

impl StateDocument {
    pub fn from_state(state: &State) -> StateDocument {
        let mut resources: Vec<StateResourceDoc> = state
            .resources
            .values()
            .map(|r| StateResourceDoc {
                address: r.address.clone(),
                module: crate::addrs::parse_resource_instance(&r.address)
                    .ok()
                    .filter(|a| !a.module.is_root())
                    .map(|a| a.module.to_string())
                    .unwrap_or_default(),
                mode: r.mode,
                type_name: r.type_name.clone(),
                provider: r.provider.clone(),
                tainted: r.tainted,
                values: redacted(&Value::from_json(&r.attributes), &r.sensitive_paths).0,
                sensitive_paths: r.sensitive_paths.clone(),
                dependencies: r.dependencies.clone(),
                failover_alternative: r.placement.as_ref().map(|p| p.alternative),
            })
            .collect();
        resources.sort_by(|a, b| a.address.cmp(&b.address));
        StateDocument {
            format_version: FORMAT_VERSION.to_owned(),
            kind: "state".to_owned(),
            gantry_version: env!("CARGO_PKG_VERSION").to_owned(),
            lineage: state.lineage.clone(),
            serial: state.serial,
            resources,
            outputs: state
                .outputs
                .iter()
                .map(|(name, o)| {
                    let doc = OutputDoc {
                        sensitive: o.sensitive,
                        unknown: false,
                        changed: false,
                        value: if o.sensitive {
                            serde_json::Value::Null
                        } else {
                            o.value.clone()
                        },
                    };
                    (name.clone(), doc)
                })
                .collect(),
        }
    }
}

/// `value` as JSON with the values at `sensitive` paths (and any marked value) written as
/// null, and the dotted paths of its unknown parts.
pub fn redacted(value: &Value, sensitive: &[String]) -> (serde_json::Value, Vec<String>) {
    let marked = mark_paths(value.clone(), sensitive);
    let mut unknown = Vec::new();
    let json = to_json(&marked, &mut Vec::new(), &mut unknown);
    (json, unknown)
}

fn to_json(v: &Value, at: &mut Vec<String>, unknown: &mut Vec<String>) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Sensitive(_) | Value::Null => J::Null,
        Value::Unknown(_) => {
            unknown.push(at.join("."));
            J::Null
        }
        Value::List(items) | Value::Set(items) => J::Array(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    at.push(i.to_string());
                    let j = to_json(item, at, unknown);
                    at.pop();
                    j
                })
                .collect(),
        ),
        Value::Map(map) => J::Object(
            map.iter()
                .map(|(k, item)| {
                    at.push(k.clone());
                    let j = to_json(item, at, unknown);
                    at.pop();
                    (k.clone(), j)
                })
                .collect(),
        ),
        plain => plain.to_json(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_and_unknown_values_become_null_with_their_paths_listed() {
        let v = Value::map([
            ("name", Value::string("db")),
            ("password", Value::string("hunter2-secret")),
            (
                "ingress",
                Value::List(vec![Value::map([("cidr", Value::unknown())])]),
            ),
        ]);
        let (json, unknown) = redacted(&v, &["password".to_owned()]);
        assert_eq!(
            json,
            serde_json::json!({"name": "db", "password": null, "ingress": [{"cidr": null}]})
        );
        assert_eq!(unknown, vec!["ingress.0.cidr".to_owned()]);
        assert!(!json.to_string().contains("hunter2"));
    }
}

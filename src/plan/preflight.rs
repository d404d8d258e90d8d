//! Checks a plan must pass before apply creates anything: the stack's budget
//! (`budget { max_hourly = 500 }` or `--max-hourly`) and the account quotas that govern the
//! accelerators it asks for (read from the cloud through the provider).

use super::costs::PlanCosts;
use super::{Action, Plan};
use crate::catalog::cost::compute_use;
use crate::catalog::query::units_of;
use crate::catalog::Catalog;
use crate::diagnostics::{Diagnostic, Diagnostics, Span};
use crate::providers::Providers;
use crate::ui::money::{usd, usd_whole};
use gantry_provider::{QuotaQuery, QuotaReading};
use std::collections::BTreeMap;

/// The limits a plan's cost must stay within.
#[derive(Clone, Debug, Default)]
pub struct BudgetLimits {
    pub max_hourly: Option<f64>,
    pub max_monthly: Option<f64>,
    /// The `budget` block's value, when the limit comes from the stack.
    pub hourly_span: Option<Span>,
    pub monthly_span: Option<Span>,
}

/// Fails when the stack after this plan costs more than the budget; names the biggest costs.
pub fn check_budget(costs: &PlanCosts, limits: &BudgetLimits) -> Option<Diagnostic> {
    let hourly = costs.total_after;
    let monthly = costs.monthly(hourly);
    let (over, limit, span) = match (limits.max_hourly, limits.max_monthly) {
        (Some(max), _) if hourly > max => (
            format!("{}/h", usd(hourly)),
            format!("{}/h", usd(max)),
            limits.hourly_span,
        ),
        (_, Some(max)) if monthly > max => (
            format!("{}/month", usd_whole(monthly)),
            format!("{}/month", usd_whole(max)),
            limits.monthly_span,
        ),
        _ => return None,
    };
    let biggest: Vec<String> = costs
        .biggest()
        .into_iter()
        .take(3)
        .map(|(address, cost)| format!("{address}: {}/h ({})", usd(cost.hourly()), cost.what()))
        .collect();
    let top = biggest.first().cloned().unwrap_or_default();
    Some(
        Diagnostic::error(format!("this plan puts the stack at {over}, over its budget of {limit}"))
            .with_span_opt(span)
            .with_label("the budget")
            .with_detail(format!("biggest costs:\n  {}", biggest.join("\n  ")))
            .with_help(format!(
                "the biggest cost is {top}; use fewer or smaller instances, spot capacity, or raise the budget"
            )),
    )
}

/// What the plan needs of one quota and what the account has free, as a report shows it.
#[derive(Clone, Debug, PartialEq)]
pub struct QuotaCheck {
    /// `L-417A185B`.
    pub code: String,
    /// The quota's name, as the cloud or the catalog gives it.
    pub name: String,
    pub region: Option<String>,
    /// `vCPUs`, `GPUs`.
    pub unit: String,
    pub needed: f64,
    /// `None` when the quota could not be read.
    pub limit: Option<f64>,
    pub used: Option<f64>,
    pub outcome: QuotaOutcome,
    /// `aws_instance.gpu[0] (2 x p5.48xlarge: 384 vCPUs)`.
    pub needed_by: Vec<String>,
}

/// How a quota check ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QuotaOutcome {
    /// Enough is free.
    Enough,
    /// Less is free than the plan needs (an error).
    Short,
    /// The provider could not find or read the quota (a warning).
    Unchecked,
}

/// What the plan needs of one quota.
#[derive(Debug, Default)]
struct Need {
    cloud: String,
    service: String,
    unit: String,
    families: Vec<String>,
    spot: bool,
    region: Option<String>,
    amount: f64,
    /// `aws_instance.gpu[0] (p5.48xlarge: 192 vCPUs)`.
    users: Vec<String>,
}

/// Asks each provider whether the cloud offers what the plan's creates ask for where they
/// ask (a TPU slice's accelerator type in its zone): a create that cannot be made fails
/// the plan, naming it, before anything starts. Failover creates are left to apply, which
/// tries their alternatives; a check the cloud could not answer is a warning.
pub async fn check_offered(plan: &Plan, providers: &Providers, diags: &mut Diagnostics) {
    let creates = plan.changes.iter().filter(|c| {
        c.managed
            && c.failover.is_none()
            && matches!(
                c.action,
                Action::Create | Action::DeleteThenCreate | Action::CreateThenDelete
            )
    });
    let asks = creates.filter_map(|change| {
        let provider = providers.get(&change.provider)?;
        let after = change.after.as_ref()?;
        Some(async move {
            (
                change,
                provider.check_offered(&change.type_name, after).await,
            )
        })
    });
    for (change, answer) in futures::future::join_all(asks).await {
        match answer {
            Ok(None) => {}
            Ok(Some(why)) => diags.push(
                Diagnostic::error(format!("{} cannot be created as planned", change.address))
                    .with_detail(why)
                    .with_help(
                        "pick a type or zone the cloud offers, or add a `failover` block with \
                         alternatives",
                    ),
            ),
            Err(e) => diags.push(
                Diagnostic::warning(format!(
                    "could not check that the cloud offers what {} asks for",
                    change.address
                ))
                .with_detail(e.to_string()),
            ),
        }
    }
}

/// Asks each failover choice of the plan's creates whether the cloud offers it (the GPUs or
/// TPU slice it asks for, in its zone): a choice it does not is skipped, so apply never
/// tries it; when none is offered, the plan fails.
pub async fn check_choice_offers(plan: &mut Plan, providers: &Providers, diags: &mut Diagnostics) {
    for ci in 0..plan.changes.len() {
        let change = &plan.changes[ci];
        let creates = matches!(
            change.action,
            Action::Create | Action::DeleteThenCreate | Action::CreateThenDelete
        );
        let (true, Some(mut f)) = (creates, change.failover.clone()) else {
            continue;
        };
        let mut refusals = Vec::new();
        for &i in &f.attempts.clone() {
            let name = f.choices[i].provider.as_ref().unwrap_or(&change.provider);
            let (Some(provider), Some(planned)) = (providers.get(name), &f.choices[i].planned)
            else {
                continue;
            };
            match provider.check_offered(&change.type_name, planned).await {
                Ok(None) => {}
                Ok(Some(why)) => {
                    f.choices[i].skipped = Some(format!("not offered: {why}"));
                    refusals.push(why);
                }
                Err(e) => diags.push(
                    Diagnostic::warning(format!(
                        "could not check that the cloud offers what {} asks for",
                        change.address
                    ))
                    .with_detail(e.to_string()),
                ),
            }
        }
        if refusals.is_empty() {
            continue;
        }
        f.order_attempts();
        if f.attempts.is_empty() {
            diags.push(
                Diagnostic::error(format!("{} cannot be created as planned", change.address))
                    .with_detail(format!(
                        "the cloud offers none of its failover alternatives: {}",
                        refusals.join("; ")
                    ))
                    .with_help("add an alternative in a zone or of a type the cloud offers"),
            );
        }
        plan.changes[ci].failover = Some(f);
    }
}

/// Reads the quotas that govern the instances this plan creates (or grows) and fails when
/// the account has less free than the plan needs. Quotas a provider cannot read are warnings.
pub async fn check_quotas(
    plan: &Plan,
    providers: &Providers,
    catalog: &Catalog,
    diags: &mut Diagnostics,
) -> Vec<QuotaCheck> {
    let mut needs: BTreeMap<(String, Option<String>, String), Need> = BTreeMap::new();
    for change in plan.changes.iter().filter(|c| c.managed) {
        let grows = matches!(
            change.action,
            Action::Create | Action::Update | Action::DeleteThenCreate | Action::CreateThenDelete
        );
        // Failover creates are checked choice by choice ([`check_choice_quotas`]).
        if !grows || (change.failover.is_some() && change.action != Action::Update) {
            continue;
        }
        let Some(provider) = providers.get(&change.provider) else {
            continue;
        };
        let (Some(cloud), Some(model)) = (
            provider.catalog_cloud(),
            provider.compute_model(&change.type_name),
        ) else {
            continue;
        };
        let Some(after_value) = change.after.as_ref() else {
            continue;
        };
        let Some(after) = compute_use(&model, after_value) else {
            continue;
        };
        let Some(instance) = catalog.instance(cloud, &after.instance_type) else {
            continue;
        };
        let code = if after.spot {
            &instance.spot_quota
        } else {
            &instance.quota
        };
        let Some(quota) = code.as_deref().and_then(|c| catalog.quota(cloud, c)) else {
            continue;
        };
        let units = units_of(instance, &quota.unit) * after.count;
        // What the resource already uses of the same quota is released by the change
        // (an update or a replacement that deletes first), except create-before-destroy.
        let released = match change.action {
            Action::Update | Action::DeleteThenCreate => change
                .before
                .as_ref()
                .and_then(|v| compute_use(&model, v))
                .filter(|b| b.spot == after.spot)
                .and_then(|b| {
                    catalog
                        .instance(cloud, &b.instance_type)
                        .filter(|i| i.quota == instance.quota)
                        .map(|i| units_of(i, &quota.unit) * b.count)
                })
                .unwrap_or(0.0),
            _ => 0.0,
        };
        if units - released <= 0.0 {
            continue;
        }
        let region = provider.quota_location_of(&change.type_name, after_value);
        let need = needs
            .entry((change.provider.clone(), region.clone(), quota.code.clone()))
            .or_insert_with(|| Need {
                cloud: quota.cloud.clone(),
                service: quota.service.clone(),
                unit: quota.unit.clone(),
                families: quota.families.clone(),
                spot: quota.spot,
                region,
                ..Need::default()
            });
        need.amount += units - released;
        need.users.push(format!(
            "{} ({} x {}: {} {})",
            change.address,
            after.count,
            after.instance_type,
            units - released,
            unit_name(&quota.unit)
        ));
    }
    let reads = needs
        .into_iter()
        .map(|((provider_key, _, code), need)| async move {
            let query = QuotaQuery {
                service: need.service.clone(),
                code: code.clone(),
                region: need.region.clone(),
                unit: need.unit.clone(),
                families: need.families.clone(),
                units_per_type: catalog.quota_units(&need.cloud, &code, &need.unit),
                spot: need.spot,
            };
            let reading = match providers.get(&provider_key) {
                Some(p) => p.read_quota(&query).await,
                None => Ok(None),
            };
            (code, need, reading)
        });
    let mut checks = Vec::new();
    for (code, need, reading) in futures::future::join_all(reads).await {
        let where_ = need.region.as_deref().unwrap_or("the configured region");
        let catalog_name = || {
            catalog
                .quota(&need.cloud, &code)
                .map(|q| q.name.clone())
                .unwrap_or_default()
        };
        let mut check = QuotaCheck {
            code: code.clone(),
            name: catalog_name(),
            region: need.region.clone(),
            unit: unit_name(&need.unit).to_owned(),
            needed: need.amount,
            limit: None,
            used: None,
            outcome: QuotaOutcome::Unchecked,
            needed_by: need.users.clone(),
        };
        match &reading {
            Ok(Some(reading)) => {
                if !reading.name.is_empty() {
                    check.name = reading.name.clone();
                }
                check.limit = Some(reading.limit);
                check.used = Some(reading.used);
                check.outcome = if need.amount > reading.free() {
                    diags.push(quota_shortfall(catalog, &code, &need, reading, where_));
                    QuotaOutcome::Short
                } else {
                    QuotaOutcome::Enough
                };
            }
            // Quotas are per region: with none known yet there was nothing to look up.
            Ok(None) if need.region.is_none() => diags.push(
                Diagnostic::warning(format!("quota {code} was not checked"))
                    .with_detail(format!(
                        "where {} will be created is not known until apply, and quotas are per region; this plan needs {} {} of it",
                        need.users.join(", "),
                        need.amount,
                        unit_name(&need.unit)
                    ))
                    .with_help("give the resource its region or location explicitly (or one its provider configuration sets) to have the quota checked before apply"),
            ),
            Ok(None) => diags.push(
                Diagnostic::warning(format!("quota {code} in {where_} was not checked"))
                    .with_detail(format!(
                        "the provider could not find this quota in the account; this plan needs {} {} of it",
                        need.amount,
                        unit_name(&need.unit)
                    ))
                    .with_help("correct the quota code in a catalog override (gantry.catalog.toml) if the cloud renamed it"),
            ),
            Err(e) => diags.push(
                Diagnostic::warning(format!("could not check quota {code} in {where_}"))
                    .with_detail(format!("{e}"))
                    .with_help(format!(
                        "this plan needs {} {} of it; the apply fails if the account has less",
                        need.amount,
                        unit_name(&need.unit)
                    )),
            ),
        }
        checks.push(check);
    }
    checks
}

/// Checks each failover choice of the plan's creates against the quota it needs, on top
/// of what the plan's other creates already claim of it (the resources without failover,
/// and the choice each earlier failover create tries first): a choice the account cannot
/// hold is skipped (apply does not try it). When no choice fits, the plan fails with the
/// shortfall of the first.
pub async fn check_choice_quotas(
    plan: &mut Plan,
    providers: &Providers,
    catalog: &Catalog,
    diags: &mut Diagnostics,
) -> Vec<QuotaCheck> {
    let mut checks = Vec::new();
    let mut claimed: BTreeMap<(String, Option<String>), f64> = BTreeMap::new();
    for q in &plan.quotas {
        *claimed
            .entry((q.code.clone(), q.region.clone()))
            .or_default() += q.needed;
    }
    for ci in 0..plan.changes.len() {
        let change = &plan.changes[ci];
        let creates = matches!(
            change.action,
            Action::Create | Action::DeleteThenCreate | Action::CreateThenDelete
        );
        let (true, Some(f)) = (creates, change.failover.clone()) else {
            continue;
        };
        let mut f = f;
        let mut first_shortfall: Option<Diagnostics> = None;
        // What the other creates claim; this one's own first choice is added after.
        let base = claimed.clone();
        let mut own_claim: Option<Vec<(String, Option<String>, f64)>> = None;
        for &i in &f.attempts.clone() {
            let mut one = change.clone();
            one.failover = None;
            one.after.clone_from(&f.choices[i].planned);
            if let Some(provider) = &f.choices[i].provider {
                one.provider.clone_from(provider);
            }
            let scratch = Plan {
                changes: vec![one],
                ..Plan::default()
            };
            let mut found = Diagnostics::default();
            let mut read = check_quotas(&scratch, providers, catalog, &mut found).await;
            let free_for = |c: &QuotaCheck| {
                let others = base
                    .get(&(c.code.clone(), c.region.clone()))
                    .copied()
                    .unwrap_or(0.0);
                (c.limit.unwrap_or(0.0) - c.used.unwrap_or(0.0) - others).max(0.0)
            };
            let short = read.iter().find(|c| {
                c.outcome == QuotaOutcome::Short
                    || (c.outcome == QuotaOutcome::Enough && c.needed > free_for(c))
            });
            if let Some(short) = short {
                let others = base
                    .get(&(short.code.clone(), short.region.clone()))
                    .copied()
                    .unwrap_or(0.0);
                let by_others = if others > 0.0 && short.outcome != QuotaOutcome::Short {
                    format!(" after {others} {} for the rest of this plan", short.unit)
                } else {
                    String::new()
                };
                f.choices[i].skipped = Some(format!(
                    "quota {} in {}: needs {} {}, {} free{by_others}",
                    short.code,
                    short.region.as_deref().unwrap_or("the configured region"),
                    short.needed,
                    short.unit,
                    free_for(short)
                ));
                if first_shortfall.is_none() {
                    let mut shortfall = found;
                    if short.outcome != QuotaOutcome::Short {
                        shortfall.push(Diagnostic::error(format!(
                            "not enough quota: {} ({}) in {}: `{}` needs {} {}, {} free after the rest of this plan",
                            short.name,
                            short.code,
                            short.region.as_deref().unwrap_or("the configured region"),
                            change.address,
                            short.needed,
                            short.unit,
                            free_for(short)
                        )));
                    }
                    first_shortfall = Some(shortfall);
                }
            } else {
                // Warnings (a quota that could not be read) stay.
                for d in found.iter() {
                    diags.push(d.clone());
                }
                // The first choice that fits is what this create claims.
                if own_claim.is_none() {
                    own_claim = Some(
                        read.iter()
                            .map(|c| (c.code.clone(), c.region.clone(), c.needed))
                            .collect(),
                    );
                }
                checks.append(&mut read);
            }
        }
        for (code, region, needed) in own_claim.unwrap_or_default() {
            *claimed.entry((code, region)).or_default() += needed;
        }
        f.order_attempts();
        if f.attempts.is_empty() {
            if let Some(found) = first_shortfall {
                for d in found.iter() {
                    diags.push(d.clone().with_detail(format!(
                        "no failover alternative of `{}` fits the account's quotas either",
                        change.address
                    )));
                }
            }
        }
        plan.changes[ci].failover = Some(f);
    }
    checks
}

fn quota_shortfall(
    catalog: &Catalog,
    code: &str,
    need: &Need,
    reading: &QuotaReading,
    where_: &str,
) -> Diagnostic {
    let unit = unit_name(&need.unit);
    let name = if reading.name.is_empty() {
        catalog
            .quota(&need.cloud, code)
            .map(|q| q.name.clone())
            .unwrap_or_default()
    } else {
        reading.name.clone()
    };
    let url = reading.request_url.clone().or_else(|| {
        catalog
            .quota(&need.cloud, code)
            .and_then(|q| q.request_url.clone())
    });
    let desired = reading.used + need.amount;
    let mut help = format!("request an increase of {code} to at least {desired}");
    if let Some(url) = url {
        help.push_str(&format!(" at {url}"));
    }
    // The command is the provider's: each cloud has its own CLI.
    if let Some(command) = &reading.request_command {
        help.push_str(&format!(
            "\n  or: {}",
            command.replace("{desired}", &desired.to_string())
        ));
    }
    Diagnostic::error(format!(
        "not enough quota: {name} ({code}) in {where_}: this plan needs {} {unit}, {} free",
        need.amount,
        reading.free()
    ))
    .with_detail(format!(
        "limit {} {unit}, in use {} {unit}, free {} {unit}, needed {} {unit} by:\n  {}\nnothing was created",
        reading.limit,
        reading.used,
        reading.free(),
        need.amount,
        need.users.join("\n  ")
    ))
    .with_help(help)
}

fn unit_name(unit: &str) -> &str {
    match unit {
        "vcpus" => "vCPUs",
        "gpus" => "GPUs",
        "chips" => "TPU chips",
        other => other,
    }
}

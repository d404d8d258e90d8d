//! Rendering a plan the way Terraform users read one: a block per changed resource with
//! `+ ~ - -/+` markers, attribute-level diffs, `(known after apply)`, `(sensitive value)`,
//! nested values indented, and the summary line.

use super::diff::ObjectDiff;
use crate::catalog::cost::Cost;
use crate::config::sensitive::mark_paths;
use crate::plan::costs::{ChangeCost, PlanCosts};
use crate::plan::{Action, Plan, ResourceChange};
use crate::ui::money::{usd, usd_delta, usd_whole, usd_whole_delta};
use gantry_provider::Value;
use std::fmt::Write;

/// The plan for a terminal: change markers coloured (`+` green, `~` yellow, `-` red) and the
/// summary in bold, when `color` is set.
pub fn render_plan_styled(plan: &Plan, color: bool) -> String {
    let text = render_plan(plan);
    if !color {
        return text;
    }
    let paint =
        |style: anstyle::Style, s: &str| format!("{}{s}{}", style.render(), style.render_reset());
    let green = anstyle::AnsiColor::Green.on_default();
    let yellow = anstyle::AnsiColor::Yellow.on_default();
    let red = anstyle::AnsiColor::Red.on_default();
    let bold = anstyle::Style::new().bold();
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for line in text.split_inclusive('\n') {
        let trimmed = line.trim_start();
        let indent = &line[..line.len() - trimmed.len()];
        let marker = ["-/+", "+/-", "<=", "+", "~", "-"]
            .into_iter()
            .find(|m| trimmed.starts_with(m) && trimmed[m.len()..].starts_with(' '));
        match marker {
            Some(m) => {
                let style = match m {
                    "+" | "<=" => green,
                    "~" => yellow,
                    "-" => red,
                    _ => yellow,
                };
                out.push_str(indent);
                out.push_str(&paint(style, m));
                out.push_str(&trimmed[m.len()..]);
            }
            None if trimmed.starts_with("Plan:") => {
                out.push_str(&paint(bold, trimmed.trim_end_matches('\n')));
                out.push('\n');
            }
            None => out.push_str(line),
        }
    }
    out
}

/// The whole plan as text.
pub fn render_plan(plan: &Plan) -> String {
    let mut out = String::new();
    if !plan.drift.is_empty() {
        out.push_str("Objects have changed outside of gantry:\n\n");
        for d in &plan.drift {
            match &d.after {
                None => {
                    let _ = writeln!(out, "  # {} has been deleted", d.address);
                }
                Some(after) => {
                    let _ = writeln!(out, "  # {} has changed", d.address);
                    let diff = ObjectDiff {
                        before: Some(&d.before),
                        after: Some(after),
                        schema: None,
                        forces: &[],
                    };
                    super::diff::render(&mut out, &diff, 4);
                }
            }
        }
        out.push('\n');
    }
    let visible: Vec<&ResourceChange> = plan
        .changes
        .iter()
        .filter(|c| c.action != Action::NoOp)
        .collect();
    if visible.is_empty() && !plan.has_changes() {
        out.push_str("No changes. Your infrastructure matches the configuration.\n");
        if !plan.module_failovers.is_empty() {
            out.push('\n');
            render_module_failovers(&mut out, plan);
        }
        if plan.costs.total_after > 0.0 && !plan.destroy {
            let c = &plan.costs;
            let _ = writeln!(
                out,
                "\nStack cost: {}/h (~{}/month){}.",
                usd(c.total_after),
                usd_whole(c.monthly(c.total_after)),
                taken_note(c)
            );
        }
        return out;
    }
    let refactoring = &plan.refactoring;
    if !visible.is_empty() || !refactoring.is_empty() || !plan.imports.is_empty() {
        out.push_str("gantry will perform the following actions:\n\n");
    }
    render_module_failovers(&mut out, plan);
    let moved_from = plan.moved_from();
    let imported = plan.imported_ids();
    for object in &plan.imports {
        let unchanged = plan
            .changes
            .iter()
            .find(|c| c.address == object.address)
            .is_none_or(|c| c.action == Action::NoOp);
        if unchanged {
            let _ = writeln!(
                out,
                "  # {} will be imported\n  # (id \"{}\", no changes to it)\n",
                object.address, object.id
            );
        }
    }
    for (from, to) in &refactoring.moved {
        let unchanged = plan
            .changes
            .iter()
            .find(|c| &c.address == to)
            .is_none_or(|c| c.action == Action::NoOp);
        if unchanged {
            let _ = writeln!(out, "  # {from} has moved to {to}\n");
        }
    }
    for c in visible {
        render_change(
            &mut out,
            c,
            plan.costs.resources.get(&c.address),
            &plan.costs,
            moved_from.get(c.address.as_str()).copied(),
            imported.get(c.address.as_str()).copied(),
        );
        out.push('\n');
    }
    for address in &refactoring.forgotten {
        let _ = writeln!(
            out,
            "  # {address} will no longer be managed by gantry\n  # (a `removed` block with destroy = false: the object stays in the cloud)\n"
        );
    }
    let s = plan.summary();
    let forget = if refactoring.forgotten.is_empty() {
        String::new()
    } else {
        format!(", {} to forget", refactoring.forgotten.len())
    };
    let import = if plan.imports.is_empty() {
        String::new()
    } else {
        format!("{} to import, ", plan.imports.len())
    };
    let _ = writeln!(
        out,
        "Plan: {import}{} to add, {} to change, {} to destroy{forget}.",
        s.add, s.change, s.destroy
    );
    if plan.costs.any() {
        render_cost_summary(&mut out, &plan.costs);
    }
    let changed_outputs: Vec<_> = plan
        .outputs
        .iter()
        .filter(|(_, o)| o.before.as_ref() != Some(&o.after) || !o.after.is_wholly_known())
        .collect();
    if !changed_outputs.is_empty() {
        out.push_str("\nChanges to Outputs:\n");
        for (name, o) in changed_outputs {
            let value = if o.sensitive {
                "(sensitive value)".to_owned()
            } else {
                inline(&o.after)
            };
            let sym = if o.before.is_none() { "+" } else { "~" };
            let _ = writeln!(out, "  {sym} {name} = {value}");
        }
    }
    out
}

fn taken_note(c: &PlanCosts) -> String {
    c.taken
        .as_deref()
        .map(|t| format!(", catalog prices of {t}"))
        .unwrap_or_default()
}

/// `Cost: +$98.32/h (~ +$71,774/month) ...` under the plan summary.
fn render_cost_summary(out: &mut String, c: &PlanCosts) {
    let delta = c.delta_hourly();
    // Only usage-based resources: no hourly figures to add up.
    if c.total_before > 0.0 || c.total_after > 0.0 {
        let _ = writeln!(
            out,
            "Cost: {}/h (~ {}/month) from this plan; the stack: {}/h (~ {}/month){}.",
            usd_delta(delta),
            usd_whole_delta(c.monthly(delta)),
            usd(c.total_after),
            usd_whole(c.monthly(c.total_after)),
            taken_note(c)
        );
    }
    let usage: Vec<&str> = c
        .resources
        .iter()
        .filter(|(_, r)| matches!(r.after, Some(Cost::UsageBased { .. })))
        .map(|(a, _)| a.as_str())
        .collect();
    if !usage.is_empty() {
        let _ = writeln!(out, "Usage-based, not in the total: {}.", usage.join(", "));
    }
    if let Some(within) = c.within_budget() {
        let mut limits = Vec::new();
        if let Some(max) = c.budget_hourly {
            limits.push(format!("{}/h", usd(max)));
        }
        if let Some(max) = c.budget_monthly {
            limits.push(format!("{}/month", usd_whole(max)));
        }
        let verdict = if within { "within" } else { "OVER" };
        let _ = writeln!(out, "Budget: {verdict} {}.", limits.join(" and "));
    }
}

/// `# cost: $98.32/h (~$71,774/month): p5.48xlarge on-demand in us-east-1`.
fn render_change_cost(out: &mut String, cost: &ChangeCost, costs: &PlanCosts) {
    let month = |h: f64| usd_whole(costs.monthly(h));
    let line = match (&cost.before, &cost.after) {
        (_, Some(Cost::UsageBased { what })) => format!("usage-based ({what})"),
        (None, Some(after)) => format!(
            "{}/h (~{}/month): {}",
            usd(after.hourly()),
            month(after.hourly()),
            after.what()
        ),
        (Some(before), None) => format!(
            "{}/h (~{}/month) no longer paid: {}",
            usd_delta(-before.hourly()),
            usd_whole_delta(-costs.monthly(before.hourly())),
            before.what()
        ),
        (Some(before), Some(after)) if (before.hourly() - after.hourly()).abs() >= 0.005 => {
            format!(
                "{}/h -> {}/h ({}/h): {}",
                usd(before.hourly()),
                usd(after.hourly()),
                usd_delta(after.hourly() - before.hourly()),
                after.what()
            )
        }
        (_, Some(after)) => format!("{}/h, unchanged: {}", usd(after.hourly()), after.what()),
        (_, None) => return,
    };
    let _ = writeln!(out, "  # cost: {line}");
}

fn render_change(
    out: &mut String,
    c: &ResourceChange,
    cost: Option<&ChangeCost>,
    costs: &PlanCosts,
    moved_from: Option<&str>,
    imported_id: Option<&str>,
) {
    let what = match c.action {
        Action::Create => "will be created".to_owned(),
        Action::Update => "will be updated in-place".to_owned(),
        Action::Delete => "will be destroyed".to_owned(),
        Action::DeleteThenCreate | Action::CreateThenDelete => "must be replaced".to_owned(),
        Action::Read => "will be read during apply".to_owned(),
        Action::NoOp => "is unchanged".to_owned(),
    };
    let _ = writeln!(out, "  # {} {what}", c.address);
    if let Some(from) = moved_from {
        let _ = writeln!(out, "  # (moved from {from})");
    }
    if let Some(id) = imported_id {
        let _ = writeln!(out, "  # (imported from \"{id}\")");
    }
    if let Some(reason) = &c.reason {
        let _ = writeln!(out, "  # ({reason})");
    }
    if let Some(cost) = cost {
        render_change_cost(out, cost, costs);
    }
    if let Some(f) = &c.failover {
        render_failover(out, c, f);
    }
    let kind = if c.managed { "resource" } else { "data" };
    let _ = writeln!(
        out,
        "{:>3} {kind} \"{}\" \"{}\" {{",
        c.action.symbol(),
        c.type_name,
        c.name
    );
    // Values at sensitive paths are marked: they print as `(sensitive value)` however deep.
    let mark = |v: Option<&Value>| v.map(|v| mark_paths(v.clone(), &c.sensitive_paths));
    let (before, after) = (mark(c.before.as_ref()), mark(c.after.as_ref()));
    let (before, after) = match c.action {
        Action::Delete => (before.as_ref(), None),
        Action::Create | Action::Read => (None, after.as_ref()),
        _ => (before.as_ref(), after.as_ref()),
    };
    let diff = ObjectDiff {
        before,
        after,
        schema: c.schema.as_deref(),
        forces: &c.requires_replace,
    };
    super::diff::render(out, &diff, 6);
    if !c.still_used_by.is_empty() {
        let _ = writeln!(
            out,
            "      # warning: deleted before it is re-created while {} still use{} it; its delete may be refused (set create_before_destroy)",
            c.still_used_by.join(", "),
            if c.still_used_by.len() == 1 { "s" } else { "" }
        );
    }
    out.push_str("    }\n");
}

/// A create's failover choices in the order apply tries them, with their prices; for an
/// object that exists, the alternative that holds it.
fn render_failover(out: &mut String, c: &ResourceChange, f: &crate::plan::failover::FailoverPlan) {
    let creates = matches!(
        c.action,
        Action::Create | Action::DeleteThenCreate | Action::CreateThenDelete
    );
    if !creates {
        if let Some(held) = f.held.filter(|&h| h > 0) {
            let label = f.choices.get(held).map_or("", |c| c.label.as_str());
            let _ = writeln!(out, "  # (placed by failover alternative {held}: {label})");
        }
        return;
    }
    let on =
        f.on.iter()
            .map(|o| o.as_str())
            .collect::<Vec<_>>()
            .join(" or ");
    let order = match f.order {
        crate::config::model::FailoverOrder::Stack => "in the stack's order",
        crate::config::model::FailoverOrder::Cost => "cheapest first",
    };
    let wait = f
        .wait_for_capacity
        .map(|d| format!(", waiting up to {}", humantime_short(d)))
        .unwrap_or_default();
    let _ = writeln!(out, "  # failover on {on}, {order}{wait}:");
    let price = |h: Option<f64>| h.map(|h| format!(" ({}/h)", usd(h))).unwrap_or_default();
    for (n, &i) in f.attempts.iter().enumerate() {
        let choice = &f.choices[i];
        let name = if i == 0 {
            "as written".to_owned()
        } else {
            format!("alternative {i}: {}", choice.label)
        };
        let _ = writeln!(out, "  #   {}. {name}{}", n + 1, price(choice.hourly));
    }
    for choice in f.choices.iter().filter(|c| c.skipped.is_some()) {
        let name = if choice.alternative == 0 {
            "as written".to_owned()
        } else {
            format!("alternative {}: {}", choice.alternative, choice.label)
        };
        let _ = writeln!(
            out,
            "  #   -  {name}: skipped, {}",
            choice.skipped.as_deref().unwrap_or_default()
        );
    }
}

/// Each module call with `failover`: the alternatives a module being placed tries, in
/// order and priced, or the alternative that holds it.
fn render_module_failovers(out: &mut String, plan: &Plan) {
    if plan.destroy {
        return;
    }
    for m in &plan.module_failovers {
        if !m.placing {
            let _ = writeln!(
                out,
                "  # {}: held by {}\n",
                m.address,
                m.name_of(m.selected)
            );
            continue;
        }
        let on =
            m.on.iter()
                .map(|o| o.as_str())
                .collect::<Vec<_>>()
                .join(" or ");
        let order = match m.order {
            crate::config::model::FailoverOrder::Stack => "in the stack's order",
            crate::config::model::FailoverOrder::Cost => "cheapest first",
        };
        let wait = m
            .wait_for_capacity
            .map(|d| format!(", waiting up to {}", humantime_short(d)))
            .unwrap_or_default();
        let _ = writeln!(out, "  # {}: failover on {on}, {order}{wait}:", m.address);
        let price = |h: Option<f64>| h.map(|h| format!(" ({}/h)", usd(h))).unwrap_or_default();
        let mut order: Vec<usize> = m.attempts.clone();
        // A module resumed after an interruption goes on with its alternative first.
        if let Some(pos) = order.iter().position(|&a| a == m.selected) {
            order.remove(pos);
            order.insert(0, m.selected);
        }
        for (n, &i) in order.iter().enumerate() {
            let choice = &m.choices[i];
            let now = if i == m.selected {
                "  <- this plan"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  #   {}. {}{}{now}",
                n + 1,
                m.name_of(i),
                price(choice.hourly)
            );
        }
        for choice in m.choices.iter().filter(|c| c.skipped.is_some()) {
            let _ = writeln!(
                out,
                "  #   -  {}: skipped, {}",
                m.name_of(choice.alternative),
                choice.skipped.as_deref().unwrap_or_default()
            );
        }
        out.push('\n');
    }
}

/// `2h`, `30m`, `45s`.
fn humantime_short(d: std::time::Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s >= 3600 && s % 3600 == 0 => format!("{}h", s / 3600),
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

fn inline(v: &Value) -> String {
    v.to_string()
}

/// The plan as NDJSON events: one `planned_change` per change, `drift` entries, outputs,
/// and a `change_summary`.
pub fn plan_json_lines(plan: &Plan) -> Vec<serde_json::Value> {
    use serde_json::json;
    let mut out = Vec::new();
    for d in &plan.drift {
        out.push(json!({
            "type": "resource_drift",
            "address": d.address,
            "deleted": d.after.is_none(),
        }));
    }
    for c in plan.changes.iter().filter(|c| c.action != Action::NoOp) {
        let cost = plan.costs.resources.get(&c.address).map(|cost| {
            json!({
                "before_hourly": cost.before.as_ref().map(Cost::hourly),
                "after_hourly": cost.after.as_ref().map(Cost::hourly),
                "delta_hourly": cost.delta_hourly(),
                "delta_monthly": plan.costs.monthly(cost.delta_hourly()),
                "usage_based": matches!(cost.after, Some(Cost::UsageBased { .. })),
                "what": cost.after.as_ref().or(cost.before.as_ref()).map(Cost::what),
            })
        });
        out.push(json!({
            "type": "planned_change",
            "address": c.address,
            "resource_type": c.type_name,
            "provider": c.provider,
            "action": c.action,
            "replace_paths": c.requires_replace,
            "reason": c.reason,
            "cost": cost,
            "failover": c.failover.as_ref().map(crate::plan::document::FailoverDoc::of),
        }));
    }
    for (from, to) in &plan.refactoring.moved {
        out.push(json!({"type": "resource_moved", "from": from, "to": to}));
    }
    for address in &plan.refactoring.forgotten {
        out.push(json!({"type": "resource_forgotten", "address": address}));
    }
    for object in &plan.imports {
        out.push(json!({"type": "resource_imported", "address": object.address, "id": object.id}));
    }
    for m in &plan.module_failovers {
        let mut line = serde_json::to_value(crate::plan::document::ModuleFailoverDoc::of(m))
            .unwrap_or_default();
        if let Some(fields) = line.as_object_mut() {
            fields.insert("type".to_owned(), json!("module_failover"));
        }
        out.push(line);
    }
    for (name, o) in &plan.outputs {
        out.push(json!({
            "type": "output",
            "name": name,
            "sensitive": o.sensitive,
            "known": o.after.is_wholly_known(),
            "value": if o.sensitive || !o.after.is_wholly_known() { serde_json::Value::Null } else { o.after.to_json() },
        }));
    }
    if plan.costs.any() {
        let c = &plan.costs;
        out.push(json!({
            "type": "cost_summary",
            "currency": "USD",
            "total_hourly": c.total_after,
            "total_monthly": c.monthly(c.total_after),
            "before_hourly": c.total_before,
            "delta_hourly": c.delta_hourly(),
            "delta_monthly": c.monthly(c.delta_hourly()),
            "hours_per_month": c.hours_per_month,
            "catalog_taken": c.taken,
            "budget_hourly": c.budget_hourly,
            "budget_monthly": c.budget_monthly,
            "within_budget": c.within_budget(),
        }));
    }
    let s = plan.summary();
    out.push(json!({
        "type": "change_summary",
        "add": s.add,
        "change": s.change,
        "destroy": s.destroy,
        "move": plan.refactoring.moved.len(),
        "forget": plan.refactoring.forgotten.len(),
        "import": plan.imports.len(),
        "has_changes": plan.has_changes(),
    }));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::ResourceChange;

    fn create() -> Plan {
        Plan {
            changes: vec![ResourceChange {
                address: "gantry_data.x".into(),
                managed: true,
                type_name: "gantry_data".into(),
                name: "x".into(),
                provider: "gantry".into(),
                action: Action::Create,
                before: None,
                after: Some(Value::map([
                    ("id", Value::unknown()),
                    ("input", Value::from(1_i64)),
                ])),
                config: None,
                requires_replace: Vec::new(),
                dependencies: Vec::new(),
                prior_dependencies: Vec::new(),
                sensitive_paths: vec!["input".into()],
                schema_version: 0,
                reason: None,
                create_before_destroy: false,
                timeouts: gantry_provider::Timeouts::default(),
                still_used_by: Vec::new(),
                schema: None,
                failover: None,
                placement: None,
                module_placements: Default::default(),
                prior_provider: None,
            }],
            ..Plan::default()
        }
    }

    #[test]
    fn renders_like_terraform_with_sensitive_values_hidden() {
        let text = render_plan(&create());
        assert!(
            text.contains(
                "  # gantry_data.x will be created\n  + resource \"gantry_data\" \"x\" {\n"
            ),
            "{text}"
        );
        assert!(text.contains("+ id    = (known after apply)"), "{text}");
        assert!(text.contains("+ input = (sensitive value)"), "{text}");
        assert!(
            text.contains("Plan: 1 to add, 0 to change, 0 to destroy."),
            "{text}"
        );
    }

    #[test]
    fn colour_only_when_asked() {
        let plain = render_plan_styled(&create(), false);
        assert!(!plain.contains('\u{1b}'));
        let styled = render_plan_styled(&create(), true);
        assert!(
            styled.contains("\u{1b}[32m+\u{1b}[0m resource"),
            "{styled:?}"
        );
    }
}

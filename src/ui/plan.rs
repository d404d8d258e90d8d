//! Rendering a plan the way Terraform users read one: a block per changed resource with
//! `+ ~ - -/+` markers, attribute-level diffs, `(known after apply)`, `(sensitive value)`,
//! nested values indented, and the summary line.

use crate::catalog::cost::Cost;
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
                    render_attrs_diff(&mut out, Some(&d.before), Some(after), &[], &[], 4);
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
    if !visible.is_empty() {
        out.push_str("gantry will perform the following actions:\n\n");
    }
    for c in visible {
        render_change(
            &mut out,
            c,
            plan.costs.resources.get(&c.address),
            &plan.costs,
        );
        out.push('\n');
    }
    let s = plan.summary();
    let _ = writeln!(
        out,
        "Plan: {} to add, {} to change, {} to destroy.",
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
    if let Some(reason) = &c.reason {
        let _ = writeln!(out, "  # ({reason})");
    }
    if let Some(cost) = cost {
        render_change_cost(out, cost, costs);
    }
    let kind = if c.managed { "resource" } else { "data" };
    let _ = writeln!(
        out,
        "{:>3} {kind} \"{}\" \"{}\" {{",
        c.action.symbol(),
        c.type_name,
        c.name
    );
    match c.action {
        Action::Delete => {
            render_attrs_diff(out, c.before.as_ref(), None, &[], &c.sensitive_paths, 6)
        }
        Action::Create | Action::Read => {
            render_attrs_diff(out, None, c.after.as_ref(), &[], &c.sensitive_paths, 6);
        }
        _ => render_attrs_diff(
            out,
            c.before.as_ref(),
            c.after.as_ref(),
            &c.requires_replace,
            &c.sensitive_paths,
            6,
        ),
    }
    out.push_str("    }\n");
}

/// Attribute lines of an object diff.
fn render_attrs_diff(
    out: &mut String,
    before: Option<&Value>,
    after: Option<&Value>,
    forces: &[String],
    sensitive: &[String],
    indent: usize,
) {
    let empty = std::collections::BTreeMap::new();
    let b = before.and_then(Value::as_map).unwrap_or(&empty);
    let a = after.and_then(Value::as_map).unwrap_or(&empty);
    let mut names: Vec<&String> = b.keys().chain(a.keys()).collect();
    names.sort();
    names.dedup();
    let width = names
        .iter()
        .filter(|n| shown(b.get(**n), a.get(**n), before.is_some() && after.is_some()))
        .map(|n| n.len())
        .max()
        .unwrap_or(0);
    let mut hidden = 0;
    for name in names {
        let (bv, av) = (b.get(name), a.get(name));
        if !shown(bv, av, before.is_some() && after.is_some()) {
            if before.is_some() && after.is_some() {
                hidden += 1;
            }
            continue;
        }
        let secret = sensitive.iter().any(|s| s == name);
        let pad = " ".repeat(indent);
        let fmt = |v: &Value| {
            if secret {
                "(sensitive value)".to_owned()
            } else {
                multiline(v, indent)
            }
        };
        let force = if forces.iter().any(|f| f == name) {
            " # forces replacement"
        } else {
            ""
        };
        let line = match (before.is_some(), after.is_some(), bv, av) {
            (false, _, _, Some(v)) => format!("{pad}+ {name:<width$} = {}", fmt(v)),
            (_, false, Some(v), _) => format!("{pad}- {name:<width$} = {}", fmt(v)),
            (_, _, Some(old), Some(new)) => {
                format!(
                    "{pad}~ {name:<width$} = {} -> {}{force}",
                    fmt(old),
                    fmt(new)
                )
            }
            (_, _, None, Some(v)) => format!("{pad}+ {name:<width$} = {}", fmt(v)),
            (_, _, Some(v), None) => format!("{pad}- {name:<width$} = {}", fmt(v)),
            _ => continue,
        };
        out.push_str(&line);
        out.push('\n');
    }
    if hidden > 0 {
        let _ = writeln!(
            out,
            "{}# ({hidden} unchanged attribute{} hidden)",
            " ".repeat(indent + 2),
            if hidden == 1 { "" } else { "s" }
        );
    }
}

/// Whether an attribute line is worth showing: nulls are hidden, and on updates only
/// changed attributes are shown.
fn shown(before: Option<&Value>, after: Option<&Value>, update: bool) -> bool {
    let present = |v: Option<&Value>| v.is_some_and(|v| !v.is_null());
    if update {
        match (before, after) {
            (Some(b), Some(a)) => b != a || !a.is_wholly_known(),
            (b, a) => present(b) || present(a),
        }
    } else {
        present(before) || present(after)
    }
}

fn inline(v: &Value) -> String {
    v.to_string()
}

/// A value as HCL, multi-line for non-empty objects and lists.
fn multiline(v: &Value, indent: usize) -> String {
    match v {
        Value::Map(m) if !m.is_empty() && v.to_string().len() > 60 => {
            let width = m.keys().map(String::len).max().unwrap_or(0);
            let mut s = String::from("{\n");
            for (k, item) in m {
                let _ = writeln!(
                    s,
                    "{}  {k:<width$} = {}",
                    " ".repeat(indent + 4),
                    multiline(item, indent + 4)
                );
            }
            let _ = write!(s, "{}  }}", " ".repeat(indent));
            s
        }
        Value::List(items) | Value::Set(items) if v.to_string().len() > 60 => {
            let mut s = String::from("[\n");
            for item in items {
                let _ = writeln!(
                    s,
                    "{}  {},",
                    " ".repeat(indent + 4),
                    multiline(item, indent + 4)
                );
            }
            let _ = write!(s, "{}  ]", " ".repeat(indent));
            s
        }
        other => other.to_string(),
    }
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
        }));
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
        }));
    }
    let s = plan.summary();
    out.push(json!({
        "type": "change_summary",
        "add": s.add,
        "change": s.change,
        "destroy": s.destroy,
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

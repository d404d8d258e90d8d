//! The pull-request report (`gantry show --markdown`): what a reviewer needs at a glance.
//! A summary line with the cost change and the budget verdict; destroyed and replaced
//! resources first; quota checks; then one collapsible section per module with attribute
//! diffs; drift apart; outputs.
//!
//! It is made to be posted as a comment, so it stays under GitHub's limit of 65,536
//! characters however large the plan: whole entries are left out (and counted) once the
//! budget is spent, never a line cut in half.

use super::money::{usd, usd_delta, usd_whole, usd_whole_delta};
use crate::plan::document::{
    ChangeSummary, CostDoc, PlanDocument, QuotaDoc, ResourceChangeDoc, StateDocument,
};
use crate::plan::Action;
use serde_json::Value as J;
use std::collections::BTreeMap;
use std::fmt::Write;

/// GitHub's limit on a comment, in characters.
pub const COMMENT_LIMIT: usize = 65_536;

/// What the report may use: the limit, less room for the notes that say what was left out.
const BUDGET: usize = COMMENT_LIMIT - 2_000;

/// The most rows a table or list shows before it says how many more there are.
const MAX_ROWS: usize = 200;

/// The report of a plan.
pub fn plan_report(doc: &PlanDocument) -> String {
    let mut head = String::new();
    let _ = writeln!(
        head,
        "## gantry plan: {}\n",
        summary_line(&doc.summary, doc)
    );
    if let Some(cost) = &doc.cost {
        let _ = writeln!(head, "{}\n", cost_line(cost, doc.destroy));
    }
    let destructive: Vec<&ResourceChangeDoc> = doc
        .resource_changes
        .iter()
        .filter(|c| c.mode_is_managed() && (c.action == Action::Delete || c.action.is_replace()))
        .collect();
    if !destructive.is_empty() {
        let replaced = destructive.iter().filter(|c| c.action.is_replace()).count();
        let destroyed = destructive.len() - replaced;
        let mut parts = Vec::new();
        if destroyed > 0 {
            parts.push(format!("{destroyed} destroyed"));
        }
        if replaced > 0 {
            parts.push(format!("{replaced} replaced"));
        }
        let (noun, pronoun) = if destructive.len() == 1 {
            ("resource", "it")
        } else {
            ("resources", "them")
        };
        let _ = writeln!(
            head,
            "> [!WARNING]\n> **{} {noun}.** Review {pronoun} before this plan is applied.\n",
            parts.join(", ")
        );
    }
    if !doc.summary.has_changes {
        head.push_str("No changes. Your infrastructure matches the configuration.\n\n");
    }

    // The short sections first, each bounded by rows, so the changes get what is left.
    let quotas = quota_section(&doc.quota_checks);
    let drift = drift_section(doc);
    let refactoring = refactoring_section(doc);
    let outputs = outputs_section(doc);
    let footer = format!(
        "<sub>gantry {} · plan format {}{}</sub>\n",
        doc.gantry_version,
        doc.format_version,
        doc.cost
            .as_ref()
            .and_then(|c| c.catalog_taken.as_deref())
            .map(|t| format!(" · catalog prices of {t}"))
            .unwrap_or_default()
    );
    let fixed = [&head, &quotas, &drift, &refactoring, &outputs, &footer]
        .iter()
        .map(|s| s.chars().count())
        .sum::<usize>();
    let mut budget = BUDGET.saturating_sub(fixed);
    let destructive_table = destructive_section(&destructive, &mut budget);
    let changes = changes_section(doc, &mut budget);

    let mut out = head;
    out.push_str(&destructive_table);
    out.push_str(&quotas);
    out.push_str(&changes);
    out.push_str(&refactoring);
    out.push_str(&drift);
    out.push_str(&outputs);
    out.push_str(&footer);
    out
}

/// The report of the state (`gantry show --markdown` without a plan file).
pub fn state_report(doc: &StateDocument) -> String {
    let mut out = String::new();
    let managed = doc
        .resources
        .iter()
        .filter(|r| r.mode == crate::state::ResourceMode::Managed)
        .count();
    let _ = writeln!(
        out,
        "## gantry state: {managed} {}\n",
        plural(managed, "resource", "resources")
    );
    if !doc.resources.is_empty() {
        out.push_str("| Resource | Type | ID |\n|---|---|---|\n");
        let mut budget = BUDGET;
        let mut shown = 0;
        for r in &doc.resources {
            let id = r
                .values
                .get("id")
                .and_then(J::as_str)
                .map(|id| format!("`{}`", cell(id)))
                .unwrap_or_default();
            let tainted = if r.tainted { " (tainted)" } else { "" };
            let row = format!(
                "| `{}`{tainted} | `{}` | {id} |\n",
                cell(&r.address),
                r.type_name
            );
            if shown >= MAX_ROWS * 10 || !take(&mut budget, &row) {
                break;
            }
            out.push_str(&row);
            shown += 1;
        }
        if shown < doc.resources.len() {
            let _ = writeln!(
                out,
                "\n…and {} more not shown (`gantry state list` lists them all).",
                doc.resources.len() - shown
            );
        }
        out.push('\n');
    }
    if !doc.outputs.is_empty() {
        out.push_str("### Outputs\n\n| Output | Value |\n|---|---|\n");
        for (name, o) in doc.outputs.iter().take(MAX_ROWS) {
            let value = if o.sensitive {
                "(sensitive value)".to_owned()
            } else {
                format!("`{}`", cell(&compact(&o.value)))
            };
            let _ = writeln!(out, "| `{name}` | {value} |");
        }
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "<sub>gantry {} · state serial {} · lineage {}</sub>",
        doc.gantry_version, doc.serial, doc.lineage
    );
    out
}

fn summary_line(s: &ChangeSummary, doc: &PlanDocument) -> String {
    let mut parts = Vec::new();
    if s.import > 0 {
        parts.push(format!("{} to import", s.import));
    }
    parts.push(format!("{} to add", s.add));
    parts.push(format!("{} to change", s.change));
    parts.push(format!("{} to destroy", s.destroy));
    if s.moves > 0 {
        parts.push(format!("{} to move", s.moves));
    }
    if s.forget > 0 {
        parts.push(format!("{} to forget", s.forget));
    }
    let kind = if doc.destroy { " (destroy)" } else { "" };
    format!("{}{kind}", parts.join(", "))
}

fn cost_line(c: &CostDoc, destroy: bool) -> String {
    let mut line = format!(
        "**Cost:** {}/h ({}/month); the stack costs {}/h (~{}/month) after this plan",
        usd_delta(c.delta_hourly),
        usd_whole_delta(c.delta_monthly),
        usd(c.after_hourly),
        usd_whole(c.after_monthly)
    );
    if !c.usage_based.is_empty() {
        let _ = write!(
            line,
            ", plus {} usage-based {}",
            c.usage_based.len(),
            plural(c.usage_based.len(), "resource", "resources")
        );
    }
    line.push('.');
    match (c.within_budget, destroy) {
        (Some(true), false) => {
            let _ = write!(line, " **Budget:** ✅ within {}.", budget_text(c));
        }
        (Some(false), false) => {
            let _ = write!(line, " **Budget:** ❌ over {}.", budget_text(c));
        }
        _ => {}
    }
    line
}

fn budget_text(c: &CostDoc) -> String {
    let mut limits = Vec::new();
    if let Some(h) = c.budget_hourly {
        limits.push(format!("{}/h", usd(h)));
    }
    if let Some(m) = c.budget_monthly {
        limits.push(format!("{}/month", usd_whole(m)));
    }
    limits.join(" and ")
}

fn destructive_section(changes: &[&ResourceChangeDoc], budget: &mut usize) -> String {
    if changes.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "### Destroyed or replaced\n\n| Action | Resource | Why | Cost/h |\n|---|---|---|---|\n",
    );
    take(budget, &out);
    let mut shown = 0;
    for c in changes {
        let action = match c.action {
            Action::DeleteThenCreate => "`-/+` replace",
            Action::CreateThenDelete => "`+/-` replace",
            _ => "`-` destroy",
        };
        let why = if !c.replace_paths.is_empty() {
            format!(
                "{} forces replacement",
                c.replace_paths
                    .iter()
                    .map(|p| format!("`{}`", cell(p)))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        } else {
            c.reason.as_deref().map(cell).unwrap_or_default()
        };
        let cost = c
            .cost
            .as_ref()
            .filter(|cost| cost.delta_hourly.abs() >= 0.005)
            .map(|cost| usd_delta(cost.delta_hourly))
            .unwrap_or_default();
        let row = format!("| {action} | `{}` | {why} | {cost} |\n", cell(&c.address));
        if shown >= MAX_ROWS || !take(budget, &row) {
            break;
        }
        out.push_str(&row);
        shown += 1;
    }
    if shown < changes.len() {
        let _ = writeln!(
            out,
            "\n…and {} more destroyed or replaced, not shown here.",
            changes.len() - shown
        );
    }
    out.push('\n');
    out
}

fn quota_section(quotas: &[QuotaDoc]) -> String {
    if quotas.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "### Quota checks\n\n| Quota | Region | Needed | Free | |\n|---|---|---|---|---|\n",
    );
    for q in quotas.iter().take(MAX_ROWS) {
        let verdict = match q.outcome.as_str() {
            "enough" => "✅",
            "short" => "❌ not enough",
            _ => "⚠️ not checked",
        };
        let free = match (q.free, q.outcome.as_str()) {
            (Some(free), _) => number(free),
            (None, "enough") => "no limit".to_owned(),
            (None, _) => "?".to_owned(),
        };
        let name = if q.name.is_empty() {
            format!("`{}`", q.code)
        } else {
            format!("{} (`{}`)", cell(&q.name), q.code)
        };
        let _ = writeln!(
            out,
            "| {name} | {} | {} {} | {free} | {verdict} |",
            q.region.as_deref().unwrap_or(""),
            number(q.needed),
            q.unit
        );
    }
    if quotas.len() > MAX_ROWS {
        let _ = writeln!(out, "\n…and {} more quotas.", quotas.len() - MAX_ROWS);
    }
    out.push('\n');
    out
}

fn changes_section(doc: &PlanDocument, budget: &mut usize) -> String {
    let changes: Vec<&ResourceChangeDoc> = doc.resource_changes.iter().collect();
    if changes.is_empty() {
        return String::new();
    }
    let mut by_module: BTreeMap<&str, Vec<&ResourceChangeDoc>> = BTreeMap::new();
    for c in &changes {
        by_module.entry(c.module.as_str()).or_default().push(c);
    }
    let mut out = String::from("### Changes\n\n");
    take(budget, &out);
    let mut left_out = 0;
    for (module, items) in &by_module {
        let name = if module.is_empty() {
            "root module".to_owned()
        } else {
            html(module)
        };
        let open = format!(
            "<details><summary><b>{name}</b>: {}</summary>\n\n",
            module_counts(items)
        );
        let close = "</details>\n\n";
        let mut section = String::new();
        let mut shown = 0;
        if take(budget, &open) && take(budget, close) {
            for c in items {
                let block = change_block(c);
                if !take(budget, &block) {
                    break;
                }
                section.push_str(&block);
                shown += 1;
            }
        }
        left_out += items.len() - shown;
        if shown == 0 {
            *budget += open.chars().count() + close.chars().count();
            continue;
        }
        out.push_str(&open);
        out.push_str(&section);
        let note = format!(
            "…and {} more changes in this module, not shown.\n\n",
            items.len() - shown
        );
        if shown < items.len() && take(budget, &note) {
            out.push_str(&note);
        }
        out.push_str(close);
    }
    if left_out > 0 {
        let _ = writeln!(
            out,
            "**{left_out} of {} changes are not shown** to keep this report under {} characters; `gantry show PLANFILE` prints them all.\n",
            changes.len(),
            COMMENT_LIMIT
        );
    }
    out
}

fn module_counts(items: &[&ResourceChangeDoc]) -> String {
    let (mut add, mut change, mut destroy, mut read) = (0, 0, 0, 0);
    for c in items {
        match c.action {
            Action::Create => add += 1,
            Action::Update => change += 1,
            Action::Delete => destroy += 1,
            Action::DeleteThenCreate | Action::CreateThenDelete => {
                add += 1;
                destroy += 1;
            }
            Action::Read => read += 1,
            Action::NoOp => {}
        }
    }
    let mut parts = vec![
        format!("{add} to add"),
        format!("{change} to change"),
        format!("{destroy} to destroy"),
    ];
    if read > 0 {
        parts.push(format!("{read} to read"));
    }
    parts.join(", ")
}

/// One change as a `diff` code block: a header line, then its attributes (created), the
/// ones that change (updated, replaced), or none (destroyed).
fn change_block(c: &ResourceChangeDoc) -> String {
    let verb = match c.action {
        Action::Create if c.imported_id.is_some() => "will be imported and created",
        Action::Create => "will be created",
        Action::Read => "will be read during apply",
        Action::Update => "will be updated in place",
        Action::DeleteThenCreate => "must be replaced (destroy, then create)",
        Action::CreateThenDelete => "must be replaced (create, then destroy)",
        Action::Delete => "will be destroyed",
        Action::NoOp => "has no changes",
    };
    let mut lines = vec![format!("# {} {verb}", c.address)];
    if let Some(from) = &c.moved_from {
        lines.push(format!("# (moved from {from})"));
    }
    if let Some(id) = &c.imported_id {
        lines.push(format!("# (imported from id {id})"));
    }
    if let Some(reason) = &c.reason {
        lines.push(format!("# ({reason})"));
    }
    if let Some(cost) = &c.cost {
        let what = cost.what.as_deref().unwrap_or("");
        if cost.usage_based {
            lines.push(format!("# cost: usage-based ({what})"));
        } else if cost.delta_hourly.abs() >= 0.005 {
            lines.push(format!(
                "# cost: {}/h ({}/month): {what}",
                usd_delta(cost.delta_hourly),
                usd_whole_delta(cost.delta_monthly)
            ));
        }
    }
    let before = c.before.as_ref().map(|v| leaves(v, c, false));
    let after = c.after.as_ref().map(|v| leaves(v, c, true));
    let mut attrs: Vec<(char, String, String, &str)> = Vec::new();
    match (c.action, before, after) {
        (Action::Delete, _, _) => {}
        (_, None, Some(after)) => {
            for (path, value) in after.into_iter().filter(|(_, v)| v != "null") {
                attrs.push(('+', path, value, ""));
            }
        }
        (_, Some(before), Some(after)) => {
            let paths: std::collections::BTreeSet<&String> =
                before.keys().chain(after.keys()).collect();
            for path in paths {
                let (old, new) = (before.get(path), after.get(path));
                if old == new {
                    continue;
                }
                let forces = if c
                    .replace_paths
                    .iter()
                    .any(|p| p == path || path.starts_with(&format!("{p}.")))
                {
                    " # forces replacement"
                } else {
                    ""
                };
                if let Some(old) = old.filter(|v| *v != "null") {
                    attrs.push(('-', path.clone(), old.clone(), forces));
                }
                if let Some(new) = new.filter(|v| *v != "null") {
                    attrs.push(('+', path.clone(), new.clone(), forces));
                }
            }
        }
        _ => {}
    }
    let width = attrs.iter().map(|a| a.1.chars().count()).max().unwrap_or(0);
    for (sign, path, value, forces) in attrs {
        lines.push(format!("{sign} {path:<width$} = {value}{forces}"));
    }
    let body = lines.join("\n");
    let fence = fence_for(&body);
    format!("{fence}diff\n{body}\n{fence}\n\n")
}

/// An object's leaves by dotted path, rendered: maps are walked, lists are whole values.
/// Sensitive and unknown values show as such, never as the null the document holds.
fn leaves(v: &J, c: &ResourceChangeDoc, after: bool) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    walk(v, String::new(), c, after, &mut out);
    out
}

fn walk(
    v: &J,
    path: String,
    c: &ResourceChangeDoc,
    after: bool,
    out: &mut BTreeMap<String, String>,
) {
    let covers = |paths: &[String]| {
        paths.iter().any(|p| {
            p.is_empty()
                || *p == path
                || p.starts_with(&format!("{path}."))
                || path.starts_with(&format!("{p}."))
        })
    };
    if !path.is_empty() && covers(&c.sensitive_paths) {
        out.insert(path, "(sensitive value)".to_owned());
        return;
    }
    if after && !path.is_empty() && covers(&c.after_unknown) {
        out.insert(path, "(known after apply)".to_owned());
        return;
    }
    match v {
        J::Object(map) if !map.is_empty() => {
            for (k, item) in map {
                let child = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                walk(item, child, c, after, out);
            }
        }
        other if !path.is_empty() => {
            out.insert(path, compact(other));
        }
        _ => {}
    }
}

fn refactoring_section(doc: &PlanDocument) -> String {
    if doc.moved.is_empty() && doc.forgotten.is_empty() && doc.imports.is_empty() {
        return String::new();
    }
    let mut out = String::from("### Moved, imported and forgotten\n\n");
    let mut lines: Vec<String> = Vec::new();
    lines.extend(
        doc.moved
            .iter()
            .map(|m| format!("- `{}` has moved to `{}`", cell(&m.from), cell(&m.to))),
    );
    lines.extend(doc.imports.iter().map(|i| {
        format!(
            "- `{}` will be imported (id `{}`)",
            cell(&i.address),
            cell(&i.id)
        )
    }));
    lines.extend(doc.forgotten.iter().map(|a| {
        format!(
            "- `{}` will no longer be managed by gantry (the object stays in the cloud)",
            cell(a)
        )
    }));
    for line in lines.iter().take(MAX_ROWS) {
        out.push_str(line);
        out.push('\n');
    }
    if lines.len() > MAX_ROWS {
        let _ = writeln!(out, "- …and {} more", lines.len() - MAX_ROWS);
    }
    out.push('\n');
    out
}

fn drift_section(doc: &PlanDocument) -> String {
    if doc.resource_drift.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "### Drift\n\nChanged outside gantry since the last apply (this plan puts the stack's configuration back):\n\n",
    );
    for d in doc.resource_drift.iter().take(MAX_ROWS) {
        if d.deleted {
            let _ = writeln!(out, "- `{}` was deleted", cell(&d.address));
            continue;
        }
        let probe = ResourceChangeDoc::probe(&d.sensitive_paths);
        let before = leaves(&d.before, &probe, false);
        let after = d
            .after
            .as_ref()
            .map(|a| leaves(a, &probe, false))
            .unwrap_or_default();
        let changed: Vec<String> = before
            .keys()
            .chain(after.keys())
            .filter(|k| before.get(*k) != after.get(*k))
            .map(|k| format!("`{}`", cell(k)))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        let _ = writeln!(
            out,
            "- `{}` changed: {}",
            cell(&d.address),
            if changed.is_empty() {
                "(no attribute differs)".to_owned()
            } else {
                changed.join(", ")
            }
        );
    }
    if doc.resource_drift.len() > MAX_ROWS {
        let _ = writeln!(out, "- …and {} more", doc.resource_drift.len() - MAX_ROWS);
    }
    out.push('\n');
    out
}

fn outputs_section(doc: &PlanDocument) -> String {
    let changed: Vec<_> = doc.outputs.iter().filter(|(_, o)| o.changed).collect();
    if changed.is_empty() {
        return String::new();
    }
    let mut out = String::from("### Outputs\n\n| Output | Value |\n|---|---|\n");
    for (name, o) in changed.iter().take(MAX_ROWS) {
        let value = if o.sensitive {
            "(sensitive value)".to_owned()
        } else if o.unknown {
            "(known after apply)".to_owned()
        } else {
            format!("`{}`", cell(&compact(&o.value)))
        };
        let _ = writeln!(out, "| `{}` | {value} |", cell(name));
    }
    if changed.len() > MAX_ROWS {
        let _ = writeln!(out, "\n…and {} more outputs.", changed.len() - MAX_ROWS);
    }
    out.push('\n');
    out
}

impl ResourceChangeDoc {
    fn mode_is_managed(&self) -> bool {
        self.mode == crate::state::ResourceMode::Managed
    }

    /// A stand-in that carries only sensitive paths, for rendering drift values.
    fn probe(sensitive_paths: &[String]) -> ResourceChangeDoc {
        ResourceChangeDoc {
            address: String::new(),
            module: String::new(),
            mode: crate::state::ResourceMode::Managed,
            type_name: String::new(),
            name: String::new(),
            provider: String::new(),
            action: Action::NoOp,
            reason: None,
            replace_paths: Vec::new(),
            moved_from: None,
            imported_id: None,
            before: None,
            after: None,
            after_unknown: Vec::new(),
            sensitive_paths: sensitive_paths.to_vec(),
            cost: None,
            failover: None,
        }
    }
}

/// Spends `text`'s length from `budget`; false (and nothing spent) when it does not fit.
fn take(budget: &mut usize, text: &str) -> bool {
    let n = text.chars().count();
    if n > *budget {
        return false;
    }
    *budget -= n;
    true
}

/// A value on one line: strings quoted, everything else as compact JSON.
fn compact(v: &J) -> String {
    v.to_string()
}

/// A code fence longer than any run of backticks in `body`, so values cannot close it.
fn fence_for(body: &str) -> String {
    let longest = body.split(|ch| ch != '`').map(str::len).max().unwrap_or(0);
    "`".repeat((longest + 1).max(3))
}

/// Text safe inside a table cell or inline code: no pipes or newlines, no backticks.
fn cell(text: &str) -> String {
    text.replace('|', "\\|")
        .replace(['\n', '\r'], " ")
        .replace('`', "'")
}

fn html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn number(n: f64) -> String {
    gantry_provider::value::format_number(n)
}

fn plural<'a>(n: usize, one: &'a str, many: &'a str) -> &'a str {
    if n == 1 {
        one
    } else {
        many
    }
}

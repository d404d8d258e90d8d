//! The state as people read it: `gantry show` without a plan file and `gantry state show`.

use crate::config::sensitive::mark_paths;
use crate::state::{ResourceState, State};
use gantry_provider::Value;
use std::fmt::Write;

/// One resource, Terraform-style; marked values print as `(sensitive value)`, however deep
/// they sit.
pub fn render_resource(r: &ResourceState) -> String {
    let tainted = if r.tainted { " (tainted)" } else { "" };
    let keyword = match r.mode {
        crate::state::ResourceMode::Managed => "resource",
        crate::state::ResourceMode::Data => "data",
    };
    let name = r
        .address
        .rsplit_once('.')
        .map_or(r.address.as_str(), |(_, n)| n);
    let name = name.split('[').next().unwrap_or(name);
    let mut text = format!(
        "# {}{tainted}:\n{keyword} \"{}\" \"{name}\" {{\n",
        r.address, r.type_name
    );
    let attrs = mark_paths(Value::from_json(&r.attributes), &r.sensitive_paths);
    if let Some(map) = attrs.as_map() {
        let width = map.keys().map(String::len).max().unwrap_or(0);
        for (k, v) in map {
            let _ = writeln!(text, "    {k:<width$} = {v}");
        }
    }
    text.push_str("}\n");
    text
}

/// Every resource of the state, then its outputs.
pub fn render_state(state: &State) -> String {
    if state.resources.is_empty() && state.outputs.is_empty() {
        return "The state is empty: nothing has been applied yet.\n".to_owned();
    }
    let mut resources: Vec<&ResourceState> = state.resources.values().collect();
    resources.sort_by(|a, b| a.address.cmp(&b.address));
    let mut out = String::new();
    for r in resources {
        out.push_str(&render_resource(r));
        out.push('\n');
    }
    if !state.outputs.is_empty() {
        out.push_str("Outputs:\n\n");
        for (name, o) in &state.outputs {
            let shown = if o.sensitive {
                "(sensitive value)".to_owned()
            } else {
                Value::from_json(&o.value).to_string()
            };
            let _ = writeln!(out, "{name} = {shown}");
        }
    }
    out
}

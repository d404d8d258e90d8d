//! Drawing the instance graph for `gantry graph`: Graphviz DOT or Mermaid. Arrows go from an
//! instance to what it depends on, as in `terraform graph`.

use super::instances::InstanceGraph;
use petgraph::visit::EdgeRef;
use std::fmt::Write;

/// Output format of `gantry graph`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    Dot,
    Mermaid,
}

pub fn render(g: &InstanceGraph, format: GraphFormat) -> String {
    match format {
        GraphFormat::Dot => dot(g),
        GraphFormat::Mermaid => mermaid(g),
    }
}

fn dot(g: &InstanceGraph) -> String {
    let (names, rank) = sorted_names(g, quote);
    let mut out = String::from("digraph gantry {\n  rankdir = \"RL\";\n  node [shape = box];\n");
    for n in &names {
        let _ = writeln!(out, "  {n};");
    }
    for (from, to) in sorted_edges(g, &rank) {
        let _ = writeln!(out, "  {} -> {};", names[from], names[to]);
    }
    out.push_str("}\n");
    out
}

fn mermaid(g: &InstanceGraph) -> String {
    let (names, rank) = sorted_names(g, |s| s.replace('"', "#quot;"));
    let mut out = String::from("graph RL\n");
    for (i, name) in names.iter().enumerate() {
        let _ = writeln!(out, "  n{i}[\"{name}\"]");
    }
    for (from, to) in sorted_edges(g, &rank) {
        let _ = writeln!(out, "  n{from} --> n{to}");
    }
    out
}

/// Node labels sorted by address, and each node's position in that order. Sorting once and
/// comparing positions keeps rendering fast on graphs with hundreds of thousands of edges.
fn sorted_names(g: &InstanceGraph, label: impl Fn(&str) -> String) -> (Vec<String>, Vec<usize>) {
    let mut order: Vec<(String, usize)> = g
        .graph
        .node_indices()
        .map(|i| (g.graph[i].to_string(), i.index()))
        .collect();
    order.sort();
    let mut rank = vec![0; order.len()];
    for (pos, (_, idx)) in order.iter().enumerate() {
        rank[*idx] = pos;
    }
    (
        order.into_iter().map(|(name, _)| label(&name)).collect(),
        rank,
    )
}

/// Edges as (dependent, dependency) positions, sorted.
fn sorted_edges(g: &InstanceGraph, rank: &[usize]) -> Vec<(usize, usize)> {
    let mut edges: Vec<(usize, usize)> = g
        .graph
        .edge_references()
        .map(|e| (rank[e.target().index()], rank[e.source().index()]))
        .collect();
    edges.sort_unstable();
    edges
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

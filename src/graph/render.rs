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
    let mut out = String::from("digraph gantry {\n  rankdir = \"RL\";\n  node [shape = box];\n");
    let mut nodes: Vec<String> = g
        .graph
        .node_weights()
        .map(|a| quote(&a.to_string()))
        .collect();
    nodes.sort();
    for n in &nodes {
        let _ = writeln!(out, "  {n};");
    }
    let mut edges: Vec<(String, String)> = g
        .graph
        .edge_references()
        .map(|e| {
            (
                g.graph[e.target()].to_string(),
                g.graph[e.source()].to_string(),
            )
        })
        .collect();
    edges.sort();
    for (from, to) in edges {
        let _ = writeln!(out, "  {} -> {};", quote(&from), quote(&to));
    }
    out.push_str("}\n");
    out
}

fn mermaid(g: &InstanceGraph) -> String {
    let mut out = String::from("graph RL\n");
    let mut ids: Vec<(String, usize)> = g
        .graph
        .node_indices()
        .map(|i| (g.graph[i].to_string(), i.index()))
        .collect();
    ids.sort();
    for (name, i) in &ids {
        let _ = writeln!(out, "  n{i}[\"{}\"]", name.replace('"', "#quot;"));
    }
    let mut edges: Vec<(usize, usize)> = g
        .graph
        .edge_references()
        .map(|e| (e.target().index(), e.source().index()))
        .collect();
    edges.sort_unstable();
    for (from, to) in edges {
        let _ = writeln!(out, "  n{from} --> n{to}");
    }
    out
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

//! Cycle detection: a cycle is reported as a path of addresses, each with the file and line
//! where it is declared.

use super::build::ConfigGraph;
use crate::diagnostics::{Diagnostic, SourceMap};
use petgraph::graph::NodeIndex;
use std::collections::HashSet;

/// Finds every cycle (one per strongly connected component) and reports it.
pub fn find_cycles(g: &ConfigGraph, sources: &SourceMap) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for scc in petgraph::algo::tarjan_scc(&g.graph) {
        let self_loop = scc.len() == 1 && g.graph.contains_edge(scc[0], scc[0]);
        if scc.len() < 2 && !self_loop {
            continue;
        }
        let members: HashSet<NodeIndex> = scc.iter().copied().collect();
        let start = scc
            .iter()
            .copied()
            .min_by_key(|i| g.graph[*i].to_string())
            .unwrap_or(scc[0]);
        let path = cycle_path(g, start, &members);
        out.push(report(g, sources, &path));
    }
    out
}

/// A path start -> ... -> start through the component, following dependents.
fn cycle_path(g: &ConfigGraph, start: NodeIndex, members: &HashSet<NodeIndex>) -> Vec<NodeIndex> {
    // Breadth-first search for the shortest way back to `start`.
    let mut prev: std::collections::HashMap<NodeIndex, NodeIndex> = Default::default();
    let mut queue = std::collections::VecDeque::from([start]);
    while let Some(n) = queue.pop_front() {
        let mut next: Vec<NodeIndex> = g
            .graph
            .neighbors(n)
            .filter(|m| members.contains(m))
            .collect();
        next.sort();
        for m in next {
            if m == start {
                let mut path = vec![start];
                let mut cur = n;
                while cur != start {
                    path.push(cur);
                    cur = prev.get(&cur).copied().unwrap_or(start);
                }
                path.push(start);
                // Built backwards from dependents: print as "x depends on y" order.
                return path;
            }
            if !prev.contains_key(&m) && m != start {
                prev.insert(m, n);
                queue.push_back(m);
            }
        }
    }
    vec![start, start]
}

fn report(g: &ConfigGraph, sources: &SourceMap, path: &[NodeIndex]) -> Diagnostic {
    let names: Vec<String> = path.iter().map(|i| g.graph[*i].to_string()).collect();
    let first_span = g.spans.get(&path[0]).copied();
    let mut detail = String::from("each object depends on the next one:");
    for i in path.iter().take(path.len().saturating_sub(1)) {
        let at = g
            .spans
            .get(i)
            .map(|s| sources.location(*s))
            .unwrap_or_default();
        detail.push_str(&format!("\n  {} ({at})", g.graph[*i]));
    }
    let mut d = Diagnostic::error("dependency cycle")
        .with_span_opt(first_span)
        .with_label(format!("cycle: {}", names.join(" -> ")))
        .with_detail(detail)
        .with_help("break the cycle by removing one of these references or `depends_on` entries");
    for i in path.iter().skip(1).take(path.len().saturating_sub(2)) {
        if let Some(span) = g.spans.get(i) {
            d = d.with_note(*span, format!("`{}` is part of the cycle", g.graph[*i]));
        }
    }
    d
}

//! The instance graph: one node per resource instance, an edge from each instance to every
//! instance it depends on (through references, locals, variables and module outputs). `gantry
//! graph` draws it.
//!
//! Plans, state and apply do not store those edges one by one: `count = N` depending on
//! `count = M` would be N x M of them. Each instance instead records the *groups* it depends
//! on ([`dependency_groups`]): "every instance of resource R within module instance P", named
//! by a string such as `module.net["a"].aws_subnet.private`. An instance belongs to one group
//! per enclosing module instance ([`groups_of`]), so the cost is linear in the stack's size.

use super::build::ConfigGraph;
use super::nodes::NodeKind;
use super::walk::Evaluation;
use crate::addrs::ResourceInstanceAddr;
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::HashMap;

/// Resource instances and their dependencies (edge: dependency -> dependent).
pub struct InstanceGraph {
    pub graph: DiGraph<ResourceInstanceAddr, ()>,
}

impl InstanceGraph {
    pub fn node_count(&self) -> usize {
        self.graph.node_count()
    }

    pub fn edge_count(&self) -> usize {
        self.graph.edge_count()
    }

    /// Addresses in an order where every instance comes after what it depends on.
    pub fn walk_order(&self) -> Vec<&ResourceInstanceAddr> {
        match petgraph::algo::toposort(&self.graph, None) {
            Ok(order) => order.into_iter().map(|i| &self.graph[i]).collect(),
            Err(_) => self.graph.node_weights().collect(),
        }
    }
}

pub fn build_instances(config: &ConfigGraph, ev: &Evaluation) -> InstanceGraph {
    let mut graph = DiGraph::with_capacity(ev.instances.len(), ev.instances.len());
    let nodes: Vec<NodeIndex> = ev
        .instances
        .iter()
        .map(|i| graph.add_node(i.addr.clone()))
        .collect();
    let resource_deps = resource_dependencies(config);
    for (cfg_idx, instance_ids) in &ev.instances_by_node {
        let Some(deps) = resource_deps.get(cfg_idx) else {
            continue;
        };
        for dep_cfg in deps {
            let Some(dep_ids) = ev.instances_by_node.get(dep_cfg) else {
                continue;
            };
            let common = common_prefix(
                &config.graph[*cfg_idx].module.0,
                &config.graph[*dep_cfg].module.0,
            );
            for &i in instance_ids {
                let me = &ev.instances[i].addr.module;
                let scope = me.prefix(common);
                for &j in dep_ids {
                    if ev.instances[j].addr.module.prefix(common) == scope {
                        graph.add_edge(nodes[j], nodes[i], ());
                    }
                }
            }
        }
    }
    InstanceGraph { graph }
}

/// For each instance of the evaluation (by index), the dependency groups it depends on.
pub fn dependency_groups(config: &ConfigGraph, ev: &Evaluation) -> Vec<Vec<String>> {
    let mut out = vec![Vec::new(); ev.instances.len()];
    let resource_deps = resource_dependencies(config);
    for (cfg_idx, instance_ids) in &ev.instances_by_node {
        let Some(deps) = resource_deps.get(cfg_idx) else {
            continue;
        };
        for dep_cfg in deps {
            let NodeKind::Resource(dep_addr) = &config.graph[*dep_cfg].kind else {
                continue;
            };
            let dep_path = &config.graph[*dep_cfg].module.0;
            let common = common_prefix(&config.graph[*cfg_idx].module.0, dep_path);
            for &i in instance_ids {
                let scope = ev.instances[i].addr.module.prefix(common);
                out[i].push(group_key(&scope, &dep_path[common..], dep_addr));
            }
        }
    }
    for groups in &mut out {
        groups.sort_unstable();
        groups.dedup();
    }
    out
}

/// The group "every instance of `resource` in module `rest` (names, below `scope`) within
/// module instance `scope`".
pub fn group_key(
    scope: &crate::addrs::ModuleInstance,
    rest: &[String],
    resource: &crate::addrs::ResourceAddr,
) -> String {
    let mut key = scope.to_string();
    for name in rest {
        if !key.is_empty() {
            key.push('.');
        }
        key.push_str("module.");
        key.push_str(name);
    }
    if !key.is_empty() {
        key.push('.');
    }
    key.push_str(&resource.to_string());
    key
}

/// Every dependency group `addr` belongs to: one per enclosing module instance, outermost
/// first.
pub fn groups_of(addr: &ResourceInstanceAddr) -> Vec<String> {
    let names: Vec<String> = addr.module.0.iter().map(|s| s.name.clone()).collect();
    (0..=names.len())
        .map(|common| {
            group_key(
                &addr.module.prefix(common),
                &names[common..],
                &addr.resource,
            )
        })
        .collect()
}

fn common_prefix(a: &[String], b: &[String]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

/// For each resource node: the resource nodes it depends on, looking through variables,
/// locals, outputs and module calls.
fn resource_dependencies(config: &ConfigGraph) -> HashMap<NodeIndex, Vec<NodeIndex>> {
    let Ok(order) = petgraph::algo::toposort(&config.graph, None) else {
        return HashMap::new();
    };
    // For non-resource nodes: the resources reachable upstream without crossing a resource.
    let mut through: HashMap<NodeIndex, Vec<NodeIndex>> = HashMap::new();
    let mut out = HashMap::new();
    for n in order {
        let mut deps = Vec::new();
        for d in config
            .graph
            .neighbors_directed(n, petgraph::Direction::Incoming)
        {
            if matches!(config.graph[d].kind, NodeKind::Resource(_)) {
                deps.push(d);
            } else if let Some(t) = through.get(&d) {
                deps.extend_from_slice(t);
            }
        }
        deps.sort_unstable();
        deps.dedup();
        if matches!(config.graph[n].kind, NodeKind::Resource(_)) {
            out.insert(n, deps);
        } else {
            through.insert(n, deps);
        }
    }
    out
}

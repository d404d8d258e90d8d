//! The apply graph: which step of which change waits for which, as Terraform orders them.
//!
//! Every change becomes one or two *steps*: an apply step (create, update or read) and/or a
//! delete step. A replacement is split in two: delete-then-create deletes the old object
//! first (after the objects that depend on it are deleted), then creates the new one;
//! create-before-destroy creates the new object first, lets its dependants switch to it, then
//! deletes the old one. The rules, for A depending on B:
//!
//! 1. A's apply step waits for B's apply step (A is configured from B's new attributes).
//! 2. B's delete step waits for A's delete step (dependants go first), using the
//!    dependencies A had when it was last applied (state), since those still hold.
//! 3. When B is deleted for good or replaced create-before-destroy, B's delete step also
//!    waits for A's apply step: A stops using the old B before it goes. (Not for
//!    delete-then-create, where A needs the *new* B: that would be a cycle; a dependant
//!    updated in place then meets the old B's delete, and the failure says so.)
//!
//! Dependencies are groups of instances ([`crate::graph::instances`]), so the graph gets one
//! barrier node per group used instead of an edge per pair of instances: linear in the
//! plan's size however `count`s multiply.

use crate::addrs::parse_resource_instance;
use crate::graph::instances::groups_of;
use crate::plan::{Action, ResourceChange};
use std::collections::HashMap;

/// What a step does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Create (or the create of a replacement), update, or read a data source.
    Apply,
    /// Delete (or the delete of a replacement: the old or deposed object).
    Delete,
}

/// A node of the apply graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    /// One step of the change with this index (into the changes given to [`schedule`]).
    Step { change: usize, phase: Phase },
    /// Done when everything it waits for is done; does nothing itself.
    Barrier,
}

/// The apply graph of a plan.
#[derive(Debug, Default)]
pub struct Schedule {
    pub nodes: Vec<Node>,
    /// For each node, the nodes that wait for it.
    pub dependents: Vec<Vec<usize>>,
    /// For each node, how many nodes it waits for.
    pub waits_for: Vec<usize>,
    /// For each change, its steps.
    pub steps: Vec<Vec<usize>>,
}

/// The address a change's delete step removes, with deposed objects resolved to the address
/// whose dependency groups they still belong to.
fn base_address(address: &str) -> &str {
    crate::plan::deposed::base_of(address)
}

#[derive(Default)]
struct Builder {
    schedule: Schedule,
    edges: Vec<(usize, usize)>,
    barriers: HashMap<(u8, String), usize>,
}

impl Builder {
    fn node(&mut self, node: Node) -> usize {
        self.schedule.nodes.push(node);
        self.schedule.nodes.len() - 1
    }

    fn edge(&mut self, from: usize, to: usize) {
        self.edges.push((from, to));
    }

    fn barrier(&mut self, kind: u8, key: &str) -> usize {
        if let Some(&b) = self.barriers.get(&(kind, key.to_owned())) {
            return b;
        }
        let b = self.node(Node::Barrier);
        self.barriers.insert((kind, key.to_owned()), b);
        b
    }
}

const APPLIED: u8 = 0;
const DEPENDANTS_DELETED: u8 = 1;
const DEPENDANTS_APPLIED: u8 = 2;

/// Builds the apply graph of `changes` (no-ops excluded by the caller). Fails, naming the
/// addresses involved, if the steps cannot be ordered at all.
pub fn schedule(changes: &[&ResourceChange]) -> Result<Schedule, Vec<String>> {
    let mut b = Builder::default();
    let mut apply_step = vec![None; changes.len()];
    let mut delete_step = vec![None; changes.len()];
    for (i, c) in changes.iter().enumerate() {
        let apply = || Node::Step {
            change: i,
            phase: Phase::Apply,
        };
        let delete = || Node::Step {
            change: i,
            phase: Phase::Delete,
        };
        let steps = match c.action {
            Action::NoOp => Vec::new(),
            Action::Create | Action::Update | Action::Read => vec![b.node(apply())],
            Action::Delete => vec![b.node(delete())],
            Action::DeleteThenCreate => {
                let (d, a) = (b.node(delete()), b.node(apply()));
                b.edge(d, a);
                vec![d, a]
            }
            Action::CreateThenDelete => {
                let (a, d) = (b.node(apply()), b.node(delete()));
                b.edge(a, d);
                vec![a, d]
            }
        };
        for &s in &steps {
            match b.schedule.nodes[s] {
                Node::Step {
                    phase: Phase::Apply,
                    ..
                } => apply_step[i] = Some(s),
                _ => delete_step[i] = Some(s),
            }
        }
        b.schedule.steps.push(steps);
    }

    // The groups each change belongs to (its own address too, for dependencies recorded as
    // instance addresses by older versions).
    let groups: Vec<Vec<String>> = changes
        .iter()
        .map(|c| {
            let base = base_address(&c.address);
            let mut g = parse_resource_instance(base)
                .map(|a| groups_of(&a))
                .unwrap_or_default();
            if !g.iter().any(|k| k == base) {
                g.push(base.to_owned());
            }
            g
        })
        .collect();

    // Rule 1: apply steps wait for the apply steps of the groups they depend on.
    for (i, c) in changes.iter().enumerate() {
        let Some(a) = apply_step[i] else { continue };
        for key in &c.dependencies {
            let barrier = b.barrier(APPLIED, key);
            b.edge(barrier, a);
        }
    }
    // Rules 2 and 3, from the dependants' side: their steps gate the groups they used.
    for (i, c) in changes.iter().enumerate() {
        for key in &c.prior_dependencies {
            if let Some(d) = delete_step[i] {
                let barrier = b.barrier(DEPENDANTS_DELETED, key);
                b.edge(d, barrier);
            }
            if let Some(a) = apply_step[i] {
                let barrier = b.barrier(DEPENDANTS_APPLIED, key);
                b.edge(a, barrier);
            }
        }
        // Under create-before-destroy a dependant also moves to the new object before the
        // old one goes, whether or not it used the old one.
        if let Some(a) = apply_step[i] {
            for key in &c.dependencies {
                if !c.prior_dependencies.contains(key) {
                    let barrier = b.barrier(DEPENDANTS_APPLIED, key);
                    b.edge(a, barrier);
                }
            }
        }
    }
    for (i, c) in changes.iter().enumerate() {
        if let Some(a) = apply_step[i] {
            for key in &groups[i] {
                if let Some(&barrier) = b.barriers.get(&(APPLIED, key.clone())) {
                    b.edge(a, barrier);
                }
            }
        }
        let Some(d) = delete_step[i] else { continue };
        for key in &groups[i] {
            if let Some(&barrier) = b.barriers.get(&(DEPENDANTS_DELETED, key.clone())) {
                b.edge(barrier, d);
            }
            let switches_first = matches!(c.action, Action::Delete | Action::CreateThenDelete);
            if switches_first {
                if let Some(&barrier) = b.barriers.get(&(DEPENDANTS_APPLIED, key.clone())) {
                    b.edge(barrier, d);
                }
            }
        }
    }
    let mut edges = std::mem::take(&mut b.edges);
    edges.sort_unstable();
    edges.dedup();
    let n = b.schedule.nodes.len();
    let mut sched = b.schedule;
    sched.dependents = vec![Vec::new(); n];
    sched.waits_for = vec![0; n];
    for (from, to) in edges {
        sched.dependents[from].push(to);
        sched.waits_for[to] += 1;
    }
    check_acyclic(&sched, changes)?;
    Ok(sched)
}

/// Kahn's algorithm: every node must be reachable in order. The addresses of the changes left
/// over are the cycle's.
fn check_acyclic(sched: &Schedule, changes: &[&ResourceChange]) -> Result<(), Vec<String>> {
    let mut waits = sched.waits_for.clone();
    let mut ready: Vec<usize> = (0..waits.len()).filter(|&i| waits[i] == 0).collect();
    let mut done = 0;
    while let Some(n) = ready.pop() {
        done += 1;
        for &d in &sched.dependents[n] {
            waits[d] -= 1;
            if waits[d] == 0 {
                ready.push(d);
            }
        }
    }
    if done == waits.len() {
        return Ok(());
    }
    let mut stuck: Vec<String> = (0..waits.len())
        .filter(|&i| waits[i] > 0)
        .filter_map(|i| match sched.nodes[i] {
            Node::Step { change, .. } => Some(changes[change].address.clone()),
            Node::Barrier => None,
        })
        .collect();
    stuck.sort();
    stuck.dedup();
    Err(stuck)
}

//! `moved` and `removed` blocks, as Terraform has them: a stack is refactored (a resource
//! renamed, moved into a module, `count` turned into `for_each`) without destroying what
//! state tracks, and a resource is let go of without being destroyed.
//!
//! Both are state edits that touch no cloud. A plan works on a copy of state with them
//! applied ([`resolve`]) and lists them; apply journals each instance move (one atomic
//! `moved` record) and each forgotten instance before any operation, so a crash can never
//! leave an object tracked at neither address.
//!
//! Endpoints are relative to the module that declares the block, and apply to every
//! instance of that module. Terraform's rules hold: both ends of a move name the same kind
//! of object (and resources the same type); an unkeyed end facing a keyed one means the
//! single unkeyed instance (`aws_vpc.a` -> `aws_vpc.a[0]` when adding `count`); both
//! unkeyed move every instance; `to` must be declared, `from` must not be (unless only the
//! key changes); chains (`a` -> `b`, `b` -> `c`) follow through; cycles are errors; a move
//! whose destination is already tracked is an error, never a silent skip.

use crate::addrs::{
    parse_resource_instance, InstanceKey, ModuleInstance, ModulePath, ModuleStep, MoveEndpoint,
    MoveTarget, ResourceInstanceAddr, ResourceMode,
};
use crate::config::load::Stack;
use crate::config::model::{Moved, Removed};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::state::State;
use std::collections::{BTreeMap, BTreeSet};

/// What the stack's `moved` and `removed` blocks do to one state.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Refactoring {
    /// Instance moves, `(from, to)`, in the order they apply (a chain is one move).
    pub moved: Vec<(String, String)>,
    /// Instances forgotten by `removed { lifecycle { destroy = false } }`.
    pub forgotten: Vec<String>,
    /// Instances (at their new addresses) whose recorded dependencies name moved
    /// resources, with the dependencies renamed.
    pub dependencies: Vec<(String, Vec<String>)>,
}

impl Refactoring {
    pub fn is_empty(&self) -> bool {
        self.moved.is_empty() && self.forgotten.is_empty()
    }

    /// Where an instance tracked at `address` before the moves is tracked after them.
    pub fn new_address<'a>(&'a self, address: &'a str) -> &'a str {
        self.moved
            .iter()
            .find(|(from, _)| from == address)
            .map_or(address, |(_, to)| to.as_str())
    }
}

/// Checks that need only the configuration, so `validate` reports them too.
pub fn check(stack: &Stack) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for (path, module) in &stack.modules {
        for m in &module.moved {
            check_move(stack, path, m, &mut diags);
        }
        check_cycles(&module.moved, &mut diags);
        for r in &module.removed {
            check_removed(stack, path, r, &mut diags);
        }
    }
    diags
}

fn check_move(stack: &Stack, path: &ModulePath, m: &Moved, diags: &mut Diagnostics) {
    let (from, to) = (&m.from, &m.to);
    match (&from.target, &to.target) {
        (MoveTarget::Resource(a), MoveTarget::Resource(b)) if a.type_name != b.type_name => {
            diags.push(
                Diagnostic::error("a move cannot change the resource type")
                    .with_span(m.to_span)
                    .with_label(format!("`{}` is not a `{}`", to, a.type_name))
                    .with_help("move between resources of one type; for another type, remove the old one and import the object into the new"),
            );
            return;
        }
        (MoveTarget::Resource(_), MoveTarget::Module(_))
        | (MoveTarget::Module(_), MoveTarget::Resource(_)) => {
            diags.push(
                Diagnostic::error("a move goes from a resource to a resource, or a module to a module")
                    .with_span(m.span)
                    .with_label(format!("`{from}` and `{to}` are different kinds of object"))
                    .with_help("to move a resource into a module, name it inside the module: `to = module.net.aws_vpc.main`"),
            );
            return;
        }
        _ => {}
    }
    if from == to {
        diags.push(
            Diagnostic::error("a move to the same address")
                .with_span(m.span)
                .with_label("`from` and `to` are the same")
                .with_help("delete the block, or name where the object went"),
        );
        return;
    }
    if !declared(stack, path, to) {
        diags.push(
            Diagnostic::error(format!("the destination `{to}` is not declared"))
                .with_span(m.to_span)
                .with_label("no such resource or module in the configuration")
                .with_help(
                    "a `moved` block's `to` names a block of the stack; add it, or fix the address",
                ),
        );
    }
    if from.unkeyed() != to.unkeyed() && declared(stack, path, from) {
        diags.push(
            Diagnostic::error(format!("`{}` is still declared", from.unkeyed()))
                .with_span(m.from_span)
                .with_label("a moved object's old block must be gone")
                .with_help(
                    "delete the old block; the move then keeps its objects at the new address",
                ),
        );
    }
}

fn check_removed(stack: &Stack, path: &ModulePath, r: &Removed, diags: &mut Diagnostics) {
    if r.from.key.is_some() {
        diags.push(
            Diagnostic::error("a `removed` block names a whole resource or module")
                .with_span(r.from_span)
                .with_label("no instance key here")
                .with_help(format!("write `from = {}`", r.from.unkeyed())),
        );
        return;
    }
    if declared(stack, path, &r.from) {
        diags.push(
            Diagnostic::error(format!("`{}` is still declared", r.from))
                .with_span(r.from_span)
                .with_label("a removed object's block must be gone")
                .with_help("delete its block as well; `removed` says what becomes of its objects"),
        );
    }
}

/// Cycles among one module's moves (`a` -> `b`, `b` -> `a`) have no meaning.
fn check_cycles(moves: &[Moved], diags: &mut Diagnostics) {
    let next: BTreeMap<String, (String, &Moved)> = moves
        .iter()
        .map(|m| (m.from.to_string(), (m.to.to_string(), m)))
        .collect();
    let mut reported = BTreeSet::new();
    for m in moves {
        let start = m.from.to_string();
        let mut at = m.to.to_string();
        let mut seen = vec![start.clone()];
        while let Some((to, _)) = next.get(&at) {
            if at == start {
                break;
            }
            seen.push(at.clone());
            at = to.clone();
            if seen.len() > moves.len() {
                break;
            }
        }
        if at == start {
            let mut members = seen.clone();
            members.sort();
            if reported.insert(members) {
                diags.push(
                    Diagnostic::error("`moved` blocks form a cycle")
                        .with_span(m.span)
                        .with_label(format!("{} -> {start}", seen.join(" -> ")))
                        .with_help("a chain of moves must end somewhere; delete the block that closes the loop"),
                );
            }
        }
    }
}

/// Whether the module at `path` declares what `endpoint` names.
fn declared(stack: &Stack, path: &ModulePath, endpoint: &MoveEndpoint) -> bool {
    let mut module_path = path.clone();
    for step in &endpoint.module.0 {
        module_path = module_path.child(&step.name);
    }
    let Some(module) = stack.module(&module_path) else {
        return false;
    };
    match &endpoint.target {
        MoveTarget::Resource(addr) => module.resources.contains_key(addr),
        MoveTarget::Module(name) => module.module_calls.contains_key(name),
    }
}

/// Applies the stack's `moved` and `removed` blocks to a copy of `state`. Errors (a
/// destination already tracked) leave the copy unchanged at that move.
pub fn resolve(stack: &Stack, state: &State) -> (State, Refactoring, Diagnostics) {
    let mut diags = Diagnostics::new();
    let mut out = state.clone();
    let mut refactoring = Refactoring::default();
    let statements: Vec<(&ModulePath, &Moved)> = stack
        .modules
        .iter()
        .flat_map(|(path, m)| m.moved.iter().map(move |mv| (path, mv)))
        .collect();
    // Where each instance tracked now ends up, following chains: a pass moves what a
    // statement's `from` matches; passes repeat until nothing moves (a chain of n moves
    // settles in n passes; cycles were refused by `check`).
    let mut current: BTreeMap<String, String> = BTreeMap::new(); // now -> originally
    for _ in 0..=statements.len() {
        let mut changed = false;
        for (path, m) in &statements {
            let moves: Vec<(String, String)> = out
                .resources
                .keys()
                .filter_map(|address| {
                    let addr = parse_resource_instance(address).ok()?;
                    let to = move_instance(path, m, &addr)?;
                    Some((address.clone(), to.to_string()))
                })
                .collect();
            for (from, to) in moves {
                if out.resources.contains_key(&to) {
                    continue; // reported after the passes if it stays in the way
                }
                let Some(mut resource) = out.resources.remove(&from) else {
                    continue;
                };
                resource.address.clone_from(&to);
                out.resources.insert(to.clone(), resource);
                let original = current.remove(&from).unwrap_or_else(|| from.clone());
                current.insert(to, original);
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    // A move whose source and destination are both still tracked could not be made.
    for (path, m) in &statements {
        for address in out.resources.keys() {
            let Some(to) = parse_resource_instance(address)
                .ok()
                .and_then(|a| move_instance(path, m, &a))
            else {
                continue;
            };
            let to = to.to_string();
            if out.resources.contains_key(&to) {
                diags.push(
                    Diagnostic::error(format!("cannot move `{address}` to `{to}`: both are tracked"))
                        .with_span(m.span)
                        .with_label("the destination already has an object")
                        .with_help(format!("decide which object to keep: `gantry state rm '{to}'` forgets the one at the destination (it stays in the cloud), or delete this block")),
                );
            }
        }
    }
    let mut moved: Vec<(String, String)> = current
        .into_iter()
        .filter(|(now, original)| now != original)
        .map(|(now, original)| (original, now))
        .collect();
    moved.sort();
    refactoring.dependencies = rewrite_dependencies(&mut out, &statements);
    refactoring.moved = moved;

    for (path, module) in &stack.modules {
        for r in module.removed.iter().filter(|r| !r.destroy) {
            let forgotten: Vec<String> = out
                .resources
                .keys()
                .filter(|address| {
                    parse_resource_instance(address)
                        .ok()
                        .and_then(|a| module_instance_of(path, &a).map(|prefix| (prefix, a)))
                        .is_some_and(|(prefix, a)| {
                            endpoint_matches(&r.from, prefix, &a, true).is_some()
                        })
                })
                .cloned()
                .collect();
            for address in forgotten {
                out.resources.remove(&address);
                refactoring.forgotten.push(address);
            }
        }
    }
    refactoring.forgotten.sort();
    (out, refactoring, diags)
}

/// The module instance (of the block's module `path`) that `addr` lies in, as its number of
/// leading steps, when `addr` lies in an instance of that module.
fn module_instance_of(path: &ModulePath, addr: &ResourceInstanceAddr) -> Option<usize> {
    let steps = &addr.module.0;
    (steps.len() >= path.0.len()
        && steps
            .iter()
            .zip(&path.0)
            .all(|(step, name)| &step.name == name))
    .then_some(path.0.len())
}

/// Where `moved` block `m` (declared in module `path`) sends instance `addr`, if it
/// matches it.
fn move_instance(
    path: &ModulePath,
    m: &Moved,
    addr: &ResourceInstanceAddr,
) -> Option<ResourceInstanceAddr> {
    let prefix = module_instance_of(path, addr)?;
    let whole = m.from.key.is_none() && m.to.key.is_none();
    let key = endpoint_matches(&m.from, prefix, addr, whole)?;
    let base: Vec<ModuleStep> = addr.module.0[..prefix].to_vec();
    let mut module = base;
    module.extend(m.to.module.0.iter().cloned());
    match (&m.from.target, &m.to.target) {
        (MoveTarget::Resource(_), MoveTarget::Resource(to)) => {
            let key = if whole {
                key
            } else {
                m.to.key.clone().unwrap_or(InstanceKey::None)
            };
            Some(ResourceInstanceAddr {
                module: ModuleInstance(module),
                resource: to.clone(),
                key,
            })
        }
        (MoveTarget::Module(_), MoveTarget::Module(to)) => {
            let key = if whole {
                key
            } else {
                m.to.key.clone().unwrap_or(InstanceKey::None)
            };
            module.push(ModuleStep {
                name: to.clone(),
                key,
            });
            let depth = prefix + m.from.module.0.len() + 1;
            module.extend(addr.module.0[depth..].iter().cloned());
            Some(ResourceInstanceAddr {
                module: ModuleInstance(module),
                resource: addr.resource.clone(),
                key: addr.key.clone(),
            })
        }
        _ => None,
    }
}

/// Whether `endpoint` (relative to the module instance made of `addr`'s first `prefix`
/// steps) names `addr`; returns the key it matched (the instance's key for a resource, the
/// module instance's key for a module). `whole`: an unkeyed endpoint matches every key;
/// otherwise an unkeyed endpoint matches only the unkeyed instance.
fn endpoint_matches(
    endpoint: &MoveEndpoint,
    prefix: usize,
    addr: &ResourceInstanceAddr,
    whole: bool,
) -> Option<InstanceKey> {
    let rest = &addr.module.0[prefix..];
    let key_ok = |key: &InstanceKey| match &endpoint.key {
        Some(k) => k == key,
        None => whole || *key == InstanceKey::None,
    };
    match &endpoint.target {
        MoveTarget::Resource(resource) => (addr.resource.mode == ResourceMode::Managed
            && rest == endpoint.module.0.as_slice()
            && &addr.resource == resource
            && key_ok(&addr.key))
        .then(|| addr.key.clone()),
        MoveTarget::Module(name) => {
            let n = endpoint.module.0.len();
            let step = rest.get(n)?;
            (rest[..n] == endpoint.module.0[..] && &step.name == name && key_ok(&step.key))
                .then(|| step.key.clone())
        }
    }
}

/// Recorded dependencies name resources (`module.x.aws_vpc.a`); a move of every instance of
/// a resource or module renames them too, so orphans are still destroyed in order. Returns
/// the instances whose dependencies changed, with their new ones.
fn rewrite_dependencies(
    state: &mut State,
    statements: &[(&ModulePath, &Moved)],
) -> Vec<(String, Vec<String>)> {
    let whole: Vec<&(&ModulePath, &Moved)> = statements
        .iter()
        .filter(|(_, m)| m.from.key.is_none() && m.to.key.is_none())
        .collect();
    let mut changed = Vec::new();
    if whole.is_empty() {
        return changed;
    }
    for resource in state.resources.values_mut() {
        let before = resource.dependencies.clone();
        for dep in &mut resource.dependencies {
            for _ in 0..=whole.len() {
                let Some(new) = parse_resource_instance(dep).ok().and_then(|addr| {
                    whole
                        .iter()
                        .find_map(|(path, m)| move_instance(path, m, &addr))
                }) else {
                    break;
                };
                *dep = new.to_string();
            }
        }
        if resource.dependencies != before {
            changed.push((resource.address.clone(), resource.dependencies.clone()));
        }
    }
    changed
}

#[cfg(test)]
mod tests;

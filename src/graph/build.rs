//! Building the configuration graph: one node per declared object in every module, one edge
//! per reference or `depends_on` (dependency -> dependent). A module output depends only on
//! what it references, so a consumer of `module.net.vpc_id` waits for the VPC, not for the
//! whole module. Undeclared references are reported here, once per expression.

use super::nodes::{ConfigNode, NodeKind};
use crate::addrs::{ModulePath, ResourceAddr, ResourceMode};
use crate::config::eval::{references, Subject};
use crate::config::load::Stack;
use crate::config::model::{BlockItem, BodyConfig, Expr, Module};
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, Span};
use petgraph::graph::{DiGraph, NodeIndex};
use std::collections::HashMap;

/// The configuration graph.
pub struct ConfigGraph {
    pub graph: DiGraph<ConfigNode, ()>,
    pub index: HashMap<ConfigNode, NodeIndex>,
    /// Where each node is declared, for cycle reports.
    pub spans: HashMap<NodeIndex, Span>,
}

impl ConfigGraph {
    pub fn node(&self, n: &ConfigNode) -> Option<NodeIndex> {
        self.index.get(n).copied()
    }
}

/// Which meta-variables an expression may use.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Repetition {
    None,
    Count,
    ForEach,
}

pub fn build(stack: &Stack, diags: &mut Diagnostics) -> ConfigGraph {
    let mut g = ConfigGraph {
        graph: DiGraph::new(),
        index: HashMap::new(),
        spans: HashMap::new(),
    };
    // Step 1: a node for every object.
    for (path, module) in &stack.modules {
        for (name, v) in &module.variables {
            add(&mut g, path, NodeKind::Var(name.clone()), v.span);
        }
        for (name, l) in &module.locals {
            add(&mut g, path, NodeKind::Local(name.clone()), l.span);
        }
        for (name, o) in &module.outputs {
            add(&mut g, path, NodeKind::Output(name.clone()), o.span);
        }
        for (addr, r) in &module.resources {
            add(&mut g, path, NodeKind::Resource(addr.clone()), r.span);
        }
        for (name, c) in &module.module_calls {
            if stack.modules.contains_key(&path.child(name)) {
                add(&mut g, path, NodeKind::ModuleCall(name.clone()), c.span);
            }
        }
        for p in &module.providers {
            add(&mut g, path, NodeKind::Provider(p.key()), p.span);
        }
    }
    // Step 2: edges from references, per kind of object.
    for (path, module) in &stack.modules {
        let mut b = EdgeBuilder {
            stack,
            g: &mut g,
            path,
            module,
            diags,
            allow_self: false,
        };
        b.module_edges();
    }
    g
}

fn add(g: &mut ConfigGraph, path: &ModulePath, kind: NodeKind, span: Span) -> NodeIndex {
    let node = ConfigNode::new(path, kind);
    let idx = g.graph.add_node(node.clone());
    g.index.insert(node, idx);
    g.spans.insert(idx, span);
    idx
}

struct EdgeBuilder<'a> {
    stack: &'a Stack,
    g: &'a mut ConfigGraph,
    path: &'a ModulePath,
    module: &'a Module,
    diags: &'a mut Diagnostics,
    /// References are being read from a postcondition, where `self` is valid.
    allow_self: bool,
}

impl EdgeBuilder<'_> {
    fn idx(&self, kind: NodeKind) -> Option<NodeIndex> {
        self.g.node(&ConfigNode::new(self.path, kind))
    }

    fn module_edges(&mut self) {
        let module = self.module;
        // Every object of a child module waits for the call that expands it.
        let expander = self.path.parent().and_then(|(parent, name)| {
            self.g.node(&ConfigNode::new(
                &parent,
                NodeKind::ModuleCall(name.to_owned()),
            ))
        });
        let own_nodes: Vec<NodeIndex> = self
            .g
            .index
            .iter()
            .filter(|(n, _)| &n.module == self.path)
            .map(|(_, i)| *i)
            .collect();
        if let Some(exp) = expander {
            for n in own_nodes {
                self.g.graph.update_edge(exp, n, ());
            }
        }
        for (name, v) in &module.variables {
            let Some(me) = self.idx(NodeKind::Var(name.clone())) else {
                continue;
            };
            if let Some(d) = &v.default {
                self.expr_edges(me, d, &[], Repetition::None);
            }
            for val in &v.validations {
                self.expr_edges_allowing(me, &val.condition, name);
                self.expr_edges_allowing(me, &val.error_message, name);
            }
        }
        for (name, l) in &module.locals {
            let Some(me) = self.idx(NodeKind::Local(name.clone())) else {
                continue;
            };
            self.expr_edges(me, &l.value, &[], Repetition::None);
        }
        for (name, o) in &module.outputs {
            let Some(me) = self.idx(NodeKind::Output(name.clone())) else {
                continue;
            };
            self.expr_edges(me, &o.value, &[], Repetition::None);
            for d in &o.depends_on {
                self.depends_on_edges(me, d);
            }
            for c in &o.preconditions {
                self.expr_edges(me, &c.condition, &[], Repetition::None);
                self.expr_edges(me, &c.error_message, &[], Repetition::None);
            }
        }
        for (addr, r) in &module.resources {
            let Some(me) = self.idx(NodeKind::Resource(addr.clone())) else {
                continue;
            };
            let rep = repetition(r.count.is_some(), r.for_each.is_some());
            for e in r.count.iter().chain(r.for_each.iter()) {
                self.expr_edges(me, e, &[], Repetition::None);
            }
            self.body_edges(me, &r.body, &mut Vec::new(), rep);
            if let Some(f) = &r.failover {
                for alt in &f.alternatives {
                    self.body_edges(me, &alt.body, &mut Vec::new(), rep);
                    if let Some(p) = &alt.provider {
                        self.check_provider_ref(p);
                    }
                }
                if let Some(e) = &f.alternatives_expr {
                    self.expr_edges(me, e, &[], rep);
                }
            }
            for d in &r.depends_on {
                self.depends_on_edges(me, d);
            }
            for c in &r.lifecycle.preconditions {
                self.expr_edges(me, &c.condition, &[], rep);
                self.expr_edges(me, &c.error_message, &[], rep);
            }
            self.allow_self = true;
            for c in &r.lifecycle.postconditions {
                self.expr_edges(me, &c.condition, &[], rep);
                self.expr_edges(me, &c.error_message, &[], rep);
            }
            self.allow_self = false;
            if let Some(p) = &r.provider {
                self.check_provider_ref(p);
            }
        }
        for p in &module.providers {
            let Some(me) = self.idx(NodeKind::Provider(p.key())) else {
                continue;
            };
            self.body_edges(me, &p.body, &mut Vec::new(), Repetition::None);
        }
        // Check assertions have no node (they are evaluated after everything else), but
        // what they name must exist.
        for check in &module.checks {
            for a in &check.asserts {
                self.resolve_refs(&a.condition, &[], Repetition::None);
                self.resolve_refs(&a.error_message, &[], Repetition::None);
            }
        }
        for (name, call) in &module.module_calls {
            let Some(me) = self.idx(NodeKind::ModuleCall(name.clone())) else {
                continue;
            };
            for e in call.count.iter().chain(call.for_each.iter()) {
                self.expr_edges(me, e, &[], Repetition::None);
            }
            for d in &call.depends_on {
                self.depends_on_edges(me, d);
            }
            self.call_input_edges(name, call, me);
        }
    }

    /// `provider = aws.west` must name a configuration declared here or passed in by the
    /// parent's `providers = { ... }`.
    fn check_provider_ref(&mut self, p: &crate::config::model::ProviderRef) {
        if p.alias.is_none() {
            return;
        }
        let declared = self
            .module
            .providers
            .iter()
            .any(|c| c.name == p.name && c.alias == p.alias);
        let passed = self.path.parent().is_some_and(|(parent, name)| {
            self.stack
                .module(&parent)
                .and_then(|m| m.module_calls.get(name))
                .is_some_and(|call| {
                    call.providers
                        .iter()
                        .any(|(child, _)| child.name == p.name && child.alias == p.alias)
                })
        });
        if !declared && !passed {
            let alias = p.alias.clone().unwrap_or_default();
            self.diags.push(
                Diagnostic::error(format!(
                    "reference to undeclared provider configuration `{}.{alias}`",
                    p.name
                ))
                .with_span(p.span)
                .with_label("no provider configuration with this alias")
                .with_help(format!(
                    "declare it: `provider \"{}\" {{ alias = \"{alias}\" }}`",
                    p.name
                )),
            );
        }
    }

    /// Edges into the child's variables from the call's arguments, and argument checks.
    fn call_input_edges(
        &mut self,
        name: &str,
        call: &crate::config::model::ModuleCall,
        me: NodeIndex,
    ) {
        let child_path = self.path.child(name);
        let Some(child) = self.stack.module(&child_path) else {
            return;
        };
        let rep = repetition(call.count.is_some(), call.for_each.is_some());
        for (input, attr) in &call.inputs {
            let Some(var_idx) = self
                .g
                .node(&ConfigNode::new(&child_path, NodeKind::Var(input.clone())))
            else {
                let mut d = Diagnostic::error(format!("unsupported argument `{input}`"))
                    .with_span(attr.span)
                    .with_label(format!("module `{name}` has no variable named `{input}`"));
                if let Some(s) = did_you_mean(input, child.variables.keys().map(String::as_str)) {
                    d = d.with_help(format!("did you mean `{s}`?"));
                }
                self.diags.push(d);
                continue;
            };
            self.g.graph.update_edge(me, var_idx, ());
            for dep in self.resolve_refs(&attr.value, &[], rep) {
                self.g.graph.update_edge(dep, var_idx, ());
            }
        }
        for (var_name, var) in &child.variables {
            if var.default.is_none() && !call.inputs.contains_key(var_name) {
                self.diags.push(
                    Diagnostic::error(format!("missing required argument `{var_name}`"))
                        .with_span(call.span)
                        .with_label(format!("module `{name}` needs a value for `{var_name}`"))
                        .with_note(var.span, "declared here without a default"),
                );
            }
        }
    }

    fn body_edges(
        &mut self,
        me: NodeIndex,
        body: &BodyConfig,
        bound: &mut Vec<String>,
        rep: Repetition,
    ) {
        for attr in body.attributes.values() {
            self.expr_edges(me, &attr.value, bound, rep);
        }
        for block in &body.blocks {
            match block {
                BlockItem::Static(b) => self.body_edges(me, &b.body, bound, rep),
                BlockItem::Dynamic(d) => {
                    self.expr_edges(me, &d.for_each, bound, rep);
                    bound.push(d.iterator.clone());
                    for l in &d.labels {
                        self.expr_edges(me, l, bound, rep);
                    }
                    self.body_edges(me, &d.content, bound, rep);
                    bound.pop();
                }
            }
        }
    }

    fn expr_edges(&mut self, me: NodeIndex, expr: &Expr, bound: &[String], rep: Repetition) {
        for dep in self.resolve_refs(expr, bound, rep) {
            if dep != me || !matches!(self.g.graph[me].kind, NodeKind::Var(_)) {
                self.g.graph.update_edge(dep, me, ());
            }
        }
    }

    /// A variable's validation may refer to the variable itself.
    fn expr_edges_allowing(&mut self, me: NodeIndex, expr: &Expr, _self_name: &str) {
        for dep in self.resolve_refs(expr, &[], Repetition::None) {
            if dep != me {
                self.g.graph.update_edge(dep, me, ());
            }
        }
    }

    fn depends_on_edges(&mut self, me: NodeIndex, expr: &Expr) {
        let (refs, errs) = references(expr, &[]);
        for e in errs {
            self.diags.push(e);
        }
        for r in refs {
            match &r.subject {
                Subject::Resource(_) => {
                    for dep in self.targets(&r.subject, r.span, Repetition::None) {
                        self.g.graph.update_edge(dep, me, ());
                    }
                }
                Subject::Module { name, .. } => {
                    // `depends_on = [module.x]` waits for everything in module x.
                    let sub = self.path.child(name);
                    if self.stack.module(&sub).is_none() {
                        self.diags.push(self.undeclared(
                            "module",
                            name,
                            r.span,
                            self.module.module_calls.keys(),
                        ));
                        continue;
                    }
                    let deps: Vec<NodeIndex> = self
                        .g
                        .index
                        .iter()
                        .filter(|(n, _)| {
                            n.module.starts_with(&sub)
                                && matches!(n.kind, NodeKind::Resource(_) | NodeKind::Output(_))
                        })
                        .map(|(_, i)| *i)
                        .collect();
                    for dep in deps {
                        self.g.graph.update_edge(dep, me, ());
                    }
                }
                _ => self.diags.push(
                    Diagnostic::error("invalid `depends_on` entry")
                        .with_span(r.span)
                        .with_label("only resources, data sources and modules can be listed"),
                ),
            }
        }
    }

    fn resolve_refs(&mut self, expr: &Expr, bound: &[String], rep: Repetition) -> Vec<NodeIndex> {
        let (refs, errs) = references(expr, bound);
        for e in errs {
            self.diags.push(e);
        }
        let mut out = Vec::new();
        for r in refs {
            out.extend(self.targets(&r.subject, r.span, rep));
        }
        out
    }

    /// The nodes a reference points at, or a diagnostic when it names nothing.
    fn targets(&mut self, subject: &Subject, span: Span, rep: Repetition) -> Vec<NodeIndex> {
        let m = self.module;
        match subject {
            Subject::Var(n) => self.one(NodeKind::Var(n.clone()), || {
                undeclared_diag("input variable", "var.", n, span, m.variables.keys())
            }),
            Subject::Local(n) => self.one(NodeKind::Local(n.clone()), || {
                undeclared_diag("local value", "local.", n, span, m.locals.keys())
            }),
            Subject::Resource(addr) => self.one(NodeKind::Resource(addr.clone()), || {
                undeclared_resource(addr, span, m)
            }),
            Subject::Module { name, output } => {
                let child_path = self.path.child(name);
                let Some(child) = self.stack.module(&child_path) else {
                    let d = self.undeclared("module", name, span, m.module_calls.keys());
                    if !m.module_calls.contains_key(name) {
                        self.diags.push(d);
                    }
                    return Vec::new();
                };
                match output {
                    Some(out) => match self
                        .g
                        .node(&ConfigNode::new(&child_path, NodeKind::Output(out.clone())))
                    {
                        Some(i) => vec![i],
                        None => {
                            let mut d = Diagnostic::error("unsupported attribute")
                                .with_span(span)
                                .with_label(format!("module `{name}` has no output named `{out}`"));
                            if let Some(s) =
                                did_you_mean(out, child.outputs.keys().map(String::as_str))
                            {
                                d = d.with_help(format!("did you mean `module.{name}.{s}`?"));
                            }
                            self.diags.push(d);
                            Vec::new()
                        }
                    },
                    None => self
                        .g
                        .index
                        .iter()
                        .filter(|(n, _)| {
                            n.module == child_path && matches!(n.kind, NodeKind::Output(_))
                        })
                        .map(|(_, i)| *i)
                        .collect(),
                }
            }
            Subject::CountIndex if rep != Repetition::Count => {
                self.diags.push(meta_misuse("count.index", "count", span));
                Vec::new()
            }
            Subject::EachKey | Subject::EachValue if rep != Repetition::ForEach => {
                let name = if *subject == Subject::EachKey {
                    "each.key"
                } else {
                    "each.value"
                };
                self.diags.push(meta_misuse(name, "for_each", span));
                Vec::new()
            }
            Subject::SelfValue if !self.allow_self => {
                self.diags
                    .push(crate::graph::scope::self_outside_postcondition(span));
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    fn one(&mut self, kind: NodeKind, missing: impl FnOnce() -> Diagnostic) -> Vec<NodeIndex> {
        match self.idx(kind) {
            Some(i) => vec![i],
            None => {
                self.diags.push(missing());
                Vec::new()
            }
        }
    }

    fn undeclared<'k>(
        &self,
        what: &str,
        name: &str,
        span: Span,
        candidates: impl Iterator<Item = &'k String>,
    ) -> Diagnostic {
        undeclared_diag(what, "module.", name, span, candidates)
    }
}

fn repetition(count: bool, for_each: bool) -> Repetition {
    if count {
        Repetition::Count
    } else if for_each {
        Repetition::ForEach
    } else {
        Repetition::None
    }
}

/// "reference to undeclared input variable", with a suggestion.
pub fn undeclared_diag<'k>(
    what: &str,
    prefix: &str,
    name: &str,
    span: Span,
    candidates: impl Iterator<Item = &'k String>,
) -> Diagnostic {
    let names: Vec<&str> = candidates.map(String::as_str).collect();
    let d = Diagnostic::error(format!("reference to undeclared {what}"))
        .with_span(span)
        .with_label(format!("no {what} named `{name}` in this module"));
    match did_you_mean(name, names.iter().copied()) {
        Some(s) => d.with_help(format!("did you mean `{prefix}{s}`?")),
        None => d.with_help(format!(
            "declare it, e.g. `{}`",
            declare_example(prefix, name)
        )),
    }
}

fn declare_example(prefix: &str, name: &str) -> String {
    match prefix {
        "var." => format!("variable \"{name}\" {{ type = string }}"),
        "local." => format!("locals {{ {name} = ... }}"),
        _ => format!("module \"{name}\" {{ source = \"./modules/{name}\" }}"),
    }
}

fn undeclared_resource(addr: &ResourceAddr, span: Span, m: &Module) -> Diagnostic {
    let what = if addr.mode == ResourceMode::Data {
        "data source"
    } else {
        "resource"
    };
    let candidates: Vec<String> = m.resources.keys().map(ToString::to_string).collect();
    let target = addr.to_string();
    let d = Diagnostic::error(format!("reference to undeclared {what}"))
        .with_span(span)
        .with_label(format!("no {what} `{target}` in this module"));
    match did_you_mean(&target, candidates.iter().map(String::as_str)) {
        Some(s) => d.with_help(format!("did you mean `{s}`?")),
        None => d.with_help(format!(
            "declare it with `{} \"{}\" \"{}\" {{ ... }}`",
            if addr.mode == ResourceMode::Data {
                "data"
            } else {
                "resource"
            },
            addr.type_name,
            addr.name
        )),
    }
}

fn meta_misuse(name: &str, meta: &str, span: Span) -> Diagnostic {
    Diagnostic::error(format!("reference to `{name}` outside a `{meta}` block"))
        .with_span(span)
        .with_label(format!("`{name}` is only defined where `{meta}` is set"))
        .with_help(format!(
            "set `{meta}` on this resource or module, or remove the reference"
        ))
}

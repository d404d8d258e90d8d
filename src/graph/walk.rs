//! The evaluation walk: visits the configuration graph in dependency order and evaluates
//! every object in every module instance, expanding `count`, `for_each` and module calls
//! into resource instances with typed addresses.

use super::alternatives::{eval_alternatives, Alternative};
use super::build::ConfigGraph;
use super::conditions::{self, ConditionKind};
use super::expand::{count_expansion, for_each_expansion, Expansion};
use super::nodes::NodeKind;
use super::scope::{ModuleId, Scope, Values};
use crate::addrs::{InstanceKey, ModuleInstance, ResourceInstanceAddr};
use crate::config::eval::{references, Evaluator};
use crate::config::inputs::InputValue;
use crate::config::load::Stack;
use crate::config::model::{BlockItem, BodyConfig, Expr, Module, Resource, Variable};
use crate::diagnostics::{Diagnostic, Diagnostics, Span};
use gantry_provider::{Type, Value};
use std::collections::{BTreeMap, HashMap};

/// What the walk is for: `validate` tolerates unknown expansions and missing variables.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkMode {
    Validate,
    Plan,
}

/// One resource instance and its evaluated configuration.
#[derive(Debug, Clone)]
pub struct ResourceInstance {
    pub addr: ResourceInstanceAddr,
    /// The resource's arguments as an object (nested blocks as lists of objects).
    pub config: Value,
    /// The `resource` block header.
    pub span: Span,
}

/// The result of a walk.
pub struct Evaluation {
    pub values: Values,
    pub instances: Vec<ResourceInstance>,
    /// Instances of each resource configuration, by config-graph node.
    pub instances_by_node: HashMap<petgraph::graph::NodeIndex, Vec<usize>>,
    pub root_outputs: BTreeMap<String, Value>,
    /// Evaluated `provider` blocks by qualified key (`aws.west`, `module.net.aws`).
    pub provider_configs: BTreeMap<String, ProviderConfigValue>,
}

/// One evaluated `provider` block.
#[derive(Debug, Clone)]
pub struct ProviderConfigValue {
    /// `aws`: which provider it configures.
    pub name: String,
    pub config: Value,
    pub span: Span,
}

/// Decides what references to a resource instance see, given its evaluated configuration:
/// `validate` uses the configuration itself; `plan` asks the provider for the planned state.
pub trait InstanceHook {
    /// Called once per resource instance (never for placeholder instances of unknown
    /// expansions). `config` is unknown when the body had errors.
    fn instance(
        &mut self,
        addr: &ResourceInstanceAddr,
        resource: &Resource,
        config: &Value,
        alternatives: &[Alternative],
        diags: &mut Diagnostics,
    ) -> InstanceValue;
}

/// What a hook returns for one instance.
pub struct InstanceValue {
    pub value: Value,
    /// The value describes every attribute (the schema is known): a missing attribute is
    /// then an error, not an unknown.
    pub closed: bool,
}

/// The hook of `validate` and `graph`: the configuration, with `id` known after apply.
pub struct ConfigHook;

impl InstanceHook for ConfigHook {
    fn instance(
        &mut self,
        _addr: &ResourceInstanceAddr,
        _resource: &Resource,
        config: &Value,
        _alternatives: &[Alternative],
        _diags: &mut Diagnostics,
    ) -> InstanceValue {
        InstanceValue {
            value: with_computed_id(config.clone()),
            closed: false,
        }
    }
}

pub fn walk(
    stack: &Stack,
    graph: &ConfigGraph,
    inputs: &HashMap<String, InputValue>,
    mode: WalkMode,
    diags: &mut Diagnostics,
) -> Evaluation {
    walk_with(stack, graph, inputs, mode, &mut ConfigHook, diags)
}

/// [`walk`] with a hook that decides the value of each resource instance.
pub fn walk_with(
    stack: &Stack,
    graph: &ConfigGraph,
    inputs: &HashMap<String, InputValue>,
    mode: WalkMode,
    hook: &mut dyn InstanceHook,
    diags: &mut Diagnostics,
) -> Evaluation {
    walk_nodes(stack, graph, inputs, mode, hook, None, diags)
}

/// Evaluates only the `provider` blocks and what they reference (variables, locals), so
/// providers can be configured before anything else is planned. A configuration that
/// depends on something known only after apply is an error.
pub fn provider_configs(
    stack: &Stack,
    graph: &ConfigGraph,
    inputs: &HashMap<String, InputValue>,
    diags: &mut Diagnostics,
) -> BTreeMap<String, ProviderConfigValue> {
    let providers: Vec<_> = graph
        .graph
        .node_indices()
        .filter(|i| matches!(graph.graph[*i].kind, NodeKind::Provider(_)))
        .collect();
    if providers.is_empty() {
        return BTreeMap::new();
    }
    let mut needed = std::collections::HashSet::new();
    let reversed = petgraph::visit::Reversed(&graph.graph);
    for p in providers {
        let mut dfs = petgraph::visit::Dfs::new(reversed, p);
        while let Some(n) = dfs.next(reversed) {
            needed.insert(n);
        }
    }
    let ev = walk_nodes(
        stack,
        graph,
        inputs,
        WalkMode::Plan,
        &mut ConfigHook,
        Some(&needed),
        diags,
    );
    for (key, p) in &ev.provider_configs {
        if !p.config.is_wholly_known() {
            diags.push(
                Diagnostic::error(format!(
                    "provider configuration `{key}` depends on values known only after apply"
                ))
                .with_span(p.span)
                .with_help(
                    "configure providers from variables and locals; apply the resources it needs in an earlier stack",
                ),
            );
        }
    }
    ev.provider_configs
}

fn walk_nodes(
    stack: &Stack,
    graph: &ConfigGraph,
    inputs: &HashMap<String, InputValue>,
    mode: WalkMode,
    hook: &mut dyn InstanceHook,
    only: Option<&std::collections::HashSet<petgraph::graph::NodeIndex>>,
    diags: &mut Diagnostics,
) -> Evaluation {
    let mut ev = Evaluation {
        values: Values::new(),
        instances: Vec::new(),
        instances_by_node: HashMap::new(),
        root_outputs: BTreeMap::new(),
        provider_configs: BTreeMap::new(),
    };
    let order = match petgraph::algo::toposort(&graph.graph, None) {
        Ok(order) => order,
        // Cycles were reported by the caller; nothing can be evaluated in order.
        Err(_) => return ev,
    };
    let root_id = ev.values.intern(ModuleInstance::root());
    ev.values
        .set_instances(crate::addrs::ModulePath::root(), vec![root_id]);
    let mut w = Walker {
        stack,
        inputs,
        mode,
        diags,
    };
    for idx in order {
        if only.is_some_and(|only| !only.contains(&idx)) {
            continue;
        }
        let node = &graph.graph[idx];
        let Some(module) = stack.module(&node.module) else {
            continue;
        };
        let instances = ev.values.instances_of(&node.module).to_vec();
        for mid in instances {
            match &node.kind {
                NodeKind::Var(_) | NodeKind::Local(_) | NodeKind::Output(_) => {
                    w.value_node(&mut ev, &node.kind, node.module.is_root(), module, mid);
                }
                NodeKind::ModuleCall(name) => {
                    if let Some(call) = module.module_calls.get(name) {
                        let exp = w.expansion(
                            &ev.values,
                            mid,
                            module,
                            call.count.as_ref(),
                            call.for_each.as_ref(),
                        );
                        let child_path = node.module.child(name);
                        let parent = ev.values.instance(mid).clone();
                        let mut children = Vec::new();
                        for (key, each) in exp.keys() {
                            let child = ev.values.intern(parent.child(name, key.clone()));
                            ev.values.bindings.insert(child, (key, each));
                            children.push(child);
                        }
                        // A module with unknown expansion is evaluated once, with unknown keys,
                        // so `validate` still checks its contents.
                        if exp == Expansion::Unknown {
                            let child = ev
                                .values
                                .intern(parent.child(name, InstanceKey::Str("<unknown>".into())));
                            ev.values
                                .bindings
                                .insert(child, (InstanceKey::None, Some(Value::unknown())));
                            ev.values.unknown_instances.insert(child);
                            children.push(child);
                        }
                        ev.values
                            .module_expansions
                            .insert((mid, name.clone()), (exp, children.clone()));
                        ev.values.add_instances(child_path, children);
                    }
                }
                NodeKind::Resource(addr) => {
                    if let Some(res) = module.resources.get(addr) {
                        w.resource(&mut ev, idx, mid, module, res, hook);
                    }
                }
                NodeKind::Provider(key) => w.provider(&mut ev, mid, module, &node.module, key),
            }
        }
    }
    ev
}

struct Walker<'a> {
    stack: &'a Stack,
    inputs: &'a HashMap<String, InputValue>,
    mode: WalkMode,
    diags: &'a mut Diagnostics,
}

impl Walker<'_> {
    /// Evaluates a variable, local or output in one module instance and stores its value
    /// (other kinds of node are left alone).
    fn value_node(
        &mut self,
        ev: &mut Evaluation,
        kind: &NodeKind,
        root: bool,
        module: &Module,
        mid: ModuleId,
    ) {
        match kind {
            NodeKind::Var(name) => {
                if let Some(var) = module.variables.get(name) {
                    let v = self.variable(&ev.values, mid, module, var);
                    ev.values
                        .vars
                        .entry(mid)
                        .or_default()
                        .insert(name.clone(), v);
                }
            }
            NodeKind::Local(name) => {
                if let Some(local) = module.locals.get(name) {
                    let v = self.eval_or_unknown(&ev.values, mid, module, &local.value, None);
                    ev.values
                        .locals
                        .entry(mid)
                        .or_default()
                        .insert(name.clone(), v);
                }
            }
            NodeKind::Output(name) => {
                if let Some(out) = module.outputs.get(name) {
                    if !out.preconditions.is_empty() {
                        let scope = Scope::new(&ev.values, self.stack, mid, module);
                        let checked = conditions::check(
                            &scope,
                            &module.dir,
                            &out.preconditions,
                            ConditionKind::OutputPrecondition,
                            &qualified(ev.values.instance(mid), "output", name),
                        );
                        for d in checked.diagnostics {
                            self.diags.push(d);
                        }
                    }
                    let mut v = self.eval_or_unknown(&ev.values, mid, module, &out.value, None);
                    if out.sensitive {
                        v = Value::sensitive(v);
                    } else if v.contains_sensitive() {
                        self.diags
                            .push(sensitive_output(out, &ev.values.instance(mid).to_string()));
                    }
                    if root {
                        ev.root_outputs.insert(name.clone(), v.clone());
                    }
                    ev.values
                        .outputs
                        .entry(mid)
                        .or_default()
                        .insert(name.clone(), v);
                }
            }
            NodeKind::ModuleCall(_) | NodeKind::Resource(_) | NodeKind::Provider(_) => {}
        }
    }

    /// Evaluates a `provider` block (once: every instance of a module shares its providers).
    fn provider(
        &mut self,
        ev: &mut Evaluation,
        mid: ModuleId,
        module: &Module,
        path: &crate::addrs::ModulePath,
        key: &str,
    ) {
        let qualified = path.qualify(key);
        if ev.provider_configs.contains_key(&qualified) {
            return;
        }
        let Some(block) = module.providers.iter().find(|p| p.key() == key) else {
            return;
        };
        let scope = Scope::new(&ev.values, self.stack, mid, module);
        let mut evaluator = Evaluator::new(&scope, &module.dir);
        let config = match eval_body(&mut evaluator, &block.body) {
            Ok(v) => v,
            Err(errors) => {
                for d in errors {
                    self.diags.push(d);
                }
                return;
            }
        };
        ev.provider_configs.insert(
            qualified,
            ProviderConfigValue {
                name: block.name.clone(),
                config,
                span: block.span,
            },
        );
    }

    fn scope<'v>(&'v self, values: &'v Values, mid: ModuleId, module: &'v Module) -> Scope<'v> {
        Scope::new(values, self.stack, mid, module)
    }

    fn eval(
        &self,
        values: &Values,
        mid: ModuleId,
        module: &Module,
        expr: &Expr,
        repetition: Option<(&InstanceKey, &Option<Value>)>,
    ) -> Result<Value, Diagnostic> {
        let mut scope = Scope::new(values, self.stack, mid, module);
        if let Some((key, each)) = repetition {
            scope = scope.with_repetition(key.clone(), each.clone());
        }
        Evaluator::new(&scope, &module.dir).eval(expr)
    }

    fn eval_or_unknown(
        &mut self,
        values: &Values,
        mid: ModuleId,
        module: &Module,
        expr: &Expr,
        repetition: Option<(&InstanceKey, &Option<Value>)>,
    ) -> Value {
        match self.eval(values, mid, module, expr, repetition) {
            Ok(v) => v,
            Err(d) => {
                self.diags.push(d);
                Value::unknown()
            }
        }
    }

    fn variable(
        &mut self,
        values: &Values,
        mid: ModuleId,
        module: &Module,
        var: &Variable,
    ) -> Value {
        let instance = values.instance(mid).clone();
        let (given, given_span) = if instance.is_root() {
            match self.inputs.get(&var.name) {
                Some(input) => (Some(input.value.clone()), Some(input.span)),
                None => (None, None),
            }
        } else {
            self.module_input(values, mid, &var.name)
        };
        let mut given_span = given_span;
        let raw = match given {
            Some(v) => v,
            None => match &var.default {
                Some(d) => match self.eval(values, mid, module, d, None) {
                    Ok(v) => {
                        given_span = Some(d.span());
                        v
                    }
                    Err(d) => {
                        self.diags.push(d);
                        return Value::Unknown(var.ty.clone());
                    }
                },
                None if instance.is_root() && self.mode == WalkMode::Plan => {
                    self.diags.push(
                        Diagnostic::error(format!("no value for required variable `{}`", var.name))
                            .with_span(var.span)
                            .with_label("declared here without a default")
                            .with_help(format!(
                                "pass `--var {}=...`, set `GANTRY_VAR_{}`, or add it to a `*.auto.vars.hcl` file",
                                var.name, var.name
                            )),
                    );
                    return Value::Unknown(var.ty.clone());
                }
                None => return Value::Unknown(var.ty.clone()),
            },
        };
        // A sensitive variable is marked before anything looks at it, so no message quotes it.
        let raw = if var.sensitive {
            crate::ui::redact::register(crate::config::sensitive::secret_strings(
                &Value::sensitive(raw.clone()),
            ));
            Value::sensitive(raw)
        } else {
            raw
        };
        let value = match raw.convert(&var.ty) {
            Ok(v) => v,
            Err(e) => {
                let mut d = Diagnostic::error(format!("invalid value for variable `{}`", var.name))
                    .with_span_opt(given_span)
                    .with_label(e.to_string())
                    .with_help(format!("give `{}` a value of type `{}`", var.name, var.ty));
                if given_span.is_some() {
                    d = d.with_note(var.type_span.unwrap_or(var.span), "type declared here");
                }
                self.diags.push(d);
                return Value::Unknown(var.ty.clone());
            }
        };
        if value.unmarked().is_null() && !var.nullable {
            self.diags.push(
                Diagnostic::error(format!("variable `{}` must not be null", var.name))
                    .with_span_opt(given_span)
                    .with_note(var.span, "declared with `nullable = false`"),
            );
        }
        if value.is_wholly_known() {
            self.validate(values, mid, module, var, &value, given_span);
        }
        value
    }

    /// The value the parent's module block passes for `name`, evaluated in the parent.
    fn module_input(
        &mut self,
        values: &Values,
        mid: ModuleId,
        name: &str,
    ) -> (Option<Value>, Option<Span>) {
        let instance = values.instance(mid);
        let Some((parent_path, call_name)) =
            instance.path().parent().map(|(p, n)| (p, n.to_owned()))
        else {
            return (None, None);
        };
        let parent_instance = instance.prefix(instance.0.len() - 1);
        let (Some(parent_module), Some(parent_id)) = (
            self.stack.module(&parent_path),
            values.lookup(&parent_instance),
        ) else {
            return (None, None);
        };
        let Some(attr) = parent_module
            .module_calls
            .get(&call_name)
            .and_then(|c| c.inputs.get(name))
        else {
            return (None, None);
        };
        let binding = values
            .bindings
            .get(&mid)
            .cloned()
            .unwrap_or((InstanceKey::None, None));
        let rep = Some((&binding.0, &binding.1));
        match self.eval(values, parent_id, parent_module, &attr.value, rep) {
            Ok(v) => (Some(v), Some(attr.value.span())),
            Err(d) => {
                self.diags.push(d);
                (Some(Value::unknown()), Some(attr.value.span()))
            }
        }
    }

    fn validate(
        &mut self,
        values: &Values,
        mid: ModuleId,
        module: &Module,
        var: &Variable,
        value: &Value,
        given_span: Option<Span>,
    ) {
        for rule in &var.validations {
            let mut scope = Scope::new(values, self.stack, mid, module);
            scope = scope.with_var_override(&var.name, value.clone());
            let mut ev = Evaluator::new(&scope, &module.dir);
            let ok = match ev.eval(&rule.condition) {
                Ok(v) => v,
                Err(d) => {
                    self.diags.push(d);
                    continue;
                }
            };
            match ok.unmarked().convert(&Type::Bool) {
                Ok(Value::Bool(true)) | Ok(Value::Unknown(_)) => {}
                Ok(Value::Bool(false)) => {
                    let message = match ev.eval(&rule.error_message) {
                        Ok(Value::String(s)) => s,
                        Ok(other) => other.to_string(),
                        Err(d) => d.summary,
                    };
                    let mut d =
                        Diagnostic::error(format!("invalid value for variable `{}`", var.name))
                            .with_span_opt(given_span.or(Some(rule.condition.span())))
                            .with_label(message.clone())
                            .with_detail(format!(
                                "the validation rule at {} failed",
                                self.stack.sources.location(rule.condition.span())
                            ));
                    if given_span.is_some() {
                        d = d.with_note(rule.condition.span(), "this condition is false");
                    }
                    self.diags.push(d);
                }
                _ => self.diags.push(
                    Diagnostic::error("invalid validation condition")
                        .with_span(rule.condition.span())
                        .with_label(format!("a bool is required, got {}", ok.type_name())),
                ),
            }
        }
    }

    fn expansion(
        &mut self,
        values: &Values,
        mid: ModuleId,
        module: &Module,
        count: Option<&Expr>,
        for_each: Option<&Expr>,
    ) -> Expansion {
        let (expr, is_count) = match (count, for_each) {
            (Some(c), _) => (c, true),
            (None, Some(f)) => (f, false),
            (None, None) => return Expansion::Single,
        };
        let value = match self.eval(values, mid, module, expr, None) {
            Ok(v) => v,
            Err(d) => {
                self.diags.push(d);
                return Expansion::Unknown;
            }
        };
        // How many instances exist, and their keys, show in addresses and plans: they may not
        // come from a secret (Terraform's rule). Sensitive values of a for_each map are fine.
        let keys_marked = if is_count {
            value.contains_sensitive()
        } else {
            value.is_sensitive() || keys_sensitive(&value)
        };
        if keys_marked {
            let meta = if is_count { "count" } else { "for_each" };
            self.diags.push(
                Diagnostic::error(format!("invalid `{meta}` argument"))
                    .with_span(expr.span())
                    .with_label("derived from a sensitive value")
                    .with_detail(format!(
                        "sensitive values, or values derived from them, cannot decide `{meta}`: the instance keys would reveal them in every plan"
                    ))
                    .with_help("use `nonsensitive(...)` if the value is safe to show"),
            );
            return Expansion::Unknown;
        }
        let value = value.unmark().0;
        let result = if is_count {
            count_expansion(&value, expr.span())
        } else {
            for_each_expansion(&value, expr.span())
        };
        match result {
            Ok(Expansion::Unknown) if self.mode == WalkMode::Plan => {
                // After another error, unknown values are usually its echo: stay quiet.
                if !self.diags.has_errors() {
                    self.diags
                        .push(self.unknown_expansion(values, mid, module, expr, is_count));
                }
                Expansion::Unknown
            }
            Ok(e) => e,
            Err(d) => {
                self.diags.push(d);
                Expansion::Unknown
            }
        }
    }

    /// Explains which referenced value is unknown, as Terraform does, and suggests `--target`.
    fn unknown_expansion(
        &self,
        values: &Values,
        mid: ModuleId,
        module: &Module,
        expr: &Expr,
        is_count: bool,
    ) -> Diagnostic {
        let meta = if is_count { "count" } else { "for_each" };
        let scope = self.scope(values, mid, module);
        let (refs, _) = references(expr, &[]);
        let mut culprits: Vec<String> = Vec::new();
        for r in refs {
            if let Ok(resolved) = crate::config::eval::Resolver::resolve(&scope, &r) {
                if !resolved.value.is_wholly_known() || resolved.open {
                    let name = self.stack.sources.snippet(r.span).to_owned();
                    if !culprits.contains(&name) {
                        culprits.push(name);
                    }
                }
            }
        }
        let which = if culprits.is_empty() {
            "a value".to_owned()
        } else {
            culprits
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let is_resource = |c: &&String| {
            !["var.", "local.", "module.", "each.", "count.", "path."]
                .iter()
                .any(|p| c.starts_with(p))
        };
        let target = culprits.iter().find(is_resource).map(|c| {
            c.split('.')
                .take(if c.starts_with("data.") { 3 } else { 2 })
                .collect::<Vec<_>>()
                .join(".")
        });
        Diagnostic::error(format!("invalid `{meta}` argument"))
            .with_span(expr.span())
            .with_label(format!("depends on {which}, which is known only after apply"))
            .with_detail(format!(
                "gantry must know how many instances to create while planning, so `{meta}` can only use values known before apply"
            ))
            .with_help(match target {
                Some(t) => format!(
                    "apply what it depends on first with `--target` (e.g. `gantry apply --target {t}`), or derive `{meta}` from input variables"
                ),
                None => format!(
                    "apply the resources it depends on first with `--target`, or derive `{meta}` from input variables"
                ),
            })
    }

    fn resource(
        &mut self,
        ev: &mut Evaluation,
        idx: petgraph::graph::NodeIndex,
        mid: ModuleId,
        module: &Module,
        res: &Resource,
        hook: &mut dyn InstanceHook,
    ) {
        let exp = self.expansion(
            &ev.values,
            mid,
            module,
            res.count.as_ref(),
            res.for_each.as_ref(),
        );
        let module_instance = ev.values.instance(mid).clone();
        let mut keys = exp.keys();
        if exp == Expansion::Unknown {
            // Validate the body once with unknown `count.index` / `each`.
            keys = vec![(InstanceKey::None, Some(Value::unknown()))];
        }
        let mut per_instance = Vec::with_capacity(keys.len());
        for (key, each) in keys {
            let scope = Scope::new(&ev.values, self.stack, mid, module)
                .with_repetition(key.clone(), each.clone());
            if !res.lifecycle.preconditions.is_empty() && exp != Expansion::Unknown {
                let subject = ResourceInstanceAddr {
                    module: module_instance.clone(),
                    resource: res.addr.clone(),
                    key: key.clone(),
                }
                .to_string();
                let checked = conditions::check(
                    &scope,
                    &module.dir,
                    &res.lifecycle.preconditions,
                    ConditionKind::ResourcePrecondition,
                    &subject,
                );
                for d in checked.diagnostics {
                    self.diags.push(d);
                }
            }
            let mut evaluator = Evaluator::new(&scope, &module.dir);
            let instance_addr = || {
                ResourceInstanceAddr {
                    module: module_instance.clone(),
                    resource: res.addr.clone(),
                    key: key.clone(),
                }
                .to_string()
            };
            let config = match eval_body(&mut evaluator, &res.body) {
                Ok(v) => v,
                Err(errors) => {
                    for d in errors {
                        self.diags.push(d.with_address(instance_addr()));
                    }
                    Value::unknown()
                }
            };
            let alternatives = match &res.failover {
                None => Vec::new(),
                Some(f) if exp == Expansion::Unknown => {
                    // Checked once more when the instances are known.
                    let _ = eval_alternatives(&mut evaluator, f, true);
                    Vec::new()
                }
                Some(f) => {
                    match eval_alternatives(&mut evaluator, f, self.mode == WalkMode::Validate) {
                        Ok(a) => a,
                        Err(errors) => {
                            for d in errors {
                                self.diags.push(d.with_address(instance_addr()));
                            }
                            Vec::new()
                        }
                    }
                }
            };
            per_instance.push((key, each, config, alternatives));
        }
        let skip_instances =
            exp == Expansion::Unknown || ev.values.unknown_instances.contains(&mid);
        let mut closed = false;
        let mut values = Vec::with_capacity(per_instance.len());
        for (key, each, config, alternatives) in per_instance {
            let addr = ResourceInstanceAddr {
                module: module_instance.clone(),
                resource: res.addr.clone(),
                key: key.clone(),
            };
            if skip_instances {
                values.push((key, with_computed_id(config)));
                continue;
            }
            let iv = hook.instance(&addr, res, &config, &alternatives, self.diags);
            if !res.lifecycle.postconditions.is_empty() {
                let scope = Scope::new(&ev.values, self.stack, mid, module)
                    .with_repetition(key.clone(), each)
                    .with_self(iv.value.clone());
                let checked = conditions::check(
                    &scope,
                    &module.dir,
                    &res.lifecycle.postconditions,
                    ConditionKind::ResourcePostcondition,
                    &addr.to_string(),
                );
                for d in checked.diagnostics {
                    self.diags.push(d);
                }
            }
            closed = iv.closed;
            ev.instances_by_node
                .entry(idx)
                .or_default()
                .push(ev.instances.len());
            ev.instances.push(ResourceInstance {
                addr,
                config,
                span: res.span,
            });
            values.push((key, iv.value));
        }
        let value = if exp == Expansion::Unknown {
            Value::unknown()
        } else {
            exp.collect(values)
        };
        if closed {
            ev.values.closed_resources.insert((mid, res.addr.clone()));
        }
        ev.values
            .resources
            .entry(mid)
            .or_default()
            .insert(res.addr.clone(), value);
    }
}

/// True when a map or set's keys carry a sensitive mark.
fn keys_sensitive(value: &Value) -> bool {
    match value {
        Value::Set(items) => items.iter().any(Value::contains_sensitive),
        _ => false,
    }
}

/// An output whose value is derived from a sensitive one but is not declared sensitive.
fn sensitive_output(out: &crate::config::model::Output, module: &str) -> Diagnostic {
    let scope = if module.is_empty() {
        String::new()
    } else {
        format!(" of `{module}`")
    };
    Diagnostic::error(format!("output `{}`{scope} refers to sensitive values", out.name))
        .with_span(out.value.span())
        .with_label("derived from a sensitive value")
        .with_detail("an output that is not declared sensitive would print it in plans, applies and `gantry output`")
        .with_help("add `sensitive = true` to the output block (or wrap the value in `nonsensitive(...)` if it reveals nothing)")
}

/// Every resource has an `id` known after apply. Until provider schemas say which other
/// attributes are computed, direct references to missing attributes are unknown (the
/// resolver marks resources open); `id` is added so that it also survives `for` expressions
/// and splats, which see plain objects.
fn with_computed_id(config: Value) -> Value {
    match config {
        Value::Map(mut map) => {
            map.entry("id".to_owned())
                .or_insert(Value::Unknown(Type::String));
            Value::Map(map)
        }
        other => other,
    }
}

/// Evaluates a resource body to an object: attributes, and nested blocks as lists of objects
/// under their type name. Collects every error of the body.
pub fn eval_body(ev: &mut Evaluator<'_>, body: &BodyConfig) -> Result<Value, Vec<Diagnostic>> {
    let mut out = BTreeMap::new();
    let mut errors = Vec::new();
    for (name, attr) in &body.attributes {
        match ev.eval(&attr.value) {
            Ok(v) => {
                out.insert(name.clone(), v);
            }
            Err(d) => errors.push(d),
        }
    }
    let mut blocks: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for item in &body.blocks {
        match item {
            BlockItem::Static(b) => match eval_body(ev, &b.body) {
                Ok(v) => blocks.entry(b.type_name.clone()).or_default().push(v),
                Err(e) => errors.extend(e),
            },
            BlockItem::Dynamic(d) => {
                let (collection, marked) = match ev.eval(&d.for_each) {
                    Ok(v) => v.unmark(),
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                };
                let entry = blocks.entry(d.type_name.clone()).or_default();
                let pairs = match &collection {
                    Value::Unknown(_) => {
                        // The number of blocks is unknown: check the content once.
                        let it =
                            Value::map([("key", Value::unknown()), ("value", Value::unknown())]);
                        if let Err(e) =
                            ev.with_local(&d.iterator, it, |ev| eval_body(ev, &d.content))
                        {
                            errors.extend(e);
                        }
                        continue;
                    }
                    Value::List(items) => items
                        .iter()
                        .enumerate()
                        .map(|(i, v)| (Value::from(i), v.clone()))
                        .collect::<Vec<_>>(),
                    Value::Set(items) => items.iter().map(|v| (v.clone(), v.clone())).collect(),
                    Value::Map(m) => m
                        .iter()
                        .map(|(k, v)| (Value::String(k.clone()), v.clone()))
                        .collect(),
                    other => {
                        errors.push(
                            Diagnostic::error("invalid `dynamic` block `for_each`")
                                .with_span(d.for_each.span())
                                .with_label(format!(
                                    "a collection is required, got {}",
                                    other.type_name()
                                )),
                        );
                        continue;
                    }
                };
                for (k, v) in pairs {
                    let it = Value::map([("key", k), ("value", v)]);
                    match ev.with_local(&d.iterator, it, |ev| eval_body(ev, &d.content)) {
                        Ok(v) if marked => entry.push(Value::sensitive(v)),
                        Ok(v) => entry.push(v),
                        Err(e) => errors.extend(e),
                    }
                }
            }
        }
    }
    for (name, items) in blocks {
        out.entry(name).or_insert(Value::List(items));
    }
    if errors.is_empty() {
        Ok(Value::Map(out))
    } else {
        Err(errors)
    }
}

/// Re-evaluates a variable, local or output node in every module instance, against the
/// values as they are now. Apply calls it once resources that the node depends on have
/// real values in place of the unknowns they had while planning.
pub fn reevaluate_value_node(
    stack: &Stack,
    graph: &ConfigGraph,
    inputs: &HashMap<String, InputValue>,
    ev: &mut Evaluation,
    idx: petgraph::graph::NodeIndex,
    diags: &mut Diagnostics,
) {
    let node = &graph.graph[idx];
    let Some(module) = stack.module(&node.module) else {
        return;
    };
    let mut w = Walker {
        stack,
        inputs,
        mode: WalkMode::Plan,
        diags,
    };
    let instances = ev.values.instances_of(&node.module).to_vec();
    for mid in instances {
        w.value_node(ev, &node.kind, node.module.is_root(), module, mid);
    }
}

/// `output.NAME` or `check.NAME`, inside its module instance: `module.net[0].output.id`.
fn qualified(instance: &ModuleInstance, kind: &str, name: &str) -> String {
    if instance.is_root() {
        format!("{kind}.{name}")
    } else {
        format!("{instance}.{kind}.{name}")
    }
}

/// Evaluates every `check` block's assertions in every instance of its module, against the
/// values as they are now: false ones are warnings; unknown ones are left for apply.
pub fn evaluate_checks(stack: &Stack, ev: &Evaluation) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (path, module) in &stack.modules {
        if module.checks.is_empty() {
            continue;
        }
        for &mid in ev.values.instances_of(path) {
            let scope = Scope::new(&ev.values, stack, mid, module);
            for check in &module.checks {
                let subject = qualified(ev.values.instance(mid), "check", &check.name);
                let checked = conditions::check(
                    &scope,
                    &module.dir,
                    &check.asserts,
                    ConditionKind::CheckAssertion,
                    &subject,
                );
                out.extend(checked.diagnostics);
            }
        }
    }
    out
}

/// Checks a resource instance's conditions during apply: its preconditions before its
/// operation (`self_value` `None`), or its postconditions on the object the operation left
/// (`Some`). Conditions still unknown are passed.
pub fn check_instance_conditions(
    stack: &Stack,
    ev: &Evaluation,
    addr: &ResourceInstanceAddr,
    self_value: Option<Value>,
) -> Vec<Diagnostic> {
    let path = addr.module.path();
    let (Some(module), Some(mid)) = (stack.module(&path), ev.values.lookup(&addr.module)) else {
        return Vec::new();
    };
    let Some(res) = module.resources.get(&addr.resource) else {
        return Vec::new();
    };
    let (rules, kind) = if self_value.is_some() {
        (
            &res.lifecycle.postconditions,
            ConditionKind::ResourcePostcondition,
        )
    } else {
        (
            &res.lifecycle.preconditions,
            ConditionKind::ResourcePrecondition,
        )
    };
    if rules.is_empty() {
        return Vec::new();
    }
    let each = instance_each(stack, ev, addr, res, module, mid);
    let mut scope =
        Scope::new(&ev.values, stack, mid, module).with_repetition(addr.key.clone(), each);
    if let Some(v) = self_value {
        scope = scope.with_self(v);
    }
    conditions::check(&scope, &module.dir, rules, kind, &addr.to_string()).diagnostics
}

/// `each.value` of a `for_each` instance, as the values are now.
fn instance_each(
    stack: &Stack,
    ev: &Evaluation,
    addr: &ResourceInstanceAddr,
    res: &Resource,
    module: &Module,
    mid: ModuleId,
) -> Option<Value> {
    match &addr.key {
        InstanceKey::Str(k) => {
            let exp_value = res.for_each.as_ref().map(|e| {
                let scope = Scope::new(&ev.values, stack, mid, module);
                Evaluator::new(&scope, &module.dir).eval(e)
            });
            match exp_value {
                Some(Ok(Value::Map(m))) => m.get(k).cloned(),
                _ => Some(Value::String(k.clone())),
            }
        }
        _ => None,
    }
}

/// Evaluates one resource instance's configuration against the values as they are now.
pub fn evaluate_instance_config(
    stack: &Stack,
    ev: &Evaluation,
    addr: &ResourceInstanceAddr,
) -> Result<Value, Vec<Diagnostic>> {
    with_instance_evaluator(stack, ev, addr, |evaluator, res| {
        eval_body(evaluator, &res.body)
    })
}

/// Evaluates one resource instance's `failover` alternatives against the values as they
/// are now (at apply, once what they reference exists).
pub fn evaluate_instance_alternatives(
    stack: &Stack,
    ev: &Evaluation,
    addr: &ResourceInstanceAddr,
) -> Result<Vec<Alternative>, Vec<Diagnostic>> {
    with_instance_evaluator(stack, ev, addr, |evaluator, res| match &res.failover {
        Some(failover) => eval_alternatives(evaluator, failover, false),
        None => Ok(Vec::new()),
    })
}

/// Runs `f` with an apply-time evaluator in one resource instance's scope.
fn with_instance_evaluator<T>(
    stack: &Stack,
    ev: &Evaluation,
    addr: &ResourceInstanceAddr,
    f: impl FnOnce(&mut Evaluator<'_>, &Resource) -> Result<T, Vec<Diagnostic>>,
) -> Result<T, Vec<Diagnostic>> {
    let path = addr.module.path();
    let gone = || {
        vec![Diagnostic::error(format!(
            "`{addr}` is no longer in the stack"
        ))]
    };
    let (Some(module), Some(mid)) = (stack.module(&path), ev.values.lookup(&addr.module)) else {
        return Err(gone());
    };
    let Some(res) = module.resources.get(&addr.resource) else {
        return Err(gone());
    };
    let each = instance_each(stack, ev, addr, res, module, mid);
    let scope = Scope::new(&ev.values, stack, mid, module).with_repetition(addr.key.clone(), each);
    let mut evaluator = Evaluator::new(&scope, &module.dir).at_apply_time(true);
    f(&mut evaluator, res)
}

/// Records the applied value of one resource instance, so that references see it.
pub fn set_instance_value(ev: &mut Evaluation, addr: &ResourceInstanceAddr, value: Value) {
    let Some(mid) = ev.values.lookup(&addr.module) else {
        return;
    };
    let slot = ev
        .values
        .resources
        .entry(mid)
        .or_default()
        .entry(addr.resource.clone())
        .or_insert(Value::Null);
    match (&addr.key, slot) {
        (InstanceKey::None, slot) => *slot = value,
        (InstanceKey::Int(i), Value::List(items)) => {
            if let Some(item) = items.get_mut(*i) {
                *item = value;
            }
        }
        (InstanceKey::Str(k), Value::Map(map)) => {
            map.insert(k.clone(), value);
        }
        _ => {}
    }
}

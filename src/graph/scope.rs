//! Values computed by the walk, per module instance, and the [`Scope`] that resolves
//! references against them for one module instance (and one `count`/`for_each` instance).

use super::expand::Expansion;
use crate::addrs::{InstanceKey, ModuleInstance, ModulePath, ResourceAddr};
use crate::config::eval::{Reference, Resolved, Resolver, Subject};
use crate::config::load::Stack;
use crate::config::model::Module;
use crate::diagnostics::Diagnostic;
use gantry_provider::Value;
use std::collections::{HashMap, HashSet};

/// Interned module instance.
pub type ModuleId = u32;

/// Everything evaluated so far, keyed by module instance.
#[derive(Default)]
pub struct Values {
    instances: Vec<ModuleInstance>,
    ids: HashMap<ModuleInstance, ModuleId>,
    by_path: HashMap<ModulePath, Vec<ModuleId>>,
    pub vars: HashMap<ModuleId, HashMap<String, Value>>,
    pub locals: HashMap<ModuleId, HashMap<String, Value>>,
    pub outputs: HashMap<ModuleId, HashMap<String, Value>>,
    pub resources: HashMap<ModuleId, HashMap<ResourceAddr, Value>>,
    /// For each module call in a module instance: its expansion and child instances.
    pub module_expansions: HashMap<(ModuleId, String), (Expansion, Vec<ModuleId>)>,
    /// The `count.index` / `each` of each child module instance.
    pub bindings: HashMap<ModuleId, (InstanceKey, Option<Value>)>,
    /// Placeholder instances of modules whose expansion is unknown (validate only).
    pub unknown_instances: HashSet<ModuleId>,
    /// Resources whose values describe every attribute (their schema is known).
    pub closed_resources: HashSet<(ModuleId, ResourceAddr)>,
}

impl Values {
    pub fn new() -> Values {
        Values::default()
    }

    pub fn intern(&mut self, instance: ModuleInstance) -> ModuleId {
        if let Some(id) = self.ids.get(&instance) {
            return *id;
        }
        let id = ModuleId::try_from(self.instances.len()).unwrap_or(ModuleId::MAX);
        self.ids.insert(instance.clone(), id);
        self.instances.push(instance);
        id
    }

    pub fn lookup(&self, instance: &ModuleInstance) -> Option<ModuleId> {
        self.ids.get(instance).copied()
    }

    pub fn instance(&self, id: ModuleId) -> &ModuleInstance {
        &self.instances[id as usize]
    }

    pub fn set_instances(&mut self, path: ModulePath, ids: Vec<ModuleId>) {
        self.by_path.insert(path, ids);
    }

    pub fn add_instances(&mut self, path: ModulePath, ids: Vec<ModuleId>) {
        self.by_path.entry(path).or_default().extend(ids);
    }

    pub fn instances_of(&self, path: &ModulePath) -> &[ModuleId] {
        self.by_path.get(path).map_or(&[], Vec::as_slice)
    }
}

/// Resolves references for expressions of one module instance.
pub struct Scope<'a> {
    values: &'a Values,
    stack: &'a Stack,
    module_id: ModuleId,
    module: &'a Module,
    repetition: Option<(InstanceKey, Option<Value>)>,
    var_override: Option<(&'a str, Value)>,
    /// What `self` is (a postcondition's resource instance).
    self_value: Option<Value>,
}

impl<'a> Scope<'a> {
    pub fn new(
        values: &'a Values,
        stack: &'a Stack,
        module_id: ModuleId,
        module: &'a Module,
    ) -> Scope<'a> {
        Scope {
            values,
            stack,
            module_id,
            module,
            repetition: None,
            var_override: None,
            self_value: None,
        }
    }

    /// Makes `self` resolve to `value` (a resource instance's postconditions).
    pub fn with_self(mut self, value: Value) -> Scope<'a> {
        self.self_value = Some(value);
        self
    }

    /// Binds `count.index` (for an integer key) or `each.key` / `each.value`.
    pub fn with_repetition(mut self, key: InstanceKey, each: Option<Value>) -> Scope<'a> {
        self.repetition = Some((key, each));
        self
    }

    /// Makes `var.NAME` resolve to `value` (for the variable's own validation rules).
    pub fn with_var_override(mut self, name: &'a str, value: Value) -> Scope<'a> {
        self.var_override = Some((name, value));
        self
    }

    fn module_value(&self, name: &str) -> Value {
        let Some((exp, children)) = self
            .values
            .module_expansions
            .get(&(self.module_id, name.to_owned()))
        else {
            return Value::unknown();
        };
        let outputs_of = |id: &ModuleId| {
            Value::Map(
                self.values
                    .outputs
                    .get(id)
                    .map(|m| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
                    .unwrap_or_default(),
            )
        };
        let per_instance = children
            .iter()
            .map(|id| {
                let key = self
                    .values
                    .bindings
                    .get(id)
                    .map_or(InstanceKey::None, |(k, _)| k.clone());
                (key, outputs_of(id))
            })
            .collect();
        exp.collect(per_instance)
    }
}

impl Resolver for Scope<'_> {
    fn catalog(&self) -> Option<&crate::catalog::Catalog> {
        Some(&self.stack.catalog)
    }

    fn resolve(&self, r: &Reference) -> Result<Resolved<'_>, Diagnostic> {
        let m = self.module;
        let unknown = || Ok(Value::unknown().into());
        match &r.subject {
            Subject::Var(name) => {
                if let Some((n, v)) = &self.var_override {
                    if n == name {
                        return Ok(v.into());
                    }
                }
                match self
                    .values
                    .vars
                    .get(&self.module_id)
                    .and_then(|vars| vars.get(name))
                {
                    Some(v) => Ok(v.into()),
                    // Undeclared names were reported when the graph was built.
                    None => unknown(),
                }
            }
            Subject::Local(name) => match self
                .values
                .locals
                .get(&self.module_id)
                .and_then(|l| l.get(name))
            {
                Some(v) => Ok(v.into()),
                None => unknown(),
            },
            Subject::Module { name, .. } => Ok(self.module_value(name).into()),
            Subject::Resource(addr) => {
                match self
                    .values
                    .resources
                    .get(&self.module_id)
                    .and_then(|res| res.get(addr))
                {
                    // Without provider schemas, attributes not written in the stack (ids, ARNs)
                    // are known only after apply.
                    Some(v) => Ok(Resolved {
                        value: std::borrow::Cow::Borrowed(v),
                        open: !self
                            .values
                            .closed_resources
                            .contains(&(self.module_id, addr.clone())),
                    }),
                    None => unknown(),
                }
            }
            Subject::CountIndex => match &self.repetition {
                Some((InstanceKey::Int(i), _)) => Ok(Value::from(*i).into()),
                Some((InstanceKey::None, Some(_))) => unknown(),
                // Misplaced `count`/`each` were reported when the graph was built.
                _ => unknown(),
            },
            Subject::EachKey => match &self.repetition {
                Some((InstanceKey::Str(k), _)) => Ok(Value::String(k.clone()).into()),
                Some((InstanceKey::None, Some(_))) => unknown(),
                _ => unknown(),
            },
            Subject::EachValue => match &self.repetition {
                Some((_, Some(v))) => Ok(v.into()),
                _ => unknown(),
            },
            Subject::Path(which) => {
                let p = match which.as_str() {
                    "module" => m.dir.clone(),
                    "root" => self.stack.root_dir.clone(),
                    _ => std::env::current_dir().unwrap_or_default(),
                };
                Ok(Value::String(p.display().to_string()).into())
            }
            Subject::Workspace => Ok(Value::from(self.stack.workspace.as_str()).into()),
            Subject::SelfValue => match &self.self_value {
                Some(v) => Ok(Resolved {
                    value: std::borrow::Cow::Borrowed(v),
                    open: true,
                }),
                None => Err(self_outside_postcondition(r.span)),
            },
        }
    }
}

/// `self` names a resource instance only inside its own `postcondition` blocks.
pub fn self_outside_postcondition(span: crate::diagnostics::Span) -> Diagnostic {
    Diagnostic::error("invalid reference to `self`")
        .with_span(span)
        .with_label("`self` is only valid in a resource's `postcondition` blocks")
        .with_help("refer to the resource by its address, e.g. `aws_vpc.main.id`")
}

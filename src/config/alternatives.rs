//! A module call's `failover` alternatives, as the loader sees them: which one a call loads
//! (the plan's [`ModuleSelection`](super::load::ModuleSelection)), what that changes on the
//! call, and that every alternative keeps the module's contract, so that an alternative
//! that could never apply is an error while planning, not in the middle of a failover.
//!
//! An alternative overrides inputs; one with its own `source` loads another module, which
//! must declare every output of the module as written (what the rest of the stack reads),
//! and inherits only the call's inputs that module declares (two clouds' cluster modules
//! share `nodes`, not `instance_type`).

use super::load::{AlternativeSources, ModuleSelection, Stack};
use super::model::{Attribute, Module, ModuleCall, ProviderRef};
use crate::addrs::ModulePath;
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics, SourceMap, Span};
use crate::state::ModulePlacement;
use indexmap::IndexMap;
use std::collections::BTreeMap;

/// The alternative a call loads, when it is not the call as written.
pub struct Chosen {
    pub index: usize,
    pub source: Option<(String, Span)>,
    pub version: Option<String>,
    pub providers: Option<Vec<(ProviderRef, ProviderRef)>>,
    pub inputs: IndexMap<String, Attribute>,
}

/// The alternative `selection` names for the call at `path` (`None`: as written). A call
/// whose instances could differ (`count`, `for_each`, here or above) cannot fail over as a
/// whole module: the module it loads is one for all of them.
pub fn choose(
    call: &ModuleCall,
    path: &ModulePath,
    selection: &ModuleSelection,
    expanded_above: bool,
) -> Result<Option<Chosen>, Diagnostic> {
    let Some(failover) = &call.failover else {
        return Ok(None);
    };
    if expanded_above || call.count.is_some() || call.for_each.is_some() {
        return Err(Diagnostic::error(
            "`failover` on a module whose instances come from `count` or `for_each`",
        )
        .with_span(failover.span)
        .with_label("every instance would have to load the same alternative")
        .with_help("give each instance its own `module` block, or put `failover` on the resources inside the module"));
    }
    let index = selection.get(path).copied().unwrap_or(0);
    if index == 0 {
        return Ok(None);
    }
    let Some(alternative) = failover.alternatives.get(index - 1) else {
        return Err(Diagnostic::error(format!(
            "`{}` has no alternative {index}",
            instance_address(path)
        ))
        .with_span(failover.span)
        .with_help("state holds the module as an alternative the stack no longer has: run `gantry apply --replace` on it to place it afresh"));
    };
    Ok(Some(Chosen {
        index,
        source: alternative.module.source.clone(),
        version: alternative.module.version.clone(),
        providers: alternative.module.providers.clone(),
        inputs: alternative.body.attributes.clone(),
    }))
}

/// `module.a.module.b`: the address of the single instance of the call at `path`.
pub fn instance_address(path: &ModulePath) -> String {
    path.0
        .iter()
        .map(|step| format!("module.{step}"))
        .collect::<Vec<_>>()
        .join(".")
}

/// Makes `call` the alternative `chosen`, whose module `child` is: its source, providers
/// and inputs (inherited ones only where `child` declares them, when the source differs).
pub fn apply(call: &mut ModuleCall, chosen: Chosen, child: &Module) {
    call.chosen = chosen.index;
    if let Some((source, span)) = chosen.source {
        if source != call.source {
            call.source = source;
            call.source_span = span;
            call.version = chosen.version;
            call.inputs
                .retain(|name, _| child.variables.contains_key(name));
        }
    }
    if let Some(providers) = chosen.providers {
        call.providers = providers;
    }
    for (name, attribute) in chosen.inputs {
        call.inputs.insert(name, attribute);
    }
}

/// Checks every alternative of `call` the loader did not load: its module resolves and
/// declares the outputs of the module as written, and its inputs are the module's.
/// `loaded` is the module of the chosen alternative (`chosen`; `None`: as written).
pub fn check_contract(
    call: &ModuleCall,
    loaded: &Module,
    chosen: Option<&Chosen>,
    mut others: AlternativeSources<'_>,
    diags: &mut Diagnostics,
) {
    let Some(failover) = &call.failover else {
        return;
    };
    // `call` is still as written here: the loader applies the choice afterwards.
    let written_source = call.source.as_str();
    let loaded_source = chosen
        .and_then(|c| c.source.as_ref())
        .map_or(written_source, |(s, _)| s.as_str());
    let mut modules: BTreeMap<String, Option<Module>> = BTreeMap::new();
    let mut module_of = |source: &str, span: Span, diags: &mut Diagnostics| {
        if !modules.contains_key(source) {
            let module = match others.load(source, diags) {
                Ok(m) => Some(m),
                Err(why) => {
                    diags.push(
                        Diagnostic::error("module source not found")
                            .with_span(span)
                            .with_label(why),
                    );
                    None
                }
            };
            modules.insert(source.to_owned(), module);
        }
        modules.get(source).and_then(Option::as_ref).map(|m| {
            // The borrow checker wants an owned summary rather than a borrow of the cache.
            (
                m.outputs.keys().cloned().collect::<Vec<_>>(),
                m.variables
                    .iter()
                    .map(|(n, v)| (n.clone(), v.default.is_none()))
                    .collect::<Vec<_>>(),
            )
        })
    };
    let summary = |m: &Module| {
        (
            m.outputs.keys().cloned().collect::<Vec<_>>(),
            m.variables
                .iter()
                .map(|(n, v)| (n.clone(), v.default.is_none()))
                .collect::<Vec<_>>(),
        )
    };
    let contract: Vec<String> = if loaded_source == written_source {
        loaded.outputs.keys().cloned().collect()
    } else {
        match module_of(written_source, call.source_span, diags) {
            Some((outputs, _)) => outputs,
            None => return,
        }
    };
    let address = call_address(call);
    for (i, alternative) in failover.alternatives.iter().enumerate() {
        let index = i + 1;
        if chosen.is_some_and(|c| c.index == index) {
            continue;
        }
        let (source, span) = alternative
            .module
            .source
            .as_ref()
            .map_or((written_source, call.source_span), |(s, span)| {
                (s.as_str(), *span)
            });
        let found = if source == loaded_source {
            Some(summary(loaded))
        } else {
            module_of(source, span, diags)
        };
        let Some((outputs, variables)) = found else {
            continue;
        };
        let missing: Vec<&str> = contract
            .iter()
            .filter(|o| !outputs.contains(o))
            .map(String::as_str)
            .collect();
        if !missing.is_empty() {
            diags.push(
                Diagnostic::error(format!(
                    "alternative {index} of `{address}` lacks outputs of the module as written"
                ))
                .with_span(span)
                .with_label(format!("missing: {}", missing.join(", ")))
                .with_help("the rest of the stack reads the same outputs whichever alternative holds: declare them in this module"),
            );
        }
        let declared = |name: &str| variables.iter().any(|(n, _)| n == name);
        for (name, attribute) in &alternative.body.attributes {
            if !declared(name) {
                let mut d = Diagnostic::error(format!(
                    "alternative {index} of `{address}` sets an input its module does not declare"
                ))
                .with_span(attribute.span)
                .with_label(format!("no variable `{name}` in `{source}`"));
                if let Some(near) = did_you_mean(name, variables.iter().map(|(n, _)| n.as_str())) {
                    d = d.with_help(format!("did you mean `{near}`?"));
                }
                diags.push(d);
            }
        }
        let inherits_all = source == written_source;
        for (name, required) in &variables {
            let given = alternative.body.attributes.contains_key(name)
                || (call.inputs.contains_key(name) && (inherits_all || declared(name)));
            if *required && !given {
                diags.push(
                    Diagnostic::error(format!(
                        "alternative {index} of `{address}` does not set the required input `{name}`"
                    ))
                    .with_span(alternative.span)
                    .with_help(format!("set `{name} = ...` in this `alternative` block, or on the module block")),
                );
            }
        }
    }
}

/// `module.NAME`, for messages about a call (its parent's path is not known here).
fn call_address(call: &ModuleCall) -> String {
    format!("module.{}", call.name)
}

/// What alternative `index` of `call` sets, as written, for people and for state (which
/// finds the alternative again by it): `as written`, or `source = "./gcp", zone = "b"`.
pub fn label(sources: &SourceMap, call: &ModuleCall, index: usize) -> String {
    let Some(alternative) = index
        .checked_sub(1)
        .and_then(|i| call.failover.as_ref()?.alternatives.get(i))
    else {
        return "as written".to_owned();
    };
    let mut parts = Vec::new();
    if let Some((source, _)) = &alternative.module.source {
        parts.push(format!("source = {source:?}"));
    }
    if let Some(providers) = &alternative.module.providers {
        let pairs: Vec<String> = providers
            .iter()
            .map(|(child, parent)| format!("{} = {}", provider_text(child), provider_text(parent)))
            .collect();
        parts.push(format!("providers = {{ {} }}", pairs.join(", ")));
    }
    for attribute in alternative.body.attributes.values() {
        let text = sources.snippet(attribute.span);
        parts.push(text.split_whitespace().collect::<Vec<_>>().join(" "));
    }
    if parts.is_empty() {
        "as written".to_owned()
    } else {
        parts.join(", ")
    }
}

fn provider_text(p: &ProviderRef) -> String {
    super::model::provider_key(&p.name, p.alias.as_deref())
}

/// The module alternatives an object at `module` is made by: one entry per enclosing call
/// with a `failover` block, by its address.
pub fn placements_of(stack: &Stack, module: &ModulePath) -> BTreeMap<String, ModulePlacement> {
    let mut out = BTreeMap::new();
    for len in 1..=module.len() {
        let prefix = ModulePath(module.0[..len].to_vec());
        let Some((parent, name)) = prefix.parent() else {
            continue;
        };
        let Some(call) = stack
            .module(&parent)
            .and_then(|m| m.module_calls.get(name))
            .filter(|c| c.failover.is_some())
        else {
            continue;
        };
        out.insert(
            instance_address(&prefix),
            ModulePlacement {
                alternative: call.chosen,
                label: label(&stack.sources, call, call.chosen),
                // Set by the module failover plan for a module being placed.
                placing: false,
            },
        );
    }
    out
}

/// The module calls with a `failover` block, by module path.
pub fn failover_calls(stack: &Stack) -> Vec<(ModulePath, &ModuleCall)> {
    let mut out = Vec::new();
    for (path, module) in &stack.modules {
        for call in module.module_calls.values() {
            if call.failover.is_some() {
                out.push((path.child(&call.name), call));
            }
        }
    }
    out
}

//! The planner: an [`InstanceHook`] that, as the evaluation walk reaches each resource
//! instance, checks its configuration against the provider's schema, asks the provider for
//! the planned state, and decides the action. Resources in state but no longer in the
//! stack are planned for deletion afterwards.

use super::refresh::Prior;
use super::{Action, Plan, ResourceChange};
use crate::addrs::{ResourceInstanceAddr, ResourceMode};
use crate::config::load::Stack;
use crate::config::model::Resource;
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics};
use crate::graph::walk::{InstanceHook, InstanceValue};
use crate::providers::{provider_name, Providers};
use gantry_provider::{conform, Value};
use std::collections::{BTreeMap, HashSet};

/// Options that change what is planned.
#[derive(Clone, Debug, Default)]
pub struct PlanOptions {
    /// `--replace ADDR`: force these instances to be replaced.
    pub replace: Vec<String>,
    /// `destroy`: plan to delete everything.
    pub destroy: bool,
    /// `--target ADDR`: only these (instances, or every instance of a resource, or a whole
    /// module by prefix) and what they depend on.
    pub targets: Vec<String>,
}

pub struct Planner<'a> {
    stack: &'a Stack,
    providers: &'a Providers,
    prior: &'a BTreeMap<String, Prior>,
    options: &'a PlanOptions,
    changes: Vec<ResourceChange>,
    seen: HashSet<String>,
}

impl<'a> Planner<'a> {
    pub fn new(
        stack: &'a Stack,
        providers: &'a Providers,
        prior: &'a BTreeMap<String, Prior>,
        options: &'a PlanOptions,
    ) -> Planner<'a> {
        Planner {
            stack,
            providers,
            prior,
            options,
            changes: Vec::new(),
            seen: HashSet::new(),
        }
    }

    /// The plan: changes for every instance seen, and deletions of everything else in state.
    /// `dependencies` maps an address to the addresses it depends on (instance graph).
    pub fn finish(mut self, dependencies: &BTreeMap<String, Vec<String>>) -> Plan {
        for change in &mut self.changes {
            if let Some(deps) = dependencies.get(&change.address) {
                change.dependencies.clone_from(deps);
            }
        }
        let deleted: Vec<(&String, &Prior)> = self
            .prior
            .iter()
            .filter(|(address, prior)| {
                prior.managed && (self.options.destroy || !self.seen.contains(*address))
            })
            .collect();
        let deleted_set: HashSet<&str> = deleted.iter().map(|(a, _)| a.as_str()).collect();
        self.changes
            .retain(|c| !deleted_set.contains(c.address.as_str()));
        for (address, prior) in deleted {
            self.changes.push(ResourceChange {
                address: address.clone(),
                managed: true,
                type_name: prior.type_name.clone(),
                name: resource_name(address),
                provider: prior.provider.clone(),
                action: Action::Delete,
                before: Some(prior.attributes.clone()),
                after: None,
                config: None,
                requires_replace: Vec::new(),
                dependencies: prior.dependencies.clone(),
                sensitive_paths: prior.sensitive_paths.clone(),
                schema_version: prior.schema_version,
                reason: if address.ends_with(" (deposed)") {
                    Some(
                        "replaced under create_before_destroy; the old object is deleted now"
                            .into(),
                    )
                } else if self.options.destroy {
                    None
                } else {
                    Some("no longer in the stack".into())
                },
                create_before_destroy: false,
            });
        }
        if self.options.destroy {
            self.changes.retain(|c| c.action == Action::Delete);
        }
        if !self.options.targets.is_empty() {
            restrict_to_targets(
                &mut self.changes,
                &self.options.targets,
                self.options.destroy,
            );
        }
        self.changes.sort_by(|a, b| a.address.cmp(&b.address));
        Plan {
            changes: self.changes,
            destroy: self.options.destroy,
            ..Plan::default()
        }
    }

    /// Addresses whose change does something (not a no-op).
    pub fn changed_addresses(&self) -> HashSet<String> {
        self.changes
            .iter()
            .filter(|c| c.action != Action::NoOp)
            .map(|c| c.address.clone())
            .collect()
    }

    fn open(config: &Value) -> InstanceValue {
        InstanceValue {
            value: config.clone(),
            closed: false,
        }
    }
}

/// `module.x.aws_vpc.main[0]` -> `main`, for display (a deposed address keeps its whole text).
fn resource_name(address: &str) -> String {
    crate::addrs::parse_resource_instance(address)
        .map_or_else(|_| address.to_owned(), |a| a.resource.name)
}

impl InstanceHook for Planner<'_> {
    fn instance(
        &mut self,
        addr: &ResourceInstanceAddr,
        resource: &Resource,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> InstanceValue {
        let address = addr.to_string();
        self.seen.insert(address.clone());
        let type_name = &resource.addr.type_name;
        let provider_key = crate::providers::resolve::config_key(
            self.stack,
            &addr.module.path(),
            type_name,
            resource.provider.as_ref(),
        );
        let Some(provider) = self.providers.get(&provider_key) else {
            let name = provider_name(type_name);
            diags.push(
                Diagnostic::error(format!(
                    "no provider `{name}` for resource type `{type_name}`"
                ))
                .with_span(resource.span)
                .with_help(format!(
                    "available providers: {}",
                    self.providers.names().collect::<Vec<_>>().join(", ")
                )),
            );
            return Planner::open(config);
        };
        let data = resource.addr.mode == ResourceMode::Data;
        let schemas = provider.schema();
        let Some(schema) = (if data {
            schemas.data_sources.get(type_name)
        } else {
            schemas.resources.get(type_name)
        }) else {
            let known: Vec<&str> = if data {
                schemas.data_sources.keys().map(String::as_str).collect()
            } else {
                schemas.resources.keys().map(String::as_str).collect()
            };
            let mut d = Diagnostic::error(format!(
                "unsupported {} type `{type_name}`",
                if data { "data source" } else { "resource" }
            ))
            .with_span(resource.span)
            .with_label(format!("provider `{}` has no such type", provider.name()));
            if let Some(s) = did_you_mean(type_name, known.iter().copied()) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            diags.push(d);
            return Planner::open(config);
        };
        if config.is_unknown() {
            return InstanceValue {
                value: config.clone(),
                closed: false,
            };
        }
        let conformed = match conform(schema, config) {
            Ok(c) => c,
            Err(issues) => {
                for issue in issues {
                    let head = issue.path.split('.').next().unwrap_or_default();
                    let span = resource
                        .body
                        .attributes
                        .get(head)
                        .map_or(resource.span, |a| a.span);
                    let mut d = Diagnostic::error(issue.message)
                        .with_span(span)
                        .with_address(address.clone());
                    if let Some(s) = issue.suggestion {
                        d = d.with_help(format!("did you mean `{s}`?"));
                    }
                    diags.push(d);
                }
                return Planner::open(config);
            }
        };
        for message in provider.validate(type_name, &conformed) {
            diags.push(
                Diagnostic::error(message)
                    .with_span(resource.span)
                    .with_address(address.clone()),
            );
        }
        if self.options.destroy
            && resource.lifecycle.prevent_destroy
            && self.prior.contains_key(&address)
        {
            diags.push(
                Diagnostic::error(format!(
                    "`{address}` has `prevent_destroy` set and cannot be destroyed"
                ))
                .with_span(resource.span)
                .with_address(address.clone())
                .with_help("remove `prevent_destroy` from its `lifecycle` block first"),
            );
        }
        let prior = if self.options.destroy {
            None
        } else {
            self.prior.get(&address)
        };
        let mut conformed = conformed;
        if let (Some(p), Value::Map(cfg)) = (prior, &mut conformed) {
            let prior_map = p.attributes.as_map();
            for name in &resource.lifecycle.ignore_changes {
                let head = name.split('.').next().unwrap_or_default();
                if let Some(v) = prior_map.and_then(|m| m.get(head)) {
                    cfg.insert(head.to_owned(), v.clone());
                }
            }
            if resource.lifecycle.ignore_all_changes {
                if let Some(m) = prior_map {
                    for (k, v) in m {
                        if cfg.contains_key(k) {
                            cfg.insert(k.clone(), v.clone());
                        }
                    }
                }
            }
        }
        let planned = match provider.plan(type_name, prior.map(|p| &p.attributes), &conformed) {
            Ok(p) => p,
            Err(e) => {
                diags.push(
                    Diagnostic::error(format!("provider could not plan `{address}`"))
                        .with_span(resource.span)
                        .with_label(e.to_string()),
                );
                return Planner::open(config);
            }
        };
        // A data source is read afresh on every plan (what state holds from an earlier
        // apply-time read is only a cache), at plan time when its configuration is known.
        if data && !self.options.destroy && conformed.is_wholly_known() {
            if let Some(read) = read_at_plan(provider.as_ref(), type_name, &conformed, &address) {
                return match read {
                    Ok(value) => InstanceValue {
                        value,
                        closed: true,
                    },
                    Err(e) => {
                        diags.push(
                            Diagnostic::error(format!("cannot read `{address}`"))
                                .with_span(resource.span)
                                .with_label(e.class.as_str())
                                .with_detail(e.message),
                        );
                        Planner::open(config)
                    }
                };
            }
        }
        let forced = self.options.replace.iter().any(|r| r == &address);
        let cbd = resource.lifecycle.create_before_destroy;
        let (action, reason) = match prior {
            _ if data => (Action::Read, None),
            None => (Action::Create, None),
            Some(_) if forced => (
                replace_action(cbd),
                Some("replacement requested with `--replace`".to_owned()),
            ),
            Some(_) if !planned.requires_replace.is_empty() => (replace_action(cbd), None),
            Some(p) if p.attributes != planned.value || !planned.value.is_wholly_known() => {
                (Action::Update, None)
            }
            Some(_) => (Action::NoOp, None),
        };
        if action.is_replace() && resource.lifecycle.prevent_destroy {
            diags.push(
                Diagnostic::error(format!("`{address}` has `prevent_destroy` set but the plan replaces it"))
                    .with_span(resource.span)
                    .with_address(address.clone())
                    .with_help("remove `prevent_destroy` from its `lifecycle` block to allow this, or undo the change that forces replacement"),
            );
        }
        let value = if action == Action::NoOp {
            prior.map_or_else(|| planned.value.clone(), |p| p.attributes.clone())
        } else {
            planned.value.clone()
        };
        self.changes.push(ResourceChange {
            address,
            managed: !data,
            type_name: type_name.clone(),
            name: resource.addr.name.clone(),
            provider: provider_key,
            action,
            before: prior.map(|p| p.attributes.clone()),
            after: Some(planned.value),
            config: Some(conformed),
            requires_replace: planned.requires_replace,
            dependencies: Vec::new(),
            sensitive_paths: schema.sensitive_paths(),
            schema_version: schema.version,
            reason,
            create_before_destroy: cbd,
        });
        InstanceValue {
            value,
            closed: true,
        }
    }
}

/// Reads a data source whose configuration is wholly known now, as Terraform does, so what
/// depends on it is known in the plan (`count = length(data.aws_availability_zones.x.names)`).
/// `None` when no multi-threaded runtime can wait for the read here; it is then read at
/// apply.
fn read_at_plan(
    provider: &dyn gantry_provider::Provider,
    type_name: &str,
    config: &Value,
    address: &str,
) -> Option<Result<Value, gantry_provider::ProviderError>> {
    let handle = tokio::runtime::Handle::try_current().ok()?;
    if handle.runtime_flavor() != tokio::runtime::RuntimeFlavor::MultiThread {
        return None;
    }
    let ctx = gantry_provider::OpContext::new(address);
    Some(tokio::task::block_in_place(|| {
        handle.block_on(provider.read_data(&ctx, type_name, config))
    }))
}

fn replace_action(create_before_destroy: bool) -> Action {
    if create_before_destroy {
        Action::CreateThenDelete
    } else {
        Action::DeleteThenCreate
    }
}

/// Keeps the targeted changes and, transitively, what they depend on (for a destroy: what
/// depends on them, since dependants must go first).
fn restrict_to_targets(changes: &mut Vec<ResourceChange>, targets: &[String], destroy: bool) {
    let matches = |address: &str| {
        targets.iter().any(|t| {
            address == t
                || address
                    .strip_prefix(t.as_str())
                    .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
        })
    };
    let mut keep: HashSet<String> = changes
        .iter()
        .filter(|c| matches(&c.address))
        .map(|c| c.address.clone())
        .collect();
    loop {
        let before = keep.len();
        for c in changes.iter() {
            if destroy || c.action == Action::Delete {
                if c.dependencies.iter().any(|d| keep.contains(d)) {
                    keep.insert(c.address.clone());
                }
            } else if keep.contains(&c.address) {
                keep.extend(c.dependencies.iter().cloned());
            }
        }
        if keep.len() == before {
            break;
        }
    }
    changes.retain(|c| keep.contains(&c.address));
}

//! The planner: an [`InstanceHook`] that, as the evaluation walk reaches each resource
//! instance, checks its configuration against the provider's schema, asks the provider for
//! the planned state, and decides the action. Resources in state but no longer in the
//! stack are planned for deletion afterwards.
//!
//! Sensitive marks come off the configuration here (kept as paths on the change) and go
//! back onto the value the rest of the stack sees. A destroy plan evaluates the stack
//! against what state holds, so `count`s and `for_each`es derived from data sources or
//! other resources are known and every instance can be found.

use super::refresh::Prior;
use super::{Action, Plan, ResourceChange};
use crate::addrs::{ResourceInstanceAddr, ResourceMode};
use crate::config::load::Stack;
use crate::config::model::Resource;
use crate::config::sensitive::{mark_paths, paths_holding, secrets_at, union, unmark_paths};
use crate::diagnostics::{did_you_mean, Diagnostic, Diagnostics};
use crate::graph::alternatives::Alternative;
use crate::graph::instances::groups_of;
use crate::graph::walk::{InstanceHook, InstanceValue};
use crate::providers::{provider_name, Providers};
use gantry_provider::{conform, Schema, Timeouts, Value};
use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::Arc;

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
    /// Addresses an interrupted create may have made, unchecked: never created again.
    blocked: &'a BTreeMap<String, String>,
    changes: Vec<ResourceChange>,
    seen: HashSet<String>,
    diags: Diagnostics,
    /// One shared copy of each type's schema, for the plan's display.
    schemas: HashMap<(String, String), Arc<Schema>>,
}

impl<'a> Planner<'a> {
    pub fn new(
        stack: &'a Stack,
        providers: &'a Providers,
        prior: &'a BTreeMap<String, Prior>,
        options: &'a PlanOptions,
        blocked: &'a BTreeMap<String, String>,
    ) -> Planner<'a> {
        Planner {
            stack,
            providers,
            prior,
            options,
            blocked,
            changes: Vec::new(),
            seen: HashSet::new(),
            diags: Diagnostics::new(),
            schemas: HashMap::new(),
        }
    }

    /// The shared schema of `type_name` as `provider` declares it.
    fn shape(&mut self, provider: &str, type_name: &str, managed: bool) -> Option<Arc<Schema>> {
        let key = (provider.to_owned(), type_name.to_owned());
        if let Some(s) = self.schemas.get(&key) {
            return Some(s.clone());
        }
        let p = self.providers.get(provider)?;
        let schemas = p.schema();
        let schema = if managed {
            schemas.resources.get(type_name)
        } else {
            schemas.data_sources.get(type_name)
        }?;
        let shared = Arc::new(schema.clone());
        self.schemas.insert(key, shared.clone());
        Some(shared)
    }

    /// The plan: changes for every instance seen, and deletions of everything else in state,
    /// with problems found on the way (a resource whose provider configuration is gone).
    /// `dependencies` maps an address to the dependency groups it depends on.
    pub fn finish(mut self, dependencies: &BTreeMap<String, Vec<String>>) -> (Plan, Diagnostics) {
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
        let deleted: Vec<(&String, &Prior, Option<Arc<Schema>>)> = deleted
            .into_iter()
            .map(|(a, p)| (a, p, self.shape(&p.provider, &p.type_name, true)))
            .collect();
        for (address, prior, shape) in deleted {
            if self.providers.get(&prior.provider).is_none() {
                self.diags
                    .push(missing_provider_config(address, &prior.provider));
            }
            if self.options.destroy && self.blocked.contains_key(address) {
                continue;
            }
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
                dependencies: Vec::new(),
                prior_dependencies: prior.dependencies.clone(),
                sensitive_paths: prior.sensitive_paths.clone(),
                schema_version: prior.schema_version,
                reason: if super::deposed::is_deposed(address) {
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
                timeouts: self.schema_timeouts(&prior.provider, &prior.type_name),
                still_used_by: Vec::new(),
                schema: shape,
                failover: None,
                placement: prior.placement.clone(),
                module_placements: Default::default(),
                prior_provider: None,
            });
        }
        if self.options.destroy {
            self.changes.retain(|c| c.action == Action::Delete);
            for (address, why) in self.blocked {
                self.diags.push(
                    Diagnostic::error(format!(
                        "cannot destroy everything: an interrupted create of `{address}` could not be checked"
                    ))
                    .with_address(address.clone())
                    .with_detail(why.clone())
                    .with_help(blocked_help(address)),
                );
            }
        }
        let index = GroupIndex::new(&self.changes);
        propagate_create_before_destroy(&mut self.changes, &index);
        mark_still_used(&mut self.changes, self.prior, &index);
        if !self.options.targets.is_empty() {
            restrict_to_targets(
                &mut self.changes,
                &self.options.targets,
                self.options.destroy,
            );
        }
        self.changes.sort_by(|a, b| a.address.cmp(&b.address));
        let plan = Plan {
            changes: self.changes,
            destroy: self.options.destroy,
            ..Plan::default()
        };
        (plan, self.diags)
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

    fn schema_timeouts(&self, provider: &str, type_name: &str) -> Timeouts {
        self.providers
            .get(provider)
            .and_then(|p| p.schema().resources.get(type_name).map(|s| s.timeouts))
            .unwrap_or_default()
    }
}

/// A resource whose provider configuration the stack no longer declares: gantry will not
/// guess another one (a delete sent to the wrong region "succeeds" with NotFound).
fn missing_provider_config(address: &str, key: &str) -> Diagnostic {
    Diagnostic::error(format!(
        "`{address}` is managed by provider configuration `{key}`, which the stack no longer declares"
    ))
    .with_address(address.to_owned())
    .with_help(format!(
        "add the `provider` block for `{key}` back (it is needed to update or delete the object), or `gantry state rm {address}` to stop managing it"
    ))
}

fn blocked_help(address: &str) -> String {
    format!(
        "run `gantry apply` again once the cloud can be reached (it looks the object up first); if you know nothing was created, `gantry state resolve {address} --not-created`; if it exists, `gantry import {address} ID`"
    )
}

/// `module.x.aws_vpc.main[0]` -> `main`, for display (a deposed address keeps its whole text).
fn resource_name(address: &str) -> String {
    crate::addrs::parse_resource_instance(super::deposed::base_of(address))
        .map_or_else(|_| address.to_owned(), |a| a.resource.name)
}

/// The effective timeouts of a resource: its `timeouts` block over the type's defaults;
/// entries the type does not have are diagnostics.
fn effective_timeouts(resource: &Resource, schema: &Schema, diags: &mut Diagnostics) -> Timeouts {
    let mut t = schema.timeouts;
    for (op, duration, span) in &resource.timeouts.entries {
        let slot = match op.as_str() {
            "create" => &mut t.create,
            "update" => &mut t.update,
            "delete" => &mut t.delete,
            _ => {
                diags.push(
                    Diagnostic::error(format!("`{op}` timeouts are not supported"))
                        .with_span(*span)
                        .with_help("set `create`, `update` or `delete`"),
                );
                continue;
            }
        };
        if slot.is_none() {
            diags.push(
                Diagnostic::error(format!(
                    "`{}` has no `{op}` timeout",
                    resource.addr.type_name
                ))
                .with_span(*span)
                .with_label("this operation does not wait, so there is nothing to time out"),
            );
            continue;
        }
        *slot = Some(*duration);
    }
    t
}

impl InstanceHook for Planner<'_> {
    fn instance(
        &mut self,
        addr: &ResourceInstanceAddr,
        resource: &Resource,
        config: &Value,
        alternatives: &[Alternative],
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
            let known = self.providers.names().any(|n| n == name);
            let d = if known {
                Diagnostic::error(format!(
                    "no provider configuration `{provider_key}` for `{address}`"
                ))
                .with_span(resource.span)
                .with_help(format!("declare `provider \"{name}\" {{ ... }}` for it"))
            } else {
                Diagnostic::error(format!(
                    "no provider `{name}` for resource type `{type_name}`"
                ))
                .with_span(resource.span)
                .with_help(format!(
                    "available providers: {}",
                    self.providers.names().collect::<Vec<_>>().join(", ")
                ))
            };
            diags.push(d);
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
            return Planner::open(config);
        }
        let (plain, config_marks) = unmark_paths(config.clone());
        let conformed = match conform(schema, &plain) {
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
        let timeouts = if data {
            Timeouts::default()
        } else {
            effective_timeouts(resource, schema, diags)
        };
        for path in &resource.lifecycle.ignore_changes {
            if let Some(why) = super::ignore::check(path, schema) {
                diags.push(
                    Diagnostic::error(format!("invalid `ignore_changes` entry `{path}`"))
                        .with_span(path.span)
                        .with_label(why),
                );
            }
        }
        let prior_entry = self.prior.get(&address);
        let mut sensitive_paths = union(&schema.sensitive_paths(), &config_marks);
        if let Some(p) = prior_entry {
            sensitive_paths = union(&sensitive_paths, &p.sensitive_paths);
        }
        if self.options.destroy {
            return self.destroy_value(
                DestroyInstance {
                    address: &address,
                    resource,
                    provider: provider.as_ref(),
                    data,
                    conformed: &conformed,
                    sensitive_paths: &sensitive_paths,
                },
                prior_entry,
                config,
                diags,
            );
        }
        let prior = prior_entry;
        let mut conformed = conformed;
        let forced = self.options.replace.iter().any(|r| r == &address);
        let mut placement = None;
        let mut placement_lost = false;
        let mut failover = None;
        // What the object is planned with: the configuration as written, or, for an object
        // a failover alternative placed, with that alternative's overrides. The change
        // keeps the configuration as written, which apply lays each choice over.
        let mut plan_config = None;
        // The provider configuration that holds it, when its alternative names another.
        let mut held_provider = None;
        if !data {
            let module = addr.module.path();
            let resolve = |r: &crate::config::model::ProviderRef| {
                let key =
                    crate::providers::resolve::config_key(self.stack, &module, type_name, Some(r));
                match self.providers.get(&key) {
                    Some(p) if p.schema().resources.contains_key(type_name) => Ok((key, p)),
                    Some(p) => Err(Diagnostic::error(format!(
                        "provider `{key}` has no resource type `{type_name}`"
                    ))
                    .with_span(r.span)
                    .with_help(format!(
                        "a failover alternative can name another configuration of `{}` only",
                        p.name()
                    ))),
                    None => Err(
                        Diagnostic::error(format!("no provider configuration `{key}`"))
                            .with_span(r.span)
                            .with_help(format!(
                                "declare `provider \"{}\" {{ alias = ... }}` for it",
                                r.name
                            )),
                    ),
                }
            };
            let inputs = super::failover::InstanceInputs {
                resource,
                alternatives,
                schema,
                provider: &provider,
                provider_key: &provider_key,
                resolve: &resolve,
                address: &address,
                config: &plain,
                prior,
                forced,
            };
            match super::failover::plan_instance(&inputs) {
                Ok(None) => {}
                Ok(Some(f)) => {
                    plan_config = f.held_config;
                    held_provider = f.held_provider;
                    placement = f.placement;
                    placement_lost = f.placement_lost;
                    failover = Some(f.plan);
                }
                Err(errors) => {
                    for d in errors {
                        diags.push(d);
                    }
                    return Planner::open(config);
                }
            }
        }
        let ignore = |config: &mut Value| {
            if let Some(p) = prior {
                super::ignore::apply(
                    config,
                    &p.attributes,
                    &resource.lifecycle.ignore_changes,
                    resource.lifecycle.ignore_all_changes,
                );
            }
        };
        ignore(&mut conformed);
        let plan_config = match plan_config {
            Some(mut held) => {
                ignore(&mut held);
                held
            }
            None => conformed.clone(),
        };
        let (provider_key, plan_with) = match held_provider {
            Some((key, p)) => (key, p),
            None => (provider_key, provider.clone()),
        };
        let planned = match plan_with.plan(type_name, prior.map(|p| &p.attributes), &plan_config) {
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
        // Wherever the planned object echoes a secret (an `output` mirroring `input`, a URL
        // with a password in it) it is sensitive too.
        let mut secrets = secrets_at(&conformed, &sensitive_paths);
        if let Some(p) = prior {
            secrets.extend(secrets_at(&p.attributes, &p.sensitive_paths));
        }
        let echoed = paths_holding(&planned.value, &secrets);
        let mut sensitive_paths = union(&sensitive_paths, &echoed);
        // A data source is read afresh on every plan (what state holds from an earlier
        // apply-time read is only a cache), at plan time when its configuration is known.
        if data && conformed.is_wholly_known() {
            if let Some(read) = read_at_plan(provider.as_ref(), type_name, &conformed, &address) {
                return match read {
                    Ok(value) => {
                        let echoed = paths_holding(&value, &secrets);
                        sensitive_paths = union(&sensitive_paths, &echoed);
                        InstanceValue {
                            value: mark_paths(value, &sensitive_paths),
                            closed: true,
                        }
                    }
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
        let cbd = resource.lifecycle.create_before_destroy;
        let (action, reason) = match prior {
            _ if data => (Action::Read, None),
            None => (Action::Create, None),
            Some(_) if forced => (
                replace_action(cbd),
                Some("replacement requested with `--replace`".to_owned()),
            ),
            Some(p) if p.tainted => (
                replace_action(cbd),
                Some(
                    "tainted: its create failed after the cloud accepted it, so it is replaced"
                        .to_owned(),
                ),
            ),
            Some(_) if !planned.requires_replace.is_empty() => (replace_action(cbd), None),
            // Placed through another provider configuration (another region) by a failover
            // alternative the plan no longer uses: it cannot be updated where it is.
            Some(p) if p.placement.as_ref().is_some_and(|pl| pl.provider.is_some()) && p.provider != provider_key => (
                replace_action(cbd),
                Some(format!(
                    "it lives in provider configuration `{}`, and the plan places it with `{provider_key}`",
                    p.provider
                )),
            ),
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
        let creates = matches!(
            action,
            Action::Create | Action::DeleteThenCreate | Action::CreateThenDelete
        );
        if let (true, Some(why)) = (creates, self.blocked.get(&address)) {
            diags.push(
                Diagnostic::error(format!(
                    "`{address}` may already exist: an interrupted run's create could not be checked"
                ))
                .with_span(resource.span)
                .with_address(address.clone())
                .with_detail(format!("gantry will not create it a second time; looking it up failed: {why}"))
                .with_help(blocked_help(&address)),
            );
        }
        let value = if action == Action::NoOp {
            prior.map_or_else(|| planned.value.clone(), |p| p.attributes.clone())
        } else {
            planned.value.clone()
        };
        let value = match &mut failover {
            Some(f) => super::failover::finish(f, action, forced, value),
            None => value,
        };
        // Said whenever it shows: the object moves back to what the stack writes.
        let reason = match (placement_lost, action) {
            (true, a) if a != Action::NoOp && reason.is_none() => Some(
                "the failover alternative it was created with is no longer in the stack, so it is planned as written"
                    .to_owned(),
            ),
            _ => reason,
        };
        let prior_provider = prior
            .map(|p| &p.provider)
            .filter(|p| **p != provider_key)
            .cloned();
        let change = ResourceChange {
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
            prior_dependencies: if action == Action::NoOp {
                Vec::new()
            } else {
                prior.map(|p| p.dependencies.clone()).unwrap_or_default()
            },
            sensitive_paths: sensitive_paths.clone(),
            schema_version: schema.version,
            reason,
            create_before_destroy: cbd,
            timeouts,
            still_used_by: Vec::new(),
            schema: None,
            failover,
            placement: if creates { None } else { placement },
            module_placements: crate::config::alternatives::placements_of(
                self.stack,
                &addr.module.path(),
            ),
            prior_provider,
        };
        let mut change = change;
        change.schema = self.shape(&change.provider, type_name, !data);
        crate::ui::redact::register(crate::ui::redact::change_secrets(&change));
        self.changes.push(change);
        InstanceValue {
            value: mark_paths(value, &sensitive_paths),
            closed: true,
        }
    }
}

/// One instance met by a destroy plan.
struct DestroyInstance<'x> {
    address: &'x str,
    resource: &'x Resource,
    provider: &'x dyn gantry_provider::Provider,
    data: bool,
    conformed: &'x Value,
    sensitive_paths: &'x [String],
}

impl Planner<'_> {
    /// What an instance is worth to the rest of the stack while planning a destroy: the
    /// object as state holds it, a data source's last read (or a fresh one), so that
    /// everything derived from them (`count`, `for_each`) is known.
    fn destroy_value(
        &mut self,
        i: DestroyInstance<'_>,
        prior: Option<&Prior>,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> InstanceValue {
        if !i.data && i.resource.lifecycle.prevent_destroy && prior.is_some() {
            diags.push(
                Diagnostic::error(format!(
                    "`{}` has `prevent_destroy` set and cannot be destroyed",
                    i.address
                ))
                .with_span(i.resource.span)
                .with_address(i.address.to_owned())
                .with_help("remove `prevent_destroy` from its `lifecycle` block first"),
            );
        }
        if let Some(p) = prior {
            return InstanceValue {
                value: mark_paths(p.attributes.clone(), i.sensitive_paths),
                closed: true,
            };
        }
        let type_name = &i.resource.addr.type_name;
        if i.data && i.conformed.is_wholly_known() {
            if let Some(Ok(value)) = read_at_plan(i.provider, type_name, i.conformed, i.address) {
                return InstanceValue {
                    value: mark_paths(value, i.sensitive_paths),
                    closed: true,
                };
            }
        }
        // Never created (its create was refused, say): what it would have had is unknown,
        // so that an output reading it through a `for` (where the reference is no longer
        // open) does not fail the destroy.
        if let (false, Value::Map(written), Some(schema)) =
            (i.data, config, i.provider.schema().resources.get(type_name))
        {
            let mut value = written.clone();
            for name in schema.names() {
                value.entry(name.to_owned()).or_insert_with(Value::unknown);
            }
            return Planner::open(&Value::Map(value));
        }
        Planner::open(config)
    }
}

/// Changes by the dependency groups they belong to.
struct GroupIndex {
    members: HashMap<String, Vec<usize>>,
}

impl GroupIndex {
    fn new(changes: &[ResourceChange]) -> GroupIndex {
        let mut members: HashMap<String, Vec<usize>> = HashMap::new();
        for (i, c) in changes.iter().enumerate() {
            for key in groups_of_address(&c.address) {
                members.entry(key).or_default().push(i);
            }
        }
        GroupIndex { members }
    }

    fn members(&self, key: &str) -> &[usize] {
        self.members.get(key).map_or(&[], Vec::as_slice)
    }
}

/// The groups an address belongs to, its own address included (older states recorded
/// dependencies as instance addresses); a deposed object keeps its address's groups.
fn groups_of_address(address: &str) -> Vec<String> {
    let base = super::deposed::base_of(address);
    let mut g = crate::addrs::parse_resource_instance(base)
        .map(|a| groups_of(&a))
        .unwrap_or_default();
    if !g.iter().any(|k| k == base) {
        g.push(base.to_owned());
    }
    g
}

/// A create-before-destroy replacement cannot wait for a dependency that is deleted before
/// it is re-created (its old self would have to go first): as Terraform does, such
/// dependencies are replaced create-before-destroy too.
fn propagate_create_before_destroy(changes: &mut [ResourceChange], index: &GroupIndex) {
    let mut queue: VecDeque<usize> = changes
        .iter()
        .enumerate()
        .filter(|(_, c)| c.action == Action::CreateThenDelete)
        .map(|(i, _)| i)
        .collect();
    while let Some(i) = queue.pop_front() {
        let keys = changes[i].dependencies.clone();
        let because = changes[i].address.clone();
        for key in keys {
            for &j in index.members(&key) {
                if changes[j].action == Action::DeleteThenCreate {
                    changes[j].action = Action::CreateThenDelete;
                    let why = format!(
                        "replaced create-before-destroy because `{because}`, which depends on it, is"
                    );
                    changes[j].reason = Some(match changes[j].reason.take() {
                        Some(r) => format!("{r}; {why}"),
                        None => why,
                    });
                    queue.push_back(j);
                }
            }
        }
    }
}

/// For each delete-then-create replacement, the objects that use it and stay: its delete
/// will meet them.
fn mark_still_used(
    changes: &mut [ResourceChange],
    prior: &BTreeMap<String, Prior>,
    index: &GroupIndex,
) {
    let replaced: Vec<usize> = changes
        .iter()
        .enumerate()
        .filter(|(_, c)| c.action == Action::DeleteThenCreate)
        .map(|(i, _)| i)
        .collect();
    if replaced.is_empty() {
        return;
    }
    let mut users: HashMap<&str, Vec<&str>> = HashMap::new();
    for (address, p) in prior.iter().filter(|(_, p)| p.managed) {
        for key in &p.dependencies {
            users
                .entry(key.as_str())
                .or_default()
                .push(address.as_str());
        }
    }
    let goes: HashSet<&str> = changes
        .iter()
        .filter(|c| {
            matches!(
                c.action,
                Action::Delete | Action::DeleteThenCreate | Action::CreateThenDelete
            )
        })
        .map(|c| c.address.as_str())
        .collect();
    let mut found: Vec<(usize, Vec<String>)> = Vec::new();
    for i in replaced {
        let mut list: Vec<String> = groups_of_address(&changes[i].address)
            .iter()
            .flat_map(|k| users.get(k.as_str()).into_iter().flatten())
            .filter(|a| !goes.contains(**a) && **a != changes[i].address)
            .map(|a| (*a).to_owned())
            .collect();
        list.sort();
        list.dedup();
        if !list.is_empty() {
            found.push((i, list));
        }
    }
    let _ = index;
    for (i, list) in found {
        changes[i].still_used_by = list;
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

/// Keeps the targeted changes and, transitively, what they depend on (for a destroy, and for
/// deletions: what depends on them, since dependants must go first). Linear in the plan:
/// each change is visited once through the dependency-group index.
fn restrict_to_targets(changes: &mut Vec<ResourceChange>, targets: &[String], destroy: bool) {
    let matches = |address: &str| {
        targets.iter().any(|t| {
            address == t
                || address
                    .strip_prefix(t.as_str())
                    .is_some_and(|rest| rest.starts_with('[') || rest.starts_with('.'))
        })
    };
    let index = GroupIndex::new(changes);
    // Who depends on a group, through a deletion (prior dependencies).
    let mut dependants: HashMap<&str, Vec<usize>> = HashMap::new();
    for (i, c) in changes.iter().enumerate() {
        if destroy || c.action == Action::Delete {
            for key in &c.prior_dependencies {
                dependants.entry(key.as_str()).or_default().push(i);
            }
        }
    }
    let mut keep = vec![false; changes.len()];
    let mut queue: VecDeque<usize> = VecDeque::new();
    for (i, c) in changes.iter().enumerate() {
        if matches(&c.address) {
            keep[i] = true;
            queue.push_back(i);
        }
    }
    while let Some(i) = queue.pop_front() {
        let c = &changes[i];
        let mut next: Vec<usize> = Vec::new();
        if !destroy && c.action != Action::Delete {
            for key in &c.dependencies {
                next.extend_from_slice(index.members(key));
            }
        }
        for key in groups_of_address(&c.address) {
            if let Some(d) = dependants.get(key.as_str()) {
                next.extend_from_slice(d);
            }
        }
        for j in next {
            if !keep[j] {
                keep[j] = true;
                queue.push_back(j);
            }
        }
    }
    let mut i = 0;
    changes.retain(|_| {
        let k = keep[i];
        i += 1;
        k
    });
}

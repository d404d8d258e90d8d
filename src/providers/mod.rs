//! The providers a run uses: the built-in `gantry` provider (`gantry_data`) and the clouds.
//! Each `provider` block is one configured instance, by key (`aws`, `aws.west`,
//! `module.net.aws`); a resource finds its instance through [`resolve::config_key`]. Under
//! `--sim` every instance is a simulated twin built from the same schema.

pub mod builtin;
pub mod clouds;
pub mod resolve;
pub mod twin;

use crate::config::inputs::InputValue;
use crate::config::load::Stack;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::graph::build::ConfigGraph;
use crate::graph::walk::ProviderConfigValue;
use gantry_provider::{Provider, Schema, Value};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, PoisonError, RwLock};

/// Makes a fresh, unconfigured instance of one provider.
pub type Factory = Arc<dyn Fn() -> Arc<dyn Provider> + Send + Sync>;

/// The providers of one run.
#[derive(Clone, Default)]
pub struct Providers {
    factories: BTreeMap<String, Factory>,
    /// Configured instances by key; the plain name (`aws`) is the default configuration,
    /// which configures itself from the environment when no block configures it.
    instances: Arc<RwLock<BTreeMap<String, Arc<dyn Provider>>>>,
}

impl Providers {
    /// The real providers: the built-in one and every cloud this build includes.
    pub fn real() -> Providers {
        let mut p = Providers::default();
        for names in builtin::BUILTIN_TYPES {
            p.register(Arc::new(move || {
                Arc::new(builtin::GantryProvider::named(names)) as Arc<dyn Provider>
            }));
        }
        clouds::register(&mut p);
        p
    }

    /// Adds a provider by its factory, with a default instance.
    pub fn register(&mut self, factory: Factory) {
        let instance = factory();
        let name = instance.name().to_owned();
        self.write().insert(name.clone(), instance);
        self.factories.insert(name, factory);
    }

    /// Adds one ready instance (tests) as the provider's default configuration.
    pub fn insert(&mut self, provider: Arc<dyn Provider>) {
        let p = provider.clone();
        self.register(Arc::new(move || p.clone()));
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<dyn Provider>>> {
        self.instances
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The instance for a configuration key, exactly: a configuration that no block
    /// declares any more is `None`, never another configuration of the same provider (a
    /// delete sent to the default region would "succeed" with NotFound and lose track of
    /// the object).
    pub fn get(&self, key: &str) -> Option<Arc<dyn Provider>> {
        let instances = self
            .instances
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        instances.get(key).cloned()
    }

    /// Configuration keys with an instance.
    pub fn keys(&self) -> Vec<String> {
        let instances = self
            .instances
            .read()
            .unwrap_or_else(PoisonError::into_inner);
        instances.keys().cloned().collect()
    }

    /// The factory of a provider, by name.
    pub fn factory(&self, name: &str) -> Option<Factory> {
        self.factories.get(name).cloned()
    }

    /// Provider names.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.factories.keys().map(String::as_str)
    }

    /// The default instance of the provider a resource type belongs to.
    pub fn for_type(&self, type_name: &str) -> Option<Arc<dyn Provider>> {
        self.get(provider_name(type_name))
    }

    /// The schema of a resource type (or data source when `data`).
    pub fn schema(&self, type_name: &str, data: bool) -> Option<Schema> {
        let provider = self.for_type(type_name)?;
        let schemas = provider.schema();
        if data {
            schemas.data_sources.get(type_name).cloned()
        } else {
            schemas.resources.get(type_name).cloned()
        }
    }

    /// Configures every provider a stack uses: one instance per `provider` block, and the
    /// default configuration of providers used without one.
    pub async fn configure_for(
        &self,
        stack: &Stack,
        graph: &ConfigGraph,
        inputs: &HashMap<String, InputValue>,
    ) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let mut configs = crate::graph::walk::provider_configs(stack, graph, inputs, &mut diags);
        if diags.has_errors() {
            return diags;
        }
        add_implicit_configs(stack, &mut configs);
        diags.extend(self.configure(&configs).await);
        diags
    }

    /// Makes and configures one instance per evaluated `provider` block, in parallel; a
    /// failure is a diagnostic on the block.
    pub async fn configure(&self, configs: &BTreeMap<String, ProviderConfigValue>) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let mut jobs = Vec::new();
        for (key, block) in configs {
            let Some(factory) = self.factories.get(&block.name) else {
                diags.push(
                    Diagnostic::error(format!("no provider named `{}`", block.name))
                        .with_span(block.span)
                        .with_help(format!(
                            "available providers: {}",
                            self.names().collect::<Vec<_>>().join(", ")
                        )),
                );
                continue;
            };
            let instance = factory();
            let key = key.clone();
            let block = block.clone();
            jobs.push(async move {
                // Credentials are often sensitive variables: providers get plain values.
                let config = block.config.clone().unmark_deep().0;
                let result = instance.configure(&config).await;
                (key, block, instance, result)
            });
        }
        for (key, block, instance, result) in futures::future::join_all(jobs).await {
            match result {
                Ok(()) => {
                    self.write().insert(key, instance);
                }
                Err(e) => diags.push(
                    Diagnostic::error(format!("cannot configure provider `{key}`"))
                        .with_span(block.span)
                        .with_label(e.class.as_str())
                        .with_detail(e.message),
                ),
            }
        }
        diags
    }
}

/// `aws_vpc` -> `aws`; `gantry_data` -> `gantry`.
pub fn provider_name(type_name: &str) -> &str {
    type_name.split('_').next().unwrap_or(type_name)
}

/// `aws.west` -> `aws`; `module.net.aws` -> `aws`.
pub fn provider_of_key(key: &str) -> &str {
    let mut parts = key.split('.').peekable();
    while parts.peek() == Some(&"module") {
        parts.next();
        parts.next();
    }
    parts.next().unwrap_or(key)
}

/// A provider used without a `provider` block is configured from the environment alone,
/// here rather than at its first call, so that missing credentials stop the plan.
fn add_implicit_configs(stack: &Stack, configs: &mut BTreeMap<String, ProviderConfigValue>) {
    for module in stack.modules.values() {
        for (addr, resource) in &module.resources {
            if resource.provider.is_some() {
                continue;
            }
            let name = provider_name(&addr.type_name);
            if !configs.contains_key(name) {
                configs.insert(
                    name.to_owned(),
                    ProviderConfigValue {
                        name: name.to_owned(),
                        config: Value::Null,
                        span: resource.span,
                    },
                );
            }
        }
    }
}

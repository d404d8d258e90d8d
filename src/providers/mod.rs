//! The providers a run uses, by name: the built-in `gantry` provider (`gantry_data`) and,
//! as they arrive, the clouds. Under `--sim` every provider is swapped for its simulated
//! twin, built from the same schema.

pub mod builtin;
pub mod twin;

use gantry_provider::{Provider, Schema};
use std::collections::BTreeMap;
use std::sync::Arc;

/// The providers of one run.
#[derive(Clone, Default)]
pub struct Providers {
    by_name: BTreeMap<String, Arc<dyn Provider>>,
}

impl Providers {
    /// The real providers.
    pub fn real() -> Providers {
        let mut p = Providers::default();
        p.insert(Arc::new(builtin::GantryProvider::new()));
        p
    }

    pub fn insert(&mut self, provider: Arc<dyn Provider>) {
        self.by_name.insert(provider.name().to_owned(), provider);
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn Provider>> {
        self.by_name.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.by_name.keys().map(String::as_str)
    }

    /// The provider a resource type belongs to: the type's prefix (`aws_vpc` -> `aws`).
    pub fn for_type(&self, type_name: &str) -> Option<&Arc<dyn Provider>> {
        self.by_name.get(provider_name(type_name))
    }

    /// The schema of a resource type (or data source when `data`).
    pub fn schema(&self, type_name: &str, data: bool) -> Option<&Schema> {
        let provider = self.for_type(type_name)?;
        let schemas = provider.schema();
        if data {
            schemas.data_sources.get(type_name)
        } else {
            schemas.resources.get(type_name)
        }
    }
}

/// `aws_vpc` -> `aws`; `gantry_data` -> `gantry`.
pub fn provider_name(type_name: &str) -> &str {
    type_name.split('_').next().unwrap_or(type_name)
}

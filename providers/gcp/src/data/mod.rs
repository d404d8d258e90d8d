//! Data sources, one file each, with Terraform's names.

use crate::resources::Cx;
use gantry_provider::provider::Result;
use gantry_provider::{async_trait, Schema, Value};

mod client_config;
mod compute_zones;
mod project;

/// Every data source of the provider.
pub fn all() -> Vec<Box<dyn DataSource>> {
    vec![
        Box::new(client_config::ClientConfig),
        Box::new(compute_zones::ComputeZones),
        Box::new(project::Project),
    ]
}

/// One Google Cloud data source.
#[async_trait]
pub trait DataSource: Send + Sync {
    /// `google_compute_zones`.
    fn name(&self) -> &'static str;

    fn schema(&self) -> Schema;

    /// Reads it: the configuration with every computed attribute filled in.
    async fn read(&self, cx: &Cx<'_>, config: &Value) -> Result<Value>;
}

//! [`AzureProvider`]: the provider trait over the resource types.

use crate::data::{self, DataSource};
use crate::resources::{self, ArmType, Cx};
use crate::settings::{self, Settings};
use gantry_provider::attrs::Attrs;
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, OpContext, PlannedState, Provider, ProviderError, ProviderSchema, QuotaQuery,
    QuotaReading, Value,
};
use std::collections::BTreeMap;
use tokio::sync::OnceCell;

/// One configured Azure provider (one `provider "azurerm"` block: one subscription and
/// identity).
pub struct AzureProvider {
    schema: ProviderSchema,
    resources: BTreeMap<&'static str, Box<dyn ArmType>>,
    data: BTreeMap<&'static str, Box<dyn DataSource>>,
    settings: OnceCell<Settings>,
}

impl Default for AzureProvider {
    fn default() -> Self {
        AzureProvider::new()
    }
}

impl AzureProvider {
    pub fn new() -> AzureProvider {
        let resources: BTreeMap<_, _> = resources::all()
            .into_iter()
            .map(|r| (r.name(), r))
            .collect();
        let data: BTreeMap<_, _> = data::all().into_iter().map(|d| (d.name(), d)).collect();
        let schema = ProviderSchema {
            config: settings::schema(),
            resources: resources
                .iter()
                .map(|(name, r)| ((*name).to_owned(), r.schema()))
                .collect(),
            data_sources: data
                .iter()
                .map(|(name, d)| ((*name).to_owned(), d.schema()))
                .collect(),
        };
        AzureProvider {
            schema,
            resources,
            data,
            settings: OnceCell::new(),
        }
    }

    async fn settings(&self) -> Result<&Settings> {
        self.settings
            .get_or_try_init(|| settings::configure(&Value::Null))
            .await
    }

    fn resource(&self, type_name: &str) -> Result<&dyn ArmType> {
        self.resources
            .get(type_name)
            .map(AsRef::as_ref)
            .ok_or_else(|| ProviderError::invalid(format!("unknown resource type `{type_name}`")))
    }

    async fn cx<'a>(&'a self, op: &'a OpContext) -> Result<Cx<'a>> {
        Ok(Cx {
            op,
            settings: self.settings().await?,
        })
    }
}

#[async_trait]
impl Provider for AzureProvider {
    fn name(&self) -> &str {
        "azurerm"
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    async fn configure(&self, config: &Value) -> Result<()> {
        let settings = settings::configure(config).await?;
        // A second configure of the same instance keeps the first (instances are made per
        // provider block; this only happens when the engine retries).
        let _ = self.settings.set(settings);
        Ok(())
    }

    fn validate(&self, type_name: &str, config: &Value) -> Vec<String> {
        self.resources
            .get(type_name)
            .map(|r| r.validate(config))
            .unwrap_or_default()
    }

    fn plan(&self, type_name: &str, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        if let (false, Some(schema)) = (
            self.resources.contains_key(type_name),
            self.schema.data_sources.get(type_name),
        ) {
            return Ok(gantry_provider::data_plan::plan_data_source(
                schema, prior, config,
            ));
        }
        let resource = self.resource(type_name)?;
        let schema = self.schema.resources.get(type_name).ok_or_else(|| {
            ProviderError::invalid(format!("unknown resource type `{type_name}`"))
        })?;
        resource.plan(schema, prior, config)
    }

    async fn create(&self, ctx: &OpContext, type_name: &str, planned: &Value) -> Result<Value> {
        self.resource(type_name)?
            .create(&self.cx(ctx).await?, planned)
            .await
    }

    async fn read(&self, ctx: &OpContext, type_name: &str, state: &Value) -> Result<Option<Value>> {
        self.resource(type_name)?
            .read(&self.cx(ctx).await?, state)
            .await
    }

    async fn update(
        &self,
        ctx: &OpContext,
        type_name: &str,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value> {
        if !self.resources.contains_key(type_name) && self.data.contains_key(type_name) {
            return self.read_data(ctx, type_name, planned).await;
        }
        self.resource(type_name)?
            .update(&self.cx(ctx).await?, prior, planned)
            .await
    }

    async fn read_data(&self, ctx: &OpContext, type_name: &str, config: &Value) -> Result<Value> {
        let source = self
            .data
            .get(type_name)
            .ok_or_else(|| ProviderError::invalid(format!("unknown data source `{type_name}`")))?;
        source.read(&self.cx(ctx).await?, config).await
    }

    async fn delete(&self, ctx: &OpContext, type_name: &str, state: &Value) -> Result<()> {
        self.resource(type_name)?
            .delete(&self.cx(ctx).await?, state)
            .await
    }

    async fn import(&self, ctx: &OpContext, type_name: &str, id: &str) -> Result<Value> {
        self.resource(type_name)?
            .import(&self.cx(ctx).await?, id)
            .await?
            .ok_or_else(|| ProviderError::not_found(format!("no `{type_name}` with id `{id}`")))
    }

    async fn find_created(
        &self,
        ctx: &OpContext,
        type_name: &str,
        token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        self.resource(type_name)?
            .find_created(&self.cx(ctx).await?, token, planned)
            .await
    }

    async fn read_quota(&self, query: &QuotaQuery) -> Result<Option<QuotaReading>> {
        crate::quota::read(self.settings().await?, query).await
    }

    fn quota_request_command(&self, query: &QuotaQuery) -> Option<String> {
        crate::quota::request_command(query, &self.settings.get()?.subscription_id)
    }

    async fn check_offered(&self, type_name: &str, planned: &Value) -> Result<Option<String>> {
        crate::offered::check(self.settings().await?, type_name, planned).await
    }

    fn compute_model(&self, type_name: &str) -> Option<gantry_provider::ComputeModel> {
        crate::pricing::compute_model(type_name)
    }

    fn initial_concurrency(&self) -> Option<usize> {
        // ARM meters reads and writes per subscription per hour (about 12,000 and 1,200
        // per principal): start moderate and let the engine's limiter find the rate.
        Some(16)
    }

    fn catalog_cloud(&self) -> Option<&str> {
        Some("azure")
    }

    fn sim_model(&self) -> Option<std::sync::Arc<dyn gantry_provider::SimModel>> {
        Some(std::sync::Arc::new(crate::sim_model::AzureSimModel))
    }

    /// An object lives in its own `location` (azurerm's spelling normalized).
    fn location_of(&self, _type_name: &str, attributes: &Value) -> Option<String> {
        Attrs(attributes)
            .str("location")
            .map(resources::normalize_location)
    }
}

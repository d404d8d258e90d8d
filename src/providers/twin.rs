//! A simulated twin as the engine sees it: planning and validation come from the real
//! provider (so `--sim` plans exactly what the cloud provider would), every operation goes
//! to the simulated world.

use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, OpContext, PlannedState, Provider, ProviderSchema, QuotaQuery, QuotaReading, Value,
};
use std::sync::Arc;

pub struct Twin {
    pub real: Arc<dyn Provider>,
    pub sim: Arc<dyn Provider>,
}

#[async_trait]
impl Provider for Twin {
    fn name(&self) -> &str {
        self.real.name()
    }

    fn schema(&self) -> &ProviderSchema {
        self.real.schema()
    }

    async fn configure(&self, config: &Value) -> Result<()> {
        self.sim.configure(config).await
    }

    fn validate(&self, type_name: &str, config: &Value) -> Vec<String> {
        self.real.validate(type_name, config)
    }

    fn plan(&self, type_name: &str, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        self.real.plan(type_name, prior, config)
    }

    async fn create(&self, ctx: &OpContext, type_name: &str, planned: &Value) -> Result<Value> {
        self.sim.create(ctx, type_name, planned).await
    }

    async fn read(&self, ctx: &OpContext, type_name: &str, state: &Value) -> Result<Option<Value>> {
        self.sim.read(ctx, type_name, state).await
    }

    async fn update(
        &self,
        ctx: &OpContext,
        type_name: &str,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value> {
        self.sim.update(ctx, type_name, prior, planned).await
    }

    async fn delete(&self, ctx: &OpContext, type_name: &str, state: &Value) -> Result<()> {
        self.sim.delete(ctx, type_name, state).await
    }

    async fn import(&self, ctx: &OpContext, type_name: &str, id: &str) -> Result<Value> {
        self.sim.import(ctx, type_name, id).await
    }

    async fn find_created(
        &self,
        ctx: &OpContext,
        type_name: &str,
        token: &str,
        planned: &Value,
    ) -> Result<Option<Value>> {
        self.sim.find_created(ctx, type_name, token, planned).await
    }

    async fn read_data(&self, ctx: &OpContext, type_name: &str, config: &Value) -> Result<Value> {
        if self.real.is_local_data_source(type_name) {
            return self.real.read_data(ctx, type_name, config).await;
        }
        self.sim.read_data(ctx, type_name, config).await
    }

    fn is_local_data_source(&self, type_name: &str) -> bool {
        self.real.is_local_data_source(type_name)
    }

    fn upgrade_state(&self, type_name: &str, from_version: u32, state: Value) -> Result<Value> {
        self.real.upgrade_state(type_name, from_version, state)
    }

    fn initial_concurrency(&self) -> Option<usize> {
        self.sim.initial_concurrency()
    }

    fn region(&self) -> Option<String> {
        self.sim.region()
    }

    /// The simulated account's numbers, with the real cloud's way to ask for more.
    async fn read_quota(&self, query: &QuotaQuery) -> Result<Option<QuotaReading>> {
        let mut reading = self.sim.read_quota(query).await?;
        if let Some(r) = &mut reading {
            if r.request_command.is_none() {
                let mut q = query.clone();
                q.region = q.region.or_else(|| self.sim.region());
                r.request_command = self.real.quota_request_command(&q);
            }
        }
        Ok(reading)
    }

    fn quota_request_command(&self, query: &QuotaQuery) -> Option<String> {
        self.real.quota_request_command(query)
    }

    fn catalog_cloud(&self) -> Option<&str> {
        self.real.catalog_cloud()
    }

    fn compute_model(&self, type_name: &str) -> Option<gantry_provider::ComputeModel> {
        self.real.compute_model(type_name)
    }

    /// Where the real provider says, from the object's own attributes; an object that lives
    /// in its configuration's region is in the simulated configuration's (the real provider
    /// is never configured under `--sim`).
    fn location_of(&self, type_name: &str, attributes: &Value) -> Option<String> {
        self.real
            .location_of(type_name, attributes)
            .or_else(|| self.sim.region())
    }

    fn quota_location_of(&self, type_name: &str, attributes: &Value) -> Option<String> {
        self.real
            .quota_location_of(type_name, attributes)
            .or_else(|| self.sim.region())
    }

    fn sim_model(&self) -> Option<Arc<dyn gantry_provider::SimModel>> {
        self.real.sim_model()
    }
}

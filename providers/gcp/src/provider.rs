//! [`GcpProvider`]: the provider trait over the resource types.

use crate::data::{self, DataSource};
use crate::resources::{self, Cx, ResourceType};
use crate::settings::{self, Settings};
use gantry_provider::attrs::Attrs;
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, OpContext, PlannedState, Provider, ProviderError, ProviderSchema, QuotaQuery,
    QuotaReading, SimModel, Value,
};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::OnceCell;

/// One configured Google Cloud provider (one `provider "google"` block: one project and
/// identity, a default region and zone).
pub struct GcpProvider {
    schema: ProviderSchema,
    resources: BTreeMap<&'static str, Box<dyn ResourceType>>,
    data: BTreeMap<&'static str, Box<dyn DataSource>>,
    settings: OnceCell<Settings>,
}

impl Default for GcpProvider {
    fn default() -> Self {
        GcpProvider::new()
    }
}

impl GcpProvider {
    pub fn new() -> GcpProvider {
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
        GcpProvider {
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

    fn resource(&self, type_name: &str) -> Result<&dyn ResourceType> {
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
impl Provider for GcpProvider {
    fn name(&self) -> &str {
        "google"
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
        // The engine plans data sources through this call too.
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
        let mut planned = resource.plan(schema, prior, config)?;
        // The project (and region) an object goes to are known once the provider is
        // configured: show them rather than "known after apply".
        if let (Some(settings), Value::Map(map)) = (self.settings.get(), &mut planned.value) {
            for (attr, value) in [
                ("project", Some(&settings.project)),
                ("region", settings.region.as_ref()),
            ] {
                if let (Some(value), Some(Value::Unknown(_))) = (value, map.get(attr)) {
                    map.insert(attr.to_owned(), Value::string(value.as_str()));
                }
            }
        }
        Ok(planned)
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
            // A data source whose configuration changed is read again.
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

    fn region(&self) -> Option<String> {
        self.settings.get().and_then(|s| s.region.clone())
    }

    async fn read_quota(&self, query: &QuotaQuery) -> Result<Option<QuotaReading>> {
        crate::quota::read(self.settings().await?, query).await
    }

    fn quota_request_command(&self, query: &QuotaQuery) -> Option<String> {
        let project = self.settings.get().map(|s| s.project.as_str());
        crate::quota::request_command(project, query)
    }

    async fn check_offered(&self, type_name: &str, planned: &Value) -> Result<Option<String>> {
        crate::offered::check(self.settings().await?, type_name, planned).await
    }

    fn initial_concurrency(&self) -> Option<usize> {
        // Compute Engine meters API calls per project per minute; start moderate and let
        // the engine's limiter find the rate.
        Some(16)
    }

    fn catalog_cloud(&self) -> Option<&str> {
        Some("gcp")
    }

    fn compute_model(&self, type_name: &str) -> Option<gantry_provider::ComputeModel> {
        crate::pricing::compute_model(type_name)
    }

    /// A regional or zonal object lives where its own `region`, `zone` or `location`
    /// says (a GKE node pool, whose `location` is known only once made: where its
    /// `node_locations` or its cluster's id say); a global one (networks, firewalls) is
    /// priced in the configuration's region.
    fn location_of(&self, _type_name: &str, attributes: &Value) -> Option<String> {
        let a = Attrs(attributes);
        let region_of =
            |l: &str| crate::sim_model::region_of_zone(l).unwrap_or_else(|| l.to_owned());
        let in_cluster = || {
            let id = a.str("cluster")?.strip_prefix("projects/")?;
            id.split('/').nth(2).map(region_of)
        };
        a.str("region")
            .map(str::to_owned)
            .or_else(|| a.str("zone").and_then(crate::sim_model::region_of_zone))
            .or_else(|| a.str("location").map(region_of))
            .or_else(|| {
                a.get("node_locations")
                    .and_then(Value::as_seq)
                    .and_then(|zones| zones.first()?.as_str().map(region_of))
            })
            .or_else(in_cluster)
            .or_else(|| self.region())
    }

    /// Cloud TPU keeps its quotas per zone: a TPU VM's are counted in its zone.
    fn quota_location_of(&self, type_name: &str, attributes: &Value) -> Option<String> {
        if type_name == "google_tpu_v2_vm" {
            let zone = Attrs(attributes)
                .str("zone")
                .map(str::to_owned)
                .or_else(|| self.settings.get().and_then(|s| s.zone.clone()));
            if zone.is_some() {
                return zone;
            }
        }
        self.location_of(type_name, attributes)
    }

    fn sim_model(&self) -> Option<Arc<dyn SimModel>> {
        Some(Arc::new(crate::sim_model::GcpSimModel))
    }
}

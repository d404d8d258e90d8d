//! [`AwsProvider`]: the provider trait over the resource types and data sources.

use crate::data::{self, DataSource};
use crate::resources::{self, Cx, ResourceType};
use crate::settings::{self, Settings};
use crate::tags;
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, OpContext, PlannedState, Provider, ProviderError, ProviderSchema, QuotaQuery,
    QuotaReading, Value,
};
use std::collections::BTreeMap;
use tokio::sync::OnceCell;

/// One configured AWS provider (one `provider "aws"` block: one region and identity).
pub struct AwsProvider {
    schema: ProviderSchema,
    resources: BTreeMap<&'static str, Box<dyn ResourceType>>,
    data: BTreeMap<&'static str, Box<dyn DataSource>>,
    settings: OnceCell<Settings>,
}

impl Default for AwsProvider {
    fn default() -> Self {
        AwsProvider::new()
    }
}

impl AwsProvider {
    pub fn new() -> AwsProvider {
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
        AwsProvider {
            schema,
            resources,
            data,
            settings: OnceCell::new(),
        }
    }

    /// The configured settings; an implicit (empty) configuration when no block was given.
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
}

#[async_trait]
impl Provider for AwsProvider {
    fn name(&self) -> &str {
        "aws"
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    async fn configure(&self, config: &Value) -> Result<()> {
        let settings = settings::configure(config).await?;
        // A second configure of the same instance keeps the first: instances are made per
        // provider block, so this only happens when the engine retries.
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
        // The engine plans data sources through this call too (it does not say which kind
        // it means: a resource type wins when both exist).
        if let (false, Some(schema)) = (
            self.resources.contains_key(type_name),
            self.schema.data_sources.get(type_name),
        ) {
            return Ok(data::plan(schema, prior, config));
        }
        let resource = self.resource(type_name)?;
        let schema = self.schema.resources.get(type_name).ok_or_else(|| {
            ProviderError::invalid(format!("unknown resource type `{type_name}`"))
        })?;
        let mut planned = resource.plan(schema, prior, config)?;
        // tags_all is known at plan time once the provider is configured: show it.
        if schema.attributes.contains_key("tags_all") {
            if let (Some(settings), Value::Map(map)) = (self.settings.get(), &mut planned.value) {
                let tags_known = config
                    .as_map()
                    .and_then(|m| m.get("tags"))
                    .is_none_or(Value::is_wholly_known);
                if tags_known {
                    let all = tags::merged(&settings.default_tags, config);
                    map.insert("tags_all".into(), crate::attrs::str_map(&all));
                }
            }
        }
        Ok(planned)
    }

    async fn create(&self, ctx: &OpContext, type_name: &str, planned: &Value) -> Result<Value> {
        let cx = Cx {
            op: ctx,
            settings: self.settings().await?,
        };
        self.resource(type_name)?.create(&cx, planned).await
    }

    async fn read(&self, ctx: &OpContext, type_name: &str, state: &Value) -> Result<Option<Value>> {
        let cx = Cx {
            op: ctx,
            settings: self.settings().await?,
        };
        self.resource(type_name)?.read(&cx, state).await
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
        let cx = Cx {
            op: ctx,
            settings: self.settings().await?,
        };
        self.resource(type_name)?.update(&cx, prior, planned).await
    }

    async fn delete(&self, ctx: &OpContext, type_name: &str, state: &Value) -> Result<()> {
        let cx = Cx {
            op: ctx,
            settings: self.settings().await?,
        };
        self.resource(type_name)?.delete(&cx, state).await
    }

    async fn import(&self, ctx: &OpContext, type_name: &str, id: &str) -> Result<Value> {
        let cx = Cx {
            op: ctx,
            settings: self.settings().await?,
        };
        self.resource(type_name)?
            .import(&cx, id)
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
        let cx = Cx {
            op: ctx,
            settings: self.settings().await?,
        };
        self.resource(type_name)?
            .find_created(&cx, token, planned)
            .await
    }

    async fn read_data(&self, ctx: &OpContext, type_name: &str, config: &Value) -> Result<Value> {
        // Computed from the configuration alone: no credentials or region needed.
        if type_name == "aws_iam_policy_document" {
            return crate::data::iam_policy_document::render(config);
        }
        let cx = Cx {
            op: ctx,
            settings: self.settings().await?,
        };
        let source = self
            .data
            .get(type_name)
            .ok_or_else(|| ProviderError::invalid(format!("unknown data source `{type_name}`")))?;
        source.read(&cx, config).await
    }

    fn is_local_data_source(&self, type_name: &str) -> bool {
        type_name == "aws_iam_policy_document"
    }

    fn region(&self) -> Option<String> {
        // Known once configured; configuring (credentials, STS) is not done for this.
        self.settings.get().map(|s| s.clients.region.clone())
    }

    async fn read_quota(&self, query: &QuotaQuery) -> Result<Option<QuotaReading>> {
        crate::quota::read(self.settings().await?, query).await
    }

    fn initial_concurrency(&self) -> Option<usize> {
        // AWS meters mutating calls per account and region; start moderate and let the
        // engine's AIMD limiter find the rate.
        Some(32)
    }

    fn catalog_cloud(&self) -> Option<&str> {
        Some("aws")
    }

    fn quota_request_command(&self, query: &QuotaQuery) -> Option<String> {
        let region = query.region.clone().or_else(|| self.region());
        Some(crate::quota::request_command(query, region.as_deref()))
    }

    fn compute_model(&self, type_name: &str) -> Option<gantry_provider::ComputeModel> {
        crate::pricing::compute_model(type_name)
    }
}

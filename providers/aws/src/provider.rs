//! [`AwsProvider`]: the provider trait over the resource types and data sources.

use crate::data::{self, DataSource};
use crate::resources::{self, Cx, ResourceType};
use crate::settings::{self, Settings};
use crate::tags;
use gantry_provider::provider::Result;
use gantry_provider::{
    async_trait, ComputeModel, OpContext, PlannedState, Provider, ProviderError, ProviderSchema,
    QuotaQuery, QuotaReading, SimModel, Value,
};
use std::collections::BTreeMap;
use std::sync::Arc;
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

    fn compute_model(&self, type_name: &str) -> Option<ComputeModel> {
        crate::pricing::compute_model(type_name)
    }

    /// Every AWS resource lives in its provider configuration's region (a subnet's zone is
    /// inside it): prices and quotas are the region's.
    fn location_of(&self, _type_name: &str, _attributes: &Value) -> Option<String> {
        self.region()
    }

    fn sim_model(&self) -> Option<Arc<dyn SimModel>> {
        Some(Arc::new(crate::sim_model::AwsSimModel))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The value at a `ComputeModel` path (dotted; a number indexes a list, or selects a
    /// single nested block itself), as the engine reads it.
    fn at<'a>(value: &'a Value, path: &str) -> Option<&'a Value> {
        path.split('.')
            .try_fold(value, |v, part| match part.parse::<usize>() {
                Ok(i) => match v {
                    Value::List(items) | Value::Set(items) => items.get(i),
                    single @ Value::Map(_) if i == 0 => Some(single),
                    _ => None,
                },
                Err(_) => v.as_map()?.get(part),
            })
    }

    #[test]
    fn the_seam_names_the_cloud_and_where_compute_is_described() {
        let aws = AwsProvider::new();
        assert_eq!(aws.catalog_cloud(), Some("aws"));
        assert!(aws.sim_model().is_some());
        assert_eq!(aws.compute_model("aws_vpc"), None);
        // Not configured: no region to locate anything in yet.
        assert_eq!(aws.location_of("aws_instance", &Value::Null), None);
        for t in ["aws_instance", "aws_eks_node_group"] {
            let model = aws.compute_model(t);
            assert!(model.is_some(), "{t}");
        }
    }

    #[test]
    fn compute_paths_point_into_the_resources_schemas() {
        let spot_instance = Value::map([
            ("instance_type", Value::string("p5.48xlarge")),
            (
                "instance_market_options",
                Value::List(vec![Value::map([("market_type", Value::string("spot"))])]),
            ),
        ]);
        let model = crate::pricing::compute_model("aws_instance").expect("instance model");
        assert_eq!(
            at(&spot_instance, model.type_path).and_then(Value::as_str),
            Some("p5.48xlarge")
        );
        let (path, value) = model.spot_when[0];
        assert_eq!(
            at(&spot_instance, path).and_then(Value::as_str),
            Some(value)
        );
        let group = Value::map([
            (
                "instance_types",
                Value::List(vec![Value::string("p4d.24xlarge")]),
            ),
            (
                "scaling_config",
                Value::map([
                    ("desired_size", Value::Number(2.0)),
                    ("min_size", Value::Number(0.0)),
                    ("max_size", Value::Number(4.0)),
                ]),
            ),
            ("capacity_type", Value::string("SPOT")),
        ]);
        let model = crate::pricing::compute_model("aws_eks_node_group").expect("node group model");
        assert_eq!(
            at(&group, model.type_path).and_then(Value::as_str),
            Some("p4d.24xlarge")
        );
        assert_eq!(at(&group, model.count_paths[0]), Some(&Value::Number(2.0)));
        assert_eq!(at(&group, model.max_paths[0]), Some(&Value::Number(4.0)));
        let (path, value) = model.spot_when[0];
        let found = at(&group, path).and_then(Value::as_str).unwrap_or_default();
        assert!(found.eq_ignore_ascii_case(value));
        // The paths name attributes and blocks the schemas declare.
        let aws = AwsProvider::new();
        let schema = |t: &str| aws.schema().resources.get(t).cloned().unwrap_or_default();
        assert!(schema("aws_instance")
            .attributes
            .contains_key("instance_type"));
        assert!(schema("aws_instance")
            .blocks
            .contains_key("instance_market_options"));
        let group_schema = schema("aws_eks_node_group");
        assert!(group_schema.attributes.contains_key("instance_types"));
        assert!(group_schema.attributes.contains_key("capacity_type"));
        assert!(group_schema.blocks.contains_key("scaling_config"));
    }

    #[test]
    fn every_type_that_waits_declares_terraforms_timeouts() {
        use std::time::Duration;
        let min = |m: u64| Some(Duration::from_secs(m * 60));
        let aws = AwsProvider::new();
        let timeouts = |t: &str| {
            aws.schema()
                .resources
                .get(t)
                .map(|s| s.timeouts)
                .unwrap_or_default()
        };
        let expected = [
            ("aws_instance", (min(10), min(10), min(20))),
            ("aws_eks_cluster", (min(30), min(60), min(15))),
            ("aws_eks_node_group", (min(60), min(60), min(60))),
            ("aws_fsx_lustre_file_system", (min(30), min(30), min(30))),
            (
                "aws_fsx_data_repository_association",
                (min(10), min(10), min(10)),
            ),
            ("aws_efs_file_system", (min(10), min(10), min(10))),
            ("aws_sagemaker_domain", (min(20), min(20), min(20))),
            (
                "aws_sagemaker_notebook_instance",
                (min(60), min(60), min(10)),
            ),
            ("aws_nat_gateway", (min(10), min(10), min(30))),
            ("aws_subnet", (min(10), None, min(20))),
            ("aws_placement_group", (min(5), None, min(5))),
        ];
        for (t, (create, update, delete)) in expected {
            let got = timeouts(t);
            assert_eq!(
                (got.create, got.update, got.delete),
                (create, update, delete),
                "{t}"
            );
        }
        // A type that never waits declares none.
        assert_eq!(timeouts("aws_vpc"), gantry_provider::Timeouts::default());
    }
}

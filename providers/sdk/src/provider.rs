//! The provider interface: one async trait, called in-process by the engine. A provider
//! declares schemas and implements the operations; planning has a default derived from the
//! schema so most resources only implement create, read, update and delete.

use crate::error::ProviderError;
use crate::plan::{plan_from_schema, PlannedState};
use crate::quota::{QuotaQuery, QuotaReading};
use crate::schema::ProviderSchema;
use crate::value::Value;
use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

/// What an operation knows about the run it belongs to.
#[derive(Clone, Debug)]
pub struct OpContext {
    /// Cancelled on Ctrl-C: long waits should stop and return promptly.
    pub cancel: CancellationToken,
    /// For creates: a token unique to this planned create, stable across retries and across
    /// a crashed run and its recovery (EC2 ClientToken, GCP requestId).
    pub idempotency_token: Option<String>,
    /// The resource instance address, for `gantry:address` tags and labels.
    pub address: String,
    /// The stack's name, for the `gantry:stack` tag.
    pub stack: String,
}

impl OpContext {
    pub fn new(address: impl Into<String>) -> OpContext {
        OpContext {
            cancel: CancellationToken::new(),
            idempotency_token: None,
            address: address.into(),
            stack: String::new(),
        }
    }
}

pub type Result<T> = std::result::Result<T, ProviderError>;

/// A provider: one cloud (or the built-in resources, or a simulated cloud).
#[async_trait]
pub trait Provider: Send + Sync {
    /// The provider's name as used in stacks (`aws`, `google`, `gantry`).
    fn name(&self) -> &str;

    /// Schemas of the configuration, resources and data sources.
    fn schema(&self) -> &ProviderSchema;

    /// Applies the `provider "<name>" { ... }` block (already checked against the schema).
    async fn configure(&self, _config: &Value) -> Result<()> {
        Ok(())
    }

    /// Extra checks beyond the schema; messages are shown as diagnostics.
    fn validate(&self, _type_name: &str, _config: &Value) -> Vec<String> {
        Vec::new()
    }

    /// Plans the new state of one resource. The default follows the schema: a changed
    /// force-new attribute means replace; computed attributes of a new object are unknown.
    fn plan(&self, type_name: &str, prior: Option<&Value>, config: &Value) -> Result<PlannedState> {
        let schema = self.schema().resources.get(type_name).ok_or_else(|| {
            ProviderError::invalid(format!("unknown resource type `{type_name}`"))
        })?;
        Ok(plan_from_schema(schema, prior, config))
    }

    /// Creates the object; returns its full state.
    async fn create(&self, ctx: &OpContext, type_name: &str, planned: &Value) -> Result<Value>;

    /// Reads the object's current state; `None` when it no longer exists.
    async fn read(&self, ctx: &OpContext, type_name: &str, state: &Value) -> Result<Option<Value>>;

    /// Changes the object in place.
    async fn update(
        &self,
        ctx: &OpContext,
        type_name: &str,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value>;

    /// Deletes the object. Deleting something already gone is not an error.
    async fn delete(&self, ctx: &OpContext, type_name: &str, state: &Value) -> Result<()>;

    /// Finds an object by its cloud id, for `gantry import`.
    async fn import(&self, ctx: &OpContext, type_name: &str, id: &str) -> Result<Value> {
        let _ = (ctx, id);
        Err(ProviderError::invalid(format!(
            "`{type_name}` does not support import"
        )))
    }

    /// Finds an object a crashed run may have created: by idempotency token, then by the
    /// `gantry:address` tag. `None` when nothing was created.
    async fn find_created(
        &self,
        ctx: &OpContext,
        type_name: &str,
        token: &str,
    ) -> Result<Option<Value>>;

    /// Reads a data source.
    async fn read_data(&self, ctx: &OpContext, type_name: &str, config: &Value) -> Result<Value> {
        let _ = (ctx, config);
        Err(ProviderError::invalid(format!(
            "unknown data source `{type_name}`"
        )))
    }

    /// True for data sources computed from their configuration alone, without calling the
    /// cloud (`aws_iam_policy_document`): the simulated twin asks the real provider for them.
    fn is_local_data_source(&self, _type_name: &str) -> bool {
        false
    }

    /// Upgrades state written with an older schema version to the current one.
    fn upgrade_state(&self, _type_name: &str, _from_version: u32, state: Value) -> Result<Value> {
        Ok(state)
    }

    /// The region (or location) this configuration works in, for prices and quotas.
    fn region(&self) -> Option<String> {
        None
    }

    /// Reads an account quota and its current usage for the quota pre-flight of a plan.
    /// `Ok(None)`: this provider cannot check that quota (the plan says it was not checked).
    async fn read_quota(&self, query: &QuotaQuery) -> Result<Option<QuotaReading>> {
        let _ = query;
        Ok(None)
    }

    /// How many operations may run at once before the provider has said anything about
    /// throttling (`None`: no limit of its own).
    fn initial_concurrency(&self) -> Option<usize> {
        None
    }
}

//! The provider interface: one async trait, called in-process by the engine. A provider
//! declares schemas and implements the operations; planning has a default derived from the
//! schema so most resources only implement create, read, update and delete.

use crate::error::ProviderError;
use crate::plan::{plan_from_schema, PlannedState};
use crate::quota::{QuotaQuery, QuotaReading};
use crate::schema::ProviderSchema;
use crate::value::Value;
use async_trait::async_trait;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// What an operation knows about the run it belongs to.
#[derive(Clone, Debug)]
pub struct OpContext {
    /// Cancelled on Ctrl-C: long waits should stop and return promptly.
    pub cancel: CancellationToken,
    /// For creates: a token unique to this planned create, stable across retries and across
    /// a crashed run and its recovery (EC2 ClientToken, GCP requestId). Providers also put
    /// it on the object ([`OpContext::identity`]) so that recovery can tell this create's
    /// object from any other.
    pub idempotency_token: Option<String>,
    /// The resource instance address, for `gantry:address` tags and labels.
    pub address: String,
    /// The stack's stable identity (recorded in state, the same on every machine), for the
    /// `gantry:stack` tag. Never a local path.
    pub stack: String,
    /// How long this operation may wait for the object (the resource's `timeouts` block,
    /// else the type's default); `None`: the provider's own bound.
    pub timeout: Option<Duration>,
}

impl OpContext {
    pub fn new(address: impl Into<String>) -> OpContext {
        OpContext {
            cancel: CancellationToken::new(),
            idempotency_token: None,
            address: address.into(),
            stack: String::new(),
            timeout: None,
        }
    }

    /// The marks gantry puts on every object it creates (as tags or labels), each present
    /// only when known: `stack`, `address` and `token`. An object is this create's only
    /// when it carries all three with these values (see [`OpContext::is_ours`]).
    pub fn identity(&self) -> Vec<(&'static str, &str)> {
        let mut out = Vec::with_capacity(3);
        if !self.stack.is_empty() {
            out.push(("stack", self.stack.as_str()));
        }
        if !self.address.is_empty() {
            out.push(("address", self.address.as_str()));
        }
        if let Some(token) = self.idempotency_token.as_deref().filter(|t| !t.is_empty()) {
            out.push(("token", token));
        }
        out
    }

    /// True when an object's marks (`stack`, `address`, `token` read back from its tags or
    /// labels) prove it is the object this create made: all three are known and equal.
    /// Anything less (another stack's object, a deposed predecessor at the same address,
    /// an object tagged by hand) is not adopted.
    pub fn is_ours(&self, stack: Option<&str>, address: Option<&str>, token: Option<&str>) -> bool {
        let token_wanted = self.idempotency_token.as_deref().unwrap_or_default();
        !self.stack.is_empty()
            && !self.address.is_empty()
            && !token_wanted.is_empty()
            && stack == Some(self.stack.as_str())
            && address == Some(self.address.as_str())
            && token == Some(token_wanted)
    }

    /// The operation's deadline: `timeout` when the engine gave one, else `default`.
    pub fn timeout_or(&self, default: Duration) -> Duration {
        self.timeout.unwrap_or(default)
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

    /// Finds the object a create with this token made, when the engine cannot know whether
    /// it happened (the run was killed during the call, or the call's answer was lost).
    /// `ctx` carries the stack identity, address and token (`ctx.idempotency_token ==
    /// Some(token)`); `planned` is the configuration the create was sent with, so an object
    /// can be looked up by its name where the cloud has names.
    ///
    /// Only an object that provably is this create's may be returned: matched by the cloud's
    /// own idempotency token, or carrying all three marks of [`OpContext::identity`], or,
    /// for an object with no identity of its own (an attachment, an association, a setting
    /// of a parent object), wholly defined by `planned` on parents that are this stack's.
    /// Never "any object with this address", never a deposed predecessor (its token
    /// differs).
    /// `Ok(None)`: no such object exists. An error: the cloud could not be asked; the engine
    /// then refuses to create the address again until it can.
    async fn find_created(
        &self,
        ctx: &OpContext,
        type_name: &str,
        token: &str,
        planned: &Value,
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

    /// Whether the cloud offers what a create asks for where it asks (a TPU slice in its
    /// zone), checked at plan so an apply does not start what cannot be made. `Ok(None)`:
    /// offered, or nothing to check; `Ok(Some(why))`: not offered, with the cloud's reason
    /// and where it is offered instead. Errors reading the cloud are the caller's to report
    /// as unchecked.
    async fn check_offered(&self, type_name: &str, planned: &Value) -> Result<Option<String>> {
        let _ = (type_name, planned);
        Ok(None)
    }

    /// The command that asks the cloud for more of a quota (`{desired}` stands for the
    /// limit needed), for the message of a plan that needs more than the account has.
    fn quota_request_command(&self, query: &QuotaQuery) -> Option<String> {
        let _ = query;
        None
    }

    /// How many operations may run at once before the provider has said anything about
    /// throttling (`None`: no limit of its own).
    fn initial_concurrency(&self) -> Option<usize> {
        None
    }

    /// The cloud's name in the accelerator catalog (`aws`, `gcp`, `azure`): its instance
    /// types, rates and quotas are looked up under it. `None`: nothing is priced.
    fn catalog_cloud(&self) -> Option<&str> {
        None
    }

    /// How to find the compute a resource of `type_name` runs (for its price and quota);
    /// `None` for resources that are priced by the catalog's rates, if at all.
    fn compute_model(&self, type_name: &str) -> Option<crate::pricing::ComputeModel> {
        let _ = type_name;
        None
    }

    /// The region an object with these attributes lives in, for prices and quotas: its own
    /// zone or location where it names one, else the configuration's region.
    fn location_of(&self, type_name: &str, attributes: &Value) -> Option<String> {
        let _ = (type_name, attributes);
        self.region()
    }

    /// Where the quotas of an object with these attributes are counted: its region (the
    /// default), or its zone for a type whose quotas the cloud keeps per zone (Cloud TPU).
    fn quota_location_of(&self, type_name: &str, attributes: &Value) -> Option<String> {
        self.location_of(type_name, attributes)
    }

    /// What the simulated twin of this provider needs to know about the cloud.
    fn sim_model(&self) -> Option<std::sync::Arc<dyn crate::sim::SimModel>> {
        None
    }
}

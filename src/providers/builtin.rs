//! The built-in `gantry` provider and its one resource, `gantry_data`: stores `input`,
//! exposes it as `output`, and is replaced whenever `triggers_replace` changes. It needs no
//! cloud; its state is its only storage. The same provider is also registered as
//! `terraform` with `terraform_data`, so Terraform stacks that use it load unchanged.

use gantry_provider::{
    async_trait, Attribute, OpContext, PlannedState, Provider, ProviderError, ProviderSchema,
    Schema, Type, Value,
};

/// The types the built-in providers hold: each provider name with its one resource type.
pub const BUILTIN_TYPES: [(&str, &str); 2] =
    [("gantry", "gantry_data"), ("terraform", "terraform_data")];

pub struct GantryProvider {
    name: &'static str,
    schema: ProviderSchema,
}

impl Default for GantryProvider {
    fn default() -> Self {
        GantryProvider::new()
    }
}

impl GantryProvider {
    /// The `gantry` provider.
    pub fn new() -> GantryProvider {
        GantryProvider::named(BUILTIN_TYPES[0])
    }

    /// The built-in provider under one of its names ([`BUILTIN_TYPES`]).
    pub fn named((name, type_name): (&'static str, &'static str)) -> GantryProvider {
        let mut schema = ProviderSchema::default();
        schema
            .resources
            .insert(type_name.to_owned(), gantry_data_schema());
        GantryProvider { name, schema }
    }
}

/// The schema of `gantry_data`.
pub fn gantry_data_schema() -> Schema {
    Schema::default()
        .attr(
            "id",
            Attribute::computed(Type::String).describe("a unique id"),
        )
        .attr(
            "input",
            Attribute::optional(Type::Any).describe("any value, stored as is"),
        )
        .attr(
            "output",
            Attribute::computed(Type::Any).describe("the stored `input`"),
        )
        .attr(
            "triggers_replace",
            Attribute::optional(Type::Any)
                .force_new()
                .describe("replace when this changes"),
        )
}

/// `output` follows `input`: known when the input is, at plan time.
pub fn plan_gantry_data(schema: &Schema, prior: Option<&Value>, config: &Value) -> PlannedState {
    let mut planned = gantry_provider::plan_from_schema(schema, prior, config);
    if let Value::Map(map) = &mut planned.value {
        let input = map.get("input").cloned().unwrap_or(Value::Null);
        map.insert("output".to_owned(), input);
    }
    planned
}

fn with_id(planned: &Value, id: String) -> Value {
    let mut v = planned.clone();
    if let Value::Map(map) = &mut v {
        map.insert("id".to_owned(), Value::String(id));
    }
    v
}

#[async_trait]
impl Provider for GantryProvider {
    fn name(&self) -> &str {
        self.name
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    fn plan(
        &self,
        type_name: &str,
        prior: Option<&Value>,
        config: &Value,
    ) -> gantry_provider::provider::Result<PlannedState> {
        let schema = self.schema.resources.get(type_name).ok_or_else(|| {
            ProviderError::invalid(format!("unknown resource type `{type_name}`"))
        })?;
        Ok(plan_gantry_data(schema, prior, config))
    }

    async fn create(
        &self,
        ctx: &OpContext,
        _t: &str,
        planned: &Value,
    ) -> gantry_provider::provider::Result<Value> {
        // The idempotency token doubles as the id, so a create replayed after a crash is
        // the same object.
        let id = ctx
            .idempotency_token
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        Ok(with_id(planned, id))
    }

    async fn read(
        &self,
        _ctx: &OpContext,
        _t: &str,
        state: &Value,
    ) -> gantry_provider::provider::Result<Option<Value>> {
        Ok(Some(state.clone()))
    }

    async fn update(
        &self,
        _ctx: &OpContext,
        _t: &str,
        prior: &Value,
        planned: &Value,
    ) -> gantry_provider::provider::Result<Value> {
        let id = prior
            .as_map()
            .and_then(|m| m.get("id"))
            .and_then(Value::as_str)
            .unwrap_or_default();
        Ok(with_id(planned, id.to_owned()))
    }

    async fn delete(
        &self,
        _ctx: &OpContext,
        _t: &str,
        _state: &Value,
    ) -> gantry_provider::provider::Result<()> {
        Ok(())
    }

    async fn import(
        &self,
        _ctx: &OpContext,
        _t: &str,
        id: &str,
    ) -> gantry_provider::provider::Result<Value> {
        Ok(Value::map([
            ("id", Value::from(id)),
            ("input", Value::Null),
            ("output", Value::Null),
            ("triggers_replace", Value::Null),
        ]))
    }

    /// Nothing outside the state holds a `gantry_data`: an interrupted create left nothing.
    async fn find_created(
        &self,
        _ctx: &OpContext,
        _t: &str,
        _token: &str,
        _planned: &Value,
    ) -> gantry_provider::provider::Result<Option<Value>> {
        Ok(None)
    }
}

//! [`SimProvider`]: the simulated twin of a real provider. Built from the real provider's
//! name and schema, it serves every resource type and data source of that schema with no
//! per-type code: creates are idempotent by token and fill computed attributes, references
//! between objects are enforced, and latency, faults, capacity and quotas come from
//! [`Knobs`]. Per-type behaviour can be added with [`SimHooks`].

use crate::chaos::Chaos;
use crate::fill::{self, Generator};
use crate::ids::{self, Entropy};
use crate::knobs::Knobs;
use crate::limits;
use crate::refs;
use crate::world::{SimObject, SimWorld, Txn};
use gantry_provider::{
    async_trait, ErrorClass, IdStyle, OpContext, Provider, ProviderError, ProviderSchema,
    QuotaQuery, QuotaReading, Schema, SimModel, SimWorldView, Value,
};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, PoisonError};

type Result<T> = std::result::Result<T, ProviderError>;

/// The region used when neither the object nor the provider configuration names one.
pub const DEFAULT_REGION: &str = "us-east-1";
/// The time every object is created at when the knobs are seeded: 2025-01-01T00:00:00Z.
pub const SEEDED_EPOCH: u64 = 1_735_689_600;

/// Behaviour of one resource type beyond the schema. Hooks see and may change the
/// attributes as JSON, after computed attributes are filled and before the world is
/// changed; an error fails the operation and leaves the world as it was. They run under
/// the world's lock: keep them quick.
pub trait SimHooks: Send + Sync {
    fn on_create(&self, _type_name: &str, _attributes: &mut serde_json::Value) -> Result<()> {
        Ok(())
    }

    fn on_update(
        &self,
        _type_name: &str,
        _prior: &serde_json::Value,
        _attributes: &mut serde_json::Value,
    ) -> Result<()> {
        Ok(())
    }

    fn on_delete(&self, _type_name: &str, _attributes: &serde_json::Value) -> Result<()> {
        Ok(())
    }

    fn on_read_data(&self, _type_name: &str, _attributes: &mut serde_json::Value) -> Result<()> {
        Ok(())
    }
}

/// A simulated provider.
pub struct SimProvider {
    name: String,
    schema: ProviderSchema,
    world: Arc<SimWorld>,
    knobs: Knobs,
    ids: Entropy,
    chaos: Chaos,
    hooks: HashMap<String, Arc<dyn SimHooks>>,
    region: Mutex<Option<String>>,
    /// The plain string settings of the provider block (`project`, `zone`): a computed
    /// attribute or an id part of the same name that the configuration leaves open takes
    /// them, as the real provider would.
    settings: Mutex<BTreeMap<String, String>>,
    /// What the real provider says its cloud looks like: ids, codes, computed values.
    model: Option<Arc<dyn SimModel>>,
}

impl std::fmt::Debug for SimProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SimProvider")
            .field("name", &self.name)
            .field("knobs", &self.knobs)
            .finish_non_exhaustive()
    }
}

impl SimProvider {
    /// The twin of the provider `name` with `schema`, living in `world`.
    pub fn new(
        name: impl Into<String>,
        schema: ProviderSchema,
        world: Arc<SimWorld>,
        knobs: Knobs,
    ) -> SimProvider {
        let name = name.into();
        let provider = SimProvider {
            ids: Entropy::new(knobs.seed),
            chaos: Chaos::new(&knobs, &name),
            name,
            schema,
            world,
            knobs,
            hooks: HashMap::new(),
            region: Mutex::new(None),
            settings: Mutex::new(BTreeMap::new()),
            model: None,
        };
        provider.register_prefixes();
        provider
    }

    /// Makes the twin look like the cloud `model` describes (the real provider's
    /// [`Provider::sim_model`]).
    pub fn with_model(mut self, model: Arc<dyn SimModel>) -> SimProvider {
        self.model = Some(model);
        self.register_prefixes();
        self
    }

    /// Tells the world which type each id prefix belongs to, so references are checked.
    fn register_prefixes(&self) {
        for type_name in self.schema.resources.keys() {
            if let IdStyle::Prefixed(prefix) = self.id_style(type_name) {
                self.world.register_prefix(&prefix, type_name);
            }
        }
    }

    /// How ids of `type_name` look: as the model says, else `<initials>-<hex>`.
    fn id_style(&self, type_name: &str) -> IdStyle {
        self.model
            .as_ref()
            .and_then(|m| m.id_style(type_name))
            .unwrap_or_else(|| IdStyle::Prefixed(ids::initials(type_name)))
    }

    /// The cloud's code for a missing object of `type_name`.
    fn not_found_code(&self, type_name: &str) -> String {
        self.model
            .as_ref()
            .and_then(|m| m.not_found_code(type_name))
            .unwrap_or_else(|| "ResourceNotFound".to_owned())
    }

    /// Adds behaviour for `type_name` (a resource type or data source).
    pub fn with_hook(
        mut self,
        type_name: impl Into<String>,
        hook: Arc<dyn SimHooks>,
    ) -> SimProvider {
        self.hooks.insert(type_name.into(), hook);
        self
    }

    pub fn world(&self) -> &Arc<SimWorld> {
        &self.world
    }

    pub fn knobs(&self) -> &Knobs {
        &self.knobs
    }

    fn resource_schema(&self, type_name: &str) -> Result<&Schema> {
        self.schema.resources.get(type_name).ok_or_else(|| {
            ProviderError::invalid(format!(
                "provider `{}` has no resource type `{type_name}`",
                self.name
            ))
        })
    }

    fn hook(&self, type_name: &str) -> Option<&dyn SimHooks> {
        self.hooks.get(type_name).map(|h| &**h)
    }

    fn now(&self) -> u64 {
        if self.knobs.seed.is_some() {
            return SEEDED_EPOCH;
        }
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(SEEDED_EPOCH, |d| d.as_secs())
    }

    /// The object's region: its `region`, else its zone's, else the provider's.
    fn region_of(&self, attributes: &Value) -> String {
        let attr = |name: &str| {
            attributes
                .as_map()
                .and_then(|m| m.get(name))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
        };
        if let Some(region) = attr("region") {
            return region.to_owned();
        }
        if let Some(zone) = attr("availability_zone").or_else(|| attr("zone")) {
            if let Some(region) = self.model.as_ref().and_then(|m| m.region_of_zone(zone)) {
                return region;
            }
        }
        self.region
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .unwrap_or_else(|| DEFAULT_REGION.to_owned())
    }

    /// The id of a new object: configured, its name (placement groups), or generated
    /// (derived from the seed and the token or address when seeded).
    fn choose_id(
        &self,
        txn: &Txn<'_>,
        type_name: &str,
        planned: &Value,
        ctx: &OpContext,
    ) -> String {
        if let Some(id) = string_attr(planned, "id") {
            return id.to_owned();
        }
        let (prefix, template) = match self.id_style(type_name) {
            IdStyle::Attribute(attr) => match string_attr(planned, &attr) {
                Some(name) => return name.to_owned(),
                None => (ids::initials(type_name), None),
            },
            IdStyle::Template(t) => (ids::initials(type_name), Some(t)),
            IdStyle::Prefixed(prefix) => (prefix, None),
        };
        let basis = ctx.idempotency_token.as_deref().unwrap_or(&ctx.address);
        let mut attempt: u32 = 0;
        loop {
            let bits = self.ids.derive(&[
                self.name.as_bytes(),
                type_name.as_bytes(),
                basis.as_bytes(),
                &attempt.to_le_bytes(),
            ]);
            let generated = ids::format_id(&prefix, bits);
            let id = match &template {
                Some(t) => fill_template(t, planned, &self.settings(), &generated),
                None => generated,
            };
            if !txn.id_exists(&id) {
                return id;
            }
            attempt += 1;
        }
    }

    fn not_found(&self, type_name: &str, id: &str) -> ProviderError {
        ProviderError::not_found(format!(
            "The {} ID '{id}' does not exist",
            ids::short_type(type_name).replace('_', " ")
        ))
        .with_code(self.not_found_code(type_name))
    }

    /// Fills in what computed attributes the plan left open.
    #[allow(clippy::too_many_arguments)]
    fn generator<'g>(
        &'g self,
        type_name: &'g str,
        id: &'g str,
        region: &'g str,
        now: &'g str,
        planned: &'g Value,
        world: &'g dyn SimWorldView,
    ) -> Generator<'g> {
        Generator {
            type_name,
            id,
            region,
            now,
            model: self.model.as_deref(),
            world,
            planned,
            serial: ids::stable_hash(&[id.as_bytes()]),
            settings: self.settings(),
        }
    }

    fn settings(&self) -> BTreeMap<String, String> {
        self.settings
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The world as a model sees it while an object is made.
struct TxnView<'t, 'w>(&'t Txn<'w>);

impl SimWorldView for TxnView<'_, '_> {
    fn object(&self, id: &str) -> Option<Value> {
        self.0.by_id(id).map(|o| Value::from_json(&o.attributes))
    }
}

/// `{name}` in `template` replaced by the planned attribute (else the provider setting of
/// that name), `{id}` by `generated`.
fn fill_template(
    template: &str,
    planned: &Value,
    settings: &BTreeMap<String, String>,
    generated: &str,
) -> String {
    let mut out = String::new();
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(end) = rest[start..].find('}') else {
            break;
        };
        let key = &rest[start + 1..start + end];
        if key == "id" {
            out.push_str(generated);
        } else {
            let from_settings = settings.get(key).map(String::as_str);
            out.push_str(
                string_attr(planned, key)
                    .or(from_settings)
                    .unwrap_or(generated),
            );
        }
        rest = &rest[start + end + 1..];
    }
    out.push_str(rest);
    out
}

/// A known, non-empty string attribute of an object value.
fn string_attr<'v>(value: &'v Value, name: &str) -> Option<&'v str> {
    value
        .as_map()?
        .get(name)?
        .as_str()
        .filter(|s| !s.is_empty())
}

/// The final id after hooks: theirs when they set one, else `id` (which is written back).
fn settle_id(attributes: &mut serde_json::Value, id: String) -> String {
    let from_hook = attributes
        .get("id")
        .and_then(serde_json::Value::as_str)
        .filter(|s| !s.is_empty());
    let id = from_hook.map_or(id, str::to_owned);
    if let Some(map) = attributes.as_object_mut() {
        map.insert("id".to_owned(), serde_json::Value::String(id.clone()));
    }
    id
}

#[async_trait]
impl Provider for SimProvider {
    fn name(&self) -> &str {
        &self.name
    }

    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }

    async fn configure(&self, config: &Value) -> Result<()> {
        if let Some(region) = string_attr(config, "region") {
            *self.region.lock().unwrap_or_else(PoisonError::into_inner) = Some(region.to_owned());
        }
        // Sensitive settings (credentials) are never kept: only plain strings.
        let sensitive = |k: &str| {
            self.schema
                .config
                .attributes
                .get(k)
                .is_some_and(|a| a.sensitive)
        };
        let plain: BTreeMap<String, String> = config
            .as_map()
            .into_iter()
            .flatten()
            .filter(|(k, _)| !sensitive(k))
            .filter_map(|(k, v)| match v {
                Value::String(s) => Some((k.clone(), s.clone())),
                _ => None,
            })
            .collect();
        *self.settings.lock().unwrap_or_else(PoisonError::into_inner) = plain;
        Ok(())
    }

    async fn create(&self, ctx: &OpContext, type_name: &str, planned: &Value) -> Result<Value> {
        self.chaos.before(ctx, "create").await?;
        let schema = self.resource_schema(type_name)?;
        let region = self.region_of(planned);
        let created = self.now();
        let now = ids::rfc3339(created);
        let intent = self.world.intent();
        let object = self
            .world
            .transact(Some(intent), |txn| -> Result<SimObject> {
                if let Some(token) = &ctx.idempotency_token {
                    if let Some(existing) = txn.by_token(&self.name, type_name, token) {
                        return Ok(existing.clone());
                    }
                }
                let id = self.choose_id(txn, type_name, planned, ctx);
                let view = TxnView(txn);
                let gen = self.generator(type_name, &id, &region, &now, planned, &view);
                let mut attributes = fill::fill(schema, planned, None, &gen).to_json();
                limits::check_capacity(&self.knobs.tables, type_name, None, &attributes)?;
                if let Some(hook) = self.hook(type_name) {
                    hook.on_create(type_name, &mut attributes)?;
                }
                let id = settle_id(&mut attributes, id);
                if txn.get(&self.name, type_name, &id).is_some() {
                    let code = self
                        .model
                        .as_ref()
                        .and_then(|m| m.duplicate_code(type_name))
                        .unwrap_or_else(|| "ResourceAlreadyExists".to_owned());
                    return Err(ProviderError::new(
                        ErrorClass::Conflict,
                        format!("{type_name} `{id}` already exists"),
                    )
                    .with_code(code));
                }
                // Only what the configuration names must exist: computed attributes the
                // model filled in (a VPC's main route table) are the cloud's own.
                refs::check_references(txn, &id, &planned.to_json(), &|t| self.not_found_code(t))?;
                limits::check_quota(
                    &self.knobs.tables,
                    txn,
                    &self.name,
                    type_name,
                    None,
                    None,
                    &attributes,
                )?;
                let object = SimObject {
                    provider: self.name.clone(),
                    type_name: type_name.to_owned(),
                    id,
                    attributes,
                    address: ctx.address.clone(),
                    stack: ctx.stack.clone(),
                    token: ctx.idempotency_token.clone(),
                    created,
                };
                txn.put(object.clone())?;
                Ok(object)
            })
            .await?;
        Ok(fill::typed(schema, &object.attributes))
    }

    async fn read(&self, ctx: &OpContext, type_name: &str, state: &Value) -> Result<Option<Value>> {
        self.chaos.before(ctx, "read").await?;
        let schema = self.resource_schema(type_name)?;
        let Some(id) = string_attr(state, "id") else {
            return Ok(None);
        };
        let object = self
            .world
            .transact(None, |txn| {
                Ok::<_, ProviderError>(txn.get(&self.name, type_name, id).cloned())
            })
            .await?;
        Ok(object.map(|o| fill::typed(schema, &o.attributes)))
    }

    async fn update(
        &self,
        ctx: &OpContext,
        type_name: &str,
        prior: &Value,
        planned: &Value,
    ) -> Result<Value> {
        self.chaos.before(ctx, "update").await?;
        let schema = self.resource_schema(type_name)?;
        let id = string_attr(prior, "id")
            .or_else(|| string_attr(planned, "id"))
            .ok_or_else(|| {
                ProviderError::invalid(format!(
                    "cannot update {type_name}: the prior state has no id"
                ))
            })?;
        let region = self.region_of(planned);
        let now = ids::rfc3339(self.now());
        let intent = self.world.intent();
        let object = self
            .world
            .transact(Some(intent), |txn| -> Result<SimObject> {
                let current = txn
                    .get(&self.name, type_name, id)
                    .cloned()
                    .ok_or_else(|| self.not_found(type_name, id))?;
                let current_value = fill::typed(schema, &current.attributes);
                let view = TxnView(txn);
                let gen = self.generator(type_name, id, &region, &now, planned, &view);
                let mut attributes =
                    fill::fill(schema, planned, Some(&current_value), &gen).to_json();
                if let Some(hook) = self.hook(type_name) {
                    hook.on_update(type_name, &current.attributes, &mut attributes)?;
                }
                // An update never changes the id.
                if let Some(map) = attributes.as_object_mut() {
                    map.insert("id".to_owned(), serde_json::Value::String(id.to_owned()));
                }
                refs::check_references(txn, id, &planned.to_json(), &|t| self.not_found_code(t))?;
                limits::check_capacity(
                    &self.knobs.tables,
                    type_name,
                    Some(&current.attributes),
                    &attributes,
                )?;
                limits::check_quota(
                    &self.knobs.tables,
                    txn,
                    &self.name,
                    type_name,
                    Some(id),
                    Some(&current.attributes),
                    &attributes,
                )?;
                let address = if ctx.address.is_empty() {
                    current.address.clone()
                } else {
                    ctx.address.clone()
                };
                let object = SimObject {
                    attributes,
                    address,
                    ..current
                };
                txn.put(object.clone())?;
                Ok(object)
            })
            .await?;
        Ok(fill::typed(schema, &object.attributes))
    }

    async fn delete(&self, ctx: &OpContext, type_name: &str, state: &Value) -> Result<()> {
        self.chaos.before(ctx, "delete").await?;
        self.resource_schema(type_name)?;
        let Some(id) = string_attr(state, "id") else {
            return Ok(());
        };
        let intent = self.world.intent();
        self.world
            .transact(Some(intent), |txn| -> Result<()> {
                let Some(current) = txn.get(&self.name, type_name, id).cloned() else {
                    return Ok(());
                };
                refs::check_no_dependents(txn, &current)?;
                if let Some(hook) = self.hook(type_name) {
                    hook.on_delete(type_name, &current.attributes)?;
                }
                txn.delete(&self.name, type_name, id)?;
                Ok(())
            })
            .await
    }

    async fn import(&self, ctx: &OpContext, type_name: &str, id: &str) -> Result<Value> {
        self.chaos.before(ctx, "import").await?;
        let schema = self.resource_schema(type_name)?;
        let object = self
            .world
            .transact(None, |txn| {
                Ok::<_, ProviderError>(txn.get(&self.name, type_name, id).cloned())
            })
            .await?
            .ok_or_else(|| self.not_found(type_name, id))?;
        Ok(fill::typed(schema, &object.attributes))
    }

    async fn find_created(
        &self,
        ctx: &OpContext,
        type_name: &str,
        token: &str,
        _planned: &Value,
    ) -> Result<Option<Value>> {
        self.chaos.before(ctx, "find_created").await?;
        let schema = self.resource_schema(type_name)?;
        let object = self
            .world
            .transact(None, |txn| {
                Ok::<_, ProviderError>(txn.by_token(&self.name, type_name, token).cloned())
            })
            .await?;
        // The token alone is not proof: the object must also carry this stack's identity
        // and this address, as a real cloud's tags would.
        let mut ctx = ctx.clone();
        ctx.idempotency_token = Some(token.to_owned());
        let ours = object.filter(|o| {
            ctx.is_ours(
                Some(o.stack.as_str()),
                Some(o.address.as_str()),
                o.token.as_deref(),
            )
        });
        Ok(ours.map(|o| fill::typed(schema, &o.attributes)))
    }

    /// The configuration with computed attributes filled. When it names an `id` of an
    /// object of the same-named resource type in the world, that object's attributes fill
    /// it; otherwise the id is derived from the configuration, so reads are stable.
    fn region(&self) -> Option<String> {
        Some(
            self.region
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .clone()
                .unwrap_or_else(|| DEFAULT_REGION.to_owned()),
        )
    }

    /// The quota table of `capacity.json` (`service_quotas`); usage is what the world's
    /// objects in the region use, or in the zone for a quota counted per zone (the query
    /// names a zone: a table row for the zone, else for its region, applies). A code the
    /// table does not list is unlimited.
    async fn read_quota(&self, query: &QuotaQuery) -> Result<Option<QuotaReading>> {
        let region = query.region.clone().or_else(|| self.region());
        // A zone has a region other than itself (a model may answer a region with itself).
        let zone_region = region.as_deref().and_then(|r| {
            self.model
                .as_ref()
                .and_then(|m| m.region_of_zone(r))
                .filter(|of| of != r)
        });
        let applies = |q: &&crate::knobs::ServiceQuota| {
            q.code == query.code
                && (q.region.is_none()
                    || q.region == region
                    || (zone_region.is_some() && q.region == zone_region))
        };
        let rows = &self.knobs.tables.service_quotas;
        let Some(quota) = rows
            .iter()
            .filter(applies)
            .find(|q| q.region == region)
            .or_else(|| rows.iter().find(applies))
        else {
            // Not in the table: the simulated account has no limit.
            return Ok(Some(QuotaReading {
                name: String::new(),
                limit: f64::INFINITY,
                used: 0.0,
                request_url: None,
                request_command: None,
            }));
        };
        let objects = self.world.list();
        let in_region = objects
            .iter()
            .filter(|o| o.provider == self.name)
            .filter(|o| {
                let attributes = Value::from_json(&o.attributes);
                if zone_region.is_some() {
                    let zone = attributes
                        .as_map()
                        .and_then(|m| m.get("zone").or_else(|| m.get("availability_zone")))
                        .and_then(Value::as_str);
                    return zone == region.as_deref();
                }
                let r = self.region_of(&attributes);
                region.as_deref().is_none_or(|want| r == want)
            })
            .map(|o| &o.attributes);
        let used = limits::quota_usage(
            in_region,
            &query.families,
            &query.units_per_type,
            query.spot,
        );
        Ok(Some(QuotaReading {
            // The engine names the quota from the catalog.
            name: String::new(),
            limit: quota.limit,
            used,
            request_url: None,
            request_command: None,
        }))
    }

    async fn read_data(&self, ctx: &OpContext, type_name: &str, config: &Value) -> Result<Value> {
        self.chaos.before(ctx, "read_data").await?;
        let schema = self.schema.data_sources.get(type_name).ok_or_else(|| {
            ProviderError::invalid(format!(
                "provider `{}` has no data source `{type_name}`",
                self.name
            ))
        })?;
        let configured_id = string_attr(config, "id");
        let existing = match configured_id {
            Some(id) => {
                self.world
                    .transact(None, |txn| {
                        Ok::<_, ProviderError>(txn.get(&self.name, type_name, id).cloned())
                    })
                    .await?
            }
            None => None,
        };
        let prior = existing.map(|o| fill::typed(schema, &o.attributes));
        let id = match (configured_id, self.id_style(type_name)) {
            (Some(id), _) => id.to_owned(),
            (None, IdStyle::Attribute(attr)) if string_attr(config, &attr).is_some() => {
                string_attr(config, &attr).unwrap_or_default().to_owned()
            }
            (None, style) => {
                let prefix = match style {
                    IdStyle::Prefixed(p) => p,
                    _ => ids::initials(type_name),
                };
                let seed = self.knobs.seed.unwrap_or(0).to_le_bytes();
                let config_json = serde_json::to_vec(&config.to_json()).unwrap_or_default();
                let bits = ids::stable_hash(&[
                    b"data",
                    &seed,
                    self.name.as_bytes(),
                    type_name.as_bytes(),
                    &config_json,
                ]);
                ids::format_id(&prefix, bits)
            }
        };
        let region = self.region_of(config);
        let now = ids::rfc3339(self.now());
        let mut filled = {
            let gen = self.generator(type_name, &id, &region, &now, config, &fill::EmptyWorld);
            fill::fill(schema, config, prior.as_ref(), &gen)
        };
        // What the cloud would answer about the account and region (zones, identity).
        if let (Some(answer), Value::Map(out)) = (
            self.model
                .as_ref()
                .and_then(|m| m.read_data(type_name, config, &region, &self.settings())),
            &mut filled,
        ) {
            if let Some(answer) = answer.as_map() {
                for (k, v) in answer {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        let mut attributes = filled.to_json();
        if let Some(hook) = self.hook(type_name) {
            hook.on_read_data(type_name, &mut attributes)?;
        }
        let id = settle_id(&mut attributes, id);
        if ids::sim_id_prefix(&id).is_some() {
            let intent = self.world.intent();
            self.world
                .transact(Some(intent), |txn| -> Result<()> {
                    if !txn.id_exists(&id) {
                        txn.add_external(&id)?;
                    }
                    Ok(())
                })
                .await?;
        }
        Ok(fill::typed(schema, &attributes))
    }
}

#[cfg(test)]
mod tests;

//! Simulated clouds for `--sim`: a twin of every cloud provider, generic over schemas.
//!
//! A [`SimWorld`] is the simulated cloud of one stack, persisted in a directory
//! (`<stack>/.gantry/sim/`) with an append-only, group-committed log (`world.ndjson`,
//! compacted into `world.json`), so that whatever an operation reported survives a crash
//! of the process. The log's mechanics are the shared [`gantry_grouplog`] crate, the same
//! that keeps gantry's state journal; `log` holds the world's record format and `world`
//! its in-memory model. A [`SimProvider`] is built from a
//! real provider's name and [`gantry_provider::ProviderSchema`] and implements
//! [`gantry_provider::Provider`] for every resource type and data source in it: realistic
//! ids and computed attributes, idempotent creates, referential integrity, and the latency,
//! faults, capacity shortages and quotas set by [`Knobs`]. [`SimHooks`] add per-type
//! behaviour.
//!
//! ```no_run
//! # async fn demo(schema: gantry_provider::ProviderSchema) -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! let dir = std::path::Path::new("stack/.gantry/sim");
//! let world = Arc::new(gantry_sim::SimWorld::open(dir)?);
//! let knobs = gantry_sim::Knobs::load(dir)?;
//! let aws = gantry_sim::SimProvider::new("aws", schema, Arc::clone(&world), knobs);
//! # let _ = aws;
//! world.flush().await?;
//! # Ok(()) }
//! ```

mod chaos;
mod fill;
pub mod ids;
mod knobs;
mod limits;
mod log;
mod provider;
mod refs;
mod world;

pub use knobs::{
    CapacityRule, KnobError, Knobs, Latency, QuotaRule, ServiceQuota, Tables, ENV_FAULT_RATE,
    ENV_LATENCY, ENV_SEED, TABLES_FILE,
};
pub use log::{LoadError, LOG_FILE, SNAPSHOT_FILE};
pub use provider::{SimHooks, SimProvider, DEFAULT_REGION, SEEDED_EPOCH};
pub use refs::{referenced_ids, Reference};
pub use world::{SimObject, SimWorld, WorldError, DEFAULT_COMPACT_AFTER};

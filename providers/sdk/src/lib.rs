//! The gantry provider interface: the values, types, schemas, errors and the [`Provider`]
//! trait shared by the engine and by every cloud provider. It depends on nothing heavy so
//! that provider crates (and their big cloud SDKs) never rebuild when the engine changes.

pub mod attrs;
pub mod blocking;
pub mod convert;
pub mod data_plan;
pub mod error;
pub mod plan;
pub mod pricing;
pub mod provider;
pub mod quota;
pub mod schema;
pub mod sim;
pub mod store;
pub mod time;
pub mod types;
pub mod value;

pub use async_trait::async_trait;
pub use convert::ConvertError;
pub use error::{error_chain, ErrorClass, ProviderError};
pub use plan::{conform, plan_from_schema, ConfigIssue, PlannedState};
pub use pricing::{ComputeModel, PerZone};
pub use provider::{OpContext, Provider};
pub use quota::{QuotaQuery, QuotaReading};
pub use schema::{Attribute, NestedBlock, Nesting, ProviderSchema, Schema, Timeouts};
pub use sim::{IdStyle, SimModel, SimObjectFacts, SimWorldView};
pub use store::{ObjectStore, Precondition, StoreError, StoredObject, Version};
pub use tokio_util::sync::CancellationToken;
pub use types::{ObjectAttr, Type};
pub use value::Value;

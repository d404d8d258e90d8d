//! The small, typed Azure Resource Manager layer the provider is written on (Azure's Rust
//! SDK has no management-plane crates): requests with an api-version per resource type,
//! the long-running operation state machine, errors walked into their nested details, and
//! resource ids.

pub mod client;
pub mod errors;
pub mod ids;
pub mod lro;

pub use client::Arm;

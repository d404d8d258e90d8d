//! The Google Cloud provider of gantry, on the official google-cloud-rust crates.
//!
//! Resource types carry the Terraform google provider's names and attributes (see
//! README.md for the list, each type's `find_created` rule and its timeouts).

mod clients;
mod credentials;
mod data;
mod errors;
mod gke;
mod labels;
mod lro;
mod offered;
mod operations;
mod pricing;
mod provider;
mod quota;
mod resources;
mod settings;
mod sim_model;
pub mod state_keys;
pub mod state_store;
mod storage_json;
mod wire;

pub use provider::GcpProvider;

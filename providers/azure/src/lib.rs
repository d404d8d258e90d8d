//! The Azure provider of gantry, on azure_core and azure_identity, with a small typed
//! Azure Resource Manager layer of its own ([`arm`]): Azure's Rust SDK has no
//! management-plane crates.
//!
//! Resource types carry azurerm's names and attributes (see README.md for the list, each
//! type's `find_created` rule and its timeouts).

mod arm;
mod cloud;
mod credentials;
mod data;
mod offered;
mod pricing;
mod provider;
mod quota;
mod resources;
mod settings;
mod sim_model;
pub mod state_keys;
pub mod state_store;
mod tags;

pub use provider::AzureProvider;

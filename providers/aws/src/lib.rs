//! The AWS provider of gantry, on aws-sdk-rust.
//!
//! One file per resource type under [`resources`] and per data source under [`data`], with
//! Terraform's type and attribute names. What they share lives beside this file:
//! [`settings`] (the `provider "aws"` block and the credential chain), [`clients`] (one SDK
//! client per service), [`errors`] (AWS error codes to gantry's error classes), [`tags`]
//! (`default_tags`, `gantry:address`), [`attrs`] (reading and building attribute values) and
//! [`wait`] (bounded waits for resources that become ready asynchronously). [`quota`] reads
//! EC2 quotas and their usage for the engine's quota pre-flight; [`sim_model`] tells the
//! simulated twin what AWS objects look like; [`state_store`] is the S3 object store behind
//! `backend "s3"`, [`state_keys`] the KMS data keys of the `aws_kms` key provider.

pub mod attrs;
pub mod clients;
pub mod data;
pub mod errors;
pub mod pricing;
mod provider;
pub mod quota;
pub mod resources;
pub mod settings;
pub mod sim_model;
pub mod state_keys;
pub mod state_store;
pub mod tags;
pub mod wait;

pub use provider::AwsProvider;
pub use sim_model::AwsSimModel;

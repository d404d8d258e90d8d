//! gantry: declarative infrastructure provisioning for AI infrastructure.
//!
//! The data flow, one module per stage: [`config`] loads and evaluates stack files,
//! [`graph`] builds the dependency graph of resource instances. [`diagnostics`] is the one
//! way every stage reports problems.

pub mod addrs;
pub mod apply;
pub mod catalog;
pub mod cli;
pub mod commands;
pub mod config;
pub mod diagnostics;
pub mod graph;
pub mod plan;
pub mod providers;
pub mod stack;
pub mod state;
pub mod ui;

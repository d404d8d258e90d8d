//! One integration-test binary (fast to link): CLI runs of the real `gantry` binary.

mod ai;
mod ai_examples;
mod ci_recipes;
mod cli;
mod conditions;
mod diagnostics;
mod docs;
mod encryption;
mod engine;
mod failover;
mod fmt;
mod graph;
mod hardening;
mod inputs;
mod module_failover;
mod modules;
mod refactor;
mod shipped;
mod show;
mod support;
mod terraform;
mod workspaces;

//! One integration-test binary (fast to link): CLI runs of the real `gantry` binary.

mod ai;
mod ai_examples;
mod cli;
mod conditions;
mod diagnostics;
mod docs;
mod engine;
mod fmt;
mod graph;
mod hardening;
mod inputs;
mod modules;
mod refactor;
mod shipped;
mod support;
mod terraform;

//! Apply: walk the plan's changes as a graph, concurrently. Each change starts as soon as
//! what it depends on is done; `--parallelism` bounds operations in flight and a per-provider
//! adaptive limit backs off on throttling. Retryable errors are retried with exponential
//! backoff and jitter; on a failure, independent branches carry on and dependants are
//! skipped. Every finished operation is recorded at once through a [`Recorder`] (the state
//! journal), and a create's intent is recorded before the call.

pub mod calls;
pub mod executor;
pub mod failover;
pub mod limiter;
pub mod operation;
pub mod recorder;
pub mod retry;
pub mod schedule;

pub use executor::{apply_plan, ApplyOptions, ApplyReport, Event, Recorder};

#[cfg(test)]
mod tests;

//! Calling a provider in-process, as the engine does, for tests that reach below the
//! `gantry` binary (crash recovery's `find_created`, a create failing after acceptance):
//! shared by the per-cloud suites (each includes this file).

use gantry_provider::{OpContext, Provider, Value};

/// Runs a future to completion on a small runtime of its own (tests are synchronous).
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(f)
}

/// An operation of stack `stack` at `address`, a create with `token` (when given).
pub fn op(stack: &str, address: &str, token: Option<&str>) -> OpContext {
    let mut ctx = OpContext::new(address);
    ctx.stack = stack.to_owned();
    ctx.idempotency_token = token.map(str::to_owned);
    ctx
}

/// What the engine hands a create: `config` (blocks as lists of objects, as evaluated)
/// conformed to the type's schema and planned by the provider.
pub fn planned<P: Provider + ?Sized>(provider: &P, type_name: &str, config: &Value) -> Value {
    let schema = provider
        .schema()
        .resources
        .get(type_name)
        .unwrap_or_else(|| panic!("no type {type_name}"));
    let config = gantry_provider::conform(schema, config)
        .unwrap_or_else(|issues| panic!("{type_name} config: {issues:?}"));
    let problems = provider.validate(type_name, &config);
    assert!(problems.is_empty(), "{type_name}: {problems:?}");
    provider
        .plan(type_name, None, &config)
        .unwrap_or_else(|e| panic!("{type_name} plan: {e}"))
        .value
}

//! Engine tests against a test provider whose operations are closures (no cloud): ordering,
//! replacement order, partial failure, retries, cancellation.
#![allow(clippy::unwrap_used)]

use super::executor::{apply_plan, ApplyInputs, ApplyOptions, Event, Recorder};
use super::retry::RetryPolicy;
use crate::config::inputs::InputOptions;
use crate::plan::planner::PlanOptions;
use crate::plan::run::{make_plan, PlanRequest};
use crate::plan::ResourceChange;
use crate::providers::builtin::gantry_data_schema;
use crate::providers::Providers;
use crate::state::State;
use gantry_provider::{
    async_trait, CancellationToken, ErrorClass, OpContext, Provider, ProviderError, ProviderSchema,
    Value,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type CreateFn = dyn Fn(&str, u32) -> Result<(), ProviderError> + Send + Sync;

/// A `gantry` provider whose create consults a closure (address, attempt) and which logs
/// every call in order.
struct TestProvider {
    schema: ProviderSchema,
    log: Arc<Mutex<Vec<String>>>,
    attempts: Mutex<std::collections::HashMap<String, u32>>,
    on_create: Box<CreateFn>,
    delay: Duration,
}

impl TestProvider {
    fn new(
        log: Arc<Mutex<Vec<String>>>,
        delay: Duration,
        on_create: Box<CreateFn>,
    ) -> TestProvider {
        let mut schema = ProviderSchema::default();
        schema
            .resources
            .insert("gantry_data".into(), gantry_data_schema());
        TestProvider {
            schema,
            log,
            attempts: Mutex::default(),
            on_create,
            delay,
        }
    }
}

#[async_trait]
impl Provider for TestProvider {
    fn name(&self) -> &str {
        "gantry"
    }
    fn schema(&self) -> &ProviderSchema {
        &self.schema
    }
    async fn create(
        &self,
        ctx: &OpContext,
        _t: &str,
        planned: &Value,
    ) -> gantry_provider::provider::Result<Value> {
        tokio::time::sleep(self.delay).await;
        let attempt = {
            let mut a = self.attempts.lock().unwrap();
            let n = a.entry(ctx.address.clone()).or_default();
            *n += 1;
            *n
        };
        (self.on_create)(&ctx.address, attempt)?;
        self.log
            .lock()
            .unwrap()
            .push(format!("create {}", ctx.address));
        let mut v = planned.clone();
        if let Value::Map(m) = &mut v {
            m.insert("id".into(), Value::from(format!("id-{}", ctx.address)));
            m.insert("output".into(), m.get("input").cloned().unwrap_or_default());
        }
        Ok(v)
    }
    async fn read(
        &self,
        _c: &OpContext,
        _t: &str,
        s: &Value,
    ) -> gantry_provider::provider::Result<Option<Value>> {
        Ok(Some(s.clone()))
    }
    async fn update(
        &self,
        ctx: &OpContext,
        _t: &str,
        _p: &Value,
        planned: &Value,
    ) -> gantry_provider::provider::Result<Value> {
        self.log
            .lock()
            .unwrap()
            .push(format!("update {}", ctx.address));
        Ok(planned.clone())
    }
    async fn delete(
        &self,
        ctx: &OpContext,
        _t: &str,
        _s: &Value,
    ) -> gantry_provider::provider::Result<()> {
        self.log
            .lock()
            .unwrap()
            .push(format!("delete {}", ctx.address));
        Ok(())
    }
    async fn find_created(
        &self,
        _c: &OpContext,
        _t: &str,
        _k: &str,
    ) -> gantry_provider::provider::Result<Option<Value>> {
        Ok(None)
    }
}

/// Records into memory.
#[derive(Default)]
struct MemoryRecorder {
    applied: Mutex<Vec<String>>,
}

#[async_trait]
impl Recorder for MemoryRecorder {
    async fn intent(&self, _c: &ResourceChange, _t: &str) -> Result<(), String> {
        Ok(())
    }
    async fn applied(
        &self,
        c: &ResourceChange,
        _v: &Value,
        _t: Option<&str>,
    ) -> Result<(), String> {
        self.applied.lock().unwrap().push(c.address.clone());
        Ok(())
    }
    async fn deleted(&self, c: &ResourceChange) -> Result<(), String> {
        self.applied.lock().unwrap().push(format!("-{}", c.address));
        Ok(())
    }
}

struct Run {
    log: Vec<String>,
    report: super::ApplyReport,
}

async fn run(stack: &str, provider: TestProvider, cancel: CancellationToken) -> Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.hcl"), stack).unwrap();
    let log = provider.log.clone();
    let mut providers = Providers::default();
    providers.insert(Arc::new(provider));
    let inputs = InputOptions::default();
    let req = PlanRequest {
        path: dir.path(),
        inputs: &inputs,
        options: PlanOptions::default(),
        refresh: false,
        parallelism: 8,
        max_hourly: None,
    };
    let planned = make_plan(&req, &State::new(), &providers).await;
    assert!(
        !planned.diagnostics.has_errors(),
        "{:?}",
        planned
            .diagnostics
            .iter()
            .map(|d| &d.summary)
            .collect::<Vec<_>>()
    );
    let recorder = MemoryRecorder::default();
    let options = ApplyOptions {
        parallelism: 8,
        retry: RetryPolicy {
            base: Duration::from_millis(1),
            ..RetryPolicy::default()
        },
        stack_name: "test".into(),
    };
    let events = |_: Event| {};
    let mut evaluation = planned.evaluation.unwrap();
    let graph = planned.graph.unwrap();
    let io = ApplyInputs {
        stack: &planned.stack,
        graph: &graph,
        inputs: &planned.inputs,
        providers: &providers,
        recorder: &recorder,
        options: &options,
        cancel,
        events: &events,
    };
    let report = apply_plan(&planned.plan, &mut evaluation, &io).await;
    let log = log.lock().unwrap().clone();
    Run { log, report }
}

const CHAIN: &str = r#"
resource "gantry_data" "a" {
  input = 1
}
resource "gantry_data" "b" {
  input = gantry_data.a.id
}
resource "gantry_data" "c" {
  input = gantry_data.b.id
}
resource "gantry_data" "solo" {
  input = 2
}
"#;

fn position(log: &[String], entry: &str) -> usize {
    log.iter()
        .position(|l| l == entry)
        .unwrap_or_else(|| panic!("{entry} not in {log:?}"))
}

#[tokio::test]
async fn dependencies_are_created_first_and_unknowns_are_completed() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let r = run(
        CHAIN,
        TestProvider::new(log, Duration::ZERO, Box::new(|_, _| Ok(()))),
        CancellationToken::new(),
    )
    .await;
    assert!(r.report.errors.is_empty(), "{:?}", r.report.errors);
    assert!(position(&r.log, "create gantry_data.a") < position(&r.log, "create gantry_data.b"));
    assert!(position(&r.log, "create gantry_data.b") < position(&r.log, "create gantry_data.c"));
    assert_eq!(r.report.outputs.len(), 0);
    assert_eq!(r.report.applied.len(), 4);
}

#[tokio::test]
async fn a_failure_skips_dependants_and_independent_branches_carry_on() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let fail_b = Box::new(|addr: &str, _| {
        if addr == "gantry_data.b" {
            Err(ProviderError::invalid("bad input").with_code("ValidationError"))
        } else {
            Ok(())
        }
    });
    let r = run(
        CHAIN,
        TestProvider::new(log, Duration::ZERO, fail_b),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(r.report.errors.len(), 1);
    assert!(r.report.errors[0].summary.contains("gantry_data.b"));
    assert_eq!(r.report.skipped, vec!["gantry_data.c".to_owned()]);
    assert!(r.log.contains(&"create gantry_data.solo".to_owned()));
    assert!(r.log.contains(&"create gantry_data.a".to_owned()));
}

#[tokio::test]
async fn transient_errors_are_retried_then_give_up() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let flaky = Box::new(|addr: &str, attempt: u32| match addr {
        "gantry_data.a" if attempt < 3 => {
            Err(ProviderError::new(ErrorClass::Transient, "try again"))
        }
        "gantry_data.solo" => Err(ProviderError::new(ErrorClass::Throttled, "slow down")),
        _ => Ok(()),
    });
    let r = run(
        CHAIN,
        TestProvider::new(log, Duration::ZERO, flaky),
        CancellationToken::new(),
    )
    .await;
    assert!(
        r.log.contains(&"create gantry_data.c".to_owned()),
        "a succeeded on its third attempt"
    );
    assert_eq!(
        r.report.errors.len(),
        1,
        "solo never stops throttling: bounded attempts"
    );
    assert!(r.report.errors[0].summary.contains("gantry_data.solo"));
}

#[tokio::test]
async fn cancellation_stops_starting_new_work() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let cancel = CancellationToken::new();
    let c = cancel.clone();
    let provider = TestProvider::new(
        log,
        Duration::from_millis(50),
        Box::new(move |addr: &str, _| {
            if addr == "gantry_data.a" {
                c.cancel();
            }
            Ok(())
        }),
    );
    let r = run(CHAIN, provider, cancel).await;
    assert!(r.report.cancelled);
    assert!(
        r.log.contains(&"create gantry_data.a".to_owned()),
        "in-flight work finished"
    );
    assert!(
        !r.log.contains(&"create gantry_data.b".to_owned()),
        "nothing new started"
    );
    assert!(r.report.skipped.contains(&"gantry_data.c".to_owned()));
}

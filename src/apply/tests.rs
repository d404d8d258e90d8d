//! Engine tests against a test provider whose operations are closures (no cloud): ordering,
//! replacement order, partial failure, retries, cancellation, and what a create that fails
//! half-way leaves in state.
#![allow(clippy::unwrap_used)]

use super::calls::ProviderCalls;
use super::executor::{apply_plan, ApplyInputs, ApplyOptions, Event, Recorder};
use super::recorder::resource_state;
use super::retry::RetryPolicy;
use crate::config::inputs::InputOptions;
use crate::plan::planner::PlanOptions;
use crate::plan::run::{make_plan, PlanRequest};
use crate::plan::{Action, ResourceChange};
use crate::providers::builtin::gantry_data_schema;
use crate::providers::Providers;
use crate::state::State;
use gantry_provider::{
    async_trait, CancellationToken, ErrorClass, OpContext, Provider, ProviderError, ProviderSchema,
    Value,
};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the test provider's create does on a given attempt.
#[derive(Clone, Debug)]
enum Create {
    Ok,
    Fail(ProviderError),
    /// Makes the object, then answers with this error (a lost response).
    MakeThenFail(ProviderError),
    /// Makes the object, then fails after acceptance (a wait that failed).
    Accepted(ProviderError),
}

type CreateFn = dyn Fn(&str, u32) -> Create + Send + Sync;

/// A `gantry` provider over an in-memory world. Objects refer to each other through
/// `input`: deleting an object whose id another object's `input` holds is a conflict, as a
/// cloud refuses to delete a subnet with an instance in it. Every call is logged in order.
struct TestProvider {
    schema: ProviderSchema,
    log: Arc<Mutex<Vec<String>>>,
    world: Mutex<BTreeMap<String, (Value, Option<String>)>>,
    made: std::sync::atomic::AtomicUsize,
    attempts: Mutex<std::collections::HashMap<String, u32>>,
    on_create: Box<CreateFn>,
    /// Ids whose delete always fails.
    undeletable: Mutex<Vec<String>>,
    /// find_created fails.
    lookups_fail: bool,
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
            world: Mutex::default(),
            made: std::sync::atomic::AtomicUsize::new(0),
            attempts: Mutex::default(),
            on_create,
            undeletable: Mutex::default(),
            lookups_fail: false,
            delay,
        }
    }

    fn ok(log: &Arc<Mutex<Vec<String>>>) -> TestProvider {
        TestProvider::new(log.clone(), Duration::ZERO, Box::new(|_, _| Create::Ok))
    }

    fn log(&self, line: String) {
        self.log.lock().unwrap().push(line);
    }

    fn make(&self, ctx: &OpContext, planned: &Value) -> Value {
        let token = ctx.idempotency_token.clone();
        let n = self.made.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let id = format!("{}#{n}", ctx.address);
        let mut v = planned.clone();
        if let Value::Map(m) = &mut v {
            m.insert("id".into(), Value::from(id.clone()));
            m.insert("output".into(), m.get("input").cloned().unwrap_or_default());
        }
        self.world.lock().unwrap().insert(id, (v.clone(), token));
        v
    }
}

fn id_of(v: &Value) -> String {
    v.as_map().unwrap()["id"].as_str().unwrap().to_owned()
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
        self.log(format!("create {}", ctx.address));
        match (self.on_create)(&ctx.address, attempt) {
            Create::Ok => Ok(self.make(ctx, planned)),
            Create::Fail(e) => Err(e),
            Create::MakeThenFail(e) => {
                self.make(ctx, planned);
                Err(e)
            }
            Create::Accepted(e) => {
                let v = self.make(ctx, planned);
                Err(e.after_create(Value::map([("id", Value::from(id_of(&v)))])))
            }
        }
    }
    async fn read(
        &self,
        _c: &OpContext,
        _t: &str,
        s: &Value,
    ) -> gantry_provider::provider::Result<Option<Value>> {
        let id = s.as_map().and_then(|m| m.get("id")).and_then(Value::as_str);
        Ok(id.and_then(|id| self.world.lock().unwrap().get(id).map(|(v, _)| v.clone())))
    }
    async fn update(
        &self,
        ctx: &OpContext,
        _t: &str,
        prior: &Value,
        planned: &Value,
    ) -> gantry_provider::provider::Result<Value> {
        self.log(format!("update {}", ctx.address));
        let id = id_of(prior);
        let mut v = planned.clone();
        if let Value::Map(m) = &mut v {
            m.insert("id".into(), Value::from(id.clone()));
            m.insert("output".into(), m.get("input").cloned().unwrap_or_default());
        }
        let mut world = self.world.lock().unwrap();
        let token = world.get(&id).and_then(|(_, t)| t.clone());
        world.insert(id, (v.clone(), token));
        Ok(v)
    }
    async fn delete(
        &self,
        ctx: &OpContext,
        _t: &str,
        s: &Value,
    ) -> gantry_provider::provider::Result<()> {
        let id = id_of(s);
        if self.undeletable.lock().unwrap().contains(&id) {
            self.log(format!("delete {} refused", ctx.address));
            return Err(ProviderError::new(ErrorClass::Fatal, "refused").with_code("Refused"));
        }
        let mut world = self.world.lock().unwrap();
        let used_by = world.iter().find(|(other, (v, _))| {
            **other != id
                && v.as_map()
                    .and_then(|m| m.get("input"))
                    .and_then(Value::as_str)
                    == Some(id.as_str())
        });
        if let Some((other, _)) = used_by {
            self.log(format!("delete {} conflict", ctx.address));
            return Err(ProviderError::new(
                ErrorClass::Conflict,
                format!("{id} is used by {other}"),
            )
            .with_code("DependencyViolation"));
        }
        world.remove(&id);
        self.log(format!("delete {}", ctx.address));
        Ok(())
    }
    async fn find_created(
        &self,
        ctx: &OpContext,
        _t: &str,
        token: &str,
        _planned: &Value,
    ) -> gantry_provider::provider::Result<Option<Value>> {
        self.log(format!("find {}", ctx.address));
        if self.lookups_fail {
            return Err(ProviderError::new(ErrorClass::Transient, "lookup failed"));
        }
        let world = self.world.lock().unwrap();
        Ok(world
            .values()
            .find(|(_, t)| t.as_deref() == Some(token))
            .map(|(v, _)| v.clone()))
    }
}

/// Records into an in-memory state, as the journal would.
#[derive(Default)]
struct MemoryRecorder {
    state: Mutex<State>,
    intents: Mutex<Vec<String>>,
    not_created: Mutex<Vec<String>>,
}

impl MemoryRecorder {
    fn with_state(state: State) -> MemoryRecorder {
        MemoryRecorder {
            state: Mutex::new(state),
            ..MemoryRecorder::default()
        }
    }
}

#[async_trait]
impl Recorder for MemoryRecorder {
    async fn intent(&self, _c: &ResourceChange, t: &str) -> Result<(), String> {
        self.intents.lock().unwrap().push(t.to_owned());
        Ok(())
    }
    async fn created(
        &self,
        c: &ResourceChange,
        v: &Value,
        t: &str,
        tainted: bool,
    ) -> Result<(), String> {
        let mut rs = resource_state(c, v, Some(t));
        rs.tainted = tainted;
        self.state.lock().unwrap().upsert_resource(rs);
        Ok(())
    }
    async fn not_created(&self, t: &str) -> Result<(), String> {
        self.not_created.lock().unwrap().push(t.to_owned());
        Ok(())
    }
    async fn applied(&self, c: &ResourceChange, v: &Value) -> Result<(), String> {
        self.state
            .lock()
            .unwrap()
            .upsert_resource(resource_state(c, v, None));
        Ok(())
    }
    async fn deleted(&self, address: &str) -> Result<(), String> {
        self.state.lock().unwrap().resources.remove(address);
        Ok(())
    }
}

struct Run {
    log: Vec<String>,
    report: super::ApplyReport,
    plan: crate::plan::Plan,
    state: State,
    not_created: usize,
}

/// Plans `stack` against `state` and applies it with `provider`.
async fn apply_with(
    stack: &str,
    provider: Arc<TestProvider>,
    state: State,
    cancel: CancellationToken,
) -> Run {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("main.hcl"), stack).unwrap();
    let log = provider.log.clone();
    let mut providers = Providers::default();
    providers.insert(provider);
    let inputs = InputOptions::default();
    let req = PlanRequest {
        path: dir.path(),
        inputs: &inputs,
        options: PlanOptions::default(),
        refresh: false,
        parallelism: 8,
        max_hourly: None,
        generate_config_out: None,
        selection: Default::default(),
        module_choices: Default::default(),
        pricing_only: false,
    };
    let planned = make_plan(&req, &state, &providers).await;
    assert!(
        !planned.diagnostics.has_errors(),
        "{:?}",
        planned
            .diagnostics
            .iter()
            .map(|d| &d.summary)
            .collect::<Vec<_>>()
    );
    let recorder = MemoryRecorder::with_state(state);
    let options = ApplyOptions {
        parallelism: 8,
        stack_identity: "test".into(),
        ..ApplyOptions::default()
    };
    let calls = ProviderCalls::new(
        &providers,
        8,
        RetryPolicy {
            base: Duration::from_millis(1),
            cap: Duration::from_millis(2),
            conflict_for: Duration::from_millis(50),
            ..RetryPolicy::default()
        },
        cancel.clone(),
    );
    let events = |_: Event| {};
    let mut evaluation = planned.evaluation.unwrap();
    let graph = planned.graph.unwrap();
    let io = ApplyInputs {
        stack: &planned.stack,
        graph: &graph,
        inputs: &planned.inputs,
        providers: &providers,
        calls: &calls,
        recorder: &recorder,
        options: &options,
        cancel,
        events: &events,
        create_failures: Default::default(),
    };
    let report = apply_plan(&planned.plan, &mut evaluation, &io).await;
    let log = log.lock().unwrap().clone();
    let not_created = recorder.not_created.lock().unwrap().len();
    Run {
        log,
        report,
        plan: planned.plan,
        state: recorder.state.into_inner().unwrap(),
        not_created,
    }
}

async fn run(stack: &str, provider: TestProvider, cancel: CancellationToken) -> Run {
    apply_with(stack, Arc::new(provider), State::new(), cancel).await
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
    let r = run(CHAIN, TestProvider::ok(&log), CancellationToken::new()).await;
    assert!(r.report.errors.is_empty(), "{:?}", r.report.errors);
    assert!(position(&r.log, "create gantry_data.a") < position(&r.log, "create gantry_data.b"));
    assert!(position(&r.log, "create gantry_data.b") < position(&r.log, "create gantry_data.c"));
    assert_eq!(r.report.outputs.len(), 0);
    assert_eq!(r.report.applied.len(), 4);
    // What b was created with is a's real id, completed at apply.
    let b = &r.state.resources["gantry_data.b"].attributes;
    assert_eq!(
        b["input"],
        r.state.resources["gantry_data.a"].attributes["id"]
    );
}

#[tokio::test]
async fn a_failure_skips_dependants_and_independent_branches_carry_on() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let fail_b = Box::new(|addr: &str, _| {
        if addr == "gantry_data.b" {
            Create::Fail(ProviderError::invalid("bad input").with_code("ValidationError"))
        } else {
            Create::Ok
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
    assert_eq!(
        r.not_created, 1,
        "a refused create is recorded as not created"
    );
    assert!(
        !r.log.contains(&"find gantry_data.b".to_owned()),
        "a refusal needs no lookup: nothing was made"
    );
}

#[tokio::test]
async fn throttling_is_retried_then_gives_up() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let flaky = Box::new(|addr: &str, attempt: u32| match addr {
        "gantry_data.a" if attempt < 3 => {
            Create::Fail(ProviderError::new(ErrorClass::Throttled, "slow down"))
        }
        "gantry_data.solo" => Create::Fail(ProviderError::new(ErrorClass::Throttled, "slow down")),
        _ => Create::Ok,
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
async fn a_create_whose_answer_was_lost_is_found_not_sent_again() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let lost = Box::new(|addr: &str, _| {
        if addr == "gantry_data.a" {
            Create::MakeThenFail(ProviderError::new(
                ErrorClass::Transient,
                "connection reset",
            ))
        } else {
            Create::Ok
        }
    });
    let r = run(
        CHAIN,
        TestProvider::new(log, Duration::ZERO, lost),
        CancellationToken::new(),
    )
    .await;
    assert!(r.report.errors.is_empty(), "{:?}", r.report.errors);
    let creates = r
        .log
        .iter()
        .filter(|l| *l == "create gantry_data.a")
        .count();
    assert_eq!(
        creates, 1,
        "the create was accepted: never re-sent ({:?})",
        r.log
    );
    assert!(position(&r.log, "find gantry_data.a") < position(&r.log, "create gantry_data.b"));
    assert!(r.state.resources.contains_key("gantry_data.a"));
}

#[tokio::test]
async fn a_transient_failure_that_made_nothing_is_retried_after_a_lookup() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let flaky = Box::new(|addr: &str, attempt| {
        if addr == "gantry_data.a" && attempt == 1 {
            Create::Fail(ProviderError::new(ErrorClass::Transient, "503"))
        } else {
            Create::Ok
        }
    });
    let r = run(
        CHAIN,
        TestProvider::new(log, Duration::ZERO, flaky),
        CancellationToken::new(),
    )
    .await;
    assert!(r.report.errors.is_empty(), "{:?}", r.report.errors);
    let a: Vec<&String> = r
        .log
        .iter()
        .filter(|l| l.ends_with("gantry_data.a"))
        .collect();
    assert_eq!(
        a,
        [
            "create gantry_data.a",
            "find gantry_data.a",
            "create gantry_data.a"
        ]
    );
}

#[tokio::test]
async fn a_create_that_cannot_be_checked_stays_pending() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let mut provider = TestProvider::new(
        log,
        Duration::ZERO,
        Box::new(|addr: &str, _| {
            if addr == "gantry_data.a" {
                Create::Fail(ProviderError::new(ErrorClass::Transient, "timeout"))
            } else {
                Create::Ok
            }
        }),
    );
    provider.lookups_fail = true;
    let r = run(CHAIN, provider, CancellationToken::new()).await;
    assert_eq!(r.report.errors.len(), 1);
    let d = &r.report.errors[0];
    assert!(d.summary.contains("gantry_data.a"), "{}", d.summary);
    assert!(d
        .help
        .as_deref()
        .unwrap_or_default()
        .contains("looks the object up"));
    assert_eq!(
        r.not_created, 0,
        "the intent is not settled: the next run checks it"
    );
    let creates = r
        .log
        .iter()
        .filter(|l| *l == "create gantry_data.a")
        .count();
    assert_eq!(creates, 1, "never created twice while unsure");
}

#[tokio::test]
async fn a_create_that_fails_after_acceptance_is_tainted_and_replaced_next_time() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let provider = Arc::new(TestProvider::new(
        log.clone(),
        Duration::ZERO,
        Box::new(|addr: &str, attempt| {
            if addr == "gantry_data.solo" && attempt == 1 {
                Create::Accepted(ProviderError::timeout("waited too long for it to be ready"))
            } else {
                Create::Ok
            }
        }),
    ));
    let first = apply_with(
        CHAIN,
        provider.clone(),
        State::new(),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(first.report.errors.len(), 1);
    assert!(first.report.errors[0]
        .help
        .as_deref()
        .unwrap_or_default()
        .contains("tainted"));
    let solo = &first.state.resources["gantry_data.solo"];
    assert!(solo.tainted);
    let creates = first
        .log
        .iter()
        .filter(|l| *l == "create gantry_data.solo")
        .count();
    assert_eq!(creates, 1);
    let second = apply_with(CHAIN, provider, first.state, CancellationToken::new()).await;
    let change = second
        .plan
        .changes
        .iter()
        .find(|c| c.address == "gantry_data.solo")
        .unwrap();
    assert_eq!(change.action, Action::DeleteThenCreate);
    assert!(change
        .reason
        .as_deref()
        .unwrap_or_default()
        .contains("tainted"));
    assert!(
        second.report.errors.is_empty(),
        "{:?}",
        second.report.errors
    );
    assert!(!second.state.resources["gantry_data.solo"].tainted);
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
            Create::Ok
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

/// A subnet-like `a`, and `b` that sits in it (`input = a.id`); `b_forces` makes b's
/// reference force replacement (an instance's subnet_id) instead of an in-place update.
fn pair(a_version: u32, a_cbd: bool, b_forces: bool) -> String {
    let cbd = if a_cbd {
        "lifecycle {\n    create_before_destroy = true\n  }"
    } else {
        ""
    };
    let b_ref = if b_forces {
        "input = gantry_data.a.id\n  triggers_replace = gantry_data.a.id"
    } else {
        "input = gantry_data.a.id"
    };
    format!(
        r#"
resource "gantry_data" "a" {{
  input = "net"
  triggers_replace = {a_version}
  {cbd}
}}
resource "gantry_data" "b" {{
  {b_ref}
}}
"#
    )
}

async fn replace_a(a_cbd: bool, b_forces: bool) -> Run {
    let log = Arc::new(Mutex::new(Vec::new()));
    let provider = Arc::new(TestProvider::ok(&log));
    let first = apply_with(
        &pair(1, a_cbd, b_forces),
        provider.clone(),
        State::new(),
        CancellationToken::new(),
    )
    .await;
    assert!(first.report.errors.is_empty(), "{:?}", first.report.errors);
    log.lock().unwrap().clear();
    apply_with(
        &pair(2, a_cbd, b_forces),
        provider,
        first.state,
        CancellationToken::new(),
    )
    .await
}

#[tokio::test]
async fn delete_then_create_deletes_dependants_first_and_recreates_them_after() {
    let r = replace_a(false, true).await;
    assert!(
        r.report.errors.is_empty(),
        "{:?} {:?}",
        r.report.errors,
        r.log
    );
    assert_eq!(
        r.log,
        [
            "delete gantry_data.b",
            "delete gantry_data.a",
            "create gantry_data.a",
            "create gantry_data.b"
        ]
    );
    let b = &r.state.resources["gantry_data.b"].attributes;
    assert_eq!(
        b["input"],
        r.state.resources["gantry_data.a"].attributes["id"]
    );
}

#[tokio::test]
async fn delete_then_create_under_an_object_that_stays_fails_with_a_clear_message() {
    let r = replace_a(false, false).await;
    let change = r
        .plan
        .changes
        .iter()
        .find(|c| c.address == "gantry_data.a")
        .unwrap();
    assert_eq!(change.still_used_by, ["gantry_data.b"]);
    assert_eq!(r.report.errors.len(), 1, "{:?}", r.log);
    let d = &r.report.errors[0];
    assert!(
        d.summary
            .contains("delete the old object of `gantry_data.a`"),
        "{}",
        d.summary
    );
    assert!(
        d.detail
            .iter()
            .any(|t| t.contains("`gantry_data.b` still uses it")),
        "{:?}",
        d.detail
    );
    assert!(d
        .help
        .as_deref()
        .unwrap_or_default()
        .contains("create_before_destroy"));
    assert!(r.report.skipped.contains(&"gantry_data.b".to_owned()));
    // Nothing was lost: the old a is still in state (its delete failed).
    assert!(r.state.resources.contains_key("gantry_data.a"));
}

#[tokio::test]
async fn create_before_destroy_switches_dependants_before_the_old_object_goes() {
    let r = replace_a(true, false).await;
    assert!(
        r.report.errors.is_empty(),
        "{:?} {:?}",
        r.report.errors,
        r.log
    );
    assert_eq!(
        r.log,
        [
            "create gantry_data.a",
            "update gantry_data.b",
            "delete gantry_data.a"
        ]
    );
    assert_eq!(
        r.state.resources.len(),
        2,
        "the deposed object is gone: {:?}",
        r.state.resources.keys()
    );
}

#[tokio::test]
async fn deposed_objects_get_their_own_keys_and_are_never_overwritten() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let provider = Arc::new(TestProvider::ok(&log));
    let stack = |v: u32| {
        format!(
            "resource \"gantry_data\" \"a\" {{\n  triggers_replace = {v}\n  lifecycle {{\n    create_before_destroy = true\n  }}\n}}\n"
        )
    };
    let mut state = apply_with(
        &stack(1),
        provider.clone(),
        State::new(),
        CancellationToken::new(),
    )
    .await
    .state;
    let mut olds = Vec::new();
    for v in 2..=3 {
        let old_id = state.resources["gantry_data.a"].attributes["id"]
            .as_str()
            .unwrap()
            .to_owned();
        provider.undeletable.lock().unwrap().push(old_id.clone());
        olds.push(old_id);
        let r = apply_with(&stack(v), provider.clone(), state, CancellationToken::new()).await;
        assert!(!r.report.errors.is_empty(), "the old object's delete fails");
        state = r.state;
    }
    let deposed: Vec<&String> = state
        .resources
        .keys()
        .filter(|k| crate::plan::deposed::is_deposed(k))
        .collect();
    assert_eq!(deposed.len(), 2, "{:?}", state.resources.keys());
    let mut ids: Vec<String> = deposed
        .iter()
        .map(|k| {
            state.resources[*k].attributes["id"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    ids.sort();
    olds.sort();
    assert_eq!(ids, olds, "both old objects are still tracked");
    provider.undeletable.lock().unwrap().clear();
    let r = apply_with(&stack(3), provider, state, CancellationToken::new()).await;
    assert!(r.report.errors.is_empty(), "{:?}", r.report.errors);
    assert_eq!(r.state.resources.len(), 1);
}

#[tokio::test]
async fn count_on_count_dependencies_stay_linear() {
    let stack = r#"
resource "gantry_data" "net" {
  count = 200
  input = count.index
}
resource "gantry_data" "node" {
  count = 300
  input = length(gantry_data.net[*].id)
}
"#;
    let log = Arc::new(Mutex::new(Vec::new()));
    let r = run(stack, TestProvider::ok(&log), CancellationToken::new()).await;
    assert!(r.report.errors.is_empty());
    // Each node records one dependency group, not 200 addresses.
    let node = &r.state.resources["gantry_data.node[0]"];
    assert_eq!(node.dependencies, ["gantry_data.net"]);
    let last_net = r
        .log
        .iter()
        .rposition(|l| l.starts_with("create gantry_data.net"))
        .unwrap();
    let first_node = position(&r.log, "create gantry_data.node[0]").min(
        r.log
            .iter()
            .position(|l| l.starts_with("create gantry_data.node"))
            .unwrap(),
    );
    assert!(last_net < first_node, "every net before any node");
}

/// A pool that may go to zone b when zone a has no room.
const POOL_WITH_FAILOVER: &str = r#"
resource "gantry_data" "pool" {
  input = "zone-a"
  failover {
    alternative {
      input = "zone-b"
    }
  }
}
"#;

/// A failover choice the cloud accepted and then failed for lack of capacity (a node group
/// whose instances never came): the object is deleted before the next choice is tried, so
/// nothing is left behind, and the choice that held is what state records.
#[tokio::test]
async fn a_failover_attempt_accepted_then_out_of_capacity_is_deleted_before_the_next() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let provider = Arc::new(TestProvider::new(
        log.clone(),
        Duration::ZERO,
        Box::new(|_addr: &str, attempt| {
            if attempt == 1 {
                Create::Accepted(
                    ProviderError::new(ErrorClass::Capacity, "no capacity in zone a")
                        .with_code("AsgInstanceLaunchFailures"),
                )
            } else {
                Create::Ok
            }
        }),
    ));
    let run = apply_with(
        POOL_WITH_FAILOVER,
        provider.clone(),
        State::new(),
        CancellationToken::new(),
    )
    .await;
    assert!(run.report.errors.is_empty(), "{:?}", run.report.errors);
    assert_eq!(
        run.log,
        vec![
            "create gantry_data.pool".to_owned(),
            "delete gantry_data.pool".to_owned(),
            "create gantry_data.pool".to_owned(),
        ]
    );
    let pool = &run.state.resources["gantry_data.pool"];
    assert!(!pool.tainted);
    assert_eq!(pool.attributes["input"], "zone-b");
    assert_eq!(pool.placement.as_ref().map(|p| p.alternative), Some(1));
    let world = provider.world.lock().unwrap();
    assert_eq!(world.len(), 1, "the failed attempt is gone: {world:?}");
}

/// A failover attempt's object that cannot be deleted stays in state, tainted: the apply
/// fails rather than leave it behind untracked or try elsewhere on top of it.
#[tokio::test]
async fn a_failed_attempt_that_cannot_be_deleted_stays_tracked() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let provider = TestProvider::new(
        log.clone(),
        Duration::ZERO,
        Box::new(|_addr: &str, _attempt| {
            Create::Accepted(ProviderError::new(ErrorClass::Capacity, "no capacity"))
        }),
    );
    // The first object made is `gantry_data.pool#0`.
    provider
        .undeletable
        .lock()
        .unwrap()
        .push("gantry_data.pool#0".into());
    let provider = Arc::new(provider);
    let run = apply_with(
        POOL_WITH_FAILOVER,
        provider,
        State::new(),
        CancellationToken::new(),
    )
    .await;
    assert_eq!(run.report.errors.len(), 1);
    assert!(run.report.errors[0]
        .summary
        .contains("delete the failed failover attempt of"));
    let pool = &run.state.resources["gantry_data.pool"];
    assert!(pool.tainted, "tracked, and replaced by the next apply");
    assert_eq!(
        run.log.iter().filter(|l| l.starts_with("create")).count(),
        1,
        "nothing tried on top of it"
    );
}

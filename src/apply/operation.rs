//! One step of a change, carried out against its provider and recorded as it happens.
//!
//! A create is the careful one. Its intent (token, configuration, dependencies) is durable
//! before the call. After the call:
//! - success: recorded as created;
//! - a failure after the cloud accepted it ([`ProviderError::accepted`]): recorded as
//!   created but *tainted* (replaced by the next apply), never created again;
//! - a refusal (capacity, quota, invalid input, auth...): nothing exists, recorded so;
//! - anything that leaves it unclear whether the object exists (a timeout, a 5xx, a lost
//!   answer): the object is looked up by its token before any retry, so a create the cloud
//!   already accepted is never sent again. If the lookup fails too, the intent stays
//!   pending and the next run resolves it before it creates anything at that address.

use super::calls::{explain, CallKind, ProviderCalls, Retry};
use super::executor::{ApplyInputs, Event};
use crate::diagnostics::Diagnostic;
use crate::plan::{Action, ResourceChange};
use gantry_provider::{ErrorClass, OpContext, Provider, ProviderError, Value};
use std::sync::Arc;
use std::time::Duration;

/// The result of one step: the object's new value (`None` after a delete).
pub type StepResult = Result<Option<Value>, Diagnostic>;

/// What a step needs besides the change.
pub struct StepInputs<'a, 'io> {
    pub io: &'a ApplyInputs<'io>,
    pub calls: &'a ProviderCalls,
    pub provider: Arc<dyn Provider>,
    /// The planned state to create or update to, with the configuration completed.
    pub planned: Option<Value>,
    /// A create's failover, ready to try (`None`: the create is sent once).
    pub failover: Option<super::failover::PreparedFailover>,
    /// Secrets of this change, scrubbed from every message shown.
    pub secrets: &'a [String],
}

fn ctx_for(s: &StepInputs<'_, '_>, change: &ResourceChange, op: &str) -> OpContext {
    let mut ctx = OpContext::new(change.address.clone());
    ctx.cancel = s.io.cancel.child_token();
    ctx.stack.clone_from(&s.io.options.stack_identity);
    ctx.timeout = change.timeouts.get(op);
    ctx
}

fn on_retry<'a>(s: &'a StepInputs<'_, '_>, change: &'a ResourceChange) -> impl FnMut(&Retry) + 'a {
    move |r: &Retry| {
        (s.io.events)(Event::Retrying {
            address: change.address.clone(),
            attempt: r.attempt,
            error: crate::ui::redact::scrub(&r.error, s.secrets),
            wait: r.wait,
        });
    }
}

fn record_failed(change: &ResourceChange, e: String) -> Diagnostic {
    Diagnostic::error(format!("could not record `{}` in state", change.address)).with_detail(e)
}

/// Sends the delete of `object`, retried as deletes are; an object already gone counts as
/// deleted.
async fn send_delete(
    s: &StepInputs<'_, '_>,
    change: &ResourceChange,
    object: &Value,
    conflict_for: Option<Duration>,
) -> Result<(), ProviderError> {
    let ctx = ctx_for(s, change, "delete");
    s.calls.acquire(&change.provider).await;
    let result = s
        .calls
        .retrying(
            &change.provider,
            CallKind::Delete,
            conflict_for,
            on_retry(s, change),
            || s.provider.delete(&ctx, &change.type_name, object),
        )
        .await;
    s.calls.release(&change.provider);
    match result {
        Err(e) if e.class == ErrorClass::NotFound => Ok(()),
        other => other,
    }
}

/// Deletes the object a refused failover attempt left (created, then failed for lack of
/// capacity), recorded in state as tainted until it is gone.
pub async fn delete_attempt(
    s: &StepInputs<'_, '_>,
    change: &ResourceChange,
    object: &Value,
) -> Result<(), Diagnostic> {
    send_delete(s, change, object, change.timeouts.delete)
        .await
        .map_err(|e| {
            failure(s, change, "delete the failed failover attempt of", &e).with_help(
                "it stays in state as tainted: the next `gantry apply` deletes and replaces it",
            )
        })?;
    s.io.recorder
        .deleted(&change.address)
        .await
        .map_err(|e| record_failed(change, e))
}

/// Deletes the object the change's delete step removes: the prior object, or, under
/// create-before-destroy, the deposed one recorded at `deposed`.
pub async fn delete(
    s: &StepInputs<'_, '_>,
    change: &ResourceChange,
    deposed: Option<&str>,
) -> StepResult {
    let Some(before) = change.before.as_ref() else {
        return Ok(None);
    };
    // Something that stays still uses the object: a conflict will not go away by waiting
    // long, so give it a short while (dependencies detaching) and then say what holds it.
    let conflict_for = if change.still_used_by.is_empty() {
        change.timeouts.delete
    } else {
        Some(Duration::from_secs(30).min(s.calls.retry_policy().conflict_for))
    };
    send_delete(s, change, before, conflict_for)
        .await
        .map_err(|e| delete_failure(s, change, &e))?;
    let address = deposed.unwrap_or(&change.address);
    s.io.recorder
        .deleted(address)
        .await
        .map_err(|e| record_failed(change, e))?;
    Ok(None)
}

/// Creates the object (the create half of a replacement too), trying its failover
/// choices in turn when it has them.
pub async fn create(s: &StepInputs<'_, '_>, change: &ResourceChange) -> StepResult {
    if let Some(failover) = &s.failover {
        return super::failover::create_with_failover(s, change, failover).await;
    }
    let planned = s.planned.clone().unwrap_or(Value::Null);
    match create_once(s, change, &planned, None).await {
        CreateOutcome::Done(r) => r,
        CreateOutcome::Refused(e) | CreateOutcome::Accepted(_, e) => {
            Err(failure(s, change, "create", &e))
        }
    }
}

/// How one create call ended, for failover to act on.
pub enum CreateOutcome {
    /// Created and recorded, or failed in a way failover does not handle.
    Done(StepResult),
    /// Refused with an error failover reacts to; nothing exists, and that is recorded.
    Refused(ProviderError),
    /// Accepted by the cloud and then failed with an error failover reacts to: the object
    /// exists and is recorded in state as tainted.
    Accepted(Value, ProviderError),
}

/// Sends one create of `planned`, recorded as `change` (its placement included).
/// `failover_on` names the refusals returned to the caller rather than failed.
pub async fn create_once(
    s: &StepInputs<'_, '_>,
    change: &ResourceChange,
    planned: &Value,
    failover_on: Option<&dyn Fn(ErrorClass) -> bool>,
) -> CreateOutcome {
    let planned = planned.clone();
    let token = uuid::Uuid::new_v4().to_string();
    let mut recorded = change.clone();
    recorded.after = Some(planned.clone());
    if let Err(e) = s.io.recorder.intent(&recorded, &token).await {
        return CreateOutcome::Done(Err(record_failed(change, e)));
    }
    let fails_over = |e: &ProviderError| failover_on.is_some_and(|f| f(e.class));
    let mut ctx = ctx_for(s, change, "create");
    ctx.idempotency_token = Some(token.clone());
    let policy = *s.calls.retry_policy();
    let mut attempt = 0;
    loop {
        s.calls.acquire(&change.provider).await;
        let result = s.provider.create(&ctx, &change.type_name, &planned).await;
        s.calls.release(&change.provider);
        let e = match result {
            Ok(value) => {
                s.calls.succeeded(&change.provider);
                return CreateOutcome::Done(created(s, &recorded, value, &token, None).await);
            }
            Err(e) => e,
        };
        if let Some(state) = e.accepted.clone() {
            if fails_over(&e) {
                if let Err(d) =
                    s.io.recorder
                        .created(&recorded, &state, &token, true)
                        .await
                        .map_err(|r| record_failed(change, r))
                {
                    return CreateOutcome::Done(Err(d));
                }
                return CreateOutcome::Accepted(*state, e);
            }
            return CreateOutcome::Done(created(s, &recorded, *state, &token, Some(&e)).await);
        }
        if e.class == ErrorClass::Throttled {
            // Refused before it was carried out: retry as is, more slowly.
            s.calls.throttled(&change.provider);
        } else if refused(&e) {
            let _ = s.io.recorder.not_created(&token).await;
            if fails_over(&e) {
                return CreateOutcome::Refused(e);
            }
            return CreateOutcome::Done(Err(failure(s, change, "create", &e)));
        } else {
            // The cloud may or may not have made it: look before sending it again.
            match find(s, change, &ctx, &token, &planned).await {
                Ok(Some(value)) => {
                    return CreateOutcome::Done(created(s, &recorded, value, &token, None).await)
                }
                Ok(None) => {}
                Err(lookup) => return CreateOutcome::Done(Err(unresolved(s, change, &e, &lookup))),
            }
        }
        attempt += 1;
        let wait = policy.delay(&e, attempt, false);
        let Some(wait) = wait.filter(|_| !s.io.cancel.is_cancelled()) else {
            let _ = s.io.recorder.not_created(&token).await;
            return CreateOutcome::Done(Err(failure(s, change, "create", &e)));
        };
        on_retry(s, change)(&Retry {
            attempt,
            error: e.to_string(),
            wait,
        });
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = s.io.cancel.cancelled() => {
                let _ = s.io.recorder.not_created(&token).await;
                return CreateOutcome::Done(Err(failure(s, change, "create", &e)));
            }
        }
    }
}

/// Errors after which the cloud certainly made nothing: it refused the request.
fn refused(e: &ProviderError) -> bool {
    matches!(
        e.class,
        ErrorClass::Capacity
            | ErrorClass::Quota
            | ErrorClass::InvalidInput
            | ErrorClass::Auth
            | ErrorClass::Conflict
            | ErrorClass::NotFound
    )
}

async fn find(
    s: &StepInputs<'_, '_>,
    change: &ResourceChange,
    ctx: &OpContext,
    token: &str,
    planned: &Value,
) -> Result<Option<Value>, ProviderError> {
    s.calls
        .call(&change.provider, || {
            s.provider
                .find_created(ctx, &change.type_name, token, planned)
        })
        .await
}

async fn created(
    s: &StepInputs<'_, '_>,
    change: &ResourceChange,
    value: Value,
    token: &str,
    after_accept: Option<&ProviderError>,
) -> StepResult {
    s.io.recorder
        .created(change, &value, token, after_accept.is_some())
        .await
        .map_err(|e| record_failed(change, e))?;
    match after_accept {
        None => Ok(Some(value)),
        Some(e) => {
            let d = failure(s, change, "create", e);
            Err(d.with_help(
                "the object exists and is recorded in state as tainted: the next `gantry apply` replaces it",
            ))
        }
    }
}

/// Updates the object in place.
pub async fn update(s: &StepInputs<'_, '_>, change: &ResourceChange) -> StepResult {
    let planned = s.planned.clone().unwrap_or(Value::Null);
    let prior = change.before.clone().unwrap_or(Value::Null);
    let ctx = ctx_for(s, change, "update");
    s.calls.acquire(&change.provider).await;
    let result = s
        .calls
        .retrying(
            &change.provider,
            CallKind::Write,
            None,
            on_retry(s, change),
            || s.provider.update(&ctx, &change.type_name, &prior, &planned),
        )
        .await;
    s.calls.release(&change.provider);
    let value = result.map_err(|e| failure(s, change, "update", &e))?;
    s.io.recorder
        .applied(change, &value)
        .await
        .map_err(|e| record_failed(change, e))?;
    Ok(Some(value))
}

/// Reads a data source whose configuration was only known during apply.
pub async fn read(s: &StepInputs<'_, '_>, change: &ResourceChange) -> StepResult {
    let planned = s.planned.clone().unwrap_or(Value::Null);
    let ctx = ctx_for(s, change, "read");
    s.calls.acquire(&change.provider).await;
    let result = s
        .calls
        .retrying(
            &change.provider,
            CallKind::Read,
            None,
            on_retry(s, change),
            || s.provider.read_data(&ctx, &change.type_name, &planned),
        )
        .await;
    s.calls.release(&change.provider);
    let value = result.map_err(|e| failure(s, change, "read", &e))?;
    s.io.recorder
        .applied(change, &value)
        .await
        .map_err(|e| record_failed(change, e))?;
    Ok(Some(value))
}

/// Records the old object of a create-before-destroy replacement as deposed, so whatever
/// happens next it stays tracked.
pub async fn depose(
    s: &StepInputs<'_, '_>,
    change: &ResourceChange,
    deposed_address: &str,
) -> Result<(), Diagnostic> {
    let Some(before) = &change.before else {
        return Ok(());
    };
    // The old object keeps the dependencies it was applied with: its delete is ordered by
    // them.
    let old = ResourceChange {
        address: deposed_address.to_owned(),
        dependencies: change.prior_dependencies.clone(),
        ..change.prior_side().into_owned()
    };
    s.io.recorder
        .applied(&old, before)
        .await
        .map_err(|e| record_failed(change, e))
}

/// A provider failure as a diagnostic on the change, secrets scrubbed.
pub fn failure(
    s: &StepInputs<'_, '_>,
    change: &ResourceChange,
    what: &str,
    e: &ProviderError,
) -> Diagnostic {
    let scrub = |t: &str| crate::ui::redact::scrub(t, s.secrets);
    if what == "create" {
        if let Ok(mut failures) = s.io.create_failures.lock() {
            failures.push(super::executor::CreateFailure {
                address: change.address.clone(),
                class: e.class,
                code: e.code.clone(),
                message: scrub(&e.message),
            });
        }
    }
    let mut d = Diagnostic::error(format!("failed to {what} `{}`", change.address))
        .with_label(scrub(&e.to_string()))
        .with_address(change.address.clone())
        .with_detail(scrub(&format!(
            "{}\nerror class: {}{}",
            e.message,
            e.class.as_str(),
            e.code
                .as_ref()
                .map(|c| format!(", cloud code: {c}"))
                .unwrap_or_default()
        )));
    d = match e.class {
        ErrorClass::Capacity => {
            d.with_help("no capacity for this machine type here; try another zone or region")
        }
        ErrorClass::Quota => d.with_help(
            "an account quota would be exceeded; request an increase or use fewer instances",
        ),
        ErrorClass::Auth => d.with_help("check the credentials and permissions gantry runs with"),
        ErrorClass::Timeout => d.with_help(format!(
            "the operation is still going on in the cloud; raise the limit with `timeouts {{ {what} = \"...\" }}` on the resource"
        )),
        _ => d,
    };
    d
}

fn delete_failure(
    s: &StepInputs<'_, '_>,
    change: &ResourceChange,
    e: &ProviderError,
) -> Diagnostic {
    let replacing = change.action == Action::DeleteThenCreate;
    let what = if replacing {
        "delete the old object of"
    } else {
        "delete"
    };
    let d = failure(s, change, what, e);
    if e.class != ErrorClass::Conflict || change.still_used_by.is_empty() {
        return d;
    }
    let users = change
        .still_used_by
        .iter()
        .map(|a| format!("`{a}`"))
        .collect::<Vec<_>>()
        .join(", ");
    d.with_detail(format!(
        "{users} still use{} it and stay{} in place, so the cloud refuses to delete it",
        if change.still_used_by.len() == 1 { "s" } else { "" },
        if change.still_used_by.len() == 1 { "s" } else { "" },
    ))
    .with_help(format!(
        "add `lifecycle {{ create_before_destroy = true }}` to `{}` so the new object exists before the old one goes, or replace what uses it too (`--replace`)",
        crate::plan::deposed::base_of(&change.address)
    ))
}

fn unresolved(
    s: &StepInputs<'_, '_>,
    change: &ResourceChange,
    e: &ProviderError,
    lookup: &ProviderError,
) -> Diagnostic {
    failure(s, change, "create", e)
        .with_detail(crate::ui::redact::scrub(
            &format!(
                "the cloud may have created it, and looking it up failed too: {}",
                explain(lookup)
            ),
            s.secrets,
        ))
        .with_help(
            "run `gantry apply` again: it looks the object up before creating anything at this address",
        )
}

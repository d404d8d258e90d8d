//! ARM's long-running operations (the Azure Resource Manager RPC's async contract): a PUT,
//! PATCH, DELETE or POST answered 201/202 is followed through `Azure-AsyncOperation` (an
//! operation status whose `status` ends `Succeeded`, `Failed` or `Canceled`), else
//! `Location` (202 while running, then the final status), else the object's own
//! `provisioningState`. Retry-After paces every poll. A failed operation's error is read
//! from the operation itself, where ARM puts the cause (a stockout, a quota).
//!
//! Polls that hit throttling or a 5xx are repeated after a pause: the operation is the
//! cloud's, already accepted, and a create must not look failed because one poll did.

use super::client::{Answer, Arm};
use super::errors::{classify, ArmError};
use azure_core::http::Method;
use gantry_provider::{ErrorClass, ProviderError};
use serde_json::Value as Json;
use std::time::Duration;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

type Result<T> = std::result::Result<T, ProviderError>;

/// How long to wait and when to give up.
#[derive(Clone, Debug)]
pub struct Wait<'a> {
    pub what: &'a str,
    pub deadline: Instant,
    pub cancel: &'a CancellationToken,
}

impl<'a> Wait<'a> {
    pub fn new(what: &'a str, timeout: Duration, cancel: &'a CancellationToken) -> Wait<'a> {
        Wait {
            what,
            deadline: Instant::now() + timeout,
            cancel,
        }
    }

    /// Sleeps `pause` (bounded by the deadline); Timeout past it, Fatal on Ctrl-C.
    async fn pause(&self, pause: Duration) -> Result<()> {
        let now = Instant::now();
        if now >= self.deadline {
            return Err(ProviderError::timeout(format!(
                "{}: still running when its timeout ran out (raise it with a `timeouts` block; the operation continues in Azure)",
                self.what
            )));
        }
        let until = (now + pause).min(self.deadline);
        tokio::select! {
            _ = tokio::time::sleep_until(until) => Ok(()),
            _ = self.cancel.cancelled() => Err(ProviderError::fatal(format!("{}: interrupted", self.what))),
        }
    }
}

/// The pause before the next poll: ARM's Retry-After when it sent one (at least 100 ms, at
/// most a minute), else a backoff from 1 s to 15 s.
fn next_pause(answer: &Answer, polls: u32) -> Duration {
    match answer.retry_after() {
        Some(after) => after.clamp(Duration::from_millis(100), Duration::from_secs(60)),
        None => Duration::from_millis((1000.0 * 1.5f64.powi(polls.min(7) as i32)) as u64)
            .min(Duration::from_secs(15)),
    }
}

const TERMINAL_OK: &[&str] = &["succeeded"];
const TERMINAL_FAILED: &[&str] = &["failed", "canceled", "cancelled"];

/// POST of an action (`.../listKeys`, `.../purge`), waited for; its result body.
pub async fn post(
    arm: &Arm,
    path: &str,
    api_version: &str,
    body: Option<&Json>,
    wait: &Wait<'_>,
) -> Result<Json> {
    let url = arm.url(path, Some(api_version))?;
    let first = arm.send(Method::Post, url, body, wait.what).await?;
    if !first.is_success() {
        return Err(first.error(wait.what));
    }
    match follow(arm, &first, wait).await? {
        Some(result) => Ok(result),
        None => Ok(first.json()),
    }
}

/// DELETE of `path`, waited for until the object is gone. An object already gone is
/// deleted (ARM answers 204, or 404 for a missing parent).
pub async fn delete(arm: &Arm, path: &str, api_version: &str, wait: &Wait<'_>) -> Result<()> {
    let url = arm.url(path, Some(api_version))?;
    let first = arm.send(Method::Delete, url, None, wait.what).await?;
    match first.status {
        404 | 204 => return Ok(()),
        s if (200..300).contains(&s) => {}
        _ => return Err(first.error(wait.what)),
    }
    if first.status == 202 || first.header("azure-asyncoperation").is_some() {
        follow(arm, &first, wait).await?;
    }
    // Some resource providers answer the DELETE before the object is gone, with no
    // operation to follow: wait until a GET no longer finds it.
    let mut polls = 0;
    loop {
        let url = arm.url(path, Some(api_version))?;
        let answer = arm.send(Method::Get, url, None, wait.what).await?;
        match answer.status {
            404 => return Ok(()),
            200 if !state_of(&answer.json())
                .is_some_and(|s| s.eq_ignore_ascii_case("deleting")) =>
            {
                return Err(ProviderError::new(
                    ErrorClass::Conflict,
                    format!(
                        "{}: Azure accepted the delete but the object is still there",
                        wait.what
                    ),
                ))
            }
            200 => {}
            _ if retryable(&answer) => {}
            _ => return Err(answer.error(wait.what)),
        }
        wait.pause(next_pause(&answer, polls)).await?;
        polls += 1;
    }
}

/// After a PUT or PATCH answer: its error, or the object once its operation finished.
pub async fn finish_write(
    arm: &Arm,
    path: &str,
    api_version: &str,
    first: Answer,
    wait: &Wait<'_>,
) -> Result<Json> {
    if !first.is_success() {
        return Err(first.error(wait.what));
    }
    let async_op = first.header("azure-asyncoperation").is_some();
    let location = first.header("location").is_some() && first.status == 202;
    if async_op || location {
        follow(arm, &first, wait).await?;
    } else if first.status == 202 {
        // Accepted with nothing to follow: the object's own state tells.
    } else if !is_terminal(&first.json()) {
        // 200/201 with a non-terminal provisioningState: poll the object.
    } else {
        let body = first.json();
        if let Some(state) =
            state_of(&body).filter(|s| TERMINAL_FAILED.contains(&s.to_ascii_lowercase().as_str()))
        {
            return Err(ProviderError::fatal(format!(
                "{}: Azure finished with provisioningState {state}",
                wait.what
            )));
        }
        return Ok(body);
    }
    // The object as it is now, waiting out a provisioningState that is not terminal.
    let mut polls = 0;
    loop {
        let url = arm.url(path, Some(api_version))?;
        let answer = arm.send(Method::Get, url, None, wait.what).await?;
        if answer.status == 200 {
            let body = answer.json();
            match state_of(&body).map(str::to_ascii_lowercase) {
                Some(s) if TERMINAL_FAILED.contains(&s.as_str()) => {
                    return Err(ProviderError::fatal(format!(
                        "{}: Azure finished with provisioningState {s}",
                        wait.what
                    )))
                }
                Some(s) if !TERMINAL_OK.contains(&s.as_str()) => {}
                _ => return Ok(body),
            }
        } else if !retryable(&answer) {
            return Err(answer.error(wait.what));
        }
        wait.pause(next_pause(&answer, polls)).await?;
        polls += 1;
    }
}

/// Follows the operation an answer points at until it ends; `Some(body)` when its final
/// answer carried one (a Location poll ending 200 with the result).
async fn follow(arm: &Arm, first: &Answer, wait: &Wait<'_>) -> Result<Option<Json>> {
    if let Some(link) = first.header("azure-asyncoperation") {
        let url = arm.url(link, None)?;
        let mut pause = next_pause(first, 0);
        let mut polls = 1;
        loop {
            wait.pause(pause).await?;
            let answer = arm.send(Method::Get, url.clone(), None, wait.what).await?;
            if answer.status == 200 {
                let status = answer.json();
                let state = status["status"]
                    .as_str()
                    .unwrap_or("InProgress")
                    .to_ascii_lowercase();
                if TERMINAL_OK.contains(&state.as_str()) {
                    return Ok(None);
                }
                if TERMINAL_FAILED.contains(&state.as_str()) {
                    return Err(operation_failed(wait.what, &state, &answer));
                }
            } else if !retryable(&answer) {
                return Err(answer.error(wait.what));
            }
            pause = next_pause(&answer, polls);
            polls += 1;
        }
    }
    let Some(link) = first.header("location") else {
        return Ok(None);
    };
    let url = arm.url(link, None)?;
    let mut pause = next_pause(first, 0);
    let mut polls = 1;
    loop {
        wait.pause(pause).await?;
        let answer = arm.send(Method::Get, url.clone(), None, wait.what).await?;
        match answer.status {
            202 => {}
            200 | 201 => return Ok(Some(answer.json()).filter(|b| !b.is_null())),
            204 => return Ok(None),
            _ if retryable(&answer) => {}
            _ => return Err(answer.error(wait.what)),
        }
        pause = next_pause(&answer, polls);
        polls += 1;
    }
}

/// A poll answer worth asking again: throttled or a server error.
fn retryable(answer: &Answer) -> bool {
    answer.status == 429 || answer.status >= 500
}

fn operation_failed(what: &str, state: &str, answer: &Answer) -> ProviderError {
    let error = ArmError::from_body(&answer.body);
    if error.codes.is_empty() && error.messages.is_empty() {
        return ProviderError::fatal(format!(
            "{what}: the operation ended {state} without saying why"
        ));
    }
    classify(what, 0, &error, None)
}

fn state_of(body: &Json) -> Option<&str> {
    body.pointer("/properties/provisioningState")
        .and_then(Json::as_str)
}

fn is_terminal(body: &Json) -> bool {
    match state_of(body) {
        None => true,
        Some(s) => {
            let s = s.to_ascii_lowercase();
            TERMINAL_OK.contains(&s.as_str()) || TERMINAL_FAILED.contains(&s.as_str())
        }
    }
}

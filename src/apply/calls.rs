//! Provider calls as the engine makes them everywhere (apply, refresh, crash recovery, data
//! reads): through one adaptive concurrency limit per provider configuration, retrying
//! `Throttled` and `Transient` errors with the same backoff, and reporting each retry.

use super::limiter::Limiter;
use super::retry::RetryPolicy;
use crate::providers::Providers;
use gantry_provider::{CancellationToken, ErrorClass, ProviderError};
use std::future::Future;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// What a call does, for how hard it may be retried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallKind {
    /// Changes nothing (a read, a lookup): retried the longest.
    Read,
    /// Changes something (update): retried a bounded number of times.
    Write,
    /// Deletes: `Conflict` is retried too (dependencies still going away), until a deadline.
    Delete,
}

/// A retry about to happen, for progress output.
#[derive(Clone, Debug)]
pub struct Retry {
    pub attempt: u32,
    pub error: String,
    pub wait: Duration,
}

/// The limiter and retry policy shared by every provider call of one command.
pub struct ProviderCalls {
    limiter: Mutex<Limiter>,
    retry: RetryPolicy,
    cancel: CancellationToken,
    notify: tokio::sync::Notify,
    /// Per provider: how many attempts in a row, across all calls, failed with a transient
    /// error. Past [`GIVE_UP_AFTER`] the cloud is down for this run and calls stop retrying,
    /// instead of each waiting out its own backoff. Any success resets it.
    exhausted: Mutex<std::collections::HashMap<String, u32>>,
}

/// Failed attempts in a row (no success between them) after which a provider's calls stop
/// retrying. At a 30% fault rate this never happens (0.3^60); a cloud that answers nothing
/// but errors reaches it within a few rounds of retries.
const GIVE_UP_AFTER: u32 = 60;

impl ProviderCalls {
    /// At most `parallelism` calls at once in all; each configuration of `providers` starts
    /// at its own initial concurrency and adapts (halves on throttling, grows on success).
    pub fn new(
        providers: &Providers,
        parallelism: usize,
        retry: RetryPolicy,
        cancel: CancellationToken,
    ) -> ProviderCalls {
        let mut limiter = Limiter::new(parallelism);
        for key in providers.keys() {
            if let Some(p) = providers.get(&key) {
                limiter.register(&key, p.initial_concurrency());
            }
        }
        ProviderCalls {
            limiter: Mutex::new(limiter),
            retry,
            cancel,
            notify: tokio::sync::Notify::new(),
            exhausted: Mutex::new(std::collections::HashMap::new()),
        }
    }

    fn exhausted(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<String, u32>> {
        self.exhausted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// True once `provider` has failed so consistently that more attempts are pointless.
    fn given_up(&self, provider: &str) -> bool {
        self.exhausted().get(provider).copied().unwrap_or(0) >= GIVE_UP_AFTER
    }

    /// The overall bound on calls at once (`--parallelism`).
    pub fn max(&self) -> usize {
        self.lock().max()
    }

    pub fn retry_policy(&self) -> &RetryPolicy {
        &self.retry
    }

    pub fn cancel(&self) -> &CancellationToken {
        &self.cancel
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Limiter> {
        self.limiter
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Takes a slot of `provider`'s limit without waiting; `false` when it is full.
    pub fn try_acquire(&self, provider: &str) -> bool {
        self.lock().try_acquire(provider)
    }

    /// Waits for a slot of `provider`'s limit.
    pub async fn acquire(&self, provider: &str) {
        loop {
            let notified = self.notify.notified();
            if self.try_acquire(provider) {
                return;
            }
            notified.await;
        }
    }

    pub fn release(&self, provider: &str) {
        self.lock().release(provider);
        self.notify.notify_waiters();
    }

    /// The provider said to slow down (the limit halves).
    pub fn throttled(&self, provider: &str) {
        self.lock().throttled(provider);
    }

    /// A call went through (the limit grows by one).
    pub fn succeeded(&self, provider: &str) {
        self.lock().succeeded(provider);
        self.notify.notify_waiters();
    }

    /// The current limit of `provider` (for tests and progress).
    pub fn limit(&self, provider: &str) -> usize {
        self.lock().limit(provider)
    }

    /// Runs `call` until it succeeds, fails for good, or the retry policy gives up.
    /// A delete retries `Conflict` too, for up to `conflict_for` when given. `on_retry` hears
    /// about each retry before its pause.
    pub async fn retrying<T, F, Fut>(
        &self,
        provider: &str,
        kind: CallKind,
        conflict_for: Option<Duration>,
        mut on_retry: impl FnMut(&Retry),
        mut call: F,
    ) -> Result<T, ProviderError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            match call().await {
                Ok(v) => {
                    self.lock().succeeded(provider);
                    self.exhausted().remove(provider);
                    return Ok(v);
                }
                Err(e) => {
                    if e.class == ErrorClass::Throttled {
                        self.lock().throttled(provider);
                    }
                    // Throttling says the cloud is there, only busy: it never counts
                    // towards giving up.
                    if e.class == ErrorClass::Transient {
                        *self.exhausted().entry(provider.to_owned()).or_default() += 1;
                    }
                    attempt += 1;
                    let deleting = kind == CallKind::Delete;
                    let wait = if deleting && e.class == ErrorClass::Conflict {
                        self.retry
                            .conflict_delay(&e, attempt, started.elapsed(), conflict_for)
                    } else if self.given_up(provider) {
                        None
                    } else if kind == CallKind::Read {
                        self.retry.read_delay(&e, attempt)
                    } else {
                        self.retry.delay(&e, attempt, deleting)
                    };
                    let Some(wait) = wait else {
                        return Err(e);
                    };
                    if self.cancel.is_cancelled() {
                        return Err(e);
                    }
                    on_retry(&Retry {
                        attempt,
                        error: e.to_string(),
                        wait,
                    });
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        () = self.cancel.cancelled() => return Err(e),
                    }
                }
            }
        }
    }

    /// [`retrying`](Self::retrying) a call that changes nothing, inside one slot of the
    /// provider's limit.
    pub async fn call<T, F, Fut>(&self, provider: &str, call: F) -> Result<T, ProviderError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, ProviderError>>,
    {
        self.acquire(provider).await;
        let out = self
            .retrying(provider, CallKind::Read, None, |_| {}, call)
            .await;
        self.release(provider);
        out
    }
}

/// How a provider error reads in a diagnostic: class, the cloud's code, the message.
pub fn explain(e: &ProviderError) -> String {
    match &e.code {
        Some(code) => format!("{} ({code}): {}", e.class.as_str(), e.message),
        None => format!("{}: {}", e.class.as_str(), e.message),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU32, Ordering};

    fn calls() -> ProviderCalls {
        ProviderCalls::new(
            &Providers::default(),
            4,
            RetryPolicy {
                base: Duration::from_millis(1),
                cap: Duration::from_millis(2),
                ..RetryPolicy::default()
            },
            CancellationToken::new(),
        )
    }

    #[tokio::test]
    async fn throttling_is_retried_and_halves_the_limit() {
        let c = calls();
        let n = AtomicU32::new(0);
        let out = c
            .call("aws", || async {
                if n.fetch_add(1, Ordering::SeqCst) < 2 {
                    Err(ProviderError::new(ErrorClass::Throttled, "slow down"))
                } else {
                    Ok(7)
                }
            })
            .await;
        assert_eq!(out.unwrap(), 7);
        assert_eq!(n.load(Ordering::SeqCst), 3);
        // 4 -> 2 -> 1 on the two throttles, +1 on the success.
        assert_eq!(c.limit("aws"), 2);
    }

    #[tokio::test]
    async fn invalid_input_is_not_retried() {
        let c = calls();
        let n = AtomicU32::new(0);
        let out: Result<(), _> = c
            .call("aws", || async {
                n.fetch_add(1, Ordering::SeqCst);
                Err(ProviderError::invalid("bad"))
            })
            .await;
        assert_eq!(out.unwrap_err().class, ErrorClass::InvalidInput);
        assert_eq!(n.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn a_provider_that_keeps_failing_fails_fast() {
        let c = calls();
        let n = AtomicU32::new(0);
        let mut calls_made = 0;
        while !c.given_up("aws") {
            let out: Result<(), _> = c
                .call("aws", || async {
                    n.fetch_add(1, Ordering::SeqCst);
                    Err(ProviderError::new(ErrorClass::Transient, "503"))
                })
                .await;
            assert!(out.is_err());
            calls_made += 1;
        }
        let tried = n.load(Ordering::SeqCst);
        assert_eq!(tried, GIVE_UP_AFTER, "{calls_made} calls");
        let _: Result<(), _> = c
            .call("aws", || async {
                n.fetch_add(1, Ordering::SeqCst);
                Err(ProviderError::new(ErrorClass::Transient, "503"))
            })
            .await;
        assert_eq!(
            n.load(Ordering::SeqCst),
            tried + 1,
            "no more retries once it gave up"
        );
        let ok: Result<u32, ProviderError> = c.call("aws", || async { Ok(1) }).await;
        assert_eq!(ok.unwrap(), 1);
        assert!(!c.given_up("aws"), "a success resets it");
        // Failures mixed with successes never add up to giving up.
        for i in 0..(GIVE_UP_AFTER * 3) {
            let _: Result<(), _> = c
                .call("aws", || async move {
                    if i % 3 == 0 {
                        Ok(())
                    } else {
                        Err(ProviderError::invalid("x"))
                    }
                })
                .await;
        }
        assert!(!c.given_up("aws"));
    }

    #[tokio::test]
    async fn conflicts_while_deleting_are_retried_until_the_deadline() {
        let c = calls();
        let n = AtomicU32::new(0);
        let started = Instant::now();
        let out: Result<(), _> = c
            .retrying(
                "aws",
                CallKind::Delete,
                Some(Duration::from_millis(60)),
                |_| {},
                || async {
                    n.fetch_add(1, Ordering::SeqCst);
                    Err(ProviderError::new(
                        ErrorClass::Conflict,
                        "DependencyViolation",
                    ))
                },
            )
            .await;
        assert_eq!(out.unwrap_err().class, ErrorClass::Conflict);
        assert!(started.elapsed() >= Duration::from_millis(60));
        // Far more attempts than the fixed count (8) a create would get: the deadline
        // decides, not the attempt count.
        assert!(n.load(Ordering::SeqCst) > 8, "{}", n.load(Ordering::SeqCst));
    }
}

//! Bounded waits for objects that become ready asynchronously (EKS clusters, node groups,
//! FSx file systems, SageMaker domains): poll with a growing interval until the check says
//! done, the deadline passes (a [`ErrorClass::Timeout`] error), or the run is cancelled.
//! The interval is a fixed share of the time waited so far (see [`Wait::interval`]), so a
//! wait ends at most about 5% after the object got ready, whether it took 20 seconds or
//! 20 minutes, without polling a long wait more often than every 15 s.
//!
//! Also here: reading a new object back while the API may not show it yet ([`read_back`]),
//! and sending a create again while IAM has not yet propagated a role or instance profile
//! it names ([`through_iam_propagation`]).

use crate::errors::{is_iam_propagation, is_not_found};
use gantry_provider::provider::Result;
use gantry_provider::{ErrorClass, OpContext, ProviderError};
use std::future::Future;
use std::time::Duration;
// tokio's clock, which tests can pause and advance.
use tokio::time::Instant;

/// How long a new object may stay invisible to reads, and a role or instance profile to
/// the services that use it: Terraform's `propagationTimeout`.
pub const PROPAGATION: Duration = Duration::from_secs(120);

/// How long and how often to poll.
#[derive(Clone, Copy, Debug)]
pub struct Wait {
    pub timeout: Duration,
    /// The shortest pause between polls (the first one's).
    pub first_interval: Duration,
    /// The longest pause between polls.
    pub max_interval: Duration,
}

/// The pause before the next poll is the time waited so far divided by this (see
/// [`Wait::interval`]).
const LATENESS_DIVISOR: u32 = 20;

/// Polls that fail with a throttling or transient error, in a row, that a wait rides out
/// before it gives up with the last of them.
const FAILED_POLLS_TOLERATED: u32 = 10;

impl Wait {
    /// A wait of at most `timeout`, polling after 1 s, then every twentieth of the time
    /// waited so far, at most every 15 s.
    pub fn up_to(timeout: Duration) -> Wait {
        Wait {
            timeout,
            first_interval: poll_floor(),
            max_interval: Duration::from_secs(15),
        }
    }

    /// A wait bounded by the operation's `timeouts` entry, else by `default` (the type's
    /// default for the operation, Terraform's where it has one).
    pub fn for_op(ctx: &OpContext, default: Duration) -> Wait {
        Wait::up_to(ctx.timeout_or(default))
    }

    /// The pause before the next poll, `elapsed` into the wait: a twentieth of `elapsed`,
    /// between `first_interval` and `max_interval`. An object that got ready between two
    /// polls is therefore seen at most `max(first_interval, elapsed / 20)` later: about 5%
    /// of a wait's length, where a geometric backoff (x1.5 per poll) is up to 50% late (a
    /// 21 s wait seen at 32 s). The number of polls grows with the logarithm of the wait's
    /// length until the cap, then by one per 15 s: 97 for a 10-minute EKS cluster at the
    /// defaults (1 s, 15 s), where the x1.5 backoff made 46, and a fixed 10 s makes 60.
    pub fn interval(&self, elapsed: Duration) -> Duration {
        (elapsed / LATENESS_DIVISOR)
            .min(self.max_interval)
            .max(self.first_interval)
    }

    /// Polls `check` until it returns `Some`. `what` names the wait in logs and errors
    /// ("EKS cluster gpu to become ACTIVE"). Running out of time is [`ErrorClass::Timeout`]:
    /// the object exists and is still changing, so the call is not simply retried.
    /// A poll that fails with a throttling or transient error (after the SDK's own
    /// retries) does not end the wait, which has the object's acceptance behind it and may
    /// have minutes to go: polling goes on, and only [`FAILED_POLLS_TOLERATED`] such
    /// failures in a row end it, with the last error. Any other error ends it at once.
    pub async fn until<T, F, Fut>(&self, ctx: &OpContext, what: &str, mut check: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<T>>>,
    {
        let start = Instant::now();
        let mut failed_in_a_row = 0;
        loop {
            match check().await {
                Ok(Some(done)) => {
                    tracing::debug!(what, elapsed = ?start.elapsed(), "wait finished");
                    return Ok(done);
                }
                Ok(None) => failed_in_a_row = 0,
                Err(e)
                    if matches!(e.class, ErrorClass::Throttled | ErrorClass::Transient)
                        && failed_in_a_row + 1 < FAILED_POLLS_TOLERATED =>
                {
                    failed_in_a_row += 1;
                    tracing::info!(what, error = %e, "a poll failed; polling on");
                }
                Err(e) => return Err(e),
            }
            let elapsed = start.elapsed();
            if elapsed >= self.timeout {
                return Err(ProviderError::timeout(format!(
                    "timed out after {} waiting for {what}",
                    human(self.timeout)
                )));
            }
            tracing::info!(what, elapsed_s = elapsed.as_secs(), "still waiting");
            let pause = self.interval(elapsed).min(self.timeout - elapsed);
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = ctx.cancel.cancelled() => return Err(interrupted(what)),
            }
        }
    }

    /// Polls `describe` until `ready` says the object is there (`Some`). `noun` names it
    /// ("EFS file system fs-1"): the wait is for "{noun} to become {state}", and an object
    /// that disappears meanwhile (`describe` gives `None`) is NotFound, "{noun} is gone".
    /// `ready` also turns a failed state into an error.
    pub async fn until_ready<T, U, D, DFut, R>(
        &self,
        ctx: &OpContext,
        noun: &str,
        state: &str,
        mut describe: D,
        ready: R,
    ) -> Result<U>
    where
        D: FnMut() -> DFut,
        DFut: Future<Output = Result<Option<T>>>,
        R: Fn(T) -> Result<Option<U>>,
    {
        let ready = &ready;
        self.until(ctx, &format!("{noun} to become {state}"), || {
            let described = describe();
            async move {
                let object = described
                    .await?
                    .ok_or_else(|| ProviderError::not_found(format!("{noun} is gone")))?;
                ready(object)
            }
        })
        .await
    }

    /// Polls `describe` until the object `noun` names is gone (`describe` gives `None`).
    pub async fn until_gone<T, D, DFut>(
        &self,
        ctx: &OpContext,
        noun: &str,
        mut describe: D,
    ) -> Result<()>
    where
        D: FnMut() -> DFut,
        DFut: Future<Output = Result<Option<T>>>,
    {
        self.until(ctx, &format!("{noun} to be deleted"), || {
            let described = describe();
            async move { Ok(described.await?.is_none().then_some(())) }
        })
        .await
    }
}

/// The error of a wait the run's cancellation (Ctrl-C) stopped.
fn interrupted(what: &str) -> ProviderError {
    ProviderError::new(
        ErrorClass::Transient,
        format!("interrupted while waiting for {what}"),
    )
}

/// A duration as people write it in a `timeouts` block (`90m`, `45s`; `250ms` below a
/// second).
fn human(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0 => format!("{}ms", d.as_millis()),
        s if s % 3600 == 0 => format!("{}h", s / 3600),
        s if s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// Reads an object back right after the create the cloud accepted: an eventually
/// consistent API (EC2, IAM, S3...) may not show it yet, so "not there" (`None`, or a
/// NotFound error from any call `read` makes) is polled past, with backoff, for up to
/// [`PROPAGATION`]. `noun` names the object ("VPC vpc-1").
pub async fn read_back<T, F, Fut>(ctx: &OpContext, noun: &str, mut read: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    Wait::up_to(PROPAGATION)
        .until(ctx, &format!("{noun} to become visible"), || {
            let attempt = read();
            async move {
                match attempt.await {
                    Err(e) if is_not_found(&e) => Ok(None),
                    other => other,
                }
            }
        })
        .await
}

/// Sends a create (`send`) that the service may refuse for a while because a role or
/// instance profile it names was made moments ago and has not reached it yet (see
/// [`is_iam_propagation`]): such refusals are retried with backoff for up to
/// [`PROPAGATION`], as Terraform does; any other outcome is returned at once. `what` names
/// the call in logs ("RunInstances").
pub async fn through_iam_propagation<T, F, Fut>(
    ctx: &OpContext,
    what: &str,
    mut send: F,
) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let start = Instant::now();
    let mut interval = poll_floor();
    loop {
        let e = match send().await {
            Err(e) if is_iam_propagation(&e) => e,
            other => return other,
        };
        let elapsed = start.elapsed();
        if elapsed >= PROPAGATION {
            return Err(e);
        }
        tracing::info!(what, error = %e, "waiting for IAM to propagate");
        tokio::select! {
            () = tokio::time::sleep(interval.min(PROPAGATION - elapsed)) => {}
            () = ctx.cancel.cancelled() => return Err(e),
        }
        interval = (interval * 3 / 2).min(Duration::from_secs(10));
    }
}

/// The first poll interval: 1 s, or `GANTRY_AWS_POLL_MS` (tests against an emulator, where
/// everything is ready at once, poll faster).
fn poll_floor() -> Duration {
    std::env::var("GANTRY_AWS_POLL_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
        .map_or(Duration::from_secs(1), Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fast(timeout_ms: u64) -> Wait {
        Wait {
            timeout: Duration::from_millis(timeout_ms),
            first_interval: Duration::from_millis(5),
            max_interval: Duration::from_millis(20),
        }
    }

    #[tokio::test]
    async fn returns_once_the_check_says_done() {
        let ctx = OpContext::new("x");
        let mut polls = 0;
        let got = fast(2000)
            .until(&ctx, "thing", || {
                polls += 1;
                let n = polls;
                async move { Ok((n >= 3).then_some(n)) }
            })
            .await;
        assert_eq!(got, Ok(3));
    }

    #[tokio::test]
    async fn gives_up_at_the_deadline_naming_what_it_waited_for() {
        let ctx = OpContext::new("x");
        let err = fast(50)
            .until(&ctx, "cluster gpu to become ACTIVE", || async {
                Ok(None::<()>)
            })
            .await
            .err();
        let err = err.expect("a timeout");
        assert_eq!(err.class, ErrorClass::Timeout);
        assert!(
            err.message.contains("cluster gpu to become ACTIVE"),
            "{}",
            err.message
        );
        assert!(err.message.contains("50ms"), "{}", err.message);
    }

    /// Waits (defaults: 1 s floor, 15 s cap) for a check that says done once `ready` has
    /// passed on tokio's clock; gives when the wait saw it and how many polls it made.
    async fn seen_after(ready: Duration) -> (Duration, u32) {
        let ctx = OpContext::new("x");
        let wait = Wait {
            timeout: Duration::from_secs(3600),
            first_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(15),
        };
        let start = Instant::now();
        let mut polls = 0;
        wait.until(&ctx, "thing", || {
            polls += 1;
            let done = start.elapsed() >= ready;
            async move { Ok(done.then_some(())) }
        })
        .await
        .expect("the wait ends once the object is ready");
        (start.elapsed(), polls)
    }

    #[tokio::test(start_paused = true)]
    async fn a_wait_sees_the_object_ready_within_a_twentieth_of_its_length() {
        // A geometric backoff (x1.5 from 1 s) would see the 21 s object at 32 s and the
        // 100 s one at 107 s.
        for secs in [3, 21, 45, 100, 240, 600, 1800] {
            let ready = Duration::from_secs(secs);
            let (seen, _) = seen_after(ready).await;
            let late = seen - ready;
            let allowed = (ready / 20).clamp(Duration::from_secs(1), Duration::from_secs(15));
            assert!(late <= allowed, "ready at {ready:?}, seen at {seen:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_long_wait_polls_a_bounded_number_of_times() {
        // A 10-minute EKS cluster: every second for the first 20 s, then a twentieth of the
        // time waited, every 15 s from 300 s on.
        let (_, polls) = seen_after(Duration::from_secs(600)).await;
        // 97 at these defaults (a x1.5 backoff: 46, but up to half the wait late).
        assert!(polls <= 100, "{polls} polls");
        // An hour polls at the cap: at most one more poll per 15 s.
        let (_, hour) = seen_after(Duration::from_secs(3600)).await;
        assert!(hour <= polls + 3000 / 15 + 1, "{hour} polls");
    }

    #[test]
    fn the_interval_is_a_twentieth_of_the_time_waited_within_its_bounds() {
        let w = Wait {
            timeout: Duration::from_secs(600),
            first_interval: Duration::from_secs(1),
            max_interval: Duration::from_secs(15),
        };
        assert_eq!(w.interval(Duration::ZERO), Duration::from_secs(1));
        assert_eq!(w.interval(Duration::from_secs(60)), Duration::from_secs(3));
        assert_eq!(
            w.interval(Duration::from_secs(3600)),
            Duration::from_secs(15)
        );
        // A floor above the cap (GANTRY_AWS_POLL_MS=20000) is the interval, not a panic.
        let slow = Wait {
            first_interval: Duration::from_secs(20),
            ..w
        };
        assert_eq!(
            slow.interval(Duration::from_secs(3600)),
            Duration::from_secs(20)
        );
    }

    #[tokio::test]
    async fn throttled_or_failing_polls_do_not_end_a_wait() {
        let ctx = OpContext::new("x");
        let mut polls = 0;
        let got = fast(5000)
            .until(&ctx, "thing", || {
                polls += 1;
                let n = polls;
                async move {
                    match n {
                        1 | 3 => Err(ProviderError::new(ErrorClass::Throttled, "Rate exceeded")),
                        2 => Err(ProviderError::new(ErrorClass::Transient, "503")),
                        4 => Ok(None),
                        _ => Ok(Some(n)),
                    }
                }
            })
            .await;
        assert_eq!(got, Ok(5));
        // Any other error ends it at once.
        let mut polls = 0;
        let err = fast(5000)
            .until(&ctx, "thing", || {
                polls += 1;
                async { Err::<Option<()>, _>(ProviderError::new(ErrorClass::Auth, "denied")) }
            })
            .await
            .err();
        assert_eq!(polls, 1);
        assert!(err.is_some_and(|e| e.class == ErrorClass::Auth));
        // A cloud that answers nothing but errors ends it after FAILED_POLLS_TOLERATED.
        let mut polls = 0;
        let err = fast(60_000)
            .until(&ctx, "thing", || {
                polls += 1;
                async { Err::<Option<()>, _>(ProviderError::new(ErrorClass::Transient, "503")) }
            })
            .await
            .err();
        assert_eq!(polls, FAILED_POLLS_TOLERATED);
        assert!(err.is_some_and(|e| e.class == ErrorClass::Transient && e.message == "503"));
    }

    #[test]
    fn durations_read_as_in_a_timeouts_block() {
        assert_eq!(human(Duration::from_millis(250)), "250ms");
        assert_eq!(human(Duration::from_secs(45)), "45s");
        assert_eq!(human(Duration::from_secs(30 * 60)), "30m");
        assert_eq!(human(Duration::from_secs(2 * 3600)), "2h");
    }

    #[tokio::test]
    async fn the_operation_timeout_bounds_the_wait() {
        let mut ctx = OpContext::new("x");
        assert_eq!(
            Wait::for_op(&ctx, Duration::from_secs(600)).timeout,
            Duration::from_secs(600)
        );
        ctx.timeout = Some(Duration::ZERO);
        let err = Wait::for_op(&ctx, Duration::from_secs(600))
            .until(&ctx, "x", || async { Ok(None::<()>) })
            .await
            .err();
        assert!(err.is_some_and(|e| e.class == ErrorClass::Timeout));
    }

    #[tokio::test]
    async fn read_back_polls_past_not_found_and_stops_on_other_errors() {
        let ctx = OpContext::new("x");
        let mut reads = 0;
        let got = read_back(&ctx, "VPC vpc-1", || {
            reads += 1;
            let n = reads;
            async move {
                match n {
                    1 => Err(ProviderError::not_found("InvalidVpcID.NotFound")),
                    2 => Ok(None),
                    _ => Ok(Some(n)),
                }
            }
        })
        .await;
        assert_eq!(got, Ok(3));
        let err = read_back(&ctx, "VPC vpc-1", || async {
            Err::<Option<()>, _>(ProviderError::new(ErrorClass::Auth, "denied"))
        })
        .await
        .err();
        assert!(err.is_some_and(|e| e.class == ErrorClass::Auth));
    }

    fn propagation_error() -> ProviderError {
        crate::errors::service_error(
            "RunInstances",
            "InvalidParameterValue",
            "Value (gpu) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name",
            Some(400),
        )
    }

    #[tokio::test]
    async fn creates_are_sent_again_while_iam_propagates_and_only_then() {
        let ctx = OpContext::new("x");
        let mut sends = 0;
        let got = through_iam_propagation(&ctx, "RunInstances", || {
            sends += 1;
            let n = sends;
            async move {
                if n < 3 {
                    Err(propagation_error())
                } else {
                    Ok(n)
                }
            }
        })
        .await;
        assert_eq!(got, Ok(3));
        let mut sends = 0;
        let err = through_iam_propagation(&ctx, "RunInstances", || {
            sends += 1;
            async {
                Err::<(), _>(crate::errors::service_error(
                    "RunInstances",
                    "InvalidParameterValue",
                    "Invalid value 'p9.huge' for InstanceType.",
                    Some(400),
                ))
            }
        })
        .await
        .err();
        assert_eq!(sends, 1);
        assert!(err.is_some_and(|e| e.class == ErrorClass::InvalidInput));
    }

    #[tokio::test]
    async fn a_cancelled_run_stops_waiting_for_iam() {
        let ctx = OpContext::new("x");
        ctx.cancel.cancel();
        let mut sends = 0;
        let err = through_iam_propagation(&ctx, "RunInstances", || {
            sends += 1;
            async { Err::<(), _>(propagation_error()) }
        })
        .await
        .err();
        assert_eq!(sends, 1);
        assert!(err.is_some_and(|e| e.code.as_deref() == Some("InvalidParameterValue")));
    }

    #[tokio::test]
    async fn until_ready_passes_the_object_to_the_check() {
        let ctx = OpContext::new("x");
        let mut polls = 0;
        let got = fast(2000)
            .until_ready(
                &ctx,
                "thing t-1",
                "READY",
                || {
                    polls += 1;
                    let n = polls;
                    async move { Ok(Some(n)) }
                },
                |n| Ok((n >= 2).then_some(n * 10)),
            )
            .await;
        assert_eq!(got, Ok(20));
    }

    #[tokio::test]
    async fn until_ready_says_the_object_is_gone_when_it_disappears() {
        let ctx = OpContext::new("x");
        let err = fast(2000)
            .until_ready(
                &ctx,
                "thing t-1",
                "READY",
                || async { Ok(None::<()>) },
                |()| Ok(Some(())),
            )
            .await
            .err();
        assert!(err
            .is_some_and(|e| e.class == ErrorClass::NotFound && e.message == "thing t-1 is gone"));
    }

    #[tokio::test]
    async fn until_gone_finishes_once_describe_finds_nothing() {
        let ctx = OpContext::new("x");
        let mut polls = 0;
        let got = fast(2000)
            .until_gone(&ctx, "thing t-1", || {
                polls += 1;
                let n = polls;
                async move { Ok((n < 3).then_some(n)) }
            })
            .await;
        assert_eq!(got, Ok(()));
        assert_eq!(polls, 3);
    }

    #[tokio::test]
    async fn until_gone_names_the_deletion_on_timeout() {
        let ctx = OpContext::new("x");
        let err = fast(50)
            .until_gone(&ctx, "thing t-1", || async { Ok(Some(())) })
            .await
            .err();
        let err = err.map(|e| e.message).unwrap_or_default();
        assert!(err.contains("thing t-1 to be deleted"), "{err}");
    }

    #[tokio::test]
    async fn stops_when_the_run_is_cancelled() {
        let ctx = OpContext::new("x");
        ctx.cancel.cancel();
        let wait = Wait {
            timeout: Duration::from_secs(60),
            first_interval: Duration::from_secs(30),
            max_interval: Duration::from_secs(30),
        };
        let err = wait
            .until(&ctx, "x", || async { Ok(None::<()>) })
            .await
            .err();
        assert!(err.is_some_and(|e| e.message.contains("interrupted")));
    }
}

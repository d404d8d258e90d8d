//! Bounded waits for objects that become ready asynchronously (EKS clusters, node groups,
//! FSx file systems, SageMaker domains): poll with a growing interval until the check says
//! done, the deadline passes, or the run is cancelled.

use gantry_provider::provider::Result;
use gantry_provider::{ErrorClass, OpContext, ProviderError};
use std::future::Future;
use std::time::{Duration, Instant};

/// How long and how often to poll.
#[derive(Clone, Copy, Debug)]
pub struct Wait {
    pub timeout: Duration,
    pub first_interval: Duration,
    pub max_interval: Duration,
}

impl Wait {
    /// A wait of at most `timeout`, polling after 1 s, then backing off to every 15 s.
    pub fn up_to(timeout: Duration) -> Wait {
        Wait {
            timeout,
            first_interval: poll_floor(),
            max_interval: Duration::from_secs(15),
        }
    }

    /// Polls `check` until it returns `Some`. `what` names the wait in logs and errors
    /// ("EKS cluster gpu to become ACTIVE").
    pub async fn until<T, F, Fut>(&self, ctx: &OpContext, what: &str, mut check: F) -> Result<T>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<Option<T>>>,
    {
        let start = Instant::now();
        let mut interval = self.first_interval;
        loop {
            if let Some(done) = check().await? {
                tracing::debug!(what, elapsed = ?start.elapsed(), "wait finished");
                return Ok(done);
            }
            let elapsed = start.elapsed();
            if elapsed >= self.timeout {
                return Err(ProviderError::new(
                    ErrorClass::Transient,
                    format!(
                        "timed out after {}s waiting for {what}",
                        self.timeout.as_secs()
                    ),
                ));
            }
            tracing::info!(what, elapsed_s = elapsed.as_secs(), "still waiting");
            let pause = interval.min(self.timeout - elapsed);
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = ctx.cancel.cancelled() => {
                    return Err(ProviderError::new(
                        ErrorClass::Transient,
                        format!("interrupted while waiting for {what}"),
                    ));
                }
            }
            interval = (interval * 3 / 2).min(self.max_interval);
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

/// Polls `read` until a new object of an eventually consistent API (IAM, S3) can be read,
/// for up to two minutes, and returns its state. `noun` names it ("IAM role ml").
pub async fn until_visible<T, F, Fut>(ctx: &OpContext, noun: &str, read: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>>>,
{
    Wait::up_to(Duration::from_secs(120))
        .until(ctx, &format!("{noun} to become visible"), read)
        .await
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
        let err = err.map(|e| e.message).unwrap_or_default();
        assert!(err.contains("cluster gpu to become ACTIVE"), "{err}");
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

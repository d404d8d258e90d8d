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

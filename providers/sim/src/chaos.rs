//! The misbehaviour applied before every simulated operation: latency (cancellable) and
//! injected faults, `Transient` (`InternalError`) or `Throttled` (`RequestLimitExceeded`),
//! half each. Faults strike before the operation does anything, so a failed call never
//! changed the world.

use crate::ids::Entropy;
use crate::knobs::{Knobs, Latency};
use gantry_provider::{ErrorClass, OpContext, ProviderError};
use std::time::Duration;

/// Latency and faults for one simulated provider.
#[derive(Debug)]
pub struct Chaos {
    latency: Option<Latency>,
    fault_rate: f64,
    rng: Entropy,
}

impl Chaos {
    /// Seeded knobs give a reproducible stream per provider `name`.
    pub fn new(knobs: &Knobs, name: &str) -> Chaos {
        let seed = knobs
            .seed
            .map(|s| crate::ids::stable_hash(&[&s.to_le_bytes(), b"chaos", name.as_bytes()]));
        Chaos {
            latency: knobs.latency,
            fault_rate: knobs.fault_rate,
            rng: Entropy::new(seed),
        }
    }

    /// Waits the operation's latency, then maybe fails it. `op` names the operation in
    /// messages.
    pub async fn before(&self, ctx: &OpContext, op: &str) -> Result<(), ProviderError> {
        if let Some(latency) = self.latency {
            let delay = latency.sample(self.rng.next_f64());
            if !delay.is_zero() {
                tokio::select! {
                    biased;
                    () = ctx.cancel.cancelled() => {
                        return Err(ProviderError::fatal(format!("{op} cancelled"))
                            .with_code("RequestCanceled"));
                    }
                    () = tokio::time::sleep(delay) => {}
                }
            }
        }
        if self.fault_rate > 0.0 && self.rng.next_f64() < self.fault_rate {
            return Err(if self.rng.next_u64().is_multiple_of(2) {
                ProviderError::new(
                    ErrorClass::Transient,
                    format!("{op}: we encountered an internal error, please try again (simulated)"),
                )
                .with_code("InternalError")
            } else {
                let after = Duration::from_millis(100 + self.rng.next_u64() % 400);
                ProviderError::new(
                    ErrorClass::Throttled,
                    format!("{op}: request limit exceeded (simulated)"),
                )
                .with_code("RequestLimitExceeded")
                .with_retry_after(after)
            });
        }
        Ok(())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn latency_is_waited_and_cancel_cuts_it_short() {
        let chaos = Chaos::new(&Knobs::new().with_latency(Latency::Around(100)), "aws");
        let ctx = OpContext::new("a.b");
        for _ in 0..20 {
            let start = tokio::time::Instant::now();
            chaos.before(&ctx, "read").await.unwrap();
            let waited = start.elapsed();
            assert!(
                waited >= Duration::from_millis(80) && waited <= Duration::from_millis(120),
                "{waited:?}"
            );
        }
        let slow = Chaos::new(&Knobs::new().with_latency(Latency::Around(60_000)), "aws");
        let ctx = OpContext::new("a.b");
        let cancel = ctx.cancel.clone();
        let start = tokio::time::Instant::now();
        let op = tokio::spawn(async move { slow.before(&ctx, "create").await });
        tokio::time::sleep(Duration::from_millis(10)).await;
        cancel.cancel();
        let err = op.await.unwrap().unwrap_err();
        assert_eq!(err.code.as_deref(), Some("RequestCanceled"));
        assert!(start.elapsed() < Duration::from_secs(1));
    }

    #[tokio::test]
    async fn no_knobs_no_faults() {
        let chaos = Chaos::new(&Knobs::new(), "aws");
        let ctx = OpContext::new("a.b");
        for _ in 0..100 {
            chaos.before(&ctx, "read").await.unwrap();
        }
    }

    #[tokio::test]
    async fn a_partial_fault_rate_fails_some_calls() {
        let chaos = Chaos::new(&Knobs::new().with_fault_rate(0.3).with_seed(1), "aws");
        let ctx = OpContext::new("a.b");
        let mut failed = 0;
        for _ in 0..1000 {
            failed += usize::from(chaos.before(&ctx, "read").await.is_err());
        }
        assert!((200..400).contains(&failed), "{failed} of 1000 failed");
    }
}

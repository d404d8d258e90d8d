//! Retrying provider calls: exponential backoff with full jitter, bounded attempts, and the
//! cloud's own `retry_after` when it gives one. A delete that conflicts (a dependency is
//! still going away: EC2's DependencyViolation while ENIs detach) is retried until a
//! deadline of minutes, as the cloud needs, not for a fixed number of attempts.

use gantry_provider::{ErrorClass, ProviderError};
use rand::Rng;
use std::time::Duration;

/// How hard to retry.
#[derive(Clone, Copy, Debug)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    /// Attempts for calls that change nothing (reads, lookups): retrying them is free of
    /// risk, and a refresh of thousands of objects must ride out a bad minute.
    pub read_attempts: u32,
    pub base: Duration,
    pub cap: Duration,
    /// How long a delete keeps retrying `Conflict` when the resource has no delete timeout
    /// of its own.
    pub conflict_for: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 10,
            read_attempts: 12,
            base: Duration::from_millis(100),
            cap: Duration::from_secs(10),
            conflict_for: Duration::from_secs(10 * 60),
        }
    }
}

impl RetryPolicy {
    /// The pause before attempt `attempt` (1-based retry count), or `None` to give up.
    /// `Conflict` is retried only while deleting (see [`RetryPolicy::conflict_delay`]).
    pub fn delay(&self, error: &ProviderError, attempt: u32, deleting: bool) -> Option<Duration> {
        if deleting && error.class == ErrorClass::Conflict {
            return self.conflict_delay(error, attempt, Duration::ZERO, None);
        }
        if !error.class.is_retryable() || attempt >= self.max_attempts {
            return None;
        }
        Some(self.backoff(error, attempt))
    }

    /// [`RetryPolicy::delay`] for a call that changes nothing: more attempts.
    pub fn read_delay(&self, error: &ProviderError, attempt: u32) -> Option<Duration> {
        if !error.class.is_retryable() || attempt >= self.read_attempts {
            return None;
        }
        Some(self.backoff(error, attempt))
    }

    /// The pause before retrying a delete that conflicted, `elapsed` after the first
    /// attempt, or `None` once `deadline` (else [`RetryPolicy::conflict_for`]) has passed.
    pub fn conflict_delay(
        &self,
        error: &ProviderError,
        attempt: u32,
        elapsed: Duration,
        deadline: Option<Duration>,
    ) -> Option<Duration> {
        let deadline = deadline.unwrap_or(self.conflict_for);
        if error.class != ErrorClass::Conflict || elapsed >= deadline {
            return None;
        }
        Some(self.backoff(error, attempt).min(deadline - elapsed))
    }

    fn backoff(&self, error: &ProviderError, attempt: u32) -> Duration {
        if let Some(after) = error.retry_after {
            return after.min(self.cap);
        }
        let exp = self
            .base
            .saturating_mul(1u32 << attempt.min(16))
            .min(self.cap);
        let millis = u64::try_from(exp.as_millis()).unwrap_or(u64::MAX).max(1);
        Duration::from_millis(rand::rng().random_range(millis / 2..=millis))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retries_only_what_is_retryable_and_stops() {
        let p = RetryPolicy::default();
        let transient = ProviderError::new(ErrorClass::Transient, "x");
        assert!(p.delay(&transient, 1, false).is_some());
        assert!(p.delay(&transient, 10, false).is_none(), "bounded attempts");
        let invalid = ProviderError::invalid("bad");
        assert!(p.delay(&invalid, 1, false).is_none());
        let conflict = ProviderError::new(ErrorClass::Conflict, "in use");
        assert!(
            p.delay(&conflict, 1, true).is_some(),
            "conflicts retried while deleting"
        );
        assert!(
            p.delay(&conflict, 50, true).is_some(),
            "conflicts while deleting are bounded by time, not attempts"
        );
        assert!(p.delay(&conflict, 1, false).is_none());
        let late = p.conflict_delay(&conflict, 3, Duration::from_secs(601), None);
        assert!(late.is_none(), "ten minutes by default");
        let near = p.conflict_delay(
            &conflict,
            20,
            Duration::from_millis(9_990),
            Some(Duration::from_secs(10)),
        );
        assert!(
            near.is_some_and(|d| d <= Duration::from_millis(10)),
            "{near:?}"
        );
        let throttled = ProviderError::new(ErrorClass::Throttled, "slow")
            .with_retry_after(Duration::from_millis(7));
        assert_eq!(
            p.delay(&throttled, 1, false),
            Some(Duration::from_millis(7))
        );
    }

    #[test]
    fn backoff_grows_and_is_capped() {
        let p = RetryPolicy {
            base: Duration::from_millis(100),
            cap: Duration::from_millis(400),
            ..RetryPolicy::default()
        };
        let e = ProviderError::new(ErrorClass::Transient, "x");
        for _ in 0..20 {
            let d1 = p.delay(&e, 1, false).unwrap_or_default();
            assert!(
                d1 >= Duration::from_millis(100) && d1 <= Duration::from_millis(200),
                "{d1:?}"
            );
            let d5 = p.delay(&e, 5, false).unwrap_or_default();
            assert!(d5 <= Duration::from_millis(400), "{d5:?}");
        }
    }
}

//! Adaptive concurrency per provider (AIMD): start where the provider says (unbounded for
//! the simulated clouds), halve on throttling, grow by one on each success, never above
//! `--parallelism`.

use std::collections::HashMap;

#[derive(Debug)]
struct Slot {
    limit: usize,
    in_flight: usize,
}

/// Per-provider limits.
#[derive(Debug)]
pub struct Limiter {
    max: usize,
    slots: HashMap<String, Slot>,
}

impl Limiter {
    pub fn new(max: usize) -> Limiter {
        Limiter {
            max: max.max(1),
            slots: HashMap::new(),
        }
    }

    /// Sets a provider's starting limit.
    pub fn register(&mut self, provider: &str, initial: Option<usize>) {
        let limit = initial.unwrap_or(self.max).clamp(1, self.max);
        self.slots.insert(
            provider.to_owned(),
            Slot {
                limit,
                in_flight: 0,
            },
        );
    }

    /// Takes a slot if the provider is under its limit.
    pub fn try_acquire(&mut self, provider: &str) -> bool {
        let max = self.max;
        let slot = self.slots.entry(provider.to_owned()).or_insert(Slot {
            limit: max,
            in_flight: 0,
        });
        if slot.in_flight < slot.limit {
            slot.in_flight += 1;
            true
        } else {
            false
        }
    }

    pub fn release(&mut self, provider: &str) {
        if let Some(slot) = self.slots.get_mut(provider) {
            slot.in_flight = slot.in_flight.saturating_sub(1);
        }
    }

    /// The provider said to slow down.
    pub fn throttled(&mut self, provider: &str) {
        if let Some(slot) = self.slots.get_mut(provider) {
            slot.limit = (slot.limit / 2).max(1);
        }
    }

    /// A call went through: recover additively.
    pub fn succeeded(&mut self, provider: &str) {
        let max = self.max;
        if let Some(slot) = self.slots.get_mut(provider) {
            slot.limit = (slot.limit + 1).min(max);
        }
    }

    /// The overall bound.
    pub fn max(&self) -> usize {
        self.max
    }

    pub fn limit(&self, provider: &str) -> usize {
        self.slots.get(provider).map_or(self.max, |s| s.limit)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backs_off_multiplicatively_and_recovers_additively() {
        let mut l = Limiter::new(64);
        l.register("aws", Some(16));
        for _ in 0..16 {
            assert!(l.try_acquire("aws"));
        }
        assert!(!l.try_acquire("aws"), "at the limit");
        l.throttled("aws");
        assert_eq!(l.limit("aws"), 8);
        l.throttled("aws");
        l.throttled("aws");
        l.throttled("aws");
        l.throttled("aws");
        assert_eq!(l.limit("aws"), 1, "never below one");
        l.succeeded("aws");
        assert_eq!(l.limit("aws"), 2);
        l.register("sim", None);
        assert_eq!(
            l.limit("sim"),
            64,
            "unbounded providers start at --parallelism"
        );
    }
}

//! Knobs: how the simulated clouds misbehave. Latency per operation, a rate of transient
//! faults and throttling, a seed for reproducible runs, and capacity and quota tables.
//!
//! From the environment (`GANTRY_SIM_LATENCY_MS`, `GANTRY_SIM_FAULT_RATE`,
//! `GANTRY_SIM_SEED`) and `<world dir>/capacity.json`, or built in code for tests.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
use std::time::Duration;

pub const ENV_LATENCY: &str = "GANTRY_SIM_LATENCY_MS";
pub const ENV_FAULT_RATE: &str = "GANTRY_SIM_FAULT_RATE";
pub const ENV_SEED: &str = "GANTRY_SIM_SEED";
/// The capacity and quota tables, in the world directory.
pub const TABLES_FILE: &str = "capacity.json";

/// Latency added to every operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Latency {
    /// About this many milliseconds, ±20%.
    Around(u64),
    /// Uniformly between the two bounds, in milliseconds.
    Between(u64, u64),
}

impl Latency {
    /// The bounds of the delay, in milliseconds.
    pub fn bounds_ms(self) -> (u64, u64) {
        match self {
            Latency::Around(ms) => (ms - ms / 5, ms.saturating_add(ms / 5)),
            Latency::Between(lo, hi) => (lo.min(hi), lo.max(hi)),
        }
    }

    /// A delay within the bounds; `unit` is a uniform number in `[0, 1)`.
    pub fn sample(self, unit: f64) -> Duration {
        let (lo, hi) = self.bounds_ms();
        let ms = lo as f64 + unit * (hi - lo) as f64;
        // `as` saturates: absurd settings give absurd, not overflowing, delays.
        Duration::from_micros((ms * 1000.0).round() as u64)
    }
}

/// No capacity for objects whose `attribute` is `value` (in `zone`, when given).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CapacityRule {
    #[serde(rename = "type")]
    pub type_name: String,
    pub attribute: String,
    pub value: String,
    /// The attribute naming the zone; `availability_zone` when `zone` is given without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone_attribute: Option<String>,
    /// Only this zone lacks capacity; every zone when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// The cloud's error code; `InsufficientInstanceCapacity` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The shortage ends at this time (Unix milliseconds): capacity comes back, as it does
    /// for a team waiting for it. Forever when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub until_unix_ms: Option<u64>,
}

/// At most `limit` objects whose `attribute` is `value` may exist at once.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuotaRule {
    #[serde(rename = "type")]
    pub type_name: String,
    pub attribute: String,
    pub value: String,
    pub limit: u64,
    /// The cloud's error code; `VcpuLimitExceeded` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

impl CapacityRule {
    pub fn new(type_name: &str, attribute: &str, value: &str) -> CapacityRule {
        CapacityRule {
            type_name: type_name.to_owned(),
            attribute: attribute.to_owned(),
            value: value.to_owned(),
            zone_attribute: None,
            zone: None,
            code: None,
            until_unix_ms: None,
        }
    }

    /// Restricts the shortage to one zone, named by `availability_zone`.
    pub fn in_zone(mut self, zone: &str) -> CapacityRule {
        self.zone = Some(zone.to_owned());
        self
    }

    /// The zone attribute, when the rule names a zone.
    pub fn zone_attribute(&self) -> Option<&str> {
        self.zone.as_ref()?;
        Some(
            self.zone_attribute
                .as_deref()
                .unwrap_or("availability_zone"),
        )
    }
}

impl QuotaRule {
    pub fn new(type_name: &str, attribute: &str, value: &str, limit: u64) -> QuotaRule {
        QuotaRule {
            type_name: type_name.to_owned(),
            attribute: attribute.to_owned(),
            value: value.to_owned(),
            limit,
            code: None,
        }
    }
}

/// An account quota as the simulated cloud's quota service reports it, for the plan's
/// quota pre-flight (`L-417A185B` = 384 vCPUs). Usage is counted from the world's objects.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServiceQuota {
    pub code: String,
    pub limit: f64,
    /// Only in this region; every region when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
}

/// The contents of `capacity.json`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tables {
    #[serde(default)]
    pub capacity: Vec<CapacityRule>,
    #[serde(default)]
    pub quota: Vec<QuotaRule>,
    #[serde(default)]
    pub service_quotas: Vec<ServiceQuota>,
}

/// Every knob of a simulated cloud. `Knobs::default()` is a perfect cloud: instant,
/// never failing, unlimited, unseeded.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Knobs {
    pub latency: Option<Latency>,
    /// Fraction of calls (0.0-1.0) failing with `Transient` or `Throttled`, half each.
    pub fault_rate: f64,
    pub seed: Option<u64>,
    pub tables: Tables,
}

/// A knob that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum KnobError {
    #[error("{var}={value:?}: {reason}")]
    Env {
        var: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid {}: {source}", path.display())]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
}

impl Knobs {
    pub fn new() -> Knobs {
        Knobs::default()
    }

    /// Knobs from `GANTRY_SIM_*` environment variables (unset ones keep their default).
    pub fn from_env() -> Result<Knobs, KnobError> {
        Knobs::from_lookup(|var| std::env::var(var).ok())
    }

    /// Knobs from the environment plus `<dir>/capacity.json` when present.
    pub fn load(dir: &Path) -> Result<Knobs, KnobError> {
        Knobs::from_env()?.with_tables_from(dir)
    }

    /// Knobs from variables looked up by `lookup` (the environment, in [`Knobs::from_env`]).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Knobs, KnobError> {
        let mut knobs = Knobs::default();
        let get = |var: &str| lookup(var).filter(|v| !v.trim().is_empty());
        if let Some(v) = get(ENV_LATENCY) {
            knobs.latency = Some(parse_latency(&v).ok_or(KnobError::Env {
                var: ENV_LATENCY,
                value: v.clone(),
                reason: "expected milliseconds, like `100` or `50-150`",
            })?);
        }
        if let Some(v) = get(ENV_FAULT_RATE) {
            knobs.fault_rate = v
                .trim()
                .parse::<f64>()
                .ok()
                .filter(|r| (0.0..=1.0).contains(r))
                .ok_or(KnobError::Env {
                    var: ENV_FAULT_RATE,
                    value: v.clone(),
                    reason: "expected a fraction between 0.0 and 1.0",
                })?;
        }
        if let Some(v) = get(ENV_SEED) {
            knobs.seed = Some(v.trim().parse::<u64>().map_err(|_| KnobError::Env {
                var: ENV_SEED,
                value: v.clone(),
                reason: "expected an unsigned integer",
            })?);
        }
        Ok(knobs)
    }

    /// Adds the tables of `<dir>/capacity.json`, if that file exists.
    pub fn with_tables_from(mut self, dir: &Path) -> Result<Knobs, KnobError> {
        let path = dir.join(TABLES_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(self),
            Err(source) => return Err(KnobError::Read { path, source }),
        };
        let tables: Tables =
            serde_json::from_slice(&bytes).map_err(|source| KnobError::Parse { path, source })?;
        self.tables.capacity.extend(tables.capacity);
        self.tables.quota.extend(tables.quota);
        self.tables.service_quotas.extend(tables.service_quotas);
        Ok(self)
    }

    pub fn with_latency(mut self, latency: Latency) -> Knobs {
        self.latency = Some(latency);
        self
    }

    /// Clamped to `0.0..=1.0`.
    pub fn with_fault_rate(mut self, rate: f64) -> Knobs {
        self.fault_rate = if rate.is_nan() {
            0.0
        } else {
            rate.clamp(0.0, 1.0)
        };
        self
    }

    pub fn with_seed(mut self, seed: u64) -> Knobs {
        self.seed = Some(seed);
        self
    }

    pub fn with_capacity(mut self, rule: CapacityRule) -> Knobs {
        self.tables.capacity.push(rule);
        self
    }

    pub fn with_quota(mut self, rule: QuotaRule) -> Knobs {
        self.tables.quota.push(rule);
        self
    }

    pub fn with_service_quota(mut self, quota: ServiceQuota) -> Knobs {
        self.tables.service_quotas.push(quota);
        self
    }
}

fn parse_latency(s: &str) -> Option<Latency> {
    let s = s.trim();
    match s.split_once('-') {
        Some((lo, hi)) => {
            let (lo, hi) = (lo.trim().parse().ok()?, hi.trim().parse().ok()?);
            (lo <= hi).then_some(Latency::Between(lo, hi))
        }
        None => s.parse().ok().map(Latency::Around),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn lookup(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn environment_is_parsed() {
        let k = Knobs::from_lookup(lookup(&[
            (ENV_LATENCY, "50-150"),
            (ENV_FAULT_RATE, "0.25"),
            (ENV_SEED, "42"),
        ]))
        .unwrap();
        assert_eq!(k.latency, Some(Latency::Between(50, 150)));
        assert_eq!(k.fault_rate, 0.25);
        assert_eq!(k.seed, Some(42));
        let k = Knobs::from_lookup(lookup(&[(ENV_LATENCY, "100")])).unwrap();
        assert_eq!(k.latency.map(Latency::bounds_ms), Some((80, 120)));
        assert_eq!(Knobs::from_lookup(lookup(&[])).unwrap(), Knobs::default());
    }

    #[test]
    fn bad_environment_is_an_error_not_a_panic() {
        for (var, value) in [
            (ENV_LATENCY, "fast"),
            (ENV_LATENCY, "150-50"),
            (ENV_FAULT_RATE, "1.5"),
            (ENV_FAULT_RATE, "half"),
            (ENV_SEED, "-1"),
        ] {
            let err = Knobs::from_lookup(lookup(&[(var, value)])).unwrap_err();
            assert!(err.to_string().starts_with(var), "{err}");
        }
    }

    #[test]
    fn latency_samples_stay_in_bounds() {
        let l = Latency::Around(100);
        assert_eq!(l.sample(0.0), Duration::from_millis(80));
        assert_eq!(l.sample(0.5), Duration::from_millis(100));
        assert!(l.sample(0.999_999) <= Duration::from_millis(120));
        assert_eq!(
            Latency::Between(50, 150).sample(0.25),
            Duration::from_millis(75)
        );
    }

    #[test]
    fn tables_are_read_from_the_world_directory() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            Knobs::new().with_tables_from(dir.path()).unwrap().tables,
            Tables::default()
        );
        std::fs::write(
            dir.path().join(TABLES_FILE),
            r#"{"capacity": [{"type": "aws_instance", "attribute": "instance_type",
                "value": "p5.48xlarge", "zone_attribute": "availability_zone", "zone": "us-east-1a"}],
               "quota": [{"type": "aws_instance", "attribute": "instance_type",
                "value": "p5.48xlarge", "limit": 2}]}"#,
        )
        .unwrap();
        let k = Knobs::new().with_tables_from(dir.path()).unwrap();
        let mut rule =
            CapacityRule::new("aws_instance", "instance_type", "p5.48xlarge").in_zone("us-east-1a");
        rule.zone_attribute = Some("availability_zone".into());
        assert_eq!(k.tables.capacity, vec![rule]);
        assert_eq!(
            k.tables.quota,
            vec![QuotaRule::new(
                "aws_instance",
                "instance_type",
                "p5.48xlarge",
                2
            )]
        );
        std::fs::write(dir.path().join(TABLES_FILE), "{not json").unwrap();
        assert!(matches!(
            Knobs::new().with_tables_from(dir.path()),
            Err(KnobError::Parse { .. })
        ));
    }
}

//! Accelerator specs as stacks and the command line write them: `H100:8`, `A100-80GB:8`,
//! `L4` (one), `tpu-v5e:16` (sixteen chips; the topology comes from the catalog).

use std::fmt;

/// A parsed spec: which accelerator, how many per instance (or chips per TPU slice).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    /// The name as written; resolved against the catalog's names and aliases.
    pub accelerator: String,
    pub count: u32,
}

/// Why a spec cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SpecError {
    #[error("empty accelerator spec; write NAME or NAME:COUNT, like `H100:8` or `L4`")]
    Empty,
    #[error("invalid count `{0}` in accelerator spec; write a whole number from 1, like `H100:8`")]
    Count(String),
}

impl Spec {
    pub fn parse(text: &str) -> Result<Spec, SpecError> {
        let text = text.trim();
        let (name, count) = match text.rsplit_once(':') {
            Some((name, count)) => {
                let n = count
                    .trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| SpecError::Count(count.to_owned()))?;
                (name.trim(), n)
            }
            None => (text, 1),
        };
        if name.is_empty() {
            return Err(SpecError::Empty);
        }
        Ok(Spec {
            accelerator: name.to_owned(),
            count,
        })
    }
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.accelerator, self.count)
    }
}

/// Chips in a TPU topology: `4x4` -> 16, `2x2x4` -> 16; `None` when it is not a topology.
pub fn topology_chips(topology: &str) -> Option<u32> {
    topology
        .split('x')
        .map(|d| d.trim().parse::<u32>().ok().filter(|n| *n > 0))
        .try_fold(1u32, |acc, d| acc.checked_mul(d?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse_with_and_without_counts() {
        let s = Spec::parse("H100:8").ok();
        assert_eq!(
            s,
            Some(Spec {
                accelerator: "H100".into(),
                count: 8
            })
        );
        assert_eq!(Spec::parse(" L4 ").map(|s| s.count), Ok(1));
        assert_eq!(
            Spec::parse("A100-80GB:8").map(|s| s.accelerator),
            Ok("A100-80GB".to_owned())
        );
        assert_eq!(Spec::parse("tpu-v5e:16").map(|s| s.count), Ok(16));
        assert_eq!(Spec::parse("H100:0"), Err(SpecError::Count("0".into())));
        assert_eq!(Spec::parse("H100:x"), Err(SpecError::Count("x".into())));
        assert_eq!(Spec::parse(":8"), Err(SpecError::Empty));
        assert_eq!(Spec::parse(""), Err(SpecError::Empty));
    }

    #[test]
    fn topologies_multiply_their_dimensions() {
        assert_eq!(topology_chips("4x4"), Some(16));
        assert_eq!(topology_chips("2x2x4"), Some(16));
        assert_eq!(topology_chips("1x1"), Some(1));
        assert_eq!(topology_chips("4x"), None);
        assert_eq!(topology_chips("0x4"), None);
        assert_eq!(topology_chips("big"), None);
    }
}

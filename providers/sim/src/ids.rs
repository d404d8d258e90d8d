//! Identifiers: generated ids (`<prefix>-0a1b2c3d4e5f67890`, the prefix the provider's
//! [`gantry_provider::SimModel`] gives, else the type's initials), RFC 3339 timestamps, and
//! the stable hashing and random numbers behind them. With a seed
//! (`GANTRY_SIM_SEED`) every id is derived from the seed and what is being created, so runs
//! are reproducible even when operations interleave differently.

use std::sync::{Mutex, PoisonError};

/// The type name without its provider prefix: `aws_vpc` -> `vpc`.
pub fn short_type(type_name: &str) -> &str {
    type_name
        .split_once('_')
        .map_or(type_name, |(_, rest)| rest)
}

/// The first letters of the words after the provider: `aws_eks_cluster` -> `ec`.
pub fn initials(type_name: &str) -> String {
    let letters: String = short_type(type_name)
        .split('_')
        .filter_map(|w| w.chars().next())
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if letters.is_empty() {
        "sim".to_owned()
    } else {
        letters
    }
}

/// Formats an id: the prefix, a dash and 17 hex digits (`0` then 16), as EC2 does.
pub fn format_id(prefix: &str, bits: u64) -> String {
    format!("{prefix}-0{bits:016x}")
}

/// The prefix of `s` when it has the shape of a generated id (`vpc-0a1b2c3d4e5f67890`).
pub fn sim_id_prefix(s: &str) -> Option<&str> {
    let (prefix, hex) = s.rsplit_once('-')?;
    let hex_ok = hex.len() == 17
        && hex
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    let prefix_ok = !prefix.is_empty()
        && prefix
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    (hex_ok && prefix_ok).then_some(prefix)
}

pub use gantry_provider::time::rfc3339;

/// FNV-1a over length-prefixed parts, finished with SplitMix64: a hash that is stable
/// across Rust releases and platforms (unlike `DefaultHasher`).
pub fn stable_hash(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for part in parts {
        for b in (part.len() as u64).to_le_bytes().iter().chain(part.iter()) {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
    splitmix64(h)
}

/// The SplitMix64 finaliser: spreads the bits of `x`.
pub fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Random numbers: a SplitMix64 stream from the seed, or the OS's randomness without one.
#[derive(Debug)]
pub struct Entropy {
    seed: Option<u64>,
    state: Mutex<u64>,
}

impl Entropy {
    pub fn new(seed: Option<u64>) -> Entropy {
        Entropy {
            seed,
            state: Mutex::new(seed.unwrap_or(0)),
        }
    }

    pub fn seed(&self) -> Option<u64> {
        self.seed
    }

    /// The next number of the stream (seeded) or a fresh random one.
    pub fn next_u64(&self) -> u64 {
        if self.seed.is_none() {
            return uuid::Uuid::new_v4().as_u64_pair().0;
        }
        let mut state = self.state.lock().unwrap_or_else(PoisonError::into_inner);
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        splitmix64(*state)
    }

    /// A uniform number in `[0, 1)`.
    pub fn next_f64(&self) -> f64 {
        // 53 random bits, exactly representable.
        (self.next_u64() >> 11) as f64 / (1_u64 << 53) as f64
    }

    /// Seeded: a number derived from the seed and `parts` only (independent of call order).
    /// Unseeded: a random number.
    pub fn derive(&self, parts: &[&[u8]]) -> u64 {
        match self.seed {
            Some(seed) => {
                let seed = seed.to_le_bytes();
                let mut all: Vec<&[u8]> = vec![&seed];
                all.extend_from_slice(parts);
                stable_hash(&all)
            }
            None => self.next_u64(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_ids_are_recognised() {
        let id = format_id("vpc", 0x0a1b_2c3d_4e5f_6789);
        assert_eq!(id, "vpc-00a1b2c3d4e5f6789");
        assert_eq!(sim_id_prefix(&id), Some("vpc"));
        assert_eq!(sim_id_prefix("vpc-main"), None);
        assert_eq!(sim_id_prefix("vpc-0A1B2C3D4E5F67890"), None);
        assert_eq!(sim_id_prefix("i-0a1b2c3d4e5f67890-eni_id"), None);
    }

    #[test]
    fn rfc3339_matches_known_dates() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_735_689_600), "2025-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_827_696), "2000-02-29T12:34:56Z");
    }

    #[test]
    fn seeded_entropy_is_reproducible() {
        let a = Entropy::new(Some(7));
        let b = Entropy::new(Some(7));
        let xs: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs[0], xs[1]);
        assert_eq!(a.derive(&[b"x"]), b.derive(&[b"x"]));
        assert_ne!(a.derive(&[b"x"]), Entropy::new(Some(8)).derive(&[b"x"]));
        assert!((0.0..1.0).contains(&a.next_f64()));
    }
}

//! Realistic identifiers: cloud-style ids (`vpc-0a1b2c3d4e5f67890`), ARNs, RFC 3339
//! timestamps, and the stable hashing and random numbers behind them. With a seed
//! (`GANTRY_SIM_SEED`) every id is derived from the seed and what is being created, so runs
//! are reproducible even when operations interleave differently.

use std::sync::{Mutex, PoisonError};

/// The account every simulated AWS object belongs to.
pub const SIM_ACCOUNT: &str = "123456789012";

/// How a resource type's ids look.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IdStyle {
    /// `<prefix>-0123456789abcdef0`.
    Prefixed(String),
    /// The object's `name` attribute is its id (placement groups).
    Name,
}

/// The type name without its provider prefix: `aws_vpc` -> `vpc`.
pub fn short_type(type_name: &str) -> &str {
    type_name
        .split_once('_')
        .map_or(type_name, |(_, rest)| rest)
}

/// How ids of `type_name` look: the real cloud's prefix where known (`aws_instance` -> `i`),
/// else the first letters of the words after the provider (`aws_eks_cluster` -> `ec`).
pub fn id_style(type_name: &str) -> IdStyle {
    let known = match type_name {
        "aws_vpc" => "vpc",
        "aws_subnet" => "subnet",
        "aws_instance" => "i",
        "aws_security_group" => "sg",
        "aws_security_group_rule" => "sgrule",
        "aws_internet_gateway" => "igw",
        "aws_route_table" => "rtb",
        "aws_route_table_association" => "rtbassoc",
        "aws_launch_template" => "lt",
        "aws_nat_gateway" => "nat",
        "aws_eip" => "eipalloc",
        "aws_network_interface" => "eni",
        "aws_vpc_endpoint" => "vpce",
        "aws_ebs_volume" => "vol",
        "aws_key_pair" => "key",
        "aws_efs_file_system" | "aws_fsx_lustre_file_system" => "fs",
        "aws_fsx_data_repository_association" => "dra",
        "aws_placement_group" => return IdStyle::Name,
        _ => "",
    };
    if known.is_empty() {
        IdStyle::Prefixed(initials(type_name))
    } else {
        IdStyle::Prefixed(known.to_owned())
    }
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

/// `aws_security_group` -> `SecurityGroup`, for cloud-style error codes.
pub fn camel(type_name: &str) -> String {
    short_type(type_name)
        .split('_')
        .map(|w| {
            let mut chars = w.chars();
            chars.next().map_or_else(String::new, |c| {
                c.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// The code a cloud returns when `type_name`'s object is missing:
/// `InvalidVpcID.NotFound`, `InvalidGroup.NotFound` for security groups.
pub fn not_found_code(type_name: &str) -> String {
    match type_name {
        "aws_security_group" => "InvalidGroup.NotFound".to_owned(),
        _ => format!("Invalid{}ID.NotFound", camel(type_name)),
    }
}

/// The ARN of an AWS object, `None` for other clouds.
pub fn arn(type_name: &str, id: &str, region: &str) -> Option<String> {
    let rest = type_name.strip_prefix("aws_")?;
    const EC2: &[&str] = &[
        "vpc",
        "subnet",
        "instance",
        "security_group",
        "security_group_rule",
        "internet_gateway",
        "route_table",
        "route_table_association",
        "launch_template",
        "placement_group",
        "nat_gateway",
        "eip",
        "network_interface",
        "vpc_endpoint",
        "ebs_volume",
        "key_pair",
    ];
    if EC2.contains(&rest) {
        let kind = rest.strip_prefix("ebs_").unwrap_or(rest).replace('_', "-");
        return Some(format!("arn:aws:ec2:{region}:{SIM_ACCOUNT}:{kind}/{id}"));
    }
    let (service, kind) = rest.split_once('_').unwrap_or((rest, rest));
    let kind = kind.replace('_', "-");
    Some(match service {
        "s3" => format!("arn:aws:s3:::{id}"),
        "iam" => format!("arn:aws:iam::{SIM_ACCOUNT}:{kind}/{id}"),
        _ => format!("arn:aws:{service}:{region}:{SIM_ACCOUNT}:{kind}/{id}"),
    })
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
    fn prefixes_follow_the_cloud() {
        assert_eq!(id_style("aws_vpc"), IdStyle::Prefixed("vpc".into()));
        assert_eq!(id_style("aws_instance"), IdStyle::Prefixed("i".into()));
        assert_eq!(
            id_style("aws_security_group"),
            IdStyle::Prefixed("sg".into())
        );
        assert_eq!(
            id_style("aws_internet_gateway"),
            IdStyle::Prefixed("igw".into())
        );
        assert_eq!(id_style("aws_route_table"), IdStyle::Prefixed("rtb".into()));
        assert_eq!(
            id_style("aws_launch_template"),
            IdStyle::Prefixed("lt".into())
        );
        assert_eq!(id_style("aws_placement_group"), IdStyle::Name);
        assert_eq!(id_style("aws_eks_cluster"), IdStyle::Prefixed("ec".into()));
        assert_eq!(
            id_style("google_compute_network"),
            IdStyle::Prefixed("cn".into())
        );
    }

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
    fn codes_and_arns_look_like_aws() {
        assert_eq!(not_found_code("aws_vpc"), "InvalidVpcID.NotFound");
        assert_eq!(
            not_found_code("aws_route_table"),
            "InvalidRouteTableID.NotFound"
        );
        assert_eq!(
            arn("aws_security_group", "sg-1", "eu-west-1").as_deref(),
            Some("arn:aws:ec2:eu-west-1:123456789012:security-group/sg-1")
        );
        assert_eq!(
            arn("aws_eks_cluster", "ec-1", "us-east-1").as_deref(),
            Some("arn:aws:eks:us-east-1:123456789012:cluster/ec-1")
        );
        assert_eq!(
            arn("aws_s3_bucket", "data", "us-east-1").as_deref(),
            Some("arn:aws:s3:::data")
        );
        assert_eq!(arn("google_compute_network", "cn-1", "x"), None);
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

//! Network functions: `cidrhost`, `cidrnetmask`, `cidrsubnet` and `cidrsubnets`, for IPv4
//! and IPv6 prefixes. Addresses are handled as integers (`u128`, IPv4 in the low 32 bits)
//! following the go-cidr arithmetic Terraform uses; like Terraform, IPv4 octets with
//! leading zeros are read as decimal and host bits set in the prefix are ignored.

use super::args::{fixed, number, string, variadic};
use super::{FnContext, FnError, FunctionDef};
use gantry_provider::Value;
use ipnet::{IpNet, Ipv4Net};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub(super) fn functions() -> Vec<FunctionDef> {
    vec![
        fixed("cidrhost", "cidrhost(prefix, hostnum)", 2, cidrhost),
        fixed("cidrnetmask", "cidrnetmask(prefix)", 1, cidrnetmask),
        fixed(
            "cidrsubnet",
            "cidrsubnet(prefix, newbits, netnum)",
            3,
            cidrsubnet,
        ),
        variadic(
            "cidrsubnets",
            "cidrsubnets(prefix, newbits...)",
            1,
            cidrsubnets,
        ),
    ]
}

/// A network prefix: its address (host bits cleared) and length.
#[derive(Clone, Copy)]
struct Prefix {
    v6: bool,
    addr: u128,
    len: u32,
}

impl Prefix {
    fn bits(self) -> u32 {
        if self.v6 {
            128
        } else {
            32
        }
    }

    fn with(self, addr: u128, len: u32) -> Prefix {
        Prefix {
            addr: addr & mask(len, self.bits()),
            len,
            ..self
        }
    }

    fn last(self) -> u128 {
        self.addr | (ones(self.bits()) & !mask(self.len, self.bits()))
    }

    fn contains(self, addr: u128) -> bool {
        addr & mask(self.len, self.bits()) == self.addr
    }

    fn address_text(self, addr: u128) -> String {
        if self.v6 {
            Ipv6Addr::from(addr).to_string()
        } else {
            Ipv4Addr::from(u32::try_from(addr & ones(32)).unwrap_or(0)).to_string()
        }
    }
}

impl std::fmt::Display for Prefix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.address_text(self.addr), self.len)
    }
}

/// All ones in the low `bits` bits.
fn ones(bits: u32) -> u128 {
    u128::MAX.checked_shr(128 - bits).unwrap_or(0)
}

/// A netmask of `len` leading ones in a `bits`-bit address.
fn mask(len: u32, bits: u32) -> u128 {
    ones(bits) & !ones(bits.saturating_sub(len))
}

/// Parses a CIDR prefix as Terraform does (argument `index` for errors).
fn parse_prefix(args: &[Value], index: usize) -> Result<Prefix, FnError> {
    let text = string(args, index)?;
    let invalid = || {
        FnError::arg(
            index,
            format!("invalid CIDR expression: invalid CIDR address: {text}"),
        )
    };
    let (addr, len) = text.split_once('/').ok_or_else(invalid)?;
    let len: u32 = if !len.is_empty() && len.len() <= 3 && len.bytes().all(|b| b.is_ascii_digit()) {
        len.parse().map_err(|_| invalid())?
    } else {
        return Err(invalid());
    };
    let ip = if addr.contains(':') {
        IpAddr::V6(addr.parse().map_err(|_| invalid())?)
    } else {
        IpAddr::V4(parse_ipv4(addr).ok_or_else(invalid)?)
    };
    let net = IpNet::new(ip, u8::try_from(len).map_err(|_| invalid())?)
        .map_err(|_| invalid())?
        .trunc();
    Ok(match net {
        IpNet::V4(v4) => Prefix {
            v6: false,
            addr: u128::from(u32::from(v4.addr())),
            len,
        },
        IpNet::V6(v6) => Prefix {
            v6: true,
            addr: u128::from(v6.addr()),
            len,
        },
    })
}

/// Dotted-quad IPv4, accepting leading zeros as decimal (`010` is ten).
fn parse_ipv4(text: &str) -> Option<Ipv4Addr> {
    let mut octets = [0_u8; 4];
    let mut parts = text.split('.');
    for octet in &mut octets {
        let part = parts.next()?;
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        *octet = part.parse().ok()?;
    }
    parts.next().is_none().then(|| Ipv4Addr::from(octets))
}

/// A whole number in `i128` range.
fn whole_number(args: &[Value], index: usize) -> Result<i128, FnError> {
    // 2^127: the first value that no longer fits in an i128.
    const LIMIT: f64 = 170_141_183_460_469_231_731_687_303_715_884_105_728.0;
    let n = number(args, index)?;
    if n.is_finite() && n.fract() == 0.0 && (-LIMIT..LIMIT).contains(&n) {
        #[allow(clippy::cast_possible_truncation)]
        Ok(n as i128)
    } else {
        Err(FnError::arg(index, "value must be a whole number"))
    }
}

/// `cidrhost(prefix, hostnum)`: a negative host number counts back from the end.
fn cidrhost(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let prefix = parse_prefix(args, 0)?;
    let hostnum = whole_number(args, 1)?;
    let max_host = ones(prefix.bits() - prefix.len);
    let too_big = || {
        FnError::arg(
            1,
            format!(
                "prefix of {} does not accommodate a host numbered {hostnum}",
                prefix.len
            ),
        )
    };
    let offset = if hostnum < 0 {
        let back = hostnum.unsigned_abs() - 1;
        if back > max_host {
            return Err(too_big());
        }
        max_host - back
    } else {
        let n = hostnum.unsigned_abs();
        if n > max_host {
            return Err(too_big());
        }
        n
    };
    Ok(prefix.address_text(prefix.addr | offset).into())
}

fn cidrnetmask(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let prefix = parse_prefix(args, 0)?;
    if prefix.v6 {
        let text = string(args, 0)?;
        return Err(FnError::arg(
            0,
            format!("IPv6 addresses cannot have a netmask: {text}"),
        ));
    }
    let len = u8::try_from(prefix.len).unwrap_or(32);
    let net = Ipv4Net::new(Ipv4Addr::UNSPECIFIED, len)
        .map_err(|e| FnError::arg(0, format!("invalid CIDR expression: {e}")))?;
    Ok(net.netmask().to_string().into())
}

/// `cidrsubnet(prefix, newbits, netnum)`.
fn cidrsubnet(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let prefix = parse_prefix(args, 0)?;
    let newbits = whole_number(args, 1)?;
    let netnum = whole_number(args, 2)?;
    let newbits =
        u32::try_from(newbits).map_err(|_| FnError::arg(1, "newbits must not be negative"))?;
    let new_len = prefix.len.saturating_add(newbits);
    if new_len > prefix.bits() {
        return Err(FnError::arg(
            1,
            format!(
                "insufficient address space to extend prefix of {} by {newbits}",
                prefix.len
            ),
        ));
    }
    let netnum =
        u128::try_from(netnum).map_err(|_| FnError::arg(2, "netnum must not be negative"))?;
    if netnum > ones(newbits) {
        return Err(FnError::arg(
            2,
            format!(
                "prefix extension of {newbits} does not accommodate a subnet numbered {netnum}"
            ),
        ));
    }
    let shifted = netnum.checked_shl(prefix.bits() - new_len).unwrap_or(0);
    Ok(prefix
        .with(prefix.addr | shifted, new_len)
        .to_string()
        .into())
}

/// `cidrsubnets(prefix, newbits...)`: consecutive subnets, each aligned after the previous.
fn cidrsubnets(_: &FnContext<'_>, args: &[Value]) -> Result<Value, FnError> {
    let network = parse_prefix(args, 0)?;
    let bits = network.bits();
    let mut current: Option<Prefix> = None;
    let mut out = Vec::with_capacity(args.len().saturating_sub(1));
    for index in 1..args.len() {
        let newbits = whole_number(args, index)?;
        if newbits < 1 {
            return Err(FnError::arg(
                index,
                "must extend prefix by at least one bit",
            ));
        }
        if newbits > 32 {
            return Err(FnError::arg(
                index,
                "may not extend prefix by more than 32 bits",
            ));
        }
        let len = network.len + u32::try_from(newbits).unwrap_or(32);
        if len > bits {
            let protocol = if network.v6 { "IPv6" } else { "IPv4" };
            return Err(FnError::arg(
                index,
                format!("would extend prefix to {len} bits, which is too long for an {protocol} address"),
            ));
        }
        let next = match current {
            // The first subnet starts at the network address. (go-cidr gets there by stepping
            // from the subnet below the network, which wraps around for 0.0.0.0 and makes
            // Terraform reject any network at the bottom of the address space; that is
            // hashicorp/terraform#35486 and is deliberately not reproduced.)
            None => network.with(network.addr, len),
            Some(previous) => {
                let last = network.with(previous.last(), len).last();
                let following = last.wrapping_add(1) & ones(bits);
                let next = network.with(following, len);
                if following == 0 || !network.contains(next.addr) {
                    return Err(FnError::arg(
                        index,
                        format!(
                            "not enough remaining address space for a subnet with a prefix of \
                             {len} bits after {previous}"
                        ),
                    ));
                }
                next
            }
        };
        current = Some(next);
        out.push(Value::String(next.to_string()));
    }
    Ok(Value::List(out))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{error_message, n, run, s, strs};
    use super::*;

    fn subnet(prefix: &str, newbits: f64, netnum: f64) -> Result<Value, FnError> {
        run("cidrsubnet", vec![s(prefix), n(newbits), n(netnum)])
    }

    #[test]
    fn cidrsubnet_documented_examples() {
        assert_eq!(subnet("172.16.0.0/12", 4.0, 2.0), Ok(s("172.18.0.0/16")));
        assert_eq!(subnet("10.1.2.0/24", 4.0, 15.0), Ok(s("10.1.2.240/28")));
        assert_eq!(
            subnet("fd00:fd12:3456:7890::/56", 16.0, 162.0),
            Ok(s("fd00:fd12:3456:7800:a200::/72"))
        );
        assert_eq!(subnet("10.3.0.0/16", 8.0, 5.0), Ok(s("10.3.5.0/24")));
    }

    #[test]
    fn cidrsubnet_edges() {
        assert_eq!(subnet("10.0.0.0/8", 0.0, 0.0), Ok(s("10.0.0.0/8")));
        assert_eq!(subnet("10.1.2.3/24", 8.0, 7.0), Ok(s("10.1.2.7/32")));
        assert_eq!(
            subnet("0.0.0.0/0", 32.0, 4_294_967_295.0),
            Ok(s("255.255.255.255/32"))
        );
        assert_eq!(subnet("010.001.2.0/24", 1.0, 1.0), Ok(s("10.1.2.128/25")));
        assert_eq!(subnet("::/0", 64.0, 1.0), Ok(s("0:0:0:1::/64")));
        assert_eq!(subnet("2001:db8::/32", 96.0, 5.0), Ok(s("2001:db8::5/128")));
    }

    #[test]
    fn cidrsubnet_errors() {
        assert_eq!(
            subnet("10.0.0.0/24", 9.0, 0.0),
            Err(FnError::arg(
                1,
                "insufficient address space to extend prefix of 24 by 9"
            ))
        );
        assert_eq!(
            subnet("fd00::/56", 73.0, 0.0),
            Err(FnError::arg(
                1,
                "insufficient address space to extend prefix of 56 by 73"
            ))
        );
        assert_eq!(
            subnet("10.1.2.0/24", 4.0, 16.0),
            Err(FnError::arg(
                2,
                "prefix extension of 4 does not accommodate a subnet numbered 16"
            ))
        );
        assert_eq!(
            subnet("10.0.0.0/33", 1.0, 0.0),
            Err(FnError::arg(
                0,
                "invalid CIDR expression: invalid CIDR address: 10.0.0.0/33"
            ))
        );
        assert_eq!(
            error_message(subnet("10.0.0.0", 1.0, 0.0)),
            "invalid CIDR expression: invalid CIDR address: 10.0.0.0"
        );
        assert!(subnet("10.0.0.256/8", 1.0, 0.0).is_err());
        assert!(subnet("10.0.0/8", 1.0, 0.0).is_err());
        assert!(subnet("fd00::g/8", 1.0, 0.0).is_err());
        assert!(subnet("10.0.0.0/-1", 1.0, 0.0).is_err());
        assert_eq!(
            error_message(subnet("10.0.0.0/8", -1.0, 0.0)),
            "newbits must not be negative"
        );
        assert_eq!(
            error_message(subnet("10.0.0.0/8", 2.0, -1.0)),
            "netnum must not be negative"
        );
        assert_eq!(
            error_message(subnet("10.0.0.0/8", 2.5, 0.0)),
            "value must be a whole number"
        );
    }

    #[test]
    fn cidrhost_documented_examples() {
        let host = |prefix: &str, num: f64| run("cidrhost", vec![s(prefix), n(num)]);
        assert_eq!(host("10.12.112.0/20", 16.0), Ok(s("10.12.112.16")));
        assert_eq!(host("10.12.112.0/20", 268.0), Ok(s("10.12.113.12")));
        assert_eq!(
            host("fd00:fd12:3456:7890:00a2::/72", 34.0),
            Ok(s("fd00:fd12:3456:7890::22"))
        );
        assert_eq!(host("10.0.0.0/8", 2.0), Ok(s("10.0.0.2")));
        assert_eq!(host("10.0.0.0/8", -2.0), Ok(s("10.255.255.254")));
        assert_eq!(host("10.12.127.0/20", 16.0), Ok(s("10.12.112.16")));
        assert_eq!(host("192.168.1.0/24", -1.0), Ok(s("192.168.1.255")));
        assert_eq!(host("192.168.1.0/24", -256.0), Ok(s("192.168.1.0")));
        assert_eq!(host("192.168.1.5/32", 0.0), Ok(s("192.168.1.5")));
        assert_eq!(host("fd00::/64", -1.0), Ok(s("fd00::ffff:ffff:ffff:ffff")));
    }

    #[test]
    fn cidrhost_errors() {
        let host = |prefix: &str, num: f64| run("cidrhost", vec![s(prefix), n(num)]);
        assert_eq!(
            host("192.168.1.0/24", 256.0),
            Err(FnError::arg(
                1,
                "prefix of 24 does not accommodate a host numbered 256"
            ))
        );
        assert_eq!(
            error_message(host("192.168.1.0/24", -257.0)),
            "prefix of 24 does not accommodate a host numbered -257"
        );
        assert_eq!(
            error_message(host("192.168.1.0/33", 1.0)),
            "invalid CIDR expression: invalid CIDR address: 192.168.1.0/33"
        );
        assert_eq!(
            error_message(host("10.0.0.0/8", 0.5)),
            "value must be a whole number"
        );
    }

    #[test]
    fn cidrnetmask_ipv4_only() {
        assert_eq!(
            run("cidrnetmask", vec![s("172.16.0.0/12")]),
            Ok(s("255.240.0.0"))
        );
        assert_eq!(run("cidrnetmask", vec![s("10.0.0.0/0")]), Ok(s("0.0.0.0")));
        assert_eq!(
            run("cidrnetmask", vec![s("10.0.0.1/32")]),
            Ok(s("255.255.255.255"))
        );
        assert_eq!(
            run("cidrnetmask", vec![s("fd00::/64")]),
            Err(FnError::arg(
                0,
                "IPv6 addresses cannot have a netmask: fd00::/64"
            ))
        );
        assert!(run("cidrnetmask", vec![s("nonsense")]).is_err());
    }

    #[test]
    fn cidrsubnets_documented_examples() {
        let subnets = |args: Vec<Value>| run("cidrsubnets", args);
        assert_eq!(
            subnets(vec![s("10.1.0.0/16"), n(4.0), n(4.0), n(8.0), n(4.0)]),
            Ok(strs(&[
                "10.1.0.0/20",
                "10.1.16.0/20",
                "10.1.32.0/24",
                "10.1.48.0/20"
            ]))
        );
        assert_eq!(
            subnets(vec![
                s("fd00:fd12:3456:7890::/56"),
                n(16.0),
                n(16.0),
                n(16.0),
                n(32.0)
            ]),
            Ok(strs(&[
                "fd00:fd12:3456:7800::/72",
                "fd00:fd12:3456:7800:100::/72",
                "fd00:fd12:3456:7800:200::/72",
                "fd00:fd12:3456:7800:300::/88",
            ]))
        );
        assert_eq!(subnets(vec![s("10.0.0.0/8")]), Ok(strs(&[])));
        assert_eq!(
            subnets(vec![s("0.0.0.0/0"), n(1.0), n(1.0)]),
            Ok(strs(&["0.0.0.0/1", "128.0.0.0/1"]))
        );
        assert_eq!(
            subnets(vec![s("0.0.0.0/1"), n(1.0), n(1.0)]),
            Ok(strs(&["0.0.0.0/2", "64.0.0.0/2"]))
        );
        assert_eq!(subnets(vec![s("::/0"), n(2.0)]), Ok(strs(&["::/2"])));
        assert_eq!(
            subnets(vec![s("10.0.0.0/24"), n(2.0), n(1.0)]),
            Ok(strs(&["10.0.0.0/26", "10.0.0.128/25"]))
        );
    }

    #[test]
    fn cidrsubnets_errors() {
        let subnets = |args: Vec<Value>| run("cidrsubnets", args);
        assert_eq!(
            subnets(vec![s("10.0.0.0/24"), n(1.0), n(1.0), n(1.0)]),
            Err(FnError::arg(
                3,
                "not enough remaining address space for a subnet with a prefix of 25 bits after 10.0.0.128/25"
            ))
        );
        assert_eq!(
            subnets(vec![s("10.0.0.0/24"), n(0.0)]),
            Err(FnError::arg(1, "must extend prefix by at least one bit"))
        );
        assert_eq!(
            subnets(vec![s("fd00::/56"), n(33.0)]),
            Err(FnError::arg(
                1,
                "may not extend prefix by more than 32 bits"
            ))
        );
        assert_eq!(
            subnets(vec![s("10.0.0.0/24"), n(4.0), n(9.0)]),
            Err(FnError::arg(
                2,
                "would extend prefix to 33 bits, which is too long for an IPv4 address"
            ))
        );
        assert_eq!(
            subnets(vec![s("0.0.0.0/0"), n(1.0), n(1.0), n(1.0)])
                .map_err(|e| matches!(e, FnError::Arg { index: 3, .. })),
            Err(true)
        );
        assert!(subnets(vec![s("bad"), n(1.0)]).is_err());
    }
}

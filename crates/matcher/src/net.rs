//! `ISSUBSET` and `ISSUPERSET` on IPv4 and IPv6 addresses and CIDR networks
//! (STIX 2.1 §9.6.1, "Set Operators").
//!
//! A single address is the network of one address (`/32`, `/128`): the spec makes two
//! identical addresses, or two identical subnets, subsets and supersets of each other.
//! Host bits below the prefix are ignored, as network software does (`10.1.2.3/8` is
//! `10.0.0.0/8`). Addresses of different families are never related. IPv4 octets may carry
//! leading zeros (`01.2.3.4`), which some producers emit and which denote decimal values.

use std::net::Ipv6Addr;

/// A network: an address family, the address bits (IPv4 in the low 32 bits) and a prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Net {
    v6: bool,
    addr: u128,
    prefix: u8,
}

impl Net {
    /// Parses `a.b.c.d`, `a.b.c.d/n`, an IPv6 address or an IPv6 CIDR.
    pub fn parse(text: &str) -> Option<Net> {
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => {
                if p.is_empty() || p.len() > 3 || !p.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                (a, Some(p.parse::<u8>().ok()?))
            }
            None => (text, None),
        };
        if let Some(v4) = parse_v4(addr) {
            let prefix = prefix.unwrap_or(32);
            (prefix <= 32).then_some(Net {
                v6: false,
                addr: u128::from(v4),
                prefix,
            })
        } else {
            let v6: Ipv6Addr = addr.parse().ok()?;
            let prefix = prefix.unwrap_or(128);
            (prefix <= 128).then_some(Net {
                v6: true,
                addr: u128::from(v6),
                prefix,
            })
        }
    }

    fn bits(self) -> u8 {
        if self.v6 { 128 } else { 32 }
    }

    fn masked(self, prefix: u8) -> u128 {
        let host = u32::from(self.bits() - prefix);
        if host >= 128 {
            0
        } else {
            (self.addr >> host) << host
        }
    }

    /// The family (`true` for IPv6), the address bits and the prefix length; the compiled
    /// multi-indicator matcher keys its CIDR tables by these.
    pub(crate) fn parts(self) -> (bool, u128, u8) {
        (self.v6, self.addr, self.prefix)
    }

    /// Whether `self` lies wholly inside `outer`.
    pub fn is_subset_of(self, outer: Net) -> bool {
        self.v6 == outer.v6
            && self.prefix >= outer.prefix
            && self.masked(outer.prefix) == outer.masked(outer.prefix)
    }
}

/// Dotted-quad IPv4 with decimal octets of one to three digits.
fn parse_v4(text: &str) -> Option<u32> {
    let mut out = 0u32;
    let mut parts = 0;
    for part in text.split('.') {
        if part.is_empty() || part.len() > 3 || !part.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let octet: u32 = part.parse().ok()?;
        if octet > 255 {
            return None;
        }
        out = out << 8 | octet;
        parts += 1;
    }
    (parts == 4).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::Net;

    fn n(s: &str) -> Net {
        Net::parse(s).unwrap()
    }

    #[test]
    fn containment() {
        assert!(n("11.22.33.44").is_subset_of(n("11.22.41.123/20")));
        assert!(!n("11.22.123.41").is_subset_of(n("11.22.41.123/20")));
        assert!(n("11.22.41.123/29").is_subset_of(n("11.22.33.44/20")));
        assert!(!n("11.22.33.44/13").is_subset_of(n("11.22.33.44/20")));
        assert!(n("1.2.3.4").is_subset_of(n("1.2.3.4")));
        assert!(n("0.0.0.0/0").is_subset_of(n("0.0.0.0/0")));
        assert!(
            n("2001:db8:dead:beef::1")
                .is_subset_of(n("2001:0db8:dead:beef:0000:0000:0000:0000/64"))
        );
        assert!(!n("2001:db8:dead:bef0::1").is_subset_of(n("2001:db8:dead:beef::/64")));
        assert!(!n("1.2.3.4").is_subset_of(n("::/0")));
        assert!(n("01.2.3.4").is_subset_of(n("1.2.3.0/24")));
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "1.2.3",
            "1.2.3.256",
            "1.2.3.4/33",
            "1.2.3.4/",
            "::1/129",
            "hello",
            "1.2.3.4/-1",
        ] {
            assert!(Net::parse(bad).is_none(), "{bad}");
        }
    }
}

//! Reading an event's value as an IP address or network, fast, for the index.
//!
//! The index reads every `…:value` string as an address (equality keys, `key::Mode::Ip`) and
//! every string on a path with `ISSUBSET` networks as a network. `Net::parse`, which the
//! evaluator uses, splits the text with `str::split_once`/`split` and parses each part: in a
//! callgrind profile of `examples/compile_rss.rs` (100,000 indicators) it was 39 % of all
//! instructions per event (about 2,300 of 5,800), mostly in the standard library's character
//! searcher, and most values it saw were domain names and URLs that are no address at all.
//! [`parts`] answers exactly what `Net::parse(s).map(Net::parts)` answers, in one pass over
//! the bytes for the common cases, and defers to `Net::parse` for the rest.

use crate::net::Net;

/// `Net::parse(s).map(Net::parts)`: (IPv6?, address bits, prefix length).
///
/// Exactly equal to it for every input: a text with a byte outside `[0-9A-Fa-f:./]` is
/// neither a dotted quad nor an IPv6 address nor a prefix, so it is `None`; a text without
/// `:` or `/` can only be a bare dotted quad (IPv6 needs a colon); anything else goes to
/// `Net::parse`. One pass reads a bare dotted quad, checking an octet's length and value
/// only where it ends (a digit costs a multiply-add; checking every digit made reading the
/// generated workload's values ~1.6 times as many instructions, callgrind) and stopping at
/// the first byte that is no address character; only texts made of address characters are
/// looked at again.
///
/// Takes the text's bytes (a `&str` or a scanned value's bytes, which are UTF-8).
#[inline]
pub(crate) fn parts(s: &(impl AsRef<[u8]> + ?Sized)) -> Option<(bool, u128, u8)> {
    let s = s.as_ref();
    let mut out = 0u32;
    let mut dots = 0u32;
    let mut octet = 0u32;
    let mut digits = 0u32;
    // An octet of no digit or more than three, above 255, or a fourth dot: no bare dotted
    // quad (the digits of a long run may wrap `octet`; their count rules it out anyway).
    let mut bad = false;
    for &c in s {
        let d = c.wrapping_sub(b'0');
        if d < 10 {
            octet = octet.wrapping_mul(10).wrapping_add(u32::from(d));
            digits += 1;
        } else if c == b'.' {
            bad |= digits == 0 || digits > 3 || octet > 255 || dots == 3;
            out = out << 8 | octet;
            dots += 1;
            octet = 0;
            digits = 0;
        } else if matches!(c, b'a'..=b'f' | b'A'..=b'F' | b':' | b'/') {
            return other(s);
        } else {
            return None;
        }
    }
    if !bad && dots == 3 && (1..=3).contains(&digits) && octet <= 255 {
        Some((false, u128::from(out << 8 | octet), 32))
    } else {
        other(s)
    }
}

/// Texts that are not a bare dotted quad (the slow path of [`parts`]).
#[cold]
fn other(s: &[u8]) -> Option<(bool, u128, u8)> {
    let mut colon_or_slash = false;
    for &b in s {
        match b {
            b'0'..=b'9' | b'.' | b'a'..=b'f' | b'A'..=b'F' => {}
            b':' | b'/' => colon_or_slash = true,
            _ => return None,
        }
    }
    if colon_or_slash {
        // Only address characters, so ASCII.
        Net::parse(std::str::from_utf8(s).ok()?).map(Net::parts)
    } else {
        // Not a dotted quad, and IPv6 needs a colon.
        None
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn reference(s: &str) -> Option<(bool, u128, u8)> {
        Net::parse(s).map(Net::parts)
    }

    #[test]
    fn agrees_on_chosen_cases() {
        for s in [
            "1.2.3.4",
            "01.002.3.4",
            "255.255.255.255",
            "256.1.1.1",
            "1.2.3",
            "1.2.3.4.5",
            "1..3.4",
            ".1.2.3",
            "1.2.3.",
            "1.2.3.0004",
            "1.2.3.4/24",
            "1.2.3.4/33",
            "1.2.3.4/",
            "::1",
            "2001:db8::1/64",
            "::ffff:1.2.3.4",
            "example.com",
            "https://example.com/a",
            "deadbeef",
            "",
            "é.1.1.1",
        ] {
            assert_eq!(parts(s), reference(s), "{s:?}");
        }
        assert_eq!(parts("10.0.0.1"), Some((false, 0x0a00_0001, 32)));
    }

    proptest! {
        #[test]
        fn agrees_with_net_parse(s in "[0-9a-fA-Fx:./ ]{0,20}") {
            prop_assert_eq!(parts(&s), reference(&s));
        }

        #[test]
        fn agrees_with_net_parse_on_near_addresses(
            a in 0u32..400, b in 0u32..300, c in "[0-9]{1,4}", d in "[0-9./:]{0,4}"
        ) {
            let s = format!("{a}.{b}.{c}{d}");
            prop_assert_eq!(parts(&s), reference(&s));
        }
    }
}

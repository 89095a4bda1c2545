//! Pure string checks used by the validator: language tags, names, hex, network
//! values, MIME types, CVE ids and granular-marking selectors.

use serde_json::{Map, Value};

/// RFC 5646 language tag, shape only: primary subtag of 2–8 letters, then subtags of
/// 1–8 letters or digits (STIX 2.1 §3.2 `lang`).
pub(super) fn is_language_tag(s: &str) -> bool {
    let mut parts = s.split('-');
    let Some(first) = parts.next() else {
        return false;
    };
    let first_ok = (2..=8).contains(&first.len()) && first.bytes().all(|b| b.is_ascii_alphabetic());
    // "i-" and "x-" grandfathered/private-use forms start with a single letter.
    let first_ok = first_ok || (first.len() == 1 && matches!(first, "x" | "i" | "X" | "I"));
    first_ok
        && parts.all(|p| (1..=8).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Custom property names (STIX 2.1 §11.1): ASCII `a-z`, `0-9`, `_`, 3–250 characters,
/// starting with a letter.
pub(super) fn is_custom_property_name(name: &str) -> bool {
    let b = name.as_bytes();
    (3..=250).contains(&b.len())
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|&c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'_')
}

/// Dictionary keys (STIX 2.1 §2.3): ASCII letters, digits, `_` and `-`, at most 250.
pub(super) fn is_dictionary_key(key: &str) -> bool {
    key.len() <= 250
        && !key.is_empty()
        && key
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-')
}

/// Hex digits of the known fixed-length hashes (STIX 2.1 §10.5 hashing-algorithm-ov).
pub(super) fn hash_hex_len(alg: &str) -> Option<usize> {
    Some(match alg {
        "MD5" => 32,
        "SHA-1" => 40,
        "SHA-256" | "SHA3-256" => 64,
        "SHA-512" | "SHA3-512" => 128,
        _ => return None,
    })
}

pub(super) fn is_hex(s: &str) -> bool {
    s.len().is_multiple_of(2) && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A CPE 2.3 formatted string: `cpe:2.3:` then part, vendor, product, version,
/// update, edition, language, sw_edition, target_sw, target_hw, other (NISTIR 7695
/// §6.2): 13 colon-separated fields counting the prefix, `\:` escaping a colon.
pub(super) fn is_cpe23(v: &str) -> bool {
    let Some(rest) = v.strip_prefix("cpe:2.3:") else {
        return false;
    };
    let mut fields = 2;
    let mut escaped = false;
    for c in rest.chars() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            ':' => fields += 1,
            c if c.is_whitespace() => return false,
            _ => {}
        }
    }
    fields + 1 == 13
        && matches!(
            rest.as_bytes().first(),
            Some(b'a' | b'o' | b'h' | b'*' | b'-')
        )
}

/// Whether a registry key starts with an abbreviated hive (`HKLM\...`, `hkcu\...`).
pub(super) fn is_abbreviated_hive(key: &str) -> bool {
    let hive = key.split('\\').next().unwrap_or("");
    ["HKLM", "HKCU", "HKCR", "HKU", "HKCC"]
        .iter()
        .any(|h| hive.eq_ignore_ascii_case(h))
}

/// An absolute URI: a scheme (RFC 3986 §3.1), `:`, then no whitespace or controls.
pub(super) fn is_url(v: &str) -> bool {
    let Some((scheme, rest)) = v.split_once(':') else {
        return false;
    };
    let mut sb = scheme.bytes();
    sb.next().is_some_and(|b| b.is_ascii_alphabetic())
        && sb.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
        && !rest.is_empty()
        && !v.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// An addr-spec in shape: non-empty local part, `@`, a domain; no whitespace.
pub(super) fn is_email(v: &str) -> bool {
    match v.rsplit_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.is_empty()
                && !v.chars().any(|c| c.is_whitespace() || c.is_control())
                && !domain.contains(['@', '/', ':'])
        }
        None => false,
    }
}

/// A domain name in shape: dot-separated labels of 1–63 bytes, at most 253 bytes,
/// no whitespace or URL punctuation. Internationalised labels and `_` are accepted.
pub(super) fn is_domain_name(v: &str) -> bool {
    let name = v.strip_suffix('.').unwrap_or(v);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|l| (1..=63).contains(&l.len()))
        && !name.chars().any(|c| {
            c.is_whitespace()
                || c.is_control()
                || matches!(c, '/' | ':' | '@' | '?' | '#' | '[' | ']')
        })
}

/// `type/subtype` made of RFC 6838 token characters, optionally with parameters.
pub(super) fn is_mime_type(v: &str) -> bool {
    let essence = v.split(';').next().unwrap_or("").trim();
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    essence
        .split_once('/')
        .is_some_and(|(t, s)| token(t) && token(s))
}

/// `CVE-YYYY-NNNN…` after the prefix: four-digit year, then 4+ digits (no leading zero
/// when longer than four).
pub(super) fn is_cve_suffix(rest: &str) -> bool {
    let Some((year, num)) = rest.split_once('-') else {
        return false;
    };
    year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && num.len() >= 4
        && num.bytes().all(|b| b.is_ascii_digit())
        && (num.len() == 4 || !num.starts_with('0'))
}

pub(super) fn is_ip_value(v: &str, v4: bool) -> bool {
    let (addr, prefix) = match v.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (v, None),
    };
    let max = if v4 { 32 } else { 128 };
    let prefix_ok = prefix.is_none_or(|p| {
        !p.is_empty()
            && p.len() <= 3
            && p.bytes().all(|b| b.is_ascii_digit())
            && p.parse::<u32>().is_ok_and(|n| n <= max)
    });
    let addr_ok = if v4 {
        addr.parse::<std::net::Ipv4Addr>().is_ok()
    } else {
        addr.parse::<std::net::Ipv6Addr>().is_ok()
    };
    prefix_ok && addr_ok
}

pub(super) fn is_mac(v: &str) -> bool {
    let b = v.as_bytes();
    b.len() == 17
        && b.iter().enumerate().all(|(i, &c)| {
            if i % 3 == 2 {
                c == b':'
            } else {
                c.is_ascii_digit() || (b'a'..=b'f').contains(&c)
            }
        })
}

/// Resolves a granular-marking selector (STIX 2.1 §7.2.3.1): property names separated
/// by `.`, list positions written `[n]`.
pub(super) fn resolve_selector<'v>(
    root: &'v Map<String, Value>,
    selector: &str,
) -> Option<&'v Value> {
    let mut parts = selector.split('.');
    let first = parts.next()?;
    let mut cur = root.get(first)?;
    for part in parts {
        cur = if let Some(idx) = part.strip_prefix('[').and_then(|p| p.strip_suffix(']')) {
            let i: usize = idx.parse().ok()?;
            cur.as_array()?.get(i)?
        } else {
            cur.as_object()?.get(part)?
        };
    }
    Some(cur)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_tags() {
        for ok in ["en", "en-US", "zh-Hant-TW", "x-klingon", "de-CH-1996"] {
            assert!(is_language_tag(ok), "{ok}");
        }
        for bad in ["", "e", "en_US", "englishlanguage", "-en"] {
            assert!(!is_language_tag(bad), "{bad}");
        }
    }

    #[test]
    fn cpe_and_hives() {
        assert!(is_cpe23("cpe:2.3:a:microsoft:word:2000:*:*:*:*:*:*:*"));
        assert!(is_cpe23(r"cpe:2.3:a:acme:foo\:bar:1.0:*:*:*:*:*:*:*"));
        assert!(!is_cpe23("cpe:/a:microsoft:word:2000"));
        assert!(!is_cpe23("cpe:2.3:a:microsoft:word"));
        assert!(is_abbreviated_hive(r"HKLM\Software"));
        assert!(is_abbreviated_hive(r"hkcu"));
        assert!(!is_abbreviated_hive(r"HKEY_LOCAL_MACHINE\Software"));
    }

    #[test]
    fn cve_ids() {
        assert!(is_cve_suffix("2016-1234"));
        assert!(is_cve_suffix("2021-44228"));
        assert!(!is_cve_suffix("2021-04228"));
        assert!(!is_cve_suffix("21-1234"));
    }
}

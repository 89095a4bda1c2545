//! The sortable keys a backend stores: date_added as microseconds, versions as fixed-width
//! text, TLP levels as small integers, and the opaque `next` token.
//!
//! These are pure conversions shared by every backend, so SQLite and PostgreSQL agree on the
//! meaning of a `next` token and on how versions compare.

use crate::{Result, StoreError};
use stix::{Timestamp, TlpLevel};

/// Microseconds since the Unix epoch, now, from the wall clock. Callers never use it
/// directly as a date_added: see [`next_date_added`].
pub fn now_micros() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

/// The next date_added of a collection whose last one was `last`: the wall clock, or one
/// microsecond after `last` when the clock has not moved on (same microsecond, or a step
/// backwards). This keeps date_added strictly increasing, the property TAXII 2.1 §3.6
/// paging relies on.
pub fn next_date_added(last: i64, now: i64) -> i64 {
    now.max(last.saturating_add(1))
}

/// A date_added in microseconds as a TAXII timestamp with six fractional digits.
pub fn micros_to_timestamp(us: i64) -> Result<Timestamp> {
    let instant = jiff::Timestamp::from_microsecond(us)
        .map_err(|e| StoreError::Corrupt(format!("date_added {us} out of range: {e}")))?;
    Ok(Timestamp::from_instant(instant, 6))
}

/// The largest date_added (in microseconds) that is *not* after `ts`: `date_added > ts`
/// holds exactly when `date_added_us > floor_micros(ts)`.
pub fn floor_micros(ts: &Timestamp) -> i64 {
    let instant = ts.instant();
    let us = instant.as_microsecond();
    // `as_microsecond` truncates toward zero; before 1970 that is a ceiling, so step down
    // when a sub-microsecond remainder was dropped.
    if instant.as_nanosecond() < i128::from(us) * 1000 {
        us - 1
    } else {
        us
    }
}

/// The key versions are compared by: the instant with nine fractional digits, so equal
/// instants written with different precision are the same version and the text sorts in
/// time order (STIX years have four digits, STIX 2.1 §2.16).
pub fn version_key(ts: &Timestamp) -> String {
    Timestamp::from_instant(ts.instant(), 9).to_string()
}

/// A TLP level as the integer stored in indexed columns (order preserved).
pub fn tlp_to_int(level: TlpLevel) -> i64 {
    match level {
        TlpLevel::Clear => 0,
        TlpLevel::Green => 1,
        TlpLevel::Amber => 2,
        TlpLevel::AmberStrict => 3,
        TlpLevel::Red => 4,
    }
}

/// The inverse of [`tlp_to_int`].
pub fn tlp_from_int(v: i64) -> Result<TlpLevel> {
    Ok(match v {
        0 => TlpLevel::Clear,
        1 => TlpLevel::Green,
        2 => TlpLevel::Amber,
        3 => TlpLevel::AmberStrict,
        4 => TlpLevel::Red,
        _ => return Err(StoreError::Corrupt(format!("TLP level {v}"))),
    })
}

/// Prefix of `next` tokens, so their format can change without misreading old ones.
const NEXT_PREFIX: &str = "d1.";

/// The `next` token after a page whose last item has this date_added (TAXII 2.1 §3.6). It
/// only carries the position; the client repeats its filters with it.
pub fn encode_next(last_date_added_us: i64) -> String {
    format!("{NEXT_PREFIX}{last_date_added_us}")
}

/// Reads a `next` token back into the date_added it continues after.
pub fn decode_next(token: &str) -> Result<i64> {
    token
        .strip_prefix(NEXT_PREFIX)
        .and_then(|d| d.parse::<i64>().ok())
        .ok_or_else(|| StoreError::Invalid(format!("not a next token of this server: {token:?}")))
}

/// Where a page starts: after `added_after` (floored to the stored microseconds) and after
/// the `next` token's position, whichever is later; `i64::MIN` for neither. Shared by the
/// backends so both page alike.
pub fn page_start(query: &crate::ObjectQuery) -> Result<i64> {
    let mut after = query
        .added_after
        .as_ref()
        .map(floor_micros)
        .unwrap_or(i64::MIN);
    if let Some(next) = &query.next {
        after = after.max(decode_next(next)?);
    }
    Ok(after)
}

/// The first 8 bytes of the SHA-256 of a STIX id, big-endian: the key of the SQLite store's
/// version index (`sqlite::objects::id_hash` says why).
pub fn id_hash(stix_id: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let d = Sha256::digest(stix_id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&d[..8]);
    i64::from_be_bytes(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_added_never_repeats_or_goes_back() {
        assert_eq!(next_date_added(10, 20), 20);
        assert_eq!(next_date_added(20, 20), 21);
        // The clock stepped back an hour.
        assert_eq!(next_date_added(3_600_000_000, 5), 3_600_000_001);
    }

    #[test]
    fn floor_micros_matches_strict_after() {
        let ts = Timestamp::parse("2020-01-01T00:00:00.0000015Z").unwrap();
        let f = floor_micros(&ts);
        let d = micros_to_timestamp(f).unwrap();
        assert!(d.instant() <= ts.instant());
        let d1 = micros_to_timestamp(f + 1).unwrap();
        assert!(d1.instant() > ts.instant());
        let old = Timestamp::parse("1969-12-31T23:59:59.9999995Z").unwrap();
        assert!(micros_to_timestamp(floor_micros(&old)).unwrap().instant() <= old.instant());
        assert!(
            micros_to_timestamp(floor_micros(&old) + 1)
                .unwrap()
                .instant()
                > old.instant()
        );
    }

    #[test]
    fn version_keys_sort_by_instant_and_ignore_precision() {
        let a = Timestamp::parse("2020-01-01T00:00:00Z").unwrap();
        let b = Timestamp::parse("2020-01-01T00:00:00.000Z").unwrap();
        let c = Timestamp::parse("2020-01-01T00:00:00.001Z").unwrap();
        assert_eq!(version_key(&a), version_key(&b));
        assert!(version_key(&b) < version_key(&c));
        assert_eq!(version_key(&c), "2020-01-01T00:00:00.001000000Z");
    }

    #[test]
    fn next_roundtrip() {
        assert_eq!(decode_next(&encode_next(42)).unwrap(), 42);
        assert!(decode_next("42").is_err());
        assert!(decode_next("d1.x").is_err());
    }

    #[test]
    fn tlp_ints_roundtrip_in_order() {
        let mut prev = -1;
        for l in TlpLevel::ALL {
            let i = tlp_to_int(l);
            assert!(i > prev);
            prev = i;
            assert_eq!(tlp_from_int(i).unwrap(), l);
        }
        assert!(tlp_from_int(9).is_err());
    }
}

//! Timestamps as telemetry writes them.
//!
//! Zeek writes `ts` as epoch seconds with a fraction (TSV, and JSON by default) or as ISO
//! 8601 (`LogAscii::json_timestamps = JSON::TS_ISO8601`, as in the WRCCDC JSON logs).
//! Suricata EVE writes `2021-06-06T15:59:46.457984+0200`, an offset without a colon, which
//! RFC 3339 does not allow, so it is normalised first. Epoch text is parsed digit by digit,
//! not through `f64`, so that microseconds survive exactly.

use jiff::Timestamp;
use serde_json::Value;

/// Parses epoch seconds such as `1521911720.865716` (up to nanoseconds, exact).
pub fn epoch(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if text.contains(['e', 'E']) {
        // Zeek's TSV writer prints large times in exponent form (`2.385616957e+09`, a
        // certificate's not_valid_after); those carry no sub-second digits worth keeping.
        let secs: f64 = text.parse().ok()?;
        if !secs.is_finite() || secs.abs() > 1e15 {
            return None;
        }
        let whole = secs.floor();
        let nanos = ((secs - whole) * 1e9).round().clamp(0.0, 999_999_999.0);
        return Timestamp::new(whole as i64, nanos as i32).ok();
    }
    let (negative, digits) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
    if whole.is_empty() || !whole.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: i64 = whole.parse().ok()?;
    let mut nanos: i32 = 0;
    for (i, b) in frac.bytes().take(9).enumerate() {
        nanos += i32::from(b - b'0') * 10i32.pow(8 - i as u32);
    }
    if negative {
        Timestamp::new(-secs, -nanos).ok()
    } else {
        Timestamp::new(secs, nanos).ok()
    }
}

/// Parses an RFC 3339 / ISO 8601 timestamp, tolerating `+HHMM` offsets (Suricata) and a
/// missing offset (taken as UTC, as Suricata's TLS `notbefore` is).
pub fn iso(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(t) = text.parse::<Timestamp>() {
        return Some(t);
    }
    let bytes = text.as_bytes();
    let n = bytes.len();
    if n > 5 && matches!(bytes[n - 5], b'+' | b'-') && bytes[n - 4..].iter().all(u8::is_ascii_digit)
    {
        let fixed = format!("{}:{}", &text[..n - 2], &text[n - 2..]);
        if let Ok(t) = fixed.parse::<Timestamp>() {
            return Some(t);
        }
    }
    format!("{text}Z").parse::<Timestamp>().ok()
}

/// A Zeek `time` value: a JSON number or string of epoch seconds, or an ISO string.
pub fn zeek(value: &Value) -> Option<Timestamp> {
    match value {
        Value::Number(n) => epoch(&n.to_string()),
        Value::String(s) => epoch(s).or_else(|| iso(s)),
        _ => None,
    }
}

/// A timestamp as STIX 2.1 §3.2 wants it: UTC with a `Z`.
pub fn stix(t: Timestamp) -> String {
    t.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epoch_keeps_microseconds() {
        let t = epoch("1521911720.865716").unwrap();
        assert_eq!(t.to_string(), "2018-03-24T17:15:20.865716Z");
        assert!(epoch("12a").is_none());
        assert_eq!(
            epoch("2.385616957e+09").unwrap().to_string(),
            "2045-08-06T07:22:37Z"
        );
        assert!(epoch("").is_none());
    }

    #[test]
    fn eve_offsets() {
        let t = iso("2021-06-06T15:59:46.457984+0200").unwrap();
        assert_eq!(t.to_string(), "2021-06-06T13:59:46.457984Z");
        assert_eq!(
            iso("2020-03-19T09:44:08").unwrap().to_string(),
            "2020-03-19T09:44:08Z"
        );
    }
}

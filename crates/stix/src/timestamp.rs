//! Strict STIX 2.1 timestamps.
//!
//! STIX 2.1 §2.16 requires every timestamp to be an RFC 3339 string in UTC with the
//! literal `Z` designator, shaped `YYYY-MM-DDTHH:mm:ss[.s+]Z`. Producers choose how many
//! fractional digits they send, and that choice carries meaning (the `created` and
//! `modified` properties must be precise to the millisecond, §3.2), so a [`Timestamp`]
//! keeps the precision it was parsed with and prints back exactly the same text.
//!
//! The parser is hand-written rather than delegated to a general RFC 3339 parser because
//! STIX is stricter than RFC 3339: offsets other than `Z`, lowercase `t`/`z` and a space
//! instead of `T` are all rejected.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Why a string is not a valid STIX timestamp.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimestampError {
    /// The text does not have the `YYYY-MM-DDTHH:mm:ss[.s+]Z` shape.
    #[error("not a timestamp of the form YYYY-MM-DDTHH:mm:ss[.s+]Z")]
    Shape,
    /// The text ends in an offset other than `Z`.
    #[error("timestamp must be in UTC with the 'Z' designator")]
    NotUtc,
    /// More than nine fractional digits (beyond nanosecond precision).
    #[error("more than 9 fractional second digits are not supported")]
    TooPrecise,
    /// A leap second (`:60`), which this implementation cannot represent exactly.
    #[error("leap seconds (second 60) are not supported")]
    LeapSecond,
    /// A field is out of range (month 13, February 30, hour 24, ...).
    #[error("date or time field out of range")]
    OutOfRange,
}

/// A STIX 2.1 timestamp: an instant in UTC plus the number of fractional-second digits
/// it was written with (0–9).
///
/// Ordering compares the instant first and the precision second, so equal instants
/// written with different precision are distinct but adjacent. Use [`Timestamp::instant`]
/// to compare instants alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Timestamp {
    instant: jiff::Timestamp,
    precision: u8,
}

impl Timestamp {
    /// Parses a STIX timestamp (STIX 2.1 §2.16).
    pub fn parse(s: &str) -> Result<Timestamp, TimestampError> {
        let b = s.as_bytes();
        // Fixed part: "YYYY-MM-DDTHH:mm:ss" is 19 bytes, followed by [.f+] and "Z".
        if b.len() < 20 {
            return Err(shape_or_offset(b));
        }
        let digits = |range: std::ops::Range<usize>| -> Result<i32, TimestampError> {
            let mut v = 0i32;
            for &c in &b[range] {
                if !c.is_ascii_digit() {
                    return Err(TimestampError::Shape);
                }
                v = v * 10 + i32::from(c - b'0');
            }
            Ok(v)
        };
        if b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' {
            return Err(TimestampError::Shape);
        }
        let year = digits(0..4)?;
        let month = digits(5..7)?;
        let day = digits(8..10)?;
        let hour = digits(11..13)?;
        let minute = digits(14..16)?;
        let second = digits(17..19)?;
        let mut i = 19;
        let mut nanos = 0i32;
        let mut precision = 0u8;
        if b[i] == b'.' {
            i += 1;
            let start = i;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
            let n = i - start;
            if n == 0 {
                return Err(TimestampError::Shape);
            }
            if n > 9 {
                return Err(TimestampError::TooPrecise);
            }
            let frac = digits(start..i)?;
            nanos = frac * 10i32.pow(9 - n as u32);
            precision = n as u8;
        }
        match &b[i..] {
            b"Z" => {}
            [] => return Err(TimestampError::NotUtc),
            [b'+' | b'-', ..] | [b'z'] => return Err(TimestampError::NotUtc),
            _ => return Err(TimestampError::Shape),
        }
        if second == 60 {
            return Err(TimestampError::LeapSecond);
        }
        // The casts below cannot truncate: each value has at most four digits.
        let dt = jiff::civil::DateTime::new(
            year as i16,
            month as i8,
            day as i8,
            hour as i8,
            minute as i8,
            second as i8,
            nanos,
        )
        .map_err(|_| TimestampError::OutOfRange)?;
        let instant = jiff::tz::Offset::UTC
            .to_timestamp(dt)
            .map_err(|_| TimestampError::OutOfRange)?;
        Ok(Timestamp { instant, precision })
    }

    /// Builds a timestamp from a jiff instant, printed with `precision` fractional digits
    /// (clamped to 9). Digits beyond `precision` are truncated.
    pub fn from_instant(instant: jiff::Timestamp, precision: u8) -> Timestamp {
        let precision = precision.min(9);
        let unit = 10i32.pow(9 - u32::from(precision));
        let sub = instant.subsec_nanosecond();
        let trimmed = sub - sub.rem_euclid(unit);
        let instant = jiff::Timestamp::new(instant.as_second(), trimmed).unwrap_or(instant);
        Timestamp { instant, precision }
    }

    /// The instant this timestamp denotes.
    pub fn instant(&self) -> jiff::Timestamp {
        self.instant
    }

    /// How many fractional-second digits the timestamp was written with (0–9).
    pub fn precision(&self) -> u8 {
        self.precision
    }

    /// Whether the timestamp carries at least millisecond precision, as `created` and
    /// `modified` must (STIX 2.1 §3.2).
    pub fn has_millisecond_precision(&self) -> bool {
        self.precision >= 3
    }

    /// Compares the instants only, ignoring precision.
    pub fn cmp_instant(&self, other: &Timestamp) -> Ordering {
        self.instant.cmp(&other.instant)
    }
}

/// Distinguishes "has an offset" from "garbage" for short inputs.
fn shape_or_offset(b: &[u8]) -> TimestampError {
    if b.len() >= 19 && b.get(10) == Some(&b'T') {
        TimestampError::NotUtc
    } else {
        TimestampError::Shape
    }
}

impl PartialOrd for Timestamp {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Timestamp {
    fn cmp(&self, other: &Self) -> Ordering {
        self.instant
            .cmp(&other.instant)
            .then(self.precision.cmp(&other.precision))
    }
}

impl FromStr for Timestamp {
    type Err = TimestampError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Timestamp::parse(s)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dt = jiff::tz::Offset::UTC.to_datetime(self.instant);
        // The digits are written by hand into one buffer: `write!` with seven arguments was
        // ~3% of the store writer's CPU (a log entry and a version text per object).
        let year = dt.year();
        if (0..=9999).contains(&year) {
            let mut buf = [0u8; 30];
            let digits = |buf: &mut [u8], mut v: u32| {
                for b in buf.iter_mut().rev() {
                    *b = b'0' + (v % 10) as u8;
                    v /= 10;
                }
            };
            digits(&mut buf[0..4], year as u32);
            buf[4] = b'-';
            digits(&mut buf[5..7], dt.month() as u32);
            buf[7] = b'-';
            digits(&mut buf[8..10], dt.day() as u32);
            buf[10] = b'T';
            digits(&mut buf[11..13], dt.hour() as u32);
            buf[13] = b':';
            digits(&mut buf[14..16], dt.minute() as u32);
            buf[16] = b':';
            digits(&mut buf[17..19], dt.second() as u32);
            let mut end = 19;
            let precision = usize::from(self.precision.min(9));
            if precision > 0 {
                buf[19] = b'.';
                let unit = 10u32.pow(9 - precision as u32);
                digits(
                    &mut buf[20..20 + precision],
                    dt.subsec_nanosecond().unsigned_abs() / unit,
                );
                end = 20 + precision;
            }
            buf[end] = b'Z';
            // Only ASCII digits and separators were written.
            return f.write_str(std::str::from_utf8(&buf[..=end]).map_err(|_| fmt::Error)?);
        }
        self.fmt_with_formatter(f)
    }
}

impl Timestamp {
    /// The text through `write!`: for the years the hand-written digits do not cover, and
    /// the reference they are tested against.
    fn fmt_with_formatter(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dt = jiff::tz::Offset::UTC.to_datetime(self.instant);
        write!(
            f,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            dt.year(),
            dt.month(),
            dt.day(),
            dt.hour(),
            dt.minute(),
            dt.second()
        )?;
        if self.precision > 0 {
            let unit = 10i32.pow(9 - u32::from(self.precision));
            let frac = dt.subsec_nanosecond() / unit;
            write!(f, ".{:0width$}", frac, width = usize::from(self.precision))?;
        }
        f.write_str("Z")
    }
}

impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Timestamp::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_keeps_precision() {
        for s in [
            "2016-04-06T20:03:48Z",
            "2016-04-06T20:03:48.1Z",
            "2016-04-06T20:03:48.000Z",
            "2016-04-06T20:03:48.123456Z",
            "2016-04-06T20:03:48.123456789Z",
            "0001-01-01T00:00:00Z",
            "2024-02-29T23:59:59.999Z",
        ] {
            assert_eq!(Timestamp::parse(s).map(|t| t.to_string()).as_deref(), Ok(s));
        }
    }

    /// The digits written by hand are those `write!` gave, for every precision and across
    /// days, months, leap years and the ends of the year range.
    #[test]
    fn display_matches_the_formatter() {
        struct General<'a>(&'a Timestamp);
        impl fmt::Display for General<'_> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt_with_formatter(f)
            }
        }
        let reference = |t: &Timestamp| General(t).to_string();
        let mut seconds: i64 = -62_135_596_800; // 0001-01-01T00:00:00Z
        let mut n = 0u32;
        while seconds < 253_402_300_799 {
            // 9999-12-31T23:59:59Z
            let nanos = (n.wrapping_mul(2_654_435_761) % 1_000_000_000) as i32;
            let instant = jiff::Timestamp::new(seconds, nanos).unwrap();
            for precision in 0..=9 {
                let t = Timestamp { instant, precision };
                assert_eq!(
                    t.to_string(),
                    reference(&t),
                    "{seconds} {nanos} {precision}"
                );
            }
            seconds += 86_400 * 37 + 3_607 * i64::from(n % 29);
            n += 1;
        }
    }

    #[test]
    fn rejects_non_stix_forms() {
        use TimestampError::*;
        for (s, e) in [
            ("2016-04-06T20:03:48+00:00", NotUtc),
            ("2016-04-06T20:03:48", NotUtc),
            ("2016-04-06T20:03:48z", NotUtc),
            ("2016-04-06 20:03:48Z", Shape),
            ("2016-04-06T20:03:48.Z", Shape),
            ("2016-02-30T20:03:48Z", OutOfRange),
            ("2016-04-06T24:00:00Z", OutOfRange),
            ("2016-12-31T23:59:60Z", LeapSecond),
            ("2016-04-06T20:03:48.1234567890Z", TooPrecise),
            ("", Shape),
            ("２０16-04-06T20:03:48Z", Shape),
        ] {
            assert_eq!(Timestamp::parse(s), Err(e), "{s}");
        }
    }

    #[test]
    fn ordering_by_instant_then_precision() {
        let a = Timestamp::parse("2020-01-01T00:00:00Z").unwrap();
        let b = Timestamp::parse("2020-01-01T00:00:00.000Z").unwrap();
        let c = Timestamp::parse("2020-01-01T00:00:00.001Z").unwrap();
        assert!(a < b && b < c);
        assert_eq!(a.cmp_instant(&b), Ordering::Equal);
    }
}

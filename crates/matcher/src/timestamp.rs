//! Strict STIX timestamps in observed-data and in property values.
//!
//! STIX 2.1 §3.2 ("timestamp") requires RFC 3339 in UTC with an upper-case `T` and `Z` and
//! any number of fractional-second digits: `YYYY-MM-DDTHH:MM:SS[.s+]Z`. `jiff`'s own parser
//! is deliberately lenient (offsets, lower case, spaces), so this module checks the shape by
//! hand and only hands the validated fields to `jiff` for the calendar arithmetic.
//!
//! Precision: `jiff` keeps nanoseconds; digits past the ninth are truncated, which can only
//! merge instants closer than 1 ns. A leap second (`:60`) is folded onto `:59.999999999`
//! so that it still sorts after every other instant of that minute.

use jiff::Timestamp;

/// Parses a STIX timestamp string, or says why it is not one.
pub fn parse(text: &str) -> Result<Timestamp, &'static str> {
    let b = text.as_bytes();
    // The fixed part is 20 bytes: "YYYY-MM-DDTHH:MM:SSZ".
    if b.len() < 20 {
        return Err("too short for YYYY-MM-DDTHH:MM:SSZ");
    }
    let digits = |range: std::ops::Range<usize>| -> Result<i64, &'static str> {
        let mut v = 0i64;
        for &c in &b[range] {
            if !c.is_ascii_digit() {
                return Err("expected a digit");
            }
            v = v * 10 + i64::from(c - b'0');
        }
        Ok(v)
    };
    let year = digits(0..4)?;
    if b[4] != b'-' || b[7] != b'-' {
        return Err("expected '-' between date fields");
    }
    let month = digits(5..7)?;
    let day = digits(8..10)?;
    if b[10] != b'T' {
        return Err("expected an upper-case 'T' between date and time");
    }
    let hour = digits(11..13)?;
    if b[13] != b':' || b[16] != b':' {
        return Err("expected ':' between time fields");
    }
    let minute = digits(14..16)?;
    let mut second = digits(17..19)?;
    let mut nanos = 0i64;
    let mut pos = 19;
    if b[pos] == b'.' {
        pos += 1;
        let start = pos;
        while pos < b.len() && b[pos].is_ascii_digit() {
            if pos - start < 9 {
                nanos = nanos * 10 + i64::from(b[pos] - b'0');
            }
            pos += 1;
        }
        if pos == start {
            return Err("expected digits after '.'");
        }
        for _ in (pos - start)..9 {
            nanos *= 10;
        }
    }
    if pos + 1 != b.len() || b[pos] != b'Z' {
        return Err("expected an upper-case 'Z' at the end");
    }
    if second == 60 {
        second = 59;
        nanos = 999_999_999;
    }
    let small = |v: i64| i8::try_from(v).map_err(|_| "field out of range");
    let date = jiff::civil::Date::new(
        i16::try_from(year).map_err(|_| "year out of range")?,
        small(month)?,
        small(day)?,
    )
    .map_err(|_| "not a calendar date")?;
    let time = jiff::civil::Time::new(
        small(hour)?,
        small(minute)?,
        small(second)?,
        i32::try_from(nanos).map_err(|_| "fraction out of range")?,
    )
    .map_err(|_| "not a time of day")?;
    jiff::tz::TimeZone::UTC
        .to_timestamp(date.to_datetime(time))
        .map_err(|_| "out of the supported range")
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn accepts_stix_forms() {
        assert!(parse("2010-05-21T13:21:43Z").is_ok());
        assert_eq!(
            parse("2010-05-21T13:21:43Z").unwrap(),
            parse("2010-05-21T13:21:43.000Z").unwrap()
        );
        assert!(parse("2010-05-21T13:21:43.123456789123Z").is_ok());
        assert!(parse("1000-12-03T21:34:41Z").is_ok());
    }

    #[test]
    fn rejects_non_stix_forms() {
        for bad in [
            "2010-05-21T13:21:43",
            "2010-05-21T13:21:43z",
            "2010-05-21t13:21:43Z",
            "2010/05/21T13:21:43Z",
            "2010-05-21T13:21:99Z",
            "2010-05-21T13:21Z",
            "2024-02-30T00:00:00Z",
            "2010-05-21T13:21:43.Z",
            "2010-05-21T13:21:43+00:00",
            "hello",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}

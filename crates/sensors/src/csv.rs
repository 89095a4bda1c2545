//! A CSV of the exported values, one row per value, for spreadsheets and scripts.
//!
//! The header is fixed and documented here (and in `entente export --help`):
//!
//! ```text
//! type,value,indicator_id,indicator_name,producer,link,valid_until
//! ```
//!
//! * `type`: the value's kind ([`crate::Kind::as_str`]: `ip`, `subnet`, `domain`, `url`,
//!   `email`, `md5`, `sha1`, `sha256`, `sha512`, `cert-sha1`, `file-name`, `software`,
//!   `user-name`);
//! * `value`: the normalized value (URLs keep their scheme);
//! * `indicator_id`, `indicator_name`: the STIX indicator it comes from;
//! * `producer`: the creator identity's name (or id);
//! * `link`: the TAXII object URL, or the STIX id;
//! * `valid_until`: as the indicator has it, empty when it has none.
//!
//! Quoting follows RFC 4180 (a field with a comma, quote, CR or LF is quoted, quotes
//! doubled); lines end with LF.

use std::io::{self, Write};

use crate::observable::Observable;
use crate::select::Exported;

/// The header line (without its newline).
pub const HEADER: &str = "type,value,indicator_id,indicator_name,producer,link,valid_until";

/// Writes the header and one row per value of each exported indicator.
pub fn write<W: Write>(exported: &[Exported<'_>], out: &mut W) -> io::Result<()> {
    writeln!(out, "{HEADER}")?;
    for e in exported {
        for o in &e.values {
            row(
                out,
                &[
                    o.kind.as_str(),
                    &o.value,
                    e.id,
                    e.name,
                    e.producer,
                    &e.link,
                    e.valid_until.unwrap_or(""),
                ],
            )?;
        }
    }
    Ok(())
}

/// Writes the header and one row per observable, the indicator columns empty (the rows of
/// a delta's removal list).
pub fn write_values<W: Write>(values: &[Observable], out: &mut W) -> io::Result<()> {
    writeln!(out, "{HEADER}")?;
    for o in values {
        row(out, &[o.kind.as_str(), &o.value, "", "", "", "", ""])?;
    }
    Ok(())
}

fn row<W: Write>(out: &mut W, fields: &[&str]) -> io::Result<()> {
    for (i, f) in fields.iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        if f.contains([',', '"', '\r', '\n']) {
            out.write_all(b"\"")?;
            out.write_all(f.replace('"', "\"\"").as_bytes())?;
            out.write_all(b"\"")?;
        } else {
            out.write_all(f.as_bytes())?;
        }
    }
    out.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_with_separators_are_quoted() {
        let mut out = Vec::new();
        row(
            &mut out,
            &["url", "http://a.test/?x=1,2", "say \"hi\"", "plain"],
        )
        .expect("writes to a Vec");
        assert_eq!(
            String::from_utf8(out).expect("utf-8"),
            "url,\"http://a.test/?x=1,2\",\"say \"\"hi\"\"\",plain\n"
        );
    }
}

//! The Zeek Intel framework's input file: a tab-separated table with a `#fields` header.
//!
//! ```text
//! #fields<TAB>indicator<TAB>indicator_type<TAB>meta.source<TAB>meta.desc<TAB>meta.url
//! 198.51.100.7<TAB>Intel::ADDR<TAB>ACME CERT<TAB>C2 server<TAB>https://…/objects/indicator--…/
//! ```
//!
//! Types follow Zeek's `Intel::Type`: `ADDR`, `SUBNET`, `DOMAIN`, `URL` (without the scheme:
//! Zeek matches `HTTP::build_url`'s output, host and path), `EMAIL`, `FILE_HASH` (any
//! algorithm), `CERT_HASH` (the certificate's SHA-1), `FILE_NAME`, `SOFTWARE`, `USER_NAME`.
//!
//! A `#types` line follows `#fields` (see [`HEADER`]).
//!
//! Zeek's input reader takes a field literally up to the next tab, decodes `\xHH` escapes,
//! reads `-` as unset and `(empty)` as the empty string. So a tab, newline, carriage return,
//! backslash or other control character inside a value is written as `\xHH`, a value that
//! is exactly `-` or `(empty)` gets its first byte escaped, and an empty value is
//! `(empty)`; `meta.*` fields with nothing to say are `-`.

use std::io::{self, Write};

use crate::observable::{Kind, Observable};
use crate::select::Exported;

/// The header: the `#fields` line the Intel framework reads, then a `#types` line as Zeek's
/// own logs have it. Zeek's input reader skips `#` lines other than `#fields`; the `#types`
/// line lets generic Zeek log parsers read the file too.
pub const HEADER: &str = "#fields\tindicator\tindicator_type\tmeta.source\tmeta.desc\tmeta.url\n\
                          #types\tstring\tenum\tstring\tstring\tstring";

/// Zeek's `Intel::Type` for a kind (all of them have one).
pub fn intel_type(kind: Kind) -> &'static str {
    match kind {
        Kind::Ip => "Intel::ADDR",
        Kind::Subnet => "Intel::SUBNET",
        Kind::Domain => "Intel::DOMAIN",
        Kind::Url => "Intel::URL",
        Kind::Email => "Intel::EMAIL",
        Kind::Md5 | Kind::Sha1 | Kind::Sha256 | Kind::Sha512 => "Intel::FILE_HASH",
        Kind::CertSha1 => "Intel::CERT_HASH",
        Kind::FileName => "Intel::FILE_NAME",
        Kind::Software => "Intel::SOFTWARE",
        Kind::UserName => "Intel::USER_NAME",
    }
}

/// The indicator text Zeek matches for an observable: URLs lose their scheme (`http://`,
/// `https://`, any `scheme://`) and fragment, as the URLs Zeek sees (`HTTP::build_url`:
/// Host header and request URI) have neither; everything else as is.
pub fn indicator(o: &Observable) -> &str {
    let mut v = o.value.as_str();
    if o.kind != Kind::Url {
        return v;
    }
    if let Some(i) = v.find("://")
        && v[..i]
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
    {
        v = &v[i + 3..];
    }
    v.split_once('#').map_or(v, |(before, _)| before)
}

/// Writes the header and one line per value of each exported indicator.
pub fn write<W: Write>(exported: &[Exported<'_>], out: &mut W) -> io::Result<()> {
    writeln!(out, "{HEADER}")?;
    for e in exported {
        for o in &e.values {
            write_line(out, o, e.producer, e.name, &e.link)?;
        }
    }
    Ok(())
}

/// Writes a removal list: the header and one line per observable, meta fields unset. It is
/// for a Zeek script that calls `Intel::remove(item, T)` on each line, which purges the
/// indicator whatever its meta data.
pub fn write_removals<W: Write>(removed: &[Observable], out: &mut W) -> io::Result<()> {
    writeln!(out, "{HEADER}")?;
    for o in removed {
        write_line(out, o, "", "", "")?;
    }
    Ok(())
}

fn write_line<W: Write>(
    out: &mut W,
    o: &Observable,
    source: &str,
    desc: &str,
    url: &str,
) -> io::Result<()> {
    field(out, indicator(o), true)?;
    out.write_all(b"\t")?;
    out.write_all(intel_type(o.kind).as_bytes())?;
    out.write_all(b"\t")?;
    field(out, source, false)?;
    out.write_all(b"\t")?;
    field(out, desc, false)?;
    out.write_all(b"\t")?;
    field(out, url, false)?;
    out.write_all(b"\n")
}

/// One field, escaped as the module doc says; `required` fields write an empty value as
/// `(empty)`, others as unset (`-`).
fn field<W: Write>(out: &mut W, value: &str, required: bool) -> io::Result<()> {
    if value.is_empty() {
        return out.write_all(if required { b"(empty)" } else { b"-" });
    }
    let bytes = value.as_bytes();
    let mut start = 0;
    if value == "-" || value == "(empty)" {
        write!(out, "\\x{:02x}", bytes[0])?;
        start = 1;
    }
    let mut plain = start;
    for (i, &b) in bytes.iter().enumerate().skip(start) {
        if b < 0x20 || b == 0x7f || b == b'\\' {
            out.write_all(&bytes[plain..i])?;
            write!(out, "\\x{b:02x}")?;
            plain = i + 1;
        }
    }
    out.write_all(&bytes[plain..])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(o: Observable, source: &str, desc: &str) -> String {
        let mut out = Vec::new();
        write_line(&mut out, &o, source, desc, "indicator--x").expect("writes to a Vec");
        String::from_utf8(out).expect("utf-8 in, utf-8 out")
    }

    #[test]
    fn urls_lose_their_scheme_and_controls_are_escaped() {
        let url = Observable {
            kind: Kind::Url,
            value: "https://bad.example/a?b=c".into(),
        };
        assert_eq!(
            line(url, "ACME\tCERT", "two\nlines \\ here"),
            "bad.example/a?b=c\tIntel::URL\tACME\\x09CERT\ttwo\\x0alines \\x5c here\tindicator--x\n"
        );
        let dash = Observable {
            kind: Kind::UserName,
            value: "-".into(),
        };
        assert_eq!(
            line(dash, "", "(empty)"),
            "\\x2d\tIntel::USER_NAME\t-\t\\x28empty)\tindicator--x\n"
        );
    }
}

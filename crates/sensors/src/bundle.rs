//! A STIX 2.1 bundle of the exported indicators, each exactly as it was received.

use std::io::{self, Write};

use crate::select::Exported;

/// Writes `{"type":"bundle","id":BUNDLE_ID,"objects":[…]}` with one exported indicator per
/// line. `bundle_id` is the caller's (`bundle--` and a UUID, STIX 2.1 §8).
pub fn write<W: Write>(exported: &[Exported<'_>], bundle_id: &str, out: &mut W) -> io::Result<()> {
    let id = serde_json::to_string(bundle_id).map_err(io::Error::other)?;
    write!(out, "{{\"type\":\"bundle\",\"id\":{id},\"objects\":[")?;
    for (i, e) in exported.iter().enumerate() {
        out.write_all(if i == 0 { b"\n" } else { b",\n" })?;
        out.write_all(e.raw.trim().as_bytes())?;
    }
    out.write_all(if exported.is_empty() {
        b"]}\n"
    } else {
        b"\n]}\n"
    })
}

//! Fuzz target: any bytes through `stix::parse_document`, then `stix::validate_document`
//! with the same pattern checker the CLI injects.
//!
//! Invariants checked beyond "never panics, never hangs" (ARCHITECTURE.md: parsing never
//! panics; validation reports, it does not fail):
//! - a parse error points at a real position (1-based line and column);
//! - parsing is lossless: each object's `raw()` is exactly the input bytes at its
//!   `location().offset`, and starts at an opening brace on the line `location()` names
//!   (offsets count from after a leading UTF-8 byte order mark, which the parser skips as
//!   RFC 8259 §8.1 allows);
//! - every diagnostic names a rule and a JSON pointer (RFC 6901: empty or starting `/`).

#![no_main]

use libfuzzer_sys::fuzz_target;
use stix::ValidateOptions;

/// The CLI's checker, minus error formatting: STIX patterns go to the pattern crate.
fn check_pattern(text: &str, version: &str) -> Result<(), String> {
    let version = version.parse().unwrap_or(pattern::StixVersion::V21);
    pattern::validate(text, version)
        .map(drop)
        .map_err(|errors| format!("{} errors", errors.len()))
}

fuzz_target!(|data: &[u8]| {
    let objects = match stix::parse_document(data) {
        Ok(objects) => objects,
        Err(error) => {
            assert!(error.line >= 1 && error.column >= 1, "{error:?}");
            return;
        }
    };
    let text = data.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(data);
    for object in &objects {
        let location = object.location();
        let raw = object.raw().as_bytes();
        assert!(
            raw.starts_with(b"{"),
            "raw bytes start at the object's brace"
        );
        assert_eq!(
            text.get(location.offset..location.offset + raw.len()),
            Some(raw),
            "raw bytes are the input's bytes at the object's offset"
        );
        let line = 1 + text[..location.offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        assert_eq!(location.line, line, "location line matches the offset");
    }
    let checker = check_pattern;
    let options = ValidateOptions {
        pattern_checker: Some(&checker),
        ..ValidateOptions::default()
    };
    for diagnostic in stix::validate_document(&objects, &options) {
        assert!(!diagnostic.rule.is_empty());
        assert!(diagnostic.pointer.is_empty() || diagnostic.pointer.starts_with('/'));
        let _ = diagnostic.to_string();
    }
});

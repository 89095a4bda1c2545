//! Fuzz target: any bytes, as UTF-8 text, through `pattern::validate` in both dialects.
//!
//! Invariants checked beyond "never panics, never hangs": every error span lies inside the
//! text on character boundaries, and a valid pattern's printed form parses back to a
//! pattern that prints the same (the printer/parser round trip).

#![no_main]

use libfuzzer_sys::fuzz_target;
use pattern::{StixVersion, parse, validate};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    for version in [StixVersion::V21, StixVersion::V20] {
        match validate(text, version) {
            Ok(p) => {
                let printed = p.to_string();
                let again = parse(&printed, version)
                    .unwrap_or_else(|e| panic!("printed form {printed:?} does not parse: {e}"));
                assert_eq!(again.to_string(), printed);
            }
            Err(errors) => {
                for e in errors {
                    assert!(e.span.start <= e.span.end && e.span.end <= text.len());
                    assert!(
                        text.is_char_boundary(e.span.start) && text.is_char_boundary(e.span.end)
                    );
                    let _ = e.render(text);
                }
            }
        }
    }
});

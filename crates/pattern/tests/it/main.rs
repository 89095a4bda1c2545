//! Integration tests of the `pattern` crate: one binary, one module per concern.

mod diagnostics;
mod roundtrip;
mod vectors;

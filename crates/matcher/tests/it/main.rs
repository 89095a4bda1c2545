//! Integration tests of the matcher crate (one binary, STYLE.md §5).

mod compiled;
mod semantics;
mod vectors;

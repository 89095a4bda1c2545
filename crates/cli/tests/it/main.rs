//! Integration tests of the `entente` binary: one test binary, one module per command.

mod admin;
mod export;
mod hunt;
mod import;
mod pattern_check;
mod pattern_match;
mod push;
mod serve;
mod validate;
mod verify;
mod witness;

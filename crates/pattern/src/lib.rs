//! The STIX Patterning language (STIX 2.1 §9, STIX 2.0 Part 5): lexer, recursive-descent
//! parser with byte spans, AST, pretty-printer and validator.
//!
//! What it is not: an evaluator. Matching patterns against observed-data is the `matcher`
//! crate's job; this crate only says what a pattern *is* and whether it is well formed.
//!
//! # Entry points
//!
//! * [`parse`] / [`parse_with`]: syntax only; the first syntax error, with its span.
//! * [`validate`] / [`validate_with`]: syntax, then every semantic check (qualifier values,
//!   regex syntax, CIDR arguments, hash lengths, homogeneous sets); all semantic errors at
//!   once. This is what producers and the server should call.
//! * `Display` on [`Pattern`]: the canonical text; it parses back to the same tree.
//!
//! Errors are [`PatternError`]s with a stable [`ErrorCode`], a [`Span`], line and column, and
//! a serde form for JSON answers. [`Limits`] bounds length, nesting, `REPEATS` and regex size,
//! so no input takes unbounded time or memory, and no input panics (fuzzed by
//! `fuzz/fuzz_targets/pattern_parse.rs`).
//!
//! # Dialects
//!
//! [`StixVersion::V21`] (the default) and [`StixVersion::V20`] differ in `EXISTS` (2.1 only),
//! in `START`/`STOP` operands (2.0 also takes plain strings) and in the duplicate-qualifier
//! rule (2.1 only). Where the reference validator and the spec disagree this crate follows
//! the spec; the cases are listed in `DEVIATIONS.md`.
//!
//! Tests: `tests/it/` (vectors from `shared/data/stix-patterns`, round-trip proptests,
//! diagnostics); bench: `benches/parse.rs`.

pub mod ast;
mod display;
pub mod error;
mod lexer;
mod parser;
pub mod validate;

pub use ast::*;
pub use error::{ErrorCode, PatternError};

/// Bounds on what a client-supplied pattern may cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Longest pattern text, in bytes.
    pub max_len: usize,
    /// Deepest nesting of `[`/`(`, counted together.
    pub max_depth: usize,
    /// Largest `REPEATS n TIMES` count the validator accepts.
    pub max_repeats: u32,
    /// Longest `MATCHES` regex, in bytes (after unescaping).
    pub max_regex_len: usize,
    /// Deepest nesting inside one regex (groups, repetitions, classes).
    pub max_regex_nest: u32,
}

impl Default for Limits {
    /// 64 KiB of text, depth 64, `REPEATS` up to 1000, regexes up to 4 KiB nested 64 deep.
    fn default() -> Self {
        Limits {
            max_len: 64 * 1024,
            max_depth: 64,
            max_repeats: 1000,
            max_regex_len: 4096,
            max_regex_nest: 64,
        }
    }
}

/// How to parse: the dialect and the limits.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Options {
    /// The STIX version whose grammar applies.
    pub version: StixVersion,
    /// Resource bounds.
    pub limits: Limits,
}

impl Options {
    /// Default limits for `version`.
    pub fn new(version: StixVersion) -> Self {
        Options {
            version,
            limits: Limits::default(),
        }
    }
}

/// Parses `text` as a pattern of `version`, with default limits. Syntax only: the result
/// may still fail [`validate`]'s semantic checks.
pub fn parse(text: &str, version: StixVersion) -> Result<Pattern, PatternError> {
    parse_with(text, &Options::new(version))
}

/// Parses `text` with explicit options. Syntax only.
pub fn parse_with(text: &str, options: &Options) -> Result<Pattern, PatternError> {
    parser::Parser::parse(text, options.version, &options.limits)
}

/// Parses and fully validates `text` as a pattern of `version`, with default limits.
///
/// On failure the list holds the syntax error alone (parsing stops at the first), or every
/// semantic error in source order.
pub fn validate(text: &str, version: StixVersion) -> Result<Pattern, Vec<PatternError>> {
    validate_with(text, &Options::new(version))
}

/// Parses and fully validates `text` with explicit options.
pub fn validate_with(text: &str, options: &Options) -> Result<Pattern, Vec<PatternError>> {
    let pattern = parse_with(text, options).map_err(|e| vec![e])?;
    let mut errors = validate::check(&pattern, text, &options.limits);
    if errors.is_empty() {
        Ok(pattern)
    } else {
        errors.sort_by_key(|e| (e.span.start, e.span.end));
        Err(errors)
    }
}

//! The error type of [`crate::parse_document`].
//!
//! Parsing fails only when the input is not a STIX document at all (bad UTF-8, bad JSON,
//! nesting too deep, a bundle whose `objects` is not a list of objects). Everything that
//! is JSON but breaks a STIX rule is a [`crate::Diagnostic`] from validation instead.

/// Why a document could not be parsed, with the 1-based line and column of the problem.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct ParseError {
    /// 1-based line of the problem.
    pub line: usize,
    /// 1-based column (in bytes) of the problem.
    pub column: usize,
    /// What is wrong, lowercase, no trailing period.
    pub message: String,
}

impl ParseError {
    /// Builds an error at a position.
    pub fn new(line: usize, column: usize, message: impl Into<String>) -> ParseError {
        ParseError {
            line,
            column,
            message: message.into(),
        }
    }
}

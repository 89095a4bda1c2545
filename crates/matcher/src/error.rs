//! The matcher's one error type.
//!
//! Three kinds of failure are kept apart because callers treat them differently: a pattern
//! that parses but that the specification makes an error to evaluate (fix the indicator), input
//! that is not usable observed-data (fix the data), and a search that hit the evaluation bound
//! (the answer is unknown, not "no match").

use pattern::ast::Span;

/// Everything that can go wrong when compiling or evaluating a pattern.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Error {
    /// The pattern parsed, but the specification makes it an error to evaluate it, such as
    /// an `IN` set of mixed types or `WITHIN 0 SECONDS`.
    #[error("invalid pattern: {message}")]
    Pattern {
        /// What is wrong.
        message: String,
        /// Where in the pattern text.
        span: Span,
    },
    /// The observed-data input is not usable: wrong shape, a bad timestamp or
    /// `number_observed`, or a property value that cannot be decoded as the pattern needs.
    #[error("invalid input at {pointer}: {message}")]
    Input {
        /// A JSON pointer (RFC 6901) into the input document.
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// The search for a binding tried more candidate assignments than allowed.
    #[error(
        "evaluation bound reached: more than {limit} candidate assignments tried without a \
         decision; the pattern and the data combine into too many possible bindings"
    )]
    SearchLimit {
        /// The configured bound ([`crate::EvalOptions::max_steps`]).
        limit: u64,
    },
    /// One binding would need more observations than allowed.
    #[error(
        "evaluation bound reached: a binding of this pattern needs {needed} observations, \
         more than the limit of {limit}"
    )]
    BindingTooLarge {
        /// Observations one binding needs.
        needed: u64,
        /// The configured bound ([`crate::EvalOptions::max_binding_size`]).
        limit: u64,
    },
}

impl Error {
    pub(crate) fn pattern(span: Span, message: impl Into<String>) -> Self {
        Error::Pattern {
            message: message.into(),
            span,
        }
    }

    pub(crate) fn input(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Input {
            pointer: pointer.into(),
            message: message.into(),
        }
    }
}

//! The error type of this crate: what can be wrong with a client-supplied query string,
//! header or pagination token.
//!
//! Every variant maps to HTTP 400 at the server's edge; the message says which parameter
//! and why, lowercase and without a trailing period.

/// Why a TAXII request parameter was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A query parameter has a value its definition does not allow (TAXII 2.1 §3.4).
    #[error("invalid {param}: {reason}")]
    InvalidParameter {
        /// The parameter as written in the query, e.g. `match[version]`.
        param: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A parameter that may appear once was given more than once.
    #[error("parameter {0} given more than once")]
    DuplicateParameter(String),
    /// A `next` token that this server did not issue, or that was tampered with.
    #[error("invalid next token")]
    InvalidToken,
}

impl Error {
    /// Shorthand for [`Error::InvalidParameter`].
    pub fn invalid(param: &str, reason: impl Into<String>) -> Error {
        Error::InvalidParameter {
            param: param.to_owned(),
            reason: reason.into(),
        }
    }
}

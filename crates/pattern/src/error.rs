//! Diagnostics: one error type for syntax and semantic problems, with a stable code, a byte
//! span, a 1-based line and column, and a serde form for the server's JSON answers.
//!
//! Rendering with carets happens at the edge (the CLI), but [`PatternError::render`] gives the
//! simple three-line form for callers that have no renderer of their own.

use crate::ast::Span;
use serde::Serialize;

/// A stable, machine-readable error code. Serialised as its snake_case name; the names are part
/// of the API and never change meaning.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// A character that starts no token.
    UnexpectedChar,
    /// A string, hex, binary or timestamp literal without its closing quote.
    UnterminatedString,
    /// A backslash escape other than `\\` or `\'` (STIX 2.1 §9, "Constants").
    InvalidEscape,
    /// A number that the grammar does not allow, such as `01`.
    InvalidNumber,
    /// An integer that does not fit in 64 bits.
    IntegerOutOfRange,
    /// An `h'…'` literal with an odd number of digits or a non-hex digit.
    InvalidHex,
    /// A `b'…'` literal that is not valid padded base64.
    InvalidBase64,
    /// A timestamp that is not `YYYY-MM-DDTHH:MM:SS[.frac]Z` or not a real date and time.
    InvalidTimestamp,
    /// A token where the grammar wants something else.
    UnexpectedToken,
    /// The pattern ends where the grammar wants more.
    UnexpectedEnd,
    /// The same qualifier kind twice directly on one observation expression.
    DuplicateQualifier,
    /// A construct that the selected STIX version does not have (e.g. `EXISTS` in 2.0).
    UnsupportedInVersion,
    /// A property name with `-` or another character that needs quoting.
    InvalidPropertyName,
    /// An object type that breaks the STIX naming rules.
    InvalidObjectType,
    /// A list index that is negative or too large.
    InvalidIndex,
    /// A `WITHIN` or `REPEATS` value that is not positive, or above the configured bound.
    InvalidQualifierValue,
    /// `START` is not earlier than `STOP`.
    StartNotBeforeStop,
    /// A `MATCHES` argument that is not a regular expression entente accepts.
    InvalidRegex,
    /// An `ISSUBSET`/`ISSUPERSET` argument on an IP property that is not a CIDR.
    InvalidCidr,
    /// A hash value with the wrong length or alphabet for its algorithm.
    InvalidHash,
    /// A literal whose type cannot be compared with the property or operator.
    LiteralTypeMismatch,
    /// The pattern is longer than the configured limit.
    PatternTooLong,
    /// Parentheses and brackets nest deeper than the configured limit.
    NestingTooDeep,
}

impl ErrorCode {
    /// The code's stable name, as serialised.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::UnexpectedChar => "unexpected_char",
            ErrorCode::UnterminatedString => "unterminated_string",
            ErrorCode::InvalidEscape => "invalid_escape",
            ErrorCode::InvalidNumber => "invalid_number",
            ErrorCode::IntegerOutOfRange => "integer_out_of_range",
            ErrorCode::InvalidHex => "invalid_hex",
            ErrorCode::InvalidBase64 => "invalid_base64",
            ErrorCode::InvalidTimestamp => "invalid_timestamp",
            ErrorCode::UnexpectedToken => "unexpected_token",
            ErrorCode::UnexpectedEnd => "unexpected_end",
            ErrorCode::DuplicateQualifier => "duplicate_qualifier",
            ErrorCode::UnsupportedInVersion => "unsupported_in_version",
            ErrorCode::InvalidPropertyName => "invalid_property_name",
            ErrorCode::InvalidObjectType => "invalid_object_type",
            ErrorCode::InvalidIndex => "invalid_index",
            ErrorCode::InvalidQualifierValue => "invalid_qualifier_value",
            ErrorCode::StartNotBeforeStop => "start_not_before_stop",
            ErrorCode::InvalidRegex => "invalid_regex",
            ErrorCode::InvalidCidr => "invalid_cidr",
            ErrorCode::InvalidHash => "invalid_hash",
            ErrorCode::LiteralTypeMismatch => "literal_type_mismatch",
            ErrorCode::PatternTooLong => "pattern_too_long",
            ErrorCode::NestingTooDeep => "nesting_too_deep",
        }
    }

    /// Whether the code comes from the grammar (true) or from a semantic check (false).
    pub fn is_syntax(self) -> bool {
        !matches!(
            self,
            ErrorCode::InvalidQualifierValue
                | ErrorCode::StartNotBeforeStop
                | ErrorCode::InvalidRegex
                | ErrorCode::InvalidCidr
                | ErrorCode::InvalidHash
                | ErrorCode::LiteralTypeMismatch
        )
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One problem in a pattern. The `Serialize` form is what the server returns:
/// `{"code", "message", "span": {"start", "end"}, "line", "column"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{message}")]
pub struct PatternError {
    /// The stable code.
    pub code: ErrorCode,
    /// A lowercase, human-readable message.
    pub message: String,
    /// The offending bytes (empty at the position for "missing" errors).
    pub span: Span,
    /// 1-based line of `span.start`.
    pub line: usize,
    /// 1-based column of `span.start`, counted in characters.
    pub column: usize,
}

impl PatternError {
    /// An error at `span` of `text`; line and column are computed from `text`.
    pub fn new(code: ErrorCode, span: Span, message: impl Into<String>, text: &str) -> Self {
        let (line, column) = line_column(text, span.start);
        PatternError {
            code,
            message: message.into(),
            span,
            line,
            column,
        }
    }

    /// The simple caret form: the line of `text` holding the error, a line of spaces and `^`
    /// under the span (at least one caret), then `error[code]: message`.
    pub fn render(&self, text: &str) -> String {
        let start = floor_boundary(text, self.span.start);
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let line = &text[line_start..line_end];
        let pad = text[line_start..start].chars().count();
        let end = floor_boundary(text, self.span.end.clamp(start, line_end));
        let carets = text[start..end].chars().count().max(1);
        format!(
            "{line}\n{}{}\nerror[{}]: {}",
            " ".repeat(pad),
            "^".repeat(carets),
            self.code,
            self.message
        )
    }
}

/// The largest character boundary of `text` at or before `offset` (clamped to the length), so
/// that a span from another text can never make slicing panic.
fn floor_boundary(text: &str, offset: usize) -> usize {
    let mut at = offset.min(text.len());
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

/// 1-based line and character column of byte `offset` in `text`.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..floor_boundary(text, offset)];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

//! The abstract syntax tree of a STIX pattern (STIX 2.1 §9).
//!
//! The tree is what the parser produces and what the matcher evaluates. It keeps a byte
//! [`Span`] on every node so that diagnostics can point at the offending text, but it does not
//! keep parentheses: grouping is expressed by the tree shape alone, and the pretty-printer
//! ([`std::fmt::Display`] on [`Pattern`]) re-inserts the parentheses the shape needs.
//!
//! Spans are byte offsets into the text handed to [`crate::parse`]; `end` is exclusive.

use serde::Serialize;

/// A half-open byte range `start..end` into the pattern text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Span {
    /// Byte offset of the first byte.
    pub start: usize,
    /// Byte offset one past the last byte.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end` (exclusive).
    pub const fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }

    /// The smallest span covering both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }
}

/// The STIX version whose pattern grammar applies.
///
/// The dialects differ in two places: 2.1 has `EXISTS` and wants `t'…'` timestamps in
/// `START`/`STOP`, while 2.0 takes plain string literals there and has no `EXISTS`
/// (STIX 2.0 Part 5 §6, STIX 2.1 §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
pub enum StixVersion {
    /// STIX 2.0 (Part 5: STIX Patterning).
    #[serde(rename = "2.0")]
    V20,
    /// STIX 2.1 (section 9), the default.
    #[default]
    #[serde(rename = "2.1")]
    V21,
}

impl StixVersion {
    /// The version as written in `spec_version`: `"2.0"` or `"2.1"`.
    pub fn as_str(self) -> &'static str {
        match self {
            StixVersion::V20 => "2.0",
            StixVersion::V21 => "2.1",
        }
    }

    /// The grammar an indicator's `pattern_version` names: absent means 2.1 (STIX 2.1 §4.7:
    /// the default is the object's `spec_version`, here 2.1); `None` for a version this crate
    /// does not implement.
    pub fn from_pattern_version(pattern_version: Option<&str>) -> Option<StixVersion> {
        match pattern_version {
            None | Some("2.1") => Some(StixVersion::V21),
            Some("2.0") => Some(StixVersion::V20),
            Some(_) => None,
        }
    }
}

impl std::str::FromStr for StixVersion {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "2.0" => Ok(StixVersion::V20),
            "2.1" => Ok(StixVersion::V21),
            other => Err(format!(
                "unknown STIX version {other:?} (expected 2.0 or 2.1)"
            )),
        }
    }
}

/// A whole pattern: one observation expression (STIX 2.1 §9.1).
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    /// The root observation expression.
    pub root: ObservationExpr,
    /// The dialect the pattern was parsed with.
    pub version: StixVersion,
}

/// An observation expression: `[ … ]`, combined with `AND`, `OR`, `FOLLOWEDBY`, or qualified.
///
/// Precedence, loosest first: `FOLLOWEDBY`, `OR`, `AND`, then postfix qualifiers; all binary
/// operators are left-associative.
#[derive(Debug, Clone, PartialEq)]
pub enum ObservationExpr {
    /// `[ comparison-expression ]`: matches one observation.
    Observation {
        /// The comparison expression between the brackets.
        expr: ComparisonExpr,
        /// From `[` to `]` inclusive.
        span: Span,
    },
    /// `lhs AND rhs`: two distinct observations, any order.
    And {
        /// Left operand.
        lhs: Box<ObservationExpr>,
        /// Right operand.
        rhs: Box<ObservationExpr>,
        /// The whole expression.
        span: Span,
    },
    /// `lhs OR rhs`: either side.
    Or {
        /// Left operand.
        lhs: Box<ObservationExpr>,
        /// Right operand.
        rhs: Box<ObservationExpr>,
        /// The whole expression.
        span: Span,
    },
    /// `lhs FOLLOWEDBY rhs`: the right side's observations come at or after the left side's.
    FollowedBy {
        /// Left operand (earlier).
        lhs: Box<ObservationExpr>,
        /// Right operand (later).
        rhs: Box<ObservationExpr>,
        /// The whole expression.
        span: Span,
    },
    /// `expr WITHIN … | REPEATS … | START … STOP …`.
    Qualified {
        /// The qualified expression.
        expr: Box<ObservationExpr>,
        /// The qualifier.
        qualifier: Qualifier,
        /// The qualifier's own text (from its keyword to its last token).
        qualifier_span: Span,
        /// The whole expression, operand included.
        span: Span,
    },
}

impl ObservationExpr {
    /// The span of the whole expression.
    pub fn span(&self) -> Span {
        match self {
            ObservationExpr::Observation { span, .. }
            | ObservationExpr::And { span, .. }
            | ObservationExpr::Or { span, .. }
            | ObservationExpr::FollowedBy { span, .. }
            | ObservationExpr::Qualified { span, .. } => *span,
        }
    }
}

/// A qualifier on an observation expression (STIX 2.1 §9, "Qualifiers").
#[derive(Debug, Clone, PartialEq)]
pub enum Qualifier {
    /// `WITHIN n SECONDS`: all bound observations fall within a window of `seconds`.
    Within {
        /// The window length in seconds (an integer literal is stored as its float value).
        seconds: f64,
    },
    /// `REPEATS n TIMES`: the operand holds for `times` distinct observations.
    Repeats {
        /// How many times.
        times: u32,
    },
    /// `START t'…' STOP t'…'`: the observations fall in `[start, stop)`.
    StartStop {
        /// The start of the window.
        start: Timestamp,
        /// The end of the window.
        stop: Timestamp,
    },
}

/// A timestamp literal: `t'2016-06-01T01:30:00.123Z'`, or in 2.0 a plain string in
/// `START`/`STOP`.
#[derive(Debug, Clone, PartialEq)]
pub struct Timestamp {
    /// The text between the quotes, as written.
    pub raw: String,
    /// The instant it denotes (UTC). A leap second (`:60`) is folded onto `:59` plus the
    /// fraction, because `jiff` does not represent leap seconds.
    pub value: jiff::Timestamp,
}

/// A comparison expression: the inside of `[ … ]`.
///
/// Inside the brackets `AND` binds tighter than `OR`; both are left-associative.
#[derive(Debug, Clone, PartialEq)]
pub enum ComparisonExpr {
    /// `lhs AND rhs`.
    And {
        /// Left operand.
        lhs: Box<ComparisonExpr>,
        /// Right operand.
        rhs: Box<ComparisonExpr>,
        /// The whole expression.
        span: Span,
    },
    /// `lhs OR rhs`.
    Or {
        /// Left operand.
        lhs: Box<ComparisonExpr>,
        /// Right operand.
        rhs: Box<ComparisonExpr>,
        /// The whole expression.
        span: Span,
    },
    /// One property test, `path [NOT] op value`.
    Comparison(Comparison),
    /// `[NOT] EXISTS path` (STIX 2.1 only).
    Exists {
        /// The path that must exist (or, when `negated`, must not).
        path: ObjectPath,
        /// `NOT` was written before `EXISTS`.
        negated: bool,
        /// From `NOT` or `EXISTS` to the end of the path.
        span: Span,
    },
}

impl ComparisonExpr {
    /// The span of the whole expression.
    pub fn span(&self) -> Span {
        match self {
            ComparisonExpr::And { span, .. }
            | ComparisonExpr::Or { span, .. }
            | ComparisonExpr::Exists { span, .. } => *span,
            ComparisonExpr::Comparison(c) => c.span,
        }
    }
}

/// One property test: `path [NOT] op rhs`.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The object path on the left.
    pub path: ObjectPath,
    /// `NOT` was written before the operator.
    pub negated: bool,
    /// The operator.
    pub op: Op,
    /// The right-hand side: a set for [`Op::In`], a single literal otherwise.
    pub rhs: Rhs,
    /// The span of the right-hand side (the literal, or the set from `(` to `)`).
    pub rhs_span: Span,
    /// The whole comparison.
    pub span: Span,
}

/// The right-hand side of a comparison.
#[derive(Debug, Clone, PartialEq)]
pub enum Rhs {
    /// One literal.
    Literal(Literal),
    /// The parenthesised set of an `IN` (possibly empty).
    Set(Vec<Literal>),
}

/// A comparison operator (STIX 2.1 §9, "Comparison Operators").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Op {
    /// `=` (also written `==`).
    Eq,
    /// `!=` (also written `<>`).
    Neq,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// `IN ( … )`.
    In,
    /// `LIKE` with SQL-style `%` and `_`.
    Like,
    /// `MATCHES` with a PCRE regular expression.
    Matches,
    /// `ISSUBSET`: the address or network lies inside the given CIDR.
    IsSubset,
    /// `ISSUPERSET`: the network contains the given address or CIDR.
    IsSuperset,
}

impl Op {
    /// The operator's canonical spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Neq => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::In => "IN",
            Op::Like => "LIKE",
            Op::Matches => "MATCHES",
            Op::IsSubset => "ISSUBSET",
            Op::IsSuperset => "ISSUPERSET",
        }
    }
}

/// An object path: `type:step.step[0].'quoted-step'[*]` (STIX 2.1 §9, "Object Path Syntax").
#[derive(Debug, Clone, PartialEq)]
pub struct ObjectPath {
    /// The object type before the colon, e.g. `file`.
    pub object_type: String,
    /// The steps after the colon; never empty, and the first is always a property.
    pub steps: Vec<PathStep>,
    /// One span per entry of `steps` (same length): the property name (quotes included) or
    /// the bracketed index.
    pub step_spans: Vec<Span>,
    /// The whole path.
    pub span: Span,
}

impl ObjectPath {
    /// The span of the object type (before the colon).
    pub fn type_span(&self) -> Span {
        Span::new(self.span.start, self.span.start + self.object_type.len())
    }
}

/// One step of an object path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum PathStep {
    /// `.name` or `.'quoted name'`: a property or dictionary key. Refs (`*_ref`,
    /// `*_refs[…]`) are ordinary properties here; the matcher follows them by name.
    Property(String),
    /// `[n]`: the n-th list element, from 0.
    Index(usize),
    /// `[*]`: any list element.
    AnyIndex,
}

/// A literal value (STIX 2.1 §9, "Constants").
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `'text'` with `\'` and `\\` decoded.
    String(String),
    /// An integer such as `-12`.
    Int(i64),
    /// A float such as `7.0` or `-.5`.
    Float(f64),
    /// `true` or `false`.
    Bool(bool),
    /// `t'…'`.
    Timestamp(Timestamp),
    /// `h'…'`, decoded.
    Hex(Vec<u8>),
    /// `b'…'` (base64), decoded.
    Binary(Vec<u8>),
}

impl Literal {
    /// A short name of the literal's kind, for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Literal::String(_) => "string",
            Literal::Int(_) => "integer",
            Literal::Float(_) => "float",
            Literal::Bool(_) => "boolean",
            Literal::Timestamp(_) => "timestamp",
            Literal::Hex(_) => "hex",
            Literal::Binary(_) => "binary",
        }
    }
}

//! The pretty-printer: `Display` for the tree, in canonical spelling.
//!
//! The tree keeps no parentheses, so the printer adds exactly those that the shape needs:
//! an operand of looser precedence, a right operand of equal precedence (operators are
//! left-associative), and a qualified operand whose own qualifier chain already holds the
//! same qualifier kind (2.1 forbids that without parentheses). Printing and re-parsing gives
//! the same tree, up to spans; `tests/it/roundtrip.rs` checks that with proptest.

use crate::ast::*;
use crate::parser::is_bare_property;
use std::fmt::{self, Display, Formatter, Write as _};

impl Display for Pattern {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        self.root.fmt(f)
    }
}

/// Binding strength of an observation expression; higher binds tighter.
fn obs_level(e: &ObservationExpr) -> u8 {
    match e {
        ObservationExpr::FollowedBy { .. } => 1,
        ObservationExpr::Or { .. } => 2,
        ObservationExpr::And { .. } => 3,
        ObservationExpr::Qualified { .. } => 4,
        ObservationExpr::Observation { .. } => 5,
    }
}

fn same_kind(a: &Qualifier, b: &Qualifier) -> bool {
    std::mem::discriminant(a) == std::mem::discriminant(b)
}

/// Whether the unparenthesised qualifier chain of `e` already has a qualifier like `q`.
fn chain_has(e: &ObservationExpr, q: &Qualifier) -> bool {
    match e {
        ObservationExpr::Qualified {
            expr, qualifier, ..
        } => same_kind(qualifier, q) || chain_has(expr, q),
        _ => false,
    }
}

fn paren_if(f: &mut Formatter<'_>, wrap: bool, inner: &dyn Display) -> fmt::Result {
    if wrap {
        write!(f, "({inner})")
    } else {
        inner.fmt(f)
    }
}

impl Display for ObservationExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let level = obs_level(self);
        let (lhs, rhs, word) = match self {
            ObservationExpr::Observation { expr, .. } => return write!(f, "[{expr}]"),
            ObservationExpr::Qualified {
                expr, qualifier, ..
            } => {
                let wrap = obs_level(expr) < level || chain_has(expr, qualifier);
                paren_if(f, wrap, expr)?;
                return write!(f, " {qualifier}");
            }
            ObservationExpr::And { lhs, rhs, .. } => (lhs, rhs, "AND"),
            ObservationExpr::Or { lhs, rhs, .. } => (lhs, rhs, "OR"),
            ObservationExpr::FollowedBy { lhs, rhs, .. } => (lhs, rhs, "FOLLOWEDBY"),
        };
        paren_if(f, obs_level(lhs) < level, lhs)?;
        write!(f, " {word} ")?;
        paren_if(f, obs_level(rhs) <= level, rhs)
    }
}

impl Display for Qualifier {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Qualifier::Within { seconds } => {
                f.write_str("WITHIN ")?;
                write_number(f, *seconds, false)?;
                f.write_str(" SECONDS")
            }
            Qualifier::Repeats { times } => write!(f, "REPEATS {times} TIMES"),
            Qualifier::StartStop { start, stop } => {
                write!(f, "START t'{}' STOP t'{}'", start.raw, stop.raw)
            }
        }
    }
}

fn cmp_level(e: &ComparisonExpr) -> u8 {
    match e {
        ComparisonExpr::Or { .. } => 1,
        ComparisonExpr::And { .. } => 2,
        ComparisonExpr::Comparison(_) | ComparisonExpr::Exists { .. } => 3,
    }
}

impl Display for ComparisonExpr {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        let level = cmp_level(self);
        let (lhs, rhs, word) = match self {
            ComparisonExpr::Comparison(c) => return c.fmt(f),
            ComparisonExpr::Exists { path, negated, .. } => {
                let not = if *negated { "NOT " } else { "" };
                return write!(f, "{not}EXISTS {path}");
            }
            ComparisonExpr::And { lhs, rhs, .. } => (lhs, rhs, "AND"),
            ComparisonExpr::Or { lhs, rhs, .. } => (lhs, rhs, "OR"),
        };
        paren_if(f, cmp_level(lhs) < level, lhs)?;
        write!(f, " {word} ")?;
        paren_if(f, cmp_level(rhs) <= level, rhs)
    }
}

impl Display for Comparison {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{} ", self.path)?;
        if self.negated {
            f.write_str("NOT ")?;
        }
        write!(f, "{} ", self.op.as_str())?;
        match &self.rhs {
            Rhs::Literal(lit) => lit.fmt(f),
            Rhs::Set(items) => {
                f.write_char('(')?;
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    item.fmt(f)?;
                }
                f.write_char(')')
            }
        }
    }
}

impl Display for ObjectPath {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        write!(f, "{}:", self.object_type)?;
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                PathStep::Property(name) => {
                    if i > 0 {
                        f.write_char('.')?;
                    }
                    if is_bare_property(name) {
                        f.write_str(name)?;
                    } else {
                        write_quoted(f, name)?;
                    }
                }
                PathStep::Index(n) => write!(f, "[{n}]")?,
                PathStep::AnyIndex => f.write_str("[*]")?,
            }
        }
        Ok(())
    }
}

impl Display for Literal {
    fn fmt(&self, f: &mut Formatter<'_>) -> fmt::Result {
        match self {
            Literal::String(s) => write_quoted(f, s),
            Literal::Int(n) => write!(f, "{n}"),
            Literal::Float(x) => write_number(f, *x, true),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Timestamp(t) => write!(f, "t'{}'", t.raw),
            Literal::Hex(bytes) => {
                f.write_str("h'")?;
                for b in bytes {
                    write!(f, "{b:02x}")?;
                }
                f.write_char('\'')
            }
            Literal::Binary(bytes) => {
                use base64::Engine as _;
                let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
                write!(f, "b'{encoded}'")
            }
        }
    }
}

/// `'…'` with `\` and `'` escaped, the only escapes the language has.
fn write_quoted(f: &mut Formatter<'_>, s: &str) -> fmt::Result {
    f.write_char('\'')?;
    for c in s.chars() {
        if c == '\\' || c == '\'' {
            f.write_char('\\')?;
        }
        f.write_char(c)?;
    }
    f.write_char('\'')
}

/// A finite float in the grammar's `[0-9]*.[0-9]+` form (never exponent notation, which the
/// language lacks). `Display` for `f64` prints the shortest digits that read back to the
/// same value and never uses an exponent, so only a missing `.0` has to be added. When
/// `force_float` is false a whole number prints as an integer (used for `WITHIN`).
fn write_number(f: &mut Formatter<'_>, x: f64, force_float: bool) -> fmt::Result {
    let s = x.to_string();
    if s.contains('.') || !force_float {
        f.write_str(&s)
    } else {
        write!(f, "{s}.0")
    }
}

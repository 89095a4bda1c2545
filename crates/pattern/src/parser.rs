//! Recursive-descent parser: tokens to [`Pattern`], stopping at the first syntax error.
//!
//! One function per grammar level, loosest first (STIX 2.1 §9; reference grammar
//! `STIXPattern.g4`):
//!
//! ```text
//! pattern      := obs_fby EOF
//! obs_fby      := obs_or  (FOLLOWEDBY obs_or)*
//! obs_or       := obs_and (OR obs_and)*
//! obs_and      := obs_qual (AND obs_qual)*
//! obs_qual     := obs_primary qualifier*
//! obs_primary  := '[' cmp_or ']' | '(' obs_fby ')'
//! cmp_or       := cmp_and (OR cmp_and)*
//! cmp_and      := cmp_primary (AND cmp_primary)*
//! cmp_primary  := '(' cmp_or ')' | EXISTS path | path NOT? op rhs
//! ```
//!
//! Binary operators are left-associative loops, so only parentheses and brackets recurse;
//! their depth is bounded by [`Limits::max_depth`], which keeps the stack bounded for any
//! input.

use crate::Limits;
use crate::ast::*;
use crate::error::{ErrorCode, PatternError};
use crate::lexer::{
    Kw, Lexer, Tok, Token, decode_base64, decode_hex, is_reserved, parse_timestamp,
};

/// The qualifier kinds, for the duplicate-qualifier rule.
#[derive(Clone, Copy, PartialEq, Eq)]
enum QualKind {
    Within,
    Repeats,
    StartStop,
}

impl QualKind {
    fn of(q: &Qualifier) -> QualKind {
        match q {
            Qualifier::Within { .. } => QualKind::Within,
            Qualifier::Repeats { .. } => QualKind::Repeats,
            Qualifier::StartStop { .. } => QualKind::StartStop,
        }
    }

    fn name(self) -> &'static str {
        match self {
            QualKind::Within => "WITHIN",
            QualKind::Repeats => "REPEATS",
            QualKind::StartStop => "START/STOP",
        }
    }
}

/// Parser state: the lexer, one token of look-ahead and the current nesting depth.
pub(crate) struct Parser<'a> {
    text: &'a str,
    lexer: Lexer<'a>,
    tok: Token,
    version: StixVersion,
    limits: &'a Limits,
    depth: usize,
}

type PResult<T> = Result<T, PatternError>;

impl<'a> Parser<'a> {
    /// Parses a whole pattern.
    pub(crate) fn parse(
        text: &'a str,
        version: StixVersion,
        limits: &'a Limits,
    ) -> PResult<Pattern> {
        if text.len() > limits.max_len {
            // Point at the excess, starting on a character boundary.
            let mut cut = limits.max_len;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            return Err(PatternError::new(
                ErrorCode::PatternTooLong,
                Span::new(cut, text.len()),
                format!(
                    "pattern is {} bytes long, more than the limit of {} bytes",
                    text.len(),
                    limits.max_len
                ),
                text,
            ));
        }
        let mut lexer = Lexer::new(text);
        let tok = lexer.next_token()?;
        let mut p = Parser {
            text,
            lexer,
            tok,
            version,
            limits,
            depth: 0,
        };
        if !matches!(p.tok.tok, Tok::LBracket | Tok::LParen) {
            return Err(p.error_here(
                "a pattern must start with '[' (an observation expression) or '('".into(),
            ));
        }
        let root = p.obs_fby()?;
        if p.tok.tok != Tok::Eof {
            return Err(p.expected("AND, OR, FOLLOWEDBY or a qualifier"));
        }
        Ok(Pattern { root, version })
    }

    fn bump(&mut self) -> PResult<Token> {
        let next = self.lexer.next_token()?;
        Ok(std::mem::replace(&mut self.tok, next))
    }

    fn slice(&self, span: Span) -> &'a str {
        &self.text[span.start..span.end]
    }

    fn err(&self, code: ErrorCode, span: Span, msg: impl Into<String>) -> PatternError {
        PatternError::new(code, span, msg, self.text)
    }

    /// "Unexpected token" at the current token, or "unexpected end" at the end of input.
    fn error_here(&self, msg: String) -> PatternError {
        let code = if self.tok.tok == Tok::Eof {
            ErrorCode::UnexpectedEnd
        } else {
            ErrorCode::UnexpectedToken
        };
        self.err(code, self.tok.span, msg)
    }

    fn expected(&self, what: &str) -> PatternError {
        let text = self.slice(self.tok.span);
        let found = match self.tok.tok {
            Tok::Eof => "end of pattern".to_string(),
            // Keywords are upper-case only (STIX 2.1 §9); say so when that is the mistake.
            Tok::Ident if is_reserved(&text.to_ascii_uppercase()) => {
                format!(
                    "'{text}' (keywords are upper-case: {})",
                    text.to_ascii_uppercase()
                )
            }
            _ => format!("'{text}'"),
        };
        self.error_here(format!("expected {what}, found {found}"))
    }

    fn expect(&mut self, tok: Tok) -> PResult<Token> {
        if self.tok.tok == tok {
            self.bump()
        } else {
            Err(self.expected(tok.describe()))
        }
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(self.err(
                ErrorCode::NestingTooDeep,
                self.tok.span,
                format!(
                    "brackets and parentheses nest deeper than the limit of {}",
                    self.limits.max_depth
                ),
            ));
        }
        Ok(())
    }

    fn obs_fby(&mut self) -> PResult<ObservationExpr> {
        let mut lhs = self.obs_or()?;
        while self.tok.tok == Tok::Kw(Kw::FollowedBy) {
            self.bump()?;
            let rhs = self.obs_or()?;
            let span = lhs.span().to(rhs.span());
            lhs = ObservationExpr::FollowedBy {
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                span,
            };
        }
        Ok(lhs)
    }

    fn obs_or(&mut self) -> PResult<ObservationExpr> {
        let mut lhs = self.obs_and()?;
        while self.tok.tok == Tok::Kw(Kw::Or) {
            self.bump()?;
            let rhs = self.obs_and()?;
            let span = lhs.span().to(rhs.span());
            lhs = ObservationExpr::Or {
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                span,
            };
        }
        Ok(lhs)
    }

    fn obs_and(&mut self) -> PResult<ObservationExpr> {
        let mut lhs = self.obs_qual()?;
        while self.tok.tok == Tok::Kw(Kw::And) {
            self.bump()?;
            let rhs = self.obs_qual()?;
            let span = lhs.span().to(rhs.span());
            lhs = ObservationExpr::And {
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                span,
            };
        }
        Ok(lhs)
    }

    /// An observation expression and its postfix qualifiers.
    ///
    /// In 2.1 the same qualifier kind may not appear twice directly on a bracketed
    /// observation, `[…] WITHIN 5 SECONDS WITHIN 6 SECONDS`; after parentheses it may,
    /// `([…]) WITHIN 5 SECONDS WITHIN 6 SECONDS` (cti-pattern-validator PR #71, cti-stix2
    /// issue #214). The 2.0 validator has no such rule.
    fn obs_qual(&mut self) -> PResult<ObservationExpr> {
        let bracketed = self.tok.tok == Tok::LBracket;
        let mut expr = self.obs_primary()?;
        let mut seen: [Option<QualKind>; 3] = [None; 3];
        while let Tok::Kw(Kw::Within | Kw::Repeats | Kw::Start) = self.tok.tok {
            let (qualifier, qualifier_span) = self.qualifier()?;
            let kind = QualKind::of(&qualifier);
            if bracketed && self.version == StixVersion::V21 {
                if seen.contains(&Some(kind)) {
                    return Err(self.err(
                        ErrorCode::DuplicateQualifier,
                        qualifier_span,
                        format!(
                            "duplicate {} qualifier on one observation expression; \
                             put the inner part in parentheses to nest them",
                            kind.name()
                        ),
                    ));
                }
                if let Some(slot) = seen.iter_mut().find(|s| s.is_none()) {
                    *slot = Some(kind);
                }
            }
            let span = expr.span().to(qualifier_span);
            expr = ObservationExpr::Qualified {
                expr: Box::new(expr),
                qualifier,
                qualifier_span,
                span,
            };
        }
        Ok(expr)
    }

    fn obs_primary(&mut self) -> PResult<ObservationExpr> {
        match self.tok.tok {
            Tok::LBracket => {
                self.enter()?;
                let open = self.bump()?;
                let expr = self.cmp_or()?;
                let close = self.expect(Tok::RBracket)?;
                self.depth -= 1;
                Ok(ObservationExpr::Observation {
                    expr,
                    span: open.span.to(close.span),
                })
            }
            Tok::LParen => {
                self.enter()?;
                self.bump()?;
                let expr = self.obs_fby()?;
                self.expect(Tok::RParen)?;
                self.depth -= 1;
                Ok(expr)
            }
            _ => Err(self.expected("'[' or '('")),
        }
    }

    fn qualifier(&mut self) -> PResult<(Qualifier, Span)> {
        let kw = self.bump()?;
        match kw.tok {
            Tok::Kw(Kw::Within) => {
                // WITHIN takes IntPosLiteral | FloatPosLiteral: no minus sign.
                let num = self.tok;
                if !matches!(num.tok, Tok::Int | Tok::Float)
                    || self.slice(num.span).starts_with('-')
                {
                    return Err(self.expected("a positive number of seconds"));
                }
                self.bump()?;
                let seconds: f64 = self.slice(num.span).parse().unwrap_or(f64::INFINITY);
                if !seconds.is_finite() {
                    return Err(self.err(
                        ErrorCode::InvalidNumber,
                        num.span,
                        "number out of range",
                    ));
                }
                let end = self.expect(Tok::Kw(Kw::Seconds))?;
                Ok((Qualifier::Within { seconds }, kw.span.to(end.span)))
            }
            Tok::Kw(Kw::Repeats) => {
                let num = self.tok;
                if num.tok != Tok::Int || self.slice(num.span).starts_with('-') {
                    return Err(self.expected("a positive integer"));
                }
                self.bump()?;
                let times: u32 = self
                    .slice(num.span)
                    .trim_start_matches('+')
                    .parse()
                    .map_err(|_| {
                        self.err(
                            ErrorCode::InvalidQualifierValue,
                            num.span,
                            format!("REPEATS count is larger than {}", u32::MAX),
                        )
                    })?;
                let end = self.expect(Tok::Kw(Kw::Times))?;
                Ok((Qualifier::Repeats { times }, kw.span.to(end.span)))
            }
            _ => {
                let start = self.start_stop_time()?;
                self.expect(Tok::Kw(Kw::Stop))?;
                let end_span = self.tok.span;
                let stop = self.start_stop_time()?;
                Ok((Qualifier::StartStop { start, stop }, kw.span.to(end_span)))
            }
        }
    }

    /// A `START`/`STOP` operand: `t'…'`, or in 2.0 also a plain string holding a timestamp
    /// (STIX 2.0 Part 5 §6.2 uses string literals there).
    fn start_stop_time(&mut self) -> PResult<Timestamp> {
        let tok = self.tok;
        match tok.tok {
            Tok::Timestamp => {
                self.bump()?;
                Ok(self.timestamp(tok.span))
            }
            Tok::Str if self.version == StixVersion::V20 => {
                self.bump()?;
                let raw = unescape(self.slice(tok.span));
                match parse_timestamp(&raw) {
                    Ok(value) => Ok(Timestamp { raw, value }),
                    Err(why) => Err(self.err(
                        ErrorCode::InvalidTimestamp,
                        tok.span,
                        format!("invalid timestamp: {why}"),
                    )),
                }
            }
            _ => Err(self.expected("a timestamp literal t'…'")),
        }
    }

    /// Builds a [`Timestamp`] from a `t'…'` token the lexer has already checked.
    fn timestamp(&self, span: Span) -> Timestamp {
        let raw = &self.text[span.start + 2..span.end - 1];
        Timestamp {
            raw: raw.to_string(),
            // The lexer rejected the token if this failed; the epoch is never observed.
            value: parse_timestamp(raw).unwrap_or(jiff::Timestamp::UNIX_EPOCH),
        }
    }

    fn cmp_or(&mut self) -> PResult<ComparisonExpr> {
        let mut lhs = self.cmp_and()?;
        while self.tok.tok == Tok::Kw(Kw::Or) {
            self.bump()?;
            let rhs = self.cmp_and()?;
            let span = lhs.span().to(rhs.span());
            lhs = ComparisonExpr::Or {
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                span,
            };
        }
        Ok(lhs)
    }

    fn cmp_and(&mut self) -> PResult<ComparisonExpr> {
        let mut lhs = self.cmp_primary()?;
        while self.tok.tok == Tok::Kw(Kw::And) {
            self.bump()?;
            let rhs = self.cmp_primary()?;
            let span = lhs.span().to(rhs.span());
            lhs = ComparisonExpr::And {
                lhs: Box::new(lhs),
                rhs: Box::new(rhs),
                span,
            };
        }
        Ok(lhs)
    }

    fn cmp_primary(&mut self) -> PResult<ComparisonExpr> {
        match self.tok.tok {
            Tok::LParen => {
                self.enter()?;
                self.bump()?;
                let expr = self.cmp_or()?;
                self.expect(Tok::RParen)?;
                self.depth -= 1;
                Ok(expr)
            }
            // `NOT? EXISTS objectPath` (STIX 2.1 §9, "Comparison Operators"; absent in 2.0).
            Tok::Kw(Kw::Exists | Kw::Not) => {
                let first = self.bump()?;
                let negated = first.tok == Tok::Kw(Kw::Not);
                let kw = if negated {
                    if self.tok.tok != Tok::Kw(Kw::Exists) {
                        return Err(self.expected("EXISTS after a leading NOT"));
                    }
                    self.bump()?
                } else {
                    first
                };
                if self.version == StixVersion::V20 {
                    return Err(self.err(
                        ErrorCode::UnsupportedInVersion,
                        kw.span,
                        "EXISTS is not part of STIX 2.0 patterning",
                    ));
                }
                let path = self.object_path()?;
                let span = first.span.to(path.span);
                Ok(ComparisonExpr::Exists {
                    path,
                    negated,
                    span,
                })
            }
            Tok::Ident => self.comparison(),
            _ => Err(self.expected("an object path such as file:name")),
        }
    }

    fn comparison(&mut self) -> PResult<ComparisonExpr> {
        let path = self.object_path()?;
        let mut negated = false;
        if self.tok.tok == Tok::Kw(Kw::Not) {
            self.bump()?;
            negated = true;
        }
        let op_tok = self.tok;
        let op = match op_tok.tok {
            Tok::Eq => Op::Eq,
            Tok::Neq => Op::Neq,
            Tok::Lt => Op::Lt,
            Tok::Le => Op::Le,
            Tok::Gt => Op::Gt,
            Tok::Ge => Op::Ge,
            Tok::Kw(Kw::In) => Op::In,
            Tok::Kw(Kw::Like) => Op::Like,
            Tok::Kw(Kw::Matches) => Op::Matches,
            Tok::Kw(Kw::IsSubset) => Op::IsSubset,
            Tok::Kw(Kw::IsSuperset) => Op::IsSuperset,
            _ => return Err(self.expected("a comparison operator")),
        };
        self.bump()?;
        let (rhs, rhs_span) = match op {
            Op::In => self.set()?,
            Op::Like | Op::Matches | Op::IsSubset | Op::IsSuperset => {
                // These operators take a string literal only (STIX 2.1 §9, "Comparison
                // Operators"); `/…/` regex syntax is not part of the language.
                let tok = self.tok;
                if tok.tok != Tok::Str {
                    return Err(self.expected(&format!("a string literal after {}", op.as_str())));
                }
                self.bump()?;
                (
                    Rhs::Literal(Literal::String(unescape(self.slice(tok.span)))),
                    tok.span,
                )
            }
            Op::Lt | Op::Le | Op::Gt | Op::Ge => {
                if let Tok::Bool(_) = self.tok.tok {
                    return Err(self.err(
                        ErrorCode::LiteralTypeMismatch,
                        self.tok.span,
                        "booleans are not ordered; use = or !=",
                    ));
                }
                let (lit, span) = self.literal()?;
                (Rhs::Literal(lit), span)
            }
            Op::Eq | Op::Neq => {
                let (lit, span) = self.literal()?;
                (Rhs::Literal(lit), span)
            }
        };
        let span = path.span.to(rhs_span);
        Ok(ComparisonExpr::Comparison(Comparison {
            path,
            negated,
            op,
            rhs,
            rhs_span,
            span,
        }))
    }

    /// `( )` or `( lit , lit … )`.
    fn set(&mut self) -> PResult<(Rhs, Span)> {
        let open = self.expect(Tok::LParen)?;
        let mut items = Vec::new();
        if self.tok.tok != Tok::RParen {
            loop {
                items.push(self.literal()?.0);
                if self.tok.tok == Tok::Comma {
                    self.bump()?;
                } else {
                    break;
                }
            }
        }
        let close = self.expect(Tok::RParen)?;
        Ok((Rhs::Set(items), open.span.to(close.span)))
    }

    /// A primitive literal.
    fn literal(&mut self) -> PResult<(Literal, Span)> {
        let tok = self.tok;
        let text = self.slice(tok.span);
        let lit = match tok.tok {
            Tok::Str => Literal::String(unescape(text)),
            Tok::Int => match text.parse::<i64>() {
                Ok(v) => Literal::Int(v),
                Err(_) => {
                    return Err(self.err(
                        ErrorCode::IntegerOutOfRange,
                        tok.span,
                        "integer does not fit in 64 bits",
                    ));
                }
            },
            Tok::Float => match text.parse::<f64>() {
                Ok(v) if v.is_finite() => Literal::Float(v),
                _ => {
                    return Err(self.err(ErrorCode::InvalidNumber, tok.span, "float out of range"));
                }
            },
            Tok::Bool(b) => Literal::Bool(b),
            Tok::Timestamp => Literal::Timestamp(self.timestamp(tok.span)),
            Tok::Hex => Literal::Hex(decode_hex(&text[2..text.len() - 1])),
            Tok::Binary => {
                Literal::Binary(decode_base64(&text[2..text.len() - 1]).unwrap_or_default())
            }
            _ => return Err(self.expected("a literal")),
        };
        self.bump()?;
        Ok((lit, tok.span))
    }

    /// `type ':' step ('.' step | '[' index ']')*`.
    fn object_path(&mut self) -> PResult<ObjectPath> {
        let ty = self.expect(Tok::Ident)?;
        self.expect(Tok::Colon).map_err(|e| {
            if self.tok.tok == Tok::Dot {
                self.err(
                    ErrorCode::UnexpectedToken,
                    self.tok.span,
                    "expected ':' between the object type and the property (type:property)",
                )
            } else {
                e
            }
        })?;
        let mut steps = Vec::with_capacity(2);
        let mut step_spans = Vec::with_capacity(2);
        let (first, first_span) = self.property()?;
        steps.push(PathStep::Property(first));
        step_spans.push(first_span);
        loop {
            match self.tok.tok {
                Tok::Dot => {
                    self.bump()?;
                    let (name, span) = self.property()?;
                    steps.push(PathStep::Property(name));
                    step_spans.push(span);
                }
                Tok::LBracket => {
                    let open = self.bump()?;
                    let idx = self.tok;
                    let step = match idx.tok {
                        Tok::Star => PathStep::AnyIndex,
                        Tok::Int => match self
                            .slice(idx.span)
                            .trim_start_matches('+')
                            .parse::<usize>()
                        {
                            Ok(n) => PathStep::Index(n),
                            Err(_) => {
                                return Err(self.err(
                                    ErrorCode::InvalidIndex,
                                    idx.span,
                                    // The grammar admits `[-1]`, but list steps count
                                    // from 0 (STIX 2.1 §9, "Object Path Syntax") and the
                                    // spec gives no meaning to negative ones; DEVIATIONS D9.
                                    "list index must be a non-negative integer that fits in memory",
                                ));
                            }
                        },
                        _ => return Err(self.expected("a list index or '*'")),
                    };
                    self.bump()?;
                    let close = self.expect(Tok::RBracket)?;
                    steps.push(step);
                    step_spans.push(open.span.to(close.span));
                }
                _ => break,
            }
        }
        let end = *step_spans.last().unwrap_or(&ty.span);
        Ok(ObjectPath {
            object_type: self.slice(ty.span).to_string(),
            steps,
            step_spans,
            span: ty.span.to(end),
        })
    }

    /// A property name: an identifier without `-`, or a quoted string.
    fn property(&mut self) -> PResult<(String, Span)> {
        let tok = self.tok;
        match tok.tok {
            Tok::Ident => {
                let name = self.slice(tok.span);
                if name.contains('-') {
                    return Err(self.err(
                        ErrorCode::InvalidPropertyName,
                        tok.span,
                        format!("property names containing '-' must be quoted: '{name}'"),
                    ));
                }
                self.bump()?;
                Ok((name.to_string(), tok.span))
            }
            Tok::Str => {
                self.bump()?;
                Ok((unescape(self.slice(tok.span)), tok.span))
            }
            _ => Err(self.expected("a property name")),
        }
    }
}

/// The content of a `'…'` token with `\\` and `\'` decoded; the lexer rejected any other
/// escape.
fn unescape(quoted: &str) -> String {
    let inner = &quoted[1..quoted.len() - 1];
    if !inner.contains('\\') {
        return inner.to_string();
    }
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `name` can be printed as a bare property step.
pub(crate) fn is_bare_property(name: &str) -> bool {
    let mut bytes = name.bytes();
    matches!(bytes.next(), Some(b'a'..=b'z' | b'A'..=b'Z' | b'_'))
        && bytes.all(|c| c.is_ascii_alphanumeric() || c == b'_')
        && !is_reserved(name)
}

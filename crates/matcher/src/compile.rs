//! From the parser's tree to the evaluator's form.
//!
//! Compiling does, once per pattern, everything that does not depend on the data: constants
//! are converted, regexes built, `IN` sets checked for one data type, CIDR constants parsed,
//! qualifier values checked, and identical operands of an observation-level `AND` folded into
//! one `REPEATS` (STIX 2.1 §9.5.1 defines `a REPEATS x TIMES` as "a" followed by "AND a"
//! x−1 times, so the two forms are the same pattern, and the folded form lets the search
//! skip permutations of interchangeable operands). The errors raised here are those the
//! specification makes of a pattern that parses: a mixed-type set, a non-positive `WITHIN`
//! or `REPEATS`, a non-string `LIKE`/`MATCHES`/`ISSUBSET`/`ISSUPERSET` argument, a regex
//! or CIDR that is not one.

use jiff::Timestamp;
use pattern::ast::{
    self, Comparison, ComparisonExpr, Literal, ObservationExpr, Op, Qualifier, Rhs, Span,
};

use crate::error::Error;
use crate::net::Net;
use crate::path::Path;
use crate::text::{Like, Matches};
use crate::value::{Const, Num};

/// The test a comparison applies to each value its path reaches.
#[derive(Debug, Clone)]
pub(crate) enum Test {
    /// `=`.
    Eq(Const),
    /// `!=`.
    Neq(Const),
    /// `<`, `<=`, `>`, `>=`.
    Order(Op, Const),
    /// `IN (…)`.
    In(Vec<Const>),
    /// `LIKE`.
    Like(Like),
    /// `MATCHES`.
    Matches(Matches),
    /// `ISSUBSET`.
    Subset(Net),
    /// `ISSUPERSET`.
    Superset(Net),
}

/// One compiled comparison.
#[derive(Debug, Clone)]
pub(crate) struct Cmp {
    pub path: Path,
    /// The object path as written in the pattern (for reporting what matched).
    pub path_span: Span,
    pub test: Test,
    pub negated: bool,
}

/// A compiled comparison expression (the inside of `[ … ]`).
#[derive(Debug, Clone)]
pub(crate) enum CExpr {
    And(Box<CExpr>, Box<CExpr>),
    Or(Box<CExpr>, Box<CExpr>),
    Cmp(Box<Cmp>),
    /// `[NOT] EXISTS path`: the flag is `NOT`.
    Exists(Path, bool),
}

/// One observation expression `[ … ]` of the pattern.
#[derive(Debug, Clone)]
pub(crate) struct Leaf {
    pub expr: CExpr,
    /// From `[` to `]`.
    pub span: Span,
    /// The SCO types its comparisons start from; other SCOs cannot satisfy it.
    pub types: Vec<String>,
}

/// A node of the observation-expression tree.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// Dense index, for per-search side tables.
    pub id: usize,
    pub kind: Kind,
}

#[derive(Debug, Clone)]
pub(crate) enum Kind {
    Leaf(usize),
    And(Vec<Node>),
    Or(Box<Node>, Box<Node>),
    FollowedBy(Box<Node>, Box<Node>),
    /// `WITHIN`, as a window length in nanoseconds.
    Within(Box<Node>, i128),
    StartStop(Box<Node>, Timestamp, Timestamp),
    Repeats(Box<Node>, u64),
}

/// A compiled pattern's parts.
#[derive(Debug, Clone)]
pub(crate) struct Compiled {
    pub leaves: Vec<Leaf>,
    pub root: Node,
    pub nodes: usize,
}

pub(crate) fn compile(p: &ast::Pattern) -> Result<Compiled, Error> {
    let mut c = Compiler {
        leaves: Vec::new(),
        nodes: 0,
    };
    let root = c.obs(&p.root)?;
    Ok(Compiled {
        leaves: c.leaves,
        root,
        nodes: c.nodes,
    })
}

struct Compiler {
    leaves: Vec<Leaf>,
    nodes: usize,
}

impl Compiler {
    fn node(&mut self, kind: Kind) -> Node {
        self.nodes += 1;
        Node {
            id: self.nodes - 1,
            kind,
        }
    }

    fn obs(&mut self, e: &ObservationExpr) -> Result<Node, Error> {
        Ok(match e {
            ObservationExpr::Observation { expr, span } => {
                let mut types = Vec::new();
                let expr = self.cexpr(expr, &mut types)?;
                self.leaves.push(Leaf {
                    expr,
                    span: *span,
                    types,
                });
                let id = self.leaves.len() - 1;
                self.node(Kind::Leaf(id))
            }
            ObservationExpr::And { .. } => {
                let mut operands = Vec::new();
                flatten_and(e, &mut operands);
                // Group structurally identical operands (first occurrence keeps its place).
                let mut groups: Vec<(&ObservationExpr, u64)> = Vec::new();
                for op in operands {
                    match groups.iter_mut().find(|(g, _)| same_obs(g, op)) {
                        Some(g) => g.1 += 1,
                        None => groups.push((op, 1)),
                    }
                }
                let mut kids = Vec::with_capacity(groups.len());
                for (op, n) in groups {
                    let child = self.obs(op)?;
                    kids.push(if n > 1 {
                        self.node(Kind::Repeats(Box::new(child), n))
                    } else {
                        child
                    });
                }
                if kids.len() == 1 {
                    kids.pop().unwrap_or_else(|| unreachable!())
                } else {
                    self.node(Kind::And(kids))
                }
            }
            ObservationExpr::Or { lhs, rhs, .. } => {
                let (l, r) = (self.obs(lhs)?, self.obs(rhs)?);
                self.node(Kind::Or(Box::new(l), Box::new(r)))
            }
            ObservationExpr::FollowedBy { lhs, rhs, .. } => {
                let (l, r) = (self.obs(lhs)?, self.obs(rhs)?);
                self.node(Kind::FollowedBy(Box::new(l), Box::new(r)))
            }
            ObservationExpr::Qualified {
                expr,
                qualifier,
                qualifier_span,
                ..
            } => {
                let child = Box::new(self.obs(expr)?);
                let kind = match qualifier {
                    Qualifier::Within { seconds } => {
                        // §9.5.1: "x MUST be a positive floating-point or integer value".
                        if !(seconds.is_finite() && *seconds > 0.0) {
                            return Err(Error::pattern(
                                *qualifier_span,
                                format!("WITHIN needs a positive number of seconds, not {seconds}"),
                            ));
                        }
                        // Rounded to whole nanoseconds, the timestamps' own resolution;
                        // `as` saturates for absurdly long windows.
                        Kind::Within(child, (seconds * 1e9).round() as i128)
                    }
                    Qualifier::Repeats { times } => {
                        // §9.5.1: "x MUST be a positive integer".
                        if *times == 0 {
                            return Err(Error::pattern(
                                *qualifier_span,
                                "REPEATS needs a positive count, not 0",
                            ));
                        }
                        Kind::Repeats(child, u64::from(*times))
                    }
                    Qualifier::StartStop { start, stop } => {
                        Kind::StartStop(child, start.value, stop.value)
                    }
                };
                self.node(kind)
            }
        })
    }

    fn cexpr(&mut self, e: &ComparisonExpr, types: &mut Vec<String>) -> Result<CExpr, Error> {
        Ok(match e {
            ComparisonExpr::And { lhs, rhs, .. } => CExpr::And(
                Box::new(self.cexpr(lhs, types)?),
                Box::new(self.cexpr(rhs, types)?),
            ),
            ComparisonExpr::Or { lhs, rhs, .. } => CExpr::Or(
                Box::new(self.cexpr(lhs, types)?),
                Box::new(self.cexpr(rhs, types)?),
            ),
            ComparisonExpr::Exists { path, negated, .. } => {
                note_type(types, &path.object_type);
                CExpr::Exists(Path::new(path), *negated)
            }
            ComparisonExpr::Comparison(c) => {
                note_type(types, &c.path.object_type);
                let path = Path::new(&c.path);
                let test = test(c, path.binary())?;
                CExpr::Cmp(Box::new(Cmp {
                    path,
                    path_span: c.path.span,
                    test,
                    negated: c.negated,
                }))
            }
        })
    }
}

fn note_type(types: &mut Vec<String>, t: &str) {
    if !types.iter().any(|x| x == t) {
        types.push(t.to_owned());
    }
}

fn flatten_and<'a>(e: &'a ObservationExpr, out: &mut Vec<&'a ObservationExpr>) {
    match e {
        ObservationExpr::And { lhs, rhs, .. } => {
            flatten_and(lhs, out);
            flatten_and(rhs, out);
        }
        other => out.push(other),
    }
}

fn konst(l: &Literal) -> Const {
    match l {
        Literal::String(s) => Const::Str(s.clone()),
        Literal::Int(i) => Const::Num(Num::Int(i128::from(*i))),
        Literal::Float(f) => Const::Num(Num::Float(*f)),
        Literal::Bool(b) => Const::Bool(*b),
        Literal::Timestamp(t) => Const::Time(t.value),
        Literal::Hex(b) | Literal::Binary(b) => Const::Bytes(b.clone()),
    }
}

/// The test of `c`, whose path reaches binary values when `binary`.
fn test(c: &Comparison, binary: bool) -> Result<Test, Error> {
    let span = c.rhs_span;
    let single = || match &c.rhs {
        Rhs::Literal(l) => Ok(l),
        Rhs::Set(_) => Err(Error::pattern(
            span,
            format!("{} takes one value, not a set", c.op.as_str()),
        )),
    };
    let string = || match single()? {
        Literal::String(s) => Ok(s.as_str()),
        other => Err(Error::pattern(
            span,
            format!(
                "{} takes a string, not a {} literal",
                c.op.as_str(),
                other.kind()
            ),
        )),
    };
    Ok(match c.op {
        Op::Eq => Test::Eq(konst(single()?)),
        Op::Neq => Test::Neq(konst(single()?)),
        Op::Lt | Op::Le | Op::Gt | Op::Ge => Test::Order(c.op, konst(single()?)),
        Op::In => {
            let Rhs::Set(items) = &c.rhs else {
                return Err(Error::pattern(span, "IN takes a parenthesised set"));
            };
            let set: Vec<Const> = items.iter().map(konst).collect();
            // §9.6.1: "The set values in b MUST be constants of homogeneous data type".
            if let Some(first) = set.first()
                && let Some(odd) = set.iter().find(|k| k.set_kind() != first.set_kind())
            {
                return Err(Error::pattern(
                    span,
                    format!(
                        "IN set mixes {} and {} values; STIX 2.1 §9.6.1 requires one data type",
                        first.set_kind(),
                        odd.set_kind()
                    ),
                ));
            }
            Test::In(set)
        }
        Op::Like => Test::Like(Like::new(string()?).map_err(|m| Error::pattern(span, m))?),
        Op::Matches => {
            Test::Matches(Matches::new(string()?, binary).map_err(|m| Error::pattern(span, m))?)
        }
        Op::IsSubset | Op::IsSuperset => {
            let s = string()?;
            // §9.6.1: "b MUST be a valid string representation of the corresponding Object
            // type", i.e. an IPv4 or IPv6 address or CIDR.
            let net = Net::parse(s).ok_or_else(|| {
                Error::pattern(
                    span,
                    format!("{s:?} is not an IPv4 or IPv6 address or CIDR network"),
                )
            })?;
            if c.op == Op::IsSubset {
                Test::Subset(net)
            } else {
                Test::Superset(net)
            }
        }
    })
}

/// Structural equality of observation expressions, ignoring spans.
fn same_obs(a: &ObservationExpr, b: &ObservationExpr) -> bool {
    use ObservationExpr as O;
    match (a, b) {
        (O::Observation { expr: x, .. }, O::Observation { expr: y, .. }) => same_cmp(x, y),
        (
            O::And {
                lhs: a1, rhs: a2, ..
            },
            O::And {
                lhs: b1, rhs: b2, ..
            },
        )
        | (
            O::Or {
                lhs: a1, rhs: a2, ..
            },
            O::Or {
                lhs: b1, rhs: b2, ..
            },
        )
        | (
            O::FollowedBy {
                lhs: a1, rhs: a2, ..
            },
            O::FollowedBy {
                lhs: b1, rhs: b2, ..
            },
        ) => same_obs(a1, b1) && same_obs(a2, b2),
        (
            O::Qualified {
                expr: x,
                qualifier: qx,
                ..
            },
            O::Qualified {
                expr: y,
                qualifier: qy,
                ..
            },
        ) => qx == qy && same_obs(x, y),
        _ => false,
    }
}

fn same_cmp(a: &ComparisonExpr, b: &ComparisonExpr) -> bool {
    use ComparisonExpr as C;
    match (a, b) {
        (
            C::And {
                lhs: a1, rhs: a2, ..
            },
            C::And {
                lhs: b1, rhs: b2, ..
            },
        )
        | (
            C::Or {
                lhs: a1, rhs: a2, ..
            },
            C::Or {
                lhs: b1, rhs: b2, ..
            },
        ) => same_cmp(a1, b1) && same_cmp(a2, b2),
        (
            C::Exists {
                path: x,
                negated: nx,
                ..
            },
            C::Exists {
                path: y,
                negated: ny,
                ..
            },
        ) => nx == ny && x.object_type == y.object_type && x.steps == y.steps,
        (C::Comparison(x), C::Comparison(y)) => {
            x.path.object_type == y.path.object_type
                && x.path.steps == y.path.steps
                && x.negated == y.negated
                && x.op == y.op
                && x.rhs == y.rhs
        }
        _ => false,
    }
}

//! Evaluating one observation expression `[ … ]` against one observation.
//!
//! STIX 2.1 §9.5: "all Comparison Expressions contained within the Observation Expression
//! MUST start matching against the same SCO in the Observation". So the comparison
//! expression is evaluated once per candidate root SCO, and the observation satisfies the
//! observation expression when some root satisfies it. A comparison whose path starts from
//! another SCO type is false for that root, which is why `AND` across two types never holds
//! (§9.5: "All operands of AND in an Observation Expression MUST be satisfiable with the same
//! object").
//!
//! A comparison is true when some value its path reaches passes the test (§9.7.2). `NOT`
//! negates the test on each reached value; a path that reaches nothing makes the comparison
//! false "regardless of the operators included in the expression" (§9.6).

use std::cmp::Ordering;

use pattern::ast::{Op, Span};
use serde_json::Value;

use crate::compile::{CExpr, Cmp, Leaf, Test};
use crate::error::Error;
use crate::net::Net;
use crate::observation::{Observation, Sco};
use crate::value::{self, BinKind, Val};

/// The root SCOs (indices into the observation's objects) that satisfy `leaf`.
pub(crate) fn roots(leaf: &Leaf, obs: &Observation) -> Result<Vec<u32>, Error> {
    let mut out = Vec::new();
    for (i, sco) in obs.objects.iter().enumerate() {
        let t = sco.object_type();
        if leaf.types.iter().any(|x| x == t) && expr(&leaf.expr, obs, sco)? {
            out.push(u32::try_from(i).unwrap_or(u32::MAX));
        }
    }
    Ok(out)
}

/// The values of `sco` that satisfy a comparison of `leaf`, with the span of that
/// comparison's object path: what an alert shows as "matched". Each comparison is judged by
/// the same test as in evaluation ([`apply`]), so nothing is listed that did not count.
pub(crate) fn satisfying_values<'a>(
    leaf: &Leaf,
    obs: &'a Observation,
    sco: &'a Sco,
) -> Result<Vec<(Span, &'a Value)>, Error> {
    fn walk<'a>(
        e: &CExpr,
        obs: &'a Observation,
        sco: &'a Sco,
        out: &mut Vec<(Span, &'a Value)>,
    ) -> Result<(), Error> {
        match e {
            CExpr::And(a, b) | CExpr::Or(a, b) => {
                walk(a, obs, sco, out)?;
                walk(b, obs, sco, out)
            }
            CExpr::Exists(..) => Ok(()),
            CExpr::Cmp(c) if c.path.object_type == sco.object_type() => {
                // Returning false from the predicate keeps the walk going over every value.
                c.path.any(obs, sco, &mut |v, bin| {
                    if apply(c, v, bin)? {
                        out.push((c.path_span, v));
                    }
                    Ok(false)
                })?;
                Ok(())
            }
            CExpr::Cmp(_) => Ok(()),
        }
    }
    let mut out = Vec::new();
    walk(&leaf.expr, obs, sco, &mut out)?;
    Ok(out)
}

fn expr(e: &CExpr, obs: &Observation, sco: &Sco) -> Result<bool, Error> {
    Ok(match e {
        // Both operands are always evaluated (no short-circuit), so whether invalid input is
        // reported never depends on the order of the comparisons: every comparison meets every
        // root SCO of its type, as in the reference matcher.
        CExpr::And(a, b) => expr(a, obs, sco)? & expr(b, obs, sco)?,
        CExpr::Or(a, b) => expr(a, obs, sco)? | expr(b, obs, sco)?,
        // §9.6.1 EXISTS: the property "MUST exist on the Object"; `NOT EXISTS` holds on an
        // SCO of the path's type that lacks it.
        CExpr::Exists(path, negated) => {
            path.object_type == sco.object_type()
                && path.any(obs, sco, &mut |_, _| Ok(true))? != *negated
        }
        CExpr::Cmp(c) => {
            c.path.object_type == sco.object_type()
                && c.path.any(obs, sco, &mut |v, bin| apply(c, v, bin))?
        }
    })
}

/// One comparison on one reached value, `NOT` included.
fn apply(c: &Cmp, v: &Value, bin: Option<BinKind>) -> Result<bool, String> {
    let val = value::view(v, bin)?;
    let r = match &c.test {
        Test::Eq(k) => value::equals(&val, k)?.unwrap_or(false),
        // §9.6.1: incompatible types make every operator false "the sole exception is the
        // != operator in which case the result is true".
        Test::Neq(k) => value::equals(&val, k)?.is_none_or(|eq| !eq),
        Test::Order(op, k) => value::compare(&val, k)?.is_some_and(|o| holds(*op, o)),
        Test::In(set) => {
            let mut found = false;
            for k in set {
                if value::equals(&val, k)? == Some(true) {
                    found = true;
                    break;
                }
            }
            found
        }
        Test::Like(l) => match &val {
            Val::Str(s) => l.is_match_str(s),
            Val::Bytes(b) => l.is_match_bytes(b).unwrap_or(false),
            _ => false,
        },
        Test::Matches(m) => match &val {
            Val::Str(s) => m.is_match_str(s),
            Val::Bytes(b) => m.is_match_bytes(b).unwrap_or(false),
            _ => false,
        },
        Test::Subset(net) => match &val {
            Val::Str(s) => Net::parse(s).is_some_and(|x| x.is_subset_of(*net)),
            _ => false,
        },
        Test::Superset(net) => match &val {
            Val::Str(s) => Net::parse(s).is_some_and(|x| net.is_subset_of(x)),
            _ => false,
        },
    };
    Ok(r != c.negated)
}

fn holds(op: Op, o: Ordering) -> bool {
    match op {
        Op::Lt => o == Ordering::Less,
        Op::Le => o != Ordering::Greater,
        Op::Gt => o == Ordering::Greater,
        Op::Ge => o != Ordering::Less,
        _ => false,
    }
}

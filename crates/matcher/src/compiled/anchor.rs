//! Choosing, per indicator, the index probes ("anchors") that must fire for it to match.
//!
//! An anchor set of a comparison expression is a list of probes such that the expression can
//! only be true for a root SCO if at least one probe fires on a value of that SCO. It is
//! derived from the compiled pattern the evaluator runs (so the observation expressions are
//! numbered as the evaluator numbers them):
//!
//! * `=`, `NOT !=` (the same test, §9.6.1), `IN` (one probe per member), `LIKE` and `MATCHES`
//!   (one probe per required literal) and `ISSUBSET` give probes; a constant that no value
//!   can equal gives the empty set (never true);
//! * `AND`: either operand's set suffices; the cheaper one is kept;
//! * `OR`: both operands need a set; the union;
//! * `!=`, ordering, `ISSUPERSET`, `EXISTS` and every other `NOT` have none.
//!
//! The cost model prefers equality (one table hit names few indicators) over CIDRs (shorter
//! prefixes hold more addresses) over literals (shorter literals occur in more values).

use super::index::{self, Probe};
use crate::compile::{CExpr, Cmp, Kind, Node, Test};
use crate::path::Path;

/// Probes with the path they are registered on.
pub(crate) type Anchors<'c> = Vec<(&'c Path, Probe)>;

fn cost(p: &Probe) -> f64 {
    match p {
        Probe::Eq(_) => 1.0,
        Probe::Cidr(v6, prefix, _) => {
            let bits = if *v6 { 128.0 } else { 32.0 };
            1.0 + (bits - f64::from(*prefix)) / 4.0
        }
        Probe::Text(l) => 0.5 + 64.0 / (l.len() as f64).powi(2),
    }
}

fn total(a: &Anchors<'_>) -> f64 {
    a.iter().map(|(_, p)| cost(p)).sum()
}

/// The anchor set of a comparison expression, or `None` when it can be true with no probe
/// firing.
pub(crate) fn of_expr(e: &CExpr) -> Option<Anchors<'_>> {
    match e {
        CExpr::And(a, b) => match (of_expr(a), of_expr(b)) {
            (Some(x), Some(y)) => Some(if total(&y) < total(&x) { y } else { x }),
            (x, y) => x.or(y),
        },
        CExpr::Or(a, b) => {
            let mut x = of_expr(a)?;
            x.extend(of_expr(b)?);
            Some(x)
        }
        CExpr::Exists(..) => None,
        CExpr::Cmp(c) => of_cmp(c),
    }
}

fn of_cmp(c: &Cmp) -> Option<Anchors<'_>> {
    let binary = index::binary(&c.path);
    let mode = index::mode(&c.path);
    let on = |p: Probe| (&c.path, p);
    match (&c.test, c.negated) {
        (Test::Eq(k), false) | (Test::Neq(k), true) => Some(
            super::key::of_const(k, binary, mode)
                .map(|k| on(Probe::Eq(k)))
                .into_iter()
                .collect(),
        ),
        (Test::In(set), false) => Some(
            set.iter()
                .filter_map(|k| super::key::of_const(k, binary, mode))
                .map(|k| on(Probe::Eq(k)))
                .collect(),
        ),
        (Test::Like(l), false) => {
            let lits = super::literal::required(l.source())?;
            Some(lits.into_iter().map(|l| on(Probe::Text(l))).collect())
        }
        (Test::Matches(m), false) => {
            let (text, bytes) = m.sources();
            let source = if binary {
                // No binary form: the regex holds code points octets cannot, and never
                // matches a binary value (§9.6.4).
                match bytes {
                    Some(b) => b,
                    None => return Some(Vec::new()),
                }
            } else {
                text
            };
            let lits = super::literal::required(source)?;
            Some(lits.into_iter().map(|l| on(Probe::Text(l))).collect())
        }
        (Test::Subset(net), false) => {
            if binary {
                // Binary values are octets, never addresses.
                return Some(Vec::new());
            }
            let (v6, addr, prefix) = net.parts();
            Some(vec![on(Probe::Cidr(
                v6,
                prefix,
                index::masked(v6, addr, prefix),
            ))])
        }
        _ => None,
    }
}

/// Whether a binding of `n` can need observations of more than one event (so matching it
/// needs state across the stream).
pub(crate) fn needs_state(n: &Node) -> bool {
    match &n.kind {
        Kind::Leaf(_) => false,
        Kind::Or(a, b) => needs_state(a) || needs_state(b),
        Kind::And(kids) => kids.len() > 1 || kids.iter().any(needs_state),
        Kind::FollowedBy(..) => true,
        Kind::Within(c, _) | Kind::StartStop(c, _, _) => needs_state(c),
        Kind::Repeats(c, times) => *times > 1 || needs_state(c),
    }
}

/// How long (nanoseconds) an observation can still combine with later ones in a binding of
/// `n`, when the pattern bounds it: a `WITHIN` over the whole tree (through `OR`s). A
/// subtree without state needs no retention at all.
pub(crate) fn horizon(n: &Node) -> Option<i128> {
    if !needs_state(n) {
        return Some(0);
    }
    match &n.kind {
        Kind::Within(c, w) => Some(horizon(c).map_or(*w, |h| h.min(*w))),
        Kind::Or(a, b) => Some(horizon(a)?.max(horizon(b)?)),
        Kind::StartStop(c, _, _) => horizon(c),
        _ => None,
    }
}

//! The search for a binding: which observations satisfy which observation expressions.
//!
//! A pattern matches when its observation expressions can be bound to observations such that
//! every operator and qualifier holds and no observation is bound twice (STIX 2.1 §9.5.2:
//! AND and FOLLOWEDBY "MUST evaluate to true on different Observations"). An observed-data
//! object with `number_observed: n` stands for n observations (§9.1), all with its window.
//!
//! # Semantics of time
//!
//! §9.1: an observed-data object's observations occur between `first_observed` and
//! `last_observed`, "it is not defined when". A constraint holds if *some* choice of instants
//! inside the windows satisfies it, checked per operator:
//!
//! * `a FOLLOWEDBY b` (§9.5.2, b's timestamp ≥ a's): max first_observed over a's
//!   observations ≤ min last_observed over b's;
//! * `WITHIN x SECONDS` (§9.5.1: the latest timestamp "MUST NOT be equal to or later than"
//!   the earliest plus x): max first_observed − min last_observed < x, strictly;
//! * `START s STOP e` (§9.5.1, observation time ≥ s and < e): each window meets `[s, e)`, i.e.
//!   first_observed < e and last_observed ≥ s.
//!
//! # The bound
//!
//! Finding a binding is a constraint search; in the worst case (several AND-ed or REPEATed
//! expressions, many candidate observations and time constraints that rarely hold) it is
//! exponential. entente keeps it bounded and predictable:
//!
//! * identical AND operands are one REPEATS group (see `compile`), and the copies of a
//!   REPEATS are chosen in a canonical order (combinations, not permutations);
//! * an observation with `number_observed: n` is one candidate used up to n times, never n
//!   copies;
//! * candidates are visited in time order, so WITHIN and START/STOP stop a scan early, and
//!   a REPEATS of one expression stops as soon as fewer compatible observations remain than
//!   copies still needed;
//! * AND operands are tried most selective first;
//! * a pattern without OR is first solved as a b-matching with its time constraints dropped
//!   (see `flow`): no solution means no match, and without time constraints the solution is
//!   the binding, so the search only runs where time constraints or OR need it;
//! * every tentative assignment of an observation to an expression counts one step; past
//!   [`crate::EvalOptions::max_steps`] (default 1,000,000, tens of milliseconds) the search
//!   stops with [`Error::SearchLimit`] instead of running on, and a pattern whose smallest
//!   binding needs more than [`crate::EvalOptions::max_binding_size`] observations (default
//!   512, which also bounds the recursion depth) is refused with [`Error::BindingTooLarge`].

use jiff::Timestamp;

use crate::compile::{Kind, Node};
use crate::error::Error;
use crate::observation::Observation;

/// A candidate: an observation satisfying a leaf, with the root SCOs that did.
#[derive(Debug, Clone)]
pub(crate) struct Cand {
    pub obs: u32,
    pub roots: Vec<u32>,
}

/// One assignment of the current partial binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pick {
    pub leaf: u32,
    pub obs: u32,
    pub pos: u32,
}

type R = Result<bool, Error>;

enum Cons {
    Within {
        nanos: i128,
        agg: Option<(Timestamp, Timestamp)>,
    },
    Window {
        start: Timestamp,
        stop: Timestamp,
    },
    After(Timestamp),
}

pub(crate) struct Search<'a> {
    obs: &'a [Observation<'a>],
    cands: &'a [Vec<Cand>],
    feasible: Vec<bool>,
    estimate: Vec<u64>,
    used: Vec<u64>,
    chosen: Vec<Pick>,
    cons: Vec<Cons>,
    undo: Vec<(usize, Option<(Timestamp, Timestamp)>)>,
    steps: u64,
    max_steps: u64,
    found: Option<Vec<Pick>>,
}

fn span_nanos(later: Timestamp, earlier: Timestamp) -> i128 {
    later.as_nanosecond() - earlier.as_nanosecond()
}

impl<'a> Search<'a> {
    pub fn new(
        obs: &'a [Observation<'a>],
        cands: &'a [Vec<Cand>],
        nodes: usize,
        max_steps: u64,
    ) -> Self {
        Search {
            obs,
            cands,
            feasible: vec![false; nodes],
            estimate: vec![0; nodes],
            used: vec![0; obs.len()],
            chosen: Vec::new(),
            cons: Vec::new(),
            undo: Vec::new(),
            steps: 0,
            max_steps,
            found: None,
        }
    }

    /// Fills the static tables; returns (feasible, smallest binding size) of `n`.
    pub fn prepare(&mut self, n: &Node) -> (bool, u64) {
        let (ok, size, est) = match &n.kind {
            Kind::Leaf(l) => {
                let c = self.cands[*l].len() as u64;
                (c > 0, 1, c)
            }
            Kind::And(kids) => {
                let mut ok = true;
                let mut size = 0u64;
                let mut est = u64::MAX;
                for k in kids {
                    let (o, s) = self.prepare(k);
                    ok &= o;
                    size = size.saturating_add(s);
                    est = est.min(self.estimate[k.id]);
                }
                (ok, size, est)
            }
            Kind::FollowedBy(a, b) => {
                let (oa, sa) = self.prepare(a);
                let (ob, sb) = self.prepare(b);
                let est = self.estimate[a.id].min(self.estimate[b.id]);
                (oa && ob, sa.saturating_add(sb), est)
            }
            Kind::Or(a, b) => {
                let (oa, sa) = self.prepare(a);
                let (ob, sb) = self.prepare(b);
                let size = match (oa, ob) {
                    (true, true) => sa.min(sb),
                    (true, false) => sa,
                    (false, true) => sb,
                    (false, false) => sa.min(sb),
                };
                let est = self.estimate[a.id].saturating_add(self.estimate[b.id]);
                (oa || ob, size, est)
            }
            Kind::Within(c, _) | Kind::StartStop(c, _, _) => {
                let (o, s) = self.prepare(c);
                (o, s, self.estimate[c.id])
            }
            Kind::Repeats(c, times) => {
                let (o, s) = self.prepare(c);
                (o, s.saturating_mul(*times), self.estimate[c.id])
            }
        };
        self.feasible[n.id] = ok;
        self.estimate[n.id] = est;
        (ok, size)
    }

    /// Runs the search from `root`; the binding found, if any.
    pub fn run(mut self, root: &Node) -> Result<Option<Vec<Pick>>, Error> {
        self.solve(root, &mut |s| {
            s.found = Some(s.chosen.clone());
            Ok(true)
        })?;
        Ok(self.found)
    }

    fn solve(&mut self, n: &Node, k: &mut dyn FnMut(&mut Self) -> R) -> R {
        match &n.kind {
            Kind::Leaf(l) => self.leaf(*l, 0, k),
            Kind::And(kids) => {
                let mut order: Vec<&Node> = kids.iter().collect();
                order.sort_by_key(|c| self.estimate[c.id]);
                self.all(&order, k)
            }
            Kind::Or(a, b) => {
                // §9.5: "if the first Observation Expression evaluates to true, then
                // evaluation MUST terminate and return true".
                if self.feasible[a.id] && self.solve(a, k)? {
                    return Ok(true);
                }
                Ok(self.feasible[b.id] && self.solve(b, k)?)
            }
            Kind::FollowedBy(a, b) => {
                let start = self.chosen.len();
                self.solve(a, &mut |s| {
                    let latest_first = s.chosen[start..]
                        .iter()
                        .map(|p| s.obs[p.obs as usize].first_observed)
                        .max();
                    let Some(t) = latest_first else {
                        return Ok(false);
                    };
                    s.cons.push(Cons::After(t));
                    let r = s.solve(b, &mut |s2| s2.outside(k));
                    s.cons.pop();
                    r
                })
            }
            Kind::Within(c, nanos) => {
                self.cons.push(Cons::Within {
                    nanos: *nanos,
                    agg: None,
                });
                let r = self.solve(c, &mut |s| s.outside(k));
                self.cons.pop();
                r
            }
            Kind::StartStop(c, start, stop) => {
                if start >= stop {
                    // No instant is both ≥ start and < stop.
                    return Ok(false);
                }
                self.cons.push(Cons::Window {
                    start: *start,
                    stop: *stop,
                });
                let r = self.solve(c, &mut |s| s.outside(k));
                self.cons.pop();
                r
            }
            Kind::Repeats(c, times) => match c.kind {
                Kind::Leaf(l) => self.repeat_leaf(l, *times, 0, k),
                _ => self.repeat(c, *times, None, k),
            },
        }
    }

    /// Calls the continuation of a qualified or right-hand subtree with that subtree's
    /// constraint (the top one) lifted, since it does not apply outside.
    fn outside(&mut self, k: &mut dyn FnMut(&mut Self) -> R) -> R {
        let Some(top) = self.cons.pop() else {
            return k(self);
        };
        let r = k(self);
        self.cons.push(top);
        r
    }

    fn all(&mut self, kids: &[&Node], k: &mut dyn FnMut(&mut Self) -> R) -> R {
        match kids.split_first() {
            None => k(self),
            Some((first, rest)) => self.solve(first, &mut |s| s.all(rest, k)),
        }
    }

    /// `times` copies of one leaf, candidates in non-decreasing order.
    fn repeat_leaf(
        &mut self,
        leaf: usize,
        times: u64,
        from: usize,
        k: &mut dyn FnMut(&mut Self) -> R,
    ) -> R {
        if times == 0 {
            return k(self);
        }
        // Necessary condition: enough compatible capacity left among later candidates.
        let cands: &'a [Cand] = &self.cands[leaf];
        let mut capacity = 0u64;
        for c in &cands[from..] {
            let o = c.obs as usize;
            match self.check(o) {
                Check::Ok => {
                    capacity = capacity.saturating_add(self.obs[o].number_observed - self.used[o]);
                    if capacity >= times {
                        break;
                    }
                }
                Check::Skip => {}
                Check::Stop => break,
            }
        }
        if capacity < times {
            return Ok(false);
        }
        self.leaf(leaf, from, &mut |s| {
            let pos = s.chosen.last().map_or(0, |p| p.pos as usize);
            s.repeat_leaf(leaf, times - 1, pos, k)
        })
    }

    /// `times` copies of a general subtree; copy i+1's picks must not sort before copy i's.
    fn repeat(
        &mut self,
        c: &Node,
        times: u64,
        prev: Option<(usize, usize)>,
        k: &mut dyn FnMut(&mut Self) -> R,
    ) -> R {
        if times == 0 {
            return k(self);
        }
        let start = self.chosen.len();
        self.solve(c, &mut |s| {
            let end = s.chosen.len();
            if let Some((ps, pe)) = prev {
                let key = |p: &Pick| (p.leaf, p.obs);
                let this = s.chosen[start..end].iter().map(key);
                let before = s.chosen[ps..pe].iter().map(key);
                if this.lt(before) {
                    return Ok(false);
                }
            }
            s.repeat(c, times - 1, Some((start, end)), k)
        })
    }

    fn check(&self, o: usize) -> Check {
        let ob = &self.obs[o];
        if self.used[o] >= ob.number_observed {
            return Check::Skip;
        }
        let (f, l) = (ob.first_observed, ob.last_observed);
        let mut verdict = Check::Ok;
        for c in &self.cons {
            match c {
                Cons::Within {
                    nanos,
                    agg: Some((max_f, min_l)),
                } => {
                    if span_nanos(f, *min_l) >= *nanos {
                        // Later candidates start no earlier: none can fit either.
                        return Check::Stop;
                    }
                    if span_nanos((*max_f).max(f), (*min_l).min(l)) >= *nanos {
                        verdict = Check::Skip;
                    }
                }
                Cons::Within { agg: None, .. } => {}
                Cons::Window { start, stop } => {
                    if f >= *stop {
                        return Check::Stop;
                    }
                    if l < *start {
                        verdict = Check::Skip;
                    }
                }
                Cons::After(t) => {
                    if l < *t {
                        verdict = Check::Skip;
                    }
                }
            }
        }
        verdict
    }

    /// Binds one observation to `leaf`, trying candidates from position `from` on.
    fn leaf(&mut self, leaf: usize, from: usize, k: &mut dyn FnMut(&mut Self) -> R) -> R {
        let cands: &'a [Cand] = &self.cands[leaf];
        for (pos, c) in cands.iter().enumerate().skip(from) {
            let o = c.obs as usize;
            match self.check(o) {
                Check::Ok => {}
                Check::Skip => continue,
                Check::Stop => break,
            }
            self.steps += 1;
            if self.steps > self.max_steps {
                return Err(Error::SearchLimit {
                    limit: self.max_steps,
                });
            }
            let (f, l) = (self.obs[o].first_observed, self.obs[o].last_observed);
            let mark = self.undo.len();
            for (i, cons) in self.cons.iter_mut().enumerate() {
                if let Cons::Within { agg, .. } = cons {
                    self.undo.push((i, *agg));
                    *agg = Some(match *agg {
                        None => (f, l),
                        Some((mf, ml)) => (mf.max(f), ml.min(l)),
                    });
                }
            }
            self.used[o] += 1;
            self.chosen.push(Pick {
                leaf: leaf as u32,
                obs: c.obs,
                pos: pos as u32,
            });
            let r = k(self);
            self.chosen.pop();
            self.used[o] -= 1;
            while self.undo.len() > mark {
                if let Some((i, old)) = self.undo.pop()
                    && let Some(Cons::Within { agg, .. }) = self.cons.get_mut(i)
                {
                    *agg = old;
                }
            }
            if r? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

enum Check {
    Ok,
    Skip,
    Stop,
}

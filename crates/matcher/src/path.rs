//! Object paths over SCOs (STIX 2.1 §9.7).
//!
//! A path such as `network-traffic:dst_ref.value` or `file:extensions.'x'.sections[*].entropy`
//! is walked from one root SCO. A property step reads a dictionary key; a property whose name
//! ends in `_ref` is followed to the object it names, and one ending in `_refs` is a list
//! whose items are followed once an index step (`[n]` or `[*]`) picks them (§9.7.4). As in
//! the reference matcher, a list is never stepped into without an index step, and `[*]` on a
//! dictionary reaches nothing (§9.7.2 defines it for lists). A JSON `null` cannot be stepped
//! into; as a final value it is present but comparable with nothing.
//!
//! The walk calls a predicate on every value the path reaches and stops at the first `true`
//! (§9.7.2: "If any of these evaluations are true, then the result is true"). A path with
//! several `[*]` steps over reference cycles could reach exponentially many values, so such
//! paths remember each (JSON node, step) pair already tried: a pair that failed once fails
//! again, which bounds the walk by nodes × steps.

use std::collections::HashSet;

use serde_json::Value;

use crate::error::Error;
use crate::observation::{Loc, Observation, Sco, field, pointer_token};
use crate::value::BinKind;

/// How a property step treats references.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Deref {
    /// An ordinary property.
    No,
    /// `*_ref`: a single reference.
    One,
    /// `*_refs`: a list of references.
    Many,
}

/// One compiled path step.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Step {
    /// A property or dictionary key.
    Key {
        /// The key.
        name: String,
        /// Reference handling implied by the name.
        deref: Deref,
        /// Binary encoding implied by the name (`*_bin`, `*_hex`).
        bin: Option<BinKind>,
    },
    /// `[n]`.
    Index(usize),
    /// `[*]`.
    Any,
}

/// A compiled object path.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Path {
    /// The SCO type the path starts from.
    pub object_type: String,
    /// The steps after the colon.
    pub steps: Vec<Step>,
    /// Whether the walk needs the visited set (two or more `[*]` steps).
    memo: bool,
}

impl Path {
    /// Builds a path from the parser's form.
    pub fn new(path: &pattern::ast::ObjectPath) -> Path {
        use pattern::ast::PathStep;
        let steps: Vec<Step> = path
            .steps
            .iter()
            .map(|s| match s {
                PathStep::Property(name) => Step::Key {
                    deref: if name.ends_with("_refs") {
                        Deref::Many
                    } else if name.ends_with("_ref") {
                        Deref::One
                    } else {
                        Deref::No
                    },
                    bin: BinKind::of_name(name),
                    name: name.clone(),
                },
                PathStep::Index(i) => Step::Index(*i),
                PathStep::AnyIndex => Step::Any,
            })
            .collect();
        let memo = steps.iter().filter(|s| matches!(s, Step::Any)).count() >= 2;
        Path {
            object_type: path.object_type.clone(),
            steps,
            memo,
        }
    }

    /// Whether the values the path reaches are binary (`*_bin`, `*_hex`): the walk passes the
    /// binary kind of the last property name down through index steps, and a final reference
    /// step reaches an object, which is neither.
    pub fn binary(&self) -> bool {
        self.steps.iter().rev().find_map(|s| match s {
            Step::Key { bin, .. } => Some(bin.is_some()),
            _ => None,
        }) == Some(true)
    }

    /// Calls `pred` on each value reachable from `root` until it returns `true`; returns
    /// whether it did. `pred`'s error message is reported as invalid input at the value's
    /// JSON pointer.
    pub fn any<'a, F>(
        &self,
        obs: &'a Observation,
        root: &'a Sco,
        pred: &mut F,
    ) -> Result<bool, Error>
    where
        F: FnMut(&'a Value, Option<BinKind>) -> Result<bool, String>,
    {
        let mut walk = Walk {
            obs,
            steps: &self.steps,
            pred,
            trail: vec![Seg::Base(root.loc)],
            seen: self.memo.then(HashSet::new),
        };
        walk.walk(root.value, 0, None)
    }
}

enum Seg<'a> {
    Base(Loc<'a>),
    Key(&'a str),
    Idx(usize),
}

struct Walk<'a, 'p, F> {
    obs: &'a Observation<'a>,
    steps: &'p [Step],
    pred: &'p mut F,
    trail: Vec<Seg<'a>>,
    seen: Option<HashSet<(usize, usize)>>,
}

impl<'a, F> Walk<'a, '_, F>
where
    F: FnMut(&'a Value, Option<BinKind>) -> Result<bool, String>,
{
    fn pointer(&self) -> String {
        let start = self
            .trail
            .iter()
            .rposition(|s| matches!(s, Seg::Base(_)))
            .unwrap_or(0);
        let mut out = String::new();
        for seg in &self.trail[start..] {
            match seg {
                Seg::Base(loc) => out.push_str(&loc.pointer()),
                Seg::Key(k) => {
                    out.push('/');
                    out.push_str(&pointer_token(k));
                }
                Seg::Idx(i) => {
                    out.push('/');
                    out.push_str(&i.to_string());
                }
            }
        }
        out
    }

    fn walk(&mut self, v: &'a Value, i: usize, bin: Option<BinKind>) -> Result<bool, Error> {
        let Some(step) = self.steps.get(i) else {
            // A null at the end of the path is a present value that compares with nothing
            // (so `!=` holds), as in the reference matcher; nothing can be stepped into it.
            return (self.pred)(v, bin).map_err(|m| Error::input(self.pointer(), m));
        };
        if v.is_null() {
            return Ok(false);
        }
        if let Some(seen) = &mut self.seen
            && !seen.insert((std::ptr::from_ref(v) as usize, i))
        {
            return Ok(false);
        }
        match step {
            Step::Key { name, deref, bin } => {
                let Some(child) = v.as_object().and_then(|o| field(o, name)) else {
                    return Ok(false);
                };
                self.trail.push(Seg::Key(child.0));
                let r = match deref {
                    Deref::One => match child.1.as_str() {
                        Some(key) => self.follow(key, i + 1),
                        None => Ok(false),
                    },
                    Deref::Many => self.refs(child.1, i + 1, *bin),
                    Deref::No => self.walk(child.1, i + 1, *bin),
                };
                self.trail.pop();
                r
            }
            Step::Index(n) => self.index(v, *n, i + 1, |w, e, j| w.walk(e, j, bin)),
            Step::Any => self.every(v, i + 1, |w, e, j| w.walk(e, j, bin)),
        }
    }

    /// Steps through a `*_refs` list: the following index step picks items, which are
    /// followed; without one, the list itself is the value.
    fn refs(&mut self, list: &'a Value, i: usize, bin: Option<BinKind>) -> Result<bool, Error> {
        match self.steps.get(i) {
            Some(Step::Index(n)) => self.index(list, *n, i + 1, Self::follow_value),
            Some(Step::Any) => self.every(list, i + 1, Self::follow_value),
            _ => self.walk(list, i, bin),
        }
    }

    fn follow_value(&mut self, item: &'a Value, i: usize) -> Result<bool, Error> {
        match item.as_str() {
            Some(key) => self.follow(key, i),
            None => Ok(false),
        }
    }

    /// Follows one reference within the observation; a dangling one reaches nothing.
    fn follow(&mut self, key: &str, i: usize) -> Result<bool, Error> {
        let obs: &'a Observation<'a> = self.obs;
        let Some(target) = obs.resolve(key) else {
            return Ok(false);
        };
        self.trail.push(Seg::Base(target.loc));
        let r = self.walk(target.value, i, None);
        self.trail.pop();
        r
    }

    fn index(
        &mut self,
        v: &'a Value,
        n: usize,
        next: usize,
        mut then: impl FnMut(&mut Self, &'a Value, usize) -> Result<bool, Error>,
    ) -> Result<bool, Error> {
        let Some(item) = v.as_array().and_then(|a| a.get(n)) else {
            return Ok(false);
        };
        self.trail.push(Seg::Idx(n));
        let r = then(self, item, next);
        self.trail.pop();
        r
    }

    fn every(
        &mut self,
        v: &'a Value,
        next: usize,
        mut then: impl FnMut(&mut Self, &'a Value, usize) -> Result<bool, Error>,
    ) -> Result<bool, Error> {
        let Some(items) = v.as_array() else {
            return Ok(false);
        };
        for (n, item) in items.iter().enumerate() {
            self.trail.push(Seg::Idx(n));
            let r = then(self, item, next);
            self.trail.pop();
            if r? {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

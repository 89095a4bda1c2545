//! entente's STIX pattern semantics: the evaluator for one pattern against observed-data.
//!
//! **What it is.** [`CompiledPattern`] takes the tree the `pattern` crate parses and decides,
//! exactly as STIX 2.1 §9 describes, whether a set of observations matches it, and returns
//! the [`Binding`] that shows which observation satisfied which observation expression, so
//! that alerts can say why something matched. Both observed-data shapes are read (2.1
//! `object_refs` with the SCOs beside them, 2.0 embedded `objects`); see [`Observations`].
//!
//! **What it is not.** It does not parse patterns (the `pattern` crate does) or read telemetry
//! (`hunt` does). Matching very many patterns at once is [`compiled`]'s job: it indexes the
//! constants and calls back into these semantics only for the candidates.
//!
//! **Invariants.**
//! * **Evaluation is bounded.** Regexes run on a linear-time engine with a size limit; path
//!   walks are bounded by nodes × steps; the binding search counts its steps and stops with
//!   [`Error::SearchLimit`] past [`EvalOptions::max_steps`] (see the `search` module docs for
//!   the algorithm and the bound).
//! * **No panics on input.** Every malformed input is an [`Error::Input`] with a JSON
//!   pointer.
//! * **Spec over reference.** Where the OASIS reference matcher disagrees with the
//!   specification, the specification wins; the cases are listed in
//!   `crates/pattern/DEVIATIONS.md`, section "Evaluator (matcher)".
//!
//! Tests: unit tests beside each module; the conformance vectors run through the library in
//! `tests/it/` and through the CLI in `crates/cli/tests/it/pattern_match.rs`.

mod compile;
pub mod compiled;
mod error;
mod eval;
mod flow;
mod net;
mod observation;
mod path;
mod search;
mod text;
mod timestamp;
mod value;

use serde::Serialize;

pub use error::Error;
pub use observation::{Observation, Observations};
pub use pattern::ast::Span;

/// Limits on one evaluation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvalOptions {
    /// Most tentative assignments of an observation to an observation expression before the
    /// search gives up with [`Error::SearchLimit`].
    pub max_steps: u64,
    /// Most observations one binding may need; larger bindings are refused with
    /// [`Error::BindingTooLarge`]. This also bounds the search's recursion depth.
    pub max_binding_size: u64,
}

impl Default for EvalOptions {
    fn default() -> Self {
        EvalOptions {
            max_steps: 1_000_000,
            max_binding_size: 512,
        }
    }
}

/// A pattern ready to evaluate.
#[derive(Debug, Clone)]
pub struct CompiledPattern {
    inner: compile::Compiled,
}

/// Compiles a parsed pattern; see [`CompiledPattern::new`].
pub fn compile(p: &pattern::ast::Pattern) -> Result<CompiledPattern, Error> {
    CompiledPattern::new(p)
}

impl CompiledPattern {
    /// Compiles a parsed pattern, reporting what the specification makes an error even though
    /// it parses: mixed-type `IN` sets, non-positive `WITHIN`/`REPEATS`, regexes and CIDRs that
    /// are not valid (see the `compile` module).
    pub fn new(p: &pattern::ast::Pattern) -> Result<Self, Error> {
        Ok(CompiledPattern {
            inner: compile::compile(p)?,
        })
    }

    /// The values that satisfied the comparisons of the observation expression `expression`
    /// (a [`BoundObservation::expression`]) on the root SCO `root` (an id, or a 2.0 `objects`
    /// key), looked up in any observation of `observations`. Each value comes with the span of
    /// its comparison's object path in the pattern text. Empty when the expression or the root
    /// is not found.
    pub fn matched_values(
        &self,
        observations: &Observations,
        expression: Span,
        root: &str,
    ) -> Result<Vec<(Span, serde_json::Value)>, Error> {
        let Some(leaf) = self.inner.leaves.iter().find(|l| l.span == expression) else {
            return Ok(Vec::new());
        };
        for obs in &observations.list {
            if let Some(sco) = obs.resolve(root) {
                let found = eval::satisfying_values(leaf, obs, sco)?;
                return Ok(found.into_iter().map(|(s, v)| (s, v.clone())).collect());
            }
        }
        Ok(Vec::new())
    }

    /// Evaluates the pattern against `observations` with the default limits.
    pub fn evaluate(&self, observations: &Observations) -> Result<Option<Binding>, Error> {
        self.evaluate_with(observations, &EvalOptions::default())
    }

    /// Evaluates the pattern against `observations`: `Ok(Some(binding))` when it matches,
    /// `Ok(None)` when it does not.
    pub fn evaluate_with(
        &self,
        observations: &Observations,
        options: &EvalOptions,
    ) -> Result<Option<Binding>, Error> {
        let obs = &observations.list;
        let mut cands = Vec::with_capacity(self.inner.leaves.len());
        for leaf in &self.inner.leaves {
            let mut list = Vec::new();
            for (i, o) in obs.iter().enumerate() {
                let roots = eval::roots(leaf, o)?;
                if !roots.is_empty() {
                    list.push(search::Cand {
                        obs: u32::try_from(i).unwrap_or(u32::MAX),
                        roots,
                    });
                }
            }
            cands.push(list);
        }
        let mut s = search::Search::new(obs, &cands, self.inner.nodes, options.max_steps);
        let (feasible, needed) = s.prepare(&self.inner.root);
        if !feasible {
            return Ok(None);
        }
        let mut available = 0u64;
        let mut seen = vec![false; obs.len()];
        for c in cands.iter().flatten() {
            let i = c.obs as usize;
            if !std::mem::replace(&mut seen[i], true) {
                available = available.saturating_add(obs[i].number_observed);
            }
        }
        if needed > available {
            return Ok(None);
        }
        if needed > options.max_binding_size {
            return Err(Error::BindingTooLarge {
                needed,
                limit: options.max_binding_size,
            });
        }
        // Without OR, the pattern relaxed to its AND structure is a b-matching: if that has no
        // solution nothing can match, and without time constraints its solution is a binding.
        let mut picks: Option<Vec<(usize, usize)>> = None;
        // A single observation expression needs no matching: the search takes its first
        // candidate.
        if let Some((need, timed)) = flow::demands(&self.inner.root, self.inner.leaves.len())
            && needed > 1
        {
            let capacity: Vec<u64> = obs.iter().map(|o| o.number_observed).collect();
            match flow::assign(&need, &cands, &capacity) {
                None => return Ok(None),
                Some(assignment) if !timed => {
                    let mut list = Vec::new();
                    for (l, o, count) in assignment {
                        for _ in 0..count {
                            list.push((l, o));
                        }
                    }
                    picks = Some(list);
                }
                Some(_) => {}
            }
        }
        let picks = match picks {
            Some(p) => p,
            None => match s.run(&self.inner.root)? {
                Some(found) => found
                    .iter()
                    .map(|p| (p.leaf as usize, p.obs as usize))
                    .collect(),
                None => return Ok(None),
            },
        };
        let mut entries: Vec<BoundObservation> = picks
            .iter()
            .map(|&(l, oi)| {
                let leaf = &self.inner.leaves[l];
                let o = &obs[oi];
                let roots = cands[l]
                    .iter()
                    .find(|c| c.obs as usize == oi)
                    .map(|c| {
                        c.roots
                            .iter()
                            .map(|&r| o.objects[r as usize].key.to_owned())
                            .collect()
                    })
                    .unwrap_or_default();
                BoundObservation {
                    expression: leaf.span,
                    observation: oi,
                    roots,
                }
            })
            .collect();
        entries.sort_by_key(|e| (e.expression.start, e.observation));
        Ok(Some(Binding { entries }))
    }
}

/// Why a pattern matched: one entry per observation expression instance in the binding.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Binding {
    /// The bound observations, ordered by their expression's place in the pattern.
    pub entries: Vec<BoundObservation>,
}

/// One observation bound to one observation expression `[ … ]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BoundObservation {
    /// The observation expression, from `[` to `]`, in the pattern text.
    pub expression: Span,
    /// Index of the observation in [`Observations`] (see [`Observations::get`]). An
    /// observation with `number_observed` > 1 may appear several times.
    pub observation: usize,
    /// The root SCOs that satisfied the expression: ids (2.1) or `objects` keys (2.0).
    pub roots: Vec<String>,
}

impl Binding {
    /// One human-readable line per entry: the expression text, the observed-data it bound
    /// and the SCOs that satisfied it.
    pub fn describe(&self, pattern_text: &str, observations: &Observations) -> Vec<String> {
        self.entries
            .iter()
            .map(|e| {
                let expr = pattern_text
                    .get(e.expression.start..e.expression.end)
                    .unwrap_or("[…]");
                let name = observations
                    .get(e.observation)
                    .map_or_else(|| "?".to_owned(), Observation::name);
                format!("{expr}  <-  {name}  (objects: {})", e.roots.join(", "))
            })
            .collect()
    }
}

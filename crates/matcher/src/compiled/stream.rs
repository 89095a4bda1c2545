//! The stateful side: matching a stream of events, patterns across events included.
//!
//! See the module docs of `compiled` for the retention rule and its bound. A [`Stream`] owns
//! a [`Scratch`] and, for each stateful indicator that saw a relevant event, a ring of the
//! retained events (shared `Arc`s) and the identity of the last binding it reported.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use jiff::Timestamp;
use serde_json::Value;

use super::index::Posting;
use super::{CompiledMatcher, Event, Hit, HitEvent, Scratch, Stats, window};
use crate::{Binding, CompiledPattern, Error, Observations};

/// Bounds of the state a [`Stream`] keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamOptions {
    /// Most events retained per stateful indicator.
    pub max_retained: usize,
    /// Every this many events, every indicator's retained events are expired.
    pub sweep_every: u64,
}

impl Default for StreamOptions {
    fn default() -> Self {
        StreamOptions {
            max_retained: 64,
            sweep_every: 4096,
        }
    }
}

/// An event kept for later evaluation.
#[derive(Debug)]
struct Retained<S> {
    seq: u64,
    time: Timestamp,
    source: S,
    /// The latest `last_observed` of its observations: what expiry compares.
    last_observed: Timestamp,
    doc: Value,
}

/// One binding, as (event seq, observation within the event, expression start) triples.
type Identity = Vec<(u64, usize, usize)>;

#[derive(Debug)]
struct State<S> {
    ring: VecDeque<Arc<Retained<S>>>,
    last: Option<Identity>,
}

/// A compiled matcher over a stream of events, with the state multi-event patterns need.
#[derive(Debug)]
pub struct Stream<S> {
    matcher: Arc<CompiledMatcher>,
    options: StreamOptions,
    scratch: Scratch,
    states: HashMap<u32, State<S>>,
    seq: u64,
    /// The latest `first_observed` seen.
    high_water: Option<Timestamp>,
}

impl<S: Clone> Stream<S> {
    /// A stream over `matcher`.
    pub fn new(matcher: Arc<CompiledMatcher>, options: StreamOptions) -> Self {
        let scratch = matcher.scratch();
        Stream {
            matcher,
            options,
            scratch,
            states: HashMap::new(),
            seq: 0,
            high_water: None,
        }
    }

    /// The matcher.
    pub fn matcher(&self) -> &CompiledMatcher {
        &self.matcher
    }

    /// Counters so far.
    pub fn stats(&self) -> &Stats {
        &self.scratch.stats
    }

    /// The compiled pattern of indicator `indicator` (as hits number it): from this
    /// stream's cache, where matching the event it hit on left it, or parsed and compiled
    /// again; `None` when it is out of range or does not compile. The pattern whose binding
    /// a hit carries, for a caller that explains the hit (`CompiledPattern::matched_values`)
    /// without compiling it once more.
    pub fn pattern(&mut self, indicator: usize) -> Option<&CompiledPattern> {
        let i = u32::try_from(indicator).ok()?;
        if indicator >= self.matcher.len() {
            return None;
        }
        self.matcher
            .pattern(i, &mut self.scratch.cache, &mut self.scratch.stats)
    }

    /// The last evaluation error, with its indicator.
    pub fn last_error(&self) -> Option<&(usize, Error)> {
        self.scratch.last_error.as_ref()
    }

    /// Events currently retained, summed over indicators (an event kept for two indicators
    /// counts twice).
    pub fn retained(&self) -> usize {
        self.states.values().map(|s| s.ring.len()).sum()
    }

    /// Counts the next event as one that [`CompiledMatcher::quiet_text`] found nothing can
    /// match: it takes its place in the sequence and moves the high-water mark, as
    /// [`Stream::push`] of its document would, without the document.
    pub fn push_quiet(&mut self, quiet: &super::Quiet) {
        self.seq += 1;
        self.scratch.stats.events += 1;
        self.high_water = self.high_water.max(Some(quiet.latest()));
        self.maybe_sweep();
    }

    /// [`CompiledMatcher::quiet_text`] with this stream's scratch.
    pub fn quiet_text(&mut self, text: &str) -> Option<super::Quiet> {
        let m = Arc::clone(&self.matcher);
        m.quiet_text(text, &mut self.scratch)
    }

    /// Matches the next event; hits of single-event patterns on it, and of multi-event
    /// patterns whose retained events (this one included) bind anew.
    pub fn push(&mut self, event: &Event<'_, S>) -> Result<Vec<Hit<S>>, Error> {
        let m = Arc::clone(&self.matcher);
        if let Some(latest_first) = m.nothing_to_do(event.document, &mut self.scratch) {
            self.seq += 1;
            self.scratch.stats.events += 1;
            self.high_water = self.high_water.max(latest_first);
            self.maybe_sweep();
            return Ok(Vec::new());
        }
        let obs = Observations::from_json(event.document)?;
        let seq = self.seq;
        self.seq += 1;
        let latest_first = obs.list.iter().map(|o| o.first_observed).max();
        let last_observed = obs
            .list
            .iter()
            .map(|o| o.last_observed)
            .max()
            .unwrap_or(event.time);
        self.high_water = self.high_water.max(latest_first);
        self.scratch.stats.events += 1;
        m.candidates(&obs, &mut self.scratch);
        let cands = std::mem::take(&mut self.scratch.cands);
        let mut hits = Vec::new();
        let mut retained: Option<Arc<Retained<S>>> = None;
        let mut i = 0;
        while i < cands.len() {
            let ind = cands[i].ind;
            let mut j = i + 1;
            while j < cands.len() && cands[j].ind == ind {
                j += 1;
            }
            let leaves = &cands[i..j];
            i = j;
            let e = m.entries.get(ind as usize);
            if !e.valid_at(event.time) {
                continue;
            }
            self.scratch.stats.evaluated += 1;
            let Some(c) = m.pattern(ind, &mut self.scratch.cache, &mut self.scratch.stats) else {
                continue;
            };
            if !e.stateful {
                match c.evaluate_with(&obs, &m.options.eval) {
                    Ok(Some(binding)) => {
                        self.scratch.stats.confirmed += 1;
                        let ev = HitEvent {
                            seq,
                            time: event.time,
                            source: event.source.clone(),
                        };
                        hits.push(Hit {
                            indicator: ind as usize,
                            events: vec![ev; binding.entries.len()],
                            binding,
                        });
                    }
                    Ok(None) => {}
                    Err(err) => {
                        self.scratch.stats.errors += 1;
                        self.scratch.last_error = Some((ind as usize, err));
                    }
                }
                continue;
            }
            if !relevant(c, leaves, &obs) {
                continue;
            }
            let r = retained
                .get_or_insert_with(|| {
                    Arc::new(Retained {
                        seq,
                        time: event.time,
                        source: event.source.clone(),
                        last_observed,
                        doc: event.document.clone(),
                    })
                })
                .clone();
            let state = self.states.entry(ind).or_insert_with(|| State {
                ring: VecDeque::new(),
                last: None,
            });
            state.ring.push_back(r);
            expire(
                state,
                m.entries.horizon(ind),
                self.high_water,
                self.options.max_retained,
            );
            if state.ring.is_empty() {
                continue;
            }
            let window: Vec<Arc<Retained<S>>> = state.ring.iter().cloned().collect();
            let parts: Vec<Observations<'_>> = window
                .iter()
                .map(|r| Observations::from_json(&r.doc).unwrap_or_default())
                .collect();
            let (all, origin) = window::merge(parts);
            match c.evaluate_with(&all, &m.options.eval) {
                Ok(Some(binding)) => {
                    let (binding, events, identity) = localise(binding, &origin, &window);
                    if state.last.as_ref() != Some(&identity) {
                        state.last = Some(identity);
                        self.scratch.stats.confirmed += 1;
                        hits.push(Hit {
                            indicator: ind as usize,
                            binding,
                            events,
                        });
                    }
                }
                Ok(None) => {}
                Err(err) => {
                    self.scratch.stats.errors += 1;
                    self.scratch.last_error = Some((ind as usize, err));
                }
            }
        }
        self.scratch.cands = cands;
        self.maybe_sweep();
        Ok(hits)
    }

    fn maybe_sweep(&mut self) {
        if self.options.sweep_every > 0 && self.seq.is_multiple_of(self.options.sweep_every) {
            self.sweep();
        }
    }

    /// Expires every indicator's retained events and forgets indicators left with none.
    fn sweep(&mut self) {
        let m = Arc::clone(&self.matcher);
        let (hw, max) = (self.high_water, self.options.max_retained);
        self.states.retain(|&ind, s| {
            expire(s, m.entries.horizon(ind), hw, max);
            !s.ring.is_empty()
        });
    }
}

/// Whether some proposed observation expression holds on some observation of the event. An
/// expression whose evaluation fails on any observation counts as not holding, as the
/// evaluator fails a pattern made of it alone.
fn relevant(c: &crate::CompiledPattern, leaves: &[Posting], obs: &Observations<'_>) -> bool {
    leaves.iter().any(|p| {
        let Some(leaf) = c.inner.leaves.get(p.leaf as usize) else {
            return false;
        };
        let mut any = false;
        for o in &obs.list {
            match crate::eval::roots(leaf, o) {
                Ok(r) => any |= !r.is_empty(),
                Err(_) => return false,
            }
        }
        any
    })
}

/// Drops retained events that no later event can share a binding with, then the oldest
/// beyond the count bound.
fn expire<S>(s: &mut State<S>, horizon: Option<i128>, high_water: Option<Timestamp>, max: usize) {
    if let (Some(h), Some(hw)) = (horizon, high_water) {
        let hw = hw.as_nanosecond();
        s.ring.retain(|r| hw - r.last_observed.as_nanosecond() < h);
    }
    while s.ring.len() > max {
        s.ring.pop_front();
    }
}

/// Rewrites a binding over a window into per-event terms.
fn localise<S: Clone>(
    mut binding: Binding,
    origin: &[(usize, usize)],
    window: &[Arc<Retained<S>>],
) -> (Binding, Vec<HitEvent<S>>, Identity) {
    let mut events = Vec::with_capacity(binding.entries.len());
    let mut identity = Vec::with_capacity(binding.entries.len());
    for entry in &mut binding.entries {
        let (part, local) = origin.get(entry.observation).copied().unwrap_or((0, 0));
        let Some(r) = window.get(part) else {
            continue;
        };
        entry.observation = local;
        identity.push((r.seq, local, entry.expression.start));
        events.push(HitEvent {
            seq: r.seq,
            time: r.time,
            source: r.source.clone(),
        });
    }
    identity.sort_unstable();
    (binding, events, identity)
}

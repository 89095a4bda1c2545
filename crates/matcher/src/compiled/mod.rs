//! The compiled multi-indicator matcher: very many STIX indicators against a stream of
//! events, at a cost per event that does not grow with the number of indicators.
//!
//! # Use
//!
//! ```
//! use matcher::compiled::{CompileOptions, CompiledMatcher, Event, Indicator, Stream};
//! use serde_json::json;
//!
//! let indicators = vec![
//!     Indicator::new("indicator--1", "[domain-name:value = 'evil.example']"),
//!     Indicator::new(
//!         "indicator--2",
//!         "([ipv4-addr:value = '198.51.100.7'] AND [domain-name:value = 'evil.example']) \
//!          WITHIN 300 SECONDS",
//!     ),
//! ];
//! let (m, report) = CompiledMatcher::compile(indicators, &CompileOptions::default());
//! assert_eq!(report.compiled, 2);
//! let doc = json!([
//!     {"type": "observed-data", "id": "observed-data--1", "first_observed": "2024-01-01T00:00:00Z",
//!      "last_observed": "2024-01-01T00:00:00Z", "number_observed": 1,
//!      "object_refs": ["domain-name--1"]},
//!     {"type": "domain-name", "id": "domain-name--1", "value": "evil.example"}
//! ]);
//! let time = "2024-01-01T00:00:00Z".parse().unwrap();
//! let mut stream = Stream::new(std::sync::Arc::new(m), Default::default());
//! let hits = stream.push(&Event { document: &doc, time, source: "line 1" }).unwrap();
//! assert_eq!(hits.len(), 1);
//! assert_eq!(stream.matcher().indicator(hits[0].indicator).id, "indicator--1");
//! ```
//!
//! [`CompiledMatcher::compile`] takes [`Indicator`]s (or [`CompiledMatcher::compile_json`]
//! STIX objects; or one at a time through a [`Builder`], which also takes patterns the
//! caller parsed and compiled itself) and returns the matcher and a [`CompileReport`] that counts and lists what
//! was skipped and why (not an indicator, `pattern_type` other than `stix`, revoked, bad
//! timestamps, a pattern that does not parse or cannot be evaluated). An [`Event`] is the
//! evaluator's own input — an observed-data document as
//! [`Observations::from_json`](crate::Observations::from_json) reads it — plus the event's
//! time (checked against `valid_from`/`valid_until`) and a caller-defined source reference
//! that hits hand back. [`CompiledMatcher::match_event`] matches one event on its own, `&self`
//! and thread-safe with a per-thread [`Scratch`]; a [`Stream`] adds the state that patterns
//! spanning several events need (`AND`/`FOLLOWEDBY` of observations, `REPEATS`, their
//! qualifiers) and is what `entente hunt` feeds.
//!
//! # How an event is matched
//!
//! Compiling parses each pattern, compiles it with the evaluator ([`crate::CompiledPattern`])
//! and picks **anchors** for each observation expression `[…]` (module `anchor`): index probes
//! of which at least one must fire for the expression to hold. They go into the index
//! (module `index`): one table for equality and `IN` over the hash of (object path, canonical
//! value) (modules `key`, `flat`: keyless, 8-byte slots behind a small Bloom filter), one for
//! `ISSUBSET` networks by prefix length, and one Aho-Corasick automaton
//! per path over the literals every `LIKE`/`MATCHES` match must contain (module `literal`).
//! An event walks each indexed path of each of its SCOs once and collects postings
//! (indicator, observation expression); indicators with an expression that has no anchor
//! (only `!=`, `<`, `NOT …`, `EXISTS`) are on a short *always* list instead. Only the proposed
//! indicators are evaluated, by the evaluator itself, so **hits are exactly the evaluator's**;
//! the index only decides how few indicators it has to ask.
//!
//! Memory per indicator: the id, name, pattern text and validity are kept (the three texts
//! back to back in one arena, see `indicator::Entries`), plus the index entries; the
//! compiled pattern is not. Confirming a candidate re-parses and re-compiles its
//! pattern (a few microseconds for an equality) and keeps it in a bounded cache in the
//! [`Scratch`] ([`CompileOptions::cache`] patterns): keeping every compiled pattern cost
//! several hundred bytes per equality indicator and kilobytes per regex
//! (`examples/compile_rss.rs` measures the resident size).
//!
//! # State across events, and its bound
//!
//! A pattern whose binding can need observations of several events is *stateful*. For each
//! such indicator a [`Stream`] keeps the recent events that satisfied at least one of its
//! observation expressions, and re-runs the evaluator over them (with the new event) whenever
//! a new such event arrives. The retained set of an indicator is bounded two ways:
//!
//! * **time**: when the whole pattern is under `WITHIN w` (through `OR`s), an event is dropped
//!   once the stream's high-water mark (the latest `first_observed` seen) is `w` or more past
//!   its `last_observed`: no later event can share a binding with it. Late events (older than
//!   the high-water mark by more than `w`) can therefore miss a chain;
//! * **count**: at most [`StreamOptions::max_retained`] events (default 64) per indicator; the
//!   oldest goes first. This is the only bound for patterns without an overall `WITHIN`.
//!
//! Retained events are shared (one copy of an event's document however many indicators keep
//! it), so the state holds at most `max_retained` references per stateful indicator that saw
//! a relevant event, and at most that many distinct documents; every
//! [`StreamOptions::sweep_every`] events all indicators are expired, so quiet indicators do
//! not pin old events. A stateful indicator reports a hit when the evaluator finds a binding
//! over its retained events that differs from the last one it reported, so a chain that goes
//! on matching is reported once.
//!
//! # Measured
//!
//! `examples/compile_rss.rs` on the shared 2-core machine (load 10–15 from other builds, so
//! figures vary by ±15 % between runs), equality-heavy mix of `benches/workload/mod.rs`, CPU
//! time of one thread, 1,000,000 events of which 1 % carry an indicator's value:
//!
//! | indicators | compile (CPU) | resident per indicator | events per CPU-second, fresh documents | same, cold documents |
//! | --- | --- | --- | --- | --- |
//! | 10,000 | — | — | 1,106,000–1,122,000 | 775,000–787,000 |
//! | 100,000 | 0.7 s | 421 bytes (index structures ~48) | 941,000–1,077,000 | 690,000–752,000 |
//! | 1,000,000 | 7.0–7.3 s | 400 bytes (index structures ~45) | 874,000–1,011,000 | 685,000–700,000 |
//!
//! *Fresh* documents are matched right after they were generated, as `entente hunt` matches a
//! document right after parsing it; *cold* ones are 1,000,000 distinct pre-parsed documents
//! read once each, where walking the documents themselves is mostly cache misses (building
//! the evaluator's model alone for them runs at ~750,000 per CPU-second, which is why events
//! that propose nothing are pre-probed on the raw document and never loaded). Before the
//! flat table, the one-pass address reader (`addr`) and the filter, the same machine measured
//! 544 bytes per indicator, 8.1–8.2 s to compile and 636,000–699,000 fresh events per
//! CPU-second at 1,000,000 indicators; callgrind counted 5,835 instructions per event (20,000
//! indicators), now 3,228, of which about 10 % re-compile the pattern of a hit (a `MATCHES`
//! builds its regex again: ~450,000 instructions).
//!
//! Tests: unit tests beside each module; `tests/it/compiled.rs` checks hits against the
//! evaluator on generated workloads. Bench: `benches/compiled.rs`; resident size:
//! `examples/compile_rss.rs`.

mod addr;
mod anchor;
mod flat;
mod index;
mod indicator;
mod key;
mod literal;
mod raw;
mod stream;
mod window;

use std::collections::HashMap;

use jiff::Timestamp;
use serde_json::Value;

use crate::{Binding, CompiledPattern, Error, EvalOptions, Observations};
use index::Posting;
use indicator::Entries;
pub use indicator::{Indicator, Parsed, SkipReason};
pub use stream::{Stream, StreamOptions};

/// How to compile.
#[derive(Debug, Clone)]
pub struct CompileOptions {
    /// Limits on each evaluation of a candidate.
    pub eval: EvalOptions,
    /// Most compiled patterns a [`Scratch`] keeps between events.
    pub cache: usize,
}

impl Default for CompileOptions {
    fn default() -> Self {
        CompileOptions {
            eval: EvalOptions::default(),
            cache: 4096,
        }
    }
}

/// What compiling did.
#[derive(Debug, Clone, Default)]
pub struct CompileReport {
    /// Indicators compiled.
    pub compiled: usize,
    /// Indicators skipped, with the reason, in input order (the index is the input position).
    pub skipped: Vec<(usize, Option<String>, SkipReason)>,
    /// Compiled indicators whose patterns need state across events.
    pub stateful: usize,
    /// Compiled indicators without an anchor, evaluated on every event.
    pub always: usize,
    /// Distinct object paths in the index.
    pub paths: usize,
    /// Approximate heap bytes of the index structures.
    pub index_bytes: usize,
    /// Approximate heap bytes of what is kept per indicator (id, name, pattern, validity).
    pub entry_bytes: usize,
}

/// One event: an observed-data document as [`Observations::from_json`] reads it, the time of
/// the event, and the caller's reference to where it came from.
#[derive(Debug, Clone, Copy)]
pub struct Event<'a, S> {
    /// The observed-data document (2.1 bundle or array with `object_refs`, or 2.0 embedded
    /// `objects`).
    pub document: &'a Value,
    /// When the event happened (indicator validity is checked against it).
    pub time: Timestamp,
    /// Where it came from (file and line, say); handed back in hits.
    pub source: S,
}

/// One event of a hit.
#[derive(Debug, Clone, PartialEq)]
pub struct HitEvent<S> {
    /// The event's number in its stream (0 for [`CompiledMatcher::match_event`]).
    pub seq: u64,
    /// The event's time.
    pub time: Timestamp,
    /// The event's source reference.
    pub source: S,
}

/// An indicator matched.
#[derive(Debug, Clone, PartialEq)]
pub struct Hit<S> {
    /// The indicator (see [`CompiledMatcher::indicator`]).
    pub indicator: usize,
    /// The evaluator's binding. Each entry's `observation` is the index of the observation
    /// within *its own* event's document (as [`Observations::from_json`] orders it), and
    /// `events[k]` is the event of `binding.entries[k]`.
    pub binding: Binding,
    /// The event of each binding entry.
    pub events: Vec<HitEvent<S>>,
}

/// Counters, cumulative over the events a [`Scratch`] (or [`Stream`]) saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Events matched.
    pub events: u64,
    /// Index look-ups (hash probes and automaton runs).
    pub lookups: u64,
    /// Postings the index proposed (before de-duplication).
    pub proposed: u64,
    /// Indicator evaluations run (candidates after de-duplication and validity, plus the
    /// always list).
    pub evaluated: u64,
    /// Hits reported.
    pub confirmed: u64,
    /// Evaluations that failed (invalid input for that pattern, or an evaluation bound).
    pub errors: u64,
    /// Patterns parsed and compiled again on a cache miss.
    pub recompiled: u64,
}

/// Reusable per-thread state for [`CompiledMatcher::match_event`]: buffers, the cache of
/// compiled patterns, counters.
#[derive(Debug, Default)]
pub struct Scratch {
    cands: Vec<Posting>,
    scan: raw::Scanner,
    /// Equality hashes of a quiet check, looked up together (`index::Index::quick_text`).
    hashes: Vec<u64>,
    cache: HashMap<u32, CompiledPattern>,
    /// Counters so far.
    pub stats: Stats,
    /// The last evaluation error, with its indicator.
    pub last_error: Option<(usize, Error)>,
}

/// A document that [`CompiledMatcher::quiet_text`] found nothing can match; only that
/// function makes one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quiet {
    earliest: Timestamp,
    latest: Timestamp,
}

impl Quiet {
    /// The earliest `first_observed` of its observations (the event's time, as the STIX
    /// reader takes it).
    pub fn earliest(&self) -> Timestamp {
        self.earliest
    }

    /// The latest `first_observed` (what the stream's expiry follows).
    pub fn latest(&self) -> Timestamp {
        self.latest
    }
}

/// A public view of one compiled indicator.
#[derive(Debug, Clone, Copy)]
pub struct IndicatorRef<'a> {
    /// The STIX id.
    pub id: &'a str,
    /// `name`, when present.
    pub name: Option<&'a str>,
    /// The pattern text (binding spans point into it).
    pub pattern: &'a str,
    /// Whether matching it needs state across events.
    pub stateful: bool,
}

/// Very many indicators compiled into one index; see the module docs.
pub struct CompiledMatcher {
    entries: Entries,
    index: index::Index,
    /// Stateless indicators without anchors: evaluated on every event.
    always: Vec<u32>,
    /// Observation expressions of stateful indicators without anchors: checked on every event.
    always_leaves: Vec<Posting>,
    options: CompileOptions,
}

impl std::fmt::Debug for CompiledMatcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledMatcher")
            .field("indicators", &self.entries.len())
            .field("paths", &self.index.paths())
            .field("always", &self.always.len())
            .finish_non_exhaustive()
    }
}

fn timestamp(field: &'static str, v: Option<&str>) -> Result<Option<Timestamp>, SkipReason> {
    v.map(|text| {
        crate::timestamp::parse(text).map_err(|_| SkipReason::Timestamp {
            field,
            value: text.to_owned(),
        })
    })
    .transpose()
}

fn parse(text: &str, version: pattern::ast::StixVersion) -> Result<CompiledPattern, SkipReason> {
    let p = pattern::parse(text, version).map_err(|e| SkipReason::Syntax(e.to_string()))?;
    CompiledPattern::new(&p).map_err(SkipReason::Semantics)
}

impl CompiledMatcher {
    /// Compiles `indicators`; see the module docs.
    pub fn compile(
        indicators: impl IntoIterator<Item = Indicator>,
        options: &CompileOptions,
    ) -> (CompiledMatcher, CompileReport) {
        Self::compile_results(indicators.into_iter().map(Ok), options)
    }

    /// Compiles STIX objects: those that are not indicators are skipped and reported.
    pub fn compile_json<'v>(
        objects: impl IntoIterator<Item = &'v Value>,
        options: &CompileOptions,
    ) -> (CompiledMatcher, CompileReport) {
        Self::compile_results(objects.into_iter().map(Indicator::from_json), options)
    }

    fn compile_results(
        items: impl Iterator<Item = Result<Indicator, SkipReason>>,
        options: &CompileOptions,
    ) -> (CompiledMatcher, CompileReport) {
        let mut b = Builder::new(options);
        for item in items {
            match item {
                Ok(ind) => {
                    let _ = b.add(ind);
                }
                Err(why) => b.skip(None, why),
            }
        }
        b.finish()
    }

    /// How many indicators were compiled.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no indicator was compiled.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The indicator numbered `i` by hits (`i < len()`).
    ///
    /// # Panics
    ///
    /// When `i` is out of range.
    pub fn indicator(&self, i: usize) -> IndicatorRef<'_> {
        let e = self.entries.get(i);
        IndicatorRef {
            id: self.entries.id(e),
            name: self.entries.name(e),
            pattern: self.entries.pattern(e),
            stateful: e.stateful,
        }
    }

    /// A fresh [`Scratch`] for this matcher.
    pub fn scratch(&self) -> Scratch {
        Scratch::default()
    }

    /// The compiled pattern of indicator `i`, from the cache or compiled again.
    fn pattern<'c>(
        &self,
        i: u32,
        cache: &'c mut HashMap<u32, CompiledPattern>,
        stats: &mut Stats,
    ) -> Option<&'c CompiledPattern> {
        if !cache.contains_key(&i) {
            if cache.len() >= self.options.cache.max(1) {
                // Clearing beats tracking recency here: a miss costs one parse and compile,
                // and a working set larger than the cache gains little from LRU order.
                cache.clear();
            }
            let e = self.entries.get(i as usize);
            let c = parse(self.entries.pattern(e), e.version).ok()?;
            stats.recompiled += 1;
            cache.insert(i, c);
        }
        cache.get(&i)
    }

    /// Fills `scratch.cands` with the sorted, de-duplicated postings for `obs`, the always
    /// lists included.
    fn candidates(&self, obs: &Observations<'_>, scratch: &mut Scratch) {
        scratch.cands.clear();
        let mut count = index::ProbeCount::default();
        for o in &obs.list {
            self.index.probe(o, &mut scratch.cands, &mut count);
        }
        scratch.stats.lookups += count.lookups;
        scratch.stats.proposed += scratch.cands.len() as u64;
        scratch
            .cands
            .extend(self.always.iter().map(|&ind| Posting { ind, leaf: 0 }));
        scratch.cands.extend_from_slice(&self.always_leaves);
        scratch.cands.sort_unstable();
        scratch.cands.dedup();
    }

    /// The quick pre-probe (see `index::Index::quick`): `Some(latest first_observed)` when
    /// nothing can match this document, so it need not be loaded.
    fn nothing_to_do(&self, doc: &Value, scratch: &mut Scratch) -> Option<Option<Timestamp>> {
        if !self.always.is_empty() || !self.always_leaves.is_empty() {
            return None;
        }
        scratch.cands.clear();
        let mut count = index::ProbeCount::default();
        let quick = self.index.quick(doc, &mut scratch.cands, &mut count);
        scratch.stats.lookups += count.lookups;
        match quick {
            index::Quick::Nothing(latest) => Some(latest),
            index::Quick::Load => None,
        }
    }

    /// The quick pre-probe on a document's *text*, before it is parsed at all: `Some` when
    /// the text is an observed-data document that loads (exactly as
    /// [`Observations::from_json`] of `serde_json::from_str` would) and no indicator can match
    /// it, with what a [`Stream`] needs of it ([`Stream::push_quiet`]); `None` when it must be
    /// parsed and matched the ordinary way (something may match, or the scan cannot vouch for
    /// the text: escapes, exponents, STIX 2.0 shapes, errors; see the `raw` module).
    ///
    /// Measured on the generated NDJSON (`scripts/bench-hunt.sh`): this is what lets the 99 %
    /// of lines that match nothing skip JSON values and the evaluator's model.
    pub fn quiet_text(&self, text: &str, scratch: &mut Scratch) -> Option<Quiet> {
        self.quiet(text.as_bytes(), true, scratch)
    }

    /// [`CompiledMatcher::quiet_text`] of a line's bytes, not yet known to be UTF-8: `Some`
    /// only when they are (as they then must be for the text to load). A line of ASCII,
    /// which the scan tells in passing, is not checked again.
    pub fn quiet_bytes(&self, text: &[u8], scratch: &mut Scratch) -> Option<Quiet> {
        self.quiet(text, false, scratch)
    }

    fn quiet(&self, text: &[u8], utf8: bool, scratch: &mut Scratch) -> Option<Quiet> {
        if !self.always.is_empty() || !self.always_leaves.is_empty() {
            return None;
        }
        scratch.cands.clear();
        let mut count = index::ProbeCount::default();
        let w = self.index.quick_text(
            text,
            utf8,
            &mut scratch.scan,
            &mut scratch.hashes,
            &mut scratch.cands,
            &mut count,
        );
        scratch.stats.lookups += count.lookups;
        w.map(|w| Quiet {
            earliest: w.earliest,
            latest: w.latest,
        })
    }

    /// Matches one event on its own: every indicator whose pattern the evaluator finds true on
    /// this event's observations alone (stateful patterns included, without any state).
    ///
    /// A document that no index entry can match is not loaded into the evaluator's model, so
    /// it is checked only as far as matching needs (its observed-data's `first_observed`).
    pub fn match_event<S: Clone>(
        &self,
        event: &Event<'_, S>,
        scratch: &mut Scratch,
    ) -> Result<Vec<Hit<S>>, Error> {
        scratch.stats.events += 1;
        if self.nothing_to_do(event.document, scratch).is_some() {
            return Ok(Vec::new());
        }
        let obs = Observations::from_json(event.document)?;
        self.candidates(&obs, scratch);
        let cands = std::mem::take(&mut scratch.cands);
        let mut hits = Vec::new();
        let mut last = None;
        for p in &cands {
            if last == Some(p.ind) {
                continue;
            }
            last = Some(p.ind);
            let e = self.entries.get(p.ind as usize);
            if !e.valid_at(event.time) {
                continue;
            }
            scratch.stats.evaluated += 1;
            let Some(c) = self.pattern(p.ind, &mut scratch.cache, &mut scratch.stats) else {
                continue;
            };
            match c.evaluate_with(&obs, &self.options.eval) {
                Ok(Some(binding)) => {
                    scratch.stats.confirmed += 1;
                    let ev = HitEvent {
                        seq: 0,
                        time: event.time,
                        source: event.source.clone(),
                    };
                    hits.push(Hit {
                        indicator: p.ind as usize,
                        events: vec![ev; binding.entries.len()],
                        binding,
                    });
                }
                Ok(None) => {}
                Err(err) => {
                    scratch.stats.errors += 1;
                    scratch.last_error = Some((p.ind as usize, err));
                }
            }
        }
        scratch.cands = cands;
        Ok(hits)
    }
}

/// Compiles indicators one at a time into the index structures (what
/// [`CompiledMatcher::compile`] does over an iterator), for a caller that reads and checks
/// indicators its own way: nothing of an indicator is kept but what [`Entries`] holds and
/// its index entries.
pub struct Builder {
    options: CompileOptions,
    report: CompileReport,
    index: index::Builder,
    entries: Entries,
    always: Vec<u32>,
    always_leaves: Vec<Posting>,
    /// Indicators offered so far (the positions of [`CompileReport::skipped`]).
    offered: usize,
}

impl std::fmt::Debug for Builder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Builder")
            .field("offered", &self.offered)
            .field("compiled", &self.entries.len())
            .finish_non_exhaustive()
    }
}

impl Builder {
    /// An empty builder.
    pub fn new(options: &CompileOptions) -> Self {
        Builder {
            options: options.clone(),
            report: CompileReport::default(),
            index: index::Builder::new(),
            entries: Entries::default(),
            always: Vec::new(),
            always_leaves: Vec::new(),
            offered: 0,
        }
    }

    /// Records an indicator the caller could not even read as skipped.
    pub fn skip(&mut self, id: Option<String>, why: SkipReason) {
        self.report.skipped.push((self.offered, id, why));
        self.offered += 1;
    }

    /// Adds one indicator: its number (as hits give it), or why it was skipped (also listed
    /// in the report).
    pub fn add(&mut self, ind: Indicator) -> Result<usize, SkipReason> {
        let r = Self::prepare(&ind).and_then(|(version, valid_from, valid_until, compiled)| {
            let parsed = Parsed {
                id: &ind.id,
                name: ind.name.as_deref(),
                pattern: &ind.pattern,
                version,
                valid_from,
                valid_until,
            };
            self.insert(&parsed, &compiled)
        });
        match r {
            Ok(n) => {
                self.offered += 1;
                Ok(n)
            }
            Err(why) => {
                self.skip(Some(ind.id), why.clone());
                Err(why)
            }
        }
    }

    /// Adds an indicator whose pattern the caller parsed (with `parsed.version`) and
    /// compiled already; fails only when there is no room left (2^32 indicators).
    pub fn add_compiled(
        &mut self,
        parsed: &Parsed<'_>,
        compiled: &CompiledPattern,
    ) -> Result<usize, SkipReason> {
        match self.insert(parsed, compiled) {
            Ok(n) => {
                self.offered += 1;
                Ok(n)
            }
            Err(why) => {
                self.skip(Some(parsed.id.to_owned()), why.clone());
                Err(why)
            }
        }
    }

    #[allow(clippy::type_complexity)]
    fn prepare(
        ind: &Indicator,
    ) -> Result<
        (
            pattern::ast::StixVersion,
            Option<Timestamp>,
            Option<Timestamp>,
            CompiledPattern,
        ),
        SkipReason,
    > {
        if ind.pattern_type != "stix" {
            return Err(SkipReason::PatternType(ind.pattern_type.clone()));
        }
        if ind.revoked {
            return Err(SkipReason::Revoked);
        }
        let version =
            pattern::ast::StixVersion::from_pattern_version(ind.pattern_version.as_deref())
                .ok_or_else(|| {
                    SkipReason::PatternVersion(ind.pattern_version.clone().unwrap_or_default())
                })?;
        let valid_from = timestamp("valid_from", ind.valid_from.as_deref())?;
        let valid_until = timestamp("valid_until", ind.valid_until.as_deref())?;
        let compiled = parse(&ind.pattern, version)?;
        Ok((version, valid_from, valid_until, compiled))
    }

    fn insert(
        &mut self,
        parsed: &Parsed<'_>,
        compiled: &CompiledPattern,
    ) -> Result<usize, SkipReason> {
        let stateful = anchor::needs_state(&compiled.inner.root);
        let horizon = if stateful {
            anchor::horizon(&compiled.inner.root)
        } else {
            None
        };
        let Some(ind) = self.entries.push(parsed, stateful, horizon) else {
            return Err(SkipReason::Missing(
                "room (over 2^32 indicators or 4 GiB of text)",
            ));
        };
        let leaves: Vec<_> = compiled
            .inner
            .leaves
            .iter()
            .map(|l| anchor::of_expr(&l.expr))
            .collect();
        if stateful {
            self.report.stateful += 1;
            for (l, a) in leaves.into_iter().enumerate() {
                let posting = Posting {
                    ind,
                    leaf: l as u32,
                };
                match a {
                    Some(a) => {
                        for (path, probe) in a {
                            self.index.add(path, probe, posting);
                        }
                    }
                    None => self.always_leaves.push(posting),
                }
            }
        } else if leaves.iter().all(Option::is_some) {
            for (l, a) in leaves.into_iter().enumerate() {
                for (path, probe) in a.unwrap_or_default() {
                    self.index.add(
                        path,
                        probe,
                        Posting {
                            ind,
                            leaf: l as u32,
                        },
                    );
                }
            }
        } else {
            self.always.push(ind);
        }
        Ok(ind as usize)
    }

    /// How many indicators were compiled so far.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none was compiled yet.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Builds the automata and freezes the tables.
    pub fn finish(self) -> (CompiledMatcher, CompileReport) {
        let Builder {
            options,
            mut report,
            index,
            mut entries,
            mut always,
            mut always_leaves,
            offered: _,
        } = self;
        entries.shrink();
        report.compiled = entries.len();
        let (index, unindexed) = index.finish();
        // Postings whose automaton could not be built (past its size limits): evaluated on
        // every event instead, which is slower but still exact.
        for p in unindexed {
            if entries.get(p.ind as usize).stateful {
                always_leaves.push(p);
            } else {
                always.push(p.ind);
            }
        }
        always.sort_unstable();
        always.dedup();
        always_leaves.sort_unstable();
        always_leaves.dedup();
        report.always = always.len() + {
            let mut inds: Vec<u32> = always_leaves.iter().map(|p| p.ind).collect();
            inds.dedup();
            inds.len()
        };
        report.paths = index.paths();
        report.index_bytes = index.heap_bytes();
        report.entry_bytes = entries.heap_bytes();
        let m = CompiledMatcher {
            entries,
            index,
            always,
            always_leaves,
            options,
        };
        (m, report)
    }
}

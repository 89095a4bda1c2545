//! A hunt: events in, alert lines and sightings out, with the counts a summary needs.
//!
//! [`Hunter`] holds no I/O of its own beyond the alert sink it is given: the CLI opens the
//! inputs, drives the readers, shows progress and prints the summary.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::sync::Arc;

use crate::Error;
use crate::engine::{Engine, EvalFailure, Hit};
use crate::event::Event;
use crate::reader::BadLine;
use crate::sighting::Sightings;

/// Bad lines per input reported with a warning; the rest are only counted.
const BAD_LINES_SHOWN: u64 = 20;

/// Counts of a hunt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HuntStats {
    /// Events matched.
    pub events: u64,
    /// Lines refused by the readers.
    pub bad_lines: u64,
    /// Alert lines written.
    pub alerts: u64,
    /// Evaluations that ended without an answer (a matcher bound, or unusable data).
    pub eval_failures: u64,
    /// Events whose observed-data the matcher could not load.
    pub unloadable_events: u64,
}

/// Runs events through an engine (see the module docs).
pub struct Hunter<'e> {
    engine: &'e mut dyn Engine,
    stats: HuntStats,
    sightings: Sightings,
    hits: Vec<Hit>,
    failures: Vec<EvalFailure>,
    bad_per_file: HashMap<Arc<str>, u64>,
    failed_indicators: HashSet<usize>,
}

impl std::fmt::Debug for Hunter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hunter")
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl<'e> Hunter<'e> {
    /// A hunt with `engine`.
    pub fn new(engine: &'e mut dyn Engine) -> Self {
        Hunter {
            engine,
            stats: HuntStats::default(),
            sightings: Sightings::new(),
            hits: Vec::new(),
            failures: Vec::new(),
            bad_per_file: HashMap::new(),
            failed_indicators: HashSet::new(),
        }
    }

    /// Matches one event, writes its alert lines to `alerts`, and returns how many.
    pub fn event(&mut self, event: &Event, alerts: &mut dyn Write) -> Result<usize, Error> {
        self.stats.events += 1;
        self.hits.clear();
        self.failures.clear();
        if let Err(e) = self
            .engine
            .matches(event, &mut self.hits, &mut self.failures)
        {
            self.stats.unloadable_events += 1;
            tracing::warn!(
                "{}:{}: observation not usable: {e}",
                event.source.file,
                event.source.line
            );
            return Ok(0);
        }
        for f in &self.failures {
            self.stats.eval_failures += 1;
            if self.failed_indicators.insert(f.indicator) {
                let id = self.engine.indicator(f.indicator).id;
                tracing::warn!(
                    "{}:{}: indicator {id}: {} (further failures of it are only counted)",
                    event.source.file,
                    event.source.line,
                    f.error
                );
            }
        }
        let out = |source| Error::Output {
            what: "alerts",
            source,
        };
        for hit in &self.hits {
            let alert = self.engine.alert(hit, event);
            serde_json::to_writer(&mut *alerts, &alert).map_err(|e| out(e.into()))?;
            alerts.write_all(b"\n").map_err(out)?;
            self.sightings.record(&alert.indicator, event.time);
            self.stats.alerts += 1;
        }
        Ok(self.hits.len())
    }

    /// Counts a bad line and reports it (the first few per input; then only counts).
    pub fn bad_line(&mut self, bad: &BadLine) {
        self.stats.bad_lines += 1;
        let n = self
            .bad_per_file
            .entry(bad.source.file.clone())
            .or_default();
        *n += 1;
        if *n <= BAD_LINES_SHOWN {
            tracing::warn!("{bad}");
        }
        if *n == BAD_LINES_SHOWN {
            tracing::warn!(
                "{}: further bad lines are counted, not shown",
                bad.source.file
            );
        }
    }

    /// The counts so far.
    pub fn stats(&self) -> &HuntStats {
        &self.stats
    }

    /// A quiet filter of the engine, for a reader of this hunt
    /// ([`crate::Reader::set_quiet_filter`]).
    pub fn quiet_filter(&self) -> Option<crate::engine::QuietFilter> {
        self.engine.quiet_filter()
    }

    /// The engine's indicator count.
    pub fn indicator_count(&self) -> usize {
        self.engine.len()
    }

    /// The sightings gathered so far.
    pub fn sightings(&self) -> &Sightings {
        &self.sightings
    }
}

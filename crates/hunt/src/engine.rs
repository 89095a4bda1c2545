//! The seam between a hunt and pattern semantics.
//!
//! [`Engine`] is what [`crate::hunt::Hunter`] asks for each event: which indicators match,
//! with the matcher's [`matcher::Binding`] for each. The pattern semantics stay in the
//! `matcher` crate; an engine only decides which indicators to evaluate and how.
//!
//! * [`Compiled`] is the engine of `entente hunt`: `matcher::compiled`'s index over all
//!   indicators, whose cost per event does not grow with their number, fed as a
//!   `matcher::compiled::Stream` so that patterns spanning several events (`AND`,
//!   `FOLLOWEDBY`, `REPEATS` between observations) match across events within the stream's
//!   bounds.
//! * [`EachIndicator`] evaluates every indicator valid at the event's time with the
//!   single-pattern evaluator, on each event alone: obviously correct, O(indicators) per
//!   event. Tests use it as the reference the compiled engine must agree with.

use std::sync::Arc;

use matcher::compiled::{CompileOptions, CompiledMatcher, Stream, StreamOptions};
use matcher::{Binding, CompiledPattern};

use crate::alert::Alert;
use crate::event::Event;
use crate::indicators::{Handed, Indicator};

/// One indicator that matched one event.
#[derive(Debug, Clone)]
pub struct Hit {
    /// Index of the indicator in the engine ([`Engine::indicator`]).
    pub indicator: usize,
    /// Which observation satisfied which observation expression. For a match across events
    /// (compiled engine only) some entries refer to earlier events.
    pub binding: Binding,
}

/// An evaluation that failed (the answer is unknown, not "no match").
#[derive(Debug, Clone)]
pub struct EvalFailure {
    /// Index of the indicator in the engine.
    pub indicator: usize,
    /// Why.
    pub error: matcher::Error,
}

/// What an engine tells about one of its indicators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndicatorInfo<'a> {
    /// The id.
    pub id: &'a str,
    /// The name.
    pub name: Option<&'a str>,
    /// The pattern text.
    pub pattern: &'a str,
}

/// A pre-filter on a record's bytes: `Some` when they are UTF-8 text and no indicator of the
/// engine that made it can match the record (see [`Engine::quiet_filter`]).
pub type QuietFilter = Box<dyn FnMut(&[u8]) -> Option<matcher::compiled::Quiet> + Send>;

/// Matches events against a set of indicators.
pub trait Engine {
    /// How many indicators the engine hunts with.
    fn len(&self) -> usize;

    /// Whether it hunts with none.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Indicator `i` (as [`Hit::indicator`] refers to it).
    fn indicator(&self, i: usize) -> IndicatorInfo<'_>;

    /// A filter for the readers ([`crate::Reader::set_quiet_filter`]) that tells, from a STIX
    /// record's text alone, that none of this engine's indicators can match it; the events
    /// it lets the reader skip building must then be given to this engine only. `None` (the
    /// default) when the engine has none.
    fn quiet_filter(&self) -> Option<QuietFilter> {
        None
    }

    /// The alert line of `hit`, which [`Engine::matches`] found on `event` (by default
    /// [`Alert::new`], which compiles the indicator's pattern again).
    fn alert(&mut self, hit: &Hit, event: &Event) -> Alert {
        Alert::new(self.indicator(hit.indicator), hit, event)
    }

    /// Appends the indicators that match `event` to `hits`, and the evaluations that failed
    /// to `failures`. An error means the event itself is not usable observed-data (as a
    /// quiet event is for an engine without a quiet filter).
    fn matches(
        &mut self,
        event: &Event,
        hits: &mut Vec<Hit>,
        failures: &mut Vec<EvalFailure>,
    ) -> Result<(), matcher::Error>;
}

/// Every indicator through the single-pattern evaluator (see the module docs).
#[derive(Debug)]
pub struct EachIndicator {
    indicators: Vec<(Indicator, CompiledPattern, Window)>,
    /// Indicators whose patterns did not compile (refused again here, not hunted).
    pub skipped: usize,
}

type Window = (Option<jiff::Timestamp>, Option<jiff::Timestamp>);

impl EachIndicator {
    /// An engine over `indicators`.
    pub fn new(indicators: Vec<Indicator>) -> Self {
        let mut skipped = 0;
        let indicators = indicators
            .into_iter()
            .filter_map(|ind| {
                let compiled = pattern::parse(&ind.pattern, ind.version())
                    .ok()
                    .and_then(|ast| matcher::compile(&ast).ok());
                match compiled {
                    Some(c) => {
                        let w = ind.window();
                        Some((ind, c, w))
                    }
                    None => {
                        skipped += 1;
                        None
                    }
                }
            })
            .collect();
        EachIndicator {
            indicators,
            skipped,
        }
    }
}

impl Engine for EachIndicator {
    fn len(&self) -> usize {
        self.indicators.len()
    }

    fn indicator(&self, i: usize) -> IndicatorInfo<'_> {
        match self.indicators.get(i) {
            Some((ind, _, _)) => IndicatorInfo {
                id: &ind.id,
                name: ind.name.as_deref(),
                pattern: &ind.pattern,
            },
            None => IndicatorInfo {
                id: "",
                name: None,
                pattern: "",
            },
        }
    }

    fn matches(
        &mut self,
        event: &Event,
        hits: &mut Vec<Hit>,
        failures: &mut Vec<EvalFailure>,
    ) -> Result<(), matcher::Error> {
        let observations = event.observations()?;
        for (i, (_, compiled, (from, until))) in self.indicators.iter().enumerate() {
            let valid =
                from.is_none_or(|f| f <= event.time) && until.is_none_or(|u| event.time < u);
            if !valid {
                continue;
            }
            match compiled.evaluate(&observations) {
                Ok(Some(binding)) => hits.push(Hit {
                    indicator: i,
                    binding,
                }),
                Ok(None) => {}
                Err(error) => failures.push(EvalFailure {
                    indicator: i,
                    error,
                }),
            }
        }
        Ok(())
    }
}

/// The compiled multi-indicator matcher over the event stream (see the module docs).
#[derive(Debug)]
pub struct Compiled {
    matcher: Arc<CompiledMatcher>,
    stream: Stream<()>,
    /// Indicators the compiled matcher refused (with its reasons).
    pub skipped: Vec<String>,
}

impl Compiled {
    /// Loads the indicators of a STIX document (see [`crate::indicators::load_each`]) and
    /// compiles each straight into the index as it is read, its pattern parsed and compiled
    /// once: nothing of an indicator stays but what the compiled matcher keeps.
    pub fn load(
        bytes: &[u8],
        source_name: &str,
        warninglists: Option<&crate::warninglist::Warninglists>,
    ) -> Result<(Self, crate::indicators::LoadReport), crate::Error> {
        let options = CompileOptions::default();
        let mut builder = matcher::compiled::Builder::new(&options);
        let report = crate::indicators::load_each(bytes, source_name, warninglists, |h| {
            let l = match h {
                Handed::Kept(l) => l,
                Handed::Restart => {
                    builder = matcher::compiled::Builder::new(&options);
                    return;
                }
            };
            let parsed = matcher::compiled::Parsed {
                id: l.id,
                name: l.name,
                pattern: l.pattern,
                version: l.version,
                valid_from: l.window.0,
                valid_until: l.window.1,
            };
            // Refused only past 2^32 indicators; the report lists it.
            let _ = builder.add_compiled(&parsed, l.compiled);
        })?;
        Ok((Self::from_builder(builder), report))
    }

    /// Compiles `indicators` into the index.
    pub fn new(indicators: Vec<Indicator>) -> Self {
        let items = indicators.into_iter().map(|ind| {
            let mut m = matcher::compiled::Indicator::new(ind.id, ind.pattern);
            m.name = ind.name;
            m.pattern_version = ind.pattern_version;
            m.valid_from = ind.valid_from;
            m.valid_until = ind.valid_until;
            m
        });
        let mut builder = matcher::compiled::Builder::new(&CompileOptions::default());
        for ind in items {
            let _ = builder.add(ind);
        }
        Self::from_builder(builder)
    }

    fn from_builder(builder: matcher::compiled::Builder) -> Self {
        let (m, report) = builder.finish();
        let skipped = report
            .skipped
            .iter()
            .map(|(_, id, why)| format!("{}: {why}", id.as_deref().unwrap_or("?")))
            .collect();
        let matcher = Arc::new(m);
        Compiled {
            stream: Stream::new(Arc::clone(&matcher), StreamOptions::default()),
            matcher,
            skipped,
        }
    }
}

impl Engine for Compiled {
    fn len(&self) -> usize {
        self.stream.matcher().len()
    }

    fn quiet_filter(&self) -> Option<QuietFilter> {
        let m = Arc::clone(&self.matcher);
        let mut scratch = m.scratch();
        Some(Box::new(move |text| m.quiet_bytes(text, &mut scratch)))
    }

    fn indicator(&self, i: usize) -> IndicatorInfo<'_> {
        let r = self.stream.matcher().indicator(i);
        IndicatorInfo {
            id: r.id,
            name: r.name,
            pattern: r.pattern,
        }
    }

    /// The alert with the pattern the stream matched with, from its cache: compiling it
    /// once more for the alert (a few microseconds for an equality, a regex for `MATCHES`)
    /// was ~1 % of a hunt with 1 % of lines hitting (callgrind).
    fn alert(&mut self, hit: &Hit, event: &Event) -> Alert {
        let r = self.matcher.indicator(hit.indicator);
        let info = IndicatorInfo {
            id: r.id,
            name: r.name,
            pattern: r.pattern,
        };
        Alert::with_pattern(info, hit, event, self.stream.pattern(hit.indicator))
    }

    fn matches(
        &mut self,
        event: &Event,
        hits: &mut Vec<Hit>,
        failures: &mut Vec<EvalFailure>,
    ) -> Result<(), matcher::Error> {
        if let Some(quiet) = &event.quiet {
            self.stream.push_quiet(quiet);
            return Ok(());
        }
        let errors_before = self.stream.stats().errors;
        let found = self.stream.push(&matcher::compiled::Event {
            document: &event.observation,
            time: event.time,
            source: (),
        })?;
        if self.stream.stats().errors > errors_before
            && let Some((indicator, error)) = self.stream.last_error()
        {
            failures.push(EvalFailure {
                indicator: *indicator,
                error: error.clone(),
            });
        }
        hits.extend(found.into_iter().map(|h| Hit {
            indicator: h.indicator,
            binding: h.binding,
        }));
        Ok(())
    }
}

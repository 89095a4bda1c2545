//! Alert lines: one JSON object per (event, indicator) match.
//!
//! ```json
//! {"indicator": "indicator--…", "name": "…", "source": {"file": "dns.log", "line": 12},
//!  "time": "2018-03-24T17:15:20.865716Z",
//!  "matched": [{"path": "domain-name:value", "value": "evil.example"}]}
//! ```
//!
//! `matched` is read off the matcher's binding: for every bound observation expression, the
//! matcher lists, for the root SCOs that satisfied it, the values that satisfied each of its
//! comparisons (`matcher::CompiledPattern::matched_values`); they are shown with the object
//! path as written in the pattern.

use serde::Serialize;
use serde_json::Value;

use crate::engine::{Hit, IndicatorInfo};
use crate::event::Event;

/// Where the matched record is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertSource {
    /// The input file.
    pub file: String,
    /// 1-based line number.
    pub line: u64,
}

/// One matched value.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Matched {
    /// The object path as written in the pattern, e.g. `domain-name:value`.
    pub path: String,
    /// The value found there in the event.
    pub value: Value,
}

/// One alert line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    /// The indicator's id.
    pub indicator: String,
    /// The indicator's name (`null` without one).
    pub name: Option<String>,
    /// Where the record is.
    pub source: AlertSource,
    /// The record's time (STIX timestamp, UTC).
    pub time: String,
    /// The values that matched.
    pub matched: Vec<Matched>,
}

impl Alert {
    /// The alert for `hit` on `event`. Only SCOs of `event` are looked at: an entry of a
    /// binding across events that refers to an earlier event lists nothing.
    pub fn new(indicator: IndicatorInfo<'_>, hit: &Hit, event: &Event) -> Alert {
        // Hits are few; compiling the pattern again here keeps no tree per indicator. Which
        // values satisfied a comparison is the matcher's judgement, not re-derived here.
        let compiled = pattern::parse(indicator.pattern, pattern::StixVersion::V21)
            .or_else(|_| pattern::parse(indicator.pattern, pattern::StixVersion::V20))
            .ok()
            .and_then(|ast| matcher::compile(&ast).ok());
        Alert::with_pattern(indicator, hit, event, compiled.as_ref())
    }

    /// [`Alert::new`] with the indicator's compiled pattern at hand (the one the engine
    /// matched with, whose binding `hit` carries), or `None` when there is none (the alert
    /// then lists no values).
    pub fn with_pattern(
        indicator: IndicatorInfo<'_>,
        hit: &Hit,
        event: &Event,
        compiled: Option<&matcher::CompiledPattern>,
    ) -> Alert {
        let mut matched = Vec::new();
        let observations = event.observations().ok();
        if let (Some(compiled), Some(observations)) = (compiled, &observations) {
            for entry in &hit.binding.entries {
                for root in &entry.roots {
                    let found = compiled
                        .matched_values(observations, entry.expression, root)
                        .unwrap_or_default();
                    for (span, value) in found {
                        let path = indicator
                            .pattern
                            .get(span.start..span.end)
                            .unwrap_or_default()
                            .to_owned();
                        let m = Matched { path, value };
                        if !matched.contains(&m) {
                            matched.push(m);
                        }
                    }
                }
            }
        }
        Alert {
            indicator: indicator.id.to_owned(),
            name: indicator.name.map(str::to_owned),
            source: AlertSource {
                file: event.source.file.to_string(),
                line: event.source.line,
            },
            time: event.time.to_string(),
            matched,
        }
    }
}

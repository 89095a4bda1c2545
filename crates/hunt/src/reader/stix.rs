//! STIX observed-data NDJSON: one bundle (or observed-data object, or array) per line.
//!
//! This is what `pattern_bench_gen.py` writes: each line a bundle whose first object is an
//! `observed-data` (STIX 2.1 §4.14) with the SCOs it references beside it. The line is
//! passed to the matcher unchanged; the event's time is the earliest `first_observed`.
//!
//! With a quiet filter (`Reader::set_quiet_filter`) the compiled matcher first reads the
//! line's text: a line it vouches nothing can match becomes a [`quiet_event`] without being
//! parsed into JSON values at all, which is most lines of a hunt (`scripts/bench-hunt.sh`).

use serde_json::Value;

use crate::event::{Event, Source};

/// The event of a line that the compiled matcher's quiet filter vouched for: its time is the
/// earliest `first_observed`, as [`event`] takes it, and it has no document.
pub fn quiet_event(quiet: matcher::compiled::Quiet, source: Source) -> Event {
    Event {
        time: quiet.earliest(),
        observation: Value::Null,
        quiet: Some(quiet),
        source,
    }
}

/// Builds the event of one line.
pub fn event(text: &str, source: &Source) -> Result<Event, String> {
    let doc: Value = serde_json::from_str(text).map_err(|e| format!("invalid JSON: {e}"))?;
    // Loading checks the shape (bundle, observed-data fields) once, here, so that a bad line
    // is reported by the reader rather than at every indicator.
    let first = {
        let obs = matcher::Observations::from_json(&doc).map_err(|e| e.to_string())?;
        if obs.is_empty() {
            return Err("no observed-data object".into());
        }
        obs.iter().map(|o| o.first_observed).min()
    };
    let time = first.ok_or("no observed-data object")?;
    Ok(Event {
        time,
        observation: doc,
        quiet: None,
        source: source.clone(),
    })
}

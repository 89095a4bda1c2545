//! Evaluating one pattern over several event documents at once.
//!
//! Each event is its own observed-data document: its references resolve inside it (STIX 2.1
//! §9.7.4), even when two events use the same deterministic SCO id for objects with different
//! properties. So a window of events is loaded document by document and the observations are
//! merged, rather than pasting the documents into one (where the first SCO of an id would
//! win for every event).

use crate::observation::Observations;

/// Merges per-document observations into one set, in the evaluator's order (by
/// `first_observed`, then `last_observed`, ties in input order — the order `from_json` gives
/// one document), and says where each merged observation came from: (part, index in part).
pub(crate) fn merge<'d>(parts: Vec<Observations<'d>>) -> (Observations<'d>, Vec<(usize, usize)>) {
    let mut tagged = Vec::new();
    for (p, part) in parts.into_iter().enumerate() {
        for (i, o) in part.list.into_iter().enumerate() {
            tagged.push(((p, i), o));
        }
    }
    // Stable: equal windows keep part order, then document order.
    tagged.sort_by(|(_, a), (_, b)| {
        (a.first_observed, a.last_observed).cmp(&(b.first_observed, b.last_observed))
    });
    let (origin, list) = tagged.into_iter().unzip();
    (Observations { list }, origin)
}

impl<'d> Observations<'d> {
    /// The observations of several documents as one set (for evaluating a pattern across
    /// events), each document's references resolving within that document; ordered as
    /// [`Observations::from_json`] orders one document.
    pub fn concat(parts: impl IntoIterator<Item = Observations<'d>>) -> Observations<'d> {
        merge(parts.into_iter().collect()).0
    }
}

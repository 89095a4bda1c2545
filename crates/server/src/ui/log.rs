//! The transparency log's page (`/ui/log`): the latest signed checkpoint with its
//! signatures (the log's own and the witnesses' cosignatures), the verifier key, the log's
//! size over time and its newest entries.
//!
//! The log is public (its `/log/` routes need no token), so nothing here is filtered by
//! TLP: entries carry only a commitment to (collection, object, version), never the object.
//! Size over time is drawn from [`SAMPLES`] entries spread evenly over the log: each entry
//! records its date_added, so entry `i` says "the log had `i + 1` entries at that time".

use axum::Router;
use axum::extract::State;
use axum::response::Response;
use axum::routing::get;
use maud::{Markup, html};
use serde_json::Value;

use crate::ui::layout::{self, Nav};
use crate::ui::{Session, UiError, UiState};

/// Entries sampled for the size-over-time chart.
pub const SAMPLES: u64 = 40;
/// Newest entries listed.
const RECENT: u64 = 10;

pub(crate) fn routes() -> Router<UiState> {
    Router::new().route("/log", get(page))
}

/// The signature lines of a signed note (C2SP signed-note: after the first blank line,
/// each `— NAME SIGNATURE`), as (name, signature).
pub fn signatures(note: &str) -> Vec<(String, String)> {
    let Some((_, sigs)) = note.split_once("\n\n") else {
        return Vec::new();
    };
    sigs.lines()
        .filter_map(|l| l.strip_prefix("— "))
        .filter_map(|l| l.split_once(' '))
        .map(|(n, s)| (n.to_owned(), s.to_owned()))
        .collect()
}

/// The `date_added` and `op` of a log entry (DESIGN.md's canonical JSON).
fn entry_fields(entry: &[u8]) -> (String, String) {
    let v: Value = serde_json::from_slice(entry).unwrap_or(Value::Null);
    let get = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("?").to_owned();
    (get("date_added"), get("op"))
}

/// An SVG line of (time, size) points, times as STIX timestamps.
fn chart(points: &[(String, u64)]) -> Markup {
    let parsed: Vec<(i64, u64)> = points
        .iter()
        .filter_map(|(t, n)| {
            let ts = stix::Timestamp::parse(t).ok()?;
            Some((ts.instant().as_microsecond(), *n))
        })
        .collect();
    if parsed.len() < 2 {
        return html! {};
    }
    let (t0, t1) = (parsed[0].0, parsed[parsed.len() - 1].0);
    let n1 = parsed[parsed.len() - 1].1.max(1);
    let (w, h) = (600.0_f64, 120.0_f64);
    let span = (t1 - t0).max(1) as f64;
    let pts: Vec<String> = parsed
        .iter()
        .map(|(t, n)| {
            let x = 10.0 + (w - 20.0) * (t - t0) as f64 / span;
            let y = h - 10.0 - (h - 20.0) * *n as f64 / n1 as f64;
            format!("{x:.1},{y:.1}")
        })
        .collect();
    html! {
        svg.spark xmlns="http://www.w3.org/2000/svg" viewBox={ "0 0 " (w) " " (h) } role="img"
            aria-label="Log size over time" {
            title { "Log size over time" }
            polyline points=(pts.join(" ")) {}
        }
    }
}

async fn page(State(state): State<UiState>, session: Session) -> Result<Response, UiError> {
    let store = &state.app.store;
    let Some(signer) = state.app.log.as_ref() else {
        let content = html! { h1 { "Transparency log" } p { "This server runs without a transparency log." } };
        return Ok(layout::html(layout::page(
            &session,
            "Log",
            Nav::Log,
            content,
        )));
    };
    let published = signer.current(store).await?;
    let size = published.size;
    let note = published.note.to_string();
    let sigs = signatures(&note);
    let mut samples: Vec<(String, u64)> = Vec::new();
    if size > 0 {
        let step = size.div_ceil(SAMPLES).max(1);
        let mut idx: Vec<u64> = (0..size).step_by(step as usize).collect();
        if idx.last() != Some(&(size - 1)) {
            idx.push(size - 1);
        }
        for i in idx {
            if let Some(leaf) = store.log_leaves(i, 1).await?.first() {
                samples.push((entry_fields(&leaf.entry).0, i + 1));
            }
        }
    }
    let recent = store
        .log_leaves(size.saturating_sub(RECENT), RECENT.min(size))
        .await?;
    let content = html! {
        h1 { "Transparency log" }
        p.muted {
            "Every object version stored or deleted is appended to this log in the same transaction. "
            "Anyone can check it with " code { "entente verify" } " and the verifier key below."
        }
        div.cards {
            section.card aria-labelledby="h-cp" {
                h2 #h-cp { "Latest checkpoint" }
                dl.fields {
                    dt { "Origin" } dd.mono { (signer.origin()) }
                    dt { "Size" } dd { strong { (size) } " entries" }
                    dt { "Verifier key" } dd.mono { (signer.vkey()) }
                    dt { "Served at" } dd { a href="/log/checkpoint" { "/log/checkpoint" } }
                }
                pre.note { (note) }
            }
            section.card aria-labelledby="h-sig" {
                h2 #h-sig { "Signatures" }
                ul {
                    @for (name, sig) in &sigs {
                        li {
                            @if name == signer.origin() { strong { "log" } } @else { strong { "witness" } }
                            " " span.mono { (name) }
                            div.id { (sig) }
                        }
                    }
                }
                @if sigs.len() <= 1 { p.muted { "No witness has cosigned this checkpoint." } }
            }
        }
        section aria-labelledby="h-size" {
            h2 #h-size { "Size over time" }
            (chart(&samples))
            @if samples.is_empty() { p.muted { "The log is empty." } }
        }
        section aria-labelledby="h-recent" {
            h2 #h-recent { "Newest entries" }
            div.table-wrap { table {
                thead { tr { th.num scope="col" { "Index" } th scope="col" { "Operation" } th scope="col" { "Date added" } } }
                tbody {
                    @for leaf in recent.iter().rev() {
                        @let (added, op) = entry_fields(&leaf.entry);
                        tr { td.num { (leaf.index) } td { (op) } td { (layout::time(&added)) } }
                    }
                }
            } }
        }
    };
    Ok(layout::html(layout::page(
        &session,
        "Log",
        Nav::Log,
        content,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_lines_are_read_from_the_note() {
        let note = "log.example\n3\nAAAA\n\n— log.example abc=\n— witness.example def=\n";
        assert_eq!(
            signatures(note),
            vec![
                ("log.example".to_owned(), "abc=".to_owned()),
                ("witness.example".to_owned(), "def=".to_owned())
            ]
        );
        assert!(signatures("no blank line").is_empty());
    }
}

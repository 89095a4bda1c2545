//! What an incremental TAXII sync remembers between runs: for each stream (a source
//! server, API root and collection copied into one target), the `added_after` position it
//! reached; for each source log (an entente server's transparency log), how its
//! checkpoints are trusted and the last one seen.
//!
//! What it is: the state as a serde value with its rules, pure and synchronous. Reading and
//! writing the file (atomically, after each page is committed at the target) is the
//! caller's job; `entente sync` does it.
//!
//! The rules, from TAXII 2.1 §3.4.1 and §5.4: `added_after` is exclusive and the
//! `X-TAXII-Date-Added-First`/`-Last` headers of a page name the `date_added` of its first
//! and last objects; [`Resume`] turns them into a position from which the next run may ask
//! without skipping an object, also when several objects share a `date_added`. A stream's
//! position only moves forward (an older position, or none, leaves it where it is, so a run
//! may fetch again but never skips).
//!
//! Tests: unit tests below; `crates/cli/tests/sync.rs` runs whole syncs.

use serde::{Deserialize, Serialize};

/// Largest state file read, in bytes: far above any real number of streams and logs.
pub const MAX_STATE_BYTES: usize = 16 * 1024 * 1024;

/// Format version written in every state file.
pub const STATE_VERSION: u32 = 1;

/// Why a state file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SyncStateError {
    /// Larger than [`MAX_STATE_BYTES`].
    #[error("the sync state is {size} bytes, more than the {MAX_STATE_BYTES} allowed")]
    TooLarge {
        /// Its size.
        size: usize,
    },
    /// Not the JSON this module writes.
    #[error("the sync state is not valid: {0}")]
    Invalid(#[from] serde_json::Error),
    /// Written by a newer entente.
    #[error("the sync state has format version {0}; this entente reads {STATE_VERSION}")]
    Version(u32),
}

/// One stream: a source collection copied into a target.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StreamKey {
    /// The source server as given (`--from`).
    pub source: String,
    /// The source's API root URL.
    pub api_root: String,
    /// The source collection's id.
    pub collection: String,
    /// Where the objects go, e.g. `data:/srv/entente#<collection>`.
    pub target: String,
}

/// A stream and its position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StreamState {
    /// Which stream.
    #[serde(flatten)]
    pub key: StreamKey,
    /// The `added_after` to ask from next: the newest `X-TAXII-Date-Added-Last` of a page
    /// committed at the target. `None` before the first page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub added_after: Option<String>,
}

/// How a source's transparency log is trusted, and where it was last seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogState {
    /// The source's base URL (without `/taxii2/`).
    pub base: String,
    /// The log's origin (its checkpoints' first line).
    pub origin: String,
    /// The verifier key given by the user, when one was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vkey: Option<String>,
    /// The key id (hex) trusted on first use, when no key was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pinned_key_id: Option<String>,
    /// The last checkpoint checked, as the signed note the server served.
    pub checkpoint: String,
}

/// Everything a sync remembers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncState {
    /// [`STATE_VERSION`].
    pub version: u32,
    /// One entry per stream, sorted by key.
    #[serde(default)]
    pub streams: Vec<StreamState>,
    /// One entry per source log, sorted by base URL.
    #[serde(default)]
    pub logs: Vec<LogState>,
}

impl Default for SyncState {
    fn default() -> Self {
        SyncState {
            version: STATE_VERSION,
            streams: Vec::new(),
            logs: Vec::new(),
        }
    }
}

impl SyncState {
    /// Reads a state file's bytes.
    pub fn from_slice(bytes: &[u8]) -> Result<SyncState, SyncStateError> {
        if bytes.len() > MAX_STATE_BYTES {
            return Err(SyncStateError::TooLarge { size: bytes.len() });
        }
        let state: SyncState = serde_json::from_slice(bytes)?;
        if state.version > STATE_VERSION {
            return Err(SyncStateError::Version(state.version));
        }
        Ok(state)
    }

    /// The bytes of the state file: pretty JSON, ending in a newline.
    pub fn to_vec(&self) -> Vec<u8> {
        // A struct of strings and numbers always serializes.
        let mut out = serde_json::to_vec_pretty(self).unwrap_or_default();
        out.push(b'\n');
        out
    }

    /// The position a stream resumes from, if it ever committed a page.
    pub fn cursor(&self, key: &StreamKey) -> Option<&str> {
        self.streams
            .iter()
            .find(|s| s.key == *key)
            .and_then(|s| s.added_after.as_deref())
    }

    /// Records that every object of a page up to `date_added_last` is committed at the
    /// target. Returns whether the position moved: it moves only forward, so an older or
    /// missing header leaves it alone. Timestamps are compared as instants when both
    /// parse as RFC 3339, else as text.
    pub fn advance(&mut self, key: &StreamKey, date_added_last: Option<&str>) -> bool {
        let Some(last) = date_added_last.map(str::trim).filter(|l| !l.is_empty()) else {
            return false;
        };
        let i = match self.streams.binary_search_by(|s| s.key.cmp(key)) {
            Ok(i) => i,
            Err(i) => {
                self.streams.insert(
                    i,
                    StreamState {
                        key: key.clone(),
                        added_after: None,
                    },
                );
                i
            }
        };
        let stream = &mut self.streams[i];
        let newer = match &stream.added_after {
            None => true,
            Some(old) => is_later(last, old),
        };
        if newer {
            stream.added_after = Some(last.to_owned());
        }
        newer
    }

    /// The log kept for a source, if any.
    pub fn log(&self, base: &str) -> Option<&LogState> {
        self.logs.iter().find(|l| l.base == base)
    }

    /// Keeps (or replaces) the log of `log.base`.
    pub fn set_log(&mut self, log: LogState) {
        match self.logs.binary_search_by(|l| l.base.cmp(&log.base)) {
            Ok(i) => self.logs[i] = log,
            Err(i) => self.logs.insert(i, log),
        }
    }
}

/// Where a stream may resume without skipping anything, page after page of one pass.
///
/// `added_after` is exclusive (TAXII 2.1 §3.4.1), so resuming from a page's
/// `X-TAXII-Date-Added-Last` skips the objects of the next page that share that
/// `date_added`. entente assigns strictly increasing values, but other servers do not:
/// medallion gives every object of an envelope the same one. So, unless the source is known
/// to be strict, a position is taken only when nothing at or before it can still come:
/// the page's first value when the page ends later (ties of the first value cannot reach
/// past this page), the previous page's last value when this page starts later, and the
/// last value of the pass's final page. A run that stops in between fetches again at most
/// the objects since that position; they count as unchanged at the target.
#[derive(Debug, Clone, Default)]
pub struct Resume {
    strict: bool,
    previous_last: Option<String>,
}

impl Resume {
    /// A pass over a source whose `date_added` values are strictly increasing (`strict`:
    /// entente) or maybe shared by several objects.
    pub fn new(strict: bool) -> Resume {
        Resume {
            strict,
            previous_last: None,
        }
    }

    /// After a page is committed at the target: the position a new run may ask from, if
    /// there is one. `first` and `last` are the page's `X-TAXII-Date-Added-First` and
    /// `-Last` headers, `items` its object count, `more` whether the source has more.
    pub fn committed(
        &mut self,
        first: Option<&str>,
        last: Option<&str>,
        items: usize,
        more: bool,
    ) -> Option<String> {
        let (mut first, mut last) = (clean(first), clean(last));
        // One object: both headers name it, whichever the server sent.
        if items == 1 {
            first = first.or(last);
            last = last.or(first);
        }
        let safe = if self.strict || !more {
            last
        } else {
            match (first, last, self.previous_last.as_deref()) {
                (Some(f), Some(l), _) if is_later(l, f) => Some(f),
                (Some(f), _, Some(p)) if is_later(f, p) => Some(p),
                _ => None,
            }
        }
        .map(str::to_owned);
        if items > 0 {
            self.previous_last = last.map(str::to_owned);
        }
        safe
    }
}

/// A header value, trimmed; `None` when missing or blank.
fn clean(v: Option<&str>) -> Option<&str> {
    v.map(str::trim).filter(|v| !v.is_empty())
}

/// Whether timestamp `a` is later than `b`.
fn is_later(a: &str, b: &str) -> bool {
    match (
        stix::Timestamp::parse(a).ok(),
        stix::Timestamp::parse(b).ok(),
    ) {
        (Some(x), Some(y)) => x > y,
        _ => a > b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(collection: &str) -> StreamKey {
        StreamKey {
            source: "http://a".into(),
            api_root: "http://a/api1/".into(),
            collection: collection.into(),
            target: "data:/x#c".into(),
        }
    }

    #[test]
    fn a_position_only_moves_forward() {
        let mut s = SyncState::default();
        let k = key("c1");
        assert_eq!(s.cursor(&k), None);
        assert!(!s.advance(&k, None), "no header, no position");
        assert_eq!(s.cursor(&k), None);
        assert!(s.advance(&k, Some("2024-05-01T00:00:00.000002Z")));
        assert_eq!(s.cursor(&k), Some("2024-05-01T00:00:00.000002Z"));
        // Older (also with another precision) and equal positions are ignored.
        assert!(!s.advance(&k, Some("2024-05-01T00:00:00.000001Z")));
        assert!(!s.advance(&k, Some("2024-05-01T00:00:00.000002Z")));
        assert!(!s.advance(&k, Some("2024-05-01T00:00:00Z")));
        assert!(s.advance(&k, Some("2024-05-01T00:00:01Z")));
        assert_eq!(s.cursor(&k), Some("2024-05-01T00:00:01Z"));
        // Streams are independent.
        assert_eq!(s.cursor(&key("c2")), None);
    }

    const T1: &str = "2024-05-01T00:00:01Z";
    const T2: &str = "2024-05-01T00:00:02Z";
    const T3: &str = "2024-05-01T00:00:03Z";

    #[test]
    fn a_strict_source_resumes_after_each_page() {
        let mut r = Resume::new(true);
        assert_eq!(
            r.committed(Some(T1), Some(T2), 5, true).as_deref(),
            Some(T2)
        );
        assert_eq!(
            r.committed(Some(T3), Some(T3), 1, false).as_deref(),
            Some(T3)
        );
        assert_eq!(r.committed(None, None, 0, false), None, "empty last page");
    }

    #[test]
    fn shared_date_added_values_are_never_skipped() {
        // medallion: an envelope of 15 objects, all added at T1, read 7 at a time, then
        // one more envelope at T2.
        let mut r = Resume::new(false);
        assert_eq!(r.committed(Some(T1), Some(T1), 7, true), None);
        assert_eq!(r.committed(Some(T1), Some(T1), 7, true), None);
        // The last object of T1 and the first of T2: T1 is complete.
        assert_eq!(
            r.committed(Some(T1), Some(T2), 7, true).as_deref(),
            Some(T1)
        );
        // Starts later than the last page ended, so everything up to T2 is in.
        assert_eq!(
            r.committed(Some(T3), Some(T3), 7, true).as_deref(),
            Some(T2)
        );
        // The end of the pass: nothing at or before its last value can still come.
        assert_eq!(
            r.committed(Some(T3), Some(T3), 2, false).as_deref(),
            Some(T3)
        );
    }

    #[test]
    fn a_page_of_one_object_may_name_it_once() {
        // medallion sends only X-TAXII-Date-Added-First for a page of one object.
        let mut r = Resume::new(false);
        assert_eq!(r.committed(Some(T1), None, 1, false).as_deref(), Some(T1));
        let mut r = Resume::new(false);
        assert_eq!(r.committed(Some(T1), Some(T1), 3, true), None);
        assert_eq!(r.committed(Some(T2), None, 1, true).as_deref(), Some(T1));
        // No headers at all: no position, so the next run starts over (and finds the
        // objects unchanged) rather than guess.
        let mut r = Resume::new(false);
        assert_eq!(r.committed(None, None, 4, false), None);
    }

    #[test]
    fn the_state_round_trips_and_refuses_what_it_cannot_read() {
        let mut s = SyncState::default();
        s.advance(&key("b"), Some("2024-05-01T00:00:00Z"));
        s.advance(&key("a"), Some("2024-05-02T00:00:00Z"));
        s.set_log(LogState {
            base: "http://a".into(),
            origin: "entente/a".into(),
            vkey: None,
            pinned_key_id: Some("0a0b0c0d".into()),
            checkpoint: "entente/a\n1\nAAAA\n\n".into(),
        });
        let bytes = s.to_vec();
        let back = SyncState::from_slice(&bytes).unwrap();
        assert_eq!(back, s);
        assert_eq!(back.streams[0].key.collection, "a", "kept sorted");
        assert_eq!(back.log("http://a").unwrap().origin, "entente/a");
        assert!(back.log("http://b").is_none());

        assert!(matches!(
            SyncState::from_slice(b"{\"version\":99}"),
            Err(SyncStateError::Version(99))
        ));
        assert!(matches!(
            SyncState::from_slice(b"[1,2]"),
            Err(SyncStateError::Invalid(_))
        ));
        let big = vec![b' '; MAX_STATE_BYTES + 1];
        assert!(matches!(
            SyncState::from_slice(&big),
            Err(SyncStateError::TooLarge { .. })
        ));
    }
}

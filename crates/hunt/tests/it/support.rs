//! Helpers shared by the test modules.

use std::path::PathBuf;

use hunt::{BadLine, Event, Format, Reader};

/// The shared data directory.
pub fn data(rel: &str) -> PathBuf {
    let root = std::env::var("ENTENTE_SHARED").unwrap_or_else(|_| "/work/shared".into());
    PathBuf::from(root).join("data").join(rel)
}

/// Reads a whole input: its events and its bad lines.
pub fn read_all(path: &std::path::Path, format: Format) -> (Vec<Event>, Vec<BadLine>) {
    let reader = Reader::open(path, format, None).expect("open");
    collect(reader)
}

/// Drains a reader.
pub fn collect(reader: Reader) -> (Vec<Event>, Vec<BadLine>) {
    let mut events = Vec::new();
    let mut bad = Vec::new();
    for item in reader {
        match item.expect("input error") {
            Ok(e) => events.push(e),
            Err(b) => bad.push(b),
        }
    }
    (events, bad)
}

/// The SCOs of an event of one type.
pub fn of_type<'a>(e: &'a Event, t: &str) -> Vec<&'a serde_json::Map<String, serde_json::Value>> {
    e.scos()
        .filter(|o| o.get("type").and_then(|v| v.as_str()) == Some(t))
        .collect()
}

/// The `value`s of an event's SCOs of one type.
pub fn values(e: &Event, t: &str) -> Vec<String> {
    of_type(e, t)
        .iter()
        .filter_map(|o| o.get("value").and_then(|v| v.as_str()).map(str::to_owned))
        .collect()
}

//! Telemetry readers: one input, one event at a time.
//!
//! A [`Reader`] reads an input line by line ([`crate::input::Lines`]), tells its format
//! from the content when asked to ([`Format::Auto`], see [`detect`]), and turns each record
//! into an [`Event`] through the format's mapping module:
//!
//! * [`zeek`]: Zeek logs, JSON (also the `@stream` / `id_orig_h` variant) and TSV;
//! * [`eve`]: Suricata EVE JSON;
//! * [`stix`]: STIX observed-data NDJSON, one bundle per line;
//! * [`mapped`]: any NDJSON, through a [`mapped::Mapping`] file.
//!
//! A line that cannot be read becomes a [`BadLine`] carrying its file and line number; the
//! reader then goes on with the next line. Only a failure of the input itself (I/O) ends
//! a reader with an error.

pub mod eve;
pub mod mapped;
pub mod stix;
pub mod time;
pub mod zeek;

use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::Error;
use crate::event::{Event, Source};
use crate::input::Lines;

/// The input formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// Tell the format from the first non-empty line.
    #[default]
    Auto,
    /// Zeek logs: TSV when the input starts with `#` header lines, else JSON.
    Zeek,
    /// Suricata EVE JSON.
    Eve,
    /// STIX observed-data NDJSON.
    Stix,
    /// Generic NDJSON through a mapping file.
    Ndjson,
}

impl std::str::FromStr for Format {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Format::Auto),
            "zeek" => Ok(Format::Zeek),
            "eve" | "suricata" => Ok(Format::Eve),
            "stix" => Ok(Format::Stix),
            "ndjson" => Ok(Format::Ndjson),
            other => Err(format!(
                "unknown format {other:?} (expected auto, zeek, eve, stix or ndjson)"
            )),
        }
    }
}

/// A format as detected, with the Zeek flavour told apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detected {
    /// Zeek TSV (`#separator`, `#fields` headers).
    ZeekTsv,
    /// Zeek JSON lines.
    ZeekJson,
    /// Suricata EVE JSON.
    Eve,
    /// STIX bundles or observed-data.
    Stix,
    /// Not recognised: needs a mapping.
    Unknown,
}

/// Tells the format of an input from one non-empty line (its first).
///
/// `#` header lines are Zeek TSV (Zeek's ASCII writer starts every file with `#separator`);
/// a JSON object with `event_type` is EVE (every EVE record has it); `"type": "bundle"` or
/// `observed-data` is STIX; `_path` (Zeek's JSON writer with `LogAscii::use_json` and a
/// path field), `@stream` (the OTRF / Corelight variant), `id.orig_h` / `id_orig_h`, or
/// `ts` with `uid` / `fuid` is Zeek JSON.
pub fn detect(line: &str) -> Detected {
    let line = line.trim_start();
    if line.starts_with('#') {
        return Detected::ZeekTsv;
    }
    let Ok(Value::Object(o)) = serde_json::from_str::<Value>(line) else {
        return Detected::Unknown;
    };
    if o.contains_key("event_type") {
        return Detected::Eve;
    }
    if let Some("bundle" | "observed-data") = o.get("type").and_then(Value::as_str) {
        return Detected::Stix;
    }
    let zeek_marker = ["_path", "@stream", "id.orig_h", "id_orig_h"]
        .iter()
        .any(|k| o.contains_key(*k))
        || (o.contains_key("ts") && (o.contains_key("uid") || o.contains_key("fuid")));
    if zeek_marker {
        Detected::ZeekJson
    } else {
        Detected::Unknown
    }
}

/// A line that could not be turned into an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadLine {
    /// Where it is.
    pub source: Source,
    /// Why it was refused.
    pub message: String,
}

impl std::fmt::Display for BadLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {}",
            self.source.file, self.source.line, self.message
        )
    }
}

/// Counts kept by a reader.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReaderStats {
    /// Events yielded.
    pub events: u64,
    /// Lines refused.
    pub bad_lines: u64,
}

/// What the reader currently parses.
enum State {
    Undetected,
    ZeekTsv(zeek::TsvHeader),
    ZeekJson,
    Eve,
    Stix,
    Mapped(Arc<mapped::Mapping>),
}

/// Reads one input and yields its events (see the module docs).
pub struct Reader {
    name: Arc<str>,
    lines: Lines<Box<dyn BufRead + Send>>,
    requested: Format,
    mapping: Option<Arc<mapped::Mapping>>,
    state: State,
    /// The Zeek log type implied by the file name (`dns.log.gz`, `NASHUA_dns.log`).
    name_path: Option<String>,
    stats: ReaderStats,
    /// The engine's text pre-filter for STIX lines, when set.
    quiet: Option<crate::engine::QuietFilter>,
}

impl std::fmt::Debug for Reader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("name", &self.name)
            .field("requested", &self.requested)
            .field("stats", &self.stats)
            .finish_non_exhaustive()
    }
}

impl Reader {
    /// Opens a file (plain or gzip) for reading in `format`.
    pub fn open(
        path: &Path,
        format: Format,
        mapping: Option<Arc<mapped::Mapping>>,
    ) -> Result<Reader, Error> {
        let input = crate::input::open(path)?;
        Ok(Reader::new(&path.to_string_lossy(), input, format, mapping))
    }

    /// Reads from an already opened input named `name` (see [`crate::input::from_reader`]).
    pub fn new(
        name: &str,
        input: Box<dyn BufRead + Send>,
        format: Format,
        mapping: Option<Arc<mapped::Mapping>>,
    ) -> Reader {
        let state = match format {
            Format::Auto | Format::Zeek => State::Undetected,
            Format::Eve => State::Eve,
            Format::Stix => State::Stix,
            Format::Ndjson => match &mapping {
                Some(m) => State::Mapped(m.clone()),
                None => State::Undetected,
            },
        };
        Reader {
            name: Arc::from(name),
            lines: Lines::new(input),
            requested: format,
            mapping,
            state,
            name_path: zeek::path_from_file_name(name),
            stats: ReaderStats::default(),
            quiet: None,
        }
    }

    /// Lets the engine's quiet filter ([`crate::engine::Engine::quiet_filter`]) look at each
    /// STIX record's text first: a record it vouches for becomes a quiet event (see
    /// [`stix::quiet_event`]), which only that engine can match. Other formats are read as
    /// before.
    pub fn set_quiet_filter(&mut self, filter: Option<crate::engine::QuietFilter>) {
        self.quiet = filter;
    }

    /// The input's name as given.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Counts so far.
    pub fn stats(&self) -> ReaderStats {
        self.stats
    }

    /// The next event or bad line; `Ok(None)` at the end of the input. An error ends the
    /// input (I/O failure, or a format that cannot be told).
    pub fn next_item(&mut self) -> Result<Option<Result<Event, BadLine>>, Error> {
        loop {
            let next = self.lines.next_bytes().map_err(|source| Error::Io {
                path: Path::new(&*self.name).to_owned(),
                source,
            })?;
            let Some((number, bytes)) = next else {
                return Ok(None);
            };
            let source = Source {
                file: self.name.clone(),
                line: number,
            };
            // The quiet filter sees a STIX line's bytes first: a line it vouches for is UTF-8
            // (its scan checks any line that is not ASCII), so it is not checked here again.
            let quiet_tried = matches!(self.state, State::Stix) && self.quiet.is_some();
            if quiet_tried && let Some(quiet) = self.quiet.as_mut().and_then(|f| f(bytes)) {
                self.stats.events += 1;
                return Ok(Some(Ok(stix::quiet_event(quiet, source))));
            }
            let Ok(text) = std::str::from_utf8(bytes) else {
                self.stats.bad_lines += 1;
                return Ok(Some(Err(BadLine {
                    source,
                    message: "not UTF-8".into(),
                })));
            };
            if text.trim().is_empty() {
                continue;
            }
            if matches!(self.state, State::Undetected) {
                self.state = choose(
                    self.requested,
                    self.mapping.as_ref(),
                    self.name_path.is_some(),
                    text,
                    Path::new(&*self.name),
                )?;
            }
            let outcome = match &mut self.state {
                State::ZeekTsv(header) => {
                    // Some writers indent the first header line (slips-ctu test10 starts
                    // with a tab); a header is a line whose first non-blank byte is `#`.
                    let trimmed = text.trim_start();
                    if trimmed.starts_with('#') {
                        header.line(trimmed);
                        continue;
                    }
                    header.record(text).and_then(|rec| {
                        let log = header.path.clone().or_else(|| self.name_path.clone());
                        zeek::event(log.as_deref(), &rec, &source)
                    })
                }
                State::ZeekJson => parse_object(text).and_then(|rec| {
                    let log = zeek::json_path(&rec).or_else(|| self.name_path.clone());
                    zeek::event(log.as_deref(), &rec, &source)
                }),
                State::Eve => parse_object(text).and_then(|rec| eve::event(&rec, &source)),
                State::Stix => match self
                    .quiet
                    .as_mut()
                    .filter(|_| !quiet_tried)
                    .and_then(|f| f(text.as_bytes()))
                {
                    Some(quiet) => Ok(stix::quiet_event(quiet, source.clone())),
                    None => stix::event(text, &source),
                },
                State::Mapped(m) => parse_object(text).and_then(|rec| m.event(&rec, &source)),
                State::Undetected => Err("format not detected".to_owned()),
            };
            return Ok(Some(match outcome {
                Ok(event) => {
                    self.stats.events += 1;
                    Ok(event)
                }
                Err(message) => {
                    self.stats.bad_lines += 1;
                    Err(BadLine { source, message })
                }
            }));
        }
    }
}

/// Picks the parsing state for the input whose first non-empty line is `first`.
fn choose(
    requested: Format,
    mapping: Option<&Arc<mapped::Mapping>>,
    zeek_name: bool,
    first: &str,
    path: &Path,
) -> Result<State, Error> {
    let mut detected = detect(first);
    // A JSON record with `ts` in a file named like a Zeek log (`notice.log`) is Zeek
    // even without `uid` (notice, software and other logs have none).
    if detected == Detected::Unknown && zeek_name && mapping.is_none() && has_ts(first) {
        detected = Detected::ZeekJson;
    }
    Ok(match (requested, detected) {
        (_, Detected::ZeekTsv) if requested != Format::Ndjson => {
            State::ZeekTsv(zeek::TsvHeader::default())
        }
        (Format::Zeek, _) if first.trim_start().starts_with('{') => State::ZeekJson,
        (Format::Zeek, _) => State::ZeekTsv(zeek::TsvHeader::default()),
        (Format::Auto, Detected::ZeekJson) => State::ZeekJson,
        (Format::Auto, Detected::Eve) => State::Eve,
        (Format::Auto, Detected::Stix) => State::Stix,
        _ => match mapping {
            Some(m) => State::Mapped(m.clone()),
            None if requested == Format::Ndjson => {
                return Err(Error::MappingRequired {
                    path: path.to_owned(),
                });
            }
            None => {
                return Err(Error::UnknownFormat {
                    path: path.to_owned(),
                });
            }
        },
    })
}

impl Iterator for Reader {
    type Item = Result<Result<Event, BadLine>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_item().transpose()
    }
}

/// Whether a line is a JSON object with a `ts` member.
fn has_ts(line: &str) -> bool {
    matches!(serde_json::from_str::<Value>(line), Ok(Value::Object(o)) if o.contains_key("ts"))
}

/// Parses a line that must be one JSON object.
fn parse_object(text: &str) -> Result<Map<String, Value>, String> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(o)) => Ok(o),
        Ok(_) => Err("expected a JSON object".into()),
        Err(e) => Err(format!("invalid JSON: {e}")),
    }
}

//! Loading STIX indicators for a hunt.
//!
//! From any document `stix::parse_document` accepts (one object, an array, a bundle,
//! NDJSON), every `indicator` (STIX 2.1 §4.7) is considered:
//! * only `pattern_type: "stix"` is hunted; others are skipped and counted;
//! * of several versions of one id the latest `modified` wins (§3.6: versions share the id;
//!   the newest is the current one), and a latest version that is `revoked` is skipped
//!   (§3.6.3: a revoked object must no longer be used) — an older, unrevoked version does not
//!   come back;
//! * the pattern is parsed (`pattern_version` `2.0` or `2.1`, default 2.1) and compiled by
//!   the `matcher` crate; a pattern that does not compile is skipped and counted;
//! * an indicator whose equality constants are on a MISP warninglist is suppressed and
//!   counted (see [`crate::warninglist`]);
//! * `valid_from` / `valid_until` are kept and applied per event by [`Indicator::valid_at`].
//!
//! The document is read borrowing, never as `stix::StixObject`s: of each object only the
//! properties below are read (strings borrowed from the input unless escaped), and each
//! indicator is handed, with its parsed and compiled pattern, to the caller ([`load_each`]),
//! which compiles it straight into its index (`engine::Compiled::load`). Whole objects were
//! 4.7 KB per indicator resident at 500,000 indicators and most of a 35 s start
//! (`scripts/bench-hunt.sh`).
//!
//! Reading bets that each id's first version is its latest, which holds for a collection's
//! latest versions and for most files: an indicator is handed over as soon as it is read, and
//! only the ids and their `modified` are kept meanwhile. A later version of an id that is not
//! newer is only counted. When a newer one turns up, the caller is told to forget what it
//! was handed ([`Handed::Restart`]) and the document is read in two passes: the first picks
//! each id's latest version (keeping its text), the second reads the chosen ones again and
//! hands them over. Reading each object once saves that second pass over the 410 MB of a
//! million indicators, and the ~260 bytes per indicator the first pass kept for it. A document this reader refuses goes through
//! `stix::parse_document`, which either explains where it is wrong or reads it (then the
//! objects it made are selected the same way). The reader is laxer than that parser on one
//! point: a property name repeated inside an object that loading does not read (STIX objects
//! must not repeat names, I-JSON RFC 7493 §2.3) is not looked for.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::BuildHasher as _;

use serde::de::{Deserializer as _, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;

use crate::Error;
use crate::warninglist::Warninglists;
use pattern::ast::{ComparisonExpr, Literal, ObservationExpr, Op, Rhs};

/// One indicator ready to hunt with: what an engine needs to compile it and an alert needs
/// to name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    /// The indicator's id.
    pub id: String,
    /// Its `name`, when it has one.
    pub name: Option<String>,
    /// The pattern text.
    pub pattern: String,
    /// `pattern_version` (`2.0` or `2.1`; `None` means 2.1).
    pub pattern_version: Option<String>,
    /// `valid_from` as written (STIX 2.1 §4.7), inclusive.
    pub valid_from: Option<String>,
    /// `valid_until` as written; exclusive: "no longer considered valid" from then.
    pub valid_until: Option<String>,
}

impl Indicator {
    /// The pattern grammar that applies.
    pub fn version(&self) -> pattern::StixVersion {
        // Loading refused versions the pattern crate does not implement.
        pattern::StixVersion::from_pattern_version(self.pattern_version.as_deref())
            .unwrap_or_default()
    }

    /// The validity window as instants (unparseable bounds were refused at loading).
    pub fn window(&self) -> (Option<jiff::Timestamp>, Option<jiff::Timestamp>) {
        let t = |s: &Option<String>| s.as_deref().and_then(instant);
        (t(&self.valid_from), t(&self.valid_until))
    }

    /// Whether the indicator is valid at `t` (STIX 2.1 §4.7: from `valid_from` inclusive
    /// until `valid_until` exclusive).
    pub fn valid_at(&self, t: jiff::Timestamp) -> bool {
        let (from, until) = self.window();
        from.is_none_or(|f| f <= t) && until.is_none_or(|u| t < u)
    }
}

fn instant(s: &str) -> Option<jiff::Timestamp> {
    stix::Timestamp::parse(s).ok().map(|t| t.instant())
}

/// One indicator loading kept, borrowed from the document, with its pattern compiled: what
/// [`load_each`] hands over.
#[derive(Debug)]
pub struct Loaded<'a> {
    /// The id.
    pub id: &'a str,
    /// `name`.
    pub name: Option<&'a str>,
    /// The pattern text.
    pub pattern: &'a str,
    /// `pattern_version` as written.
    pub pattern_version: Option<&'a str>,
    /// The grammar the pattern was parsed with.
    pub version: pattern::StixVersion,
    /// `valid_from` as written.
    pub valid_from: Option<&'a str>,
    /// `valid_until` as written.
    pub valid_until: Option<&'a str>,
    /// `valid_from` and `valid_until` as instants.
    pub window: (Option<jiff::Timestamp>, Option<jiff::Timestamp>),
    /// The pattern, compiled by the evaluator.
    pub compiled: &'a matcher::CompiledPattern,
}

impl Loaded<'_> {
    /// An owned copy of what an engine needs.
    pub fn to_indicator(&self) -> Indicator {
        Indicator {
            id: self.id.to_owned(),
            name: self.name.map(str::to_owned),
            pattern: self.pattern.to_owned(),
            pattern_version: self.pattern_version.map(str::to_owned),
            valid_from: self.valid_from.map(str::to_owned),
            valid_until: self.valid_until.map(str::to_owned),
        }
    }
}

/// What loading kept and what it skipped.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Indicators kept.
    pub loaded: u64,
    /// Indicators whose `pattern_type` is not `stix`.
    pub not_stix: u64,
    /// Indicators whose latest version is revoked.
    pub revoked: u64,
    /// Older versions dropped for a newer one.
    pub superseded: u64,
    /// Patterns that do not parse or compile.
    pub invalid: u64,
    /// Indicators suppressed because a value is on a warninglist.
    pub suppressed: u64,
    /// Suppressions per warninglist name.
    pub suppressed_by: HashMap<String, u64>,
    /// Objects of other types (ignored).
    pub other_objects: u64,
}

/// Loads the indicators of a STIX document (`source_name` names it in messages).
pub fn load(
    bytes: &[u8],
    source_name: &str,
    warninglists: Option<&Warninglists>,
) -> Result<(Vec<Indicator>, LoadReport), Error> {
    let mut out = Vec::new();
    let report = load_each(bytes, source_name, warninglists, |h| match h {
        Handed::Kept(l) => out.push(l.to_indicator()),
        Handed::Restart => out.clear(),
    })?;
    Ok((out, report))
}

/// What [`load_each`] hands its caller.
#[derive(Debug)]
pub enum Handed<'a> {
    /// One indicator kept, in the order the ids first appear.
    Kept(Loaded<'a>),
    /// Forget every indicator handed over so far: they all come again. Loading hands each
    /// indicator over as soon as it reads it, betting that no later version of its id
    /// follows; when one does, or when the document turns out to be a stream of values or
    /// one the full parser must read, it starts again (see the module docs).
    Restart,
}

/// Loads the indicators of a STIX document and hands each one kept to `hand`, in the order
/// their ids first appear (see the module docs).
///
/// With a second core, the document is read on a thread of its own, while `hand` (in the
/// compiled engine, adding to the index) runs on the caller's. Parsing and compiling the
/// patterns, the largest part, goes to whichever side has time: the reader sends what it read
/// in batches, and compiles a batch itself when the caller has not taken the last ones yet.
/// What it compiled goes back to it to be freed: memory freed on another thread than the one
/// that allocated it contends for the allocator's lock of that thread (glibc's arenas), which
/// made the two threads together slower than one.
pub fn load_each(
    bytes: &[u8],
    source_name: &str,
    warninglists: Option<&Warninglists>,
    mut hand: impl FnMut(Handed<'_>),
) -> Result<LoadReport, Error> {
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    load_on(bytes, source_name, warninglists, cores > 1, &mut hand)
}

/// [`load_each`], reading on a thread of its own when `beside`.
fn load_on(
    bytes: &[u8],
    source_name: &str,
    warninglists: Option<&Warninglists>,
    beside: bool,
    hand: &mut dyn FnMut(Handed<'_>),
) -> Result<LoadReport, Error> {
    let mut caller = Select::new(warninglists);
    let read = if beside {
        read_beside(bytes, source_name, &mut caller, hand)?
    } else {
        read_all(bytes, source_name, &mut |e| caller.deliver(e.into(), hand))?
    };
    Ok(read.merge(caller.report))
}

/// Indicators per batch between the threads of [`load_each`]: enough that the channel costs
/// nothing per indicator, few enough that the batches in flight stay small.
const BATCH: usize = 256;

/// [`read_all`] on a thread of its own, its messages delivered on this one; the report of
/// reading and of what the reading thread selected.
fn read_beside<'a>(
    bytes: &'a [u8],
    source_name: &str,
    caller: &mut Select<'_>,
    hand: &mut dyn FnMut(Handed<'_>),
) -> Result<LoadReport, Error> {
    let warninglists = caller.warninglists;
    use std::sync::mpsc::{TrySendError, channel, sync_channel};
    std::thread::scope(|scope| {
        let (tx, rx) = sync_channel::<Vec<Msg<'a>>>(2);
        // What the reader selected, back to it once handed over, to be freed where it was
        // allocated (see `load_each`).
        let (back_tx, back_rx) = channel::<Vec<Chosen<'a>>>();
        let reader = scope.spawn(move || {
            let mut own = Select::new(warninglists);
            let mut batch = Vec::with_capacity(BATCH);
            // Cleared when the caller's side hung up (it is unwinding): read on, send nothing.
            let mut open = true;
            let send = |batch: Vec<Msg<'a>>, own: &mut Select<'_>| {
                back_rx.try_iter().for_each(drop);
                let batch = match tx.try_send(batch) {
                    Ok(()) => return true,
                    Err(TrySendError::Disconnected(_)) => return false,
                    // The caller is busy: select this batch here, then wait for room.
                    Err(TrySendError::Full(batch)) => own.select_batch(batch),
                };
                tx.send(batch).is_ok()
            };
            let read = read_all(bytes, source_name, &mut |e| {
                if !open {
                    return;
                }
                match e {
                    Emit::Latest(f) => {
                        batch.push(Msg::Read(f));
                        if batch.len() >= BATCH {
                            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                            open = send(full, &mut own);
                        }
                    }
                    Emit::Restart => {
                        let before = std::mem::take(&mut batch);
                        if !before.is_empty() {
                            open = send(before, &mut own);
                        }
                        // What this side selected so far is withdrawn with the rest.
                        own.report = LoadReport::default();
                        open = open && tx.send(vec![Msg::Restart]).is_ok();
                    }
                }
            });
            if open && !batch.is_empty() {
                send(batch, &mut own);
            }
            read.map(|r| r.merge(own.report))
        });
        for batch in rx {
            let mut back = Vec::new();
            for m in batch {
                match m {
                    Msg::Kept(c) => {
                        caller.hand_over(&c, hand);
                        back.push(c);
                    }
                    other => caller.deliver(other, hand),
                }
            }
            if !back.is_empty() {
                // The reader is gone once it sent its last batch: these few are freed here.
                let _ = back_tx.send(back);
            }
        }
        reader
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    })
}

/// What goes towards the caller: an id's latest version as read, or selected already; or
/// "start again".
enum Msg<'a> {
    Read(Fields<'a>),
    Kept(Chosen<'a>),
    Restart,
}

impl<'a> From<Emit<'a>> for Msg<'a> {
    fn from(e: Emit<'a>) -> Msg<'a> {
        match e {
            Emit::Latest(f) => Msg::Read(f),
            Emit::Restart => Msg::Restart,
        }
    }
}

/// Reads the document, emitting the latest version of each indicator id (see the module
/// docs); the report of reading.
fn read_all<'a>(
    bytes: &'a [u8],
    source_name: &str,
    emit: &mut dyn FnMut(Emit<'a>),
) -> Result<LoadReport, Error> {
    let read = std::str::from_utf8(bytes)
        .ok()
        .map(|t| t.strip_prefix('\u{feff}').unwrap_or(t))
        .ok_or(NotRead)
        .and_then(|text| read_latest(text, emit));
    match read {
        Ok(report) => Ok(report),
        Err(NotRead) => {
            emit(Emit::Restart);
            // The located message, or the objects of a document only the full parser reads.
            let objects = stix::parse_document(bytes).map_err(|e| Error::Indicators {
                source_name: source_name.to_owned(),
                message: e.to_string(),
            })?;
            let mut full = Latest::default();
            for o in &objects {
                full.offer(Fields::of_object(o), Ok(()));
            }
            Ok(full.select(emit))
        }
    }
}

/// What reading hands to selection: an id's latest version, or "start again".
// Passed along by value, once per indicator, never stored: boxing would cost an allocation.
#[allow(clippy::large_enum_variant)]
enum Emit<'a> {
    Latest(Fields<'a>),
    Restart,
}

/// The selection rules and what they counted, on one side of [`load_each`].
struct Select<'w> {
    warninglists: Option<&'w Warninglists>,
    report: LoadReport,
    /// Whether anything was handed over since the last restart.
    handed: bool,
}

impl<'w> Select<'w> {
    fn new(warninglists: Option<&'w Warninglists>) -> Self {
        Select {
            warninglists,
            report: LoadReport::default(),
            handed: false,
        }
    }

    /// Selects what was read in `batch`.
    fn select_batch<'a>(&mut self, batch: Vec<Msg<'a>>) -> Vec<Msg<'a>> {
        batch
            .into_iter()
            .filter_map(|m| match m {
                Msg::Read(f) => select_one(f, self.warninglists, &mut self.report).map(Msg::Kept),
                other => Some(other),
            })
            .collect()
    }

    /// Selects `m` if it is not yet, and hands the result over.
    fn deliver(&mut self, m: Msg<'_>, hand: &mut dyn FnMut(Handed<'_>)) {
        let chosen = match m {
            Msg::Read(f) => select_one(f, self.warninglists, &mut self.report),
            Msg::Kept(c) => Some(c),
            Msg::Restart => {
                self.report = LoadReport::default();
                if std::mem::take(&mut self.handed) {
                    hand(Handed::Restart);
                }
                return;
            }
        };
        if let Some(c) = chosen {
            self.hand_over(&c, hand);
        }
    }

    fn hand_over(&mut self, c: &Chosen<'_>, hand: &mut dyn FnMut(Handed<'_>)) {
        self.handed = true;
        c.hand_over(hand);
    }
}

impl LoadReport {
    /// The sum of what reading and selection counted.
    fn merge(mut self, other: LoadReport) -> LoadReport {
        self.loaded += other.loaded;
        self.not_stix += other.not_stix;
        self.revoked += other.revoked;
        self.superseded += other.superseded;
        self.invalid += other.invalid;
        self.suppressed += other.suppressed;
        for (k, v) in other.suppressed_by {
            *self.suppressed_by.entry(k).or_default() += v;
        }
        self.other_objects += other.other_objects;
        self
    }
}

/// Reads the document's text and emits the latest version of each indicator id in
/// first-seen order: in one pass when no id has a newer version after its first (the usual
/// case), else in two.
fn read_latest<'a>(text: &'a str, emit: &mut dyn FnMut(Emit<'a>)) -> Result<LoadReport, NotRead> {
    let mut single = true;
    let mut pass = OnePass::default();
    match pass.run(text, true, emit)? {
        Pass::Done => return Ok(pass.report),
        Pass::Newer => emit(Emit::Restart),
        Pass::Several => {
            emit(Emit::Restart);
            single = false;
            pass = OnePass::default();
            match pass.run(text, false, emit)? {
                Pass::Done => return Ok(pass.report),
                Pass::Newer | Pass::Several => emit(Emit::Restart),
            }
        }
    }
    let latest = match first_pass(text, single)? {
        Some(latest) => latest,
        None => first_pass(text, false)?.ok_or(NotRead)?,
    };
    Ok(latest.select(emit))
}

/// How a [`OnePass`] ended.
enum Pass {
    /// Every object read, every latest version emitted.
    Done,
    /// A later version of an id already emitted is newer: two passes are needed.
    Newer,
    /// Read as one value, the text holds several: read it as a stream.
    Several,
}

/// Reading in one pass: each indicator is emitted as soon as it is read, the first time its
/// id appears; a later version that is not newer is only counted.
#[derive(Default)]
struct OnePass<'a> {
    /// Indices into `seen`, by the hash of the id, each with the high half of that hash
    /// (from which the table's own hash is made again when it grows, see [`spread`]):
    /// hashing the ids again meant reading them from all over the input, 5 % of loading a
    /// million indicators.
    ids: hashbrown::HashTable<(u32, u32)>,
    /// Each id emitted, with its `modified`.
    seen: Vec<(Cow<'a, str>, Option<jiff::Timestamp>)>,
    hasher: hashbrown::DefaultHashBuilder,
    report: LoadReport,
    /// Set when reading stopped at a newer version.
    newer: bool,
}

impl<'a> OnePass<'a> {
    fn run(
        &mut self,
        text: &'a str,
        single: bool,
        emit: &mut dyn FnMut(Emit<'a>),
    ) -> Result<Pass, NotRead> {
        let mut sink = |f: Fields<'a>| self.offer(f, emit);
        let read = if single {
            read_single(text, Sink::Fields(&mut sink))
                .map(|one| if one { Pass::Done } else { Pass::Several })
        } else {
            read_stream(text, Sink::Fields(&mut sink)).map(|()| Pass::Done)
        };
        match read {
            Err(NotRead) if self.newer => Ok(Pass::Newer),
            other => other,
        }
    }

    fn offer(&mut self, f: Fields<'a>, emit: &mut dyn FnMut(Emit<'a>)) -> Result<(), NotRead> {
        if f.type_name.as_str() != Some("indicator") {
            self.report.other_objects += 1;
            return Ok(());
        }
        let Text::Str(id) = &f.id else {
            self.report.invalid += 1;
            return Ok(());
        };
        let modified = f.modified.as_str().and_then(instant);
        let tag = (self.hasher.hash_one(id.as_ref()) >> 32) as u32;
        let seen = &self.seen;
        match self
            .ids
            .find(spread(tag), |&(i, t)| t == tag && seen[i as usize].0 == *id)
        {
            Some(&(at, _)) => {
                self.report.superseded += 1;
                if newer(modified, self.seen[at as usize].1) {
                    // Stops the read; `run` tells it from a document it cannot read.
                    self.newer = true;
                    return Err(NotRead);
                }
            }
            None => {
                let at = u32::try_from(self.seen.len()).map_err(|_| NotRead)?;
                self.ids
                    .insert_unique(spread(tag), (at, tag), |&(_, t)| spread(t));
                self.seen.push((id.clone(), modified));
                emit(Emit::Latest(f));
            }
        }
        Ok(())
    }
}

/// The hash the id table files a 32-bit tag under: the multiplication carries the tag's bits
/// to the top bits the table keeps in its control bytes, and keeps them in the low ones that
/// pick a bucket.
fn spread(tag: u32) -> u64 {
    u64::from(tag).wrapping_mul(0x9e37_79b9_7f4a_7c15)
}

/// Whether a version modified at `a` replaces one modified at `b` (STIX 2.1 §3.6: the
/// latest `modified` is the current version; a version without one never replaces another).
fn newer(a: Option<jiff::Timestamp>, b: Option<jiff::Timestamp>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a > b,
        (Some(_), None) => true,
        _ => false,
    }
}

/// Pass 1 over the document's text, as one value (`single`) or as a stream; `None` when
/// `single` and the text holds several values.
fn first_pass<'a>(text: &'a str, single: bool) -> Result<Option<Latest<'a>>, NotRead> {
    let mut latest = Latest::default();
    let mut sink = |raw: &'a str| -> Result<(), NotRead> {
        if !raw.starts_with('{') {
            return Err(NotRead);
        }
        let f = Fields::parse(raw).ok_or(NotRead)?;
        latest.offer(f, Err(raw));
        Ok(())
    };
    if single {
        if !read_single(text, Sink::Text(&mut sink))? {
            return Ok(None);
        }
    } else {
        read_stream(text, Sink::Text(&mut sink))?;
    }
    Ok(Some(latest))
}

/// An indicator's latest version so far: its fields as read (`Ok`) or its text, to be read
/// again in the second pass (`Err`) rather than holding every object's fields meanwhile.
type Item<'a> = Result<Fields<'a>, &'a str>;

/// Pass 1 of two: the latest version of each id, in first-seen order of the ids.
#[derive(Default)]
struct Latest<'a> {
    order: Vec<(Item<'a>, Option<jiff::Timestamp>)>,
    position: hashbrown::HashMap<Cow<'a, str>, usize>,
    report: LoadReport,
}

impl<'a> Latest<'a> {
    /// Takes one object, read as `f`; `text` is its text when it is to be read again later.
    fn offer(&mut self, f: Fields<'a>, text: Result<(), &'a str>) {
        if f.type_name.as_str() != Some("indicator") {
            self.report.other_objects += 1;
            return;
        }
        let Text::Str(id) = &f.id else {
            self.report.invalid += 1;
            return;
        };
        let modified = f.modified.as_str().and_then(instant);
        match self.position.get(id.as_ref()) {
            None => {
                self.position.insert(id.clone(), self.order.len());
                let item = match text {
                    Ok(()) => Ok(f),
                    Err(raw) => Err(raw),
                };
                self.order.push((item, modified));
            }
            Some(&at) => {
                self.report.superseded += 1;
                let prev = &mut self.order[at];
                if newer(modified, prev.1) {
                    prev.0 = match text {
                        Ok(()) => Ok(f),
                        Err(raw) => Err(raw),
                    };
                    prev.1 = modified;
                }
            }
        }
    }

    /// Pass 2: each id's latest version, emitted in order.
    fn select(self, emit: &mut dyn FnMut(Emit<'a>)) -> LoadReport {
        let Latest {
            order,
            position,
            report,
        } = self;
        drop(position);
        for (item, _) in order {
            // A text was read once already: it reads again.
            let f = item.unwrap_or_else(|raw| Fields::parse(raw).unwrap_or_default());
            emit(Emit::Latest(f));
        }
        report
    }
}

/// An indicator selection kept: its fields as read, its pattern compiled and its validity
/// window read; what is handed over (as a [`Loaded`] borrowing from it).
struct Chosen<'a> {
    fields: Fields<'a>,
    version: pattern::StixVersion,
    window: (Option<jiff::Timestamp>, Option<jiff::Timestamp>),
    compiled: matcher::CompiledPattern,
}

impl Chosen<'_> {
    fn hand_over(&self, hand: &mut dyn FnMut(Handed<'_>)) {
        let f = &self.fields;
        hand(Handed::Kept(Loaded {
            id: f.id.as_str().unwrap_or_default(),
            name: f.name.as_str(),
            pattern: f.pattern.as_str().unwrap_or_default(),
            pattern_version: f.pattern_version.as_str(),
            version: self.version,
            valid_from: f.valid_from.as_str(),
            valid_until: f.valid_until.as_str(),
            window: self.window,
            compiled: &self.compiled,
        }));
    }
}

fn select_one<'a>(
    f: Fields<'a>,
    warninglists: Option<&Warninglists>,
    report: &mut LoadReport,
) -> Option<Chosen<'a>> {
    let id = f.id.as_str().unwrap_or_default();
    if f.revoked {
        report.revoked += 1;
        return None;
    }
    if f.pattern_type.as_str() != Some("stix") {
        report.not_stix += 1;
        tracing::warn!(indicator = %id, "pattern_type is not stix; skipped");
        return None;
    }
    let Some(text) = f.pattern.as_str() else {
        report.invalid += 1;
        return None;
    };
    let Some(version) = pattern::StixVersion::from_pattern_version(f.pattern_version.as_str())
    else {
        report.invalid += 1;
        tracing::warn!(indicator = %id, "pattern_version is not 2.0 or 2.1; skipped");
        return None;
    };
    let checked = pattern::parse(text, version)
        .map_err(|e| e.to_string())
        .and_then(|ast| {
            matcher::compile(&ast)
                .map(|c| (ast, c))
                .map_err(|e| e.to_string())
        });
    let time = |t: &Text<'_>| match t {
        Text::Absent => Ok(None),
        Text::Str(s) => instant(s).map(Some).ok_or(()),
        Text::Other => Err(()),
    };
    let window = match (time(&f.valid_from), time(&f.valid_until)) {
        (Ok(from), Ok(until)) => Ok((from, until)),
        (Err(()), _) => Err("valid_from is not a STIX timestamp".to_owned()),
        (_, Err(())) => Err("valid_until is not a STIX timestamp".to_owned()),
    };
    let ((ast, compiled), window) = match (checked, window) {
        (Ok(c), Ok(w)) => (c, w),
        (_, Err(why)) | (Err(why), _) => {
            report.invalid += 1;
            tracing::warn!(indicator = %id, "pattern not usable: {why}");
            return None;
        }
    };
    if let Some(w) = warninglists
        && let Some(list) = constants(&ast).iter().find_map(|c| w.lookup(c))
    {
        report.suppressed += 1;
        *report.suppressed_by.entry(list.to_owned()).or_default() += 1;
        tracing::debug!(indicator = %id, list, "on a warninglist; suppressed");
        return None;
    }
    drop(ast);
    report.loaded += 1;
    Some(Chosen {
        fields: f,
        version,
        window,
        compiled,
    })
}

/// A property as loading reads it: absent, a string (borrowed unless escaped), or another
/// JSON value (which `str_prop` of a `StixObject` would answer `None` for).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
enum Text<'a> {
    #[default]
    Absent,
    Str(Cow<'a, str>),
    Other,
}

impl<'a> Text<'a> {
    fn as_str(&self) -> Option<&str> {
        match self {
            Text::Str(s) => Some(s),
            _ => None,
        }
    }

    fn of(v: Option<&serde_json::Value>) -> Text<'a> {
        match v {
            None => Text::Absent,
            Some(serde_json::Value::String(s)) => Text::Str(Cow::Owned(s.clone())),
            Some(_) => Text::Other,
        }
    }
}

impl<'de> serde::Deserialize<'de> for Text<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("any JSON value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text::Str(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text::Str(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text::Str(Cow::Owned(v)))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Text<'de>, E> {
                Ok(Text::Other)
            }
            fn visit_i64<E>(self, _: i64) -> Result<Text<'de>, E> {
                Ok(Text::Other)
            }
            fn visit_u64<E>(self, _: u64) -> Result<Text<'de>, E> {
                Ok(Text::Other)
            }
            fn visit_f64<E>(self, _: f64) -> Result<Text<'de>, E> {
                Ok(Text::Other)
            }
            fn visit_unit<E>(self) -> Result<Text<'de>, E> {
                Ok(Text::Other)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Text<'de>, A::Error> {
                while a.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Text::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Text<'de>, A::Error> {
                while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Text::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// The properties of an object that loading reads (STIX 2.1 §3.2, §4.7).
#[derive(Debug, Clone, Default)]
struct Fields<'a> {
    type_name: Text<'a>,
    id: Text<'a>,
    name: Text<'a>,
    modified: Text<'a>,
    /// `revoked: true` (anything else is not revoked, as `StixObject::revoked` reads it).
    revoked: bool,
    pattern: Text<'a>,
    pattern_type: Text<'a>,
    pattern_version: Text<'a>,
    valid_from: Text<'a>,
    valid_until: Text<'a>,
    /// A bundle's `objects` (any object's, unread).
    objects: Option<&'a RawValue>,
}

impl<'a> Fields<'a> {
    /// Reads one object's text: `None` when it is not one JSON object, or names one of the
    /// properties read here twice.
    fn parse(raw: &'a str) -> Option<Fields<'a>> {
        let mut de = serde_json::Deserializer::from_str(raw);
        let f = de.deserialize_map(FieldsVisitor).ok()?;
        de.end().ok()?;
        Some(f)
    }

    fn of_object(o: &stix::StixObject) -> Fields<'static> {
        let t = |k: &str| Text::of(o.get(k));
        Fields {
            type_name: t("type"),
            id: t("id"),
            name: t("name"),
            modified: t("modified"),
            revoked: o.revoked(),
            pattern: t("pattern"),
            pattern_type: t("pattern_type"),
            pattern_version: t("pattern_version"),
            valid_from: t("valid_from"),
            valid_until: t("valid_until"),
            objects: None,
        }
    }
}

struct FieldsVisitor;

/// Reads one object into its [`Fields`], as an element of an array.
struct FieldsSeed;

impl<'de> serde::de::DeserializeSeed<'de> for FieldsSeed {
    type Value = Fields<'de>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Fields<'de>, D::Error> {
        d.deserialize_map(FieldsVisitor)
    }
}

impl<'de> Visitor<'de> for FieldsVisitor {
    type Value = Fields<'de>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a STIX object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Fields<'de>, A::Error> {
        let mut f = Fields::default();
        let mut seen = 0u16;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            let (bit, slot) = match key.as_ref() {
                "type" => (0, &mut f.type_name),
                "id" => (1, &mut f.id),
                "name" => (2, &mut f.name),
                "modified" => (3, &mut f.modified),
                "pattern" => (4, &mut f.pattern),
                "pattern_type" => (5, &mut f.pattern_type),
                "pattern_version" => (6, &mut f.pattern_version),
                "valid_from" => (7, &mut f.valid_from),
                "valid_until" => (8, &mut f.valid_until),
                "revoked" | "objects" => {
                    let bit = if key == "revoked" { 9 } else { 10 };
                    if seen & (1 << bit) != 0 {
                        return Err(serde::de::Error::custom("duplicate property"));
                    }
                    seen |= 1 << bit;
                    if bit == 9 {
                        f.revoked = map.next_value::<serde_json::Value>()?.as_bool() == Some(true);
                    } else {
                        f.objects = Some(map.next_value::<&'de RawValue>()?);
                    }
                    continue;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            if seen & (1 << bit) != 0 {
                return Err(serde::de::Error::custom("duplicate property"));
            }
            seen |= 1 << bit;
            *slot = map.next_value::<Text<'de>>()?;
        }
        Ok(f)
    }
}

/// Why the fast document reader gave up (the full parser then explains or reads it).
#[derive(Debug)]
struct NotRead;

/// Where objects go as the document is read: their text, or only what [`Fields`] reads of
/// them.
enum Sink<'s, 'a> {
    Text(&'s mut dyn FnMut(&'a str) -> Result<(), NotRead>),
    /// The objects of a bundle or array are then read straight into their fields: finding
    /// an object's text first scanned each object twice, an eighth of loading a million.
    Fields(&'s mut dyn FnMut(Fields<'a>) -> Result<(), NotRead>),
}

impl<'a> Sink<'_, 'a> {
    fn reborrow(&mut self) -> Sink<'_, 'a> {
        match self {
            Sink::Text(f) => Sink::Text(&mut **f),
            Sink::Fields(f) => Sink::Fields(&mut **f),
        }
    }

    /// Hands over one object whose text is `raw`.
    fn text(&mut self, raw: &'a str) -> Result<(), NotRead> {
        match self {
            Sink::Text(f) => f(raw),
            Sink::Fields(f) => {
                if !raw.starts_with('{') {
                    return Err(NotRead);
                }
                f(Fields::parse(raw).ok_or(NotRead)?)
            }
        }
    }
}

/// Hands the text of each object of a document to `sink`, in document order, bundles
/// flattened, for the shapes `stix::parse_document` accepts: one object, a JSON array of
/// objects, a bundle, or a stream of these (NDJSON). `Ok(false)` when the document holds
/// more than one value: nothing may then have been handed over but the first value's
/// objects, and [`read_stream`] must read it instead.
///
/// A single value (the usual bundle) is read in one pass, its objects handed over while it
/// is read (when its `type` comes before its `objects`, as writers put it).
fn read_single<'a>(text: &'a str, mut sink: Sink<'_, 'a>) -> Result<bool, NotRead> {
    use serde::de::DeserializeSeed;
    let trimmed = text.trim_matches([' ', '\t', '\n', '\r']);
    let mut de = serde_json::Deserializer::from_str(text);
    match trimmed.as_bytes().first() {
        Some(b'[') => ObjectsSeed {
            sink: sink.reborrow(),
        }
        .deserialize(&mut de)
        .map_err(|_| NotRead)?,
        Some(b'{') => {
            let top = TopSeed {
                sink: sink.reborrow(),
            }
            .deserialize(&mut de)
            .map_err(|_| NotRead)?;
            if de.end().is_err() {
                return Ok(false);
            }
            return top.finish(trimmed, sink).map(|()| true);
        }
        _ => return Err(NotRead),
    }
    Ok(de.end().is_ok())
}

/// [`read_single`] for a stream of values: each is found first, then read.
fn read_stream<'a>(text: &'a str, mut sink: Sink<'_, 'a>) -> Result<(), NotRead> {
    use serde::de::DeserializeSeed;
    for value in serde_json::Deserializer::from_str(text).into_iter::<&RawValue>() {
        let raw = value.map_err(|_| NotRead)?.get();
        let mut de = serde_json::Deserializer::from_str(raw);
        match raw.as_bytes().first() {
            Some(b'[') => ObjectsSeed {
                sink: sink.reborrow(),
            }
            .deserialize(&mut de)
            .map_err(|_| NotRead)?,
            Some(b'{') => TopSeed {
                sink: sink.reborrow(),
            }
            .deserialize(&mut de)
            .map_err(|_| NotRead)?
            .finish(raw, sink.reborrow())?,
            _ => return Err(NotRead),
        }
    }
    Ok(())
}

/// A top-level object as [`TopSeed`] read it.
enum Top<'a> {
    /// A bundle whose objects were handed over as they were read.
    Done,
    /// An object (not a bundle).
    Object,
    /// A bundle whose `objects` came before its `type`, unread.
    Bundle(Option<&'a RawValue>),
}

impl<'a> Top<'a> {
    /// Hands over what reading left: the object itself (its text is `raw`), or a bundle's
    /// objects.
    fn finish(self, raw: &'a str, mut sink: Sink<'_, 'a>) -> Result<(), NotRead> {
        use serde::de::DeserializeSeed;
        match self {
            Top::Done | Top::Bundle(None) => Ok(()),
            Top::Object => sink.text(raw),
            Top::Bundle(Some(objects)) => {
                let mut de = serde_json::Deserializer::from_str(objects.get());
                ObjectsSeed { sink }
                    .deserialize(&mut de)
                    .map_err(|_| NotRead)
            }
        }
    }
}

/// Reads a JSON array of objects, handing each over.
struct ObjectsSeed<'s, 'a> {
    sink: Sink<'s, 'a>,
}

impl<'de> serde::de::DeserializeSeed<'de> for ObjectsSeed<'_, 'de> {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for ObjectsSeed<'_, 'de> {
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a JSON array of objects")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let not_read = |_: NotRead| <A::Error as serde::de::Error>::custom("not read");
        match self.sink {
            Sink::Text(sink) => {
                while let Some(raw) = seq.next_element::<&'de RawValue>()? {
                    sink(raw.get()).map_err(not_read)?;
                }
            }
            Sink::Fields(sink) => {
                while let Some(f) = seq.next_element_seed(FieldsSeed)? {
                    sink(f).map_err(not_read)?;
                }
            }
        }
        Ok(())
    }
}

/// Reads a top-level object: a bundle's objects are handed over as they are read.
struct TopSeed<'s, 'a> {
    sink: Sink<'s, 'a>,
}

impl<'de> serde::de::DeserializeSeed<'de> for TopSeed<'_, 'de> {
    type Value = Top<'de>;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Top<'de>, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for TopSeed<'_, 'de> {
    type Value = Top<'de>;
    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a STIX object or bundle")
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<Top<'de>, A::Error> {
        let mut is_bundle = false;
        let mut seen_type = false;
        let mut streamed = false;
        let mut objects = None;
        while let Some(key) = map.next_key::<Cow<'de, str>>()? {
            match key.as_ref() {
                "type" if seen_type => return Err(serde::de::Error::custom("duplicate type")),
                "type" => {
                    seen_type = true;
                    is_bundle = map.next_value::<Text<'de>>()?.as_str() == Some("bundle");
                }
                "objects" if streamed || objects.is_some() => {
                    return Err(serde::de::Error::custom("duplicate objects"));
                }
                "objects" if is_bundle => {
                    map.next_value_seed(ObjectsSeed {
                        sink: self.sink.reborrow(),
                    })?;
                    streamed = true;
                }
                "objects" => objects = Some(map.next_value::<&'de RawValue>()?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(match (is_bundle, streamed) {
            (true, true) => Top::Done,
            (true, false) => Top::Bundle(objects),
            (false, _) => Top::Object,
        })
    }
}

/// The string constants a pattern compares for equality (`=` and `IN`, not negated): the
/// values a warninglist is checked against.
pub fn constants(p: &pattern::Pattern) -> Vec<&str> {
    fn obs<'a>(e: &'a ObservationExpr, out: &mut Vec<&'a str>) {
        match e {
            ObservationExpr::Observation { expr, .. } => cmp(expr, out),
            ObservationExpr::And { lhs, rhs, .. }
            | ObservationExpr::Or { lhs, rhs, .. }
            | ObservationExpr::FollowedBy { lhs, rhs, .. } => {
                obs(lhs, out);
                obs(rhs, out);
            }
            ObservationExpr::Qualified { expr, .. } => obs(expr, out),
        }
    }
    fn cmp<'a>(e: &'a ComparisonExpr, out: &mut Vec<&'a str>) {
        match e {
            ComparisonExpr::And { lhs, rhs, .. } | ComparisonExpr::Or { lhs, rhs, .. } => {
                cmp(lhs, out);
                cmp(rhs, out);
            }
            ComparisonExpr::Comparison(c) if !c.negated => match (&c.op, &c.rhs) {
                (Op::Eq, Rhs::Literal(Literal::String(s))) => out.push(s),
                (Op::In, Rhs::Set(items)) => out.extend(items.iter().filter_map(|l| match l {
                    Literal::String(s) => Some(s.as_str()),
                    _ => None,
                })),
                _ => {}
            },
            _ => {}
        }
    }
    let mut out = Vec::new();
    obs(&p.root, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ind(id: &str, modified: &str, pattern: &str) -> String {
        serde_json::json!({
            "type": "indicator", "spec_version": "2.1", "id": id,
            "created": "2020-01-01T00:00:00.000Z", "modified": modified,
            "name": format!("name of {id}"), "pattern": pattern, "pattern_type": "stix",
            "valid_from": "2020-01-01T00:00:00Z"
        })
        .to_string()
    }

    fn ids(bytes: &[u8]) -> (Vec<String>, LoadReport) {
        let (kept, report) = load(bytes, "t", None).expect("loads");
        (kept.into_iter().map(|i| i.id).collect(), report)
    }

    #[test]
    fn every_document_shape_gives_the_same_indicators() {
        let a = ind("indicator--a", "2020-01-01T00:00:00.000Z", "[x:y = 'a']");
        let b = ind(
            "indicator--b",
            "2020-01-01T00:00:00.000Z",
            "[x:y = 'it\\'s é']",
        );
        let other = r#"{"type":"identity","id":"identity--1","name":"I"}"#;
        let shapes = [
            format!("{a}\n{b}\n{other}\n"),
            format!("{a} [{b}, {other}]"),
            format!("[{a},{b},{other}]"),
            format!(r#"{{"type":"bundle","id":"bundle--1","objects":[{a},{b},{other}]}}"#),
            // objects before type: read after the bundle
            format!(r#"{{"objects":[{a},{b},{other}],"id":"bundle--1","type":"bundle"}}"#),
            format!("\u{feff}{a}\n{{\"type\":\"bundle\",\"objects\":[{b},{other}]}}"),
        ];
        for doc in shapes {
            let (got, report) = ids(doc.as_bytes());
            assert_eq!(got, ["indicator--a", "indicator--b"], "{doc}");
            assert_eq!(report.other_objects, 1, "{doc}");
            assert_eq!(report.loaded, 2, "{doc}");
        }
        // Escaped JSON text (the backslash) is read into an owned string.
        let (kept, _) = load(b.as_bytes(), "t", None).unwrap();
        assert_eq!(kept[0].pattern, "[x:y = 'it\\'s é']");
        assert_eq!(kept[0].name.as_deref(), Some("name of indicator--b"));
    }

    #[test]
    fn latest_version_wins_and_a_revoked_latest_is_dropped() {
        let v1 = ind("indicator--a", "2020-01-01T00:00:00.000Z", "[x:y = 'old']");
        let v2 = ind("indicator--a", "2021-01-01T00:00:00.000Z", "[x:y = 'new']");
        let v0 = ind(
            "indicator--a",
            "2019-01-01T00:00:00.000Z",
            "[x:y = 'older']",
        );
        let b = ind("indicator--b", "2020-01-01T00:00:00.000Z", "[x:y = 'b']");
        let mut revoked: serde_json::Value = serde_json::from_str(&ind(
            "indicator--b",
            "2022-01-01T00:00:00.000Z",
            "[x:y = 'b']",
        ))
        .unwrap();
        revoked["revoked"] = true.into();
        let doc = format!("{b}\n{v1}\n{v2}\n{v0}\n{revoked}\n");
        let (kept, report) = load(doc.as_bytes(), "t", None).unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!(kept[0].id, "indicator--a");
        assert_eq!(kept[0].pattern, "[x:y = 'new']");
        assert_eq!(report.superseded, 3);
        assert_eq!(report.revoked, 1);
    }

    #[test]
    fn one_pass_unless_a_newer_version_follows() {
        let a1 = ind("indicator--a", "2020-01-01T00:00:00.000Z", "[x:y = 'a1']");
        let a0 = ind("indicator--a", "2019-01-01T00:00:00.000Z", "[x:y = 'a0']");
        let a2 = ind("indicator--a", "2021-01-01T00:00:00.000Z", "[x:y = 'a2']");
        let b = ind("indicator--b", "2020-01-01T00:00:00.000Z", "[x:y = 'b']");
        let bundle = |objects: &[&str]| {
            format!(
                r#"{{"type":"bundle","id":"bundle--1","objects":[{}]}}"#,
                objects.join(",")
            )
        };
        // What the caller is handed: the patterns kept, "restart" where it was told to.
        let handed = |doc: &str| {
            let mut got = Vec::new();
            let report = load_each(doc.as_bytes(), "t", None, |h| match h {
                Handed::Kept(l) => got.push(l.pattern.to_owned()),
                Handed::Restart => got.push("restart".to_owned()),
            })
            .unwrap();
            (got, report.superseded, report.loaded)
        };
        // An older version after the first is only counted: no second pass.
        assert_eq!(
            handed(&bundle(&[&a1, &b, &a0])),
            (
                vec!["[x:y = 'a1']".to_owned(), "[x:y = 'b']".to_owned()],
                1,
                2
            )
        );
        // A newer one: what was handed is withdrawn, and the latest versions come again in
        // the order the ids first appeared.
        let (got, superseded, loaded) = handed(&bundle(&[&a1, &b, &a2, &a0]));
        assert_eq!(
            got,
            [
                "[x:y = 'a1']",
                "[x:y = 'b']",
                "restart",
                "[x:y = 'a2']",
                "[x:y = 'b']"
            ]
        );
        assert_eq!((superseded, loaded), (2, 2));
    }

    /// Whichever thread selects each indicator (it depends on timing), loading on two
    /// threads hands over and counts exactly what loading on one does, restarts included.
    #[test]
    fn reading_beside_the_caller_changes_nothing() {
        let mut objects: Vec<String> = (0..3000)
            .map(|i| {
                let pattern = match i % 5 {
                    0 => format!("[domain-name:value = 'd{i}.example']"),
                    1 => format!("[url:value MATCHES '^https?://x{i}\\\\.example/']"),
                    2 => format!("[domain-name:value LIKE '%.l{i}.example']"),
                    3 => "[x:y = ".to_owned(),
                    _ => format!("[ipv4-addr:value = '10.0.{}.{}']", i / 250, i % 250),
                };
                ind(
                    &format!("indicator--{i}"),
                    "2020-01-01T00:00:00.000Z",
                    &pattern,
                )
            })
            .collect();
        objects.push(r#"{"type":"identity","id":"identity--1","name":"I"}"#.to_owned());
        let bundle = |objects: &[String]| {
            format!(
                r#"{{"type":"bundle","id":"bundle--1","objects":[{}]}}"#,
                objects.join(",")
            )
        };
        let run = |doc: &str, beside: bool| {
            let mut got = Vec::new();
            let report = load_on(doc.as_bytes(), "t", None, beside, &mut |h| match h {
                Handed::Kept(l) => got.push(format!("{} {}", l.id, l.pattern)),
                Handed::Restart => got.clear(),
            })
            .unwrap();
            (got, report)
        };
        let one_pass = bundle(&objects);
        // A newer version of the first indicator near the end: everything again, in two passes.
        objects.push(ind(
            "indicator--0",
            "2021-01-01T00:00:00.000Z",
            "[domain-name:value = 'newer.example']",
        ));
        let two_passes = bundle(&objects);
        for doc in [one_pass, two_passes] {
            let (got, report) = run(&doc, false);
            assert_eq!(report.loaded, 2400);
            assert_eq!(report.invalid, 600);
            assert_eq!(report.other_objects, 1);
            assert_eq!(run(&doc, true), (got, report));
        }
    }

    #[test]
    fn properties_of_other_types_read_as_stix_objects_read_them() {
        let base = |extra: serde_json::Value| {
            let mut v: serde_json::Value = serde_json::from_str(&ind(
                "indicator--a",
                "2020-01-01T00:00:00.000Z",
                "[x:y = 'a']",
            ))
            .unwrap();
            for (k, x) in extra.as_object().unwrap() {
                v[k] = x.clone();
            }
            v.to_string()
        };
        // A name that is not a string is no name; revoked that is not true is not revoked;
        // a pattern_version that is not a string is the default.
        let doc = base(serde_json::json!({"name": 7, "revoked": "yes", "pattern_version": 2.1}));
        let (kept, report) = load(doc.as_bytes(), "t", None).unwrap();
        assert_eq!(report.loaded, 1, "{report:?}");
        assert_eq!(kept[0].name, None);
        // A validity bound that is not a timestamp makes the indicator unusable.
        for bad in [
            serde_json::json!({"valid_from": 5}),
            serde_json::json!({"valid_until": "soon"}),
        ] {
            let (kept, report) = load(base(bad).as_bytes(), "t", None).unwrap();
            assert!(kept.is_empty());
            assert_eq!(report.invalid, 1);
        }
        let doc = base(serde_json::json!({"pattern_type": "sigma"}));
        assert_eq!(load(doc.as_bytes(), "t", None).unwrap().1.not_stix, 1);
        let doc = base(serde_json::json!({"pattern": "[x:y = "}));
        assert_eq!(load(doc.as_bytes(), "t", None).unwrap().1.invalid, 1);
    }

    #[test]
    fn a_document_that_is_not_stix_is_explained_with_its_place() {
        for doc in [
            "",
            "  ",
            "{\"type\":",
            "[1, 2]",
            "42",
            "{\"type\":\"bundle\",\"objects\":{}}",
        ] {
            let e = load(doc.as_bytes(), "src.json", None).expect_err(doc);
            assert!(e.to_string().starts_with("indicators src.json: "), "{e}");
        }
        // A repeated property is refused, as the full parser refuses it.
        let dup = r#"{"type":"indicator","id":"indicator--a","id":"indicator--b"}"#;
        assert!(load(dup.as_bytes(), "t", None).is_err());
    }

    #[test]
    fn the_compiled_engine_loads_what_load_returns() {
        let doc: String = (0..50)
            .map(|i| {
                ind(
                    &format!("indicator--{i}"),
                    "2020-01-01T00:00:00.000Z",
                    &format!("[domain-name:value = 'd{i}.example']"),
                ) + "\n"
            })
            .collect();
        let (kept, report) = load(doc.as_bytes(), "t", None).unwrap();
        let (engine, report2) = crate::engine::Compiled::load(doc.as_bytes(), "t", None).unwrap();
        assert_eq!(report, report2);
        use crate::engine::Engine;
        assert_eq!(engine.len(), kept.len());
        for (i, k) in kept.iter().enumerate() {
            let info = engine.indicator(i);
            assert_eq!(
                (info.id, info.name, info.pattern),
                (k.id.as_str(), k.name.as_deref(), k.pattern.as_str())
            );
        }
    }
}

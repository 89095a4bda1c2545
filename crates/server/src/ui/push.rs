//! The push page (`/ui/push`): paste or upload a STIX bundle or an IOC list and add it to a
//! collection the user may write, with the validator's findings shown next to each object.
//!
//! **One ingest path.** What the page submits goes through exactly what a TAXII POST goes
//! through: [`crate::ingest::prepare`] (parse, the `stix` validator's MUST rules with
//! patterns, the collection's TLP policy) and then `Store::add_objects`, so an object the
//! API would refuse is refused here with the same reason, and one the API would store is
//! stored here (and recorded in the transparency log) the same way. A problem with the
//! input as a whole (not JSON, more objects than an envelope may carry, too large) stores
//! nothing, as the API answers 400/413/422 for it.
//!
//! **Inputs.** STIX is anything `entente validate` reads as one document: a bundle, an
//! envelope, one object or a JSON array of objects (also gzip-compressed when uploaded).
//! An IOC list is one indicator per line; the type of each value is detected
//! ([`detect_ioc`]): IPv4/IPv6 addresses and CIDR blocks, URLs, e-mail addresses, MD5,
//! SHA-1, SHA-256 and SHA-512 hashes, and domain names, also defanged (`hxxp://`, `[.]`).
//! Text after the value on the same line becomes the indicator's description; lines
//! starting with `#` are comments. Each detected value becomes an indicator with a STIX
//! pattern; a line whose type cannot be told is listed as refused and the others go on.
//!
//! **Errors inline.** The ingest path reports a refused object as one message joining the
//! validator's diagnostics (`ID: POINTER: MESSAGE [RULE]`, see `stix::Diagnostic`'s
//! `Display`); [`problems`] splits it back into pointer, message and rule for display.

use std::io::Read as _;
use std::net::{Ipv4Addr, Ipv6Addr};

use axum::Router;
use axum::extract::{DefaultBodyLimit, Form, Multipart, State};
use axum::response::Response;
use axum::routing::{get, post};
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::value::RawValue;
use store::{AddResult, Collection, Status, StatusDetail, StatusState};
use taxii::envelope::RawEnvelope;

use crate::ingest::{self, Slot};
use crate::ui::layout::{self, Nav};
use crate::ui::{Session, UiError, UiState};

/// Longest IOC line, in bytes (a long URL fits; a pasted document by mistake does not).
pub const MAX_IOC_LINE: usize = 4096;
/// Objects listed individually on the result page; beyond it successes are only counted
/// (refusals are always listed: they are what the user has to act on).
const MAX_LISTED_SUCCESSES: usize = 200;
/// Refused objects shown one by one, with their JSON; the reasons table counts them all.
const MAX_LISTED_REFUSALS: usize = 50;
/// Longest line of a refused object shown, in bytes (long descriptions are cut).
const MAX_LINE: usize = 240;
/// Lines of a long refused object always shown (more only around its errors).
const HEAD_LINES: usize = 10;
/// Longest excerpt of an object shown beside its errors, in bytes.
const MAX_EXCERPT: usize = 64 * 1024;

/// The push routes: the form (GET), a pasted submission (urlencoded POST) and an upload
/// (multipart POST, CSRF token in the query string).
pub(crate) fn routes(max_body_bytes: usize) -> Router<UiState> {
    Router::new()
        .route("/push", get(form).post(submit_text))
        .route("/push/upload", post(submit_upload))
        // The API's body limit, not axum's 2 MB default: what the API takes, the page takes.
        // Multipart framing adds a little; a file at the limit is still refused below.
        .layer(DefaultBodyLimit::max(
            max_body_bytes.saturating_add(64 * 1024),
        ))
}

/// What the user says the input is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// STIX when the text starts with `{` or `[`, an IOC list otherwise.
    #[default]
    Auto,
    /// A STIX document.
    Stix,
    /// One indicator value per line.
    Ioc,
}

impl Format {
    fn resolve(self, text: &str) -> Format {
        match self {
            Format::Auto => match text.trim_start().as_bytes().first() {
                Some(b'{' | b'[') => Format::Stix,
                _ => Format::Ioc,
            },
            other => other,
        }
    }
}

/// The kind of an IOC value, and the STIX object path its pattern compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IocKind {
    /// An IPv4 address or CIDR block.
    Ipv4,
    /// An IPv6 address or CIDR block.
    Ipv6,
    /// A URL.
    Url,
    /// An e-mail address.
    Email,
    /// A domain name.
    Domain,
    /// An MD5 file hash.
    Md5,
    /// A SHA-1 file hash.
    Sha1,
    /// A SHA-256 file hash.
    Sha256,
    /// A SHA-512 file hash.
    Sha512,
}

impl IocKind {
    /// The STIX Patterning object path (STIX 2.1 §9.3; hash names from the hash-algorithm
    /// vocabulary, §10.7, quoted where they hold a hyphen).
    pub fn object_path(self) -> &'static str {
        match self {
            IocKind::Ipv4 => "ipv4-addr:value",
            IocKind::Ipv6 => "ipv6-addr:value",
            IocKind::Url => "url:value",
            IocKind::Email => "email-addr:value",
            IocKind::Domain => "domain-name:value",
            IocKind::Md5 => "file:hashes.MD5",
            IocKind::Sha1 => "file:hashes.'SHA-1'",
            IocKind::Sha256 => "file:hashes.'SHA-256'",
            IocKind::Sha512 => "file:hashes.'SHA-512'",
        }
    }

    /// A word for people.
    pub fn label(self) -> &'static str {
        match self {
            IocKind::Ipv4 => "IPv4",
            IocKind::Ipv6 => "IPv6",
            IocKind::Url => "URL",
            IocKind::Email => "e-mail",
            IocKind::Domain => "domain",
            IocKind::Md5 => "MD5",
            IocKind::Sha1 => "SHA-1",
            IocKind::Sha256 => "SHA-256",
            IocKind::Sha512 => "SHA-512",
        }
    }
}

/// One detected IOC value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ioc {
    /// Its kind.
    pub kind: IocKind,
    /// The value, refanged (and lowercased where case does not matter).
    pub value: String,
}

impl Ioc {
    /// The STIX pattern comparing the object path to the value (STIX 2.1 §9.2: string
    /// literals escape `\` and `'` with a backslash).
    pub fn pattern(&self) -> String {
        let escaped = self.value.replace('\\', "\\\\").replace('\'', "\\'");
        format!("[{} = '{}']", self.kind.object_path(), escaped)
    }
}

/// Undoes the usual defanging of shared indicator lists (`hxxp`, `[.]`, `(.)`, `[:]`,
/// `[@]`).
fn refang(value: &str) -> String {
    let mut v = value
        .replace("[.]", ".")
        .replace("(.)", ".")
        .replace("[dot]", ".")
        .replace("[:]", ":")
        .replace("[@]", "@");
    for (fanged, real) in [("hxxps://", "https://"), ("hxxp://", "http://")] {
        if v.len() >= fanged.len() && v[..fanged.len()].eq_ignore_ascii_case(fanged) {
            v = format!("{real}{}", &v[fanged.len()..]);
        }
    }
    v
}

/// Whether `s` is a domain name: dot-separated labels of letters, digits and inner
/// hyphens (RFC 1035 §2.3.1, RFC 5891 for `xn--` labels), at least two of them, a
/// top-level label that is not all digits, 253 bytes at most.
fn is_domain(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    if s.is_empty() || s.len() > 253 {
        return false;
    }
    let labels: Vec<&str> = s.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.bytes().any(|b| b.is_ascii_alphabetic()))
}

fn with_prefix<T: std::str::FromStr>(s: &str, max_prefix: u8) -> Option<T> {
    match s.split_once('/') {
        Some((addr, prefix)) => {
            let p: u8 = prefix.parse().ok()?;
            (p <= max_prefix).then_some(())?;
            addr.parse().ok()
        }
        None => s.parse().ok(),
    }
}

/// Detects the kind of one IOC value (already a single token); `None` when it is none of
/// the kinds this page knows.
pub fn detect_ioc(raw: &str) -> Option<Ioc> {
    let value = refang(raw.trim());
    if value.is_empty() || value.len() > MAX_IOC_LINE {
        return None;
    }
    let ioc = |kind, value: String| Some(Ioc { kind, value });
    if with_prefix::<Ipv4Addr>(&value, 32).is_some() {
        return ioc(IocKind::Ipv4, value);
    }
    if value.contains(':') && with_prefix::<Ipv6Addr>(&value, 128).is_some() {
        return ioc(IocKind::Ipv6, value.to_ascii_lowercase());
    }
    if let Some((scheme, rest)) = value.split_once("://") {
        let scheme_ok = scheme.len() <= 32
            && scheme
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let ok = scheme_ok && !host.is_empty() && !value.chars().any(char::is_whitespace);
        return ok.then_some(Ioc {
            kind: IocKind::Url,
            value,
        });
    }
    if value.bytes().all(|b| b.is_ascii_hexdigit()) {
        let kind = match value.len() {
            32 => IocKind::Md5,
            40 => IocKind::Sha1,
            64 => IocKind::Sha256,
            128 => IocKind::Sha512,
            _ => return None,
        };
        return ioc(kind, value.to_ascii_lowercase());
    }
    if let Some((local, domain)) = value.rsplit_once('@') {
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local
                .chars()
                .any(|c| c.is_whitespace() || matches!(c, '@' | '<' | '>' | '"'));
        return (local_ok && is_domain(domain)).then(|| Ioc {
            kind: IocKind::Email,
            value: value.clone(),
        });
    }
    if is_domain(&value) {
        let lower = value.trim_end_matches('.').to_ascii_lowercase();
        return ioc(IocKind::Domain, lower);
    }
    None
}

/// One line of an IOC list, read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IocLine {
    /// A detected value and the rest of the line (the indicator's description).
    Value {
        /// One-based line number.
        line: usize,
        /// The detected value.
        ioc: Ioc,
        /// Text after the value, if any.
        note: Option<String>,
    },
    /// A line whose value could not be recognised.
    Unknown {
        /// One-based line number.
        line: usize,
        /// The line as given (trimmed).
        text: String,
        /// Why.
        reason: String,
    },
}

/// Reads an IOC list: blank lines and `#` comments are skipped, and the first token of
/// each other line is the value (separated by whitespace, a comma or a semicolon).
pub fn read_ioc_list(text: &str) -> Vec<IocLine> {
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line_no = n + 1;
        let trimmed = line.trim().trim_start_matches('\u{feff}');
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        if trimmed.len() > MAX_IOC_LINE {
            out.push(IocLine::Unknown {
                line: line_no,
                text: excerpt(trimmed, 120),
                reason: format!("the line is longer than {MAX_IOC_LINE} bytes"),
            });
            continue;
        }
        let (value, rest) = trimmed
            .split_once(|c: char| c.is_whitespace() || c == ',' || c == ';')
            .unwrap_or((trimmed, ""));
        let note = rest.trim().trim_start_matches(['#', ',', ';']).trim();
        match detect_ioc(value) {
            Some(ioc) => out.push(IocLine::Value {
                line: line_no,
                ioc,
                note: (!note.is_empty()).then(|| note.to_owned()),
            }),
            None => out.push(IocLine::Unknown {
                line: line_no,
                text: trimmed.to_owned(),
                reason: format!(
                    "cannot tell what {value:?} is: expected an IP address or CIDR block, \
                     a URL, an e-mail address, a domain name or an MD5/SHA-1/SHA-256/SHA-512 hash"
                ),
            }),
        }
    }
    out
}

/// The STIX 2.1 indicator (§4.7) for one IOC value, created `now`.
pub fn indicator_json(ioc: &Ioc, note: Option<&str>, now: &str) -> String {
    let mut o = serde_json::Map::new();
    let mut put = |k: &str, v: serde_json::Value| {
        o.insert(k.to_owned(), v);
    };
    put("type", "indicator".into());
    put("spec_version", "2.1".into());
    put("id", format!("indicator--{}", uuid::Uuid::new_v4()).into());
    put("created", now.into());
    put("modified", now.into());
    put("name", format!("{} {}", ioc.kind.label(), ioc.value).into());
    if let Some(n) = note {
        put("description", n.into());
    }
    put("pattern", ioc.pattern().into());
    put("pattern_type", "stix".into());
    put("pattern_version", "2.1".into());
    put("valid_from", now.into());
    serde_json::Value::Object(o).to_string()
}

/// One validator finding, split for display.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// RFC 6901 pointer into the object; empty for the object as a whole.
    pub pointer: String,
    /// What is wrong.
    pub message: String,
    /// The `stix` rule code, or `None` for refusals that are not validator rules (the TLP
    /// policy, an object that is not JSON).
    pub rule: Option<String>,
}

/// Splits a refusal message of the ingest path back into findings.
///
/// Validation failures are `ID: POINTER: MESSAGE [RULE]` joined by `; ` (a message may
/// itself contain `; `, so pieces are split only where the next one starts with the id);
/// other refusals are one message.
pub fn problems(id: &str, message: &str) -> Vec<Problem> {
    let whole = || {
        vec![Problem {
            pointer: String::new(),
            message: message.to_owned(),
            rule: None,
        }]
    };
    if id.is_empty() {
        return whole();
    }
    let prefix = format!("{id}: ");
    let Some(rest) = message.strip_prefix(&prefix) else {
        return whole();
    };
    let separator = format!("; {prefix}");
    let mut out = Vec::new();
    for piece in rest.split(separator.as_str()) {
        let (pointer, text) = match piece.split_once(": ") {
            Some((p, t)) if p.is_empty() || p.starts_with('/') => (p, t),
            _ => ("", piece),
        };
        let (text, rule) = match text.strip_suffix(']').and_then(|t| t.rsplit_once(" [")) {
            Some((t, r))
                if !r.is_empty()
                    && r.bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') =>
            {
                (t, Some(r.to_owned()))
            }
            _ => (text, None),
        };
        out.push(Problem {
            pointer: pointer.to_owned(),
            message: text.to_owned(),
            rule,
        });
    }
    out
}

/// How one submitted item ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Stored now.
    Added,
    /// Already in the collection (counts as a success, as in the API).
    Duplicate,
    /// Refused, with the findings.
    Refused(Vec<Problem>),
}

/// One submitted item (an object, or a line of an IOC list) and its fate.
#[derive(Debug, Clone)]
pub struct Item {
    /// "object 3" or "line 12".
    pub label: String,
    /// The STIX id, when there is one.
    pub id: String,
    /// What the user gave (an excerpt), to show beside the findings.
    pub text: String,
    /// One line saying what it is (type and name, or the IOC's kind and value).
    pub summary: String,
    /// What happened.
    pub outcome: Outcome,
}

/// The result of one push.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Every item in input order.
    pub items: Vec<Item>,
    /// The collection's title.
    pub collection: String,
    /// The collection's id (for links to the stored objects).
    pub collection_id: String,
}

impl Report {
    fn count(&self, f: impl Fn(&Outcome) -> bool) -> usize {
        self.items.iter().filter(|i| f(&i.outcome)).count()
    }
}

/// An excerpt of at most `max` bytes, cut at a character boundary.
fn excerpt(text: &str, max: usize) -> String {
    if text.len() <= max {
        return text.to_owned();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// Pretty-prints an object's JSON for reading beside its errors (the stored bytes are the
/// submitted ones; this is only the display), and says in one line what it is: its type
/// and name (or value, or pattern).
fn readable(raw: &str) -> (String, String) {
    let Ok(v) = serde_json::from_str::<serde_json::Value>(raw) else {
        return (excerpt(raw, MAX_EXCERPT), String::new());
    };
    let pretty = serde_json::to_string_pretty(&v).unwrap_or_else(|_| raw.to_owned());
    let field = |k: &str| v.get(k).and_then(serde_json::Value::as_str);
    let summary = [
        field("type"),
        field("name").or(field("value")).or(field("pattern")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ");
    (excerpt(&pretty, MAX_EXCERPT), excerpt(&summary, 120))
}

/// Turns STIX text in any shape `entente validate` reads as one document into an envelope
/// body for the ingest path, keeping each object's exact text.
fn stix_envelope(text: &str) -> Result<String, UiError> {
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') {
        let list: Vec<&RawValue> = serde_json::from_str(trimmed)
            .map_err(|e| UiError::BadRequest(format!("the text is not a JSON array: {e}")))?;
        let joined: Vec<&str> = list.iter().map(|r| r.get()).collect();
        return Ok(format!("{{\"objects\":[{}]}}", joined.join(",")));
    }
    // A bundle or an envelope carries `objects`; anything else is one object.
    #[derive(Deserialize)]
    struct Probe<'a> {
        #[serde(borrow)]
        objects: Option<&'a RawValue>,
    }
    let probe: Probe<'_> = serde_json::from_str(trimmed)
        .map_err(|e| UiError::BadRequest(format!("the text is not JSON: {e}")))?;
    Ok(if probe.objects.is_some() {
        trimmed.to_owned()
    } else {
        format!("{{\"objects\":[{}]}}", trimmed.trim_end())
    })
}

/// Runs a pasted or uploaded text through the ingest path into `collection`.
async fn push(
    state: &UiState,
    session: &Session,
    collection: &Collection,
    text: &str,
    format: Format,
) -> Result<Report, UiError> {
    let limits = state.app.config.limits.clone();
    if text.len() > limits.max_body_bytes {
        return Err(UiError::TooLarge);
    }
    let mut items: Vec<Option<Item>> = Vec::new();
    // (label, display text, summary) per envelope object
    let mut texts: Vec<(String, String, String)> = Vec::new();
    let body = match format.resolve(text) {
        Format::Stix | Format::Auto => {
            let body = stix_envelope(text)?;
            if let Ok(RawEnvelope {
                objects: Some(objects),
            }) = RawEnvelope::from_slice(body.as_bytes())
            {
                for (i, raw) in objects.iter().enumerate() {
                    let (shown, summary) = readable(raw.get());
                    texts.push((format!("object {}", i + 1), shown, summary));
                }
            }
            body
        }
        Format::Ioc => {
            let now = stix::Timestamp::from_instant(jiff::Timestamp::now(), 3).to_string();
            let mut objects = Vec::new();
            for line in read_ioc_list(text) {
                match line {
                    IocLine::Value { line, ioc, note } => {
                        let json = indicator_json(&ioc, note.as_deref(), &now);
                        texts.push((
                            format!("line {line}"),
                            format!("{} → {}", ioc.value, ioc.pattern()),
                            format!("{} {}", ioc.kind.label(), ioc.value),
                        ));
                        objects.push(json);
                        items.push(None);
                    }
                    IocLine::Unknown { line, text, reason } => items.push(Some(Item {
                        label: format!("line {line}"),
                        id: String::new(),
                        summary: excerpt(&text, 80),
                        text,
                        outcome: Outcome::Refused(vec![Problem {
                            pointer: String::new(),
                            message: reason,
                            rule: None,
                        }]),
                    })),
                }
            }
            if items.is_empty() {
                return Err(UiError::BadRequest(
                    "the list holds no indicator: give one value per line".into(),
                ));
            }
            format!("{{\"objects\":[{}]}}", objects.join(","))
        }
    };
    let flags = collection.flags;
    let statements =
        ingest::stored_statement_markings(state.app.store.as_ref(), &collection.id).await?;
    let prepared = tokio::task::spawn_blocking(move || {
        ingest::prepare_with(body.as_bytes(), flags, &limits, statements)
    })
    .await
    .map_err(|e| UiError::Internal(format!("validation task failed: {e}")))??;
    let outcomes = if prepared.to_store.is_empty() {
        Vec::new()
    } else {
        let expected = prepared.to_store.len();
        let outcomes = state
            .app
            .store
            .add_objects(&collection.id, prepared.to_store)
            .await?;
        if outcomes.len() != expected {
            return Err(UiError::Internal(format!(
                "store returned {} outcomes for {expected} objects",
                outcomes.len()
            )));
        }
        outcomes
    };
    // Record the push as a status resource, as a TAXII POST does, so the pusher can find
    // it through the API too.
    let mut successes = Vec::new();
    let mut failures = Vec::new();
    let mut envelope_items = Vec::with_capacity(prepared.slots.len());
    for (i, slot) in prepared.slots.into_iter().enumerate() {
        let (label, shown, summary) = texts
            .get(i)
            .cloned()
            .unwrap_or_else(|| (format!("object {}", i + 1), String::new(), String::new()));
        let (id, outcome, detail) = match slot {
            Slot::Failed(d) => {
                let found = problems(&d.id, d.message.as_deref().unwrap_or("refused"));
                (d.id.clone(), Outcome::Refused(found), Err(d))
            }
            Slot::Store(k) => {
                let o = &outcomes[k];
                let detail = StatusDetail {
                    id: o.id.clone(),
                    version: o.version.clone(),
                    message: None,
                };
                match &o.result {
                    AddResult::Added { .. } => (o.id.clone(), Outcome::Added, Ok(detail)),
                    AddResult::Duplicate { .. } => (o.id.clone(), Outcome::Duplicate, Ok(detail)),
                    AddResult::Failed { reason } => (
                        o.id.clone(),
                        Outcome::Refused(problems(&o.id, reason)),
                        Err(StatusDetail {
                            message: Some(reason.clone()),
                            ..detail
                        }),
                    ),
                }
            }
        };
        match detail {
            Ok(d) => successes.push(d),
            Err(d) => failures.push(d),
        }
        envelope_items.push(Item {
            label,
            id,
            text: shown,
            summary,
            outcome,
        });
    }
    let status = Status {
        id: uuid::Uuid::new_v4().to_string(),
        owner: session.principal.user_id,
        collection_id: collection.id.clone(),
        status: StatusState::Complete,
        request_timestamp: crate::now(),
        total_count: (successes.len() + failures.len()) as u64,
        successes,
        failures,
        pendings: Vec::new(),
    };
    state.app.store.create_status(&status).await?;
    tracing::info!(
        user = %session.principal.user_name,
        collection = %collection.id,
        total = status.total_count,
        failed = status.failures.len(),
        "UI push stored"
    );
    // Merge the IOC lines refused before ingest back in input order.
    let mut report = Report {
        items: Vec::with_capacity(items.len().max(envelope_items.len())),
        collection: collection.title.clone(),
        collection_id: collection.id.clone(),
    };
    if items.is_empty() {
        report.items = envelope_items;
    } else {
        let mut from_envelope = envelope_items.into_iter();
        for slot in items {
            match slot {
                Some(item) => report.items.push(item),
                None => report.items.extend(from_envelope.next()),
            }
        }
    }
    Ok(report)
}

/// The collections the signed-in user may write, over every API root.
async fn writable(state: &UiState, session: &Session) -> Result<Vec<Collection>, UiError> {
    let mut out = Vec::new();
    for root in state.app.store.list_api_roots().await? {
        for (c, access) in state
            .app
            .store
            .collections_for(Some(&session.principal), &root.name)
            .await?
        {
            if access.write {
                out.push(c);
            }
        }
    }
    Ok(out)
}

/// A collection the user may write, or the same "not found" as the API for one they may
/// not see, and 403 for one they may only read.
async fn target(state: &UiState, session: &Session, id: &str) -> Result<Collection, UiError> {
    match state.app.store.access(Some(&session.principal), id).await? {
        Some((c, access)) if access.write => Ok(c),
        Some((_, access)) if access.read => Err(UiError::Forbidden(
            "you may read this collection but not add to it".into(),
        )),
        _ => Err(UiError::NotFound("collection")),
    }
}

/// The form's fields (paste).
#[derive(Debug, Deserialize)]
struct PushForm {
    collection: String,
    #[serde(default)]
    format: Format,
    #[serde(default)]
    text: String,
}

async fn form(State(state): State<UiState>, session: Session) -> Result<Response, UiError> {
    let collections = writable(&state, &session).await?;
    Ok(render(&session, &collections, None, None, "", None))
}

async fn submit_text(
    State(state): State<UiState>,
    session: Session,
    Form(f): Form<PushForm>,
) -> Result<Response, UiError> {
    let collections = writable(&state, &session).await?;
    let collection = target(&state, &session, &f.collection).await?;
    if f.text.trim().is_empty() {
        return Ok(render(
            &session,
            &collections,
            Some(&collection.id),
            None,
            "",
            Some("Paste a STIX bundle or an IOC list first."),
        ));
    }
    match push(&state, &session, &collection, &f.text, f.format).await {
        Ok(report) => Ok(render(
            &session,
            &collections,
            Some(&collection.id),
            Some(&report),
            "",
            None,
        )),
        // An input the ingest path refuses as a whole: keep the text so it can be fixed.
        Err(UiError::BadRequest(m)) => Ok(render(
            &session,
            &collections,
            Some(&collection.id),
            None,
            &f.text,
            Some(&m),
        )),
        Err(e) => Err(e),
    }
}

async fn submit_upload(
    State(state): State<UiState>,
    session: Session,
    mut multipart: Multipart,
) -> Result<Response, UiError> {
    let limit = state.app.config.limits.max_body_bytes;
    let mut collection_id = String::new();
    let mut format = Format::Auto;
    let mut file: Option<(String, Vec<u8>)> = None;
    while let Some(field) = multipart
        .next_field()
        .await
        .map_err(|e| UiError::BadRequest(format!("the upload is malformed: {e}")))?
    {
        let name = field.name().unwrap_or("").to_owned();
        let file_name = field.file_name().unwrap_or("").to_owned();
        let bytes = field
            .bytes()
            .await
            .map_err(|e| UiError::BadRequest(format!("the upload is malformed: {e}")))?;
        match name.as_str() {
            "collection" => collection_id = String::from_utf8_lossy(&bytes).into_owned(),
            "format" => {
                format = match bytes.as_ref() {
                    b"stix" => Format::Stix,
                    b"ioc" => Format::Ioc,
                    _ => Format::Auto,
                }
            }
            "file" => file = Some((file_name, bytes.to_vec())),
            _ => {}
        }
    }
    let collections = writable(&state, &session).await?;
    let collection = target(&state, &session, &collection_id).await?;
    let Some((file_name, bytes)) = file.filter(|(_, b)| !b.is_empty()) else {
        return Ok(render(
            &session,
            &collections,
            Some(&collection.id),
            None,
            "",
            Some("Choose a file to upload first."),
        ));
    };
    let text = match decode_upload(&bytes, limit) {
        Ok(t) => t,
        Err(UiError::BadRequest(m)) => {
            return Ok(render(
                &session,
                &collections,
                Some(&collection.id),
                None,
                "",
                Some(&format!("{file_name}: {m}")),
            ));
        }
        Err(e) => return Err(e),
    };
    match push(&state, &session, &collection, &text, format).await {
        Ok(report) => Ok(render(
            &session,
            &collections,
            Some(&collection.id),
            Some(&report),
            "",
            None,
        )),
        Err(UiError::BadRequest(m)) => Ok(render(
            &session,
            &collections,
            Some(&collection.id),
            None,
            "",
            Some(&format!("{file_name}: {m}")),
        )),
        Err(e) => Err(e),
    }
}

/// An uploaded file as text: gzip is undone (bounded by `limit`, so a small bomb cannot
/// grow past what the API would accept), and the result must be UTF-8.
pub fn decode_upload(bytes: &[u8], limit: usize) -> Result<String, UiError> {
    let raw = if bytes.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes)
            .take(limit as u64 + 1)
            .read_to_end(&mut out)
            .map_err(|e| UiError::BadRequest(format!("not a readable gzip file: {e}")))?;
        out
    } else {
        bytes.to_vec()
    };
    if raw.len() > limit {
        return Err(UiError::TooLarge);
    }
    String::from_utf8(raw).map_err(|e| {
        UiError::BadRequest(format!(
            "not UTF-8 text (invalid byte at offset {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

fn render(
    session: &Session,
    collections: &[Collection],
    selected: Option<&str>,
    report: Option<&Report>,
    text: &str,
    error: Option<&str>,
) -> Response {
    let body = html! {
        h1 { "Push to a collection" }
        @if collections.is_empty() {
            p.empty { "You may not write to any collection. Ask an administrator for a grant." }
        } @else {
            @if let Some(e) = error {
                p.error role="alert" { (e) }
            }
            @if let Some(r) = report {
                (report_view(r))
                h2 { "Push more" }
            }
            section.push-forms.cards {
                form.push.card method="post" action="/ui/push" {
                    (layout::csrf_field(session))
                    h2 { "Paste" }
                    (collection_select(collections, selected, "collection"))
                    (format_select("format"))
                    label for="text" { "STIX bundle or IOC list" }
                    textarea #text name="text" rows="14" spellcheck="false"
                        placeholder="{\"type\": \"bundle\", \"objects\": [...]}\n— or one indicator per line —\n198.51.100.7\nevil.example.com\nhxxp://evil[.]example/login\n44d88612fea8a8f36de82e1278abb02f" { (text) }
                    button type="submit" { "Validate and push" }
                }
                form.push.card method="post" enctype="multipart/form-data"
                    action={ "/ui/push/upload?" (layout::csrf_query(session)) } {
                    h2 { "Upload" }
                    (collection_select(collections, selected, "upload-collection"))
                    (format_select("upload-format"))
                    label for="file" { "File (.json, .json.gz, .txt)" }
                    input #file type="file" name="file" required;
                    button type="submit" { "Upload and push" }
                }
            }
            p.hint {
                "Objects go through the same validation as a TAXII POST. Valid objects are "
                "stored even when others are refused; refused ones are listed with the "
                "reason next to them."
            }
        }
    };
    layout::html(layout::page(session, "Push", Nav::Push, body))
}

fn collection_select(collections: &[Collection], selected: Option<&str>, id: &str) -> Markup {
    html! {
        label for=(id) { "Collection" }
        select id=(id) name="collection" required {
            @for c in collections {
                option value=(c.id) selected[selected == Some(c.id.as_str())] {
                    (c.title) " (" (c.api_root) ")"
                    @if c.flags.restricted { " · restricted" }
                    @if c.flags.public_read { " · public" }
                }
            }
        }
    }
}

fn format_select(id: &str) -> Markup {
    html! {
        label for=(id) { "Format" }
        select id=(id) name="format" {
            option value="auto" selected { "Detect" }
            option value="stix" { "STIX 2.1 (bundle, envelope, object or array)" }
            option value="ioc" { "IOC list (one value per line)" }
        }
    }
}

/// The lines of a pretty-printed object, each with the rules (or messages) of the
/// findings whose pointer starts at that line's top-level property, so the error stands
/// next to the offending property.
fn annotate<'t>(text: &'t str, found: &[Problem]) -> Vec<(&'t str, Vec<String>)> {
    let keyed: Vec<(String, String)> = found
        .iter()
        .filter_map(|p| {
            // RFC 6901 §4: the first reference token, unescaped.
            let token = p.pointer.strip_prefix('/')?.split('/').next()?;
            let key = token.replace("~1", "/").replace("~0", "~");
            let quoted = serde_json::to_string(&key).ok()?;
            let mark = p.rule.clone().unwrap_or_else(|| p.message.clone());
            Some((format!("  {quoted}:"), mark))
        })
        .collect();
    text.lines()
        .map(|line| {
            let marks = keyed
                .iter()
                .filter(|(prefix, _)| line.starts_with(prefix.as_str()))
                .map(|(_, mark)| mark.clone())
                .collect();
            (line, marks)
        })
        .collect()
}

/// The reasons of the refusals, most frequent first: the rule code where there is one,
/// the message otherwise (at most 20 kinds).
fn reason_counts(refused: &[&Item]) -> Vec<(String, usize)> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for item in refused {
        let Outcome::Refused(found) = &item.outcome else {
            continue;
        };
        for p in found {
            let key = match &p.rule {
                Some(rule) => format!("{} [{rule}]", p.message),
                None => p.message.clone(),
            };
            // Bounded: at most 200 distinct reasons are counted.
            if let Some(i) = counts.iter().position(|(k, _)| *k == key) {
                counts[i].1 += 1;
            } else if counts.len() < 200 {
                counts.push((key, 1));
            }
        }
    }
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts.truncate(20);
    counts
}

/// Lines of an object shown beside its errors when it is long: the first
/// [`HEAD_LINES`], every marked line with the line before it, and the last line; a `…`
/// stands for what is left out.
fn elide(lines: Vec<(&str, Vec<String>)>) -> Vec<(&str, Vec<String>)> {
    if lines.len() <= 2 * HEAD_LINES {
        return lines;
    }
    let last = lines.len() - 1;
    let keep: Vec<bool> = (0..lines.len())
        .map(|i| {
            i < HEAD_LINES
                || i == last
                || !lines[i].1.is_empty()
                || lines.get(i + 1).is_some_and(|(_, m)| !m.is_empty())
        })
        .collect();
    let mut out = Vec::new();
    let mut gap = false;
    for (i, line) in lines.into_iter().enumerate() {
        if keep[i] {
            if gap {
                out.push(("  …", Vec::new()));
                gap = false;
            }
            out.push(line);
        } else {
            gap = true;
        }
    }
    out
}

fn report_view(r: &Report) -> Markup {
    let added = r.count(|o| *o == Outcome::Added);
    let duplicate = r.count(|o| *o == Outcome::Duplicate);
    let refused: Vec<&Item> = r
        .items
        .iter()
        .filter(|i| matches!(i.outcome, Outcome::Refused(_)))
        .collect();
    // Every refusal, and the first successes: the page must stay readable for a bundle of
    // thousands of objects.
    let stored: Vec<&Item> = r
        .items
        .iter()
        .filter(|i| !matches!(i.outcome, Outcome::Refused(_)))
        .collect();
    let unlisted = stored.len().saturating_sub(MAX_LISTED_SUCCESSES);
    let reasons = reason_counts(&refused);
    html! {
        section.push-result aria-labelledby="result-heading" {
            h2 #result-heading { "Result" }
            p.summary role="status" {
                span.ok { (added) " stored" } ", "
                (duplicate) " already present, "
                @if refused.is_empty() { "0 refused" } @else { span.error { (refused.len()) " refused" } }
                " — in " strong { (r.collection) } "."
            }
            @if !refused.is_empty() {
                h3 { "Refused" }
                @if refused.len() > 1 {
                    div.table-wrap {
                        table.push-reasons {
                            thead { tr { th scope="col" { "Reason" } th.num scope="col" { "Objects" } } }
                            tbody {
                                @for (reason, n) in &reasons {
                                    tr { td { (reason) } td.num { (n) } }
                                }
                            }
                        }
                    }
                }
                @for item in refused.iter().take(MAX_LISTED_REFUSALS) {
                    details.raw.refused open {
                        summary {
                            span.error { "Refused: " (item.label) }
                            @if !item.id.is_empty() { " " code.id { (item.id) } }
                        }
                        @if let Outcome::Refused(found) = &item.outcome {
                            ul.problems {
                                @for p in found {
                                    li.problem {
                                        @if !p.pointer.is_empty() {
                                            code.pointer { (p.pointer) } " "
                                        } @else if !item.id.is_empty() {
                                            code.pointer { "(object)" } " "
                                        }
                                        span.message { (p.message) }
                                        @if let Some(rule) = &p.rule {
                                            " " span.rule.muted { "[" (rule) "]" }
                                        }
                                    }
                                }
                            }
                            @if !item.text.is_empty() {
                                pre.note.excerpt {
                                    code {
                                        @for (line, marks) in elide(annotate(&item.text, found)) {
                                            @if marks.is_empty() {
                                                (excerpt(line, MAX_LINE)) "\n"
                                            } @else {
                                                span.error { (excerpt(line, MAX_LINE)) "  ◀ " (marks.join(", ")) } "\n"
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @if refused.len() > MAX_LISTED_REFUSALS {
                p.hint {
                    (refused.len() - MAX_LISTED_REFUSALS)
                    " more refused objects are not shown one by one; the reasons above count them all."
                }
            }
            @if !stored.is_empty() {
                h3 { "Stored" }
                div.table-wrap {
                    table.push-stored {
                        thead { tr { th scope="col" { "Item" } th scope="col" { "What" } th.wide scope="col" { "Id" } th scope="col" { "Result" } } }
                        tbody {
                            @for item in stored.iter().take(MAX_LISTED_SUCCESSES) {
                                tr {
                                    td { (item.label) }
                                    td {
                                        a href={ "/ui/c/" (r.collection_id) "/o/" (item.id) } {
                                            @if item.summary.is_empty() { (item.id) } @else { (item.summary) }
                                        }
                                    }
                                    td.wide { code.id { (item.id) } }
                                    td {
                                        @if item.outcome == Outcome::Added { span.ok { "stored" } } @else { "already present" }
                                    }
                                }
                            }
                        }
                    }
                }
                @if unlisted > 0 {
                    p.hint { (unlisted) " more stored objects are not listed." }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(v: &str) -> Option<IocKind> {
        detect_ioc(v).map(|i| i.kind)
    }

    #[test]
    fn detects_each_kind() {
        assert_eq!(kind("198.51.100.7"), Some(IocKind::Ipv4));
        assert_eq!(kind("10.0.0.0/8"), Some(IocKind::Ipv4));
        assert_eq!(kind("10.0.0.0/33"), None);
        assert_eq!(kind("2001:db8::1"), Some(IocKind::Ipv6));
        assert_eq!(kind("2001:db8::/32"), Some(IocKind::Ipv6));
        assert_eq!(kind("https://evil.example/a?b=c"), Some(IocKind::Url));
        assert_eq!(kind("hxxp://evil[.]example/login"), Some(IocKind::Url));
        assert_eq!(kind("mallory@evil.example"), Some(IocKind::Email));
        assert_eq!(kind("evil.example.com"), Some(IocKind::Domain));
        assert_eq!(kind("evil[.]example"), Some(IocKind::Domain));
        assert_eq!(kind("xn--80ak6aa92e.com"), Some(IocKind::Domain));
        assert_eq!(kind(&"a".repeat(32)), Some(IocKind::Md5));
        assert_eq!(kind(&"B".repeat(40)), Some(IocKind::Sha1));
        assert_eq!(kind(&"c".repeat(64)), Some(IocKind::Sha256));
        assert_eq!(kind(&"d".repeat(128)), Some(IocKind::Sha512));
        for junk in [
            "",
            "hello",
            "abc123",
            "1.2.3",
            "-bad-.com",
            "a..b",
            "x://",
            "@evil.example",
            "1.2.3.4.5",
        ] {
            assert_eq!(kind(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn patterns_escape_and_are_valid_stix() {
        let ioc = detect_ioc("http://evil.example/it's\\here").expect("a url");
        assert_eq!(
            ioc.pattern(),
            r"[url:value = 'http://evil.example/it\'s\\here']"
        );
        for v in [
            "198.51.100.7",
            "2001:db8::/32",
            "http://evil.example/it's\\here",
            "mallory@evil.example",
            "evil.example.com",
            &"c".repeat(64),
            &"a".repeat(40),
        ] {
            let p = detect_ioc(v).expect(v).pattern();
            assert!(
                pattern::validate(&p, pattern::StixVersion::V21).is_ok(),
                "{p} does not validate"
            );
        }
    }

    #[test]
    fn reads_lists_with_comments_notes_and_junk() {
        let lines = read_ioc_list(
            "# feed of the day\n\n198.51.100.7  C2 of the campaign\nevil.example,phishing\nnot-an-ioc\r\n",
        );
        assert_eq!(lines.len(), 3);
        match &lines[0] {
            IocLine::Value { line, ioc, note } => {
                assert_eq!((*line, ioc.kind), (3, IocKind::Ipv4));
                assert_eq!(note.as_deref(), Some("C2 of the campaign"));
            }
            other => panic!("{other:?}"),
        }
        assert!(
            matches!(&lines[1], IocLine::Value { line: 4, ioc, note: Some(n) } if ioc.kind == IocKind::Domain && n == "phishing")
        );
        assert!(matches!(&lines[2], IocLine::Unknown { line: 5, .. }));
    }

    #[test]
    fn indicators_pass_the_validator() {
        let ioc = detect_ioc("evil.example.com").expect("domain");
        let json = indicator_json(&ioc, Some("note"), "2026-01-01T00:00:00.000Z");
        let object = stix::StixObject::from_json_str(&json).expect("parses");
        let options = stix::ValidateOptions::default();
        let errors: Vec<_> = stix::validate_object(&object, &options)
            .into_iter()
            .filter(|d| d.severity == stix::Severity::Error)
            .collect();
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(object.str_prop("description"), Some("note"));
    }

    #[test]
    fn splits_validator_messages_back() {
        let id = "indicator--8e2e2d2b-17d4-4cbf-938f-98ee46b3cd3f";
        let msg = format!(
            "{id}: /valid_until: must be later than valid_from [valid-until-after-valid-from]; \
             {id}: /pattern: unexpected end; expected ']' at column 30 (E001) [pattern-invalid]; \
             {id}: : the object has no created [required-property]"
        );
        let found = problems(id, &msg);
        assert_eq!(found.len(), 3, "{found:?}");
        assert_eq!(found[0].pointer, "/valid_until");
        assert_eq!(found[0].message, "must be later than valid_from");
        assert_eq!(
            found[0].rule.as_deref(),
            Some("valid-until-after-valid-from")
        );
        assert_eq!(
            found[1].message,
            "unexpected end; expected ']' at column 30 (E001)"
        );
        assert_eq!(found[2].pointer, "");
        assert_eq!(found[2].rule.as_deref(), Some("required-property"));
        // Refusals that are not validator findings stay whole.
        let tlp = problems(id, "TLP:RED is only allowed in restricted collections");
        assert_eq!(tlp.len(), 1);
        assert_eq!(tlp[0].rule, None);
        assert_eq!(problems("", "x: y [z]")[0].message, "x: y [z]");
    }

    #[test]
    fn findings_mark_their_property_lines() {
        let text = "{\n  \"type\": \"indicator\",\n  \"a/b\": 1,\n  \"valid_until\": \"2020\"\n}";
        let found = problems(
            "indicator--1",
            "indicator--1: /valid_until: must be later [valid-until-after-valid-from]; \
             indicator--1: /a~1b: odd [custom-property-name]; indicator--1: : whole [x-y]",
        );
        let lines = annotate(text, &found);
        let marked: Vec<(&str, Vec<String>)> =
            lines.into_iter().filter(|(_, m)| !m.is_empty()).collect();
        assert_eq!(
            marked,
            vec![
                ("  \"a/b\": 1,", vec!["custom-property-name".to_owned()]),
                (
                    "  \"valid_until\": \"2020\"",
                    vec!["valid-until-after-valid-from".to_owned()]
                ),
            ]
        );
    }

    #[test]
    fn long_objects_keep_their_head_and_marked_lines() {
        let text: Vec<String> = (0..40).map(|i| format!("  \"k{i}\": {i},")).collect();
        let text = text.join("\n");
        let found = problems("x--1", "x--1: /k30: bad [some-rule]");
        let shown = elide(annotate(&text, &found));
        let lines: Vec<&str> = shown.iter().map(|(l, _)| *l).collect();
        assert_eq!(&lines[..10], &text.lines().take(10).collect::<Vec<_>>()[..]);
        assert_eq!(lines[10], "  …");
        assert_eq!(&lines[11..13], &["  \"k29\": 29,", "  \"k30\": 30,"]);
        assert_eq!(shown[12].1, vec!["some-rule".to_owned()]);
        assert_eq!(&lines[13..], &["  …", "  \"k39\": 39,"]);
        // Short objects are shown whole.
        let short = "{\n  \"a\": 1\n}";
        assert_eq!(elide(annotate(short, &[])).len(), 3);
    }

    #[test]
    fn stix_shapes_become_envelopes() {
        let one = r#"{"type":"identity","id":"identity--1"}"#;
        assert_eq!(
            stix_envelope(one).unwrap(),
            format!("{{\"objects\":[{one}]}}")
        );
        let arr = format!("[{one}, {one}]");
        assert_eq!(
            stix_envelope(&arr).unwrap(),
            format!("{{\"objects\":[{one},{one}]}}")
        );
        let bundle = format!(r#"{{"type":"bundle","id":"bundle--1","objects":[{one}]}}"#);
        assert_eq!(stix_envelope(&bundle).unwrap(), bundle);
        assert!(matches!(
            stix_envelope("{nope"),
            Err(UiError::BadRequest(_))
        ));
    }

    #[test]
    fn uploads_are_decoded_within_the_limit() {
        use std::io::Write as _;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&vec![b'a'; 5000]).unwrap();
        let bytes = gz.finish().unwrap();
        assert_eq!(decode_upload(&bytes, 5000).unwrap().len(), 5000);
        assert!(matches!(
            decode_upload(&bytes, 4999),
            Err(UiError::TooLarge)
        ));
        assert!(matches!(
            decode_upload(b"\xff\xfe", 10),
            Err(UiError::BadRequest(_))
        ));
        assert_eq!(decode_upload(b"1.2.3.4", 10).unwrap(), "1.2.3.4");
    }
}

//! An async TAXII 2.1 client for any TAXII 2.1 server, not only entente's.
//!
//! What it does: server discovery and API roots (TAXII 2.1 §4.1, §4.2), collections (§5.1,
//! §5.2), reading objects, one object, its versions and the manifest with every filter of
//! §3.4, following pagination (§3.5) to the end, adding objects with status polling (§4.3,
//! §5.5) and deleting objects (§5.7). It is the transport under `entente push`, `pull`,
//! `sync` and `hunt`.
//!
//! Design points, each because real servers differ:
//! - **Reads are lenient.** Resources are parsed with every optional member defaulted and
//!   unknown members ignored (servers may add custom properties to any resource), and
//!   `http_status` in error messages may be a string (as the spec says) or a number (as some
//!   servers send).
//! - **Objects stay raw.** Pages keep each STIX object as the exact bytes the server sent
//!   ([`RawValue`]), and [`Client::push`] sends each object's bytes as given, so a round trip
//!   through entente is byte-identical in content (`DESIGN.md`: "what a client posted is what
//!   a client gets back").
//! - **Pagination two ways.** `more` with `next` is followed when the server gives `next`;
//!   when it says `more` without `next`, the client falls back to `added_after` set to the
//!   page's `X-TAXII-Date-Added-Last` header, which §3.5 describes for servers that do not
//!   issue tokens. A page that does not advance is an error, never an endless loop.
//! - **Envelopes fit the server.** [`Client::push`] splits objects into envelopes no larger
//!   than the API root's `max_content_length` (§4.2.1) and no more objects than a cap; a 413
//!   answer (the server has a tighter limit than it advertises, or a per-envelope object
//!   limit) halves the envelope and tries again.
//! - **Bounded retries.** 408, 429, 500, 502, 503, 504 and connection failures are retried
//!   with exponential backoff and jitter, honouring `Retry-After` in seconds, at most
//!   [`RetryPolicy::max_retries`] times. Re-sending a POST is safe in TAXII: adding an object
//!   version the collection already holds changes nothing.
//! - **Clear errors.** A non-success answer becomes [`ClientError::Http`] carrying the
//!   server's TAXII error message (§3.6) when it sent one.
//!
//! Credentials never appear in `Debug` output or error messages.
//!
//! Tests: `client/tests.rs` runs the client against a small in-process axum fake (paging
//! both ways, splitting, 413 halving, retries, status polling, error messages); the interop
//! suite (`interop/test_push_pull.py`) runs `entente push`/`pull` against `entente serve`.

#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::ops::Range;
use std::time::{Duration, Instant};

use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, RETRY_AFTER};
use reqwest::{Method, StatusCode, Url};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::media::TAXII_21;
pub use crate::{Collection, Collections, Discovery, ErrorMessage, ManifestRecord};

/// Response header naming the `date_added` of the first object of a page (TAXII 2.1 §5.4).
pub const DATE_ADDED_FIRST: &str = "X-TAXII-Date-Added-First";

/// Response header naming the `date_added` of the last object of a page (TAXII 2.1 §5.4).
pub const DATE_ADDED_LAST: &str = "X-TAXII-Date-Added-Last";

/// Bytes an envelope adds around its objects: `{"objects":[` and `]}`.
const ENVELOPE_OVERHEAD: usize = r#"{"objects":[]}"#.len();

/// Longest server answer quoted in an error when it sent no TAXII error message.
const BODY_EXCERPT: usize = 200;

/// Everything that can go wrong talking to a TAXII server.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// A URL given by the user or a server could not be parsed or joined.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The text that is not a usable URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// The HTTP client could not be built (TLS set-up).
    #[error("cannot set up the HTTP client: {0}")]
    Setup(#[source] reqwest::Error),
    /// No answer: connection refused, reset, timed out (after the retries). The cause is the
    /// error's source, so that error reports print it once.
    #[error("{method} {url}: no answer")]
    Transport {
        /// Method of the request.
        method: Method,
        /// URL of the request.
        url: Box<Url>,
        /// What failed.
        #[source]
        source: reqwest::Error,
    },
    /// The server answered with a non-success status (after the retries for retryable ones).
    #[error("{method} {url}: HTTP {status}{}", describe(message.as_deref(), body))]
    Http {
        /// Method of the request.
        method: Method,
        /// URL of the request.
        url: Box<Url>,
        /// The HTTP status.
        status: StatusCode,
        /// The TAXII error message in the body, if it had one (TAXII 2.1 §3.6).
        message: Option<Box<ErrorMessage>>,
        /// The start of the body when it was not a TAXII error message.
        body: String,
    },
    /// A success answer whose body is not the resource the endpoint defines.
    #[error("{url}: the answer is not a valid {what}")]
    Decode {
        /// URL of the request.
        url: Box<Url>,
        /// The resource expected, e.g. `envelope`.
        what: &'static str,
        /// The JSON error.
        #[source]
        source: serde_json::Error,
    },
    /// Discovery lists no API root and none was given.
    #[error("{url} lists no API root; name one explicitly")]
    NoApiRoot {
        /// The discovery URL.
        url: Box<Url>,
    },
    /// Paging would loop or cannot continue.
    #[error("paging {url} cannot continue: {reason}")]
    Pagination {
        /// The endpoint being paged.
        url: Box<Url>,
        /// Why.
        reason: String,
    },
    /// An object handed to [`Client::push`] is not a JSON object with a string `id`.
    #[error("object {index} is not a STIX object with an id: {reason}")]
    BadObject {
        /// Its position in the input.
        index: usize,
        /// Why.
        reason: String,
    },
}

/// Renders the server's side of an HTTP error: its TAXII error message, else a body excerpt.
fn describe(message: Option<&ErrorMessage>, body: &str) -> String {
    match message {
        Some(m) => {
            let mut s = format!(": {}", m.title);
            if let Some(d) = m.description.as_deref().filter(|d| !d.is_empty()) {
                s.push_str(": ");
                s.push_str(d);
            }
            s
        }
        None if body.trim().is_empty() => String::new(),
        None => format!(": {}", body.trim()),
    }
}

impl ClientError {
    /// The HTTP status of an [`ClientError::Http`], if this is one.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ClientError::Http { status, .. } => Some(*status),
            _ => None,
        }
    }
}

/// How the client proves who it is: TAXII 2.1 leaves the scheme to the server; HTTP Basic
/// and bearer tokens are what servers use.
#[derive(Clone, Default)]
pub enum Auth {
    /// No credentials.
    #[default]
    None,
    /// `Authorization: Bearer TOKEN`.
    Bearer(String),
    /// HTTP Basic (RFC 7617); entente takes a user name and an API token as password.
    Basic {
        /// User name.
        user: String,
        /// Password (or token).
        password: String,
    },
}

impl fmt::Debug for Auth {
    /// Names the scheme and never the secret, so credentials cannot leak into logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Auth::None => f.write_str("Auth::None"),
            Auth::Bearer(_) => f.write_str("Auth::Bearer(<redacted>)"),
            Auth::Basic { user, .. } => write!(f, "Auth::Basic {{ user: {user:?}, .. }}"),
        }
    }
}

/// When and how often a failed request is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt; 0 disables retrying.
    pub max_retries: u32,
    /// Wait before the first retry; doubled for each further one.
    pub base_delay: Duration,
    /// Upper bound of any single wait, including one asked for by `Retry-After`.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_retries: 5,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (0-based): exponential, capped, with "equal
    /// jitter" (between half and all of the step) so that many clients refused together do
    /// not come back together.
    fn backoff(&self, attempt: u32) -> Duration {
        let step = self
            .base_delay
            .saturating_mul(1u32.checked_shl(attempt.min(20)).unwrap_or(u32::MAX))
            .min(self.max_delay);
        let half = step / 2;
        let jitter_ms = u64::try_from(half.as_millis()).unwrap_or(u64::MAX);
        let extra = if jitter_ms == 0 {
            0
        } else {
            random_u64() % (jitter_ms + 1)
        };
        half + Duration::from_millis(extra)
    }
}

/// A random number without a dependency: std seeds every `RandomState` from the OS.
fn random_u64() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0);
    h.finish()
}

/// Settings of a [`Client`].
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// Credentials sent with every request.
    pub auth: Auth,
    /// Limit on each whole request, from connecting to the last body byte.
    pub timeout: Duration,
    /// Limit on establishing a connection.
    pub connect_timeout: Duration,
    /// Retries of failed requests.
    pub retry: RetryPolicy,
    /// Sent as `User-Agent`.
    pub user_agent: String,
}

impl Default for ClientOptions {
    fn default() -> Self {
        ClientOptions {
            auth: Auth::None,
            timeout: Duration::from_secs(120),
            connect_timeout: Duration::from_secs(10),
            retry: RetryPolicy::default(),
            user_agent: concat!("entente/", env!("CARGO_PKG_VERSION")).to_owned(),
        }
    }
}

// ---------------------------------------------------------------------------------------
// Resources as the client reads them. Discovery, collections, manifest records and error
// messages are the crate's own types (re-exported above). The API root and the status get
// client-side twins that default every member: the crate's types describe what entente
// serves, while a client must also read servers that leave out `max_content_length` or a
// status detail's `version`, and an unreadable status would lose a push's outcome.
// ---------------------------------------------------------------------------------------

/// The API root resource (TAXII 2.1 §4.2.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiRootInfo {
    /// Name of the API root.
    #[serde(default)]
    pub title: String,
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Supported TAXII versions as media types.
    #[serde(default)]
    pub versions: Vec<String>,
    /// Largest request body the server accepts, in bytes; `None` when the server omits it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_content_length: Option<u64>,
}

/// One entry of a status resource's `successes`, `failures` or `pendings` (TAXII 2.1
/// §4.3.1, "status-details").
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDetail {
    /// The object's id.
    #[serde(default)]
    pub id: String,
    /// The object's version (`modified`, or `created`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Why, for failures; may be anything for the others.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// The status resource (TAXII 2.1 §4.3.1).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Identifier, for `GET {api-root}/status/{id}/`.
    pub id: String,
    /// `complete` or `pending`.
    pub status: String,
    /// When the request was received.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_timestamp: Option<String>,
    /// Objects in the request.
    #[serde(default)]
    pub total_count: u64,
    /// Objects stored.
    #[serde(default)]
    pub success_count: u64,
    /// Which were stored (optional in the spec).
    #[serde(default)]
    pub successes: Vec<StatusDetail>,
    /// Objects refused.
    #[serde(default)]
    pub failure_count: u64,
    /// Which were refused and why (optional in the spec).
    #[serde(default)]
    pub failures: Vec<StatusDetail>,
    /// Objects not processed yet.
    #[serde(default)]
    pub pending_count: u64,
    /// Which are still pending (optional in the spec).
    #[serde(default)]
    pub pendings: Vec<StatusDetail>,
}

impl Status {
    /// Whether the server has finished with every object of the request.
    pub fn is_complete(&self) -> bool {
        self.status == "complete"
    }
}

/// A paged list resource: the envelope (§3.7), the manifest (§5.3.1) and versions (§5.8.1)
/// all have `more` and `next`; the list is `objects`, or `versions`.
#[derive(Deserialize)]
#[serde(bound = "T: DeserializeOwned")]
struct PagedBody<T> {
    #[serde(default)]
    more: bool,
    #[serde(default)]
    next: Option<serde_json::Value>,
    #[serde(default, alias = "versions")]
    objects: Vec<T>,
}

/// One page of a paged endpoint, with the `date_added` headers of the answer.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// Whether the server has more.
    pub more: bool,
    /// The server's token for the next page, if it gave one.
    pub next: Option<String>,
    /// `X-TAXII-Date-Added-First` of the answer.
    pub date_added_first: Option<String>,
    /// `X-TAXII-Date-Added-Last` of the answer.
    pub date_added_last: Option<String>,
}

/// The filters of TAXII 2.1 §3.4 plus `limit`; empty lists and `None` send nothing.
///
/// Each list goes out as one comma-separated value, which TAXII 2.1 §3.4 reads as "match any".
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// `added_after`: only what was added strictly after this timestamp.
    pub added_after: Option<String>,
    /// `limit`: most items per page; the server may send fewer.
    pub limit: Option<u32>,
    /// `match[id]`.
    pub ids: Vec<String>,
    /// `match[type]`.
    pub types: Vec<String>,
    /// `match[version]`: `first`, `last`, `all` or timestamps; the server's default is `last`.
    pub versions: Vec<String>,
    /// `match[spec_version]`.
    pub spec_versions: Vec<String>,
}

impl Filter {
    /// The query parameters this filter stands for.
    pub fn to_query(&self) -> Vec<(&'static str, String)> {
        let mut q = Vec::new();
        if let Some(a) = &self.added_after {
            q.push(("added_after", a.clone()));
        }
        if let Some(l) = self.limit {
            q.push(("limit", l.to_string()));
        }
        for (name, list) in [
            ("match[id]", &self.ids),
            ("match[type]", &self.types),
            ("match[version]", &self.versions),
            ("match[spec_version]", &self.spec_versions),
        ] {
            if !list.is_empty() {
                q.push((name, list.join(",")));
            }
        }
        q
    }
}

/// Where a collection is: its API root's URL (ending in `/`) and its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionRef {
    /// The API root, e.g. `http://host/default/`.
    pub api_root: Url,
    /// The collection's id (or alias).
    pub id: String,
}

impl CollectionRef {
    /// A collection of an API root.
    pub fn new(api_root: Url, id: impl Into<String>) -> CollectionRef {
        CollectionRef {
            api_root: with_trailing_slash(api_root),
            id: id.into(),
        }
    }

    /// `{api-root}/collections/{id}/{tail}`; each segment percent-encoded.
    fn url(&self, tail: &[&str]) -> Result<Url, ClientError> {
        let mut segments = vec!["collections", self.id.as_str()];
        segments.extend_from_slice(tail);
        append_segments(&self.api_root, &segments)
    }
}

/// `base` plus path segments (percent-encoded), ending in `/` as TAXII URLs do.
fn append_segments(base: &Url, segments: &[&str]) -> Result<Url, ClientError> {
    let mut url = base.clone();
    {
        let mut path = url
            .path_segments_mut()
            .map_err(|()| ClientError::InvalidUrl {
                url: base.to_string(),
                reason: "cannot be a base URL".into(),
            })?;
        path.pop_if_empty();
        path.extend(segments);
        path.push("");
    }
    Ok(url)
}

fn with_trailing_slash(mut url: Url) -> Url {
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    url
}

fn parse_url(text: &str) -> Result<Url, ClientError> {
    Url::parse(text).map_err(|e| ClientError::InvalidUrl {
        url: text.to_owned(),
        reason: e.to_string(),
    })
}

// ---------------------------------------------------------------------------------------
// Push: options, progress and the report.
// ---------------------------------------------------------------------------------------

/// How [`Client::push`] sends objects.
#[derive(Debug, Clone)]
pub struct PushOptions {
    /// Most objects in one envelope.
    pub max_objects: usize,
    /// Largest envelope in bytes; `None` takes the API root's `max_content_length`.
    pub max_bytes: Option<u64>,
    /// How long to poll a pending status before giving up on it (its objects stay pending).
    pub status_timeout: Duration,
    /// First wait between status polls; grows to 2 s.
    pub poll_interval: Duration,
}

impl Default for PushOptions {
    fn default() -> Self {
        PushOptions {
            max_objects: 500,
            max_bytes: None,
            status_timeout: Duration::from_secs(300),
            poll_interval: Duration::from_millis(200),
        }
    }
}

/// What [`Client::push`] reports as it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushProgress {
    /// Objects of one envelope were accepted for processing (202).
    Sent {
        /// Objects in that envelope.
        objects: usize,
    },
    /// The server refused an envelope as too large; it is being sent in two halves.
    Split {
        /// Objects in the refused envelope.
        objects: usize,
    },
}

/// The outcome of [`Client::push`]: the status resources of every envelope, summed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PushReport {
    /// Envelopes sent (accepted with a status).
    pub envelopes: usize,
    /// The status ids, in sending order.
    pub status_ids: Vec<String>,
    /// Objects handed to the push.
    pub total: u64,
    /// Objects the server stored.
    pub success_count: u64,
    /// Objects refused by the server, or not sent because no envelope could hold them.
    pub failure_count: u64,
    /// Objects still pending when polling stopped.
    pub pending_count: u64,
    /// The failures with their reasons, as far as the server listed them.
    pub failures: Vec<StatusDetail>,
    /// The pending objects, as far as the server listed them.
    pub pendings: Vec<StatusDetail>,
}

impl PushReport {
    /// Whether every object was stored.
    pub fn all_succeeded(&self) -> bool {
        self.failure_count == 0 && self.pending_count == 0 && self.success_count == self.total
    }

    fn absorb(&mut self, status: Status) {
        self.success_count += status.success_count;
        self.failure_count += status.failure_count;
        self.pending_count += status.pending_count;
        self.failures.extend(status.failures);
        self.pendings.extend(status.pendings);
    }
}

/// Splits objects (their serialised lengths) into consecutive envelopes of at most
/// `max_objects` objects and `max_bytes` bytes including the envelope's own syntax.
///
/// Returns the ranges of the envelopes and the indices of objects too large to fit any
/// envelope (those are left out of every range).
pub fn plan_envelopes(
    lengths: &[usize],
    max_bytes: usize,
    max_objects: usize,
) -> (Vec<Range<usize>>, Vec<usize>) {
    let max_objects = max_objects.max(1);
    let mut ranges = Vec::new();
    let mut oversize = Vec::new();
    let mut start = 0;
    let mut bytes = ENVELOPE_OVERHEAD;
    for (i, &len) in lengths.iter().enumerate() {
        if ENVELOPE_OVERHEAD + len > max_bytes {
            // Close the envelope before it, skip it.
            if start < i {
                ranges.push(start..i);
            }
            oversize.push(i);
            start = i + 1;
            bytes = ENVELOPE_OVERHEAD;
            continue;
        }
        let comma = usize::from(i > start);
        if i - start == max_objects || bytes + comma + len > max_bytes {
            ranges.push(start..i);
            start = i;
            bytes = ENVELOPE_OVERHEAD + len;
        } else {
            bytes += comma + len;
        }
    }
    if start < lengths.len() {
        ranges.push(start..lengths.len());
    }
    (ranges, oversize)
}

/// The envelope `{"objects":[...]}` made of the objects' exact bytes.
fn envelope_body(objects: &[&str]) -> String {
    let len = ENVELOPE_OVERHEAD + objects.iter().map(|o| o.len() + 1).sum::<usize>();
    let mut body = String::with_capacity(len);
    body.push_str(r#"{"objects":["#);
    for (i, o) in objects.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(o);
    }
    body.push_str("]}");
    body
}

#[derive(Deserialize)]
struct IdAndVersion {
    id: String,
    #[serde(default)]
    modified: Option<String>,
    #[serde(default)]
    created: Option<String>,
}

// ---------------------------------------------------------------------------------------
// The client.
// ---------------------------------------------------------------------------------------

/// A TAXII 2.1 client. Cheap to clone: clones share one connection pool.
#[derive(Debug, Clone)]
pub struct Client {
    http: reqwest::Client,
    auth: Auth,
    retry: RetryPolicy,
}

impl Client {
    /// A client with default options and these credentials.
    pub fn new(auth: Auth) -> Result<Client, ClientError> {
        Client::with_options(ClientOptions {
            auth,
            ..ClientOptions::default()
        })
    }

    /// A client with these options.
    pub fn with_options(options: ClientOptions) -> Result<Client, ClientError> {
        let http = reqwest::Client::builder()
            .timeout(options.timeout)
            .connect_timeout(options.connect_timeout)
            .user_agent(options.user_agent)
            .build()
            .map_err(ClientError::Setup)?;
        Ok(Client {
            http,
            auth: options.auth,
            retry: options.retry,
        })
    }

    /// The discovery URL for what a user typed as "the server": a URL whose path ends in
    /// `taxii2` is taken as is, anything else gets `taxii2/` appended to its origin, the
    /// well-known location of TAXII 2.1 §4.1.
    pub fn discovery_url(server: &str) -> Result<Url, ClientError> {
        let url = parse_url(server)?;
        if url.path().trim_end_matches('/').ends_with("taxii2") {
            return Ok(with_trailing_slash(url));
        }
        url.join("/taxii2/").map_err(|e| ClientError::InvalidUrl {
            url: server.to_owned(),
            reason: e.to_string(),
        })
    }

    /// `GET /taxii2/` (TAXII 2.1 §4.1).
    pub async fn discover(&self, discovery_url: &Url) -> Result<Discovery, ClientError> {
        self.get_json(discovery_url, &[], "discovery resource")
            .await
            .map(|(d, _)| d)
    }

    /// The API root to use: `api_root` when given (a URL, or a name resolved against the
    /// server's origin as `/NAME/`), else the discovery's `default`, else its only root.
    pub async fn resolve_api_root(
        &self,
        server: &str,
        api_root: Option<&str>,
    ) -> Result<Url, ClientError> {
        let discovery_url = Client::discovery_url(server)?;
        if let Some(root) = api_root {
            let root = root.trim();
            let url = if root.starts_with("http://") || root.starts_with("https://") {
                parse_url(root)?
            } else {
                discovery_url
                    .join(&format!("/{}/", root.trim_matches('/')))
                    .map_err(|e| ClientError::InvalidUrl {
                        url: root.to_owned(),
                        reason: e.to_string(),
                    })?
            };
            return Ok(with_trailing_slash(url));
        }
        let discovery = self.discover(&discovery_url).await?;
        let chosen = match (&discovery.default, discovery.api_roots.as_slice()) {
            (Some(d), _) => d.clone(),
            (None, [only]) => only.clone(),
            _ => {
                return Err(ClientError::NoApiRoot {
                    url: Box::new(discovery_url),
                });
            }
        };
        // §4.1.1: api_roots are URLs, relative ones resolved against the discovery URL.
        let url = discovery_url
            .join(&chosen)
            .map_err(|e| ClientError::InvalidUrl {
                url: chosen.clone(),
                reason: e.to_string(),
            })?;
        Ok(with_trailing_slash(url))
    }

    /// `GET {api-root}/` (TAXII 2.1 §4.2).
    pub async fn api_root(&self, api_root: &Url) -> Result<ApiRootInfo, ClientError> {
        self.get_json(api_root, &[], "API root resource")
            .await
            .map(|(r, _)| r)
    }

    /// `GET {api-root}/collections/` (TAXII 2.1 §5.1).
    pub async fn collections(&self, api_root: &Url) -> Result<Vec<Collection>, ClientError> {
        let url = append_segments(api_root, &["collections"])?;
        let (body, _): (Collections, _) = self.get_json(&url, &[], "collections resource").await?;
        Ok(body.collections)
    }

    /// `GET {api-root}/collections/{id}/` (TAXII 2.1 §5.2).
    pub async fn collection(&self, c: &CollectionRef) -> Result<Collection, ClientError> {
        let url = c.url(&[])?;
        self.get_json(&url, &[], "collection resource")
            .await
            .map(|(r, _)| r)
    }

    /// `GET {api-root}/status/{id}/` (TAXII 2.1 §4.3).
    pub async fn status(&self, api_root: &Url, id: &str) -> Result<Status, ClientError> {
        let url = append_segments(api_root, &["status", id])?;
        self.get_json(&url, &[], "status resource")
            .await
            .map(|(r, _)| r)
    }

    /// Polls a status until it is complete or `timeout` passed, waiting `interval` at first
    /// and up to 2 s between polls. Returns the last status seen, complete or not.
    pub async fn wait_for_status(
        &self,
        api_root: &Url,
        mut status: Status,
        timeout: Duration,
        interval: Duration,
    ) -> Result<Status, ClientError> {
        let deadline = Instant::now() + timeout;
        let mut wait = interval;
        while !status.is_complete() && Instant::now() < deadline {
            tokio::time::sleep(wait.min(deadline.saturating_duration_since(Instant::now()))).await;
            wait = (wait * 2).min(Duration::from_secs(2));
            status = self.status(api_root, &status.id).await?;
        }
        Ok(status)
    }

    /// `GET .../objects/`, paged (TAXII 2.1 §5.4): the STIX objects as the server sent them.
    pub fn objects<'a>(&'a self, c: &CollectionRef, filter: Filter) -> Pager<'a, Box<RawValue>> {
        Pager::new(self, c.url(&["objects"]), filter, "envelope")
    }

    /// `GET .../objects/{object-id}/`, paged (TAXII 2.1 §5.6): versions of one object.
    pub fn object<'a>(
        &'a self,
        c: &CollectionRef,
        object_id: &str,
        filter: Filter,
    ) -> Pager<'a, Box<RawValue>> {
        Pager::new(self, c.url(&["objects", object_id]), filter, "envelope")
    }

    /// `GET .../objects/{object-id}/versions/`, paged (TAXII 2.1 §5.8).
    pub fn versions<'a>(
        &'a self,
        c: &CollectionRef,
        object_id: &str,
        filter: Filter,
    ) -> Pager<'a, String> {
        Pager::new(
            self,
            c.url(&["objects", object_id, "versions"]),
            filter,
            "versions resource",
        )
    }

    /// `GET .../manifest/`, paged (TAXII 2.1 §5.3).
    pub fn manifest<'a>(&'a self, c: &CollectionRef, filter: Filter) -> Pager<'a, ManifestRecord> {
        Pager::new(self, c.url(&["manifest"]), filter, "manifest resource")
    }

    /// `DELETE .../objects/{object-id}/` (TAXII 2.1 §5.7), of the versions `filter` selects
    /// (`match[version]`, `match[spec_version]`); an empty filter deletes every version.
    pub async fn delete_object(
        &self,
        c: &CollectionRef,
        object_id: &str,
        filter: &Filter,
    ) -> Result<(), ClientError> {
        let url = c.url(&["objects", object_id])?;
        self.send(Method::DELETE, &url, &filter.to_query(), None)
            .await
            .map(|_| ())
    }

    /// `POST .../objects/` of one envelope (TAXII 2.1 §5.5): returns the status resource.
    /// The body is sent as given; [`Client::push`] builds bodies that fit the server.
    pub async fn add_envelope(
        &self,
        c: &CollectionRef,
        body: String,
    ) -> Result<Status, ClientError> {
        let url = c.url(&["objects"])?;
        let resp = self.send(Method::POST, &url, &[], Some(body)).await?;
        decode(&url, "status resource", &resp.body)
    }

    /// Adds objects (each the exact JSON text of one STIX object) to a collection: splits
    /// them into envelopes that fit the API root's `max_content_length` and
    /// `options.max_objects`, posts each, polls every pending status until complete (or
    /// `options.status_timeout`), and sums the statuses.
    ///
    /// Objects too large for any envelope are not sent; they count as failures with the
    /// reason. Errors other than 413 stop the push: a server that refuses one envelope
    /// (401, 403, 404) would refuse the rest too.
    pub async fn push(
        &self,
        c: &CollectionRef,
        objects: &[&str],
        options: &PushOptions,
        progress: &mut dyn FnMut(PushProgress),
    ) -> Result<PushReport, ClientError> {
        let max_bytes = match options.max_bytes {
            Some(m) => m,
            None => self
                .api_root(&c.api_root)
                .await?
                .max_content_length
                .unwrap_or(u64::MAX),
        };
        let max_bytes = usize::try_from(max_bytes).unwrap_or(usize::MAX);
        let lengths: Vec<usize> = objects.iter().map(|o| o.len()).collect();
        let (ranges, oversize) = plan_envelopes(&lengths, max_bytes, options.max_objects);
        let mut report = PushReport {
            total: objects.len() as u64,
            ..PushReport::default()
        };
        for i in oversize {
            let (id, version) = id_and_version(objects[i]);
            report.failure_count += 1;
            report.failures.push(StatusDetail {
                id,
                version,
                message: Some(format!(
                    "not sent: the object is {} bytes and the server accepts at most {} per \
                     request (max_content_length)",
                    objects[i].len(),
                    max_bytes
                )),
            });
        }
        let mut queue: VecDeque<Range<usize>> = ranges.into();
        let mut pending_statuses = Vec::new();
        while let Some(range) = queue.pop_front() {
            let body = envelope_body(&objects[range.clone()]);
            match self.add_envelope(c, body).await {
                Ok(status) => {
                    report.envelopes += 1;
                    report.status_ids.push(status.id.clone());
                    progress(PushProgress::Sent {
                        objects: range.len(),
                    });
                    if status.is_complete() {
                        report.absorb(status);
                    } else {
                        pending_statuses.push(status);
                    }
                }
                // §5.5: 413 means the body is too large for this server; halve and retry.
                Err(e) if e.status() == Some(StatusCode::PAYLOAD_TOO_LARGE) && range.len() > 1 => {
                    progress(PushProgress::Split {
                        objects: range.len(),
                    });
                    let mid = range.start + range.len() / 2;
                    queue.push_front(mid..range.end);
                    queue.push_front(range.start..mid);
                }
                Err(e) => return Err(e),
            }
        }
        let deadline = Instant::now() + options.status_timeout;
        for status in pending_statuses {
            let left = deadline.saturating_duration_since(Instant::now());
            let status = self
                .wait_for_status(&c.api_root, status, left, options.poll_interval)
                .await?;
            report.absorb(status);
        }
        Ok(report)
    }

    // -- plumbing -------------------------------------------------------------------------

    async fn get_json<T: DeserializeOwned>(
        &self,
        url: &Url,
        query: &[(&'static str, String)],
        what: &'static str,
    ) -> Result<(T, HeaderMap), ClientError> {
        let resp = self.send(Method::GET, url, query, None).await?;
        let value = decode(url, what, &resp.body)?;
        Ok((value, resp.headers))
    }

    /// Sends one request with retries; success answers come back whole, anything else
    /// becomes [`ClientError::Http`].
    async fn send(
        &self,
        method: Method,
        url: &Url,
        query: &[(&'static str, String)],
        body: Option<String>,
    ) -> Result<Answer, ClientError> {
        let mut attempt = 0u32;
        loop {
            let mut req = self
                .http
                .request(method.clone(), url.clone())
                .header(ACCEPT, TAXII_21);
            if !query.is_empty() {
                req = req.query(query);
            }
            req = match &self.auth {
                Auth::None => req,
                Auth::Bearer(token) => req.bearer_auth(token),
                Auth::Basic { user, password } => req.basic_auth(user, Some(password)),
            };
            if let Some(b) = &body {
                // Cloned per attempt: a retry needs the body again, and a copy costs far
                // less than the round trip it belongs to.
                req = req.header(CONTENT_TYPE, TAXII_21).body(b.clone());
            }
            let retries_left = attempt < self.retry.max_retries;
            match req.send().await {
                Ok(resp) => {
                    let status = resp.status();
                    if retries_left && retryable_status(status) {
                        let wait = retry_after(resp.headers())
                            .map(|w| w.min(self.retry.max_delay))
                            .unwrap_or_else(|| self.retry.backoff(attempt));
                        tracing::info!(%method, %url, %status, ?wait, "retrying");
                        tokio::time::sleep(wait).await;
                        attempt += 1;
                        continue;
                    }
                    let headers = resp.headers().clone();
                    let bytes = match resp.bytes().await {
                        Ok(b) => b,
                        Err(e) if retries_left => {
                            tracing::info!(%method, %url, error = %e, "body lost; retrying");
                            tokio::time::sleep(self.retry.backoff(attempt)).await;
                            attempt += 1;
                            continue;
                        }
                        Err(source) => {
                            return Err(ClientError::Transport {
                                method,
                                url: Box::new(url.clone()),
                                source,
                            });
                        }
                    };
                    if status.is_success() {
                        return Ok(Answer {
                            headers,
                            body: bytes.to_vec(),
                        });
                    }
                    return Err(http_error(method, url, status, &bytes));
                }
                Err(e) if retries_left && (e.is_connect() || e.is_timeout() || e.is_request()) => {
                    tracing::info!(%method, %url, error = %e, "retrying");
                    tokio::time::sleep(self.retry.backoff(attempt)).await;
                    attempt += 1;
                }
                Err(source) => {
                    return Err(ClientError::Transport {
                        method,
                        url: Box::new(url.clone()),
                        source,
                    });
                }
            }
        }
    }
}

/// A success answer, read whole.
struct Answer {
    headers: HeaderMap,
    body: Vec<u8>,
}

fn decode<T: DeserializeOwned>(
    url: &Url,
    what: &'static str,
    body: &[u8],
) -> Result<T, ClientError> {
    serde_json::from_slice(body).map_err(|source| ClientError::Decode {
        url: Box::new(url.clone()),
        what,
        source,
    })
}

/// A hash of a body; SipHash with fixed keys, so equal bodies always hash equal.
fn fingerprint(body: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    h.write(body);
    h.finish()
}

/// Statuses worth another try: the server is busy or a proxy in front of it failed.
fn retryable_status(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::REQUEST_TIMEOUT
            | StatusCode::TOO_MANY_REQUESTS
            | StatusCode::INTERNAL_SERVER_ERROR
            | StatusCode::BAD_GATEWAY
            | StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::GATEWAY_TIMEOUT
    )
}

/// `Retry-After` in its delay-seconds form (RFC 9110 §10.2.3); the date form is ignored
/// and the usual backoff applies.
fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let secs: u64 = headers
        .get(RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse()
        .ok()?;
    Some(Duration::from_secs(secs))
}

fn http_error(method: Method, url: &Url, status: StatusCode, body: &[u8]) -> ClientError {
    let message = serde_json::from_slice::<ErrorMessage>(body)
        .ok()
        .filter(|m| !m.title.is_empty())
        .map(Box::new);
    let body = if message.is_some() {
        String::new()
    } else {
        excerpt(body)
    };
    ClientError::Http {
        method,
        url: Box::new(url.clone()),
        status,
        message,
        body,
    }
}

/// The start of a body as one printable line.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let mut out: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(BODY_EXCERPT)
        .collect();
    if text.chars().count() > BODY_EXCERPT {
        out.push('…');
    }
    out
}

fn id_and_version(raw: &str) -> (String, Option<String>) {
    match serde_json::from_str::<IdAndVersion>(raw) {
        Ok(o) => (o.id, o.modified.or(o.created)),
        Err(_) => (String::new(), None),
    }
}

/// Checks that each text is a JSON object with a string `id`, so that a push never sends
/// what no server could accept; returns the first offender.
pub fn check_objects(objects: &[&str]) -> Result<(), ClientError> {
    for (index, o) in objects.iter().enumerate() {
        serde_json::from_str::<IdAndVersion>(o).map_err(|e| ClientError::BadObject {
            index,
            reason: e.to_string(),
        })?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Paging.
// ---------------------------------------------------------------------------------------

/// Pages through one paged endpoint with a fixed filter, to the end.
///
/// Each call of [`Pager::next_page`] fetches one page. After a page with `more: true` the
/// pager continues with the server's `next` token; without one, with `added_after` set to
/// the page's `X-TAXII-Date-Added-Last` (TAXII 2.1 §3.5). It stops with
/// [`ClientError::Pagination`] when neither is available or a page would repeat the last
/// (same token, or an `added_after` that does not advance).
#[derive(Debug)]
pub struct Pager<'a, T> {
    client: &'a Client,
    url: Result<Url, Option<ClientError>>,
    filter: Filter,
    what: &'static str,
    next: Option<String>,
    /// A hash of the previous answer's body, to tell a new page from a repeat.
    last_fingerprint: Option<u64>,
    done: bool,
    pages: u64,
    _items: std::marker::PhantomData<fn() -> T>,
}

impl<'a, T: DeserializeOwned> Pager<'a, T> {
    fn new(
        client: &'a Client,
        url: Result<Url, ClientError>,
        filter: Filter,
        what: &'static str,
    ) -> Pager<'a, T> {
        Pager {
            client,
            url: url.map_err(Some),
            filter,
            what,
            next: None,
            last_fingerprint: None,
            done: false,
            pages: 0,
            _items: std::marker::PhantomData,
        }
    }

    /// Pages fetched so far.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// The next page, or `None` after the last.
    pub async fn next_page(&mut self) -> Result<Option<Page<T>>, ClientError> {
        if self.done {
            return Ok(None);
        }
        let url = match &mut self.url {
            Ok(u) => u.clone(),
            Err(e) => {
                self.done = true;
                return Err(e.take().unwrap_or_else(|| ClientError::InvalidUrl {
                    url: String::new(),
                    reason: "unusable endpoint URL".into(),
                }));
            }
        };
        let mut query = self.filter.to_query();
        if let Some(n) = &self.next {
            query.push(("next", n.clone()));
        }
        let answer = self
            .client
            .send(Method::GET, &url, &query, None)
            .await
            .and_then(|a| {
                let body: PagedBody<T> = decode(&url, self.what, &a.body)?;
                Ok((body, a.headers, fingerprint(&a.body)))
            });
        let (body, headers, body_fingerprint) = match answer {
            Ok(ok) => ok,
            Err(e) => {
                self.done = true;
                return Err(e);
            }
        };
        self.pages += 1;
        let header = |name: &str| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        // Tokens are opaque (§3.5); servers send strings, a few send numbers.
        let next = match body.next {
            Some(serde_json::Value::String(s)) if !s.is_empty() => Some(s),
            Some(serde_json::Value::Number(n)) => Some(n.to_string()),
            _ => None,
        };
        let page = Page {
            items: body.objects,
            more: body.more,
            next,
            date_added_first: header(DATE_ADDED_FIRST),
            date_added_last: header(DATE_ADDED_LAST),
        };
        if !page.more {
            self.done = true;
        } else if let Some(n) = &page.next {
            // Some servers (medallion) keep one token for a whole result set, so a repeated
            // token is fine as long as the pages move on; the same token with an empty page,
            // or with the very same answer as before, is the same page again.
            let repeated = self.next.as_ref() == Some(n);
            if repeated
                && (page.items.is_empty() || self.last_fingerprint == Some(body_fingerprint))
            {
                self.done = true;
                return Err(self.stall(url, "the server repeated its next token without progress"));
            }
            self.next = Some(n.clone());
        } else if let Some(last) = &page.date_added_last {
            if page.items.is_empty() || self.filter.added_after.as_ref() == Some(last) {
                self.done = true;
                return Err(self.stall(url, "added_after would not advance"));
            }
            self.filter.added_after = Some(last.clone());
        } else {
            self.done = true;
            return Err(self.stall(
                url,
                "the server says more but gives neither next nor X-TAXII-Date-Added-Last",
            ));
        }
        self.last_fingerprint = Some(body_fingerprint);
        Ok(Some(page))
    }

    fn stall(&self, url: Url, reason: &str) -> ClientError {
        ClientError::Pagination {
            url: Box::new(url),
            reason: format!("{reason} (after {} pages)", self.pages),
        }
    }

    /// Every item of every remaining page.
    pub async fn collect_all(mut self) -> Result<Vec<T>, ClientError> {
        let mut all = Vec::new();
        while let Some(page) = self.next_page().await? {
            all.extend(page.items);
        }
        Ok(all)
    }
}

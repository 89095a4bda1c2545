//! The value types that cross the [`Store`](crate::Store) trait: accounts, API roots,
//! collections and grants, object versions and their queries, status resources and log
//! leaves.
//!
//! They are plain data with no behaviour tied to a backend, so the SQLite and PostgreSQL
//! implementations and the server share one vocabulary. Timestamps are the strict
//! [`stix::Timestamp`], which keeps the precision it was written with.

use serde::{Deserialize, Serialize};
use stix::{Timestamp, TlpLevel};

/// Database id of an organization.
pub type OrgId = i64;
/// Database id of a user.
pub type UserId = i64;
/// Database id of an API token (public; never the secret).
pub type TokenId = i64;

/// An organization: the unit that collections grant access to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    /// Database id.
    pub id: OrgId,
    /// Unique name, as typed by the administrator.
    pub name: String,
    /// When it was created.
    pub created: Timestamp,
}

/// A user: belongs to exactly one organization and holds API tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    /// Database id.
    pub id: UserId,
    /// Unique user name (also the Basic-auth user name).
    pub name: String,
    /// The organization the user belongs to.
    pub org_id: OrgId,
    /// That organization's name.
    pub org_name: String,
    /// Whether the user may administer the server (accounts, roots, collections,
    /// grants). It does **not** widen what the user may read: see [`crate::tlp_policy`].
    pub admin: bool,
    /// When it was created.
    pub created: Timestamp,
}

/// The authenticated caller of a request, as returned by
/// [`Store::authenticate`](crate::Store::authenticate).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Principal {
    /// The user's database id.
    pub user_id: UserId,
    /// The user's name.
    pub user_name: String,
    /// The user's organization.
    pub org_id: OrgId,
    /// The organization's name.
    pub org_name: String,
    /// Whether the user is a server administrator.
    pub admin: bool,
}

/// What is known about an API token, without its secret (which is never stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenInfo {
    /// Public token id, used to revoke it.
    pub id: TokenId,
    /// The owning user.
    pub user_id: UserId,
    /// The owning user's name.
    pub user_name: String,
    /// When it was created.
    pub created: Timestamp,
    /// Whether it has been revoked (revoked tokens never authenticate).
    pub revoked: bool,
}

/// A freshly created token: the only moment its secret exists outside the caller's hands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    /// The stored facts about the token.
    pub info: TokenInfo,
    /// The secret (64 lowercase hex digits, 256 random bits). Show it once; the store
    /// keeps only its SHA-256.
    pub secret: String,
}

/// Input to [`Store::create_api_root`](crate::Store::create_api_root).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NewApiRoot {
    /// URL path segment the root is served at (`/NAME/`): letters, digits, `-`, `_`, `.`.
    pub name: String,
    /// Human-readable title (TAXII 2.1 §4.2 `title`); defaults to the name when empty.
    pub title: String,
    /// Optional description (TAXII 2.1 §4.2 `description`).
    pub description: Option<String>,
}

/// An API root (TAXII 2.1 §4.2). Server limits such as `max_content_length` are
/// configuration, not stored data, so they are not here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiRoot {
    /// URL path segment.
    pub name: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// When it was created.
    pub created: Timestamp,
}

/// The two flags of a collection that the TLP policy depends on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct CollectionFlags {
    /// Anyone (also an unauthenticated caller) may read TLP:CLEAR objects.
    pub public_read: bool,
    /// Readers and writers are named individually ([`Store::grant_user`](crate::Store::grant_user));
    /// the only kind of collection that may hold TLP:RED. Organization grants do not apply.
    pub restricted: bool,
}

/// Input to [`Store::create_collection`](crate::Store::create_collection).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NewCollection {
    /// Name of the API root the collection lives under.
    pub api_root: String,
    /// Title (TAXII 2.1 §5.2 `title`).
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Optional alias (TAXII 2.1 §5.2 `alias`), unique within the API root.
    pub alias: Option<String>,
    /// Access flags. `public_read` and `restricted` together are refused as
    /// [`StoreError::Invalid`](crate::StoreError::Invalid): a collection whose readers are
    /// named individually cannot also be readable by anyone.
    pub flags: CollectionFlags,
    /// Media types the collection holds (TAXII 2.1 §5.2 `media_types`); empty means
    /// `application/stix+json;version=2.1`.
    pub media_types: Vec<String>,
}

/// A collection (TAXII 2.1 §5.2), without the caller-dependent `can_read`/`can_write`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Collection {
    /// The collection id: a random UUID (v4), as TAXII 2.1 §5.2 recommends.
    pub id: String,
    /// Name of its API root.
    pub api_root: String,
    /// Title.
    pub title: String,
    /// Description.
    pub description: Option<String>,
    /// Alias.
    pub alias: Option<String>,
    /// Access flags.
    pub flags: CollectionFlags,
    /// Media types (never empty: defaults filled in).
    pub media_types: Vec<String>,
    /// When it was created.
    pub created: Timestamp,
}

/// A read and/or write permission, as granted to an organization or user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct Grant {
    /// May read objects.
    pub read: bool,
    /// May add (and delete) objects.
    pub write: bool,
}

impl Grant {
    /// Read only.
    pub const READ: Grant = Grant {
        read: true,
        write: false,
    };
    /// Write only.
    pub const WRITE: Grant = Grant {
        read: false,
        write: true,
    };
    /// Read and write.
    pub const READ_WRITE: Grant = Grant {
        read: true,
        write: true,
    };
    /// No access (granting it removes a grant).
    pub const NONE: Grant = Grant {
        read: false,
        write: false,
    };
}

/// One grant on a collection, to an organization or to a user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GrantEntry {
    /// Who holds it.
    pub grantee: Grantee,
    /// What it allows.
    pub grant: Grant,
}

/// The holder of a grant.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Grantee {
    /// An organization, by name.
    Org(String),
    /// A user, by name (meaningful for restricted collections).
    User(String),
}

/// What a principal may do with one collection, as computed by
/// [`tlp_policy::access`](crate::tlp_policy::access).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Access {
    /// May read (list objects, manifest, versions). `false` means the server answers 404.
    pub read: bool,
    /// May add objects and delete them.
    pub write: bool,
    /// The most restrictive TLP level this reader may receive from this collection. Pass it
    /// as [`ObjectQuery::max_tlp`] so filtering happens in the query, before paging.
    /// Meaningless when `read` is false.
    pub max_tlp: TlpLevel,
}

impl Access {
    /// No access at all.
    pub const NONE: Access = Access {
        read: false,
        write: false,
        max_tlp: TlpLevel::Clear,
    };

    /// Whether the collection is visible at all (TAXII 2.1 §5.1 lists only collections the
    /// caller can read or write).
    pub fn any(&self) -> bool {
        self.read || self.write
    }
}

/// One object version to store, already validated by the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewObject {
    /// STIX id (`type--uuid`).
    pub id: String,
    /// STIX type.
    pub type_name: String,
    /// `spec_version` (`2.1`; STIX 2.0 objects have none and are recorded as `2.0`).
    pub spec_version: String,
    /// The version: `modified`, or `created` for objects without it (STIX 2.1 §3.2). `None`
    /// for objects with neither (most SCOs): the store then uses the date_added as the
    /// version (TAXII 2.1 §3.4.2 manifest `version`), and treats an identical body posted
    /// again as a duplicate.
    pub version: Option<Timestamp>,
    /// The exact JSON text of the object as posted; returned byte for byte.
    pub raw_json: String,
    /// The object's TLP level as the server determined it (unknown markings are RED).
    pub tlp: TlpLevel,
    /// The STIX `revoked` property.
    pub revoked: bool,
}

/// An object with the hashes the SQLite store derives from it before inserting it: the
/// SHA-256 of its body and the hash of its id (`sqlite::objects::id_hash`). A caller that
/// computes them with [`Digested::of`] on its own thread takes them off the store's single
/// writer thread ([`crate::Store::add_digested`]). The object is held inside, unchangeable,
/// so the hashes are always those of the body and id it carries.
#[derive(Debug, Clone)]
pub struct Digested {
    object: NewObject,
    sha256: [u8; 32],
    id_hash: i64,
}

impl Digested {
    /// Hashes `object`.
    pub fn of(object: NewObject) -> Digested {
        use sha2::{Digest, Sha256};
        let sha256 = Sha256::digest(object.raw_json.as_bytes()).into();
        let id_hash = crate::keys::id_hash(&object.id);
        Digested {
            object,
            sha256,
            id_hash,
        }
    }

    /// The object.
    pub fn object(&self) -> &NewObject {
        &self.object
    }

    /// The object, for a backend that does not use the hashes.
    pub fn into_object(self) -> NewObject {
        self.object
    }

    /// SHA-256 of the body.
    pub fn sha256(&self) -> &[u8; 32] {
        &self.sha256
    }

    /// The id's hash.
    pub fn id_hash(&self) -> i64 {
        self.id_hash
    }
}

impl NewObject {
    /// Builds a `NewObject` from a parsed STIX object, keeping its raw bytes. Returns `None`
    /// when the object has no `id` or `type` (the validator refuses those anyway).
    pub fn from_stix(obj: &stix::StixObject, tlp: TlpLevel) -> Option<NewObject> {
        Some(NewObject {
            id: obj.id()?.to_owned(),
            type_name: obj.type_name()?.to_owned(),
            spec_version: obj.spec_version().unwrap_or("2.0").to_owned(),
            version: obj.version(),
            raw_json: obj.raw().to_owned(),
            tlp,
            revoked: obj.revoked(),
        })
    }
}

/// What happened to one object of an envelope (TAXII 2.1 §4.3 status details).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddOutcome {
    /// The object's STIX id.
    pub id: String,
    /// The version text as posted (`modified`/`created`), or the date_added for objects
    /// without either.
    pub version: String,
    /// The result.
    pub result: AddResult,
}

/// The result for one object of an envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AddResult {
    /// Stored and committed; reported only after the transaction committed.
    Added {
        /// The server-assigned date_added.
        date_added: Timestamp,
    },
    /// This (id, version) was already in the collection; TAXII 2.1 §5.4 lets the server
    /// keep one copy, so nothing new was stored. It counts as a success.
    Duplicate {
        /// The date_added of the copy already stored.
        date_added: Timestamp,
    },
    /// Refused, nothing stored (e.g. its TLP level is not allowed in the collection).
    Failed {
        /// Why, in one line, for the status resource's `message`.
        reason: String,
    },
}

impl AddResult {
    /// Whether the object counts as a success in the status resource.
    pub fn is_success(&self) -> bool {
        !matches!(self, AddResult::Failed { .. })
    }
}

/// One `match[version]` value (TAXII 2.1 §3.4.2). A list of them selects the union.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VersionMatch {
    /// The oldest version of each object.
    First,
    /// The newest version of each object (the default).
    Last,
    /// Every version.
    All,
    /// The version whose `modified` (or `created`) is this instant (precision ignored).
    At(Timestamp),
}

/// Filters and paging of an object, manifest or versions request (TAXII 2.1 §3.4).
///
/// Empty lists mean "no filter", except `versions`, where empty means [`VersionMatch::Last`]
/// for objects and manifests (TAXII 2.1 §3.4.2) and [`VersionMatch::All`] for
/// [`Store::versions`](crate::Store::versions) and
/// [`Store::delete_object`](crate::Store::delete_object) (TAXII 2.1 §5.7, §5.8).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectQuery {
    /// `match[id]`.
    pub ids: Vec<String>,
    /// `match[type]`.
    pub types: Vec<String>,
    /// `match[version]`.
    pub versions: Vec<VersionMatch>,
    /// `match[spec_version]`. Empty returns every stored spec_version: entente stores what
    /// its validator accepted, and one id never carries two spec versions in practice.
    pub spec_versions: Vec<String>,
    /// `added_after`: only versions whose date_added is strictly later.
    pub added_after: Option<Timestamp>,
    /// Page size; the server clamps it to its configured maximum before calling.
    pub limit: usize,
    /// The `next` token of the previous page (opaque; from [`Page::next`]).
    pub next: Option<String>,
    /// The reader's audience: versions marked above this level are filtered in the query
    /// itself, so `more`/`next` stay right. Take it from [`Access::max_tlp`].
    pub max_tlp: TlpLevel,
}

impl Default for ObjectQuery {
    fn default() -> Self {
        ObjectQuery {
            ids: Vec::new(),
            types: Vec::new(),
            versions: Vec::new(),
            spec_versions: Vec::new(),
            added_after: None,
            limit: 1000,
            next: None,
            max_tlp: TlpLevel::Clear,
        }
    }
}

/// One page of results, in date_added order (oldest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Whether more items match after these (TAXII 2.1 §3.6 `more`).
    pub more: bool,
    /// Token for the next page (TAXII 2.1 §3.6 `next`), present exactly when `more`.
    pub next: Option<String>,
}

/// A stored object version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// STIX id.
    pub id: String,
    /// STIX type.
    pub type_name: String,
    /// Version text as posted (or the date_added for objects without a version).
    pub version: String,
    /// Server-assigned date_added (microsecond precision).
    pub date_added: Timestamp,
    /// `spec_version`.
    pub spec_version: String,
    /// The exact JSON text as posted.
    pub raw_json: String,
    /// The object's TLP level.
    pub tlp: TlpLevel,
    /// The STIX `revoked` property.
    pub revoked: bool,
}

/// A manifest entry (TAXII 2.1 §5.6 manifest-record), without the body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestEntry {
    /// STIX id.
    pub id: String,
    /// Server-assigned date_added.
    pub date_added: Timestamp,
    /// Version text.
    pub version: String,
    /// `spec_version` (the server derives `media_type` from it).
    pub spec_version: String,
}

/// One version of one object (TAXII 2.1 §5.8 versions resource).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionEntry {
    /// Version text.
    pub version: String,
    /// Server-assigned date_added (the paging key).
    pub date_added: Timestamp,
}

/// The state of a status resource (TAXII 2.1 §4.3.1 `status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StatusState {
    /// Every object has been processed.
    Complete,
    /// Some objects are still being processed.
    Pending,
}

/// A status detail (TAXII 2.1 §4.3.2 `status-details`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusDetail {
    /// STIX id of the object.
    pub id: String,
    /// Its version.
    pub version: String,
    /// Optional message (the reason for failures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl StatusDetail {
    /// `object` as a pending entry: its id and version, no message.
    pub fn pending(object: &NewObject) -> StatusDetail {
        StatusDetail {
            id: object.id.clone(),
            version: object.version.map(|v| v.to_string()).unwrap_or_default(),
            message: None,
        }
    }
}

/// A status resource (TAXII 2.1 §4.3.1) and its owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Status id (a random UUID).
    pub id: String,
    /// The user who posted the envelope; only they may read the status.
    pub owner: UserId,
    /// The collection the envelope was posted to.
    pub collection_id: String,
    /// Complete or pending.
    pub status: StatusState,
    /// When the request was received.
    pub request_timestamp: Timestamp,
    /// Objects in the envelope (`total_count`).
    pub total_count: u64,
    /// Succeeded objects.
    pub successes: Vec<StatusDetail>,
    /// Failed objects, each with a message.
    pub failures: Vec<StatusDetail>,
    /// Objects still pending.
    pub pendings: Vec<StatusDetail>,
}

/// One envelope for [`Store::store_envelopes`](crate::Store::store_envelopes): its
/// objects, for the collection of `status`, and the pending status resource the client was
/// shown, whose `pendings` name the objects.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// The objects, in the order they were posted.
    pub objects: Vec<NewObject>,
    /// The pending status; completed from the outcomes.
    pub status: Status,
}

impl Status {
    /// The pending status of an envelope with a new random id: `failures` are the objects
    /// refused before storing (validation), `objects` those handed to the store, listed
    /// under `pendings` by id and version (none for an unversioned object).
    pub fn pending(
        owner: UserId,
        collection_id: String,
        request_timestamp: Timestamp,
        failures: Vec<StatusDetail>,
        objects: &[NewObject],
    ) -> Status {
        let pendings = objects.iter().map(StatusDetail::pending).collect();
        Status::pending_listed(owner, collection_id, request_timestamp, failures, pendings)
    }

    /// [`Status::pending`] with the pending entries already listed (e.g. read from an
    /// envelope before its objects were checked).
    pub fn pending_listed(
        owner: UserId,
        collection_id: String,
        request_timestamp: Timestamp,
        failures: Vec<StatusDetail>,
        pendings: Vec<StatusDetail>,
    ) -> Status {
        Status {
            id: uuid::Uuid::new_v4().to_string(),
            owner,
            collection_id,
            status: StatusState::Pending,
            request_timestamp,
            total_count: (failures.len() + pendings.len()) as u64,
            successes: Vec::new(),
            failures,
            pendings,
        }
    }

    /// This pending status completed with the result of storing its `expected` objects:
    /// each outcome a success or a failure with its reason, or, when the store failed or
    /// answered for a different number of objects, every pending object failed with why.
    pub fn completed(mut self, result: crate::Result<Vec<AddOutcome>>, expected: usize) -> Status {
        let pendings = std::mem::take(&mut self.pendings);
        self.status = StatusState::Complete;
        let reason = match result {
            Ok(outcomes) if outcomes.len() == expected => {
                for outcome in outcomes {
                    let detail = StatusDetail {
                        id: outcome.id,
                        version: outcome.version,
                        message: None,
                    };
                    match outcome.result {
                        AddResult::Added { .. } | AddResult::Duplicate { .. } => {
                            self.successes.push(detail)
                        }
                        AddResult::Failed { reason } => self.failures.push(StatusDetail {
                            message: Some(reason),
                            ..detail
                        }),
                    }
                }
                return self;
            }
            Ok(outcomes) => format!(
                "not stored: the store returned {} outcomes for {expected} objects",
                outcomes.len()
            ),
            Err(e) => format!("not stored: {e}"),
        };
        self.failures
            .extend(pendings.into_iter().map(|detail| StatusDetail {
                message: Some(reason.clone()),
                ..detail
            }));
        self
    }
}

/// What a log leaf records (DESIGN.md "The transparency log").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogOp {
    /// An object version was stored.
    Add,
    /// An object version was deleted.
    Delete,
}

/// One entry of the transparency log, appended in the same transaction as the write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLeaf {
    /// Zero-based position in the log.
    pub index: u64,
    /// The entry bytes: RFC 8785 canonical JSON (see [`crate::log_entry`]).
    pub entry: Vec<u8>,
    /// RFC 9162 §2.1.1 leaf hash of `entry`: SHA-256(0x00 ‖ entry).
    pub leaf_hash: [u8; 32],
}

/// Filters and paging of [`Store::search_objects`](crate::Store::search_objects), the
/// UI's object list: the newest version of each object the reader may see, newest
/// date_added first, narrowed by the filters (all of them hold at once).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// Only these STIX types (empty: all).
    pub types: Vec<String>,
    /// Only these TLP levels (empty: all the reader may see).
    pub tlp: Vec<TlpLevel>,
    /// Only objects whose `created_by_ref` is this identity id.
    pub producer: Option<String>,
    /// Only versions added strictly after this instant.
    pub added_after: Option<Timestamp>,
    /// Only versions added strictly before this instant.
    pub added_before: Option<Timestamp>,
    /// Full-text search over names (or an SCO's `value`), descriptions and indicator
    /// patterns: every word must occur (a word matches as a prefix); punctuation separates
    /// words, so `198.51.100.1` finds that address in a pattern.
    pub text: Option<String>,
    /// Page size (the caller bounds it).
    pub limit: usize,
    /// The `next` token of the previous page (from [`Page::next`]); keyset paging, so every
    /// page costs the same however deep.
    pub next: Option<String>,
    /// The reader's audience ([`Access::max_tlp`]); filtered in the query, before paging.
    pub max_tlp: TlpLevel,
}

impl Default for SearchQuery {
    fn default() -> Self {
        SearchQuery {
            types: Vec::new(),
            tlp: Vec::new(),
            producer: None,
            added_after: None,
            added_before: None,
            text: None,
            limit: 50,
            next: None,
            max_tlp: TlpLevel::Clear,
        }
    }
}

/// What a reader may see of a collection's size, from
/// [`Store::collection_stats`](crate::Store::collection_stats).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectionStats {
    /// Object versions at or below the reader's TLP audience.
    pub versions: u64,
    /// The latest date_added among them (`None`: none visible).
    pub last_added: Option<Timestamp>,
}

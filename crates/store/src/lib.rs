//! Persistence for entente behind one [`Store`] trait.
//!
//! **What it is.** The layer-2 crate that owns every byte entente keeps: accounts
//! (organizations, users, API tokens stored as hashes), TAXII API roots and collections,
//! grants, STIX object versions (their exact JSON plus indexed columns), TAXII status
//! resources, and the transparency log's entries, which are appended in the same
//! transaction as the object writes they record. The embedded backend is SQLite
//! ([`sqlite::SqliteStore`]); [`postgres::PgStore`] implements the same trait for several
//! replicas on one PostgreSQL database and passes the same contract tests.
//!
//! **What it is not.** It knows nothing about HTTP or TAXII's wire format: the server maps
//! requests to [`ObjectQuery`] and results to TAXII resources. It does not validate STIX:
//! the server does, and hands over [`NewObject`]s.
//!
//! **Invariants.**
//! - **date_added is strictly increasing per collection** (microsecond precision), also
//!   with concurrent writers, several processes and a wall clock that steps backwards; it is
//!   the paging key, so `added_after` and `next` never skip or repeat an object.
//! - **An object is reported added only after its transaction committed**; one envelope is
//!   one transaction, including its log entries.
//! - **Secrets are never stored**: API tokens are kept as SHA-256 digests.
//! - **Reads filter by the reader's TLP audience in the query**, before paging.
//! - **Access decisions come from [`tlp_policy`]**, pure functions shared with the server.
//!
//! Tests: unit tests beside the code; the backend-agnostic contract suite in
//! `tests/it/contract.rs`, run against SQLite by `tests/it/sqlite.rs` and against
//! PostgreSQL by `tests/it/postgres.rs`; the ingest benchmark in
//! `benches/ingest.rs`.

pub mod bootstrap;
mod joined;
pub mod keys;
pub mod log_entry;
pub mod log_key;
pub mod postgres;
pub mod sqlite;
pub mod tlp_policy;
pub mod token;
pub mod types;

pub use joined::JoinedPage;
pub use stix::{Timestamp, TlpLevel};
pub use types::*;

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The named thing (organization, user, API root, collection, token, ...) does not exist.
    #[error("{kind} not found: {name}")]
    NotFound {
        /// What kind of thing.
        kind: &'static str,
        /// Its name or id.
        name: String,
    },
    /// A thing with that unique name already exists.
    #[error("{kind} already exists: {name}")]
    AlreadyExists {
        /// What kind of thing.
        kind: &'static str,
        /// Its name.
        name: String,
    },
    /// The input breaks a rule (an empty name, a bad character, contradictory flags, a
    /// malformed `next` token, ...).
    #[error("invalid input: {0}")]
    Invalid(String),
    /// The database refused or failed.
    #[error("storage backend: {0}")]
    Backend(String),
    /// The stored data is not what this version of entente wrote.
    #[error("corrupt stored data: {0}")]
    Corrupt(String),
}

impl StoreError {
    /// Shorthand for [`StoreError::NotFound`].
    pub fn not_found(kind: &'static str, name: impl Into<String>) -> StoreError {
        StoreError::NotFound {
            kind,
            name: name.into(),
        }
    }
}

/// Result alias of this crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything entente persists, as one object-safe async trait used as `Arc<dyn Store>`.
///
/// Every method is atomic. Names (organization, user, API root) are case-sensitive and
/// unique. Methods taking a collection id answer [`StoreError::NotFound`] when the
/// collection does not exist; methods returning `Option` answer `None` for a missing item.
///
/// **Access.** The store does not check who calls a method; the server does, with
/// [`Store::access`] (which applies [`tlp_policy::access`] to the stored grants) and by
/// passing [`Access::max_tlp`] as [`ObjectQuery::max_tlp`]. The one check the store makes
/// itself is the storage rule: [`Store::add_objects`] refuses objects whose TLP level the
/// collection may not hold ([`tlp_policy::allowed_in_collection`]).
#[async_trait::async_trait]
pub trait Store: Send + Sync + 'static {
    // ----- accounts -----

    /// Creates an organization.
    async fn create_org(&self, name: &str) -> Result<Organization>;
    /// An organization by name.
    async fn org(&self, name: &str) -> Result<Option<Organization>>;
    /// All organizations, by name.
    async fn list_orgs(&self) -> Result<Vec<Organization>>;

    /// Creates a user in an existing organization.
    async fn create_user(&self, name: &str, org: &str, admin: bool) -> Result<User>;
    /// A user by name.
    async fn user(&self, name: &str) -> Result<Option<User>>;
    /// All users, by name.
    async fn list_users(&self) -> Result<Vec<User>>;

    /// Creates an API token for a user and returns its secret, the only time it is seen.
    async fn create_token(&self, user: &str) -> Result<NewToken>;
    /// The principal a bearer token belongs to, or `None` for an unknown or revoked token.
    async fn authenticate(&self, secret: &str) -> Result<Option<Principal>>;
    /// HTTP Basic: the principal when `secret` is a live token of the user named `user`.
    async fn authenticate_basic(&self, user: &str, secret: &str) -> Result<Option<Principal>>;
    /// Revokes a token by id.
    async fn revoke_token(&self, id: TokenId) -> Result<()>;
    /// Tokens (never their secrets), of one user or of all users.
    async fn list_tokens(&self, user: Option<&str>) -> Result<Vec<TokenInfo>>;

    // ----- API roots, collections, grants -----

    /// Creates an API root.
    async fn create_api_root(&self, root: &NewApiRoot) -> Result<ApiRoot>;
    /// An API root by name.
    async fn api_root(&self, name: &str) -> Result<Option<ApiRoot>>;
    /// All API roots, by name.
    async fn list_api_roots(&self) -> Result<Vec<ApiRoot>>;

    /// Creates a collection with a fresh random UUID as its id.
    async fn create_collection(&self, collection: &NewCollection) -> Result<Collection>;
    /// A collection by id.
    async fn collection(&self, id: &str) -> Result<Option<Collection>>;
    /// Collections of one API root (or of all), in creation order.
    async fn list_collections(&self, api_root: Option<&str>) -> Result<Vec<Collection>>;

    /// Sets an organization's grant on a collection; [`Grant::NONE`] removes it.
    async fn grant_org(&self, collection_id: &str, org: &str, grant: Grant) -> Result<()>;
    /// Sets a user's individual grant on a collection (used by restricted collections);
    /// [`Grant::NONE`] removes it.
    async fn grant_user(&self, collection_id: &str, user: &str, grant: Grant) -> Result<()>;
    /// Every grant on a collection.
    async fn grants(&self, collection_id: &str) -> Result<Vec<GrantEntry>>;
    /// A collection and what `principal` (`None`: anonymous) may do with it, or `None` when
    /// the collection does not exist.
    async fn access(
        &self,
        principal: Option<&Principal>,
        collection_id: &str,
    ) -> Result<Option<(Collection, Access)>>;
    /// The collections of an API root that `principal` may read or write (TAXII 2.1 §5.1),
    /// each with its access.
    async fn collections_for(
        &self,
        principal: Option<&Principal>,
        api_root: &str,
    ) -> Result<Vec<(Collection, Access)>>;

    // ----- objects -----

    /// Stores an envelope's objects in one transaction, in order, and appends one log entry
    /// per stored version. Outcomes come back in input order; an object refused by the TLP
    /// storage rule is `Failed` and stores nothing; an (id, version) already present is
    /// `Duplicate`.
    async fn add_objects(
        &self,
        collection_id: &str,
        objects: Vec<NewObject>,
    ) -> Result<Vec<AddOutcome>>;
    /// [`Store::add_objects`] with the objects' hashes computed by the caller
    /// ([`Digested::of`]), for a caller that can compute them on a thread of its own while
    /// the store writes (`entente import`). Backends that do not use them store the objects.
    async fn add_digested(
        &self,
        collection_id: &str,
        objects: Vec<Digested>,
    ) -> Result<Vec<AddOutcome>> {
        let objects = objects.into_iter().map(Digested::into_object).collect();
        self.add_objects(collection_id, objects).await
    }
    /// Stores several envelopes, each with the complete status resource of its outcomes,
    /// in as few transactions as the backend can (group commit), and returns those statuses
    /// in input order. A status is returned only after the transaction holding its objects
    /// and itself committed; an envelope whose objects cannot be stored gets a status that
    /// lists every object as failed with the reason, and stores nothing of its objects.
    ///
    /// `Err` means the call failed: with one transaction for all (SQLite) nothing of it was
    /// stored, and the caller may try the envelopes again one at a time; the default
    /// implementation stores envelope by envelope (an error storing objects becomes that
    /// envelope's failed status) and fails only when a status cannot be stored.
    async fn store_envelopes(&self, envelopes: Vec<Envelope>) -> Result<Vec<Status>> {
        let mut statuses = Vec::with_capacity(envelopes.len());
        for envelope in envelopes {
            let expected = envelope.objects.len();
            let result = self
                .add_objects(&envelope.status.collection_id, envelope.objects)
                .await;
            let status = envelope.status.completed(result, expected);
            self.create_status(&status).await?;
            statuses.push(status);
        }
        Ok(statuses)
    }
    /// Objects matching a query (TAXII 2.1 §5.4 GET objects), oldest date_added first.
    async fn query_objects(
        &self,
        collection_id: &str,
        query: &ObjectQuery,
    ) -> Result<Page<StoredObject>>;
    /// The same page as [`Store::query_objects`], as the joined texts a TAXII envelope
    /// writes back (the paged `GET …/objects/`): same objects, order, `more` and `next`.
    /// `None` (the default) when the backend has no cheaper way than `query_objects`: the
    /// caller then reads that page, since joining it here would only add a copy of every
    /// body. PostgreSQL builds the buffer as its rows arrive, without an object per row.
    async fn query_objects_joined(
        &self,
        collection_id: &str,
        query: &ObjectQuery,
    ) -> Result<Option<JoinedPage>> {
        let _ = (collection_id, query);
        Ok(None)
    }
    /// Manifest entries matching a query (TAXII 2.1 §5.3).
    async fn manifest(
        &self,
        collection_id: &str,
        query: &ObjectQuery,
    ) -> Result<Page<ManifestEntry>>;
    /// Versions of one object (TAXII 2.1 §5.5 GET object): `query.ids` is ignored.
    async fn get_object(
        &self,
        collection_id: &str,
        object_id: &str,
        query: &ObjectQuery,
    ) -> Result<Page<StoredObject>>;
    /// The versions of one object (TAXII 2.1 §5.8); `query.versions` empty means all.
    async fn versions(
        &self,
        collection_id: &str,
        object_id: &str,
        query: &ObjectQuery,
    ) -> Result<Page<VersionEntry>>;
    /// Deletes versions of one object (TAXII 2.1 §5.7) selected by `query.versions` (empty:
    /// all) and `query.spec_versions`, among those at or below `query.max_tlp`; appends a
    /// `delete` log entry per version. Returns how many versions were deleted.
    async fn delete_object(
        &self,
        collection_id: &str,
        object_id: &str,
        query: &ObjectQuery,
    ) -> Result<u64>;

    // ----- reading for people (the web UI) -----

    /// The newest visible version of each object matching `query` (types, TLP levels,
    /// producer, time added, full text), newest date_added first, filtered by
    /// `query.max_tlp` before paging; [`StoreError::Invalid`] for a malformed `next`.
    ///
    /// Every backend should implement the three methods of this section; the default
    /// refuses, so a backend in progress still builds (and the UI shows the failure).
    async fn search_objects(
        &self,
        collection_id: &str,
        query: &SearchQuery,
    ) -> Result<Page<StoredObject>>;
    /// The newest visible version of each object of the collection that refers to
    /// `stix_id` through `source_ref`, `target_ref`, `sighting_of_ref`, `object_refs`,
    /// `where_sighted_refs` or `observed_data_refs` (relationships, sightings, reports,
    /// ...), newest first, at most `limit`, none above `max_tlp`.
    async fn objects_referencing(
        &self,
        collection_id: &str,
        stix_id: &str,
        max_tlp: TlpLevel,
        limit: usize,
    ) -> Result<Vec<StoredObject>>;
    /// The versions of one object at or below `max_tlp`, newest first, at most `limit`.
    /// The default asks [`Store::versions`]; backends may answer from their version index.
    async fn object_versions(
        &self,
        collection_id: &str,
        stix_id: &str,
        max_tlp: TlpLevel,
        limit: usize,
    ) -> Result<Vec<VersionEntry>> {
        let q = ObjectQuery {
            limit,
            max_tlp,
            ..ObjectQuery::default()
        };
        let mut v = self.versions(collection_id, stix_id, &q).await?.items;
        v.reverse();
        Ok(v)
    }
    /// How many object versions at or below `max_tlp` the collection holds, and when the
    /// last of them was added.
    async fn collection_stats(
        &self,
        collection_id: &str,
        max_tlp: TlpLevel,
    ) -> Result<CollectionStats>;

    /// The newest stored version of each of `ids`, at every TLP level, in the order of
    /// `ids`; ids the collection does not hold are left out. For importers comparing a
    /// batch with what is stored (`entente import`): one index lookup per id, where
    /// [`Store::query_objects`] filtered by ids pages the collection by date_added.
    async fn latest_versions(
        &self,
        collection_id: &str,
        ids: &[String],
    ) -> Result<Vec<StoredObject>>;

    // ----- status resources -----

    /// Stores a status resource (TAXII 2.1 §4.3); its id must be new.
    async fn create_status(&self, status: &Status) -> Result<()>;
    /// Replaces a stored status resource (same id).
    async fn update_status(&self, status: &Status) -> Result<()>;
    /// A status resource by id. The server shows it only to its owner.
    async fn status(&self, id: &str) -> Result<Option<Status>>;

    // ----- transparency log -----

    /// Number of entries in the log.
    async fn log_size(&self) -> Result<u64>;
    /// Log entries with index in `start..start + limit`.
    async fn log_leaves(&self, start: u64, limit: u64) -> Result<Vec<LogLeaf>>;

    /// The current size and tree head (RFC 9162 §2.1.1), read in one snapshot. Tree heads,
    /// proofs and tiles come from stored complete-subtree hashes (`tlog::tree`), written in
    /// the same transaction as each leaf, so each costs O(log n) reads.
    async fn log_head(&self) -> Result<(u64, tlog::Hash)>;
    /// The tree head of the first `size` entries; [`StoreError::Invalid`] beyond the log.
    async fn log_root(&self, size: u64) -> Result<tlog::Hash>;
    /// The inclusion proof of entry `index` in the tree of `size` entries
    /// (RFC 9162 §2.1.3.1); [`StoreError::Invalid`] for an index or size out of range.
    async fn log_inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<tlog::Hash>>;
    /// The consistency proof from the tree of `old` entries to the tree of `size`
    /// (RFC 9162 §2.1.4.1); empty when `old` is 0 or equals `size`.
    async fn log_consistency_proof(&self, old: u64, size: u64) -> Result<Vec<tlog::Hash>>;
    /// The stored hashes of complete tree nodes, in the order asked (C2SP tlog-tiles hash
    /// tiles are 256 consecutive nodes of one level); [`StoreError::Corrupt`] for a node
    /// that is not stored.
    async fn log_nodes(&self, ids: Vec<tlog::NodeId>) -> Result<Vec<tlog::Hash>>;
    /// The newest `add` entry recording version `version` of object `stix_id` in the
    /// collection: its index and entry bytes. The caller checks that whoever asks may read
    /// the collection: the answer reveals that the object exists.
    async fn log_lookup(
        &self,
        collection_id: &str,
        stix_id: &str,
        version: &str,
    ) -> Result<Option<(u64, Vec<u8>)>>;
    /// Records a signed checkpoint (C2SP signed note) of the tree of `size` entries; the
    /// first one stored for a size is kept.
    async fn save_checkpoint(&self, size: u64, note: &str) -> Result<()>;
    /// The stored checkpoint of the largest size, with that size.
    async fn latest_checkpoint(&self) -> Result<Option<(u64, String)>>;
}

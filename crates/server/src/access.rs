//! Authorization: which API roots and collections a caller may see, read and write.
//!
//! The decisions themselves come from the store's pure `tlp_policy` (through
//! [`store::Store::access`]); this module turns them into answers without leaking
//! existence (issue 5, item 3):
//!
//! * a collection the caller may neither read nor write is **404**, exactly like one that
//!   does not exist, never a 403 that would confirm it;
//! * a caller who may write but not read gets 403 on reads (they know it exists), and a
//!   reader without write gets 403 on writes;
//! * an anonymous caller gets **401** wherever a principal could have been let in, also
//!   for collections that do not exist, so the answer tells nothing about what exists.

use store::{Access, Collection};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::state::AppState;

/// A collection the caller may see, with what they may do with it.
#[derive(Debug, Clone)]
pub struct Resolved {
    /// The collection.
    pub collection: Collection,
    /// The caller's rights on it.
    pub access: Access,
}

impl Resolved {
    /// 403/404 unless the caller may read (TAXII 2.1 §5.3 on `can_read`).
    pub fn require_read(&self, caller: &Caller) -> Result<(), ApiError> {
        if self.access.read {
            Ok(())
        } else if self.access.write && !caller.is_anonymous() {
            Err(ApiError::Forbidden(
                "you may add objects to this collection but not read it".into(),
            ))
        } else {
            Err(hidden(caller, "collection"))
        }
    }

    /// 401/403/404 unless the caller may write (TAXII 2.1 §5.4 on `can_write`).
    pub fn require_write(&self, caller: &Caller) -> Result<(), ApiError> {
        if self.access.write {
            Ok(())
        } else if caller.is_anonymous() {
            Err(ApiError::Unauthorized)
        } else if self.access.read {
            Err(ApiError::Forbidden(
                "you may read this collection but not add to it or delete from it".into(),
            ))
        } else {
            Err(hidden(caller, "collection"))
        }
    }
}

/// What a caller is told about something they may not see: 401 when anonymous (logging in
/// might help), 404 otherwise.
pub fn hidden(caller: &Caller, what: &'static str) -> ApiError {
    if caller.is_anonymous() {
        ApiError::Unauthorized
    } else {
        ApiError::NotFound(what)
    }
}

/// Checks that an API root exists; 401 for anonymous callers, who may not list roots.
pub async fn require_api_root(
    state: &AppState,
    caller: &Caller,
    name: &str,
) -> Result<store::ApiRoot, ApiError> {
    caller.require()?;
    state
        .store
        .api_root(name)
        .await?
        .ok_or(ApiError::NotFound("API root"))
}

/// Finds collection `id` (or the collection whose `alias` it is, TAXII 2.1 §5.2.1) under
/// API root `root`, as far as the caller may see it.
pub async fn resolve(
    state: &AppState,
    caller: &Caller,
    root: &str,
    id: &str,
) -> Result<Resolved, ApiError> {
    let principal = caller.0.as_ref();
    let mut found = state.store.access(principal, id).await?;
    if found.is_none() {
        // Not an id: maybe an alias. Aliases are unique within a root, and the extra lookup
        // only happens on a miss.
        let by_alias = state
            .store
            .list_collections(Some(root))
            .await?
            .into_iter()
            .find(|c| c.alias.as_deref() == Some(id));
        if let Some(c) = by_alias {
            found = state.store.access(principal, &c.id).await?;
        }
    }
    match found {
        Some((collection, access)) if collection.api_root == root && access.any() => {
            Ok(Resolved { collection, access })
        }
        _ => Err(hidden(caller, "collection")),
    }
}

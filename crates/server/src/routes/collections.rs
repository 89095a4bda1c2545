//! `GET /{api_root}/collections/` and `GET /{api_root}/collections/{id}/`: the
//! collections and collection resources (TAXII 2.1 §5.1, §5.2).
//!
//! A caller sees the collections they may read or write, with `can_read`/`can_write` set
//! for them; a collection they may do neither with is not listed and is a 404 by id.

use axum::extract::State;
use store::Access;
use taxii::{Collection, Collections};

use super::Params;
use crate::access::{require_api_root, resolve};
use crate::auth::Caller;
use crate::error::ApiError;
use crate::response::Taxii;
use crate::state::AppState;

/// The TAXII view of a stored collection for a caller with `access`.
fn view(c: store::Collection, access: Access) -> Collection {
    Collection {
        id: c.id,
        title: c.title,
        description: c.description,
        alias: c.alias,
        can_read: access.read,
        can_write: access.write,
        media_types: c.media_types,
    }
}

/// The collections of an API root visible to the caller.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Params(root): Params<String>,
) -> Result<Taxii, ApiError> {
    require_api_root(&state, &caller, &root).await?;
    let visible = state
        .store
        .collections_for(caller.0.as_ref(), &root)
        .await?
        .into_iter()
        .filter(|(_, access)| access.any())
        .map(|(c, access)| view(c, access))
        .collect();
    Ok(Taxii::json(&Collections {
        collections: visible,
    }))
}

/// One collection, by id or alias.
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    Params((root, id)): Params<(String, String)>,
) -> Result<Taxii, ApiError> {
    let resolved = resolve(&state, &caller, &root, &id).await?;
    Ok(Taxii::json(&view(resolved.collection, resolved.access)))
}

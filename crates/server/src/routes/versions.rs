//! `GET /{api_root}/collections/{id}/objects/{object_id}/versions/`: the versions
//! resource (TAXII 2.1 §5.8).

use axum::extract::{RawQuery, State};
use taxii::{QueryKind, Versions};

use super::{Params, next_token, store_query};
use crate::access::resolve;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::response::{Taxii, range_of};
use crate::state::AppState;

/// The versions of one object the caller may see, oldest added first; 404 when none.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Params((root, id, object_id)): Params<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Taxii, ApiError> {
    let resolved = resolve(&state, &caller, &root, &id).await?;
    resolved.require_read(&caller)?;
    let query = store_query(
        query.as_deref(),
        QueryKind::Versions,
        resolved.access.max_tlp,
        &state.config.limits,
    )?;
    let page = state
        .store
        .versions(&resolved.collection.id, &object_id, &query)
        .await?;
    if page.items.is_empty() && query.next.is_none() {
        return Err(ApiError::NotFound("object"));
    }
    let range = range_of(&page.items, |v| v.date_added);
    Ok(Taxii::json(&Versions {
        more: page.more,
        next: next_token(page.next),
        versions: page.items.into_iter().map(|v| v.version).collect(),
    })
    .date_added(range))
}

//! `GET` and `DELETE /{api_root}/collections/{id}/objects/{object_id}/`: one object's
//! versions as an envelope (TAXII 2.1 §5.6), and deleting versions of it (§5.7). An
//! answer holding exactly one version carries its log leaf index (`X-Entente-Log-Index`).

use axum::extract::{RawQuery, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use taxii::QueryKind;

use super::objects::envelope_page;
use super::{Params, store_query};
use crate::access::resolve;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::response::Taxii;
use crate::state::AppState;

/// The selected versions of one object (default: the newest); 404 when none is visible,
/// so an object outside the reader's TLP audience does not exist for them.
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
        QueryKind::Object,
        resolved.access.max_tlp,
        &state.config.limits,
    )?;
    let page = state
        .store
        .get_object(&resolved.collection.id, &object_id, &query)
        .await?;
    if page.items.is_empty() && query.next.is_none() {
        return Err(ApiError::NotFound("object"));
    }
    // Exactly one version answered: its leaf index in the transparency log, so the holder
    // can ask for its inclusion proof without a lookup.
    let log_index = match page.items.as_slice() {
        [only] => state
            .store
            .log_lookup(&resolved.collection.id, &only.id, &only.version)
            .await?
            .map(|(index, _)| index),
        _ => None,
    };
    Ok(envelope_page(page).log_index(log_index))
}

/// Deletes the selected versions (default: all, §5.7) among those the caller may see;
/// 200 with no body, 404 when nothing matched. Needs both read and write: deleting blind
/// would let a write-only caller probe for ids.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Params((root, id, object_id)): Params<(String, String, String)>,
    RawQuery(query): RawQuery,
) -> Result<Response, ApiError> {
    let resolved = resolve(&state, &caller, &root, &id).await?;
    resolved.require_read(&caller)?;
    resolved.require_write(&caller)?;
    let query = store_query(
        query.as_deref(),
        QueryKind::Delete,
        resolved.access.max_tlp,
        &state.config.limits,
    )?;
    let deleted = state
        .store
        .delete_object(&resolved.collection.id, &object_id, &query)
        .await?;
    if deleted == 0 {
        return Err(ApiError::NotFound("object"));
    }
    tracing::info!(collection = %resolved.collection.id, object = %object_id, deleted, "object deleted");
    Ok(StatusCode::OK.into_response())
}

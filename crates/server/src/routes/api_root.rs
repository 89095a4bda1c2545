//! `GET /{api_root}/`: the API root resource (TAXII 2.1 §4.2).

use axum::extract::State;
use taxii::ApiRoot;

use super::Params;
use crate::access::require_api_root;
use crate::auth::Caller;
use crate::error::ApiError;
use crate::response::Taxii;
use crate::state::AppState;

/// The root's title, the one TAXII version served and `max_content_length`, the body
/// limit actually enforced on POSTs (§4.2.1).
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Params(name): Params<String>,
) -> Result<Taxii, ApiError> {
    let root = require_api_root(&state, &caller, &name).await?;
    Ok(Taxii::json(&ApiRoot {
        title: root.title,
        description: root.description,
        versions: vec![taxii::TAXII_21.to_owned()],
        max_content_length: state.config.limits.max_body_bytes as u64,
    }))
}

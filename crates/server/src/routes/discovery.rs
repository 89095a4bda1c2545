//! `GET /taxii2/`: the discovery resource (TAXII 2.1 §4.1).
//!
//! Needs an authenticated caller: anonymous callers may read public-read collections by
//! URL, but the list of API roots is for account holders (TAXII 2.1 §4.1 leaves
//! authentication of discovery to the server).

use axum::extract::State;
use taxii::Discovery;

use crate::auth::Caller;
use crate::error::ApiError;
use crate::response::Taxii;
use crate::state::AppState;

/// The server's title and its API roots, as absolute paths (`/NAME/`).
pub async fn get(State(state): State<AppState>, caller: Caller) -> Result<Taxii, ApiError> {
    caller.require()?;
    let roots = state.store.list_api_roots().await?;
    let config = &state.config;
    let default = roots
        .iter()
        .find(|r| r.name == config.default_api_root)
        .map(|r| format!("/{}/", r.name));
    Ok(Taxii::json(&Discovery {
        title: config.title.clone(),
        description: config.description.clone(),
        contact: config.contact.clone(),
        default,
        api_roots: roots.iter().map(|r| format!("/{}/", r.name)).collect(),
    }))
}

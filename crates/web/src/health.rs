//! `/healthz`: 200 when the store answers, 503 otherwise (cheap: one
//! round trip). `/readyz`: 200 when this node should get traffic: the
//! store answers and the keyword index is not far behind it (a node that
//! just started on a large store catches up first). Migrations run before
//! the server listens, so while they run the port is closed.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(get_health))
        .route("/readyz", get(get_ready))
}

/// Changes the keyword index may trail the store by and still be ready.
pub const READY_MAX_LAG: i64 = 2_000;

async fn get_ready(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let seq = state.app.store.change_seq().await.map_err(|e| {
        tracing::warn!(error = %e, "readiness: the store does not answer");
        ApiError::unavailable("the store does not answer")
    })?;
    let lag = state
        .app
        .search
        .as_ref()
        .map_or(0, |s| (seq - s.indexed_up_to()).max(0));
    if lag > READY_MAX_LAG {
        return Err(ApiError::unavailable(format!(
            "the search index is {lag} changes behind the store; catching up"
        )));
    }
    Ok(Json(json!({ "status": "ready", "indexLag": lag })))
}

async fn get_health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let store = &state.app.store;
    store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "health check: the store does not answer");
        ApiError::unavailable("the store does not answer")
    })?;
    Ok(Json(json!({ "status": "ok", "store": store.backend() })))
}

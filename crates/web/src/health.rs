//! `/healthz`: 200 when the store answers, 503 otherwise.

use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(get_health))
}

async fn get_health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let store = &state.app.store;
    store.ping().await.map_err(|e| {
        tracing::warn!(error = %e, "health check: the store does not answer");
        ApiError::unavailable("the store does not answer")
    })?;
    Ok(Json(json!({ "status": "ok", "store": store.backend() })))
}

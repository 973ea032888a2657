use axum::extract::State;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/healthz", get(get_health))
}

/// 200 when the store answers, 503 otherwise.
async fn get_health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state
        .store
        .ping()
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(Json(
        json!({ "status": "ok", "store": state.store.backend() }),
    ))
}

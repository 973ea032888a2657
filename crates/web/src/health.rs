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

async fn get_ready(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    match state.app.readiness().await {
        Ok(lag) => Ok(Json(json!({ "status": "ready", "indexLag": lag }))),
        Err(paperboy_app::AppError::Unavailable(m)) => Err(ApiError::unavailable(m)),
        Err(e) => {
            tracing::warn!(error = %e, "readiness: the store does not answer");
            Err(ApiError::unavailable("the store does not answer"))
        }
    }
}

async fn get_health(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let backend = state.app.health().await.map_err(|e| {
        tracing::warn!(error = %e, "health check: the store does not answer");
        ApiError::unavailable("the store does not answer")
    })?;
    Ok(Json(json!({ "status": "ok", "store": backend })))
}

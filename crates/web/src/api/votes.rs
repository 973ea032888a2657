//! `POST` and `DELETE /api/papers/{id}/upvote`.

use axum::extract::State;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::PaperPath;
use crate::auth::CurrentUser;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/papers/{id}/upvote", post(add).delete(remove))
        .route("/api/papers/{id}/{number}/upvote", post(add).delete(remove))
}

async fn vote(
    state: AppState,
    user: CurrentUser,
    id: PaperPath,
    up: bool,
) -> Result<Json<Value>, ApiError> {
    let (CurrentUser(user), PaperPath(id)) = (user, id);
    let upvotes = state.app.upvote(&user, &id, up).await?;
    Ok(Json(
        json!({ "id": id.as_str(), "upvotes": upvotes, "upvoted": up }),
    ))
}

async fn add(
    State(state): State<AppState>,
    id: PaperPath,
    user: CurrentUser,
) -> Result<Json<Value>, ApiError> {
    vote(state, user, id, true).await
}

async fn remove(
    State(state): State<AppState>,
    id: PaperPath,
    user: CurrentUser,
) -> Result<Json<Value>, ApiError> {
    vote(state, user, id, false).await
}

//! `POST` and `DELETE /api/papers/{id}/upvote`.

use axum::extract::State;
use axum::http::Method;
use axum::routing::post;
use axum::{Json, Router};
use serde_json::{json, Value};

use super::{paper_route, PaperPath};
use crate::auth::CurrentUser;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    paper_route(
        Router::new(),
        "/api/papers",
        "/upvote",
        post(vote).delete(vote),
    )
}

/// POST adds the caller's vote, DELETE takes it back.
async fn vote(
    State(state): State<AppState>,
    method: Method,
    PaperPath(id): PaperPath,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Value>, ApiError> {
    let up = method == Method::POST;
    let upvotes = state.app.upvote(&user, &id, up).await?;
    Ok(Json(
        json!({ "id": id.as_str(), "upvotes": upvotes, "upvoted": up }),
    ))
}

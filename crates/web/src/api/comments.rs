//! Discussions over JSON: `GET`/`POST /api/papers/{id}/comments`,
//! `PATCH`/`DELETE /api/comments/{cid}`, `POST`/`DELETE
//! /api/comments/{cid}/upvote`, `POST /api/comments/{cid}/report`.

use axum::extract::{Path, State};
use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post};
use axum::{Json, Router};
use paperboy_app::views::CommentView;
use paperboy_core::CommentId;
use serde::Deserialize;
use serde_json::{json, Value};

use super::{paper_route, PaperPath};
use crate::auth::{CurrentUser, MaybeUser};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    let r = paper_route(
        Router::new(),
        "/api/papers",
        "/comments",
        get(list).post(create),
    );
    r.route("/api/comments/{cid}", patch(edit).delete(remove))
        .route("/api/comments/{cid}/upvote", post(vote).delete(vote))
        .route("/api/comments/{cid}/report", post(report))
}

/// A comment id in the path: a positive number.
pub struct CommentPath(pub CommentId);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for CommentPath {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Self::Rejection> {
        let Path(raw) = Path::<String>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        raw.parse::<i64>()
            .ok()
            .filter(|n| *n > 0)
            .map(|n| CommentPath(CommentId(n)))
            .ok_or_else(|| ApiError::bad_request(format!("`{raw}` is not a comment id")))
    }
}

/// A JSON body; an unreadable one is a 400 naming what is wrong.
pub struct Body<T>(pub T);

impl<T, S> axum::extract::FromRequest<S> for Body<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let Json(v) = Json::<T>::from_request(req, state)
            .await
            .map_err(|e| ApiError::client(e.status(), e.body_text()))?;
        Ok(Body(v))
    }
}

async fn list(
    State(state): State<AppState>,
    PaperPath(id): PaperPath,
    viewer: MaybeUser,
) -> Result<Json<Vec<CommentView>>, ApiError> {
    let d = state.app.discussion(&id, viewer.user()).await?;
    Ok(Json(CommentView::thread(&d.entries)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct NewComment {
    body: String,
    /// A JSON number: `12` or `12.0` (both are integers to JSON Schema).
    parent_id: Option<serde_json::Number>,
}

/// A JSON number that is a whole, positive id.
fn whole_id(n: &serde_json::Number) -> Option<i64> {
    if let Some(i) = n.as_i64() {
        return (i > 0).then_some(i);
    }
    let f = n.as_f64()?;
    (f.fract() == 0.0 && f >= 1.0 && f < i64::MAX as f64).then_some(f as i64)
}

async fn create(
    State(state): State<AppState>,
    PaperPath(id): PaperPath,
    CurrentUser(user): CurrentUser,
    Body(c): Body<NewComment>,
) -> Result<Response, ApiError> {
    let parent = match &c.parent_id {
        None => None,
        Some(n) => Some(CommentId(whole_id(n).ok_or_else(|| {
            ApiError::bad_request(format!("parentId `{n}` is not a comment id"))
        })?)),
    };
    let comment = state.app.post_comment(&user, &id, &c.body, parent).await?;
    let view = CommentView::new(&comment, vec![]);
    Ok((StatusCode::CREATED, Json(view)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Edit {
    body: String,
}

async fn edit(
    State(state): State<AppState>,
    CommentPath(cid): CommentPath,
    CurrentUser(user): CurrentUser,
    Body(e): Body<Edit>,
) -> Result<Json<CommentView>, ApiError> {
    let c = state.app.edit_comment(&user, cid, &e.body).await?;
    Ok(Json(CommentView::new(&c, vec![])))
}

async fn remove(
    State(state): State<AppState>,
    CommentPath(cid): CommentPath,
    CurrentUser(user): CurrentUser,
) -> Result<Json<CommentView>, ApiError> {
    let c = state.app.delete_comment(&user, cid).await?;
    Ok(Json(CommentView::new(&c, vec![])))
}

async fn vote(
    State(state): State<AppState>,
    method: Method,
    CommentPath(cid): CommentPath,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Value>, ApiError> {
    let up = method == Method::POST;
    let upvotes = state.app.vote_comment(&user, cid, up).await?;
    Ok(Json(
        json!({ "id": cid.0, "upvotes": upvotes, "upvoted": up }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReportBody {
    reason: String,
}

async fn report(
    State(state): State<AppState>,
    CommentPath(cid): CommentPath,
    CurrentUser(user): CurrentUser,
    Body(r): Body<ReportBody>,
) -> Result<Response, ApiError> {
    let rep = state.app.report_comment(&user, cid, &r.reason).await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": rep.report_id, "commentId": cid.0, "reason": rep.reason })),
    )
        .into_response())
}

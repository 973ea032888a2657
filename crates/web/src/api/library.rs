//! A member's library and recommendations over JSON:
//! `GET /api/me/library?tag=`, `PUT`/`DELETE /api/me/library/{id}`,
//! `GET /api/me/library/export?format=`, `GET /api/me/recommendations`,
//! `POST /api/me/recommendations/{id}/feedback`,
//! `GET`/`PUT /api/users/{username}/collections/{tag}`.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use paperboy_app::library::{ExportFormat, LibraryEntryView};
use paperboy_app::recommend::{RecRequest, RecommendationView};
use paperboy_store::{LibraryQuery, LibrarySort};
use serde::Deserialize;
use serde_json::{json, Value};

use super::comments::Body;
use super::{paper_route, parse_limit, PaperPath};
use crate::auth::CurrentUser;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    let r = Router::new()
        .route("/api/me/library", get(list))
        .route("/api/me/library/export", get(export))
        .route("/api/me/recommendations", get(recommendations))
        .route(
            "/api/users/{username}/collections/{tag}",
            get(collection).put(set_visibility),
        );
    let r = paper_route(r, "/api/me/library", "", put(save).delete(unsave));
    paper_route(r, "/api/me/recommendations", "/feedback", post(feedback))
}

/// Query keys a route knows; any other is a 400 naming it.
pub(crate) fn only_keys(q: &HashMap<String, String>, known: &[&str]) -> Result<(), ApiError> {
    match q.keys().find(|k| !known.contains(&k.as_str())) {
        Some(k) => Err(ApiError::bad_request(format!(
            "unknown parameter `{k}` (known: {})",
            known.join(", ")
        ))),
        None => Ok(()),
    }
}

/// A non-negative number parameter with a default and a maximum.
pub(crate) fn number(
    q: &HashMap<String, String>,
    key: &str,
    default: u32,
    max: u32,
) -> Result<u32, ApiError> {
    match q.get(key) {
        None => Ok(default),
        Some(v) => v.parse::<u32>().ok().filter(|n| *n <= max).ok_or_else(|| {
            ApiError::bad_request(format!("{key} must be a number from 0 to {max}, not `{v}`"))
        }),
    }
}

async fn list(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Vec<LibraryEntryView>>, ApiError> {
    only_keys(&q, &["tag", "q", "sort", "limit", "offset"])?;
    let sort = match q.get("sort") {
        None => LibrarySort::Added,
        Some(s) => LibrarySort::parse(s).ok_or_else(|| {
            ApiError::bad_request(format!("`{s}` is not a sort (added, published, title)"))
        })?,
    };
    if q.get("q").is_some_and(|t| t.chars().count() > 300) {
        return Err(ApiError::bad_request("q is longer than 300 characters"));
    }
    let query = LibraryQuery {
        tag: q.get("tag").cloned(),
        text: q.get("q").cloned(),
        sort,
        limit: parse_limit(&q, 100, 1000)?,
        offset: number(&q, "offset", 0, 1_000_000)?,
    };
    let items = state.app.library(&user, &query).await?;
    Ok(Json(state.app.library_views(&items).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SaveBody {
    #[serde(default)]
    tags: Vec<String>,
}

async fn save(
    State(state): State<AppState>,
    PaperPath(id): PaperPath,
    CurrentUser(user): CurrentUser,
    Body(body): Body<SaveBody>,
) -> Result<Json<Value>, ApiError> {
    let added = state.app.save_paper(&user, &id, &body.tags).await?;
    let tags = paperboy_app::library::check_tags(&body.tags)?;
    Ok(Json(
        json!({ "id": id.as_str(), "saved": true, "added": added, "tags": tags }),
    ))
}

async fn unsave(
    State(state): State<AppState>,
    PaperPath(id): PaperPath,
    CurrentUser(user): CurrentUser,
) -> Result<Json<Value>, ApiError> {
    let was = state.app.unsave_paper(&user, &id).await?;
    Ok(Json(
        json!({ "id": id.as_str(), "saved": false, "removed": was }),
    ))
}

async fn export(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    only_keys(&q, &["format", "tag"])?;
    let format = ExportFormat::parse(q.get("format").map_or("bibtex", String::as_str))?;
    let tag = q.get("tag");
    let body = state
        .app
        .export_library(&user, tag.map(String::as_str), format)
        .await?;
    let name = format!(
        "attachment; filename=\"library{}.{}\"",
        tag.map(|t| format!("-{t}")).unwrap_or_default(),
        format.extension()
    );
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, name),
        ],
        body,
    )
        .into_response())
}

async fn recommendations(
    State(state): State<AppState>,
    CurrentUser(user): CurrentUser,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Vec<RecommendationView>>, ApiError> {
    only_keys(&q, &["tag", "days", "limit"])?;
    let req = RecRequest::new(
        q.get("tag").map(String::as_str),
        number(&q, "days", 7, paperboy_app::recommend::MAX_DAYS)?,
        parse_limit(&q, 20, paperboy_app::recommend::MAX_LIMIT as u32)? as usize,
    )?;
    let recs = state.app.recommendations(&user, &req).await?;
    Ok(Json(state.app.recommendation_views(&recs).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FeedbackBody {
    value: i64,
}

async fn feedback(
    State(state): State<AppState>,
    PaperPath(id): PaperPath,
    CurrentUser(user): CurrentUser,
    Body(body): Body<FeedbackBody>,
) -> Result<Json<Value>, ApiError> {
    if body.value != 1 && body.value != -1 {
        return Err(ApiError::bad_request(format!(
            "value must be 1 or -1, not {}",
            body.value
        )));
    }
    state.app.rec_feedback(&user, &id, body.value).await?;
    Ok(Json(json!({ "id": id.as_str(), "value": body.value })))
}

async fn collection(
    State(state): State<AppState>,
    Path((username, tag)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    only_keys(&q, &["limit"])?;
    let limit = parse_limit(&q, 100, 1000)?;
    let (owner, items) = state.app.collection(&username, &tag, limit).await?;
    let papers = state.app.library_views(&items).await?;
    Ok(Json(json!({
        "owner": owner.username,
        "tag": tag.trim().to_lowercase(),
        "papers": papers,
    })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VisibilityBody {
    public: bool,
}

/// Makes the caller's own tag public or private; another member's is 403.
async fn set_visibility(
    State(state): State<AppState>,
    Path((username, tag)): Path<(String, String)>,
    CurrentUser(user): CurrentUser,
    Body(body): Body<VisibilityBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    if user.username != username {
        return Err(ApiError::forbidden(
            "only its owner can change a collection",
        ));
    }
    state.app.set_tag_public(&user, &tag, body.public).await?;
    Ok((
        StatusCode::OK,
        Json(json!({ "tag": tag.trim().to_lowercase(), "public": body.public })),
    ))
}

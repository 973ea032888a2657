//! `/api/papers/{id}` and what hangs below it. arXiv ids keep their slash
//! in the path (`/api/papers/hep-th/9901001`), so the id is a wildcard and
//! the suffix (`/upvote`, `/related`) is split off here.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use paperboy_core::ArxivId;
use paperboy_store::StoreError;
use serde::Serialize;
use serde_json::json;

use super::lists::{parse_limit, RowView};
use super::views::PaperView;
use crate::auth::{self, AuthVia, MaybeUser};
use crate::fetch::{SearchMode, SearchOutcome, SearchRequest};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/papers/search", get(get_search))
        .route(
            "/api/papers/{*id}",
            get(get_paper).post(post_upvote).delete(delete_upvote),
        )
}

pub(crate) fn parse_id(raw: &str) -> Result<ArxivId, ApiError> {
    ArxivId::parse(raw).map_err(|e| ApiError::BadRequest(e.to_string()))
}

async fn get_paper(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    if let Some(raw_id) = raw.strip_suffix("/related") {
        return related(state, raw_id, &q)
            .await
            .map(IntoResponse::into_response);
    }
    if raw.ends_with("/upvote") {
        return Err(ApiError::BadRequest("use POST or DELETE on /upvote".into()));
    }
    let id = parse_id(&raw)?;
    match state.store.get_paper(&id).await {
        Ok(stored) => Ok(Json(PaperView::from(&stored)).into_response()),
        Err(StoreError::NotFound) => {
            Err(ApiError::NotFound(format!("no paper {id} in this store")))
        }
        Err(e) => Err(e.into()),
    }
}

async fn related(
    state: AppState,
    raw: &str,
    q: &HashMap<String, String>,
) -> Result<Json<Vec<RowView>>, ApiError> {
    let id = parse_id(raw)?;
    let limit = parse_limit(q, 10, 50)?;
    if let Err(StoreError::NotFound) = state.store.get_paper(&id).await {
        return Err(ApiError::NotFound(format!("no paper {id} in this store")));
    }
    let Some(search) = &state.search else {
        return Err(ApiError::Unavailable(
            "related papers need the search index, which this instance has not set up".into(),
        ));
    };
    let hits = search
        .related(&id, limit as usize)
        .await
        .map_err(ApiError::Internal)?;
    let ids: Vec<ArxivId> = hits.iter().map(|h| h.arxiv_id.clone()).collect();
    let mut found = state.store.get_papers(&ids).await?;
    found.sort_by_key(|l| ids.iter().position(|i| *i == l.stored.paper.id));
    Ok(Json(found.iter().map(RowView::from).collect()))
}

/// One search result, as `GET /api/papers/search` and `paperboy search --json` answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchRow {
    pub paper: PaperView,
    pub title: String,
    pub summary: String,
    pub published_at: String,
    pub score: f32,
    pub highlighted_title: Option<String>,
    pub highlighted_summary: Option<String>,
}

/// Runs a search and joins the hits with the store's papers, best first.
pub async fn search_rows(
    state: &AppState,
    req: SearchRequest,
) -> Result<(Vec<SearchRow>, SearchOutcome), ApiError> {
    let Some(search) = &state.search else {
        return Err(ApiError::Unavailable(
            "search is not set up on this instance".into(),
        ));
    };
    let outcome = search.search(req).await.map_err(ApiError::Internal)?;
    let ids: Vec<ArxivId> = outcome.hits.iter().map(|h| h.arxiv_id.clone()).collect();
    let found = state.store.get_papers(&ids).await?;
    let mut rows = Vec::new();
    for hit in &outcome.hits {
        if let Some(l) = found.iter().find(|l| l.stored.paper.id == hit.arxiv_id) {
            let paper = PaperView::from(&l.stored);
            rows.push(SearchRow {
                title: paper.title.clone(),
                summary: paper.summary.clone(),
                published_at: paper.published_at.clone(),
                score: hit.score,
                highlighted_title: hit.highlighted_title.clone(),
                highlighted_summary: hit.highlighted_summary.clone(),
                paper,
            });
        }
    }
    Ok((rows, outcome))
}

/// Parses the search parameters shared by the API and the CLI.
pub fn search_request(q: &HashMap<String, String>) -> Result<SearchRequest, ApiError> {
    let query = q.get("q").map(|s| s.trim().to_string()).unwrap_or_default();
    if query.is_empty() {
        return Err(ApiError::BadRequest("q is required".into()));
    }
    if query.chars().count() > 1000 {
        return Err(ApiError::BadRequest(
            "q is longer than 1000 characters".into(),
        ));
    }
    let mode = match q.get("mode") {
        None => SearchMode::Hybrid,
        Some(m) => m.parse().map_err(ApiError::BadRequest)?,
    };
    let limit = parse_limit(q, 20, 100)?;
    let offset: usize =
        match q.get("offset") {
            None => 0,
            Some(o) => o.parse().ok().filter(|o| *o <= 10_000).ok_or_else(|| {
                ApiError::BadRequest(format!("`{o}` is not an offset (0 to 10000)"))
            })?,
        };
    Ok(SearchRequest {
        query,
        mode,
        limit: limit as usize,
        offset,
    })
}

async fn get_search(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let req = search_request(&q)?;
    let (rows, outcome) = search_rows(&state, req).await?;
    let mut resp = Json(rows).into_response();
    let mode = match outcome.mode {
        SearchMode::Keyword => "keyword",
        SearchMode::Semantic => "semantic",
        SearchMode::Hybrid => "hybrid",
    };
    resp.headers_mut()
        .insert("x-search-mode", axum::http::HeaderValue::from_static(mode));
    if let Some(note) = &outcome.note {
        if let Ok(v) = note.parse() {
            resp.headers_mut().insert("x-search-note", v);
        }
    }
    Ok(resp)
}

async fn upvote(
    state: AppState,
    raw: String,
    user: MaybeUser,
    headers: HeaderMap,
    up: bool,
) -> Result<Response, ApiError> {
    let Some(raw_id) = raw.strip_suffix("/upvote") else {
        return Err(ApiError::NotFound(format!(
            "no such endpoint: /api/papers/{raw}"
        )));
    };
    let id = parse_id(raw_id)?;
    let Some((user, via)) = user.0 else {
        return Err(ApiError::Unauthorized(
            "log in or send an API token (Authorization: Bearer …) to vote".into(),
        ));
    };
    if via == AuthVia::Session {
        let sent = headers.get("x-csrf-token").and_then(|v| v.to_str().ok());
        if !auth::csrf_ok(&headers, sent) {
            return Err(ApiError::Forbidden(
                "missing or wrong X-CSRF-Token header".into(),
            ));
        }
    }
    let upvotes = super::votes::vote(&state, &user, &id, up).await?;
    Ok(Json(json!({ "id": id.as_str(), "upvotes": upvotes, "upvoted": up })).into_response())
}

async fn post_upvote(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    user: MaybeUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    upvote(state, raw, user, headers, true).await
}

async fn delete_upvote(
    State(state): State<AppState>,
    Path(raw): Path<String>,
    user: MaybeUser,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    upvote(state, raw, user, headers, false).await
}

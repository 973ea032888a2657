//! `GET /api/papers/search?q=&mode=&limit=&offset=`.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use paperboy_app::search::{parse_mode, Mode, SearchRequest};
use paperboy_app::views::SearchRow;

use super::parse_limit;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/papers/search", get(get_search))
}

/// The search the query string asks for (the API's and the CLI's).
pub fn request_of(q: &HashMap<String, String>) -> Result<SearchRequest, ApiError> {
    let mode = match q.get("mode").map(String::as_str) {
        None => Mode::Hybrid,
        Some(m) => parse_mode(m)?,
    };
    let limit = parse_limit(q, 20, 100)?;
    let offset: usize = match q.get("offset") {
        None => 0,
        Some(o) => o
            .parse()
            .map_err(|_| ApiError::bad_request(format!("`{o}` is not an offset (0 to 10000)")))?,
    };
    let query = q.get("q").map(String::as_str).unwrap_or("");
    Ok(SearchRequest::new(query, mode, limit as usize, offset)?)
}

async fn get_search(
    State(state): State<AppState>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let req = request_of(&q)?;
    let results = state.app.search(&req).await?;
    let rows: Vec<SearchRow> = state.app.search_rows(&results.rows).await?;
    let mut resp = Json(rows).into_response();
    resp.headers_mut().insert(
        "x-search-mode",
        HeaderValue::from_static(results.mode.as_str()),
    );
    if let Some(note) = &results.note {
        if let Ok(v) = note.parse() {
            resp.headers_mut().insert("x-search-note", v);
        }
    }
    Ok(resp)
}

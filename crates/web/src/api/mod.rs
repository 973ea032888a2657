//! The JSON API. Shapes follow the Hugging Face papers API where it has
//! one (`paperboy_app::views`), so existing clients work.
//!
//! arXiv ids keep their slash in paths (`/api/papers/hep-th/9901001`):
//! every route under a paper exists twice, for one-segment and two-segment
//! ids ([`PaperPath`] reads either).

pub mod comments;
mod library;
mod lists;
mod papers;
mod search;
mod votes;

use std::collections::HashMap;

use axum::extract::{FromRequestParts, Path};
use axum::http::request::Parts;
use axum::Router;
use paperboy_core::ArxivId;

use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(search::router())
        .merge(papers::router())
        .merge(votes::router())
        .merge(lists::router())
        .merge(comments::router())
        .merge(library::router())
}

/// Adds `method` at `{prefix}/{id}{tail}` and `{prefix}/{id}/{number}{tail}`:
/// every route under a paper, for both shapes of arXiv id.
pub fn paper_route<S: Clone + Send + Sync + 'static>(
    router: axum::Router<S>,
    prefix: &str,
    tail: &str,
    method: axum::routing::MethodRouter<S>,
) -> axum::Router<S> {
    router
        .route(&format!("{prefix}/{{id}}{tail}"), method.clone())
        .route(&format!("{prefix}/{{id}}/{{number}}{tail}"), method)
}

/// The arXiv id in a path: `{id}` or `{id}/{number}` (old-style ids).
pub struct PaperPath(pub ArxivId);

impl<S: Send + Sync> FromRequestParts<S> for PaperPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(segments) = Path::<Vec<(String, String)>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        let raw: Vec<&str> = segments.iter().map(|(_, v)| v.as_str()).collect();
        parse_id(&raw.join("/")).map(PaperPath)
    }
}

/// An arXiv id in a path, exactly (no surrounding spaces).
pub fn parse_id(raw: &str) -> Result<ArxivId, ApiError> {
    if raw.trim() != raw {
        return Err(ApiError::bad_request(format!(
            "`{raw}` is not an arXiv id (spaces around it)"
        )));
    }
    ArxivId::parse(raw).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// `limit`, from 1 to `max`.
pub fn parse_limit(q: &HashMap<String, String>, default: u32, max: u32) -> Result<u32, ApiError> {
    match q.get("limit") {
        None => Ok(default),
        Some(l) => l
            .parse::<u32>()
            .ok()
            .filter(|n| (1..=max).contains(n))
            .ok_or_else(|| {
                ApiError::bad_request(format!("limit must be a number from 1 to {max}, not `{l}`"))
            }),
    }
}

/// `p`, a page number from 0.
pub fn parse_page(q: &HashMap<String, String>) -> Result<u32, ApiError> {
    match q.get("p") {
        None => Ok(0),
        Some(p) => p
            .parse::<u32>()
            .ok()
            .filter(|n| *n <= 100_000)
            .ok_or_else(|| {
                ApiError::bad_request(format!("p must be a page number (0, 1, …), not `{p}`"))
            }),
    }
}

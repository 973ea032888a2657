//! `GET /api/papers/{id}`, its related papers, its references and the
//! papers citing it.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::routing::get;
use axum::{Json, Router};
use paperboy_app::citations::{CitedPaper, ReferenceView};
use paperboy_app::views::{PaperView, PassageView, RowView};

use super::{paper_route, parse_limit, PaperPath};
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    let r = paper_route(Router::new(), "/api/papers", "", get(get_paper));
    let r = paper_route(r, "/api/papers", "/related", get(get_related));
    let r = paper_route(r, "/api/papers", "/references", get(get_references));
    let r = paper_route(r, "/api/papers", "/passages", get(get_passages));
    paper_route(r, "/api/papers", "/citations", get(get_citations))
}

/// Passages of the paper's full text matching `q`, best first.
async fn get_passages(
    State(state): State<AppState>,
    PaperPath(id): PaperPath,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Vec<PassageView>>, ApiError> {
    let limit = parse_limit(&q, 20, 100)?;
    let query = q.get("q").map(String::as_str).unwrap_or("");
    let found = state
        .app
        .search_in_paper(&id, query, limit as usize)
        .await?;
    Ok(Json(found.iter().map(PassageView::from).collect()))
}

async fn get_paper(
    State(state): State<AppState>,
    PaperPath(id): PaperPath,
) -> Result<Json<PaperView>, ApiError> {
    let stored = state.app.paper(&id).await?;
    Ok(Json(state.app.paper_view(&stored).await?))
}

async fn get_related(
    State(state): State<AppState>,
    PaperPath(id): PaperPath,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Vec<RowView>>, ApiError> {
    let limit = parse_limit(&q, 10, 50)?;
    let found = state.app.related(&id, limit as usize).await?;
    Ok(Json(state.app.row_views(&found).await?))
}

/// The reference list: papers here where resolved, else the entry's text.
async fn get_references(
    State(state): State<AppState>,
    PaperPath(id): PaperPath,
) -> Result<Json<Vec<ReferenceView>>, ApiError> {
    Ok(Json(state.app.references(&id).await?))
}

/// Papers here citing this one, newest first, with the citing sentence.
async fn get_citations(
    State(state): State<AppState>,
    PaperPath(id): PaperPath,
) -> Result<Json<Vec<CitedPaper>>, ApiError> {
    Ok(Json(state.app.citations(&id).await?))
}

//! `/api/papers/{id}` and what hangs below it. arXiv ids keep their slash
//! in the path (`/api/papers/hep-th/9901001`), so the id is a wildcard.

use axum::extract::{Path, State};
use axum::routing::get;
use axum::{Json, Router};
use paperboy_core::ArxivId;
use paperboy_store::StoreError;

use super::views::PaperView;
use crate::{ApiError, AppState};

pub fn router() -> Router<AppState> {
    Router::new().route("/api/papers/{*id}", get(get_paper))
}

pub(crate) fn parse_id(raw: &str) -> Result<ArxivId, ApiError> {
    ArxivId::parse(raw).map_err(|e| ApiError::BadRequest(e.to_string()))
}

async fn get_paper(
    State(state): State<AppState>,
    Path(raw): Path<String>,
) -> Result<Json<PaperView>, ApiError> {
    let id = parse_id(&raw)?;
    match state.store.get_paper(&id).await {
        Ok(stored) => Ok(Json(PaperView::from(&stored))),
        Err(StoreError::NotFound) => {
            Err(ApiError::NotFound(format!("no paper {id} in this store")))
        }
        Err(e) => Err(e.into()),
    }
}

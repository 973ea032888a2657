//! The JSON API. Shapes follow the Hugging Face papers API where it has
//! one, so existing clients work.

mod lists;
mod papers;
pub use papers::{search_request, search_rows, SearchRow};
pub mod views;
pub mod votes;

use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().merge(papers::router()).merge(lists::router())
}

//! The JSON API. Shapes follow the Hugging Face papers API where it has
//! one, so existing clients work.

mod lists;
mod papers;
pub mod views;
pub mod votes;

use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new().merge(papers::router()).merge(lists::router())
}

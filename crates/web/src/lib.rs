//! HTTP: the JSON API, pages and feeds. Never names a concrete store.

pub mod api;
pub mod error;
mod health;

use std::sync::Arc;

use axum::Router;
use paperboy_store::Store;

pub use error::ApiError;

/// Everything a handler may need, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub settings: Arc<WebSettings>,
}

/// The part of the configuration the web layer reads.
#[derive(Debug, Clone)]
pub struct WebSettings {
    pub base_url: String,
    pub instance_name: String,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            base_url: "http://127.0.0.1:8080".into(),
            instance_name: "Paperboy".into(),
        }
    }
}

/// The whole application.
pub fn app(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(api::router())
        .fallback(error::not_found_fallback)
        .with_state(state)
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await
}

//! HTTP: pages, the JSON API, feeds and health. Handlers translate
//! requests into calls on the application layer (`paperboy-app`) and
//! render its answers; they never name a concrete store.

pub mod api;
pub mod auth;
pub mod error;
pub mod feeds;
mod health;
pub mod metrics;
pub mod pages;
pub mod security;

use std::sync::Arc;

use axum::Router;
use paperboy_app::App;

pub use error::ApiError;

/// Everything a handler may need, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub app: App,
    pub metrics: Arc<metrics::Metrics>,
}

impl AppState {
    pub fn new(app: App) -> Self {
        AppState {
            app,
            metrics: Arc::default(),
        }
    }
}

/// The whole site for `app`.
pub fn router(app: App) -> Router {
    app_router(AppState::new(app))
}

/// The whole site for a prepared state (its metrics shared with the caller).
pub fn app_router(state: AppState) -> Router {
    Router::new()
        .merge(health::router())
        .merge(api::router())
        .merge(pages::router())
        .merge(metrics::router())
        .merge(feeds::router())
        .route("/openapi.json", axum::routing::get(openapi))
        .fallback(error::not_found_fallback)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            metrics::count,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::headers,
        ))
        .with_state(state)
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = app_router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(shutdown)
        .await
}

async fn openapi() -> axum::response::Response {
    use axum::response::IntoResponse;
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        include_str!("openapi.json"),
    )
        .into_response()
}

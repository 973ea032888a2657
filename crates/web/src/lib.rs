//! HTTP: pages, the JSON API and health. Never names a concrete store.

pub mod api;
pub mod auth;
pub mod daily;
pub mod error;
pub mod feeds;
pub mod fetch;
mod health;
pub mod metrics;
pub mod pages;
pub mod ratelimit;
pub mod trending;

use std::sync::Arc;

use axum::Router;
use paperboy_store::Store;

pub use error::ApiError;
pub use fetch::{PaperFetcher, PaperSearch};

/// Everything a handler may need, cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub settings: Arc<WebSettings>,
    pub fetcher: Option<Arc<dyn PaperFetcher>>,
    pub search: Option<Arc<dyn PaperSearch>>,
    pub limiter: Arc<ratelimit::RateLimiter>,
    pub scales: Arc<trending::Scales>,
    pub metrics: Arc<metrics::Metrics>,
    /// Email: signing links always; sending when SMTP is configured.
    pub mail: Option<Arc<MailSettings>>,
}

pub struct MailSettings {
    pub signer: paperboy_mail::Signer,
    pub smtp: Option<paperboy_mail::SmtpConfig>,
    /// `Name <address>` of outgoing mail.
    pub from: String,
}

impl AppState {
    pub fn new(store: Arc<dyn Store>, settings: WebSettings) -> Self {
        AppState {
            store,
            settings: Arc::new(settings),
            fetcher: None,
            search: None,
            limiter: Arc::default(),
            scales: Arc::default(),
            metrics: Arc::default(),
            mail: None,
        }
    }
}

/// The part of the configuration the web layer reads.
#[derive(Debug, Clone)]
pub struct WebSettings {
    pub base_url: String,
    pub instance_name: String,
    /// Where the daily list's day begins and ends.
    pub timezone: chrono_tz::Tz,
    /// Older papers are refused on the daily list.
    pub max_submission_age_days: i64,
    pub limits: ratelimit::Limits,
}

impl Default for WebSettings {
    fn default() -> Self {
        WebSettings {
            base_url: "http://127.0.0.1:8080".into(),
            instance_name: "Paperboy".into(),
            timezone: chrono_tz::UTC,
            max_submission_age_days: 14,
            limits: ratelimit::Limits::default(),
        }
    }
}

/// The whole application.
pub fn app(state: AppState) -> Router {
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
        .with_state(state)
}

/// Serves until `shutdown` resolves.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let service = app(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
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

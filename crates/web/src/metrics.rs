//! `/metrics` (Prometheus text) and the request counters behind it.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use crate::AppState;

pub struct Metrics {
    started: Instant,
    /// Responses by status class: 1xx … 5xx.
    by_class: [AtomicU64; 5],
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            by_class: Default::default(),
        }
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(get_metrics))
}

pub async fn count(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let resp = next.run(req).await;
    let class = (resp.status().as_u16() / 100).clamp(1, 5) as usize - 1;
    state.metrics.by_class[class].fetch_add(1, Ordering::Relaxed);
    resp
}

async fn get_metrics(State(state): State<AppState>) -> Response {
    let m = &state.metrics;
    let mut out = String::new();
    out.push_str("# HELP paperboy_http_responses_total HTTP responses sent, by status class.\n");
    out.push_str("# TYPE paperboy_http_responses_total counter\n");
    for (i, c) in m.by_class.iter().enumerate() {
        out.push_str(&format!(
            "paperboy_http_responses_total{{class=\"{}xx\"}} {}\n",
            i + 1,
            c.load(Ordering::Relaxed)
        ));
    }
    out.push_str("# HELP paperboy_uptime_seconds Seconds since this process started serving.\n");
    out.push_str("# TYPE paperboy_uptime_seconds gauge\n");
    out.push_str(&format!(
        "paperboy_uptime_seconds {}\n",
        m.started.elapsed().as_secs()
    ));
    let up = state.app.store.change_seq().await;
    out.push_str("# HELP paperboy_store_up Whether the store answers (1) or not (0).\n");
    out.push_str("# TYPE paperboy_store_up gauge\n");
    out.push_str(&format!("paperboy_store_up {}\n", u8::from(up.is_ok())));
    if let Ok(seq) = up {
        out.push_str("# HELP paperboy_change_seq The store's change sequence.\n");
        out.push_str("# TYPE paperboy_change_seq counter\n");
        out.push_str(&format!("paperboy_change_seq {seq}\n"));
    }
    ([(CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

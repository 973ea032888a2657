//! `/metrics` (Prometheus text) and the request counters behind it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header::CONTENT_TYPE;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use paperboy_app::citations::Texts;
use paperboy_app::operations::Gauges;

use crate::AppState;

pub struct Metrics {
    started: Instant,
    /// Responses by status class: 1xx … 5xx.
    by_class: [AtomicU64; 5],
    /// Latency histograms by method and route pattern (`/papers/{*id}`,
    /// never the raw path: the label set stays bounded).
    routes: Mutex<BTreeMap<(String, String), Histogram>>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            started: Instant::now(),
            by_class: Default::default(),
            routes: Mutex::default(),
        }
    }
}

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
];

#[derive(Default, Clone)]
struct Histogram {
    /// Observations at or below each bound (not cumulative here).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, secs: f64) {
        if let Some(i) = BUCKETS.iter().position(|b| secs <= *b) {
            self.buckets[i] += 1;
        }
        self.count += 1;
        self.sum += secs;
    }
}

pub fn router() -> Router<AppState> {
    Router::new().route("/metrics", get(get_metrics))
}

pub async fn count(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = req.method().as_str().to_string();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".to_string());
    let resp = next.run(req).await;
    let class = (resp.status().as_u16() / 100).clamp(1, 5) as usize - 1;
    state.metrics.by_class[class].fetch_add(1, Ordering::Relaxed);
    let secs = started.elapsed().as_secs_f64();
    let mut routes = state
        .metrics
        .routes
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    routes.entry((method, route)).or_default().observe(secs);
    resp
}

/// A Prometheus label value: backslash, quote and newline escaped.
fn label(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn gauge(out: &mut String, name: &str, help: &str, rows: &[(String, f64)]) {
    out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
    for (labels, v) in rows {
        out.push_str(&format!("{name}{labels} {v}\n"));
    }
}

async fn get_metrics(State(state): State<AppState>) -> Response {
    let mut out = String::new();
    http_metrics(&state.metrics, &mut out);
    let g = state.app.gauges().await;
    if let Some(texts) = &state.app.texts {
        fulltext_metrics(&state, texts, &mut out).await;
    }
    store_metrics(&g, &mut out);
    harvest_metrics(&g, &mut out);
    ([(CONTENT_TYPE, "text/plain; version=0.0.4")], out).into_response()
}

/// Responses by status class, uptime, and time to answer by route.
fn http_metrics(m: &Metrics, out: &mut String) {
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
    {
        let routes = m
            .routes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone();
        out.push_str(
            "# HELP paperboy_http_request_duration_seconds Time to answer, by method and route.\n",
        );
        out.push_str("# TYPE paperboy_http_request_duration_seconds histogram\n");
        for ((method, route), h) in &routes {
            let l = format!("method=\"{}\",route=\"{}\"", label(method), label(route));
            let mut cumulative = 0;
            for (bound, n) in BUCKETS.iter().zip(h.buckets) {
                cumulative += n;
                out.push_str(&format!(
                    "paperboy_http_request_duration_seconds_bucket{{{l},le=\"{bound}\"}} {cumulative}\n"
                ));
            }
            out.push_str(&format!(
                "paperboy_http_request_duration_seconds_bucket{{{l},le=\"+Inf\"}} {}\n",
                h.count
            ));
            out.push_str(&format!(
                "paperboy_http_request_duration_seconds_sum{{{l}}} {}\n",
                h.sum
            ));
            out.push_str(&format!(
                "paperboy_http_request_duration_seconds_count{{{l}}} {}\n",
                h.count
            ));
        }
    }
}

/// The full-text fetcher: papers by outcome, references, passages, and
/// this node's fetching.
async fn fulltext_metrics(state: &AppState, texts: &Texts, out: &mut String) {
    if let Ok(t) = state.app.text_stats().await {
        let rows = [
            ("parsed", t.parsed),
            ("missing", t.missing),
            ("unreadable", t.unreadable),
            ("too_large", t.too_large),
            ("catalogued", t.catalogued),
        ]
        .map(|(s, n)| (format!("{{status=\"{s}\"}}"), n as f64));
        gauge(
            out,
            "paperboy_fulltext_papers",
            "Papers whose full text was fetched, by outcome.",
            &rows,
        );
        let one = |n: u64| [(String::new(), n as f64)];
        gauge(
            out,
            "paperboy_fulltext_waiting",
            "Papers whose full text is not fetched yet.",
            &one(t.waiting),
        );
        gauge(
            out,
            "paperboy_fulltext_bytes",
            "Bytes of the full-text pages fetched.",
            &one(t.bytes.max(0) as u64),
        );
        gauge(
            out,
            "paperboy_references",
            "References read from full texts.",
            &one(t.references),
        );
        gauge(
            out,
            "paperboy_references_resolved",
            "References resolved to a paper in the store.",
            &one(t.resolved),
        );
        gauge(
            out,
            "paperboy_passages",
            "Passages of full texts kept for search inside papers.",
            &one(t.passages),
        );
    }
    let p = texts.progress();
    let lag = p
        .last_fetch
        .map_or(-1.0, |t| (chrono::Utc::now() - t).num_seconds() as f64);
    gauge(
        out,
        "paperboy_fulltext_last_fetch_age_seconds",
        "Seconds since this node last fetched a full text (-1: never).",
        &[(String::new(), lag)],
    );
    gauge(
        out,
        "paperboy_fulltext_refusals",
        "Times arXiv refused or could not be reached for a full text, on this node.",
        &[(String::new(), p.refusals as f64)],
    );
}

/// The store, the indexes following it, the vectors, the outbox.
fn store_metrics(g: &Gauges, out: &mut String) {
    out.push_str("# HELP paperboy_store_up Whether the store answers (1) or not (0).\n");
    out.push_str("# TYPE paperboy_store_up gauge\n");
    out.push_str(&format!(
        "paperboy_store_up {}\n",
        u8::from(g.change_seq.is_some())
    ));
    if let Some(seq) = g.change_seq {
        out.push_str("# HELP paperboy_change_seq The store's change sequence.\n");
        out.push_str("# TYPE paperboy_change_seq counter\n");
        out.push_str(&format!("paperboy_change_seq {seq}\n"));
    }
    if let Some(lag) = g.index_lag {
        gauge(
            out,
            "paperboy_index_lag_changes",
            "Store changes the keyword index has not applied yet.",
            &[(String::new(), lag as f64)],
        );
    }
    if let Some(backlog) = g.embedding_backlog {
        gauge(
            out,
            "paperboy_embedding_backlog_changes",
            "Store changes the vector index has not embedded yet.",
            &[(String::new(), backlog as f64)],
        );
    }
    if let Some(r) = &g.refinement {
        let l = format!("{{model=\"{}\"}}", label(&r.model));
        gauge(
            out,
            "paperboy_embedding_refined_papers",
            "Papers the better (transformer) vectors cover so far.",
            &[(l.clone(), r.covered as f64)],
        );
        gauge(
            out,
            "paperboy_embedding_refined_filling",
            "Whether the better vectors are still being filled in, newest papers first (1) or follow new papers only (0).",
            &[(l, f64::from(u8::from(r.filling)))],
        );
    }
    if let Some(total) = g.papers {
        gauge(
            out,
            "paperboy_papers",
            "Papers in the store (not deleted).",
            &[(String::new(), total as f64)],
        );
    }
    if g.change_seq.is_some() {
        let rows: Vec<(String, f64)> = g
            .outbox
            .iter()
            .map(|(status, n)| (format!("{{status=\"{}\"}}", label(status)), *n as f64))
            .collect();
        gauge(
            out,
            "paperboy_outbox_messages",
            "Messages in the outbox, by status (queued ones are the depth).",
            &rows,
        );
    }
}

/// Each harvested set's lag and whether this node harvests it now.
fn harvest_metrics(g: &Gauges, out: &mut String) {
    let mut lag = Vec::new();
    let mut running = Vec::new();
    for (set, set_lag, is_running) in &g.harvest {
        let l = format!("{{set=\"{}\"}}", label(set));
        if let Some(secs) = set_lag {
            lag.push((l.clone(), *secs));
        }
        running.push((l, f64::from(u8::from(*is_running))));
    }
    gauge(
        out,
        "paperboy_harvest_lag_seconds",
        "Seconds from the newest harvested datestamp of each set to now.",
        &lag,
    );
    gauge(
        out,
        "paperboy_harvest_running",
        "Whether this node is harvesting the set now.",
        &running,
    );
}

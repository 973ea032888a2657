//! OpenAlex on loopback, answering the two calls Paperboy makes in
//! OpenAlex's documented shapes: a work by external id
//! (`GET /works/doi:10.48550/arXiv.{id}` → one Work object: `id`, `doi`,
//! `title`, `publication_year`, `cited_by_count`, `referenced_works`) and
//! works by OpenAlex id (`GET /works?filter=openalex:W1|W2` → `{meta,
//! results}`). Every call needs `api_key`; requests are recorded.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};

use crate::arxiv_standin::{lock, serve_on_loopback};

/// The key the stand-in accepts.
pub const OPENALEX_KEY: &str = "test-openalex-key";

/// A work as OpenAlex describes it.
#[derive(Debug, Clone, Default)]
pub struct Work {
    /// `W…`, its OpenAlex id.
    pub id: String,
    pub doi: Option<String>,
    pub title: String,
    pub year: i32,
    pub cited_by_count: i64,
    /// OpenAlex ids of the works it cites.
    pub references: Vec<String>,
}

impl Work {
    fn json(&self) -> Value {
        json!({
            "id": format!("https://openalex.org/{}", self.id),
            "doi": self.doi.as_ref().map(|d| format!("https://doi.org/{d}")),
            "title": self.title,
            "display_name": self.title,
            "publication_year": self.year,
            "cited_by_count": self.cited_by_count,
            "referenced_works": self.references.iter().map(|r| format!("https://openalex.org/{r}")).collect::<Vec<_>>(),
        })
    }
}

#[derive(Default)]
struct Inner {
    works: Vec<Work>,
    /// Path and query of every request, the key left out.
    requests: Vec<(String, StatusCode)>,
    /// Answer 429 this many more times.
    refuse: usize,
}

#[derive(Clone)]
pub struct OpenAlexStandin {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

impl OpenAlexStandin {
    pub async fn start(works: Vec<Work>) -> OpenAlexStandin {
        let inner = Arc::new(Mutex::new(Inner {
            works,
            ..Default::default()
        }));
        let app = Router::new()
            .route("/works", get(list))
            .route("/works/{*id}", get(one))
            .with_state(inner.clone());
        OpenAlexStandin {
            base: serve_on_loopback(app).await,
            inner,
        }
    }

    /// Answers 429 (with `Retry-After: 1`) to the next `n` requests.
    pub fn refuse_next(&self, n: usize) {
        lock(&self.inner).refuse = n;
    }

    pub fn requests(&self) -> Vec<(String, StatusCode)> {
        lock(&self.inner).requests.clone()
    }
}

type Params = Query<HashMap<String, String>>;

/// The key, a refusal to serve, or neither.
fn gate(st: &mut Inner, q: &HashMap<String, String>) -> Option<Response> {
    if q.get("api_key").map(String::as_str) != Some(OPENALEX_KEY) {
        return Some(
            (
                StatusCode::UNAUTHORIZED,
                Json(json!({"error": "Invalid API key"})),
            )
                .into_response(),
        );
    }
    if st.refuse > 0 {
        st.refuse -= 1;
        return Some(
            (
                StatusCode::TOO_MANY_REQUESTS,
                [(axum::http::header::RETRY_AFTER, "1")],
                Json(json!({"error": "Rate limit exceeded"})),
            )
                .into_response(),
        );
    }
    None
}

async fn one(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(id): Path<String>,
    Query(q): Params,
) -> Response {
    let mut st = lock(&inner);
    let resp = gate(&mut st, &q).unwrap_or_else(|| {
        let doi = id
            .strip_prefix("doi:")
            .or_else(|| id.strip_prefix("https://doi.org/"))
            .map(str::to_ascii_lowercase);
        let found = st.works.iter().find(|w| match &doi {
            Some(d) => w.doi.as_ref().is_some_and(|x| x.to_ascii_lowercase() == *d),
            None => w.id == id,
        });
        match found {
            Some(w) => Json(w.json()).into_response(),
            None => (StatusCode::NOT_FOUND, Json(json!({"error": "Not found"}))).into_response(),
        }
    });
    st.requests.push((format!("/works/{id}"), resp.status()));
    resp
}

async fn list(State(inner): State<Arc<Mutex<Inner>>>, Query(q): Params) -> Response {
    let mut st = lock(&inner);
    let filter = q.get("filter").cloned().unwrap_or_default();
    let resp = gate(&mut st, &q).unwrap_or_else(|| {
        let Some(ids) = filter.strip_prefix("openalex:") else {
            return (StatusCode::BAD_REQUEST, Json(json!({"error": "filter: openalex:W…|W… only"})))
                .into_response();
        };
        let wanted: Vec<&str> = ids.split('|').collect();
        let results: Vec<Value> = st
            .works
            .iter()
            .filter(|w| wanted.contains(&w.id.as_str()))
            .map(Work::json)
            .collect();
        Json(json!({
            "meta": {"count": results.len(), "db_response_time_ms": 3, "page": 1, "per_page": results.len().max(1)},
            "results": results,
            "group_by": [],
        }))
        .into_response()
    });
    st.requests
        .push((format!("/works?filter={filter}"), resp.status()));
    resp
}

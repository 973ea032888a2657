//! A real HTTP server on loopback that plays the GitHub REST API for
//! repositories, in GitHub's documented formats: `GET /repos/{owner}/{repo}`
//! with `ETag` and `If-None-Match` (a 304 spends no quota), the
//! `X-RateLimit-*` headers and a primary limit per window, 301 to
//! `/repositories/{id}` for a renamed repository, 404 for a deleted one.
//! Faults (a secondary limit with `Retry-After`, 5xx, cut-off JSON) are
//! served once per repository when injected.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::json;

#[derive(Debug, Clone)]
pub enum GitHubFault {
    /// 403 with `Retry-After` (a secondary rate limit).
    SecondaryLimit { retry_after_secs: u64 },
    /// 502.
    ServerError,
    /// The right answer, cut off in the middle.
    Truncated,
}

#[derive(Debug, Clone)]
struct Repo {
    id: u64,
    full_name: String,
    stars: i64,
    gone: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeenGitHubRequest {
    pub path: String,
    pub status: u16,
    pub authorized: bool,
    /// Unix seconds (of the stand-in's clock).
    pub at: i64,
}

struct Inner {
    repos: Vec<Repo>,
    /// lower-case `owner/name` → index in `repos` (old names stay, as redirects).
    names: HashMap<String, usize>,
    faults: HashMap<String, Vec<GitHubFault>>,
    limit: i64,
    remaining: i64,
    reset_at: i64,
    /// Seconds added to the wall clock (tests and benchmarks move time).
    clock_offset: i64,
    requests: Vec<SeenGitHubRequest>,
}

#[derive(Clone)]
pub struct GitHubStandin {
    pub base: String,
    inner: Arc<Mutex<Inner>>,
}

use crate::arxiv_standin::{lock, serve_on_loopback};

impl Inner {
    fn now(&self) -> i64 {
        chrono::Utc::now().timestamp() + self.clock_offset
    }

    fn roll_window(&mut self) {
        let now = self.now();
        if now >= self.reset_at {
            self.remaining = self.limit;
            self.reset_at = now + 3600;
        }
    }
}

impl GitHubStandin {
    /// A stand-in allowing `limit` requests an hour.
    pub async fn start(limit: i64) -> GitHubStandin {
        let now = chrono::Utc::now().timestamp();
        let inner = Arc::new(Mutex::new(Inner {
            repos: Vec::new(),
            names: HashMap::new(),
            faults: HashMap::new(),
            limit,
            remaining: limit,
            reset_at: now + 3600,
            clock_offset: 0,
            requests: Vec::new(),
        }));
        let app = Router::new()
            .route("/repos/{owner}/{name}", get(by_name))
            .route("/repositories/{id}", get(by_id))
            .with_state(inner.clone());
        GitHubStandin {
            base: serve_on_loopback(app).await,
            inner,
        }
    }

    /// Adds (or updates the stars of) `owner/name`.
    pub fn set_stars(&self, full_name: &str, stars: i64) {
        let mut g = lock(&self.inner);
        let key = full_name.to_ascii_lowercase();
        match g.names.get(&key).copied() {
            Some(i) => g.repos[i].stars = stars,
            None => {
                let id = 1000 + g.repos.len() as u64;
                g.repos.push(Repo {
                    id,
                    full_name: full_name.to_string(),
                    stars,
                    gone: false,
                });
                let i = g.repos.len() - 1;
                g.names.insert(key, i);
            }
        }
    }

    /// Renames a repository: the old name answers 301.
    pub fn rename(&self, from: &str, to: &str) {
        let mut g = lock(&self.inner);
        if let Some(i) = g.names.get(&from.to_ascii_lowercase()).copied() {
            g.repos[i].full_name = to.to_string();
            g.names.insert(to.to_ascii_lowercase(), i);
        }
    }

    /// Deletes a repository: it answers 404.
    pub fn delete(&self, full_name: &str) {
        let mut g = lock(&self.inner);
        if let Some(i) = g.names.get(&full_name.to_ascii_lowercase()).copied() {
            g.repos[i].gone = true;
        }
    }

    /// Serves `fault` on the next request for `owner/name`.
    pub fn fault_once(&self, full_name: &str, fault: GitHubFault) {
        lock(&self.inner)
            .faults
            .entry(full_name.to_ascii_lowercase())
            .or_default()
            .push(fault);
    }

    /// Spends the primary limit: every request answers 403 until the reset.
    pub fn exhaust(&self) {
        lock(&self.inner).remaining = 0;
    }

    /// Moves the stand-in's clock (its rate-limit window) forward.
    pub fn advance(&self, secs: i64) {
        let mut g = lock(&self.inner);
        g.clock_offset += secs;
        g.roll_window();
    }

    pub fn requests(&self) -> Vec<SeenGitHubRequest> {
        lock(&self.inner).requests.clone()
    }

    pub fn clear_requests(&self) {
        lock(&self.inner).requests.clear();
    }

    /// `https://github.com/owner/name`, as a paper would link it.
    pub fn link(full_name: &str) -> String {
        format!("https://github.com/{full_name}")
    }
}

fn limit_headers(g: &Inner, h: &mut HeaderMap) {
    for (k, v) in [
        ("x-ratelimit-limit", g.limit),
        ("x-ratelimit-remaining", g.remaining.max(0)),
        ("x-ratelimit-reset", g.reset_at),
        ("x-ratelimit-used", g.limit - g.remaining.max(0)),
    ] {
        h.insert(k, HeaderValue::from(v));
    }
    h.insert("x-ratelimit-resource", HeaderValue::from_static("core"));
}

fn etag_of(r: &Repo) -> String {
    format!("W/\"{:x}-{}\"", r.id, r.stars)
}

fn repo_json(r: &Repo) -> serde_json::Value {
    let (owner, name) = r.full_name.split_once('/').unwrap_or(("", &r.full_name));
    json!({
        "id": r.id,
        "node_id": format!("R_{}", r.id),
        "name": name,
        "full_name": r.full_name,
        "private": false,
        "owner": { "login": owner, "type": "User" },
        "html_url": format!("https://github.com/{}", r.full_name),
        "url": format!("https://api.github.com/repos/{}", r.full_name),
        "fork": false,
        "stargazers_count": r.stars,
        "watchers_count": r.stars,
        "forks_count": 0,
        "open_issues_count": 0,
        "default_branch": "main",
        "archived": false,
    })
}

fn error_json(message: &str, status: u16) -> String {
    json!({
        "message": message,
        "documentation_url": "https://docs.github.com/rest",
        "status": status.to_string(),
    })
    .to_string()
}

async fn by_name(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path((owner, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let key = format!("{owner}/{name}").to_ascii_lowercase();
    answer(&inner, &format!("/repos/{owner}/{name}"), &headers, |g| {
        g.names.get(&key).copied().map(|i| (i, key.clone()))
    })
}

async fn by_id(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(id): Path<u64>,
    headers: HeaderMap,
) -> Response {
    answer(&inner, &format!("/repositories/{id}"), &headers, |g| {
        g.repos
            .iter()
            .position(|r| r.id == id)
            .map(|i| (i, g.repos[i].full_name.to_ascii_lowercase()))
    })
}

fn answer(
    inner: &Mutex<Inner>,
    path: &str,
    headers: &HeaderMap,
    find: impl FnOnce(&Inner) -> Option<(usize, String)>,
) -> Response {
    let mut g = lock(inner);
    g.roll_window();
    let authorized = headers.contains_key(header::AUTHORIZATION);
    let (status, resp) = respond(&mut g, path, headers, find);
    let at = g.now();
    g.requests.push(SeenGitHubRequest {
        path: path.to_string(),
        status,
        authorized,
        at,
    });
    resp
}

fn respond(
    g: &mut Inner,
    path: &str,
    headers: &HeaderMap,
    find: impl FnOnce(&Inner) -> Option<(usize, String)>,
) -> (u16, Response) {
    let json_type = [(header::CONTENT_TYPE, "application/json; charset=utf-8")];
    let mut h = HeaderMap::new();
    if g.remaining <= 0 {
        limit_headers(g, &mut h);
        let body = error_json("API rate limit exceeded for user.", 403);
        return (
            403,
            (StatusCode::FORBIDDEN, h, json_type, body).into_response(),
        );
    }
    let found = find(g);
    let fault = found
        .as_ref()
        .and_then(|(_, key)| g.faults.get_mut(key))
        .and_then(|q| (!q.is_empty()).then(|| q.remove(0)));
    if let Some(GitHubFault::SecondaryLimit { retry_after_secs }) = fault {
        limit_headers(g, &mut h);
        h.insert(header::RETRY_AFTER, HeaderValue::from(retry_after_secs));
        let body = error_json("You have exceeded a secondary rate limit.", 403);
        return (
            403,
            (StatusCode::FORBIDDEN, h, json_type, body).into_response(),
        );
    }
    // A 404 spends quota, as on GitHub.
    let not_found = |g: &mut Inner, mut h: HeaderMap| {
        g.remaining -= 1;
        limit_headers(g, &mut h);
        let body = error_json("Not Found", 404);
        let json = [(header::CONTENT_TYPE, "application/json; charset=utf-8")];
        (404, (StatusCode::NOT_FOUND, h, json, body).into_response())
    };
    let Some((i, key)) = found else {
        return not_found(g, h);
    };
    let repo = g.repos[i].clone();
    // Asked by an old name: 301 to the repository's id (no quota for the
    // redirect itself on GitHub either; the follow-up request counts).
    if path.starts_with("/repos/") && key != repo.full_name.to_ascii_lowercase() {
        limit_headers(g, &mut h);
        let to = format!("/repositories/{}", repo.id);
        h.insert(
            header::LOCATION,
            HeaderValue::from_str(&to).expect("location"),
        );
        let body = json!({"message": "Moved Permanently", "url": to, "documentation_url": "https://docs.github.com/rest/guides/best-practices-for-using-the-rest-api#follow-redirects"}).to_string();
        return (
            301,
            (StatusCode::MOVED_PERMANENTLY, h, json_type, body).into_response(),
        );
    }
    if repo.gone {
        return not_found(g, h);
    }
    let etag = etag_of(&repo);
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == etag);
    if matches && fault.is_none() {
        limit_headers(g, &mut h);
        h.insert(header::ETAG, HeaderValue::from_str(&etag).expect("etag"));
        return (304, (StatusCode::NOT_MODIFIED, h).into_response());
    }
    g.remaining -= 1;
    limit_headers(g, &mut h);
    match fault {
        Some(GitHubFault::ServerError) => {
            let body = error_json("Server Error", 502);
            (
                502,
                (StatusCode::BAD_GATEWAY, h, json_type, body).into_response(),
            )
        }
        Some(GitHubFault::Truncated) => {
            let full = repo_json(&repo).to_string();
            let cut = full[..full.len() / 2].to_string();
            (200, (StatusCode::OK, h, json_type, cut).into_response())
        }
        _ => {
            h.insert(header::ETAG, HeaderValue::from_str(&etag).expect("etag"));
            let body = repo_json(&repo).to_string();
            (200, (StatusCode::OK, h, json_type, body).into_response())
        }
    }
}

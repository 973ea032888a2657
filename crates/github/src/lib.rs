//! The GitHub REST API, as far as stars go: `GET /repos/{owner}/{repo}`
//! with an optional token, conditional requests (`If-None-Match`: a 304
//! costs no quota), the rate-limit headers read on every answer, renamed
//! repositories (301) followed and deleted ones (404) reported.
//!
//! One request per call and no sleeping: the tracker in the application
//! layer decides when to ask again, within its budget.

use std::time::Duration;

use reqwest::header::{
    HeaderMap, ACCEPT, AUTHORIZATION, ETAG, IF_NONE_MATCH, LOCATION, RETRY_AFTER,
};
use reqwest::StatusCode;
use serde::Deserialize;

pub use paperboy_core::code_link::github_repo_path as repo_path;

/// What the rate-limit headers of an answer said.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimit {
    /// `X-RateLimit-Limit`: requests allowed per window.
    pub limit: Option<i64>,
    /// `X-RateLimit-Remaining`.
    pub remaining: Option<i64>,
    /// `X-RateLimit-Reset`: when the window starts over (unix seconds).
    pub reset_at: Option<i64>,
}

impl RateLimit {
    fn from_headers(h: &HeaderMap) -> Self {
        let num = |name: &str| {
            h.get(name)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<i64>().ok())
        };
        RateLimit {
            limit: num("x-ratelimit-limit"),
            remaining: num("x-ratelimit-remaining"),
            reset_at: num("x-ratelimit-reset"),
        }
    }
}

/// A repository's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// 200: the count now. `html_url` differs from the asked one when the
    /// repository was renamed or transferred (a 301 was followed).
    Stars {
        stars: i64,
        etag: Option<String>,
        html_url: String,
        moved: bool,
    },
    /// 304: unchanged since the ETag we sent.
    NotModified,
    /// 404 or 451: deleted, made private or blocked.
    Gone,
}

#[derive(Debug, thiserror::Error)]
pub enum GitHubError {
    /// The primary limit is spent (403/429 with `X-RateLimit-Remaining: 0`)
    /// or a secondary limit hit (`Retry-After`): no request before `until`.
    #[error("GitHub rate limit reached; next request allowed at {until} (unix)")]
    RateLimited { until: i64 },
    /// 5xx, a network error, or an answer that is not the documented JSON
    /// (truncated): worth another try later.
    #[error("{url}: {reason}")]
    Transient { url: String, reason: String },
    /// An answer that will not change by asking again (401, 400, …).
    #[error("{url}: HTTP {status}: {message}")]
    Refused {
        url: String,
        status: u16,
        message: String,
    },
    #[error("not a GitHub repository link: {0}")]
    NotARepo(String),
    #[error("cannot build HTTP client: {0}")]
    Setup(String),
}

#[derive(Deserialize)]
struct RepoBody {
    stargazers_count: i64,
    html_url: String,
}

#[derive(Deserialize)]
struct ErrorBody {
    message: Option<String>,
}

pub struct GitHub {
    http: reqwest::Client,
    /// `https://api.github.com`, or a stand-in.
    api: String,
    token: Option<String>,
}

/// Renames followed in one call, at most.
const MAX_REDIRECTS: usize = 3;

impl GitHub {
    pub fn new(api: &str, token: Option<String>, user_agent: &str) -> Result<Self, GitHubError> {
        let http = reqwest::Client::builder()
            .user_agent(user_agent)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| GitHubError::Setup(e.to_string()))?;
        Ok(GitHub {
            http,
            api: api.trim_end_matches('/').to_string(),
            token: token.filter(|t| !t.is_empty()),
        })
    }

    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

    /// Asks for the repository `url` links (`https://github.com/o/n`),
    /// conditionally when `etag` is known. Also returns what the rate-limit
    /// headers said, whatever the outcome.
    pub async fn repo(
        &self,
        url: &str,
        etag: Option<&str>,
        now: i64,
    ) -> (Result<Answer, GitHubError>, RateLimit) {
        let Some(path) = repo_path(url) else {
            return (Err(GitHubError::NotARepo(url.into())), RateLimit::default());
        };
        let mut target = format!("{}/repos/{path}", self.api);
        let mut moved = false;
        let mut limit = RateLimit::default();
        for _ in 0..=MAX_REDIRECTS {
            let mut req = self
                .http
                .get(&target)
                .header(ACCEPT, "application/vnd.github+json")
                .header("X-GitHub-Api-Version", "2022-11-28");
            if let Some(t) = &self.token {
                req = req.header(AUTHORIZATION, format!("Bearer {t}"));
            }
            // The ETag belongs to the first URL's answer.
            if let (Some(e), false) = (etag, moved) {
                req = req.header(IF_NONE_MATCH, e);
            }
            let resp = match req.send().await {
                Ok(r) => r,
                Err(e) => return (Err(transient(&target, e.to_string())), limit),
            };
            limit = RateLimit::from_headers(resp.headers());
            let status = resp.status();
            if status == StatusCode::MOVED_PERMANENTLY
                || status == StatusCode::FOUND
                || status == StatusCode::TEMPORARY_REDIRECT
                || status == StatusCode::PERMANENT_REDIRECT
            {
                let location = resp
                    .headers()
                    .get(LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_string);
                match location {
                    Some(l) => {
                        target = resolve(&target, &l);
                        moved = true;
                        continue;
                    }
                    None => {
                        return (
                            Err(transient(
                                &target,
                                format!("HTTP {status} without Location"),
                            )),
                            limit,
                        )
                    }
                }
            }
            return (self.answer(&target, resp, limit, moved, now).await, limit);
        }
        (
            Err(GitHubError::Refused {
                url: url.into(),
                status: 301,
                message: format!("more than {MAX_REDIRECTS} redirects"),
            }),
            limit,
        )
    }

    async fn answer(
        &self,
        target: &str,
        resp: reqwest::Response,
        limit: RateLimit,
        moved: bool,
        now: i64,
    ) -> Result<Answer, GitHubError> {
        let status = resp.status();
        let headers = resp.headers().clone();
        if status == StatusCode::NOT_MODIFIED {
            return Ok(Answer::NotModified);
        }
        if status == StatusCode::NOT_FOUND || status == StatusCode::UNAVAILABLE_FOR_LEGAL_REASONS {
            return Ok(Answer::Gone);
        }
        if let Some(until) = limited_until(status, &headers, limit, now) {
            return Err(GitHubError::RateLimited { until });
        }
        let body = resp
            .bytes()
            .await
            .map_err(|e| transient(target, format!("reading the answer: {e}")))?;
        if status.is_server_error() {
            return Err(transient(target, format!("HTTP {status}")));
        }
        if !status.is_success() {
            let message = serde_json::from_slice::<ErrorBody>(&body)
                .ok()
                .and_then(|b| b.message)
                .unwrap_or_default();
            return Err(GitHubError::Refused {
                url: target.into(),
                status: status.as_u16(),
                message,
            });
        }
        let repo: RepoBody = serde_json::from_slice(&body)
            .map_err(|e| transient(target, format!("unreadable repository JSON: {e}")))?;
        Ok(Answer::Stars {
            stars: repo.stargazers_count.max(0),
            etag: headers
                .get(ETAG)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            html_url: repo.html_url,
            moved,
        })
    }
}

fn transient(url: &str, reason: String) -> GitHubError {
    GitHubError::Transient {
        url: url.into(),
        reason,
    }
}

fn resolve(base: &str, location: &str) -> String {
    match url::Url::parse(base).and_then(|b| b.join(location)) {
        Ok(u) => u.to_string(),
        Err(_) => location.to_string(),
    }
}

/// Whether an answer is a rate limit, and until when. GitHub answers 403
/// or 429: the primary limit with `X-RateLimit-Remaining: 0` (wait for
/// `X-RateLimit-Reset`), a secondary limit with `Retry-After` (or, without
/// either, a minute at least, as GitHub's documentation asks).
fn limited_until(status: StatusCode, h: &HeaderMap, limit: RateLimit, now: i64) -> Option<i64> {
    if status != StatusCode::FORBIDDEN && status != StatusCode::TOO_MANY_REQUESTS {
        return None;
    }
    let retry_after = h
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<i64>().ok());
    if let Some(secs) = retry_after {
        return Some(now + secs.max(1));
    }
    if limit.remaining == Some(0) {
        return Some(limit.reset_at.unwrap_or(now + 60).max(now + 1));
    }
    // 429 is always a limit; a bare 403 is a limit only when it says so
    // (otherwise it is a refusal, e.g. a bad token's scope).
    (status == StatusCode::TOO_MANY_REQUESTS).then_some(now + 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repo_paths() {
        assert_eq!(
            repo_path("https://github.com/huggingface/transformers").as_deref(),
            Some("huggingface/transformers")
        );
        assert_eq!(
            repo_path("https://github.com/a-b/c.d.git/tree/main").as_deref(),
            Some("a-b/c.d")
        );
        assert_eq!(repo_path("https://gitlab.com/a/b"), None);
        assert_eq!(repo_path("https://github.com/only-owner"), None);
        assert_eq!(repo_path("https://github.com/a/b%2F..%2Fx"), None);
    }
}

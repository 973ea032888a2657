//! HTTP with arXiv's etiquette: at most one request per interval to a host,
//! a User-Agent naming the instance and a contact, `Retry-After` honoured,
//! exponential backoff with jitter on network errors and 5xx, bounded
//! retries, then an error naming the URL.

use std::collections::HashMap;
use std::time::Duration;

use rand::Rng;
use tokio::sync::Mutex;
use tokio::time::Instant;

#[derive(Debug, Clone)]
pub struct ClientSettings {
    pub user_agent: String,
    /// Spacing between two requests to one host.
    pub min_interval: Duration,
    /// Attempts after the first one.
    pub max_retries: u32,
    /// First backoff step; doubles each retry, plus up to 50 % jitter.
    pub backoff_base: Duration,
    /// Longest `Retry-After` we are willing to wait.
    pub max_retry_after: Duration,
    pub timeout: Duration,
}

impl ClientSettings {
    pub fn new(instance_name: &str, contact_email: &str, base_url: &str) -> Self {
        let contact = if contact_email.is_empty() {
            String::new()
        } else {
            format!("; mailto:{contact_email}")
        };
        ClientSettings {
            user_agent: format!(
                "Paperboy/{} ({instance_name}; {base_url}{contact})",
                env!("CARGO_PKG_VERSION")
            ),
            min_interval: Duration::from_secs(3),
            max_retries: 5,
            backoff_base: Duration::from_secs(2),
            max_retry_after: Duration::from_secs(600),
            timeout: Duration::from_secs(120),
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error("{url}: HTTP {status}: {detail}")]
    Status {
        url: String,
        status: u16,
        detail: String,
    },
    #[error("{url}: {reason} (gave up after {attempts} attempts)")]
    GaveUp {
        url: String,
        reason: String,
        attempts: u32,
    },
    #[error("cannot build HTTP client: {0}")]
    Setup(String),
}

/// What one GET of a page came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    Body {
        /// The body's bytes (HTML, or an e-print's archive).
        body: Vec<u8>,
        /// The server's `Last-Modified`, to send back next time.
        last_modified: Option<String>,
    },
    /// Unchanged since the date sent.
    NotModified,
    /// 404 or 410: there is no such page.
    Missing,
    /// Larger than the caller reads (at least this many bytes).
    TooLarge { bytes: usize },
    /// Refused for now (403, 429, 5xx …): ask again later, after
    /// `Retry-After` when the server gave one.
    Refused {
        status: u16,
        retry_after: Option<Duration>,
    },
}

pub struct PoliteClient {
    http: reqwest::Client,
    settings: ClientSettings,
    last_request: Mutex<HashMap<String, Instant>>,
}

/// What one attempt came to.
enum Attempt {
    Done(String),
    /// Retry after at least this long.
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    Fail(FetchError),
}

fn host_of(url: &str) -> String {
    reqwest::Url::parse(url)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| format!("{h}:{}", u.port_or_known_default().unwrap_or(0)))
        })
        .unwrap_or_default()
}

/// `Retry-After` as seconds or an HTTP date.
fn retry_after(value: &str) -> Option<Duration> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    let secs = (when.timestamp() - chrono::Utc::now().timestamp()).max(0) as u64;
    Some(Duration::from_secs(secs))
}

impl PoliteClient {
    pub fn new(settings: ClientSettings) -> Result<Self, FetchError> {
        let http = reqwest::Client::builder()
            .user_agent(settings.user_agent.clone())
            .timeout(settings.timeout)
            .build()
            .map_err(|e| FetchError::Setup(e.to_string()))?;
        Ok(PoliteClient {
            http,
            settings,
            last_request: Mutex::new(HashMap::new()),
        })
    }

    pub fn settings(&self) -> &ClientSettings {
        &self.settings
    }

    /// Waits until this host may be asked again, then marks it asked.
    async fn wait_turn(&self, host: &str, extra: Option<Duration>) {
        let mut last = self.last_request.lock().await;
        let now = Instant::now();
        let mut ready = last
            .get(host)
            .map(|t| *t + self.settings.min_interval)
            .unwrap_or(now);
        if let Some(extra) = extra {
            ready = ready.max(now + extra);
        }
        if ready > now {
            tokio::time::sleep_until(ready).await;
        }
        last.insert(host.to_string(), Instant::now());
    }

    async fn attempt(&self, url: &str) -> Attempt {
        let resp = match self.http.get(url).send().await {
            Ok(r) => r,
            Err(e) => {
                return Attempt::Retry {
                    reason: format!("request failed: {e}"),
                    after: None,
                }
            }
        };
        let status = resp.status();
        if status.is_success() {
            return match resp.text().await {
                Ok(body) => Attempt::Done(body),
                Err(e) => Attempt::Retry {
                    reason: format!("reading the body failed: {e}"),
                    after: None,
                },
            };
        }
        let after = resp
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(retry_after);
        if status.as_u16() == 503 || status.as_u16() == 429 || status.is_server_error() {
            if let Some(a) = after {
                if a > self.settings.max_retry_after {
                    return Attempt::Fail(FetchError::Status {
                        url: url.to_string(),
                        status: status.as_u16(),
                        detail: format!(
                            "asked to retry after {}s, longer than we wait",
                            a.as_secs()
                        ),
                    });
                }
            }
            return Attempt::Retry {
                reason: format!("HTTP {status}"),
                after,
            };
        }
        let body = resp.text().await.unwrap_or_default();
        let detail: String = body.chars().take(200).collect();
        Attempt::Fail(FetchError::Status {
            url: url.to_string(),
            status: status.as_u16(),
            detail,
        })
    }

    /// GETs `url` as text, politely and with retries.
    pub async fn get_text(&self, url: &str) -> Result<String, FetchError> {
        let host = host_of(url);
        let mut extra = None;
        let mut attempts = 0;
        loop {
            self.wait_turn(&host, extra).await;
            attempts += 1;
            tracing::debug!(url, attempts, "GET");
            match self.attempt(url).await {
                Attempt::Done(body) => return Ok(body),
                Attempt::Fail(e) => return Err(e),
                Attempt::Retry { reason, after } => {
                    if attempts > self.settings.max_retries {
                        return Err(FetchError::GaveUp {
                            url: url.to_string(),
                            reason,
                            attempts,
                        });
                    }
                    extra = Some(after.unwrap_or_else(|| self.backoff(attempts)));
                    tracing::warn!(url, %reason, wait_ms = extra.map(|d| d.as_millis() as u64), "retrying");
                }
            }
        }
    }

    /// One GET of a page, in turn with every other request to its host and
    /// without retries (the caller decides when to ask again): the body up
    /// to `max_bytes`, `If-Modified-Since` sent when given.
    pub async fn get_page(
        &self,
        url: &str,
        if_modified_since: Option<&str>,
        max_bytes: usize,
    ) -> Result<Page, FetchError> {
        self.wait_turn(&host_of(url), None).await;
        tracing::debug!(url, "GET page");
        let mut req = self.http.get(url);
        if let Some(since) = if_modified_since {
            req = req.header(reqwest::header::IF_MODIFIED_SINCE, since);
        }
        let gave_up = |reason: String| FetchError::GaveUp {
            url: url.to_string(),
            reason,
            attempts: 1,
        };
        let mut resp = req
            .send()
            .await
            .map_err(|e| gave_up(format!("request failed: {e}")))?;
        let status = resp.status().as_u16();
        let header = |name| {
            resp.headers()
                .get(name)
                .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                .map(str::to_string)
        };
        let last_modified = header(reqwest::header::LAST_MODIFIED);
        let wait = header(reqwest::header::RETRY_AFTER).and_then(|v| retry_after(&v));
        match status {
            200 => {}
            304 => return Ok(Page::NotModified),
            404 | 410 => return Ok(Page::Missing),
            _ => {
                return Ok(Page::Refused {
                    status,
                    retry_after: wait,
                })
            }
        }
        if let Some(len) = resp.content_length() {
            if len as usize > max_bytes {
                return Ok(Page::TooLarge {
                    bytes: len as usize,
                });
            }
        }
        let mut body = Vec::new();
        while let Some(chunk) = resp
            .chunk()
            .await
            .map_err(|e| gave_up(format!("reading the body failed: {e}")))?
        {
            if body.len() + chunk.len() > max_bytes {
                return Ok(Page::TooLarge {
                    bytes: body.len() + chunk.len(),
                });
            }
            body.extend_from_slice(&chunk);
        }
        Ok(Page::Body {
            body,
            last_modified,
        })
    }

    /// Exponential backoff with up to 50 % jitter for retry `n` (1-based).
    pub fn backoff(&self, n: u32) -> Duration {
        let base = self
            .settings
            .backoff_base
            .saturating_mul(1 << (n.saturating_sub(1)).min(10));
        let jitter = rand::thread_rng().gen_range(0.0..0.5);
        base.mul_f64(1.0 + jitter)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        assert_eq!(retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(
            retry_after("Wed, 21 Oct 2015 07:28:00 GMT"),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after("soon"), None);
    }

    #[test]
    fn backoff_doubles_with_bounded_jitter() {
        let mut s = ClientSettings::new("test", "", "http://x");
        s.backoff_base = Duration::from_millis(100);
        let c = PoliteClient::new(s).unwrap();
        for n in 1..=4 {
            let d = c.backoff(n).as_millis() as u64;
            let base = 100 << (n - 1);
            assert!(d >= base && d <= base * 3 / 2, "retry {n}: {d}ms");
        }
    }
}

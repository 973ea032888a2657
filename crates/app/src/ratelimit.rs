//! Fixed-window rate limits per action and client. On PostgreSQL, where
//! several nodes share the work, they are counted in the store, so a
//! client gets its allowance once however many nodes a balancer spreads it
//! over; on SQLite (one node) in memory, saving a write per action.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::AppError;

#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub max: u32,
    pub window: Duration,
}

#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub signup: Limit,
    pub login: Limit,
    pub vote: Limit,
    pub submit: Limit,
    pub subscribe: Limit,
}

impl Default for Limits {
    fn default() -> Self {
        let per = |max, secs| Limit {
            max,
            window: Duration::from_secs(secs),
        };
        Limits {
            signup: per(20, 600),
            login: per(30, 60),
            vote: per(120, 60),
            submit: per(30, 3600),
            subscribe: per(20, 3600),
        }
    }
}

/// When a window started and how many actions it has counted.
type Window = (Instant, u32);

#[derive(Default)]
pub struct RateLimiter {
    windows: Mutex<HashMap<(&'static str, String), Window>>,
}

/// 429 with the wait.
fn limited(action: &str, wait_secs: u64) -> AppError {
    let wait = wait_secs.max(1);
    AppError::RateLimited {
        message: format!("too many {action} attempts; try again in {wait} s"),
        retry_after_secs: wait,
    }
}

impl crate::App {
    /// Counts one `action` by `key` against `limit`: in the store when
    /// nodes share it (PostgreSQL), in this node's memory otherwise; 429
    /// with the wait when over the limit.
    pub(crate) async fn limit(
        &self,
        action: &'static str,
        key: &str,
        limit: Limit,
    ) -> Result<(), AppError> {
        if self.store.backend() != "postgres" {
            return self.limiter.check(action, key, limit);
        }
        let window = limit.window.as_secs().max(1) as i64;
        let now = chrono::Utc::now().timestamp();
        let start = now - now.rem_euclid(window);
        let n = self
            .store
            .count_action(&format!("{action}:{key}"), start, start + window)
            .await?;
        if n > i64::from(limit.max) {
            return Err(limited(action, (start + window - now) as u64));
        }
        Ok(())
    }
}

impl RateLimiter {
    /// Counts one `action` by `key`; 429 with the wait when over the limit.
    pub fn check(&self, action: &'static str, key: &str, limit: Limit) -> Result<(), AppError> {
        let now = Instant::now();
        let mut w = self.windows.lock().unwrap_or_else(|p| p.into_inner());
        if w.len() > 100_000 {
            w.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(3600));
        }
        let entry = w.entry((action, key.to_string())).or_insert((now, 0));
        if now.duration_since(entry.0) >= limit.window {
            *entry = (now, 0);
        }
        if entry.1 >= limit.max {
            let wait = limit.window.saturating_sub(now.duration_since(entry.0));
            return Err(limited(action, wait.as_secs()));
        }
        entry.1 += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_per_key_and_window() {
        let r = RateLimiter::default();
        let l = Limit {
            max: 2,
            window: Duration::from_secs(60),
        };
        assert!(r.check("vote", "a", l).is_ok());
        assert!(r.check("vote", "a", l).is_ok());
        assert!(matches!(
            r.check("vote", "a", l),
            Err(AppError::RateLimited { .. })
        ));
        assert!(
            r.check("vote", "b", l).is_ok(),
            "other clients are not affected"
        );
        let short = Limit {
            max: 1,
            window: Duration::ZERO,
        };
        assert!(r.check("login", "a", short).is_ok());
        assert!(r.check("login", "a", short).is_ok(), "a new window starts");
    }
}

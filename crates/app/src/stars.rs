//! The GitHub star tracker: which linked repositories to ask about, when,
//! and within what budget. Only the scheduler's lease holder runs it.
//!
//! Planning. Every tracked repository gets a snapshot a day at least;
//! repositories of recent papers (first version in the last 14 days) and
//! of the top of the trending list are asked more often, every 6 hours.
//! The hourly budget (5,000 requests with a token, 60 without, as GitHub
//! grants) is spent to 90 %, keeping the rest for retries; when the
//! schedule needs more, the intervals stretch (recent repositories take
//! at most half the budget). Conditional requests make unchanged counts
//! free (a 304 costs no quota), but the plan does not count on it.
//!
//! Answers. A 304 records today's snapshot at the known count; a 301 is
//! followed and the new place kept; a 404 marks the repository gone; a rate
//! limit (403/429 with `X-RateLimit-Remaining: 0` or `Retry-After`) pauses
//! the tracker until the time GitHub names, leaving the repository due; a
//! 5xx or a cut-off answer is retried at once (twice, within the budget),
//! then later with a growing delay. No answer ever removes a snapshot.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_store::{RepoStatus, TrackedRepo};
use tokio::sync::Mutex;

use crate::{App, AppError};

/// Where star counts come from (GitHub's REST API in production: the
/// adapter is in `paperboy-adapters`).
#[async_trait]
pub trait StarSource: Send + Sync {
    /// Asks about the repository at `url` (with the ETag of the last
    /// answer), and what the answer's rate-limit headers said.
    async fn repo(
        &self,
        url: &str,
        etag: Option<&str>,
        now: i64,
    ) -> (Result<Answer, StarError>, RateLimit);
}

/// What the source said about a repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The count now. `html_url` differs from the asked one when the
    /// repository was renamed or transferred.
    Stars {
        stars: i64,
        etag: Option<String>,
        html_url: String,
        moved: bool,
    },
    /// Unchanged since the ETag sent.
    NotModified,
    /// Deleted, made private or blocked.
    Gone,
}

/// Why the source gave no answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StarError {
    /// No request before `until` (unix seconds).
    #[error("GitHub rate limit reached; next request allowed at {until} (unix)")]
    RateLimited { until: i64 },
    /// Worth another try soon (a 5xx, a network error, a cut-off answer);
    /// the message names the URL.
    #[error("{0}")]
    Transient(String),
    /// Not worth asking again soon (a refusal, a link that is no
    /// repository); the message names the URL.
    #[error("{0}")]
    Refused(String),
}

/// What an answer's rate-limit headers said.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RateLimit {
    /// Requests allowed per window.
    pub limit: Option<i64>,
    pub remaining: Option<i64>,
    /// When the window starts over (unix seconds).
    pub reset_at: Option<i64>,
}

const HOUR: i64 = 3600;
const DAY: i64 = 24 * HOUR;
/// Papers this recent have their repositories asked about most often.
pub const RECENT_DAYS: i64 = 14;
/// Trending papers at the top of the list are asked about as often.
pub const TRENDING_TOP: u32 = 100;
const HOT_EVERY: i64 = 6 * HOUR;
/// Newly linked repositories are picked up this often (seconds).
const TRACK_EVERY: i64 = 300;
const DAILY: i64 = DAY;
/// Share of the hourly budget the plan spends (the rest is for retries).
const PLANNED_SHARE: f64 = 0.9;
/// Immediate retries of a 5xx or cut-off answer within one step.
const RETRIES: u32 = 2;
/// Pause when GitHub says fewer than this share of the window remains.
const RESERVE_SHARE: f64 = 0.02;

/// How often each kind of repository is asked about.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Plan {
    pub budget_per_hour: u32,
    pub hot: u64,
    pub other: u64,
    /// Seconds between two asks of a recent or trending repository.
    pub hot_every: i64,
    /// Seconds between two asks of any other repository.
    pub other_every: i64,
}

impl Plan {
    /// Fits the intervals to the budget.
    pub fn new(hot: u64, other: u64, budget_per_hour: u32) -> Plan {
        let usable = (f64::from(budget_per_hour) * PLANNED_SHARE).max(1.0);
        // Requests an hour = count / interval-in-hours.
        let hot_hours = (HOT_EVERY as f64 / HOUR as f64).max(hot as f64 / (usable / 2.0));
        let left = (usable - hot as f64 / hot_hours).max(usable / 2.0);
        let other_hours = (DAILY as f64 / HOUR as f64).max(other as f64 / left);
        Plan {
            budget_per_hour,
            hot,
            other,
            hot_every: (hot_hours * HOUR as f64).ceil() as i64,
            other_every: (other_hours * HOUR as f64).ceil() as i64,
        }
    }

    /// Requests an hour the plan spends once every repository has a count.
    pub fn steady_per_hour(&self) -> f64 {
        self.hot as f64 * HOUR as f64 / self.hot_every as f64
            + self.other as f64 * HOUR as f64 / self.other_every as f64
    }

    /// Hours until every repository has been asked about once, from none.
    pub fn first_pass_hours(&self) -> f64 {
        (self.hot + self.other) as f64 / (f64::from(self.budget_per_hour) * PLANNED_SHARE).max(1.0)
    }
}

impl std::fmt::Display for Plan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} recent or trending repositories every {:.1} h, {} others every {:.1} h; \
             {:.0} requests/hour at steady state of {}; a first pass takes {:.1} h",
            self.hot,
            self.hot_every as f64 / HOUR as f64,
            self.other,
            self.other_every as f64 / HOUR as f64,
            self.steady_per_hour(),
            self.budget_per_hour,
            self.first_pass_hours()
        )
    }
}

/// What one step did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StarStep {
    /// Requests that spent quota (every answer but a 304).
    pub spent: u32,
    pub updated: u32,
    pub unchanged: u32,
    pub moved: u32,
    pub gone: u32,
    pub failed: u32,
    /// Stopped by a rate limit (paused until GitHub's time).
    pub rate_limited: bool,
}

struct TrackerState {
    /// When quota-spending requests were made in the last hour.
    spent_at: VecDeque<i64>,
    paused_until: i64,
    plan: Option<Plan>,
    planned_at: Option<i64>,
    tracked_at: Option<i64>,
    /// Repositories of the trending list's top, asked about often.
    trending: HashSet<String>,
}

/// The tracker: a source, a budget, and the state of the current hour.
pub struct StarTracker {
    pub source: Arc<dyn StarSource>,
    pub budget_per_hour: u32,
    state: Mutex<TrackerState>,
}

impl StarTracker {
    pub fn new(source: Arc<dyn StarSource>, budget_per_hour: u32) -> Self {
        StarTracker {
            source,
            budget_per_hour: budget_per_hour.max(1),
            state: Mutex::new(TrackerState {
                spent_at: VecDeque::new(),
                paused_until: 0,
                plan: None,
                planned_at: None,
                tracked_at: None,
                trending: HashSet::new(),
            }),
        }
    }

    /// The plan now in force (after the first step).
    pub async fn plan(&self) -> Option<Plan> {
        self.state.lock().await.plan
    }

    /// Until when a rate limit pauses the tracker (unix s; 0: not paused).
    pub async fn paused_until(&self) -> i64 {
        self.state.lock().await.paused_until
    }
}

fn day_of(now: i64) -> String {
    DateTime::<Utc>::from_timestamp(now, 0)
        .unwrap_or_default()
        .format("%Y-%m-%d")
        .to_string()
}

/// How long to wait after the `failures`-th failure in a row: 5 minutes,
/// doubling, at most a day.
fn backoff(failures: i64) -> i64 {
    (300_i64 << failures.clamp(0, 9)).min(DAY)
}

impl App {
    /// Tracked repositories by status.
    pub async fn repo_counts(&self) -> Result<Vec<(String, i64)>, AppError> {
        Ok(self.store.repo_counts().await?)
    }

    /// One step of the star tracker at `now` (the scheduler runs one a
    /// minute): tracks newly linked repositories every five minutes,
    /// re-plans hourly, then asks about the repositories due, as many as
    /// the hour's budget has left and at most a minute's share and a
    /// quarter, so the budget spreads across the hour.
    pub async fn refresh_stars(&self, now: i64) -> Result<StarStep, AppError> {
        let Some(tracker) = self.stars.clone() else {
            return Err(AppError::NotConfigured(
                "the GitHub star tracker is not set up on this instance".into(),
            ));
        };
        let mut st = tracker.state.lock().await;
        let mut step = StarStep::default();
        if now < st.paused_until {
            step.rate_limited = true;
            return Ok(step);
        }
        let stale = |at: Option<i64>, every: i64| at.is_none_or(|t| now - t >= every || now < t);
        if stale(st.tracked_at, TRACK_EVERY) {
            // Links of papers imported or harvested since.
            while self.store.track_linked_repos(10_000).await? > 0 {}
            st.tracked_at = Some(now);
        }
        if stale(st.planned_at, HOUR) {
            self.replan(&tracker, &mut st, now).await?;
        }
        let Some(plan) = st.plan else { return Ok(step) };
        while st.spent_at.front().is_some_and(|t| *t <= now - HOUR) {
            st.spent_at.pop_front();
        }
        let hourly = (f64::from(tracker.budget_per_hour) * PLANNED_SHARE).floor() as usize;
        // A minute's share and a quarter more: spread over the hour, with
        // room to catch up after a pause.
        let per_step = (hourly * 5 / 4).div_ceil(60).max(1);
        let allowed = hourly.saturating_sub(st.spent_at.len()).min(per_step);
        if allowed == 0 {
            return Ok(step);
        }
        let due = self.store.due_repos(now, allowed as u32).await?;
        let mut requests = 0usize;
        'repos: for repo in due {
            let mut attempt = 0;
            loop {
                if requests >= allowed {
                    break 'repos;
                }
                requests += 1;
                let ask = repo.moved_to.as_deref().unwrap_or(&repo.url);
                let (answer, limit) = tracker.source.repo(ask, repo.etag.as_deref(), now).await;
                if !matches!(answer, Ok(Answer::NotModified)) {
                    st.spent_at.push_back(now);
                    step.spent += 1;
                }
                if let Some(until) = low_on_quota(&limit, now) {
                    st.paused_until = st.paused_until.max(until);
                }
                let every = if st.trending.contains(&repo.url) || is_recent(&repo, now) {
                    plan.hot_every
                } else {
                    plan.other_every
                };
                match answer {
                    Err(StarError::Transient(reason)) if attempt < RETRIES => {
                        tracing::debug!(%reason, "GitHub answer unusable; asking again");
                        attempt += 1;
                        continue;
                    }
                    Err(StarError::RateLimited { until }) => {
                        st.paused_until = st.paused_until.max(until);
                        step.rate_limited = true;
                        tracing::info!(until, "GitHub rate limit: star tracker paused");
                        break 'repos;
                    }
                    answer => self.record(&repo, answer, now, every, &mut step).await?,
                }
                break;
            }
            if now < st.paused_until {
                step.rate_limited = true;
                break;
            }
        }
        Ok(step)
    }

    async fn replan(
        &self,
        tracker: &StarTracker,
        st: &mut TrackerState,
        now: i64,
    ) -> Result<(), AppError> {
        let counts = self.store.repo_counts().await?;
        let live: i64 = counts
            .iter()
            .filter(|(s, _)| s != RepoStatus::Gone.as_str())
            .map(|(_, n)| n)
            .sum();
        let recent = self
            .store
            .recent_repo_count(now - RECENT_DAYS * DAY)
            .await?;
        st.trending = self
            .store
            .trending_papers(0, TRENDING_TOP)
            .await?
            .iter()
            .filter_map(|l| l.stored.github_repo().map(str::to_string))
            .collect();
        let hot = recent + st.trending.len() as u64;
        let live = live.max(0) as u64;
        let plan = Plan::new(
            hot.min(live),
            live.saturating_sub(hot),
            tracker.budget_per_hour,
        );
        tracing::info!(
            repositories = live,
            recent_or_trending = plan.hot,
            hot_every_h = plan.hot_every as f64 / HOUR as f64,
            other_every_h = plan.other_every as f64 / HOUR as f64,
            "star tracker planned"
        );
        st.plan = Some(plan);
        st.planned_at = Some(now);
        Ok(())
    }

    async fn record(
        &self,
        repo: &TrackedRepo,
        answer: Result<Answer, StarError>,
        now: i64,
        every: i64,
        step: &mut StarStep,
    ) -> Result<(), AppError> {
        let day = day_of(now);
        match answer {
            Ok(Answer::Stars {
                stars,
                etag,
                html_url,
                moved,
            }) => {
                let moved_to = (moved || repo.moved_to.is_some()).then_some(html_url.as_str());
                if moved && repo.moved_to.as_deref() != Some(&html_url) {
                    step.moved += 1;
                }
                self.store
                    .record_stars(
                        &repo.url,
                        stars,
                        etag.as_deref(),
                        moved_to,
                        &day,
                        now + every,
                    )
                    .await?;
                step.updated += 1;
            }
            Ok(Answer::NotModified) => {
                let stars = repo.stars.unwrap_or(0);
                self.store
                    .record_stars(
                        &repo.url,
                        stars,
                        None,
                        repo.moved_to.as_deref(),
                        &day,
                        now + every,
                    )
                    .await?;
                step.unchanged += 1;
            }
            Ok(Answer::Gone) => {
                self.store.record_gone(&repo.url).await?;
                step.gone += 1;
            }
            Err(e) => {
                let wait = match e {
                    StarError::Transient(_) => backoff(repo.failures),
                    // Not worth asking again soon.
                    _ => DAY.max(backoff(repo.failures)),
                };
                tracing::warn!(url = %repo.url, error = %e, "star count not fetched");
                self.store
                    .record_fetch_failure(&repo.url, &e.to_string(), now + wait)
                    .await?;
                step.failed += 1;
            }
        }
        Ok(())
    }
}

fn is_recent(repo: &TrackedRepo, now: i64) -> bool {
    repo.newest_paper_at
        .is_some_and(|t| t >= now - RECENT_DAYS * DAY)
}

/// Pause when GitHub says the window is nearly spent: until its reset.
fn low_on_quota(limit: &RateLimit, now: i64) -> Option<i64> {
    let (Some(remaining), Some(total)) = (limit.remaining, limit.limit) else {
        return None;
    };
    let reserve = (total as f64 * RESERVE_SHARE).ceil() as i64;
    (remaining <= reserve).then(|| limit.reset_at.unwrap_or(now + 60).max(now + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plan_fits_the_budget() {
        // 100,000 repositories, 5,000 of them recent, 5,000 requests/hour.
        let p = Plan::new(5_000, 95_000, 5_000);
        assert!(p.steady_per_hour() <= 5_000.0 * PLANNED_SHARE + 1.0);
        assert_eq!(p.hot_every, 6 * HOUR);
        assert!(p.other_every >= DAY);
        // A small instance: everything daily, recent ones every 6 hours.
        let small = Plan::new(10, 200, 5_000);
        assert_eq!((small.hot_every, small.other_every), (6 * HOUR, DAY));
        // Without a token (60/hour) 10,000 repositories stretch to weeks.
        let poor = Plan::new(100, 9_900, 60);
        assert!(poor.steady_per_hour() <= 60.0 * PLANNED_SHARE + 0.01);
        assert!(poor.other_every > 7 * DAY);
    }

    #[test]
    fn backoff_grows_and_stops_at_a_day() {
        assert_eq!(backoff(0), 300);
        assert_eq!(backoff(1), 600);
        assert_eq!(backoff(20), DAY);
    }

    #[test]
    fn a_nearly_spent_window_pauses_until_reset() {
        let l = RateLimit {
            limit: Some(5000),
            remaining: Some(50),
            reset_at: Some(2_000),
        };
        assert_eq!(low_on_quota(&l, 1_000), Some(2_000));
        let ok = RateLimit {
            remaining: Some(4000),
            ..l
        };
        assert_eq!(low_on_quota(&ok, 1_000), None);
    }
}

//! GitHub repositories linked from papers and their stars, day by day.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::StoreError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RepoStatus {
    /// Never fetched.
    New,
    Ok,
    /// Renamed or transferred: `moved_to` names the new place.
    Moved,
    /// Deleted or made private (404).
    Gone,
}

impl RepoStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            RepoStatus::New => "new",
            RepoStatus::Ok => "ok",
            RepoStatus::Moved => "moved",
            RepoStatus::Gone => "gone",
        }
    }

    pub fn parse(s: &str) -> RepoStatus {
        match s {
            "ok" => RepoStatus::Ok,
            "moved" => RepoStatus::Moved,
            "gone" => RepoStatus::Gone,
            _ => RepoStatus::New,
        }
    }
}

/// A tracked repository, as the star tracker plans with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedRepo {
    /// `https://github.com/owner/name`, as papers link it.
    pub url: String,
    pub etag: Option<String>,
    pub stars: Option<i64>,
    pub status: RepoStatus,
    pub moved_to: Option<String>,
    pub fetched_at: Option<DateTime<Utc>>,
    pub failures: i64,
    /// The newest first-version date of the papers linking it (unix s).
    pub newest_paper_at: Option<i64>,
}

#[async_trait]
pub trait StarStore: Send + Sync + 'static {
    /// Starts tracking repositories papers link that are not tracked yet
    /// (at most `limit`); how many.
    async fn track_linked_repos(&self, limit: u32) -> Result<u64, StoreError>;
    /// Repositories due at `now`: never fetched first (the newest papers'
    /// first), then the longest due.
    async fn due_repos(&self, now: i64, limit: u32) -> Result<Vec<TrackedRepo>, StoreError>;
    async fn tracked_repo(&self, url: &str) -> Result<TrackedRepo, StoreError>;
    /// Records a fetch: the count (today's snapshot, the papers linking the
    /// repository), its ETag, where it moved, when to look again.
    async fn record_stars(
        &self,
        url: &str,
        stars: i64,
        etag: Option<&str>,
        moved_to: Option<&str>,
        day: &str,
        next_fetch_at: i64,
    ) -> Result<(), StoreError>;
    /// The repository is gone (404): no more fetches.
    async fn record_gone(&self, url: &str) -> Result<(), StoreError>;
    /// A failed fetch (kept snapshots stay): try again at `next_fetch_at`.
    async fn record_fetch_failure(
        &self,
        url: &str,
        error: &str,
        next_fetch_at: i64,
    ) -> Result<(), StoreError>;
    /// The snapshots of a repository, oldest first: (day, stars).
    async fn star_history(&self, url: &str) -> Result<Vec<(String, i64)>, StoreError>;
    /// Tracked repositories (not gone) that a paper first published at or
    /// after `since` (unix s) links: the ones refreshed most often.
    async fn recent_repo_count(&self, since: i64) -> Result<u64, StoreError>;
    /// Tracked repositories by status.
    async fn repo_counts(&self) -> Result<Vec<(String, i64)>, StoreError>;
}

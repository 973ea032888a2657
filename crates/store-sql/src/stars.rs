//! GitHub repositories linked from papers, and their daily star snapshots.

use std::sync::LazyLock;

use async_trait::async_trait;
use paperboy_store::{RepoStatus, StarStore, StoreError, TrackedRepo};

use crate::columns::ts;
use crate::conn::{Sql, SqlRow};
use crate::{args, Backend, SqlStore};

/// Repositories papers link (the author's choice or the metadata's) that
/// are not tracked yet. A new repository is due at once, with
/// `next_fetch_at` = −(first-version date of its newest paper): due before
/// anything already fetched, and the newest papers' repositories first,
/// served by the index on `next_fetch_at` alone.
static TRACK: Sql = Sql::new(
    "INSERT INTO github_repos (url, next_fetch_at)
     SELECT l.url, -max(l.published_at) FROM (
        SELECT COALESCE(claimed_github_repo, github_repo) AS url, published_at FROM papers
        WHERE deleted_at IS NULL AND COALESCE(claimed_github_repo, github_repo) IS NOT NULL
     ) l
     WHERE NOT EXISTS (SELECT 1 FROM github_repos g WHERE g.url = l.url)
     GROUP BY l.url
     LIMIT $1
     ON CONFLICT (url) DO NOTHING",
);
const REPO_SELECT: &str = "SELECT g.url, g.etag, g.stars, g.status, g.moved_to, g.fetched_at, \
    g.failures, (SELECT max(p.published_at) FROM papers p \
        WHERE p.github_repo = g.url OR p.claimed_github_repo = g.url) FROM github_repos g";
static DUE: LazyLock<Sql> = LazyLock::new(|| {
    Sql::owned(format!(
        "{REPO_SELECT} WHERE g.next_fetch_at <= $1 AND g.status != 'gone'
         ORDER BY g.next_fetch_at LIMIT $2"
    ))
});
static REPO: LazyLock<Sql> =
    LazyLock::new(|| Sql::owned(format!("{REPO_SELECT} WHERE g.url = $1")));
static RECORD: Sql = Sql::new(
    "UPDATE github_repos SET stars = $2, etag = COALESCE($3, etag), moved_to = $4,
        status = CASE WHEN CAST($4 AS TEXT) IS NULL THEN 'ok' ELSE 'moved' END,
        fetched_at = $5, next_fetch_at = $6, failures = 0, last_error = NULL
     WHERE url = $1",
);
static SNAPSHOT: Sql = Sql::new(
    "INSERT INTO github_star_snapshots (url, day, stars) VALUES ($1, $2, $3)
     ON CONFLICT (url, day) DO UPDATE SET stars = EXCLUDED.stars",
);
static PAPERS_STARS: Sql = Sql::new(
    "UPDATE papers SET github_stars = $2
     WHERE COALESCE(claimed_github_repo, github_repo) = $1
        AND (github_repo = $1 OR claimed_github_repo = $1)",
);
static GONE: Sql = Sql::new(
    "UPDATE github_repos SET status = 'gone', fetched_at = $2, last_error = 'not found'
     WHERE url = $1",
);
static FAILED: Sql = Sql::new(
    "UPDATE github_repos SET failures = failures + 1, last_error = $2, next_fetch_at = $3
     WHERE url = $1",
);
static HISTORY: Sql =
    Sql::new("SELECT day, stars FROM github_star_snapshots WHERE url = $1 ORDER BY day");
static RECENT_COUNT: Sql = Sql::new(
    "SELECT count(*) FROM github_repos g WHERE g.status != 'gone' AND EXISTS (
        SELECT 1 FROM papers p WHERE (p.github_repo = g.url OR p.claimed_github_repo = g.url)
        AND p.published_at >= $1 AND p.deleted_at IS NULL)",
);
static COUNTS: Sql =
    Sql::new("SELECT status, count(*) FROM github_repos GROUP BY status ORDER BY status");

fn repo(r: &dyn SqlRow) -> Result<TrackedRepo, StoreError> {
    Ok(TrackedRepo {
        url: r.text(0)?,
        etag: r.opt_text(1)?,
        stars: r.opt_i64(2)?,
        status: RepoStatus::parse(&r.text(3)?),
        moved_to: r.opt_text(4)?,
        fetched_at: r.opt_i64(5)?.map(ts),
        failures: r.i64(6)?,
        newest_paper_at: r.opt_i64(7)?,
    })
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[async_trait]
impl<B: Backend> StarStore for SqlStore<B> {
    async fn track_linked_repos(&self, limit: u32) -> Result<u64, StoreError> {
        on!(self, write, |c| { c.execute(&TRACK, args![limit]).await })
    }

    async fn due_repos(&self, now: i64, limit: u32) -> Result<Vec<TrackedRepo>, StoreError> {
        on!(self, read, |c| {
            c.all(&DUE, args![now, limit], repo).await
        })
    }

    async fn tracked_repo(&self, url: &str) -> Result<TrackedRepo, StoreError> {
        let url = url.to_string();
        on!(self, read, |c| { c.one(&REPO, args![&url], repo).await })
    }

    async fn record_stars(
        &self,
        url: &str,
        stars: i64,
        etag: Option<&str>,
        moved_to: Option<&str>,
        day: &str,
        next_fetch_at: i64,
    ) -> Result<(), StoreError> {
        let (url, day) = (url.to_string(), day.to_string());
        let (etag, moved) = (etag.map(str::to_string), moved_to.map(str::to_string));
        on!(self, write, |c| {
            let values = args![&url, stars, &etag, &moved, now(), next_fetch_at];
            if c.execute(&RECORD, values).await? == 0 {
                return Err(StoreError::NotFound);
            }
            c.execute(&SNAPSHOT, args![&url, &day, stars]).await?;
            c.execute(&PAPERS_STARS, args![&url, stars]).await?;
            Ok(())
        })
    }

    async fn record_gone(&self, url: &str) -> Result<(), StoreError> {
        let url = url.to_string();
        on!(self, write, |c| {
            c.execute(&GONE, args![&url, now()]).await.map(drop)
        })
    }

    async fn record_fetch_failure(
        &self,
        url: &str,
        error: &str,
        next_fetch_at: i64,
    ) -> Result<(), StoreError> {
        let (url, error) = (url.to_string(), error.to_string());
        on!(self, write, |c| {
            c.execute(&FAILED, args![&url, &error, next_fetch_at])
                .await
                .map(drop)
        })
    }

    async fn star_history(&self, url: &str) -> Result<Vec<(String, i64)>, StoreError> {
        let url = url.to_string();
        on!(self, read, |c| {
            c.all(&HISTORY, args![&url], |r| Ok((r.text(0)?, r.i64(1)?)))
                .await
        })
    }

    async fn recent_repo_count(&self, since: i64) -> Result<u64, StoreError> {
        on!(self, read, |c| {
            Ok(c.scalar(&RECENT_COUNT, args![since]).await?.max(0) as u64)
        })
    }

    async fn repo_counts(&self) -> Result<Vec<(String, i64)>, StoreError> {
        on!(self, read, |c| {
            c.all(&COUNTS, &[], |r| Ok((r.text(0)?, r.i64(1)?))).await
        })
    }
}

//! Votes, the daily list and trending keys.

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{NaiveDate, Utc};
use paperboy_core::{PaperId, UserId};
use paperboy_store::{CommunityStore, DailyEntry, DailySort, ListedPaper, StoreError, TrendingRow};

use crate::columns::{self, day_text, parse_day, ts};
use crate::conn::{Dialect, Sql, SqlRow};
use crate::papers::listed_select;
use crate::{args, Backend, SqlStore};

static ADD_VOTE: Sql = Sql::new(
    "INSERT INTO votes (user_id, paper_id, created_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
);
static REMOVE_VOTE: Sql = Sql::new("DELETE FROM votes WHERE user_id = $1 AND paper_id = $2");
// A vote changes no indexed field (titles, abstracts, authors, dates), so
// it takes no number from the change sequence and does not queue behind
// the sequence's lock (held through whole harvest pages and imports): the
// counter's row lock is all it needs.
static COUNT_VOTE: Sql =
    Sql::new("UPDATE papers SET upvotes = upvotes + $2 WHERE paper_id = $1 RETURNING upvotes");
static UPVOTES: Sql = Sql::new("SELECT upvotes FROM papers WHERE paper_id = $1");
static VOTED: Sql =
    Sql::new("SELECT paper_id FROM votes WHERE user_id = $1 AND paper_id = ANY($2)");
static SUBMIT: Sql = Sql::new(
    "INSERT INTO daily_submissions (paper_id, day, submitted_by, submitted_at) VALUES ($1, $2, $3, $4)",
);
static DAILY_ENTRY: Sql = Sql::new(
    "SELECT d.paper_id, d.day, u.username, d.submitted_at FROM daily_submissions d
     JOIN users u ON u.user_id = d.submitted_by WHERE d.paper_id = $1",
);
static DAILY_BY_TRENDING: LazyLock<Sql> = LazyLock::new(|| {
    listed_select(
        "WHERE d.day >= $1 AND d.day <= $2 AND p.deleted_at IS NULL \
         AND (CAST($5 AS TEXT) IS NULL OR u.username = $5) \
         ORDER BY p.trending_score DESC, p.upvotes DESC, p.published_at DESC, p.paper_id \
         LIMIT $3 OFFSET $4",
    )
});
static DAILY_BY_DATE: LazyLock<Sql> = LazyLock::new(|| {
    listed_select(
        "WHERE d.day >= $1 AND d.day <= $2 AND p.deleted_at IS NULL \
         AND (CAST($5 AS TEXT) IS NULL OR u.username = $5) \
         ORDER BY p.published_at DESC, p.paper_id LIMIT $3 OFFSET $4",
    )
});
static TRENDING: LazyLock<Sql> = LazyLock::new(|| {
    listed_select(
        "WHERE p.deleted_at IS NULL ORDER BY p.trending_score DESC, p.published_at DESC \
         LIMIT $1 OFFSET $2",
    )
});
/// With the stars gained since the window began: the current count less
/// the earliest snapshot on or after its first day.
static TRENDING_ROWS: Sql = Sql::new(
    "SELECT p.paper_id, p.published_at, p.upvotes, p.github_stars, p.categories,
        COALESCE(p.github_stars - (SELECT s.stars FROM github_star_snapshots s
            WHERE s.url = COALESCE(p.claimed_github_repo, p.github_repo) AND s.day >= $2
            ORDER BY s.day LIMIT 1), 0),
        (SELECT count(DISTINCT r.citing_id) FROM paper_references r
            JOIN papers c ON c.paper_id = r.citing_id AND c.deleted_at IS NULL
            WHERE r.cited_id = p.paper_id AND c.published_at >= $3)
     FROM papers p WHERE p.published_at >= $1 AND p.deleted_at IS NULL",
);
static TRENDING_ROW: LazyLock<Sql> = LazyLock::new(|| {
    let all = TRENDING_ROWS.text(Dialect::Postgres);
    let head = all.split(" WHERE p.published_at").next().unwrap_or(all);
    Sql::owned(format!("{head} WHERE p.paper_id = $1"))
});
static SET_SCORE: Sql = Sql::new("UPDATE papers SET trending_score = $2 WHERE paper_id = $1");
/// PostgreSQL: every key in one round trip (it binds arrays).
static SET_SCORES: Sql = Sql::new(
    "UPDATE papers p SET trending_score = u.score
     FROM UNNEST($1::bigint[], $2::float8[]) AS u(id, score) WHERE p.paper_id = u.id",
);
static ZERO_SCORES: Sql = Sql::new(
    "UPDATE papers SET trending_score = 0 WHERE trending_score != 0 AND published_at < $1",
);
static USER_SUBMISSIONS: LazyLock<Sql> = LazyLock::new(|| {
    listed_select("WHERE d.submitted_by = $1 ORDER BY d.submitted_at DESC LIMIT $2")
});
static USER_UPVOTED: LazyLock<Sql> = LazyLock::new(|| {
    listed_select(
        "JOIN votes v ON v.paper_id = p.paper_id WHERE v.user_id = $1 \
         ORDER BY v.created_at DESC LIMIT $2",
    )
});

fn daily_entry(r: &dyn SqlRow) -> Result<DailyEntry, StoreError> {
    Ok(DailyEntry {
        paper_id: PaperId(r.i64(0)?),
        day: parse_day("daily entry", &r.text(1)?)?,
        submitted_by: r.text(2)?,
        submitted_at: ts(r.i64(3)?),
    })
}

fn trending_row(r: &dyn SqlRow) -> Result<TrendingRow, StoreError> {
    let categories = r.text(4)?;
    Ok(TrendingRow {
        paper_id: PaperId(r.i64(0)?),
        published_at: r.i64(1)?,
        upvotes: r.i64(2)?,
        github_stars: r.opt_i64(3)?,
        star_growth: r.i64(5)?.max(0),
        new_citations: r.i64(6)?.max(0),
        primary_category: categories
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_string(),
    })
}

#[async_trait]
impl<B: Backend> CommunityStore for SqlStore<B> {
    async fn set_vote(&self, user: UserId, paper: PaperId, up: bool) -> Result<i64, StoreError> {
        on!(self, write, |c| {
            let changed = if up {
                let now = Utc::now().timestamp();
                c.execute(&ADD_VOTE, args![user.0, paper.0, now]).await?
            } else {
                c.execute(&REMOVE_VOTE, args![user.0, paper.0]).await?
            };
            if changed == 0 {
                return c.scalar(&UPVOTES, args![paper.0]).await;
            }
            let delta: i64 = if up { 1 } else { -1 };
            c.scalar(&COUNT_VOTE, args![paper.0, delta]).await
        })
    }

    async fn voted(&self, user: UserId, papers: &[PaperId]) -> Result<Vec<PaperId>, StoreError> {
        let ids: Vec<i64> = papers.iter().map(|p| p.0).collect();
        on!(self, read, |c| {
            c.all(&VOTED, args![user.0, ids.as_slice()], |r| {
                Ok(PaperId(r.i64(0)?))
            })
            .await
        })
    }

    async fn submit_daily(
        &self,
        paper: PaperId,
        day: NaiveDate,
        user: UserId,
    ) -> Result<DailyEntry, StoreError> {
        on!(self, write, |c| {
            let now = Utc::now().timestamp();
            // SQLite names the column, PostgreSQL the constraint: one name.
            c.execute(&SUBMIT, args![paper.0, &day_text(day), user.0, now])
                .await
                .map_err(|e| match e {
                    StoreError::Conflict { .. } => StoreError::Conflict {
                        constraint: "daily_submissions_paper_key".into(),
                    },
                    other => other,
                })?;
            c.one(&DAILY_ENTRY, args![paper.0], daily_entry).await
        })
    }

    async fn daily_entry(&self, paper: PaperId) -> Result<Option<DailyEntry>, StoreError> {
        on!(self, read, |c| {
            c.opt(&DAILY_ENTRY, args![paper.0], daily_entry).await
        })
    }

    async fn daily_papers(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        sort: DailySort,
        submitter: Option<&str>,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, StoreError> {
        let submitter = submitter.map(str::to_ascii_lowercase);
        let sql: &'static Sql = match sort {
            DailySort::Trending => &DAILY_BY_TRENDING,
            DailySort::PublishedAt => &DAILY_BY_DATE,
        };
        let (from, to) = (day_text(from), day_text(to));
        on!(self, read, |c| {
            c.all(
                sql,
                args![&from, &to, limit, offset, &submitter],
                columns::listed,
            )
            .await
        })
    }

    async fn trending_papers(
        &self,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, StoreError> {
        on!(self, read, |c| {
            c.all(&TRENDING, args![limit, offset], columns::listed)
                .await
        })
    }

    async fn trending_rows(
        &self,
        since: i64,
        stars_since: i64,
    ) -> Result<Vec<TrendingRow>, StoreError> {
        let first_day = day_text(ts(stars_since).date_naive());
        on!(self, read, |c| {
            c.all(
                &TRENDING_ROWS,
                args![since, &first_day, stars_since],
                trending_row,
            )
            .await
        })
    }

    async fn trending_row(
        &self,
        paper: PaperId,
        stars_since: i64,
    ) -> Result<TrendingRow, StoreError> {
        let first_day = day_text(ts(stars_since).date_naive());
        on!(self, read, |c| {
            c.one(
                &TRENDING_ROW,
                args![paper.0, &first_day, stars_since],
                trending_row,
            )
            .await
        })
    }

    async fn set_trending_scores(
        &self,
        scores: Vec<(PaperId, f64)>,
        zero_before: i64,
    ) -> Result<(), StoreError> {
        on!(self, write, |c| {
            match c.dialect() {
                Dialect::Postgres => {
                    let ids: Vec<i64> = scores.iter().map(|(p, _)| p.0).collect();
                    let values: Vec<f64> = scores.iter().map(|(_, s)| *s).collect();
                    c.execute(
                        &SET_SCORES,
                        &[crate::Value::I64s(&ids), crate::Value::F64s(&values)],
                    )
                    .await?;
                }
                Dialect::Sqlite => {
                    let rows: Vec<Vec<crate::Value<'_>>> = scores
                        .iter()
                        .map(|(id, score)| vec![id.0.into(), (*score).into()])
                        .collect();
                    c.execute_many(&SET_SCORE, &rows).await?;
                }
            }
            c.execute(&ZERO_SCORES, args![zero_before]).await?;
            Ok(())
        })
    }

    async fn user_submissions(
        &self,
        user: UserId,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, StoreError> {
        on!(self, read, |c| {
            c.all(&USER_SUBMISSIONS, args![user.0, limit], columns::listed)
                .await
        })
    }

    async fn user_upvoted(&self, user: UserId, limit: u32) -> Result<Vec<ListedPaper>, StoreError> {
        on!(self, read, |c| {
            c.all(&USER_UPVOTED, args![user.0, limit], columns::listed)
                .await
        })
    }
}

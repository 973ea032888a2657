//! Votes, the daily list and trending keys.

use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use paperboy_core::{PaperId, UserId};

use crate::{StoreError, StoredPaper};

/// A paper's place on a day's list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DailyEntry {
    pub paper_id: PaperId,
    pub day: NaiveDate,
    pub submitted_by: String,
    pub submitted_at: DateTime<Utc>,
}

/// A paper as lists show it: with its daily entry when it has one.
#[derive(Debug, Clone)]
pub struct ListedPaper {
    pub stored: StoredPaper,
    pub daily: Option<DailyEntry>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DailySort {
    Trending,
    PublishedAt,
}

/// What the trending formula needs of one paper.
#[derive(Debug, Clone, PartialEq)]
pub struct TrendingRow {
    pub paper_id: PaperId,
    pub published_at: i64,
    pub upvotes: i64,
    pub github_stars: Option<i64>,
    /// Stars gained since `stars_since` (0 when unknown).
    pub star_growth: i64,
    /// Live papers citing it first submitted since `stars_since` (the
    /// same week).
    pub new_citations: i64,
    pub primary_category: String,
}

#[async_trait]
pub trait CommunityStore: Send + Sync + 'static {
    /// Sets or clears a user's vote on a paper; returns the paper's count.
    /// Idempotent: voting twice counts once.
    async fn set_vote(&self, user: UserId, paper: PaperId, up: bool) -> Result<i64, StoreError>;
    /// Which of `papers` the user has voted for.
    async fn voted(&self, user: UserId, papers: &[PaperId]) -> Result<Vec<PaperId>, StoreError>;
    /// `Conflict` when the paper is already on a daily list.
    async fn submit_daily(
        &self,
        paper: PaperId,
        day: NaiveDate,
        user: UserId,
    ) -> Result<DailyEntry, StoreError>;
    async fn daily_entry(&self, paper: PaperId) -> Result<Option<DailyEntry>, StoreError>;
    /// Papers submitted on days `from..=to` (by `submitter` only, when given).
    async fn daily_papers(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        sort: DailySort,
        submitter: Option<&str>,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, StoreError>;
    /// By stored trending key, newest first among equals.
    async fn trending_papers(
        &self,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, StoreError>;
    /// Inputs of the trending formula for papers first published at or
    /// after `since` (unix seconds), with the stars gained since `stars_since`.
    async fn trending_rows(
        &self,
        since: i64,
        stars_since: i64,
    ) -> Result<Vec<TrendingRow>, StoreError>;
    /// [`CommunityStore::trending_rows`] for one paper.
    async fn trending_row(
        &self,
        paper: PaperId,
        stars_since: i64,
    ) -> Result<TrendingRow, StoreError>;
    /// Stores keys, and zeroes those of papers published before `zero_before`.
    async fn set_trending_scores(
        &self,
        scores: Vec<(PaperId, f64)>,
        zero_before: i64,
    ) -> Result<(), StoreError>;
    async fn user_submissions(
        &self,
        user: UserId,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, StoreError>;
    async fn user_upvoted(&self, user: UserId, limit: u32) -> Result<Vec<ListedPaper>, StoreError>;
}

//! Accounts, sessions, votes, the daily list and trending keys.

use chrono::{DateTime, NaiveDate, Utc};
use paperboy_core::{PaperId, Role};

use crate::StoredPaper;

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub email: String,
    pub password_hash: String,
    pub role: Role,
}

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
    pub primary_category: String,
}

pub fn parse_role(s: &str) -> Role {
    s.parse().unwrap_or(Role::Member)
}

pub fn parse_day(key: &str, s: &str) -> Result<NaiveDate, crate::StoreError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| crate::StoreError::Corrupt {
        key: key.to_string(),
        reason: format!("day `{s}`: {e}"),
    })
}

//! Domain values to and from the columns both backends store: papers,
//! users, subscribers, outbox rows. One decoder per row shape.

use chrono::{DateTime, NaiveDate, Utc};
use paperboy_core::{
    ArxivId, Author, Category, CodeLink, Paper, PaperId, Role, User, UserId, Version,
};
use paperboy_store::{
    DailyEntry, Frequency, ListedPaper, OutboxRow, PaperChange, Preferences, StoreError,
    StoredPaper, Subscriber, SubscriberId,
};
use serde::{Deserialize, Serialize};

use crate::conn::SqlRow;

#[derive(Serialize, Deserialize)]
struct VersionRow {
    v: u32,
    at: i64,
}

/// The flat column form both SQL backends write; keeps the two in step.
#[derive(Debug, Clone)]
pub struct PaperColumns {
    pub arxiv_id: String,
    pub title: String,
    pub abstract_text: String,
    pub authors: String,
    pub categories: String,
    pub versions: String,
    pub latest_version: i64,
    pub comments: Option<String>,
    pub journal_ref: Option<String>,
    pub doi: Option<String>,
    pub report_no: Option<String>,
    pub license: Option<String>,
    pub submitter: Option<String>,
    pub updated_on: Option<String>,
    pub code_links: String,
    pub github_repo: Option<String>,
    pub published_at: i64,
    pub content_hash: i64,
}

impl PaperColumns {
    pub fn from_paper(p: Paper) -> Self {
        let names: Vec<&str> = p.authors.iter().map(|a| a.name.as_str()).collect();
        let authors = serde_json::to_string(&names).unwrap_or_else(|_| "[]".into());
        let versions: Vec<VersionRow> = p
            .versions
            .iter()
            .map(|v| VersionRow {
                v: v.number,
                at: v.created_at.timestamp(),
            })
            .collect();
        let versions_json = serde_json::to_string(&versions).unwrap_or_else(|_| "[]".into());
        let cats: Vec<&str> = p.categories.iter().map(|c| c.as_str()).collect();
        let categories = cats.join(" ");
        let code_links = serde_json::to_string(&p.code_links).unwrap_or_else(|_| "[]".into());
        let github_repo = p.github_repo().map(str::to_string);
        let (latest_version, published_at, content_hash) = (
            i64::from(p.latest_version()),
            p.published_at().timestamp(),
            p.content_hash(),
        );
        PaperColumns {
            arxiv_id: p.id.to_string(),
            title: p.title,
            abstract_text: p.abstract_text,
            authors,
            categories,
            versions: versions_json,
            latest_version,
            comments: p.comments,
            journal_ref: p.journal_ref,
            doi: p.doi,
            report_no: p.report_no,
            license: p.license,
            submitter: p.submitter,
            updated_on: p.updated_on.map(|d| d.to_string()),
            code_links,
            github_repo,
            published_at,
            content_hash,
        }
    }

    pub fn into_paper(self) -> Result<Paper, StoreError> {
        let corrupt = |reason: String| StoreError::Corrupt {
            key: self.arxiv_id.clone(),
            reason,
        };
        let id = ArxivId::parse(&self.arxiv_id).map_err(|e| corrupt(e.to_string()))?;
        let names: Vec<String> =
            serde_json::from_str(&self.authors).map_err(|e| corrupt(format!("authors: {e}")))?;
        let versions: Vec<VersionRow> =
            serde_json::from_str(&self.versions).map_err(|e| corrupt(format!("versions: {e}")))?;
        let versions = versions
            .into_iter()
            .map(|v| {
                DateTime::from_timestamp(v.at, 0)
                    .map(|created_at| Version {
                        number: v.v,
                        created_at,
                    })
                    .ok_or_else(|| corrupt(format!("version date {}", v.at)))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let categories = self
            .categories
            .split_whitespace()
            .map(Category::parse)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| corrupt(e.to_string()))?;
        let code_links: Vec<CodeLink> = serde_json::from_str(&self.code_links)
            .map_err(|e| corrupt(format!("code links: {e}")))?;
        let updated_on = match &self.updated_on {
            Some(d) => Some(
                d.parse()
                    .map_err(|e| corrupt(format!("update date: {e}")))?,
            ),
            None => None,
        };
        Ok(Paper {
            id,
            title: self.title,
            abstract_text: self.abstract_text,
            authors: names.into_iter().map(|name| Author { name }).collect(),
            categories,
            versions,
            comments: self.comments,
            journal_ref: self.journal_ref,
            doi: self.doi,
            report_no: self.report_no,
            license: self.license,
            submitter: self.submitter,
            updated_on,
            code_links,
        })
    }
}

/// The paper columns every paper query selects, in this order.
pub const PAPER_COLUMNS: &str =
    "paper_id, arxiv_id, title, abstract, authors, categories, versions, \
    latest_version, comments, journal_ref, doi, report_no, license, submitter, updated_on, \
    code_links, github_repo, published_at, content_hash, change_seq, created_at, deleted_at, \
    upvotes, num_comments, github_stars, claimed_github_repo, project_page, citation_count";

/// Columns a listed-paper query adds after [`PAPER_COLUMNS`].
const LISTED_AT: usize = 28;

/// [`PAPER_COLUMNS`] with a table alias (`p.paper_id, p.arxiv_id, …`).
pub fn paper_columns_of(alias: &str) -> String {
    PAPER_COLUMNS
        .split(',')
        .map(|c| format!("{alias}.{}", c.trim()))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn ts(secs: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(secs, 0).unwrap_or_default()
}

fn opt_ts(secs: Option<i64>) -> Option<DateTime<Utc>> {
    secs.and_then(|s| DateTime::from_timestamp(s, 0))
}

/// A paper row ([`PAPER_COLUMNS`]) and its `deleted_at`.
pub fn stored_paper(r: &dyn SqlRow) -> Result<(StoredPaper, Option<i64>), StoreError> {
    let cols = PaperColumns {
        arxiv_id: r.text(1)?,
        title: r.text(2)?,
        abstract_text: r.text(3)?,
        authors: r.text(4)?,
        categories: r.text(5)?,
        versions: r.text(6)?,
        latest_version: r.i64(7)?,
        comments: r.opt_text(8)?,
        journal_ref: r.opt_text(9)?,
        doi: r.opt_text(10)?,
        report_no: r.opt_text(11)?,
        license: r.opt_text(12)?,
        submitter: r.opt_text(13)?,
        updated_on: r.opt_text(14)?,
        code_links: r.text(15)?,
        github_repo: r.opt_text(16)?,
        published_at: r.i64(17)?,
        content_hash: r.i64(18)?,
    };
    let stored = StoredPaper {
        paper_id: PaperId(r.i64(0)?),
        change_seq: r.i64(19)?,
        created_at: ts(r.i64(20)?),
        upvotes: r.i64(22)?,
        num_comments: r.i64(23)?,
        github_stars: r.opt_i64(24)?,
        claimed_github_repo: r.opt_text(25)?,
        project_page: r.opt_text(26)?,
        citation_count: r.i64(27)?,
        paper: cols.into_paper()?,
    };
    Ok((stored, r.opt_i64(21)?))
}

/// A live paper.
pub fn paper(r: &dyn SqlRow) -> Result<StoredPaper, StoreError> {
    Ok(stored_paper(r)?.0)
}

/// An entry of the change feed: the paper, or its deletion.
pub fn change(r: &dyn SqlRow) -> Result<PaperChange, StoreError> {
    let key = r.text(1)?;
    let arxiv_id = ArxivId::parse(&key).map_err(|e| StoreError::Corrupt {
        key: key.clone(),
        reason: e.to_string(),
    })?;
    let change_seq = r.i64(19)?;
    if r.opt_i64(21)?.is_some() {
        return Ok(PaperChange {
            change_seq,
            arxiv_id,
            paper: None,
        });
    }
    Ok(PaperChange {
        change_seq,
        arxiv_id,
        paper: Some(paper(r)?),
    })
}

pub fn parse_day(key: &str, s: &str) -> Result<NaiveDate, StoreError> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| StoreError::Corrupt {
        key: key.to_string(),
        reason: format!("day `{s}`: {e}"),
    })
}

pub fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// A paper row followed by `day, username, submitted_at` of its daily entry.
pub fn listed(r: &dyn SqlRow) -> Result<ListedPaper, StoreError> {
    let stored = paper(r)?;
    let daily = match r.opt_text(LISTED_AT)? {
        Some(day) => Some(DailyEntry {
            paper_id: stored.paper_id,
            day: parse_day(stored.paper.id.as_str(), &day)?,
            submitted_by: r.opt_text(LISTED_AT + 1)?.unwrap_or_default(),
            submitted_at: ts(r.opt_i64(LISTED_AT + 2)?.unwrap_or(0)),
        }),
        None => None,
    };
    Ok(ListedPaper { stored, daily })
}

pub const USER_COLUMNS: &str =
    "u.user_id, u.username, u.email, u.role, u.created_at, u.suspended_until";
/// Columns a query adds after [`USER_COLUMNS`] start here.
pub const AFTER_USER: usize = 6;

pub fn user(r: &dyn SqlRow) -> Result<User, StoreError> {
    Ok(User {
        user_id: UserId(r.i64(0)?),
        username: r.text(1)?,
        email: r.text(2)?,
        role: r.text(3)?.parse().unwrap_or(Role::Member),
        created_at: ts(r.i64(4)?),
        suspended_until: opt_ts(r.opt_i64(5)?),
    })
}

pub const SUBSCRIBER_COLUMNS: &str =
    "subscriber_id, email, frequency, trending_top, daily_list, categories, queries, \
    confirmed_at, unsubscribed_at, disabled_at, bounces";

pub fn subscriber(r: &dyn SqlRow) -> Result<Subscriber, StoreError> {
    let frequency = r.text(2)?;
    Ok(Subscriber {
        subscriber_id: SubscriberId(r.i64(0)?),
        email: r.text(1)?,
        prefs: Preferences {
            frequency: Frequency::parse(&frequency).unwrap_or(Frequency::Weekly),
            trending_top: r.i64(3)?.clamp(0, 100) as u32,
            daily_list: r.i64(4)? != 0,
            categories: r.text(5)?.split_whitespace().map(str::to_string).collect(),
            queries: r
                .text(6)?
                .lines()
                .map(str::trim)
                .filter(|q| !q.is_empty())
                .map(str::to_string)
                .collect(),
        },
        confirmed_at: opt_ts(r.opt_i64(7)?),
        unsubscribed_at: opt_ts(r.opt_i64(8)?),
        disabled_at: opt_ts(r.opt_i64(9)?),
        bounces: r.i64(10)?,
    })
}

/// Preferences as columns: (frequency, trending_top, daily_list, categories, queries).
pub fn preference_columns(p: &Preferences) -> (&'static str, i64, i64, String, String) {
    (
        p.frequency.as_str(),
        i64::from(p.trending_top),
        i64::from(p.daily_list),
        p.categories.join(" "),
        p.queries.join("\n"),
    )
}

pub const OUTBOX_COLUMNS: &str =
    "outbox_id, dedupe_key, subscriber_id, recipient, message, attempts";

pub fn outbox_row(r: &dyn SqlRow) -> Result<OutboxRow, StoreError> {
    Ok(OutboxRow {
        outbox_id: r.i64(0)?,
        dedupe_key: r.text(1)?,
        subscriber: r.opt_i64(2)?.map(SubscriberId),
        recipient: r.text(3)?,
        message: r.text(4)?,
        attempts: r.i64(5)?,
    })
}

//! Rows as the store hands them out: the paper plus what the hub adds.

use chrono::{DateTime, Utc};
use paperboy_core::{ArxivId, Author, Category, CodeLink, Paper, PaperId, Version};
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// A paper with its store-side state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredPaper {
    pub paper_id: PaperId,
    pub paper: Paper,
    pub upvotes: i64,
    pub num_comments: i64,
    pub github_stars: Option<i64>,
    pub change_seq: i64,
    /// When the paper first landed in this store.
    pub created_at: DateTime<Utc>,
}

/// One entry of the change feed: a live paper or a deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperChange {
    pub change_seq: i64,
    pub arxiv_id: ArxivId,
    /// `None` when the paper was deleted.
    pub paper: Option<StoredPaper>,
}

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

/// `SELECT` of papers joined with their daily entry and its submitter, as
/// both SQL stores list them: the paper columns (prefixed `p.`), then
/// `day`, `username`, `submitted_at`.
pub fn listed_select(paper_columns: &str) -> String {
    let cols: Vec<String> = paper_columns
        .split(',')
        .map(|c| format!("p.{}", c.trim()))
        .collect();
    format!(
        "SELECT {}, d.day, u.username, d.submitted_at FROM papers p \
         LEFT JOIN daily_submissions d ON d.paper_id = p.paper_id \
         LEFT JOIN users u ON u.user_id = d.submitted_by",
        cols.join(", ")
    )
}

//! Rows as the store hands them out: the paper plus what the hub adds.

use chrono::{DateTime, Utc};
use paperboy_core::{ArxivId, Paper, PaperId};

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

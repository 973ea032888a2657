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
    /// Papers in the store citing this one (from their full text).
    pub citation_count: i64,
    pub github_stars: Option<i64>,
    /// The code link an approved author set, over the one found in the metadata.
    pub claimed_github_repo: Option<String>,
    pub project_page: Option<String>,
    pub change_seq: i64,
    /// When the paper first landed in this store.
    pub created_at: DateTime<Utc>,
}

impl StoredPaper {
    /// The paper's GitHub repository: its author's choice, else the metadata's.
    pub fn github_repo(&self) -> Option<&str> {
        self.claimed_github_repo
            .as_deref()
            .or_else(|| self.paper.github_repo())
    }
}

/// Where a walk over the papers, newest first, stands: the last paper it
/// was given (first publication in Unix seconds, store key).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct NewestCursor {
    pub published_at: i64,
    pub paper_id: i64,
}

impl NewestCursor {
    /// Before every paper.
    pub const START: NewestCursor = NewestCursor {
        published_at: i64::MAX,
        paper_id: i64::MAX,
    };
}

/// One entry of the change feed: a live paper or a deletion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperChange {
    pub change_seq: i64,
    pub arxiv_id: ArxivId,
    /// `None` when the paper was deleted.
    pub paper: Option<StoredPaper>,
}

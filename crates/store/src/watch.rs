//! The library watch: what happened to papers readers keep, recorded once
//! per paper by the write that saw it (a new version, a withdrawal, code
//! released, sections changed, a new citing paper), and who keeps each
//! paper (saved in a library or followed).

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use paperboy_core::{ArxivId, PaperId, UserId};

use crate::StoreError;

/// What happened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    /// A new version, with the title and abstract it replaced.
    Version {
        version: u32,
        old_title: String,
        old_abstract: String,
    },
    /// Withdrawn: a version saying so, or deleted from arXiv's metadata.
    Withdrawn,
    /// A code repository linked where there was none (or another).
    Code { repo: String },
    /// A venue says it took the paper: a new journal reference, or comments
    /// newly saying "accepted at …" / "to appear in …"; `said` is that text.
    Venue { said: String },
    /// The full text of a new version changed these sections.
    Sections { version: u32, titles: Vec<String> },
    /// A paper of the store cites it, with the sentence where it does.
    Cited {
        citing: ArxivId,
        context: Option<String>,
    },
}

impl EventKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            EventKind::Version { .. } => "version",
            EventKind::Withdrawn => "withdrawn",
            EventKind::Code { .. } => "code",
            EventKind::Venue { .. } => "venue",
            EventKind::Sections { .. } => "sections",
            EventKind::Cited { .. } => "cited",
        }
    }
}

/// One recorded event of a paper.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PaperEvent {
    pub event_id: i64,
    pub paper_id: PaperId,
    pub arxiv_id: ArxivId,
    pub kind: EventKind,
    pub at: DateTime<Utc>,
}

/// A reader keeping a paper, since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watcher {
    pub paper_id: PaperId,
    pub user_id: UserId,
    /// When it was saved or followed (the earlier of the two): events from
    /// before are not news to this reader.
    pub since: DateTime<Utc>,
}

#[async_trait]
pub trait WatchStore: Send + Sync + 'static {
    /// Events after `after` (an event id), oldest first, at most `limit`.
    async fn paper_events(&self, after: i64, limit: u32) -> Result<Vec<PaperEvent>, StoreError>;

    /// The newest event's id (0 when there is none).
    async fn last_event_id(&self) -> Result<i64, StoreError>;

    /// Readers who saved or follow any of `papers`.
    async fn watchers(&self, papers: &[PaperId]) -> Result<Vec<Watcher>, StoreError>;

    /// Where the watch pass stopped (`None` before its first pass).
    async fn watch_cursor(&self) -> Result<Option<i64>, StoreError>;
    async fn set_watch_cursor(&self, event_id: i64) -> Result<(), StoreError>;
}

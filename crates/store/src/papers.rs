//! Papers and the change feed every derived index follows.

use async_trait::async_trait;
use paperboy_core::{ArxivId, Paper};

use crate::{ListedPaper, NewestCursor, PaperChange, StoreError, StoredPaper};

/// What an upsert of a batch did, paper by paper.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UpsertCounts {
    pub imported: u64,
    pub updated: u64,
    pub unchanged: u64,
}

impl UpsertCounts {
    pub fn add(&mut self, other: UpsertCounts) {
        self.imported += other.imported;
        self.updated += other.updated;
        self.unchanged += other.unchanged;
    }
}

/// How an incoming paper compares with what the store holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertDecision {
    Insert,
    Update,
    Unchanged,
}

/// The one rule every backend applies: identical content is unchanged, and
/// an older version never overwrites a newer one (a stale snapshot imported
/// after a harvest must not roll papers back).
pub fn decide_upsert(
    existing: Option<(i64, u32)>,
    incoming_hash: i64,
    incoming_version: u32,
) -> UpsertDecision {
    match existing {
        None => UpsertDecision::Insert,
        Some((hash, _)) if hash == incoming_hash => UpsertDecision::Unchanged,
        Some((_, version)) if incoming_version < version => UpsertDecision::Unchanged,
        Some(_) => UpsertDecision::Update,
    }
}

/// The papers themselves. Every write bumps the store-wide change sequence.
#[async_trait]
pub trait PaperStore: Send + Sync + 'static {
    /// `"sqlite"` or `"postgres"`.
    fn backend(&self) -> &'static str;

    /// Answers when the database does (health checks).
    async fn ping(&self) -> Result<(), StoreError>;

    /// Inserts new papers and updates changed ones, in one transaction.
    async fn upsert_papers(&self, papers: Vec<Paper>) -> Result<UpsertCounts, StoreError>;

    /// For a bulk load into a small store: drops the papers table's
    /// secondary indexes, keeping their definitions in the store, and
    /// returns how many. [`PaperStore::restore_indexes`] builds them again;
    /// so does the next open of the store when the load is killed first.
    async fn defer_indexes(&self) -> Result<u32, StoreError>;

    /// Builds every deferred index again; how many.
    async fn restore_indexes(&self) -> Result<u32, StoreError>;

    /// A paper by arXiv id; `NotFound` when the store lacks it or it was
    /// withdrawn from the metadata (deleted).
    async fn get_paper(&self, id: &ArxivId) -> Result<StoredPaper, StoreError>;

    /// Papers by arXiv id, with their daily entries; unknown ids are left
    /// out, order is not kept.
    /// A paper by its store key (comments, claims and notices hold it).
    async fn paper_by_key(&self, id: paperboy_core::PaperId) -> Result<StoredPaper, StoreError>;

    async fn get_papers(&self, ids: &[ArxivId]) -> Result<Vec<ListedPaper>, StoreError>;

    /// Marks a paper deleted (arXiv's OAI reports deletions). Returns
    /// whether anything changed.
    async fn delete_paper(&self, id: &ArxivId) -> Result<bool, StoreError>;

    /// Number of (not deleted) papers.
    async fn count_papers(&self) -> Result<u64, StoreError>;

    /// Papers (not deleted) first published at or after `since` (Unix
    /// seconds), newest first, at most `limit`.
    async fn published_since(&self, since: i64, limit: u32) -> Result<Vec<ArxivId>, StoreError>;

    /// The newest papers whose categories include `category`.
    async fn recent_in_category(
        &self,
        category: &str,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, StoreError>;
}

/// The change sequence: derived indexes (keyword, vectors) follow it.
#[async_trait]
pub trait ChangeFeed: Send + Sync + 'static {
    /// The current value of the change sequence (0 on an empty store).
    async fn change_seq(&self) -> Result<i64, StoreError>;

    /// Papers changed after `after`, in sequence order, at most `limit`.
    async fn changes_since(&self, after: i64, limit: u32) -> Result<Vec<PaperChange>, StoreError>;

    /// Live papers after `after` in the order newest first (first
    /// publication, then store key, both descending), at most `limit`, each
    /// with its cursor: a backfill walks the whole store this way.
    async fn papers_newest_first(
        &self,
        after: NewestCursor,
        limit: u32,
    ) -> Result<Vec<(NewestCursor, StoredPaper)>, StoreError>;

    /// Papers whose passages changed after `after` (their `text_seq`), in
    /// sequence order, at most `limit`: the passage index follows this.
    async fn texts_since(
        &self,
        after: i64,
        limit: u32,
    ) -> Result<Vec<crate::TextChange>, StoreError>;
}

//! Harvest bookkeeping: where each OAI-PMH set's harvest stands.

use async_trait::async_trait;
use chrono::NaiveDate;
use paperboy_core::{ArxivId, Paper};

use crate::{StoreError, UpsertCounts};

/// Where each set's harvest stands; a page and its checkpoint land together.
#[async_trait]
pub trait HarvestStore: Send + Sync + 'static {
    /// Where the harvest of an OAI-PMH set stands (`None`: never harvested).
    async fn harvest_checkpoint(
        &self,
        set_spec: &str,
    ) -> Result<Option<HarvestCheckpoint>, StoreError>;

    /// Applies a harvested page (papers, deletions) and its checkpoint in
    /// one transaction.
    async fn apply_harvest_page(&self, page: HarvestPage) -> Result<HarvestCounts, StoreError>;
}

/// Named leases: one node of several runs the scheduler.
#[async_trait]
/// What several nodes coordinate through: leases and rate counts.
pub trait LeaseStore: Send + Sync + 'static {
    /// Takes or renews the lease `name` for `holder` for `ttl_secs`; false
    /// while another holder's lease is live.
    async fn try_lease(&self, name: &str, holder: &str, ttl_secs: i64) -> Result<bool, StoreError>;

    /// Counts one action under `key` in the fixed window starting at
    /// `window_start` (kept until `expires_at`); returns the window's count
    /// so far, this one included. Every node counts in the same row, so a
    /// limit holds however many nodes share the work.
    async fn count_action(
        &self,
        key: &str,
        window_start: i64,
        expires_at: i64,
    ) -> Result<i64, StoreError>;
}

/// How far the harvest of one set has got. Saved in the same transaction
/// as the papers of the page it follows, so a kill at any point resumes
/// exactly where the store stands.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HarvestCheckpoint {
    pub set_spec: String,
    /// Every record up to this datestamp (inclusive) has been harvested by
    /// a completed run; the next run asks `from` this day.
    pub last_datestamp: Option<NaiveDate>,
    /// A run in progress: the `from` it started with (to restart from on a
    /// bad resumption token) …
    pub run_from: Option<NaiveDate>,
    /// … the token of the next page …
    pub resumption_token: Option<String>,
    /// … and the newest datestamp it has seen so far.
    pub run_max_datestamp: Option<NaiveDate>,
}

impl HarvestCheckpoint {
    pub fn new(set_spec: &str) -> Self {
        HarvestCheckpoint {
            set_spec: set_spec.to_string(),
            ..Default::default()
        }
    }

    pub fn in_progress(&self) -> bool {
        self.resumption_token.is_some()
    }
}

/// One harvested page, applied atomically with its checkpoint.
#[derive(Debug, Clone, Default)]
pub struct HarvestPage {
    pub papers: Vec<Paper>,
    pub deleted: Vec<ArxivId>,
    pub checkpoint: HarvestCheckpoint,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HarvestCounts {
    pub papers: UpsertCounts,
    pub deleted: u64,
}

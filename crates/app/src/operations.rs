//! What an operator and a load balancer ask of a node: whether the store
//! answers (`/healthz`), whether the node should get traffic (`/readyz`),
//! and the gauges `/metrics` shows. Front doors ask here rather than the
//! store.

use crate::ports::Refinement;
use crate::{App, AppError};

/// Changes the keyword index may trail the store by and still be ready.
pub const READY_MAX_LAG: i64 = 2_000;

/// The node's state, as `/metrics` shows it. `None` (or empty) where the
/// store did not answer.
#[derive(Debug, Default)]
pub struct Gauges {
    pub change_seq: Option<i64>,
    /// Store changes the keyword index has not applied yet.
    pub index_lag: Option<i64>,
    /// Store changes the vector index has not embedded yet.
    pub embedding_backlog: Option<i64>,
    pub refinement: Option<Refinement>,
    /// Papers in the store (not deleted).
    pub papers: Option<u64>,
    /// Outbox messages by status.
    pub outbox: Vec<(String, i64)>,
    /// Per harvested set: seconds from its newest harvested datestamp to
    /// now, and whether a harvest of it runs now.
    pub harvest: Vec<(String, Option<f64>, bool)>,
}

impl App {
    /// The store's backend when it answers.
    pub async fn health(&self) -> Result<&'static str, AppError> {
        self.store.ping().await?;
        Ok(self.store.backend())
    }

    /// How far the keyword index trails the store: an error when the store
    /// does not answer or the lag is over [`READY_MAX_LAG`].
    pub async fn readiness(&self) -> Result<i64, AppError> {
        let seq = self.store.change_seq().await?;
        let lag = self
            .search
            .as_ref()
            .map_or(0, |s| (seq - s.indexed_up_to()).max(0));
        if lag > READY_MAX_LAG {
            return Err(AppError::Unavailable(format!(
                "the search index is {lag} changes behind the store; catching up"
            )));
        }
        Ok(lag)
    }

    /// Papers in the store (not deleted).
    pub async fn paper_count(&self) -> Result<u64, AppError> {
        Ok(self.store.count_papers().await?)
    }

    pub async fn gauges(&self) -> Gauges {
        let mut g = Gauges {
            change_seq: self.store.change_seq().await.ok(),
            refinement: self.search.as_ref().and_then(|s| s.refinement()),
            ..Default::default()
        };
        if let (Some(seq), Some(search)) = (g.change_seq, &self.search) {
            g.index_lag = Some((seq - search.indexed_up_to()).max(0));
            g.embedding_backlog = search.embedded_up_to().map(|e| (seq - e).max(0));
        }
        if g.refinement.is_some() {
            g.papers = self.store.count_papers().await.ok();
        }
        g.outbox = self.store.outbox_counts().await.unwrap_or_default();
        let now = chrono::Utc::now();
        for set in self.harvest.sets() {
            let lag = match self.store.harvest_checkpoint(&set.set).await {
                Ok(Some(cp)) => cp.last_datestamp.map(|day| {
                    let at = day.and_hms_opt(0, 0, 0).map(|t| t.and_utc()).unwrap_or(now);
                    (now - at).num_seconds().max(0) as f64
                }),
                _ => None,
            };
            let running = matches!(set.state, crate::scheduler::HarvestState::Running);
            g.harvest.push((set.set.clone(), lag, running));
        }
        g
    }
}

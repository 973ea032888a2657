//! Keeping the index in step with the store by following its change
//! sequence: the store stays the single source of truth.

use std::sync::Arc;
use std::time::Duration;

use paperboy_store::{ChangeFeed, PaperChange};

use crate::{KeywordIndex, SearchError};

const BATCH: u32 = 5_000;
/// Papers' passages applied at once (each brings up to a few hundred).
const TEXT_BATCH: u32 = 200;

/// The next changes after `seq` (at most `batch`) and the last one's
/// sequence number; `None` when the index is up to date.
pub(crate) async fn next_batch(
    store: &dyn ChangeFeed,
    seq: i64,
    batch: u32,
) -> Result<Option<(Vec<PaperChange>, i64)>, SearchError> {
    let changes = store.changes_since(seq, batch).await?;
    Ok(changes
        .last()
        .map(|c| c.change_seq)
        .map(|last| (changes, last)))
}

/// Applies every change after the index's sequence; returns how many.
pub async fn catch_up(
    store: &dyn ChangeFeed,
    index: &Arc<KeywordIndex>,
    mut progress: impl FnMut(u64),
) -> Result<u64, SearchError> {
    let mut seq = index.synced_seq();
    let mut done = 0u64;
    while let Some((changes, last)) = crate::sync::next_batch(store, seq, BATCH).await? {
        let mut upserts = Vec::with_capacity(changes.len());
        let mut deletes = Vec::new();
        for c in changes {
            match c.paper {
                Some(p) => upserts.push(p.paper),
                None => deletes.push(c.arxiv_id),
            }
        }
        let n = (upserts.len() + deletes.len()) as u64;
        let ix = index.clone();
        tokio::task::spawn_blocking(move || ix.apply(&upserts, &deletes, last))
            .await
            .map_err(|e| SearchError::Task(e.to_string()))??;
        seq = last;
        done += n;
        progress(done);
    }
    // Then the passages of papers whose full text changed.
    let mut text_seq = index.passages_synced_seq();
    loop {
        let texts = store.texts_since(text_seq, TEXT_BATCH).await?;
        let Some(last) = texts.last().map(|t| t.seq) else {
            break;
        };
        let n = texts.len() as u64;
        let ix = index.clone();
        tokio::task::spawn_blocking(move || ix.apply_texts(&texts, last))
            .await
            .map_err(|e| SearchError::Task(e.to_string()))??;
        text_seq = last;
        done += n;
    }
    if done > 0 {
        index.reload()?;
    }
    Ok(done)
}

/// Follows the store forever, polling every `every`.
pub async fn follow(store: Arc<dyn ChangeFeed>, index: Arc<KeywordIndex>, every: Duration) {
    loop {
        match catch_up(&*store, &index, |_| {}).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(changes = n, "keyword index caught up"),
            Err(e) => tracing::warn!(error = %e, "keyword index sync failed"),
        }
        tokio::time::sleep(every).await;
    }
}

//! Keeping the vector index in step with the store: the same change
//! sequence the keyword index follows, each new or changed paper embedded
//! (title and abstract), each deletion recorded. Papers whose text did not
//! change keep their vector. Every batch ends with its change sequence on
//! disk, so a stopped run resumes where it was.

use std::sync::Arc;
use std::time::Duration;

use paperboy_core::Paper;
use paperboy_embed::{paper_text, Embedder};
use paperboy_store::ChangeFeed;

use crate::vector::{VectorEntry, VectorIndex};
use crate::SearchError;

const BATCH: u32 = 8_192;

/// What the embedded text of a paper hashes to.
pub fn text_hash(text: &str) -> u64 {
    xxhash_rust::xxh3::xxh3_64(text.as_bytes())
}

pub fn abstract_words(p: &Paper) -> u16 {
    p.abstract_text
        .split_whitespace()
        .count()
        .min(u16::MAX as usize) as u16
}

/// Embeds every change after the index's sequence; returns how many
/// changes were applied. `progress(done)` after each batch.
pub async fn embed_catch_up(
    store: &dyn ChangeFeed,
    index: &Arc<VectorIndex>,
    embedder: &Arc<dyn Embedder>,
    mut progress: impl FnMut(u64),
) -> Result<u64, SearchError> {
    let mut seq = index.synced_seq();
    let mut done = 0u64;
    while let Some((changes, last)) = crate::sync::next_batch(store, seq, BATCH).await? {
        let n = changes.len() as u64;
        let mut todo = Vec::new();
        let mut deletes = Vec::new();
        for c in changes {
            match c.paper {
                Some(p) => {
                    let text = paper_text(&p.paper.title, &p.paper.abstract_text);
                    let hash = text_hash(&text);
                    if index.hash_of(&p.paper.id) != Some(hash) {
                        todo.push((p.paper.id.clone(), hash, abstract_words(&p.paper), text));
                    }
                }
                None => deletes.push(c.arxiv_id),
            }
        }
        let ix = index.clone();
        let emb = embedder.clone();
        tokio::task::spawn_blocking(move || -> Result<(), SearchError> {
            let texts: Vec<&str> = todo.iter().map(|t| t.3.as_str()).collect();
            let vectors = emb.embed(&texts)?;
            let entries: Vec<VectorEntry> = todo
                .iter()
                .zip(vectors)
                .map(|((id, hash, words, _), vector)| VectorEntry {
                    arxiv_id: id.clone(),
                    content_hash: *hash,
                    words: *words,
                    vector,
                })
                .collect();
            ix.apply(&entries, &deletes, last)
        })
        .await
        .map_err(|e| SearchError::Task(e.to_string()))??;
        seq = last;
        done += n;
        progress(done);
    }
    Ok(done)
}

/// Rebuilds the vector index's cells when enough vectors arrived since the
/// last build; returns whether it did.
pub async fn rebuild_cells_if_due(index: &Arc<VectorIndex>) -> Result<bool, SearchError> {
    if !index.needs_rebuild() {
        return Ok(false);
    }
    let ix = index.clone();
    tokio::task::spawn_blocking(move || ix.build_cells())
        .await
        .map_err(|e| SearchError::Task(e.to_string()))??;
    Ok(true)
}

/// Follows the store forever, polling every `every`.
pub async fn embed_follow(
    store: Arc<dyn ChangeFeed>,
    index: Arc<VectorIndex>,
    embedder: Arc<dyn Embedder>,
    every: Duration,
) {
    loop {
        match embed_catch_up(&*store, &index, &embedder, |_| {}).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(changes = n, "vector index caught up"),
            Err(e) => tracing::warn!(error = %e, "vector index sync failed"),
        }
        if let Err(e) = rebuild_cells_if_due(&index).await {
            tracing::warn!(error = %e, "rebuilding the vector cells failed");
        }
        tokio::time::sleep(every).await;
    }
}

/// For processes that only read: picks up what the writer appended.
pub async fn vector_refresh(index: Arc<VectorIndex>, every: Duration) {
    loop {
        let ix = index.clone();
        match tokio::task::spawn_blocking(move || ix.refresh()).await {
            Ok(Err(e)) => tracing::warn!(error = %e, "vector index refresh failed"),
            Err(e) => tracing::warn!(error = %e, "vector index refresh panicked"),
            Ok(Ok(())) => {}
        }
        tokio::time::sleep(every).await;
    }
}

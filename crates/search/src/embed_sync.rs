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

/// A paper to embed: id, hash of its text, abstract words, the text.
type Todo = (paperboy_core::ArxivId, u64, u16, String);

/// The paper, unless the index already holds a vector of its current text.
fn todo_of(index: &VectorIndex, p: &Paper) -> Option<Todo> {
    let text = paper_text(&p.title, &p.abstract_text);
    let hash = text_hash(&text);
    (index.hash_of(&p.id) != Some(hash)).then(|| (p.id.clone(), hash, abstract_words(p), text))
}

/// Embeds `todo` off the async threads and appends the vectors and
/// `deletes` to the index, recording `seq` as synced (0 records nothing).
async fn embed_and_apply(
    index: &Arc<VectorIndex>,
    embedder: &Arc<dyn Embedder>,
    todo: Vec<Todo>,
    deletes: Vec<paperboy_core::ArxivId>,
    seq: i64,
) -> Result<(), SearchError> {
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
        ix.apply(&entries, &deletes, seq)
    })
    .await
    .map_err(|e| SearchError::Task(e.to_string()))?
}

/// Embeds the changes after `from`, `batch` at a time; returns the last
/// sequence seen and how many changes there were. With `record` the index
/// records each batch's sequence as synced.
async fn embed_changes(
    store: &dyn ChangeFeed,
    index: &Arc<VectorIndex>,
    embedder: &Arc<dyn Embedder>,
    from: i64,
    batch: u32,
    record: bool,
    mut progress: impl FnMut(u64),
) -> Result<(i64, u64), SearchError> {
    let mut seq = from;
    let mut done = 0u64;
    while let Some((changes, last)) = crate::sync::next_batch(store, seq, batch).await? {
        let n = changes.len() as u64;
        let mut todo = Vec::new();
        let mut deletes = Vec::new();
        for c in changes {
            match c.paper {
                Some(p) => todo.extend(todo_of(index, &p.paper)),
                None => deletes.push(c.arxiv_id),
            }
        }
        if record || !todo.is_empty() || !deletes.is_empty() {
            embed_and_apply(
                index,
                embedder,
                todo,
                deletes,
                if record { last } else { 0 },
            )
            .await?;
        }
        seq = last;
        done += n;
        progress(done);
    }
    Ok((seq, done))
}

/// Embeds every change after the index's sequence; returns how many
/// changes were applied. `progress(done)` after each batch.
pub async fn embed_catch_up(
    store: &dyn ChangeFeed,
    index: &Arc<VectorIndex>,
    embedder: &Arc<dyn Embedder>,
    progress: impl FnMut(u64),
) -> Result<u64, SearchError> {
    let from = index.synced_seq();
    Ok(
        embed_changes(store, index, embedder, from, BATCH, true, progress)
            .await?
            .1,
    )
}

/// Papers a backfill embeds at a time: small, so that new papers and
/// queries never wait long behind it.
const BACKFILL_BATCH: u32 = 32;

/// Whether a vector index is still being filled in (it has not recorded a
/// synced sequence yet): [`backfill`] has not finished.
pub fn is_filling(index: &VectorIndex) -> bool {
    index.synced_seq() == 0
}

/// Fills a vector index that starts empty behind the one serving: every
/// paper of the store, newest first, `BACKFILL_BATCH` at a time, and
/// before each batch whatever changed since the walk began (new papers are
/// the newest). Resumable: papers whose vector is current are skipped, and
/// the synced sequence is recorded only at the end, so a stopped run walks
/// again and embeds what is left. Afterwards the index follows the change
/// feed like any other. Returns the papers embedded.
pub async fn backfill(
    store: &dyn ChangeFeed,
    index: &Arc<VectorIndex>,
    embedder: &Arc<dyn Embedder>,
    mut progress: impl FnMut(usize),
) -> Result<u64, SearchError> {
    if !is_filling(index) {
        return Ok(0);
    }
    let mut seen = store.change_seq().await?;
    let mut cursor = paperboy_store::NewestCursor::START;
    let mut embedded = 0u64;
    loop {
        // What arrived or changed since the walk began goes first.
        seen = embed_changes(store, index, embedder, seen, BACKFILL_BATCH, false, |_| {})
            .await?
            .0;
        let page = store.papers_newest_first(cursor, BACKFILL_BATCH).await?;
        let Some((last, _)) = page.last() else { break };
        cursor = *last;
        let todo: Vec<Todo> = page
            .iter()
            .filter_map(|(_, p)| todo_of(index, &p.paper))
            .collect();
        embedded += todo.len() as u64;
        if !todo.is_empty() {
            embed_and_apply(index, embedder, todo, Vec::new(), 0).await?;
        }
        progress(index.len());
    }
    if seen > 0 {
        // Done: from here on the index follows the change feed.
        index.apply(&[], &[], seen)?;
    }
    Ok(embedded)
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
    follow_vectors(store, index, embedder, every, false).await
}

/// Fills `index` in behind the serving one ([`backfill`]), then follows the
/// store forever, polling every `every`.
pub async fn refine_follow(
    store: Arc<dyn ChangeFeed>,
    index: Arc<VectorIndex>,
    embedder: Arc<dyn Embedder>,
    every: Duration,
) {
    follow_vectors(store, index, embedder, every, true).await
}

/// The one loop behind both: with `newest_first`, an index not filled yet
/// is filled by [`backfill`]; otherwise it catches up with the change feed.
/// Cells are rebuilt when due.
async fn follow_vectors(
    store: Arc<dyn ChangeFeed>,
    index: Arc<VectorIndex>,
    embedder: Arc<dyn Embedder>,
    every: Duration,
    newest_first: bool,
) {
    loop {
        let started = std::time::Instant::now();
        let done = if newest_first && is_filling(&index) {
            backfill(&*store, &index, &embedder, |_| {}).await
        } else {
            embed_catch_up(&*store, &index, &embedder, |_| {}).await
        };
        match done {
            Ok(0) => {}
            Ok(n) => tracing::debug!(
                changes = n,
                model = embedder.name(),
                secs = started.elapsed().as_secs_f64(),
                "vector index caught up"
            ),
            Err(e) => {
                tracing::warn!(error = %e, model = embedder.name(), "vector index sync failed")
            }
        }
        if let Err(e) = rebuild_cells_if_due(&index).await {
            tracing::warn!(error = %e, model = embedder.name(), "rebuilding the vector cells failed");
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

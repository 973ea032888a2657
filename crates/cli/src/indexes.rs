//! Opening the search indexes under the data directory (writable when no
//! other process holds them) and filling the vector index.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use paperboy_embed::Embedder;
use paperboy_search::{KeywordIndex, SearchError, Semantic, VectorIndex, NO_MODEL_NOTE};
use paperboy_store::Store;

use crate::config::Config;

pub fn index_dir(config: &Config) -> PathBuf {
    config.data_dir.join("index").join("keyword")
}

/// Opens the keyword index: writable when no other process holds it,
/// read-only otherwise (another node or `serve` is writing).
pub fn open_index(config: &Config) -> anyhow::Result<Arc<KeywordIndex>> {
    let dir = index_dir(config);
    match KeywordIndex::open(&dir, true) {
        Ok(i) => Ok(Arc::new(i)),
        Err(SearchError::Locked) => {
            tracing::info!(dir = %dir.display(), "another process writes the keyword index; reading only");
            Ok(Arc::new(KeywordIndex::open(&dir, false)?))
        }
        Err(e) => Err(e).context("opening the keyword index"),
    }
}

/// The keyword index, brought up to date with the store first when this
/// process may write it (a running server keeps it current otherwise).
pub async fn open_index_synced(
    config: &Config,
    store: &dyn Store,
) -> anyhow::Result<Arc<KeywordIndex>> {
    let index = open_index(config)?;
    if index.is_writable() {
        paperboy_search::catch_up(store, &index, |_| {})
            .await
            .context("bringing the keyword index up to date")?;
    }
    Ok(index)
}

pub fn vector_dir(config: &Config, embedder: &dyn Embedder) -> PathBuf {
    config
        .data_dir
        .join("index")
        .join("vectors")
        .join(embedder.name())
}

/// Opens the vector index of `embedder`: writable when no other process
/// holds it, read-only otherwise.
pub fn open_vectors(config: &Config, embedder: Arc<dyn Embedder>) -> anyhow::Result<Semantic> {
    let dir = vector_dir(config, &*embedder);
    let index = match VectorIndex::open(&dir, embedder.name(), embedder.dim(), true) {
        Ok(i) => i,
        Err(SearchError::VectorLocked) => {
            tracing::info!(dir = %dir.display(), "another process writes the vector index; reading only");
            VectorIndex::open(&dir, embedder.name(), embedder.dim(), false)?
        }
        Err(e) => return Err(e).context("opening the vector index"),
    };
    Ok(Semantic {
        embedder,
        index: Arc::new(index),
    })
}

/// The vector index of `embedder` for lookups only (its codes stay on
/// disk; see `VectorIndex::open_lookup`).
pub fn open_lookup(config: &Config, embedder: Arc<dyn Embedder>) -> anyhow::Result<Semantic> {
    let dir = vector_dir(config, &*embedder);
    let index = VectorIndex::open_lookup(&dir, embedder.name(), embedder.dim())
        .with_context(|| format!("opening the vector index in {}", dir.display()))?;
    Ok(Semantic {
        embedder,
        index: Arc::new(index),
    })
}

/// The serving embedder and its vector index, or `None` (keyword only,
/// said in the log) when no model is configured.
pub fn open_semantic(config: &Config) -> anyhow::Result<Option<Semantic>> {
    match crate::embedding::serving(config)? {
        Some(e) => {
            tracing::info!(embedder = e.name(), dim = e.dim(), "semantic search on");
            Ok(Some(open_vectors(config, e)?))
        }
        None => {
            tracing::warn!("{NO_MODEL_NOTE}");
            Ok(None)
        }
    }
}

/// The transformer's vector index, filled in behind the serving one, when
/// `embedder = "transformer"`.
pub fn open_refined(config: &Config) -> anyhow::Result<Option<Semantic>> {
    match crate::embedding::refiner(config)? {
        Some(e) => {
            tracing::info!(
                embedder = e.name(),
                "better vectors filled in behind the static ones"
            );
            Ok(Some(open_vectors(config, e)?))
        }
        None => Ok(None),
    }
}

/// Fills the refined vector index newest first until it covers every
/// paper (resumable), with a progress bar; returns the papers embedded.
pub async fn fill_refined(store: &dyn Store, sem: &Semantic) -> anyhow::Result<u64> {
    if !sem.index.is_writable() {
        return Ok(0);
    }
    let total = store.count_papers().await?;
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "embed (transformer, newest first) [{bar:30}] {pos}/{len} papers {per_sec} ({eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar.set_position(sem.index.len() as u64);
    let mut n = paperboy_search::backfill(store, &sem.index, &sem.embedder, |covered| {
        bar.set_position(covered as u64)
    })
    .await
    .context("filling in the transformer's vectors")?;
    n += paperboy_search::embed_catch_up(store, &sem.index, &sem.embedder, |_| {})
        .await
        .context("embedding papers")?;
    bar.finish_and_clear();
    build_cells(sem).await?;
    Ok(n)
}

/// Embeds what the vector index lacks, with a progress bar when there is
/// much to do, then rebuilds the cells if due; returns the number of
/// changes applied.
pub async fn embed_missing(
    store: &dyn Store,
    sem: &Semantic,
    quiet_below: u64,
) -> anyhow::Result<u64> {
    let n = embed_only(store, sem, quiet_below).await?;
    build_cells(sem).await?;
    Ok(n)
}

/// Rebuilds the vector cells when due, saying so when it takes a while.
pub async fn build_cells(sem: &Semantic) -> anyhow::Result<Option<f64>> {
    if !sem.index.is_writable() || !sem.index.needs_rebuild() {
        return Ok(None);
    }
    let started = std::time::Instant::now();
    paperboy_search::rebuild_cells_if_due(&sem.index)
        .await
        .context("building the vector index cells")?;
    Ok(Some(started.elapsed().as_secs_f64()))
}

/// [`embed_missing`] without the cell rebuild.
pub async fn embed_only(
    store: &dyn Store,
    sem: &Semantic,
    quiet_below: u64,
) -> anyhow::Result<u64> {
    if !sem.index.is_writable() {
        return Ok(0);
    }
    let latest = store.changes_since(sem.index.synced_seq(), 1).await?;
    if latest.is_empty() {
        return Ok(0);
    }
    let total = store.count_papers().await?;
    let bar = if total >= quiet_below {
        let bar = indicatif::ProgressBar::new(total.saturating_sub(sem.index.len() as u64));
        if let Ok(style) = indicatif::ProgressStyle::with_template(
            "embed [{bar:30}] {pos}/{len} changes {per_sec} ({eta})",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar
    } else {
        indicatif::ProgressBar::hidden()
    };
    let n = paperboy_search::embed_catch_up(store, &sem.index, &sem.embedder, |done| {
        if done > bar.length().unwrap_or(0) {
            bar.set_length(done);
        }
        bar.set_position(done)
    })
    .await
    .context("embedding papers")?;
    bar.finish_and_clear();
    Ok(n)
}

/// Keeps a vector index in step with the store: the process holding its
/// lock embeds (filling it in newest first when `newest_first`), the others
/// pick up what it wrote.
pub fn follow_vectors(store: &Arc<dyn Store>, sem: &Semantic, newest_first: bool) {
    let every = std::time::Duration::from_secs(1);
    if !sem.index.is_writable() {
        tokio::spawn(paperboy_search::vector_refresh(sem.index.clone(), every));
    } else if newest_first {
        tokio::spawn(paperboy_search::refine_follow(
            store.clone(),
            sem.index.clone(),
            sem.embedder.clone(),
            every,
        ));
    } else {
        tokio::spawn(paperboy_search::embed_follow(
            store.clone(),
            sem.index.clone(),
            sem.embedder.clone(),
            every,
        ));
    }
}

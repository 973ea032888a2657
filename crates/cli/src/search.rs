//! The search the web and `paperboy search` share: the keyword index,
//! adapted to the web layer's `PaperSearch`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use paperboy_core::ArxivId;
use paperboy_embed::Embedder;
use paperboy_search::engine::{Engine, Mode};
pub use paperboy_search::engine::{Semantic, NO_MODEL_NOTE};
use paperboy_search::hybrid::Fusion;
use paperboy_search::{KeywordIndex, SearchError, SearchQuery, VectorIndex};
use paperboy_store::Store;
use paperboy_web::fetch::{SearchHit, SearchMode, SearchOutcome, SearchRequest};
use paperboy_web::PaperSearch;

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
        Err(paperboy_search::VectorError::Locked) => {
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

/// The serving embedder and its vector index, or `None` (keyword only,
/// said in the log) when no model is configured.
pub fn open_semantic(config: &Config) -> anyhow::Result<Option<Semantic>> {
    match crate::models::serving(config)? {
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

/// Related lists by (paper, limit), with when they were made.
type RelatedCache = HashMap<(ArxivId, usize), (Instant, Vec<SearchHit>)>;

pub struct Search {
    pub engine: Engine,
    pub store: Arc<dyn Store>,
    /// Related lists change slowly and cost a query each: keep them a while.
    related_cache: Mutex<RelatedCache>,
}

const RELATED_TTL: Duration = Duration::from_secs(600);
const RELATED_CACHE_MAX: usize = 20_000;

impl Search {
    pub fn new(index: Arc<KeywordIndex>, store: Arc<dyn Store>) -> Self {
        Search {
            engine: Engine::new(index, None),
            store,
            related_cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn with_semantic(mut self, semantic: Option<Semantic>) -> Self {
        self.engine.semantic = semantic;
        self
    }

    pub fn with_fusion(mut self, fusion: Fusion) -> Self {
        self.engine.fusion = fusion;
        self
    }
}

fn hits(h: Vec<paperboy_search::Hit>) -> Vec<SearchHit> {
    h.into_iter()
        .map(|h| SearchHit {
            arxiv_id: h.arxiv_id,
            score: h.score,
            highlighted_title: h.highlighted_title,
            highlighted_summary: h.highlighted_summary,
        })
        .collect()
}

/// CPU-bound work off the async workers when the runtime allows it.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

#[async_trait]
impl PaperSearch for Search {
    async fn search(&self, req: SearchRequest) -> Result<SearchOutcome, String> {
        let mode = match req.mode {
            SearchMode::Keyword => Mode::Keyword,
            SearchMode::Semantic => Mode::Semantic,
            SearchMode::Hybrid => Mode::Hybrid,
        };
        let found = blocking(|| self.engine.search(&req.query, mode, req.limit, req.offset))?;
        Ok(SearchOutcome {
            hits: hits(found.hits),
            total: found.total,
            mode: match found.mode {
                Mode::Keyword => SearchMode::Keyword,
                Mode::Semantic => SearchMode::Semantic,
                Mode::Hybrid => SearchMode::Hybrid,
            },
            note: found.note,
        })
    }

    async fn related(&self, id: &ArxivId, limit: usize) -> Result<Vec<SearchHit>, String> {
        let key = (id.clone(), limit);
        if let Ok(cache) = self.related_cache.lock() {
            if let Some((at, hits)) = cache.get(&key) {
                if at.elapsed() < RELATED_TTL {
                    return Ok(hits.clone());
                }
            }
        }
        let paper = self
            .store
            .get_paper(id)
            .await
            .map_err(|e| e.to_string())?
            .paper;
        let found = hits(blocking(|| self.engine.related(&paper, limit))?);
        // Nothing found usually means the indexes are still catching up:
        // ask again next time rather than remembering it.
        if found.is_empty() {
            return Ok(found);
        }
        if let Ok(mut cache) = self.related_cache.lock() {
            if cache.len() >= RELATED_CACHE_MAX {
                cache.clear();
            }
            cache.insert(key, (Instant::now(), found.clone()));
        }
        Ok(found)
    }
}

/// Saved searches in digests go through the keyword index.
pub struct IndexFinder(pub Arc<KeywordIndex>);

impl paperboy_mail::compose::Finder for IndexFinder {
    fn find(&self, query: &str, limit: usize) -> Vec<ArxivId> {
        let q = SearchQuery {
            text: query.to_string(),
            limit,
            ..Default::default()
        };
        match self.0.search(&q) {
            Ok((hits, _)) => hits.into_iter().map(|h| h.arxiv_id).collect(),
            Err(e) => {
                tracing::warn!(query, error = %e, "saved search failed");
                Vec::new()
            }
        }
    }
}

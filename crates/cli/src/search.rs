//! The search the web and `paperboy search` share: the keyword index,
//! adapted to the web layer's `PaperSearch`.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use async_trait::async_trait;
use paperboy_core::ArxivId;
use paperboy_search::{KeywordIndex, SearchError, SearchQuery};
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

pub struct Search {
    pub index: Arc<KeywordIndex>,
    pub store: Arc<dyn Store>,
    /// Related lists change slowly and cost a query each: keep them a while.
    related_cache: Mutex<HashMap<(ArxivId, usize), (Instant, Vec<SearchHit>)>>,
}

const RELATED_TTL: Duration = Duration::from_secs(600);
const RELATED_CACHE_MAX: usize = 20_000;

impl Search {
    pub fn new(index: Arc<KeywordIndex>, store: Arc<dyn Store>) -> Self {
        Search {
            index,
            store,
            related_cache: Mutex::new(HashMap::new()),
        }
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

pub const NO_MODEL_NOTE: &str = "semantic search is not available on this instance (no embedding model); showing keyword results";

#[async_trait]
impl PaperSearch for Search {
    async fn search(&self, req: SearchRequest) -> Result<SearchOutcome, String> {
        let index = self.index.clone();
        let q = SearchQuery {
            text: req.query.clone(),
            limit: req.limit,
            offset: req.offset,
            highlight: true,
            ..Default::default()
        };
        let (found, total) = tokio::task::spawn_blocking(move || index.search(&q))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let note = (req.mode != SearchMode::Keyword).then(|| NO_MODEL_NOTE.to_string());
        Ok(SearchOutcome {
            hits: hits(found),
            total,
            mode: SearchMode::Keyword,
            note,
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
        let index = self.index.clone();
        let found = tokio::task::spawn_blocking(move || index.more_like(&paper, limit))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| e.to_string())?;
        let found = hits(found);
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

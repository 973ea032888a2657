//! The search port over the engine (keyword index + vector index).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use paperboy_app::ports::{Refinement, Search, SearchError, SearchRequest};
use paperboy_core::search::{Found, Hit, Pick, Pool, Taste, TextMatch};
use paperboy_core::{ArxivId, Paper};
use paperboy_search::{Engine, SearchQuery, Window};

/// The engine's error in the port's terms: the store's own stays itself
/// (a database away is a 503, not a 500).
fn port(e: paperboy_search::SearchError) -> SearchError {
    match e {
        paperboy_search::SearchError::Store(e) => SearchError::Store(e),
        other => SearchError::Engine(other.to_string()),
    }
}

/// Related lists by (paper, limit), with when they were made.
type RelatedCache = HashMap<(ArxivId, usize), (Instant, Vec<Hit>)>;

/// The search port over the engine. Related lists change slowly and cost
/// a query each: they are kept ten minutes.
pub struct EngineSearch {
    pub engine: Engine,
    related_cache: Mutex<RelatedCache>,
    /// The last window a digest run asked about, by a hash of its ids.
    window: Mutex<Option<(u64, Arc<Window>)>>,
}

const RELATED_TTL: Duration = Duration::from_secs(600);
const RELATED_CACHE_MAX: usize = 20_000;

impl EngineSearch {
    pub fn new(engine: Engine) -> Self {
        EngineSearch {
            engine,
            related_cache: Mutex::new(HashMap::new()),
            window: Mutex::new(None),
        }
    }

    pub fn shared(engine: Engine) -> Arc<dyn Search> {
        Arc::new(Self::new(engine))
    }
}

/// CPU-bound work off the async workers when the runtime allows it.
fn blocking<T>(f: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(f),
        _ => f(),
    }
}

#[async_trait]
impl Search for EngineSearch {
    async fn search(&self, req: &SearchRequest) -> Result<Found, SearchError> {
        blocking(|| {
            self.engine
                .search(&req.query, req.mode, req.limit, req.offset)
        })
        .map_err(port)
    }

    async fn related(&self, paper: &Paper, limit: usize) -> Result<Vec<Hit>, SearchError> {
        let key = (paper.id.clone(), limit);
        if let Ok(cache) = self.related_cache.lock() {
            if let Some((at, hits)) = cache.get(&key) {
                if at.elapsed() < RELATED_TTL {
                    return Ok(hits.clone());
                }
            }
        }
        let found = blocking(|| self.engine.related(paper, limit)).map_err(port)?;
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

    async fn find(&self, query: &str, limit: usize) -> Result<Vec<ArxivId>, SearchError> {
        let q = SearchQuery {
            text: query.to_string(),
            limit,
            ..Default::default()
        };
        let (hits, _) = blocking(|| self.engine.keyword.search(&q)).map_err(port)?;
        Ok(hits.into_iter().map(|h| h.arxiv_id).collect())
    }

    async fn search_in_paper(
        &self,
        id: &ArxivId,
        query: &str,
        limit: usize,
    ) -> Result<Vec<TextMatch>, SearchError> {
        blocking(|| self.engine.keyword.search_in_paper(id, query, limit)).map_err(port)
    }

    fn indexed_up_to(&self) -> i64 {
        self.engine.keyword.synced_seq()
    }

    fn embedded_up_to(&self) -> Option<i64> {
        self.engine.semantic.as_ref().map(|s| s.index.synced_seq())
    }

    fn refinement(&self) -> Option<Refinement> {
        self.engine.refined.as_ref().map(|r| Refinement {
            model: r.embedder.name().to_string(),
            covered: r.index.len() as u64,
            filling: paperboy_search::is_filling(&r.index),
        })
    }

    async fn find_among(&self, query: &str, ids: &[ArxivId]) -> Result<Vec<ArxivId>, SearchError> {
        let mut found = Vec::new();
        for chunk in ids.chunks(500) {
            let q = SearchQuery {
                text: query.to_string(),
                limit: chunk.len(),
                only_ids: Some(chunk.to_vec()),
                ..Default::default()
            };
            let (hits, _) = blocking(|| self.engine.keyword.search(&q)).map_err(port)?;
            found.extend(hits.into_iter().map(|h| h.arxiv_id));
        }
        Ok(found)
    }

    async fn recommend(
        &self,
        taste: &Taste,
        pool: &Pool,
        exclude: &HashSet<ArxivId>,
        limit: usize,
    ) -> Result<Vec<Pick>, SearchError> {
        blocking(|| self.engine.recommend(taste, pool, exclude, limit)).map_err(port)
    }

    async fn recommend_among(
        &self,
        taste: &Taste,
        among: &[ArxivId],
        exclude: &HashSet<ArxivId>,
        limit: usize,
    ) -> Result<Vec<Pick>, SearchError> {
        let key = {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            std::hash::Hash::hash(among, &mut h);
            std::hash::Hasher::finish(&h)
        };
        let cached = self.window.lock().ok().and_then(|w| {
            w.as_ref()
                .filter(|(k, _)| *k == key)
                .map(|(_, w)| w.clone())
        });
        let window = match cached {
            Some(w) => w,
            None => {
                let w = Arc::new(blocking(|| self.engine.window(among)));
                if let Ok(mut slot) = self.window.lock() {
                    *slot = Some((key, w.clone()));
                }
                w
            }
        };
        blocking(|| self.engine.recommend_in(&window, taste, exclude, limit)).map_err(port)
    }
}

//! Search by keyword and by meaning, as the web, the API, feeds and
//! `paperboy search` share it; and [`EngineSearch`], the port's adapter to
//! the search engine (keyword index + vector index).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use paperboy_core::{ArxivId, Paper};
use paperboy_search::{Engine, Pick, Pool, SearchQuery, Taste, Window};
pub use paperboy_search::{Found, Hit, Mode, SearchError, TextMatch, NO_MODEL_NOTE};
use paperboy_store::ListedPaper;

use crate::papers::in_order;
pub use crate::ports::SearchRequest;
use crate::{App, AppError, Search};

/// Longest query accepted, in characters.
pub const MAX_QUERY_CHARS: usize = 1000;

impl SearchRequest {
    /// Checks what a reader typed: a query is required and bounded, the
    /// page lies within the first 10,000 results.
    pub fn new(query: &str, mode: Mode, limit: usize, offset: usize) -> Result<Self, AppError> {
        let query = checked_query(query)?;
        if offset > 10_000 {
            return Err(AppError::Invalid(format!(
                "`{offset}` is not an offset (0 to 10000)"
            )));
        }
        Ok(SearchRequest {
            query: query.to_string(),
            mode,
            limit,
            offset,
        })
    }
}

/// What a reader typed as `q`, trimmed: required, and bounded.
fn checked_query(query: &str) -> Result<&str, AppError> {
    let query = query.trim();
    if query.is_empty() {
        return Err(AppError::Invalid("q is required".into()));
    }
    if query.chars().count() > MAX_QUERY_CHARS {
        return Err(AppError::Invalid(format!(
            "q is longer than {MAX_QUERY_CHARS} characters"
        )));
    }
    Ok(query)
}

/// Parses `keyword`, `semantic` or `hybrid`.
pub fn parse_mode(s: &str) -> Result<Mode, AppError> {
    Mode::parse(s).ok_or_else(|| {
        AppError::Invalid(format!(
            "`{s}` is not a search mode (keyword, semantic, hybrid)"
        ))
    })
}

/// Search results joined with the store's papers, best first.
pub struct Results {
    pub rows: Vec<(ListedPaper, Hit)>,
    /// Matches in all (a lower bound on large indexes).
    pub total: usize,
    /// Papers containing the query's words, when known (see
    /// `paperboy_search::Found::word_matches`).
    pub word_matches: Option<usize>,
    /// The mode that answered (keyword when semantic was not possible).
    pub mode: Mode,
    /// Said to the reader, e.g. that semantic search fell back to keywords.
    pub note: Option<String>,
}

impl App {
    pub async fn search(&self, req: &SearchRequest) -> Result<Results, AppError> {
        let found = self.search_port()?.search(req).await?;
        let ids: Vec<ArxivId> = found.hits.iter().map(|h| h.arxiv_id.clone()).collect();
        let mut papers: HashMap<ArxivId, ListedPaper> = self.papers_by_id(&ids).await?;
        // A hit the store no longer has (deleted since indexing) is left out.
        let rows = found
            .hits
            .into_iter()
            .filter_map(|h| papers.remove(&h.arxiv_id).map(|l| (l, h)))
            .collect();
        Ok(Results {
            rows,
            total: found.total,
            word_matches: found.word_matches,
            mode: found.mode,
            note: found.note,
        })
    }

    /// The passages of a paper's full text matching `query`, best first:
    /// the paper's section and a snippet each. `NotFound` for a paper the
    /// store does not have; empty when its text is not read (yet).
    pub async fn search_in_paper(
        &self,
        id: &ArxivId,
        query: &str,
        limit: usize,
    ) -> Result<Vec<TextMatch>, AppError> {
        let query = checked_query(query)?;
        self.store.get_paper(id).await?;
        Ok(self
            .search_port()?
            .search_in_paper(id, query, limit.clamp(1, 100))
            .await?)
    }

    /// Papers for a saved search, best first (digests).
    pub async fn find_papers(
        &self,
        query: &str,
        limit: usize,
    ) -> Result<Vec<ListedPaper>, AppError> {
        let ids = self.search_port()?.find(query, limit).await?;
        let found = self.store.get_papers(&ids).await?;
        Ok(in_order(&ids, found))
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
        let found = blocking(|| self.engine.related(paper, limit))?;
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
        let (hits, _) = blocking(|| self.engine.keyword.search(&q))?;
        Ok(hits.into_iter().map(|h| h.arxiv_id).collect())
    }

    async fn search_in_paper(
        &self,
        id: &ArxivId,
        query: &str,
        limit: usize,
    ) -> Result<Vec<TextMatch>, SearchError> {
        blocking(|| self.engine.keyword.search_in_paper(id, query, limit))
    }

    fn indexed_up_to(&self) -> i64 {
        self.engine.keyword.synced_seq()
    }

    fn embedded_up_to(&self) -> Option<i64> {
        self.engine.semantic.as_ref().map(|s| s.index.synced_seq())
    }

    fn refinement(&self) -> Option<crate::ports::Refinement> {
        self.engine
            .refined
            .as_ref()
            .map(|r| crate::ports::Refinement {
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
            let (hits, _) = blocking(|| self.engine.keyword.search(&q))?;
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
        blocking(|| self.engine.recommend(taste, pool, exclude, limit))
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
        blocking(|| self.engine.recommend_in(&window, taste, exclude, limit))
    }
}

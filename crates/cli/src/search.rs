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
use paperboy_search::hybrid::{self, Fusion, Ranked};
use paperboy_search::{KeywordIndex, Neighbour, SearchError, SearchQuery, VectorIndex};
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

/// The semantic half of search: an embedder and the vectors it made.
#[derive(Clone)]
pub struct Semantic {
    pub embedder: Arc<dyn Embedder>,
    pub index: Arc<VectorIndex>,
}

pub fn vector_dir(config: &Config, embedder: &dyn Embedder) -> PathBuf {
    config.data_dir.join("index").join("vectors").join(embedder.name())
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
/// much to do; returns the number of changes applied.
pub async fn embed_missing(store: &dyn Store, sem: &Semantic, quiet_below: u64) -> anyhow::Result<u64> {
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

pub struct Search {
    pub index: Arc<KeywordIndex>,
    pub store: Arc<dyn Store>,
    pub semantic: Option<Semantic>,
    pub fusion: Fusion,
    /// Related lists change slowly and cost a query each: keep them a while.
    related_cache: Mutex<HashMap<(ArxivId, usize), (Instant, Vec<SearchHit>)>>,
}

const RELATED_TTL: Duration = Duration::from_secs(600);
const RELATED_CACHE_MAX: usize = 20_000;
/// Candidates each side brings to the fusion.
const FUSION_DEPTH: usize = 100;

impl Search {
    pub fn new(index: Arc<KeywordIndex>, store: Arc<dyn Store>) -> Self {
        Search {
            index,
            store,
            semantic: None,
            fusion: Fusion::default(),
            related_cache: Mutex::new(HashMap::new()),
        }
    }

    pub fn with_semantic(mut self, semantic: Option<Semantic>) -> Self {
        self.semantic = semantic;
        self
    }

    pub fn with_fusion(mut self, fusion: Fusion) -> Self {
        self.fusion = fusion;
        self
    }

    fn keyword(
        &self,
        text: &str,
        limit: usize,
        offset: usize,
        highlight: bool,
    ) -> Result<(Vec<paperboy_search::Hit>, usize), String> {
        let q = SearchQuery {
            text: text.to_string(),
            limit,
            offset,
            highlight,
            ..Default::default()
        };
        self.index.search(&q).map_err(|e| e.to_string())
    }

    /// Highlights for a page of papers chosen by fusion: those matching the
    /// query's words get their matches marked.
    fn highlights(&self, text: &str, ids: &[ArxivId]) -> HashMap<ArxivId, paperboy_search::Hit> {
        if ids.is_empty() {
            return HashMap::new();
        }
        let q = SearchQuery {
            text: text.to_string(),
            limit: ids.len(),
            highlight: true,
            only_ids: Some(ids.to_vec()),
            ..Default::default()
        };
        match self.index.search(&q) {
            Ok((found, _)) => found.into_iter().map(|h| (h.arxiv_id.clone(), h)).collect(),
            Err(_) => HashMap::new(),
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

fn neighbour_hits(n: Vec<Neighbour>) -> Vec<SearchHit> {
    n.into_iter()
        .map(|n| SearchHit {
            arxiv_id: n.arxiv_id,
            score: n.score,
            highlighted_title: None,
            highlighted_summary: None,
        })
        .collect()
}

pub const NO_MODEL_NOTE: &str = "semantic search is not available on this instance (no embedding model); showing keyword results";

/// Field prefixes ask for words in a field: a question for the keyword
/// index alone.
fn has_field_syntax(q: &str) -> bool {
    q.split_whitespace().any(|w| {
        let w = w.trim_start_matches(['+', '-', '(']);
        ["ti:", "au:", "abs:", "cat:"].iter().any(|p| w.starts_with(p))
    })
}

/// The query with search syntax taken out, for the embedder.
fn plain_words(q: &str) -> String {
    q.chars()
        .map(|c| if c.is_alphanumeric() || c == '-' || c == '\'' { c } else { ' ' })
        .collect::<String>()
        .split_whitespace()
        .filter(|w| !matches!(*w, "AND" | "OR" | "NOT"))
        .collect::<Vec<_>>()
        .join(" ")
}

impl Search {
    /// Nearest papers to the query, re-scored by the short-document prior
    /// over a deeper pool than asked for.
    fn semantic_hits(&self, sem: &Semantic, text: &str, k: usize) -> Result<Vec<Neighbour>, String> {
        let v = sem.embedder.embed_one(&plain_words(text)).map_err(|e| e.to_string())?;
        if v.iter().all(|x| *x == 0.0) {
            return Ok(Vec::new());
        }
        let mut found = sem.index.search(&v, (k * 4).max(SEMANTIC_POOL), None);
        prefer_papers(&mut found);
        found.truncate(k);
        Ok(found)
    }

    fn run(&self, req: &SearchRequest) -> Result<SearchOutcome, String> {
        let want = req.offset + req.limit;
        let mode = match (&self.semantic, req.mode) {
            (_, SearchMode::Keyword) | (None, _) => SearchMode::Keyword,
            (Some(_), _) if has_field_syntax(&req.query) => SearchMode::Keyword,
            (Some(_), m) => m,
        };
        let note = match (&self.semantic, req.mode) {
            (None, SearchMode::Semantic | SearchMode::Hybrid) => Some(NO_MODEL_NOTE.to_string()),
            (Some(_), SearchMode::Semantic | SearchMode::Hybrid) if mode == SearchMode::Keyword => {
                Some("field prefixes (ti:, au:, abs:, cat:) search by keyword only".to_string())
            }
            _ => None,
        };
        match (mode, &self.semantic) {
            (SearchMode::Semantic, Some(sem)) => {
                let found = self.semantic_hits(sem, &req.query, want)?;
                let total = found.len();
                let page = found.into_iter().skip(req.offset).take(req.limit).collect();
                Ok(SearchOutcome {
                    hits: neighbour_hits(page),
                    total,
                    mode,
                    note,
                })
            }
            (SearchMode::Hybrid, Some(sem)) => {
                let depth = FUSION_DEPTH.max(want * 2);
                let (kw, kw_total) = self.keyword(&req.query, depth, 0, false)?;
                let sem_found = self.semantic_hits(sem, &req.query, depth)?;
                let keyword = Ranked {
                    ids: kw.iter().map(|h| h.arxiv_id.clone()).collect(),
                    scores: kw.iter().map(|h| h.score).collect(),
                    words: kw.iter().map(|h| sem.index.words_of(&h.arxiv_id)).collect(),
                };
                let semantic = Ranked {
                    ids: sem_found.iter().map(|n| n.arxiv_id.clone()).collect(),
                    scores: sem_found.iter().map(|n| n.score).collect(),
                    words: sem_found.iter().map(|n| Some(u64::from(n.words))).collect(),
                };
                let fused = hybrid::fuse(&keyword, &semantic, self.fusion);
                let total = kw_total.max(fused.len());
                let page: Vec<(ArxivId, f32)> = fused.into_iter().skip(req.offset).take(req.limit).collect();
                let ids: Vec<ArxivId> = page.iter().map(|(id, _)| id.clone()).collect();
                let mut by_id = self.highlights(&req.query, &ids);
                let page = page
                    .into_iter()
                    .map(|(id, score)| {
                        let h = by_id.remove(&id);
                        SearchHit {
                            arxiv_id: id,
                            score,
                            highlighted_title: h.as_ref().and_then(|h| h.highlighted_title.clone()),
                            highlighted_summary: h.and_then(|h| h.highlighted_summary),
                        }
                    })
                    .collect();
                Ok(SearchOutcome {
                    hits: page,
                    total,
                    mode,
                    note,
                })
            }
            _ => {
                let (found, total) = self.keyword(&req.query, req.limit, req.offset, true)?;
                Ok(SearchOutcome {
                    hits: hits(found),
                    total,
                    mode: SearchMode::Keyword,
                    note,
                })
            }
        }
    }

    fn related_now(&self, paper: &paperboy_core::Paper, limit: usize) -> Result<Vec<SearchHit>, String> {
        let Some(sem) = &self.semantic else {
            return self.index.more_like(paper, limit).map(hits).map_err(|e| e.to_string());
        };
        let v = match sem.index.vector_of(&paper.id) {
            Some(v) => v,
            None => sem
                .embedder
                .embed_one(&paperboy_embed::paper_text(&paper.title, &paper.abstract_text))
                .map_err(|e| e.to_string())?,
        };
        // Nearest neighbours first; short records yield to real papers.
        let mut found = sem.index.search(&v, (limit * 4).max(SEMANTIC_POOL), Some(&paper.id));
        prefer_papers(&mut found);
        found.truncate(limit);
        Ok(neighbour_hits(found))
    }
}

/// Candidates the semantic side re-scores with the short-document prior.
const SEMANTIC_POOL: usize = 200;

/// Applies the short-document prior and re-sorts.
fn prefer_papers(found: &mut [Neighbour]) {
    for n in found.iter_mut() {
        n.score *= hybrid::length_prior(u64::from(n.words));
    }
    found.sort_by(|a, b| b.score.total_cmp(&a.score));
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
        blocking(|| self.run(&req))
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
        let found = blocking(|| self.related_now(&paper, limit))?;
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

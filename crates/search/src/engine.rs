//! The search engine: keyword, semantic and hybrid modes over the keyword
//! index and (when a model is configured) the vector index, and related
//! papers. Independent of the web layer; the binary adapts it.

use std::collections::HashMap;
use std::sync::Arc;

use paperboy_core::{ArxivId, Paper};
use paperboy_embed::Embedder;

use crate::hybrid::{self, Fusion, Ranked};
use crate::{Hit, KeywordIndex, Neighbour, SearchError, SearchQuery, VectorIndex};

/// The semantic half of search: an embedder and the vectors it made.
#[derive(Clone)]
pub struct Semantic {
    pub embedder: Arc<dyn Embedder>,
    pub index: Arc<VectorIndex>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Keyword,
    Semantic,
    Hybrid,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Keyword => "keyword",
            Mode::Semantic => "semantic",
            Mode::Hybrid => "hybrid",
        }
    }

    /// `keyword`, `semantic` or `hybrid`.
    pub fn parse(s: &str) -> Option<Mode> {
        match s {
            "keyword" => Some(Mode::Keyword),
            "semantic" => Some(Mode::Semantic),
            "hybrid" => Some(Mode::Hybrid),
            _ => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct Found {
    pub hits: Vec<Hit>,
    pub total: usize,
    /// The mode that answered (keyword when semantic was not possible).
    pub mode: Mode,
    pub note: Option<String>,
}

pub const NO_MODEL_NOTE: &str = "semantic search is not available on this instance (no embedding model); showing keyword results";

/// Candidates each side brings to the fusion.
const FUSION_DEPTH: usize = 60;
/// Candidates each side brings to a related-papers list.
const RELATED_DEPTH: usize = 40;
/// Candidates the semantic side re-scores with the short-document prior.
const SEMANTIC_POOL: usize = 200;

pub struct Engine {
    pub keyword: Arc<KeywordIndex>,
    pub semantic: Option<Semantic>,
    pub fusion: Fusion,
    /// Recommendations: the weight of meaning (embeddings) against terms
    /// (tf·idf) in a pick's score.
    pub taste_mix: f32,
}

/// Field prefixes ask for words in a field: a question for the keyword
/// index alone.
fn has_field_syntax(q: &str) -> bool {
    q.split_whitespace().any(|w| {
        let w = w.trim_start_matches(['+', '-', '(']);
        ["ti:", "au:", "abs:", "cat:"]
            .iter()
            .any(|p| w.starts_with(p))
    })
}

/// The query with search syntax taken out, for the embedder.
fn plain_words(q: &str) -> String {
    q.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '\'' {
                c
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .filter(|w| !matches!(*w, "AND" | "OR" | "NOT"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Applies the short-document prior and re-sorts.
fn prefer_papers(found: &mut [Neighbour]) {
    for n in found.iter_mut() {
        n.score *= hybrid::length_prior(u64::from(n.words));
    }
    found.sort_by(|a, b| b.score.total_cmp(&a.score));
}

/// Keyword hits as a list to fuse, with abstract lengths from the vector index.
fn ranked_hits(hits: &[Hit], sem: &Semantic) -> Ranked {
    Ranked {
        ids: hits.iter().map(|h| h.arxiv_id.clone()).collect(),
        scores: hits.iter().map(|h| h.score).collect(),
        words: hits
            .iter()
            .map(|h| sem.index.words_of(&h.arxiv_id))
            .collect(),
    }
}

/// Vector neighbours as a list to fuse.
fn ranked_neighbours(found: &[Neighbour]) -> Ranked {
    Ranked {
        ids: found.iter().map(|n| n.arxiv_id.clone()).collect(),
        scores: found.iter().map(|n| n.score).collect(),
        words: found.iter().map(|n| Some(u64::from(n.words))).collect(),
    }
}

fn neighbour_hit(n: Neighbour) -> Hit {
    Hit {
        arxiv_id: n.arxiv_id,
        score: n.score,
        highlighted_title: None,
        highlighted_summary: None,
    }
}

impl Engine {
    pub fn new(keyword: Arc<KeywordIndex>, semantic: Option<Semantic>) -> Self {
        Engine {
            keyword,
            semantic,
            fusion: Fusion::default(),
            taste_mix: 0.5,
        }
    }

    fn keyword_hits(
        &self,
        text: &str,
        limit: usize,
        offset: usize,
        highlight: bool,
    ) -> Result<(Vec<Hit>, usize), SearchError> {
        let q = SearchQuery {
            text: text.to_string(),
            limit,
            offset,
            highlight,
            ..Default::default()
        };
        self.keyword.search(&q)
    }

    /// Highlights for a page of papers chosen by fusion: those matching the
    /// query's words get their matches marked.
    fn highlights(&self, text: &str, ids: &[ArxivId]) -> HashMap<ArxivId, Hit> {
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
        match self.keyword.search(&q) {
            Ok((found, _)) => found.into_iter().map(|h| (h.arxiv_id.clone(), h)).collect(),
            Err(_) => HashMap::new(),
        }
    }

    /// Nearest papers to the query, re-scored by the short-document prior
    /// over a deeper pool than asked for.
    fn semantic_hits(
        &self,
        sem: &Semantic,
        text: &str,
        k: usize,
    ) -> Result<Vec<Neighbour>, SearchError> {
        let v = sem.embedder.embed_one(&plain_words(text))?;
        if v.iter().all(|x| *x == 0.0) {
            return Ok(Vec::new());
        }
        let mut found = sem.index.search(&v, (k * 4).max(SEMANTIC_POOL), None);
        prefer_papers(&mut found);
        found.truncate(k);
        Ok(found)
    }

    /// Searches in `mode`; falls back to keywords (saying why in `note`)
    /// when there is no model or the query uses field prefixes.
    pub fn search(
        &self,
        query: &str,
        mode: Mode,
        limit: usize,
        offset: usize,
    ) -> Result<Found, SearchError> {
        let want = offset + limit;
        let answered = match (&self.semantic, mode) {
            (_, Mode::Keyword) | (None, _) => Mode::Keyword,
            (Some(_), _) if has_field_syntax(query) => Mode::Keyword,
            (Some(_), m) => m,
        };
        let note = match (&self.semantic, mode) {
            (None, Mode::Semantic | Mode::Hybrid) => Some(NO_MODEL_NOTE.to_string()),
            (Some(_), Mode::Semantic | Mode::Hybrid) if answered == Mode::Keyword => {
                Some("field prefixes (ti:, au:, abs:, cat:) search by keyword only".to_string())
            }
            _ => None,
        };
        let (hits, total) = match (answered, &self.semantic) {
            (Mode::Semantic, Some(sem)) => {
                let found = self.semantic_hits(sem, query, want)?;
                let total = found.len();
                let page = found.into_iter().skip(offset).take(limit);
                (page.map(neighbour_hit).collect(), total)
            }
            (Mode::Hybrid, Some(sem)) => {
                let depth = FUSION_DEPTH.max(want * 2);
                // The two halves are independent: run them side by side.
                let (kw, sem_found) = rayon::join(
                    || self.keyword_hits(query, depth, 0, false),
                    || self.semantic_hits(sem, query, depth),
                );
                let (kw, kw_total) = kw?;
                let sem_found = sem_found?;
                let keyword = ranked_hits(&kw, sem);
                let semantic = ranked_neighbours(&sem_found);
                let fused = hybrid::fuse(&keyword, &semantic, self.fusion);
                let total = kw_total.max(fused.len());
                let page: Vec<(ArxivId, f32)> =
                    fused.into_iter().skip(offset).take(limit).collect();
                let ids: Vec<ArxivId> = page.iter().map(|(id, _)| id.clone()).collect();
                let mut marked = self.highlights(query, &ids);
                let hits = page
                    .into_iter()
                    .map(|(id, score)| {
                        let h = marked.remove(&id);
                        Hit {
                            arxiv_id: id,
                            score,
                            highlighted_title: h.as_ref().and_then(|h| h.highlighted_title.clone()),
                            highlighted_summary: h.and_then(|h| h.highlighted_summary),
                        }
                    })
                    .collect();
                (hits, total)
            }
            _ => self.keyword_hits(query, limit, offset, true)?,
        };
        Ok(Found {
            hits,
            total,
            mode: answered,
            note,
        })
    }

    /// Papers nearest to `paper` (never itself): by vector when a model is
    /// configured, by distinctive shared words otherwise.
    pub fn related(&self, paper: &Paper, limit: usize) -> Result<Vec<Hit>, SearchError> {
        let Some(sem) = &self.semantic else {
            return self.keyword.more_like(paper, limit);
        };
        let v = match sem.index.vector_of(&paper.id) {
            Some(v) => v,
            None => sem.embedder.embed_one(&paperboy_embed::paper_text(
                &paper.title,
                &paper.abstract_text,
            ))?,
        };
        self.nearest(
            sem,
            &v,
            &paper.id,
            &paper.title,
            &paper.abstract_text,
            limit,
        )
    }

    /// Related papers of a paper both indexes hold (`None` if not).
    pub fn related_by_id(
        &self,
        id: &ArxivId,
        limit: usize,
    ) -> Option<Result<Vec<Hit>, SearchError>> {
        let sem = self.semantic.as_ref()?;
        let v = sem.index.vector_of(id)?;
        let (title, abs) = self.keyword.stored_text(id)?;
        Some(self.nearest(sem, &v, id, &title, &abs, limit))
    }

    /// Nearest neighbours by vector fused with the papers sharing the most
    /// distinctive words: a neighbour both agree on is the safest bet, and
    /// rare shared terms ("soups", "task vectors") catch what a small
    /// embedding blurs. Short records yield to real papers.
    fn nearest(
        &self,
        sem: &Semantic,
        v: &[f32],
        id: &ArxivId,
        title: &str,
        abs: &str,
        limit: usize,
    ) -> Result<Vec<Hit>, SearchError> {
        let depth = (limit * 4).max(RELATED_DEPTH);
        let mut near = sem.index.search(v, depth.max(SEMANTIC_POOL), Some(id));
        prefer_papers(&mut near);
        near.truncate(depth);
        let like = self.keyword.more_like_text(id, title, abs, depth)?;
        let semantic = ranked_neighbours(&near);
        let keyword = ranked_hits(&like, sem);
        Ok(hybrid::fuse(&keyword, &semantic, self.fusion)
            .into_iter()
            .take(limit)
            .map(|(arxiv_id, score)| Hit {
                arxiv_id,
                score,
                highlighted_title: None,
                highlighted_summary: None,
            })
            .collect())
    }
}

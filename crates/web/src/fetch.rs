//! Seams to parts the web layer uses but does not own, so it never names
//! a concrete implementation: fetching papers from arXiv and search.

use async_trait::async_trait;
use paperboy_core::ArxivId;
use serde::Serialize;

/// Brings a paper the store lacks into it (the Atom API client).
#[async_trait]
pub trait PaperFetcher: Send + Sync {
    /// `Ok(true)` when the paper is now in the store, `Ok(false)` when arXiv
    /// does not know it, `Err` with a message when arXiv could not be asked.
    async fn fetch(&self, id: &ArxivId) -> Result<bool, String>;
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SearchMode {
    Keyword,
    Semantic,
    Hybrid,
}

impl std::str::FromStr for SearchMode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "keyword" => Ok(SearchMode::Keyword),
            "semantic" => Ok(SearchMode::Semantic),
            "hybrid" => Ok(SearchMode::Hybrid),
            other => Err(format!(
                "`{other}` is not a search mode (keyword, semantic, hybrid)"
            )),
        }
    }
}

#[derive(Debug, Clone)]
pub struct SearchRequest {
    pub query: String,
    pub mode: SearchMode,
    pub limit: usize,
    pub offset: usize,
}

#[derive(Debug, Clone)]
pub struct SearchHit {
    pub arxiv_id: ArxivId,
    pub score: f32,
    /// HTML: escaped text with `<mark>` around matching terms.
    pub highlighted_title: Option<String>,
    pub highlighted_summary: Option<String>,
}

#[derive(Debug, Clone)]
pub struct SearchOutcome {
    pub hits: Vec<SearchHit>,
    pub total: usize,
    pub mode: SearchMode,
    /// Said to the user, e.g. that semantic search fell back to keywords.
    pub note: Option<String>,
}

#[async_trait]
pub trait PaperSearch: Send + Sync {
    async fn search(&self, req: SearchRequest) -> Result<SearchOutcome, String>;
    async fn related(&self, id: &ArxivId, limit: usize) -> Result<Vec<SearchHit>, String>;
}

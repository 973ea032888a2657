//! Search by keyword and by meaning, as the web, the API, feeds and
//! `paperboy search` share it (through the [`crate::Search`] port).

use std::collections::HashMap;

pub use paperboy_core::search::{Found, Hit, Mode, TextMatch, NO_MODEL_NOTE};
use paperboy_core::ArxivId;
use paperboy_store::ListedPaper;

use crate::papers::in_order;
pub use crate::ports::{SearchError, SearchRequest};
use crate::{App, AppError};

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
    /// [`Found::word_matches`]).
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

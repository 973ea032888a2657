//! Reading papers: one paper and what its page shows, the trending and
//! daily lists, a member's profile.

use paperboy_core::{ArxivId, DayRange, PaperId, User};
use paperboy_store::{DailyEntry, DailySort, ListedPaper, StoreError, StoredPaper};

use crate::{App, AppError};

/// Everything a paper's page shows.
pub struct PaperPage {
    pub stored: StoredPaper,
    pub daily: Option<DailyEntry>,
    /// Whether the viewer has upvoted it.
    pub voted: bool,
    /// Nearest papers, best first (empty while the indexes catch up).
    pub related: Vec<ListedPaper>,
    /// Its discussion, threaded.
    pub discussion: crate::discussions::Discussion,
    /// Approved authors: position → username.
    pub claims: crate::views::Claims,
    /// The viewer is an approved author of it.
    pub viewer_is_author: bool,
    /// Its reference list (empty until its full text is read).
    pub references: Vec<crate::citations::ReferenceView>,
    /// Papers here citing it.
    pub citations: Vec<crate::citations::CitedPaper>,
    /// Its sections' titles, where its full text was read.
    pub sections: Vec<String>,
    /// Works citing it as OpenAlex counts them, where asked.
    pub cited_elsewhere: Option<i64>,
}

/// A member's public page.
pub struct Profile {
    pub user: User,
    pub submitted: Vec<ListedPaper>,
    pub upvoted: Vec<ListedPaper>,
    /// Papers the member is an approved author of.
    pub authored: Vec<ListedPaper>,
}

/// Puts `found` in the order of `ids` (search and related answer in rank
/// order; the store does not keep it).
pub(crate) fn in_order(ids: &[ArxivId], mut found: Vec<ListedPaper>) -> Vec<ListedPaper> {
    found.sort_by_key(|l| ids.iter().position(|i| *i == l.stored.paper.id));
    found
}

impl App {
    /// The stored papers among `ids`, by id (ids the store lacks are absent).
    pub async fn papers_by_id(
        &self,
        ids: &[ArxivId],
    ) -> Result<std::collections::HashMap<ArxivId, ListedPaper>, AppError> {
        Ok(self
            .store
            .get_papers(ids)
            .await?
            .into_iter()
            .map(|l| (l.stored.paper.id.clone(), l))
            .collect())
    }

    /// A paper; `NotFound` names it.
    pub async fn paper(&self, id: &ArxivId) -> Result<StoredPaper, AppError> {
        self.store
            .get_paper(id)
            .await
            .map_err(|e| AppError::or_not_found(e, || format!("no paper {id} in this store")))
    }

    /// A paper's page: the paper, its daily entry, the viewer's vote and
    /// related papers (a search failure leaves the list empty and is logged).
    pub async fn paper_page(
        &self,
        id: &ArxivId,
        viewer: Option<&User>,
    ) -> Result<PaperPage, AppError> {
        let stored = match self.store.get_paper(id).await {
            Ok(s) => s,
            Err(StoreError::NotFound) => {
                return Err(AppError::NotFound(format!(
                "This instance has no paper {id}. It may be on arXiv: https://arxiv.org/abs/{id}"
            )))
            }
            Err(e) => return Err(e.into()),
        };
        let daily = self.store.daily_entry(stored.paper_id).await?;
        let voted = match viewer {
            Some(u) => !self
                .store
                .voted(u.user_id, &[stored.paper_id])
                .await?
                .is_empty(),
            None => false,
        };
        let related = match self.related_to(&stored, 5).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(%id, error = %e, "related papers failed");
                Vec::new()
            }
        };
        let discussion = self.discussion_of(&stored, viewer).await?;
        let claims = self
            .claimed_authors(&[stored.paper_id])
            .await?
            .remove(&stored.paper_id)
            .unwrap_or_default();
        let viewer_is_author = viewer.is_some_and(|u| claims.values().any(|n| *n == u.username));
        let text = self.text_of_page(stored.paper_id).await?;
        Ok(PaperPage {
            stored,
            daily,
            voted,
            related,
            discussion,
            claims,
            viewer_is_author,
            references: text.references,
            citations: text.citations,
            sections: text.sections,
            cited_elsewhere: text.cited_elsewhere,
        })
    }

    /// Papers nearest to `id`, best first.
    pub async fn related(&self, id: &ArxivId, limit: usize) -> Result<Vec<ListedPaper>, AppError> {
        let stored = self.paper(id).await?;
        self.search_port()?;
        self.related_to(&stored, limit).await
    }

    async fn related_to(
        &self,
        stored: &StoredPaper,
        limit: usize,
    ) -> Result<Vec<ListedPaper>, AppError> {
        let Some(search) = &self.search else {
            return Ok(Vec::new());
        };
        let hits = search.related(&stored.paper, limit).await?;
        let ids: Vec<ArxivId> = hits.into_iter().map(|h| h.arxiv_id).collect();
        let found = self.store.get_papers(&ids).await?;
        Ok(in_order(&ids, found))
    }

    pub async fn trending(&self, offset: u32, limit: u32) -> Result<Vec<ListedPaper>, AppError> {
        Ok(self.store.trending_papers(offset, limit).await?)
    }

    /// Papers submitted to the daily lists of `range` (by `submitter`
    /// only, when given).
    pub async fn daily(
        &self,
        range: DayRange,
        sort: DailySort,
        submitter: Option<&str>,
        offset: u32,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, AppError> {
        Ok(self
            .store
            .daily_papers(range.from, range.to, sort, submitter, offset, limit)
            .await?)
    }

    /// The newest papers of a category.
    pub async fn recent_in_category(
        &self,
        category: &str,
        limit: u32,
    ) -> Result<Vec<ListedPaper>, AppError> {
        Ok(self.store.recent_in_category(category, limit).await?)
    }

    /// Which of `papers` the viewer has upvoted (none for a visitor; a
    /// store failure shows no votes rather than failing the page).
    pub async fn voted_ids(&self, viewer: Option<&User>, papers: &[ListedPaper]) -> Vec<PaperId> {
        let Some(u) = viewer else { return Vec::new() };
        let ids: Vec<PaperId> = papers.iter().map(|l| l.stored.paper_id).collect();
        match self.store.voted(u.user_id, &ids).await {
            Ok(v) => v,
            Err(e) => {
                tracing::warn!(error = %e, "reading votes failed");
                Vec::new()
            }
        }
    }

    /// A member's page: what they submitted and upvoted.
    pub async fn profile(&self, username: &str) -> Result<Profile, AppError> {
        let name = username.to_ascii_lowercase();
        let (user, _) =
            self.store.user_by_name(&name).await.map_err(|e| {
                AppError::or_not_found(e, || format!("There is no user {username}."))
            })?;
        let submitted = self.store.user_submissions(user.user_id, 50).await?;
        let upvoted = self.store.user_upvoted(user.user_id, 50).await?;
        let authored = self.store.authored_papers(user.user_id, 100).await?;
        Ok(Profile {
            user,
            submitted,
            upvoted,
            authored,
        })
    }
}

//! Authors: members claim an authorship (a moderator decides, see
//! `moderation.rs`), approved authors set their paper's code link and
//! project page, and author pages gather papers by normalised name.

use std::collections::HashMap;

use paperboy_core::search::Mode;
use paperboy_core::text::author_key;
use paperboy_core::{ArxivId, PaperId, User};
use paperboy_store::{Claim, ListedPaper, StoreError};

use crate::papers::in_order;
use crate::ports::SearchRequest;
use crate::{App, AppError};

/// Longest link an author may set.
const MAX_LINK: usize = 500;
/// Papers an author page lists at most.
pub const AUTHOR_PAGE_LIMIT: usize = 200;

/// `/authors/{name}`: the papers whose author list has this name.
pub struct AuthorPage {
    /// The name as the newest paper spells it (or as asked).
    pub name: String,
    pub key: String,
    pub papers: Vec<ListedPaper>,
    /// Members approved as this author on one of the papers.
    pub members: Vec<String>,
}

/// Approved authors by paper: position → username.
pub type ClaimedAuthors = HashMap<PaperId, HashMap<u32, String>>;

fn checked_link(kind: &str, raw: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(s) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let bad = || AppError::Invalid(format!("The {kind} must be an http(s) address, not `{s}`."));
    if s.len() > MAX_LINK {
        return Err(AppError::Invalid(format!(
            "The {kind} has at most {MAX_LINK} characters."
        )));
    }
    let u = url::Url::parse(s).map_err(|_| bad())?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return Err(bad());
    }
    Ok(Some(u.to_string().trim_end_matches('/').to_string()))
}

impl App {
    /// "I am author `position` (1-based) of paper `id`", for a moderator to
    /// decide.
    pub async fn claim_authorship(
        &self,
        user: &User,
        id: &ArxivId,
        position: u32,
    ) -> Result<Claim, AppError> {
        self.check_not_suspended(user)?;
        let paper = self.paper(id).await?;
        let n = paper.paper.authors.len() as u32;
        if position == 0 || position > n {
            return Err(AppError::Invalid(format!(
                "{id} has {n} authors; claim one of 1 to {n}."
            )));
        }
        match self
            .store
            .add_claim(paper.paper_id, position - 1, user.user_id)
            .await
        {
            Ok(c) => Ok(c),
            Err(StoreError::Conflict { .. }) => Err(AppError::Conflict(format!(
                "You already claimed author {position} of {id}."
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// Whether `user` is an approved author of the paper.
    pub async fn is_author(&self, user: &User, paper: PaperId) -> Result<bool, AppError> {
        Ok(self
            .store
            .claimed_authors(&[paper])
            .await?
            .iter()
            .any(|(_, _, name)| *name == user.username))
    }

    /// An approved author (or a moderator) sets the paper's code link and
    /// project page; logged in the public moderation log.
    pub async fn set_paper_links(
        &self,
        user: &User,
        id: &ArxivId,
        github_repo: Option<&str>,
        project_page: Option<&str>,
    ) -> Result<(), AppError> {
        self.check_not_suspended(user)?;
        let paper = self.paper(id).await?;
        if !self.is_author(user, paper.paper_id).await? && !user.role.can_moderate() {
            return Err(AppError::Forbidden(
                "Only an approved author of this paper (or a moderator) can set its links.".into(),
            ));
        }
        let repo = checked_link("code link", github_repo)?;
        if let Some(r) = &repo {
            if paperboy_core::code_link::github_repo_path(r).is_none() {
                return Err(AppError::Invalid(format!(
                    "The code link must be a GitHub repository (https://github.com/owner/name), not `{r}`."
                )));
            }
        }
        let page = checked_link("project page", project_page)?;
        self.store
            .set_paper_links(paper.paper_id, repo.as_deref(), page.as_deref())
            .await?;
        let said = |v: &Option<String>| v.clone().unwrap_or_else(|| "none".into());
        let target = format!(
            "links of “{}”: code {}, project page {}",
            paper.paper.title,
            said(&repo),
            said(&page)
        );
        let url = format!("/papers/{id}");
        self.store
            .log_action(
                user.user_id,
                "set paper links",
                &target,
                Some(&url),
                "set by an author",
            )
            .await?;
        Ok(())
    }

    /// The approved authors of `papers`, for pages and the API.
    pub async fn claimed_authors(&self, papers: &[PaperId]) -> Result<ClaimedAuthors, AppError> {
        let mut out = ClaimedAuthors::new();
        if papers.is_empty() {
            return Ok(out);
        }
        for (paper, position, username) in self.store.claimed_authors(papers).await? {
            out.entry(paper).or_default().insert(position, username);
        }
        Ok(out)
    }

    /// `/authors/{name}`: papers whose author list has `name` (accents,
    /// case and punctuation aside), newest first.
    pub async fn author_page(&self, name: &str) -> Result<AuthorPage, AppError> {
        let key = author_key(name);
        if key.is_empty() {
            return Err(AppError::Invalid("An author page needs a name.".into()));
        }
        let search = self.search_port()?;
        // The index finds the candidates (the name's words, in order, in
        // the author field, as typed and as folded: the index keeps
        // accents); the key decides.
        let typed: String = name
            .chars()
            .map(|c| if c == '"' || c == '\\' { ' ' } else { c })
            .collect();
        let req = SearchRequest {
            query: format!("au:\"{}\" OR au:\"{key}\"", typed.trim()),
            mode: Mode::Keyword,
            limit: AUTHOR_PAGE_LIMIT * 2,
            offset: 0,
        };
        let found = search.search(&req).await?;
        let ids: Vec<ArxivId> = found.hits.into_iter().map(|h| h.arxiv_id).collect();
        let mut papers: Vec<ListedPaper> = in_order(&ids, self.store.get_papers(&ids).await?)
            .into_iter()
            .filter(|l| {
                l.stored
                    .paper
                    .authors
                    .iter()
                    .any(|a| author_key(&a.name) == key)
            })
            .collect();
        papers.sort_by_key(|l| std::cmp::Reverse(l.stored.paper.published_at()));
        papers.truncate(AUTHOR_PAGE_LIMIT);
        let shown = papers
            .first()
            .and_then(|l| {
                l.stored
                    .paper
                    .authors
                    .iter()
                    .find(|a| author_key(&a.name) == key)
            })
            .map(|a| a.name.clone())
            .unwrap_or_else(|| name.trim().to_string());
        let ids: Vec<PaperId> = papers.iter().map(|l| l.stored.paper_id).collect();
        let claimed = self.claimed_authors(&ids).await?;
        let mut members: Vec<String> = Vec::new();
        for l in &papers {
            let Some(by_pos) = claimed.get(&l.stored.paper_id) else {
                continue;
            };
            for (pos, user) in by_pos {
                let matches = l
                    .stored
                    .paper
                    .authors
                    .get(*pos as usize)
                    .is_some_and(|a| author_key(&a.name) == key);
                if matches && !members.contains(user) {
                    members.push(user.clone());
                }
            }
        }
        Ok(AuthorPage {
            name: shown,
            key,
            papers,
            members,
        })
    }
}

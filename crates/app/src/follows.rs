//! Following a paper, an author or a saved search, and the alerts they
//! bring: a pass over the store's change feed (run by the scheduler, so
//! one node does it) finds new papers by followed authors and new matches
//! of followed searches (a followed paper's news is the library watch's,
//! `crate::watch`),
//! and writes each alert once (per member and event) to `/notifications`,
//! where the digest and the private feed pick them up too.

use std::collections::HashMap;

use paperboy_core::text::{author_key, collapse_whitespace};
use paperboy_core::{ArxivId, User, UserId};
use paperboy_store::{Follow, FollowKind, NewNotification, StoredPaper};

use crate::{App, AppError};

/// Longest followed search, in characters.
pub const MAX_SEARCH_CHARS: usize = 300;
/// Changes read a round.
const BATCH: u32 = 1000;
/// A paper counts as new for an author or search follow when its first
/// version is at most this much older than the follow.
const NEW_GRACE_SECS: i64 = 2 * 86_400;

/// What a followed paper looks like now: its latest version and code link.
pub fn paper_state(p: &StoredPaper) -> String {
    format!(
        "v{} {}",
        p.paper.versions.len().max(1),
        p.github_repo().unwrap_or("")
    )
}

/// The target a follow is kept under: an arXiv id, an author key, a query.
pub fn follow_target(kind: FollowKind, raw: &str) -> Result<String, AppError> {
    match kind {
        FollowKind::Paper => ArxivId::parse_loose(raw)
            .map(|v| v.id.as_str().to_string())
            .map_err(|e| AppError::Invalid(e.to_string())),
        FollowKind::Author => {
            let k = author_key(raw);
            if k.is_empty() || k.chars().count() > 200 {
                return Err(AppError::Invalid("an author's name is needed".into()));
            }
            Ok(k)
        }
        FollowKind::Search => {
            let q = collapse_whitespace(raw);
            if q.is_empty() {
                return Err(AppError::Invalid("a search to follow is needed".into()));
            }
            if q.chars().count() > MAX_SEARCH_CHARS {
                return Err(AppError::Invalid(format!(
                    "a followed search is at most {MAX_SEARCH_CHARS} characters"
                )));
            }
            Ok(q)
        }
    }
}

impl App {
    /// Follows (or unfollows) a paper, an author or a search.
    pub async fn follow(
        &self,
        user: &User,
        kind: FollowKind,
        raw: &str,
        on: bool,
    ) -> Result<String, AppError> {
        let target = follow_target(kind, raw)?;
        let state = match (kind, on) {
            (FollowKind::Paper, true) => {
                let p = self
                    .paper(&ArxivId::parse(&target).map_err(|e| AppError::Invalid(e.to_string()))?)
                    .await?;
                paper_state(&p)
            }
            _ => String::new(),
        };
        self.store
            .follow(user.user_id, kind, &target, &state, on)
            .await?;
        Ok(target)
    }

    pub async fn follows(&self, user: &User) -> Result<Vec<Follow>, AppError> {
        Ok(self.store.follows(user.user_id).await?)
    }

    /// Whether the member follows `target` (as [`follow_target`] keeps it).
    pub async fn is_following(
        &self,
        user: &User,
        kind: FollowKind,
        target: &str,
    ) -> Result<bool, AppError> {
        Ok(self
            .store
            .follows(user.user_id)
            .await?
            .iter()
            .any(|f| f.kind == kind && f.target == target))
    }

    /// Reads the change feed from the alert cursor to its end and writes
    /// the alerts it brings; how many alerts. The first pass only sets
    /// the cursor (history is not news).
    pub async fn alert_pass(&self) -> Result<usize, AppError> {
        let mut cursor = match self.store.alert_cursor().await? {
            Some(c) => c,
            None => {
                let now = self.store.change_seq().await?;
                self.store.set_alert_cursor(now).await?;
                return self.watch_pass().await;
            }
        };
        // Saved searches match against the keyword index: read no further
        // than it has.
        let until = self.search.as_ref().map(|s| s.indexed_up_to());
        let mut alerts = 0;
        loop {
            let mut changes = self.store.changes_since(cursor, BATCH).await?;
            if let Some(until) = until {
                changes.retain(|c| c.change_seq <= until);
            }
            let Some(last) = changes.last().map(|c| c.change_seq) else {
                break;
            };
            let papers: Vec<StoredPaper> = changes.into_iter().filter_map(|c| c.paper).collect();
            alerts += self.author_alerts(&papers).await?;
            alerts += self.search_alerts(&papers).await?;
            cursor = last;
            self.store.set_alert_cursor(cursor).await?;
        }
        // Followed papers' news is the library watch's (saved or followed,
        // a reader hears it once).
        Ok(alerts + self.watch_pass().await?)
    }

    async fn alert(
        &self,
        users: &[UserId],
        p: &StoredPaper,
        kind: &str,
        text: String,
        key: String,
    ) -> Result<(), AppError> {
        self.store
            .notify(
                users,
                NewNotification {
                    kind: kind.into(),
                    paper_id: Some(p.paper_id),
                    comment_id: None,
                    actor_id: None,
                    text,
                    dedupe_key: Some(key),
                },
            )
            .await?;
        Ok(())
    }

    async fn author_alerts(&self, papers: &[StoredPaper]) -> Result<usize, AppError> {
        let mut keys: HashMap<String, Vec<&StoredPaper>> = HashMap::new();
        for p in papers {
            for a in &p.paper.authors {
                keys.entry(author_key(&a.name)).or_default().push(p);
            }
        }
        let targets: Vec<String> = keys.keys().cloned().collect();
        let mut n = 0;
        for chunk in targets.chunks(1000) {
            for f in self
                .store
                .followers(FollowKind::Author, Some(chunk))
                .await?
            {
                for p in keys.get(&f.target).into_iter().flatten() {
                    if p.paper.published_at().timestamp()
                        < f.created_at.timestamp() - NEW_GRACE_SECS
                    {
                        continue;
                    }
                    let name = p
                        .paper
                        .authors
                        .iter()
                        .find(|a| author_key(&a.name) == f.target)
                        .map_or(f.target.clone(), |a| a.name.clone());
                    let title = collapse_whitespace(&p.paper.title);
                    let text = format!("New paper by {name}: “{title}”");
                    let key = format!("author:{}:{}", f.target, p.paper.id.as_str());
                    self.alert(&[f.user_id], p, "follow_author", text, key)
                        .await?;
                    n += 1;
                }
            }
        }
        Ok(n)
    }

    async fn search_alerts(&self, papers: &[StoredPaper]) -> Result<usize, AppError> {
        let follows = self.store.followers(FollowKind::Search, None).await?;
        if follows.is_empty() || papers.is_empty() {
            return Ok(0);
        }
        let Ok(search) = self.search_port() else {
            return Ok(0);
        };
        let ids: Vec<ArxivId> = papers.iter().map(|p| p.paper.id.clone()).collect();
        let by_id: HashMap<&ArxivId, &StoredPaper> =
            papers.iter().map(|p| (&p.paper.id, p)).collect();
        let mut by_query: HashMap<&str, Vec<&Follow>> = HashMap::new();
        for f in &follows {
            by_query.entry(f.target.as_str()).or_default().push(f);
        }
        let mut n = 0;
        for (query, fs) in by_query {
            let found = search.find_among(query, &ids).await?;
            for id in found {
                let Some(p) = by_id.get(&id) else { continue };
                for f in &fs {
                    if p.paper.published_at().timestamp()
                        < f.created_at.timestamp() - NEW_GRACE_SECS
                    {
                        continue;
                    }
                    let title = collapse_whitespace(&p.paper.title);
                    let text = format!("New match for “{query}”: “{title}”");
                    let key = format!(
                        "search:{:016x}:{}",
                        xxhash_rust::xxh3::xxh3_64(query.as_bytes()),
                        id.as_str()
                    );
                    self.alert(&[f.user_id], p, "follow_search", text, key)
                        .await?;
                    n += 1;
                }
            }
        }
        Ok(n)
    }
}

//! A member's library: saving papers with tags, public collections,
//! bringing a library in from a file and writing it out, private feed
//! tokens.

use std::collections::{HashMap, HashSet};

use paperboy_core::{ArxivId, PaperId, User};
use paperboy_store::{LibraryQuery, ListedPaper, Saved, StoreError, StoredPaper, TagInfo};

use crate::accounts::{new_token, token_digest};
use crate::bibtex::{self, ExportRow, FileEntry, Problem, Wanted};
use crate::papers::in_order;
use crate::{App, AppError};

/// Most tags on one paper, and the longest tag.
pub const MAX_TAGS: usize = 20;
pub const MAX_TAG_CHARS: usize = 40;
/// Largest import file.
pub const MAX_IMPORT_BYTES: usize = 16 * 1024 * 1024;
/// Papers an import may fetch from arXiv (the rest are reported).
pub const MAX_IMPORT_FETCHES: usize = 200;

/// A tag as typed, checked: letters, digits, `-`, `_`, `.`; lowercased.
pub fn check_tag(raw: &str) -> Result<String, AppError> {
    // "weight averaging" is one tag, written as it can appear in an
    // address: weight-averaging.
    let t = raw
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-")
        .to_lowercase();
    if t.is_empty() {
        return Err(AppError::Invalid("a tag cannot be empty".into()));
    }
    if t.chars().count() > MAX_TAG_CHARS {
        return Err(AppError::Invalid(format!(
            "tag `{}` is longer than {MAX_TAG_CHARS} characters",
            raw.trim()
        )));
    }
    if !t
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(AppError::Invalid(format!(
            "tag `{}` may hold only letters, digits, `-`, `_` and `.`",
            raw.trim()
        )));
    }
    Ok(t)
}

/// Tags as typed, checked, without repeats, in order.
pub fn check_tags(raw: &[String]) -> Result<Vec<String>, AppError> {
    if raw.len() > MAX_TAGS {
        return Err(AppError::Invalid(format!(
            "at most {MAX_TAGS} tags on a paper"
        )));
    }
    let mut out: Vec<String> = Vec::new();
    for r in raw {
        let t = check_tag(r)?;
        if !out.contains(&t) {
            out.push(t);
        }
    }
    if out.len() > MAX_TAGS {
        return Err(AppError::Invalid(format!(
            "at most {MAX_TAGS} tags on a paper"
        )));
    }
    Ok(out)
}

/// A saved paper with when and how it was saved.
pub struct LibraryItem {
    pub paper: ListedPaper,
    pub saved: Saved,
}

/// What an import did.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct ImportReport {
    /// Entries read from the file.
    pub entries: usize,
    pub added: u64,
    /// Entries already in the library.
    pub already: u64,
    /// Papers brought from arXiv for this import.
    pub fetched: usize,
    /// Papers being fetched from arXiv after the answer (web imports):
    /// saved when they arrive, a notification says how it went.
    pub fetching: usize,
    /// Each entry that was not imported, with its line and why.
    pub problems: Vec<Problem>,
}

/// Whether an import waits for the papers it fetches from arXiv (the
/// command line) or answers at once and saves them as they arrive (the
/// web: a request is never held for arXiv's pauses and retries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArxivFetches {
    Wait,
    Later,
}

/// Formats a library is written out in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Bibtex,
    Json,
    Csv,
}

impl ExportFormat {
    pub fn parse(s: &str) -> Result<ExportFormat, AppError> {
        match s {
            "bibtex" => Ok(ExportFormat::Bibtex),
            "json" => Ok(ExportFormat::Json),
            "csv" => Ok(ExportFormat::Csv),
            other => Err(AppError::Invalid(format!(
                "`{other}` is not an export format (bibtex, json, csv)"
            ))),
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Bibtex => "application/x-bibtex; charset=utf-8",
            ExportFormat::Json => "application/json",
            ExportFormat::Csv => "text/csv; charset=utf-8",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Bibtex => "bib",
            ExportFormat::Json => "json",
            ExportFormat::Csv => "csv",
        }
    }
}

impl App {
    /// The paper's key in the store; `NotFound` names it.
    pub(crate) async fn paper_key(&self, id: &ArxivId) -> Result<PaperId, AppError> {
        Ok(self.paper(id).await?.paper_id)
    }

    /// Saves a paper to the member's library with exactly these tags;
    /// whether it was new there.
    pub async fn save_paper(
        &self,
        user: &User,
        id: &ArxivId,
        tags: &[String],
    ) -> Result<bool, AppError> {
        let tags = check_tags(tags)?;
        let key = self.paper_key(id).await?;
        Ok(self.store.save(user.user_id, key, &tags).await?)
    }

    /// Adds tags to a saved paper (saving it if need be), keeping its others.
    pub async fn tag_paper(
        &self,
        user: &User,
        id: &ArxivId,
        add: &[String],
    ) -> Result<(), AppError> {
        let key = self.paper_key(id).await?;
        let mut tags: Vec<String> = self
            .store
            .saved(user.user_id, &[key])
            .await?
            .pop()
            .map(|s| s.tags)
            .unwrap_or_default();
        tags.extend(add.iter().cloned());
        let tags = check_tags(&tags)?;
        self.store.save(user.user_id, key, &tags).await?;
        Ok(())
    }

    /// The ids of the member's library (or one tag of it), most recent first.
    pub async fn library_ids(
        &self,
        user: &User,
        tag: Option<&str>,
    ) -> Result<Vec<ArxivId>, AppError> {
        Ok(self.store.library_ids(user.user_id, tag).await?)
    }

    /// Takes one tag off a saved paper, keeping the paper and its other
    /// tags; whether it had the tag.
    pub async fn untag_paper(
        &self,
        user: &User,
        id: &ArxivId,
        tag: &str,
    ) -> Result<bool, AppError> {
        let tag = check_tag(tag)?;
        let key = self.paper_key(id).await?;
        let Some(saved) = self.store.saved(user.user_id, &[key]).await?.pop() else {
            return Ok(false);
        };
        if !saved.tags.contains(&tag) {
            return Ok(false);
        }
        let rest: Vec<String> = saved.tags.into_iter().filter(|t| *t != tag).collect();
        self.store.save(user.user_id, key, &rest).await?;
        Ok(true)
    }

    /// Takes a paper out of the library; whether it was there.
    pub async fn unsave_paper(&self, user: &User, id: &ArxivId) -> Result<bool, AppError> {
        let key = self.paper_key(id).await?;
        Ok(self.store.unsave(user.user_id, key).await?)
    }

    /// Which of `papers` the member has saved, and with which tags.
    pub async fn saved_of(
        &self,
        user: &User,
        papers: &[PaperId],
    ) -> Result<HashMap<PaperId, Saved>, AppError> {
        Ok(self
            .store
            .saved(user.user_id, papers)
            .await?
            .into_iter()
            .map(|s| (s.paper_id, s))
            .collect())
    }

    /// One page of the member's library.
    pub async fn library(
        &self,
        user: &User,
        q: &LibraryQuery,
    ) -> Result<Vec<LibraryItem>, AppError> {
        if let Some(t) = &q.tag {
            check_tag(t)?;
        }
        let papers = self.store.library(user.user_id, q).await?;
        let keys: Vec<PaperId> = papers.iter().map(|p| p.stored.paper_id).collect();
        let mut saved = self.saved_of(user, &keys).await?;
        Ok(papers
            .into_iter()
            .filter_map(|p| {
                let s = saved.remove(&p.stored.paper_id)?;
                Some(LibraryItem { paper: p, saved: s })
            })
            .collect())
    }

    pub async fn tags(&self, user: &User) -> Result<Vec<TagInfo>, AppError> {
        Ok(self.store.tags(user.user_id).await?)
    }

    /// Makes a tag a public collection, or private again.
    pub async fn set_tag_public(
        &self,
        user: &User,
        tag: &str,
        public: bool,
    ) -> Result<(), AppError> {
        let tag = check_tag(tag)?;
        self.store
            .set_tag_public(user.user_id, &tag, public)
            .await
            .map_err(|e| AppError::or_not_found(e, || format!("you have no tag `{tag}`")))
    }

    /// A member's public collection: its papers, newest saved first. A
    /// private or missing tag is not found (never "forbidden": that would
    /// say the tag exists).
    pub async fn collection(
        &self,
        username: &str,
        tag: &str,
        limit: u32,
    ) -> Result<(User, Vec<LibraryItem>), AppError> {
        let missing = || AppError::NotFound(format!("no public collection `{tag}` of {username}"));
        let tag = check_tag(tag)?;
        let owner = match self.store.user_by_name(username).await {
            Ok((u, _)) => u,
            Err(StoreError::NotFound) => return Err(missing()),
            Err(e) => return Err(e.into()),
        };
        match self.store.tag_public(owner.user_id, &tag).await {
            Ok(true) => {}
            Ok(false) | Err(StoreError::NotFound) => return Err(missing()),
            Err(e) => return Err(e.into()),
        }
        let q = LibraryQuery {
            tag: Some(tag),
            limit,
            ..Default::default()
        };
        let mut items = self.library(&owner, &q).await?;
        // Only the collection's own tag is shown to others.
        for i in &mut items {
            i.saved.tags.retain(|t| Some(t) == q.tag.as_ref());
        }
        Ok((owner, items))
    }

    /// Reads a library file (BibTeX or one arXiv id or URL a line) and
    /// saves every paper it names, tagged `tag` if given, in one
    /// transaction; papers the store lacks are fetched from arXiv. Every
    /// entry not imported is reported with its line.
    pub async fn import_library(
        &self,
        user: &User,
        text: &str,
        tag: Option<&str>,
        arxiv: ArxivFetches,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<ImportReport, AppError> {
        if text.len() > MAX_IMPORT_BYTES {
            return Err(AppError::TooLarge(format!(
                "the file is {} bytes; the most an import takes is {MAX_IMPORT_BYTES}",
                text.len()
            )));
        }
        let tag = tag.map(check_tag).transpose()?;
        let (entries, mut problems) = bibtex::read_import(text);
        let mut report = ImportReport {
            entries: entries.len() + problems.len(),
            ..Default::default()
        };
        let mut later = Vec::new();
        let resolved = self
            .resolve(
                &entries,
                &mut problems,
                &mut report,
                (arxiv == ArxivFetches::Later).then_some(&mut later),
                progress,
            )
            .await?;
        let mut seen: HashMap<PaperId, usize> = HashMap::new();
        let mut keys = Vec::with_capacity(resolved.len());
        for (line, key) in resolved {
            if let Some(first) = seen.get(&key) {
                problems.push(Problem {
                    line,
                    message: format!("the same paper as line {first}; imported once"),
                });
                continue;
            }
            seen.insert(key, line);
            keys.push(key);
        }
        let counts = self
            .store
            .save_many(user.user_id, &keys, tag.as_deref())
            .await?;
        problems.sort_by_key(|p| p.line);
        report.added = counts.added;
        report.already = counts.already;
        report.problems = problems;
        report.fetching = later.len();
        if !later.is_empty() {
            self.fetch_into_library(user.clone(), later, tag);
        }
        Ok(report)
    }

    /// Fetches `ids` from arXiv one after another (politely, as the client
    /// always is), saves each that arrives to the member's library, and
    /// then tells them how it went.
    fn fetch_into_library(&self, user: User, ids: Vec<ArxivId>, tag: Option<String>) {
        let Some(fetcher) = self.fetcher.clone() else {
            return;
        };
        let app = self.clone();
        tokio::spawn(async move {
            let (mut saved, mut missing) = (0usize, Vec::new());
            for id in &ids {
                let arrived = match fetcher.fetch(id).await {
                    Ok(true) => app.paper_key(id).await.ok(),
                    Ok(false) => None,
                    Err(e) => {
                        tracing::warn!(%id, error = %e, "fetching an imported paper failed");
                        None
                    }
                };
                match arrived {
                    Some(key) => match app
                        .store
                        .save_many(user.user_id, &[key], tag.as_deref())
                        .await
                    {
                        Ok(_) => saved += 1,
                        Err(e) => {
                            tracing::warn!(%id, error = %e, "saving an imported paper failed");
                            missing.push(id.to_string());
                        }
                    },
                    None => missing.push(id.to_string()),
                }
            }
            let mut text = format!(
                "Your library import: {saved} of {} papers fetched from arXiv and saved.",
                ids.len()
            );
            if !missing.is_empty() {
                text.push_str(&format!(
                    " Not found or not reachable: {}.",
                    missing.join(", ")
                ));
            }
            if let Err(e) = app.notify_member(&user, "import", &text).await {
                tracing::warn!(error = %e, "cannot notify an importer");
            }
        });
    }

    /// The store key of each entry (with its line), fetching unknown ids.
    async fn resolve(
        &self,
        entries: &[FileEntry],
        problems: &mut Vec<Problem>,
        report: &mut ImportReport,
        mut later: Option<&mut Vec<ArxivId>>,
        progress: &(dyn Fn(usize, usize) + Sync),
    ) -> Result<Vec<(usize, PaperId)>, AppError> {
        let ids: Vec<ArxivId> = entries
            .iter()
            .filter_map(|e| match &e.wanted {
                Wanted::Id(id) => Some(id.clone()),
                Wanted::Title(_) => None,
            })
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        let mut known: HashMap<ArxivId, PaperId> = HashMap::new();
        for chunk in ids.chunks(1000) {
            for l in self.store.get_papers(chunk).await? {
                known.insert(l.stored.paper.id.clone(), l.stored.paper_id);
            }
        }
        let mut out = Vec::with_capacity(entries.len());
        let mut fetches = 0usize;
        for (done, e) in entries.iter().enumerate() {
            if done % 500 == 0 {
                progress(done, entries.len());
            }
            let found = match &e.wanted {
                Wanted::Id(id) => match (known.get(id), later.as_deref_mut()) {
                    (Some(k), _) => Ok(*k),
                    (None, Some(later)) if self.fetcher.is_some() => {
                        if later.contains(id) {
                            continue;
                        }
                        if later.len() < MAX_IMPORT_FETCHES {
                            later.push(id.clone());
                            continue;
                        }
                        Err(Unmatched(format!(
                            "{id} is not in this store; an import fetches at most {MAX_IMPORT_FETCHES} papers from arXiv, import the file again for the rest"
                        )))
                    }
                    (None, _) => self
                        .fetch_for_import(id, &mut fetches, report)
                        .await
                        .inspect(|k| {
                            known.insert(id.clone(), *k);
                        }),
                },
                Wanted::Title(t) => self.match_title(t).await,
            };
            match found {
                Ok(k) => out.push((e.line, k)),
                Err(Unmatched(why)) => problems.push(Problem {
                    line: e.line,
                    message: match &e.key {
                        Some(key) => format!("entry `{key}`: {why}"),
                        None => why,
                    },
                }),
            }
        }
        progress(entries.len(), entries.len());
        Ok(out)
    }

    async fn fetch_for_import(
        &self,
        id: &ArxivId,
        fetches: &mut usize,
        report: &mut ImportReport,
    ) -> Result<PaperId, Unmatched> {
        let Some(fetcher) = &self.fetcher else {
            return Err(Unmatched(format!(
                "{id} is not in this store (and arXiv is not set up here)"
            )));
        };
        if *fetches >= MAX_IMPORT_FETCHES {
            return Err(Unmatched(format!(
                "{id} is not in this store; an import fetches at most {MAX_IMPORT_FETCHES} papers from arXiv, import the file again for the rest"
            )));
        }
        *fetches += 1;
        match fetcher.fetch(id).await {
            Ok(true) => {
                report.fetched += 1;
                self.paper_key(id)
                    .await
                    .map_err(|e| Unmatched(e.to_string()))
            }
            Ok(false) => Err(Unmatched(format!("arXiv has no paper {id}"))),
            Err(e) => Err(Unmatched(format!("{id} could not be fetched: {e}"))),
        }
    }

    /// The paper whose normalised title is `title`'s.
    async fn match_title(&self, title: &str) -> Result<PaperId, Unmatched> {
        if self.search.is_none() {
            return Err(Unmatched(
                "no arXiv id, and search is not set up to match the title".into(),
            ));
        }
        self.paper_titled(title)
            .await
            .map(|p| p.paper_id)
            .ok_or_else(|| {
                Unmatched(format!(
                    "no arXiv id, and no paper here is titled “{}”",
                    title.trim()
                ))
            })
    }

    /// The paper of the store with this title (compared loosely: letters
    /// and digits), found through the keyword index; `None` without one.
    pub(crate) async fn paper_titled(&self, title: &str) -> Option<StoredPaper> {
        let want = bibtex::normalise_title(title);
        let search = self.search.as_ref()?;
        let query: String = want
            .split_whitespace()
            .take(24)
            .map(|w| format!("ti:{w}"))
            .collect::<Vec<_>>()
            .join(" ");
        if query.is_empty() {
            return None;
        }
        let ids = match search.find(&query, 5).await {
            Ok(ids) => ids,
            Err(e) => {
                tracing::warn!(error = %e, "title search failed");
                return None;
            }
        };
        let papers = self.store.get_papers(&ids).await.ok()?;
        papers
            .into_iter()
            .find(|p| bibtex::normalise_title(&p.stored.paper.title) == want)
            .map(|p| p.stored)
    }

    /// The library (or one tag of it) as a file.
    pub async fn export_library(
        &self,
        user: &User,
        tag: Option<&str>,
        format: ExportFormat,
    ) -> Result<String, AppError> {
        let mut rows = Vec::new();
        let mut offset = 0;
        loop {
            let q = LibraryQuery {
                tag: tag.map(str::to_string),
                offset,
                limit: 1000,
                ..Default::default()
            };
            let page = self.library(user, &q).await?;
            let n = page.len() as u32;
            rows.extend(page.into_iter().map(|i| export_row(&i)));
            if n < 1000 {
                break;
            }
            offset += n;
        }
        match format {
            ExportFormat::Bibtex => Ok(bibtex::to_bibtex(&rows)),
            ExportFormat::Json => serde_json::to_string_pretty(&rows)
                .map_err(|e| AppError::Internal(format!("library as JSON: {e}"))),
            ExportFormat::Csv => bibtex::to_csv(&rows)
                .map_err(|e| AppError::Internal(format!("library as CSV: {e}"))),
        }
    }

    /// A new private feed URL token for the member (earlier ones stay
    /// valid until revoked).
    pub async fn new_feed_token(&self, user: &User) -> Result<String, AppError> {
        let token = new_token();
        self.store
            .add_feed_token(user.user_id, &token_digest(&token))
            .await?;
        Ok(token)
    }

    /// Revokes every private feed URL of the member: they answer 404 at once.
    pub async fn revoke_feed_tokens(&self, user: &User) -> Result<u64, AppError> {
        Ok(self.store.revoke_feed_tokens(user.user_id).await?)
    }

    pub async fn has_feed_token(&self, user: &User) -> Result<bool, AppError> {
        Ok(self.store.has_feed_token(user.user_id).await?)
    }

    /// The member a private feed token belongs to.
    pub async fn feed_token_user(&self, token: &str) -> Result<User, AppError> {
        self.store
            .feed_token_user(&token_digest(token))
            .await
            .map_err(|e| AppError::or_not_found(e, || "no such feed".into()))
    }

    /// Papers in the library among `papers`, in their order (for lists).
    pub async fn in_library(
        &self,
        user: &User,
        papers: &[ListedPaper],
    ) -> Result<HashSet<PaperId>, AppError> {
        let keys: Vec<PaperId> = papers.iter().map(|p| p.stored.paper_id).collect();
        Ok(self.saved_of(user, &keys).await?.into_keys().collect())
    }

    /// Listed papers of `ids`, in that order.
    pub async fn listed_in_order(&self, ids: &[ArxivId]) -> Result<Vec<ListedPaper>, AppError> {
        Ok(in_order(ids, self.store.get_papers(ids).await?))
    }
}

fn export_row(i: &LibraryItem) -> ExportRow {
    let p = &i.paper.stored.paper;
    ExportRow {
        id: p.id.as_str().to_string(),
        title: p.title.clone(),
        authors: p.authors.iter().map(|a| a.name.clone()).collect(),
        published: p.published_at().format("%Y-%m-%d").to_string(),
        categories: p
            .categories
            .iter()
            .map(|c| c.as_str().to_string())
            .collect(),
        doi: p.doi.clone(),
        url: p.id.abs_url(),
        tags: i.saved.tags.clone(),
        added_at: crate::views::rfc3339(i.saved.added_at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_are_checked_and_folded() {
        assert_eq!(check_tag(" Merging ").unwrap(), "merging");
        assert!(check_tag("").is_err());
        assert_eq!(
            check_tag(" Weight  averaging ").unwrap(),
            "weight-averaging",
            "a tag of two words, as an address can hold it"
        );
        assert!(check_tag("<script>").is_err());
        assert!(check_tag(&"x".repeat(41)).is_err());
        let t = check_tags(&["a".into(), "A".into(), "b-2".into()]).unwrap();
        assert_eq!(t, vec!["a", "b-2"]);
    }
}

/// A saved paper as the API shows it.
#[derive(Debug, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LibraryEntryView {
    pub paper: crate::views::PaperView,
    pub tags: Vec<String>,
    pub added_at: String,
}

impl App {
    pub async fn library_views(
        &self,
        items: &[LibraryItem],
    ) -> Result<Vec<LibraryEntryView>, AppError> {
        let ids: Vec<PaperId> = items.iter().map(|i| i.paper.stored.paper_id).collect();
        let claims = self.claimed_authors(&ids).await?;
        Ok(items
            .iter()
            .map(|i| LibraryEntryView {
                paper: crate::views::PaperView::new(
                    &i.paper.stored,
                    claims.get(&i.paper.stored.paper_id),
                ),
                tags: i.saved.tags.clone(),
                added_at: crate::views::rfc3339(i.saved.added_at),
            })
            .collect())
    }
}

impl App {
    /// A public collection as a feed: newest saved first.
    pub async fn collection_feed(
        &self,
        username: &str,
        tag: &str,
    ) -> Result<crate::feeds::Feed, AppError> {
        let (owner, items) = self
            .collection(username, tag, crate::feeds::ENTRIES)
            .await?;
        let base = self.settings.base_url.trim_end_matches('/');
        let tag = tag.trim().to_lowercase();
        Ok(crate::feeds::Feed {
            title: format!(
                "{tag} · a collection by {} · {}",
                owner.username, self.settings.instance_name
            ),
            page_url: format!(
                "{base}/u/{}/{}",
                owner.username,
                crate::feeds::urlencode(&tag)
            ),
            entries: items
                .into_iter()
                .map(|i| crate::feeds::FeedEntry {
                    updated: i.saved.added_at,
                    listed: i.paper,
                    note: None,
                })
                .collect(),
        })
    }

    /// A member's private feed: recommendations among the last week's
    /// papers (for one tag, if given), each with its reasons, and their
    /// alerts.
    pub async fn private_feed(
        &self,
        user: &User,
        tag: Option<&str>,
    ) -> Result<crate::feeds::Feed, AppError> {
        let base = self.settings.base_url.trim_end_matches('/');
        let req = crate::recommend::RecRequest::new(tag, 7, crate::feeds::ENTRIES as usize)?;
        let recs = match self.recommendations(user, &req).await {
            Ok(r) => r,
            // Without search there are no recommendations, but alerts still come.
            Err(AppError::NotConfigured(_)) => Vec::new(),
            Err(e) => return Err(e),
        };
        let now = chrono::Utc::now();
        let mut entries: Vec<crate::feeds::FeedEntry> = Vec::new();
        for r in recs {
            let mut note = format!(
                "Recommended: close to {}",
                r.similar_to
                    .iter()
                    .map(|i| i.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if !r.terms.is_empty() {
                note.push_str(&format!("; shares {}", r.terms.join(", ")));
            }
            match r.cites.len() {
                0 => {}
                1 => note.push_str("; cites 1 paper in your library"),
                n => note.push_str(&format!("; cites {n} papers in your library")),
            }
            let p = &r.paper.stored.paper;
            let updated = p
                .versions
                .last()
                .map(|v| v.created_at)
                .unwrap_or_else(|| p.published_at());
            entries.push(crate::feeds::FeedEntry {
                listed: r.paper,
                updated: updated.min(now),
                note: Some(note),
            });
        }
        let alerts: Vec<paperboy_store::Notification> = self
            .store
            .notifications(user.user_id, 100)
            .await?
            .into_iter()
            .filter(|n| {
                n.kind.starts_with("follow_") || n.kind.starts_with(crate::watch::KIND_PREFIX)
            })
            .take(crate::feeds::ENTRIES as usize)
            .collect();
        let ids: Vec<ArxivId> = alerts.iter().filter_map(|n| n.arxiv_id.clone()).collect();
        let papers: HashMap<ArxivId, ListedPaper> = self.papers_by_id(&ids).await?;
        for n in alerts {
            let Some(p) = n.arxiv_id.as_ref().and_then(|id| papers.get(id)) else {
                continue;
            };
            let note = if n.kind.starts_with(crate::watch::KIND_PREFIX) {
                format!("Your library: {}", n.text)
            } else {
                n.text
            };
            entries.push(crate::feeds::FeedEntry {
                listed: p.clone(),
                updated: n.created_at,
                note: Some(note),
            });
        }
        let title = match tag {
            Some(t) => format!("For you ({t}) · {}", self.settings.instance_name),
            None => format!("For you · {}", self.settings.instance_name),
        };
        Ok(crate::feeds::Feed {
            title,
            page_url: format!("{base}/for-you"),
            entries,
        })
    }
}

/// Why an entry of an imported library matched no paper, in words for the
/// report's line.
#[derive(Debug)]
struct Unmatched(String);

//! The JSON shapes of the API (they follow the Hugging Face papers API so
//! its clients work), shared by the web layer and `paperboy … --json`.

use std::collections::HashMap;

use paperboy_core::search::Hit;
use paperboy_core::CodeLink;
use paperboy_store::{ListedPaper, StoredPaper};
use serde::Serialize;

use crate::{App, AppError};

/// A member, as Hugging Face names one (`user` is the username).
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub user: String,
    pub username: String,
    pub fullname: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

impl UserView {
    pub fn new(username: &str) -> Self {
        UserView {
            user: username.to_string(),
            username: username.to_string(),
            fullname: username.to_string(),
            kind: "user",
        }
    }
}

#[derive(Debug, Serialize)]
pub struct AuthorView {
    pub name: String,
    /// The member approved as this author, when one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<UserView>,
}

/// Approved authors of one paper: position → username.
pub type Claims = HashMap<u32, String>;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VersionView {
    pub version: String,
    pub created_at: String,
}

/// `GET /api/papers/{id}`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PaperView {
    pub id: String,
    pub title: String,
    pub summary: String,
    pub authors: Vec<AuthorView>,
    pub published_at: String,
    pub categories: Vec<String>,
    pub upvotes: i64,
    pub github_repo: Option<String>,
    pub github_stars: Option<i64>,
    pub project_page: Option<String>,
    pub num_comments: i64,
    /// Papers here citing this one (read from their full text).
    pub citation_count: i64,
    /// Works citing it as OpenAlex counts them, on a single paper's view
    /// where asked (papers whose full text arXiv lacks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub open_alex_citation_count: Option<i64>,
    pub code_links: Vec<CodeLink>,
    pub versions: Vec<VersionView>,
    /// arXiv's comments field (pages, venue). Not `comments`: Hugging
    /// Face's client reads that name as the number of comments.
    pub arxiv_comments: Option<String>,
    pub journal_ref: Option<String>,
    pub doi: Option<String>,
    pub license: Option<String>,
    pub arxiv_url: String,
    pub pdf_url: String,
}

impl From<&StoredPaper> for PaperView {
    fn from(s: &StoredPaper) -> Self {
        PaperView::new(s, None)
    }
}

impl PaperView {
    /// With the approved authors linked to their members.
    pub fn new(s: &StoredPaper, claims: Option<&Claims>) -> Self {
        let p = &s.paper;
        PaperView {
            id: p.id.to_string(),
            title: p.title.clone(),
            summary: p.abstract_text.clone(),
            authors: p
                .authors
                .iter()
                .enumerate()
                .map(|(i, a)| AuthorView {
                    name: a.name.clone(),
                    user: claims
                        .and_then(|c| c.get(&(i as u32)))
                        .map(|u| UserView::new(u)),
                })
                .collect(),
            published_at: rfc3339(p.published_at()),
            categories: p.categories.iter().map(|c| c.to_string()).collect(),
            upvotes: s.upvotes,
            github_repo: s.github_repo().map(str::to_string),
            github_stars: s.github_stars,
            project_page: s.project_page.clone(),
            num_comments: s.num_comments,
            citation_count: s.citation_count,
            open_alex_citation_count: None,
            code_links: p.code_links.clone(),
            versions: p
                .versions
                .iter()
                .map(|v| VersionView {
                    version: format!("v{}", v.number),
                    created_at: rfc3339(v.created_at),
                })
                .collect(),
            arxiv_comments: p.comments.clone(),
            journal_ref: p.journal_ref.clone(),
            doi: p.doi.clone(),
            license: p.license.clone(),
            arxiv_url: p.id.abs_url(),
            pdf_url: p.id.pdf_url(),
        }
    }
}

pub fn rfc3339(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[derive(Debug, Serialize)]
pub struct SubmitterView {
    pub name: String,
    pub fullname: String,
    /// The username, where Hugging Face's clients read it.
    pub user: String,
    #[serde(rename = "type")]
    pub kind: &'static str,
}

/// One row of a list, in the Hugging Face daily papers shape (the code
/// link, stars and project page also at the top, where Hugging Face's
/// client reads them).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RowView {
    pub paper: PaperView,
    pub title: String,
    pub summary: String,
    pub published_at: String,
    pub github_repo: Option<String>,
    pub github_stars: Option<i64>,
    pub project_page: Option<String>,
    pub submitted_by: Option<SubmitterView>,
    pub submitted_on_daily_at: Option<String>,
    pub num_comments: i64,
}

impl From<&ListedPaper> for RowView {
    fn from(l: &ListedPaper) -> Self {
        RowView::new(l, None)
    }
}

impl RowView {
    pub fn new(l: &ListedPaper, claims: Option<&Claims>) -> Self {
        let paper = PaperView::new(&l.stored, claims);
        RowView {
            title: paper.title.clone(),
            summary: paper.summary.clone(),
            published_at: paper.published_at.clone(),
            github_repo: paper.github_repo.clone(),
            github_stars: paper.github_stars,
            project_page: paper.project_page.clone(),
            num_comments: paper.num_comments,
            submitted_by: l.daily.as_ref().map(|d| SubmitterView {
                name: d.submitted_by.clone(),
                fullname: d.submitted_by.clone(),
                user: d.submitted_by.clone(),
                kind: "user",
            }),
            submitted_on_daily_at: l.daily.as_ref().map(|d| rfc3339(d.submitted_at)),
            paper,
        }
    }
}

/// One search result, as `GET /api/papers/search` and `paperboy search --json` answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchRow {
    pub paper: PaperView,
    pub title: String,
    pub summary: String,
    pub published_at: String,
    pub github_repo: Option<String>,
    pub github_stars: Option<i64>,
    pub project_page: Option<String>,
    pub score: f32,
    pub highlighted_title: Option<String>,
    pub highlighted_summary: Option<String>,
    /// The paper's best passage matching the query, where its full text is
    /// indexed and matches.
    pub passage: Option<PassageView>,
}

/// A passage of a paper's full text matching a query: the section it is
/// in and a snippet (HTML: escaped text, `<mark>` around the matches).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PassageView {
    pub section: String,
    pub snippet: String,
}

impl From<&paperboy_core::search::TextMatch> for PassageView {
    fn from(m: &paperboy_core::search::TextMatch) -> Self {
        PassageView {
            section: m.section.clone(),
            snippet: m.snippet.clone(),
        }
    }
}

impl SearchRow {
    pub fn new(l: &ListedPaper, hit: &Hit, claims: Option<&Claims>) -> Self {
        let paper = PaperView::new(&l.stored, claims);
        SearchRow {
            title: paper.title.clone(),
            summary: paper.summary.clone(),
            published_at: paper.published_at.clone(),
            github_repo: paper.github_repo.clone(),
            github_stars: paper.github_stars,
            project_page: paper.project_page.clone(),
            score: hit.score,
            highlighted_title: hit.highlighted_title.clone(),
            highlighted_summary: hit.highlighted_summary.clone(),
            passage: hit.passage.as_ref().map(PassageView::from),
            paper,
        }
    }
}

impl App {
    /// Views of `rows` with their approved authors.
    pub async fn row_views(&self, rows: &[ListedPaper]) -> Result<Vec<RowView>, AppError> {
        let ids: Vec<_> = rows.iter().map(|l| l.stored.paper_id).collect();
        let claims = self.claimed_authors(&ids).await?;
        Ok(rows
            .iter()
            .map(|l| RowView::new(l, claims.get(&l.stored.paper_id)))
            .collect())
    }

    /// One paper's view with its approved authors.
    pub async fn paper_view(&self, s: &StoredPaper) -> Result<PaperView, AppError> {
        let claims = self.claimed_authors(&[s.paper_id]).await?;
        let mut view = PaperView::new(s, claims.get(&s.paper_id));
        view.open_alex_citation_count = self.store.cited_elsewhere(s.paper_id).await?;
        Ok(view)
    }

    /// Search rows with their approved authors.
    pub async fn search_rows(
        &self,
        found: &[(ListedPaper, Hit)],
    ) -> Result<Vec<SearchRow>, AppError> {
        let ids: Vec<_> = found.iter().map(|(l, _)| l.stored.paper_id).collect();
        let claims = self.claimed_authors(&ids).await?;
        Ok(found
            .iter()
            .map(|(l, h)| SearchRow::new(l, h, claims.get(&l.stored.paper_id)))
            .collect())
    }
}

/// A comment in `GET /api/papers/{id}/comments` (replies nested).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CommentView {
    pub id: i64,
    pub parent_id: Option<i64>,
    /// `null` once deleted or hidden.
    pub author: Option<UserView>,
    /// The Markdown as typed; empty once deleted or hidden.
    pub body: String,
    /// The rendered, sanitised HTML; empty once deleted or hidden.
    pub html: String,
    /// `visible`, `deleted` (by its author) or `hidden` (by a moderator).
    pub status: &'static str,
    pub created_at: String,
    pub edited_at: Option<String>,
    pub upvotes: i64,
    pub replies: Vec<CommentView>,
}

impl CommentView {
    pub fn new(c: &paperboy_store::Comment, replies: Vec<CommentView>) -> Self {
        let status = if c.deleted_at.is_some() {
            "deleted"
        } else if c.hidden_at.is_some() {
            "hidden"
        } else {
            "visible"
        };
        let shown = status == "visible";
        CommentView {
            id: c.comment_id.0,
            parent_id: c.parent_id.map(|p| p.0),
            author: shown.then(|| UserView::new(&c.author)),
            body: if shown { c.body.clone() } else { String::new() },
            html: if shown { c.html.clone() } else { String::new() },
            status,
            created_at: rfc3339(c.created_at),
            edited_at: c.edited_at.map(rfc3339),
            upvotes: c.upvotes,
            replies,
        }
    }

    /// A thread, top-level comments oldest first, each with its replies.
    pub fn thread(entries: &[crate::discussions::ThreadEntry]) -> Vec<CommentView> {
        entries
            .iter()
            .map(|e| {
                let replies = e
                    .replies
                    .iter()
                    .map(|r| CommentView::new(r, vec![]))
                    .collect();
                CommentView::new(&e.comment, replies)
            })
            .collect()
    }
}

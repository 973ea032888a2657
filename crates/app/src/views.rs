//! The JSON shapes of the API (they follow the Hugging Face papers API so
//! its clients work), shared by the web layer and `paperboy … --json`.

use paperboy_core::CodeLink;
use paperboy_search::Hit;
use paperboy_store::{ListedPaper, StoredPaper};
use serde::Serialize;
#[derive(Debug, Serialize)]
pub struct AuthorView {
    pub name: String,
}

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
    pub num_comments: i64,
    pub code_links: Vec<CodeLink>,
    pub versions: Vec<VersionView>,
    pub comments: Option<String>,
    pub journal_ref: Option<String>,
    pub doi: Option<String>,
    pub license: Option<String>,
    pub arxiv_url: String,
    pub pdf_url: String,
}

impl From<&StoredPaper> for PaperView {
    fn from(s: &StoredPaper) -> Self {
        let p = &s.paper;
        PaperView {
            id: p.id.to_string(),
            title: p.title.clone(),
            summary: p.abstract_text.clone(),
            authors: p
                .authors
                .iter()
                .map(|a| AuthorView {
                    name: a.name.clone(),
                })
                .collect(),
            published_at: rfc3339(p.published_at()),
            categories: p.categories.iter().map(|c| c.to_string()).collect(),
            upvotes: s.upvotes,
            github_repo: p.github_repo().map(str::to_string),
            github_stars: s.github_stars,
            num_comments: s.num_comments,
            code_links: p.code_links.clone(),
            versions: p
                .versions
                .iter()
                .map(|v| VersionView {
                    version: format!("v{}", v.number),
                    created_at: rfc3339(v.created_at),
                })
                .collect(),
            comments: p.comments.clone(),
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
}

/// One row of a list, in the Hugging Face daily papers shape.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RowView {
    pub paper: PaperView,
    pub title: String,
    pub summary: String,
    pub published_at: String,
    pub submitted_by: Option<SubmitterView>,
    pub submitted_on_daily_at: Option<String>,
    pub num_comments: i64,
}

impl From<&ListedPaper> for RowView {
    fn from(l: &ListedPaper) -> Self {
        let paper = PaperView::from(&l.stored);
        RowView {
            title: paper.title.clone(),
            summary: paper.summary.clone(),
            published_at: paper.published_at.clone(),
            num_comments: paper.num_comments,
            submitted_by: l.daily.as_ref().map(|d| SubmitterView {
                name: d.submitted_by.clone(),
                fullname: d.submitted_by.clone(),
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
    pub score: f32,
    pub highlighted_title: Option<String>,
    pub highlighted_summary: Option<String>,
}

impl SearchRow {
    pub fn new(l: &ListedPaper, hit: &Hit) -> Self {
        let paper = PaperView::from(&l.stored);
        SearchRow {
            title: paper.title.clone(),
            summary: paper.summary.clone(),
            published_at: paper.published_at.clone(),
            score: hit.score,
            highlighted_title: hit.highlighted_title.clone(),
            highlighted_summary: hit.highlighted_summary.clone(),
            paper,
        }
    }
}

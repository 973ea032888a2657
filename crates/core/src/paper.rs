//! A paper as Paperboy keeps it.

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use crate::{ArxivId, Category, CodeLink, CodeLinkKind};

/// The store's own key for a paper.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct PaperId(pub i64);

/// The store's key for a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CommentId(pub i64);

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Author {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Version {
    pub number: u32,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PaperError {
    #[error("empty title")]
    EmptyTitle,
    #[error("versions out of order: v{0} listed after v{1}")]
    VersionOrder(u32, u32),
    #[error("version v{0} dated {1}, before arXiv existed")]
    ImpossibleDate(u32, String),
    #[error("version v{0} dated in the future ({1})")]
    FutureDate(u32, String),
}

/// Everything we know about one arXiv paper. Title and abstract have their
/// whitespace collapsed; TeX in them is kept as written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Paper {
    pub id: ArxivId,
    pub title: String,
    pub abstract_text: String,
    pub authors: Vec<Author>,
    /// Primary category first.
    pub categories: Vec<Category>,
    /// Oldest first.
    pub versions: Vec<Version>,
    pub comments: Option<String>,
    pub journal_ref: Option<String>,
    pub doi: Option<String>,
    pub report_no: Option<String>,
    pub license: Option<String>,
    pub submitter: Option<String>,
    /// `update_date` of the arXiv metadata.
    pub updated_on: Option<NaiveDate>,
    pub code_links: Vec<CodeLink>,
}

/// arXiv opened in August 1991; nothing can be dated before it.
fn arxiv_epoch() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(1991, 8, 1, 0, 0, 0)
        .single()
        .unwrap_or_default()
}

impl Paper {
    /// Checks what cannot be expressed in the types. `now` bounds dates so
    /// a record from the future is caught.
    pub fn validate(&self, now: DateTime<Utc>) -> Result<(), PaperError> {
        if self.title.trim().is_empty() {
            return Err(PaperError::EmptyTitle);
        }
        let mut last = 0;
        for v in &self.versions {
            if v.number <= last {
                return Err(PaperError::VersionOrder(v.number, last));
            }
            last = v.number;
            if v.created_at < arxiv_epoch() {
                return Err(PaperError::ImpossibleDate(
                    v.number,
                    v.created_at.to_rfc3339(),
                ));
            }
            if v.created_at > now + chrono::Duration::days(2) {
                return Err(PaperError::FutureDate(v.number, v.created_at.to_rfc3339()));
            }
        }
        Ok(())
    }

    pub fn latest_version(&self) -> u32 {
        self.versions.last().map(|v| v.number).unwrap_or(0)
    }

    /// First submission date; when the metadata lacks versions, the first
    /// day of the month the identifier was issued in.
    pub fn published_at(&self) -> DateTime<Utc> {
        if let Some(v) = self.versions.first() {
            return v.created_at;
        }
        let (y, m) = self.id.year_month();
        Utc.with_ymd_and_hms(y, m, 1, 0, 0, 0)
            .single()
            .unwrap_or_else(arxiv_epoch)
    }

    /// Whether its latest version withdraws it: arXiv replaces a withdrawn
    /// paper with a version whose comments say so ("This paper has been
    /// withdrawn by the author", "Withdrawn: …").
    pub fn is_withdrawn(&self) -> bool {
        self.comments.as_deref().is_some_and(says_withdrawn)
    }

    pub fn primary_category(&self) -> Option<&Category> {
        self.categories.first()
    }

    pub fn github_repo(&self) -> Option<&str> {
        self.code_links
            .iter()
            .find(|l| l.kind == CodeLinkKind::GitHub)
            .map(|l| l.url.as_str())
    }

    /// A stable fingerprint of the content, used to tell "unchanged" from
    /// "updated" on re-import. Stable across runs and platforms (xxh3).
    pub fn content_hash(&self) -> i64 {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        let mut field = |s: &str| {
            h.update(s.as_bytes());
            h.update(&[0x1f]);
        };
        field(self.id.as_str());
        field(&self.title);
        field(&self.abstract_text);
        for a in &self.authors {
            field(&a.name);
        }
        field("\u{1e}");
        for c in &self.categories {
            field(c.as_str());
        }
        field("\u{1e}");
        for v in &self.versions {
            field(&v.number.to_string());
            field(&v.created_at.timestamp().to_string());
        }
        for opt in [
            &self.comments,
            &self.journal_ref,
            &self.doi,
            &self.report_no,
            &self.license,
            &self.submitter,
        ] {
            field(opt.as_deref().unwrap_or("\u{0}"));
        }
        field(&self.updated_on.map(|d| d.to_string()).unwrap_or_default());
        h.digest() as i64
    }
}

/// Whether arXiv comments say a venue took the paper ("Accepted at ICML
/// 2024", "to appear in TACL", "Published in …", "camera-ready").
pub fn says_accepted(comments: &str) -> bool {
    let c = comments.to_ascii_lowercase();
    [
        "accepted",
        "to appear",
        "published in",
        "camera-ready",
        "camera ready",
    ]
    .iter()
    .any(|w| c.contains(w))
}

/// Whether arXiv comments announce a withdrawal.
pub fn says_withdrawn(comments: &str) -> bool {
    let c = comments.to_ascii_lowercase();
    c.contains("withdrawn") || c.contains("withdrawal of this paper")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub fn sample() -> Paper {
        Paper {
            id: ArxivId::parse("2203.05482").unwrap(),
            title: "Model soups".into(),
            abstract_text: "Averaging weights.".into(),
            authors: vec![Author {
                name: "Mitchell Wortsman".into(),
            }],
            categories: vec![Category::parse("cs.LG").unwrap()],
            versions: vec![Version {
                number: 1,
                created_at: Utc.with_ymd_and_hms(2022, 3, 10, 18, 0, 0).unwrap(),
            }],
            comments: None,
            journal_ref: None,
            doi: None,
            report_no: None,
            license: None,
            submitter: None,
            updated_on: None,
            code_links: vec![],
        }
    }

    #[test]
    fn validation_catches_impossible_dates_and_order() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let p = sample();
        assert_eq!(p.validate(now), Ok(()));
        let mut early = sample();
        early.versions[0].created_at = Utc.with_ymd_and_hms(1980, 1, 1, 0, 0, 0).unwrap();
        assert!(matches!(
            early.validate(now),
            Err(PaperError::ImpossibleDate(1, _))
        ));
        let mut future = sample();
        future.versions[0].created_at = Utc.with_ymd_and_hms(2030, 1, 1, 0, 0, 0).unwrap();
        assert!(matches!(
            future.validate(now),
            Err(PaperError::FutureDate(1, _))
        ));
        let mut order = sample();
        order.versions.push(order.versions[0].clone());
        assert_eq!(order.validate(now), Err(PaperError::VersionOrder(1, 1)));
        let mut empty = sample();
        empty.title = "  ".into();
        assert_eq!(empty.validate(now), Err(PaperError::EmptyTitle));
    }

    #[test]
    fn published_at_falls_back_to_the_id_month() {
        let mut p = sample();
        assert_eq!(p.published_at().to_rfc3339(), "2022-03-10T18:00:00+00:00");
        p.versions.clear();
        assert_eq!(p.published_at().to_rfc3339(), "2022-03-01T00:00:00+00:00");
    }

    #[test]
    fn content_hash_tracks_content() {
        let a = sample();
        let mut b = sample();
        assert_eq!(a.content_hash(), b.content_hash());
        b.title.push('!');
        assert_ne!(a.content_hash(), b.content_hash());
        let mut c = sample();
        c.comments = Some(String::new());
        assert_ne!(
            a.content_hash(),
            c.content_hash(),
            "None and Some(\"\") differ"
        );
    }
}

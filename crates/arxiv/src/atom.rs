//! arXiv API (`/api/query`) responses: Atom 1.0 with `arxiv:` and
//! `opensearch:` elements.

use chrono::{DateTime, Utc};
use paperboy_core::{ArxivId, Paper, VersionedId};

use crate::normalize::{RawRecord, RawVersion, RecordError};
use crate::xml::{attr, walk, Node, XmlError};

#[derive(Debug)]
pub struct AtomFeed {
    pub total_results: Option<u64>,
    pub entries: Vec<AtomEntry>,
}

// One record at a time, and nearly every one is a paper: boxing the
// paper would add an allocation per record and save nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum AtomEntry {
    Paper(Paper),
    /// An entry that could not be turned into a paper (the entry's id URL, why).
    Rejected {
        entry_id: String,
        reason: String,
    },
    /// arXiv answers bad queries with an entry whose id is an error URL.
    ApiError {
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AtomError {
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("not an Atom feed: {0}")]
    NotAtom(String),
}

#[derive(Default)]
struct Entry {
    id: String,
    title: Option<String>,
    summary: Option<String>,
    published: Option<String>,
    updated: Option<String>,
    authors: Vec<String>,
    comment: Option<String>,
    journal_ref: Option<String>,
    doi: Option<String>,
    primary: Option<String>,
    categories: Vec<String>,
    license: Option<String>,
}

fn rfc2822(s: &str) -> Result<String, RecordError> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|d| {
            d.with_timezone(&Utc)
                .format("%a, %-d %b %Y %H:%M:%S GMT")
                .to_string()
        })
        .map_err(|e| RecordError(format!("impossible date `{s}`: {e}")))
}

fn id_from_url(url: &str) -> Result<VersionedId, RecordError> {
    let tail = url.trim().split("/abs/").nth(1).unwrap_or(url.trim());
    VersionedId::parse(tail).map_err(|e| RecordError(format!("invalid id: {e}")))
}

impl Entry {
    fn into_entry(self, now: DateTime<Utc>) -> AtomEntry {
        if self.id.contains("/api/errors") {
            return AtomEntry::ApiError {
                message: self.summary.unwrap_or_default().trim().to_string(),
            };
        }
        let entry_id = self.id.clone();
        match self.into_paper(now) {
            Ok(p) => AtomEntry::Paper(p),
            Err(e) => AtomEntry::Rejected {
                entry_id,
                reason: e.0,
            },
        }
    }

    fn into_paper(self, now: DateTime<Utc>) -> Result<Paper, RecordError> {
        let vid = id_from_url(&self.id)?;
        // The API gives the first and the latest version's dates only.
        let mut versions = Vec::new();
        if let Some(p) = &self.published {
            versions.push(RawVersion {
                version: "v1".into(),
                created: rfc2822(p)?,
            });
        }
        if let (Some(v), Some(u)) = (vid.version.filter(|&v| v > 1), &self.updated) {
            versions.push(RawVersion {
                version: format!("v{v}"),
                created: rfc2822(u)?,
            });
        }
        let mut cats: Vec<String> = self.primary.into_iter().collect();
        for c in self.categories {
            if !cats.contains(&c) {
                cats.push(c);
            }
        }
        let raw = RawRecord {
            id: Some(vid.id.to_string()),
            title: self.title,
            abstract_text: self.summary,
            authors: Some(self.authors.join(", ")),
            categories: Some(cats.join(" ")),
            comments: self.comment,
            journal_ref: self.journal_ref,
            doi: self.doi,
            license: self.license,
            versions: Some(versions),
            update_date: self
                .updated
                .as_deref()
                .and_then(|u| u.get(..10))
                .map(str::to_string),
            ..Default::default()
        };
        raw.into_paper(now)
    }
}

/// Parses an API response.
pub fn parse_feed(xml: &str, now: DateTime<Utc>) -> Result<AtomFeed, AtomError> {
    let mut feed = AtomFeed {
        total_results: None,
        entries: Vec::new(),
    };
    let mut path: Vec<String> = Vec::new();
    let mut text = String::new();
    let mut entry: Option<Entry> = None;
    let mut root: Option<String> = None;
    walk(xml, |node| match node {
        Node::Open(name, attrs) => {
            if root.is_none() {
                root = Some(name.to_string());
            }
            text.clear();
            if let Some(e) = entry.as_mut() {
                match name {
                    "primary_category" => e.primary = attr(&attrs, "term").map(str::to_string),
                    "category" => {
                        if let Some(t) = attr(&attrs, "term") {
                            e.categories.push(t.to_string());
                        }
                    }
                    "link" if attr(&attrs, "rel") == Some("license") => {
                        e.license = attr(&attrs, "href").map(str::to_string);
                    }
                    _ => {}
                }
            }
            if name == "entry" {
                entry = Some(Entry::default());
            }
            path.push(name.to_string());
        }
        Node::Text(t) => text.push_str(t),
        Node::Close(name) => {
            path.pop();
            let parent = path.last().map(String::as_str).unwrap_or("");
            let value = std::mem::take(&mut text);
            if name == "entry" {
                if let Some(e) = entry.take() {
                    feed.entries.push(e.into_entry(now));
                }
                return;
            }
            if name == "totalResults" && entry.is_none() {
                feed.total_results = value.trim().parse().ok();
                return;
            }
            let Some(e) = entry.as_mut() else { return };
            match (parent, name) {
                ("entry", "id") => e.id = value,
                ("entry", "title") => e.title = Some(value),
                ("entry", "summary") => e.summary = Some(value),
                ("entry", "published") => e.published = Some(value),
                ("entry", "updated") => e.updated = Some(value),
                ("entry", "comment") => e.comment = Some(value),
                ("entry", "journal_ref") => e.journal_ref = Some(value),
                ("entry", "doi") => e.doi = Some(value),
                ("author", "name") => e.authors.push(value.trim().to_string()),
                _ => {}
            }
        }
    })?;
    if root.as_deref() != Some("feed") {
        return Err(AtomError::NotAtom(format!(
            "root element is <{}>",
            root.unwrap_or_default()
        )));
    }
    Ok(feed)
}

/// The query URL for fetching papers by id.
pub fn id_list_url(api_url: &str, ids: &[ArxivId]) -> String {
    let list: Vec<&str> = ids.iter().map(|i| i.as_str()).collect();
    format!(
        "{api_url}?id_list={}&max_results={}",
        list.join(","),
        ids.len().max(1)
    )
}

//! OAI-PMH 2.0 `ListRecords` responses from arXiv, in the `arXiv` and
//! `arXivRaw` metadata formats.

use chrono::{DateTime, NaiveDate, Utc};
use paperboy_core::{ArxivId, Paper};

use crate::normalize::{RawRecord, RawVersion, RecordError};
use crate::xml::{attr, walk, Node, XmlError};

/// One record of a page.
// One record at a time, and nearly every one is a paper: boxing the
// paper would add an allocation per record and save nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug)]
pub enum OaiRecord {
    Live {
        identifier: String,
        datestamp: Option<NaiveDate>,
        paper: Result<Paper, RecordError>,
    },
    Deleted {
        identifier: String,
        datestamp: Option<NaiveDate>,
        id: Option<ArxivId>,
    },
}

impl OaiRecord {
    pub fn datestamp(&self) -> Option<NaiveDate> {
        match self {
            OaiRecord::Live { datestamp, .. } | OaiRecord::Deleted { datestamp, .. } => *datestamp,
        }
    }
}

#[derive(Debug, Default)]
pub struct OaiPage {
    pub records: Vec<OaiRecord>,
    /// The token of the next page; `None` (or an empty token) ends the list.
    pub resumption_token: Option<String>,
    pub complete_list_size: Option<u64>,
    pub cursor: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OaiError {
    /// Not an error for a harvester: nothing changed since `from`.
    #[error("noRecordsMatch: {0}")]
    NoRecordsMatch(String),
    #[error("badResumptionToken: {0}")]
    BadResumptionToken(String),
    #[error("OAI-PMH error {code}: {message}")]
    Protocol { code: String, message: String },
    #[error(transparent)]
    Xml(#[from] XmlError),
    #[error("not an OAI-PMH response: {0}")]
    NotOai(String),
}

/// The identifier of an arXiv OAI record: `oai:arXiv.org:2203.05482`.
pub fn id_from_identifier(identifier: &str) -> Option<ArxivId> {
    let raw = identifier
        .strip_prefix("oai:arXiv.org:")
        .unwrap_or(identifier);
    ArxivId::parse(raw).ok()
}

#[derive(Default)]
struct Builder {
    identifier: String,
    datestamp: Option<String>,
    deleted: bool,
    raw: RawRecord,
    has_metadata: bool,
    /// `arXiv` format: created/updated dates and structured authors.
    created: Option<String>,
    updated: Option<String>,
    author: Vec<String>,
    authors: Vec<Vec<String>>,
    version_label: Option<String>,
    msc_acm: Vec<String>,
}

fn set_field(b: &mut Builder, name: &str, text: String) {
    let t = Some(text);
    match name {
        "id" => b.raw.id = t,
        "title" => b.raw.title = t,
        "abstract" => b.raw.abstract_text = t,
        "categories" => b.raw.categories = t,
        "comments" => b.raw.comments = t,
        "journal-ref" => b.raw.journal_ref = t,
        "doi" => b.raw.doi = t,
        "report-no" => b.raw.report_no = t,
        "license" => b.raw.license = t,
        "submitter" => b.raw.submitter = t,
        // arXivRaw gives the author list as one string; arXiv gives elements.
        "authors" if b.authors.is_empty() => b.raw.authors = t,
        "created" => b.created = t,
        "updated" => b.updated = t,
        _ => {}
    }
}

fn finish(b: Builder, now: DateTime<Utc>) -> OaiRecord {
    let datestamp = b
        .datestamp
        .as_deref()
        .and_then(|d| NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d").ok());
    if b.deleted {
        return OaiRecord::Deleted {
            id: id_from_identifier(&b.identifier),
            identifier: b.identifier,
            datestamp,
        };
    }
    let mut raw = b.raw;
    let paper = if !b.has_metadata {
        Err(RecordError("record has no metadata".into()))
    } else {
        if raw.id.is_none() {
            raw.id = b
                .identifier
                .strip_prefix("oai:arXiv.org:")
                .map(str::to_string);
        }
        if !b.authors.is_empty() {
            raw.authors_parsed = Some(b.authors);
        }
        let mut result = Ok(());
        if raw.versions.is_none() {
            // The `arXiv` format has dates, not a version list: v1 is `created`.
            if let Some(created) = &b.created {
                match NaiveDate::parse_from_str(created.trim(), "%Y-%m-%d") {
                    Ok(d) => {
                        raw.versions = Some(vec![RawVersion {
                            version: "v1".into(),
                            created: d.format("%a, %-d %b %Y 00:00:00 GMT").to_string(),
                        }])
                    }
                    Err(e) => {
                        result = Err(RecordError(format!(
                            "impossible created date `{created}`: {e}"
                        )))
                    }
                }
            }
            raw.update_date = b.updated.or(b.created).map(|s| s.trim().to_string());
        } else if raw.update_date.is_none() {
            raw.update_date = b.datestamp.clone();
        }
        result.and_then(|()| raw.into_paper(now))
    };
    OaiRecord::Live {
        identifier: b.identifier,
        datestamp,
        paper,
    }
}

/// Parses a `ListRecords` response.
pub fn parse_list_records(xml: &str, now: DateTime<Utc>) -> Result<OaiPage, OaiError> {
    let mut p = ListRecords {
        now,
        ..ListRecords::default()
    };
    walk(xml, |node| match node {
        Node::Open(name, attrs) => p.open(name, &attrs),
        Node::Text(t) => p.text.push_str(t),
        Node::Close(name) => p.close(name),
    })?;
    p.finish()
}

/// The state of a `ListRecords` response being read.
#[derive(Default)]
struct ListRecords {
    now: DateTime<Utc>,
    page: OaiPage,
    /// Open elements, outermost first.
    path: Vec<String>,
    /// The current element's text.
    text: String,
    /// The record being read.
    current: Option<Builder>,
    /// An OAI-PMH error: code, message.
    error: Option<(String, String)>,
    root: Option<String>,
    in_metadata: bool,
}

impl ListRecords {
    fn open(&mut self, name: &str, attrs: &[(String, String)]) {
        if self.root.is_none() {
            self.root = Some(name.to_string());
        }
        self.text.clear();
        let in_metadata = self.in_metadata;
        match name {
            "record" => self.current = Some(Builder::default()),
            "header" => {
                if let Some(b) = self.current.as_mut() {
                    b.deleted = attr(attrs, "status") == Some("deleted");
                }
            }
            "metadata" => {
                self.in_metadata = true;
                if let Some(b) = self.current.as_mut() {
                    b.has_metadata = true;
                }
            }
            "author" if in_metadata => {
                if let Some(b) = self.current.as_mut() {
                    b.author = vec![String::new(); 3];
                }
            }
            "version" if in_metadata => {
                if let Some(b) = self.current.as_mut() {
                    b.version_label = attr(attrs, "version").map(str::to_string);
                }
            }
            "error" => {
                self.error = Some((
                    attr(attrs, "code").unwrap_or("unknown").to_string(),
                    String::new(),
                ))
            }
            "resumptionToken" => {
                self.page.complete_list_size =
                    attr(attrs, "completeListSize").and_then(|v| v.parse().ok());
                self.page.cursor = attr(attrs, "cursor").and_then(|v| v.parse().ok());
            }
            _ => {}
        }
        self.path.push(name.to_string());
    }

    fn close(&mut self, name: &str) {
        self.path.pop();
        let parent = self.path.last().map(String::as_str).unwrap_or("");
        let value = std::mem::take(&mut self.text);
        match name {
            "record" => {
                if let Some(b) = self.current.take() {
                    self.page.records.push(finish(b, self.now));
                }
                self.in_metadata = false;
            }
            "metadata" => self.in_metadata = false,
            "identifier" if parent == "header" => {
                if let Some(b) = self.current.as_mut() {
                    b.identifier = value.trim().to_string();
                }
            }
            "datestamp" if parent == "header" => {
                if let Some(b) = self.current.as_mut() {
                    b.datestamp = Some(value.trim().to_string());
                }
            }
            "error" => {
                if let Some(e) = self.error.as_mut() {
                    e.1 = value.trim().to_string();
                }
            }
            "resumptionToken" => {
                let token = value.trim();
                self.page.resumption_token = (!token.is_empty()).then(|| token.to_string());
            }
            _ if self.in_metadata => {
                if let Some(b) = self.current.as_mut() {
                    metadata_field(b, parent, name, value);
                }
            }
            _ => {}
        }
    }

    fn finish(self) -> Result<OaiPage, OaiError> {
        if self.root.as_deref() != Some("OAI-PMH") {
            return Err(OaiError::NotOai(format!(
                "root element is <{}>",
                self.root.unwrap_or_default()
            )));
        }
        if let Some((code, message)) = self.error {
            return Err(match code.as_str() {
                "noRecordsMatch" => OaiError::NoRecordsMatch(message),
                "badResumptionToken" => OaiError::BadResumptionToken(message),
                _ => OaiError::Protocol { code, message },
            });
        }
        Ok(self.page)
    }
}

/// An element of a record's metadata closed, inside `parent`, with its
/// text.
fn metadata_field(b: &mut Builder, parent: &str, name: &str, value: String) {
    match (parent, name) {
        ("author", "keyname") => b.author[0] = value,
        ("author", "forenames") => b.author[1] = value,
        ("author", "suffix") => b.author[2] = value,
        (_, "author") => {
            let parts = std::mem::take(&mut b.author);
            if parts.iter().any(|p| !p.trim().is_empty()) {
                b.authors.push(parts);
            }
        }
        ("version", "date") => {
            let label = b.version_label.clone().unwrap_or_default();
            b.raw
                .versions
                .get_or_insert_with(Vec::new)
                .push(RawVersion {
                    version: label,
                    created: value.trim().to_string(),
                });
        }
        ("arXiv" | "arXivRaw", "msc-class" | "acm-class") => b.msc_acm.push(value),
        ("arXiv" | "arXivRaw", field) => set_field(b, field, value),
        _ => {}
    }
}

//! Papers' full text as far as Paperboy keeps it (the fetch's state and
//! section titles) and the citation graph read from it.

use async_trait::async_trait;
use paperboy_core::{ArxivId, PaperId};

use crate::StoreError;

/// A paper whose full text is due, with what the last fetch left.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextDue {
    pub paper_id: PaperId,
    pub arxiv_id: ArxivId,
    pub version: u32,
    /// The `Last-Modified` of the last fetch of this version.
    pub last_modified: Option<String>,
}

/// How a fetch ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextStatus {
    /// Read: sections and references stored.
    Parsed,
    /// arXiv has no HTML for this version (no TeX source, or failed).
    Missing,
    /// There was a page, but not a paper (or not readable as one).
    Unreadable,
    /// Larger than the configured cap.
    TooLarge,
    /// Asked again (`If-Modified-Since`) and unchanged: only the version
    /// and the time are recorded, what was read stays.
    Unchanged,
    /// No full text, but the references and a cited-by count from a
    /// catalogue (OpenAlex).
    Catalogued,
}

impl TextStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TextStatus::Parsed => "parsed",
            TextStatus::Missing => "missing",
            TextStatus::Unreadable => "unreadable",
            TextStatus::TooLarge => "too_large",
            TextStatus::Unchanged => "unchanged",
            TextStatus::Catalogued => "catalogued",
        }
    }

    pub fn parse(s: &str) -> TextStatus {
        match s {
            "parsed" => TextStatus::Parsed,
            "unreadable" => TextStatus::Unreadable,
            "too_large" => TextStatus::TooLarge,
            "catalogued" => TextStatus::Catalogued,
            _ => TextStatus::Missing,
        }
    }
}

/// One reference as read from a paper, before it is stored.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewReference {
    /// The entry's text.
    pub text: String,
    pub title: Option<String>,
    /// An arXiv id the entry names: resolved now if the paper is here,
    /// or later when it arrives.
    pub arxiv_id: Option<ArxivId>,
    pub doi: Option<String>,
    pub year: Option<i32>,
    /// A paper found by the entry's title and year (the caller's match).
    pub matched: Option<PaperId>,
    /// The first sentence citing it.
    pub context: Option<String>,
}

/// What one fetch brings: the state to keep, and for a parsed page its
/// sections and references (they replace the paper's earlier ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextRecord {
    pub paper_id: PaperId,
    pub version: u32,
    pub status: TextStatus,
    pub last_modified: Option<String>,
    /// Bytes of the page as fetched.
    pub bytes: i64,
    pub sections: Vec<String>,
    /// A fingerprint of each section's text, in `sections` order: a new
    /// version's changed sections are named from them.
    pub section_hashes: Vec<i64>,
    pub references: Vec<NewReference>,
    /// The text's paragraphs and captions, for search inside papers
    /// (they replace the paper's earlier ones).
    pub passages: Vec<Passage>,
    /// Works citing it as a catalogue counts them (for `Catalogued`).
    pub cited_elsewhere: Option<i64>,
}

/// One passage of a paper's full text: a paragraph or a caption, and the
/// title of the section it is in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passage {
    pub section: String,
    pub text: String,
}

/// A paper whose passages changed, in the order of `text_seq`: its
/// passages now (none when the paper was deleted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextChange {
    pub seq: i64,
    pub arxiv_id: ArxivId,
    pub passages: Vec<Passage>,
}

/// One entry of a paper's reference list, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredReference {
    /// Its place in the list, from 1.
    pub position: i64,
    pub text: String,
    pub title: Option<String>,
    /// The paper in the store it names, when resolved.
    pub cited: Option<ArxivId>,
    pub doi: Option<String>,
    pub year: Option<i32>,
}

/// A paper citing another, with the sentence where it does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Citing {
    pub citing: ArxivId,
    pub context: Option<String>,
}

/// See [`CitationStore::text_facts`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextFacts {
    pub references: Vec<StoredReference>,
    pub citing: Vec<Citing>,
    pub sections: Vec<String>,
    pub cited_elsewhere: Option<i64>,
}

/// Progress of the full-text fetches, for `/metrics` and `/about`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TextStats {
    pub parsed: u64,
    pub missing: u64,
    pub unreadable: u64,
    pub too_large: u64,
    /// Papers whose references came from a catalogue (OpenAlex).
    pub catalogued: u64,
    /// Bytes of the pages fetched, in all.
    pub bytes: i64,
    pub references: u64,
    /// References naming a paper in the store.
    pub resolved: u64,
    /// Live papers with no fetch yet.
    pub waiting: u64,
    /// Passages kept for search inside papers, and their characters.
    pub passages: u64,
    pub passage_chars: i64,
}

#[async_trait]
pub trait CitationStore: Send + Sync + 'static {
    /// Papers whose full text is due (never fetched, or fetched for an
    /// older version), at most `limit`: papers in a library or followed
    /// first, then those on the daily list, then the newest.
    async fn texts_due(&self, limit: u32) -> Result<Vec<TextDue>, StoreError>;

    /// Fetches recorded since `since` (unix s): the daily budget's count.
    async fn texts_fetched_since(&self, since: i64) -> Result<u64, StoreError>;

    /// Stores one fetch in one transaction: its state, and for a parsed
    /// page the references (replacing the old ones), with the citation
    /// counts of every paper they name kept right.
    async fn record_text(&self, record: TextRecord) -> Result<(), StoreError>;

    /// References naming an arXiv id whose paper has arrived since:
    /// resolved now; how many.
    async fn resolve_waiting_references(&self) -> Result<u64, StoreError>;

    /// A paper's references, in the order of its list.
    async fn references_of(&self, paper: PaperId) -> Result<Vec<StoredReference>, StoreError>;

    /// Papers citing `paper`, newest first.
    async fn citations_of(&self, paper: PaperId, limit: u32) -> Result<Vec<Citing>, StoreError>;

    /// Which papers of `user`'s library each of `citing` cites (by their
    /// reference lists): `(citing, cited)` pairs.
    async fn library_cited_by(
        &self,
        user: paperboy_core::UserId,
        citing: &[PaperId],
    ) -> Result<Vec<(PaperId, ArxivId)>, StoreError>;

    /// What a paper page shows of the full text, in one read: the
    /// references, up to `limit` papers citing it, the section titles
    /// (empty when not read) and the catalogue's count.
    async fn text_facts(&self, paper: PaperId, limit: u32) -> Result<TextFacts, StoreError>;

    /// Works citing the paper as a catalogue (OpenAlex) counted them, when
    /// asked.
    async fn cited_elsewhere(&self, paper: PaperId) -> Result<Option<i64>, StoreError>;

    async fn text_stats(&self) -> Result<TextStats, StoreError>;
}

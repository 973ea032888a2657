//! Full text and citations: fetching papers' HTML from arXiv politely (one
//! at a time, a budget a day, readers' papers first), reading the
//! reference list, resolving each reference to a paper of the store, and
//! the references and cited-by lists readers see.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use paperboy_core::fulltext::{self, ParseError};
use paperboy_core::{ArxivId, PaperId};
use paperboy_store::{
    Citing, ListedPaper, NewReference, Passage, StoredReference, TextDue, TextRecord, TextStats,
    TextStatus,
};
use serde::Serialize;

use crate::ports::{Catalogue, CatalogueFetch, CatalogueReference, TextFetch, TextSource, Unread};
use crate::views::PaperView;
use crate::{App, AppError};

/// The full-text fetcher's settings and what it last did.
pub struct Texts {
    pub source: Arc<dyn TextSource>,
    /// Asked for the references and cited-by count of a paper arXiv has
    /// no full text for (OpenAlex, when configured).
    pub catalogue: Option<Arc<dyn Catalogue>>,
    /// Pages fetched a day at most (UTC days).
    pub per_day: u64,
    pub progress: Mutex<TextProgress>,
}

impl Texts {
    pub fn new(source: Arc<dyn TextSource>, per_day: u64) -> Self {
        Texts {
            source,
            catalogue: None,
            per_day,
            progress: Mutex::default(),
        }
    }

    /// With a catalogue for papers without full text.
    pub fn with_catalogue(mut self, catalogue: Arc<dyn Catalogue>) -> Self {
        self.catalogue = Some(catalogue);
        self
    }

    /// A refusal (arXiv's or the catalogue's): counted, nothing recorded.
    fn refused(&self, reason: String, retry_after: Option<Duration>) -> TextStep {
        self.note(|p| p.refusals += 1);
        TextStep::Refused {
            reason,
            retry_after,
        }
    }

    fn note(&self, f: impl FnOnce(&mut TextProgress)) {
        if let Ok(mut p) = self.progress.lock() {
            f(&mut p);
        }
    }

    pub fn progress(&self) -> TextProgress {
        self.progress.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

/// What this node's fetcher last did (for `/metrics` and `/about`).
#[derive(Debug, Clone, Default)]
pub struct TextProgress {
    pub last_fetch: Option<DateTime<Utc>>,
    /// Why arXiv was last left alone for a while, and until when.
    pub refused: Option<(String, DateTime<Utc>)>,
    pub refusals: u64,
}

/// What one step of the fetcher did.
#[derive(Debug, Clone, PartialEq)]
pub enum TextStep {
    /// Nothing is due.
    Idle,
    /// Today's budget is spent.
    BudgetSpent,
    /// One paper fetched and recorded.
    Fetched {
        id: ArxivId,
        status: TextStatus,
        references: usize,
    },
    /// arXiv refused or could not be reached: nothing recorded, wait.
    Refused {
        reason: String,
        retry_after: Option<Duration>,
    },
}

/// A reference as the API shows it: the paper it names, or its text.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub enum ReferenceView {
    Paper(Box<CitedPaper>),
    Text(String),
}

/// A paper in a references or cited-by list, with the sentence citing.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CitedPaper {
    #[serde(flatten)]
    pub paper: PaperView,
    /// The first sentence of the citing paper that cites (where its full
    /// text has it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<String>,
}

/// A passage longer than this is cut into pieces at word boundaries (a
/// snippet is chosen within one passage).
const PASSAGE_CHARS: usize = 1_500;
/// Shorter paragraphs (a lone formula, "Proof.") are not worth a passage.
const PASSAGE_MIN_CHARS: usize = 20;
/// The most text kept for search of one paper: the first this many
/// characters of its sections (about 30,000 words).
const TEXT_CHARS: usize = 200_000;

/// The passages search keeps of a paper's text: its paragraphs and
/// captions in order, long ones cut, up to [`TEXT_CHARS`] in all.
pub fn passages_of(text: &fulltext::FullText) -> Vec<Passage> {
    let mut out = Vec::new();
    let mut budget = TEXT_CHARS;
    for s in &text.sections {
        for p in &s.paragraphs {
            for piece in pieces(p.trim(), PASSAGE_CHARS) {
                let n = piece.chars().count();
                if n < PASSAGE_MIN_CHARS {
                    continue;
                }
                if n > budget {
                    return out;
                }
                budget -= n;
                out.push(Passage {
                    section: s.title.clone(),
                    text: piece.to_string(),
                });
            }
        }
    }
    out
}

/// `text` in pieces of at most `max` characters, cut at whitespace where
/// there is some.
fn pieces(text: &str, max: usize) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while rest.chars().count() > max {
        let hard = rest.char_indices().nth(max).map_or(rest.len(), |(i, _)| i);
        let cut = rest[..hard]
            .rfind(char::is_whitespace)
            .filter(|&i| i > 0)
            .unwrap_or(hard);
        out.push(rest[..cut].trim_end());
        rest = rest[cut..].trim_start();
    }
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// A catalogue's reference as a reference list's entry: its title, year
/// and DOI (arXiv's DOI names the paper).
fn catalogued(r: CatalogueReference) -> fulltext::Reference {
    let arxiv_id = r.doi.as_deref().and_then(|d| {
        let lower = d.to_ascii_lowercase();
        lower
            .strip_prefix("10.48550/arxiv.")
            .and_then(|id| ArxivId::parse(id).ok())
    });
    let text = [
        r.title.clone(),
        r.year.map(|y| y.to_string()),
        r.doi.as_ref().map(|d| format!("doi:{d}")),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(". ");
    fulltext::Reference {
        key: String::new(),
        text,
        title: r.title,
        arxiv_id,
        doi: r.doi,
        year: r.year,
        context: None,
    }
}

/// The most references or citations one list shows.
pub const LIST_LIMIT: u32 = 1_000;

impl App {
    /// Fetches and records the full text of the next paper due, within the
    /// day's budget.
    pub async fn fetch_next_text(&self) -> Result<TextStep, AppError> {
        let texts = self
            .texts
            .as_ref()
            .ok_or_else(|| AppError::NotConfigured("full text is turned off".into()))?;
        let day_start = Utc::now()
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map(|t| t.and_utc().timestamp())
            .unwrap_or(0);
        if self.store.texts_fetched_since(day_start).await? >= texts.per_day {
            return Ok(TextStep::BudgetSpent);
        }
        let Some(due) = self.store.texts_due(1).await?.into_iter().next() else {
            return Ok(TextStep::Idle);
        };
        self.fetch_text_of(texts, due).await
    }

    async fn fetch_text_of(&self, texts: &Texts, due: TextDue) -> Result<TextStep, AppError> {
        let fetched = texts
            .source
            .fetch_text(&due.arxiv_id, due.version, due.last_modified.as_deref())
            .await;
        let mut record = TextRecord {
            paper_id: due.paper_id,
            version: due.version,
            status: TextStatus::Missing,
            last_modified: None,
            bytes: 0,
            sections: Vec::new(),
            section_hashes: Vec::new(),
            references: Vec::new(),
            passages: Vec::new(),
            cited_elsewhere: None,
        };
        match fetched {
            TextFetch::Refused {
                reason,
                retry_after,
            } => return Ok(texts.refused(reason, retry_after)),
            TextFetch::NotModified => record.status = TextStatus::Unchanged,
            TextFetch::Missing => record.status = TextStatus::Missing,
            TextFetch::TooLarge { bytes } => {
                record.status = TextStatus::TooLarge;
                record.bytes = bytes as i64;
                tracing::warn!(id = %due.arxiv_id, bytes, "full text larger than the cap; not read");
            }
            TextFetch::Fetched {
                bytes,
                last_modified,
                text,
            } => {
                self.read_text(&due, &mut record, (bytes, last_modified), text)
                    .await?;
            }
        }
        // No full text here: a catalogue may still know what it cites.
        let unread = matches!(
            record.status,
            TextStatus::Missing | TextStatus::Unreadable | TextStatus::TooLarge
        );
        if let Some(catalogue) = texts.catalogue.as_ref().filter(|_| unread) {
            match catalogue.work(&due.arxiv_id).await {
                CatalogueFetch::Found {
                    cited_by,
                    references,
                } => {
                    record.status = TextStatus::Catalogued;
                    record.cited_elsewhere = Some(cited_by);
                    let refs = references.into_iter().map(catalogued).collect();
                    record.references = self.resolve_references(due.paper_id, refs).await;
                }
                CatalogueFetch::Missing => {}
                CatalogueFetch::Refused {
                    reason,
                    retry_after,
                } => return Ok(texts.refused(reason, retry_after)),
            }
        }
        let (status, references) = (record.status, record.references.len());
        self.store.record_text(record).await?;
        texts.note(|p| p.last_fetch = Some(Utc::now()));
        Ok(TextStep::Fetched {
            id: due.arxiv_id,
            status,
            references,
        })
    }

    /// Parses what was fetched (`read`: its bytes and `Last-Modified`) off
    /// the async threads (a large page takes a while), and records what it
    /// gives: sections, passages and resolved references, or why it was
    /// not read.
    async fn read_text(
        &self,
        due: &TextDue,
        record: &mut TextRecord,
        read: (usize, Option<String>),
        text: Unread,
    ) -> Result<(), AppError> {
        (record.bytes, record.last_modified) = (read.0 as i64, read.1);
        let parsed = tokio::task::spawn_blocking(move || text.read()).await;
        match parsed.map_err(|e| AppError::Internal(format!("parsing full text: {e}")))? {
            Ok(text) => {
                record.status = TextStatus::Parsed;
                record.sections = text.section_titles();
                record.section_hashes = text.section_hashes();
                record.passages = passages_of(&text);
                record.references = self.resolve_references(due.paper_id, text.references).await;
            }
            Err(e) => {
                tracing::warn!(id = %due.arxiv_id, error = %e, "full text not read");
                record.status = match e {
                    ParseError::TooLarge { .. } => TextStatus::TooLarge,
                    ParseError::NotAPaper => TextStatus::Unreadable,
                };
            }
        }
        Ok(())
    }

    /// The references as the store keeps them: named by arXiv id (the
    /// store resolves those), else matched by title and year.
    async fn resolve_references(
        &self,
        citing: PaperId,
        refs: Vec<fulltext::Reference>,
    ) -> Vec<NewReference> {
        let mut out = Vec::with_capacity(refs.len());
        for r in refs {
            let matched = match (&r.arxiv_id, &r.title, r.year) {
                (None, Some(title), Some(year)) => self
                    .paper_titled(title)
                    .await
                    .filter(|p| p.paper_id != citing)
                    .filter(|p| {
                        // A preprint is cited as of any of its versions'
                        // years, or its venue's a year later; a record
                        // without versions is dated by its identifier.
                        p.paper
                            .versions
                            .iter()
                            .map(|v| v.created_at)
                            .chain(std::iter::once(p.paper.published_at()))
                            .any(|at| (chrono::Datelike::year(&at) - year).abs() <= 1)
                    })
                    .map(|p| p.paper_id),
                _ => None,
            };
            out.push(NewReference {
                text: r.text,
                title: r.title,
                arxiv_id: r.arxiv_id,
                doi: r.doi,
                year: r.year,
                matched,
                context: r.context,
            });
        }
        out
    }

    /// Resolves references to papers that arrived after them; how many.
    pub async fn resolve_waiting_references(&self) -> Result<u64, AppError> {
        Ok(self.store.resolve_waiting_references().await?)
    }

    /// A paper's references, in the order of its list: papers of the store
    /// where resolved, the entry's text otherwise.
    pub async fn references(&self, id: &ArxivId) -> Result<Vec<ReferenceView>, AppError> {
        let stored = self.stored(id).await?;
        self.references_of(stored.paper_id).await
    }

    async fn references_of(&self, paper: PaperId) -> Result<Vec<ReferenceView>, AppError> {
        let refs = self.store.references_of(paper).await?;
        let papers = self.listed(&cited_ids(&refs)).await?;
        Ok(reference_views(refs, &papers))
    }

    /// Papers of the store citing this one, newest first, each with the
    /// sentence that cites it.
    pub async fn citations(&self, id: &ArxivId) -> Result<Vec<CitedPaper>, AppError> {
        let stored = self.stored(id).await?;
        let citing = self.store.citations_of(stored.paper_id, LIST_LIMIT).await?;
        let ids: Vec<ArxivId> = citing.iter().map(|c| c.citing.clone()).collect();
        let papers = self.listed(&ids).await?;
        Ok(citation_views(citing, &papers))
    }

    /// What the paper page shows of a paper's full text: its references,
    /// the papers citing it, its section titles, the catalogue's count
    /// (one read of the store, and one of the papers named).
    pub(crate) async fn text_of_page(&self, paper: PaperId) -> Result<PageText, AppError> {
        let facts = self.store.text_facts(paper, LIST_LIMIT).await?;
        let mut ids = cited_ids(&facts.references);
        ids.extend(facts.citing.iter().map(|c| c.citing.clone()));
        let papers = self.listed(&ids).await?;
        Ok(PageText {
            references: reference_views(facts.references, &papers),
            citations: citation_views(facts.citing, &papers),
            sections: facts.sections,
            cited_elsewhere: facts.cited_elsewhere,
        })
    }

    /// The listed papers of `ids` (no query for none: most papers cite
    /// nothing here and are cited by nothing).
    async fn listed(&self, ids: &[ArxivId]) -> Result<Vec<ListedPaper>, AppError> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        Ok(self.store.get_papers(ids).await?)
    }

    async fn stored(&self, id: &ArxivId) -> Result<paperboy_store::StoredPaper, AppError> {
        self.store
            .get_paper(id)
            .await
            .map_err(|e| AppError::or_not_found(e, || format!("no paper {id} here")))
    }

    /// How far the full text has come (for `/metrics` and `/about`).
    pub async fn text_stats(&self) -> Result<TextStats, AppError> {
        Ok(self.store.text_stats().await?)
    }
}

/// See [`App::text_of_page`].
pub(crate) struct PageText {
    pub references: Vec<ReferenceView>,
    pub citations: Vec<CitedPaper>,
    pub sections: Vec<String>,
    pub cited_elsewhere: Option<i64>,
}

/// The papers a reference list names.
fn cited_ids(refs: &[StoredReference]) -> Vec<ArxivId> {
    refs.iter().filter_map(|r| r.cited.clone()).collect()
}

/// A reference list in the order of the paper's list (the first
/// [`LIST_LIMIT`]): papers of the store where resolved, the entry's text
/// otherwise.
fn reference_views(refs: Vec<StoredReference>, papers: &[ListedPaper]) -> Vec<ReferenceView> {
    refs.into_iter()
        .take(LIST_LIMIT as usize)
        .map(|r| {
            let paper = r
                .cited
                .as_ref()
                .and_then(|c| papers.iter().find(|p| &p.stored.paper.id == c));
            match paper {
                Some(p) => ReferenceView::Paper(Box::new(CitedPaper {
                    paper: PaperView::from(&p.stored),
                    context: None,
                })),
                None => ReferenceView::Text(r.text),
            }
        })
        .collect()
}

/// Citing papers of the store, each with its sentence.
fn citation_views(citing: Vec<Citing>, papers: &[ListedPaper]) -> Vec<CitedPaper> {
    citing
        .into_iter()
        .filter_map(|c| {
            let p = papers.iter().find(|p| p.stored.paper.id == c.citing)?;
            Some(CitedPaper {
                paper: PaperView::from(&p.stored),
                context: c.context,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_paragraphs_are_cut_at_words_and_short_ones_left_out() {
        let long = "word ".repeat(700);
        let text = fulltext::FullText {
            sections: vec![fulltext::Section {
                title: "2 Method".into(),
                paragraphs: vec![
                    "Proof.".into(),
                    long.clone(),
                    "A caption of a figure.".into(),
                ],
            }],
            references: Vec::new(),
            truncated: false,
        };
        let got = passages_of(&text);
        assert_eq!(got.len(), 4, "{got:?}");
        assert!(got.iter().all(|p| p.section == "2 Method"));
        assert!(got[..3]
            .iter()
            .all(|p| p.text.chars().count() <= PASSAGE_CHARS));
        assert!(got[..3]
            .iter()
            .all(|p| p.text.starts_with("word") && p.text.ends_with("word")));
        let words: usize = got[..3]
            .iter()
            .map(|p| p.text.split_whitespace().count())
            .sum();
        assert_eq!(words, 700);
        assert_eq!(got[3].text, "A caption of a figure.");
    }

    #[test]
    fn cuts_never_split_a_character_and_a_text_is_bounded() {
        assert_eq!(pieces("ééééé", 2), vec!["éé", "éé", "é"]);
        let para = "x".repeat(PASSAGE_CHARS);
        let text = fulltext::FullText {
            sections: vec![fulltext::Section {
                title: "1".into(),
                paragraphs: vec![para; 1_000],
            }],
            references: Vec::new(),
            truncated: false,
        };
        let kept: usize = passages_of(&text).iter().map(|p| p.text.len()).sum();
        assert!(
            kept <= TEXT_CHARS && kept > TEXT_CHARS - PASSAGE_CHARS,
            "{kept}"
        );
    }
}

//! A paper's full text as Paperboy keeps it: section titles, paragraphs
//! (captions included) and the reference list, whichever source it was
//! read from (arXiv's HTML, the LaTeX source, a catalogue).

use crate::ArxivId;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    #[error("the page is {bytes} bytes, more than the {cap} read")]
    TooLarge { bytes: usize, cap: usize },
    #[error("not a paper: no LaTeXML document in the page")]
    NotAPaper,
}

/// One section: its title and its paragraphs (captions included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub title: String,
    pub paragraphs: Vec<String>,
}

/// One entry of the reference list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// The entry's anchor (`bib.bib12`).
    pub key: String,
    /// The entry as text, numbering dropped.
    pub text: String,
    /// The title, where the entry is in blocks (LaTeXML's `\newblock`s:
    /// authors, title, venue).
    pub title: Option<String>,
    /// An arXiv id the entry names (text, link, or arXiv's DOI).
    pub arxiv_id: Option<ArxivId>,
    pub doi: Option<String>,
    pub year: Option<i32>,
    /// The first sentence citing it.
    pub context: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FullText {
    pub sections: Vec<Section>,
    pub references: Vec<Reference>,
    /// Whether something was cut to the caps above.
    pub truncated: bool,
}

impl FullText {
    pub fn section_titles(&self) -> Vec<String> {
        self.sections.iter().map(|s| s.title.clone()).collect()
    }

    /// A fingerprint of each section's text (xxh3, stable across runs),
    /// in `sections` order: what tells a new version's changed sections.
    pub fn section_hashes(&self) -> Vec<i64> {
        self.sections
            .iter()
            .map(|s| {
                let mut h = xxhash_rust::xxh3::Xxh3::new();
                for p in &s.paragraphs {
                    h.update(p.as_bytes());
                    h.update(&[0x1f]);
                }
                h.digest() as i64
            })
            .collect()
    }
}

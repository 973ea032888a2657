//! Every term's document frequency in one compact table, for the
//! recommender's tf·idf vectors.
//!
//! A term's document frequency asked of the index is one dictionary lookup
//! per segment and field (sixteen at a million papers); a reader's first
//! recommendations analyse a few hundred papers, tens of thousands of
//! terms, and those lookups were most of the time they took. The table is
//! one hash table from each term to the larger of its frequencies
//! in abstracts and titles (terms in fewer than two papers left out: they
//! link nothing), built in one merged pass over the segments' sorted
//! dictionaries, on a thread of its own so no request waits for it.
//! Until it is there, or once the index has moved by more than 1 % since
//! it was built, lookups go to the index as before.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use tantivy::schema::Field;
use tantivy::termdict::TermMerger;
use tantivy::Searcher;

/// Document frequencies as of an index of `docs` papers.
///
/// A hash table, not a finite-state map: an FST lookup walks a node per
/// byte (about 0.4 µs a term at a million papers, most of the time a cold
/// paper's terms took); the table costs ~50 bytes a term instead of ~10.
pub(super) struct DfTable {
    docs: u64,
    map: rustc_hash::FxHashMap<Box<str>, u32>,
}

impl DfTable {
    /// The term's document frequency: 0 or 1 for terms the table leaves out.
    pub fn get(&self, term: &str) -> u64 {
        self.map.get(term).map_or(0, |&df| u64::from(df))
    }

    /// Terms in the table.
    pub fn len(&self) -> usize {
        self.map.len()
    }
}

/// Whether a figure taken at `was` papers still holds at `now`.
pub(super) fn within_a_hundredth(was: u64, now: u64) -> bool {
    was.abs_diff(now) * 100 <= now.max(1)
}

/// The current table, and whether one is being built.
#[derive(Default)]
pub(super) struct DfTables {
    slot: Arc<RwLock<Option<Arc<DfTable>>>>,
    building: Arc<AtomicBool>,
}

impl DfTables {
    /// The table, when it was built within 1 % of the index's present size;
    /// otherwise nothing, and a build from `searcher` is started (one at a
    /// time) for the calls that follow.
    pub fn fresh(&self, searcher: &Searcher, fields: [Field; 2]) -> Option<Arc<DfTable>> {
        let docs = searcher.num_docs();
        let current = self.slot.read().unwrap_or_else(|p| p.into_inner()).clone();
        if let Some(t) = current.filter(|t| within_a_hundredth(t.docs, docs)) {
            return Some(t);
        }
        if !self.building.swap(true, Ordering::AcqRel) {
            let (slot, building, searcher) =
                (self.slot.clone(), self.building.clone(), searcher.clone());
            let spawned = std::thread::Builder::new()
                .name("df-table".into())
                .spawn(move || {
                    let started = std::time::Instant::now();
                    match build(&searcher, fields) {
                        Ok(t) => {
                            tracing::debug!(
                                terms = t.len(),
                                ms = started.elapsed().as_secs_f64() * 1000.0,
                                "document frequencies tabled"
                            );
                            *slot.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(t));
                        }
                        Err(e) => tracing::warn!("cannot table document frequencies: {e}"),
                    }
                    building.store(false, Ordering::Release);
                });
            if spawned.is_err() {
                self.building.store(false, Ordering::Release);
            }
        }
        None
    }
}

impl DfTables {
    /// Builds the table now, on this thread (a server warming up; tests).
    pub fn build_now(&self, searcher: &Searcher, fields: [Field; 2]) -> Result<usize, BuildError> {
        let t = build(searcher, fields)?;
        let n = t.len();
        *self.slot.write().unwrap_or_else(|p| p.into_inner()) = Some(Arc::new(t));
        Ok(n)
    }
}

/// One field's merged dictionary, a term at a time with its frequency
/// summed over the segments.
struct Merged<'a> {
    merger: TermMerger<'a>,
    current: Option<(Vec<u8>, u64)>,
}

impl Merged<'_> {
    fn advance(&mut self) {
        self.current = if self.merger.advance() {
            let df = self
                .merger
                .current_segment_ords_and_term_infos()
                .map(|(_, info)| u64::from(info.doc_freq))
                .sum();
            Some((self.merger.key().to_vec(), df))
        } else {
            None
        };
    }
}

/// The table for `searcher`'s segments: each term of either field with
/// the larger of its two frequencies, as [`super::KeywordIndex::doc_terms`]
/// asks the index for them.
fn build(searcher: &Searcher, fields: [Field; 2]) -> Result<DfTable, BuildError> {
    let mut readers = Vec::new();
    for f in fields {
        let mut of_field = Vec::new();
        for segment in searcher.segment_readers() {
            of_field.push(segment.inverted_index(f)?);
        }
        readers.push(of_field);
    }
    let mut merged = Vec::new();
    for of_field in &readers {
        let mut streams = Vec::new();
        for r in of_field {
            streams.push(r.terms().stream()?);
        }
        let mut m = Merged {
            merger: TermMerger::new(streams),
            current: None,
        };
        m.advance();
        merged.push(m);
    }
    let mut out = rustc_hash::FxHashMap::default();
    // The smallest key of the two fields, with the larger frequency where
    // both have it.
    while let Some(key) = merged
        .iter()
        .filter_map(|m| m.current.as_ref().map(|c| c.0.clone()))
        .min()
    {
        let mut df = 0u64;
        for m in &mut merged {
            if m.current.as_ref().is_some_and(|c| c.0 == key) {
                df = df.max(m.current.as_ref().map_or(0, |c| c.1));
                m.advance();
            }
        }
        if df >= 2 {
            // Terms of text fields are the analyzer's words (UTF-8); the
            // table is asked about nothing else.
            if let Ok(term) = String::from_utf8(key) {
                out.insert(term.into_boxed_str(), u32::try_from(df).unwrap_or(u32::MAX));
            }
        }
    }
    out.shrink_to_fit();
    Ok(DfTable {
        docs: searcher.num_docs(),
        map: out,
    })
}

#[derive(Debug, thiserror::Error)]
pub(super) enum BuildError {
    #[error("{0}")]
    Index(#[from] tantivy::TantivyError),
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

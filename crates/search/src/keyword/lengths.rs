//! The average text length BM25 measures each text against, taken over
//! the papers alone.
//!
//! BM25 scores a text down the longer it is than the average. Thousands of
//! one-line records (package blurbs, notices, errata) drag that average
//! down to a dozen words, and then every real abstract reads as five times
//! too long and loses to any one-liner that repeats a query word. So the
//! average used here is that of the papers: texts whose abstract is long
//! enough to get no short-document penalty. Segments never change once
//! written, so each is measured once and the sums kept.

use std::collections::HashMap;
use std::sync::Mutex;

use tantivy::index::SegmentId;
use tantivy::query::Bm25StatisticsProvider;
use tantivy::schema::Field;
use tantivy::{Searcher, Term};

/// Fewest abstract words a paper has (where the short-document prior
/// reaches 1).
const PAPER_WORDS: u64 = 55;

#[derive(Debug, Clone, Copy, Default)]
struct Measured {
    papers: u64,
    title_tokens: u64,
    abs_tokens: u64,
}

#[derive(Default)]
pub(super) struct PaperLengths {
    segments: Mutex<HashMap<SegmentId, Measured>>,
}

impl PaperLengths {
    /// BM25 statistics for `searcher` with the papers' average lengths of
    /// `title` and `abs`.
    pub(super) fn stats<'a>(&self, searcher: &'a Searcher, title: Field, abs: Field) -> Stats<'a> {
        let mut total = Measured::default();
        let mut cache = self.segments.lock().unwrap_or_else(|p| p.into_inner());
        let live: Vec<SegmentId> = searcher
            .segment_readers()
            .iter()
            .map(|s| s.segment_id())
            .collect();
        cache.retain(|id, _| live.contains(id));
        for seg in searcher.segment_readers() {
            let m = *cache
                .entry(seg.segment_id())
                .or_insert_with(|| measure(seg, title, abs));
            total.papers += m.papers;
            total.title_tokens += m.title_tokens;
            total.abs_tokens += m.abs_tokens;
        }
        Stats {
            searcher,
            title,
            abs,
            measured: total,
        }
    }
}

fn measure(seg: &tantivy::SegmentReader, title: Field, abs: Field) -> Measured {
    let mut m = Measured::default();
    let (Ok(words), Ok(ti), Ok(ab)) = (
        seg.fast_fields().u64("words"),
        seg.get_fieldnorms_reader(title),
        seg.get_fieldnorms_reader(abs),
    ) else {
        return m;
    };
    for doc in 0..seg.max_doc() {
        if words.first(doc).is_some_and(|w| w >= PAPER_WORDS) {
            m.papers += 1;
            m.title_tokens += u64::from(ti.fieldnorm(doc));
            m.abs_tokens += u64::from(ab.fieldnorm(doc));
        }
    }
    m
}

pub(super) struct Stats<'a> {
    searcher: &'a Searcher,
    title: Field,
    abs: Field,
    measured: Measured,
}

impl Bm25StatisticsProvider for Stats<'_> {
    /// For the title and abstract: as many tokens as the documents would
    /// hold at the papers' average length (the searcher's own count when
    /// there are no papers yet).
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        let sum = if field == self.title {
            self.measured.title_tokens
        } else if field == self.abs {
            self.measured.abs_tokens
        } else {
            return self.searcher.total_num_tokens(field);
        };
        if self.measured.papers == 0 || sum == 0 {
            return self.searcher.total_num_tokens(field);
        }
        let docs = self.searcher.total_num_docs()?;
        Ok((sum as f64 / self.measured.papers as f64 * docs as f64).round() as u64)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        self.searcher.total_num_docs()
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        self.searcher.doc_freq(term)
    }
}

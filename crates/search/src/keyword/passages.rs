//! Passages of papers' full text: a second tantivy index beside the
//! papers', one document per paragraph or caption. Kept apart so that the
//! papers' BM25 statistics (how many documents, how long a title and an
//! abstract are) stay exactly what they were: abstract ranking does not
//! move when full text arrives. It follows the store's `text_seq`.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::{Arc, Mutex};

use paperboy_core::ArxivId;
use paperboy_store::TextChange;
use rustc_hash::FxHashMap;
use tantivy::collector::TopDocs;
use tantivy::columnar::StrColumn;
use tantivy::query::{Bm25StatisticsProvider, BooleanQuery, Occur, Query, QueryParser, Scorer};
use tantivy::schema::{Field, Schema, Value, FAST, STORED, STRING};
use tantivy::snippet::SnippetGenerator;
use tantivy::DocSet;
use tantivy::{doc, DocAddress, Index, IndexReader, IndexWriter, Searcher};
use tantivy::{TantivyDocument, Term};

use super::{
    any_of, commit_with, committed_seq, escape, ix, mark, open_parts, parse_or_words, text,
};
use crate::SearchError;

/// Writer memory for passages (they arrive a few a minute, or in bulk on
/// a rebuild).
const WRITER_HEAP: usize = 64 * 1024 * 1024;
/// Passages read to find each of a page's papers its best one.
const BEST_OF_DEPTH: usize = 2_000;
/// Characters of a passage shown around its matches.
const SNIPPET_CHARS: usize = 240;

/// A segment's id column, and the ordinals a page's papers have in it
/// (ordinal → the paper's place on the page).
type SegmentIds = (StrColumn, HashMap<u64, usize>);

#[derive(Debug, Clone, Copy)]
struct Fields {
    id: Field,
    section: Field,
    text: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let id = b.add_text_field("id", STRING | STORED | FAST);
    let section = b.add_text_field("section", STORED);
    let text = b.add_text_field("text", text(true));
    (b.build(), Fields { id, section, text })
}

pub use paperboy_core::search::TextMatch;

pub(super) struct Passages {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    writer: Mutex<Option<IndexWriter>>,
    /// The papers each segment holds passages of (segments never change:
    /// read once from its id column), for the searcher of one generation.
    /// Most papers on a page of results have no full text, and asking the
    /// index about them costs a lookup per segment and term; and the
    /// column's own dictionary decompresses a block for every lookup.
    papers_in: Mutex<PapersIn>,
}

/// The papers of one segment, by the ordinal its id column gives them.
struct SegmentPapers {
    /// Ids in the column's (sorted) order: a passage's paper is
    /// `ids[ordinal]` (`None` for a key that is not an id).
    ids: Vec<Option<ArxivId>>,
    ordinal: FxHashMap<ArxivId, u64>,
}

impl SegmentPapers {
    fn holds(&self, id: &ArxivId) -> bool {
        self.ordinal.contains_key(id)
    }

    /// The paper of a passage, by its ordinal.
    fn at(&self, ordinal: u64) -> Option<&ArxivId> {
        self.ids.get(ordinal as usize)?.as_ref()
    }
}

/// [`SegmentPapers`] of every segment read so far, and the list for the
/// latest searcher's segments.
#[derive(Default)]
struct PapersIn {
    by_segment: HashMap<tantivy::index::SegmentId, Arc<SegmentPapers>>,
    generation: Option<u64>,
    current: Arc<Vec<Arc<SegmentPapers>>>,
}

/// Papers whose passages match a query, by their best passage.
pub struct TextHits {
    /// Papers, best first.
    ranked: Vec<ArxivId>,
}

impl TextHits {
    /// The papers, best first.
    pub fn papers(&self) -> impl Iterator<Item = &ArxivId> {
        self.ranked.iter()
    }
}

/// Every paper a segment holds passages of (its id column's dictionary,
/// read in order once).
fn segment_papers(reader: &tantivy::SegmentReader) -> SegmentPapers {
    let mut ids = Vec::new();
    if let Some(column) = reader.fast_fields().str("id").ok().flatten() {
        if let Ok(mut stream) = column.dictionary().stream() {
            while stream.advance() {
                // A key that is not an id keeps its place (the ordinals
                // stay right) under an id no paper has.
                let id = std::str::from_utf8(stream.key())
                    .ok()
                    .and_then(|k| ArxivId::parse(k).ok());
                ids.push(id);
            }
        }
    }
    let ordinal = ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| Some((id.clone()?, i as u64)))
        .collect();
    SegmentPapers { ids, ordinal }
}

/// The ordinal of the paper a passage is of, in its segment's id column
/// (not the stored passage: a block of text decoded for each).
fn ordinal_at(column: &StrColumn, doc: tantivy::DocId) -> Option<u64> {
    column.term_ords(doc).next()
}

/// Passages matching `words` among those of `ids`.
fn of_papers(words: &dyn Query, f: Fields, ids: &[ArxivId]) -> BooleanQuery {
    BooleanQuery::new(vec![
        (Occur::Must, words.box_clone()),
        (Occur::Must, Box::new(any_of(f.id, ids))),
    ])
}

/// The snippet generator for `query`, its words weighed by how rare they
/// are in `stats` (as tantivy's own `SnippetGenerator::create` weighs them
/// over the whole index).
fn snippets(
    searcher: &Searcher,
    stats: &dyn Bm25StatisticsProvider,
    query: &dyn Query,
    f: Fields,
) -> Result<SnippetGenerator, SearchError> {
    let mut terms = std::collections::BTreeSet::new();
    query.query_terms(&mut |term, _| {
        if term.field() == f.text {
            terms.insert(term.clone());
        }
    });
    let mut weights = std::collections::BTreeMap::new();
    for term in terms {
        let Some(text) = term.value().as_str().map(str::to_string) else {
            continue;
        };
        let df = stats.doc_freq(&term).map_err(ix)?;
        if df > 0 {
            weights.insert(text, 1.0 / (1.0 + df as f32));
        }
    }
    let tokenizer = searcher.index().tokenizer_for_field(f.text).map_err(ix)?;
    Ok(SnippetGenerator::new(
        weights,
        tokenizer,
        f.text,
        SNIPPET_CHARS,
    ))
}

/// BM25's statistics over some segments only: the passages of a page's
/// papers are ranked among themselves, and any large sample of passages
/// gives words the same relative rarity; asking all of a large index's
/// segments is one dictionary lookup per term and segment (twice: for the
/// scores and the snippets).
struct SegmentStats<'a> {
    segments: Vec<&'a tantivy::SegmentReader>,
}

impl Bm25StatisticsProvider for SegmentStats<'_> {
    fn total_num_tokens(&self, field: Field) -> tantivy::Result<u64> {
        let mut n = 0;
        for s in &self.segments {
            n += s.inverted_index(field)?.total_num_tokens();
        }
        Ok(n)
    }

    fn total_num_docs(&self) -> tantivy::Result<u64> {
        Ok(self.segments.iter().map(|s| u64::from(s.num_docs())).sum())
    }

    fn doc_freq(&self, term: &Term) -> tantivy::Result<u64> {
        let mut n = 0;
        for s in &self.segments {
            n += u64::from(s.inverted_index(term.field())?.doc_freq(term)?);
        }
        Ok(n)
    }
}

fn text_match(
    searcher: &Searcher,
    generator: &SnippetGenerator,
    f: Fields,
    addr: DocAddress,
) -> Option<TextMatch> {
    let doc: TantivyDocument = searcher.doc(addr).ok()?;
    let section = doc
        .get_first(f.section)
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_string();
    let s = generator.snippet_from_doc(&doc);
    let snippet = if s.fragment().is_empty() {
        let whole = doc.get_first(f.text).and_then(|v| v.as_str()).unwrap_or("");
        escape(&whole.chars().take(SNIPPET_CHARS).collect::<String>())
    } else {
        mark(s.fragment(), s.highlighted())
    };
    Some(TextMatch { section, snippet })
}

impl Passages {
    pub(super) fn open(dir: &Path, writable: bool) -> Result<Self, SearchError> {
        let (schema, fields) = schema();
        let (index, reader, writer) = open_parts(dir, schema, writable, WRITER_HEAP, "passage")?;
        Ok(Passages {
            index,
            reader,
            fields,
            writer: Mutex::new(writer),
            papers_in: Mutex::default(),
        })
    }

    pub(super) fn synced_seq(&self) -> i64 {
        committed_seq(&self.index)
    }

    /// Replaces the passages of each changed paper and commits them with
    /// the sequence they bring the index to.
    pub(super) fn apply(&self, changes: &[TextChange], seq: i64) -> Result<(), SearchError> {
        let f = self.fields;
        commit_with(&self.writer, seq, |writer| {
            for c in changes {
                writer.delete_term(Term::from_field_text(f.id, c.arxiv_id.as_str()));
                for p in &c.passages {
                    writer
                        .add_document(doc!(
                            f.id => c.arxiv_id.as_str(),
                            f.section => p.section.as_str(),
                            f.text => p.text.as_str(),
                        ))
                        .map_err(ix)?;
                }
            }
            Ok(())
        })
    }

    pub(super) fn reload(&self) -> Result<(), SearchError> {
        self.reader.reload().map_err(ix)
    }

    pub(super) fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// The query over passages; a query the parser cannot read is taken
    /// as plain words.
    fn parse(&self, text: &str) -> Box<dyn Query> {
        let parser = QueryParser::for_index(&self.index, vec![self.fields.text]);
        parse_or_words(&parser, text)
    }

    /// The papers whose passages best match `text`, from the best
    /// `depth` passages.
    pub(super) fn hits(&self, text: &str, depth: usize) -> Result<TextHits, SearchError> {
        let searcher = self.reader.searcher();
        let query = self.parse(text);
        let mut ranked: Vec<ArxivId> = Vec::new();
        if searcher.num_docs() > 0 {
            let top = searcher
                .search(query.as_ref(), &TopDocs::with_limit(depth).order_by_score())
                .map_err(ix)?;
            let held = self.papers_of(&searcher);
            let mut seen = HashSet::new();
            let mut columns: HashMap<u32, Option<StrColumn>> = HashMap::new();
            for (_, addr) in top {
                let column = columns.entry(addr.segment_ord).or_insert_with(|| {
                    searcher
                        .segment_reader(addr.segment_ord)
                        .fast_fields()
                        .str("id")
                        .ok()
                        .flatten()
                });
                let id = column
                    .as_ref()
                    .and_then(|c| ordinal_at(c, addr.doc_id))
                    .and_then(|o| held.get(addr.segment_ord as usize)?.at(o));
                if let Some(id) = id {
                    if seen.insert(id) {
                        ranked.push(id.clone());
                    }
                }
            }
        }
        Ok(TextHits { ranked })
    }

    /// The papers each segment of `searcher` holds passages of, in the
    /// searcher's order of segments.
    fn papers_of(&self, searcher: &Searcher) -> Arc<Vec<Arc<SegmentPapers>>> {
        let mut cache = self.papers_in.lock().unwrap_or_else(|p| p.into_inner());
        let generation = searcher.generation().generation_id();
        if cache.generation == Some(generation) {
            return cache.current.clone();
        }
        let live: HashSet<tantivy::index::SegmentId> = searcher
            .segment_readers()
            .iter()
            .map(|r| r.segment_id())
            .collect();
        cache.by_segment.retain(|id, _| live.contains(id));
        let current: Vec<Arc<SegmentPapers>> = searcher
            .segment_readers()
            .iter()
            .map(|r| {
                cache
                    .by_segment
                    .entry(r.segment_id())
                    .or_insert_with(|| Arc::new(segment_papers(r)))
                    .clone()
            })
            .collect();
        cache.current = Arc::new(current);
        cache.generation = Some(generation);
        cache.current.clone()
    }

    /// The best passage matching `text` of each of `ids` that has one:
    /// one query over those papers' passages alone.
    pub(super) fn best_of(
        &self,
        ids: &[ArxivId],
        text: &str,
    ) -> Result<HashMap<ArxivId, TextMatch>, SearchError> {
        let mut out = HashMap::new();
        let searcher = self.reader.searcher();
        let held = self.papers_of(&searcher);
        let ids: Vec<ArxivId> = ids
            .iter()
            .filter(|id| held.iter().any(|s| s.holds(id)))
            .cloned()
            .collect();
        if ids.is_empty() {
            return Ok(out);
        }
        let f = self.fields;
        let words = self.parse(text);
        let query = of_papers(words.as_ref(), f, &ids);
        // Only the segments holding these papers' passages are searched
        // and asked for statistics (a query's cost is mostly per segment
        // and term).
        let visited: Vec<usize> = (0..searcher.segment_readers().len())
            .filter(|&ord| ids.iter().any(|id| held[ord].holds(id)))
            .collect();
        let stats = SegmentStats {
            segments: visited
                .iter()
                .map(|&o| searcher.segment_reader(o as u32))
                .collect(),
        };
        let weight = query
            .weight(
                tantivy::query::EnableScoring::enabled_from_statistics_provider(&stats, &searcher),
            )
            .map_err(ix)?;
        let mut top: Vec<(f32, DocAddress)> = Vec::new();
        for &ord in &visited {
            let reader = searcher.segment_reader(ord as u32);
            let mut scorer = weight.scorer(reader, 1.0).map_err(ix)?;
            let alive = reader.alive_bitset();
            let mut doc = scorer.doc();
            while doc != tantivy::TERMINATED && top.len() < BEST_OF_DEPTH {
                if alive.is_none_or(|a| a.is_alive(doc)) {
                    top.push((scorer.score(), DocAddress::new(ord as u32, doc)));
                }
                doc = scorer.advance();
            }
        }
        top.sort_by(|a, b| b.0.total_cmp(&a.0));
        // Each segment's id column, and the ordinals the page's papers
        // have in it: a passage's paper is then a number compared, not a
        // string decoded.
        let mut segments: HashMap<u32, Option<SegmentIds>> = HashMap::new();
        let mut generator = None;
        for (_, addr) in top {
            let segment = segments.entry(addr.segment_ord).or_insert_with(|| {
                let column = searcher
                    .segment_reader(addr.segment_ord)
                    .fast_fields()
                    .str("id")
                    .ok()
                    .flatten()?;
                let papers = held.get(addr.segment_ord as usize)?;
                let ords = ids
                    .iter()
                    .enumerate()
                    .filter_map(|(i, id)| Some((*papers.ordinal.get(id)?, i)))
                    .collect();
                Some((column, ords))
            });
            let Some((column, ords)) = segment else {
                continue;
            };
            let Some(&i) = ordinal_at(column, addr.doc_id).and_then(|o| ords.get(&o)) else {
                continue;
            };
            let id = ids[i].clone();
            if out.contains_key(&id) {
                continue;
            }
            if generator.is_none() {
                generator = Some(snippets(&searcher, &stats, words.as_ref(), f)?);
            }
            if let Some(m) = generator
                .as_ref()
                .and_then(|g| text_match(&searcher, g, f, addr))
            {
                out.insert(id, m);
            }
            if out.len() == ids.len() {
                break;
            }
        }
        Ok(out)
    }

    /// The passages of one paper matching `text`, best first.
    pub(super) fn within(
        &self,
        id: &ArxivId,
        text: &str,
        limit: usize,
    ) -> Result<Vec<TextMatch>, SearchError> {
        let searcher = self.reader.searcher();
        let f = self.fields;
        let words = self.parse(text);
        let query = of_papers(words.as_ref(), f, std::slice::from_ref(id));
        let top = searcher
            .search(&query, &TopDocs::with_limit(limit.max(1)).order_by_score())
            .map_err(ix)?;
        let generator = snippets(&searcher, &searcher, words.as_ref(), f)?;
        Ok(top
            .into_iter()
            .filter_map(|(_, addr)| text_match(&searcher, &generator, f, addr))
            .collect())
    }
}

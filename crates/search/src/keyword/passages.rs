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
use tantivy::collector::TopDocs;
use tantivy::columnar::StrColumn;
use tantivy::query::{BooleanQuery, Occur, Query, QueryParser, Scorer};
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
    /// read once from its id column). Most papers on a page of results
    /// have no full text, and asking the index about them costs a lookup
    /// per segment and term.
    papers_in: Mutex<HashMap<tantivy::index::SegmentId, Arc<HashSet<String>>>>,
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

/// Every paper a segment holds passages of (its id column's dictionary).
fn segment_papers(reader: &tantivy::SegmentReader) -> HashSet<String> {
    let mut out = HashSet::new();
    let Some(column) = reader.fast_fields().str("id").ok().flatten() else {
        return out;
    };
    if let Ok(mut stream) = column.dictionary().stream() {
        while stream.advance() {
            if let Ok(key) = std::str::from_utf8(stream.key()) {
                out.insert(key.to_string());
            }
        }
    }
    out
}

/// The paper a passage is of, read from its segment's id column (not the
/// stored passage: a block of text decoded for each).
fn id_at(column: &StrColumn, doc: tantivy::DocId) -> Option<ArxivId> {
    let ord = column.term_ords(doc).next()?;
    let mut key = String::new();
    column.ord_to_str(ord, &mut key).ok()?;
    ArxivId::parse(&key).ok()
}

/// Passages matching `words` among those of `ids`.
fn of_papers(words: &dyn Query, f: Fields, ids: &[ArxivId]) -> BooleanQuery {
    BooleanQuery::new(vec![
        (Occur::Must, words.box_clone()),
        (Occur::Must, Box::new(any_of(f.id, ids))),
    ])
}

fn snippets(
    searcher: &Searcher,
    query: &dyn Query,
    f: Fields,
) -> Result<SnippetGenerator, SearchError> {
    let mut g = SnippetGenerator::create(searcher, query, f.text).map_err(ix)?;
    g.set_max_num_chars(SNIPPET_CHARS);
    Ok(g)
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
            let mut seen = std::collections::HashSet::new();
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
                if let Some(id) = column.as_ref().and_then(|c| id_at(c, addr.doc_id)) {
                    if seen.insert(id.clone()) {
                        ranked.push(id);
                    }
                }
            }
        }
        Ok(TextHits { ranked })
    }

    /// The papers each segment of `searcher` holds passages of.
    fn papers_of(&self, searcher: &Searcher) -> Vec<Arc<HashSet<String>>> {
        let mut cache = self.papers_in.lock().unwrap_or_else(|p| p.into_inner());
        let live: HashSet<tantivy::index::SegmentId> = searcher
            .segment_readers()
            .iter()
            .map(|r| r.segment_id())
            .collect();
        cache.retain(|id, _| live.contains(id));
        searcher
            .segment_readers()
            .iter()
            .map(|r| {
                cache
                    .entry(r.segment_id())
                    .or_insert_with(|| Arc::new(segment_papers(r)))
                    .clone()
            })
            .collect()
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
            .filter(|id| held.iter().any(|s| s.contains(id.as_str())))
            .cloned()
            .collect();
        if ids.is_empty() {
            return Ok(out);
        }
        let f = self.fields;
        let words = self.parse(text);
        let query = of_papers(words.as_ref(), f, &ids);
        // Only the segments holding these papers' passages are searched
        // (a query's cost is mostly per segment and term).
        let weight = query
            .weight(tantivy::query::EnableScoring::enabled_from_searcher(
                &searcher,
            ))
            .map_err(ix)?;
        let mut top: Vec<(f32, DocAddress)> = Vec::new();
        for (ord, reader) in searcher.segment_readers().iter().enumerate() {
            if !ids.iter().any(|id| held[ord].contains(id.as_str())) {
                continue;
            }
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
        let mut segments: HashMap<u32, Option<(StrColumn, HashMap<u64, usize>)>> = HashMap::new();
        let mut generator = None;
        for (_, addr) in top {
            let segment = segments.entry(addr.segment_ord).or_insert_with(|| {
                let column = searcher
                    .segment_reader(addr.segment_ord)
                    .fast_fields()
                    .str("id")
                    .ok()
                    .flatten()?;
                let ords = ids
                    .iter()
                    .enumerate()
                    .filter_map(|(i, id)| {
                        let ord = column.dictionary().term_ord(id.as_str()).ok().flatten()?;
                        Some((ord, i))
                    })
                    .collect();
                Some((column, ords))
            });
            let Some((column, ords)) = segment else {
                continue;
            };
            let Some(&i) = column
                .term_ords(addr.doc_id)
                .next()
                .and_then(|o| ords.get(&o))
            else {
                continue;
            };
            let id = ids[i].clone();
            if out.contains_key(&id) {
                continue;
            }
            if generator.is_none() {
                generator = Some(snippets(&searcher, words.as_ref(), f)?);
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
        let generator = snippets(&searcher, words.as_ref(), f)?;
        Ok(top
            .into_iter()
            .filter_map(|(_, addr)| text_match(&searcher, &generator, f, addr))
            .collect())
    }
}

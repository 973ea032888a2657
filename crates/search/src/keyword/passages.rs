//! Passages of papers' full text: a second tantivy index beside the
//! papers', one document per paragraph or caption. Kept apart so that the
//! papers' BM25 statistics (how many documents, how long a title and an
//! abstract are) stay exactly what they were: abstract ranking does not
//! move when full text arrives. It follows the store's `text_seq`.

use std::path::Path;
use std::sync::Mutex;

use paperboy_core::ArxivId;
use paperboy_store::TextChange;
use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, Occur, Query, QueryParser, TermQuery};
use tantivy::schema::{Field, IndexRecordOption, Schema, Value, FAST, STORED, STRING};
use tantivy::snippet::SnippetGenerator;
use tantivy::{doc, DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher};
use tantivy::{TantivyDocument, Term};

use super::{analyzer, create, escape, index_dir, ix, mark, text, ANALYZER};
use crate::SearchError;

/// Writer memory for passages (they arrive a few a minute, or in bulk on
/// a rebuild).
const WRITER_HEAP: usize = 64 * 1024 * 1024;
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

/// A passage matching a query: its section, and a snippet (HTML: escaped
/// text with `<mark>` around the matching words).
#[derive(Debug, Clone, PartialEq)]
pub struct TextMatch {
    pub section: String,
    pub snippet: String,
}

pub(super) struct Passages {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    writer: Mutex<Option<IndexWriter>>,
}

/// Papers whose passages match a query, best passage first, and what is
/// needed to show a snippet of each.
pub struct TextHits {
    searcher: Searcher,
    query: Box<dyn Query>,
    fields: Fields,
    /// Papers, best first, each with its best passage.
    ranked: Vec<(ArxivId, f32, DocAddress)>,
}

impl TextHits {
    /// The papers, best first.
    pub fn papers(&self) -> impl Iterator<Item = &ArxivId> {
        self.ranked.iter().map(|(id, _, _)| id)
    }

    pub fn is_empty(&self) -> bool {
        self.ranked.is_empty()
    }

    /// The best passage of `id` among the hits, with its snippet.
    pub fn snippet(&self, id: &ArxivId) -> Option<TextMatch> {
        let (_, _, addr) = self.ranked.iter().find(|(p, _, _)| p == id)?;
        let generator = snippets(&self.searcher, self.query.as_ref(), self.fields).ok()?;
        text_match(&self.searcher, &generator, self.fields, *addr)
    }
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
    pub(super) fn open(dir: &Path, writable: bool) -> Result<Self, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let (schema, fields) = schema();
        let index = match Index::open(index_dir(dir).map_err(|e| e.to_string())?) {
            Ok(i) if i.schema() != schema && writable => {
                // Passages are derived: rebuilt from the store from 0.
                drop(i);
                std::fs::remove_dir_all(dir).map_err(|e| e.to_string())?;
                std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
                create(dir, schema).map_err(|e| e.to_string())?
            }
            Ok(i) if i.schema() != schema => {
                return Err("the passage index has an older layout; run `paperboy reindex`".into())
            }
            Ok(i) => i,
            Err(_) if !dir.join("meta.json").exists() => {
                create(dir, schema).map_err(|e| e.to_string())?
            }
            Err(e) => return Err(e.to_string()),
        };
        let mut index = index;
        index.tokenizers().register(ANALYZER, analyzer());
        index
            .set_default_multithread_executor()
            .map_err(|e| e.to_string())?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::OnCommitWithDelay)
            .doc_store_cache_num_blocks(super::DOC_STORE_CACHE_BLOCKS)
            .try_into()
            .map_err(|e: tantivy::TantivyError| e.to_string())?;
        let writer = if writable {
            Some(index.writer(WRITER_HEAP).map_err(|e| e.to_string())?)
        } else {
            None
        };
        Ok(Passages {
            index,
            reader,
            fields,
            writer: Mutex::new(writer),
        })
    }

    pub(super) fn synced_seq(&self) -> i64 {
        self.index
            .load_metas()
            .ok()
            .and_then(|m| m.payload)
            .and_then(|p| p.parse().ok())
            .unwrap_or(0)
    }

    /// Replaces the passages of each changed paper and commits them with
    /// the sequence they bring the index to.
    pub(super) fn apply(&self, changes: &[TextChange], seq: i64) -> Result<(), SearchError> {
        let mut guard = self
            .writer
            .lock()
            .map_err(|_| SearchError::Index("writer lock poisoned".into()))?;
        let writer = guard
            .as_mut()
            .ok_or_else(|| SearchError::Index("index opened read-only".into()))?;
        let f = self.fields;
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
        let mut commit = writer.prepare_commit().map_err(ix)?;
        commit.set_payload(&seq.to_string());
        commit.commit().map_err(ix)?;
        Ok(())
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
        let (parsed, errors) = parser.parse_query_lenient(text);
        if errors.is_empty() {
            return parsed;
        }
        let words: String = text
            .chars()
            .map(|c| if c.is_alphanumeric() { c } else { ' ' })
            .collect();
        parser.parse_query_lenient(&words).0
    }

    /// The papers whose passages best match `text`, from the best
    /// `depth` passages.
    pub(super) fn hits(&self, text: &str, depth: usize) -> Result<TextHits, SearchError> {
        let searcher = self.reader.searcher();
        let query = self.parse(text);
        let f = self.fields;
        let mut ranked: Vec<(ArxivId, f32, DocAddress)> = Vec::new();
        if searcher.num_docs() > 0 {
            let top = searcher
                .search(query.as_ref(), &TopDocs::with_limit(depth).order_by_score())
                .map_err(ix)?;
            // Papers are read from the id column, not the stored passages
            // (a block of text decoded for each).
            let mut columns = std::collections::HashMap::new();
            let mut seen = std::collections::HashSet::new();
            for (score, addr) in top {
                let column = columns.entry(addr.segment_ord).or_insert_with(|| {
                    searcher
                        .segment_reader(addr.segment_ord)
                        .fast_fields()
                        .str("id")
                        .ok()
                        .flatten()
                });
                let id = column.as_ref().and_then(|c| {
                    let ord = c.term_ords(addr.doc_id).next()?;
                    let mut key = String::new();
                    c.ord_to_str(ord, &mut key).ok()?;
                    ArxivId::parse(&key).ok()
                });
                if let Some(id) = id {
                    if seen.insert(id.clone()) {
                        ranked.push((id, score, addr));
                    }
                }
            }
        }
        Ok(TextHits {
            searcher,
            query,
            fields: f,
            ranked,
        })
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
        let paper: Box<dyn Query> = Box::new(TermQuery::new(
            Term::from_field_text(f.id, id.as_str()),
            IndexRecordOption::Basic,
        ));
        let query = BooleanQuery::new(vec![(Occur::Must, words.box_clone()), (Occur::Must, paper)]);
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

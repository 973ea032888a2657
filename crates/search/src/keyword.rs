//! The keyword index: BM25 over title, abstract and authors; categories
//! and dates as filters; arXiv-style prefixes (`ti:`, `au:`, `abs:`, `cat:`).

use std::ops::Range;
use std::path::Path;
use std::sync::Mutex;

mod dfs;
mod dir;
mod lengths;
mod passages;
mod terms;

pub use passages::{TextHits, TextMatch};
pub use terms::DocTerms;

use crate::SearchError;
use paperboy_core::{ArxivId, Paper};
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{BooleanQuery, Occur, Query, QueryParser, RangeQuery, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, INDEXED, STORED,
    STRING,
};
use tantivy::snippet::SnippetGenerator;
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, StopWordFilter, TextAnalyzer,
};
use tantivy::{
    doc, DocAddress, Index, IndexReader, IndexWriter, ReloadPolicy, Searcher, TantivyDocument, Term,
};

fn ix(e: tantivy::TantivyError) -> SearchError {
    SearchError::Index(e.to_string())
}

#[derive(Debug, Clone, Copy)]
struct Fields {
    id: Field,
    title: Field,
    abs: Field,
    authors: Field,
    cat: Field,
    published: Field,
    words: Field,
    /// The title and abstract as the analyzer reads them (stored only; see
    /// [`terms::analysed`]).
    tokens: Field,
}

/// What to look for.
#[derive(Debug, Clone, Default)]
pub struct SearchQuery {
    pub text: String,
    pub limit: usize,
    pub offset: usize,
    pub category: Option<String>,
    /// Unix seconds, inclusive.
    pub published_from: Option<i64>,
    pub published_to: Option<i64>,
    pub highlight: bool,
    /// Count every match (slower on large indexes); otherwise `total` is
    /// a lower bound.
    pub count_total: bool,
    /// Only these papers (used to highlight a page chosen elsewhere).
    pub only_ids: Option<Vec<ArxivId>>,
}

pub use paperboy_core::search::Hit;

pub struct KeywordIndex {
    index: Index,
    reader: IndexReader,
    fields: Fields,
    writer: Mutex<Option<IndexWriter>>,
    /// Inverse document frequencies the recommender has looked up.
    idf: terms::IdfCache,
    /// Every term's document frequency, once built.
    dfs: dfs::DfTables,
    /// Papers' term vectors the recommender has read.
    terms_cache: terms::TermsCache,
    /// The papers' average title and abstract lengths, per segment.
    lengths: lengths::PaperLengths,
    /// Passages of the papers' full text (a second index, in `passages/`).
    passages: passages::Passages,
}

/// English text: lowercased, stop words dropped (so "of" neither scores
/// nor lights up), stemmed (so "generalize" finds "generalization").
const ANALYZER: &str = "paper_en";

fn analyzer() -> TextAnalyzer {
    let mut b = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(40))
        .filter(LowerCaser)
        .dynamic();
    if let Some(stop) = StopWordFilter::new(Language::English) {
        b = b.filter_dynamic(stop);
    }
    b.filter_dynamic(Stemmer::new(Language::English)).build()
}

/// The index's directory (see [`dir`]).
fn index_dir(dir: &Path) -> tantivy::Result<dir::IndexDir> {
    dir::IndexDir::open(dir).map_err(|e| {
        tantivy::TantivyError::SystemError(format!("cannot open {}: {e}", dir.display()))
    })
}

fn create(dir: &Path, schema: Schema) -> tantivy::Result<Index> {
    Index::create(index_dir(dir)?, schema, tantivy::IndexSettings::default())
}

fn text(stored: bool) -> TextOptions {
    let indexing = TextFieldIndexing::default()
        .set_tokenizer(ANALYZER)
        .set_index_option(IndexRecordOption::WithFreqsAndPositions);
    let o = TextOptions::default().set_indexing_options(indexing);
    if stored {
        o.set_stored()
    } else {
        o
    }
}

/// The field of a paper's first publication (seconds since 1970).
const PUBLISHED: &str = "published";

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let id = b.add_text_field("id", STRING | STORED);
    let title = b.add_text_field("ti", text(true));
    let abs = b.add_text_field("abs", text(true));
    let authors = b.add_text_field("au", text(false));
    let cat = b.add_text_field("cat", STRING);
    let published = b.add_i64_field(PUBLISHED, INDEXED | FAST);
    let words = b.add_u64_field("words", FAST);
    let tokens = b.add_text_field("tok", STORED);
    (
        b.build(),
        Fields {
            id,
            title,
            abs,
            authors,
            cat,
            published,
            words,
            tokens,
        },
    )
}

/// Distinctive terms a more-like-this query ORs together.
const MORE_LIKE_TERMS: usize = 12;
/// More-like-this leaves out terms found in more than this share of the
/// papers (but never those in fewer than the floor's count of papers).
const MORE_LIKE_MAX_SHARE: f32 = 0.05;
const MORE_LIKE_MAX_DF_FLOOR: f32 = 1000.0;

/// The most BM25 candidates the short-document prior re-scores.
const MAX_POOL: usize = 10_240;

/// A compound whose pieces are each in this many abstracts is searched as
/// its pieces rather than as a phrase (see [`split_compounds`]).
const COMPOUND_PHRASE_DOCS: u64 = 10_000;

/// An index in `dir` with `schema`: opened, or created, or (made by an
/// older Paperboy, and `writable`) thrown away and created anew to be
/// rebuilt from the store; its reader, and its writer when `writable`
/// (which takes the index lock: one process writes, others read).
fn open_parts(
    dir: &Path,
    schema: Schema,
    writable: bool,
    heap: usize,
    what: &str,
) -> Result<(Index, IndexReader, Option<IndexWriter>), SearchError> {
    let open_err = |reason: String| SearchError::Open {
        path: dir.display().to_string(),
        reason,
    };
    std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
    let index = match Index::open(index_dir(dir).map_err(|e| open_err(e.to_string()))?) {
        Ok(i) if i.schema() != schema && writable => {
            // Made by an older Paperboy: rebuild from the store.
            tracing::warn!(dir = %dir.display(), "the {what} index has an older layout; rebuilding it from the store");
            drop(i);
            std::fs::remove_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
            std::fs::create_dir_all(dir).map_err(|e| open_err(e.to_string()))?;
            create(dir, schema).map_err(|e| open_err(e.to_string()))?
        }
        Ok(i) if i.schema() != schema => {
            return Err(open_err(format!(
                "the {what} index has an older layout; run `paperboy reindex`"
            )))
        }
        Ok(i) => i,
        Err(_) if !dir.join("meta.json").exists() => {
            create(dir, schema).map_err(|e| open_err(e.to_string()))?
        }
        Err(e) => return Err(open_err(e.to_string())),
    };
    let mut index = index;
    index.tokenizers().register(ANALYZER, analyzer());
    // Segments are searched in parallel: a query's latency divides by
    // the cores rather than waiting on each segment in turn.
    index
        .set_default_multithread_executor()
        .map_err(|e| open_err(e.to_string()))?;
    let reader = index
        .reader_builder()
        .reload_policy(ReloadPolicy::OnCommitWithDelay)
        // Decoded store blocks kept per segment: hits are scattered, so
        // tantivy's 100 (1.6 MB a segment) were almost never reused.
        .doc_store_cache_num_blocks(DOC_STORE_CACHE_BLOCKS)
        .try_into()
        .map_err(|e: tantivy::TantivyError| open_err(e.to_string()))?;
    let writer = if writable {
        match index.writer(heap) {
            Ok(w) => Some(w),
            Err(tantivy::TantivyError::LockFailure(..)) => return Err(SearchError::Locked),
            Err(e) => return Err(open_err(e.to_string())),
        }
    } else {
        None
    };
    Ok((index, reader, writer))
}

/// `text` as a query; one the parser cannot read is taken as plain words
/// (the syntax stripped).
fn parse_or_words(parser: &QueryParser, text: &str) -> Box<dyn Query> {
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

/// Documents whose `field` (an id) is any of `ids`.
fn any_of(field: Field, ids: &[ArxivId]) -> BooleanQuery {
    BooleanQuery::new(
        ids.iter()
            .map(|id| {
                let t: Box<dyn Query> = Box::new(TermQuery::new(
                    Term::from_field_text(field, id.as_str()),
                    IndexRecordOption::Basic,
                ));
                (Occur::Should, t)
            })
            .collect(),
    )
}

/// The change sequence an index's last commit reflects (its payload).
fn committed_seq(index: &Index) -> i64 {
    index
        .load_metas()
        .ok()
        .and_then(|m| m.payload)
        .and_then(|p| p.parse().ok())
        .unwrap_or(0)
}

/// Runs `write` with the index's writer and commits what it did with the
/// sequence it brings the index to.
fn commit_with(
    writer: &Mutex<Option<IndexWriter>>,
    seq: i64,
    write: impl FnOnce(&mut IndexWriter) -> Result<(), SearchError>,
) -> Result<(), SearchError> {
    let mut guard = writer
        .lock()
        .map_err(|_| SearchError::Index("writer lock poisoned".into()))?;
    let writer = guard
        .as_mut()
        .ok_or_else(|| SearchError::Index("index opened read-only".into()))?;
    write(writer)?;
    let mut commit = writer.prepare_commit().map_err(ix)?;
    commit.set_payload(&seq.to_string());
    commit.commit().map_err(ix)?;
    Ok(())
}

/// Decoded document-store blocks cached per segment.
const DOC_STORE_CACHE_BLOCKS: usize = 8;

/// Writer memory: tantivy splits it among its indexing threads.
const WRITER_HEAP: usize = 256 * 1024 * 1024;

impl KeywordIndex {
    /// Opens (or creates) the index in `dir`. `writable` takes the index
    /// lock: only one process writes, others read and reload.
    pub fn open(dir: &Path, writable: bool) -> Result<Self, SearchError> {
        let (schema, fields) = schema();
        let (index, reader, writer) = open_parts(dir, schema, writable, WRITER_HEAP, "keyword")?;
        let passages = passages::Passages::open(&dir.join("passages"), writable)?;
        Ok(KeywordIndex {
            passages,
            index,
            reader,
            fields,
            writer: Mutex::new(writer),
            idf: terms::IdfCache::default(),
            dfs: Default::default(),
            terms_cache: Default::default(),
            lengths: Default::default(),
        })
    }

    pub fn is_writable(&self) -> bool {
        self.writer.lock().map(|w| w.is_some()).unwrap_or(false)
    }

    /// The change sequence the index reflects (saved with each commit).
    pub fn synced_seq(&self) -> i64 {
        committed_seq(&self.index)
    }

    /// Applies changes (upserts and deletions) and commits them with the
    /// sequence they bring the index to.
    pub fn apply(
        &self,
        upserts: &[Paper],
        deletes: &[ArxivId],
        seq: i64,
    ) -> Result<(), SearchError> {
        let f = self.fields;
        let mut analyzer = analyzer();
        commit_with(&self.writer, seq, |writer| {
            for id in deletes {
                writer.delete_term(Term::from_field_text(f.id, id.as_str()));
            }
            for p in upserts {
                writer.delete_term(Term::from_field_text(f.id, p.id.as_str()));
                let mut d = doc!(
                    f.id => p.id.as_str(),
                    f.title => p.title.as_str(),
                    f.abs => p.abstract_text.as_str(),
                    f.published => p.published_at().timestamp(),
                    f.words => p.abstract_text.split_whitespace().count() as u64,
                    f.tokens => terms::analysed(&mut analyzer, &p.title, &p.abstract_text),
                );
                for a in &p.authors {
                    d.add_text(f.authors, &a.name);
                }
                for c in &p.categories {
                    d.add_text(f.cat, c.as_str());
                    // `cat:cs` finds every cs.* paper.
                    if c.as_str().contains('.') {
                        d.add_text(f.cat, c.archive());
                    }
                }
                writer.add_document(d).map_err(ix)?;
            }
            Ok(())
        })
    }

    /// Makes the latest commit visible to searches now.
    pub fn reload(&self) -> Result<(), SearchError> {
        self.passages.reload()?;
        self.reader.reload().map_err(ix)
    }

    /// The store's `text_seq` the passage index reflects.
    pub fn passages_synced_seq(&self) -> i64 {
        self.passages.synced_seq()
    }

    /// Replaces the passages of papers whose full text changed.
    pub fn apply_texts(
        &self,
        changes: &[paperboy_store::TextChange],
        seq: i64,
    ) -> Result<(), SearchError> {
        self.passages.apply(changes, seq)
    }

    /// Passages indexed, of all papers.
    pub fn num_passages(&self) -> u64 {
        self.passages.num_docs()
    }

    /// Papers whose full text matches `text`, from its best `depth`
    /// passages (empty for field-prefixed queries: those ask about the
    /// paper's fields).
    pub fn text_hits(&self, text: &str, depth: usize) -> Result<TextHits, SearchError> {
        self.passages.hits(text.trim(), depth)
    }

    /// The best passage matching `text` of each of `ids` with one.
    pub fn best_passages(
        &self,
        ids: &[ArxivId],
        text: &str,
    ) -> Result<std::collections::HashMap<ArxivId, TextMatch>, SearchError> {
        self.passages.best_of(ids, text.trim())
    }

    /// The passages of one paper matching `text`, best first.
    pub fn search_in_paper(
        &self,
        id: &ArxivId,
        text: &str,
        limit: usize,
    ) -> Result<Vec<TextMatch>, SearchError> {
        self.passages.within(id, text.trim(), limit)
    }

    /// Tables every term's document frequency now (otherwise done on a
    /// thread of its own at the first recommendation): the number of terms.
    pub fn table_terms(&self) -> Result<usize, SearchError> {
        let searcher = self.reader.searcher();
        self.dfs
            .build_now(&searcher, [self.fields.abs, self.fields.title])
            .map_err(|e| SearchError::Index(e.to_string()))
    }

    pub fn num_docs(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    fn parser(&self) -> QueryParser {
        let f = self.fields;
        let mut qp = QueryParser::for_index(&self.index, vec![f.title, f.abs, f.authors]);
        qp.set_field_boost(f.title, 2.5);
        qp.set_field_boost(f.authors, 1.5);
        qp
    }

    /// Whether every piece of a compound is in at least
    /// [`COMPOUND_PHRASE_DOCS`] abstracts (a piece the analyzer drops, a
    /// stop word, counts as common).
    fn all_common(&self, searcher: &tantivy::Searcher, pieces: &[&str]) -> bool {
        // The registered analyzer (a clone), not a freshly built one.
        let mut analyzer = self
            .index
            .tokenizers()
            .get(ANALYZER)
            .unwrap_or_else(analyzer);
        pieces.iter().all(|p| {
            let mut stream = analyzer.token_stream(p);
            let mut common = true;
            while stream.advance() {
                let term = Term::from_field_text(self.fields.abs, &stream.token().text);
                common &= searcher
                    .doc_freq(&term)
                    .is_ok_and(|df| df >= COMPOUND_PHRASE_DOCS);
            }
            common
        })
    }

    /// Searches; a query the parser cannot read is taken as plain words.
    pub fn search(&self, q: &SearchQuery) -> Result<(Vec<Hit>, usize), SearchError> {
        let parser = self.parser();
        let searcher = self.reader.searcher();
        let text = split_compounds(q.text.trim(), |pieces| self.all_common(&searcher, pieces));
        let query = self.filtered(parse_or_words(&parser, text.as_str()), q);
        let limit = q.limit.clamp(1, 1000);
        let (top, total) = self.top_with_prior(&searcher, query.as_ref(), q, q.offset + limit)?;
        let top: Vec<_> = top.into_iter().skip(q.offset).take(limit).collect();
        let hits = self.hits(&searcher, query.as_ref(), top, q.highlight)?;
        Ok((hits, total))
    }

    /// The parsed query within the request's category, dates and ids.
    fn filtered(&self, parsed: Box<dyn Query>, q: &SearchQuery) -> Box<dyn Query> {
        let f = self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        if let Some(c) = &q.category {
            clauses.push((
                Occur::Must,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.cat, c),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        if q.published_from.is_some() || q.published_to.is_some() {
            let lo = q.published_from.unwrap_or(i64::MIN);
            let hi = q.published_to.unwrap_or(i64::MAX);
            clauses.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    std::ops::Bound::Included(Term::from_field_i64(f.published, lo)),
                    std::ops::Bound::Included(Term::from_field_i64(f.published, hi)),
                )),
            ));
        }
        if let Some(ids) = &q.only_ids {
            clauses.push((Occur::Must, Box::new(any_of(f.id, ids))));
        }
        // Alone, the parsed query is a flat union of term queries, which
        // tantivy answers with block-max WAND (skipping whole blocks of
        // postings that cannot reach the page); wrapped in a one-clause
        // boolean it would score every matching document.
        if clauses.is_empty() {
            parsed
        } else {
            clauses.insert(0, (Occur::Must, parsed));
            Box::new(BooleanQuery::new(clauses))
        }
    }

    /// The best `want` documents by BM25 times the short-document prior,
    /// best first, and the total (exact when the request counts it).
    ///
    /// Counting every match defeats block-max WAND pruning, so the exact
    /// total is computed only when asked for; otherwise it is a lower bound
    /// (one more than shown when the page is full).
    ///
    /// Scores pass through the short-document prior: BM25 favours short
    /// texts, and a one-line record that repeats the query's words must not
    /// bury a paper's abstract. The prior never raises a score, so once the
    /// page's last re-scored hit beats the lowest BM25 score fetched,
    /// nothing further down can overtake it; until then the pool of BM25
    /// candidates grows.
    fn top_with_prior(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        q: &SearchQuery,
        want: usize,
    ) -> Result<(Vec<(f32, tantivy::DocAddress)>, usize), SearchError> {
        let f = self.fields;
        let mut pool = (want * 2).max(40);
        let stats = self.lengths.stats(searcher, f.title, f.abs);
        let words_of = |addr: &tantivy::DocAddress| {
            searcher
                .segment_reader(addr.segment_ord)
                .fast_fields()
                .u64("words")
                .ok()
                .and_then(|c| c.first(addr.doc_id))
                .unwrap_or(0)
        };
        loop {
            let top_docs = TopDocs::with_limit(pool).order_by_score();
            let (mut top, counted) = if q.count_total {
                let (t, c) = searcher
                    .search_with_statistics_provider(query, &(top_docs, Count), &stats)
                    .map_err(ix)?;
                (t, Some(c))
            } else {
                (
                    searcher
                        .search_with_statistics_provider(query, &top_docs, &stats)
                        .map_err(ix)?,
                    None,
                )
            };
            let full = top.len() == pool;
            let lowest = top.last().map_or(0.0, |t| t.0);
            for (score, addr) in top.iter_mut() {
                *score *= crate::hybrid::length_prior(words_of(addr));
            }
            top.sort_by(|a, b| b.0.total_cmp(&a.0));
            let settled = top
                .get(want.saturating_sub(1))
                .is_some_and(|t| t.0 >= lowest);
            if !full || settled || pool >= MAX_POOL {
                let total = counted.unwrap_or(if full { top.len() + 1 } else { top.len() });
                return Ok((top, total));
            }
            pool *= 4;
        }
    }

    /// The page's documents as hits, with highlighted title and summary
    /// when asked for.
    fn hits(
        &self,
        searcher: &Searcher,
        query: &dyn Query,
        top: Vec<(f32, tantivy::DocAddress)>,
        highlight: bool,
    ) -> Result<Vec<Hit>, SearchError> {
        let f = self.fields;
        let (mut title_snip, mut abs_snip) = (None, None);
        if highlight {
            let mut t = SnippetGenerator::create(searcher, query, f.title).map_err(ix)?;
            t.set_max_num_chars(1000);
            let mut a = SnippetGenerator::create(searcher, query, f.abs).map_err(ix)?;
            a.set_max_num_chars(400);
            title_snip = Some(t);
            abs_snip = Some(a);
        }
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr).map_err(ix)?;
            let Some(id) = stored_id(&doc, f.id) else {
                continue;
            };
            let field_text = |field: Field| {
                doc.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            let highlighted_title = title_snip.as_ref().map(|g| {
                let s = g.snippet_from_doc(&doc);
                if s.highlighted().is_empty() {
                    escape(&field_text(f.title))
                } else {
                    mark(s.fragment(), s.highlighted())
                }
            });
            let highlighted_summary = abs_snip.as_ref().map(|g| {
                let s = g.snippet_from_doc(&doc);
                if s.fragment().is_empty() {
                    escape(&field_text(f.abs).chars().take(400).collect::<String>())
                } else {
                    mark(s.fragment(), s.highlighted())
                }
            });
            hits.push(Hit {
                arxiv_id: id,
                score,
                highlighted_title,
                highlighted_summary,
                passage: None,
            });
        }
        Ok(hits)
    }

    /// Papers sharing the most distinctive words of `paper`: its terms
    /// weighted by tf·idf, the best dozen OR-ed (a keyword stand-in for
    /// nearest neighbours; rare terms keep it fast on large indexes).
    pub fn more_like(&self, paper: &Paper, limit: usize) -> Result<Vec<Hit>, SearchError> {
        self.more_like_text(&paper.id, &paper.title, &paper.abstract_text, limit)
    }

    /// The stored title and abstract of `id`.
    pub fn stored_text(&self, id: &ArxivId) -> Option<(String, String)> {
        self.stored_with(&self.reader.searcher(), id).ok().flatten()
    }

    /// The stored document of `id` as `searcher` sees it.
    fn stored_doc(
        &self,
        searcher: &Searcher,
        id: &ArxivId,
    ) -> Result<Option<TantivyDocument>, SearchError> {
        let Some(addr) = address_of(searcher, self.fields.id, id).map_err(ix)? else {
            return Ok(None);
        };
        Ok(Some(searcher.doc(addr).map_err(ix)?))
    }

    /// The title and abstract of `id` as `searcher` sees them.
    fn stored_with(
        &self,
        searcher: &Searcher,
        id: &ArxivId,
    ) -> Result<Option<(String, String)>, SearchError> {
        let f = self.fields;
        let Some(doc) = self.stored_doc(searcher, id)? else {
            return Ok(None);
        };
        let text = |field: Field| {
            doc.get_first(field)
                .and_then(|v| v.as_str())
                .unwrap_or("")
                .to_string()
        };
        Ok(Some((text(f.title), text(f.abs))))
    }

    /// What a paper's term vector is made from, as `searcher` sees it: its
    /// analysed title and abstract (kept at indexing; analysed now should
    /// a document lack them) and its abstract's length in words.
    fn stored_tokens(
        &self,
        searcher: &Searcher,
        id: &ArxivId,
        lazy: &mut Option<TextAnalyzer>,
    ) -> Result<Option<(String, u64)>, SearchError> {
        let f = self.fields;
        let Some(doc) = self.stored_doc(searcher, id)? else {
            return Ok(None);
        };
        let text = |field: Field| doc.get_first(field).and_then(|v| v.as_str());
        let abs = text(f.abs).unwrap_or("");
        let words = abs.split_whitespace().count() as u64;
        let tokens = match text(f.tokens) {
            Some(t) => t.to_string(),
            None => terms::analysed(
                lazy.get_or_insert_with(analyzer),
                text(f.title).unwrap_or(""),
                abs,
            ),
        };
        Ok(Some((tokens, words)))
    }

    /// [`KeywordIndex::more_like`] for a paper given by its text.
    pub fn more_like_text(
        &self,
        own: &ArxivId,
        title: &str,
        abstract_text: &str,
        limit: usize,
    ) -> Result<Vec<Hit>, SearchError> {
        let f = self.fields;
        let searcher = self.reader.searcher();
        let total = searcher.num_docs().max(1) as f32;
        let max_df = (total * MORE_LIKE_MAX_SHARE).max(MORE_LIKE_MAX_DF_FLOOR);
        let mut tf: std::collections::HashMap<String, f32> = std::collections::HashMap::new();
        let mut analyzer = analyzer();
        for (text, weight) in [(title, 2.0f32), (abstract_text, 1.0)] {
            let mut stream = analyzer.token_stream(text);
            while stream.advance() {
                *tf.entry(stream.token().text.clone()).or_default() += weight;
            }
        }
        let mut scored: Vec<(f32, Term, Term)> = Vec::new();
        for (word, count) in tf {
            let t_abs = Term::from_field_text(f.abs, &word);
            let df = searcher.doc_freq(&t_abs).map_err(ix)? as f32;
            if df < 2.0 {
                continue; // only this paper has it: no neighbour shares it
            }
            if df > max_df {
                // In a large share of the collection: says little about a
                // paper and walks a long posting list.
                continue;
            }
            let idf = (total / df).ln();
            scored.push((count * idf, t_abs, Term::from_field_text(f.title, &word)));
        }
        scored.sort_by(|a, b| b.0.total_cmp(&a.0));
        let clauses: Vec<(Occur, Box<dyn Query>)> = scored
            .into_iter()
            .take(MORE_LIKE_TERMS)
            .flat_map(|(_, a, t)| {
                [
                    (
                        Occur::Should,
                        Box::new(TermQuery::new(a, IndexRecordOption::WithFreqs)) as Box<dyn Query>,
                    ),
                    (
                        Occur::Should,
                        Box::new(TermQuery::new(t, IndexRecordOption::WithFreqs)) as Box<dyn Query>,
                    ),
                ]
            })
            .collect();
        if clauses.is_empty() {
            return Ok(Vec::new());
        }
        let query = BooleanQuery::new(clauses);
        let top = searcher
            .search(&query, &TopDocs::with_limit(limit + 1).order_by_score())
            .map_err(ix)?;
        let mut hits = Vec::new();
        for (score, addr) in top {
            let doc: TantivyDocument = searcher.doc(addr).map_err(ix)?;
            let Some(id) = stored_id(&doc, f.id) else {
                continue;
            };
            if id != *own && hits.len() < limit {
                hits.push(Hit {
                    arxiv_id: id,
                    score,
                    highlighted_title: None,
                    highlighted_summary: None,
                    passage: None,
                });
            }
        }
        Ok(hits)
    }
}

/// The arXiv id a stored document carries.
/// Where the live document whose `field` is `id` is: the id's postings
/// read segment by segment. (A search through a collector runs on the
/// index's thread pool; for one document per paper, hundreds at a time,
/// the hand-over cost more than the lookup.)
fn address_of(
    searcher: &Searcher,
    field: Field,
    id: &ArxivId,
) -> tantivy::Result<Option<DocAddress>> {
    use tantivy::{DocSet, TERMINATED};
    let term = Term::from_field_text(field, id.as_str());
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        let Some(mut postings) = segment
            .inverted_index(field)?
            .read_postings(&term, IndexRecordOption::Basic)?
        else {
            continue;
        };
        let mut doc = postings.doc();
        while doc != TERMINATED {
            if segment.alive_bitset().is_none_or(|a| a.is_alive(doc)) {
                return Ok(Some(DocAddress::new(ord as u32, doc)));
            }
            doc = postings.advance();
        }
    }
    Ok(None)
}

fn stored_id(doc: &TantivyDocument, field: Field) -> Option<ArxivId> {
    doc.get_first(field)
        .and_then(|v| v.as_str())
        .and_then(|s| ArxivId::parse(s).ok())
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A compound (`fine-tuned`, `e.g`, `and/or`) outside quotes and field
/// prefixes whose pieces are all common asks for every piece rather than
/// for their phrase.
///
/// The analyzer splits compounds, and the query parser makes a phrase of
/// the pieces, which reads positions in every document holding them all:
/// at a million papers the slowest keyword queries (20–60 ms) were all
/// compounds of common words (`fine-tuned`, `task-specific`). Requiring
/// the pieces, without positions, finds nearly the same documents (those
/// holding `fine` and `tuned` almost always say `fine-tuned` or
/// `fine-tuning`) at a fraction of the cost, but ranks a little worse on
/// our judgments (hybrid nDCG@10 0.851 → 0.847 with distractors), so
/// compounds with a rare piece stay phrases: `common(pieces)` says when
/// the phrase would be costly. Quoting a compound always asks for the
/// phrase; as loose words (neither required) compounds were faster still
/// and ranked worse again (0.837).
fn split_compounds(text: &str, common: impl Fn(&[&str]) -> bool) -> String {
    let mut out = String::with_capacity(text.len() + 16);
    let mut rest = text;
    while !rest.is_empty() {
        // Whitespace as it is.
        let ws = rest.len() - rest.trim_start().len();
        out.push_str(&rest[..ws]);
        rest = &rest[ws..];
        if rest.is_empty() {
            break;
        }
        // One word; a quoted span is one word, spaces and all.
        let mut end = 0;
        let mut quoted = false;
        for (i, c) in rest.char_indices() {
            if c == '"' {
                quoted = !quoted;
            } else if c.is_whitespace() && !quoted {
                break;
            }
            end = i + c.len_utf8();
        }
        let word = &rest[..end];
        rest = &rest[end..];
        let body = word.trim_start_matches(['+', '-']);
        let pieces = pieces(body);
        if pieces.len() < 2 || !common(&pieces) {
            out.push_str(word);
            continue;
        }
        out.push_str(&word[..word.len() - body.len()]);
        out.push('(');
        for (k, p) in pieces.iter().enumerate() {
            if k > 0 {
                out.push(' ');
            }
            out.push('+');
            out.push_str(p);
        }
        out.push(')');
    }
    out
}

/// The pieces of a compound word: letters and digits joined by `-` or `/`
/// (or `.` between letters: `3.5` and `2203.05482` stay whole). Anything
/// else (quotes, field prefixes, brackets) leaves the word as it is.
fn pieces(word: &str) -> Vec<&str> {
    let chars: Vec<(usize, char)> = word.char_indices().collect();
    let mut cuts = Vec::new();
    for (k, &(i, c)) in chars.iter().enumerate() {
        let before = k.checked_sub(1).map(|j| chars[j].1);
        let after = chars.get(k + 1).map(|x| x.1);
        let joins = match c {
            c if c.is_alphanumeric() => continue,
            // A trailing full stop or comma (`e.g.`) stays on its piece.
            '.' | ',' | ';' | '?' | '!' if after.is_none() => continue,
            '-' | '/' => {
                before.is_some_and(char::is_alphanumeric)
                    && after.is_some_and(char::is_alphanumeric)
            }
            '.' => {
                before.is_some_and(char::is_alphabetic) && after.is_some_and(char::is_alphabetic)
            }
            _ => return vec![word],
        };
        if !joins {
            return vec![word];
        }
        cuts.push(i);
    }
    let mut out = Vec::with_capacity(cuts.len() + 1);
    let mut start = 0;
    for cut in cuts {
        out.push(&word[start..cut]);
        start = cut + 1;
    }
    out.push(&word[start..]);
    out
}

/// Escaped text with `<mark>` around the highlighted byte ranges.
fn mark(text: &str, ranges: &[Range<usize>]) -> String {
    let mut out = String::with_capacity(text.len() + ranges.len() * 13);
    let mut at = 0;
    for r in ranges {
        if r.start < at
            || r.end > text.len()
            || !text.is_char_boundary(r.start)
            || !text.is_char_boundary(r.end)
        {
            continue;
        }
        out.push_str(&escape(&text[at..r.start]));
        out.push_str("<mark>");
        out.push_str(&escape(&text[r.clone()]));
        out.push_str("</mark>");
        at = r.end;
    }
    out.push_str(&escape(&text[at..]));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_and_escapes() {
        assert_eq!(
            mark("a <b> c", std::slice::from_ref(&(2..5))),
            "a <mark>&lt;b&gt;</mark> c"
        );
        assert_eq!(mark("x & y", &[]), "x &amp; y");
    }

    #[test]
    fn common_compounds_require_their_pieces_outside_quotes_and_fields() {
        let all = |_: &[&str]| true;
        assert_eq!(
            split_compounds("fine-tuned models", all),
            "(+fine +tuned) models"
        );
        assert_eq!(
            split_compounds("e.g. gpt-4 and/or", all),
            "(+e +g.) (+gpt +4) (+and +or)"
        );
        assert_eq!(
            split_compounds("\"fine-tuned models\"  x-y", all),
            "\"fine-tuned models\"  (+x +y)"
        );
        assert_eq!(
            split_compounds("ti:fine-tuned -self-play", all),
            "ti:fine-tuned -(+self +play)"
        );
        assert_eq!(
            split_compounds("(fine-tuned) 3.5 2203.05482 a--b", all),
            "(fine-tuned) 3.5 2203.05482 a--b"
        );
        assert_eq!(
            split_compounds("über-modell — 東京-大学", all),
            "(+über +modell) — (+東京 +大学)"
        );
        // A compound with a rare piece stays a phrase.
        let rare = |p: &[&str]| !p.contains(&"zeta");
        assert_eq!(
            split_compounds("zeta-tuned fine-tuned", rare),
            "zeta-tuned (+fine +tuned)"
        );
    }
}

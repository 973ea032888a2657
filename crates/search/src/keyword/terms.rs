//! Papers as weighted terms: the tf·idf vector of a stored paper (with the
//! words a reader would recognise behind each stem), and a reader's profile
//! searched as one query of boosted terms.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use rustc_hash::{FxHashMap, FxHashSet};

use paperboy_core::ArxivId;
use tantivy::collector::{Collector, TopDocs};
use tantivy::query::{
    BooleanQuery, BoostQuery, ConstScoreQuery, EnableScoring, Occur, Query, RangeQuery, TermQuery,
};
use tantivy::schema::{IndexRecordOption, Value};
use tantivy::tokenizer::TextAnalyzer;
use tantivy::{Searcher, TantivyDocument, Term};

use super::{ix, stored_id, Hit, KeywordIndex};
use crate::SearchError;

/// A paper's distinctive terms.
#[derive(Debug, Clone)]
pub struct DocTerms {
    pub id: ArxivId,
    /// Stem → (1 + ln tf)·idf, the vector of unit length.
    /// (A hasher without a random seed: sums over the terms come out the
    /// same in every process, so the CLI and the server agree to the bit.)
    pub weights: FxHashMap<String, f32>,
    /// Pairs of consecutive stems ("task vector") → (1 + ln tf)·idf, with
    /// the pair's idf taken as the sum of its stems' (as if they occurred
    /// independently), the vector of unit length; empty where a paper has
    /// none.
    pub bigrams: FxHashMap<String, f32>,
    /// Stem → the word as it first appears in the paper, lowercased.
    pub surface: FxHashMap<String, String>,
    /// Words of the abstract.
    pub words: u64,
}

/// Inverse document frequencies, kept across calls while the index size
/// stays within 1 % of the size they were computed at (a term's idf hardly
/// moves in between; two dictionary lookups per term per paper did); what
/// is looked up while the table of every term ([`super::dfs`]) is built.
#[derive(Default)]
pub(super) struct IdfCache {
    inner: std::sync::RwLock<(u64, HashMap<String, f32>)>,
}

/// Terms kept at most; past it the cache starts over.
const IDF_CACHE_MAX: usize = 500_000;

impl IdfCache {
    /// The cached idf of each term of `terms` that has one.
    fn get_many(&self, docs: u64, terms: &[&str]) -> Vec<Option<f32>> {
        let guard = self.inner.read().unwrap_or_else(|p| p.into_inner());
        let fresh = super::dfs::within_a_hundredth(guard.0, docs);
        terms
            .iter()
            .map(|t| {
                if fresh {
                    guard.1.get(*t).copied()
                } else {
                    None
                }
            })
            .collect()
    }

    fn put_many(&self, docs: u64, found: Vec<(String, f32)>) {
        if found.is_empty() {
            return;
        }
        let mut guard = self.inner.write().unwrap_or_else(|p| p.into_inner());
        if !super::dfs::within_a_hundredth(guard.0, docs) || guard.1.len() > IDF_CACHE_MAX {
            guard.1.clear();
            guard.0 = docs;
        }
        guard.1.extend(found);
    }
}

/// Papers' term vectors, kept while the index stays the same (a reader's
/// library and a week's new papers come back request after request): the
/// least recently used go first when it is full, so one reader's large
/// library read once does not push out the week every reader shares.
pub(super) struct TermsCache {
    inner: std::sync::Mutex<(u64, lru::LruCache<ArxivId, Arc<DocTerms>>)>,
}

/// Papers the term-vector cache holds at most (~10 KB each).
const TERMS_CACHE_MAX: usize = 5_000;

impl Default for TermsCache {
    fn default() -> Self {
        let cap =
            std::num::NonZeroUsize::new(TERMS_CACHE_MAX).unwrap_or(std::num::NonZeroUsize::MIN);
        TermsCache {
            inner: std::sync::Mutex::new((0, lru::LruCache::new(cap))),
        }
    }
}

impl TermsCache {
    /// What the cache holds of `ids` as of index generation `generation`
    /// (it is emptied when the index has moved on since it was filled),
    /// and the positions of those it lacks.
    fn get_many(
        &self,
        generation: u64,
        ids: &[ArxivId],
    ) -> (Vec<Option<Arc<DocTerms>>>, Vec<usize>) {
        let mut cache = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if cache.0 != generation {
            cache.1.clear();
            cache.0 = generation;
        }
        let mut missing = Vec::new();
        let found = ids
            .iter()
            .enumerate()
            .map(|(i, id)| {
                let d = cache.1.get(id).cloned();
                if d.is_none() {
                    missing.push(i);
                }
                d
            })
            .collect();
        (found, missing)
    }

    /// Keeps papers' vectors read as of `generation`, unless the index has
    /// moved on since.
    fn put_many<'a>(&self, generation: u64, docs: impl Iterator<Item = &'a Arc<DocTerms>>) {
        let mut cache = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if cache.0 == generation {
            for d in docs {
                cache.1.put(d.id.clone(), d.clone());
            }
        }
    }
}

/// Title words count this many times over abstract words.
const TITLE_WEIGHT: f32 = 2.0;

/// A paper's title and abstract as the analyzer reads them, kept with the
/// paper when it is indexed, so that a term vector is built at request
/// time without analysing the text again (stemming and lowercasing were
/// the most of a cold recommendation's reading of a library): the title's
/// stems, a newline, the abstract's, separated by spaces; a stem's first
/// appearance in the paper is written `stem|word` where the word it comes
/// from (lowercased) is spelled otherwise. Tokens are runs of letters and
/// digits, so none holds a space, a bar or a newline.
pub(super) fn analysed(analyzer: &mut TextAnalyzer, title: &str, abs: &str) -> String {
    let mut out = String::with_capacity(title.len() + abs.len() + 1);
    let mut seen: FxHashSet<String> = FxHashSet::default();
    for (i, text) in [title, abs].into_iter().enumerate() {
        if i == 1 {
            out.push('\n');
        }
        let mut stream = analyzer.token_stream(text);
        let mut first = true;
        while stream.advance() {
            let t = stream.token();
            if !std::mem::take(&mut first) {
                out.push(' ');
            }
            out.push_str(&t.text);
            if !seen.contains(&t.text) {
                seen.insert(t.text.clone());
                if let Some(word) = text.get(t.offset_from..t.offset_to) {
                    let word = word.to_lowercase();
                    if word != t.text {
                        out.push('|');
                        out.push_str(&word);
                    }
                }
            }
        }
    }
    out
}

/// A paper's counts from its [`analysed`] text.
struct Counts<'a> {
    /// Stem → count, title words counting [`TITLE_WEIGHT`].
    tf: FxHashMap<&'a str, f32>,
    /// Consecutive stems (within the title, within the abstract) → count.
    pairs: FxHashMap<(&'a str, &'a str), f32>,
    /// Stem → the word of its first appearance.
    surface: FxHashMap<&'a str, &'a str>,
}

fn counts(tokens: &str) -> Counts<'_> {
    // Sized from the text (a token and its space are about seven bytes;
    // most stems come once or twice): growing the tables was a fifth of
    // the counting.
    let tokens_about = tokens.len() / 7 + 1;
    let mut c = Counts {
        tf: FxHashMap::with_capacity_and_hasher(tokens_about * 3 / 4, Default::default()),
        pairs: FxHashMap::with_capacity_and_hasher(tokens_about, Default::default()),
        surface: FxHashMap::with_capacity_and_hasher(tokens_about * 3 / 4, Default::default()),
    };
    let (title, abs) = tokens.split_once('\n').unwrap_or((tokens, ""));
    for (line, w) in [(title, TITLE_WEIGHT), (abs, 1.0)] {
        let mut previous: Option<&str> = None;
        for token in line.split(' ').filter(|t| !t.is_empty()) {
            let (stem, word) = token.split_once('|').unwrap_or((token, token));
            *c.tf.entry(stem).or_default() += w;
            if let Some(p) = previous.replace(stem) {
                *c.pairs.entry((p, stem)).or_default() += w;
            }
            c.surface.entry(stem).or_insert(word);
        }
    }
    c
}

impl KeywordIndex {
    /// The term vectors of `ids` (`None` for papers the index lacks): from
    /// the cache of recently read papers while the index has not changed,
    /// the rest read and analysed now.
    pub fn doc_terms(&self, ids: &[ArxivId]) -> Result<Vec<Option<Arc<DocTerms>>>, SearchError> {
        let generation = self.reader.searcher().generation().generation_id();
        let (mut out, missing) = self.terms_cache.get_many(generation, ids);
        if missing.is_empty() {
            return Ok(out);
        }
        let wanted: Vec<ArxivId> = missing.iter().map(|&i| ids[i].clone()).collect();
        let read = self.read_terms(&wanted)?;
        let mut fresh = Vec::with_capacity(read.len());
        for (i, d) in missing.into_iter().zip(read) {
            if let Some(d) = d {
                let d = Arc::new(d);
                fresh.push(d.clone());
                out[i] = Some(d);
            }
        }
        self.terms_cache.put_many(generation, fresh.iter());
        Ok(out)
    }

    fn read_terms(&self, ids: &[ArxivId]) -> Result<Vec<Option<DocTerms>>, SearchError> {
        // Reading and analysing stored text is most of the cost: on two
        // threads or more, halves of the list at once.
        if ids.len() >= 32 && rayon::current_num_threads() > 1 {
            let (a, b) = ids.split_at(ids.len() / 2);
            let (x, y) = rayon::join(|| self.doc_terms_seq(a), || self.doc_terms_seq(b));
            let mut x = x?;
            x.extend(y?);
            return Ok(x);
        }
        self.doc_terms_seq(ids)
    }

    fn doc_terms_seq(&self, ids: &[ArxivId]) -> Result<Vec<Option<DocTerms>>, SearchError> {
        let searcher = self.reader.searcher();
        let docs = searcher.num_docs();
        let total = docs.max(1) as f32;
        let mut idf: HashMap<String, f32> = HashMap::new();
        let table = self
            .dfs
            .fresh(&searcher, [self.fields.abs, self.fields.title]);
        let mut out = Vec::with_capacity(ids.len());
        let mut analyzer = None;
        for id in ids {
            let Some((tokens, words)) = self.stored_tokens(&searcher, id, &mut analyzer)? else {
                out.push(None);
                continue;
            };
            let Counts { tf, pairs, surface } = counts(&tokens);
            let mut weights = FxHashMap::with_capacity_and_hasher(tf.len(), Default::default());
            let mut norm = 0.0f32;
            let terms: Vec<&str> = tf.keys().copied().collect();
            let cached = match &table {
                // The table has every term: one lookup each.
                Some(t) => terms
                    .iter()
                    .map(|term| {
                        let df = t.get(term) as f32;
                        Some(if df < 2.0 { 0.0 } else { (total / df).ln() })
                    })
                    .collect(),
                None => self.idf.get_many(docs, &terms),
            };
            let mut found = Vec::new();
            let mut idfs = Vec::with_capacity(terms.len());
            for (term, c) in terms.iter().zip(cached) {
                let v = match c.or_else(|| idf.get(*term).copied()) {
                    Some(v) => v,
                    None => {
                        let df = searcher
                            .doc_freq(&Term::from_field_text(self.fields.abs, term))
                            .map_err(ix)?
                            .max(
                                searcher
                                    .doc_freq(&Term::from_field_text(self.fields.title, term))
                                    .map_err(ix)?,
                            ) as f32;
                        // A term no other paper has links to nothing.
                        let v = if df < 2.0 { 0.0 } else { (total / df).ln() };
                        idf.insert((*term).to_string(), v);
                        found.push(((*term).to_string(), v));
                        v
                    }
                };
                idfs.push(v);
            }
            self.idf.put_many(docs, found);
            let idf_of: FxHashMap<&str, f32> = terms.iter().copied().zip(idfs).collect();
            let mut bigrams = FxHashMap::with_capacity_and_hasher(pairs.len(), Default::default());
            let mut pair_norm = 0.0f32;
            for ((a, b), count) in &pairs {
                let (ia, ib) = (idf_of.get(a).copied(), idf_of.get(b).copied());
                if let (Some(ia), Some(ib)) = (ia, ib) {
                    if ia > 0.0 && ib > 0.0 {
                        let w = (1.0 + count.ln()) * (ia + ib);
                        pair_norm += w * w;
                        let mut pair = String::with_capacity(a.len() + 1 + b.len());
                        pair.push_str(a);
                        pair.push(' ');
                        pair.push_str(b);
                        bigrams.insert(pair, w);
                    }
                }
            }
            for (term, count) in &tf {
                let w_idf = idf_of.get(term).copied().unwrap_or(0.0);
                if w_idf <= 0.0 {
                    continue;
                }
                let w = (1.0 + count.ln()) * w_idf;
                norm += w * w;
                weights.insert(term.to_string(), w);
            }
            let norm = norm.sqrt().max(1e-6);
            for w in weights.values_mut() {
                *w /= norm;
            }
            let pair_norm = pair_norm.sqrt().max(1e-6);
            for w in bigrams.values_mut() {
                *w /= pair_norm;
            }
            out.push(Some(DocTerms {
                id: id.clone(),
                weights,
                bigrams,
                surface: surface
                    .into_iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                words,
            }));
        }
        Ok(out)
    }

    /// About `n` papers of the index chosen at random (reproducibly for a
    /// `seed` and an unchanged index), or every paper when `n` is at least
    /// the index's size: the background a reader's library is told apart
    /// from.
    pub fn sample_ids(&self, n: usize, seed: u64) -> Result<Vec<ArxivId>, SearchError> {
        use rand::{Rng, SeedableRng};
        let searcher = self.reader.searcher();
        let total = searcher.num_docs() as usize;
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
        let mut out = Vec::with_capacity(n.min(total));
        for segment in searcher.segment_readers() {
            let store = segment
                .get_store_reader(1)
                .map_err(|e| ix(tantivy::TantivyError::from(e)))?;
            for doc in segment.doc_ids_alive() {
                // Each paper is kept with probability n/total.
                if n < total && rng.gen_range(0..total) >= n {
                    continue;
                }
                let d: TantivyDocument = store.get(doc).map_err(ix)?;
                if let Some(id) = stored_id(&d, self.fields.id) {
                    out.push(id);
                }
            }
        }
        Ok(out)
    }

    /// The papers that best match weighted terms (a profile), by BM25 with
    /// each term boosted by its weight; those first published at or after
    /// `since` when given; never one of `exclude`.
    pub fn profile_hits(
        &self,
        terms: &[(String, f32)],
        since: Option<i64>,
        exclude: &HashSet<ArxivId>,
        limit: usize,
    ) -> Result<Vec<(Hit, u64)>, SearchError> {
        let f = self.fields;
        let mut should: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        for (term, w) in terms {
            for (field, boost) in [(f.abs, 1.0f32), (f.title, TITLE_WEIGHT)] {
                let q = TermQuery::new(
                    Term::from_field_text(field, term),
                    IndexRecordOption::WithFreqs,
                );
                should.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(Box::new(q), w * boost)),
                ));
            }
        }
        if should.is_empty() {
            return Ok(Vec::new());
        }
        let mut clauses: Vec<(Occur, Box<dyn Query>)> =
            vec![(Occur::Must, Box::new(BooleanQuery::new(should)))];
        if let Some(since) = since {
            // A filter, scoring nothing: the range query's own score (1 in
            // a segment it covers in part, 0 in one it covers whole) put
            // the papers of some segments a point above the others.
            let window = RangeQuery::new(
                std::ops::Bound::Included(Term::from_field_i64(f.published, since)),
                std::ops::Bound::Unbounded,
            );
            clauses.push((
                Occur::Must,
                Box::new(ConstScoreQuery::new(Box::new(window), 0.0)),
            ));
        }
        let searcher = self.reader.searcher();
        let top = search_since(
            &searcher,
            &BooleanQuery::new(clauses),
            &TopDocs::with_limit(limit + exclude.len().min(1000)).order_by_score(),
            since,
        )?;
        let mut hits = Vec::with_capacity(limit);
        for (score, addr) in top {
            if hits.len() >= limit {
                break;
            }
            let doc: TantivyDocument = searcher.doc(addr).map_err(ix)?;
            let Some(id) = stored_id(&doc, f.id) else {
                continue;
            };
            if exclude.contains(&id) {
                continue;
            }
            let words = doc
                .get_first(f.abs)
                .and_then(|v| v.as_str())
                .map_or(0, |a| a.split_whitespace().count() as u64);
            hits.push((
                Hit {
                    arxiv_id: id,
                    score,
                    highlighted_title: None,
                    highlighted_summary: None,
                    passage: None,
                },
                words,
            ));
        }
        Ok(hits)
    }
}

/// `searcher.search(query, collector)` for a query of papers first
/// published at or after `since` (when given): segments whose papers are
/// all older are not searched at all. A day's or a week's papers sit in
/// the newest segments, and building the scorers of a profile's forty
/// terms in every other segment, only to intersect them with nothing, was
/// most of such a query's time. Scores are the same: the statistics are
/// still the whole index's.
fn search_since<C: Collector>(
    searcher: &Searcher,
    query: &dyn Query,
    collector: &C,
    since: Option<i64>,
) -> Result<C::Fruit, SearchError> {
    let Some(since) = since else {
        return searcher.search(query, collector).map_err(ix);
    };
    let weight = query
        .weight(EnableScoring::enabled_from_searcher(searcher))
        .map_err(ix)?;
    let mut fruits = Vec::new();
    let mut skipped = 0usize;
    for (ord, segment) in searcher.segment_readers().iter().enumerate() {
        // The newest paper a segment holds (searched when it cannot be
        // read: the range query itself then decides).
        let newest = segment
            .fast_fields()
            .i64(super::PUBLISHED)
            .map_or(i64::MAX, |c| c.max_value());
        if newest < since {
            skipped += 1;
            continue;
        }
        fruits.push(
            collector
                .collect_segment(weight.as_ref(), ord as u32, segment)
                .map_err(ix)?,
        );
    }
    tracing::trace!(
        skipped,
        searched = fruits.len(),
        "segments older than the window"
    );
    collector.merge_fruits(fruits).map_err(ix)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts straight from the analyzer's tokens, as they were made
    /// before the analysed text was kept: what [`counts`] must give back.
    #[allow(clippy::type_complexity)]
    fn counted_now(
        title: &str,
        abs: &str,
    ) -> (
        Vec<(String, f32)>,
        Vec<((String, String), f32)>,
        Vec<(String, String)>,
    ) {
        let mut analyzer = super::super::analyzer();
        let mut tf: FxHashMap<String, f32> = FxHashMap::default();
        let mut pairs: FxHashMap<(String, String), f32> = FxHashMap::default();
        let mut surface: FxHashMap<String, String> = FxHashMap::default();
        for (text, w) in [(title, TITLE_WEIGHT), (abs, 1.0)] {
            let mut stream = analyzer.token_stream(text);
            let mut previous: Option<String> = None;
            while stream.advance() {
                let t = stream.token();
                *tf.entry(t.text.clone()).or_default() += w;
                if let Some(p) = previous.replace(t.text.clone()) {
                    *pairs.entry((p, t.text.clone())).or_default() += w;
                }
                surface
                    .entry(t.text.clone())
                    .or_insert_with(|| text[t.offset_from..t.offset_to].to_lowercase());
            }
        }
        let mut tf: Vec<_> = tf.into_iter().collect();
        let mut pairs: Vec<_> = pairs.into_iter().collect();
        let mut surface: Vec<_> = surface.into_iter().collect();
        tf.sort_by(|a, b| a.0.cmp(&b.0));
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        surface.sort();
        (tf, pairs, surface)
    }

    #[test]
    fn the_kept_analysis_gives_back_the_analyzers_counts() {
        let long = "x".repeat(60);
        let cases = [
            ("Model Soups: averaging weights", "Averaging the weights of models fine-tuned with different hyperparameters improves accuracy. Models, MODELS, soups!"),
            ("", "Only an abstract, with stop words and the the the"),
            ("Only a title", ""),
            ("", ""),
            ("Über große Modelle", "İstanbul ÉCOLE naïve café 3D-CNNs R2D2 β-VAE"),
            ("Pipes | and\nnewlines", &format!("a|b c\nd {long} tail")),
        ];
        for (title, abs) in cases {
            let kept = analysed(&mut super::super::analyzer(), title, abs);
            let c = counts(&kept);
            let mut tf: Vec<(String, f32)> =
                c.tf.iter().map(|(k, v)| (k.to_string(), *v)).collect();
            let mut pairs: Vec<((String, String), f32)> = c
                .pairs
                .iter()
                .map(|((a, b), v)| ((a.to_string(), b.to_string()), *v))
                .collect();
            let mut surface: Vec<(String, String)> = c
                .surface
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect();
            tf.sort_by(|a, b| a.0.cmp(&b.0));
            pairs.sort_by(|a, b| a.0.cmp(&b.0));
            surface.sort();
            let now = counted_now(title, abs);
            assert_eq!(
                (tf, pairs, surface),
                now,
                "{title:?} / {abs:?} kept as {kept:?}"
            );
        }
        // Title pairs do not run on into the abstract, and title words
        // count twice.
        let kept = analysed(&mut super::super::analyzer(), "soup", "weights soup");
        let c = counts(&kept);
        assert_eq!(c.tf["soup"], 3.0);
        assert_eq!(c.pairs.len(), 1, "{:?}", c.pairs);
        assert_eq!(c.surface["weight"], "weights");
    }
}

//! The search engine: keyword, semantic and hybrid modes over the keyword
//! index and (when a model is configured) the vector index, and related
//! papers. Independent of the web layer; the binary adapts it.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use paperboy_core::{ArxivId, Paper};
use paperboy_embed::Embedder;

use crate::hybrid::{self, Fusion, Ranked};
use crate::{Hit, KeywordIndex, Neighbour, SearchError, SearchQuery, TextHits, VectorIndex};

/// The semantic half of search: an embedder and the vectors it made.
#[derive(Clone)]
pub struct Semantic {
    pub embedder: Arc<dyn Embedder>,
    pub index: Arc<VectorIndex>,
}

pub use paperboy_core::search::{Found, Mode, NO_MODEL_NOTE};

/// Passages a search reads to find `want` papers by their full text
/// (several passages of one paper often lead).
fn text_depth(want: usize) -> usize {
    (want * 3).clamp(40, 300)
}

/// Candidates each side brings to the fusion.
const FUSION_DEPTH: usize = 60;
/// Candidates each side brings to a related-papers list.
const RELATED_DEPTH: usize = 40;
/// Candidates the semantic side re-scores with the short-document prior.
const SEMANTIC_POOL: usize = 200;

pub struct Engine {
    pub keyword: Arc<KeywordIndex>,
    /// Vectors for every paper (the static model: fast enough to keep up).
    pub semantic: Option<Semantic>,
    /// Better vectors (the transformer) filled in behind `semantic`, newest
    /// papers first: used wherever they cover a candidate.
    pub refined: Option<Semantic>,
    /// How keyword and semantic lists are fused (with `refined` vectors,
    /// `refined_fusion`).
    pub fusion: Fusion,
    pub refined_fusion: Fusion,
    /// How recommendations are made and their views weighed.
    pub tuning: crate::recommend::Tuning,
    /// Readers' models and the papers they learn against, kept.
    pub(crate) learning: crate::recommend::Learning,
}

/// Field prefixes ask for words in a field: a question for the keyword
/// index alone.
fn has_field_syntax(q: &str) -> bool {
    q.split_whitespace().any(|w| {
        let w = w.trim_start_matches(['+', '-', '(']);
        ["ti:", "au:", "abs:", "cat:"]
            .iter()
            .any(|p| w.starts_with(p))
    })
}

/// The query with search syntax taken out, for the embedder.
fn plain_words(q: &str) -> String {
    q.chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '\'' {
                c
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .filter(|w| !matches!(*w, "AND" | "OR" | "NOT"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The nearest papers by the refined vectors where they exist and by the
/// base vectors elsewhere, best first, at most `k`: a base score is put on
/// the refined scale by a line fitted, for this query, to the candidates
/// that have both (with too few of those, by matching the two lists'
/// means and spreads). Once the refined index covers everything this is
/// just its list.
fn blend(
    base: &Semantic,
    v: &[f32],
    refined: &Semantic,
    rv: &[f32],
    k: usize,
    exclude: Option<&ArxivId>,
) -> Vec<Neighbour> {
    let fine = refined.index.search(rv, k, exclude);
    if refined.index.len() >= base.index.len() {
        return fine;
    }
    let coarse = base.index.search(v, k, exclude);
    let fine_score: HashMap<&ArxivId, f32> = fine.iter().map(|n| (&n.arxiv_id, n.score)).collect();
    let coarse_score: HashMap<&ArxivId, f32> =
        coarse.iter().map(|n| (&n.arxiv_id, n.score)).collect();
    // Candidates with both scores: the base list's covered papers, and the
    // refined list's papers scored by the base vectors.
    let mut pairs: Vec<(f32, f32)> = Vec::new();
    let mut refined_of: HashMap<&ArxivId, f32> = HashMap::new();
    for n in &coarse {
        let t = match fine_score.get(&n.arxiv_id) {
            Some(t) => Some(*t),
            None => refined
                .index
                .vector_of(&n.arxiv_id)
                .map(|x| paperboy_embed::dot(&x, rv)),
        };
        if let Some(t) = t {
            refined_of.insert(&n.arxiv_id, t);
            pairs.push((n.score, t));
        }
    }
    for n in &fine {
        if !coarse_score.contains_key(&n.arxiv_id) {
            if let Some(x) = base.index.vector_of(&n.arxiv_id) {
                pairs.push((paperboy_embed::dot(&x, v), n.score));
            }
        }
    }
    let (a, b) = calibration(&pairs, &coarse, &fine);
    let mut out: Vec<Neighbour> = fine.clone();
    for n in &coarse {
        if fine_score.contains_key(&n.arxiv_id) {
            continue;
        }
        let score = match refined_of.get(&n.arxiv_id) {
            Some(t) => *t,
            None => a * n.score + b,
        };
        out.push(Neighbour { score, ..n.clone() });
    }
    out.sort_by(|x, y| y.score.total_cmp(&x.score));
    out.truncate(k);
    out
}

/// Fewest pairs a per-query line is fitted to.
const MIN_PAIRS: usize = 12;

/// `(a, b)` mapping a base score `s` to the refined scale as `a·s + b`:
/// the means and spreads of `pairs` (base, refined) matched when there are
/// enough of them and they agree in direction (a line through both
/// clouds, not a regression of one on the other, which would pull every
/// uncovered paper toward the mean and so below covered papers of the same
/// standing); otherwise the two lists' means and spreads matched.
pub(crate) fn calibration(
    pairs: &[(f32, f32)],
    coarse: &[Neighbour],
    fine: &[Neighbour],
) -> (f32, f32) {
    fn mean_sd(xs: impl Iterator<Item = f32> + Clone) -> Option<(f32, f32)> {
        let n = xs.clone().count();
        if n < 2 {
            return None;
        }
        let m = xs.clone().sum::<f32>() / n as f32;
        let var = xs.map(|x| (x - m) * (x - m)).sum::<f32>() / n as f32;
        Some((m, var.sqrt()))
    }
    if pairs.len() >= MIN_PAIRS {
        let (ms, ss) = mean_sd(pairs.iter().map(|p| p.0)).unwrap_or((0.0, 0.0));
        let (mt, st) = mean_sd(pairs.iter().map(|p| p.1)).unwrap_or((0.0, 0.0));
        let cov = pairs.iter().map(|(s, t)| (s - ms) * (t - mt)).sum::<f32>();
        if ss > 1e-4 && st > 1e-4 && cov > 0.0 {
            let a = st / ss;
            return (a, mt - a * ms);
        }
    }
    match (
        mean_sd(coarse.iter().map(|n| n.score)),
        mean_sd(fine.iter().map(|n| n.score)),
    ) {
        (Some((ms, ss)), Some((mt, st))) if ss > 1e-4 => (st / ss, mt - st / ss * ms),
        _ => (1.0, 0.0),
    }
}

/// Applies the short-document prior and re-sorts.
fn prefer_papers(found: &mut [Neighbour]) {
    for n in found.iter_mut() {
        n.score *= hybrid::length_prior(u64::from(n.words));
    }
    found.sort_by(|a, b| b.score.total_cmp(&a.score));
}

/// Keyword hits as a list to fuse, with abstract lengths from the vector index.
fn ranked_hits(hits: &[Hit], sem: &Semantic) -> Ranked {
    Ranked {
        ids: hits.iter().map(|h| h.arxiv_id.clone()).collect(),
        scores: hits.iter().map(|h| h.score).collect(),
        words: hits
            .iter()
            .map(|h| sem.index.words_of(&h.arxiv_id))
            .collect(),
    }
}

/// Vector neighbours as a list to fuse.
fn ranked_neighbours(found: &[Neighbour]) -> Ranked {
    Ranked {
        ids: found.iter().map(|n| n.arxiv_id.clone()).collect(),
        scores: found.iter().map(|n| n.score).collect(),
        words: found.iter().map(|n| Some(u64::from(n.words))).collect(),
    }
}

/// A hit with nothing to highlight (found by its full text or meaning).
fn plain_hit(arxiv_id: ArxivId, score: f32) -> Hit {
    Hit {
        arxiv_id,
        score,
        highlighted_title: None,
        highlighted_summary: None,
        passage: None,
    }
}

fn neighbour_hit(n: Neighbour) -> Hit {
    Hit {
        arxiv_id: n.arxiv_id,
        score: n.score,
        highlighted_title: None,
        highlighted_summary: None,
        passage: None,
    }
}

impl Engine {
    pub fn new(keyword: Arc<KeywordIndex>, semantic: Option<Semantic>) -> Self {
        Engine {
            keyword,
            semantic,
            refined: None,
            fusion: Fusion::default(),
            refined_fusion: Fusion::TRANSFORMER,
            tuning: Default::default(),
            learning: Default::default(),
        }
    }

    /// The fusion for the vectors in use: the refined one's once it has
    /// vectors.
    fn current_fusion(&self) -> Fusion {
        match &self.refined {
            Some(r) if !r.index.is_empty() => self.refined_fusion,
            _ => self.fusion,
        }
    }

    fn keyword_hits(
        &self,
        text: &str,
        limit: usize,
        offset: usize,
        highlight: bool,
    ) -> Result<(Vec<Hit>, usize), SearchError> {
        let q = SearchQuery {
            text: text.to_string(),
            limit,
            offset,
            highlight,
            ..Default::default()
        };
        self.keyword.search(&q)
    }

    /// Papers matching in their full text and not in their fields, best
    /// first, at most `max`: `fields` must be every paper matching in its
    /// fields (a search whose page was not full).
    fn text_only(text: &TextHits, fields: &[Hit], max: usize) -> Vec<ArxivId> {
        let known: HashSet<&ArxivId> = fields.iter().map(|h| &h.arxiv_id).collect();
        text.papers()
            .filter(|id| !known.contains(id))
            .take(max)
            .cloned()
            .collect()
    }

    /// Highlights for a page of papers chosen by fusion: those matching the
    /// query's words get their matches marked.
    fn highlights(&self, text: &str, ids: &[ArxivId]) -> HashMap<ArxivId, Hit> {
        if ids.is_empty() {
            return HashMap::new();
        }
        let q = SearchQuery {
            text: text.to_string(),
            limit: ids.len(),
            highlight: true,
            only_ids: Some(ids.to_vec()),
            ..Default::default()
        };
        match self.keyword.search(&q) {
            Ok((found, _)) => found.into_iter().map(|h| (h.arxiv_id.clone(), h)).collect(),
            Err(_) => HashMap::new(),
        }
    }

    /// Nearest papers to the query, re-scored by the short-document prior
    /// over a deeper pool than asked for.
    fn semantic_hits(
        &self,
        sem: &Semantic,
        text: &str,
        k: usize,
    ) -> Result<Vec<Neighbour>, SearchError> {
        let words = plain_words(text);
        let refined = self.refined.as_ref().filter(|r| !r.index.is_empty());
        let (v, rv) = match refined {
            Some(r) => {
                let (v, rv) = rayon::join(
                    || sem.embedder.embed_one(&words),
                    || r.embedder.embed_one(&words),
                );
                (v?, Some(rv?))
            }
            None => (sem.embedder.embed_one(&words)?, None),
        };
        if v.iter().all(|x| *x == 0.0) {
            return Ok(Vec::new());
        }
        let pool = (k * 4).max(SEMANTIC_POOL);
        let mut found = match (refined, &rv) {
            (Some(r), Some(rv)) => blend(sem, &v, r, rv, pool, None),
            _ => sem.index.search(&v, pool, None),
        };
        prefer_papers(&mut found);
        found.truncate(k);
        Ok(found)
    }

    /// Searches in `mode`; falls back to keywords (saying why in `note`)
    /// when there is no model or the query uses field prefixes.
    pub fn search(
        &self,
        query: &str,
        mode: Mode,
        limit: usize,
        offset: usize,
    ) -> Result<Found, SearchError> {
        let want = offset + limit;
        let answered = match (&self.semantic, mode) {
            (_, Mode::Keyword) | (None, _) => Mode::Keyword,
            (Some(_), _) if has_field_syntax(query) => Mode::Keyword,
            (Some(_), m) => m,
        };
        let note = match (&self.semantic, mode) {
            (None, Mode::Semantic | Mode::Hybrid) => Some(NO_MODEL_NOTE.to_string()),
            (Some(_), Mode::Semantic | Mode::Hybrid) if answered == Mode::Keyword => {
                Some("field prefixes (ti:, au:, abs:, cat:) search by keyword only".to_string())
            }
            _ => None,
        };
        // Full text (never for field prefixes, which ask about a paper's
        // fields): searched across all papers only when the fields'
        // matches run out (the broad query is the costly part), and for
        // the page's papers alone to show their passage.
        let in_text = !has_field_syntax(query) && self.keyword.num_passages() > 0;
        let (mut hits, total, word_matches) = match (answered, &self.semantic) {
            (Mode::Semantic, Some(sem)) => {
                let found = self.semantic_hits(sem, query, want)?;
                let total = found.len();
                let page = found.into_iter().skip(offset).take(limit);
                (page.map(neighbour_hit).collect(), total, None)
            }
            (Mode::Hybrid, Some(sem)) => {
                let (hits, total, words) = self.hybrid_page(sem, query, limit, offset, in_text)?;
                (hits, total, Some(words))
            }
            _ => {
                let (hits, total) = self.keyword_page(query, limit, offset, in_text)?;
                (hits, total, Some(total))
            }
        };
        if in_text {
            let ids: Vec<ArxivId> = hits.iter().map(|h| h.arxiv_id.clone()).collect();
            let mut best = self.keyword.best_passages(&ids, query)?;
            for h in &mut hits {
                h.passage = best.remove(&h.arxiv_id);
            }
        }
        Ok(Found {
            hits,
            total,
            word_matches,
            mode: answered,
            note,
        })
    }

    /// A page of hybrid results: keyword and meaning fused; the total, and
    /// how many papers match the words.
    fn hybrid_page(
        &self,
        sem: &Semantic,
        query: &str,
        limit: usize,
        offset: usize,
        in_text: bool,
    ) -> Result<(Vec<Hit>, usize, usize), SearchError> {
        let depth = FUSION_DEPTH.max((offset + limit) * 2);
        // The two halves are independent: run them side by side.
        let (kw, sem_found) = rayon::join(
            || self.keyword_hits(query, depth, 0, false),
            || self.semantic_hits(sem, query, depth),
        );
        let (mut kw, kw_total) = kw?;
        // Papers matching only in their full text follow those matching in
        // their fields.
        let text_only = if in_text && kw.len() < depth {
            // `kw` is every match in the fields (fewer than asked for).
            let t = self.keyword.text_hits(query, text_depth(depth))?;
            Self::text_only(&t, &kw, depth - kw.len())
        } else {
            Vec::new()
        };
        let word_matches = kw_total + text_only.len();
        let floor = kw.last().map_or(0.0, |h| h.score) * 0.5;
        kw.extend(text_only.into_iter().map(|id| plain_hit(id, floor)));
        let sem_found = sem_found?;
        let keyword = ranked_hits(&kw, sem);
        let semantic = ranked_neighbours(&sem_found);
        let fused = hybrid::fuse(&keyword, &semantic, self.current_fusion());
        let total = kw.len().max(kw_total).max(fused.len());
        let page: Vec<(ArxivId, f32)> = fused.into_iter().skip(offset).take(limit).collect();
        let ids: Vec<ArxivId> = page.iter().map(|(id, _)| id.clone()).collect();
        let mut marked = self.highlights(query, &ids);
        let hits = page
            .into_iter()
            .map(|(id, score)| {
                let h = marked.remove(&id);
                Hit {
                    arxiv_id: id,
                    score,
                    highlighted_title: h.as_ref().and_then(|h| h.highlighted_title.clone()),
                    highlighted_summary: h.and_then(|h| h.highlighted_summary),
                    passage: None,
                }
            })
            .collect();
        Ok((hits, total, word_matches))
    }

    /// A page of keyword results; the total. The fields' matches are all
    /// known once a page is not full (`total` is then exact): papers
    /// matching only in their full text come after them.
    fn keyword_page(
        &self,
        query: &str,
        limit: usize,
        offset: usize,
        in_text: bool,
    ) -> Result<(Vec<Hit>, usize), SearchError> {
        let (mut hits, mut total) = self.keyword_hits(query, limit, offset, true)?;
        if in_text && hits.len() < limit {
            let start = offset.saturating_sub(total);
            let room = limit - hits.len();
            let t = self.keyword.text_hits(query, text_depth(offset + limit))?;
            let text_only = if offset == 0 {
                Self::text_only(&t, &hits, usize::MAX)
            } else {
                let (all, _) = self.keyword_hits(query, total.max(1), 0, false)?;
                Self::text_only(&t, &all, usize::MAX)
            };
            total += text_only.len();
            hits.extend(
                text_only
                    .into_iter()
                    .skip(start)
                    .take(room)
                    .map(|id| plain_hit(id, 0.0)),
            );
        }
        Ok((hits, total))
    }

    /// Papers nearest to `paper` (never itself): by vector when a model is
    /// configured, by distinctive shared words otherwise.
    pub fn related(&self, paper: &Paper, limit: usize) -> Result<Vec<Hit>, SearchError> {
        // A paper the indexes hold: the recommender's machinery with the
        // paper as a one-paper library (its vectors, the best each
        // neighbour has, and its terms).
        if self.keyword.stored_text(&paper.id).is_some() {
            return self.related_in_index(&paper.id, limit);
        }
        let Some(sem) = &self.semantic else {
            return self.keyword.more_like(paper, limit);
        };
        let v = match sem.index.vector_of(&paper.id) {
            Some(v) => v,
            None => sem.embedder.embed_one(&paperboy_embed::paper_text(
                &paper.title,
                &paper.abstract_text,
            ))?,
        };
        self.nearest(
            sem,
            &v,
            &paper.id,
            &paper.title,
            &paper.abstract_text,
            limit,
        )
    }

    /// Related papers of a paper the keyword index holds: recommendations
    /// for a reader whose library is that paper.
    fn related_in_index(&self, id: &ArxivId, limit: usize) -> Result<Vec<Hit>, SearchError> {
        let taste = crate::recommend::Taste {
            liked: vec![id.clone()],
            ..Default::default()
        };
        let exclude = std::iter::once(id.clone()).collect();
        Ok(self
            .recommend(&taste, &crate::recommend::Pool::All, &exclude, limit)?
            .into_iter()
            .map(|p| Hit {
                arxiv_id: p.arxiv_id,
                score: p.score,
                highlighted_title: None,
                highlighted_summary: None,
                passage: None,
            })
            .collect())
    }

    /// Related papers of a paper both indexes hold (`None` if not).
    pub fn related_by_id(
        &self,
        id: &ArxivId,
        limit: usize,
    ) -> Option<Result<Vec<Hit>, SearchError>> {
        self.keyword.stored_text(id)?;
        Some(self.related_in_index(id, limit))
    }

    /// Nearest neighbours by vector fused with the papers sharing the most
    /// distinctive words: a neighbour both agree on is the safest bet, and
    /// rare shared terms ("soups", "task vectors") catch what a small
    /// embedding blurs. Short records yield to real papers.
    fn nearest(
        &self,
        sem: &Semantic,
        v: &[f32],
        id: &ArxivId,
        title: &str,
        abs: &str,
        limit: usize,
    ) -> Result<Vec<Hit>, SearchError> {
        let depth = (limit * 4).max(RELATED_DEPTH);
        let refined = self
            .refined
            .as_ref()
            .and_then(|r| r.index.vector_of(id).map(|rv| (r, rv)));
        let mut near = match refined {
            Some((r, rv)) => blend(sem, v, r, &rv, depth.max(SEMANTIC_POOL), Some(id)),
            None => sem.index.search(v, depth.max(SEMANTIC_POOL), Some(id)),
        };
        prefer_papers(&mut near);
        near.truncate(depth);
        let like = self.keyword.more_like_text(id, title, abs, depth)?;
        let semantic = ranked_neighbours(&near);
        // More-like-this scores are plain BM25: the prior goes in here.
        let keyword = ranked_hits(&like, sem).with_prior();
        Ok(hybrid::fuse(&keyword, &semantic, self.current_fusion())
            .into_iter()
            .take(limit)
            .map(|(arxiv_id, score)| Hit {
                arxiv_id,
                score,
                highlighted_title: None,
                highlighted_summary: None,
                passage: None,
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::VectorEntry;
    use paperboy_embed::{EmbedError, Embedder};

    struct Fake;
    impl Embedder for Fake {
        fn name(&self) -> &str {
            "fake"
        }
        fn dim(&self) -> usize {
            4
        }
        fn embed(&self, texts: &[&str]) -> Result<Vec<Vec<f32>>, EmbedError> {
            Ok(texts.iter().map(|_| vec![0.5; 4]).collect())
        }
    }

    fn unit(v: [f32; 4]) -> Vec<f32> {
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        v.iter().map(|x| x / n).collect()
    }

    fn id(i: usize) -> ArxivId {
        ArxivId::parse(&format!("2401.{:05}", i + 1)).unwrap()
    }

    /// A vector per paper, spread over the sphere's positive part.
    fn vec_of(i: usize) -> Vec<f32> {
        let a = i as f32 * 0.37;
        unit([
            1.0 + a.sin(),
            1.0 + a.cos(),
            0.2 + (a * 1.7).sin().abs(),
            0.5,
        ])
    }

    fn index(dir: &std::path::Path, papers: impl Iterator<Item = (usize, Vec<f32>)>) -> Semantic {
        let ix = VectorIndex::open(dir, "fake", 4, true).unwrap();
        let entries: Vec<VectorEntry> = papers
            .map(|(i, vector)| VectorEntry {
                arxiv_id: id(i),
                content_hash: i as u64,
                words: 150,
                vector,
            })
            .collect();
        ix.apply(&entries, &[], 1).unwrap();
        Semantic {
            embedder: Arc::new(Fake),
            index: Arc::new(ix),
        }
    }

    fn order(found: &[Neighbour]) -> Vec<ArxivId> {
        found.iter().map(|n| n.arxiv_id.clone()).collect()
    }

    #[test]
    fn a_line_is_fitted_to_papers_scored_both_ways() {
        let pairs: Vec<(f32, f32)> = (0..20)
            .map(|i| {
                let s = 0.2 + i as f32 * 0.03;
                (s, 2.0 * s + 0.1)
            })
            .collect();
        let (a, b) = calibration(&pairs, &[], &[]);
        assert!((a - 2.0).abs() < 1e-3 && (b - 0.1).abs() < 1e-3, "{a} {b}");
    }

    #[test]
    fn with_the_same_vectors_a_partial_refined_index_changes_nothing() {
        let d = tempfile::tempdir().unwrap();
        let base = index(&d.path().join("s"), (0..40).map(|i| (i, vec_of(i))));
        // The refined index covers every other paper, with the same vectors.
        let refined = index(
            &d.path().join("t"),
            (0..40).filter(|i| i % 2 == 0).map(|i| (i, vec_of(i))),
        );
        let q = unit([1.0, 0.3, 0.4, 0.5]);
        let plain = base.index.search(&q, 40, None);
        let blended = blend(&base, &q, &refined, &q, 40, None);
        assert_eq!(order(&blended), order(&plain));
    }

    #[test]
    fn refined_vectors_win_where_they_exist_and_the_rest_stay_listed() {
        let d = tempfile::tempdir().unwrap();
        let base = index(&d.path().join("s"), (0..40).map(|i| (i, vec_of(i))));
        let q = unit([1.0, 0.3, 0.4, 0.5]);
        let plain = base.index.search(&q, 40, None);
        let last = plain.last().unwrap().arxiv_id.clone();
        let last_i = (0..40).find(|i| id(*i) == last).unwrap();
        // The refined model sees that the base model's last paper is the
        // one the query is about; it covers half the papers.
        let refined = index(
            &d.path().join("t"),
            (0..40)
                .filter(|i| i % 2 == 0 || *i == last_i)
                .map(|i| (i, if i == last_i { q.clone() } else { vec_of(i) })),
        );
        let blended = blend(&base, &q, &refined, &q, 40, None);
        assert_eq!(blended[0].arxiv_id, last, "{:?}", order(&blended));
        assert_eq!(blended.len(), 40, "papers without refined vectors stay");
        // An uncovered paper the base model ranks high stays near the top.
        let top_uncovered = plain
            .iter()
            .find(|n| refined.index.vector_of(&n.arxiv_id).is_none())
            .unwrap();
        let at = order(&blended)
            .iter()
            .position(|x| *x == top_uncovered.arxiv_id)
            .unwrap();
        assert!(at <= 3, "{at}: {:?}", order(&blended));
        // Covering everything: the refined list alone.
        let full = index(&d.path().join("u"), (0..40).map(|i| (i, vec_of(i))));
        let excluded = id(0);
        let alone = blend(&base, &q, &full, &q, 10, Some(&excluded));
        assert_eq!(
            order(&alone),
            order(&full.index.search(&q, 10, Some(&excluded)))
        );
    }
}

//! Recommendations from a reader's library: papers near what they saved
//! and liked, away from what they turned down, each with its reasons.
//!
//! Two views of the library are searched and fused, like hybrid search:
//! - **terms**: a Rocchio profile (the mean tf·idf vector of the liked
//!   papers minus half that of the disliked ones), its strongest terms
//!   searched as one boosted BM25 query;
//! - **meaning** (when a model is configured): the liked papers' vectors
//!   grouped into a few clusters, whose centres find candidates, which are
//!   then scored exactly: the mean of their three best cosines with liked
//!   papers (a nearest-neighbour score that keeps a library's several
//!   interests apart, where one centroid would blur them), less the best
//!   cosine with a disliked paper.
//!
//! The lists are fused by reciprocal rank, short records yield to real
//! abstracts, and each pick names the liked papers it is closest to and
//! the distinctive terms it shares with them.

use std::collections::{HashMap, HashSet};

use paperboy_core::ArxivId;

use crate::engine::{Engine, Semantic};
use crate::hybrid;
use crate::keyword::DocTerms;
use crate::vector::quant::{dot_f32, normalize};
use crate::SearchError;

/// What a reader likes and dislikes.
#[derive(Debug, Clone, Default)]
pub struct Taste {
    /// Library papers and 👍, most recent first.
    pub liked: Vec<ArxivId>,
    /// 👎.
    pub disliked: Vec<ArxivId>,
}

/// Where the picks come from.
#[derive(Debug, Clone)]
pub enum Pool {
    /// Papers first published at or after this time (Unix seconds); `ids`
    /// are all of them, newest first.
    Since { since: i64, ids: Vec<ArxivId> },
    /// The whole index.
    All,
}

/// One recommendation.
#[derive(Debug, Clone, PartialEq)]
pub struct Pick {
    pub arxiv_id: ArxivId,
    pub score: f32,
    /// The liked papers it is closest to, closest first.
    pub similar_to: Vec<ArxivId>,
    /// Distinctive words it shares with them.
    pub terms: Vec<String>,
}

/// Liked papers the profile is built from (the most recent).
pub const MAX_LIKED: usize = 1000;
/// Terms of the profile searched.
const PROFILE_TERMS: usize = 40;
/// Candidates each side brings.
const DEPTH: usize = EXACT_EACH;
/// Clusters of liked vectors.
const MAX_CLUSTERS: usize = 16;
/// Liked papers per cluster, about.
const PER_CLUSTER: usize = 6;
/// Neighbours each cluster centre brings from the whole index.
const PER_CENTRE: usize = 60;
/// The k of the mean-of-top-k score.
const TOP_K: usize = 3;
/// How much a disliked paper's likeness counts against.
const DISLIKE: f32 = 0.5;
/// Reasons given: papers and terms.
const SIMILAR: usize = 3;
const TERMS: usize = 4;

/// The liked papers' vectors (unit length), in `liked` order.
struct Vectors {
    ids: Vec<ArxivId>,
    rows: Vec<Vec<f32>>,
}

fn vectors(sem: &Semantic, ids: &[ArxivId]) -> Vectors {
    let mut out = Vectors {
        ids: Vec::new(),
        rows: Vec::new(),
    };
    for id in ids {
        if let Some(mut v) = sem.index.vector_of(id) {
            normalize(&mut v);
            out.ids.push(id.clone());
            out.rows.push(v);
        }
    }
    out
}

/// Spherical k-means, a few rounds from evenly spread seeds: the centres
/// of a library's interests.
fn centres(rows: &[Vec<f32>]) -> Vec<Vec<f32>> {
    if rows.is_empty() {
        return Vec::new();
    }
    let k = rows.len().div_ceil(PER_CLUSTER).clamp(1, MAX_CLUSTERS);
    let seeds: Vec<Vec<f32>> = (0..k).map(|i| rows[i * rows.len() / k].clone()).collect();
    centres_from(rows, seeds, 5)
}

/// `rounds` of spherical k-means from `centres`.
fn centres_from(rows: &[Vec<f32>], mut centres: Vec<Vec<f32>>, rounds: usize) -> Vec<Vec<f32>> {
    let k = centres.len();
    let dim = rows[0].len();
    for _ in 0..rounds {
        let mut sums = vec![vec![0.0f32; dim]; k];
        for r in rows {
            let best = (0..k)
                .max_by(|&a, &b| dot_f32(r, &centres[a]).total_cmp(&dot_f32(r, &centres[b])))
                .unwrap_or(0);
            for (s, x) in sums[best].iter_mut().zip(r) {
                *s += x;
            }
        }
        for (c, mut s) in centres.iter_mut().zip(sums) {
            if s.iter().any(|x| *x != 0.0) {
                normalize(&mut s);
                *c = s;
            }
        }
    }
    centres
}

/// The mean of the `TOP_K` best cosines of `v` with `rows`, and the
/// indexes of the best `SIMILAR`.
fn nearest(v: &[f32], rows: &[Vec<f32>]) -> (f32, Vec<usize>) {
    let mut sims: Vec<(f32, usize)> = rows
        .iter()
        .enumerate()
        .map(|(i, r)| (dot_f32(v, r), i))
        .collect();
    let keep = TOP_K.max(SIMILAR).min(sims.len());
    if keep == 0 {
        return (0.0, Vec::new());
    }
    sims.select_nth_unstable_by(keep - 1, |a, b| b.0.total_cmp(&a.0));
    sims.truncate(keep);
    sims.sort_by(|a, b| b.0.total_cmp(&a.0));
    let k = TOP_K.min(sims.len());
    let mean = sims[..k].iter().map(|s| s.0).sum::<f32>() / k as f32;
    (mean, sims.iter().take(SIMILAR).map(|s| s.1).collect())
}

/// The Rocchio profile: liked mean minus half the disliked mean.
fn profile(liked: &[DocTerms], disliked: &[DocTerms]) -> rustc_hash::FxHashMap<String, f32> {
    let mut p: rustc_hash::FxHashMap<String, f32> = Default::default();
    for (docs, w) in [(liked, 1.0f32), (disliked, -DISLIKE)] {
        if docs.is_empty() {
            continue;
        }
        let w = w / docs.len() as f32;
        for d in docs {
            for (t, x) in &d.weights {
                *p.entry(t.clone()).or_default() += w * x;
            }
        }
    }
    p
}

fn strongest(profile: &rustc_hash::FxHashMap<String, f32>, n: usize) -> Vec<(String, f32)> {
    let mut terms: Vec<(String, f32)> = profile
        .iter()
        .filter(|(_, w)| **w > 0.0)
        .map(|(t, w)| (t.clone(), *w))
        .collect();
    terms.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    terms.truncate(n);
    // Relative weights: the strongest term counts 1.
    let top = terms.first().map_or(1.0, |t| t.1).max(1e-6);
    for t in &mut terms {
        t.1 /= top;
    }
    terms
}

fn term_dot(a: &DocTerms, b: &DocTerms) -> f32 {
    let (small, big) = if a.weights.len() < b.weights.len() {
        (a, b)
    } else {
        (b, a)
    };
    small
        .weights
        .iter()
        .filter_map(|(t, x)| big.weights.get(t).map(|y| x * y))
        .sum()
}

/// The words `pick` shares with `near`, most distinctive first, as the
/// pick spells them.
fn shared_terms(pick: &DocTerms, near: &[&DocTerms]) -> Vec<String> {
    let mut shared: Vec<(f32, &String)> = pick
        .weights
        .iter()
        .filter_map(|(t, x)| {
            let best = near
                .iter()
                .filter_map(|d| d.weights.get(t))
                .fold(0.0f32, |a, b| a.max(*b));
            (best > 0.0).then_some((x * best, t))
        })
        .collect();
    shared.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let mut out: Vec<String> = Vec::new();
    for (_, t) in shared {
        let word = pick.surface.get(t).cloned().unwrap_or_else(|| t.clone());
        if word.chars().count() > 2 && !out.contains(&word) {
            out.push(word);
        }
        if out.len() == TERMS {
            break;
        }
    }
    out
}

/// The mean of the `TOP_K` best term cosines of `t` with `liked`, less
/// the best with a disliked paper.
fn term_score(t: &DocTerms, liked: &[DocTerms], disliked: &[DocTerms]) -> f32 {
    let mut sims: Vec<f32> = liked.iter().map(|d| term_dot(t, d)).collect();
    let mean = mean_top(&mut sims);
    let against = disliked
        .iter()
        .map(|d| term_dot(t, d))
        .fold(0.0f32, f32::max);
    mean - DISLIKE * against
}

/// The liked papers' term vectors, inverted (term → papers and weights):
/// a candidate's cosines with every liked paper in one pass over its own
/// terms, instead of one hash lookup per term per liked paper.
struct Inverted<'a> {
    n: usize,
    postings: HashMap<&'a str, Vec<(u32, f32)>>,
}

impl<'a> Inverted<'a> {
    fn new(docs: &'a [DocTerms]) -> Self {
        let mut postings: HashMap<&'a str, Vec<(u32, f32)>> = HashMap::new();
        for (i, d) in docs.iter().enumerate() {
            for (t, w) in &d.weights {
                postings.entry(t.as_str()).or_default().push((i as u32, *w));
            }
        }
        Inverted {
            n: docs.len(),
            postings,
        }
    }

    /// The cosine of `t` with each liked paper.
    fn cosines(&self, t: &DocTerms, acc: &mut Vec<f32>) {
        acc.clear();
        acc.resize(self.n, 0.0);
        for (term, w) in &t.weights {
            if let Some(list) = self.postings.get(term.as_str()) {
                for &(i, lw) in list {
                    acc[i as usize] += w * lw;
                }
            }
        }
    }
}

/// The mean of the `TOP_K` largest of `sims` (reordered in place).
fn mean_top(sims: &mut [f32]) -> f32 {
    let k = TOP_K.min(sims.len());
    if k == 0 {
        return 0.0;
    }
    sims.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
    sims[..k].iter().sum::<f32>() / k as f32
}

/// A candidate's terms score, meaning score, length prior and nearest
/// liked papers.
type Raw = (f32, f32, f32, Vec<usize>);

/// Candidates a recommendation scores exactly, at most, from each view.
const EXACT_EACH: usize = 75;
/// Liked papers the terms view reads (the most recent).
const TERMS_LIKED: usize = 100;

impl Engine {
    /// The term vectors of those of `ids` the keyword index holds.
    fn terms_of(&self, ids: &[ArxivId]) -> Result<Vec<DocTerms>, SearchError> {
        Ok(self.keyword.doc_terms(ids)?.into_iter().flatten().collect())
    }
}

impl Engine {
    /// Up to `limit` picks for `taste` from `pool`, best first, never one
    /// of `exclude` (the library, papers given feedback, muted ones).
    pub fn recommend(
        &self,
        taste: &Taste,
        pool: &Pool,
        exclude: &HashSet<ArxivId>,
        limit: usize,
    ) -> Result<Vec<Pick>, SearchError> {
        let liked_ids: Vec<ArxivId> = taste.liked.iter().take(MAX_LIKED).cloned().collect();
        if liked_ids.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        // Where the time goes, at debug level (PAPERBOY_LOG=paperboy_search=debug).
        let t0 = std::time::Instant::now();
        let lap = |what: &str| {
            tracing::debug!(
                phase = what,
                ms = t0.elapsed().as_secs_f64() * 1000.0,
                "recommend"
            );
        };
        // The terms view reads each paper's stored text: the most recent
        // liked papers stand for the library there (all of them in the
        // meaning view, whose vectors are in memory).
        let recent = &liked_ids[..liked_ids.len().min(TERMS_LIKED)];
        let liked_terms = self.terms_of(recent)?;
        let disliked_terms = self.terms_of(&taste.disliked)?;
        let since = match pool {
            Pool::Since { since, .. } => Some(*since),
            Pool::All => None,
        };

        // Candidates: the profile's best BM25 matches, and (with a model)
        // the neighbours of the library's cluster centres.
        lap("liked terms");
        let terms = strongest(&profile(&liked_terms, &disliked_terms), PROFILE_TERMS);
        lap("profile");
        let mut candidates: Vec<ArxivId> = self
            .keyword
            .profile_hits(&terms, since, exclude, DEPTH)?
            .into_iter()
            .map(|(h, _)| h.arxiv_id)
            .collect();
        lap("profile hits");
        let liked_vecs = self.semantic.as_ref().map(|sem| vectors(sem, &liked_ids));
        let disliked_vecs = self
            .semantic
            .as_ref()
            .map(|sem| vectors(sem, &taste.disliked));
        if let (Some(sem), Some(liked)) = (&self.semantic, &liked_vecs) {
            let centres = centres(&liked.rows);
            let mut seen: HashSet<ArxivId> = candidates.iter().cloned().collect();
            match pool {
                Pool::Since { ids, .. } => {
                    let mut scored: Vec<(f32, &ArxivId)> = ids
                        .iter()
                        .filter(|id| !exclude.contains(*id))
                        .filter_map(|id| {
                            let v = sem.index.vector_of(id)?;
                            let best = centres
                                .iter()
                                .map(|c| dot_f32(&v, c))
                                .fold(f32::MIN, f32::max);
                            Some((best, id))
                        })
                        .collect();
                    let keep = DEPTH.min(scored.len());
                    if keep > 0 {
                        scored.select_nth_unstable_by(keep - 1, |a, b| b.0.total_cmp(&a.0));
                        for (_, id) in &scored[..keep] {
                            if seen.insert((*id).clone()) {
                                candidates.push((*id).clone());
                            }
                        }
                    }
                }
                Pool::All => {
                    // Each centre's nearest papers, best score kept; the
                    // best of them go on to be scored exactly.
                    let mut near: HashMap<ArxivId, f32> = HashMap::new();
                    for c in &centres {
                        let mut taken = 0;
                        for n in sem
                            .index
                            .search(c, PER_CENTRE + exclude.len().min(500), None)
                        {
                            if taken == PER_CENTRE {
                                break;
                            }
                            if exclude.contains(&n.arxiv_id) {
                                continue;
                            }
                            taken += 1;
                            let e = near.entry(n.arxiv_id).or_insert(f32::MIN);
                            *e = e.max(n.score);
                        }
                    }
                    let mut near: Vec<(ArxivId, f32)> = near.into_iter().collect();
                    near.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
                    for (id, _) in near.into_iter().take(EXACT_EACH) {
                        if seen.insert(id.clone()) {
                            candidates.push(id);
                        }
                    }
                }
            }
        }

        lap("semantic candidates");
        // Every candidate scored exactly in both views.
        let cand_terms = self.keyword.doc_terms(&candidates)?;
        lap("candidate terms");
        let mix = if self.semantic.is_some() {
            self.taste_mix
        } else {
            0.0
        };
        let inverted = Inverted::new(&liked_terms);
        // (terms, meaning, length prior, nearest liked papers) per
        // candidate; candidates are independent, so on every core.
        let raw: Vec<Raw> = {
            use rayon::prelude::*;
            (0..candidates.len())
                .into_par_iter()
                .map_init(Vec::new, |acc, i| {
                    let id = &candidates[i];
                    let term = cand_terms[i].as_ref().map_or(0.0, |t| {
                        inverted.cosines(t, acc);
                        let against = disliked_terms
                            .iter()
                            .map(|d| term_dot(t, d))
                            .fold(0.0f32, f32::max);
                        mean_top(acc) - DISLIKE * against
                    });
                    let (mut meaning, mut near) = (0.0, Vec::new());
                    let mut words = cand_terms[i].as_ref().map(|t| t.words);
                    if let (Some(sem), Some(liked), Some(disliked)) =
                        (&self.semantic, &liked_vecs, &disliked_vecs)
                    {
                        if let Some(mut v) = sem.index.vector_of(id) {
                            normalize(&mut v);
                            let (mean, n) = nearest(&v, &liked.rows);
                            let against = disliked
                                .rows
                                .iter()
                                .map(|d| dot_f32(&v, d))
                                .fold(0.0f32, f32::max);
                            meaning = mean - DISLIKE * against;
                            near = n;
                            words = words.or(sem.index.words_of(id));
                        }
                    }
                    (term, meaning, words.map_or(1.0, hybrid::length_prior), near)
                })
                .collect()
        };
        lap("exact scores");
        // The two cosines live on different scales (tf·idf vectors share
        // few terms; embeddings are all somewhat alike): each is put on
        // 0..1 over the candidates before they are mixed.
        let span = |f: &dyn Fn(&Raw) -> f32| {
            let lo = raw.iter().map(f).fold(f32::MAX, f32::min);
            let hi = raw.iter().map(f).fold(f32::MIN, f32::max);
            (lo, (hi - lo).max(1e-6))
        };
        let (t_lo, t_span) = span(&|r| r.0);
        let (m_lo, m_span) = span(&|r| r.1);
        let mut scored: Vec<(f32, usize, Vec<usize>)> = raw
            .into_iter()
            .enumerate()
            .map(|(i, (term, meaning, prior, near))| {
                let t = (term - t_lo) / t_span;
                let m = (meaning - m_lo) / m_span;
                ((mix * m + (1.0 - mix) * t) * prior, i, near)
            })
            .collect();
        scored.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then_with(|| candidates[a.1].cmp(&candidates[b.1]))
        });
        scored.truncate(limit);

        lap("mixed");
        // Reasons.
        let liked_by_id: HashMap<&ArxivId, &DocTerms> =
            liked_terms.iter().map(|d| (&d.id, d)).collect();
        let mut picks = Vec::with_capacity(scored.len());
        for (score, i, near) in scored {
            let terms = cand_terms[i].as_ref();
            let similar_to: Vec<ArxivId> = match &liked_vecs {
                Some(liked) if !near.is_empty() => {
                    near.iter().map(|&j| liked.ids[j].clone()).collect()
                }
                _ => {
                    // No vector: the liked papers sharing the most terms.
                    let mut by: Vec<(f32, &ArxivId)> = terms
                        .map(|t| {
                            liked_terms
                                .iter()
                                .map(|d| (term_dot(t, d), &d.id))
                                .filter(|(s, _)| *s > 0.0)
                                .collect()
                        })
                        .unwrap_or_default();
                    by.sort_by(|a, b| b.0.total_cmp(&a.0));
                    by.into_iter()
                        .take(SIMILAR)
                        .map(|(_, id)| id.clone())
                        .collect()
                }
            };
            let why_terms = match terms {
                Some(t) => {
                    let near: Vec<&DocTerms> = similar_to
                        .iter()
                        .filter_map(|s| liked_by_id.get(s).copied())
                        .collect();
                    shared_terms(t, &near)
                }
                None => Vec::new(),
            };
            picks.push(Pick {
                arxiv_id: candidates[i].clone(),
                score,
                similar_to,
                terms: why_terms,
            });
        }
        Ok(picks)
    }
}

/// New papers' vectors, read once and shared by many readers (a digest
/// run scores every subscriber's library against the same papers).
pub struct Window {
    ids: Vec<ArxivId>,
    /// Unit vectors, one after another.
    rows: Vec<f32>,
    dim: usize,
    /// Without a model: the papers' terms instead.
    terms: Vec<DocTerms>,
}

impl Window {
    pub fn len(&self) -> usize {
        self.ids.len().max(self.terms.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Clusters a digest pick uses (fewer than the page: it is done for every
/// subscriber of a run).
const WINDOW_CLUSTERS: usize = 4;
/// Candidates re-scored exactly.
const WINDOW_POOL: usize = 40;

impl Engine {
    /// The vectors of `ids` (those the index has), for [`Engine::recommend_in`].
    pub fn window(&self, ids: &[ArxivId]) -> Window {
        let Some(sem) = &self.semantic else {
            let terms = self
                .keyword
                .doc_terms(ids)
                .map(|t| t.into_iter().flatten().collect())
                .unwrap_or_default();
            return Window {
                ids: Vec::new(),
                rows: Vec::new(),
                dim: 0,
                terms,
            };
        };
        let dim = sem.index.dim();
        let mut w = Window {
            ids: Vec::with_capacity(ids.len()),
            rows: Vec::with_capacity(ids.len() * dim),
            dim,
            terms: Vec::new(),
        };
        for id in ids {
            if let Some(mut v) = sem.index.vector_of(id) {
                normalize(&mut v);
                w.ids.push(id.clone());
                w.rows.extend_from_slice(&v);
            }
        }
        w
    }

    /// [`Engine::recommend`] among a window's papers by meaning alone
    /// (the cheap path for digests): a few cluster centres shortlist, the
    /// mean of the best three cosines decides, reasons as on the page.
    pub fn recommend_in(
        &self,
        window: &Window,
        taste: &Taste,
        exclude: &HashSet<ArxivId>,
        limit: usize,
    ) -> Result<Vec<Pick>, SearchError> {
        if window.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let Some(sem) = &self.semantic else {
            return self.recommend_in_terms(window, taste, exclude, limit);
        };
        let liked_ids: Vec<ArxivId> = taste.liked.iter().take(MAX_LIKED).cloned().collect();
        let liked = vectors(sem, &liked_ids);
        if liked.rows.is_empty() {
            return Ok(Vec::new());
        }
        let disliked = vectors(sem, &taste.disliked);
        let k = liked
            .rows
            .len()
            .div_ceil(PER_CLUSTER * 4)
            .clamp(1, WINDOW_CLUSTERS);
        let step = liked.rows.len() / k;
        let mut centres: Vec<Vec<f32>> = (0..k).map(|i| liked.rows[i * step].clone()).collect();
        if k > 1 {
            centres = centres_from(&liked.rows, centres, 3);
        } else {
            let mut mean = vec![0.0f32; window.dim];
            for r in &liked.rows {
                for (m, x) in mean.iter_mut().zip(r) {
                    *m += x;
                }
            }
            normalize(&mut mean);
            centres = vec![mean];
        }
        let mut scored: Vec<(f32, usize)> = window
            .rows
            .chunks_exact(window.dim)
            .enumerate()
            .filter(|(i, _)| !exclude.contains(&window.ids[*i]))
            .map(|(i, v)| {
                let best = centres
                    .iter()
                    .map(|c| dot_f32(v, c))
                    .fold(f32::MIN, f32::max);
                (best, i)
            })
            .collect();
        let keep = WINDOW_POOL.min(scored.len());
        if keep == 0 {
            return Ok(Vec::new());
        }
        scored.select_nth_unstable_by(keep - 1, |a, b| b.0.total_cmp(&a.0));
        scored.truncate(keep);
        let mut exact: Vec<(f32, usize, Vec<usize>)> = scored
            .into_iter()
            .map(|(_, i)| {
                let v = &window.rows[i * window.dim..(i + 1) * window.dim];
                let (mean, near) = nearest(v, &liked.rows);
                let against = disliked
                    .rows
                    .iter()
                    .map(|d| dot_f32(v, d))
                    .fold(0.0f32, f32::max);
                let words = sem.index.words_of(&window.ids[i]).unwrap_or(u64::MAX);
                let prior = if words == u64::MAX {
                    1.0
                } else {
                    hybrid::length_prior(words)
                };
                ((mean - DISLIKE * against) * prior, i, near)
            })
            .collect();
        exact.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then_with(|| window.ids[a.1].cmp(&window.ids[b.1]))
        });
        // A digest names only papers near the library: far below the best
        // pick is no pick, however few papers the period brought.
        let floor = exact.first().map_or(0.0, |e| e.0 * MEANING_FLOOR);
        exact.retain(|e| e.0 >= floor);
        exact.truncate(limit);
        let mut picks = Vec::with_capacity(exact.len());
        for (score, i, near) in exact {
            let id = window.ids[i].clone();
            let similar_to: Vec<ArxivId> = near.iter().map(|&j| liked.ids[j].clone()).collect();
            let mut docs = self.keyword.doc_terms(std::slice::from_ref(&id))?;
            let near_docs = self.terms_of(&similar_to)?;
            let terms = match docs.pop().flatten() {
                Some(d) => shared_terms(&d, &near_docs.iter().collect::<Vec<_>>()),
                None => Vec::new(),
            };
            picks.push(Pick {
                arxiv_id: id,
                score,
                similar_to,
                terms,
            });
        }
        Ok(picks)
    }

    /// [`Engine::recommend_in`] without a model: by terms alone, against
    /// the most recent liked papers.
    fn recommend_in_terms(
        &self,
        window: &Window,
        taste: &Taste,
        exclude: &HashSet<ArxivId>,
        limit: usize,
    ) -> Result<Vec<Pick>, SearchError> {
        let liked_ids: Vec<ArxivId> = taste
            .liked
            .iter()
            .take(WINDOW_TERMS_LIKED)
            .cloned()
            .collect();
        let liked = self.terms_of(&liked_ids)?;
        let disliked = self.terms_of(&taste.disliked)?;
        if liked.is_empty() {
            return Ok(Vec::new());
        }
        let mut scored: Vec<(f32, &DocTerms)> = window
            .terms
            .iter()
            .filter(|t| !exclude.contains(&t.id))
            .map(|t| {
                (
                    term_score(t, &liked, &disliked) * hybrid::length_prior(t.words),
                    t,
                )
            })
            .filter(|(s, _)| *s > 0.0)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.id.cmp(&b.1.id)));
        // A digest lists what is near the library, not whatever shares a
        // common word with it: picks far below the best are left out.
        let floor = scored.first().map_or(0.0, |s| s.0 * TERMS_FLOOR);
        scored.retain(|s| s.0 >= floor);
        scored.truncate(limit);
        Ok(scored
            .into_iter()
            .map(|(score, t)| {
                let mut by: Vec<(f32, &DocTerms)> =
                    liked.iter().map(|d| (term_dot(t, d), d)).collect();
                by.sort_by(|a, b| b.0.total_cmp(&a.0));
                let near: Vec<&DocTerms> = by.iter().take(SIMILAR).map(|(_, d)| *d).collect();
                Pick {
                    arxiv_id: t.id.clone(),
                    score,
                    similar_to: near.iter().map(|d| d.id.clone()).collect(),
                    terms: shared_terms(t, &near),
                }
            })
            .collect())
    }
}

/// A digest pick by terms scores at least this share of the best one.
const TERMS_FLOOR: f32 = 0.3;
/// The same for picks by meaning (cosines of unrelated papers are well
/// above zero, so the floor is higher).
const MEANING_FLOOR: f32 = 0.6;
/// Liked papers a digest pick by terms compares against (the most recent).
const WINDOW_TERMS_LIKED: usize = 200;

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let mut v = v.to_vec();
        normalize(&mut v);
        v
    }

    #[test]
    fn clusters_keep_two_interests_apart() {
        let mut rows = Vec::new();
        for i in 0..6 {
            rows.push(unit(&[1.0, 0.05 * i as f32, 0.0]));
            rows.push(unit(&[0.0, 0.05 * i as f32, 1.0]));
        }
        let c = centres(&rows);
        assert_eq!(c.len(), 2);
        let near_x = c.iter().any(|c| c[0] > 0.9);
        let near_z = c.iter().any(|c| c[2] > 0.9);
        assert!(near_x && near_z, "{c:?}");
    }

    #[test]
    fn nearest_is_the_mean_of_the_best_three() {
        let rows = vec![
            unit(&[1.0, 0.0]),
            unit(&[0.0, 1.0]),
            unit(&[1.0, 1.0]),
            unit(&[-1.0, 0.0]),
        ];
        let (mean, near) = nearest(&[1.0, 0.0], &rows);
        assert_eq!(near, vec![0, 2, 1]);
        assert!((mean - (1.0 + std::f32::consts::FRAC_1_SQRT_2) / 3.0).abs() < 1e-5);
    }

    #[test]
    fn profile_subtracts_dislikes_and_shared_terms_use_surface_words() {
        let doc = |id: &str, w: &[(&str, f32)], surface: &[(&str, &str)]| DocTerms {
            id: ArxivId::parse(id).unwrap(),
            weights: w.iter().map(|(t, x)| (t.to_string(), *x)).collect(),
            surface: surface
                .iter()
                .map(|(t, s)| (t.to_string(), s.to_string()))
                .collect(),
            words: 100,
        };
        let a = doc("2401.00001", &[("soup", 0.8), ("weight", 0.6)], &[]);
        let b = doc("2401.00002", &[("soup", 0.6), ("vision", 0.8)], &[]);
        let p = profile(std::slice::from_ref(&a), &[b]);
        assert!(p["soup"] > 0.0 && p["vision"] < 0.0);
        let top: Vec<String> = strongest(&p, 5).into_iter().map(|t| t.0).collect();
        assert_eq!(
            top,
            vec!["weight", "soup"],
            "0.6 beats 0.8 − 0.5·0.6; vision is left out"
        );
        let pick = doc(
            "2401.00003",
            &[("soup", 0.5), ("weight", 0.5), ("of", 0.1)],
            &[("soup", "soups"), ("weight", "weights")],
        );
        assert_eq!(shared_terms(&pick, &[&a]), vec!["soups", "weights"]);
    }
}

//! Recommendations from a reader's library: papers near what they saved
//! and liked, away from what they turned down, each with its reasons.
//!
//! Every candidate is scored three ways and the scores mixed on a common
//! scale:
//! - **terms**: the mean of its three best tf·idf cosines with liked papers,
//!   less half its best with a disliked one;
//! - **meaning**: the same with the papers' vectors, each pair compared in
//!   the best space both have (the transformer's where filled in, see
//!   [`meaning`]); a nearest-neighbour score keeps a library's several
//!   interests apart where one centroid would blur them;
//! - **the reader's model**: a linear SVM trained on the library against
//!   background papers and 👎 ([`learn`]), which weighs the words and
//!   directions that tell this reader's papers apart.
//!
//! Candidates come from the library's strongest terms and the model's
//! (BM25 queries), the nearest papers to the library's cluster centres and
//! to the model's direction. Short records yield to real abstracts, and
//! each pick names the liked papers it is closest to and the distinctive
//! words it shares with them.

mod learn;
mod meaning;
mod sanity;
mod terms;
mod window;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};

use paperboy_core::ArxivId;

use crate::engine::Engine;
use crate::hybrid;
use crate::keyword::DocTerms;
use crate::vector::quant::dot_f32;
use crate::SearchError;
pub use learn::{Blocks, Model};
pub use meaning::{fit_line, similarities, similarity, Line, Meaning, PaperVectors};
use terms::{mean_top, profile, shared_terms, strongest, term_dot, Inverted, DISLIKE};
pub use window::Window;

pub use paperboy_core::search::{Pick, Pool, Taste};

/// How picks are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipe {
    /// Neighbours in both views and the reader's own model (the default).
    Learned,
    /// Neighbours in both views alone.
    Neighbours,
    /// arxiv-sanity-lite's recipe, for comparison: a linear SVM on tf·idf
    /// words and word pairs trained on the library against every other
    /// paper, papers ranked by it. It reads every paper, so it is for
    /// evaluations on small stores, not for serving.
    SanityLite,
}

/// How the views are weighed (chosen on the development profiles,
/// `eval/rec-profiles-dev.jsonl`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tuning {
    pub recipe: Recipe,
    /// Weights of the terms, meaning and model scores in a pick's score.
    pub terms: f32,
    pub meaning: f32,
    pub learned: f32,
    /// The SVM's cost: higher fits the library more closely.
    pub cost: f32,
    pub blocks: Blocks,
    /// Background papers the model learns against.
    pub background: usize,
    /// Near misses it learns against: candidates below the best
    /// `near_skip` by the neighbour scores, `near` of them, each weighing
    /// `near_weight`.
    pub near: usize,
    pub near_skip: usize,
    pub near_weight: f32,
    /// How much a candidate's likeness to every other candidate counts
    /// against it (see [`hubness`]).
    pub hub: f32,
    /// Ratings (👍, 👎) at which the reader's model counts fully (0: from
    /// the start); see [`Tuning::evidence`].
    pub rated: usize,
}

impl Default for Tuning {
    fn default() -> Self {
        Tuning {
            recipe: Recipe::Learned,
            terms: 0.2,
            meaning: 0.8,
            learned: 0.5,
            cost: 0.1,
            blocks: Blocks::default(),
            background: 400,
            near: 0,
            near_skip: 20,
            near_weight: 1.0,
            hub: 0.6,
            rated: 4,
        }
    }
}

/// A `--tuning` setting that is not one (the message says which).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadTuning(pub String);

impl Tuning {
    /// How much the reader's model counts for `taste`, 0 to 1: by the
    /// feedback given, full at `rated` ratings. Told only a library, a
    /// linear model learns what sets the field apart from other papers,
    /// which the neighbour scores know already (on the profiles it lowered
    /// nDCG@20); 👎 teach it what the reader skips within their field,
    /// which neighbours cannot (after one round of feedback it raised it).
    pub fn evidence(&self, taste: &Taste) -> f32 {
        if self.rated == 0 {
            return 1.0;
        }
        (taste.rated as f32 / self.rated as f32).min(1.0)
    }

    /// Changes from the default, as `name=value` pairs separated by commas
    /// (`paperboy eval --tuning`): `terms`, `meaning`, `learned` (the mix),
    /// `cost`, `words`, `pairs`, `fine`, `base` (the model), `background`,
    /// `near`, `skip`, `nearw` (what it learns against), `hub`, `rated`,
    /// `recipe`
    /// (`learned`, `neighbours`, `sanity`).
    pub fn parse(spec: &str) -> Result<Tuning, BadTuning> {
        let mut t = Tuning::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part
                .split_once('=')
                .ok_or_else(|| BadTuning(format!("`{part}` is not name=value")))?;
            if k == "recipe" {
                t.recipe = match v {
                    "learned" => Recipe::Learned,
                    "neighbours" => Recipe::Neighbours,
                    "sanity" => Recipe::SanityLite,
                    other => return Err(BadTuning(format!("`{other}` is not a recipe"))),
                };
                continue;
            }
            let x: f32 = v
                .parse()
                .ok()
                .filter(|x: &f32| x.is_finite() && *x >= 0.0)
                .ok_or_else(|| BadTuning(format!("`{v}` is not a number for {k}")))?;
            match k {
                "terms" => t.terms = x,
                "meaning" => t.meaning = x,
                "learned" => t.learned = x,
                "cost" => t.cost = x,
                "words" => t.blocks.words = x,
                "pairs" => t.blocks.pairs = x,
                "fine" => t.blocks.fine = x,
                "base" => t.blocks.base = x,
                "background" => t.background = x as usize,
                "near" => t.near = x as usize,
                "skip" => t.near_skip = x as usize,
                "nearw" => t.near_weight = x,
                "hub" => t.hub = x,
                "rated" => t.rated = x as usize,
                other => return Err(BadTuning(format!("`{other}` is not a setting"))),
            }
        }
        Ok(t)
    }
}

/// Liked papers the profile is built from (the most recent).
pub const MAX_LIKED: usize = 1000;
/// Terms of a profile searched.
const PROFILE_TERMS: usize = 40;
/// Candidates a recommendation scores exactly, at most, from each source.
const EXACT_EACH: usize = 75;
/// Clusters of liked vectors.
const MAX_CLUSTERS: usize = 16;
/// Liked papers per cluster, about.
const PER_CLUSTER: usize = 6;
/// Neighbours each cluster centre brings from the whole index.
const PER_CENTRE: usize = 60;
/// Reasons given: papers.
const SIMILAR: usize = 3;
/// Liked papers the terms view and the model read (the most recent).
const TERMS_LIKED: usize = 100;
/// 👎 papers read (the most recent): each is compared with every
/// candidate, and a reader who has turned down hundreds has said what
/// they skip in the latest of them.
const MAX_DISLIKED: usize = 200;
/// Readers whose models are kept.
const MODELS_KEPT: usize = 2_000;

/// The 👎 papers read, the most recent first.
fn recent_disliked(taste: &Taste) -> &[ArxivId] {
    &taste.disliked[..taste.disliked.len().min(MAX_DISLIKED)]
}

/// What the engine keeps between recommendations: readers' models, and
/// the background papers they learn against.
#[derive(Default)]
pub struct Learning {
    models: Mutex<HashMap<u64, Arc<Model>>>,
    background: Mutex<Option<Arc<Background>>>,
    /// Every paper's terms (arxiv-sanity-lite's recipe), with the index's
    /// size when read.
    corpus: Mutex<Option<(u64, Corpus)>>,
}

/// Every paper's terms, shared by the evaluations that read them.
type Corpus = Arc<Vec<Arc<DocTerms>>>;

/// Papers drawn at random from the index, with their terms and vectors.
struct Background {
    /// The index's size and the refined vectors' count when drawn.
    docs: u64,
    refined: usize,
    terms: Vec<Arc<DocTerms>>,
    vecs: Vec<PaperVectors>,
    /// Their words and pairs numbered once for every reader's model (most
    /// of a model's features; numbering them per reader was most of the
    /// time a model took to train).
    vocab: Arc<learn::Vocab>,
    features: Vec<learn::Features>,
}

/// One candidate's scores before they are mixed.
struct Raw {
    terms: f32,
    meaning: f32,
    learned: f32,
    prior: f32,
    /// Liked papers it is closest to (indexes into the liked vectors).
    near: Vec<usize>,
}

/// Candidates, each once, none excluded.
struct Candidates<'a> {
    ids: Vec<ArxivId>,
    seen: HashSet<ArxivId>,
    exclude: &'a HashSet<ArxivId>,
}

impl Candidates<'_> {
    fn add(&mut self, id: ArxivId) {
        if !self.exclude.contains(&id) && self.seen.insert(id.clone()) {
            self.ids.push(id);
        }
    }
}

/// The library as the scores read it.
struct Library<'a> {
    vecs: &'a [PaperVectors],
    /// The 👎 papers' terms inverted, as the liked ones (a reader's 👎
    /// pile up; one term-by-term comparison with each was most of a
    /// warm request's time once there were a hundred).
    disliked_inverted: Inverted<'a>,
    disliked_vecs: &'a [PaperVectors],
    inverted: Inverted<'a>,
}

/// Candidates' terms, vectors and scores, in candidate order.
struct Scored {
    terms: Vec<Option<Arc<DocTerms>>>,
    vecs: Vec<PaperVectors>,
    raw: Vec<Raw>,
    /// Base similarities on the refined scale.
    line: Line,
}

impl Scored {
    fn append(&mut self, more: Scored) {
        self.terms.extend(more.terms);
        self.vecs.extend(more.vecs);
        self.raw.extend(more.raw);
    }
}

/// Neighbours each candidate's hubness is measured over.
const HUB_K: usize = 10;

/// Some papers are near everything (a survey, a famous general paper) and
/// so near every library: each candidate's meaning score loses `weight`
/// times the mean of its `HUB_K` best similarities with the other
/// candidates (the local scaling of Conneau et al.'s CSLS, 2018).
fn hubness(scored: &mut Scored, weight: f32) {
    use rayon::prelude::*;
    let line = scored.line;
    let vecs = &scored.vecs;
    let hubs: Vec<f32> = (0..vecs.len())
        .into_par_iter()
        .map(|i| {
            let mut all = Vec::new();
            similarities(&vecs[i], vecs, line, &mut all);
            let mut sims: Vec<f32> = all
                .into_iter()
                .enumerate()
                .filter(|(j, _)| *j != i)
                .filter_map(|(_, s)| s)
                .collect();
            let k = HUB_K.min(sims.len());
            if k == 0 {
                return 0.0;
            }
            sims.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
            sims[..k].iter().sum::<f32>() / k as f32
        })
        .collect();
    for (r, h) in scored.raw.iter_mut().zip(hubs) {
        if !r.near.is_empty() {
            r.meaning -= weight * h;
        }
    }
}

/// Each candidate's mixed score (terms, meaning and model weighted
/// `wt`, `wm`, `wl`, each min-max scaled over the candidates, times the
/// length prior) with its index.
fn mix(raw: &[Raw], wt: f32, wm: f32, wl: f32) -> Vec<(f32, usize)> {
    let (t_lo, t_span) = span(raw.iter().map(|r| r.terms));
    let (m_lo, m_span) = span(raw.iter().map(|r| r.meaning));
    let (l_lo, l_span) = span(raw.iter().map(|r| r.learned));
    let total = (wt + wm + wl).max(1e-6);
    raw.iter()
        .enumerate()
        .map(|(i, r)| {
            let mix = wt * (r.terms - t_lo) / t_span
                + wm * (r.meaning - m_lo) / m_span
                + wl * (r.learned - l_lo) / l_span;
            (mix / total * r.prior, i)
        })
        .collect()
}

/// The best `keep` of `scored` (score, id), best first.
fn best<T: Clone>(mut scored: Vec<(f32, T)>, keep: usize) -> Vec<T> {
    let keep = keep.min(scored.len());
    if keep == 0 {
        return Vec::new();
    }
    scored.select_nth_unstable_by(keep - 1, |a, b| b.0.total_cmp(&a.0));
    scored.truncate(keep);
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored.into_iter().map(|(_, t)| t).collect()
}

/// Min-max scaling of one score over the candidates.
fn span(values: impl Iterator<Item = f32> + Clone) -> (f32, f32) {
    let lo = values.clone().fold(f32::MAX, f32::min);
    let hi = values.fold(f32::MIN, f32::max);
    (lo, (hi - lo).max(1e-6))
}

/// Where a request's time goes, at debug level
/// (PAPERBOY_LOG=paperboy_search=debug): each call logs the milliseconds
/// since this was made, under the phase's name.
fn laps(what: &'static str) -> impl Fn(&str) {
    let t0 = std::time::Instant::now();
    move |phase: &str| {
        tracing::debug!(phase, ms = t0.elapsed().as_secs_f64() * 1000.0, "{what}");
    }
}

impl Engine {
    /// The term vectors of those of `ids` the keyword index holds.
    fn terms_of(&self, ids: &[ArxivId]) -> Result<Vec<Arc<DocTerms>>, SearchError> {
        Ok(self.keyword.doc_terms(ids)?.into_iter().flatten().collect())
    }

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
        if self.tuning.recipe == Recipe::SanityLite {
            return self.recommend_sanity(taste, pool, exclude, limit);
        }
        let lap = laps("recommend");
        // The terms view reads each paper's stored text: the most recent
        // liked papers stand for the library there (all of them in the
        // meaning view, whose vectors are in memory).
        let recent = &liked_ids[..liked_ids.len().min(TERMS_LIKED)];
        let liked_terms = self.terms_of(recent)?;
        let disliked_ids = recent_disliked(taste);
        let disliked_terms = self.terms_of(disliked_ids)?;
        lap("library terms");
        let meaning = self.meaning();
        let liked_vecs = meaning.many(&liked_ids);
        let disliked_vecs = meaning.many(disliked_ids);
        lap("library");

        let library = Library {
            vecs: &liked_vecs,
            disliked_inverted: Inverted::new(&disliked_terms),
            disliked_vecs: &disliked_vecs,
            inverted: Inverted::new(&liked_terms),
        };
        // The reader's model learns the library against background papers,
        // 👎 and near misses (candidates just below the best), then brings
        // its own candidates: its strongest words, its direction.
        let evidence = self.tuning.evidence(taste);
        let wants_model = self.tuning.recipe == Recipe::Learned && evidence > 0.0;
        let train = |near: &[(Option<&DocTerms>, &PaperVectors)]| {
            self.reader_model(
                taste,
                pool,
                &liked_terms,
                &liked_vecs[..recent.len()],
                &disliked_terms,
                &disliked_vecs,
                near,
            )
        };
        // Candidates: the profile's best BM25 matches and the neighbours
        // of the library's cluster centres, scored exactly. Without near
        // misses to learn from (the served tuning), the model needs none
        // of this and is trained at the same time, on the other core.
        let first = || -> Result<(Candidates<'_>, Scored), SearchError> {
            let mut candidates = Candidates {
                ids: Vec::new(),
                seen: HashSet::new(),
                exclude,
            };
            let terms_query = strongest(&profile(&liked_terms, &disliked_terms), PROFILE_TERMS);
            self.add_candidates(&mut candidates, &terms_query, &liked_vecs, None, pool)?;
            lap("candidates");
            let scored = self.neighbour_scores(&candidates.ids, &library, None)?;
            lap("exact scores");
            Ok((candidates, scored))
        };
        let (first, model) = if wants_model && self.tuning.near == 0 {
            let (first, model) = rayon::join(first, || train(&[]));
            (first?, Some(model?))
        } else {
            let (candidates, scored) = first()?;
            let model = if wants_model {
                Some(train(&self.near_misses(&scored))?)
            } else {
                None
            };
            ((candidates, scored), model)
        };
        let (mut candidates, mut scored) = first;
        lap("reader's model");
        if let Some(m) = &model {
            self.score_by_model(m, &mut candidates, &mut scored, &library, pool)?;
        }
        let candidates = candidates.ids;
        lap("model's scores");
        if self.tuning.hub > 0.0 {
            hubness(&mut scored, self.tuning.hub);
        }
        lap("model");
        let learned = if model.is_some() { evidence } else { 0.0 };
        let ranked = self.rank(
            &scored.raw,
            &candidates,
            meaning.is_available(),
            learned,
            limit,
        );
        lap("mixed");
        Ok(reasons(
            ranked,
            &candidates,
            &scored,
            &liked_ids,
            &liked_terms,
        ))
    }

    /// The reader's model's own candidates (papers with its strongest
    /// words, papers in its direction), scored like the first ones; then
    /// every candidate's score by the model.
    fn score_by_model(
        &self,
        m: &Model,
        candidates: &mut Candidates<'_>,
        scored: &mut Scored,
        library: &Library<'_>,
        pool: &Pool,
    ) -> Result<(), SearchError> {
        let lap = laps("the model's candidates");
        let words = m.strongest_words(PROFILE_TERMS);
        self.add_candidates(candidates, &words, &[], Some(m), pool)?;
        lap("by its words and direction");
        // `scored` holds the first candidates, in order.
        let extra = &candidates.ids[scored.raw.len()..];
        if !extra.is_empty() {
            let more = self.neighbour_scores(extra, library, Some(scored.line))?;
            scored.append(more);
        }
        lap("their neighbour scores");
        // A few hundred candidates, a few hundred lookups each: on every
        // core.
        {
            use rayon::prelude::*;
            scored
                .raw
                .par_iter_mut()
                .zip(scored.terms.par_iter().zip(scored.vecs.par_iter()))
                .for_each(|(r, (t, v))| r.learned = m.score(t.as_deref(), v));
        }
        lap("scored by the model");
        Ok(())
    }

    /// The near misses the reader's model learns against: candidates just
    /// below the best by the neighbour scores, as (terms, vectors).
    fn near_misses<'s>(&self, scored: &'s Scored) -> Vec<(Option<&'s DocTerms>, &'s PaperVectors)> {
        if self.tuning.near == 0 {
            // None asked for (the served tuning): no ordering to make.
            return Vec::new();
        }
        self.neighbour_order(scored)
            .into_iter()
            .skip(self.tuning.near_skip)
            .take(self.tuning.near)
            .map(|i| (scored.terms[i].as_deref(), &scored.vecs[i]))
            .collect()
    }

    /// The best `limit` candidates as (score, index), best first. The
    /// scores live on different scales (tf·idf vectors share few terms;
    /// embeddings are all somewhat alike; the model's margin is its own):
    /// each is put on 0..1 over the candidates before mixing. `learned`:
    /// how much the reader's model is trusted (0: no model).
    fn rank(
        &self,
        raw: &[Raw],
        candidates: &[ArxivId],
        has_meaning: bool,
        learned: f32,
        limit: usize,
    ) -> Vec<(f32, usize)> {
        let t = self.tuning;
        let wm = if has_meaning { t.meaning } else { 0.0 };
        let mut ranked = mix(raw, t.terms, wm, t.learned * learned);
        ranked.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then_with(|| candidates[a.1].cmp(&candidates[b.1]))
        });
        ranked.truncate(limit);
        ranked
    }

    /// The candidates' terms, vectors and neighbour scores (terms and
    /// meaning); `line` maps base similarities onto the refined scale
    /// (fitted here when not given).
    fn neighbour_scores(
        &self,
        ids: &[ArxivId],
        library: &Library<'_>,
        line: Option<Line>,
    ) -> Result<Scored, SearchError> {
        let meaning = self.meaning();
        let terms = self.keyword.doc_terms(ids)?;
        let vecs = meaning.many(ids);
        let line = line.unwrap_or_else(|| fit_line(&vecs, library.vecs));
        // Candidates are independent: on every core.
        let raw: Vec<Raw> = {
            use rayon::prelude::*;
            (0..ids.len())
                .into_par_iter()
                .map_init(
                    || (Vec::new(), Vec::new()),
                    |(acc, against_acc), i| {
                        let t = terms[i].as_deref();
                        let term = t.map_or(0.0, |t| {
                            library.inverted.cosines(t, acc);
                            library.disliked_inverted.cosines(t, against_acc);
                            let against = against_acc.iter().copied().fold(0.0f32, f32::max);
                            mean_top(acc) - DISLIKE * against
                        });
                        let (meaning_score, near) =
                            nearest(&vecs[i], library.vecs, library.disliked_vecs, line);
                        let words = t.map(|t| t.words).or_else(|| meaning.words_of(&ids[i]));
                        Raw {
                            terms: term,
                            meaning: meaning_score,
                            learned: 0.0,
                            prior: words.map_or(1.0, hybrid::length_prior),
                            near,
                        }
                    },
                )
                .collect()
        };
        Ok(Scored {
            terms,
            vecs,
            raw,
            line,
        })
    }

    /// Candidates from two independent sources, found side by side: the
    /// best BM25 matches of weighted `words`, then the papers nearest to
    /// the cluster centres of `liked` (and to the model's direction).
    fn add_candidates(
        &self,
        candidates: &mut Candidates<'_>,
        words: &[(String, f32)],
        liked: &[PaperVectors],
        model: Option<&Model>,
        pool: &Pool,
    ) -> Result<(), SearchError> {
        let since = match pool {
            Pool::Since { since, .. } => Some(*since),
            Pool::All => None,
        };
        let exclude = candidates.exclude;
        let meaning = self.meaning();
        let (by_words, by_meaning) = rayon::join(
            || {
                let lap = laps("candidates by words");
                let hits = self.keyword.profile_hits(words, since, exclude, EXACT_EACH);
                lap("found");
                hits
            },
            || {
                let lap = laps("candidates by meaning");
                let found = if meaning.is_available() {
                    self.meaning_candidates(&meaning, liked, model, pool, exclude)
                } else {
                    Vec::new()
                };
                lap("found");
                found
            },
        );
        for (h, _) in by_words? {
            candidates.add(h.arxiv_id);
        }
        for id in by_meaning {
            candidates.add(id);
        }
        Ok(())
    }

    /// Candidates best first by their neighbour scores alone.
    fn neighbour_order(&self, scored: &Scored) -> Vec<usize> {
        let meaning = if self.meaning().is_available() {
            self.tuning.meaning
        } else {
            0.0
        };
        let mut order = mix(&scored.raw, self.tuning.terms, meaning, 0.0);
        order.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        order.into_iter().map(|(_, i)| i).collect()
    }

    /// Candidates by vector: the neighbours of the library's cluster
    /// centres and of the model's direction, in the refined space and (for
    /// papers it does not cover yet) the base one; within a window, the
    /// window's papers nearest to them.
    fn meaning_candidates(
        &self,
        meaning: &Meaning<'_>,
        liked: &[PaperVectors],
        model: Option<&Model>,
        pool: &Pool,
        exclude: &HashSet<ArxivId>,
    ) -> Vec<ArxivId> {
        // Queries per space: the centres, then the model's direction.
        let mut spaces = Vec::new();
        for (fine, sem) in [(true, meaning.fine), (false, meaning.base)] {
            let Some(sem) = sem else { continue };
            if !fine && meaning.refined_everywhere() {
                continue;
            }
            let rows: Vec<&[f32]> = liked
                .iter()
                .filter_map(|v| {
                    if fine {
                        v.fine.as_deref()
                    } else {
                        v.base.as_deref()
                    }
                })
                .collect();
            let mut queries = meaning::centres(&rows, PER_CLUSTER, MAX_CLUSTERS, 5);
            if let Some(d) = model.and_then(|m| m.direction(fine)) {
                queries.push(d);
            }
            if !queries.is_empty() {
                spaces.push((fine, sem, queries));
            }
        }
        let mut out = Vec::new();
        match pool {
            Pool::Since { ids, .. } => {
                // Every paper of the window scored by its best query in the
                // best space it has.
                for (fine, sem, queries) in &spaces {
                    let scored: Vec<(f32, &ArxivId)> = ids
                        .iter()
                        .filter(|id| !exclude.contains(*id))
                        .filter(|id| {
                            *fine || meaning.fine.is_none_or(|f| f.index.hash_of(id).is_none())
                        })
                        .filter_map(|id| {
                            let v = sem.index.vector_of(id)?;
                            let top = queries
                                .iter()
                                .map(|q| dot_f32(&v, q))
                                .fold(f32::MIN, f32::max);
                            Some((top, id))
                        })
                        .collect();
                    out.extend(best(scored, EXACT_EACH).into_iter().cloned());
                }
            }
            Pool::All => {
                for (_, sem, queries) in &spaces {
                    // Each query's nearest papers, best score kept; the
                    // best of them go on to be scored exactly.
                    let mut near: HashMap<ArxivId, f32> = HashMap::new();
                    let found = sem
                        .index
                        .search_many(queries, PER_CENTRE + exclude.len().min(500));
                    for neighbours in found {
                        let mut taken = 0;
                        for n in neighbours {
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
                    let mut near: Vec<(f32, ArxivId)> =
                        near.into_iter().map(|(id, s)| (s, id)).collect();
                    near.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
                    out.extend(near.into_iter().take(EXACT_EACH).map(|(_, id)| id));
                }
            }
        }
        out
    }

    /// The reader's model, from the cache while their library, feedback
    /// and the vectors they have stay the same.
    #[allow(clippy::too_many_arguments)]
    fn reader_model(
        &self,
        taste: &Taste,
        pool: &Pool,
        liked_terms: &[Arc<DocTerms>],
        liked_vecs: &[PaperVectors],
        disliked_terms: &[Arc<DocTerms>],
        disliked_vecs: &[PaperVectors],
        near: &[(Option<&DocTerms>, &PaperVectors)],
    ) -> Result<Arc<Model>, SearchError> {
        let key = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            taste.hash(&mut h);
            // Near misses come from the pool: a window's day, or the store.
            match pool {
                Pool::Since { since, .. } => (since / 86_400).hash(&mut h),
                Pool::All => (-1i64).hash(&mut h),
            }
            liked_vecs
                .iter()
                .filter(|v| v.fine.is_some())
                .count()
                .hash(&mut h);
            h.finish()
        };
        if let Some(m) = self
            .learning
            .models
            .lock()
            .ok()
            .and_then(|m| m.get(&key).cloned())
        {
            return Ok(m);
        }
        let background = self.background()?;
        let liked: HashSet<&ArxivId> = taste.liked.iter().collect();
        let mut examples = Vec::new();
        let by_id: HashMap<&ArxivId, &DocTerms> =
            liked_terms.iter().map(|d| (&d.id, &**d)).collect();
        for (id, v) in taste.liked.iter().zip(liked_vecs) {
            examples.push(learn::Example {
                terms: by_id.get(id).copied(),
                features: None,
                vecs: v,
                label: 1.0,
                weight: 1.0,
            });
        }
        let disliked_by_id: HashMap<&ArxivId, &DocTerms> =
            disliked_terms.iter().map(|d| (&d.id, &**d)).collect();
        for (id, v) in recent_disliked(taste).iter().zip(disliked_vecs) {
            examples.push(learn::Example {
                terms: disliked_by_id.get(id).copied(),
                features: None,
                vecs: v,
                label: -1.0,
                weight: 3.0,
            });
        }
        for (t, v) in near {
            examples.push(learn::Example {
                terms: *t,
                features: None,
                vecs: v,
                label: -1.0,
                weight: self.tuning.near_weight,
            });
        }
        for ((t, v), f) in background
            .terms
            .iter()
            .zip(&background.vecs)
            .zip(&background.features)
        {
            if liked.contains(&t.id) {
                continue;
            }
            examples.push(learn::Example {
                terms: Some(t),
                features: Some(f),
                vecs: v,
                label: -1.0,
                weight: 1.0,
            });
        }
        let model = Arc::new(learn::train(
            &examples,
            background.vocab.clone(),
            self.tuning.cost,
            self.tuning.blocks,
            key,
        ));
        if let Ok(mut models) = self.learning.models.lock() {
            if models.len() >= MODELS_KEPT {
                models.clear();
            }
            models.insert(key, model.clone());
        }
        Ok(model)
    }

    /// The background papers, drawn again when the index has grown or
    /// shrunk by a twentieth or the refined vectors have spread.
    fn background(&self) -> Result<Arc<Background>, SearchError> {
        let docs = self.keyword.num_docs();
        let refined = self.refined.as_ref().map_or(0, |r| r.index.len());
        if let Some(b) = self.learning.background.lock().ok().and_then(|b| b.clone()) {
            let moved = |was: u64, now: u64| was.abs_diff(now) * 20 > was.max(1);
            if !moved(b.docs, docs) && !moved(b.refined as u64, refined as u64) {
                return Ok(b);
            }
        }
        let ids = self.keyword.sample_ids(self.tuning.background, 0x5eed)?;
        let terms = self.terms_of(&ids)?;
        let meaning = self.meaning();
        let vecs = terms.iter().map(|t| meaning.of(&t.id)).collect();
        let (vocab, features) = learn::Vocab::of(&terms, self.tuning.blocks);
        let b = Arc::new(Background {
            docs,
            refined,
            terms,
            vecs,
            vocab: Arc::new(vocab),
            features,
        });
        if let Ok(mut slot) = self.learning.background.lock() {
            *slot = Some(b.clone());
        }
        Ok(b)
    }
}

/// The mean of the best three similarities of `v` with the liked papers,
/// less half its best with a disliked one, and the liked papers it is
/// closest to (closest first); nothing when it has no vectors.
fn nearest(
    v: &PaperVectors,
    liked: &[PaperVectors],
    disliked: &[PaperVectors],
    line: Line,
) -> (f32, Vec<usize>) {
    if v.is_empty() {
        return (0.0, Vec::new());
    }
    let mut all = Vec::new();
    similarities(v, liked, line, &mut all);
    let mut sims: Vec<(f32, usize)> = all
        .iter()
        .enumerate()
        .filter_map(|(i, s)| s.map(|s| (s, i)))
        .collect();
    if sims.is_empty() {
        return (0.0, Vec::new());
    }
    let keep = terms::TOP_K.max(SIMILAR).min(sims.len());
    sims.select_nth_unstable_by(keep - 1, |a, b| b.0.total_cmp(&a.0));
    sims.truncate(keep);
    sims.sort_by(|a, b| b.0.total_cmp(&a.0));
    let k = terms::TOP_K.min(sims.len());
    let mean = sims[..k].iter().map(|s| s.0).sum::<f32>() / k as f32;
    similarities(v, disliked, line, &mut all);
    let against = all.iter().flatten().fold(0.0f32, |a, &b| a.max(b));
    (
        mean - DISLIKE * against,
        sims.iter().take(SIMILAR).map(|s| s.1).collect(),
    )
}

/// Each pick with its reasons: the library papers it is nearest (by
/// meaning; by shared terms when it has no vector) and the words it shares
/// with them.
fn reasons(
    ranked: Vec<(f32, usize)>,
    candidates: &[ArxivId],
    scored: &Scored,
    liked_ids: &[ArxivId],
    liked_terms: &[Arc<DocTerms>],
) -> Vec<Pick> {
    let raw = &scored.raw;
    let liked_by_id: HashMap<&ArxivId, &DocTerms> =
        liked_terms.iter().map(|d| (&d.id, &**d)).collect();
    let mut picks = Vec::with_capacity(ranked.len());
    for (score, i) in ranked {
        let terms = scored.terms[i].as_deref();
        let similar_to: Vec<ArxivId> = if raw[i].near.is_empty() {
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
        } else {
            raw[i].near.iter().map(|&j| liked_ids[j].clone()).collect()
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
    picks
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(v: &[f32]) -> Vec<f32> {
        let mut v = v.to_vec();
        crate::vector::quant::normalize(&mut v);
        v
    }

    #[test]
    fn nearest_is_the_mean_of_the_best_three() {
        let fine = |v: &[f32]| PaperVectors {
            base: None,
            fine: Some(unit(v)),
        };
        let liked = vec![
            fine(&[1.0, 0.0]),
            fine(&[0.0, 1.0]),
            fine(&[1.0, 1.0]),
            fine(&[-1.0, 0.0]),
        ];
        let (mean, near) = nearest(&fine(&[1.0, 0.0]), &liked, &[], Line::default());
        assert_eq!(near, vec![0, 2, 1]);
        assert!((mean - (1.0 + std::f32::consts::FRAC_1_SQRT_2) / 3.0).abs() < 1e-5);
    }
}

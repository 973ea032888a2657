//! Picks among one period's new papers for many readers at once (a
//! digest run, the private feed): the papers' vectors read once into a
//! [`Window`], each reader's library compared with them by meaning, in the
//! best space each pair has.

use std::collections::HashSet;

use paperboy_core::ArxivId;

use super::meaning::{centres, fit_line, PaperVectors};
use super::terms::{pick_by_terms, shared_terms, term_score};
use super::{nearest, recent_disliked, Pick, Taste, MAX_LIKED};
use crate::engine::Engine;
use crate::hybrid;
use crate::keyword::DocTerms;
use crate::vector::quant::dot_f32;
use crate::SearchError;

/// New papers' vectors, read once and shared by many readers (a digest
/// run scores every subscriber's library against the same papers).
pub struct Window {
    ids: Vec<ArxivId>,
    vecs: Vec<PaperVectors>,
    words: Vec<Option<u64>>,
    /// Without vectors: the papers' terms instead.
    terms: Vec<std::sync::Arc<DocTerms>>,
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
/// Liked papers per cluster, about.
const WINDOW_PER_CLUSTER: usize = 24;
/// Candidates re-scored exactly.
const WINDOW_POOL: usize = 40;
/// A digest pick by terms scores at least this share of the best one.
const TERMS_FLOOR: f32 = 0.3;
/// The same for picks by meaning (cosines of unrelated papers are well
/// above zero, so the floor is higher).
const MEANING_FLOOR: f32 = 0.6;
/// Liked papers a digest pick by terms compares against (the most recent).
const WINDOW_TERMS_LIKED: usize = 200;

impl Engine {
    /// The vectors of `ids` (those the indexes have), for
    /// [`Engine::recommend_in`]; their terms when there are no vectors.
    pub fn window(&self, ids: &[ArxivId]) -> Window {
        let meaning = self.meaning();
        if !meaning.is_available() {
            let terms = self
                .keyword
                .doc_terms(ids)
                .map(|t| t.into_iter().flatten().collect())
                .unwrap_or_default();
            return Window {
                ids: Vec::new(),
                vecs: Vec::new(),
                words: Vec::new(),
                terms,
            };
        }
        // Once the refined vectors cover everything, the base ones are not
        // needed (and would double the window's memory).
        let base_too = !meaning.refined_everywhere();
        let mut w = Window {
            ids: Vec::with_capacity(ids.len()),
            vecs: Vec::with_capacity(ids.len()),
            words: Vec::with_capacity(ids.len()),
            terms: Vec::new(),
        };
        for id in ids {
            let mut v = meaning.of(id);
            if !base_too && v.fine.is_some() {
                v.base = None;
            }
            if !v.is_empty() {
                w.ids.push(id.clone());
                w.vecs.push(v);
                w.words.push(meaning.words_of(id));
            }
        }
        w
    }

    /// [`Engine::recommend`] among a window's papers by meaning alone
    /// (the cheap path for digests): a few cluster centres shortlist, the
    /// mean of the best three similarities decides, reasons as on the page.
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
        let meaning = self.meaning();
        if !meaning.is_available() {
            return self.recommend_in_terms(window, taste, exclude, limit);
        }
        let liked_ids: Vec<ArxivId> = taste.liked.iter().take(MAX_LIKED).cloned().collect();
        let liked = meaning.many(&liked_ids);
        if liked.iter().all(PaperVectors::is_empty) {
            return Ok(Vec::new());
        }
        let disliked = meaning.many(recent_disliked(taste));
        let line = fit_line(&window.vecs, &liked);
        // Centres per space; a window paper is shortlisted by its best
        // centre in the best space it has.
        let space_centres = |fine: bool| {
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
            centres(&rows, WINDOW_PER_CLUSTER, WINDOW_CLUSTERS, 3)
        };
        let (fine_centres, base_centres) = (space_centres(true), space_centres(false));
        let best_of =
            |v: &[f32], cs: &[Vec<f32>]| cs.iter().map(|c| dot_f32(v, c)).fold(f32::MIN, f32::max);
        let shortlist: Vec<(f32, usize)> = window
            .vecs
            .iter()
            .enumerate()
            .filter(|(i, _)| !exclude.contains(&window.ids[*i]))
            .filter_map(|(i, v)| {
                let s = match (&v.fine, &v.base) {
                    (Some(f), _) if !fine_centres.is_empty() => best_of(f, &fine_centres),
                    (_, Some(b)) if !base_centres.is_empty() => {
                        line.apply(best_of(b, &base_centres))
                    }
                    _ => return None,
                };
                Some((s, i))
            })
            .collect();
        let shortlist = super::best(shortlist, WINDOW_POOL);
        let mut exact: Vec<(f32, usize, Vec<usize>)> = shortlist
            .into_iter()
            .map(|i| {
                let (score, near) = nearest(&window.vecs[i], &liked, &disliked, line);
                let prior = window.words[i].map_or(1.0, hybrid::length_prior);
                (score * prior, i, near)
            })
            .filter(|e| !e.2.is_empty())
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
            let similar_to: Vec<ArxivId> = near.iter().map(|&j| liked_ids[j].clone()).collect();
            let mut docs = self.keyword.doc_terms(std::slice::from_ref(&id))?;
            let near_docs = self.terms_of(&similar_to)?;
            let terms = match docs.pop().flatten() {
                Some(d) => shared_terms(&d, &near_docs.iter().map(|d| &**d).collect::<Vec<_>>()),
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

    /// [`Engine::recommend_in`] without vectors: by terms alone, against
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
        let disliked = self.terms_of(recent_disliked(taste))?;
        if liked.is_empty() {
            return Ok(Vec::new());
        }
        let mut scored: Vec<(f32, &std::sync::Arc<DocTerms>)> = window
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
            .map(|(score, t)| pick_by_terms(t, liked.iter().map(|d| &**d), score))
            .collect())
    }
}

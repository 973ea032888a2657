//! The terms view of a library: papers as tf·idf vectors, a reader's
//! Rocchio profile, cosines with the library, and the shared words that
//! explain a pick.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use crate::keyword::DocTerms;

/// How much a disliked paper's likeness counts against.
pub(super) const DISLIKE: f32 = 0.5;
/// The k of the mean-of-top-k score.
pub(super) const TOP_K: usize = 3;
/// Shared words given as a reason.
const TERMS: usize = 4;

/// The Rocchio profile: liked mean minus half the disliked mean.
pub(super) fn profile(
    liked: &[Arc<DocTerms>],
    disliked: &[Arc<DocTerms>],
) -> FxHashMap<String, f32> {
    let mut p: FxHashMap<String, f32> = Default::default();
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

/// The `n` strongest positive terms, the strongest counting 1.
pub(super) fn strongest(profile: &FxHashMap<String, f32>, n: usize) -> Vec<(String, f32)> {
    let mut terms: Vec<(String, f32)> = profile
        .iter()
        .filter(|(_, w)| **w > 0.0)
        .map(|(t, w)| (t.clone(), *w))
        .collect();
    terms.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    terms.truncate(n);
    let top = terms.first().map_or(1.0, |t| t.1).max(1e-6);
    for t in &mut terms {
        t.1 /= top;
    }
    terms
}

pub(super) fn term_dot(a: &DocTerms, b: &DocTerms) -> f32 {
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
pub(super) fn shared_terms(pick: &DocTerms, near: &[&DocTerms]) -> Vec<String> {
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

/// A pick made by terms: `t` with its score, the liked papers sharing the
/// most with it (the closest `SIMILAR`) and the words they share.
pub(super) fn pick_by_terms<'a>(
    t: &DocTerms,
    liked: impl Iterator<Item = &'a DocTerms>,
    score: f32,
) -> super::Pick {
    let mut by: Vec<(f32, &DocTerms)> = liked.map(|d| (term_dot(t, d), d)).collect();
    by.sort_by(|a, b| b.0.total_cmp(&a.0));
    let near: Vec<&DocTerms> = by.iter().take(super::SIMILAR).map(|(_, d)| *d).collect();
    super::Pick {
        arxiv_id: t.id.clone(),
        score,
        similar_to: near.iter().map(|d| d.id.clone()).collect(),
        terms: shared_terms(t, &near),
    }
}

/// The mean of the `TOP_K` best term cosines of `t` with `liked`, less
/// the best with a disliked paper.
pub(super) fn term_score(t: &DocTerms, liked: &[Arc<DocTerms>], disliked: &[Arc<DocTerms>]) -> f32 {
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
pub(super) struct Inverted<'a> {
    n: usize,
    /// (FxHash: a request looks up a few hundred candidates' terms here,
    /// and SipHash's cost per short key was a fifth of the lookups.)
    postings: FxHashMap<&'a str, Vec<(u32, f32)>>,
}

impl<'a> Inverted<'a> {
    pub(super) fn new(docs: &'a [Arc<DocTerms>]) -> Self {
        let mut postings: FxHashMap<&'a str, Vec<(u32, f32)>> = FxHashMap::default();
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
    pub(super) fn cosines(&self, t: &DocTerms, acc: &mut Vec<f32>) {
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
pub(super) fn mean_top(sims: &mut [f32]) -> f32 {
    let k = TOP_K.min(sims.len());
    if k == 0 {
        return 0.0;
    }
    sims.select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a));
    sims[..k].iter().sum::<f32>() / k as f32
}

#[cfg(test)]
mod tests {
    use super::*;
    use paperboy_core::ArxivId;

    #[test]
    fn profile_subtracts_dislikes_and_shared_terms_use_surface_words() {
        let doc = |id: &str, w: &[(&str, f32)], surface: &[(&str, &str)]| DocTerms {
            id: ArxivId::parse(id).unwrap(),
            weights: w.iter().map(|(t, x)| (t.to_string(), *x)).collect(),
            bigrams: Default::default(),
            surface: surface
                .iter()
                .map(|(t, s)| (t.to_string(), s.to_string()))
                .collect(),
            words: 100,
        };
        let a = doc("2401.00001", &[("soup", 0.8), ("weight", 0.6)], &[]);
        let b = doc("2401.00002", &[("soup", 0.6), ("vision", 0.8)], &[]);
        let (a, b) = (Arc::new(a), Arc::new(b));
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

//! Fusing keyword and semantic result lists, and the short-document prior
//! both modes apply.

use std::collections::HashMap;

use paperboy_core::ArxivId;

/// Abstracts this long or longer get no penalty.
const FULL_WORDS: f32 = 60.0;

/// A multiplier in (0, 1] for a paper with `words` words of abstract: one
/// line of text gets about a quarter of the weight of a real abstract. Records that
/// short are package blurbs, errata and notices far more often than papers,
/// and both BM25 and mean-pooled embeddings flatter them (every word of a
/// short text is on topic).
pub fn length_prior(words: u64) -> f32 {
    ((words as f32 + 5.0) / FULL_WORDS).min(1.0)
}

/// What fusion multiplies a fused score by: full weight from 25 words,
/// less below (a third at 5 words, none at none).
///
/// The lists rank with [`length_prior`] already. Fused scores of RRF are
/// ranks, where a multiplier is far stronger than on a list's scores (a
/// fifth off is a dozen ranks near the top), so fusion demotes only what
/// is too short to be an abstract: a one-line record that tops a list
/// because the list found nothing better must not tie with a paper
/// another list put first.
pub fn fusion_prior(words: u64) -> f32 {
    // The same line as `length_prior`, twice as steep.
    (2.0 * length_prior(words)).min(1.0)
}

/// How the lists are combined.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fusion {
    /// Reciprocal rank fusion: Σ w / (k + rank).
    Rrf { k: f32, semantic_weight: f32 },
    /// Min-max normalised scores, mixed: (1-α)·keyword + α·semantic.
    Convex { alpha: f32 },
}

impl Fusion {
    /// Keywords with the static model's vectors: equal weights (measured
    /// best among weights 0.5–3 and min-max mixes, `paperboy eval`, with and
    /// without short distractor records; BENCHMARKS.md).
    pub const STATIC: Fusion = Fusion::Rrf {
        k: 60.0,
        semantic_weight: 1.0,
    };
    /// Keywords with the transformer's vectors: the meaning list counts
    /// 1.25 times. Chosen on the development queries
    /// (`eval/dev-qrels.jsonl`, weights 1–2; the best, ties within 0.002
    /// going to the weight nearest the earlier 1.5), by a rule written
    /// before they were measured, and then reported on
    /// `eval/seed-qrels.jsonl` (BENCHMARKS.md). Equal weights let the
    /// weaker keyword list pull the fusion towards it.
    pub const TRANSFORMER: Fusion = Fusion::Rrf {
        k: 60.0,
        semantic_weight: 1.25,
    };
}

impl Default for Fusion {
    fn default() -> Self {
        Fusion::STATIC
    }
}

/// One ranked list: ids best first, with their scores and abstract lengths.
#[derive(Debug, Clone, Default)]
pub struct Ranked {
    pub ids: Vec<ArxivId>,
    pub scores: Vec<f32>,
    pub words: Vec<Option<u64>>,
}

impl Ranked {
    /// The list with the short-document prior in its scores, re-ordered
    /// by them: what [`fuse`] expects of every list.
    pub fn with_prior(self) -> Ranked {
        let mut rows: Vec<(ArxivId, f32, Option<u64>)> = self
            .ids
            .into_iter()
            .zip(self.scores)
            .zip(self.words)
            .map(|((id, s), w)| (id, s * w.map_or(1.0, length_prior), w))
            .collect();
        rows.sort_by(|a, b| b.1.total_cmp(&a.1));
        let mut out = Ranked::default();
        for (id, s, w) in rows {
            out.ids.push(id);
            out.scores.push(s);
            out.words.push(w);
        }
        out
    }
}

/// Fuses a keyword and a semantic list; best first.
///
/// Both lists must already be ranked and scored with the short-document
/// prior (keyword search and the vector scan apply it; see
/// [`Ranked::with_prior`] for other lists). Fusion applies only the
/// milder [`fusion_prior`]: it once applied the full prior again, and a
/// real abstract of 40–55 words lost up to a fifth of its fused score,
/// so a paper first in both lists fell below papers third in both
/// (`eval/dev-qrels.jsonl`, BENCHMARKS.md).
pub fn fuse(keyword: &Ranked, semantic: &Ranked, fusion: Fusion) -> Vec<(ArxivId, f32)> {
    let mut acc: HashMap<&ArxivId, (f32, Option<u64>)> = HashMap::new();
    match fusion {
        Fusion::Rrf { k, semantic_weight } => {
            for (list, w) in [(keyword, 1.0), (semantic, semantic_weight)] {
                for (rank, id) in list.ids.iter().enumerate() {
                    let e = acc.entry(id).or_insert((0.0, None));
                    e.0 += w / (k + rank as f32 + 1.0);
                    e.1 = e.1.or(list.words.get(rank).copied().flatten());
                }
            }
        }
        Fusion::Convex { alpha } => {
            for (list, w) in [(keyword, 1.0 - alpha), (semantic, alpha)] {
                let max = list.scores.iter().copied().fold(f32::MIN, f32::max);
                let min = list.scores.iter().copied().fold(f32::MAX, f32::min);
                let span = (max - min).max(1e-6);
                for (rank, id) in list.ids.iter().enumerate() {
                    let s = list.scores.get(rank).copied().unwrap_or(min);
                    let e = acc.entry(id).or_insert((0.0, None));
                    e.0 += w * (s - min) / span;
                    e.1 = e.1.or(list.words.get(rank).copied().flatten());
                }
            }
        }
    }
    let mut out: Vec<(ArxivId, f32)> = acc
        .into_iter()
        .map(|(id, (s, words))| (id.clone(), s * words.map_or(1.0, fusion_prior)))
        .collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(s: &str) -> ArxivId {
        ArxivId::parse(s).unwrap()
    }

    fn ranked(ids: &[&str], words: u64) -> Ranked {
        Ranked {
            ids: ids.iter().map(|s| id(s)).collect(),
            scores: (0..ids.len()).map(|i| 1.0 - i as f32 * 0.1).collect(),
            words: vec![Some(words); ids.len()],
        }
    }

    #[test]
    fn a_paper_high_in_both_lists_wins() {
        let k = ranked(
            &[
                "2401.00001",
                "2401.00002",
                "2401.00003",
                "2401.00006",
                "2401.00007",
            ],
            150,
        );
        let s = ranked(
            &[
                "2401.00004",
                "2401.00002",
                "2401.00005",
                "2401.00008",
                "2401.00009",
            ],
            150,
        );
        for f in [Fusion::default(), Fusion::Convex { alpha: 0.5 }] {
            let fused = fuse(&k, &s, f);
            assert_eq!(fused[0].0, id("2401.00002"), "{f:?}");
            assert_eq!(fused.len(), 9);
        }
    }

    #[test]
    fn short_records_yield_to_abstracts() {
        assert!(length_prior(8) < 0.3);
        assert_eq!(length_prior(200), 1.0);
        let mut k = ranked(&["2401.00001", "2401.00002"], 150);
        k.words[0] = Some(8);
        let k = k.with_prior();
        assert_eq!(k.ids[0], id("2401.00002"));
        let fused = fuse(&k, &Ranked::default(), Fusion::default());
        assert_eq!(fused[0].0, id("2401.00002"));
        // A one-liner first in one list (which found nothing better) does
        // not tie with a paper first in the other.
        let mut s = ranked(&["2401.00001"], 8);
        s.scores[0] = 0.05;
        let k = ranked(&["2401.00002"], 150);
        for f in [Fusion::STATIC, Fusion::TRANSFORMER] {
            assert_eq!(fuse(&k, &s, f)[0].0, id("2401.00002"), "{f:?}");
        }
        assert!(fusion_prior(8) < 0.5);
        assert_eq!(fusion_prior(25), 1.0);
    }

    /// A short real abstract first in both lists stays first: the lists
    /// carry the prior already, and fusing must not apply it again.
    #[test]
    fn a_short_abstract_first_in_both_lists_stays_first() {
        let mut k = ranked(&["2401.00001", "2401.00002", "2401.00003"], 150);
        let mut s = ranked(&["2401.00001", "2401.00003", "2401.00002"], 150);
        k.words[0] = Some(43);
        s.words[0] = Some(43);
        for f in [Fusion::STATIC, Fusion::TRANSFORMER] {
            assert_eq!(fuse(&k, &s, f)[0].0, id("2401.00001"), "{f:?}");
        }
    }
}

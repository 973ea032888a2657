//! The one place that knows which vectors are best for each paper: the
//! refined (transformer) vectors wherever they are filled in, the base
//! (static) ones elsewhere. Recommendations, digests and the feed ask here;
//! a pair of papers is compared in the best space both have, a base cosine
//! put on the refined scale by a line fitted to pairs that have both.

use paperboy_core::ArxivId;

use crate::engine::{Engine, Semantic};
use crate::vector::quant::{dot_f32, dot_f32_x4, normalize};

/// A paper's unit vectors: the base one, and the refined one where filled in.
#[derive(Debug, Clone, Default)]
pub struct PaperVectors {
    pub base: Option<Vec<f32>>,
    pub fine: Option<Vec<f32>>,
}

impl PaperVectors {
    pub fn is_empty(&self) -> bool {
        self.base.is_none() && self.fine.is_none()
    }
}

/// Where vectors come from: the base index (every paper) and the refined
/// one (filled in behind it).
#[derive(Clone, Copy)]
pub struct Meaning<'a> {
    pub base: Option<&'a Semantic>,
    pub fine: Option<&'a Semantic>,
}

impl Engine {
    /// Every consumer's source of vectors.
    pub fn meaning(&self) -> Meaning<'_> {
        Meaning {
            base: self.semantic.as_ref(),
            fine: self.refined.as_ref().filter(|r| !r.index.is_empty()),
        }
    }
}

fn unit(sem: Option<&Semantic>, id: &ArxivId) -> Option<Vec<f32>> {
    let mut v = sem?.index.vector_of(id)?;
    normalize(&mut v);
    Some(v)
}

impl Meaning<'_> {
    /// Whether there are vectors at all.
    pub fn is_available(&self) -> bool {
        self.base.is_some() || self.fine.is_some()
    }

    /// Whether the refined vectors cover every paper the base ones do (then
    /// the base ones are not needed to find candidates).
    pub fn refined_everywhere(&self) -> bool {
        match (self.base, self.fine) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(b), Some(f)) => f.index.len() >= b.index.len(),
        }
    }

    pub fn of(&self, id: &ArxivId) -> PaperVectors {
        PaperVectors {
            base: unit(self.base, id),
            fine: unit(self.fine, id),
        }
    }

    pub fn many(&self, ids: &[ArxivId]) -> Vec<PaperVectors> {
        ids.iter().map(|id| self.of(id)).collect()
    }

    /// Words in the abstract, as recorded with the vectors.
    pub fn words_of(&self, id: &ArxivId) -> Option<u64> {
        self.fine
            .and_then(|f| f.index.words_of(id))
            .or_else(|| self.base.and_then(|b| b.index.words_of(id)))
    }
}

/// Maps a base cosine onto the refined scale: `a·s + b`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Line {
    pub a: f32,
    pub b: f32,
}

impl Default for Line {
    fn default() -> Self {
        Line { a: 1.0, b: 0.0 }
    }
}

impl Line {
    pub fn apply(self, s: f32) -> f32 {
        self.a * s + self.b
    }
}

/// Pairs a line is fitted to, at most (the first papers of each side).
const FIT_EACH: usize = 48;

/// The line through pairs of `xs` and `ys` that have both vectors (their
/// base and refined cosines' means and spreads matched); the identity when
/// too few pairs have both (then nearly everything is in one space).
pub fn fit_line(xs: &[PaperVectors], ys: &[PaperVectors]) -> Line {
    let both = |v: &&PaperVectors| v.base.is_some() && v.fine.is_some();
    let xs: Vec<&PaperVectors> = xs.iter().filter(both).take(FIT_EACH).collect();
    let ys: Vec<&PaperVectors> = ys.iter().filter(both).take(FIT_EACH).collect();
    let mut pairs = Vec::with_capacity(xs.len() * ys.len());
    for x in &xs {
        for y in &ys {
            if let (Some(xb), Some(yb), Some(xf), Some(yf)) = (&x.base, &y.base, &x.fine, &y.fine) {
                pairs.push((dot_f32(xb, yb), dot_f32(xf, yf)));
            }
        }
    }
    let (a, b) = crate::engine::calibration(&pairs, &[], &[]);
    Line { a, b }
}

/// The cosine of two papers in the best space both have: refined where
/// both have refined vectors, otherwise base, mapped by `line`.
pub fn similarity(x: &PaperVectors, y: &PaperVectors, line: Line) -> Option<f32> {
    if let (Some(a), Some(b)) = (&x.fine, &y.fine) {
        return Some(dot_f32(a, b));
    }
    if let (Some(a), Some(b)) = (&x.base, &y.base) {
        return Some(line.apply(dot_f32(a, b)));
    }
    None
}

/// [`similarity`] of `x` with each of `ys` (into `out`, in order): the
/// same values to the bit, four products at a time where four of `ys`
/// share a space with `x` ([`dot_f32_x4`]).
pub fn similarities(x: &PaperVectors, ys: &[PaperVectors], line: Line, out: &mut Vec<Option<f32>>) {
    out.clear();
    out.resize(ys.len(), None);
    // Which of `ys` compare in the refined space and which in the base one.
    let mut fine: Vec<(usize, &[f32])> = Vec::new();
    let mut base: Vec<(usize, &[f32])> = Vec::new();
    for (i, y) in ys.iter().enumerate() {
        if let (Some(_), Some(b)) = (&x.fine, &y.fine) {
            fine.push((i, b));
        } else if let (Some(_), Some(b)) = (&x.base, &y.base) {
            base.push((i, b));
        }
    }
    for (q, rows, mapped) in [(&x.fine, fine, false), (&x.base, base, true)] {
        let Some(q) = q.as_deref() else { continue };
        let map = |s: f32| if mapped { line.apply(s) } else { s };
        let mut chunks = rows.chunks_exact(4);
        for c in &mut chunks {
            let four = dot_f32_x4(q, [c[0].1, c[1].1, c[2].1, c[3].1]);
            for ((i, _), s) in c.iter().zip(four) {
                out[*i] = Some(map(s));
            }
        }
        for (i, r) in chunks.remainder() {
            out[*i] = Some(map(dot_f32(q, r)));
        }
    }
}

/// Spherical k-means, a few rounds from evenly spread seeds: the centres
/// of a library's interests (`per` rows to a centre, at most `max`).
pub(super) fn centres(rows: &[&[f32]], per: usize, max: usize, rounds: usize) -> Vec<Vec<f32>> {
    if rows.is_empty() {
        return Vec::new();
    }
    let k = rows.len().div_ceil(per).clamp(1, max);
    let seeds: Vec<Vec<f32>> = (0..k).map(|i| rows[i * rows.len() / k].to_vec()).collect();
    centres_from(rows, seeds, rounds)
}

/// `rounds` of spherical k-means from `centres`.
fn centres_from(rows: &[&[f32]], mut centres: Vec<Vec<f32>>, rounds: usize) -> Vec<Vec<f32>> {
    let k = centres.len();
    let dim = rows[0].len();
    for _ in 0..rounds {
        let mut sums = vec![vec![0.0f32; dim]; k];
        let mut likeness = Vec::with_capacity(k);
        for r in rows {
            // Each likeness computed once, four centres at a time.
            likeness.clear();
            let mut groups = centres.chunks_exact(4);
            for g in &mut groups {
                likeness.extend(dot_f32_x4(r, [&g[0], &g[1], &g[2], &g[3]]));
            }
            likeness.extend(groups.remainder().iter().map(|c| dot_f32(r, c)));
            // The nearest centre (the last of equals).
            let mut best = 0;
            let mut top = f32::MIN;
            for (i, &s) in likeness.iter().enumerate() {
                if i == 0 || top.total_cmp(&s) != std::cmp::Ordering::Greater {
                    best = i;
                    top = s;
                }
            }
            for (s, x) in sums[best].iter_mut().zip(r.iter()) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn similarities_are_each_pairs_similarity_to_the_bit() {
        // Eleven papers: some with both vectors, some base only, one with
        // none; compared with a paper with both and with one base only.
        let v = |seed: usize, dim: usize| -> Vec<f32> {
            unit(
                &(0..dim)
                    .map(|i| ((i * 31 + seed * 17) % 23) as f32 - 11.0)
                    .collect::<Vec<_>>(),
            )
        };
        let ys: Vec<PaperVectors> = (0..11)
            .map(|k| PaperVectors {
                base: (k != 10).then(|| v(k, 40)),
                fine: (k % 3 != 0 && k != 10).then(|| v(k + 50, 24)),
            })
            .collect();
        let line = Line { a: 0.8, b: 0.1 };
        for x in [
            PaperVectors {
                base: Some(v(99, 40)),
                fine: Some(v(98, 24)),
            },
            PaperVectors {
                base: Some(v(97, 40)),
                fine: None,
            },
        ] {
            let mut out = vec![Some(7.0); 3];
            similarities(&x, &ys, line, &mut out);
            let one: Vec<Option<u32>> = ys
                .iter()
                .map(|y| similarity(&x, y, line).map(f32::to_bits))
                .collect();
            let all: Vec<Option<u32>> = out.iter().map(|s| s.map(f32::to_bits)).collect();
            assert_eq!(all, one);
            assert_eq!(all[10], None);
        }
    }

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
        let refs: Vec<&[f32]> = rows.iter().map(Vec::as_slice).collect();
        let c = centres(&refs, 6, 16, 5);
        assert_eq!(c.len(), 2);
        assert!(
            c.iter().any(|c| c[0] > 0.9) && c.iter().any(|c| c[2] > 0.9),
            "{c:?}"
        );
    }

    #[test]
    fn pairs_compare_in_the_best_space_both_have() {
        let both = PaperVectors {
            base: Some(unit(&[1.0, 0.0])),
            fine: Some(unit(&[1.0, 0.0, 0.0])),
        };
        let fine_too = PaperVectors {
            base: Some(unit(&[0.0, 1.0])),
            fine: Some(unit(&[1.0, 1.0, 0.0])),
        };
        let base_only = PaperVectors {
            base: Some(unit(&[1.0, 1.0])),
            fine: None,
        };
        let line = Line { a: 2.0, b: 0.1 };
        let s = similarity(&both, &fine_too, line).unwrap();
        assert!(
            (s - std::f32::consts::FRAC_1_SQRT_2).abs() < 1e-5,
            "refined: {s}"
        );
        let s = similarity(&both, &base_only, line).unwrap();
        assert!(
            (s - (2.0 * std::f32::consts::FRAC_1_SQRT_2 + 0.1)).abs() < 1e-5,
            "base on the refined scale: {s}"
        );
        assert_eq!(similarity(&both, &PaperVectors::default(), line), None);
    }
}

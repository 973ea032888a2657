//! A reader's own linear model, the idea that made arxiv-sanity-lite's
//! picks strong: a linear SVM told to separate the reader's library (and
//! 👍) from papers they did not choose, on tf·idf words and word pairs
//! plus the papers' vectors. Its weights say what this reader cares about
//! beyond "near something saved": the distinctive words of their field
//! count more than the words every paper shares.
//!
//! Trained by dual coordinate descent (Hsieh et al., "A Dual Coordinate
//! Descent Method for Large-scale Linear SVM", 2008, the algorithm of
//! LIBLINEAR), written here because the problems are small (a library
//! against a few hundred background papers) and no maintained Rust crate
//! trains a weighted linear SVM on mixed sparse and dense features.

use std::sync::Arc;

use rand::seq::SliceRandom;
use rand::SeedableRng;
use rustc_hash::FxHashMap;

use super::meaning::PaperVectors;
use crate::keyword::DocTerms;
use crate::vector::quant::dot_f32;

/// How much each block of features counts (each block is of unit length).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Blocks {
    pub words: f32,
    pub pairs: f32,
    pub fine: f32,
    pub base: f32,
}

impl Default for Blocks {
    fn default() -> Self {
        Blocks {
            words: 1.0,
            pairs: 0.5,
            fine: 1.0,
            base: 0.5,
        }
    }
}

/// Numbers for words and word pairs (one numbering for both): the
/// background papers' terms, numbered once and shared by every model
/// trained against them, so a reader's model numbers only the words of
/// their own papers the background lacks.
#[derive(Debug, Default, Clone)]
pub(super) struct Vocab {
    words: FxHashMap<String, u32>,
    pairs: FxHashMap<String, u32>,
}

/// A paper's words and pairs as numbered features, each scaled by its
/// block's weight.
pub(super) type Features = Vec<(u32, f32)>;

impl Vocab {
    fn len(&self) -> u32 {
        (self.words.len() + self.pairs.len()) as u32
    }

    /// A vocabulary numbering every word and pair of `docs`, and each
    /// one's features in it (in the order [`train`] reads them).
    pub fn of(docs: &[Arc<DocTerms>], blocks: Blocks) -> (Vocab, Vec<Features>) {
        let mut v = Vocab::default();
        let mut features = Vec::with_capacity(docs.len());
        for t in docs {
            let mut f = Vec::with_capacity(t.weights.len() + t.bigrams.len());
            for (k, x) in &t.weights {
                let next = v.len();
                let i = *v.words.entry(k.clone()).or_insert(next);
                f.push((i, x * blocks.words));
            }
            for (k, x) in &t.bigrams {
                let next = v.len();
                let i = *v.pairs.entry(k.clone()).or_insert(next);
                f.push((i, x * blocks.pairs));
            }
            features.push(f);
        }
        (v, features)
    }
}

/// One paper to learn from.
pub(super) struct Example<'a> {
    pub terms: Option<&'a DocTerms>,
    /// Its terms already numbered in the vocabulary given to [`train`]
    /// (then `terms` is not read).
    pub features: Option<&'a [(u32, f32)]>,
    pub vecs: &'a PaperVectors,
    /// +1: the reader chose it; −1: they did not (or turned it down).
    pub label: f32,
    /// How much a mistake on it costs, relative to the others.
    pub weight: f32,
}

/// A trained model: a weight per word, word pair and vector dimension.
#[derive(Debug, Clone)]
pub struct Model {
    /// The shared numbering, and the words and pairs only this reader's
    /// papers have, numbered after it.
    vocab: Arc<Vocab>,
    own: Vocab,
    /// Weight by number, the block's scale not yet applied.
    weights: Vec<f32>,
    fine: Option<Vec<f32>>,
    base: Option<Vec<f32>>,
    bias: f32,
    blocks: Blocks,
}

impl Model {
    /// A word's weight (the words block's scale applied).
    fn word(&self, k: &str) -> Option<f32> {
        let i = self.vocab.words.get(k).or_else(|| self.own.words.get(k))?;
        Some(self.weights[*i as usize] * self.blocks.words)
    }

    fn pair(&self, k: &str) -> Option<f32> {
        let i = self.vocab.pairs.get(k).or_else(|| self.own.pairs.get(k))?;
        Some(self.weights[*i as usize] * self.blocks.pairs)
    }

    /// The model's score of a paper: above zero, more like the library.
    pub fn score(&self, terms: Option<&DocTerms>, v: &PaperVectors) -> f32 {
        let mut s = self.bias;
        if let Some(t) = terms {
            let words: f32 = t
                .weights
                .iter()
                .filter_map(|(k, x)| self.word(k).map(|w| w * x))
                .sum();
            let pairs: f32 = t
                .bigrams
                .iter()
                .filter_map(|(k, x)| self.pair(k).map(|w| w * x))
                .sum();
            s += words + pairs;
        }
        if let (Some(w), Some(x)) = (&self.fine, &v.fine) {
            s += self.blocks.fine * dot_f32(w, x);
        }
        if let (Some(w), Some(x)) = (&self.base, &v.base) {
            s += self.blocks.base * dot_f32(w, x);
        }
        s
    }

    /// The words weighing most for the library, strongest first, the
    /// strongest counting 1 (a query for candidates).
    pub fn strongest_words(&self, n: usize) -> Vec<(String, f32)> {
        let mut w: Vec<(&str, f32)> = self
            .vocab
            .words
            .iter()
            .chain(&self.own.words)
            .map(|(t, i)| (t.as_str(), self.weights[*i as usize] * self.blocks.words))
            .filter(|(_, x)| *x > 0.0)
            .collect();
        let order =
            |a: &(&str, f32), b: &(&str, f32)| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0));
        if w.len() > n && n > 0 {
            w.select_nth_unstable_by(n - 1, order);
        }
        w.truncate(n);
        w.sort_by(order);
        let top = w.first().map_or(1.0, |t| t.1).max(1e-9);
        w.into_iter()
            .map(|(t, x)| (t.to_string(), x / top))
            .collect()
    }

    /// The direction in the refined (or base) space the model prefers, of
    /// unit length: a query for candidates by vector.
    pub fn direction(&self, fine: bool) -> Option<Vec<f32>> {
        let mut v = if fine {
            self.fine.clone()?
        } else {
            self.base.clone()?
        };
        let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if n <= 1e-9 {
            return None;
        }
        v.iter_mut().for_each(|x| *x /= n);
        Some(v)
    }
}

/// An example as the solver sees it: sparse features by index, and the
/// dense blocks it has.
struct Row<'a> {
    sparse: Vec<(u32, f32)>,
    fine: Option<&'a [f32]>,
    base: Option<&'a [f32]>,
    label: f32,
    cost: f32,
    norm2: f32,
}

/// `w` · a sparse row, in four independent sums: with one, each addition
/// waited on the one before (perf put most of the solver's own time on
/// that loop; 1.2× in a micro-run of 550 rows of 250 features).
#[inline]
fn sparse_dot(w: &[f32], row: &[(u32, f32)]) -> f32 {
    let mut acc = [0f32; 4];
    let mut chunks = row.chunks_exact(4);
    for c in &mut chunks {
        for (a, &(i, x)) in acc.iter_mut().zip(c) {
            *a += w[i as usize] * x;
        }
    }
    let mut s = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    for &(i, x) in chunks.remainder() {
        s += w[i as usize] * x;
    }
    s
}

/// Passes over the examples at most.
const MAX_EPOCHS: usize = 200;
/// Stop once the projected gradients span less than this (LIBLINEAR's
/// default tolerance).
const TOLERANCE: f32 = 0.1;

/// Trains a linear SVM (hinge loss, L2 penalty, bias as a constant
/// feature) on `examples` with cost `c`, the two classes balanced.
///
/// Words and pairs are numbered in `vocab` (the background's), and those
/// it lacks after it; examples with `features` come numbered in it.
pub(super) fn train(
    examples: &[Example<'_>],
    vocab: Arc<Vocab>,
    c: f32,
    blocks: Blocks,
    seed: u64,
) -> Model {
    // The reader's own words and pairs, room for all of them at once
    // (growing the tables was an eighth of a model's training).
    let unnumbered = examples.iter().filter(|e| e.features.is_none());
    let (own_words, own_pairs) = unnumbered
        .filter_map(|e| e.terms)
        .fold((0, 0), |(w, p), t| {
            (w + t.weights.len(), p + t.bigrams.len())
        });
    let mut words: FxHashMap<&str, u32> =
        FxHashMap::with_capacity_and_hasher(own_words, Default::default());
    let mut pairs: FxHashMap<&str, u32> =
        FxHashMap::with_capacity_and_hasher(own_pairs, Default::default());
    let mut next = vocab.len();
    let fine_dim = examples
        .iter()
        .find_map(|e| e.vecs.fine.as_ref().map(Vec::len));
    let base_dim = examples
        .iter()
        .find_map(|e| e.vecs.base.as_ref().map(Vec::len));
    let pos = examples.iter().filter(|e| e.label > 0.0).count().max(1) as f32;
    let neg = examples.iter().filter(|e| e.label < 0.0).count().max(1) as f32;
    let n = examples.len() as f32;
    let mut rows = Vec::with_capacity(examples.len());
    for e in examples {
        let mut sparse = Vec::new();
        if let Some(f) = e.features {
            sparse.extend_from_slice(f);
        } else if let Some(t) = e.terms {
            sparse.reserve(t.weights.len() + t.bigrams.len());
            for (k, x) in &t.weights {
                let i = match vocab.words.get(k) {
                    Some(i) => *i,
                    None => *words.entry(k.as_str()).or_insert_with(|| {
                        next += 1;
                        next - 1
                    }),
                };
                sparse.push((i, x * blocks.words));
            }
            for (k, x) in &t.bigrams {
                let i = match vocab.pairs.get(k) {
                    Some(i) => *i,
                    None => *pairs.entry(k.as_str()).or_insert_with(|| {
                        next += 1;
                        next - 1
                    }),
                };
                sparse.push((i, x * blocks.pairs));
            }
        }
        let fine = e.vecs.fine.as_deref().filter(|v| Some(v.len()) == fine_dim);
        let base = e.vecs.base.as_deref().filter(|v| Some(v.len()) == base_dim);
        let norm2 = sparse.iter().map(|(_, x)| x * x).sum::<f32>()
            + fine.map_or(0.0, |v| dot_f32(v, v) * blocks.fine * blocks.fine)
            + base.map_or(0.0, |v| dot_f32(v, v) * blocks.base * blocks.base)
            + 1.0;
        let class = if e.label > 0.0 { pos } else { neg };
        rows.push(Row {
            sparse,
            fine,
            base,
            label: e.label.signum(),
            cost: c * e.weight * n / (2.0 * class),
            norm2,
        });
    }
    let sparse_len = next as usize;
    let mut w_sparse = vec![0f32; sparse_len];
    let mut w_fine = vec![0f32; fine_dim.unwrap_or(0)];
    let mut w_base = vec![0f32; base_dim.unwrap_or(0)];
    let mut bias = 0f32;
    let dot = |ws: &[f32], wf: &[f32], wb: &[f32], bias: f32, r: &Row<'_>| -> f32 {
        let mut s = bias + sparse_dot(ws, &r.sparse);
        if let Some(v) = r.fine {
            s += blocks.fine * dot_f32(wf, v);
        }
        if let Some(v) = r.base {
            s += blocks.base * dot_f32(wb, v);
        }
        s
    };
    let mut alpha = vec![0f32; rows.len()];
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut epochs = 0;
    for _ in 0..MAX_EPOCHS {
        epochs += 1;
        order.shuffle(&mut rng);
        let (mut hi, mut lo) = (f32::MIN, f32::MAX);
        for &i in &order {
            let r = &rows[i];
            let g = r.label * dot(&w_sparse, &w_fine, &w_base, bias, r) - 1.0;
            let pg = if alpha[i] <= 0.0 {
                g.min(0.0)
            } else if alpha[i] >= r.cost {
                g.max(0.0)
            } else {
                g
            };
            hi = hi.max(pg);
            lo = lo.min(pg);
            if pg.abs() <= 1e-12 {
                continue;
            }
            let old = alpha[i];
            alpha[i] = (old - g / r.norm2).clamp(0.0, r.cost);
            let d = (alpha[i] - old) * r.label;
            if d == 0.0 {
                continue;
            }
            for &(j, x) in &r.sparse {
                w_sparse[j as usize] += d * x;
            }
            if let Some(v) = r.fine {
                for (w, x) in w_fine.iter_mut().zip(v) {
                    *w += d * blocks.fine * x;
                }
            }
            if let Some(v) = r.base {
                for (w, x) in w_base.iter_mut().zip(v) {
                    *w += d * blocks.base * x;
                }
            }
            bias += d;
        }
        if hi - lo < TOLERANCE {
            break;
        }
    }
    tracing::debug!(
        epochs,
        rows = rows.len(),
        features = sparse_len,
        "the reader's model trained"
    );
    let own = |map: FxHashMap<&str, u32>| -> FxHashMap<String, u32> {
        map.into_iter().map(|(k, i)| (k.to_string(), i)).collect()
    };
    Model {
        own: Vocab {
            words: own(words),
            pairs: own(pairs),
        },
        vocab,
        weights: w_sparse,
        fine: fine_dim.map(|_| w_fine),
        base: base_dim.map(|_| w_base),
        bias,
        blocks,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use paperboy_core::ArxivId;

    fn doc(i: usize, words: &[(&str, f32)]) -> DocTerms {
        let n = words.iter().map(|(_, x)| x * x).sum::<f32>().sqrt();
        DocTerms {
            id: ArxivId::parse(&format!("2401.{:05}", i + 1)).unwrap(),
            weights: words.iter().map(|(t, x)| (t.to_string(), x / n)).collect(),
            bigrams: Default::default(),
            surface: Default::default(),
            words: 100,
        }
    }

    #[test]
    fn it_learns_the_words_that_tell_the_library_apart() {
        // The library is about soups; every paper, chosen or not, talks
        // about models.
        let mut docs = Vec::new();
        for i in 0..4 {
            docs.push(doc(
                i,
                &[
                    ("soup", 1.0),
                    ("model", 1.0),
                    (["weight", "average", "merge", "ensembl"][i], 0.5),
                ],
            ));
        }
        for i in 4..40 {
            let other = ["vision", "speech", "graph", "protein", "weather"][i % 5];
            docs.push(doc(i, &[("model", 1.0), (other, 1.0)]));
        }
        let empty = PaperVectors::default();
        let examples: Vec<Example<'_>> = docs
            .iter()
            .enumerate()
            .map(|(i, d)| Example {
                terms: Some(d),
                features: None,
                vecs: &empty,
                label: if i < 4 { 1.0 } else { -1.0 },
                weight: 1.0,
            })
            .collect();
        let m = train(&examples, Arc::default(), 1.0, Blocks::default(), 7);
        let soup = doc(100, &[("soup", 1.0), ("model", 1.0)]);
        let graph = doc(101, &[("graph", 1.0), ("model", 1.0)]);
        assert!(m.score(Some(&soup), &empty) > 0.0);
        assert!(m.score(Some(&graph), &empty) < 0.0);
        assert_eq!(m.strongest_words(1)[0].0, "soup");
        // The same data, the same model.
        let again = train(&examples, Arc::default(), 1.0, Blocks::default(), 7);
        assert_eq!(
            again.score(Some(&soup), &empty),
            m.score(Some(&soup), &empty)
        );
    }

    #[test]
    fn it_learns_a_direction_in_vector_space() {
        let v = |x: f32, y: f32| {
            let n = (x * x + y * y).sqrt();
            PaperVectors {
                base: None,
                fine: Some(vec![x / n, y / n]),
            }
        };
        let vecs: Vec<PaperVectors> = (0..30)
            .map(|i| {
                if i < 5 {
                    v(1.0, 0.1 * i as f32)
                } else {
                    v(0.2 * (i % 3) as f32, 1.0)
                }
            })
            .collect();
        let examples: Vec<Example<'_>> = vecs
            .iter()
            .enumerate()
            .map(|(i, x)| Example {
                terms: None,
                features: None,
                vecs: x,
                label: if i < 5 { 1.0 } else { -1.0 },
                weight: 1.0,
            })
            .collect();
        let m = train(&examples, Arc::default(), 1.0, Blocks::default(), 1);
        assert!(m.score(None, &v(1.0, 0.2)) > m.score(None, &v(0.3, 1.0)));
        let d = m.direction(true).unwrap();
        assert!(d[0] > d[1], "{d:?}");
    }
}

//! Self-attention over unpadded sequences: each sequence copied once in
//! the order the loops read it, then 6×16 register blocks for the scores
//! and for the weights times the values.

use rayon::prelude::*;

use super::pointwise::exp_fast;
use super::{lanes, Simd};

/// Self-attention of each sequence with itself. `qkv` holds, per token
/// row, the query, key and value (`3 × hidden`); `spans` are the
/// sequences' `(first row, length)`, in order and back to back; the
/// context vectors go to `out` (`hidden` per row). No padding: a sequence
/// attends to its own tokens only.
pub(crate) fn attention(
    qkv: &[f32],
    spans: &[(usize, usize)],
    heads: usize,
    hidden: usize,
    out: &mut [f32],
) {
    let head_dim = hidden / heads;
    let mut parts: Vec<(&mut [f32], (usize, usize))> = Vec::with_capacity(spans.len());
    let mut rest = out;
    for &(start, len) in spans {
        let (part, tail) = rest.split_at_mut(len * hidden);
        parts.push((part, (start, len)));
        rest = tail;
    }
    let simd = Simd::detect();
    parts
        .into_par_iter()
        .for_each_init(Blocks::default, |blocks, (dst, (start, len))| {
            let rows = &qkv[start * 3 * hidden..(start + len) * 3 * hidden];
            blocks.sequence(simd, rows, len, heads, head_dim, dst);
        });
}

/// Keys per block of scores (two AVX2 registers).
const KEYS: usize = 16;
/// Query rows computed together, sharing each load of keys and values:
/// 6 rows × 2 registers of sums, twelve independent chains, enough to
/// keep both FMA units busy through their latency, with room for the
/// loads in sixteen registers.
const QUERIES: usize = 6;
/// Value columns per block: as many as keys, the same kernel.
const COLS: usize = KEYS;

/// One sequence's queries, keys and values, head by head, in the order the
/// loops read them, and one query block's scores; reused between
/// sequences. Copied in one pass over the sequence's rows: read head by
/// head where they lie, 4.6 KB apart, they came from memory a line at a
/// time.
#[derive(Default)]
struct Blocks {
    len: usize,
    heads: usize,
    head_dim: usize,
    /// `[head][query block][dimension][QUERIES]`, scaled by 1/√head_dim,
    /// zero-padded.
    queries: Vec<[f32; QUERIES]>,
    /// `[head][key block][dimension][KEYS]`, zero-padded.
    keys: Vec<[f32; KEYS]>,
    /// `[head][key][column]`, each row zero-padded to whole `COLS`.
    values: Vec<f32>,
    /// `[QUERIES][keys]`: one query block's scores, then weights.
    scores: Vec<f32>,
    /// The weights again, `[key][QUERIES]`, as the value loop reads them.
    weights: Vec<[f32; QUERIES]>,
}

impl Blocks {
    fn query_blocks(&self) -> usize {
        self.len.div_ceil(QUERIES)
    }

    fn key_blocks(&self) -> usize {
        self.len.div_ceil(KEYS)
    }

    fn width(&self) -> usize {
        self.head_dim.next_multiple_of(COLS)
    }

    /// Copies a sequence's `qkv` rows in.
    #[inline(always)]
    fn load(&mut self, rows: &[f32], len: usize, heads: usize, hd: usize) {
        (self.len, self.heads, self.head_dim) = (len, heads, hd);
        let (qb, kb, width) = (self.query_blocks(), self.key_blocks(), self.width());
        let hidden = heads * hd;
        let scale = 1.0 / (hd as f32).sqrt();
        self.queries.clear();
        self.queries.resize(heads * qb * hd, [0.0; QUERIES]);
        self.keys.clear();
        self.keys.resize(heads * kb * hd, [0.0; KEYS]);
        self.values.clear();
        self.values.resize(heads * len * width, 0.0);
        for (j, row) in rows.chunks_exact(3 * hidden).enumerate() {
            let (q, kv) = row.split_at(hidden);
            let (k, v) = kv.split_at(hidden);
            for h in 0..heads {
                let part = h * hd..(h + 1) * hd;
                let at = (h * qb + j / QUERIES) * hd;
                for (d, x) in self.queries[at..at + hd].iter_mut().zip(&q[part.clone()]) {
                    d[j % QUERIES] = x * scale;
                }
                let at = (h * kb + j / KEYS) * hd;
                for (d, x) in self.keys[at..at + hd].iter_mut().zip(&k[part.clone()]) {
                    d[j % KEYS] = *x;
                }
                let at = (h * len + j) * width;
                for (d, x) in self.values[at..at + hd].iter_mut().zip(&v[part]) {
                    *d = *x;
                }
            }
        }
    }

    /// Attention of one sequence (its `qkv` rows) with the kernels of the
    /// instruction set at hand.
    fn sequence(
        &mut self,
        simd: Simd,
        rows: &[f32],
        len: usize,
        heads: usize,
        hd: usize,
        out: &mut [f32],
    ) {
        match simd {
            #[cfg(target_arch = "x86_64")]
            Simd::V3(v3) => v3.vectorize(AttendOp {
                blocks: self,
                rows,
                shape: (len, heads, hd),
                out,
                v3,
            }),
            Simd::Scalar => {
                self.load(rows, len, heads, hd);
                for h in 0..heads {
                    self.attend::<false, _>(h, out, AttendScalar);
                }
            }
        }
    }

    /// Writes head `h`'s columns of the sequence's context rows in `out`.
    #[inline(always)]
    fn attend<const FMA: bool, K: AttendKernels>(&mut self, h: usize, out: &mut [f32], kernels: K) {
        let (len, hd, width) = (self.len, self.head_dim, self.width());
        let (qb, kb) = (self.query_blocks(), self.key_blocks());
        let hidden = self.heads * hd;
        let keys = kb * KEYS;
        let queries = &self.queries[h * qb * hd..(h + 1) * qb * hd];
        let key_blocks = &self.keys[h * kb * hd..(h + 1) * kb * hd];
        let values = &self.values[h * len * width..(h + 1) * len * width];
        self.scores.clear();
        self.scores.resize(QUERIES * keys, 0.0);
        self.weights.resize(len, [0.0; QUERIES]);
        for (ib, qs) in queries.chunks_exact(hd).enumerate() {
            let i0 = ib * QUERIES;
            for (jb, ks) in key_blocks.chunks_exact(hd).enumerate() {
                let acc = kernels.outer(qs, ks.iter().copied());
                for (r, acc) in acc.iter().enumerate() {
                    let at = r * keys + jb * KEYS;
                    // As arrays, so that the copy is two stores, not a call.
                    if let Ok(dst) = <&mut [f32; KEYS]>::try_from(&mut self.scores[at..at + KEYS]) {
                        *dst = *acc;
                    }
                }
            }
            for (r, row) in self.scores.chunks_exact_mut(keys).enumerate() {
                softmax::<FMA>(&mut row[..len]);
                for (w, p) in self.weights.iter_mut().zip(&row[..len]) {
                    w[r] = *p;
                }
            }
            for c in (0..hd).step_by(COLS) {
                let acc = kernels.outer(
                    &self.weights[..len],
                    values.chunks_exact(width).map(
                        #[inline(always)]
                        |row| row[c..c + COLS].try_into().unwrap_or([0.0; COLS]),
                    ),
                );
                let n = COLS.min(hd - c);
                for (r, acc) in acc.iter().enumerate().take(len - i0) {
                    let at = (i0 + r) * hidden + h * hd + c;
                    match <&mut [f32; COLS]>::try_from(&mut out[at..at + n]) {
                        Ok(dst) => *dst = *acc,
                        Err(_) => out[at..at + n].copy_from_slice(&acc[..n]),
                    }
                }
            }
        }
    }
}

/// The one product attention needs, per instruction set: a sum of outer
/// products of `QUERIES` numbers with sixteen. Scores are queries (turned,
/// `[dimension][QUERIES]`) with keys (`[dimension][KEYS]`); context
/// columns are weights (`[key][QUERIES]`) with sixteen columns of values.
trait AttendKernels: Copy {
    fn outer(
        self,
        left: &[[f32; QUERIES]],
        right: impl Iterator<Item = [f32; KEYS]>,
    ) -> [[f32; KEYS]; QUERIES];
}

#[derive(Clone, Copy)]
struct AttendScalar;

impl AttendKernels for AttendScalar {
    fn outer(
        self,
        left: &[[f32; QUERIES]],
        right: impl Iterator<Item = [f32; KEYS]>,
    ) -> [[f32; KEYS]; QUERIES] {
        let mut acc = [[0f32; KEYS]; QUERIES];
        for (l, r) in left.iter().zip(right) {
            for (acc, l) in acc.iter_mut().zip(l) {
                for t in 0..KEYS {
                    acc[t] += l * r[t];
                }
            }
        }
        acc
    }
}

/// The AVX2 kernels, as an operation for `pulp` to run with the features
/// enabled (passed as a closure, `attend` was not inlined into pulp's
/// entry point and its intrinsics became calls).
#[cfg(target_arch = "x86_64")]
#[derive(Clone, Copy)]
struct AttendV3(pulp::x86::V3);

#[cfg(target_arch = "x86_64")]
struct AttendOp<'b, 'o> {
    blocks: &'b mut Blocks,
    rows: &'o [f32],
    /// Length, heads, head size.
    shape: (usize, usize, usize),
    out: &'o mut [f32],
    v3: pulp::x86::V3,
}

#[cfg(target_arch = "x86_64")]
impl pulp::NullaryFnOnce for AttendOp<'_, '_> {
    type Output = ();

    #[inline(always)]
    fn call(self) {
        let (len, heads, hd) = self.shape;
        self.blocks.load(self.rows, len, heads, hd);
        for h in 0..heads {
            self.blocks
                .attend::<true, _>(h, self.out, AttendV3(self.v3))
        }
    }
}

#[cfg(target_arch = "x86_64")]
impl AttendKernels for AttendV3 {
    #[inline(always)]
    fn outer(
        self,
        left: &[[f32; QUERIES]],
        right: impl Iterator<Item = [f32; KEYS]>,
    ) -> [[f32; KEYS]; QUERIES] {
        use std::arch::x86_64::__m256;
        let (avx, fma) = (self.0.avx, self.0.fma);
        let z = avx._mm256_setzero_ps();
        let mut acc = [[z; 2]; QUERIES];
        for (l, r) in left.iter().zip(right) {
            let rv: [__m256; 2] = pulp::cast(r);
            for (ar, l) in acc.iter_mut().zip(l) {
                let x = avx._mm256_set1_ps(*l);
                for (aj, rj) in ar.iter_mut().zip(rv) {
                    *aj = fma._mm256_fmadd_ps(x, rj, *aj);
                }
            }
        }
        pulp::cast(acc)
    }
}

/// In place, over the whole slice.
#[inline(always)]
fn softmax<const FMA: bool>(s: &mut [f32]) {
    // A plain comparison: `f32::max`'s NaN rule costs two more
    // instructions per lane, and the scores are finite.
    let max = lanes(s, f32::NEG_INFINITY, |a, b| if a > b { a } else { b });
    for x in s.iter_mut() {
        *x = exp_fast::<FMA>(*x - max);
    }
    let inv = 1.0 / lanes(s, 0.0, |a, b| a + b);
    for x in s.iter_mut() {
        *x *= inv;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::rng;

    /// Attention written out plainly, in f64.
    fn plain_attention(
        qkv: &[f32],
        spans: &[(usize, usize)],
        heads: usize,
        hidden: usize,
    ) -> Vec<f32> {
        let hd = hidden / heads;
        let mut out = vec![0f32; qkv.len() / 3];
        let at = |i: usize, which: usize, h: usize, d: usize| {
            qkv[i * 3 * hidden + which * hidden + h * hd + d] as f64
        };
        for &(start, len) in spans {
            for h in 0..heads {
                for i in start..start + len {
                    let scores: Vec<f64> = (start..start + len)
                        .map(|j| {
                            (0..hd)
                                .map(|d| at(i, 0, h, d) * at(j, 1, h, d))
                                .sum::<f64>()
                                / (hd as f64).sqrt()
                        })
                        .collect();
                    let max = scores.iter().cloned().fold(f64::MIN, f64::max);
                    let total: f64 = scores.iter().map(|s| (s - max).exp()).sum();
                    for d in 0..hd {
                        let v: f64 = scores
                            .iter()
                            .enumerate()
                            .map(|(j, s)| (s - max).exp() / total * at(start + j, 2, h, d))
                            .sum();
                        out[i * hidden + h * hd + d] = v as f32;
                    }
                }
            }
        }
        out
    }

    #[test]
    fn attention_matches_a_plain_one_on_both_paths() {
        // Lengths that fill no block exactly, heads of 24 columns (not a
        // whole block of sixteen) and of 64.
        let mut seed = 9u64;
        for (heads, hidden) in [(2, 48), (3, 192)] {
            let spans = [(0, 7), (7, 37), (44, 1)];
            let rows = 45;
            let qkv: Vec<f32> = (0..rows * 3 * hidden)
                .map(|_| rng(&mut seed) * 2.0)
                .collect();
            let want = plain_attention(&qkv, &spans, heads, hidden);
            let mut fast = vec![0f32; rows * hidden];
            attention(&qkv, &spans, heads, hidden, &mut fast);
            let mut scalar = vec![0f32; rows * hidden];
            let mut blocks = Blocks::default();
            for &(start, len) in &spans {
                let dst = &mut scalar[start * hidden..(start + len) * hidden];
                blocks.load(
                    &qkv[start * 3 * hidden..(start + len) * 3 * hidden],
                    len,
                    heads,
                    hidden / heads,
                );
                for h in 0..heads {
                    blocks.attend::<false, _>(h, dst, AttendScalar);
                }
            }
            for ((f, s), w) in fast.iter().zip(&scalar).zip(&want) {
                assert!(
                    (f - w).abs() < 1e-4 && (s - w).abs() < 1e-4,
                    "{f} {s} vs {w}"
                );
            }
        }
    }

    #[test]
    fn attention_stays_inside_each_sequence() {
        // Two sequences, one head of eight dimensions (two used): a
        // sequence of one token attends only to itself whatever its
        // neighbour holds.
        let hidden = 8;
        let row = |q: [f32; 2], k: [f32; 2], v: [f32; 2]| {
            let mut r = vec![0f32; 3 * hidden];
            r[..2].copy_from_slice(&q);
            r[hidden..hidden + 2].copy_from_slice(&k);
            r[2 * hidden..2 * hidden + 2].copy_from_slice(&v);
            r
        };
        let qkv = [
            row([1.0, 0.0], [1.0, 0.0], [5.0, 6.0]),
            row([1.0, 0.0], [9.0, 0.0], [1.0, 1.0]),
            row([0.0, 1.0], [0.0, 9.0], [-1.0, 2.0]),
        ]
        .concat();
        let mut out = vec![0f32; 3 * hidden];
        attention(&qkv, &[(0, 1), (1, 2)], 1, hidden, &mut out);
        assert_eq!(&out[0..2], &[5.0, 6.0]);
        // Token 1 scores itself 9/√8 and token 2 zero.
        let p = 1.0 / (1.0 + (-9.0f32 / 8f32.sqrt()).exp());
        let want = [p - (1.0 - p), p + (1.0 - p) * 2.0];
        let got = &out[hidden..hidden + 2];
        assert!(
            (got[0] - want[0]).abs() < 1e-5 && (got[1] - want[1]).abs() < 1e-5,
            "{got:?}"
        );
        // And token 2 mostly itself.
        let p2 = 1.0 / (1.0 + (-9.0f32 / 8f32.sqrt()).exp());
        let want2 = [(1.0 - p2) - p2, (1.0 - p2) + 2.0 * p2];
        let got2 = &out[2 * hidden..2 * hidden + 2];
        assert!((got2[0] - want2[0]).abs() < 1e-5 && (got2[1] - want2[1]).abs() < 1e-5);
    }
}

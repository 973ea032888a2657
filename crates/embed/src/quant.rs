//! The numeric kernels of the quantised transformer: an integer matrix
//! product, attention over unpadded sequences, layer norm and GELU.
//!
//! Written here rather than taken from a crate: the Rust integer GEMMs we
//! could find either need an ONNX graph and their own runtime (tract,
//! onnxruntime) or only multiply floats (gemm, matrixmultiply), and the
//! product we need is small and fixed.
//!
//! Activations are rounded per row to ±2047 (12 bits), weights per output
//! column to as many levels as 32-bit sums then allow, at most ±2047: ±2047
//! for a 384-wide input, ±683 for a 1536-wide one. Both are held as i16,
//! and AVX2's `vpmaddwd` multiplies sixteen i16 pairs per instruction into
//! 32-bit sums, twice the multiply-adds of an f32 FMA; without VNNI, int8
//! (`vpmaddubsw`) would be no faster, saturates, and, measured on the
//! reference texts, costs accuracy: strict int8 weights gave cosine 0.9965
//! to sentence-transformers on the empty text and 0.9993 on abstracts,
//! these give ≥ 0.9999. The instructions come from `pulp`, which checks
//! the CPU once and keeps the code free of `unsafe`; the scalar path
//! computes the same integers, so both give identical vectors.

use rayon::prelude::*;

/// Columns per micro-tile: two AVX2 registers of eight 32-bit sums.
const NR: usize = 16;
/// Rows per micro-tile: 6 × 2 sums, 2 weight lanes, the broadcast row
/// value and a product fill the sixteen AVX2 registers without spilling.
const MR: usize = 6;
/// Rows per parallel task (whole tiles).
const ROWS_PER_TASK: usize = 60;
/// The activation range: rows are rounded to integers in ±2047.
const ACT_RANGE: f32 = 2047.0;
/// The widest weight range used (the activations' own).
const MAX_WEIGHT_RANGE: f64 = 2047.0;

/// Eight packed weight pairs (two i16 each): one AVX2 register.
type Lane = [i16; 16];

/// A linear layer `y = x·W + b` with integer weights.
pub(crate) struct QLinear {
    k: usize,
    /// Input pairs (`k` rounded up to even, halved).
    pairs: usize,
    n: usize,
    /// `[column block][k pair][2 lanes]`: a lane holds the two weights of
    /// a k pair for eight columns side by side, as `vpmaddwd` wants them.
    packed: Vec<Lane>,
    /// Per output column, what one unit of its integer weights is worth.
    scales: Vec<f32>,
    bias: Vec<f32>,
}

/// What happens to a product before it is stored.
#[derive(Clone, Copy)]
pub(crate) enum Post<'a> {
    None,
    Gelu,
    /// Adds the same-shaped residual input.
    Add(&'a [f32]),
}

impl QLinear {
    /// `w` is `[k][n]` row-major (input-major, as the forward pass uses it).
    pub(crate) fn new(w: &[f32], k: usize, n: usize, bias: Vec<f32>) -> Self {
        assert_eq!(w.len(), k * n);
        assert_eq!(bias.len(), n);
        let pairs = k.div_ceil(2);
        let n_pad = n.next_multiple_of(NR);
        // |Σ a·w| ≤ 2·pairs · ACT_RANGE · levels must stay inside i32.
        let levels = ((i32::MAX as f64) / (2.0 * pairs as f64 * ACT_RANGE as f64))
            .floor()
            .min(MAX_WEIGHT_RANGE) as f32;
        assert!(
            levels >= 127.0,
            "an input of {k} is too wide for 32-bit sums"
        );
        // The clip search reads every weight 21 times: on both cores.
        let scales: Vec<f32> = (0..n_pad)
            .into_par_iter()
            .map(|col| {
                if col < n {
                    let column: Vec<f32> = (0..k).map(|r| w[r * n + col]).collect();
                    column_scale(&column, levels)
                } else {
                    1.0
                }
            })
            .collect();
        let lanes_per_pair = NR / 8;
        let mut packed = vec![[0i16; 16]; n_pad / NR * pairs * lanes_per_pair];
        for block in 0..n_pad / NR {
            for p in 0..pairs {
                for j in 0..NR {
                    let col = block * NR + j;
                    if col >= n {
                        continue;
                    }
                    let lane = &mut packed[(block * pairs + p) * lanes_per_pair + j / 8];
                    for h in 0..2 {
                        let row = 2 * p + h;
                        if row < k {
                            let q = (w[row * n + col] / scales[col]).round();
                            lane[(j % 8) * 2 + h] = q.clamp(-levels, levels) as i16;
                        }
                    }
                }
            }
        }
        // As fine as i32 sums allow: 15 bits for a 384-wide input, 13 for
        // a 1536-wide one (BERT's activations have outlier dimensions, so a
        // row's range is wide and its step must be small).
        QLinear {
            k,
            pairs,
            n,
            packed,
            scales,
            bias,
        }
    }

    pub(crate) fn out_dim(&self) -> usize {
        self.n
    }

    /// `out[m][n] = post(x[m][k]·W + b)`.
    pub(crate) fn forward(&self, x: &[f32], m: usize, out: &mut [f32], post: Post<'_>) {
        assert_eq!(x.len(), m * self.k);
        assert_eq!(out.len(), m * self.n);
        if let Post::Add(r) = post {
            assert_eq!(r.len(), m * self.n);
        }
        // Rows as pairs of integers, padded to whole tiles.
        let m_pad = m.next_multiple_of(MR);
        let mut q = vec![[0i16; 2]; m_pad * self.pairs];
        let mut row_scales = vec![0f32; m_pad];
        let simd = Simd::detect();
        q.par_chunks_mut(self.pairs)
            .zip(row_scales.par_iter_mut())
            .zip(x.par_chunks(self.k))
            .for_each(|((qr, s), xr)| {
                *s = simd.run(
                    #[inline(always)]
                    |_| quantize_row(xr, qr, ACT_RANGE),
                )
            });
        let q = Quantised {
            rows: &q,
            scales: &row_scales,
        };
        let blocks = self.n.div_ceil(NR);
        if m >= 4 * ROWS_PER_TASK {
            out.par_chunks_mut(ROWS_PER_TASK * self.n)
                .enumerate()
                .for_each(|(t, dst)| {
                    let rows = t * ROWS_PER_TASK..(t * ROWS_PER_TASK + dst.len() / self.n);
                    self.product(&q, rows, 0..blocks, dst, post);
                });
            return;
        }
        // Short inputs (a query) split the columns instead, so that both
        // cores work; each group fills its own strip, copied in after.
        let groups = blocks.min(8);
        let strips: Vec<(usize, Vec<f32>)> = (0..groups)
            .into_par_iter()
            .map(|g| {
                let cols = g * blocks / groups..(g + 1) * blocks / groups;
                let c0 = cols.start * NR;
                let width = (cols.end * NR).min(self.n) - c0;
                let mut strip = vec![0f32; m * width];
                self.product(&q, 0..m, cols, &mut strip, post);
                (c0, strip)
            })
            .collect();
        for (c0, strip) in strips {
            let width = strip.len() / m.max(1);
            for (row, src) in strip.chunks(width.max(1)).enumerate() {
                out[row * self.n + c0..row * self.n + c0 + width].copy_from_slice(src);
            }
        }
    }

    /// Rows `rows` × column blocks `blocks` of the product into `dst`, a
    /// row-major strip exactly as wide as those columns.
    fn product(
        &self,
        q: &Quantised<'_>,
        rows: std::ops::Range<usize>,
        blocks: std::ops::Range<usize>,
        dst: &mut [f32],
        post: Post<'_>,
    ) {
        let pairs = self.pairs;
        match Simd::detect() {
            #[cfg(target_arch = "x86_64")]
            Simd::V3(v3) => v3.vectorize(
                #[inline(always)]
                || {
                    self.product_with::<true>(q, rows, blocks, dst, post, |a, b| {
                        tile_v3(v3, a, pairs, b)
                    })
                },
            ),
            Simd::Scalar => self
                .product_with::<false>(q, rows, blocks, dst, post, |a, b| tile_scalar(a, pairs, b)),
        }
    }

    /// `product` with the tile kernel and the epilogue inlined (one
    /// feature dispatch per strip, not per tile).
    #[inline(always)]
    fn product_with<const FMA: bool>(
        &self,
        q: &Quantised<'_>,
        rows: std::ops::Range<usize>,
        blocks: std::ops::Range<usize>,
        dst: &mut [f32],
        post: Post<'_>,
        tile: impl Fn(&[[i16; 2]], &[Lane]) -> [[i32; NR]; MR],
    ) {
        let c_start = blocks.start * NR;
        let width = (blocks.end * NR).min(self.n) - c_start;
        let lanes = self.pairs * NR / 8;
        for block in blocks {
            let b = &self.packed[block * lanes..(block + 1) * lanes];
            let c0 = block * NR;
            let cols = (self.n - c0).min(NR);
            for r0 in rows.clone().step_by(MR) {
                let acc = tile(&q.rows[r0 * self.pairs..(r0 + MR) * self.pairs], b);
                for (i, acc_row) in acc.iter().enumerate().take((rows.end - r0).min(MR)) {
                    let row = r0 + i;
                    let at = (row - rows.start) * width + (c0 - c_start);
                    let residual = match post {
                        Post::Add(r) => Some(&r[row * self.n + c0..row * self.n + c0 + cols]),
                        _ => None,
                    };
                    finish::<FMA>(Finish {
                        acc: &acc_row[..cols],
                        row_scale: q.scales[row],
                        col_scales: &self.scales[c0..c0 + cols],
                        bias: &self.bias[c0..c0 + cols],
                        gelu: matches!(post, Post::Gelu),
                        residual,
                        dst: &mut dst[at..at + cols],
                    });
                }
            }
        }
    }
}

struct Quantised<'a> {
    rows: &'a [[i16; 2]],
    scales: &'a [f32],
}

/// The step for one column's weights rounded to `±levels`: of the steps
/// that clip its largest weights to 100 %, 98 %, … 60 % of their size, the
/// one with the least squared rounding error (a few outlier weights would
/// otherwise make the step coarse for all the others).
fn column_scale(w: &[f32], levels: f32) -> f32 {
    let amax = w.iter().fold(0.0f32, |m, v| m.max(v.abs()));
    if amax == 0.0 {
        return 1.0;
    }
    let error = |step: f32| -> f64 {
        w.iter()
            .map(|v| {
                let q = (v / step).round().clamp(-levels, levels);
                ((v - q * step) as f64).powi(2)
            })
            .sum()
    };
    (0..=20)
        .map(|i| amax * (1.0 - 0.02 * i as f32) / levels)
        .map(|step| (error(step), step))
        .min_by(|a, b| a.0.total_cmp(&b.0))
        .map_or(amax / levels, |(_, step)| step)
}

/// Rounds a row to integers in `±range`; returns what one unit is worth.
#[inline(always)]
fn quantize_row(x: &[f32], q: &mut [[i16; 2]], range: f32) -> f32 {
    let amax = lanes(x, 0.0, |m, v| m.max(v.abs()));
    if amax == 0.0 || !amax.is_finite() {
        q.iter_mut().for_each(|v| *v = [0, 0]);
        return 0.0;
    }
    let inv = range / amax;
    let pairs = x.chunks_exact(2);
    if let Some(last) = pairs.remainder().first() {
        q[x.len() / 2] = [(last * inv).round_ties_even() as i16, 0];
    }
    for (d, v) in q.iter_mut().zip(pairs) {
        *d = [
            (v[0] * inv).round_ties_even() as i16,
            (v[1] * inv).round_ties_even() as i16,
        ];
    }
    amax / range
}

/// One tile row's epilogue: back to floats, bias, then `post`.
struct Finish<'a> {
    acc: &'a [i32],
    row_scale: f32,
    col_scales: &'a [f32],
    bias: &'a [f32],
    gelu: bool,
    residual: Option<&'a [f32]>,
    dst: &'a mut [f32],
}

/// The instruction set in use: AVX2 with FMA when the CPU has them.
#[derive(Clone, Copy)]
enum Simd {
    #[cfg(target_arch = "x86_64")]
    V3(pulp::x86::V3),
    Scalar,
}

impl Simd {
    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        if let Some(v3) = pulp::x86::V3::try_new() {
            return Simd::V3(v3);
        }
        Simd::Scalar
    }

    /// One tile (the product loop inlines the kernels itself).
    #[cfg(test)]
    fn tile(self, a: &[[i16; 2]], pairs: usize, b: &[Lane]) -> [[i32; NR]; MR] {
        match self {
            #[cfg(target_arch = "x86_64")]
            Simd::V3(v3) => v3.vectorize(
                #[inline(always)]
                || tile_v3(v3, a, pairs, b),
            ),
            Simd::Scalar => tile_scalar(a, pairs, b),
        }
    }

    /// Runs `f` with the instruction set's features enabled, so that its
    /// loops vectorise (`FMA` says whether `mul_add` is one instruction).
    /// `f` must be `#[inline(always)]` for the features to reach its body.
    #[inline(always)]
    fn run<R>(self, f: impl FnOnce(bool) -> R) -> R {
        match self {
            #[cfg(target_arch = "x86_64")]
            Simd::V3(v3) => v3.vectorize(
                #[inline(always)]
                || f(true),
            ),
            Simd::Scalar => f(false),
        }
    }
}

fn tile_scalar(a: &[[i16; 2]], pairs: usize, b: &[Lane]) -> [[i32; NR]; MR] {
    let mut acc = [[0i32; NR]; MR];
    for (p, lanes) in b.chunks_exact(NR / 8).enumerate() {
        for (r, acc_row) in acc.iter_mut().enumerate() {
            let [a0, a1] = a[r * pairs + p];
            for (j, s) in acc_row.iter_mut().enumerate() {
                let lane = &lanes[j / 8];
                *s +=
                    a0 as i32 * lane[(j % 8) * 2] as i32 + a1 as i32 * lane[(j % 8) * 2 + 1] as i32;
            }
        }
    }
    acc
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn tile_v3(v3: pulp::x86::V3, a: &[[i16; 2]], pairs: usize, b: &[Lane]) -> [[i32; NR]; MR] {
    use std::arch::x86_64::__m256i;
    let (avx, avx2) = (v3.avx, v3.avx2);
    let z = avx._mm256_setzero_si256();
    let mut c = [[z; 2]; MR];
    let rows = [
        &a[..pairs],
        &a[pairs..2 * pairs],
        &a[2 * pairs..3 * pairs],
        &a[3 * pairs..4 * pairs],
        &a[4 * pairs..5 * pairs],
        &a[5 * pairs..6 * pairs],
    ];
    for (p, lanes) in b.chunks_exact(2).enumerate() {
        let bv: [__m256i; 2] = [pulp::cast(lanes[0]), pulp::cast(lanes[1])];
        for (r, row) in rows.iter().enumerate() {
            let av = avx._mm256_set1_epi32(pulp::cast(row[p]));
            for (cj, bj) in c[r].iter_mut().zip(bv) {
                *cj = avx2._mm256_add_epi32(*cj, avx2._mm256_madd_epi16(av, bj));
            }
        }
    }
    c.map(pulp::cast::<[__m256i; 2], [i32; NR]>)
}

#[inline(always)]
fn finish<const FMA: bool>(f: Finish<'_>) {
    let Finish {
        acc,
        row_scale,
        col_scales,
        bias,
        gelu,
        residual,
        dst,
    } = f;
    for (((d, a), s), b) in dst.iter_mut().zip(acc).zip(col_scales).zip(bias) {
        *d = madd::<FMA>(*a as f32, row_scale * s, *b);
    }
    if gelu {
        for v in dst.iter_mut() {
            *v = gelu_one::<FMA>(*v);
        }
    }
    if let Some(r) = residual {
        for (v, r) in dst.iter_mut().zip(r) {
            *v += r;
        }
    }
}

#[inline(always)]
fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// `e^x` to about 1e-7 relative: `2^n · p(r)` with `r = x − n·ln 2`.
/// Branch-free and without float-to-int casts (whose NaN rules keep a loop
/// scalar), so that loops of it vectorise: adding 1.5·2²³ rounds to an
/// integer and leaves it in the low bits of the mantissa.
#[inline(always)]
fn exp_fast<const FMA: bool>(x: f32) -> f32 {
    const SHIFTER: f32 = 12_582_912.0;
    let x = x.clamp(-87.0, 88.0);
    let t = madd::<FMA>(x, std::f32::consts::LOG2_E, SHIFTER);
    let n = t - SHIFTER;
    let r = madd::<FMA>(n, -0.693_145_75, x);
    let r = madd::<FMA>(n, -1.428_606_8e-6, r);
    // Taylor terms to r⁶ (|r| ≤ ln2/2, so the error is under 1.2e-7).
    let mut p = 1.0 / 720.0;
    p = madd::<FMA>(p, r, 1.0 / 120.0);
    p = madd::<FMA>(p, r, 1.0 / 24.0);
    p = madd::<FMA>(p, r, 1.0 / 6.0);
    p = madd::<FMA>(p, r, 0.5);
    p = madd::<FMA>(p, r, 1.0);
    p = madd::<FMA>(p, r, 1.0);
    let two_n = f32::from_bits(
        (t.to_bits()
            .wrapping_sub(SHIFTER.to_bits())
            .wrapping_add(127))
            << 23,
    );
    p * two_n
}

/// GELU with the exact (erf) form BERT uses; erf by Abramowitz and Stegun
/// 7.1.26 (absolute error under 1.5e-7).
#[inline(always)]
fn gelu_one<const FMA: bool>(x: f32) -> f32 {
    let z = x * std::f32::consts::FRAC_1_SQRT_2;
    let a = z.abs();
    let t = 1.0 / madd::<FMA>(0.327_591_1, a, 1.0);
    let mut p = 1.061_405_4;
    p = madd::<FMA>(p, t, -1.453_152_1);
    p = madd::<FMA>(p, t, 1.421_413_8);
    p = madd::<FMA>(p, t, -0.284_496_74);
    p = madd::<FMA>(p, t, 0.254_829_6);
    let erf_abs = 1.0 - p * t * exp_fast::<FMA>(-a * a);
    let erf = erf_abs.copysign(z);
    0.5 * x * (1.0 + erf)
}

/// Layer norm over each row of `x` (rows of `w.len()`), in place.
pub(crate) fn layer_norm(x: &mut [f32], w: &[f32], b: &[f32], eps: f32) {
    let simd = Simd::detect();
    x.par_chunks_mut(w.len()).for_each(|row| {
        simd.run(
            #[inline(always)]
            |fma| {
                if fma {
                    norm_row::<true>(row, w, b, eps)
                } else {
                    norm_row::<false>(row, w, b, eps)
                }
            },
        )
    });
}

#[inline(always)]
fn norm_row<const FMA: bool>(row: &mut [f32], w: &[f32], b: &[f32], eps: f32) {
    let n = row.len() as f32;
    let mean = lanes(row, 0.0, |a, b| a + b) / n;
    let mut dev = [0f32; 8];
    let chunks = row.chunks_exact(8);
    let rest: f32 = chunks
        .remainder()
        .iter()
        .map(|v| (v - mean) * (v - mean))
        .sum();
    for c in chunks {
        for t in 0..8 {
            dev[t] = madd::<FMA>(c[t] - mean, c[t] - mean, dev[t]);
        }
    }
    let var = (dev.iter().sum::<f32>() + rest) / n;
    let inv = 1.0 / (var + eps).sqrt();
    for ((v, w), b) in row.iter_mut().zip(w).zip(b) {
        *v = madd::<FMA>((*v - mean) * inv, *w, *b);
    }
}

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
    let scale = 1.0 / (head_dim as f32).sqrt();
    let mut parts: Vec<(&mut [f32], (usize, usize))> = Vec::with_capacity(spans.len());
    let mut rest = out;
    for &(start, len) in spans {
        let (part, tail) = rest.split_at_mut(len * hidden);
        parts.push((part, (start, len)));
        rest = tail;
    }
    let simd = Simd::detect();
    parts.into_par_iter().for_each(|(dst, (start, len))| {
        let rows = &qkv[start * 3 * hidden..(start + len) * 3 * hidden];
        for h in 0..heads {
            let head = Head {
                rows,
                len,
                offset: h * head_dim,
                head_dim,
                hidden,
                scale,
            };
            simd.run(
                #[inline(always)]
                |fma| {
                    if fma {
                        head.attend::<true>(dst)
                    } else {
                        head.attend::<false>(dst)
                    }
                },
            );
        }
    });
}

/// One head of one sequence.
struct Head<'a> {
    /// The sequence's `qkv` rows.
    rows: &'a [f32],
    len: usize,
    /// The head's first column within each of q, k and v.
    offset: usize,
    head_dim: usize,
    hidden: usize,
    scale: f32,
}

/// Keys per block of scores (two AVX2 registers).
const KEYS: usize = 16;
/// Query rows computed together, sharing each load of keys and values.
const QUERIES: usize = 4;

impl Head<'_> {
    fn part(&self, i: usize, which: usize) -> &[f32] {
        let o = i * 3 * self.hidden + which * self.hidden + self.offset;
        &self.rows[o..o + self.head_dim]
    }

    /// Writes the head's columns of the sequence's context rows in `out`.
    /// Blocked so that the sums stay in registers: four query rows against
    /// sixteen keys for the scores, four rows × eight columns for the
    /// values (the head size is a multiple of eight: 32 or 64 in BERTs).
    /// Keys, queries and values are first copied into the order the loops
    /// read them, so the inner loops walk arrays without index checks.
    #[inline(always)]
    fn attend<const FMA: bool>(&self, out: &mut [f32]) {
        let (len, hd) = (self.len, self.head_dim);
        let key_blocks = len.div_ceil(KEYS);
        let query_blocks = len.div_ceil(QUERIES);
        let chunks = hd / 8;
        // [key block][dimension][16 keys], zero-padded.
        let mut kb = vec![[0f32; KEYS]; key_blocks * hd];
        // [query block][dimension][4 queries], scaled, zero-padded.
        let mut qb = vec![[0f32; QUERIES]; query_blocks * hd];
        // [eight-dimension chunk][key][8 values].
        let mut vc = vec![[0f32; 8]; chunks * len];
        for j in 0..len {
            for (d, x) in self.part(j, 1).iter().enumerate() {
                kb[(j / KEYS) * hd + d][j % KEYS] = *x;
            }
            for (d, x) in self.part(j, 0).iter().enumerate() {
                qb[(j / QUERIES) * hd + d][j % QUERIES] = x * self.scale;
            }
            for (c, x) in self.part(j, 2).chunks_exact(8).enumerate() {
                vc[c * len + j].copy_from_slice(x);
            }
        }
        let keys = key_blocks * KEYS;
        let mut p = vec![0f32; QUERIES * keys];
        for (ib, qs) in qb.chunks_exact(hd).enumerate() {
            for (jb, ks) in kb.chunks_exact(hd).enumerate() {
                let mut acc = [[0f32; KEYS]; QUERIES];
                for (k, q) in ks.iter().zip(qs) {
                    for (acc, x) in acc.iter_mut().zip(q) {
                        for t in 0..KEYS {
                            acc[t] = madd::<FMA>(*x, k[t], acc[t]);
                        }
                    }
                }
                for (r, acc) in acc.iter().enumerate() {
                    p[r * keys + jb * KEYS..r * keys + (jb + 1) * KEYS].copy_from_slice(acc);
                }
            }
            let (p0, rest) = p.split_at_mut(keys);
            let (p1, rest) = rest.split_at_mut(keys);
            let (p2, p3) = rest.split_at_mut(keys);
            let rows = [
                &mut p0[..len],
                &mut p1[..len],
                &mut p2[..len],
                &mut p3[..len],
            ];
            for row in rows {
                softmax::<FMA>(row);
            }
            let (p0, p1, p2, p3) = (&p0[..len], &p1[..len], &p2[..len], &p3[..len]);
            for (c, vs) in vc.chunks_exact(len).enumerate() {
                let mut acc = [[0f32; 8]; QUERIES];
                for ((((v, a), b), e), f) in vs.iter().zip(p0).zip(p1).zip(p2).zip(p3) {
                    for (acc, w) in acc.iter_mut().zip([a, b, e, f]) {
                        for t in 0..8 {
                            acc[t] = madd::<FMA>(*w, v[t], acc[t]);
                        }
                    }
                }
                let i0 = ib * QUERIES;
                for (r, acc) in acc.iter().enumerate().take(len - i0) {
                    let at = (i0 + r) * self.hidden + self.offset + c * 8;
                    out[at..at + 8].copy_from_slice(acc);
                }
            }
        }
    }
}

/// In place, over the whole slice.
#[inline(always)]
fn softmax<const FMA: bool>(s: &mut [f32]) {
    let max = lanes(s, f32::NEG_INFINITY, f32::max);
    for x in s.iter_mut() {
        *x = exp_fast::<FMA>(*x - max);
    }
    let inv = 1.0 / lanes(s, 0.0, |a, b| a + b);
    for x in s.iter_mut() {
        *x *= inv;
    }
}

/// A reduction in eight lanes, so that it vectorises (a float sum in one
/// running total cannot be reordered by the compiler).
#[inline(always)]
fn lanes(xs: &[f32], init: f32, f: impl Fn(f32, f32) -> f32 + Copy) -> f32 {
    let mut acc = [init; 8];
    let chunks = xs.chunks_exact(8);
    let rest = chunks.remainder();
    for c in chunks {
        for t in 0..8 {
            acc[t] = f(acc[t], c[t]);
        }
    }
    let mut total = acc.into_iter().fold(init, f);
    for x in rest {
        total = f(total, *x);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng(seed: &mut u64) -> f32 {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        (*seed % 20_001) as f32 / 10_000.0 - 1.0
    }

    fn reference(x: &[f32], w: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        let mut y = vec![0f32; m * n];
        for r in 0..m {
            for c in 0..n {
                y[r * n + c] = b[c] + (0..k).map(|i| x[r * k + i] * w[i * n + c]).sum::<f32>();
            }
        }
        y
    }

    #[test]
    fn the_integer_product_is_close_to_the_float_one_and_both_paths_agree() {
        let mut seed = 42u64;
        // Odd sizes: a k pair, a column block and a row tile left over.
        for (m, k, n) in [(1, 7, 5), (9, 384, 50), (130, 95, 24), (5, 1536, 384)] {
            let x: Vec<f32> = (0..m * k).map(|_| rng(&mut seed)).collect();
            let w: Vec<f32> = (0..k * n).map(|_| rng(&mut seed) * 0.1).collect();
            let b: Vec<f32> = (0..n).map(|_| rng(&mut seed)).collect();
            let want = reference(&x, &w, &b, m, k, n);
            let layer = QLinear::new(&w, k, n, b.clone());
            let mut got = vec![0f32; m * n];
            layer.forward(&x, m, &mut got, Post::None);
            let spread = (want.iter().map(|v| v * v).sum::<f32>() / want.len() as f32).sqrt();
            for (g, w) in got.iter().zip(&want) {
                assert!(
                    (g - w).abs() < 0.02 * spread + 1e-3,
                    "{g} vs {w} ({m}×{k}×{n})"
                );
            }
            // The scalar tile computes the same integers as the AVX2 one,
            // even at the ends of both ranges.
            let pairs = layer.pairs;
            let a: Vec<[i16; 2]> = (0..MR * pairs)
                .map(|i| {
                    [
                        (i % 4095) as i16 - 2047,
                        if i % 3 == 0 { 2047 } else { -2047 },
                    ]
                })
                .collect();
            let b = &layer.packed[..pairs * NR / 8];
            assert_eq!(Simd::detect().tile(&a, pairs, b), tile_scalar(&a, pairs, b));
        }
    }

    #[test]
    fn post_steps_and_the_fast_functions_hold() {
        for x in [-86.0f32, -20.0, -3.0, -0.5, 0.0, 0.7, 2.5, 10.0, 80.0] {
            for e in [exp_fast::<false>(x), exp_fast::<true>(x)] {
                assert!((e - x.exp()).abs() <= 3e-7 * x.exp(), "exp {x}: {e}");
            }
        }
        // GELU against a numerically integrated erf would be overkill: the
        // known values of x·Φ(x) will do.
        for (x, want) in [(-1.0f32, -0.158_655_26), (0.0, 0.0), (1.0, 0.841_344_7)] {
            assert!((gelu_one::<false>(x) - want).abs() < 1e-6, "gelu {x}");
        }
        let w = vec![1.0f32, 0.0, 0.0, 1.0];
        let layer = QLinear::new(&w, 2, 2, vec![0.0, 0.0]);
        let x = [1.0f32, -1.0];
        let mut y = [0f32; 2];
        layer.forward(&x, 1, &mut y, Post::Gelu);
        assert!((y[0] - 0.841_344_7).abs() < 1e-3 && (y[1] + 0.158_655_26).abs() < 1e-3);
        layer.forward(&x, 1, &mut y, Post::Add(&[10.0, 20.0]));
        assert!((y[0] - 11.0).abs() < 1e-3 && (y[1] - 19.0).abs() < 1e-3);
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

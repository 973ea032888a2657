//! The integer matrix product `y = x·W + b`: weights rounded per output
//! column when the layer is made, activations per row as they come, sums
//! in 32-bit integers on AVX2 (`vpmaddwd`) or the scalar path, then back
//! to floats with the bias and the layer's next step (GELU, a residual).

use rayon::prelude::*;

use super::pointwise::gelu_one;
use super::{lanes, madd, Simd};

/// Columns per micro-tile: two AVX2 registers of eight 32-bit sums.
pub(super) const NR: usize = 16;
/// Rows per micro-tile: 6 × 2 sums, 2 weight lanes, the broadcast row
/// value and a product fill the sixteen AVX2 registers without spilling.
pub(super) const MR: usize = 6;
/// Rows per parallel task (whole tiles).
const ROWS_PER_TASK: usize = 60;
/// The activation range: rows are rounded to integers in ±2047.
const ACT_RANGE: f32 = 2047.0;
/// The widest weight range used (the activations' own).
const MAX_WEIGHT_RANGE: f64 = 2047.0;

thread_local! {
    /// The working memory of the tasks run on this thread, kept between
    /// calls: fresh buffers per call cost more in page faults than the
    /// rounding they hold.
    static SCRATCH: std::cell::Cell<Scratch> = std::cell::Cell::new(Scratch::default());
}

/// A task's rows rounded to integers and packed by tile, with their scales.
#[derive(Default)]
struct Scratch {
    q: Vec<[i16; 2]>,
    scales: Vec<f32>,
    /// One row before packing.
    row: Vec<[i16; 2]>,
    /// The feed-forward block's inner activations.
    mid: Vec<f32>,
}

impl Scratch {
    fn quantised(&self) -> Quantised<'_> {
        Quantised {
            rows: &self.q,
            scales: &self.scales,
        }
    }
}

fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|cell| {
        let mut s = cell.take();
        let r = f(&mut s);
        cell.set(s);
        r
    })
}

/// Eight packed weight pairs (two i16 each): one AVX2 register.
pub(super) type Lane = [i16; 16];

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

impl<'a> Post<'a> {
    /// The same step for rows `first..first + rows` alone.
    fn rows(self, first: usize, rows: usize, n: usize) -> Post<'a> {
        match self {
            Post::Add(r) => Post::Add(&r[first * n..(first + rows) * n]),
            other => other,
        }
    }
}

/// BERT's feed-forward block, `out = x + down(gelu(up(x)))`, a few rows at
/// a time so that the wide inner activations never leave the cache.
pub(crate) fn feed_forward(up: &QLinear, down: &QLinear, x: &[f32], m: usize, out: &mut [f32]) {
    assert_eq!(up.n, down.k);
    if m < 4 * ROWS_PER_TASK {
        let mut mid = vec![0f32; m * up.n];
        up.forward(x, m, &mut mid, Post::Gelu);
        down.forward(&mid, m, out, Post::Add(x));
        return;
    }
    assert_eq!(x.len(), m * up.k);
    assert_eq!(out.len(), m * down.n);
    out.par_chunks_mut(ROWS_PER_TASK * down.n)
        .zip(x.par_chunks(ROWS_PER_TASK * up.k))
        .for_each(|(dst, xs)| {
            with_scratch(|s| {
                let mut mid = std::mem::take(&mut s.mid);
                mid.clear();
                mid.resize(xs.len() / up.k * up.n, 0.0);
                up.chunk(xs, &mut mid, Post::Gelu, s);
                down.chunk(&mid, dst, Post::Add(xs), s);
                s.mid = mid;
            })
        });
}

impl QLinear {
    /// `w` is `[k][n]` row-major (input-major, as the forward pass uses it).
    pub(crate) fn new(w: &[f32], k: usize, n: usize, bias: Vec<f32>) -> Self {
        assert_eq!(w.len(), k * n);
        let levels = weight_levels(k);
        // The clip search reads every weight 21 times: on both cores.
        let scales: Vec<f32> = (0..n)
            .into_par_iter()
            .map(|col| {
                let column: Vec<f32> = (0..k).map(|r| w[r * n + col]).collect();
                column_scale(&column, levels)
            })
            .collect();
        let q: Vec<i16> = w
            .iter()
            .enumerate()
            .map(|(i, x)| (x / scales[i % n]).round().clamp(-levels, levels) as i16)
            .collect();
        Self::from_integers(k, n, &q, scales, bias)
    }

    /// A layer from integer weights `q` (`[k][n]` row-major, within
    /// [`weight_levels`]) and what one unit of each column is worth: how
    /// the model inside the binary is loaded, and the last step of [`new`].
    pub(crate) fn from_integers(
        k: usize,
        n: usize,
        q: &[i16],
        mut scales: Vec<f32>,
        bias: Vec<f32>,
    ) -> Self {
        assert_eq!(q.len(), k * n);
        assert_eq!(scales.len(), n);
        assert_eq!(bias.len(), n);
        let pairs = k.div_ceil(2);
        let n_pad = n.next_multiple_of(NR);
        scales.resize(n_pad, 1.0);
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
                            lane[(j % 8) * 2 + h] = q[row * n + col];
                        }
                    }
                }
            }
        }
        QLinear {
            k,
            pairs,
            n,
            packed,
            scales,
            bias,
        }
    }

    /// Inputs and outputs.
    pub(crate) fn shape(&self) -> (usize, usize) {
        (self.k, self.n)
    }

    /// The integer weights, `[k][n]` row-major, as [`Self::from_integers`]
    /// takes them back.
    pub(crate) fn integers(&self) -> Vec<i16> {
        let lanes_per_pair = NR / 8;
        let mut q = vec![0i16; self.k * self.n];
        for row in 0..self.k {
            let (p, h) = (row / 2, row % 2);
            for col in 0..self.n {
                let (block, j) = (col / NR, col % NR);
                let lane = &self.packed[(block * self.pairs + p) * lanes_per_pair + j / 8];
                q[row * self.n + col] = lane[(j % 8) * 2 + h];
            }
        }
        q
    }

    /// What one unit of each column's integer weights is worth.
    pub(crate) fn scales(&self) -> &[f32] {
        &self.scales[..self.n]
    }

    pub(crate) fn bias(&self) -> &[f32] {
        &self.bias
    }

    /// `out[m][n] = post(x[m][k]·W + b)`.
    pub(crate) fn forward(&self, x: &[f32], m: usize, out: &mut [f32], post: Post<'_>) {
        assert_eq!(x.len(), m * self.k);
        assert_eq!(out.len(), m * self.n);
        if let Post::Add(r) = post {
            assert_eq!(r.len(), m * self.n);
        }
        if m >= 4 * ROWS_PER_TASK {
            // Each task rounds its own rows and multiplies them while they
            // are in its cache.
            out.par_chunks_mut(ROWS_PER_TASK * self.n)
                .zip(x.par_chunks(ROWS_PER_TASK * self.k))
                .enumerate()
                .for_each(|(t, (dst, xs))| {
                    let post = post.rows(t * ROWS_PER_TASK, xs.len() / self.k, self.n);
                    with_scratch(|s| self.chunk(xs, dst, post, s));
                });
            return;
        }
        // Short inputs (a query) split the columns instead, so that both
        // cores work; each group fills its own strip, copied in after.
        let mut scratch = Scratch::default();
        self.quantize(x, &mut scratch);
        let q = scratch.quantised();
        let blocks = self.n.div_ceil(NR);
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

    /// A few rows (`x.len() / k`) on the calling thread.
    fn chunk(&self, x: &[f32], dst: &mut [f32], post: Post<'_>, s: &mut Scratch) {
        let rows = x.len() / self.k;
        self.quantize(x, s);
        self.product(&s.quantised(), 0..rows, 0..self.n.div_ceil(NR), dst, post);
    }

    /// Rounds the rows of `x` into `s`, packed by tile (`pack_row`) and
    /// padded to whole tiles with zeros.
    fn quantize(&self, x: &[f32], s: &mut Scratch) {
        let (pairs, rows) = (self.pairs, x.len() / self.k);
        let m_pad = rows.next_multiple_of(MR);
        s.q.clear();
        s.q.resize(m_pad * pairs, [0, 0]);
        s.scales.clear();
        s.scales.resize(m_pad, 0.0);
        s.row.resize(pairs, [0, 0]);
        let simd = Simd::detect();
        for (r, xr) in x.chunks_exact(self.k).enumerate() {
            s.scales[r] = simd.run(
                #[inline(always)]
                |_| quantize_row(xr, &mut s.row, ACT_RANGE),
            );
            let tile = r / MR * MR * pairs;
            pack_row(&mut s.q[tile..tile + MR * pairs], r % MR, &s.row);
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
                    self.product_with::<true>(
                        q,
                        rows,
                        blocks,
                        dst,
                        post,
                        // Inlined or its intrinsics become calls.
                        #[inline(always)]
                        |a, b| tile_v3(v3, a, pairs, b),
                    )
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
                debug_assert_eq!(r0 % MR, 0);
                for (i, acc_row) in acc.iter().enumerate().take((rows.end - r0).min(MR)) {
                    let row = r0 + i;
                    let at = (row - rows.start) * width + (c0 - c_start);
                    // A whole tile row as arrays: the loops unroll into a
                    // few vector instructions (as slices of a length known
                    // only at run time, the epilogue cost a third of the
                    // product's time with GELU or a residual).
                    if let (Ok(out), Ok(col_scales), Ok(bias)) = (
                        <&mut [f32; NR]>::try_from(&mut dst[at..at + cols]),
                        <&[f32; NR]>::try_from(&self.scales[c0..c0 + cols]),
                        <&[f32; NR]>::try_from(&self.bias[c0..c0 + cols]),
                    ) {
                        let residual = match post {
                            Post::Add(r) => <&[f32; NR]>::try_from(
                                &r[row * self.n + c0..row * self.n + c0 + cols],
                            )
                            .ok(),
                            _ => None,
                        };
                        let mut v = [0f32; NR];
                        let s = q.scales[row];
                        for t in 0..NR {
                            v[t] = madd::<FMA>(acc_row[t] as f32, s * col_scales[t], bias[t]);
                        }
                        if matches!(post, Post::Gelu) {
                            for x in v.iter_mut() {
                                *x = gelu_one::<FMA>(*x);
                            }
                        }
                        if let Some(r) = residual {
                            for t in 0..NR {
                                v[t] += r[t];
                            }
                        }
                        *out = v;
                        continue;
                    }
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

/// The widest integer weights a layer with `k` inputs may have: as fine as
/// 32-bit sums allow (|Σ a·w| ≤ 2·pairs · ACT_RANGE · levels), at most
/// ±2047 — ±2047 for a 384-wide input, ±683 for a 1536-wide one (BERT's
/// activations have outlier dimensions, so a row's range is wide and its
/// step must be small).
pub(crate) fn weight_levels(k: usize) -> f32 {
    let pairs = k.div_ceil(2);
    let levels = ((i32::MAX as f64) / (2.0 * pairs as f64 * ACT_RANGE as f64))
        .floor()
        .min(MAX_WEIGHT_RANGE) as f32;
    assert!(
        levels >= 127.0,
        "an input of {k} is too wide for 32-bit sums"
    );
    levels
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
/// Rounds half to even by adding 1.5·2²³ (as `exp_fast` does), which
/// vectorises where a float-to-int cast would not.
#[inline(always)]
fn quantize_row(x: &[f32], q: &mut [[i16; 2]], range: f32) -> f32 {
    const SHIFTER: f32 = 12_582_912.0;
    let amax = lanes(x, 0.0, |m, v| if v.abs() > m { v.abs() } else { m });
    if amax == 0.0 || !amax.is_finite() {
        q.iter_mut().for_each(|v| *v = [0, 0]);
        return 0.0;
    }
    let inv = range / amax;
    let flat = q.as_flattened_mut();
    if let Some(last) = flat.get_mut(x.len()) {
        *last = 0;
    }
    for (d, v) in flat.iter_mut().zip(x) {
        *d = ((v * inv + SHIFTER).to_bits() as i32 - SHIFTER.to_bits() as i32) as i16;
    }
    amax / range
}

/// Puts row `r` of a tile in its place: the tile holds, per k pair, the
/// pairs of its `MR` rows side by side, so that the kernel reads one
/// stream instead of six.
#[inline(always)]
fn pack_row(tile: &mut [[i16; 2]], r: usize, row: &[[i16; 2]]) {
    for (d, v) in tile[r..].iter_mut().step_by(MR).zip(row) {
        *d = *v;
    }
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

pub(super) fn tile_scalar(a: &[[i16; 2]], pairs: usize, b: &[Lane]) -> [[i32; NR]; MR] {
    let mut acc = [[0i32; NR]; MR];
    for (p, lanes) in b.chunks_exact(NR / 8).enumerate().take(pairs) {
        for (r, acc_row) in acc.iter_mut().enumerate() {
            let [a0, a1] = a[p * MR + r];
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
pub(super) fn tile_v3(
    v3: pulp::x86::V3,
    a: &[[i16; 2]],
    pairs: usize,
    b: &[Lane],
) -> [[i32; NR]; MR] {
    use std::arch::x86_64::__m256i;
    let (avx, avx2) = (v3.avx, v3.avx2);
    let z = avx._mm256_setzero_si256();
    let mut c = [[z; 2]; MR];
    // As arrays, zipped: indexing left three bounds checks per k pair in
    // the loop, and the front end, not the vector units, set the pace.
    let (a, _) = a[..pairs * MR].as_chunks::<MR>();
    let (b, _) = b[..pairs * 2].as_chunks::<2>();
    for (at, lanes) in a.iter().zip(b) {
        let bv: [__m256i; 2] = [pulp::cast(lanes[0]), pulp::cast(lanes[1])];
        for (cr, pair) in c.iter_mut().zip(at) {
            let av = avx._mm256_set1_epi32(pulp::cast(*pair));
            for (cj, bj) in cr.iter_mut().zip(bv) {
                *cj = avx2._mm256_add_epi32(*cj, avx2._mm256_madd_epi16(av, bj));
            }
        }
    }
    pulp::cast(c)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quant::pointwise::exp_fast;
    use crate::quant::rng;

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
    fn the_feed_forward_block_equals_its_two_steps() {
        // Enough rows for the chunked path, in a last chunk of odd size.
        let mut seed = 5u64;
        let (m, k, n) = (4 * ROWS_PER_TASK + 7, 20, 44);
        let x: Vec<f32> = (0..m * k).map(|_| rng(&mut seed)).collect();
        let w1: Vec<f32> = (0..k * n).map(|_| rng(&mut seed) * 0.3).collect();
        let w2: Vec<f32> = (0..n * k).map(|_| rng(&mut seed) * 0.3).collect();
        let up = QLinear::new(&w1, k, n, (0..n).map(|_| rng(&mut seed)).collect());
        let down = QLinear::new(&w2, n, k, (0..k).map(|_| rng(&mut seed)).collect());
        let mut mid = vec![0f32; m * n];
        up.forward(&x, m, &mut mid, Post::Gelu);
        let mut want = vec![0f32; m * k];
        down.forward(&mid, m, &mut want, Post::Add(&x));
        let mut got = vec![0f32; m * k];
        feed_forward(&up, &down, &x, m, &mut got);
        assert_eq!(got, want);
        assert!(got.iter().zip(&x).any(|(g, x)| (g - x).abs() > 1e-3));
    }
}

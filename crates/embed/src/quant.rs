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
fn tile_v3(v3: pulp::x86::V3, a: &[[i16; 2]], pairs: usize, b: &[Lane]) -> [[i32; NR]; MR] {
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

//! The element-wise steps: GELU (with a fast `exp`) and layer norm.

use rayon::prelude::*;

use super::{lanes, madd, Simd};

/// `e^x` to about 1e-7 relative: `2^n · p(r)` with `r = x − n·ln 2`.
/// Branch-free and without float-to-int casts (whose NaN rules keep a loop
/// scalar), so that loops of it vectorise: adding 1.5·2²³ rounds to an
/// integer and leaves it in the low bits of the mantissa.
#[inline(always)]
pub(super) fn exp_fast<const FMA: bool>(x: f32) -> f32 {
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
pub(super) fn gelu_one<const FMA: bool>(x: f32) -> f32 {
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

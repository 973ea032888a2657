//! The numeric kernels of the quantised transformer, one file a subject:
//! the integer matrix product (`linear.rs`), attention over unpadded
//! sequences (`attention.rs`), and the element-wise steps, layer norm and
//! GELU (`pointwise.rs`); the instruction-set dispatch they share is here.
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

mod attention;
mod linear;
mod pointwise;

pub(crate) use attention::attention;
pub(crate) use linear::{feed_forward, weight_levels, Post, QLinear};
pub(crate) use pointwise::layer_norm;

/// The instruction set in use: AVX2 with FMA when the CPU has them.
#[derive(Clone, Copy)]
pub(super) enum Simd {
    #[cfg(target_arch = "x86_64")]
    V3(pulp::x86::V3),
    Scalar,
}

impl Simd {
    pub(super) fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        if let Some(v3) = pulp::x86::V3::try_new() {
            return Simd::V3(v3);
        }
        Simd::Scalar
    }

    /// One tile (the product loop inlines the kernels itself).
    #[cfg(test)]
    fn tile(
        self,
        a: &[[i16; 2]],
        pairs: usize,
        b: &[linear::Lane],
    ) -> [[i32; linear::NR]; linear::MR] {
        match self {
            #[cfg(target_arch = "x86_64")]
            Simd::V3(v3) => v3.vectorize(
                #[inline(always)]
                || linear::tile_v3(v3, a, pairs, b),
            ),
            Simd::Scalar => linear::tile_scalar(a, pairs, b),
        }
    }

    /// Runs `f` with the instruction set's features enabled, so that its
    /// loops vectorise (`FMA` says whether `mul_add` is one instruction).
    /// `f` must be `#[inline(always)]` for the features to reach its body.
    #[inline(always)]
    pub(super) fn run<R>(self, f: impl FnOnce(bool) -> R) -> R {
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

#[inline(always)]
pub(super) fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA {
        a.mul_add(b, c)
    } else {
        a * b + c
    }
}

/// running total cannot be reordered by the compiler).
#[inline(always)]
pub(super) fn lanes(xs: &[f32], init: f32, f: impl Fn(f32, f32) -> f32 + Copy) -> f32 {
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

/// A test's random numbers in [-1, 1], repeatable from `seed`.
#[cfg(test)]
fn rng(seed: &mut u64) -> f32 {
    *seed ^= *seed << 13;
    *seed ^= *seed >> 7;
    *seed ^= *seed << 17;
    (*seed % 20_001) as f32 / 10_000.0 - 1.0
}

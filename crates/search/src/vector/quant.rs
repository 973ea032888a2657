//! 8-bit quantisation and the dot products the scans run on.

/// Symmetric 8-bit quantisation: `v ≈ scale · codes`.
pub fn quantize(v: &[f32]) -> (f32, Vec<i8>) {
    let max = v.iter().fold(0f32, |m, x| m.max(x.abs()));
    if max == 0.0 {
        return (0.0, vec![0; v.len()]);
    }
    let scale = max / 127.0;
    (
        scale,
        v.iter()
            .map(|x| (x / scale).round().clamp(-127.0, 127.0) as i8)
            .collect(),
    )
}

/// The dot product of two vectors of codes, with the processor's 256-bit
/// multiply-adds where it has them (AVX2, detected once at run time; the
/// build targets the baseline, whose 128-bit code took three times as
/// long in the scans).
#[inline]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    #[cfg(target_arch = "x86_64")]
    if let Some(v3) = v3() {
        return v3.vectorize(
            #[inline(always)]
            || dot_i8_lanes(a, b),
        );
    }
    dot_i8_lanes(a, b)
}

#[inline(always)]
fn dot_i8_lanes(a: &[i8], b: &[i8]) -> i32 {
    // Sixteen independent lanes of widening multiply-adds: the shape the
    // compiler turns into packed multiply-add instructions.
    let mut acc = [0i32; 16];
    let mut ca = a.chunks_exact(16);
    let mut cb = b.chunks_exact(16);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for i in 0..16 {
            acc[i] += i32::from(x[i]) * i32::from(y[i]);
        }
    }
    let mut total: i32 = acc.iter().sum();
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        total += i32::from(*x) * i32::from(*y);
    }
    total
}

/// The processor's AVX2 level, where it has it (detected once).
#[cfg(target_arch = "x86_64")]
#[inline]
fn v3() -> Option<pulp::x86::V3> {
    static V3: std::sync::OnceLock<Option<pulp::x86::V3>> = std::sync::OnceLock::new();
    *V3.get_or_init(pulp::x86::V3::try_new)
}

/// The dot product of two float vectors, eight lanes at once (one 256-bit
/// register with AVX2; the same sums lane by lane, so the same result to
/// the bit as on the baseline).
#[inline]
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
    #[cfg(target_arch = "x86_64")]
    if let Some(v3) = v3() {
        return v3.vectorize(
            #[inline(always)]
            || dot_f32_lanes(a, b),
        );
    }
    dot_f32_lanes(a, b)
}

#[inline(always)]
fn dot_f32_lanes(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut s: f32 = acc.iter().sum();
    for (x, y) in ca.remainder().iter().zip(cb.remainder()) {
        s += x * y;
    }
    s
}

pub fn normalize(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_dot_product_is_the_plain_sum_at_every_length() {
        for len in [0, 1, 15, 16, 17, 256, 384, 1000] {
            let a: Vec<i8> = (0..len).map(|i| ((i * 37 + 11) % 255) as i8).collect();
            let b: Vec<i8> = (0..len).map(|i| ((i * 91 + 5) % 255) as i8).collect();
            let plain: i32 = a
                .iter()
                .zip(&b)
                .map(|(x, y)| i32::from(*x) * i32::from(*y))
                .sum();
            assert_eq!(super::dot_i8(&a, &b), plain, "length {len}");
            let (fa, fb): (Vec<f32>, Vec<f32>) = a
                .iter()
                .zip(&b)
                .map(|(x, y)| (f32::from(*x) / 7.0, f32::from(*y) / 3.0))
                .unzip();
            assert_eq!(
                super::dot_f32(&fa, &fb).to_bits(),
                super::dot_f32_lanes(&fa, &fb).to_bits(),
                "length {len}"
            );
        }
    }
}

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

/// [`dot_f32`] of `q` with each of four rows: the same four values to the
/// bit, with the query read once and four sums in flight. One sum waits
/// on each addition before the next (a 256-wide product is a chain of 32
/// dependent additions); a recommendation compares a few hundred
/// candidates with every library paper, and four chains at once keep the
/// processor busy.
#[inline]
pub fn dot_f32_x4(q: &[f32], rows: [&[f32]; 4]) -> [f32; 4] {
    #[cfg(target_arch = "x86_64")]
    if let Some(v3) = v3() {
        if rows.iter().all(|r| r.len() == q.len()) {
            return v3.vectorize(
                #[inline(always)]
                || x4_v3(v3, q, rows),
            );
        }
    }
    rows.map(|r| dot_f32(q, r))
}

/// [`dot_f32_x4`] with AVX2: lane by lane as [`dot_f32_lanes`] does
/// (a product, then a sum, never fused), then the lanes summed in order.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn x4_v3(v3: pulp::x86::V3, q: &[f32], rows: [&[f32]; 4]) -> [f32; 4] {
    use pulp::Simd;
    let (qc, qr) = pulp::as_arrays::<8, f32>(q);
    let rc = rows.map(pulp::as_arrays::<8, f32>);
    let mut acc = [v3.splat_f32s(0.0); 4];
    for (c, x) in qc.iter().enumerate() {
        let x: pulp::f32x8 = pulp::cast(*x);
        for (a, (r, _)) in acc.iter_mut().zip(&rc) {
            let y: pulp::f32x8 = pulp::cast(r[c]);
            *a = v3.add_f32s(*a, v3.mul_f32s(x, y));
        }
    }
    let mut out = [0f32; 4];
    for ((o, a), (_, rest)) in out.iter_mut().zip(acc).zip(&rc) {
        let lanes: [f32; 8] = pulp::cast(a);
        let mut s: f32 = lanes.iter().sum();
        for (x, y) in qr.iter().zip(rest.iter()) {
            s += x * y;
        }
        *o = s;
    }
    out
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
            // Four rows at once: each the same as alone, to the bit.
            let rows: Vec<Vec<f32>> = (0..4)
                .map(|k| fb.iter().map(|y| y * (k as f32 + 0.5)).collect())
                .collect();
            let four = super::dot_f32_x4(&fa, [&rows[0], &rows[1], &rows[2], &rows[3]]);
            for (k, row) in rows.iter().enumerate() {
                assert_eq!(
                    four[k].to_bits(),
                    super::dot_f32(&fa, row).to_bits(),
                    "length {len}, row {k}"
                );
            }
        }
    }
}

//! Principal component analysis for distillation: the covariance of the
//! token vectors, its eigenvectors by cyclic Jacobi rotations (exact and
//! plenty fast for a few hundred dimensions), and the projection.

/// Projects the rows of `x` (`n × d`, row-major) onto their top `k`
/// principal components, after centring; returns `n × k`.
pub fn project(x: &[f32], n: usize, d: usize, k: usize) -> Vec<f32> {
    let k = k.min(d);
    let mut mean = vec![0f64; d];
    for row in x.chunks_exact(d) {
        for (m, v) in mean.iter_mut().zip(row) {
            *m += *v as f64;
        }
    }
    mean.iter_mut().for_each(|m| *m /= n.max(1) as f64);

    let mut cov = vec![0f64; d * d];
    let mut centred = vec![0f64; d];
    for row in x.chunks_exact(d) {
        for (c, (v, m)) in centred.iter_mut().zip(row.iter().zip(&mean)) {
            *c = *v as f64 - m;
        }
        for i in 0..d {
            let ci = centred[i];
            let line = &mut cov[i * d..i * d + d];
            for (j, cj) in centred.iter().enumerate().skip(i) {
                line[j] += ci * cj;
            }
        }
    }
    for i in 0..d {
        for j in 0..i {
            cov[i * d + j] = cov[j * d + i];
        }
    }
    let (values, vectors) = jacobi_eigen(cov, d);
    let mut order: Vec<usize> = (0..d).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]));

    let mut out = vec![0f32; n * k];
    for (row, dst) in x.chunks_exact(d).zip(out.chunks_exact_mut(k)) {
        for (slot, &comp) in dst.iter_mut().zip(&order[..k]) {
            let mut s = 0f64;
            for (i, (v, m)) in row.iter().zip(&mean).enumerate() {
                s += (*v as f64 - m) * vectors[i * d + comp];
            }
            *slot = s as f32;
        }
    }
    out
}

/// Eigen-decomposition of a symmetric matrix: eigenvalues, and the
/// eigenvectors as the columns of a row-major `d × d` matrix.
pub fn jacobi_eigen(mut a: Vec<f64>, d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut v = vec![0f64; d * d];
    for i in 0..d {
        v[i * d + i] = 1.0;
    }
    for _sweep in 0..60 {
        let mut off = 0f64;
        let mut diag = 0f64;
        for i in 0..d {
            diag += a[i * d + i] * a[i * d + i];
            for j in i + 1..d {
                off += a[i * d + j] * a[i * d + j];
            }
        }
        if off <= 1e-22 * diag.max(f64::MIN_POSITIVE) {
            break;
        }
        for p in 0..d {
            for q in p + 1..d {
                let apq = a[p * d + q];
                if apq.abs() < 1e-300 {
                    continue;
                }
                let app = a[p * d + p];
                let aqq = a[q * d + q];
                let theta = (aqq - app) / (2.0 * apq);
                let t = theta.signum() / (theta.abs() + (theta * theta + 1.0).sqrt());
                let t = if theta == 0.0 { 1.0 } else { t };
                let c = 1.0 / (t * t + 1.0).sqrt();
                let s = t * c;
                // Rows/columns p and q of A.
                for k in 0..d {
                    let akp = a[k * d + p];
                    let akq = a[k * d + q];
                    a[k * d + p] = c * akp - s * akq;
                    a[k * d + q] = s * akp + c * akq;
                }
                for k in 0..d {
                    let apk = a[p * d + k];
                    let aqk = a[q * d + k];
                    a[p * d + k] = c * apk - s * aqk;
                    a[q * d + k] = s * apk + c * aqk;
                }
                for k in 0..d {
                    let vkp = v[k * d + p];
                    let vkq = v[k * d + q];
                    v[k * d + p] = c * vkp - s * vkq;
                    v[k * d + q] = s * vkp + c * vkq;
                }
            }
        }
    }
    // Deterministic signs: the largest-magnitude entry of each vector > 0.
    for col in 0..d {
        let mut best = 0f64;
        for row in 0..d {
            let x = v[row * d + col];
            if x.abs() > best.abs() {
                best = x;
            }
        }
        if best < 0.0 {
            for row in 0..d {
                v[row * d + col] = -v[row * d + col];
            }
        }
    }
    let values = (0..d).map(|i| a[i * d + i]).collect();
    (values, v)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eigenvectors_reconstruct_the_matrix() {
        let d = 5;
        let mut m = vec![0f64; d * d];
        for i in 0..d {
            for j in 0..d {
                m[i * d + j] = ((i * 7 + j * 3) % 5) as f64 + if i == j { 4.0 } else { 0.0 };
            }
        }
        for i in 0..d {
            for j in 0..i {
                let s = (m[i * d + j] + m[j * d + i]) / 2.0;
                m[i * d + j] = s;
                m[j * d + i] = s;
            }
        }
        let (vals, vecs) = jacobi_eigen(m.clone(), d);
        // A·v = λ·v for every pair.
        for c in 0..d {
            for r in 0..d {
                let av: f64 = (0..d).map(|k| m[r * d + k] * vecs[k * d + c]).sum();
                assert!(
                    (av - vals[c] * vecs[r * d + c]).abs() < 1e-9,
                    "column {c} row {r}"
                );
            }
        }
    }

    #[test]
    fn projection_keeps_the_direction_of_most_variance() {
        // Points along (1, 1, 0) with a little noise in z.
        let mut x = Vec::new();
        for i in 0..50 {
            let t = i as f32 - 24.5;
            x.extend_from_slice(&[t, t, (i % 3) as f32 * 0.01]);
        }
        let p = project(&x, 50, 3, 1);
        // The one component is ±sqrt(2)·t.
        for (i, v) in p.iter().enumerate() {
            let t = i as f32 - 24.5;
            assert!(
                (v.abs() - t.abs() * 2f32.sqrt()).abs() < 0.05,
                "row {i}: {v}"
            );
        }
    }
}

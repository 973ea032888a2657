//! The cell index (inverted file): spherical k-means cells over the
//! vectors, stored in `ivf.bin`, laid out in memory cell by cell.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::SystemTime;

use rayon::prelude::*;

use super::quant::{dot_f32, dot_i8, normalize, quantize};
use super::rows::Rows;
use super::{io, VectorIndex, EXACT_LIMIT};
use crate::SearchError;

const IVF_MAGIC: &[u8; 8] = b"PBIVF01\n";

/// The cells as stored in `ivf.bin`: lists of log rows (the order of
/// upserts in the log).
pub(super) struct Ivf {
    nlist: usize,
    /// `nlist × dim`, f32.
    centroids: Vec<f32>,
    lists: Vec<Vec<u32>>,
    /// Log rows below this are in the lists or superseded.
    covered: usize,
}

/// The cells in memory: each cell's vectors are stored side by side, so a
/// query reads a few contiguous runs rather than scattered rows.
pub(super) struct Cells {
    pub(super) nlist: usize,
    pub(super) centroids: Vec<f32>,
    /// Row range of each cell.
    pub(super) ranges: Vec<(u32, u32)>,
    /// Rows from here on arrived after the cells were built.
    pub(super) tail: usize,
}

impl VectorIndex {
    /// Builds the cell index over every vector held now and writes it.
    pub fn build_cells(&self) -> Result<(), SearchError> {
        let (centroids, nlist, covered, lists) = {
            let inner = self.read();
            let rows = &inner.rows;
            let n = rows.ids.len();
            if n <= EXACT_LIMIT {
                return Ok(());
            }
            // About √n cells of about √n vectors; a query visits a few dozen.
            let nlist = (n as f64).sqrt().round().clamp(16.0, 4096.0) as usize;
            let centroids = kmeans(rows, self.dim, nlist);
            // Assignment compares 8-bit codes with 8-bit centroids: the
            // cheap integer dot product keeps a million vectors to seconds.
            let coded: Vec<i8> = centroids
                .chunks_exact(self.dim)
                .flat_map(|c| quantize(c).1)
                .collect();
            let inv_norms: Vec<f32> = coded
                .chunks_exact(self.dim)
                .map(|c| 1.0 / (dot_i8(c, c) as f32).sqrt().max(1.0))
                .collect();
            let assign: Vec<u32> = (0..n)
                .into_par_iter()
                .with_min_len(1024)
                .map(|r| {
                    nearest_code(
                        &coded,
                        &inv_norms,
                        self.dim,
                        &rows.codes[r * self.dim..(r + 1) * self.dim],
                    ) as u32
                })
                .collect();
            let mut lists = vec![Vec::new(); nlist];
            for (r, c) in assign.into_iter().enumerate() {
                if rows.live[r] {
                    lists[c as usize].push(r as u32);
                }
            }
            (centroids, nlist, n, lists)
        };
        // On disk the lists name log rows, which outlive this process's order.
        let (disk_lists, covered_log) = {
            let inner = self.read();
            let rows = &inner.rows;
            let disk: Vec<Vec<u32>> = lists
                .iter()
                .map(|l| l.iter().map(|&r| rows.log_row[r as usize]).collect())
                .collect();
            // Every log row up to the last one held at the snapshot.
            let covered_log = rows.log_row[..covered]
                .iter()
                .max()
                .map_or(0, |&m| m as usize + 1);
            (disk, covered_log)
        };
        let path = self.dir.join("ivf.bin");
        let tmp = self.dir.join("ivf.bin.partial");
        {
            let f = File::create(&tmp).map_err(|e| io(&tmp, e))?;
            let mut w = BufWriter::new(f);
            let mut out = Vec::new();
            out.extend_from_slice(IVF_MAGIC);
            out.extend_from_slice(&(self.dim as u32).to_le_bytes());
            out.extend_from_slice(&(nlist as u32).to_le_bytes());
            out.extend_from_slice(&(covered_log as u64).to_le_bytes());
            for c in &centroids {
                out.extend_from_slice(&c.to_le_bytes());
            }
            for l in &disk_lists {
                out.extend_from_slice(&(l.len() as u32).to_le_bytes());
                for r in l {
                    out.extend_from_slice(&r.to_le_bytes());
                }
            }
            let sum = xxhash_rust::xxh3::xxh3_64(&out);
            out.extend_from_slice(&sum.to_le_bytes());
            w.write_all(&out).map_err(|e| io(&tmp, e))?;
            w.flush().map_err(|e| io(&tmp, e))?;
            w.get_ref().sync_all().map_err(|e| io(&tmp, e))?;
        }
        std::fs::rename(&tmp, &path).map_err(|e| io(&path, e))?;
        let mtime = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        let mut inner = self.write();
        // Rows that arrived while the cells were computed form the tail.
        let tail: Vec<u32> = (covered as u32..inner.rows.ids.len() as u32).collect();
        let rows = std::mem::take(&mut inner.rows);
        let (rows, cells) = rows.lay_out(self.dim, nlist, centroids, &lists, &tail);
        inner.rows = rows;
        inner.cells = Some(cells);
        inner.ivf_mtime = mtime;
        Ok(())
    }
}

/// Reads `ivf.bin` beside a freshly read log and lays the rows out by cell.
pub(super) fn with_cells(
    dir: &Path,
    dim: usize,
    rows: Rows,
) -> (Rows, Option<Cells>, Option<SystemTime>) {
    let path = dir.join("ivf.bin");
    let mtime = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
    let Ok(bytes) = std::fs::read(&path) else {
        return (rows, None, mtime);
    };
    let n = rows.ids.len();
    let Some(ivf) = parse_ivf(&bytes, dim, rows.appended as usize) else {
        tracing::warn!(path = %path.display(), "ignoring an unreadable cell index; queries scan every vector until the next rebuild");
        return (rows, None, mtime);
    };
    // Freshly read, row r is log row r: the lists name rows directly.
    let mut seen = vec![false; n];
    for l in &ivf.lists {
        for &r in l {
            // Listed rows come before the tail and each once: the layout
            // moves rows in place and relies on it.
            if (r as usize) >= ivf.covered.min(n) || seen[r as usize] {
                tracing::warn!(path = %path.display(), "ignoring an inconsistent cell index");
                return (rows, None, mtime);
            }
            seen[r as usize] = true;
        }
    }
    let tail: Vec<u32> = (ivf.covered.min(n) as u32..n as u32).collect();
    let (rows, cells) = rows.lay_out(dim, ivf.nlist, ivf.centroids, &ivf.lists, &tail);
    (rows, Some(cells), mtime)
}

fn parse_ivf(bytes: &[u8], dim: usize, rows: usize) -> Option<Ivf> {
    if bytes.len() < 32 || &bytes[..8] != IVF_MAGIC {
        return None;
    }
    let (body, sum) = bytes.split_at(bytes.len() - 8);
    if xxhash_rust::xxh3::xxh3_64(body) != u64::from_le_bytes(sum.try_into().ok()?) {
        return None;
    }
    let u32_at = |at: usize| -> Option<u32> {
        Some(u32::from_le_bytes(body.get(at..at + 4)?.try_into().ok()?))
    };
    if u32_at(8)? as usize != dim {
        return None;
    }
    let nlist = u32_at(12)? as usize;
    let covered = u64::from_le_bytes(body.get(16..24)?.try_into().ok()?) as usize;
    if covered > rows {
        // The log was rewritten since; this index is stale.
        return None;
    }
    let mut at = 24;
    let mut centroids = Vec::with_capacity(nlist * dim);
    for _ in 0..nlist * dim {
        centroids.push(f32::from_le_bytes(body.get(at..at + 4)?.try_into().ok()?));
        at += 4;
    }
    let mut lists = Vec::with_capacity(nlist);
    for _ in 0..nlist {
        let n = u32_at(at)? as usize;
        at += 4;
        let mut l = Vec::with_capacity(n);
        for _ in 0..n {
            l.push(u32_at(at)?);
            at += 4;
        }
        lists.push(l);
    }
    Some(Ivf {
        nlist,
        centroids,
        lists,
        covered,
    })
}

/// The centroid (8-bit codes; `inv_norms` makes their dot products
/// cosines) nearest to `codes`.
fn nearest_code(centroids: &[i8], inv_norms: &[f32], dim: usize, codes: &[i8]) -> usize {
    let mut best = (f32::MIN, 0);
    for ((c, cen), inv) in centroids.chunks_exact(dim).enumerate().zip(inv_norms) {
        let d = dot_i8(codes, cen) as f32 * inv;
        if d > best.0 {
            best = (d, c);
        }
    }
    best.1
}

/// Spherical k-means on a deterministic sample of the live vectors.
fn kmeans(rows: &Rows, dim: usize, k: usize) -> Vec<f32> {
    let live: Vec<usize> = (0..rows.ids.len()).filter(|&r| rows.live[r]).collect();
    let want = (k * 25).min(live.len());
    let step = (live.len() / want.max(1)).max(1);
    let sample: Vec<Vec<f32>> = live
        .iter()
        .step_by(step)
        .take(want)
        .map(|&r| {
            let mut v: Vec<f32> = rows.codes[r * dim..(r + 1) * dim]
                .iter()
                .map(|&c| c as f32)
                .collect();
            normalize(&mut v);
            v
        })
        .collect();
    let k = k.min(sample.len()).max(1);
    let mut centroids: Vec<f32> = (0..k)
        .flat_map(|i| sample[i * sample.len() / k].clone())
        .collect();
    for _ in 0..6 {
        let assign: Vec<usize> = sample
            .par_iter()
            .map(|v| {
                let mut best = (f32::MIN, 0);
                for (c, cen) in centroids.chunks_exact(dim).enumerate() {
                    let d = dot_f32(v, cen);
                    if d > best.0 {
                        best = (d, c);
                    }
                }
                best.1
            })
            .collect();
        let mut sums = vec![0f32; k * dim];
        let mut counts = vec![0usize; k];
        for (v, &c) in sample.iter().zip(&assign) {
            counts[c] += 1;
            for (s, x) in sums[c * dim..(c + 1) * dim].iter_mut().zip(v) {
                *s += x;
            }
        }
        for c in 0..k {
            let cen = &mut sums[c * dim..(c + 1) * dim];
            if counts[c] == 0 {
                // An empty cell takes a sample point so no cell is wasted.
                cen.copy_from_slice(&sample[(c * 7919) % sample.len()]);
            }
            normalize(cen);
        }
        centroids = sums;
    }
    centroids
}

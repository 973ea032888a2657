//! The vector index: one unit vector per paper, quantised to 8 bits per
//! dimension (a 256-dimension vector takes 262 bytes, so a million fit in
//! about 260 MB), searched by inner product.
//!
//! Small indexes are scanned exactly. Past [`EXACT_LIMIT`] vectors an
//! inverted-file index (k-means cells; a query visits the cells nearest to
//! it) bounds the work per query; vectors added since it was built are
//! scanned exactly until the next rebuild.
//!
//! On disk, beside the keyword index:
//! - `vectors.log`: an append-only log of checksummed records (upsert,
//!   delete, synced change sequence). A torn tail from a crash is cut off on
//!   open, so the log is always a prefix of what was written.
//! - `ivf.bin`: the cells, covering a prefix of the log; written aside and
//!   renamed into place.
//!
//! One process writes (it holds `vectors.lock`); others read and pick up
//! what the writer appends.

mod cells;
mod log;
pub(crate) mod quant;
mod rows;
#[cfg(test)]
mod tests;
mod topk;

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use std::time::SystemTime;

use paperboy_core::ArxivId;

use crate::SearchError;
use cells::{with_cells, Cells};
use log::{encode_upsert, header, push_id, read_log, write_record, KIND_DELETE, KIND_SEQ};
pub use quant::{dot_f32, dot_i8, quantize};
use rows::Rows;
use topk::TopK;

/// A query scans about this many average cells' worth of vectors…
const PROBE_BUDGET_CELLS: usize = 256;
/// …but never fewer cells than this.
const MIN_PROBE: usize = 4;
/// Up to this many vectors, every query scans them all.
pub const EXACT_LIMIT: usize = 20_000;

fn io(path: &Path, e: impl std::fmt::Display) -> SearchError {
    SearchError::Vector {
        path: path.display().to_string(),
        reason: e.to_string(),
    }
}

/// One paper's vector as handed to the index.
#[derive(Debug, Clone)]
pub struct VectorEntry {
    pub arxiv_id: ArxivId,
    /// The content hash of what was embedded: unchanged papers are skipped.
    pub content_hash: u64,
    /// Words in the abstract, for the short-document prior.
    pub words: u16,
    pub vector: Vec<f32>,
}

#[derive(Debug, Clone)]
pub struct Neighbour {
    pub arxiv_id: ArxivId,
    pub score: f32,
    pub words: u16,
}

struct Inner {
    rows: Rows,
    cells: Option<Cells>,
    ivf_mtime: Option<SystemTime>,
}

struct Writer {
    file: BufWriter<File>,
    _lock: File,
}

pub struct VectorIndex {
    dir: PathBuf,
    model: String,
    dim: usize,
    /// Average cells' worth of vectors a query scans ([`PROBE_BUDGET_CELLS`]).
    probe_budget: std::sync::atomic::AtomicUsize,
    inner: RwLock<Inner>,
    writer: Option<Mutex<Writer>>,
    /// Lookup mode: the log, read where a row's codes are.
    log: Option<File>,
}

impl VectorIndex {
    /// Opens (or creates) the index in `dir` for vectors of `model`
    /// (`dim` dimensions). `writable` takes the writer lock.
    pub fn open(dir: &Path, model: &str, dim: usize, writable: bool) -> Result<Self, SearchError> {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
        let log_path = dir.join("vectors.log");
        let writer = if writable {
            let lock_path = dir.join("vectors.lock");
            let lock = OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&lock_path)
                .map_err(|e| io(&lock_path, e))?;
            match lock.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => return Err(SearchError::VectorLocked),
                Err(std::fs::TryLockError::Error(e)) => return Err(io(&lock_path, e)),
            }
            let fresh = !log_path.exists()
                || std::fs::metadata(&log_path).map(|m| m.len()).unwrap_or(0) == 0;
            let mut file = OpenOptions::new()
                .create(true)
                .truncate(false)
                .read(true)
                .write(true)
                .open(&log_path)
                .map_err(|e| io(&log_path, e))?;
            if fresh {
                file.write_all(&header(model, dim))
                    .map_err(|e| io(&log_path, e))?;
                file.sync_all().map_err(|e| io(&log_path, e))?;
            }
            Some((file, lock))
        } else {
            None
        };
        let mut rows = Rows {
            synced_seq: 0,
            ..Default::default()
        };
        if log_path.exists() {
            let good = read_log(&log_path, model, dim, &mut rows)?;
            if let Some((file, _)) = &writer {
                // Cut a torn tail so appends continue a whole log.
                if file.metadata().map_err(|e| io(&log_path, e))?.len() > good {
                    tracing::warn!(path = %log_path.display(), at = good, "cutting a torn record off the vector log");
                    file.set_len(good).map_err(|e| io(&log_path, e))?;
                }
            }
        }
        let writer = match writer {
            Some((mut file, lock)) => {
                file.seek(SeekFrom::End(0)).map_err(|e| io(&log_path, e))?;
                Some(Mutex::new(Writer {
                    file: BufWriter::with_capacity(1 << 20, file),
                    _lock: lock,
                }))
            }
            None => None,
        };
        let (rows, cells, ivf_mtime) = with_cells(dir, dim, rows);
        Ok(VectorIndex {
            dir: dir.to_path_buf(),
            model: model.to_string(),
            dim,
            probe_budget: std::sync::atomic::AtomicUsize::new(PROBE_BUDGET_CELLS),
            inner: RwLock::new(Inner {
                rows,
                cells,
                ivf_mtime,
            }),
            writer,
            log: None,
        })
    }

    /// Opens the index read-only for lookups: each paper's id, hash and
    /// length in memory, its codes read from the log when asked for
    /// (`vector_of`), searches scanning the log. For one-shot commands
    /// that read a few vectors of a large index (a digest run reads the
    /// period's papers and the members' libraries): a million 256-dimension
    /// vectors take ~290 MB in memory, their lookup entries ~45 MB.
    pub fn open_lookup(dir: &Path, model: &str, dim: usize) -> Result<Self, SearchError> {
        let log_path = dir.join("vectors.log");
        let mut rows = Rows {
            lookup: true,
            ..Default::default()
        };
        let log = if log_path.exists() {
            read_log(&log_path, model, dim, &mut rows)?;
            Some(File::open(&log_path).map_err(|e| io(&log_path, e))?)
        } else {
            None
        };
        Ok(VectorIndex {
            dir: dir.to_path_buf(),
            model: model.to_string(),
            dim,
            probe_budget: std::sync::atomic::AtomicUsize::new(PROBE_BUDGET_CELLS),
            inner: RwLock::new(Inner {
                rows,
                cells: None,
                ivf_mtime: None,
            }),
            writer: None,
            log,
        })
    }

    /// The codes of `row` (from memory, or from the log in lookup mode).
    fn codes_of<'a>(&self, rows: &'a Rows, row: usize, buf: &'a mut Vec<i8>) -> Option<&'a [i8]> {
        if !rows.lookup {
            return rows.codes.get(row * self.dim..(row + 1) * self.dim);
        }
        use std::os::unix::fs::FileExt;
        let mut bytes = vec![0u8; self.dim];
        self.log
            .as_ref()?
            .read_exact_at(&mut bytes, rows.at[row])
            .ok()?;
        buf.clear();
        buf.extend(bytes.iter().map(|&b| b as i8));
        Some(buf.as_slice())
    }

    /// How many average cells' worth of vectors a query scans (visiting
    /// at most nlist/12 cells per 128): the knob trading recall for time
    /// (256 by default: recall@10 0.967 at 1M papers; benchmarks turn it).
    pub fn set_probe_budget(&self, cells: usize) {
        self.probe_budget
            .store(cells.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    pub fn is_writable(&self) -> bool {
        self.writer.is_some()
    }

    pub fn model(&self) -> &str {
        &self.model
    }

    pub fn dim(&self) -> usize {
        self.dim
    }

    pub fn synced_seq(&self) -> i64 {
        self.read().rows.synced_seq
    }

    /// Papers with a vector.
    pub fn len(&self) -> usize {
        self.read().rows.ids.current()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The log's writer; an error when this process only reads.
    fn log_writer(&self) -> Result<std::sync::MutexGuard<'_, Writer>, SearchError> {
        let writer = self.writer.as_ref().ok_or_else(|| SearchError::Vector {
            path: self.dir.display().to_string(),
            reason: "opened read-only".into(),
        })?;
        Ok(writer.lock().unwrap_or_else(|p| p.into_inner()))
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Inner> {
        self.inner.write().unwrap_or_else(|p| p.into_inner())
    }

    /// The content hash the index holds for `id`, if any.
    pub fn hash_of(&self, id: &ArxivId) -> Option<u64> {
        let inner = self.read();
        inner
            .rows
            .ids
            .find(id.as_str())
            .map(|r| inner.rows.hashes[r as usize])
    }

    /// The paper at `row` of the log if its vector is current (benchmarks
    /// sample papers this way).
    pub fn id_at(&self, row: usize) -> Option<ArxivId> {
        let inner = self.read();
        let live = *inner.rows.live.get(row)?;
        live.then(|| inner.rows.ids.at(row)).flatten()
    }

    /// Rows in the log, current or superseded.
    pub fn rows(&self) -> usize {
        self.read().rows.ids.len()
    }

    /// Words in the abstract of `id`, as recorded with its vector.
    pub fn words_of(&self, id: &ArxivId) -> Option<u64> {
        let inner = self.read();
        inner
            .rows
            .ids
            .find(id.as_str())
            .map(|r| u64::from(inner.rows.words[r as usize]))
    }

    /// The stored (dequantised) vector of `id`.
    pub fn vector_of(&self, id: &ArxivId) -> Option<Vec<f32>> {
        let inner = self.read();
        let r = inner.rows.ids.find(id.as_str())? as usize;
        let s = inner.rows.scales[r];
        let mut buf = Vec::new();
        let codes = self.codes_of(&inner.rows, r, &mut buf)?;
        Some(codes.iter().map(|&c| c as f32 * s).collect())
    }

    /// Appends vectors and deletions, then records `seq` as synced; all of it
    /// is on disk (fsync) before this returns.
    pub fn apply(
        &self,
        upserts: &[VectorEntry],
        deletes: &[ArxivId],
        seq: i64,
    ) -> Result<(), SearchError> {
        let mut w = self.log_writer()?;
        let path = self.dir.join("vectors.log");
        let mut encoded = Vec::with_capacity(upserts.len());
        let mut buf = Vec::new();
        for e in upserts {
            if e.vector.len() != self.dim {
                return Err(io(
                    &path,
                    format!(
                        "a vector of {} dimensions for {}",
                        e.vector.len(),
                        e.arxiv_id
                    ),
                ));
            }
            let (scale, codes) = quantize(&e.vector);
            buf.clear();
            encode_upsert(
                &mut buf,
                &e.arxiv_id,
                e.content_hash,
                e.words,
                scale,
                &codes,
            );
            write_record(&mut w.file, &buf).map_err(|err| io(&path, err))?;
            encoded.push((scale, codes));
        }
        for id in deletes {
            buf.clear();
            buf.push(KIND_DELETE);
            push_id(&mut buf, id);
            write_record(&mut w.file, &buf).map_err(|err| io(&path, err))?;
        }
        buf.clear();
        buf.push(KIND_SEQ);
        buf.extend_from_slice(&seq.to_le_bytes());
        write_record(&mut w.file, &buf).map_err(|err| io(&path, err))?;
        w.file.flush().map_err(|err| io(&path, err))?;
        w.file.get_ref().sync_data().map_err(|err| io(&path, err))?;
        let len = w
            .file
            .get_ref()
            .metadata()
            .map_err(|err| io(&path, err))?
            .len();
        drop(w);

        let mut inner = self.write();
        let rows = &mut inner.rows;
        for (e, (scale, codes)) in upserts.iter().zip(encoded) {
            rows.push(e.arxiv_id.clone(), e.content_hash, e.words, scale, &codes);
        }
        for id in deletes {
            rows.delete(id);
        }
        rows.synced_seq = rows.synced_seq.max(seq);
        rows.log_len = len;
        Ok(())
    }

    /// Empties the index (a reindex starts here): a fresh log replaces the
    /// old one in one rename, so readers never see a mix.
    pub fn reset(&self) -> Result<(), SearchError> {
        let mut w = self.log_writer()?;
        let path = self.dir.join("vectors.log");
        let fresh = self.dir.join("vectors.log.new");
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .read(true)
            .write(true)
            .open(&fresh)
            .map_err(|e| io(&fresh, e))?;
        let head = header(&self.model, self.dim);
        file.write_all(&head).map_err(|e| io(&fresh, e))?;
        file.sync_all().map_err(|e| io(&fresh, e))?;
        std::fs::rename(&fresh, &path).map_err(|e| io(&path, e))?;
        let _ = std::fs::remove_file(self.dir.join("ivf.bin"));
        let ino = file.metadata().map_err(|e| io(&path, e))?.ino();
        w.file = BufWriter::with_capacity(1 << 20, file);
        let mut inner = self.write();
        inner.rows = Rows {
            log_len: head.len() as u64,
            log_ino: ino,
            ..Default::default()
        };
        inner.cells = None;
        inner.ivf_mtime = None;
        Ok(())
    }

    /// Reads what another process appended since the last look, and a
    /// rebuilt cell index if there is one. Cheap when nothing changed.
    pub fn refresh(&self) -> Result<(), SearchError> {
        if self.writer.is_some() {
            return Ok(());
        }
        let path = self.dir.join("vectors.log");
        let (len, ino) = std::fs::metadata(&path)
            .map(|m| (m.len(), m.ino()))
            .unwrap_or((0, 0));
        let ivf_mtime = std::fs::metadata(self.dir.join("ivf.bin"))
            .and_then(|m| m.modified())
            .ok();
        {
            let inner = self.read();
            if ino == inner.rows.log_ino
                && len <= inner.rows.log_len
                && ivf_mtime == inner.ivf_mtime
            {
                return Ok(());
            }
        }
        let mut inner = self.write();
        if inner.rows.lookup {
            // A lookup index is a moment's view; it is not followed.
            return Ok(());
        }
        if ino != inner.rows.log_ino || len < inner.rows.log_len || ivf_mtime != inner.ivf_mtime {
            // Replaced by a reindex, or new cells: read it all again.
            let mut rows = Rows::default();
            read_log(&path, &self.model, self.dim, &mut rows)?;
            let (rows, cells, m) = with_cells(&self.dir, self.dim, rows);
            inner.rows = rows;
            inner.cells = cells;
            inner.ivf_mtime = m;
        } else if len > inner.rows.log_len {
            read_log(&path, &self.model, self.dim, &mut inner.rows)?;
        }
        Ok(())
    }

    /// True when the vectors not covered by the cell index are many enough
    /// that a rebuild pays.
    pub fn needs_rebuild(&self) -> bool {
        let inner = self.read();
        let n = inner.rows.ids.len();
        let covered = inner.cells.as_ref().map_or(0, |c| c.tail);
        n > EXACT_LIMIT && n.saturating_sub(covered) > (covered / 4).max(EXACT_LIMIT)
    }

    /// The `k` vectors with the largest inner product with `query` (a unit
    /// vector) weighed by the short-document prior, best first by that,
    /// leaving out `exclude`; each with its plain inner product as score.
    pub fn search(&self, query: &[f32], k: usize, exclude: Option<&ArxivId>) -> Vec<Neighbour> {
        self.search_with(query, k, exclude, false)
    }

    /// [`VectorIndex::search`] scanning every vector (the cells' recall is
    /// measured against it).
    pub fn search_exact(
        &self,
        query: &[f32],
        k: usize,
        exclude: Option<&ArxivId>,
    ) -> Vec<Neighbour> {
        self.search_with(query, k, exclude, true)
    }

    /// The cells a search for `query` scans, closest first: in order of
    /// closeness until a budget of vectors is scanned (dense regions, where
    /// papers cluster, hold bigger cells, and a fixed count of cells would
    /// cost more there).
    fn probed(&self, cells: &cells::Cells, query: &[f32]) -> Vec<usize> {
        let mut order: Vec<(f32, usize)> = cells
            .centroids
            .chunks_exact(self.dim)
            .enumerate()
            .map(|(c, cen)| (dot_f32(query, cen), c))
            .collect();
        let probe = self.probe_budget.load(std::sync::atomic::Ordering::Relaxed);
        // At most nlist/12 cells per 128 cells' budget.
        let max_cells = (cells.nlist * probe / (12 * 128))
            .clamp(8, probe)
            .min(order.len());
        if max_cells == 0 {
            return Vec::new();
        }
        order.select_nth_unstable_by(max_cells - 1, |a, b| b.0.total_cmp(&a.0));
        let nearest = &mut order[..max_cells];
        nearest.sort_by(|a, b| b.0.total_cmp(&a.0));
        let budget = probe * cells.tail.max(1) / cells.nlist.max(1);
        let mut scanned = 0usize;
        let mut out = Vec::new();
        for (i, &(_, c)) in nearest.iter().enumerate() {
            if i >= MIN_PROBE && scanned >= budget {
                break;
            }
            let (a, b) = cells.ranges[c];
            out.push(c);
            scanned += (b - a) as usize;
        }
        out
    }

    /// [`VectorIndex::search`] for several queries at once, each answered
    /// as alone; a cell several of them scan is read once for all of them
    /// (a library's centres, which often share cells: the scan is bound by
    /// reading the vectors, not by the arithmetic).
    pub fn search_many(&self, queries: &[Vec<f32>], k: usize) -> Vec<Vec<Neighbour>> {
        if k == 0 || queries.iter().any(|q| q.len() != self.dim) {
            return queries.iter().map(|_| Vec::new()).collect();
        }
        let quantized: Vec<(f32, Vec<i8>)> = queries.iter().map(|q| quantize(q)).collect();
        let inner = self.read();
        let rows = &inner.rows;
        let n = rows.ids.len();
        let mut heaps: Vec<TopK> = queries.iter().map(|_| TopK::new(k)).collect();
        let mut buf = Vec::new();
        let mut consider = |r: usize, which: &mut dyn Iterator<Item = usize>| {
            if !rows.live[r] {
                return;
            }
            let Some(codes) = self.codes_of(rows, r, &mut buf) else {
                return;
            };
            let prior = crate::hybrid::length_prior(u64::from(rows.words[r]));
            for qi in which {
                let d = dot_i8(&quantized[qi].1, codes);
                heaps[qi].push(d as f32 * rows.scales[r] * prior, r as u32);
            }
        };
        match &inner.cells {
            Some(cells) if n > EXACT_LIMIT => {
                // Which queries scan each cell.
                let mut by_cell: Vec<Vec<usize>> = vec![Vec::new(); cells.ranges.len()];
                for (qi, q) in queries.iter().enumerate() {
                    for c in self.probed(cells, q) {
                        by_cell[c].push(qi);
                    }
                }
                for (c, which) in by_cell.iter().enumerate() {
                    if which.is_empty() {
                        continue;
                    }
                    let (a, b) = cells.ranges[c];
                    for r in a as usize..b as usize {
                        consider(r, &mut which.iter().copied());
                    }
                }
                for r in cells.tail.min(n)..n {
                    consider(r, &mut (0..queries.len()));
                }
            }
            _ => {
                for r in 0..n {
                    consider(r, &mut (0..queries.len()));
                }
            }
        }
        heaps
            .into_iter()
            .zip(&quantized)
            .map(|(heap, (qscale, _))| neighbours(rows, heap, *qscale))
            .collect()
    }

    fn search_with(
        &self,
        query: &[f32],
        k: usize,
        exclude: Option<&ArxivId>,
        exact: bool,
    ) -> Vec<Neighbour> {
        if query.len() != self.dim || k == 0 {
            return Vec::new();
        }
        let (qscale, q) = quantize(query);
        let inner = self.read();
        let rows = &inner.rows;
        let n = rows.ids.len();
        let skip = exclude
            .and_then(|id| rows.ids.find(id.as_str()))
            .map(|r| r as usize);
        let mut heap = TopK::new(k);
        let mut buf = Vec::new();
        let mut consider = |r: usize| {
            if !rows.live[r] || Some(r) == skip {
                return;
            }
            let Some(codes) = self.codes_of(rows, r, &mut buf) else {
                return;
            };
            let d = dot_i8(&q, codes);
            // Ranked with the short-document prior applied, so that a
            // crowd of one-line records close to the query cannot push
            // the papers out of the k kept (the score returned is the
            // plain cosine; callers apply the prior themselves).
            let prior = crate::hybrid::length_prior(u64::from(rows.words[r]));
            heap.push(d as f32 * rows.scales[r] * prior, r as u32);
        };
        match &inner.cells {
            Some(cells) if n > EXACT_LIMIT && !exact => {
                for c in self.probed(cells, query) {
                    let (a, b) = cells.ranges[c];
                    for r in a as usize..b as usize {
                        consider(r);
                    }
                }
                for r in cells.tail.min(n)..n {
                    consider(r);
                }
            }
            _ => {
                for r in 0..n {
                    consider(r);
                }
            }
        }
        neighbours(rows, heap, qscale)
    }
}

/// The rows a scan kept, best first, as neighbours: the plain cosine (the
/// ranking's short-document prior taken off again, see `search_with`).
fn neighbours(rows: &Rows, heap: TopK, qscale: f32) -> Vec<Neighbour> {
    heap.into_sorted()
        .into_iter()
        .filter_map(|(score, r)| {
            let words = rows.words[r as usize];
            Some(Neighbour {
                arxiv_id: rows.ids.at(r as usize)?,
                score: score * qscale / crate::hybrid::length_prior(u64::from(words)),
                words,
            })
        })
        .collect()
}

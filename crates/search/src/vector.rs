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

use std::collections::{BinaryHeap, HashMap};
use std::fs::{File, OpenOptions};
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, RwLock};
use std::time::SystemTime;

use paperboy_core::ArxivId;
use rayon::prelude::*;

const MAGIC: &[u8; 8] = b"PBVEC01\n";
const IVF_MAGIC: &[u8; 8] = b"PBIVF01\n";
/// A query scans about this many average cells' worth of vectors…
const PROBE_BUDGET_CELLS: usize = 128;
/// …but never fewer cells than this.
const MIN_PROBE: usize = 4;
/// Up to this many vectors, every query scans them all.
pub const EXACT_LIMIT: usize = 20_000;

const KIND_UPSERT: u8 = 1;
const KIND_DELETE: u8 = 2;
const KIND_SEQ: u8 = 3;

#[derive(Debug, thiserror::Error)]
pub enum VectorError {
    #[error("vector index at {path}: {reason}")]
    Io { path: String, reason: String },
    #[error("vector index at {path} holds vectors of `{found}` ({found_dim} dimensions), not `{want}` ({want_dim}); run `paperboy reindex`")]
    ModelMismatch {
        path: String,
        found: String,
        found_dim: usize,
        want: String,
        want_dim: usize,
    },
    #[error("the vector index is being written by another process (it holds vectors.lock)")]
    Locked,
}

fn io(path: &Path, e: impl std::fmt::Display) -> VectorError {
    VectorError::Io {
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

/// The cells as stored in `ivf.bin`: lists of log rows (the order of
/// upserts in the log).
struct Ivf {
    nlist: usize,
    /// `nlist × dim`, f32.
    centroids: Vec<f32>,
    lists: Vec<Vec<u32>>,
    /// Log rows below this are in the lists or superseded.
    covered: usize,
}

/// The cells in memory: each cell's vectors are stored side by side, so a
/// query reads a few contiguous runs rather than scattered rows.
struct Cells {
    nlist: usize,
    centroids: Vec<f32>,
    /// Row range of each cell.
    ranges: Vec<(u32, u32)>,
    /// Rows from here on arrived after the cells were built.
    tail: usize,
}

#[derive(Default)]
struct Rows {
    ids: Vec<ArxivId>,
    hashes: Vec<u64>,
    words: Vec<u16>,
    scales: Vec<f32>,
    codes: Vec<i8>,
    live: Vec<bool>,
    /// Each row's place among the log's upserts.
    log_row: Vec<u32>,
    /// Upserts read from or written to the log so far.
    appended: u32,
    by_id: HashMap<ArxivId, u32>,
    synced_seq: i64,
    /// How much of the log has been read, and which file it was (a
    /// reindex replaces the file).
    log_len: u64,
    log_ino: u64,
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
    inner: RwLock<Inner>,
    writer: Option<Mutex<Writer>>,
}

impl VectorIndex {
    /// Opens (or creates) the index in `dir` for vectors of `model`
    /// (`dim` dimensions). `writable` takes the writer lock.
    pub fn open(dir: &Path, model: &str, dim: usize, writable: bool) -> Result<Self, VectorError> {
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
                Err(std::fs::TryLockError::WouldBlock) => return Err(VectorError::Locked),
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
            inner: RwLock::new(Inner {
                rows,
                cells,
                ivf_mtime,
            }),
            writer,
        })
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
        self.read().rows.by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
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
            .by_id
            .get(id)
            .map(|&r| inner.rows.hashes[r as usize])
    }

    /// The paper at `row` of the log if its vector is current (benchmarks
    /// sample papers this way).
    pub fn id_at(&self, row: usize) -> Option<ArxivId> {
        let inner = self.read();
        let live = *inner.rows.live.get(row)?;
        live.then(|| inner.rows.ids[row].clone())
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
            .by_id
            .get(id)
            .map(|&r| u64::from(inner.rows.words[r as usize]))
    }

    /// The stored (dequantised) vector of `id`.
    pub fn vector_of(&self, id: &ArxivId) -> Option<Vec<f32>> {
        let inner = self.read();
        let r = *inner.rows.by_id.get(id)? as usize;
        let s = inner.rows.scales[r];
        Some(
            inner.rows.codes[r * self.dim..(r + 1) * self.dim]
                .iter()
                .map(|&c| c as f32 * s)
                .collect(),
        )
    }

    /// Appends vectors and deletions, then records `seq` as synced; all of it
    /// is on disk (fsync) before this returns.
    pub fn apply(
        &self,
        upserts: &[VectorEntry],
        deletes: &[ArxivId],
        seq: i64,
    ) -> Result<(), VectorError> {
        let writer = self.writer.as_ref().ok_or_else(|| VectorError::Io {
            path: self.dir.display().to_string(),
            reason: "opened read-only".into(),
        })?;
        let mut w = writer.lock().unwrap_or_else(|p| p.into_inner());
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
    pub fn reset(&self) -> Result<(), VectorError> {
        let writer = self.writer.as_ref().ok_or_else(|| VectorError::Io {
            path: self.dir.display().to_string(),
            reason: "opened read-only".into(),
        })?;
        let mut w = writer.lock().unwrap_or_else(|p| p.into_inner());
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
    pub fn refresh(&self) -> Result<(), VectorError> {
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

    /// Builds the cell index over every vector held now and writes it.
    pub fn build_cells(&self) -> Result<(), VectorError> {
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

    /// The `k` vectors with the largest inner product with `query` (a unit
    /// vector), best first, leaving out `exclude`.
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
            .and_then(|id| rows.by_id.get(id))
            .map(|&r| r as usize);
        let mut heap = TopK::new(k);
        let mut consider = |r: usize| {
            if !rows.live[r] || Some(r) == skip {
                return;
            }
            let d = dot_i8(&q, &rows.codes[r * self.dim..(r + 1) * self.dim]);
            heap.push(d as f32 * rows.scales[r], r as u32);
        };
        match &inner.cells {
            Some(cells) if n > EXACT_LIMIT && !exact => {
                // Cells in order of closeness until a budget of vectors is
                // scanned: dense regions (where papers cluster) hold bigger
                // cells, and a fixed count of cells would cost more there.
                let mut order: Vec<(f32, usize)> = cells
                    .centroids
                    .chunks_exact(self.dim)
                    .enumerate()
                    .map(|(c, cen)| (dot_f32(query, cen), c))
                    .collect();
                let max_cells = (cells.nlist / 12).clamp(8, 128).min(order.len());
                order.select_nth_unstable_by(max_cells - 1, |a, b| b.0.total_cmp(&a.0));
                let nearest = &mut order[..max_cells];
                nearest.sort_by(|a, b| b.0.total_cmp(&a.0));
                let budget = PROBE_BUDGET_CELLS * cells.tail.max(1) / cells.nlist.max(1);
                let mut scanned = 0usize;
                for (i, &(_, c)) in nearest.iter().enumerate() {
                    if i >= MIN_PROBE && scanned >= budget {
                        break;
                    }
                    let (a, b) = cells.ranges[c];
                    for r in a as usize..b as usize {
                        consider(r);
                    }
                    scanned += (b - a) as usize;
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
        heap.into_sorted()
            .into_iter()
            .map(|(score, r)| Neighbour {
                arxiv_id: rows.ids[r as usize].clone(),
                score: score * qscale,
                words: rows.words[r as usize],
            })
            .collect()
    }
}

impl Rows {
    fn push(&mut self, id: ArxivId, hash: u64, words: u16, scale: f32, codes: &[i8]) {
        let r = self.ids.len() as u32;
        if let Some(old) = self.by_id.insert(id.clone(), r) {
            self.live[old as usize] = false;
        }
        self.ids.push(id);
        self.hashes.push(hash);
        self.words.push(words);
        self.scales.push(scale);
        self.codes.extend_from_slice(codes);
        self.live.push(true);
        self.log_row.push(self.appended);
        self.appended += 1;
    }

    /// Reorders the rows cell by cell (`lists` holds current row numbers),
    /// followed by `tail` rows; rows in neither (superseded) are dropped.
    fn lay_out(
        self,
        dim: usize,
        nlist: usize,
        centroids: Vec<f32>,
        lists: &[Vec<u32>],
        tail: &[u32],
    ) -> (Rows, Cells) {
        let total = lists.iter().map(Vec::len).sum::<usize>() + tail.len();
        let mut out = Rows {
            ids: Vec::with_capacity(total),
            hashes: Vec::with_capacity(total),
            words: Vec::with_capacity(total),
            scales: Vec::with_capacity(total),
            codes: Vec::with_capacity(total * dim),
            live: Vec::with_capacity(total),
            log_row: Vec::with_capacity(total),
            appended: self.appended,
            by_id: HashMap::with_capacity(self.by_id.len()),
            synced_seq: self.synced_seq,
            log_len: self.log_len,
            log_ino: self.log_ino,
        };
        let take = |r: usize, out: &mut Rows| {
            let at = out.ids.len() as u32;
            if self.live[r] {
                out.by_id.insert(self.ids[r].clone(), at);
            }
            out.ids.push(self.ids[r].clone());
            out.hashes.push(self.hashes[r]);
            out.words.push(self.words[r]);
            out.scales.push(self.scales[r]);
            out.codes
                .extend_from_slice(&self.codes[r * dim..(r + 1) * dim]);
            out.live.push(self.live[r]);
            out.log_row.push(self.log_row[r]);
        };
        let mut ranges = Vec::with_capacity(lists.len());
        for l in lists {
            let start = out.ids.len() as u32;
            for &r in l {
                take(r as usize, &mut out);
            }
            ranges.push((start, out.ids.len() as u32));
        }
        let tail_start = out.ids.len();
        for &r in tail {
            take(r as usize, &mut out);
        }
        (
            out,
            Cells {
                nlist,
                centroids,
                ranges,
                tail: tail_start,
            },
        )
    }

    fn delete(&mut self, id: &ArxivId) {
        if let Some(old) = self.by_id.remove(id) {
            self.live[old as usize] = false;
        }
    }
}

fn header(model: &str, dim: usize) -> Vec<u8> {
    let mut h = Vec::new();
    h.extend_from_slice(MAGIC);
    h.extend_from_slice(&(dim as u32).to_le_bytes());
    h.extend_from_slice(&(model.len() as u16).to_le_bytes());
    h.extend_from_slice(model.as_bytes());
    h
}

fn push_id(buf: &mut Vec<u8>, id: &ArxivId) {
    let s = id.to_string();
    buf.push(s.len() as u8);
    buf.extend_from_slice(s.as_bytes());
}

fn encode_upsert(buf: &mut Vec<u8>, id: &ArxivId, hash: u64, words: u16, scale: f32, codes: &[i8]) {
    buf.push(KIND_UPSERT);
    push_id(buf, id);
    buf.extend_from_slice(&hash.to_le_bytes());
    buf.extend_from_slice(&words.to_le_bytes());
    buf.extend_from_slice(&scale.to_le_bytes());
    buf.extend(codes.iter().map(|&c| c as u8));
}

/// `[len u32][checksum u32][body]`.
fn write_record(w: &mut impl Write, body: &[u8]) -> std::io::Result<()> {
    w.write_all(&(body.len() as u32).to_le_bytes())?;
    w.write_all(&(xxhash_rust::xxh3::xxh3_64(body) as u32).to_le_bytes())?;
    w.write_all(body)
}

/// Reads the log from `rows.log_len` (or its start) and returns the offset
/// after the last whole record.
fn read_log(path: &Path, model: &str, dim: usize, rows: &mut Rows) -> Result<u64, VectorError> {
    let file = File::open(path).map_err(|e| io(path, e))?;
    let meta = file.metadata().map_err(|e| io(path, e))?;
    let total = meta.len();
    rows.log_ino = meta.ino();
    let mut r = BufReader::with_capacity(1 << 20, file);
    let mut pos;
    if rows.log_len == 0 {
        let mut magic = [0u8; 8];
        if r.read_exact(&mut magic).is_err() {
            return Ok(0);
        }
        if &magic != MAGIC {
            return Err(io(path, "not a Paperboy vector log"));
        }
        let mut b4 = [0u8; 4];
        let mut b2 = [0u8; 2];
        r.read_exact(&mut b4).map_err(|e| io(path, e))?;
        r.read_exact(&mut b2).map_err(|e| io(path, e))?;
        let found_dim = u32::from_le_bytes(b4) as usize;
        let mut name = vec![0u8; u16::from_le_bytes(b2) as usize];
        r.read_exact(&mut name).map_err(|e| io(path, e))?;
        let found = String::from_utf8_lossy(&name).into_owned();
        if found != model || found_dim != dim {
            return Err(VectorError::ModelMismatch {
                path: path.display().to_string(),
                found,
                found_dim,
                want: model.to_string(),
                want_dim: dim,
            });
        }
        pos = 8 + 4 + 2 + name.len() as u64;
    } else {
        pos = rows.log_len;
        r.seek(SeekFrom::Start(pos)).map_err(|e| io(path, e))?;
    }
    let mut head = [0u8; 8];
    let mut body = Vec::new();
    while pos + 8 <= total {
        if r.read_exact(&mut head).is_err() {
            break;
        }
        let len = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
        let sum = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        if pos + 8 + len as u64 > total || len == 0 || len > 1 << 20 {
            break;
        }
        body.resize(len, 0);
        if r.read_exact(&mut body).is_err() || xxhash_rust::xxh3::xxh3_64(&body) as u32 != sum {
            break;
        }
        if !apply_record(&body, dim, rows) {
            break;
        }
        pos += 8 + len as u64;
    }
    rows.log_len = pos;
    Ok(pos)
}

fn apply_record(body: &[u8], dim: usize, rows: &mut Rows) -> bool {
    let read_id = |b: &[u8]| -> Option<(ArxivId, usize)> {
        let n = *b.get(1)? as usize;
        let s = std::str::from_utf8(b.get(2..2 + n)?).ok()?;
        Some((ArxivId::parse(s).ok()?, 2 + n))
    };
    match body.first() {
        Some(&KIND_UPSERT) => {
            let Some((id, at)) = read_id(body) else {
                return false;
            };
            if body.len() != at + 8 + 2 + 4 + dim {
                return false;
            }
            let hash = u64::from_le_bytes(body[at..at + 8].try_into().unwrap_or_default());
            let words = u16::from_le_bytes([body[at + 8], body[at + 9]]);
            let scale = f32::from_le_bytes(body[at + 10..at + 14].try_into().unwrap_or_default());
            let codes: Vec<i8> = body[at + 14..].iter().map(|&b| b as i8).collect();
            rows.push(id, hash, words, scale, &codes);
            true
        }
        Some(&KIND_DELETE) => {
            let Some((id, _)) = read_id(body) else {
                return false;
            };
            rows.delete(&id);
            true
        }
        Some(&KIND_SEQ) if body.len() == 9 => {
            rows.synced_seq = i64::from_le_bytes(body[1..9].try_into().unwrap_or_default());
            true
        }
        _ => false,
    }
}

/// Reads `ivf.bin` beside a freshly read log and lays the rows out by cell.
fn with_cells(dir: &Path, dim: usize, rows: Rows) -> (Rows, Option<Cells>, Option<SystemTime>) {
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
            if (r as usize) >= n || seen[r as usize] {
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

#[inline]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
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

#[inline]
pub fn dot_f32(a: &[f32], b: &[f32]) -> f32 {
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

fn normalize(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    if n > 0.0 {
        v.iter_mut().for_each(|x| *x /= n);
    }
}

/// A bounded min-heap keeping the `k` best scores.
struct TopK {
    k: usize,
    heap: BinaryHeap<std::cmp::Reverse<(Ordered, u32)>>,
}

/// An f32 ordered by `total_cmp`, so scores can live in a heap.
#[derive(Clone, Copy)]
struct Ordered(f32);

impl PartialEq for Ordered {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == std::cmp::Ordering::Equal
    }
}

impl Eq for Ordered {}

impl PartialOrd for Ordered {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Ordered {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.total_cmp(&other.0)
    }
}

impl TopK {
    fn new(k: usize) -> Self {
        TopK {
            k,
            heap: BinaryHeap::with_capacity(k + 1),
        }
    }

    #[inline]
    fn push(&mut self, score: f32, row: u32) {
        if self.heap.len() < self.k {
            self.heap.push(std::cmp::Reverse((Ordered(score), row)));
        } else if let Some(std::cmp::Reverse((min, _))) = self.heap.peek() {
            if score > min.0 {
                self.heap.pop();
                self.heap.push(std::cmp::Reverse((Ordered(score), row)));
            }
        }
    }

    fn into_sorted(self) -> Vec<(f32, u32)> {
        let mut v: Vec<(f32, u32)> = self
            .heap
            .into_iter()
            .map(|std::cmp::Reverse((s, r))| (s.0, r))
            .collect();
        v.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn id(i: usize) -> ArxivId {
        ArxivId::parse(&format!("2401.{:05}", i)).unwrap()
    }

    fn unit(seed: usize, dim: usize) -> Vec<f32> {
        let mut x = (seed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut v: Vec<f32> = (0..dim)
            .map(|_| {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                (x % 2001) as f32 / 1000.0 - 1.0
            })
            .collect();
        normalize(&mut v);
        v
    }

    fn entry(i: usize, dim: usize) -> VectorEntry {
        VectorEntry {
            arxiv_id: id(i),
            content_hash: i as u64,
            words: 100,
            vector: unit(i, dim),
        }
    }

    #[test]
    fn finds_a_vector_by_itself_and_survives_reopen_and_torn_tail() {
        let dir = tempfile::tempdir().unwrap();
        let dim = 32;
        {
            let ix = VectorIndex::open(dir.path(), "m", dim, true).unwrap();
            let batch: Vec<_> = (1..=50).map(|i| entry(i, dim)).collect();
            ix.apply(&batch, &[], 7).unwrap();
            ix.apply(&[], &[id(3)], 8).unwrap();
            let hits = ix.search(&unit(10, dim), 3, None);
            assert_eq!(hits[0].arxiv_id, id(10));
            assert!(hits[0].score > 0.98, "{}", hits[0].score);
            let hits = ix.search(&unit(10, dim), 3, Some(&id(10)));
            assert!(hits.iter().all(|h| h.arxiv_id != id(10)));
        }
        // A torn record at the end (a crash mid-append) is cut off.
        let log = dir.path().join("vectors.log");
        let mut f = OpenOptions::new().append(true).open(&log).unwrap();
        f.write_all(&[200, 1, 0, 0, 1, 2, 3]).unwrap();
        drop(f);
        let ix = VectorIndex::open(dir.path(), "m", dim, true).unwrap();
        assert_eq!(ix.synced_seq(), 8);
        assert_eq!(ix.len(), 49);
        assert!(ix.search(&unit(3, dim), 1, None)[0].arxiv_id != id(3));
        ix.apply(&[entry(60, dim)], &[], 9).unwrap();
        drop(ix);
        let ix = VectorIndex::open(dir.path(), "m", dim, false).unwrap();
        assert_eq!(ix.len(), 50);
        assert_eq!(ix.search(&unit(60, dim), 1, None)[0].arxiv_id, id(60));
        // Another model's vectors are refused, naming both.
        let err = VectorIndex::open(dir.path(), "other", dim, false)
            .err()
            .unwrap();
        assert!(err.to_string().contains("other"), "{err}");
    }

    #[test]
    fn only_one_writer() {
        let dir = tempfile::tempdir().unwrap();
        let _w = VectorIndex::open(dir.path(), "m", 8, true).unwrap();
        assert!(matches!(
            VectorIndex::open(dir.path(), "m", 8, true),
            Err(VectorError::Locked)
        ));
        assert!(VectorIndex::open(dir.path(), "m", 8, false).is_ok());
    }

    #[test]
    fn cell_index_agrees_with_the_exact_scan() {
        let dir = tempfile::tempdir().unwrap();
        let dim = 16;
        let n = EXACT_LIMIT + 5_000;
        let ix = VectorIndex::open(dir.path(), "m", dim, true).unwrap();
        // Clustered data, as embeddings are: 50 topics with noise.
        let batch: Vec<_> = (0..n)
            .map(|i| {
                let mut v = unit(i % 50 + 1_000_000, dim);
                for (a, b) in v.iter_mut().zip(unit(i, dim)) {
                    *a += 0.3 * b;
                }
                normalize(&mut v);
                VectorEntry {
                    arxiv_id: ArxivId::parse(&format!("2401.{:05}", i)).unwrap(),
                    content_hash: 0,
                    words: 10,
                    vector: v,
                }
            })
            .collect();
        ix.apply(&batch, &[], 1).unwrap();
        let queries: Vec<Vec<f32>> = (0..40).map(|i| batch[i * 613].vector.clone()).collect();
        let exact: Vec<Vec<ArxivId>> = queries
            .iter()
            .map(|q| {
                ix.search(q, 10, None)
                    .into_iter()
                    .map(|h| h.arxiv_id)
                    .collect()
            })
            .collect();
        assert!(ix.needs_rebuild());
        ix.build_cells().unwrap();
        assert!(!ix.needs_rebuild());
        let mut found = 0;
        for (q, want) in queries.iter().zip(&exact) {
            let got: Vec<ArxivId> = ix
                .search(q, 10, None)
                .into_iter()
                .map(|h| h.arxiv_id)
                .collect();
            found += want.iter().filter(|w| got.contains(w)).count();
        }
        let recall = found as f64 / 400.0;
        assert!(recall >= 0.9, "recall@10 of the cell index: {recall}");
        // Updates after the build: paper 5 gets a new vector, paper 7 goes.
        let moved = unit(999_999, dim);
        let update = VectorEntry {
            arxiv_id: batch[5].arxiv_id.clone(),
            content_hash: 1,
            words: 10,
            vector: moved.clone(),
        };
        ix.apply(&[update], &[batch[7].arxiv_id.clone()], 2)
            .unwrap();
        assert_eq!(ix.search(&moved, 1, None)[0].arxiv_id, batch[5].arxiv_id);
        assert_eq!(ix.len(), n - 1);
        // A reader in another process lays the same cells out from disk.
        let reader = VectorIndex::open(dir.path(), "m", dim, false).unwrap();
        assert_eq!(reader.len(), n - 1);
        assert_eq!(reader.hash_of(&batch[5].arxiv_id), Some(1));
        assert_eq!(
            reader.search(&moved, 1, None)[0].arxiv_id,
            batch[5].arxiv_id
        );
        for q in &queries {
            let a: Vec<ArxivId> = reader
                .search(q, 10, None)
                .into_iter()
                .map(|h| h.arxiv_id)
                .collect();
            let b: Vec<ArxivId> = ix
                .search(q, 10, None)
                .into_iter()
                .map(|h| h.arxiv_id)
                .collect();
            assert_eq!(a, b);
            assert!(!a.contains(&batch[7].arxiv_id));
        }
    }
}

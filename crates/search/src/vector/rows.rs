//! The vectors in memory: one row per upsert read or written, superseded
//! rows marked dead, rows laid out cell by cell once cells exist.

use std::hash::BuildHasher;

use hashbrown::HashTable;
use paperboy_core::ArxivId;

use super::cells::Cells;

#[derive(Default)]
pub(super) struct Rows {
    pub(super) ids: Ids,
    pub(super) hashes: Vec<u64>,
    pub(super) words: Vec<u16>,
    pub(super) scales: Vec<f32>,
    pub(super) codes: Vec<i8>,
    /// Lookup mode ([`super::VectorIndex::open_lookup`]): the codes stay in
    /// the log, and `at` holds where each row's codes are in it.
    pub(super) lookup: bool,
    pub(super) at: Vec<u64>,
    pub(super) live: Vec<bool>,
    /// Each row's place among the log's upserts.
    pub(super) log_row: Vec<u32>,
    /// Upserts read from or written to the log so far.
    pub(super) appended: u32,
    pub(super) synced_seq: i64,
    /// How much of the log has been read, and which file it was (a
    /// reindex replaces the file).
    pub(super) log_len: u64,
    pub(super) log_ino: u64,
}

/// The rows' paper ids, packed: every id in one string, where each ends,
/// and a hash table of the current rows found by their id. A million ids
/// take ~20 MB this way; a `Vec<ArxivId>` beside a `HashMap<ArxivId, u32>`
/// took ~125 MB (two heap strings and their headers per paper).
#[derive(Default)]
pub(super) struct Ids {
    text: String,
    ends: Vec<u32>,
    /// Row numbers of the current (live) rows.
    current: HashTable<u32>,
    hasher: rustc_hash::FxBuildHasher,
}

impl Ids {
    /// Rows, current or superseded.
    pub(super) fn len(&self) -> usize {
        self.ends.len()
    }

    /// Papers with a current row.
    pub(super) fn current(&self) -> usize {
        self.current.len()
    }

    pub(super) fn str_at(&self, row: usize) -> &str {
        str_in(&self.text, &self.ends, row as u32)
    }

    /// The id of `row` (stored ids were parsed once; they parse again).
    pub(super) fn at(&self, row: usize) -> Option<ArxivId> {
        ArxivId::parse(self.str_at(row)).ok()
    }

    /// The current row of `id`.
    pub(super) fn find(&self, id: &str) -> Option<u32> {
        let h = self.hasher.hash_one(id);
        self.current
            .find(h, |&r| self.str_at(r as usize) == id)
            .copied()
    }

    fn reserve(&mut self, n: usize) {
        // New-style ids are ten bytes.
        self.text.reserve(n * 10);
        self.ends.reserve(n);
        let (text, ends, hasher) = (&self.text, &self.ends, &self.hasher);
        self.current
            .reserve(n, |&r| hasher.hash_one(str_in(text, ends, r)));
    }

    /// Appends a row for `id`, which becomes its current row; returns the
    /// row it supersedes.
    fn push(&mut self, id: &str) -> Option<u32> {
        let row = self.ends.len() as u32;
        self.text.push_str(id);
        self.ends.push(self.text.len() as u32);
        self.make_current(row)
    }

    /// Makes `row` the current row of its id; returns the row it replaces.
    fn make_current(&mut self, row: u32) -> Option<u32> {
        let (text, ends, hasher) = (&self.text, &self.ends, &self.hasher);
        let id = str_in(text, ends, row);
        let h = hasher.hash_one(id);
        let entry = self.current.entry(
            h,
            |&r| str_in(text, ends, r) == id,
            |&r| hasher.hash_one(str_in(text, ends, r)),
        );
        match entry {
            hashbrown::hash_table::Entry::Occupied(mut e) => {
                Some(std::mem::replace(e.get_mut(), row))
            }
            hashbrown::hash_table::Entry::Vacant(e) => {
                e.insert(row);
                None
            }
        }
    }

    /// Forgets `id`'s current row; returns it.
    fn remove(&mut self, id: &str) -> Option<u32> {
        let h = self.hasher.hash_one(id);
        let (text, ends) = (&self.text, &self.ends);
        self.current
            .find_entry(h, |&r| str_in(text, ends, r) == id)
            .ok()
            .map(|e| e.remove().0)
    }
}

fn str_in<'a>(text: &'a str, ends: &[u32], row: u32) -> &'a str {
    let row = row as usize;
    let start = if row == 0 { 0 } else { ends[row - 1] as usize };
    &text[start..ends[row] as usize]
}

impl Rows {
    /// Room for `n` more rows of `dim` codes, so that reading a large log
    /// does not grow (and copy) the vectors again and again.
    pub(super) fn reserve(&mut self, n: usize, dim: usize) {
        self.ids.reserve(n);
        self.hashes.reserve(n);
        self.words.reserve(n);
        self.scales.reserve(n);
        if self.lookup {
            self.at.reserve(n);
        } else {
            self.codes.reserve(n * dim);
        }
        self.live.reserve(n);
        self.log_row.reserve(n);
    }

    pub(super) fn push(&mut self, id: ArxivId, hash: u64, words: u16, scale: f32, codes: &[i8]) {
        self.push_meta(id, hash, words, scale);
        self.codes.extend_from_slice(codes);
    }

    /// A row whose codes stay in the log at byte `at` (lookup mode).
    pub(super) fn push_at(&mut self, id: ArxivId, hash: u64, words: u16, scale: f32, at: u64) {
        self.push_meta(id, hash, words, scale);
        self.at.push(at);
    }

    fn push_meta(&mut self, id: ArxivId, hash: u64, words: u16, scale: f32) {
        if let Some(old) = self.ids.push(id.as_str()) {
            self.live[old as usize] = false;
        }
        self.hashes.push(hash);
        self.words.push(words);
        self.scales.push(scale);
        self.live.push(true);
        self.log_row.push(self.appended);
        self.appended += 1;
    }

    /// Reorders the rows cell by cell (`lists` holds current row numbers),
    /// followed by `tail` rows; rows in neither (superseded) are dropped.
    /// No row may appear twice. The vectors move in place: a second copy
    /// of them, even for a moment, would double the index's peak memory.
    pub(super) fn lay_out(
        mut self,
        dim: usize,
        nlist: usize,
        centroids: Vec<f32>,
        lists: &[Vec<u32>],
        tail: &[u32],
    ) -> (Rows, Cells) {
        let n = self.ids.len();
        // order[i]: the row that goes to place i.
        let mut order: Vec<u32> = Vec::with_capacity(n);
        let mut ranges = Vec::with_capacity(lists.len());
        for l in lists {
            let start = order.len() as u32;
            order.extend_from_slice(l);
            ranges.push((start, order.len() as u32));
        }
        let tail_start = order.len();
        order.extend_from_slice(tail);
        let kept = order.len();
        // The dropped rows go last, so that `order` is a permutation.
        let mut placed = vec![false; n];
        for &r in &order {
            placed[r as usize] = true;
        }
        order.extend((0..n as u32).filter(|&r| !placed[r as usize]));
        drop(placed);
        permute_rows(&mut self.codes, dim, &order);
        self.codes.truncate(kept * dim);
        self.codes.shrink_to_fit();
        let order = &order[..kept];
        fn gather<T: Copy>(v: &[T], order: &[u32]) -> Vec<T> {
            order.iter().map(|&r| v[r as usize]).collect()
        }
        let mut ids = Ids {
            text: String::with_capacity(self.ids.text.len()),
            ends: Vec::with_capacity(kept),
            current: HashTable::with_capacity(self.ids.current()),
            hasher: self.ids.hasher,
        };
        for (at, &r) in order.iter().enumerate() {
            ids.text.push_str(self.ids.str_at(r as usize));
            ids.ends.push(ids.text.len() as u32);
            if self.live[r as usize] {
                ids.make_current(at as u32);
            }
        }
        let out = Rows {
            ids,
            hashes: gather(&self.hashes, order),
            words: gather(&self.words, order),
            scales: gather(&self.scales, order),
            codes: self.codes,
            lookup: false,
            at: Vec::new(),
            live: gather(&self.live, order),
            log_row: gather(&self.log_row, order),
            appended: self.appended,
            synced_seq: self.synced_seq,
            log_len: self.log_len,
            log_ino: self.log_ino,
        };
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

    pub(super) fn delete(&mut self, id: &ArxivId) {
        if let Some(old) = self.ids.remove(id.as_str()) {
            self.live[old as usize] = false;
        }
    }
}

/// Moves `dim`-wide rows so that place `i` holds what row `order[i]` held
/// (`order` a permutation), following each cycle with one spare row.
fn permute_rows(codes: &mut [i8], dim: usize, order: &[u32]) {
    let mut done = vec![false; order.len()];
    let mut spare = vec![0i8; dim];
    for start in 0..order.len() {
        if done[start] {
            continue;
        }
        spare.copy_from_slice(&codes[start * dim..(start + 1) * dim]);
        let mut at = start;
        loop {
            done[at] = true;
            let from = order[at] as usize;
            if from == start || done[from] {
                // `done[from]` only if `order` repeats a row (a caller's
                // bug): stop rather than loop for ever.
                codes[at * dim..(at + 1) * dim].copy_from_slice(&spare);
                break;
            }
            codes.copy_within(from * dim..(from + 1) * dim, at * dim);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_permuted_in_place() {
        let dim = 3;
        let n = 7;
        let codes: Vec<i8> = (0..n * dim).map(|x| x as i8).collect();
        let order = [3u32, 0, 6, 5, 1, 2, 4];
        let mut moved = codes.clone();
        permute_rows(&mut moved, dim, &order);
        for (i, &r) in order.iter().enumerate() {
            assert_eq!(
                &moved[i * dim..(i + 1) * dim],
                &codes[r as usize * dim..(r as usize + 1) * dim]
            );
        }
    }

    #[test]
    fn packed_ids_find_their_current_rows() {
        let mut ids = Ids::default();
        assert_eq!(ids.push("2203.05482"), None);
        assert_eq!(ids.push("hep-th/9901001"), None);
        assert_eq!(ids.push("2203.05482"), Some(0));
        assert_eq!(ids.find("2203.05482"), Some(2));
        assert_eq!(ids.find("hep-th/9901001"), Some(1));
        assert_eq!(ids.find("2203.0548"), None);
        assert_eq!((ids.len(), ids.current()), (3, 2));
        assert_eq!(ids.remove("hep-th/9901001"), Some(1));
        assert_eq!(ids.find("hep-th/9901001"), None);
        assert_eq!(ids.at(1).unwrap().as_str(), "hep-th/9901001");
        assert_eq!(ids.str_at(0), "2203.05482");
    }
}

//! The vectors in memory: one row per upsert read or written, superseded
//! rows marked dead, rows laid out cell by cell once cells exist.

use std::collections::HashMap;

use paperboy_core::ArxivId;

use super::cells::Cells;

#[derive(Default)]
pub(super) struct Rows {
    pub(super) ids: Vec<ArxivId>,
    pub(super) hashes: Vec<u64>,
    pub(super) words: Vec<u16>,
    pub(super) scales: Vec<f32>,
    pub(super) codes: Vec<i8>,
    pub(super) live: Vec<bool>,
    /// Each row's place among the log's upserts.
    pub(super) log_row: Vec<u32>,
    /// Upserts read from or written to the log so far.
    pub(super) appended: u32,
    pub(super) by_id: HashMap<ArxivId, u32>,
    pub(super) synced_seq: i64,
    /// How much of the log has been read, and which file it was (a
    /// reindex replaces the file).
    pub(super) log_len: u64,
    pub(super) log_ino: u64,
}

impl Rows {
    pub(super) fn push(&mut self, id: ArxivId, hash: u64, words: u16, scale: f32, codes: &[i8]) {
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
    pub(super) fn lay_out(
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

    pub(super) fn delete(&mut self, id: &ArxivId) {
        if let Some(old) = self.by_id.remove(id) {
            self.live[old as usize] = false;
        }
    }
}

//! Keeping the `k` best scores of a scan.

use std::collections::BinaryHeap;

/// A bounded min-heap keeping the `k` best scores.
pub(super) struct TopK {
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
    pub(super) fn new(k: usize) -> Self {
        TopK {
            k,
            heap: BinaryHeap::with_capacity(k + 1),
        }
    }

    #[inline]
    pub(super) fn push(&mut self, score: f32, row: u32) {
        if self.heap.len() < self.k {
            self.heap.push(std::cmp::Reverse((Ordered(score), row)));
        } else if let Some(std::cmp::Reverse((min, _))) = self.heap.peek() {
            if score > min.0 {
                self.heap.pop();
                self.heap.push(std::cmp::Reverse((Ordered(score), row)));
            }
        }
    }

    pub(super) fn into_sorted(self) -> Vec<(f32, u32)> {
        let mut v: Vec<(f32, u32)> = self
            .heap
            .into_iter()
            .map(|std::cmp::Reverse((s, r))| (s.0, r))
            .collect();
        v.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        v
    }
}

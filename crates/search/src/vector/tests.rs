//! The vector index against its own exact scan, reopened, torn and locked.

use std::fs::OpenOptions;
use std::io::Write;

use paperboy_core::ArxivId;

use super::quant::normalize;
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
        Err(SearchError::VectorLocked)
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
    // Neighbours of the exact scan the index finds, over all queries.
    let found_by = |ix: &VectorIndex| -> usize {
        queries
            .iter()
            .zip(&exact)
            .map(|(q, want)| {
                let got: Vec<ArxivId> = ix
                    .search(q, 10, None)
                    .into_iter()
                    .map(|h| h.arxiv_id)
                    .collect();
                want.iter().filter(|w| got.contains(w)).count()
            })
            .sum()
    };
    let found = found_by(&ix);
    let recall = found as f64 / 400.0;
    assert!(recall >= 0.9, "recall@10 of the cell index: {recall}");
    // A bigger probe budget scans more and finds at least as much.
    ix.set_probe_budget(100_000);
    let wider = found_by(&ix);
    assert!(wider >= found && wider == 400, "{wider} vs {found}");
    ix.set_probe_budget(PROBE_BUDGET_CELLS);
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
    // Several queries at once (cells and the tail after them) answer as
    // each alone.
    let mut many = queries.clone();
    many.push(moved.clone());
    let together = ix.search_many(&many, 10);
    assert_eq!(together.len(), many.len());
    for (q, got) in many.iter().zip(&together) {
        let alone = ix.search(q, 10, None);
        let key = |hits: &[crate::vector::Neighbour]| -> Vec<(ArxivId, u32)> {
            hits.iter()
                .map(|h| (h.arxiv_id.clone(), h.score.to_bits()))
                .collect()
        };
        assert_eq!(key(got), key(&alone));
    }
    assert_eq!(together.last().unwrap()[0].arxiv_id, batch[5].arxiv_id);
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

#[test]
fn a_crowd_of_short_records_cannot_push_a_paper_out_of_the_k_kept() {
    let dir = tempfile::tempdir().unwrap();
    let dim = 32;
    let ix = VectorIndex::open(dir.path(), "m", dim, true).unwrap();
    let q = unit(7, dim);
    // 500 one-line records very close to the query, and one abstract that
    // is less close but a paper.
    let mut batch: Vec<VectorEntry> = (0..500)
        .map(|i| {
            let mut v = q.clone();
            for (a, b) in v.iter_mut().zip(unit(1000 + i, dim)) {
                *a += 0.2 * b;
            }
            normalize(&mut v);
            VectorEntry {
                arxiv_id: id(i),
                content_hash: 0,
                words: 10,
                vector: v,
            }
        })
        .collect();
    let mut paper = q.clone();
    for (a, b) in paper.iter_mut().zip(unit(99_999, dim)) {
        *a += 0.9 * b;
    }
    normalize(&mut paper);
    let cosine: f32 = paper.iter().zip(&q).map(|(a, b)| a * b).sum();
    batch.push(VectorEntry {
        arxiv_id: id(900),
        content_hash: 0,
        words: 150,
        vector: paper,
    });
    ix.apply(&batch, &[], 1).unwrap();
    let found = ix.search(&q, 5, None);
    assert_eq!(found[0].arxiv_id, id(900), "{found:?}");
    // The score is the plain inner product; the order is by the prior.
    assert!(
        (found[0].score - cosine).abs() < 0.02,
        "{} vs {cosine}",
        found[0].score
    );
    assert!(found[1].score > found[0].score);
}

#[test]
fn a_lookup_index_answers_as_the_loaded_one_without_holding_the_codes() {
    let dir = tempfile::tempdir().unwrap();
    let dim = 32;
    let ix = VectorIndex::open(dir.path(), "m", dim, true).unwrap();
    let batch: Vec<_> = (1..=300).map(|i| entry(i, dim)).collect();
    ix.apply(&batch, &[], 5).unwrap();
    // A paper updated and one deleted: the lookup sees the current rows.
    let mut changed = entry(7, dim);
    changed.vector = unit(1007, dim);
    changed.content_hash = 1007;
    ix.apply(&[changed], &[id(9)], 6).unwrap();
    let look = VectorIndex::open_lookup(dir.path(), "m", dim).unwrap();
    assert!(look.read().rows.codes.is_empty(), "no codes in memory");
    assert_eq!(look.len(), ix.len());
    assert_eq!(look.synced_seq(), 6);
    for i in [1, 7, 150, 300] {
        assert_eq!(look.vector_of(&id(i)), ix.vector_of(&id(i)), "row {i}");
        assert_eq!(look.hash_of(&id(i)), ix.hash_of(&id(i)));
    }
    assert!(look.vector_of(&id(9)).is_none());
    let q = unit(42, dim);
    let order = |hits: Vec<Neighbour>| hits.into_iter().map(|h| h.arxiv_id).collect::<Vec<_>>();
    assert_eq!(
        order(look.search(&q, 10, None)),
        order(ix.search_exact(&q, 10, None))
    );
    // A missing index is an empty one.
    let empty = VectorIndex::open_lookup(&dir.path().join("none"), "m", dim).unwrap();
    assert!(empty.is_empty());
}

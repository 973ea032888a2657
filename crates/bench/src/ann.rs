//! Our k-means cells against a maintained HNSW implementation (`hnsw_rs`)
//! on the same vectors: build time, memory, recall@10 against the exact
//! scan, and latency per query.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use hnsw_rs::prelude::{DistDot, Hnsw};
use paperboy_search::VectorIndex;
use rand::{Rng, SeedableRng};

use crate::semantic::percentiles;

/// Resident and anonymous memory of this process, in MB.
fn memory_mb() -> (f64, f64) {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map_or(0.0, |kb| kb / 1024.0)
    };
    (field("VmRSS:"), field("RssAnon:"))
}

pub fn compare(
    vectors_dir: &Path,
    model: &str,
    dim: usize,
    queries: usize,
    m: usize,
    ef_construction: usize,
    ef_search: &[usize],
) -> anyhow::Result<()> {
    let ix = VectorIndex::open(vectors_dir, model, dim, false)
        .with_context(|| format!("opening {}", vectors_dir.display()))?;
    let rows = ix.rows();
    let mut ids = Vec::with_capacity(rows);
    let mut data: Vec<Vec<f32>> = Vec::with_capacity(rows);
    for r in 0..rows {
        if let Some(id) = ix.id_at(r) {
            if let Some(v) = ix.vector_of(&id) {
                ids.push(id);
                data.push(v);
            }
        }
    }
    let n = data.len();
    anyhow::ensure!(n > 0, "no vectors in {}", vectors_dir.display());
    let row_of: std::collections::HashMap<paperboy_core::ArxivId, usize> =
        ids.iter().cloned().zip(0..).collect();
    let (rss0, anon0) = memory_mb();
    println!("{n} vectors of {dim} dimensions; process RSS {rss0:.0} MB (anon {anon0:.0})");

    let started = Instant::now();
    let layers = 16.min((n as f32).ln().trunc() as usize);
    let hnsw = Hnsw::<f32, DistDot>::new(m, n, layers, ef_construction, DistDot {});
    // DistDot is 1 − a·b and insists on it being ≥ 0; dequantised vectors
    // are only nearly unit length, so the graph gets them normalised and
    // scaled by 0.999 (the same order, the same neighbours).
    let scaled: Vec<Vec<f32>> = data
        .iter()
        .map(|v| {
            let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-6);
            v.iter().map(|x| x / norm * 0.999).collect()
        })
        .collect();
    let with_ids: Vec<(&Vec<f32>, usize)> = scaled.iter().zip(0..n).collect();
    hnsw.parallel_insert(&with_ids);
    let build = started.elapsed().as_secs_f64();
    let (rss1, anon1) = memory_mb();
    println!(
        "hnsw_rs M {m}, ef_construction {ef_construction}: built in {build:.1}s on all cores; +{:.0} MB RSS (+{:.0} anon) beyond one f32 copy of the vectors (includes a second, scaled copy)",
        rss1 - rss0,
        anon1 - anon0
    );

    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let picks: Vec<usize> = (0..queries).map(|_| rng.gen_range(0..n)).collect();
    let exact: Vec<Vec<usize>> = picks
        .iter()
        .map(|&p| {
            ix.search_exact(&data[p], 10, Some(&ids[p]))
                .into_iter()
                .filter_map(|nb| row_of.get(&nb.arxiv_id).copied())
                .collect()
        })
        .collect();
    // The graph knows nothing of the short-document prior: its neighbours
    // are judged against a plain brute-force scan.
    let plain: Vec<Vec<usize>> = picks
        .iter()
        .map(|&p| {
            let mut best: Vec<(f32, usize)> = data
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != p)
                .map(|(i, v)| (paperboy_embed::dot(v, &data[p]), i))
                .collect();
            best.select_nth_unstable_by(10, |a, b| b.0.total_cmp(&a.0));
            best.truncate(10);
            best.into_iter().map(|(_, i)| i).collect()
        })
        .collect();
    let recall_against = |truth: &[Vec<usize>], found: &[Vec<usize>]| {
        let hit: usize = found
            .iter()
            .zip(truth)
            .map(|(f, e)| e.iter().filter(|x| f.contains(x)).count())
            .sum();
        hit as f64 / truth.iter().map(Vec::len).sum::<usize>().max(1) as f64
    };
    let recall = |found: &[Vec<usize>]| recall_against(&exact, found);

    // Cells (what serving uses).
    let started = Instant::now();
    let mut times = Vec::new();
    let mut found = Vec::new();
    for &p in &picks {
        let t = Instant::now();
        let got = ix.search(&data[p], 10, Some(&ids[p]));
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        found.push(
            got.into_iter()
                .filter_map(|nb| row_of.get(&nb.arxiv_id).copied())
                .collect::<Vec<_>>(),
        );
    }
    println!("cells recall@10 {:.3}", recall(&found));
    percentiles("cells search (10)", times, started);

    for &ef in ef_search {
        let started = Instant::now();
        let mut times = Vec::new();
        let mut found = Vec::new();
        for &p in &picks {
            let t = Instant::now();
            let got = hnsw.search(&scaled[p], 11, ef);
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            found.push(
                got.into_iter()
                    .map(|nb| nb.d_id)
                    .filter(|&i| i != p)
                    .take(10)
                    .collect::<Vec<_>>(),
            );
        }
        println!(
            "hnsw ef {ef} recall@10 {:.3} (against the plain scan)",
            recall_against(&plain, &found)
        );
        percentiles(&format!("hnsw search ef {ef} (10)"), times, started);
    }
    Ok(())
}

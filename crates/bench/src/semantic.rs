//! Benchmarks of search by meaning: hybrid and related-paper latency over
//! a data directory's indexes, and embedding throughput of both embedders.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use paperboy_embed::{Embedder, Precision, StaticModel, Transformer};
use paperboy_search::engine::{Engine, Mode, Semantic};
use paperboy_search::{KeywordIndex, VectorIndex};
use rand::{Rng, SeedableRng};

use crate::gen;

pub(crate) fn percentiles(label: &str, mut times: Vec<f64>, started: Instant) {
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "{label}: {} runs in {:.1}s: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        times.len(),
        started.elapsed().as_secs_f64(),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        times[times.len() - 1]
    );
}

/// The engine over `<data_dir>/index/keyword` and the vector index of the
/// static model in `model` (read-only; an error when there are no vectors).
pub(crate) fn open_engine(
    data_dir: &Path,
    model: &Path,
) -> anyhow::Result<(Engine, Arc<VectorIndex>)> {
    let keyword = Arc::new(
        KeywordIndex::open(&data_dir.join("index").join("keyword"), false)
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let embedder: Arc<dyn Embedder> = if model.as_os_str() == "builtin" {
        Arc::new(paperboy_embed::Builtin::new())
    } else {
        let name = model
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("static")
            .to_string();
        Arc::new(StaticModel::load(model)?.with_name(name))
    };
    let name = embedder.name().to_string();
    let vectors = Arc::new(VectorIndex::open(
        &data_dir.join("index").join("vectors").join(&name),
        &name,
        embedder.dim(),
        false,
    )?);
    anyhow::ensure!(
        !vectors.is_empty(),
        "no vectors: run `paperboy embed` first"
    );
    let engine = Engine::new(
        keyword,
        Some(Semantic {
            embedder,
            index: vectors.clone(),
        }),
    );
    Ok((engine, vectors))
}

/// Loads `<data_dir>/index/keyword` and the vector index of the static
/// model in `model`, then times hybrid queries and related lookups.
pub fn latency(
    data_dir: &Path,
    model: &Path,
    n: usize,
    seed: u64,
    model_words: &gen::WordModel,
) -> anyhow::Result<()> {
    let t = Instant::now();
    let (engine, vectors) = open_engine(data_dir, model)?;
    if let Some(b) = std::env::var("PAPERBOY_PROBE_BUDGET")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        vectors.set_probe_budget(b);
        println!("probe budget: {b} cells");
    }
    println!(
        "loaded {} keyword docs and {} vectors in {:.1}s",
        engine.keyword.num_docs(),
        vectors.len(),
        t.elapsed().as_secs_f64()
    );
    let words: Vec<String> = model_words
        .vocabulary()
        .into_iter()
        .filter(|w| w.len() > 3)
        .collect();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    for mode in [Mode::Hybrid, Mode::Semantic] {
        let mut times = Vec::with_capacity(n);
        let mut texts = Vec::with_capacity(n);
        let started = Instant::now();
        for _ in 0..n {
            let k = rng.gen_range(2..=8);
            let q: Vec<String> = (0..k)
                .map(|_| model_words.query_word(&mut rng, &words))
                .collect();
            let text = q.join(" ");
            let t = Instant::now();
            engine
                .search(&text, mode, 20, 0)
                .map_err(anyhow::Error::msg)?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            texts.push(text);
        }
        crate::show_slowest(&times, &texts);
        percentiles(
            &format!("{mode:?} search (20 hits, highlighted)"),
            times,
            started,
        );
    }
    let mut times = Vec::with_capacity(n);
    let started = Instant::now();
    let rows = vectors.rows();
    for _ in 0..n {
        let Some(id) = vectors.id_at(rng.gen_range(0..rows)) else {
            continue;
        };
        let t = Instant::now();
        engine
            .related_by_id(&id, 10)
            .context("a sampled paper is missing from an index")?
            .map_err(anyhow::Error::msg)?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    percentiles("related papers (10)", times, started);

    // Recall of the cells against an exact scan, on papers' own vectors.
    let (mut found, mut asked) = (0usize, 0usize);
    for _ in 0..100 {
        let Some(id) = vectors.id_at(rng.gen_range(0..rows)) else {
            continue;
        };
        let Some(v) = vectors.vector_of(&id) else {
            continue;
        };
        let exact: Vec<_> = vectors
            .search_exact(&v, 10, Some(&id))
            .into_iter()
            .map(|n| n.arxiv_id)
            .collect();
        let approx: Vec<_> = vectors
            .search(&v, 10, Some(&id))
            .into_iter()
            .map(|n| n.arxiv_id)
            .collect();
        found += exact.iter().filter(|e| approx.contains(e)).count();
        asked += exact.len();
    }
    println!(
        "cells recall@10 against the exact scan: {:.3} ({asked} neighbours of 100 papers)",
        found as f64 / asked.max(1) as f64
    );
    Ok(())
}

/// What `throughput` embeds: `n` generated texts of about `words` words,
/// in batches of `batch`.
pub struct Texts<'a> {
    pub n: usize,
    pub words: usize,
    pub batch: usize,
    pub out: Option<&'a Path>,
}

/// Embeds generated abstracts and prints texts per second and per-call
/// latency (with `--batch 1` and short texts: query embedding latency).
pub fn throughput(model: &Path, kind: &str, spec: Texts<'_>, vocab: &str) -> anyhow::Result<()> {
    let Texts {
        n,
        words,
        batch,
        out,
    } = spec;
    let embedder: Box<dyn Embedder> = match kind {
        "static" => {
            Box::new(StaticModel::load(model).with_context(|| model.display().to_string())?)
        }
        "transformer" => Box::new(Transformer::load(model)?.with_batch(batch)),
        "transformer-f32" => {
            Box::new(Transformer::load_with(model, Precision::F32)?.with_batch(batch))
        }
        other => anyhow::bail!("kind `{other}`: static, transformer or transformer-f32"),
    };
    anyhow::ensure!(n > 0, "--n must be at least 1");
    let mut g = gen::Generator::new(gen::WordModel::learn(vocab), 7, n);
    let texts: Vec<String> = (0..n).map(|_| g.sentence_text(words)).collect();
    if let Some(path) = out {
        std::fs::write(path, texts.join("\n") + "\n")
            .with_context(|| format!("writing {}", path.display()))?;
    }
    // One warm-up batch.
    let warm: Vec<&str> = texts.iter().take(batch).map(String::as_str).collect();
    embedder.embed(&warm)?;
    let started = Instant::now();
    let mut calls = Vec::with_capacity(n / batch.max(1) + 1);
    for chunk in texts.chunks(batch.max(1)) {
        let refs: Vec<&str> = chunk.iter().map(String::as_str).collect();
        let call = Instant::now();
        embedder.embed(&refs)?;
        calls.push(call.elapsed());
    }
    let secs = started.elapsed().as_secs_f64();
    calls.sort();
    let at = |q: f64| {
        calls[((calls.len() as f64 * q) as usize).min(calls.len() - 1)].as_secs_f64() * 1e3
    };
    println!(
        "{kind} embeddings: {n} texts of {words} words in batches of {batch}: {:.1}s, {:.1} texts/s; per call p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms",
        secs,
        n as f64 / secs,
        at(0.5),
        at(0.9),
        at(0.99)
    );
    Ok(())
}

//! `paperboy search` and `paperboy reindex`.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use paperboy_web::{AppState, WebSettings};

use crate::config::Config;

#[derive(Debug, Args)]
pub struct Opts {
    /// What to look for (arXiv-style prefixes work: ti:, au:, abs:, cat:).
    pub query: String,
    #[arg(long, default_value = "hybrid", value_parser = ["keyword", "semantic", "hybrid"])]
    pub mode: String,
    #[arg(long, default_value_t = 10)]
    pub limit: u32,
    /// Print exactly what `GET /api/papers/search` answers.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(opts: Opts, config: Config) -> anyhow::Result<()> {
    let store = crate::store::open(&config).await?;
    let index = crate::search::open_index(&config)?;
    if index.is_writable() {
        paperboy_search::catch_up(&*store, &index, |_| {})
            .await
            .context("bringing the keyword index up to date")?;
    }
    let semantic = if opts.mode == "keyword" {
        None
    } else {
        crate::search::open_semantic(&config)?
    };
    if let Some(sem) = &semantic {
        crate::search::embed_missing(&*store, sem, 5_000).await?;
    }
    let mut state = AppState::new(store.clone(), WebSettings::default());
    state.search = Some(Arc::new(
        crate::search::Search::new(index, store).with_semantic(semantic),
    ));
    let mut q = HashMap::new();
    q.insert("q".to_string(), opts.query.clone());
    q.insert("mode".to_string(), opts.mode.clone());
    q.insert("limit".to_string(), opts.limit.to_string());
    let req = paperboy_web::api::search_request(&q).map_err(|e| anyhow::anyhow!("{e}"))?;
    let (rows, outcome) = paperboy_web::api::search_rows(&state, req)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(note) = &outcome.note {
        eprintln!("note: {note}");
    }
    if opts.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    for (i, r) in rows.iter().enumerate() {
        println!(
            "{:>2}. {}  {}  ({:.2})",
            i + 1,
            r.paper.id,
            r.title,
            r.score
        );
    }
    println!("{} of {} results", rows.len(), outcome.total);
    Ok(())
}

/// `paperboy embed`: computes the embeddings the vector index lacks (new
/// or changed papers). Each batch is on disk before the next starts, so a
/// stopped run picks up where it was.
pub async fn embed(config: Config) -> anyhow::Result<()> {
    let store = crate::store::open(&config).await?;
    let Some(embedder) = crate::models::serving(&config)? else {
        anyhow::bail!("no embedding model configured: set model_dir (PAPERBOY_MODEL_DIR) to a sentence-transformer directory");
    };
    let sem = crate::search::open_vectors(&config, embedder)?;
    anyhow::ensure!(
        sem.index.is_writable(),
        "another process (`paperboy serve`?) writes the vector index and embeds new papers itself"
    );
    let before = sem.index.len();
    let started = std::time::Instant::now();
    let n = crate::search::embed_only(&*store, &sem, 0).await?;
    let secs = started.elapsed().as_secs_f64();
    let cells = crate::search::build_cells(&sem).await?;
    let added = sem.index.len().saturating_sub(before);
    println!(
        "embedded {} changes ({} new vectors) with {} in {:.1}s ({:.0} papers/s){}; the index holds {} vectors",
        n,
        added,
        sem.embedder.name(),
        secs,
        n as f64 / secs.max(1e-3),
        cells.map(|c| format!(", cells rebuilt in {c:.1}s")).unwrap_or_default(),
        sem.index.len()
    );
    Ok(())
}

/// `paperboy reindex`: throws the keyword index (and the vector index, when
/// a model is configured) away and rebuilds them from the store.
pub async fn reindex(config: Config) -> anyhow::Result<()> {
    let store = crate::store::open(&config).await?;
    let dir = crate::search::index_dir(&config);
    // Take the lock on the old index first, so a running server is not pulled out from under.
    drop(
        paperboy_search::KeywordIndex::open(&dir, true)
            .map_err(|e| anyhow::anyhow!("{e}; stop `paperboy serve` first"))?,
    );
    std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
    let index = Arc::new(paperboy_search::KeywordIndex::open(&dir, true)?);
    let total = store.count_papers().await?;
    let bar = indicatif::ProgressBar::new(total);
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "reindex [{bar:30}] {pos}/{len} papers {per_sec} ({eta})",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    let started = std::time::Instant::now();
    let n = paperboy_search::catch_up(&*store, &index, |done| bar.set_position(done)).await?;
    bar.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    println!(
        "reindexed {} papers in {:.1}s ({:.0} papers/s)",
        index.num_docs(),
        secs,
        n as f64 / secs.max(1e-3)
    );
    if let Some(embedder) = crate::models::serving(&config)? {
        let sem = crate::search::open_vectors(&config, embedder)?;
        anyhow::ensure!(
            sem.index.is_writable(),
            "another process writes the vector index; stop `paperboy serve` first"
        );
        sem.index.reset()?;
        let started = std::time::Instant::now();
        let n = crate::search::embed_only(&*store, &sem, 0).await?;
        let secs = started.elapsed().as_secs_f64();
        let cells = crate::search::build_cells(&sem).await?;
        println!(
            "re-embedded {} papers with {} in {:.1}s ({:.0} papers/s){}",
            sem.index.len(),
            sem.embedder.name(),
            secs,
            n as f64 / secs.max(1e-3),
            cells
                .map(|c| format!(", cells built in {c:.1}s"))
                .unwrap_or_default()
        );
    } else {
        println!("no embedding model configured: keyword index only");
    }
    Ok(())
}

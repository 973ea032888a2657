//! `paperboy search` and `paperboy reindex`.

use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use paperboy_app::search::{parse_mode, Mode, SearchRequest};
use paperboy_app::views::SearchRow;

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
    let mode = parse_mode(&opts.mode).map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(
        (1..=100).contains(&opts.limit),
        "--limit must be a number from 1 to 100"
    );
    let req = SearchRequest::new(&opts.query, mode, opts.limit as usize, 0)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let needs = if mode == Mode::Keyword {
        crate::wiring::Needs::Keywords
    } else {
        crate::wiring::Needs::Everything
    };
    let app = crate::wiring::build(&config, needs).await?.app;
    let results = app.search(&req).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if let Some(note) = &results.note {
        eprintln!("note: {note}");
    }
    let rows: Vec<SearchRow> = app
        .search_rows(&results.rows)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
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
    println!("{} of {} results", rows.len(), results.total);
    Ok(())
}

/// `paperboy embed`: computes the embeddings the vector index lacks (new
/// or changed papers). Each batch is on disk before the next starts, so a
/// stopped run picks up where it was.
pub async fn embed(config: Config) -> anyhow::Result<()> {
    let store = crate::wiring::open_store(&config).await?;
    let Some(embedder) = crate::embedding::serving(&config)? else {
        anyhow::bail!("no embedding model configured: set model_dir (PAPERBOY_MODEL_DIR) to a sentence-transformer directory");
    };
    let sem = crate::indexes::open_vectors(&config, embedder)?;
    anyhow::ensure!(
        sem.index.is_writable(),
        "another process (`paperboy serve`?) writes the vector index and embeds new papers itself"
    );
    let before = sem.index.len();
    let started = std::time::Instant::now();
    let n = crate::indexes::embed_only(&*store, &sem, 0).await?;
    let secs = started.elapsed().as_secs_f64();
    let cells = crate::indexes::build_cells(&sem).await?;
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
    if let Some(refined) = crate::indexes::open_refined(&config)? {
        anyhow::ensure!(
            refined.index.is_writable(),
            "another process (`paperboy serve`?) fills in the transformer's vectors itself"
        );
        let started = std::time::Instant::now();
        let n = crate::indexes::fill_refined(&*store, &refined).await?;
        let secs = started.elapsed().as_secs_f64();
        println!(
            "embedded {} papers with {} in {:.1}s ({:.1} papers/s), newest first; its index holds {} vectors",
            n,
            refined.embedder.name(),
            secs,
            n as f64 / secs.max(1e-3),
            refined.index.len()
        );
    }
    Ok(())
}

/// `paperboy reindex`: throws the keyword index (and the vector index, when
/// a model is configured) away and rebuilds them from the store.
pub async fn reindex(config: Config) -> anyhow::Result<()> {
    let store = crate::wiring::open_store(&config).await?;
    let dir = crate::indexes::index_dir(&config);
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
    let passages = match index.num_passages() {
        0 => String::new(),
        p => format!(" and {p} passages of full texts"),
    };
    println!(
        "reindexed {} papers{passages} in {:.1}s ({:.0} papers/s)",
        index.num_docs(),
        secs,
        n as f64 / secs.max(1e-3)
    );
    if let Some(embedder) = crate::embedding::serving(&config)? {
        let sem = crate::indexes::open_vectors(&config, embedder)?;
        anyhow::ensure!(
            sem.index.is_writable(),
            "another process writes the vector index; stop `paperboy serve` first"
        );
        sem.index.reset()?;
        let started = std::time::Instant::now();
        let n = crate::indexes::embed_only(&*store, &sem, 0).await?;
        let secs = started.elapsed().as_secs_f64();
        let cells = crate::indexes::build_cells(&sem).await?;
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
    if let Some(refined) = crate::indexes::open_refined(&config)? {
        anyhow::ensure!(
            refined.index.is_writable(),
            "another process writes the transformer's vector index; stop `paperboy serve` first"
        );
        refined.index.reset()?;
        let started = std::time::Instant::now();
        let n = crate::indexes::fill_refined(&*store, &refined).await?;
        println!(
            "re-embedded {} papers with {} in {:.1}s",
            n,
            refined.embedder.name(),
            started.elapsed().as_secs_f64()
        );
    }
    Ok(())
}

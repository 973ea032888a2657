//! `paperboy import FILE…`: the arXiv metadata snapshot into the store.
//!
//! A reader thread parses and validates while the store writes the previous
//! batch; each batch is one transaction, so a kill leaves whole batches and
//! a re-run (idempotent) completes the rest.

use std::path::PathBuf;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;
use clap::Args;
use paperboy_arxiv::{SnapshotItem, SnapshotReader};
use paperboy_core::Paper;
use paperboy_store::UpsertCounts;
use tokio::sync::mpsc;

use crate::config::Config;

#[derive(Debug, Args)]
pub struct Opts {
    /// Snapshot files (JSON lines, gzip detected); `-` reads stdin.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Papers per transaction (overrides `import_batch_size`).
    #[arg(long, value_name = "N")]
    pub batch_size: Option<usize>,
    /// When to drop the papers table's secondary indexes for the load and
    /// build them once at the end: `auto` (on PostgreSQL, a large load into
    /// a store at most twice its size), `always` or `never`.
    #[arg(long, value_enum, default_value_t = DeferIndexes::Auto, value_name = "WHEN")]
    pub defer_indexes: DeferIndexes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DeferIndexes {
    Auto,
    Always,
    Never,
}

/// Below this many records (estimated) a load keeps its indexes. Measured
/// on PostgreSQL: no gain and no loss at 100,000–200,000 records (the build
/// costs what the load saves), 1.19× at 1,000,000 (BENCHMARKS.md).
const BULK_RECORDS: u64 = 20_000;
/// Bytes of a snapshot line, a low estimate (arXiv's average is ~1.3 KB),
/// and how much gzip shrinks them.
const BYTES_PER_RECORD: u64 = 1_000;
const GZIP_RATIO: u64 = 3;

enum Msg {
    Batch(Vec<Paper>),
    Rejected(String),
    Failed(String),
}

pub async fn run(opts: Opts, config: Config) -> anyhow::Result<()> {
    let store = crate::wiring::open_store(&config).await?;
    let batch_size = opts.batch_size.unwrap_or(config.import_batch_size).max(1);
    let started = Instant::now();
    let deferred = if defer(&opts, &*store).await? {
        store
            .defer_indexes()
            .await
            .context("dropping the papers table's secondary indexes for the load")?
    } else {
        0
    };
    let loaded = load(&opts, &*store, batch_size).await;
    // Built again whatever happened to the load (a store opened later
    // would build them too).
    let rebuilt = if deferred > 0 {
        let t = Instant::now();
        let n = store
            .restore_indexes()
            .await
            .context("building the papers table's indexes again")?;
        Some((n, t.elapsed()))
    } else {
        None
    };
    let (total, rejected) = loaded?;
    let elapsed = started.elapsed();
    let records = total.imported + total.updated + total.unchanged + rejected;
    let indexes = match rebuilt {
        Some((n, took)) => format!("; {n} indexes built after the load in {}", human(took)),
        None => String::new(),
    };
    println!(
        "imported {}, updated {}, unchanged {}, rejected {} ({} records in {}, {:.0} records/s{indexes})",
        total.imported,
        total.updated,
        total.unchanged,
        rejected,
        records,
        human(elapsed),
        records as f64 / elapsed.as_secs_f64().max(1e-3),
    );
    Ok(())
}

/// Whether this load drops the secondary indexes. On PostgreSQL one build
/// at the end is cheaper than keeping them through the load when the load
/// is large and the store not much larger than what arrives (1,000,000
/// records into an empty store: 1.19× the rate). SQLite keeps its indexes
/// in the page cache and gains nothing (200,000 records: 0.97×), so `auto`
/// leaves them there (BENCHMARKS.md).
async fn defer(opts: &Opts, store: &dyn paperboy_store::Store) -> anyhow::Result<bool> {
    match opts.defer_indexes {
        DeferIndexes::Always => return Ok(true),
        DeferIndexes::Never => return Ok(false),
        DeferIndexes::Auto if store.backend() != "postgres" => return Ok(false),
        DeferIndexes::Auto => {}
    }
    let mut estimate = 0u64;
    for file in &opts.files {
        // Standard input: size unknown, indexes kept.
        let Ok(meta) = std::fs::metadata(file) else {
            return Ok(false);
        };
        let gz = file.extension().is_some_and(|e| e == "gz");
        let bytes = meta.len() * if gz { GZIP_RATIO } else { 1 };
        estimate += bytes / BYTES_PER_RECORD;
    }
    if estimate < BULK_RECORDS {
        return Ok(false);
    }
    let held = store
        .count_papers()
        .await
        .context("counting the store's papers")?;
    Ok(held <= estimate.saturating_mul(2))
}

/// Every file into the store: the counts and the lines rejected.
async fn load(
    opts: &Opts,
    store: &dyn paperboy_store::Store,
    batch_size: usize,
) -> anyhow::Result<(UpsertCounts, u64)> {
    let mut total = UpsertCounts::default();
    let mut rejected = 0u64;
    for file in &opts.files {
        let name = file.display().to_string();
        let reader = SnapshotReader::open(file).with_context(|| format!("cannot open {name}"))?;
        let bar = crate::progress::bytes_bar(reader.total_bytes(), &name);
        let progress = reader.progress();
        let (tx, mut rx) = mpsc::channel::<Msg>(4);
        let reader_name = name.clone();
        let parse = std::thread::spawn(move || read_batches(reader, batch_size, &reader_name, tx));
        let mut file_counts = UpsertCounts::default();
        let file_started = Instant::now();
        let mut failure = None;
        while let Some(msg) = rx.recv().await {
            match msg {
                Msg::Batch(papers) => {
                    let got = store
                        .upsert_papers(papers)
                        .await
                        .with_context(|| format!("writing papers from {name}"))?;
                    file_counts.add(got);
                }
                Msg::Rejected(line) => {
                    rejected += 1;
                    bar.suspend(|| eprintln!("{line}"));
                }
                Msg::Failed(e) => failure = Some(e),
            }
            bar.set_position(progress.load(Ordering::Relaxed));
            let done = file_counts.imported + file_counts.updated + file_counts.unchanged;
            let rate = done as f64 / file_started.elapsed().as_secs_f64().max(1e-3);
            bar.set_message(format!("{done} records, {rate:.0}/s"));
        }
        bar.finish_and_clear();
        let _ = parse.join();
        if let Some(e) = failure {
            anyhow::bail!("{e}");
        }
        total.add(file_counts);
    }
    Ok((total, rejected))
}

fn read_batches(mut reader: SnapshotReader, batch_size: usize, name: &str, tx: mpsc::Sender<Msg>) {
    let mut batch = Vec::with_capacity(batch_size);
    loop {
        match reader.next_item() {
            Ok(Some(SnapshotItem::Paper(p))) => {
                batch.push(p);
                if batch.len() >= batch_size {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
                    if tx.blocking_send(Msg::Batch(full)).is_err() {
                        return;
                    }
                }
            }
            Ok(Some(SnapshotItem::Rejected { line, reason })) => {
                if tx
                    .blocking_send(Msg::Rejected(format!("{name}:{line}: {reason}")))
                    .is_err()
                {
                    return;
                }
            }
            Ok(None) => break,
            Err(e) => {
                let _ = tx.blocking_send(Msg::Failed(format!("reading {name}: {e}")));
                break;
            }
        }
    }
    if !batch.is_empty() {
        let _ = tx.blocking_send(Msg::Batch(batch));
    }
}

fn human(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1}s")
    } else {
        format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    }
}

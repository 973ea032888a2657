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
}

enum Msg {
    Batch(Vec<Paper>),
    Rejected(String),
    Failed(String),
}

pub async fn run(opts: Opts, config: Config) -> anyhow::Result<()> {
    let store = crate::wiring::open_store(&config).await?;
    let batch_size = opts.batch_size.unwrap_or(config.import_batch_size).max(1);
    let started = Instant::now();
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
    let elapsed = started.elapsed();
    let records = total.imported + total.updated + total.unchanged + rejected;
    println!(
        "imported {}, updated {}, unchanged {}, rejected {} ({} records in {}, {:.0} records/s)",
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

//! `paperboy-bench`: corpus generation for benchmarks.
//!
//! `paperboy-bench gen --n 1000000 --seed 7 --vocab fixtures/seed-papers.jsonl --out papers.jsonl`

mod gen;
mod oai;

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "paperboy-bench", about = "Benchmark tools for Paperboy")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write N synthetic papers in the arXiv snapshot format (JSON lines).
    Gen {
        #[arg(long)]
        n: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Text the word model is learned from: a snapshot JSONL file (titles
        /// and abstracts are used) or plain text.
        #[arg(long, value_name = "FILE")]
        vocab: PathBuf,
        /// Output file; stdout when absent.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Time the OAI-PMH parser on one large generated ListRecords response.
    OaiParse {
        #[arg(long, default_value_t = 50_000)]
        n: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long, value_name = "FILE")]
        vocab: PathBuf,
        /// Timed repetitions (the best and the median are printed).
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::OaiParse {
            n,
            seed,
            vocab,
            runs,
        } => {
            let text = std::fs::read_to_string(&vocab)
                .with_context(|| format!("reading {}", vocab.display()))?;
            let mut g = gen::Generator::new(gen::WordModel::learn(&text), seed, n);
            let xml = oai::list_records_response(&mut g, n);
            oai::time_parse(&xml, n, runs)
        }
        Command::Gen {
            n,
            seed,
            vocab,
            out,
        } => {
            let text = std::fs::read_to_string(&vocab)
                .with_context(|| format!("reading {}", vocab.display()))?;
            let model = gen::WordModel::learn(&text);
            anyhow::ensure!(
                model.len() > 10,
                "{}: too little text to learn from",
                vocab.display()
            );
            let sink: Box<dyn Write> = match &out {
                Some(p) => Box::new(
                    std::fs::File::create(p)
                        .with_context(|| format!("creating {}", p.display()))?,
                ),
                None => Box::new(std::io::stdout().lock()),
            };
            let mut sink = BufWriter::with_capacity(1 << 20, sink);
            let started = std::time::Instant::now();
            let mut g = gen::Generator::new(model, seed, n);
            for _ in 0..n {
                serde_json::to_writer(&mut sink, &g.next_record())?;
                sink.write_all(b"\n")?;
            }
            sink.flush()?;
            eprintln!(
                "generated {n} records in {:.1}s",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
    }
}

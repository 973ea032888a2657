//! `paperboy-bench`: corpus generation for benchmarks.
//!
//! `paperboy-bench gen --n 1000000 --seed 7 --vocab fixtures/seed-papers.jsonl --out papers.jsonl`

mod ann;
mod distract;
mod fulltext;
mod gen;
mod oai;
mod recs;
mod semantic;
mod soak;
mod talk;

use std::io::{BufWriter, Write};
use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};

// The same allocator as `paperboy`, so figures carry over.
#[global_allocator]
static ALLOC: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Debug, Parser)]
#[command(name = "paperboy-bench", about = "Benchmark tools for Paperboy")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// Where generated text comes from.
#[derive(Debug, clap::Args)]
struct Words {
    /// Text the word model is learned from: a snapshot JSONL file (titles
    /// and abstracts are used) or plain text.
    #[arg(long, value_name = "FILE")]
    vocab: PathBuf,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Draw half the words from a Zipfian vocabulary of this many terms
    /// (the learned words by frequency, then coined rare terms and names):
    /// realistic posting lists. 0: the learned words alone (a few thousand,
    /// every posting list long: the stress case).
    #[arg(long, default_value_t = 0)]
    zipf_terms: usize,
}

impl Words {
    fn text(&self) -> anyhow::Result<String> {
        std::fs::read_to_string(&self.vocab)
            .with_context(|| format!("reading {}", self.vocab.display()))
    }

    /// The word model, with the Zipfian vocabulary when asked for.
    fn model(&self) -> anyhow::Result<gen::WordModel> {
        let model = gen::WordModel::learn(&self.text()?);
        Ok(match self.zipf_terms {
            0 => model,
            n => model.with_zipf(n),
        })
    }
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Write N synthetic papers in the arXiv snapshot format (JSON lines).
    Gen {
        #[arg(long)]
        n: usize,
        #[command(flatten)]
        words: Words,
        /// Papers up to now rather than up to 2026-10-01.
        #[arg(long)]
        until_now: bool,
        /// Output file; stdout when absent.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Write N short, unrelated records (one-line package descriptions in
    /// the field's vocabulary) to mix into a corpus for search-quality checks.
    Distractors {
        #[arg(long, default_value_t = 17_000)]
        n: usize,
        #[command(flatten)]
        words: Words,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// Hybrid, semantic and related-paper latency over a data directory's
    /// indexes (after `paperboy reindex`/`embed` with the static model).
    SemanticLatency {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        /// The static model the vectors were made with (`builtin`: the one
        /// inside the binary).
        #[arg(long, value_name = "DIR")]
        model: PathBuf,
        #[arg(long, default_value_t = 1000)]
        queries: usize,
        #[command(flatten)]
        words: Words,
    },
    /// Embedding throughput on generated abstracts.
    EmbedThroughput {
        #[arg(long, value_name = "DIR")]
        model: PathBuf,
        /// `static`, `transformer` (quantised) or `transformer-f32` (the float reference).
        #[arg(long)]
        kind: String,
        #[arg(long, default_value_t = 320)]
        n: usize,
        /// Words per generated text.
        #[arg(long = "words", default_value_t = 200)]
        length: usize,
        #[arg(long, default_value_t = 32)]
        batch: usize,
        /// Also writes the generated texts here, one per line (for
        /// `scripts/bench/reference-throughput.py`).
        #[arg(long, value_name = "FILE")]
        texts_out: Option<PathBuf>,
        #[command(flatten)]
        words: Words,
    },
    /// Keyword search latency over generated queries against an index directory.
    SearchLatency {
        /// The keyword index (`<data_dir>/index/keyword`).
        #[arg(long, value_name = "DIR")]
        index: PathBuf,
        #[arg(long, default_value_t = 1000)]
        queries: usize,
        #[command(flatten)]
        words: Words,
    },
    /// Comment rendering time: prose, hostile HTML, deep quotes, 20,000
    /// characters each.
    Markdown {
        #[arg(long, default_value_t = 50)]
        runs: usize,
    },
    /// The star tracker on many repositories against the stand-in GitHub,
    /// simulated minute by minute.
    Stars {
        #[arg(long, default_value_t = 100_000)]
        repos: usize,
        /// Share of repositories linked by papers of the last 13 days.
        #[arg(long, default_value_t = 0.05)]
        recent: f64,
        #[arg(long, default_value_t = 5_000)]
        budget: u32,
        /// Simulated hours.
        #[arg(long, default_value_t = 30)]
        hours: i64,
    },
    /// Recommendation latency through the application layer: members with
    /// N-paper libraries, the last 7 days and the whole store, feedback.
    RecsLatency {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        /// The static model the vectors were made with (`builtin`: the one
        /// inside the binary).
        #[arg(long, value_name = "DIR")]
        model: PathBuf,
        #[arg(long, default_value_t = 500)]
        library: usize,
        #[arg(long, default_value_t = 20)]
        users: usize,
        #[arg(long, default_value_t = 200)]
        runs: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Only this window (7: the last 7 days with the 👎 round; 0: the
        /// whole store); both by default.
        #[arg(long)]
        days: Option<u32>,
        /// Leave out the 👎 round (which adds a 👎 per run to the store:
        /// runs to compare should start from the same state).
        #[arg(long)]
        no_feedback: bool,
    },
    /// Makes a share of the store's subscribers members with libraries
    /// (for the digest benchmark's For-you sections).
    AddReaders {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        #[arg(long, value_name = "DIR")]
        model: PathBuf,
        #[arg(long, default_value_t = 0.2)]
        share: f64,
        #[arg(long, default_value_t = 50)]
        min: usize,
        #[arg(long, default_value_t = 500)]
        max: usize,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Writes a BibTeX file of N entries naming papers of a snapshot file
    /// (as reference managers export them), for the import benchmark.
    Bibtex {
        /// Snapshot JSONL to take ids and titles from.
        #[arg(long, value_name = "FILE")]
        from: PathBuf,
        #[arg(long, default_value_t = 10_000)]
        n: usize,
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
    },
    /// A long mixed load on a real `paperboy serve` (see scripts/soak.sh).
    Soak(soak::SoakOpts),
    /// The vector index's k-means cells against an HNSW graph (hnsw_rs) on
    /// the same vectors: build time, memory, recall@10, latency.
    AnnCompare {
        /// A vector index directory (`<data_dir>/index/vectors/<model>`).
        #[arg(long, value_name = "DIR")]
        vectors: PathBuf,
        /// The model name the index was made with (its directory name).
        #[arg(long)]
        model: Option<String>,
        #[arg(long, default_value_t = 256)]
        dim: usize,
        #[arg(long, default_value_t = 300)]
        queries: usize,
        #[arg(long, default_value_t = 16)]
        m: usize,
        #[arg(long, default_value_t = 100)]
        ef_construction: usize,
        /// Search breadths to try, comma separated.
        #[arg(long, default_value = "32,64,128")]
        ef_search: String,
    },
    /// Gives a share of the store's papers a full text: generated
    /// real-shaped LaTeXML pages parsed and kept as the fetcher keeps them
    /// (sections, passages), then the keyword index's passages caught up
    /// as the server catches them up. Prints storage per paper.
    AddTexts {
        #[arg(long, value_name = "DIR")]
        data_dir: PathBuf,
        /// Share of the papers given a text.
        #[arg(long, default_value_t = 0.1)]
        share: f64,
        #[command(flatten)]
        words: Words,
    },
    /// Time the full-text (LaTeXML) parser on generated real-shaped pages,
    /// one thread, and on hostile pages.
    FulltextParse {
        #[arg(long, default_value_t = 200)]
        pages: usize,
        #[command(flatten)]
        words: Words,
        /// Timed passes over the pages (the median and best are printed).
        #[arg(long, default_value_t = 3)]
        runs: usize,
    },
    /// Time the OAI-PMH parser on one large generated ListRecords response.
    OaiParse {
        #[arg(long, default_value_t = 50_000)]
        n: usize,
        #[command(flatten)]
        words: Words,
        /// Timed repetitions (the best and the median are printed).
        #[arg(long, default_value_t = 5)]
        runs: usize,
    },
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?)
}

fn main() -> anyhow::Result<()> {
    // Where the time goes inside the product, when asked for
    // (PAPERBOY_LOG=paperboy_search=debug shows the recommender's phases).
    if let Ok(filter) = tracing_subscriber::EnvFilter::try_from_env("PAPERBOY_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init();
    }
    match Cli::parse().command {
        Command::SearchLatency {
            index,
            queries,
            words,
        } => search_latency(&index, queries, words.seed, &words.model()?),
        Command::Markdown { runs } => talk::markdown(runs),
        Command::RecsLatency {
            data_dir,
            model,
            library,
            users,
            runs,
            seed,
            days,
            no_feedback,
        } => runtime()?.block_on(recs::latency(
            &data_dir,
            &model,
            recs::Readers {
                library,
                users,
                runs,
                seed,
            },
            days,
            !no_feedback,
        )),
        Command::AddReaders {
            data_dir,
            model,
            share,
            min,
            max,
            seed,
        } => runtime()?.block_on(recs::add_readers(&data_dir, &model, share, min, max, seed)),
        Command::Bibtex { from, n, out } => recs::bibtex_file(&from, n, &out),
        Command::Stars {
            repos,
            recent,
            budget,
            hours,
        } => tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?
            .block_on(talk::stars(repos, recent, budget, hours)),
        Command::Soak(opts) => runtime()?.block_on(soak::run(opts)),
        Command::AnnCompare {
            vectors,
            model,
            dim,
            queries,
            m,
            ef_construction,
            ef_search,
        } => {
            let model = model.unwrap_or_else(|| {
                vectors
                    .file_name()
                    .and_then(|n| n.to_str())
                    .unwrap_or_default()
                    .to_string()
            });
            let efs: Vec<usize> = ef_search
                .split(',')
                .map(|e| e.trim().parse())
                .collect::<Result<_, _>>()
                .context("--ef-search: numbers, comma separated")?;
            ann::compare(&vectors, &model, dim, queries, m, ef_construction, &efs)
        }
        Command::AddTexts {
            data_dir,
            share,
            words,
        } => {
            let g = gen::Generator::new(words.model()?, words.seed, 1000);
            runtime()?.block_on(fulltext::add_texts(&data_dir, share, g, words.seed))
        }
        Command::FulltextParse { pages, words, runs } => {
            let model = gen::WordModel::learn(&words.text()?);
            let mut g = gen::Generator::new(model, words.seed, pages);
            fulltext::time_parse(&mut g, pages, words.seed, runs)
        }
        Command::OaiParse { n, words, runs } => {
            let model = gen::WordModel::learn(&words.text()?);
            let mut g = gen::Generator::new(model, words.seed, n);
            let xml = oai::list_records_response(&mut g, n);
            oai::time_parse(&xml, n, runs)
        }
        Command::SemanticLatency {
            data_dir,
            model,
            queries,
            words,
        } => semantic::latency(&data_dir, &model, queries, words.seed, &words.model()?),
        Command::EmbedThroughput {
            model,
            kind,
            n,
            length,
            batch,
            texts_out,
            words,
        } => semantic::throughput(
            &model,
            &kind,
            semantic::Texts {
                n,
                words: length,
                batch,
                out: texts_out.as_deref(),
            },
            &words.text()?,
        ),
        Command::Distractors { n, words, out } => {
            let vocabulary: Vec<String> = gen::WordModel::learn(&words.text()?)
                .vocabulary()
                .into_iter()
                .filter(|w| w.len() > 4 && w.chars().all(|c| c.is_alphabetic()))
                .collect();
            let file = std::fs::File::create(&out)
                .with_context(|| format!("creating {}", out.display()))?;
            let mut sink = BufWriter::new(file);
            let mut rng = distract::stream(words.seed);
            for i in 0..n {
                serde_json::to_writer(&mut sink, &distract::record(&mut rng, i, &vocabulary))?;
                sink.write_all(b"\n")?;
            }
            sink.flush()?;
            eprintln!("wrote {n} distractors to {}", out.display());
            Ok(())
        }
        Command::Gen {
            n,
            words,
            until_now,
            out,
        } => {
            let model = words.model()?;
            anyhow::ensure!(
                model.len() > 10,
                "{}: too little text to learn from",
                words.vocab.display()
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
            let mut g = gen::Generator::new(model, words.seed, n);
            if until_now {
                g = g.ending(chrono::Utc::now().timestamp());
            }
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

/// Queries of 1–5 words drawn from the vocabulary (some as phrases, some
/// with a field prefix), each timed with highlighting, as the web asks.
/// With `SHOW_SLOWEST=N` set, prints the N slowest queries (to stderr), to
/// see what a latency tail is made of.
pub(crate) fn show_slowest(times: &[f64], texts: &[String]) {
    let Ok(k) = std::env::var("SHOW_SLOWEST") else {
        return;
    };
    let mut by_time: Vec<(f64, &String)> = times.iter().copied().zip(texts).collect();
    by_time.sort_by(|a, b| b.0.total_cmp(&a.0));
    for (ms, text) in by_time.iter().take(k.parse().unwrap_or(10)) {
        eprintln!("{ms:8.2} ms  {text}");
    }
}

fn search_latency(
    index: &std::path::Path,
    n: usize,
    seed: u64,
    model: &gen::WordModel,
) -> anyhow::Result<()> {
    use rand::{Rng, SeedableRng};
    let ix = std::sync::Arc::new(
        paperboy_search::KeywordIndex::open(index, false).map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    // The engine's keyword mode: what `/api/papers/search?mode=keyword`
    // and the search page run (full-text passages included, when indexed).
    let engine = paperboy_search::Engine::new(ix.clone(), None);
    let words: Vec<String> = model
        .vocabulary()
        .into_iter()
        .filter(|w| w.len() > 3)
        .collect();
    anyhow::ensure!(!words.is_empty(), "no vocabulary");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut times = Vec::with_capacity(n);
    let mut texts = Vec::with_capacity(n);
    let started = std::time::Instant::now();
    for i in 0..n {
        let k = rng.gen_range(1..=5);
        let mut q: Vec<String> = (0..k).map(|_| model.query_word(&mut rng, &words)).collect();
        match i % 10 {
            0 => q = vec![format!("\"{}\"", q.join(" "))],
            1 => q[0] = format!("ti:{}", q[0]),
            _ => {}
        }
        let text = q.join(" ");
        let t = std::time::Instant::now();
        engine
            .search(&text, paperboy_search::Mode::Keyword, 20, 0)
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        texts.push(text);
    }
    show_slowest(&times, &texts);
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    println!(
        "search-latency: {n} queries over {} docs and {} passages in {:.1}s: p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ix.num_docs(),
        ix.num_passages(),
        started.elapsed().as_secs_f64(),
        pct(0.5),
        pct(0.9),
        pct(0.99),
        times[times.len() - 1]
    );
    Ok(())
}

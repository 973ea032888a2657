//! Recommendations at scale, through the application layer as the API
//! serves them: members with libraries of N papers (clustered around a few
//! topics, as real libraries are) over a data directory's store and
//! indexes. Times the morning view (the last 7 days), the whole store, one
//! 👎 applied, and the list recomputed after it. Also fills a store with
//! readers for the digest benchmark (`add-readers`).

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use paperboy_adapters::EngineSearch;
use paperboy_app::recommend::RecRequest;
use paperboy_app::{App, Settings};
use paperboy_core::{ArxivId, PaperId, Role, User};
use paperboy_search::VectorIndex;
use paperboy_store::{NewUser, Store};
use rand::{Rng, SeedableRng};

use crate::semantic::percentiles;

/// The store, the indexes and the app over them.
async fn open(
    data_dir: &Path,
    model: &Path,
) -> anyhow::Result<(App, Arc<dyn Store>, Arc<VectorIndex>)> {
    let url = format!("sqlite://{}", data_dir.join("paperboy.db").display());
    let store: Arc<dyn Store> = Arc::new(
        paperboy_store_sqlite::open(&url)
            .await
            .with_context(|| format!("opening {url}"))?,
    );
    let (engine, vectors) = crate::semantic::open_engine(data_dir, model)?;
    // What `paperboy serve` prepares as it starts.
    let t = Instant::now();
    let terms = engine
        .keyword
        .table_terms()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "tabled {terms} terms' document frequencies in {:.2}s",
        t.elapsed().as_secs_f64()
    );
    let mut app = App::new(store.clone(), Settings::default());
    app.search = Some(Arc::new(EngineSearch::new(engine)));
    Ok((app, store, vectors))
}

/// A library of about `n` papers around a few random topics: each topic a
/// random paper and its nearest neighbours.
fn clustered_library(vectors: &VectorIndex, n: usize, rng: &mut impl Rng) -> Vec<ArxivId> {
    let topics = (n / 80).clamp(2, 8);
    let mut out: Vec<ArxivId> = Vec::with_capacity(n);
    while out.len() < n {
        let row = rng.gen_range(0..vectors.rows());
        let Some(anchor) = vectors.id_at(row) else {
            continue;
        };
        let Some(v) = vectors.vector_of(&anchor) else {
            continue;
        };
        for nb in vectors.search(&v, n / topics + 1, None) {
            if out.len() < n && !out.contains(&nb.arxiv_id) {
                out.push(nb.arxiv_id);
            }
        }
    }
    out
}

async fn member(store: &dyn Store, name: &str, email: &str) -> anyhow::Result<User> {
    if let Ok((u, _)) = store.user_by_name(name).await {
        return Ok(u);
    }
    Ok(store
        .create_user(NewUser {
            username: name.into(),
            email: email.into(),
            password_hash: "x".into(),
            role: Role::Member,
        })
        .await?)
}

/// Topics for many readers' libraries, found once: each a random paper
/// and its nearest neighbours, as store keys. A reader's library draws from
/// a few of them ([`TopicPool::library`]), so 20,000 readers cost a few
/// hundred vector searches, not one per topic per reader.
struct TopicPool(Vec<Vec<PaperId>>);

impl TopicPool {
    const TOPICS: usize = 400;
    const SIZE: usize = 250;

    async fn new(
        store: &dyn Store,
        vectors: &VectorIndex,
        rng: &mut impl Rng,
    ) -> anyhow::Result<TopicPool> {
        let mut topics = Vec::with_capacity(Self::TOPICS);
        while topics.len() < Self::TOPICS {
            let row = rng.gen_range(0..vectors.rows());
            let Some(v) = vectors.id_at(row).and_then(|a| vectors.vector_of(&a)) else {
                continue;
            };
            let ids: Vec<ArxivId> = vectors
                .search(&v, Self::SIZE, None)
                .into_iter()
                .map(|n| n.arxiv_id)
                .collect();
            let keys: Vec<PaperId> = store
                .get_papers(&ids)
                .await?
                .into_iter()
                .map(|l| l.stored.paper_id)
                .collect();
            topics.push(keys);
        }
        Ok(TopicPool(topics))
    }

    /// About `n` papers from a few topics (as [`clustered_library`]).
    fn library(&self, n: usize, rng: &mut impl Rng) -> Vec<PaperId> {
        use rand::seq::SliceRandom;
        let topics = (n / 80).clamp(2, 8);
        let per = n / topics + 1;
        let mut out: Vec<PaperId> = Vec::with_capacity(n + per);
        for _ in 0..topics {
            let t = &self.0[rng.gen_range(0..self.0.len())];
            out.extend(t.choose_multiple(rng, per.min(t.len())).copied());
        }
        out.sort_unstable_by_key(|p| p.0);
        out.dedup();
        out.shuffle(rng);
        out.truncate(n);
        out
    }
}

async fn fill_library(store: &dyn Store, user: &User, ids: &[ArxivId]) -> anyhow::Result<()> {
    let keys: Vec<PaperId> = store
        .get_papers(ids)
        .await?
        .into_iter()
        .map(|l| l.stored.paper_id)
        .collect();
    store.save_many(user.user_id, &keys, Some("bench")).await?;
    Ok(())
}

/// The readers a latency run times: how many, their libraries' size, the
/// requests made.
pub struct Readers {
    pub library: usize,
    pub users: usize,
    pub runs: usize,
    pub seed: u64,
}

pub async fn latency(
    data_dir: &Path,
    model: &Path,
    readers: Readers,
    only_days: Option<u32>,
    feedback: bool,
) -> anyhow::Result<()> {
    let Readers {
        library,
        users,
        runs,
        seed,
    } = readers;
    let t = Instant::now();
    let (app, store, vectors) = open(data_dir, model).await?;
    println!(
        "opened the store and {} vectors in {:.1}s",
        vectors.len(),
        t.elapsed().as_secs_f64()
    );
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut readers = Vec::new();
    let t = Instant::now();
    for i in 0..users {
        let name = format!("bench-reader-{library}-{i}");
        let u = member(&*store, &name, &format!("{name}@bench.test")).await?;
        if store.library_ids(u.user_id, None).await?.len() < library {
            let ids = clustered_library(&vectors, library, &mut rng);
            fill_library(&*store, &u, &ids).await?;
        }
        readers.push(u);
    }
    println!(
        "{users} members with {library}-paper libraries ready in {:.1}s",
        t.elapsed().as_secs_f64()
    );
    let window = store
        .published_since(chrono::Utc::now().timestamp() - 7 * 86_400, 1_000_000)
        .await?;
    println!("{} papers in the last 7 days", window.len());
    let msg = |e: paperboy_app::AppError| anyhow::anyhow!("{e}");
    let windows = [("last 7 days", 7u32), ("whole store", 0)];
    for (label, days) in windows
        .into_iter()
        .filter(|(_, d)| only_days.is_none_or(|o| o == *d))
    {
        let req = RecRequest::new(None, days, 20).map_err(msg)?;
        // One warm-up each (the OS page cache; nothing of ours is cached).
        app.recommendations(&readers[0], &req).await.map_err(msg)?;
        let mut times = Vec::with_capacity(runs);
        let started = Instant::now();
        let cpu_before = process_cpu_ms();
        let mut empty = 0;
        for r in 0..runs {
            let u = &readers[r % readers.len()];
            let t = Instant::now();
            let recs = app.recommendations(u, &req).await.map_err(msg)?;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
            empty += usize::from(recs.is_empty());
        }
        let cpu = process_cpu_ms().zip(cpu_before).map(|(a, b)| a - b);
        let times_in_order = times.clone();
        percentiles(
            &format!("recommendations, {library}-paper library, {label}"),
            times,
            started,
        );
        if let Some((slowest, _)) = times_in_order
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
        {
            println!(
                "  slowest: run {slowest} of {runs} (reader {})",
                slowest % readers.len()
            );
        }
        if let Some(cpu) = cpu {
            // Every thread's time (both cores' work for one request): steadier
            // than the latencies on a shared machine.
            println!("  processor time: {:.1} ms a request", cpu / runs as f64);
        }
        if empty > 0 {
            println!("  ({empty} of {runs} answers were empty)");
        }
    }
    // 👎 on the top pick, and the list it leaves.
    if only_days == Some(0) || !feedback {
        return Ok(());
    }
    let req = RecRequest::new(None, 7, 20).map_err(msg)?;
    let (mut apply, mut after) = (Vec::new(), Vec::new());
    let started = Instant::now();
    for r in 0..runs.min(200) {
        let u = &readers[r % readers.len()];
        let recs = app.recommendations(u, &req).await.map_err(msg)?;
        let Some(top) = recs.first() else { continue };
        let id = top.paper.stored.paper.id.clone();
        let t = Instant::now();
        app.rec_feedback(u, &id, -1).await.map_err(msg)?;
        apply.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let again = app.recommendations(u, &req).await.map_err(msg)?;
        after.push(t.elapsed().as_secs_f64() * 1000.0);
        anyhow::ensure!(
            again.iter().all(|r| r.paper.stored.paper.id != id),
            "a 👎 paper came back"
        );
    }
    if !apply.is_empty() {
        percentiles("feedback: 👎 stored", apply, started);
        percentiles("feedback: the list recomputed after it", after, started);
    }
    Ok(())
}

/// Makes `share` of the store's subscribers members too, with libraries
/// of `min`–`max` papers, for the digest benchmark.
pub async fn add_readers(
    data_dir: &Path,
    model: &Path,
    share: f64,
    min: usize,
    max: usize,
    seed: u64,
) -> anyhow::Result<()> {
    let (_, store, vectors) = open(data_dir, model).await?;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let started = Instant::now();
    let pool = TopicPool::new(&*store, &vectors, &mut rng).await?;
    eprintln!(
        "{} topics of {} papers found in {:.0}s",
        TopicPool::TOPICS,
        TopicPool::SIZE,
        started.elapsed().as_secs_f64()
    );
    let mut made = 0usize;
    for frequency in [
        paperboy_store::Frequency::Daily,
        paperboy_store::Frequency::Weekly,
    ] {
        let mut after = 0;
        loop {
            let subs = store.active_subscribers(frequency, after, 500).await?;
            let Some(last) = subs.last() else { break };
            after = last.subscriber_id.0;
            for s in &subs {
                if !rng.gen_bool(share) {
                    continue;
                }
                let name = format!("reader-{}", s.subscriber_id.0);
                let u = member(&*store, &name, &s.email).await?;
                let n = rng.gen_range(min..=max);
                let keys = pool.library(n, &mut rng);
                store.save_many(u.user_id, &keys, Some("bench")).await?;
                made += 1;
                if made.is_multiple_of(1000) {
                    eprintln!("{made} readers ({:.0}s)", started.elapsed().as_secs_f64());
                }
            }
        }
    }
    println!(
        "made {made} subscribers members with libraries of {min}–{max} papers in {:.0}s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// N BibTeX entries for papers of a snapshot file, in the shapes reference
/// managers write: eprint fields, arXiv URLs, arXiv DOIs, journal notes.
pub fn bibtex_file(from: &Path, n: usize, out: &Path) -> anyhow::Result<()> {
    use std::io::{BufRead, Write};
    let f = std::fs::File::open(from).with_context(|| format!("opening {}", from.display()))?;
    let mut w = std::io::BufWriter::new(
        std::fs::File::create(out).with_context(|| format!("creating {}", out.display()))?,
    );
    let mut written = 0;
    for line in std::io::BufReader::new(f).lines() {
        if written == n {
            break;
        }
        let r: serde_json::Value = serde_json::from_str(&line?)?;
        let (id, title) = (
            r["id"].as_str().unwrap_or(""),
            r["title"].as_str().unwrap_or(""),
        );
        let title: String = title.chars().filter(|c| !matches!(c, '{' | '}')).collect();
        let key = format!("e{written}");
        let how = match written % 4 {
            0 => format!("eprint = {{{id}}},\n  archivePrefix = {{arXiv}}"),
            1 => format!("url = {{https://arxiv.org/abs/{id}v1}}"),
            2 => format!("doi = {{10.48550/arXiv.{id}}}"),
            _ => format!("journal = {{arXiv preprint arXiv:{id}}}"),
        };
        writeln!(w, "@article{{{key},\n  title = {{{title}}},\n  author = {{Ada Lovelace and Alan Turing}},\n  year = {{2024}},\n  {how}\n}}\n")?;
        written += 1;
    }
    w.flush()?;
    println!("wrote {written} entries to {}", out.display());
    Ok(())
}

/// The processor time this process has used, user and system, in
/// milliseconds (Linux: `/proc/self/stat`, in clock ticks of 10 ms).
fn process_cpu_ms() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces), from the 3rd.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11)?.parse().ok()?;
    let stime: f64 = fields.get(12)?.parse().ok()?;
    Some((utime + stime) * 10.0)
}

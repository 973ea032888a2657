//! The soak: a real `paperboy serve` under a mixed, bounded load on
//! loopback for a long time (page views, searches of every mode, related
//! papers, votes, comments, submissions, feeds), with a harvest against the
//! arXiv stand-in every few minutes (`paperboy ingest --once`, as cron
//! would run it), digests to aiosmtpd, and optionally the database taken
//! away for a while. It samples the server's memory and each endpoint's
//! latency, and writes a CSV, SVG plots and a Markdown report.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context;
use paperboy_testkit::arxiv_standin::{raw_record, ArxivStandin, StandinRecord};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};

#[derive(Debug, clap::Args)]
pub struct SoakOpts {
    /// The `paperboy` binary.
    #[arg(long, value_name = "FILE")]
    pub bin: PathBuf,
    /// Where the data directory, mail and results go (made if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// A snapshot JSONL to import first (the seed corpus, a generated one).
    #[arg(long, value_name = "FILE")]
    pub corpus: Vec<PathBuf>,
    /// `postgres://…` to soak PostgreSQL (an empty database); SQLite under
    /// the data directory otherwise.
    #[arg(long)]
    pub database_url: Option<String>,
    /// A sentence-transformer or static model directory for search by meaning.
    #[arg(long, value_name = "DIR")]
    pub model: Option<PathBuf>,
    #[arg(long, default_value_t = 30)]
    pub minutes: u64,
    /// Requests per second over all clients.
    #[arg(long, default_value_t = 25.0)]
    pub rate: f64,
    #[arg(long, default_value_t = 8)]
    pub clients: usize,
    /// Minutes between harvests.
    #[arg(long, default_value_t = 3)]
    pub harvest_every: u64,
    /// Minutes between digest runs.
    #[arg(long, default_value_t = 5)]
    pub digest_every: u64,
    /// Minutes of warm-up before memory and latency count.
    #[arg(long, default_value_t = 5)]
    pub warmup: u64,
    /// A shell command that takes the database away and brings it back
    /// (e.g. stop PostgreSQL, sleep 10, start it), run at half time;
    /// 503s within its window and 15 s after are counted apart.
    #[arg(long)]
    pub outage_cmd: Option<String>,
}

/// One answered (or failed) request.
struct Sample {
    at: f64,
    endpoint: &'static str,
    ms: f64,
    /// 0 when the request did not get an answer at all.
    status: u16,
}

struct Shared {
    base: String,
    ids: Vec<String>,
    words: Vec<String>,
    tokens: Vec<String>,
    samples: Mutex<Vec<Sample>>,
    started: Instant,
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// (VmRSS, VmHWM, RssAnon) in KiB.
fn rss_kb(pid: u32) -> (u64, u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"), field("RssAnon:"))
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * p).round() as usize]
}

/// Records dated today for the stand-in: what arXiv announces meanwhile.
fn fresh_records(
    from: usize,
    n: usize,
    words: &[String],
    rng: &mut impl Rng,
) -> Vec<StandinRecord> {
    let today = chrono::Utc::now().date_naive();
    let version = today.format("%a, %-d %b %Y 09:00:00 GMT").to_string();
    (from..from + n)
        .map(|i| {
            let mut pick = |k: usize| {
                (0..k)
                    .map(|_| words.choose(rng).map(String::as_str).unwrap_or("model"))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            raw_record(
                &format!("2611.{:05}", 90_000 + i),
                &today.to_string(),
                &format!("Soak paper {i}: {}", pick(6)),
                "Ada Lovelace, Alan Turing",
                "cs.LG cs.AI",
                &pick(120),
                &[&version],
            )
        })
        .collect()
}

pub async fn run(o: SoakOpts) -> anyhow::Result<()> {
    std::fs::create_dir_all(&o.out)?;
    let out = o.out.canonicalize()?;
    let data = out.join("data");
    let maildir = out.join("maildir");
    for sub in ["tmp", "new", "cur"] {
        std::fs::create_dir_all(maildir.join(sub))?;
    }
    let port = free_port()?;
    let base = format!("http://127.0.0.1:{port}");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let words: Vec<String> = {
        let seed = std::fs::read_to_string(
            o.corpus
                .first()
                .context("give at least one --corpus file")?,
        )?;
        let mut w: Vec<String> = seed
            .lines()
            .take(2000)
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .flat_map(|v| {
                v["title"]
                    .as_str()
                    .unwrap_or("")
                    .split_whitespace()
                    .map(|s| {
                        s.trim_matches(|c: char| !c.is_alphanumeric())
                            .to_lowercase()
                    })
                    .filter(|s| s.len() > 3)
                    .collect::<Vec<_>>()
            })
            .collect();
        w.sort();
        w.dedup();
        w
    };
    let standin = ArxivStandin::start(fresh_records(0, 100, &words, &mut rng), 50).await;
    let smtp_port = free_port()?;
    let _smtp = Proc(
        Command::new("python3")
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{smtp_port}"),
            ])
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(&maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("python3 -m aiosmtpd (pip install aiosmtpd)")?,
    );
    let env = {
        let mut env: Vec<(String, String)> = vec![
            ("PAPERBOY_DATA_DIR".into(), data.display().to_string()),
            ("PAPERBOY_BASE_URL".into(), base.clone()),
            ("PAPERBOY_ARXIV_OAI_URL".into(), standin.oai_url()),
            ("PAPERBOY_ARXIV_API_URL".into(), standin.api_url()),
            ("PAPERBOY_ARXIV_MIN_INTERVAL_MS".into(), "100".into()),
            ("PAPERBOY_CONTACT_EMAIL".into(), "ops@example.org".into()),
            (
                "PAPERBOY_SMTP_URL".into(),
                format!("smtp://127.0.0.1:{smtp_port}"),
            ),
            ("PAPERBOY_LOG".into(), "warn".into()),
            // The soak drives harvests and digests itself, on a clock.
            ("PAPERBOY_HARVEST_HOUR_UTC".into(), "23".into()),
            ("PAPERBOY_DIGEST_HOUR".into(), "23".into()),
        ];
        if let Some(url) = &o.database_url {
            env.push(("PAPERBOY_DATABASE_URL".into(), url.clone()));
        }
        if let Some(m) = &o.model {
            env.push(("PAPERBOY_MODEL_DIR".into(), m.display().to_string()));
        }
        env
    };
    let paperboy = |args: &[&str]| {
        let mut c = Command::new(&o.bin);
        c.envs(env.iter().cloned()).args(args);
        c
    };
    for file in &o.corpus {
        let st = paperboy(&["import", &file.display().to_string()])
            .stdout(Stdio::null())
            .status()?;
        anyhow::ensure!(st.success(), "importing {}", file.display());
    }
    let mut users = Vec::new();
    for i in 0..o.clients {
        let name = format!("soak{i}");
        let st = paperboy(&["user", "add", &name, &format!("{name}@example.org")])
            .env("PAPERBOY_PASSWORD", "a long enough password")
            .stdout(Stdio::null())
            .status()?;
        anyhow::ensure!(st.success(), "user add {name}");
        let t = paperboy(&["user", "token", &name]).output()?;
        let token = String::from_utf8_lossy(&t.stdout)
            .lines()
            .last()
            .unwrap_or("")
            .trim()
            .to_string();
        users.push(token);
    }

    let mut server = paperboy(&["serve", "--bind", &format!("127.0.0.1:{port}")])
        .stderr(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()?;
    let pid = server.id();
    let log = std::fs::File::create(out.join("serve.log"))?;
    if let Some(err) = server.stderr.take() {
        std::thread::spawn(move || {
            use std::io::Write;
            let mut log = log;
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                let _ = writeln!(log, "{line}");
            }
        });
    }
    let _server = Proc(server);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()?;
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            break;
        }
        anyhow::ensure!(Instant::now() < deadline, "the server never became ready");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Twenty readers subscribe and confirm, for the digests.
    for i in 0..20 {
        let c = reqwest::Client::builder().cookie_store(true).build()?;
        let page = c
            .get(format!("{base}/subscribe"))
            .send()
            .await?
            .text()
            .await?;
        let csrf = csrf_of(&page);
        c.post(format!("{base}/subscribe"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("email", &format!("reader{i}@example.org")),
                ("frequency", "daily"),
                ("categories", "cs.LG"),
            ])
            .send()
            .await?;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let prefix = format!("{base}/subscribe/confirm?token=");
    for entry in std::fs::read_dir(maildir.join("new"))? {
        let raw = std::fs::read_to_string(entry?.path())?;
        let mail = paperboy_testkit::Mail::parse(&raw);
        if mail.text.contains(&prefix) {
            client.get(mail.link(&prefix)).send().await?;
        }
    }
    let trending: serde_json::Value = client
        .get(format!("{base}/api/trending?limit=100"))
        .send()
        .await?
        .json()
        .await?;
    let ids: Vec<String> = trending
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["paper"]["id"].as_str().map(str::to_string))
        .collect();
    anyhow::ensure!(!ids.is_empty(), "no papers to visit");

    let started = Instant::now();
    let shared = Arc::new(Shared {
        base: base.clone(),
        ids,
        words: words.clone(),
        tokens: users,
        samples: Mutex::new(Vec::new()),
        started,
    });
    let total = Duration::from_secs(o.minutes * 60);
    let end = started + total;
    let per_client = Duration::from_secs_f64(o.clients as f64 / o.rate.max(0.1));
    let mut tasks = Vec::new();
    for k in 0..o.clients {
        let shared = shared.clone();
        tasks.push(tokio::spawn(async move {
            load(shared, k, per_client, end).await;
        }));
    }

    // Memory every 10 s; harvests, digests and the outage on their clocks.
    let mut memory: Vec<(f64, u64, u64)> = Vec::new();
    let mut anon: Vec<u64> = Vec::new();
    let mut next_harvest = started + Duration::from_secs(o.harvest_every * 60);
    let mut next_digest = started + Duration::from_secs(60);
    let mut outage: Option<(f64, f64)> = None;
    let mut outage_cmd = o.outage_cmd.clone();
    let mut harvests = (0u32, 0u32);
    let mut digests = (0u32, 0u32);
    let mut fresh = 100;
    let bar = indicatif::ProgressBar::new(total.as_secs());
    while Instant::now() < end {
        let (rss, hwm, rss_anon) = rss_kb(pid);
        memory.push((started.elapsed().as_secs_f64(), rss, hwm));
        anon.push(rss_anon);
        bar.set_position(started.elapsed().as_secs());
        bar.set_message(format!("RSS {} MB", rss / 1024));
        if Instant::now() >= next_harvest {
            next_harvest += Duration::from_secs(o.harvest_every * 60);
            standin.add_records(fresh_records(fresh, 50, &words, &mut rng));
            fresh += 50;
            let ok = paperboy(&["ingest", "--once"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            harvests.0 += 1;
            harvests.1 += u32::from(ok);
        }
        if Instant::now() >= next_digest {
            next_digest += Duration::from_secs(o.digest_every * 60);
            let ok = paperboy(&["digest"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success());
            digests.0 += 1;
            digests.1 += u32::from(ok);
        }
        if started.elapsed() >= total / 2 {
            if let Some(cmd) = outage_cmd.take() {
                let from = started.elapsed().as_secs_f64();
                let st = Command::new("sh").args(["-c", &cmd]).status();
                let to = started.elapsed().as_secs_f64();
                eprintln!("outage command ran from {from:.0}s to {to:.0}s: {st:?}");
                outage = Some((from, to + 15.0));
            }
        }
        tokio::time::sleep(Duration::from_secs(10)).await;
    }
    bar.finish_and_clear();
    for t in tasks {
        let _ = t.await;
    }
    let mail_count = std::fs::read_dir(maildir.join("new"))?.count();
    let samples = std::mem::take(&mut *shared.samples.lock().unwrap_or_else(|p| p.into_inner()));
    report(
        &out, &o, &samples, &memory, &anon, outage, harvests, digests, mail_count,
    )
}

fn csrf_of(html: &str) -> String {
    html.find("name=\"csrf\" value=\"")
        .map(|at| html[at + 19..].chars().take(64).collect())
        .unwrap_or_default()
}

/// One client: a request every `every`, chosen by weight, until `end`.
async fn load(s: Arc<Shared>, k: usize, every: Duration, end: Instant) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(100 + k as u64);
    let browser = match reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
    {
        Ok(c) => c,
        Err(_) => return,
    };
    let token = s.tokens[k % s.tokens.len()].clone();
    // A signed-in browser for submissions.
    let mut csrf = String::new();
    if let Ok(r) = browser.get(format!("{}/login", s.base)).send().await {
        let page = r.text().await.unwrap_or_default();
        let login_csrf = csrf_of(&page);
        let _ = browser
            .post(format!("{}/login", s.base))
            .form(&[
                ("csrf", login_csrf.as_str()),
                ("username", &format!("soak{k}")),
                ("password", "a long enough password"),
            ])
            .send()
            .await;
        if let Ok(r) = browser.get(format!("{}/submit", s.base)).send().await {
            csrf = csrf_of(&r.text().await.unwrap_or_default());
        }
    }
    // Stagger the clients over one interval.
    tokio::time::sleep(every.mul_f64(k as f64 / s.tokens.len().max(1) as f64)).await;
    let mut next = Instant::now();
    while Instant::now() < end {
        next += every;
        let id = s.ids.choose(&mut rng).cloned().unwrap_or_default();
        let q: String = (0..rng.gen_range(1..4))
            .map(|_| {
                s.words
                    .choose(&mut rng)
                    .map(String::as_str)
                    .unwrap_or("model")
            })
            .collect::<Vec<_>>()
            .join("+");
        let b = &s.base;
        let roll = rng.gen_range(0..100);
        let (endpoint, req) = match roll {
            0..=9 => ("GET /", browser.get(format!("{b}/"))),
            10..=14 => ("GET /daily", browser.get(format!("{b}/daily"))),
            15..=24 => ("GET /papers/{id}", browser.get(format!("{b}/papers/{id}"))),
            25..=29 => ("GET /search", browser.get(format!("{b}/search?q={q}"))),
            30..=37 => ("GET /api/papers/search keyword", browser.get(format!("{b}/api/papers/search?q={q}&mode=keyword"))),
            38..=42 => ("GET /api/papers/search semantic", browser.get(format!("{b}/api/papers/search?q={q}&mode=semantic"))),
            43..=50 => ("GET /api/papers/search hybrid", browser.get(format!("{b}/api/papers/search?q={q}&mode=hybrid"))),
            51..=56 => ("GET /api/papers/{id}/related", browser.get(format!("{b}/api/papers/{id}/related?limit=5"))),
            57..=64 => ("GET /api/papers/{id}", browser.get(format!("{b}/api/papers/{id}"))),
            65..=68 => ("GET /api/trending", browser.get(format!("{b}/api/trending?limit=20"))),
            69..=71 => ("GET /feeds/trending.atom", browser.get(format!("{b}/feeds/trending.atom"))),
            72..=73 => ("GET /papers/{id}.md", browser.get(format!("{b}/papers/{id}.md"))),
            74..=81 => ("POST /api/papers/{id}/upvote", browser.post(format!("{b}/api/papers/{id}/upvote")).bearer_auth(&token)),
            82..=86 => ("DELETE /api/papers/{id}/upvote", browser.delete(format!("{b}/api/papers/{id}/upvote")).bearer_auth(&token)),
            87..=90 => (
                "POST /api/papers/{id}/comments",
                browser
                    .post(format!("{b}/api/papers/{id}/comments"))
                    .bearer_auth(&token)
                    .json(&serde_json::json!({"body": format!("On {q}: does it hold *out of distribution*? <script>x</script>")})),
            ),
            91..=92 => (
                "POST /submit",
                browser
                    .post(format!("{b}/submit"))
                    .form(&[("csrf", csrf.as_str()), ("arxiv_id", id.as_str())]),
            ),
            93..=95 => ("GET /api/daily_papers", browser.get(format!("{b}/api/daily_papers"))),
            _ => ("GET /metrics", browser.get(format!("{b}/metrics"))),
        };
        let t = Instant::now();
        let status = match req.send().await {
            Ok(r) => {
                let status = r.status().as_u16();
                let _ = r.bytes().await;
                status
            }
            Err(_) => 0,
        };
        let sample = Sample {
            at: s.started.elapsed().as_secs_f64(),
            endpoint,
            ms: t.elapsed().as_secs_f64() * 1000.0,
            status,
        };
        s.samples
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(sample);
        let now = Instant::now();
        if next > now {
            tokio::time::sleep(next - now).await;
        } else {
            next = now;
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn report(
    out: &Path,
    o: &SoakOpts,
    samples: &[Sample],
    memory: &[(f64, u64, u64)],
    anon: &[u64],
    outage: Option<(f64, f64)>,
    harvests: (u32, u32),
    digests: (u32, u32),
    mails: usize,
) -> anyhow::Result<()> {
    let warm = (o.warmup * 60) as f64;
    let in_outage = |t: f64| outage.is_some_and(|(a, b)| t >= a && t <= b);
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    let mut fivexx_outside = 0u64;
    let mut outage_503 = 0u64;
    for s in samples {
        *statuses.entry(s.status).or_default() += 1;
        if s.status >= 500 || s.status == 0 {
            if in_outage(s.at) && (s.status == 503 || s.status == 0) {
                outage_503 += 1;
            } else {
                fivexx_outside += 1;
            }
        }
    }
    // Latency per endpoint after the warm-up (outside any outage).
    let mut by_endpoint: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for s in samples.iter().filter(|s| s.at >= warm && !in_outage(s.at)) {
        by_endpoint.entry(s.endpoint).or_default().push(s.ms);
    }
    // p99 per minute per endpoint group, for the plot.
    let minutes = (o.minutes as usize).max(1);
    let groups = ["pages", "search", "api reads", "writes"];
    let group_of = |e: &str| -> usize {
        if e.starts_with("POST") || e.starts_with("DELETE") {
            3
        } else if e.contains("search") || e.contains("related") {
            1
        } else if e.starts_with("GET /api") || e.contains("feeds") || e.contains("metrics") {
            2
        } else {
            0
        }
    };
    let mut per_minute: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); minutes]; groups.len()];
    for s in samples {
        let m = (s.at / 60.0) as usize;
        if m < minutes {
            per_minute[group_of(s.endpoint)][m].push(s.ms);
        }
    }
    let p99_series: Vec<Vec<(f64, f64)>> = per_minute
        .iter_mut()
        .map(|g| {
            g.iter_mut()
                .enumerate()
                .filter(|(_, v)| !v.is_empty())
                .map(|(m, v)| (m as f64 + 1.0, percentile(v, 0.99)))
                .collect()
        })
        .collect();
    // Memory growth: the mean of the five minutes after the warm-up against
    // the mean of the last five (single samples swing by tens of MB).
    let mean_rss = |from: f64, to: f64| {
        let v: Vec<f64> = memory
            .iter()
            .filter(|m| m.0 >= from && m.0 < to)
            .map(|m| m.1 as f64)
            .collect();
        if v.is_empty() {
            0.0
        } else {
            v.iter().sum::<f64>() / v.len() as f64
        }
    };
    let last = memory.last().map_or(0.0, |m| m.0);
    let (rss_warm, rss_end) = (
        mean_rss(warm, warm + 300.0),
        mean_rss((last - 300.0).max(warm), last + 1.0),
    );
    let growth = if rss_warm > 0.0 {
        (rss_end - rss_warm) / rss_warm * 100.0
    } else {
        0.0
    };
    let hwm = memory.iter().map(|m| m.2).max().unwrap_or(0);

    // Resident memory is anonymous (the heap) plus file pages mapped in
    // (the search indexes are memory-mapped files).
    let mut csv = String::from("seconds,rss_mb,anon_mb\n");
    for ((t, rss, _), a) in memory.iter().zip(anon) {
        csv.push_str(&format!(
            "{t:.0},{:.1},{:.1}\n",
            *rss as f64 / 1024.0,
            *a as f64 / 1024.0
        ));
    }
    std::fs::write(out.join("memory.csv"), csv)?;
    let mut lat = String::from("endpoint,count,p50_ms,p90_ms,p99_ms,max_ms\n");
    let mut table = String::from(
        "| endpoint | requests | p50 ms | p90 ms | p99 ms | max ms |\n|---|---|---|---|---|---|\n",
    );
    for (e, v) in by_endpoint.iter_mut() {
        let n = v.len();
        let (p50, p90, p99) = (percentile(v, 0.5), percentile(v, 0.9), percentile(v, 0.99));
        let max = v.last().copied().unwrap_or(0.0);
        lat.push_str(&format!("{e},{n},{p50:.1},{p90:.1},{p99:.1},{max:.1}\n"));
        table.push_str(&format!(
            "| `{e}` | {n} | {p50:.1} | {p90:.1} | {p99:.1} | {max:.0} |\n"
        ));
    }
    std::fs::write(out.join("latency.csv"), lat)?;
    plot_rss(&out.join("rss.svg"), memory, warm)?;
    plot_p99(&out.join("p99.svg"), &groups, &p99_series)?;

    let backend = if o.database_url.is_some() {
        "PostgreSQL"
    } else {
        "SQLite"
    };
    let status_line: Vec<String> = statuses.iter().map(|(s, n)| format!("{s}: {n}")).collect();
    let md = format!(
        "## Soak on {backend}: {minutes} minutes, {rate} requests/s from {clients} clients\n\n\
         - requests: {total} ({statuses}; 0 = no answer)\n\
         - 5xx (or no answer) outside an outage: **{fivexx_outside}**\n\
         {outage_line}\
         - harvests (`paperboy ingest --once` every {he} min): {h_ok}/{h_all} succeeded; digest runs: {d_ok}/{d_all}; messages in the Maildir: {mails}\n\
         - server RSS, mean of the 5 minutes after the {warmup}-minute warm-up {rss_warm_mb:.0} MB, mean of the last 5 minutes {rss_end_mb:.0} MB: **{growth:+.1} %**; peak (VmHWM) {hwm_mb:.0} MB\n\n\
         {table}",
        minutes = o.minutes,
        rate = o.rate,
        clients = o.clients,
        total = samples.len(),
        statuses = status_line.join(", "),
        outage_line = match outage {
            Some((a, b)) => format!(
                "- database outage from {a:.0}s (503 or no answer until {b:.0}s, the command's end + 15 s): {outage_503}\n"
            ),
            None => String::new(),
        },
        he = o.harvest_every,
        h_ok = harvests.1,
        h_all = harvests.0,
        d_ok = digests.1,
        d_all = digests.0,
        warmup = o.warmup,
        rss_warm_mb = rss_warm / 1024.0,
        rss_end_mb = rss_end / 1024.0,
        hwm_mb = hwm as f64 / 1024.0,
    );
    std::fs::write(out.join("report.md"), &md)?;
    println!("{md}");
    println!("soak: {} requests, {fivexx_outside} 5xx outside outages, RSS {growth:+.1} % after warm-up; report in {}", samples.len(), out.join("report.md").display());
    Ok(())
}

fn plot_rss(path: &Path, memory: &[(f64, u64, u64)], warm: f64) -> anyhow::Result<()> {
    use plotters::prelude::*;
    let root = SVGBackend::new(path, (720, 320)).into_drawing_area();
    root.fill(&WHITE)?;
    let max_t = memory.last().map(|m| m.0 / 60.0).unwrap_or(1.0).max(1.0);
    let max_mb = memory
        .iter()
        .map(|m| m.1 as f64 / 1024.0)
        .fold(1.0, f64::max)
        * 1.15;
    let mut chart = ChartBuilder::on(&root)
        .caption("paperboy serve: resident memory", ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..max_t, 0.0..max_mb)?;
    chart
        .configure_mesh()
        .x_desc("minutes")
        .y_desc("RSS, MB")
        .draw()?;
    chart.draw_series(LineSeries::new(
        memory.iter().map(|m| (m.0 / 60.0, m.1 as f64 / 1024.0)),
        &BLUE,
    ))?;
    chart.draw_series(LineSeries::new(
        [(warm / 60.0, 0.0), (warm / 60.0, max_mb)],
        &RGBColor(150, 150, 150),
    ))?;
    root.present()?;
    Ok(())
}

fn plot_p99(path: &Path, groups: &[&str], series: &[Vec<(f64, f64)>]) -> anyhow::Result<()> {
    use plotters::prelude::*;
    let root = SVGBackend::new(path, (720, 320)).into_drawing_area();
    root.fill(&WHITE)?;
    let max_t = series.iter().flatten().map(|p| p.0).fold(1.0, f64::max);
    let max_ms = series.iter().flatten().map(|p| p.1).fold(1.0, f64::max) * 1.15;
    let mut chart = ChartBuilder::on(&root)
        .caption("p99 latency per minute", ("sans-serif", 18))
        .margin(10)
        .x_label_area_size(35)
        .y_label_area_size(50)
        .build_cartesian_2d(0.0..max_t, 0.0..max_ms)?;
    chart
        .configure_mesh()
        .x_desc("minutes")
        .y_desc("p99, ms")
        .draw()?;
    let colors = [BLUE, RED, GREEN, MAGENTA];
    for (i, (name, s)) in groups.iter().zip(series).enumerate() {
        let color = colors[i % colors.len()];
        chart
            .draw_series(LineSeries::new(s.iter().copied(), &color))?
            .label(*name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 16, y)], color));
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.8))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

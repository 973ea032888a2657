//! Discussions and stars: how long a comment takes to render (hostile
//! ones included), and how the star tracker spends a GitHub budget on many
//! repositories, simulated minute by minute against the stand-in GitHub.

use std::sync::Arc;
use std::time::Instant;

use paperboy_app::stars::{Plan, StarTracker};
use paperboy_app::{App, Settings};
use paperboy_testkit::github_standin::GitHubStandin;

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Renders bodies of each kind `runs` times; prints per-comment times.
pub fn markdown(runs: usize) -> anyhow::Result<()> {
    let prose = {
        let mut s = String::new();
        let mut i = 0;
        while s.chars().count() < 19_900 {
            i += 1;
            s.push_str(&format!(
                "Paragraph {i} with *emphasis*, `code`, a [link](https://example.org/{i}) and $x_{i}^2$.\n\n> a quote\n\n- item\n- item\n\n"
            ));
        }
        s.chars().take(20_000).collect::<String>()
    };
    let hostile = "<script>alert(1)</script><img src=x onerror=alert(1)>[x](javascript:alert(1)) "
        .repeat(300)
        .chars()
        .take(20_000)
        .collect::<String>();
    let deep = format!("{}deep", "> ".repeat(9_990));
    let stars = "*".repeat(20_000);
    let brackets = "[".repeat(10_000) + &"](".repeat(5_000);
    let long_line = "a".repeat(1_000_000);
    let cases: Vec<(&str, String)> = vec![
        ("prose with Markdown, 20,000 chars", prose),
        ("script/onerror/javascript:, 20,000 chars", hostile),
        ("quotes nested 9,990 deep", deep),
        (
            "lists nested 9,990 deep",
            format!("{}deep", "- ".repeat(9_990)),
        ),
        ("<div> typed 4,000 times", "<div>".repeat(4_000)),
        ("20,000 asterisks", stars),
        ("unclosed brackets, 20,000 chars", brackets),
        (
            "one 1 MB line (refused before rendering; timed anyway)",
            long_line,
        ),
    ];
    println!("| body | median | p95 | max | output |");
    println!("|---|---|---|---|---|");
    for (name, body) in &cases {
        let mut times = Vec::with_capacity(runs);
        let mut out = String::new();
        for _ in 0..runs {
            let t = Instant::now();
            out = paperboy_app::markdown::render(body);
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(f64::total_cmp);
        let lower = out.to_ascii_lowercase();
        let inert = [
            "<script",
            "<img src=\"x\"",
            "<a href=\"javascript",
            "<iframe",
            "<svg",
        ]
        .iter()
        .all(|bad| !lower.contains(bad));
        println!(
            "| {name} | {:.2} ms | {:.2} ms | {:.2} ms | {} KB, {} |",
            percentile(&times, 0.5),
            percentile(&times, 0.95),
            times[times.len() - 1],
            out.len() / 1024,
            if inert { "inert" } else { "NOT INERT" }
        );
    }
    Ok(())
}

fn record(i: usize, published: chrono::DateTime<chrono::Utc>) -> String {
    serde_json::json!({
        "id": format!("{}.{:05}", published.format("%y%m"), i % 100_000),
        "title": format!("Paper with code {i}"),
        "abstract": format!("We release code at https://github.com/lab{i}/repo{i} for all."),
        "authors": "Ada Lovelace", "categories": "cs.LG",
        "versions": [{"version": "v1", "created": published.format("%a, %-d %b %Y %H:%M:%S GMT").to_string()}],
    })
    .to_string()
}

/// Simulates the tracker on `repos` repositories (`recent_share` of them
/// linked by papers from the last days) with `budget` requests an hour.
pub async fn stars(repos: usize, recent_share: f64, budget: u32, hours: i64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("stars.db").display());
    let store: Arc<dyn paperboy_store::Store> = Arc::new(paperboy_store_sqlite::open(&url).await?);
    let now0 = chrono::Utc::now();
    let started = Instant::now();
    // Unique ids: recent papers in this month's id space, older ones spread
    // over earlier months (one paper and repository each).
    let mut lines = Vec::with_capacity(repos);
    let recent = (repos as f64 * recent_share) as usize;
    for i in 0..repos {
        let published = if i < recent {
            now0 - chrono::Duration::hours((i % (13 * 24)) as i64 + 1)
        } else {
            now0 - chrono::Duration::days(30 + (i / 90_000) as i64 * 31 + (i % 700) as i64)
        };
        lines.push(record(i, published));
    }
    let papers = paperboy_testkit::papers_from_jsonl(&lines.join("\n"));
    for chunk in papers.chunks(5_000) {
        store.upsert_papers(chunk.to_vec()).await?;
    }
    let gh = GitHubStandin::start(i64::from(budget)).await;
    for i in 0..repos {
        gh.set_stars(&format!("lab{i}/repo{i}"), (i % 1000) as i64);
    }
    eprintln!(
        "{} papers with code stored, stand-in ready in {:.1}s",
        store.count_papers().await?,
        started.elapsed().as_secs_f64()
    );
    let github = paperboy_github::GitHub::new(&gh.base, Some("bench".into()), "paperboy-bench")
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut app = App::new(store.clone(), Settings::default());
    let tracker = Arc::new(StarTracker::new(
        Arc::new(paperboy_adapters::GitHubStars(github)),
        budget,
    ));
    app.stars = Some(tracker.clone());

    let t0 = now0.timestamp();
    let mut per_hour: Vec<u32> = vec![0; hours as usize];
    let mut first_pass_done: Option<i64> = None;
    let mut recent_done: Option<i64> = None;
    let mut limited = 0u32;
    let wall = Instant::now();
    for minute in 0..hours * 60 {
        let at = t0 + minute * 60;
        if minute > 0 {
            gh.advance(60);
        }
        let step = app
            .refresh_stars(at)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        per_hour[(minute / 60) as usize] += step.spent;
        if step.rate_limited {
            limited += 1;
        }
        if minute % 30 == 0 || first_pass_done.is_none() && minute % 5 == 0 {
            let counts = store.repo_counts().await?;
            let new = counts
                .iter()
                .find(|(s, _)| s == "new")
                .map_or(0, |(_, n)| *n);
            if new == 0 && first_pass_done.is_none() {
                first_pass_done = Some(minute);
            }
        }
        if recent_done.is_none() && minute % 5 == 0 {
            // The newest papers' repositories come first: done once the
            // oldest recent one has a count.
            let oldest = (0..recent).max_by_key(|i| i % (13 * 24)).unwrap_or(0);
            let probe = format!("https://github.com/lab{oldest}/repo{oldest}");
            if store
                .tracked_repo(&probe)
                .await
                .is_ok_and(|r| r.stars.is_some())
            {
                recent_done = Some(minute);
            }
        }
    }
    let plan: Option<Plan> = tracker.plan().await;
    let requests = gh.requests();
    let quota: Vec<i64> = requests
        .iter()
        .filter(|r| r.status != 304)
        .map(|r| r.at)
        .collect();
    let mut worst = 0;
    let mut j = 0;
    for i in 0..quota.len() {
        while quota[i] - quota[j] >= 3600 {
            j += 1;
        }
        worst = worst.max(i - j + 1);
    }
    let forbidden = requests.iter().filter(|r| r.status == 403).count();
    println!("repositories: {repos} ({recent} linked by papers of the last 13 days); budget {budget}/hour");
    if let Some(p) = plan {
        println!("plan: {p}");
    }
    println!(
        "simulated {hours} h in {:.0} s wall: {} requests ({} 304s), at most {worst} quota-spending requests in any hour, {forbidden} answers 403, {limited} steps paused",
        wall.elapsed().as_secs_f64(),
        requests.len(),
        requests.iter().filter(|r| r.status == 304).count(),
    );
    match recent_done {
        Some(m) => println!(
            "every recent repository had a count after {:.1} h",
            m as f64 / 60.0
        ),
        None => println!("recent repositories not all fetched within {hours} h"),
    }
    match first_pass_done {
        Some(m) => println!(
            "every repository had a count after {:.1} h (full refresh)",
            m as f64 / 60.0
        ),
        None => println!("first pass not finished within {hours} h"),
    }
    let shown: Vec<String> = per_hour.iter().map(|n| n.to_string()).collect();
    println!("quota-spending requests per hour: {}", shown.join(" "));
    Ok(())
}

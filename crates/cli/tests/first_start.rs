//! The first start, as a new operator tries it: `paperboy serve` on an
//! empty data directory with arXiv (a stand-in on loopback) configured.
//! The first harvest covers a window of recent days, the pages say how it
//! is going, and they say so when arXiv cannot be reached.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use common::{Env, Server};
use paperboy_testkit::arxiv_standin::{dated_record, ArxivStandin, Fault, StandinRecord};

fn record(id: &str, day: NaiveDate, title: &str) -> StandinRecord {
    let text = format!("An abstract about {title}.");
    dated_record(id, day, title, "Ada Lovelace, Alan Turing", &text)
}

/// Five papers of the last days and three of last month.
fn records(today: NaiveDate) -> Vec<StandinRecord> {
    let mut v = Vec::new();
    for i in 1..=5 {
        let day = today - chrono::Duration::days(i % 3 + 1);
        v.push(record(
            &format!("2611.{i:05}"),
            day,
            &format!("Fresh result number {i}"),
        ));
    }
    for i in 6..=8 {
        let day = today - chrono::Duration::days(40);
        v.push(record(
            &format!("2610.{i:05}"),
            day,
            &format!("Old result number {i}"),
        ));
    }
    v
}

fn command(env: &Env, standin: &ArxivStandin, interval_ms: &str) -> std::process::Command {
    let mut cmd = env.command();
    cmd.env("PAPERBOY_ARXIV_OAI_URL", standin.oai_url())
        .env("PAPERBOY_ARXIV_API_URL", standin.api_url())
        .env("PAPERBOY_ARXIV_MIN_INTERVAL_MS", interval_ms)
        .env("PAPERBOY_ARXIV_BACKOFF_MS", "50")
        .env("PAPERBOY_ARXIV_MAX_RETRIES", "0")
        .env("PAPERBOY_CONTACT_EMAIL", "ops@example.org")
        // Never the daily hour during a test: only the first harvest runs.
        .env("PAPERBOY_HARVEST_HOUR_UTC", "23");
    cmd
}

async fn home(s: &Server, path: &str) -> String {
    reqwest::get(s.url(path))
        .await
        .unwrap()
        .text()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_fresh_serve_harvests_the_last_week_and_says_how_far_it_got() {
    let today = Utc::now().date_naive();
    // Two records a page, 1.2 s between requests: the first harvest takes
    // a few seconds, long enough to be seen under way.
    let standin = ArxivStandin::start(records(today), 2).await;
    let env = Env::sqlite();
    let started = Instant::now();
    let s = Server::start_scheduled(command(&env, &standin, "1200"), &[]).await;

    let since = format!(
        "Harvesting arXiv cs since {}",
        today - chrono::Duration::days(7)
    );
    let (mut saw_progress, mut saw_on_daily) = (false, false);
    let mut listed = false;
    while started.elapsed() < Duration::from_secs(30) {
        let daily = home(&s, "/daily").await;
        saw_on_daily |= daily.contains(&since);
        let page = home(&s, "/").await;
        if page.contains(&since) && page.contains("papers so far") {
            saw_progress = true;
        }
        if (1..=5).all(|i| page.contains(&format!("Fresh result number {i}")))
            && !page.contains("Harvesting arXiv")
        {
            listed = true;
            assert!(!page.contains("No papers yet"), "{page}");
            // A short sentence: no URL, no network error for readers.
            assert!(!page.contains(&standin.base), "{page}");
            // (not a bare "500": a random CSRF token on the page can hold it)
            assert!(!page.contains("HTTP 5"), "{page}");
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(listed, "the recent papers are listed on / within 30 s");
    assert!(saw_progress, "the home page showed the harvest under way");
    assert!(saw_on_daily, "so did /daily");
    let page = home(&s, "/").await;
    assert!(
        !page.contains("Old result"),
        "older papers are not harvested: {page}"
    );

    // Operations: ready, and the metrics name the harvest, the indexes'
    // lag and the pages' latency by route.
    let ready = reqwest::get(s.url("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);
    let metrics = home(&s, "/metrics").await;
    for line in [
        "paperboy_harvest_lag_seconds{set=\"cs\"}",
        "paperboy_harvest_running{set=\"cs\"} 0",
        "paperboy_index_lag_changes",
        "paperboy_embedding_backlog_changes",
        "paperboy_http_request_duration_seconds_count{method=\"GET\",route=\"/\"}",
        "paperboy_http_request_duration_seconds_bucket{method=\"GET\",route=\"/daily\",le=\"+Inf\"}",
    ] {
        assert!(metrics.contains(line), "no {line} in {metrics}");
    }

    // What arXiv was asked: the first list request names a `from` inside
    // the window, and no request asks for the whole history.
    let window = today - chrono::Duration::days(7);
    let requests = standin.requests();
    assert!(!requests.is_empty());
    // Only list requests: the full-text fetcher may have asked for a
    // paper's HTML by then.
    let mut lists = 0;
    for r in &requests {
        if !r.query.contains("verb=ListRecords") || r.query.contains("resumptionToken=") {
            continue;
        }
        lists += 1;
        let from = r
            .query
            .split('&')
            .find_map(|kv| kv.strip_prefix("from="))
            .unwrap_or_else(|| panic!("a list request without from: {}", r.query));
        let from = NaiveDate::parse_from_str(from, "%Y-%m-%d").unwrap();
        assert!(
            from >= window,
            "from={from} is older than the window ({window})"
        );
    }
    assert!(lists > 0, "no list request among {requests:?}");
}

#[tokio::test]
async fn when_arxiv_cannot_be_reached_the_pages_say_so_and_when_the_next_try_is() {
    let today = Utc::now().date_naive();
    let standin = ArxivStandin::start(records(today), 10).await;
    standin.fault_always("start", Fault::ServerError);
    let env = Env::sqlite();
    let mut cmd = command(&env, &standin, "50");
    cmd.env("PAPERBOY_HARVEST_RETRY_SECS", "600");
    let s = Server::start_scheduled(cmd, &[]).await;
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let page = home(&s, "/").await;
        if page.contains("could not be reached") {
            assert!(page.contains("Next try at"), "{page}");
            assert!(page.contains("arXiv cs"), "{page}");
            assert!(!page.contains("No papers yet"), "{page}");
            // A short sentence: no URL, no network error for readers.
            assert!(!page.contains(&standin.base), "{page}");
            // (not a bare "500": a random CSRF token on the page can hold it)
            assert!(!page.contains("HTTP 5"), "{page}");
            break;
        }
        assert!(Instant::now() < deadline, "no word of the failure: {page}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let daily = home(&s, "/daily").await;
    assert!(daily.contains("could not be reached"), "{daily}");
    // Nothing was stored, nothing was asked twice within the retry time.
    let asked = standin.requests().len();
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(standin.requests().len(), asked);
}

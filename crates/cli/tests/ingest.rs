//! `paperboy ingest` against a local stand-in for arXiv.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::collections::BTreeMap;
use std::time::Duration;

use common::{stderr, stdout, Env};
use paperboy_store::{ChangeFeed, HarvestStore, PaperStore};
use paperboy_testkit::arxiv_standin::{
    atom_entry, deleted_record, raw_record, ArxivStandin, Fault, StandinRecord,
};

/// Nine records over three datestamps: plain ones, TeX and accents, an
/// old-style id, one without a title, one deleted.
fn records() -> Vec<StandinRecord> {
    let d = |day: u32| format!("Mon, {day} Apr 2024 10:00:00 GMT");
    let mut v = Vec::new();
    for i in 1..=5 {
        v.push(raw_record(
            &format!("2404.{i:05}"),
            "2024-04-02",
            &format!("Paper {i} on robust fine-tuning"),
            "Ada Lovelace, Alan Turing",
            "cs.LG cs.AI",
            &format!("Abstract {i}. Code at https://github.com/lab/repo{i}."),
            &[&d(1)],
        ));
    }
    v.push(raw_record(
        "2404.00006",
        "2024-04-03",
        "Bounds for $\\ell_p$ regression with M\\\"uller's trick",
        "F. M\\\"uller, Zoë Ng and José García",
        "cs.DS",
        "We prove $O(n \\log n)$ bounds.",
        &[&d(1), &d(8)],
    ));
    v.push(raw_record(
        "hep-th/9901001",
        "2024-04-03",
        "An old paper, re-touched",
        "E. Witten",
        "hep-th",
        "Strings.",
        &["Fri, 1 Jan 1999 00:00:00 GMT"],
    ));
    v.push(raw_record(
        "2404.00008",
        "2024-04-04",
        "",
        "No Title",
        "cs.LG",
        "Missing its title.",
        &[&d(2)],
    ));
    v.push(deleted_record("2404.00009", "2024-04-04"));
    v
}

fn env_for(standin: &ArxivStandin, env: &mut Vec<(String, String)>) {
    env.push(("PAPERBOY_ARXIV_OAI_URL".into(), standin.oai_url()));
    env.push(("PAPERBOY_ARXIV_API_URL".into(), standin.api_url()));
    env.push(("PAPERBOY_ARXIV_MIN_INTERVAL_MS".into(), "250".into()));
    env.push(("PAPERBOY_ARXIV_BACKOFF_MS".into(), "50".into()));
    env.push(("PAPERBOY_CONTACT_EMAIL".into(), "ops@example.org".into()));
    // The stand-in's records are from 2024: first harvests take the whole
    // history rather than the last week (first_start.rs tests the window).
    env.push(("PAPERBOY_INITIAL_HARVEST_DAYS".into(), "0".into()));
}

async fn ingest(env: &Env, standin: &ArxivStandin, args: &[&str]) -> std::process::Output {
    let mut vars = Vec::new();
    env_for(standin, &mut vars);
    let mut cmd = tokio::process::Command::from(env.command());
    cmd.envs(vars).arg("ingest").args(args);
    cmd.output().await.expect("run paperboy ingest")
}

fn summary(out: &std::process::Output) -> Vec<u64> {
    let text = stdout(out);
    let line = text
        .lines()
        .find(|l| l.starts_with("harvested "))
        .unwrap_or_else(|| panic!("no summary in {text:?}; stderr {}", stderr(out)));
    line.split([' ', ','])
        .filter_map(|w| w.parse().ok())
        .take(4)
        .collect()
}

/// Every live paper in a store, by id, as comparable text.
async fn snapshot(url: &str) -> BTreeMap<String, String> {
    let store = paperboy_store_sqlite::open(url).await.unwrap();
    let mut out = BTreeMap::new();
    for change in store.changes_since(0, 10_000).await.unwrap() {
        if let Some(p) = change.paper {
            out.insert(change.arxiv_id.to_string(), format!("{:?}", p.paper));
        }
    }
    out
}

#[tokio::test]
async fn harvests_every_page_then_adds_nothing_the_second_time() {
    let standin = ArxivStandin::start(records(), 3).await;
    let env = Env::sqlite();
    // The paper the OAI feed deletes is in the store beforehand.
    let seed = env.path("pre.jsonl");
    common::write(
        &seed,
        r#"{"id":"2404.00009","title":"Soon withdrawn","abstract":"x","versions":[{"version":"v1","created":"Mon, 1 Apr 2024 10:00:00 GMT"}]}"#,
    );
    assert!(env
        .run(&["import", seed.to_str().unwrap()])
        .status
        .success());

    let out = ingest(&env, &standin, &["--once", "--set", "cs"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        summary(&out),
        [7, 0, 1, 1],
        "new, updated, deleted, rejected"
    );
    let err = stderr(&out);
    assert!(
        err.contains("2404.00008") && err.contains("empty title"),
        "{err}"
    );
    assert!(
        err.contains(&standin.oai_url()),
        "the rejection names the URL: {err}"
    );

    let reqs = standin.requests();
    assert_eq!(reqs.len(), 3, "three pages of three");
    assert!(reqs[0].query.contains("set=cs") && reqs[0].query.contains("metadataPrefix=arXivRaw"));
    assert!(reqs[1].query.contains("resumptionToken="));
    // The client spaces the starts of its requests 250 ms apart; the server
    // sees them with some jitter of its own, hence the margin.
    for pair in reqs.windows(2) {
        let gap = pair[1].at - pair[0].at;
        assert!(gap >= Duration::from_millis(200), "requests {gap:?} apart");
    }
    assert!(
        reqs[0].user_agent.contains("Paperboy") && reqs[0].user_agent.contains("ops@example.org")
    );

    let store = paperboy_store_sqlite::open(&env.database_url)
        .await
        .unwrap();
    let tex = store
        .get_paper(&"2404.00006".parse().unwrap())
        .await
        .unwrap()
        .paper;
    assert_eq!(
        tex.title, "Bounds for $\\ell_p$ regression with M\\\"uller's trick",
        "TeX kept as written"
    );
    let names: Vec<&str> = tex.authors.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["F. Müller", "Zoë Ng", "José García"]);
    assert_eq!(tex.latest_version(), 2);
    let old = store
        .get_paper(&"hep-th/9901001".parse().unwrap())
        .await
        .unwrap()
        .paper;
    assert_eq!(old.published_at().to_rfc3339(), "1999-01-01T00:00:00+00:00");
    assert!(
        store
            .get_paper(&"2404.00009".parse().unwrap())
            .await
            .is_err(),
        "deleted"
    );
    assert_eq!(store.count_papers().await.unwrap(), 7);
    drop(store);

    let again = ingest(&env, &standin, &["--once", "--set", "cs"]).await;
    assert!(again.status.success(), "{}", stderr(&again));
    let s = summary(&again);
    assert_eq!(&s[..3], [0, 0, 0], "nothing new the second time");
    let last = standin
        .requests()
        .into_iter()
        .nth(3)
        .expect("a fourth request");
    assert!(
        last.query.contains("from=2024-04-04"),
        "continues from the checkpoint: {}",
        last.query
    );
}

#[tokio::test]
async fn retry_after_and_cut_off_pages_are_survived() {
    let standin = ArxivStandin::start(records(), 3).await;
    standin.fault_once(
        &ArxivStandin::token(3, ""),
        Fault::Unavailable {
            retry_after_secs: 2,
        },
    );
    standin.fault_once(&ArxivStandin::token(6, ""), Fault::Truncated);
    standin.fault_once("start", Fault::ServerError);
    let env = Env::sqlite();
    let out = ingest(&env, &standin, &["--once", "--set", "cs"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(summary(&out), [7, 0, 0, 1]);
    let reqs = standin.requests();
    let statuses: Vec<u16> = reqs.iter().map(|r| r.status).collect();
    assert_eq!(statuses, [500, 200, 503, 200, 200, 200]);
    let after_503 = reqs[3].at - reqs[2].at;
    assert!(
        after_503 >= Duration::from_millis(1950),
        "Retry-After honoured: {after_503:?}"
    );
}

#[tokio::test]
async fn a_page_that_never_parses_is_an_error_naming_the_url() {
    let standin = ArxivStandin::start(records(), 3).await;
    standin.fault_always(&ArxivStandin::token(3, ""), Fault::Truncated);
    let env = Env::sqlite();
    let mut vars = Vec::new();
    env_for(&standin, &mut vars);
    // The stand-in runs on this test's runtime: wait for the child without blocking it.
    let mut cmd = tokio::process::Command::from(env.command());
    cmd.envs(vars)
        .env("PAPERBOY_ARXIV_MAX_RETRIES", "2")
        .args(["ingest", "--once", "--set", "cs"]);
    let out = cmd.output().await.unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains(&standin.oai_url()) && err.contains("resumptionToken"),
        "{err}"
    );
    // The first page stays, and the checkpoint points at the failing page.
    let store = paperboy_store_sqlite::open(&env.database_url)
        .await
        .unwrap();
    assert_eq!(store.count_papers().await.unwrap(), 3);
    let cp = store.harvest_checkpoint("cs").await.unwrap().unwrap();
    assert_eq!(
        cp.resumption_token.as_deref(),
        Some(ArxivStandin::token(3, "").as_str())
    );
}

/// Kill the harvester once it has asked for page `kill_at` (1-based).
async fn run_killed(env: &Env, standin: &ArxivStandin, kill_at: usize) {
    let mut vars = Vec::new();
    env_for(standin, &mut vars);
    let mut cmd = tokio::process::Command::from(env.command());
    cmd.envs(vars).args(["ingest", "--once", "--set", "cs"]);
    cmd.stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null());
    let before = standin.requests().len();
    let mut child = cmd.spawn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while standin.requests().len() < before + kill_at {
        assert!(
            std::time::Instant::now() < deadline,
            "harvester never got to page {kill_at}"
        );
        if let Ok(Some(_)) = child.try_wait() {
            return; // finished before we could kill it
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    child.kill().await.unwrap();
}

#[tokio::test]
async fn killing_between_pages_yields_the_same_store() {
    let full = ArxivStandin::start(records(), 2).await;
    let reference = Env::sqlite();
    let out = ingest(&reference, &full, &["--once", "--set", "cs"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    let want = snapshot(&reference.database_url).await;
    assert_eq!(want.len(), 7);

    for kill_at in [2, 3, 4] {
        let standin = ArxivStandin::start(records(), 2).await;
        let env = Env::sqlite();
        assert!(env.run(&["migrate"]).status.success());
        run_killed(&env, &standin, kill_at).await;
        let out = ingest(&env, &standin, &["--once", "--set", "cs"]).await;
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(
            snapshot(&env.database_url).await,
            want,
            "killed at page {kill_at}"
        );
        let resumed = &standin.requests()[kill_at..];
        assert!(
            resumed[0].query.contains("resumptionToken"),
            "the restart continues from the checkpoint's token: {}",
            resumed[0].query
        );
    }
}

#[tokio::test]
async fn a_refused_token_restarts_from_the_checkpoint_date() {
    let standin = ArxivStandin::start(records(), 2).await;
    let env = Env::sqlite();
    assert!(env.run(&["migrate"]).status.success());
    run_killed(&env, &standin, 3).await;
    standin.refuse_tokens(1);
    let out = ingest(&env, &standin, &["--once", "--set", "cs"]).await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stderr(&out).contains("restarting"), "{}", stderr(&out));
    assert_eq!(snapshot(&env.database_url).await.len(), 7);
}

#[tokio::test]
async fn ids_are_fetched_through_the_atom_api() {
    let standin = ArxivStandin::start(vec![], 10).await;
    standin.add_atom_entry(
        "2203.05482",
        atom_entry(
            "2203.05482",
            3,
            "Model soups: averaging weights of multiple fine-tuned models",
            "We average weights. Code: https://github.com/mlfoundations/model-soups.",
            &["Mitchell Wortsman", "Gabriel Ilharco"],
            &["cs.LG", "cs.CV"],
            "2022-03-10T18:59:05Z",
            "2022-07-01T17:48:52Z",
        ),
    );
    let env = Env::sqlite();
    let out = ingest(
        &env,
        &standin,
        &["--id", "2203.05482", "https://arxiv.org/abs/2401.99999"],
    )
    .await;
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(summary(&out), [1, 0, 0, 0]);
    assert!(
        stderr(&out).contains("not found on arXiv: 2401.99999"),
        "{}",
        stderr(&out)
    );
    let store = paperboy_store_sqlite::open(&env.database_url)
        .await
        .unwrap();
    let p = store
        .get_paper(&"2203.05482".parse().unwrap())
        .await
        .unwrap()
        .paper;
    assert_eq!(
        p.github_repo(),
        Some("https://github.com/mlfoundations/model-soups")
    );
    assert_eq!(p.latest_version(), 3);

    let bad = env.run(&["ingest", "--id", "not-an-id"]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("not-an-id"));
}

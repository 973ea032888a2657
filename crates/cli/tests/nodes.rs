//! Two `paperboy serve` processes on one PostgreSQL database, each with
//! its own data directory, the arXiv stand-in and aiosmtpd: what one node
//! does shows on the other within a second, a harvested paper is found on
//! both, and when the node holding the scheduler lease is killed with
//! SIGKILL, the other takes over harvesting, digests and the outbox, with
//! every message delivered once.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::time::{Duration, Instant};

use chrono::{NaiveDate, Utc};
use common::{browser, csrf_of, get_text, stderr, stdout, Env, Server, Smtp};
use paperboy_testkit::arxiv_standin::{dated_record, ArxivStandin, StandinRecord};
use serde_json::Value;

fn record(id: &str, day: NaiveDate, title: &str, text: &str) -> StandinRecord {
    dated_record(id, day, title, "Mitchell Wortsman, Ada Lovelace", text)
}

fn first_records(day: NaiveDate) -> Vec<StandinRecord> {
    vec![
        record(
            "2611.10001",
            day,
            "Averaging the weights of fine-tuned models",
            "We average the weights of several models fine-tuned from one pre-trained network and find that the soup is more accurate and more robust than any single model.",
        ),
        record(
            "2611.10002",
            day,
            "Protein folding with diffusion",
            "A generative diffusion model predicts protein structures from sequences.",
        ),
    ]
}

/// A node: the same database, secret, arXiv and mail as every other.
fn node(env: &Env, standin: &ArxivStandin, smtp: &Smtp) -> std::process::Command {
    let mut cmd = env.command();
    cmd.env("PAPERBOY_ARXIV_OAI_URL", standin.oai_url())
        .env("PAPERBOY_ARXIV_API_URL", standin.api_url())
        .env("PAPERBOY_ARXIV_MIN_INTERVAL_MS", "50")
        .env("PAPERBOY_ARXIV_BACKOFF_MS", "50")
        .env("PAPERBOY_CONTACT_EMAIL", "ops@example.org")
        .env("PAPERBOY_SMTP_URL", smtp.url())
        .env(
            "PAPERBOY_SECRET_KEY",
            "one secret for every node of this instance",
        )
        .env("PAPERBOY_MODEL_DIR", common::static_model_dir())
        .env("PAPERBOY_HARVEST_HOUR_UTC", "0")
        .env("PAPERBOY_DIGEST_HOUR", "0")
        .env("PAPERBOY_SCHEDULER_TICK_SECS", "1")
        .env("PAPERBOY_SCHEDULER_LEASE_SECS", "4");
    cmd
}

async fn json(url: &str) -> Value {
    reqwest::get(url).await.unwrap().json().await.unwrap()
}

/// Polls `check` until it holds; returns how long that took.
async fn within<F, Fut>(limit: Duration, what: &str, mut check: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    loop {
        if check().await {
            return started.elapsed();
        }
        assert!(started.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

async fn finds(s: &Server, q: &str, mode: &str, id: &str) -> bool {
    let url = s.url(&format!("/api/papers/search?q={q}&mode={mode}&limit=5"));
    match reqwest::get(url).await {
        Ok(r) if r.status().is_success() => {
            let v: Value = r.json().await.unwrap_or(Value::Null);
            v.as_array()
                .is_some_and(|a| a.iter().any(|h| h["paper"]["id"] == id))
        }
        _ => false,
    }
}

fn user_token(env: &Env, name: &str) -> String {
    let add = env
        .command()
        .env("PAPERBOY_PASSWORD", "a long enough password")
        .args(["user", "add", name, &format!("{name}@example.org")])
        .output()
        .unwrap();
    assert!(add.status.success(), "{}", stderr(&add));
    let out = env.run(&["user", "token", name]);
    assert!(out.status.success(), "{}", stderr(&out));
    stdout(&out).lines().last().unwrap().trim().to_string()
}

#[tokio::test]
async fn two_nodes_share_everything_and_survive_the_loss_of_the_lease_holder() {
    let Some(env_a) = Env::postgres().await else {
        eprintln!("PAPERBOY_TEST_PG is not set: the several-nodes test needs PostgreSQL");
        return;
    };
    let env_b = Env::sharing(&env_a);
    let today = Utc::now().date_naive();
    let standin = ArxivStandin::start(first_records(today - chrono::Duration::days(1)), 10).await;
    let smtp = Smtp::start(env_a.dir.path());
    // The model is distilled once per build, before the clocks start.
    let _ = common::static_model_dir();

    // Node A starts first and takes the scheduler lease; B starts at once.
    let mut a = Server::start_scheduled(node(&env_a, &standin, &smtp), &[]).await;
    let b = Server::start_scheduled(node(&env_b, &standin, &smtp), &[]).await;

    // The lease holder harvests; the paper is found on both nodes, by
    // keyword and by meaning, within 5 s of the first node finding it.
    within(Duration::from_secs(60), "A harvests and indexes", || {
        finds(&a, "averaging+weights", "keyword", "2611.10001")
    })
    .await;
    let lag = within(
        Duration::from_secs(5),
        "B finds the harvested paper",
        || async {
            finds(&b, "averaging+weights", "keyword", "2611.10001").await
                && finds(
                    &b,
                    "mixing+parameters+of+several+networks",
                    "semantic",
                    "2611.10001",
                )
                .await
                && finds(
                    &a,
                    "mixing+parameters+of+several+networks",
                    "semantic",
                    "2611.10001",
                )
                .await
        },
    )
    .await;
    eprintln!("harvested paper on both nodes by keyword and meaning after {lag:?}");

    // A vote, a comment and a daily submission on A show on B within 1 s.
    let token = user_token(&env_a, "ana");
    let api = reqwest::Client::new();
    let r = api
        .post(a.url("/api/papers/2611.10001/upvote"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    within(Duration::from_secs(1), "the vote on B", || async {
        json(&b.url("/api/papers/2611.10001")).await["upvotes"] == 1
    })
    .await;
    let r = api
        .post(a.url("/api/papers/2611.10001/comments"))
        .bearer_auth(&token)
        .json(&serde_json::json!({"body": "Does the soup hold *out of distribution*?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    within(Duration::from_secs(1), "the comment on B", || async {
        let c = json(&b.url("/api/papers/2611.10001/comments")).await;
        c.as_array()
            .is_some_and(|a| a.len() == 1 && a[0]["author"]["username"] == "ana")
    })
    .await;

    // Sessions work on both nodes: sign in on A, submit on B.
    let c = browser();
    let csrf = csrf_of(&get_text(&c, &a.url("/login")).await);
    let r = c
        .post(a.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "ana"),
            ("password", "a long enough password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let page = get_text(&c, &b.url("/submit")).await;
    assert!(page.contains("ana"), "B knows A's session");
    let csrf = csrf_of(&page);
    let r = c
        .post(b.url("/submit"))
        .form(&[("csrf", csrf.as_str()), ("arxiv_id", "2611.10002")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303, "submitted on B");
    within(Duration::from_secs(1), "the submission on A", || async {
        let d = json(&a.url("/api/daily_papers?submitter=ana")).await;
        d.as_array()
            .is_some_and(|v| v.iter().any(|x| x["paper"]["id"] == "2611.10002"))
    })
    .await;
    // API tokens too: B takes A's token.
    let r = api
        .delete(b.url("/api/papers/2611.10001/upvote"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.status());
    within(
        Duration::from_secs(1),
        "the withdrawn vote on A",
        || async { json(&a.url("/api/papers/2611.10001")).await["upvotes"] == 0 },
    )
    .await;

    // Two readers subscribe on A (the confirmation goes at once) and
    // confirm on B.
    for reader in ["rita", "remy"] {
        let c = browser();
        let csrf = csrf_of(&get_text(&c, &a.url("/subscribe")).await);
        let r = c
            .post(a.url("/subscribe"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("email", &format!("{reader}@example.org")),
                ("frequency", "daily"),
                ("categories", "cs.LG"),
            ])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success() || r.status().is_redirection());
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while smtp.messages().len() < 2 {
        assert!(Instant::now() < deadline, "two confirmations");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    for m in smtp.messages() {
        let link = m.link("http://127.0.0.1:8080/subscribe/confirm?token=");
        let path = link.trim_start_matches("http://127.0.0.1:8080");
        let r = reqwest::get(b.url(path)).await.unwrap();
        assert_eq!(r.status(), 200);
    }

    // SIGKILL the lease holder. B takes over within the lease time: it
    // harvests what arXiv announced since, composes the digests due and
    // sends them.
    a.child.kill().unwrap();
    a.child.wait().unwrap();
    let killed = Instant::now();
    standin.add_records(vec![record(
        "2611.10003",
        today,
        "Merging fine-tuned models by weight interpolation",
        "Interpolating the weights of fine-tuned models improves robustness.",
    )]);
    let took = within(Duration::from_secs(20), "B harvests after the kill", || {
        finds(&b, "weight+interpolation", "keyword", "2611.10003")
    })
    .await;
    eprintln!("B harvested {took:?} after A was killed (lease 4 s, tick 1 s)");
    assert!(killed.elapsed() < Duration::from_secs(20));
    let digests = |msgs: &[paperboy_testkit::Mail], to: &str| {
        msgs.iter()
            .filter(|m| m.header("To").contains(to) && !m.text.contains("/subscribe/confirm"))
            .count()
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let msgs = smtp.messages();
        if digests(&msgs, "rita@") >= 1 && digests(&msgs, "remy@") >= 1 {
            break;
        }
        assert!(Instant::now() < deadline, "the digests after the takeover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A few more ticks: nothing is sent twice.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let msgs = smtp.messages();
    assert_eq!(digests(&msgs, "rita@"), 1, "one digest for rita");
    assert_eq!(digests(&msgs, "remy@"), 1, "one digest for remy");
    assert_eq!(msgs.len(), 4, "two confirmations and two digests");
    let digest = msgs
        .iter()
        .find(|m| m.header("To").contains("rita@") && !m.text.contains("/subscribe/confirm"))
        .unwrap();
    assert!(
        digest.text.contains("Averaging the weights"),
        "{}",
        digest.text
    );
    drop(b);
}

/// The database goes away under a node (a PostgreSQL restart, played by
/// cutting a relay in front of it): requests get 503 with Retry-After,
/// never another 5xx or a crash, and the node recovers by itself.
// Several threads: the relay runs on this runtime while the test blocks
// on starting the server.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn when_the_database_goes_away_requests_get_503_and_the_node_recovers() {
    let Some(env) = Env::postgres().await else {
        eprintln!("PAPERBOY_TEST_PG is not set: the outage test needs PostgreSQL");
        return;
    };
    let seed = paperboy_testkit::seed_corpus_path();
    assert!(env
        .run(&["import", seed.to_str().unwrap()])
        .status
        .success());
    // postgres://user@host:port/db → the same through the relay.
    let url = &env.database_url;
    let at = url.find('@').unwrap() + 1;
    let slash = at + url[at..].find('/').unwrap();
    let proxy = paperboy_testkit::tcp_proxy::TcpProxy::start(&url[at..slash]).await;
    let relayed = format!("{}127.0.0.1:{}{}", &url[..at], proxy.port(), &url[slash..]);
    let mut cmd = env.command();
    cmd.env("PAPERBOY_DATABASE_URL", &relayed);
    let mut s = Server::start_with(cmd, &[]).await;
    let paths = [
        "/api/papers/2203.05482",
        "/papers/2203.05482",
        "/",
        "/api/trending",
        "/api/papers/search?q=model+soups",
        "/healthz",
        "/readyz",
    ];
    for p in paths {
        let r = reqwest::get(s.url(p)).await.unwrap();
        assert_eq!(r.status(), 200, "{p} before the outage");
    }

    proxy.cut();
    let outage = Instant::now();
    while outage.elapsed() < Duration::from_secs(3) {
        for p in paths {
            let r = reqwest::get(s.url(p)).await.unwrap();
            let status = r.status().as_u16();
            assert!(
                status == 200 || status == 503,
                "{p} during the outage: {status} {}",
                r.text().await.unwrap_or_default()
            );
            if status == 503 {
                assert!(
                    r.headers().contains_key("retry-after"),
                    "{p}: 503 without Retry-After"
                );
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for p in ["/api/papers/2203.05482", "/healthz", "/readyz"] {
        assert_eq!(
            reqwest::get(s.url(p)).await.unwrap().status(),
            503,
            "{p} while the database is away"
        );
    }
    assert!(
        s.child.try_wait().unwrap().is_none(),
        "the node is still running"
    );

    proxy.restore();
    within(
        Duration::from_secs(10),
        "recovery without a restart",
        || async {
            let mut ok = true;
            for p in paths {
                ok &= reqwest::get(s.url(p))
                    .await
                    .is_ok_and(|r| r.status() == 200);
            }
            ok
        },
    )
    .await;
    assert!(s.child.try_wait().unwrap().is_none());
    let v = json(&s.url("/api/papers/2203.05482")).await;
    assert_eq!(v["id"], "2203.05482");
    s.child.kill().unwrap();
}

/// A harvest that takes longer than the scheduler lease (pages spaced
/// 1.5 s apart, a 2 s lease): the node running it renews the lease before
/// every page, so the other node never starts on the same set, and no page
/// is asked of arXiv twice.
#[tokio::test]
async fn a_long_harvest_keeps_its_lease_and_no_page_is_fetched_twice() {
    let Some(env_a) = Env::postgres().await else {
        eprintln!("PAPERBOY_TEST_PG is not set: the several-nodes test needs PostgreSQL");
        return;
    };
    let env_b = Env::sharing(&env_a);
    let day = Utc::now().date_naive() - chrono::Duration::days(1);
    let records: Vec<StandinRecord> = (0..12)
        .map(|i| {
            record(
                &format!("2611.2{i:04}"),
                day,
                &format!("Slowly harvested paper {i}"),
                "A paper of a harvest that takes longer than the scheduler's lease.",
            )
        })
        .collect();
    let standin = ArxivStandin::start(records, 2).await;
    let smtp = Smtp::start(env_a.dir.path());
    let _ = common::static_model_dir();
    let slow = |env: &Env| {
        let mut cmd = node(env, &standin, &smtp);
        cmd.env("PAPERBOY_ARXIV_MIN_INTERVAL_MS", "1500")
            .env("PAPERBOY_SCHEDULER_LEASE_SECS", "2")
            .env("PAPERBOY_EMBEDDER", "static");
        cmd
    };
    let a = Server::start_scheduled(slow(&env_a), &[]).await;
    let b = Server::start_scheduled(slow(&env_b), &[]).await;
    within(
        Duration::from_secs(90),
        "the last page is harvested",
        || async {
            reqwest::get(a.url("/api/papers/2611.20011"))
                .await
                .is_ok_and(|r| r.status().is_success())
        },
    )
    .await;
    // Time for a second node to have started a run of its own, if it could.
    tokio::time::sleep(Duration::from_secs(4)).await;
    let pages: Vec<String> = standin
        .requests()
        .into_iter()
        .filter(|r| r.query.contains("ListRecords"))
        .map(|r| r.query)
        .collect();
    assert!(pages.len() >= 6, "{pages:?}");
    let mut seen = std::collections::HashSet::new();
    for p in &pages {
        assert!(seen.insert(p), "asked twice: {p} in {pages:?}");
    }
    drop(b);
}

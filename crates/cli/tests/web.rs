//! The site through a running `paperboy serve` (the behaviours themselves
//! are tested in-process in crates/web/tests): a browser signs up and
//! votes, a script votes with a token from `paperboy user token`, and a
//! paper imported while the server runs is searchable within seconds.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::time::{Duration, Instant};

use common::{browser, csrf_of, get_json, get_text, stderr, summary, write, Env, Server};
use paperboy_testkit::{recent_record, seed_corpus_path};

async fn upvotes_of(s: &Server, id: &str) -> i64 {
    let p = get_json(&s.url(&format!("/api/papers/{id}"))).await;
    p["upvotes"].as_i64().unwrap()
}

#[tokio::test]
async fn a_running_server_takes_votes_tokens_and_new_papers() {
    let env = Env::sqlite();
    let out = env.run(&["import", seed_corpus_path().to_str().unwrap()]);
    assert_eq!(summary(&out), (68, 0, 0, 0), "{}", stderr(&out));
    let s = Server::start(&env, &[]).await;
    let c = browser();
    let csrf = csrf_of(&get_text(&c, &s.url("/signup")).await);
    let r = c
        .post(s.url("/signup"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "ada"),
            ("email", "ada@example.org"),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = c
        .post(s.url("/papers/2203.05482/upvote"))
        .form(&[("csrf", csrf.as_str()), ("action", "add")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(upvotes_of(&s, "2203.05482").await, 1);

    let token = env.run(&["user", "token", "ada"]);
    assert!(token.status.success(), "{}", stderr(&token));
    let token = common::stdout(&token).trim().to_string();
    let r = reqwest::Client::new()
        .delete(s.url("/api/papers/2203.05482/upvote"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(upvotes_of(&s, "2203.05482").await, 0);

    // The keyword index follows the store: a paper imported now is found.
    let file = env.path("late.jsonl");
    write(
        &file,
        &recent_record(
            "2511.00077",
            "Zyxwvut quasiparticle lattices",
            "A fresh result.",
            "cs.LG",
        ),
    );
    assert_eq!(summary(&env.run(&["import", file.to_str().unwrap()])).0, 1);
    let started = Instant::now();
    loop {
        let rows = get_json(&s.url("/api/papers/search?q=zyxwvut&mode=keyword")).await;
        if rows.as_array().is_some_and(|a| a.len() == 1) {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "not searchable within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

//! `paperboy backup` while another process writes the store, and
//! `paperboy restore` into a fresh data directory: the copy is one
//! consistent moment, and a restored store answers like the original.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use std::time::{Duration, Instant};

use common::{stderr, stdout, write, Env};
use paperboy_store_sqlite::backup::{verify, Counts};

/// `n` snapshot records with ids `{prefix}.00000`…
fn records(prefix: &str, n: usize) -> String {
    let mut out = String::new();
    for i in 0..n {
        let rec = serde_json::json!({
            "id": format!("{prefix}.{i:05}"),
            "title": format!("Load paper {i} on weight averaging and robust transfer"),
            "abstract": format!("Record {i} written while a backup runs."),
            "authors": "Ada Lovelace",
            "categories": "cs.LG",
            "versions": [{"version": "v1", "created": "Mon, 2 Jan 2023 10:00:00 GMT"}],
            "update_date": "2023-01-02",
        });
        out.push_str(&rec.to_string());
        out.push('\n');
    }
    out
}

fn db(env: &Env) -> std::path::PathBuf {
    env.path("data/paperboy.db")
}

fn counts(env: &Env) -> Counts {
    verify(&db(env)).unwrap()
}

fn seed() -> String {
    paperboy_testkit::repo_root()
        .join("fixtures/seed-papers.jsonl")
        .display()
        .to_string()
}

/// Ids with their scores, best first; papers of equal score in id order
/// (an index built in one go and one built as papers came break ties by
/// their own internal order).
fn answers(v: &serde_json::Value) -> Vec<(String, i64)> {
    let mut out: Vec<(String, i64)> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let id = r["paper"]["id"].as_str().unwrap().to_string();
            (id, (r["score"].as_f64().unwrap() * 1000.0).round() as i64)
        })
        .collect();
    out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

fn search(env: &Env, q: &str, mode: &str) -> serde_json::Value {
    let out = env.run(&["search", q, "--json", "--limit", "10", "--mode", mode]);
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_str(&stdout(&out)).unwrap()
}

#[tokio::test]
async fn a_backup_under_write_load_restores_to_the_same_store() {
    let src = Env::sqlite();
    let out = src.run(&["import", &seed()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let seeded = counts(&src).papers;
    let user = src
        .command()
        .env("PAPERBOY_PASSWORD", "a long enough password")
        .args(["user", "add", "cora", "cora@example.org"])
        .output()
        .unwrap();
    assert!(user.status.success(), "{}", stderr(&user));

    // A second process writes 40,000 papers in batches meanwhile.
    let load = src.path("load.jsonl");
    write(&load, &records("1901", 40_000));
    let mut writer = tokio::process::Command::from(src.command())
        .args(["import", load.to_str().unwrap()])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while counts(&src).papers == seeded {
        assert!(Instant::now() < deadline, "the writer never wrote");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let during = src.path("during.db");
    let out = tokio::process::Command::from(src.command())
        .args(["backup", during.to_str().unwrap()])
        .output()
        .await
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).starts_with("backed up "), "{}", stdout(&out));
    let status = writer.wait().await.unwrap();
    assert!(status.success());
    let after = counts(&src);
    assert_eq!(after.papers, seeded + 40_000);
    // The copy is one moment of the store: intact, with the account, and
    // some whole number of the writer's batches.
    let copy = verify(&during).unwrap();
    assert_eq!(copy.users, 1);
    assert!(
        copy.papers >= seeded && copy.papers <= after.papers,
        "{copy:?}"
    );

    // Restored into a fresh data directory, it is that moment.
    let mid = Env::sqlite();
    let out = mid.run(&["restore", during.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(counts(&mid), copy);

    // Once the writer is done: the same counts and the same answers.
    let last = src.path("after.db");
    let out = src.run(&["backup", last.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let fresh = Env::sqlite();
    let out = fresh.run(&["restore", last.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("reindexed"), "{}", stdout(&out));
    assert_eq!(counts(&fresh), after);
    // Keyword answers are exact (ties aside); vector indexes built in one
    // go and built as papers came may differ in their approximate
    // neighbours, so by meaning the best answer is compared.
    for q in [
        "model soups",
        "weight averaging",
        "robust fine-tuning zero-shot",
    ] {
        assert_eq!(
            answers(&search(&fresh, q, "keyword")),
            answers(&search(&src, q, "keyword")),
            "answers to {q:?}"
        );
    }
    // (The load's 40,000 records share one title shape, so only a query
    // with one clear winner is compared by meaning.)
    assert_eq!(
        search(&fresh, "model soups", "hybrid")[0]["paper"]["id"],
        search(&src, "model soups", "hybrid")[0]["paper"]["id"],
    );
    let soups = search(
        &fresh,
        "averaging the weights of several fine-tuned models",
        "hybrid",
    );
    assert_eq!(soups[0]["paper"]["id"], "2203.05482");
    // Accounts came along: signing in works on the restored store.
    let s = common::Server::start(&fresh, &[]).await;
    let c = common::browser();
    let csrf = common::csrf_of(&common::get_text(&c, &s.url("/login")).await);
    let r = c
        .post(s.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "cora"),
            ("password", "a long enough password"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "the account was restored");
}

#[tokio::test]
async fn restore_refuses_a_store_in_use_and_bad_files() {
    let src = Env::sqlite();
    assert!(src.run(&["import", &seed()]).status.success());
    let copy = src.path("copy.db");
    assert!(src
        .run(&["backup", copy.to_str().unwrap()])
        .status
        .success());

    // Never over an existing file.
    let again = src.run(&["backup", copy.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("exists"), "{}", stderr(&again));

    // Not over a store that holds papers, unless --force.
    let other = Env::sqlite();
    write(&other.path("one.jsonl"), &records("1902", 3));
    assert!(other
        .run(&["import", other.path("one.jsonl").to_str().unwrap()])
        .status
        .success());
    let refused = other.run(&["restore", copy.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(1));
    let err = stderr(&refused);
    assert!(err.contains("--force") && err.contains("3 papers"), "{err}");
    assert_eq!(counts(&other).papers, 3, "nothing was touched");
    let forced = other.run(&["restore", "--force", copy.to_str().unwrap()]);
    assert!(forced.status.success(), "{}", stderr(&forced));
    assert_eq!(counts(&other), counts(&src));

    // Not from something that is not a backup.
    let junk = other.path("junk.db");
    write(&junk, "this is not a database");
    let bad = Env::sqlite().run(&["restore", junk.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1));
    assert!(stderr(&bad).contains("junk.db"), "{}", stderr(&bad));
    // A cut-off copy is refused too.
    let bytes = std::fs::read(&copy).unwrap();
    let cut = other.path("cut.db");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let bad = Env::sqlite().run(&["restore", cut.to_str().unwrap()]);
    assert_eq!(bad.status.code(), Some(1), "{}", stdout(&bad));
    assert!(stderr(&bad).contains("cut.db"), "{}", stderr(&bad));

    // Not while a server uses the data directory.
    let s = common::Server::start(&other, &[]).await;
    let busy = other.run(&["restore", "--force", copy.to_str().unwrap()]);
    assert_eq!(busy.status.code(), Some(1));
    assert!(
        stderr(&busy).contains("stop `paperboy serve`"),
        "{}",
        stderr(&busy)
    );
    drop(s);
}

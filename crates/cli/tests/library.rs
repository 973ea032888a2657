//! `paperboy library import|export` and `paperboy recommend` from the shell:
//! errors named with their lines, nothing half-imported, exports that
//! import back, and `recommend --json` answering exactly what the API does.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::{stderr, stdout, write, Env};
use paperboy_testkit::seed_corpus_path;

fn prepare() -> Env {
    let env = Env::sqlite();
    assert!(env
        .run(&["import", seed_corpus_path().to_str().unwrap()])
        .status
        .success());
    let mut add = env.command();
    add.env("PAPERBOY_PASSWORD", "a long enough password")
        .args(["user", "add", "ada", "ada@example.org"]);
    assert!(add.output().unwrap().status.success());
    env
}

#[tokio::test]
async fn import_reports_lines_export_round_trips_and_recommend_json_is_the_api() {
    let env = prepare();
    let bib = env.path("mine.bib");
    write(
        &bib,
        "@article{soups, title = {Model soups}, eprint = {2203.05482}, archivePrefix = {arXiv}}\n\
         @misc{tasks, url = {https://arxiv.org/abs/2407.02880}}\n\
         @misc{route, doi = {10.48550/arXiv.2402.05859}}\n\
         @misc{unknown, eprint = {2501.99999}, archivePrefix = {arXiv}}\n\
         @misc{broken, title = {unclosed\n",
    );
    // arXiv cannot be reached here: the unknown id is reported, the rest kept.
    let mut cmd = env.command();
    cmd.env("PAPERBOY_ARXIV_API_URL", "http://127.0.0.1:9/api/query")
        .env("PAPERBOY_ARXIV_MAX_RETRIES", "0")
        .env("PAPERBOY_ARXIV_BACKOFF_MS", "10")
        .args([
            "library",
            "import",
            "--user",
            "ada",
            "--tag",
            "merging",
            bib.to_str().unwrap(),
        ]);
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("imported 3 new"), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(err.contains("mine.bib:4: entry `unknown`"), "{err}");
    assert!(err.contains("mine.bib:5: malformed BibTeX entry"), "{err}");

    let out = env.run(&["library", "export", "--user", "ada", "--format", "bibtex"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let exported = env.path("exported.bib");
    write(&exported, &stdout(&out));
    let mut add = env.command();
    add.env("PAPERBOY_PASSWORD", "a long enough password")
        .args(["user", "add", "bob", "bob@example.org"]);
    assert!(add.output().unwrap().status.success());
    let out = env.run(&[
        "library",
        "import",
        "--user",
        "bob",
        exported.to_str().unwrap(),
    ]);
    assert!(
        stdout(&out)
            .contains("imported 3 new, 0 already saved, 0 fetched from arXiv, 0 not imported"),
        "{}",
        stdout(&out)
    );
    let csv = stdout(&env.run(&["library", "export", "--user", "bob", "--format", "csv"]));
    assert_eq!(csv.lines().count(), 4, "{csv}");
    let out = env.run(&["library", "export", "--user", "nobody", "--format", "json"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("no member named `nobody`"));

    // `recommend --json` is the API's answer, byte for byte once parsed.
    let out = env.run(&[
        "recommend",
        "--user",
        "ada",
        "--days",
        "0",
        "--limit",
        "5",
        "--json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let cli: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(cli.as_array().unwrap().len(), 5);
    let token = stdout(&env.run(&["user", "token", "ada"]))
        .lines()
        .last()
        .unwrap()
        .trim()
        .to_string();
    let s = common::Server::start(&env, &[]).await;
    let api: serde_json::Value = reqwest::Client::new()
        .get(s.url("/api/me/recommendations?days=0&limit=5"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(cli, api);
    let text = stdout(&env.run(&["recommend", "--user", "ada", "--days", "0", "--limit", "3"]));
    assert!(text.contains("why: close to"), "{text}");
    let out = env.run(&["recommend", "--user", "ada", "--days", "99999"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("days must be from 0"),
        "{}",
        stderr(&out)
    );
}

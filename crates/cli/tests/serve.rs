//! `paperboy serve` from the outside: health and the paper API.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

mod common;

use common::{stderr, summary, write, Env, Server};
use paperboy_testkit::seed_corpus_path;
use serde_json::Value;

async fn ok_json(url: &str) -> Value {
    let r = reqwest::get(url).await.unwrap();
    assert_eq!(r.status(), 200, "{url}");
    r.json().await.unwrap()
}

#[tokio::test]
async fn paper_api_answers_known_unknown_and_malformed_ids() {
    let env = Env::sqlite();
    let out = env.run(&["import", seed_corpus_path().to_str().unwrap()]);
    assert_eq!(summary(&out), (68, 0, 0, 0), "{}", stderr(&out));
    let old = r#"{"id":"hep-th/9901001","title":"An old  string theory paper","abstract":"Strings.","authors":"E. Witten","categories":"hep-th","versions":[{"version":"v1","created":"Fri, 1 Jan 1999 00:00:00 GMT"},{"version":"v2","created":"Sat, 2 Jan 1999 00:00:00 GMT"}]}"#;
    let file = env.path("old.jsonl");
    write(&file, old);
    assert_eq!(
        summary(&env.run(&["import", file.to_str().unwrap()])),
        (1, 0, 0, 0)
    );

    let server = Server::start(&env, &[]).await;
    let health = reqwest::get(server.url("/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);

    let p = ok_json(&server.url("/api/papers/2203.05482")).await;
    assert_eq!(p["id"], "2203.05482");
    assert!(p["title"].as_str().unwrap().starts_with("Model soups"));
    assert_eq!(
        p["githubRepo"],
        "https://github.com/mlfoundations/model-soups"
    );
    assert_eq!(p["authors"][0]["name"], "Mitchell Wortsman");
    assert_eq!(p["upvotes"], 0);
    assert_eq!(p["numComments"], 0);
    assert!(p["summary"].as_str().unwrap().contains("model soups"));
    assert!(p["publishedAt"].as_str().unwrap().starts_with("2022-03"));

    let p = ok_json(&server.url("/api/papers/hep-th/9901001v2")).await;
    assert_eq!(p["id"], "hep-th/9901001");
    assert_eq!(p["title"], "An old string theory paper");
    assert_eq!(p["categories"][0], "hep-th");
    assert_eq!(p["publishedAt"], "1999-01-01T00:00:00.000Z");

    let r = reqwest::get(server.url("/api/papers/2203.99999"))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "not_found");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("2203.99999"));

    for bad in ["not-an-id", "2213.00001", "hep-th/99", "2203.05482v0"] {
        let r = reqwest::get(server.url(&format!("/api/papers/{bad}")))
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["code"], "bad_request", "{bad}");
        assert!(!e["error"]["message"].as_str().unwrap().is_empty());
    }
    let r = reqwest::get(server.url("/api/no-such-thing"))
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn empty_store_tells_how_to_fill_it() {
    let env = Env::sqlite();
    let mut child = env
        .command()
        .args(["serve", "--no-scheduler", "--bind", "127.0.0.1:0"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::BufRead;
    let reader = std::io::BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    for line in reader.lines().map_while(Result::ok) {
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("listening on") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen.contains("paperboy import"), "{seen}");
    assert!(seen.contains("paperboy ingest"), "{seen}");
}

#[test]
fn default_config_is_printed() {
    let env = Env::sqlite();
    let out = env.run(&["default-config"]);
    assert!(out.status.success());
    let text = common::stdout(&out);
    assert!(text.contains("data_dir = \"./data\""));
    assert!(text.contains("arxiv_min_interval_ms = 3000"));
}

#[test]
fn bad_usage_exits_2() {
    let env = Env::sqlite();
    assert_eq!(env.run(&["no-such-command"]).status.code(), Some(2));
}

/// With no base_url set, feeds and Markdown pages link to the address the
/// server listens on (`--bind` on another port included), not to 8080.
#[tokio::test]
async fn links_follow_the_bound_address_when_no_base_url_is_set() {
    let env = Env::sqlite();
    let out = env.run(&["import", seed_corpus_path().to_str().unwrap()]);
    assert_eq!(summary(&out).0, 68, "{}", stderr(&out));
    let mut cmd = env.command();
    cmd.env_remove("PAPERBOY_BASE_URL");
    let s = Server::start_with(cmd, &[]).await;
    let base = s.url("");
    let base = base.trim_end_matches('/');
    assert!(!base.ends_with(":8080"), "{base}");
    let feed = reqwest::get(s.url("/feeds/category/cs.LG.atom"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(feed.contains(&format!("{base}/papers/")), "{feed}");
    assert!(!feed.contains("127.0.0.1:8080"), "{feed}");
    let md = reqwest::get(s.url("/papers/2203.05482.md"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!md.contains("127.0.0.1:8080"), "{md}");
}

#[test]
fn default_config_no_longer_says_search_is_keyword_only() {
    let env = Env::sqlite();
    let text = common::stdout(&env.run(&["default-config"]));
    assert!(!text.to_lowercase().contains("keyword-only"), "{text}");
    assert!(text.contains("embedder = \"transformer\""), "{text}");
}

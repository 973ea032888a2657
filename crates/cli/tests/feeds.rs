//! Feeds, read back with an independent parser (Python's feedparser).

mod common;

use common::{stderr, summary, write, Env, Server};
use paperboy_testkit::seed_corpus_path;
use serde_json::Value;

/// Parses a feed with feedparser and returns what it saw, as JSON.
fn feedparser(body: &str, dir: &std::path::Path, name: &str) -> Value {
    let path = dir.join(name);
    std::fs::write(&path, body).unwrap();
    let script = r#"
import json, sys, feedparser
d = feedparser.parse(sys.argv[1])
print(json.dumps({
    "bozo": int(d.bozo), "bozo_exception": str(d.get("bozo_exception", "")),
    "version": d.version, "title": d.feed.get("title"),
    "entries": [{"id": e.get("id"), "title": e.get("title"), "link": e.get("link"),
                 "updated": e.get("updated") or e.get("published"), "summary": e.get("summary")}
                for e in d.entries],
}))
"#;
    let out = std::process::Command::new("python3")
        .arg("-c")
        .arg(script)
        .arg(&path)
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "feedparser failed (pip install feedparser): {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn feeds_parse_with_feedparser_and_support_conditional_get() {
    let env = Env::sqlite();
    let out = env.run(&["import", seed_corpus_path().to_str().unwrap()]);
    assert_eq!(summary(&out), (68, 0, 0, 0), "{}", stderr(&out));
    let s = Server::start(&env, &[]).await;
    let http = reqwest::Client::new();
    // Wait until the index has the corpus.
    for _ in 0..100 {
        let rows: Value = http
            .get(s.url("/api/papers/search?q=model"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if rows.as_array().is_some_and(|a| !a.is_empty()) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let cases = [
        ("/feeds/trending", 30),
        ("/feeds/search?q=fine-tuning%20generalization", 30),
        ("/feeds/category/cs.CL", 0),
        ("/feeds/daily", 0),
    ];
    for (feed, expect) in cases {
        for ext in ["atom", "rss"] {
            let url = match feed.split_once('?') {
                Some((p, q)) => format!("{p}.{ext}?{q}"),
                None => format!("{feed}.{ext}"),
            };
            let r = http.get(s.url(&url)).send().await.unwrap();
            assert_eq!(r.status(), 200, "{url}");
            let etag = r.headers()["etag"].to_str().unwrap().to_string();
            let last_modified = r.headers()["last-modified"].to_str().unwrap().to_string();
            let body = r.text().await.unwrap();
            let parsed = feedparser(&body, env.dir.path(), "feed.xml");
            assert_eq!(parsed["bozo"], 0, "{url}: {}", parsed["bozo_exception"]);
            assert!(
                parsed["version"]
                    .as_str()
                    .unwrap()
                    .starts_with(if ext == "atom" { "atom" } else { "rss" }),
                "{url}"
            );
            let entries = parsed["entries"].as_array().unwrap();
            if expect > 0 {
                assert_eq!(entries.len(), expect, "{url}");
            } else if feed.contains("cs.CL") {
                assert!(!entries.is_empty(), "{url}");
            }
            for e in entries {
                let link = e["link"].as_str().unwrap();
                assert!(
                    link.starts_with("http://127.0.0.1:8080/papers/"),
                    "{url}: {link}"
                );
                assert_eq!(
                    e["id"].as_str(),
                    Some(link),
                    "{url}: stable id is the paper page"
                );
                assert!(!e["title"].as_str().unwrap().is_empty());
                assert!(e["updated"].is_string(), "{url}: entry has a date");
                assert!(
                    !e["summary"].as_str().unwrap_or("").is_empty(),
                    "{url}: entry has the abstract"
                );
            }
            let again = http
                .get(s.url(&url))
                .header("If-None-Match", &etag)
                .send()
                .await
                .unwrap();
            assert_eq!(again.status(), 304, "{url} with If-None-Match");
            let since = http
                .get(s.url(&url))
                .header("If-Modified-Since", &last_modified)
                .send()
                .await
                .unwrap();
            assert_eq!(since.status(), 304, "{url} with If-Modified-Since");
        }
    }
    let cs_cl = feedparser(
        &http
            .get(s.url("/feeds/category/cs.CL.atom"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        env.dir.path(),
        "c.xml",
    );
    for e in cs_cl["entries"].as_array().unwrap() {
        let id = e["link"]
            .as_str()
            .unwrap()
            .rsplit("/papers/")
            .next()
            .unwrap()
            .to_string();
        let p: Value = http
            .get(s.url(&format!("/api/papers/{id}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            p["categories"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == "cs.CL"),
            "{id} is in cs.CL"
        );
    }
    for (url, code) in [
        ("/feeds/search.atom", 400),
        ("/feeds/category/NOT A CAT.atom", 400),
        ("/feeds/nothing.atom", 404),
        ("/feeds/trending.json", 404),
    ] {
        assert_eq!(
            http.get(s.url(url)).send().await.unwrap().status().as_u16(),
            code,
            "{url}"
        );
    }
    let home = http
        .get(s.url("/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        home.contains(r#"rel="alternate" type="application/atom+xml""#)
            && home.contains("/feeds/trending.atom")
    );
    let _ = write;
}

//! Feeds, read back with an independent parser (Python's feedparser),
//! conditional GET, and snapshots of what the feed crates write.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use paperboy_testkit::app::{Builder, BASE_URL};
use paperboy_testkit::{app_suite, feedparser, recent_paper};

app_suite!(
    feeds_parse_with_feedparser_and_support_conditional_get,
    hostile_titles_stay_inert_in_feeds
);

async fn feeds_parse_with_feedparser_and_support_conditional_get(b: Builder) {
    let t = b.seed().build(paperboy_web::router).await.unwrap();
    let c = t.client();
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
            let r = c.get(&url).await;
            assert_eq!(r.status, 200, "{url}");
            let parsed = feedparser(&r.body);
            assert_eq!(parsed["bozo"], 0, "{url}: {}", parsed["bozo_exception"]);
            let version = parsed["version"].as_str().unwrap();
            assert!(version.starts_with(ext), "{url}: {version}");
            let entries = parsed["entries"].as_array().unwrap();
            if expect > 0 {
                assert_eq!(entries.len(), expect, "{url}");
            } else if feed.contains("cs.CL") {
                assert!(!entries.is_empty(), "{url}");
            }
            for e in entries {
                let link = e["link"].as_str().unwrap();
                assert!(
                    link.starts_with(&format!("{BASE_URL}/papers/")),
                    "{url}: {link}"
                );
                assert_eq!(
                    e["id"].as_str(),
                    Some(link),
                    "{url}: the id is the paper page"
                );
                assert!(!e["title"].as_str().unwrap().is_empty());
                assert!(e["updated"].is_string(), "{url}: entries have dates");
                assert!(!e["summary"].as_str().unwrap_or("").is_empty());
            }
            let etag = r.header("etag").unwrap();
            let again = c.get_with(&url, &[("if-none-match", etag)]).await;
            assert_eq!(again.status, 304, "{url} with If-None-Match");
            let since = r.header("last-modified").unwrap();
            let again = c.get_with(&url, &[("if-modified-since", since)]).await;
            assert_eq!(again.status, 304, "{url} with If-Modified-Since");
        }
    }
    for (url, code) in [
        ("/feeds/search.atom", 400),
        ("/feeds/category/NOT%20A%20CAT.atom", 400),
        ("/feeds/nothing.atom", 404),
        ("/feeds/trending.json", 404),
    ] {
        assert_eq!(c.get(url).await.status, code, "{url}");
    }
    let home = c.get("/").await.body;
    assert!(home.contains(r#"rel="alternate" type="application/atom+xml""#));
    assert!(home.contains("/feeds/trending.atom"));
    // What the feed crates write, pinned (seed papers only: no clock in it).
    insta::assert_snapshot!(
        "category_cs_CL_atom",
        c.get("/feeds/category/cs.CL.atom").await.body
    );
    insta::assert_snapshot!(
        "category_cs_CL_rss",
        c.get("/feeds/category/cs.CL.rss").await.body
    );
}

async fn hostile_titles_stay_inert_in_feeds(b: Builder) {
    let hostile = recent_paper(
        "2511.00666",
        "<script>alert(1)</script> & \u{1}Bobby\"); DROP TABLE papers;--",
        "An abstract with <img src=x onerror=alert(2)> and ]]> inside.",
        "cs.CR",
    );
    let t = b
        .papers(vec![hostile])
        .build(paperboy_web::router)
        .await
        .unwrap();
    let c = t.client();
    for url in ["/feeds/category/cs.CR.atom", "/feeds/category/cs.CR.rss"] {
        let body = c.get(url).await.body;
        assert!(
            !body.contains("<script>") && !body.contains("<img"),
            "{url}: {body}"
        );
        let parsed = feedparser(&body);
        assert_eq!(parsed["bozo"], 0, "{url}: {}", parsed["bozo_exception"]);
        let title = parsed["entries"][0]["title"].as_str().unwrap();
        assert!(
            title.contains("<script>alert(1)</script> & Bobby"),
            "{url}: {title}"
        );
    }
    let page = c.get("/papers/2511.00666").await.body;
    assert!(!page.contains("<script>alert") && page.contains("&lt;script&gt;"));
}

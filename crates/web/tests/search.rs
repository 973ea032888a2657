//! Search pages and the search API, related papers.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use paperboy_testkit::app::Builder;
use paperboy_testkit::{app_suite, recent_paper};

app_suite!(
    search_answers_with_highlights_and_related_papers,
    bad_queries_are_400s_or_plain_words
);

async fn search_answers_with_highlights_and_related_papers(b: Builder) {
    let t = b.seed().build(paperboy_web::router).await.unwrap();
    let c = t.client();
    let r = c
        .get("/api/papers/search?q=averaging%20weights%20of%20fine-tuned%20models&mode=keyword")
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("x-search-mode"), Some("keyword"));
    let rows = r.json();
    assert_eq!(rows[0]["paper"]["id"], "2203.05482");
    assert!(rows[0]["highlightedTitle"]
        .as_str()
        .unwrap()
        .contains("<mark>"));
    // No model here: hybrid falls back to keywords and says so.
    let r = c.get("/api/papers/search?q=model%20soups").await;
    assert_eq!(r.header("x-search-mode"), Some("keyword"));
    assert!(r.header("x-search-note").is_some());
    let page = c.get("/search?q=generalization+of+fine-tuned+models").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<mark>") && page.body.contains("class=\"abstract\""));
    assert!(
        page.body.contains("/feeds/search.atom?q="),
        "the page offers its feed"
    );

    // A paper added later is found once the index follows the store.
    t.add_papers(vec![recent_paper(
        "2511.00077",
        "Zyxwvut quasiparticle lattices",
        "A fresh result.",
        "cond-mat.str-el",
    )])
    .await;
    let rows = c.get("/api/papers/search?q=zyxwvut").await.json();
    assert_eq!(rows.as_array().unwrap().len(), 1);

    let related = c.get("/api/papers/2203.05482/related?limit=5").await.json();
    let ids: Vec<&str> = related
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["paper"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 5);
    assert!(
        !ids.contains(&"2203.05482"),
        "a paper is not related to itself"
    );
    let page = c.get("/papers/2203.05482").await;
    assert!(page.body.contains("Related papers"));
    assert_eq!(c.get("/api/papers/2203.99999/related").await.status, 404);
}

async fn bad_queries_are_400s_or_plain_words(b: Builder) {
    let t = b.seed().build(paperboy_web::router).await.unwrap();
    let c = t.client();
    let long = format!("q={}", "a".repeat(1001));
    let bad = [
        "q=x&mode=telepathy",
        "q=",
        "q=x&limit=0",
        "q=x&limit=101",
        "q=x&offset=99999",
    ];
    // Odd queries are read as plain words.
    let odd = [
        "%22unbalanced",
        "(((",
        "AND%20OR",
        "%F0%9F%8D%B2",
        "ti:",
        "%E8%AE%BA%E6%96%87",
    ];
    let cases = bad
        .iter()
        .map(|q| (q.to_string(), 400))
        .chain([(long, 400)]);
    for (q, status) in cases.chain(odd.iter().map(|q| (format!("q={q}&limit=5"), 200))) {
        let r = c.get(&format!("/api/papers/search?{q}")).await;
        assert_eq!(r.status, status, "{q}: {}", r.body);
    }
    assert_eq!(c.get("/search?q=x&mode=telepathy").await.status, 400);
    assert_eq!(c.get("/search").await.status, 200, "the empty search page");
}

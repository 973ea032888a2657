//! Search pages and the search API, related papers.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use paperboy_testkit::app::Builder;
use paperboy_testkit::{app_suite, recent_paper};

app_suite!(
    search_answers_with_highlights_and_related_papers,
    bad_queries_are_400s_or_plain_words,
    the_search_page_takes_a_pasted_abstract_and_keeps_its_mode
);

/// The web search page takes any query the API takes (a pasted abstract
/// of 301–1,000 characters, logged in or not), has a mode switch kept in
/// its page links, and counts in words that agree with the number.
async fn the_search_page_takes_a_pasted_abstract_and_keeps_its_mode(b: Builder) {
    let t = b.seed().build(paperboy_web::router).await.unwrap();
    let abstract_text = "The conventional recipe for maximizing model accuracy is to train multiple models with various hyperparameters and pick the individual model which performs best on a held-out validation set, discarding the remainder. We revisit the second step of this procedure in the context of fine-tuning large pre-trained models, where fine-tuned models often appear to lie in a single low error basin. We show that averaging the weights of multiple models fine-tuned with different hyperparameter configurations often improves accuracy and robustness.";
    assert!(abstract_text.chars().count() > 300 && abstract_text.chars().count() < 1000);
    let q = urlencoding(abstract_text);
    for who in [t.client(), {
        let c = t.client();
        c.sign_up("ada").await;
        c
    }] {
        let r = who.get(&format!("/search?q={q}&mode=keyword")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert!(r.body.contains("2203.05482"), "Model soups is found");
        assert!(!r.body.contains("followed search is at most"));
        assert!(
            r.body.contains(r#"value="keyword" checked"#),
            "the mode switch shows the mode asked for"
        );
    }
    let c = t.client();
    let r = c.get("/search?q=model&mode=keyword").await;
    assert!(r.body.contains("name=\"mode\""));
    if r.body.contains("rel=\"next\"") {
        assert!(r.body.contains("&amp;mode=keyword&amp;p=1"), "{}", r.body);
    }
    let one = c.get("/search?q=ti%3Asoups&mode=keyword").await.body;
    assert!(!one.contains("1 papers"), "{one}");
}

fn urlencoding(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' => (b as char).to_string(),
            b' ' => "+".to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

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

//! Search inside papers: passages of the full text read from an arXiv
//! stand-in go into their own index; search finds papers by them (after
//! the papers matching in their fields, whose ranking does not move), shows
//! the passage under the hit, and searches one paper's text; hostile text
//! stays inert; a deleted paper's passages leave search.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use paperboy_app::citations::TextStep;
use paperboy_testkit::app::Builder;
use paperboy_testkit::arxiv_standin::{latexml_page, ArxivStandin};
use paperboy_testkit::{app_suite, recent_paper, TestApp};
use serde_json::Value;

app_suite!(full_text_passages_are_searchable,);

/// Its body says ObjectNet; its title and abstract do not.
const IN_TEXT: &str = "2611.00011";
/// Its abstract says ObjectNet; no full text.
const IN_ABSTRACT: &str = "2611.00012";
/// Its body has markup in it.
const HOSTILE: &str = "2611.00013";
/// Never mentions it.
const UNRELATED: &str = "2611.00014";

async fn fetch_all(t: &TestApp) {
    for _ in 0..20 {
        let step = t.app.fetch_next_text().await.unwrap();
        if matches!(step, TextStep::Idle | TextStep::BudgetSpent) {
            t.sync_search().await;
            return;
        }
    }
    panic!("the fetcher never ran out of work");
}

async fn json(t: &TestApp, path: &str) -> Value {
    let r = t.client().get(path).await;
    assert_eq!(r.status, 200, "{path}: {}", r.body);
    r.json()
}

fn ids(rows: &Value) -> Vec<String> {
    rows.as_array()
        .unwrap()
        .iter()
        .map(|r| r["paper"]["id"].as_str().unwrap().to_string())
        .collect()
}

async fn full_text_passages_are_searchable(b: Builder) {
    let arxiv = ArxivStandin::start(vec![], 10).await;
    arxiv.add_html(
        IN_TEXT,
        1,
        latexml_page(
            "Robust fine-tuning",
            &[
                ("Introduction", "We study how fine-tuned models behave."),
                (
                    "Experiments",
                    "On ObjectNet and ImageNet-Sketch the averaged model gains three points of accuracy over the best single model.",
                ),
            ],
            &[],
        ),
    );
    arxiv.add_html(
        HOSTILE,
        1,
        latexml_page(
            "Pathologies",
            &[(
                "Failure cases",
                "Captions like <script>alert(1)</script> and <img src=x onerror=alert(2)> hide ObjectNet pathologies.",
            )],
            &[],
        ),
    );
    let t = b
        .papers(vec![
            recent_paper(
                IN_TEXT,
                "Robust fine-tuning",
                "Averaging the weights of fine-tuned models makes them robust to distribution shift.",
                "cs.LG",
            ),
            recent_paper(
                IN_ABSTRACT,
                "Evaluating classifiers on ObjectNet",
                "We evaluate fine-tuned image classifiers on ObjectNet.",
                "cs.CV",
            ),
            recent_paper(
                HOSTILE,
                "Pathologies",
                "Where classifiers fail, and why.",
                "cs.CV",
            ),
            recent_paper(
                UNRELATED,
                "Graph coloring",
                "Fine-tuned heuristics color graphs.",
                "cs.DM",
            ),
        ])
        .texts(&arxiv.base, 100)
        .build(paperboy_web::router)
        .await
        .unwrap();

    // Before any full text: only the abstract matches.
    let before = json(&t, "/api/papers/search?q=ObjectNet&mode=keyword").await;
    assert_eq!(ids(&before), vec![IN_ABSTRACT]);
    assert!(before[0]["passage"].is_null());
    let fine_before = json(&t, "/api/papers/search?q=fine-tuned&mode=keyword").await;

    fetch_all(&t).await;

    // The fields' match first, then the papers matching in their text,
    // each with its passage.
    let after = json(&t, "/api/papers/search?q=ObjectNet&mode=keyword").await;
    let found = ids(&after);
    assert_eq!(found.len(), 3, "{after}");
    assert_eq!(found[0], IN_ABSTRACT);
    assert!(found.contains(&IN_TEXT.to_string()) && found.contains(&HOSTILE.to_string()));
    assert!(after[0]["passage"].is_null(), "no full text: {}", after[0]);
    let row = |id: &str| {
        after
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["paper"]["id"] == id)
            .unwrap()
            .clone()
    };
    let passage = &row(IN_TEXT)["passage"];
    assert!(
        passage["section"].as_str().unwrap().contains("Experiments"),
        "{passage}"
    );
    assert!(
        passage["snippet"]
            .as_str()
            .unwrap()
            .contains("On <mark>ObjectNet</mark> and ImageNet-Sketch"),
        "{passage}"
    );
    // Hostile text in a snippet is escaped.
    let hostile = row(HOSTILE)["passage"]["snippet"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(hostile.contains("&lt;script&gt;"), "{hostile}");
    assert!(
        !hostile.contains("<script") && !hostile.contains("<img"),
        "{hostile}"
    );

    // Paging walks across the two parts without losing or repeating one.
    let mut paged = Vec::new();
    for offset in 0..3 {
        let page = json(
            &t,
            &format!("/api/papers/search?q=ObjectNet&mode=keyword&limit=1&offset={offset}"),
        )
        .await;
        paged.extend(ids(&page));
    }
    assert_eq!(paged, found);

    // The abstracts' ranking does not move when full text arrives.
    let fine_after = json(&t, "/api/papers/search?q=fine-tuned&mode=keyword").await;
    let fields_only: Vec<(String, f64)> = fine_before
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["paper"]["id"].as_str().unwrap().to_string(),
                r["score"].as_f64().unwrap(),
            )
        })
        .collect();
    let now: Vec<(String, f64)> = fine_after
        .as_array()
        .unwrap()
        .iter()
        .take(fields_only.len())
        .map(|r| {
            (
                r["paper"]["id"].as_str().unwrap().to_string(),
                r["score"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(now, fields_only);

    // Hybrid search finds it too, with its passage.
    let hybrid = json(&t, "/api/papers/search?q=ObjectNet").await;
    let h = hybrid
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["paper"]["id"] == IN_TEXT)
        .unwrap_or_else(|| panic!("hybrid: {hybrid}"));
    assert!(h["passage"]["snippet"].as_str().unwrap().contains("<mark>"));

    // Field prefixes ask about the fields only.
    let titled = json(&t, "/api/papers/search?q=ti:ObjectNet&mode=keyword").await;
    assert_eq!(ids(&titled), vec![IN_ABSTRACT]);

    // Search in one paper.
    let inside = json(
        &t,
        &format!("/api/papers/{IN_TEXT}/passages?q=ImageNet-Sketch"),
    )
    .await;
    let inside = inside.as_array().unwrap();
    assert_eq!(inside.len(), 1, "{inside:?}");
    assert!(inside[0]["section"]
        .as_str()
        .unwrap()
        .contains("Experiments"));
    assert!(inside[0]["snippet"].as_str().unwrap().contains("<mark>"));
    assert_eq!(
        json(&t, &format!("/api/papers/{IN_TEXT}/passages?q=zebra")).await,
        Value::Array(vec![])
    );
    // Another paper's passages are not this one's.
    assert_eq!(
        json(&t, &format!("/api/papers/{UNRELATED}/passages?q=ObjectNet")).await,
        Value::Array(vec![])
    );
    let empty = t
        .client()
        .get(&format!("/api/papers/{IN_TEXT}/passages?q=%20"))
        .await;
    assert_eq!(empty.status, 400, "{}", empty.body);
    let unknown = t.client().get("/api/papers/2611.09999/passages?q=x").await;
    assert_eq!(unknown.status, 404, "{}", unknown.body);

    // The pages: the form on the paper, its results, the hit's passage.
    let paper = t.client().get(&format!("/papers/{IN_TEXT}")).await.body;
    assert!(paper.contains("Search in this paper"), "{paper}");
    assert!(paper.contains(&format!("action=\"/papers/{IN_TEXT}/search\"")));
    let page = t
        .client()
        .get(&format!("/papers/{IN_TEXT}/search?q=ObjectNet"))
        .await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("1 passage matches"), "{}", page.body);
    assert!(page.body.contains("<mark>ObjectNet</mark>"));
    assert!(page
        .body
        .contains(&format!("https://arxiv.org/html/{IN_TEXT}")));
    let results = t
        .client()
        .get("/search?q=ObjectNet&mode=keyword")
        .await
        .body;
    assert!(results.contains("In the full text"), "{results}");
    assert!(results.contains("3 papers found"), "{results}");
    let hostile_page = t
        .client()
        .get(&format!("/papers/{HOSTILE}/search?q=pathologies"))
        .await
        .body;
    assert!(!hostile_page.contains("<script>alert") && !hostile_page.contains("<img src=x"));

    // A paper deleted from arXiv's metadata leaves search with its text.
    t.store()
        .delete_paper(&paperboy_core::ArxivId::parse(IN_TEXT).unwrap())
        .await
        .unwrap();
    t.sync_search().await;
    let gone = json(&t, "/api/papers/search?q=ObjectNet&mode=keyword").await;
    assert!(!ids(&gone).contains(&IN_TEXT.to_string()), "{gone}");
    assert_eq!(ids(&gone).len(), 2);
}

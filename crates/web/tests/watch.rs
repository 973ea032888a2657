//! The library watch, driven from outside: what happens to a paper readers
//! saved or follow (a new version with its word diff and changed sections,
//! a paper citing it, a withdrawal, code released, a venue) reaches each of them
//! once — saved and followed is still once — on `/notifications`, in the
//! digest's "Your library" section and in the private feed; a reader who
//! saved the paper after it happened is not told.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use axum::http::Method;
use paperboy_app::citations::TextStep;
use paperboy_testkit::app::Builder;
use paperboy_testkit::arxiv_standin::{latexml_page, ArxivStandin, HtmlReference};
use paperboy_testkit::{app_suite, papers_from_jsonl, recent_paper, Client, TestApp};
use serde_json::json;

app_suite!(
    news_of_kept_papers_reaches_each_reader_once,
    withdrawals_and_code_are_news_too,
);

const SOUPS: &str = "2611.00001";
const CITING: &str = "2611.00002";

fn version_record(
    id: &str,
    title: &str,
    abstract_text: &str,
    versions: u32,
    extra: serde_json::Value,
) -> String {
    let now = chrono::Utc::now()
        .format("%a, %-d %b %Y %H:%M:%S GMT")
        .to_string();
    let versions: Vec<_> = (1..=versions)
        .map(|v| json!({"version": format!("v{v}"), "created": now}))
        .collect();
    let mut r = json!({
        "id": id, "title": title, "abstract": abstract_text,
        "authors": "Ada Lovelace, Alan Turing", "categories": "cs.LG",
        "versions": versions
    });
    if let (Some(r), Some(extra)) = (r.as_object_mut(), extra.as_object()) {
        r.extend(extra.clone());
    }
    r.to_string()
}

async fn member(t: &TestApp, name: &str) -> Client {
    let c = t.client();
    c.sign_up(name).await;
    c
}

async fn save(c: &Client, id: &str) {
    let r = c
        .api(
            Method::PUT,
            &format!("/api/me/library/{id}"),
            Some(json!({ "tags": [] })),
        )
        .await;
    assert!(r.status < 300, "{}", r.body);
}

async fn fetch_all(t: &TestApp) {
    for _ in 0..20 {
        let step = t.app.fetch_next_text().await.unwrap();
        if matches!(step, TextStep::Idle | TextStep::BudgetSpent) {
            return;
        }
    }
    panic!("the fetcher never ran out of work");
}

/// How often `needle` occurs in `hay`.
fn count(hay: &str, needle: &str) -> usize {
    hay.matches(needle).count()
}

async fn private_feed(c: &Client) -> String {
    let page = c
        .form_answers("/library/feed", &[("action", "new")], 200, "/for-you.atom")
        .await;
    let start = page.body.find("/feeds/u/").unwrap();
    let end = page.body[start..].find("/for-you.atom").unwrap();
    let path = format!("{}/for-you.atom", &page.body[start..start + end]);
    let feed = c.get(&path).await;
    assert_eq!(feed.status, 200, "{}", feed.body);
    feed.body
}

async fn subscribe(t: &TestApp, email: &str) {
    let prefs = paperboy_testkit::daily_prefs(&["math.AG"], &[]);
    let s = t.store().upsert_subscriber(email, &prefs).await.unwrap();
    t.store().confirm_subscriber(s.subscriber_id).await.unwrap();
}

async fn news_of_kept_papers_reaches_each_reader_once(b: Builder) {
    let arxiv = ArxivStandin::start(vec![], 10).await;
    arxiv.add_html(
        SOUPS,
        1,
        latexml_page(
            "Model soups",
            &[
                ("Introduction", "We average weights."),
                ("Method", "Greedy soups."),
            ],
            &[],
        ),
    );
    let t = b
        .papers(vec![recent_paper(
            SOUPS,
            "Model soups",
            "We average the weights of fine-tuned models to improve accuracy.",
            "cs.LG",
        )])
        .texts(&arxiv.base, 100)
        .build(paperboy_web::router)
        .await
        .unwrap();
    fetch_all(&t).await;
    // The first pass only marks where the news starts.
    assert_eq!(t.app.alert_pass().await.unwrap(), 0);

    // ada saves and follows it (one reader, told once); bob saves it;
    // carol keeps nothing.
    let ada = member(&t, "ada").await;
    save(&ada, SOUPS).await;
    let r = ada
        .post_form("/follow", &[("kind", "paper"), ("target", SOUPS)])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let bob = member(&t, "bob").await;
    save(&bob, SOUPS).await;
    let carol = member(&t, "carol").await;

    // Version 2: another abstract, and a rewritten Method section.
    t.add_papers(papers_from_jsonl(&version_record(
        SOUPS,
        "Model soups",
        "We average the weights of many fine-tuned models to improve robustness.",
        2,
        json!({}),
    )))
    .await;
    arxiv.add_html(
        SOUPS,
        2,
        latexml_page(
            "Model soups",
            &[
                ("Introduction", "We average weights."),
                ("Method", "Greedy soups, now with learned weights."),
            ],
            &[],
        ),
    );
    // A new paper cites it, with a sentence.
    t.add_papers(vec![recent_paper(
        CITING,
        "Task arithmetic",
        "We edit models.",
        "cs.LG",
    )])
    .await;
    arxiv.add_html(
        CITING,
        1,
        latexml_page(
            "Task arithmetic",
            &[("Introduction", "We edit models.")],
            &[HtmlReference {
                authors: "A. Lovelace.".into(),
                title: "Model soups.".into(),
                venue: format!("arXiv preprint arXiv:{SOUPS}, 2026."),
                cited_in: Some("Averaged weights {} beat the best single model.".into()),
            }],
        ),
    );
    fetch_all(&t).await;
    // dave saves it after all this: none of it is news to him.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let dave = member(&t, "dave").await;
    save(&dave, SOUPS).await;

    let told = t.app.alert_pass().await.unwrap();
    assert_eq!(
        told, 6,
        "a version, its sections and a citation, to ada and bob"
    );
    assert_eq!(t.app.alert_pass().await.unwrap(), 0, "each once");

    for reader in [&ada, &bob] {
        let page = reader.get("/notifications").await.body;
        assert_eq!(count(&page, "New version v2 of"), 1, "{page}");
        assert!(
            page.contains("[-accuracy.-]") && page.contains("{+robustness.+}"),
            "{page}"
        );
        assert!(page.contains("{+many+}"), "{page}");
        assert_eq!(count(&page, "changed its sections: Method"), 1, "{page}");
        assert!(!page.contains("sections: Introduction"), "{page}");
        assert_eq!(count(&page, &format!("is cited by {CITING}")), 1, "{page}");
        assert!(
            page.contains("Averaged weights [1] beat the best single model."),
            "{page}"
        );
    }
    for other in [&carol, &dave] {
        let page = other.get("/notifications").await.body;
        assert!(!page.contains("New version v2"), "{page}");
        assert!(!page.contains("is cited by"), "{page}");
    }

    // The private feed: one entry an event.
    let feed = private_feed(&ada).await;
    assert_eq!(count(&feed, "Your library: New version v2 of"), 1, "{feed}");
    assert_eq!(
        count(
            &feed,
            &format!("Your library: “Model soups” is cited by {CITING}")
        ),
        1,
        "{feed}"
    );

    // The digest: Your library first, each event once; not again the next day.
    subscribe(&t, "ada@example.org").await;
    subscribe(&t, "carol@example.org").await;
    let s = t.compose_daily().await;
    assert_eq!(s.queued, 1, "only ada has news: {s:?}");
    t.mailer.drain_now().await;
    let sent = t.mailer.sent();
    let mail = sent.iter().find(|m| m.to() == "ada@example.org").unwrap();
    assert!(
        mail.text.starts_with("YOUR LIBRARY (what changed)"),
        "{}",
        mail.text
    );
    assert_eq!(count(&mail.text, "New version v2 of"), 1, "{}", mail.text);
    assert_eq!(
        count(&mail.text, "changed its sections: Method"),
        1,
        "{}",
        mail.text
    );
    assert_eq!(
        count(&mail.text, &format!("is cited by {CITING}")),
        1,
        "{}",
        mail.text
    );
    assert!(mail.html.contains("Your library"), "{}", mail.html);
    let tomorrow = t.app.today() + chrono::Duration::days(1);
    t.app
        .compose_digests(paperboy_store::Frequency::Daily, tomorrow, None, |_| {})
        .await
        .unwrap();
    t.mailer.drain_now().await;
    let again: Vec<_> = t
        .mailer
        .sent()
        .into_iter()
        .filter(|m| m.to() == "ada@example.org")
        .collect();
    for m in &again[1..] {
        assert!(!m.text.contains("New version v2"), "told twice: {}", m.text);
    }
}

async fn withdrawals_and_code_are_news_too(b: Builder) {
    let t = b
        .papers(vec![recent_paper(
            SOUPS,
            "Model soups",
            "We average weights.",
            "cs.LG",
        )])
        .build(paperboy_web::router)
        .await
        .unwrap();
    assert_eq!(t.app.alert_pass().await.unwrap(), 0);
    let ada = member(&t, "ada").await;
    save(&ada, SOUPS).await;
    // The same version again with a code link: code released.
    t.add_papers(papers_from_jsonl(&version_record(
        SOUPS,
        "Model soups",
        "We average weights. Code: https://github.com/mlfoundations/model-soups",
        1,
        json!({}),
    )))
    .await;
    assert_eq!(t.app.alert_pass().await.unwrap(), 1);
    let page = ada.get("/notifications").await.body;
    assert!(
        page.contains("now links its code: https://github.com/mlfoundations/model-soups"),
        "{page}"
    );
    // A journal reference, and comments saying it was accepted: a venue.
    t.add_papers(papers_from_jsonl(&version_record(
        SOUPS,
        "Model soups",
        "We average weights. Code: https://github.com/mlfoundations/model-soups",
        1,
        json!({"journal-ref": "Proceedings of ICML 2022, PMLR 162", "comments": "Accepted at ICML 2022"}),
    )))
    .await;
    assert_eq!(
        t.app.alert_pass().await.unwrap(),
        2,
        "the reference and the comment"
    );
    let page = ada.get("/notifications").await.body;
    assert!(
        page.contains("at a venue: Proceedings of ICML 2022, PMLR 162"),
        "{page}"
    );
    assert!(page.contains("at a venue: Accepted at ICML 2022"), "{page}");
    // Comments that say nothing of a venue are no news.
    t.add_papers(papers_from_jsonl(&version_record(
        SOUPS,
        "Model soups",
        "We average weights. Code: https://github.com/mlfoundations/model-soups",
        1,
        json!({"journal-ref": "Proceedings of ICML 2022, PMLR 162", "comments": "12 pages, 4 figures"}),
    )))
    .await;
    assert_eq!(t.app.alert_pass().await.unwrap(), 0);
    // Version 2 withdraws it; then arXiv drops it: one withdrawal.
    t.add_papers(papers_from_jsonl(&version_record(
        SOUPS,
        "Model soups",
        "This paper has been withdrawn.",
        2,
        json!({"comments": "This paper has been withdrawn by the authors"}),
    )))
    .await;
    assert_eq!(t.app.alert_pass().await.unwrap(), 1);
    let page = ada.get("/notifications").await.body;
    assert_eq!(count(&page, "was withdrawn by its authors"), 1, "{page}");
    assert!(
        !page.contains("New version v2"),
        "a withdrawal, not a version: {page}"
    );
}

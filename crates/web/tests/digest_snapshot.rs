//! What a digest looks like, pinned: subject, text and HTML parts.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use paperboy_testkit::{recent_paper, TestApp};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_digest_reads_as_pinned() {
    let mut papers = vec![
        recent_paper(
            "2511.00201",
            "Soups of <fine-tuned> models & friends",
            "We average the weights of models fine-tuned with different hyperparameters. Code at https://github.com/lab/soups.",
            "cs.LG",
        ),
        recent_paper(
            "2511.00202",
            "Task vectors for editing",
            "Arithmetic on the differences between fine-tuned and pre-trained weights.",
            "cs.LG cs.CL",
        ),
    ];
    // Distinct ages, so the order is the same on every run.
    for (i, p) in papers.iter_mut().enumerate() {
        p.versions[0].created_at -= chrono::Duration::hours(i as i64 + 1);
    }
    let t = TestApp::builder()
        .papers(papers)
        .build(paperboy_web::router)
        .await
        .unwrap();
    let prefs = paperboy_testkit::daily_prefs(&["cs.LG"], &["weight averaging"]);
    let store = t.store();
    let s = store
        .upsert_subscriber("reader@example.org", &prefs)
        .await
        .unwrap();
    store.confirm_subscriber(s.subscriber_id).await.unwrap();
    let sum = t.compose_daily().await;
    assert_eq!(sum.queued, 1);
    t.mailer.drain_now().await;
    let mail = t.mailer.sent().pop().unwrap();
    insta::with_settings!({filters => vec![(r"\d{4}-\d{2}-\d{2}", "[day]")]}, {
        insta::assert_snapshot!("digest_subject", mail.subject());
        insta::assert_snapshot!("digest_text", mail.text);
        insta::assert_snapshot!("digest_html", mail.html);
    });
}

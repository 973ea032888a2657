//! The daily list: submissions and the API's days, weeks and months.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use paperboy_testkit::app::Builder;
use paperboy_testkit::{app_suite, recent_paper};

app_suite!(
    curators_submit_to_todays_list,
    daily_api_refuses_bad_parameters,
    the_daily_pages_do_not_lead_into_the_future,
    compact_view_and_dark_theme_are_remembered,
    tex_in_titles_and_abstracts_is_drawn_and_stays_inert
);

/// `$…$` in a title or abstract is drawn as MathML on lists and the paper
/// page, with its source kept; TeX carrying markup is shown as text.
async fn tex_in_titles_and_abstracts_is_drawn_and_stays_inert(b: Builder) {
    let t = b.build(paperboy_web::router).await.unwrap();
    t.add_papers(vec![paperboy_testkit::recent_paper(
        "2511.00777",
        "Sorting in $\\mathcal{O}(n \\log n)$ comparisons",
        "We show a bound of $n^2$ and also $<img src=x onerror=alert(1)>$ stays text.",
        "cs.DS",
    )])
    .await;
    let c = t.client();
    let page = c.get("/papers/2511.00777").await.body;
    assert!(page.contains("<math"), "{page}");
    assert!(
        page.contains("data-tex=\"\\mathcal{O}(n \\log n)\""),
        "{page}"
    );
    assert!(!page.contains("<img src=x"), "inert: {page}");
    let list = c.get("/search?q=sorting&mode=keyword").await.body;
    assert!(list.contains("<math") || list.contains("<mark>"), "{list}");
}

/// The compact list view and a chosen theme stay across pages (cookies),
/// and an off-site `next` is not followed.
async fn compact_view_and_dark_theme_are_remembered(b: Builder) {
    let t = b.seed().build(paperboy_web::router).await.unwrap();
    let c = t.client();
    let home = c.get("/").await.body;
    assert!(home.contains("View: "), "{home}");
    assert!(!home.contains("class=\"compact\""));
    let r = c.get("/prefs?view=compact&next=/search%3Fq%3Dsoups").await;
    assert_eq!(r.status, 303);
    assert_eq!(r.header("location"), Some("/search?q=soups"));
    let page = c.get("/search?q=soups").await.body;
    assert!(page.contains("<body class=\"compact\""), "{page}");
    let r = c.get("/prefs?theme=dark&next=https://evil.example/").await;
    assert_eq!(r.header("location"), Some("/"), "never off-site");
    let page = c.get("/daily").await.body;
    assert!(page.contains("data-theme=\"dark\""), "{page}");
    assert!(page.contains("<body class=\"compact\""), "both kept");
    c.get("/prefs?theme=auto&view=full&next=/").await;
    let page = c.get("/").await.body;
    assert!(!page.contains("data-theme=") && !page.contains("class=\"compact\""));
}

/// Today's list has a link back, not one to tomorrow (empty by nature);
/// an earlier day links forward.
async fn the_daily_pages_do_not_lead_into_the_future(b: Builder) {
    let t = b.build(paperboy_web::router).await.unwrap();
    let c = t.client();
    let today = t.app.today();
    let page = c.get(&format!("/daily/{today}")).await.body;
    assert!(page.contains("rel=\"prev\""), "{page}");
    assert!(!page.contains("rel=\"next\""), "{page}");
    let earlier = today - chrono::Duration::days(3);
    let page = c.get(&format!("/daily/{earlier}")).await.body;
    assert!(page.contains("rel=\"next\""), "{page}");
}

async fn curators_submit_to_todays_list(b: Builder) {
    let fresh = vec![
        recent_paper(
            "2511.00001",
            "A recent paper on weight averaging",
            "We average weights.",
            "cs.LG",
        ),
        recent_paper("2511.00002", "Another recent paper", "More.", "cs.LG"),
    ];
    let t = b
        .seed()
        .papers(fresh)
        .build(paperboy_web::router)
        .await
        .unwrap();
    let c = t.client();
    assert_eq!(c.get("/submit").await.status, 303, "log in first");
    c.sign_up("cora").await;
    async fn submit(c: &paperboy_testkit::Client, id: &str) -> paperboy_testkit::Resp {
        c.post_form("/submit", &[("arxiv_id", id)]).await
    }
    let r = submit(&c, "https://arxiv.org/abs/2511.00001v1").await;
    assert_eq!(r.status, 303, "{}", r.body);
    let today = t.app.today().to_string();
    assert_eq!(
        r.header("location"),
        Some(format!("/daily/{today}").as_str())
    );
    assert!(c
        .get("/daily")
        .await
        .body
        .contains("A recent paper on weight averaging"));
    let rows = c
        .get(&format!("/api/daily_papers?date={today}"))
        .await
        .json();
    assert_eq!(rows[0]["paper"]["id"], "2511.00001");
    assert_eq!(rows[0]["submittedBy"]["name"], "cora");

    let dup = submit(&c, "2511.00001").await;
    assert_eq!(dup.status, 409);
    assert!(dup.body.contains("already on the"), "points to the entry");
    let old = submit(&c, "2203.05482").await;
    assert_eq!(old.status, 422);
    assert!(old.body.contains("last 14 days"));
    assert_eq!(submit(&c, "not an id").await.status, 400);
    let missing = submit(&c, "2511.09999").await;
    assert_eq!(
        missing.status, 422,
        "no arXiv client here: {}",
        missing.body
    );
    assert!(missing.body.contains("cannot fetch papers from arXiv"));

    let week = t.app.today().format("%G-W%V").to_string();
    let rows = c
        .get(&format!("/api/daily_papers?week={week}"))
        .await
        .json();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    let page = c.get(&format!("/daily/{today}?view=week")).await;
    assert!(page.body.contains("A recent paper on weight averaging"));
}

async fn daily_api_refuses_bad_parameters(b: Builder) {
    let t = b.build(paperboy_web::router).await.unwrap();
    let c = t.client();
    for q in [
        "date=2024-13-01",
        "week=2024-W99",
        "month=x",
        "sort=best",
        "limit=0",
        "p=-1",
        "date=2024-1-05",
        "date=2024-01-01&week=2024-W99",
        "submitter=",
    ] {
        let r = c.get(&format!("/api/daily_papers?{q}")).await;
        assert_eq!(r.status, 400, "{q}");
        assert_eq!(r.json()["error"]["code"], "bad_request", "{q}");
    }
    let r = c.get("/api/daily_papers?month=2024-02").await;
    assert_eq!((r.status, r.body.as_str()), (200, "[]"));
    // Several valid ones: the first of date, week, month wins.
    let r = c
        .get("/api/daily_papers?date=2024-01-01&week=2024-W01")
        .await;
    assert_eq!(r.status, 200);
}

/// arXiv slow to answer (a fetch taking longer than a request may wait):
/// the submission answers "fetching" at once instead of holding the
/// request, and the submitter is notified when the fetch ends.
#[tokio::test]
async fn a_slow_arxiv_does_not_hold_a_submission() {
    struct Slow;
    #[async_trait::async_trait]
    impl paperboy_app::Fetcher for Slow {
        async fn fetch(
            &self,
            _id: &paperboy_core::ArxivId,
        ) -> Result<bool, paperboy_app::ports::FetchError> {
            tokio::time::sleep(
                paperboy_app::submit::FETCH_WAIT + std::time::Duration::from_secs(1),
            )
            .await;
            Ok(false)
        }
    }
    paperboy_testkit::with_store(false, |store| async move {
        let mut app = paperboy_app::App::new(store, paperboy_app::Settings::default());
        app.fetcher = Some(std::sync::Arc::new(Slow));
        let ada = app
            .create_account(paperboy_app::accounts::SignUp {
                username: "ada".into(),
                email: "ada@example.org".into(),
                password: "a long enough password".into(),
                role: paperboy_core::Role::Member,
            })
            .await
            .unwrap();
        let started = std::time::Instant::now();
        let r = app.submit_daily(&ada, "2611.99999").await;
        let waited = started.elapsed();
        assert!(
            matches!(r, Err(paperboy_app::submit::SubmitError::Fetching(_))),
            "{r:?}"
        );
        assert!(
            waited < paperboy_app::submit::FETCH_WAIT + std::time::Duration::from_secs(1),
            "{waited:?}"
        );
        // The fetch ends in the background; its outcome is a notification.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let notes = app.notifications(&ada).await.unwrap();
            if let Some(n) = notes.first() {
                assert!(
                    n.text.contains("2611.99999") && n.text.contains("arXiv does not know"),
                    "{}",
                    n.text
                );
                break;
            }
            assert!(std::time::Instant::now() < deadline, "no notification");
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
    })
    .await;
}

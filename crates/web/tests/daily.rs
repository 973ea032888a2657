//! The daily list: submissions and the API's days, weeks and months.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use paperboy_testkit::app::Builder;
use paperboy_testkit::{app_suite, recent_paper};

app_suite!(
    curators_submit_to_todays_list,
    daily_api_refuses_bad_parameters
);

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

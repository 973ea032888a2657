//! Bad input gets a 4xx with a message, as a page or as JSON; health,
//! metrics and the OpenAPI description answer.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use paperboy_testkit::app::Builder;
use paperboy_testkit::app_suite;

app_suite!(
    pages_answer_bad_input_with_4xx_pages,
    the_api_answers_json_errors,
    health_metrics_and_openapi
);

async fn pages_answer_bad_input_with_4xx_pages(b: Builder) {
    let t = b.seed().build(paperboy_web::router).await.unwrap();
    let c = t.client();
    for (path, code) in [
        ("/papers/2203.99999", 404),
        ("/papers/nonsense", 400),
        ("/papers/hep-th/9901001", 404),
        ("/u/nobody", 404),
        ("/daily/2024-02-30", 400),
        ("/daily/2024-02-01?view=year", 400),
        ("/?p=x", 400),
        ("/search?q=x&p=5000", 400),
        ("/nothing/here", 404),
        ("/subscribe/confirm?token=nonsense", 400),
        ("/unsubscribe?token=unsubscribe.1.0.00", 400),
    ] {
        let r = c.get(path).await;
        assert_eq!(r.status, code, "{path}");
        assert!(
            r.body.contains("<main") && !r.body.contains("panicked"),
            "{path} is a page"
        );
    }
    let r = c.get("/papers/2203.99999").await;
    assert!(
        r.body.contains("https://arxiv.org/abs/2203.99999"),
        "points to arXiv"
    );
}

async fn the_api_answers_json_errors(b: Builder) {
    let t = b.seed().build(paperboy_web::router).await.unwrap();
    let c = t.client();
    for (path, code, error) in [
        ("/api/papers/2203.99999", 404, "not_found"),
        ("/api/papers/nonsense", 400, "bad_request"),
        ("/api/papers/a/b/c", 404, "not_found"),
        ("/api/nothing", 404, "not_found"),
        ("/api/trending?limit=1000", 400, "bad_request"),
        ("/api/papers/2203.05482/related?limit=0", 400, "bad_request"),
    ] {
        let r = c.get(path).await;
        assert_eq!(r.status, code, "{path}");
        assert_eq!(r.json()["error"]["code"], error, "{path}");
        assert!(r.json()["error"]["message"].is_string(), "{path}");
    }
    let p = c.get("/api/papers/2203.05482").await.json();
    assert_eq!(p["id"], "2203.05482");
    assert_eq!(
        p["githubRepo"],
        "https://github.com/mlfoundations/model-soups"
    );
    assert!(p["authors"][0]["name"].is_string() && p["publishedAt"].is_string());
    let old = c.get("/api/papers/math.GT/0309136").await;
    assert!(
        old.status == 200 || old.status == 404,
        "old-style ids route"
    );
}

async fn health_metrics_and_openapi(b: Builder) {
    let t = b.build(paperboy_web::router).await.unwrap();
    let c = t.client();
    let h = c.get("/healthz").await;
    assert_eq!(h.status, 200);
    assert_eq!(h.json()["status"], "ok");
    c.get("/nothing").await;
    let m = c.get("/metrics").await.body;
    assert!(
        m.contains("paperboy_http_responses_total{class=\"4xx\"}"),
        "{m}"
    );
    assert!(m.contains("paperboy_store_up 1"));
    let spec = c.get("/openapi.json").await.json();
    assert_eq!(spec["openapi"], "3.1.0");
    assert!(spec["paths"]["/api/papers/search"].is_object());
}

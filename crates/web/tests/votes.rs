//! Upvotes by form and by API, sessions, tokens and CSRF, in-process.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use axum::http::Method;
use paperboy_testkit::app::Builder;
use paperboy_testkit::{app_suite, Client};

app_suite!(
    vote_by_form_is_kept_counted_once_and_removable,
    api_votes_need_a_token_or_a_session_with_csrf,
);

async fn call(c: &Client, method: Method, path: &str) -> paperboy_testkit::Resp {
    c.api(method, path, None).await
}

async fn upvotes(c: &Client, id: &str) -> i64 {
    c.get(&format!("/api/papers/{id}")).await.json()["upvotes"]
        .as_i64()
        .unwrap()
}

async fn vote_by_form_is_kept_counted_once_and_removable(b: Builder) {
    let t = b.seed().build(paperboy_web::router).await.unwrap();
    let c = t.client();
    c.sign_up("ada").await;
    let page = c.get("/papers/2203.05482").await;
    assert!(page.body.contains("citation_title") && page.body.contains("citation_author"));
    async fn vote(c: &Client, action: &str) -> u16 {
        c.post_form("/papers/2203.05482/upvote", &[("action", action)])
            .await
            .status
    }
    assert_eq!(vote(&c, "add").await, 303);
    assert!(
        c.get("/papers/2203.05482")
            .await
            .body
            .contains("aria-pressed=\"true\""),
        "the vote shows after a reload"
    );
    assert_eq!(upvotes(&c, "2203.05482").await, 1);
    vote(&c, "add").await;
    assert_eq!(
        upvotes(&c, "2203.05482").await,
        1,
        "voting twice counts once"
    );
    assert!(
        c.get("/u/ada").await.body.contains("Model soups"),
        "the profile lists it"
    );
    vote(&c, "remove").await;
    assert_eq!(upvotes(&c, "2203.05482").await, 0);
    // Without the CSRF token: refused; logged out: sent to log in.
    let r = c
        .post_form_raw("/papers/2203.05482/upvote", &[("action", "add")])
        .await;
    assert_eq!(r.status, 403);
    let visitor = t.client();
    let r = visitor
        .post_form("/papers/2203.05482/upvote", &[("action", "add")])
        .await;
    assert_eq!(r.status, 303);
    assert!(r.header("location").unwrap().starts_with("/login?next="));
    // Old-style ids keep their slash.
    let r = c
        .post_form("/papers/hep-th/9901001/upvote", &[("action", "add")])
        .await;
    assert_eq!(r.status, 404, "not in this store");
}

async fn api_votes_need_a_token_or_a_session_with_csrf(b: Builder) {
    let t = b.seed().build(paperboy_web::router).await.unwrap();
    let c = t.client();
    c.sign_up("bob").await;
    let token = t.app.create_api_token("bob", "test").await.unwrap();
    let api = t.token_client(&token);
    let r = call(&api, Method::POST, "/api/papers/hep-th/9901001/upvote").await;
    assert_eq!(r.status, 404, "unknown paper");
    let r = call(&api, Method::POST, "/api/papers/2203.05482/upvote").await;
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(
        (v["upvotes"].as_i64(), v["upvoted"].as_bool()),
        (Some(1), Some(true))
    );
    let r = call(
        &t.token_client("wrong"),
        Method::POST,
        "/api/papers/2203.05482/upvote",
    )
    .await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["code"], "unauthorized");
    // A session needs the CSRF header for the JSON API.
    let c = t.client();
    c.sign_up("cleo").await;
    let r = c
        .request(
            Method::POST,
            "/api/papers/2203.05482/upvote",
            &[],
            axum::body::Body::empty(),
        )
        .await;
    assert_eq!(r.status, 403);
    let r = call(&c, Method::POST, "/api/papers/2203.05482/upvote").await;
    assert_eq!(r.json()["upvotes"], 2);
    let r = call(&api, Method::DELETE, "/api/papers/2203.05482/upvote").await;
    assert_eq!(r.json()["upvotes"], 1);
    let r = call(&t.client(), Method::POST, "/api/papers/2203.05482/upvote").await;
    assert_eq!(r.status, 401, "a visitor");
    let r = call(&api, Method::GET, "/api/papers/2203.05482/upvote").await;
    assert_eq!(r.status, 405, "upvote takes POST and DELETE only");
    let trending = t.client().get("/api/trending?limit=3").await.json();
    assert_eq!(trending.as_array().unwrap().len(), 3);
    assert!(trending[0]["paper"]["id"].is_string() && trending[0]["summary"].is_string());
}

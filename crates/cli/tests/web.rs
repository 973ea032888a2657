//! The web app from the outside: accounts, votes, submissions, lists,
//! search, through a running `paperboy serve`.

mod common;

use std::time::{Duration, Instant};

use common::{stderr, summary, write, Env, Server};
use paperboy_testkit::seed_corpus_path;
use serde_json::Value;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// The `csrf` hidden field of a page.
fn csrf_of(html: &str) -> String {
    let at = html
        .find("name=\"csrf\" value=\"")
        .expect("page has a CSRF field")
        + 19;
    html[at..at + 64].to_string()
}

async fn get_text(c: &reqwest::Client, url: &str) -> (u16, String) {
    let r = c.get(url).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn signup(c: &reqwest::Client, s: &Server, name: &str) {
    let (_, page) = get_text(c, &s.url("/signup")).await;
    let r = c
        .post(s.url("/signup"))
        .form(&[
            ("csrf", csrf_of(&page).as_str()),
            ("username", name),
            ("email", &format!("{name}@example.org")),
            ("password", "correct horse battery"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        303,
        "sign-up redirects: {}",
        r.text().await.unwrap_or_default()
    );
}

/// The upvote count the API reports for a paper.
async fn upvotes_of(s: &Server, id: &str) -> i64 {
    let p: Value = reqwest::get(s.url(&format!("/api/papers/{id}")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    p["upvotes"].as_i64().unwrap()
}

/// Posts the Model soups vote form (`add` or `remove`).
async fn vote_form(c: &reqwest::Client, s: &Server, csrf: &str, action: &str) -> reqwest::Response {
    c.post(s.url("/papers/2203.05482/upvote"))
        .form(&[("csrf", csrf), ("action", action)])
        .send()
        .await
        .unwrap()
}

fn recent_record(id: &str, title: &str) -> String {
    let now = chrono::Utc::now()
        .format("%a, %-d %b %Y %H:%M:%S GMT")
        .to_string();
    serde_json::json!({
        "id": id, "title": title, "abstract": "A fresh result on robust fine-tuning of large models.",
        "authors": "New Author", "categories": "cs.LG",
        "versions": [{"version": "v1", "created": now}]
    })
    .to_string()
}

async fn started(env: &Env) -> Server {
    let out = env.run(&["import", seed_corpus_path().to_str().unwrap()]);
    assert_eq!(summary(&out), (68, 0, 0, 0), "{}", stderr(&out));
    let file = env.path("recent.jsonl");
    let lines = [
        recent_record("2511.00001", "A recent paper on weight averaging"),
        recent_record("2511.00002", "Another recent paper"),
    ];
    write(&file, &lines.join("\n"));
    assert_eq!(summary(&env.run(&["import", file.to_str().unwrap()])).0, 2);
    Server::start(env, &[]).await
}

#[tokio::test]
async fn sign_up_vote_and_see_the_vote_kept() {
    let env = Env::sqlite();
    let s = started(&env).await;
    let c = client();
    signup(&c, &s, "ada").await;
    let (status, home) = get_text(&c, &s.url("/")).await;
    assert_eq!(status, 200);
    assert!(home.contains("href=\"/u/ada\""), "logged in");

    let (_, page) = get_text(&c, &s.url("/papers/2203.05482")).await;
    assert!(
        page.contains("citation_title") && page.contains("citation_author"),
        "citation meta tags"
    );
    let csrf = csrf_of(&page);
    let r = c
        .post(s.url("/papers/2203.05482/upvote"))
        .form(&[("csrf", csrf.as_str()), ("action", "add")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let (_, page) = get_text(&c, &s.url("/papers/2203.05482")).await;
    assert!(
        page.contains("aria-pressed=\"true\""),
        "the vote shows after a reload"
    );
    assert_eq!(upvotes_of(&s, "2203.05482").await, 1);
    // Voting again counts once; removing takes it away.
    vote_form(&c, &s, &csrf, "add").await;
    assert_eq!(upvotes_of(&s, "2203.05482").await, 1);
    let profile = get_text(&c, &s.url("/u/ada")).await.1;
    assert!(
        profile.contains("Model soups"),
        "the profile lists the upvote"
    );
    vote_form(&c, &s, &csrf, "remove").await;
    assert_eq!(upvotes_of(&s, "2203.05482").await, 0);

    // A form without the CSRF token is refused.
    let r = c
        .post(s.url("/papers/2203.05482/upvote"))
        .form(&[("action", "add")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    // Log out, and votes are refused.
    c.post(s.url("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    let r = c
        .post(s.url("/api/papers/2203.05482/upvote"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let e: Value = r.json().await.unwrap();
    assert_eq!(e["error"]["code"], "unauthorized");
}

#[tokio::test]
async fn api_votes_with_tokens_and_csrf() {
    let env = Env::sqlite();
    let s = started(&env).await;
    let c = client();
    signup(&c, &s, "bob").await;
    let token_out = env.run(&["user", "token", "bob"]);
    assert!(token_out.status.success(), "{}", stderr(&token_out));
    let token = common::stdout(&token_out).trim().to_string();
    let plain = reqwest::Client::new();
    let r = plain
        .post(s.url("/api/papers/hep-th/9901001/upvote"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404, "unknown paper");
    let r = plain
        .post(s.url("/api/papers/2203.05482/upvote"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["upvotes"].as_i64(), v["upvoted"].as_bool()),
        (Some(1), Some(true))
    );
    let r = plain
        .post(s.url("/api/papers/2203.05482/upvote"))
        .bearer_auth("wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    // A session alone is not enough for the JSON API: it needs the CSRF header.
    let r = c
        .post(s.url("/api/papers/2203.05482/upvote"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = plain
        .delete(s.url("/api/papers/2203.05482/upvote"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["upvotes"], 0);
    let trending: Value = reqwest::get(s.url("/api/trending?limit=3"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(trending.as_array().unwrap().len(), 3);
    assert!(trending[0]["paper"]["id"].is_string() && trending[0]["summary"].is_string());
}

#[tokio::test]
async fn curator_submits_to_todays_list() {
    let env = Env::sqlite();
    let s = started(&env).await;
    let c = client();
    signup(&c, &s, "cora").await;
    assert!(env
        .run(&["user", "role", "cora", "curator"])
        .status
        .success());
    let (_, page) = get_text(&c, &s.url("/submit")).await;
    let csrf = csrf_of(&page);
    let submit = |id: &'static str| {
        let c = c.clone();
        let csrf = csrf.clone();
        let url = s.url("/submit");
        async move {
            c.post(url)
                .form(&[("csrf", csrf.as_str()), ("arxiv_id", id)])
                .send()
                .await
                .unwrap()
        }
    };
    let r = submit("https://arxiv.org/abs/2511.00001v1").await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap_or_default());
    let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let (_, daily) = get_text(&c, &s.url("/daily")).await;
    assert!(
        daily.contains("A recent paper on weight averaging"),
        "today's list shows it"
    );
    let rows: Value = reqwest::get(s.url(&format!("/api/daily_papers?date={today}")))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(rows[0]["paper"]["id"], "2511.00001");
    assert_eq!(rows[0]["submittedBy"]["name"], "cora");

    let dup = submit("2511.00001").await;
    assert_eq!(dup.status(), 409);
    assert!(
        dup.text().await.unwrap().contains("already on the"),
        "points to the existing entry"
    );
    let old = submit("2203.05482").await;
    assert_eq!(old.status(), 422);
    assert!(old.text().await.unwrap().contains("last 14 days"));
    let bad = submit("not an id").await;
    assert_eq!(bad.status(), 400);

    for (q, code) in [
        ("date=2024-13-01", 400),
        ("week=2024-W99", 400),
        ("month=x", 400),
        ("sort=best", 400),
        ("limit=0", 400),
        ("date=2024-01-01&week=2024-W01", 400),
    ] {
        let r = reqwest::get(s.url(&format!("/api/daily_papers?{q}")))
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), code, "{q}");
        let e: Value = r.json().await.unwrap();
        assert_eq!(e["error"]["code"], "bad_request");
    }
    let week: Value = reqwest::get(s.url(&format!(
        "/api/daily_papers?week={}",
        chrono::Utc::now().format("%G-W%V")
    )))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(week.as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn search_pages_and_index_sync() {
    let env = Env::sqlite();
    let s = started(&env).await;
    // The index catches up with the store shortly after start.
    let deadline = Instant::now() + Duration::from_secs(10);
    let rows: Value = loop {
        let r = reqwest::get(s.url(
            "/api/papers/search?q=averaging%20weights%20of%20fine-tuned%20models&mode=keyword",
        ))
        .await
        .unwrap();
        assert_eq!(r.status(), 200);
        let rows: Value = r.json().await.unwrap();
        if rows.as_array().is_some_and(|a| !a.is_empty()) {
            break rows;
        }
        assert!(Instant::now() < deadline, "index never caught up");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(rows[0]["paper"]["id"], "2203.05482");
    assert!(rows[0]["highlightedTitle"]
        .as_str()
        .unwrap()
        .contains("<mark>"));
    let (status, page) = get_text(
        &client(),
        &s.url("/search?q=generalization+of+fine-tuned+models"),
    )
    .await;
    assert_eq!(status, 200);
    assert!(
        page.contains("<mark>") && page.contains("class=\"abstract\""),
        "results with highlighted abstracts"
    );
    let r = reqwest::get(s.url("/api/papers/search?q=x&mode=telepathy"))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let r = reqwest::get(s.url("/api/papers/search?q=%22unbalanced&limit=5"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200, "unreadable queries are plain words");

    // A paper imported while the server runs is searchable within seconds.
    let file = env.path("late.jsonl");
    write(
        &file,
        &recent_record("2511.00077", "Zyxwvut quasiparticle lattices"),
    );
    assert_eq!(summary(&env.run(&["import", file.to_str().unwrap()])).0, 1);
    let started_at = Instant::now();
    loop {
        let rows: Value = reqwest::get(s.url("/api/papers/search?q=zyxwvut"))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if rows.as_array().is_some_and(|a| a.len() == 1) {
            break;
        }
        assert!(
            started_at.elapsed() < Duration::from_secs(5),
            "not searchable within 5 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let related: Value = reqwest::get(s.url("/api/papers/2203.05482/related?limit=5"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
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
}

#[tokio::test]
async fn pages_answer_bad_input_with_4xx() {
    let env = Env::sqlite();
    let s = started(&env).await;
    let c = client();
    for (path, code) in [
        ("/papers/2203.99999", 404),
        ("/papers/nonsense", 400),
        ("/u/nobody", 404),
        ("/daily/2024-02-30", 400),
        ("/daily/2024-02-01?view=year", 400),
        ("/?p=x", 400),
        ("/nothing/here", 404),
    ] {
        let (status, body) = get_text(&c, &s.url(path)).await;
        assert_eq!(status, code, "{path}");
        assert!(
            body.contains("<main") && !body.contains("panicked"),
            "{path} is a page"
        );
    }
    let (_, login) = get_text(&c, &s.url("/login")).await;
    let csrf = csrf_of(&login);
    let r = c
        .post(s.url("/login"))
        .form(&[
            ("csrf", csrf.as_str()),
            ("username", "ghost"),
            ("password", "whatever1"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let (_, page) = get_text(&c, &s.url("/signup")).await;
    let r = c
        .post(s.url("/signup"))
        .form(&[
            ("csrf", csrf_of(&page).as_str()),
            ("username", "x"),
            ("email", "nope"),
            ("password", "short"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let text = r.text().await.unwrap();
    assert!(
        text.contains("3 to 32") && text.contains("not an email") && text.contains("8 characters"),
        "every field's problem is named"
    );
    // Too many log-in attempts get a clear 429.
    let mut last = 0;
    for _ in 0..40 {
        let r = c
            .post(s.url("/login"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("username", "ghost"),
                ("password", "whatever1"),
            ])
            .send()
            .await
            .unwrap();
        last = r.status().as_u16();
        if last == 429 {
            break;
        }
    }
    assert_eq!(last, 429);
}

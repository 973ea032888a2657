//! Discussions, moderation, author claims and notifications, driven through
//! the pages and the JSON API in-process.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use axum::http::Method;
use paperboy_core::Role;
use paperboy_testkit::app::Builder;
use paperboy_testkit::{app_suite, Client, TestApp};
use serde_json::json;

app_suite!(
    comments_replies_edits_deletions_and_votes_by_api,
    bad_comments_get_clear_errors,
    hostile_markdown_is_inert_on_page_and_in_api,
    reports_moderation_and_the_public_log,
    suspended_members_are_told_until_when,
    author_claims_links_and_author_pages,
    participants_are_notified_and_mailed_when_they_asked,
    huggingface_shapes_submitter_filter_markdown_and_headers,
);

const PAPER: &str = "2203.05482";

async fn app(b: Builder) -> TestApp {
    b.seed().build(paperboy_web::router).await.unwrap()
}

async fn member(t: &TestApp, name: &str) -> Client {
    let c = t.client();
    c.sign_up(name).await;
    c
}

async fn moderator(t: &TestApp, name: &str) -> Client {
    let c = member(t, name).await;
    t.app.set_role(name, Role::Moderator).await.unwrap();
    c
}

async fn comment(c: &Client, body: &str, parent: Option<i64>) -> paperboy_testkit::Resp {
    c.api(
        Method::POST,
        &format!("/api/papers/{PAPER}/comments"),
        Some(json!({ "body": body, "parentId": parent })),
    )
    .await
}

async fn comments_replies_edits_deletions_and_votes_by_api(b: Builder) {
    let t = app(b).await;
    let ada = member(&t, "ada").await;
    let bob = member(&t, "bob").await;
    let first = comment(&ada, "First: *soups* work.", None).await;
    assert_eq!(first.status, 201, "{}", first.body);
    let first_id = first.json()["id"].as_i64().unwrap();
    assert!(first.json()["html"]
        .as_str()
        .unwrap()
        .contains("<em>soups</em>"));
    let second = comment(&bob, "Second comment.", None).await.json()["id"]
        .as_i64()
        .unwrap();
    let reply = comment(&bob, "A reply to the first.", Some(first_id)).await;
    assert_eq!(reply.status, 201, "{}", reply.body);
    let reply_id = reply.json()["id"].as_i64().unwrap();
    // Replies go one level deep: a reply to a reply joins the thread.
    let deeper = comment(&ada, "Reply to a reply", Some(reply_id)).await;
    assert_eq!(deeper.status, 201, "{}", deeper.body);
    assert_eq!(deeper.json()["parentId"], first_id);

    let thread = t
        .client()
        .get(&format!("/api/papers/{PAPER}/comments"))
        .await
        .json();
    let tops: Vec<i64> = thread
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(tops, vec![first_id, second], "oldest first");
    assert_eq!(thread[0]["replies"][0]["id"], reply_id);
    assert_eq!(thread[0]["replies"][0]["parentId"], first_id);
    assert_eq!(thread[0]["author"]["user"], "ada");
    assert_eq!(
        t.client().get(&format!("/api/papers/{PAPER}")).await.json()["numComments"],
        4
    );

    // Only the author edits; the edit is marked and the history kept.
    let cid = format!("/api/comments/{first_id}");
    let r = bob
        .api(Method::PATCH, &cid, Some(json!({"body": "hijack"})))
        .await;
    assert_eq!(r.status, 403);
    let r = ada
        .api(Method::PATCH, &cid, Some(json!({"body": "First, edited."})))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json()["editedAt"].is_string());
    let revisions = t
        .store()
        .revisions(paperboy_core::CommentId(first_id))
        .await
        .unwrap();
    assert_eq!(revisions.len(), 1);
    assert_eq!(revisions[0].1, "First: *soups* work.");
    let page = t.client().get(&format!("/papers/{PAPER}")).await.body;
    assert!(
        page.contains("First, edited.") && page.contains(">edited<"),
        "the page marks the edit"
    );

    // Upvotes on comments, once per member.
    let up = format!("/api/comments/{second}/upvote");
    assert_eq!(ada.api(Method::POST, &up, None).await.json()["upvotes"], 1);
    assert_eq!(ada.api(Method::POST, &up, None).await.json()["upvotes"], 1);
    assert_eq!(
        ada.api(Method::DELETE, &up, None).await.json()["upvotes"],
        0
    );

    // Deleting leaves a placeholder and the replies.
    let r = ada.api(Method::DELETE, &cid, None).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let thread = t
        .client()
        .get(&format!("/api/papers/{PAPER}/comments"))
        .await
        .json();
    assert_eq!(thread[0]["status"], "deleted");
    assert_eq!(thread[0]["body"], "");
    assert!(thread[0]["author"].is_null());
    assert_eq!(thread[0]["replies"][0]["id"], reply_id);
    let page = t.client().get(&format!("/papers/{PAPER}")).await.body;
    assert!(page.contains("[deleted]") && !page.contains("First, edited."));
    assert_eq!(
        t.client().get(&format!("/api/papers/{PAPER}")).await.json()["numComments"],
        3
    );
    // A deleted comment is gone for every action.
    assert_eq!(ada.api(Method::DELETE, &cid, None).await.status, 404);
    assert_eq!(
        ada.api(Method::PATCH, &cid, Some(json!({"body": "again"})))
            .await
            .status,
        404
    );

    // The same by form, without JavaScript: comment, then reply.
    let r = bob
        .post_form(
            &format!("/papers/{PAPER}/comments"),
            &[("body", "By form.")],
        )
        .await;
    assert_eq!(r.status, 303);
    let location = r.header("location").unwrap().to_string();
    assert!(
        location.starts_with(&format!("/papers/{PAPER}#comment-")),
        "{location}"
    );
    // Anonymous calls are refused.
    assert_eq!(comment(&t.client(), "anon", None).await.status, 401);
}

async fn bad_comments_get_clear_errors(b: Builder) {
    let t = app(b).await;
    let ada = member(&t, "ada").await;
    let empty = comment(&ada, "   ", None).await;
    assert_eq!(empty.status, 400);
    let long = comment(&ada, &"a".repeat(20_001), None).await;
    assert_eq!(long.status, 400, "{}", long.body);
    assert!(
        long.body.contains("20000"),
        "the limit is named: {}",
        long.body
    );
    let r = ada
        .api(
            Method::POST,
            "/api/papers/2601.99999/comments",
            Some(json!({"body": "hi"})),
        )
        .await;
    assert_eq!(r.status, 404);
    let r = ada
        .api(
            Method::POST,
            &format!("/api/papers/{PAPER}/comments"),
            Some(json!({"text": "hi"})),
        )
        .await;
    assert!(
        r.status == 400 || r.status == 422,
        "{} {}",
        r.status,
        r.body
    );
    let r = ada
        .api(
            Method::PATCH,
            "/api/comments/abc",
            Some(json!({"body": "x"})),
        )
        .await;
    assert_eq!(r.status, 400);
    let r = ada
        .api(
            Method::PATCH,
            "/api/comments/999999",
            Some(json!({"body": "x"})),
        )
        .await;
    assert_eq!(r.status, 404);
    // New accounts: at most 2 links in a comment.
    let links = comment(
        &ada,
        "https://a.example https://b.example https://c.example",
        None,
    )
    .await;
    assert_eq!(links.status, 403);
    assert!(links.body.contains("links"), "{}", links.body);
    // New accounts: at most 5 comments an hour.
    for i in 0..5 {
        assert_eq!(
            comment(&ada, &format!("comment {i}"), None).await.status,
            201
        );
    }
    let r = comment(&ada, "one too many", None).await;
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.header("retry-after").is_some());
    // A locked thread takes no comments.
    let m = moderator(&t, "mia").await;
    let r = m
        .post_form(
            &format!("/papers/{PAPER}/lock"),
            &[("action", "lock"), ("reason", "flame war")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let bob = member(&t, "bob").await;
    let r = comment(&bob, "late", None).await;
    assert_eq!(r.status, 403);
    assert!(r.body.contains("locked"), "{}", r.body);
    let page = t.client().get(&format!("/papers/{PAPER}")).await.body;
    assert!(page.contains("locked this discussion"));
}

async fn hostile_markdown_is_inert_on_page_and_in_api(b: Builder) {
    let t = app(b).await;
    let ada = member(&t, "ada").await;
    let hostile = "<script>alert(1)</script> <img src=x onerror=alert(2)> \
        <a href=\"data:text/html,hi\">d</a>\n\n[x](javascript:alert(3)) $a<b$ and [ok](https://example.org)";
    let r = comment(&ada, hostile, None).await;
    assert_eq!(r.status, 201, "{}", r.body);
    let html = r.json()["html"].as_str().unwrap().to_ascii_lowercase();
    // HTML typed into a comment is text; links keep only http(s) targets.
    for bad in ["<script", "<img", "<a href=\"javascript", "<a href=\"data:"] {
        assert!(!html.contains(bad), "{bad} in {html}");
    }
    assert!(html.contains("rel=\"nofollow ugc noopener\""), "{html}");
    let page = t
        .client()
        .get(&format!("/papers/{PAPER}"))
        .await
        .body
        .to_ascii_lowercase();
    assert!(
        !page.contains("<script>alert")
            && !page.contains("<img src=\"x\"")
            && !page.contains("<a href=\"javascript")
    );
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "shown as typed"
    );
    // Nested quotes 1,000 deep and a long line: accepted and inert.
    let deep = format!("{}deep", "> ".repeat(1000));
    assert_eq!(comment(&ada, &deep, None).await.status, 201);
}

async fn reports_moderation_and_the_public_log(b: Builder) {
    let t = app(b).await;
    let ada = member(&t, "ada").await;
    let bob = member(&t, "bob").await;
    let spam = comment(&ada, "Buy cheap watches", None).await.json()["id"]
        .as_i64()
        .unwrap();
    // A member reports it, by API and by form.
    let r = bob
        .api(
            Method::POST,
            &format!("/api/comments/{spam}/report"),
            Some(json!({"reason": "spam"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = bob
        .post_form(
            &format!("/comments/{spam}/report"),
            &[("reason", "really spam")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Members cannot see the queue.
    assert_eq!(bob.get("/mod").await.status, 403);
    assert_eq!(
        t.client().get("/mod").await.status,
        303,
        "visitors are sent to log in"
    );

    let mia = moderator(&t, "mia").await;
    let queue = mia.get("/mod").await;
    assert_eq!(queue.status, 200);
    assert!(queue.body.contains("Buy cheap watches") && queue.body.contains("really spam"));
    // A reason is required.
    let r = mia
        .post_form(
            &format!("/mod/comments/{spam}"),
            &[("action", "hide"), ("reason", "")],
        )
        .await;
    assert_eq!(r.status, 400);
    let r = mia
        .post_form(
            &format!("/mod/comments/{spam}"),
            &[("action", "hide"), ("reason", "advertising")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = t.client().get(&format!("/papers/{PAPER}")).await.body;
    assert!(page.contains("[hidden by a moderator]") && !page.contains("Buy cheap watches"));
    let api = t
        .client()
        .get(&format!("/api/papers/{PAPER}/comments"))
        .await
        .json();
    assert_eq!(api[0]["status"], "hidden");
    assert!(
        !mia.get("/mod").await.body.contains("really spam"),
        "the reports are closed"
    );
    // The public log: who, what, why, for anyone.
    let log = t.client().get("/moderation").await;
    assert_eq!(log.status, 200);
    assert!(
        log.body.contains("mia")
            && log.body.contains("hide comment")
            && log.body.contains("advertising")
    );
    // Restored.
    mia.post_form(
        &format!("/mod/comments/{spam}"),
        &[("action", "restore"), ("reason", "appeal")],
    )
    .await;
    assert!(t
        .client()
        .get(&format!("/papers/{PAPER}"))
        .await
        .body
        .contains("Buy cheap watches"));

    // A submission reported and removed from the daily list.
    let paper = paperboy_testkit::recent_paper("2611.01234", "A fresh paper", "Fresh.", "cs.LG");
    t.add_papers(vec![paper]).await;
    let r = ada
        .post_form("/submit", &[("arxiv_id", "2611.01234")])
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = bob
        .post_form("/papers/2611.01234/report", &[("reason", "off topic")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(mia.get("/mod").await.body.contains("off topic"));
    let r = mia
        .post_form(
            "/papers/2611.01234/remove-submission",
            &[("reason", "off topic")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let daily = t.client().get("/api/daily_papers").await.json();
    assert!(daily
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["paper"]["id"] != "2611.01234"));
    assert!(t
        .client()
        .get("/moderation")
        .await
        .body
        .contains("remove submission"));
}

async fn suspended_members_are_told_until_when(b: Builder) {
    let t = app(b).await;
    let ada = member(&t, "ada").await;
    let mia = moderator(&t, "mia").await;
    let until = (chrono::Utc::now() + chrono::Duration::days(3)).date_naive();
    let r = mia
        .post_form(
            "/mod/suspend",
            &[
                ("username", "ada"),
                ("until", &until.to_string()),
                ("reason", "abuse"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = comment(&ada, "still here?", None).await;
    assert_eq!(r.status, 403);
    assert!(
        r.body.contains(&until.format("%B %-d, %Y").to_string()),
        "{}",
        r.body
    );
    let r = ada
        .api(Method::POST, &format!("/api/papers/{PAPER}/upvote"), None)
        .await;
    assert_eq!(r.status, 403, "suspended members do not vote either");
    let log = t.client().get("/moderation").await.body;
    assert!(log.contains("suspend member until") && log.contains("abuse"));
    // A moderator cannot suspend a moderator, and dates are in the future.
    moderator(&t, "max").await;
    let r = mia
        .post_form(
            "/mod/suspend",
            &[
                ("username", "max"),
                ("until", &until.to_string()),
                ("reason", "x"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
    let r = mia
        .post_form(
            "/mod/suspend",
            &[
                ("username", "ada"),
                ("until", "2001-01-01"),
                ("reason", "x"),
            ],
        )
        .await;
    assert_eq!(r.status, 400);
    // Lifted.
    mia.post_form(
        "/mod/suspend",
        &[("username", "ada"), ("until", ""), ("reason", "served")],
    )
    .await;
    assert_eq!(comment(&ada, "back", None).await.status, 201);
}

async fn author_claims_links_and_author_pages(b: Builder) {
    let t = app(b).await;
    let ada = member(&t, "ada").await;
    let api = t.client().get(&format!("/api/papers/{PAPER}")).await.json();
    let first_author = api["authors"][0]["name"].as_str().unwrap().to_string();
    assert!(api["authors"][0].get("user").is_none());
    // Out of range, then a real claim.
    let r = ada
        .post_form(&format!("/papers/{PAPER}/claim"), &[("position", "999")])
        .await;
    assert_eq!(r.status, 400);
    let r = ada
        .post_form(&format!("/papers/{PAPER}/claim"), &[("position", "1")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // Not yet approved: nothing shows, and the links cannot be set.
    let r = ada
        .post_form(
            &format!("/papers/{PAPER}/links"),
            &[("github_repo", "https://github.com/ada/soups")],
        )
        .await;
    assert_eq!(r.status, 403);
    let mia = moderator(&t, "mia").await;
    let queue = mia.get("/mod").await.body;
    assert!(queue.contains(&first_author), "{queue}");
    let claim = t.store().pending_claims().await.unwrap()[0].claim_id;
    let r = mia
        .post_form(
            &format!("/mod/claims/{claim}"),
            &[("decision", "approve"), ("reason", "verified by email")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);

    let api = t.client().get(&format!("/api/papers/{PAPER}")).await.json();
    assert_eq!(api["authors"][0]["user"]["user"], "ada");
    assert_eq!(api["authors"][0]["name"], first_author.as_str());
    let page = t.client().get(&format!("/papers/{PAPER}")).await.body;
    assert!(
        page.contains("href=\"/u/ada\""),
        "the claimed author links to the profile"
    );
    assert!(t.client().get("/u/ada").await.body.contains("Model soups"));
    assert!(t
        .client()
        .get("/moderation")
        .await
        .body
        .contains("approve author claim"));

    // The approved author sets the links; bad ones are refused.
    let r = ada
        .post_form(
            &format!("/papers/{PAPER}/links"),
            &[("github_repo", "javascript:alert(1)")],
        )
        .await;
    assert_eq!(r.status, 400);
    let r = ada
        .post_form(
            &format!("/papers/{PAPER}/links"),
            &[
                ("github_repo", "https://github.com/ada/soups"),
                ("project_page", "https://soups.example.org"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let api = t.client().get(&format!("/api/papers/{PAPER}")).await.json();
    assert_eq!(api["githubRepo"], "https://github.com/ada/soups");
    assert_eq!(api["projectPage"], "https://soups.example.org");
    assert!(t
        .client()
        .get("/moderation")
        .await
        .body
        .contains("set paper links"));

    // The author page, by normalised name.
    let shouted = first_author.to_uppercase();
    let r = t
        .client()
        .get(&format!(
            "/authors/{}",
            paperboy_app::feeds::urlencode(&shouted)
        ))
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Model soups") && r.body.contains("/u/ada"));
}

async fn participants_are_notified_and_mailed_when_they_asked(b: Builder) {
    let t = app(b).await;
    let ada = member(&t, "ada").await;
    let bob = member(&t, "bob").await;
    let first = comment(&ada, "What do you think?", None).await.json()["id"]
        .as_i64()
        .unwrap();
    // Ada asks for mail about replies.
    let r = ada
        .post_form("/notifications/settings", &[("reply_mail", "on")])
        .await;
    assert_eq!(r.status, 303);
    comment(&bob, "I think it works.", Some(first)).await;
    let page = ada.get("/notifications").await.body;
    assert!(page.contains("bob replied to your comment"), "{page}");
    t.mailer.drain_now().await;
    let sent = t.mailer.sent();
    let to_ada: Vec<_> = sent
        .iter()
        .filter(|m| m.to().contains("ada@example.org"))
        .collect();
    assert_eq!(to_ada.len(), 1, "one mail for one reply");
    assert!(to_ada[0].text.contains("I think it works."));
    // Bob did not ask: a notice, no mail.
    comment(&ada, "Thanks!", Some(first)).await;
    assert!(bob.get("/notifications").await.body.contains("ada"));
    t.mailer.drain_now().await;
    assert!(t
        .mailer
        .sent()
        .iter()
        .all(|m| !m.to().contains("bob@example.org")));
}

async fn huggingface_shapes_submitter_filter_markdown_and_headers(b: Builder) {
    let t = app(b).await;
    let ada = member(&t, "ada").await;
    let bob = member(&t, "bob").await;
    for (c, id) in [(&ada, "2611.02001"), (&bob, "2611.02002")] {
        let p = paperboy_testkit::recent_paper(id, &format!("Paper {id}"), "Abstract.", "cs.LG");
        t.add_papers(vec![p]).await;
        let r = c.post_form("/submit", &[("arxiv_id", id)]).await;
        assert_eq!(r.status, 303, "{}", r.body);
    }
    let rows = t
        .client()
        .get("/api/daily_papers?submitter=ada")
        .await
        .json();
    let ids: Vec<&str> = rows
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["paper"]["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, vec!["2611.02001"]);
    assert_eq!(rows[0]["submittedBy"]["user"], "ada");
    assert!(t
        .client()
        .get("/api/daily_papers?submitter=nobody")
        .await
        .json()
        .as_array()
        .unwrap()
        .is_empty());

    let md = t.client().get(&format!("/papers/{PAPER}.md")).await;
    assert_eq!(md.status, 200);
    assert!(md
        .header("content-type")
        .unwrap()
        .starts_with("text/markdown"));
    assert!(md.body.starts_with("# Model soups"), "{}", md.body);
    assert!(md.body.contains("## Abstract"));
    assert_eq!(t.client().get("/papers/2601.99999.md").await.status, 404);

    let page = t.client().get(&format!("/papers/{PAPER}")).await;
    let csp = page.header("content-security-policy").unwrap();
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"));
    assert!(!csp.contains("unsafe-inline"));
    assert_eq!(page.header("x-content-type-options"), Some("nosniff"));
    assert!(page.header("referrer-policy").is_some());
    assert!(
        page.header("strict-transport-security").is_none(),
        "http instance: no HSTS"
    );
    assert!(!page.body.contains("<script>"), "no inline script");
    assert!(t
        .client()
        .get("/api/trending")
        .await
        .header("content-security-policy")
        .is_some());
}

//! Sign-up, log-in, log-out and what bad input gets back, in-process.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use paperboy_testkit::app::Builder;
use paperboy_testkit::app_suite;

app_suite!(
    sign_up_logs_in_and_log_out_ends_the_session,
    every_field_problem_is_named_and_taken_names_are_conflicts,
    wrong_passwords_are_refused_then_rate_limited,
    log_in_by_email_and_change_the_password,
    a_reset_link_by_email_works_once_and_tells_nothing,
    deleting_an_account_keeps_comments_and_forgets_the_rest,
    the_header_counts_unread_notifications_and_following_lists_follows,
);

const PW: &str = "correct horse battery";

/// Log in with the address instead of the name; a new password ends the
/// other sessions and keeps this one.
async fn log_in_by_email_and_change_the_password(b: Builder) {
    let t = b.build(paperboy_web::router).await.unwrap();
    let ada = t.client();
    ada.sign_up("ada").await;
    let other = t.client();
    let r = other
        .post_form(
            "/login",
            &[("username", "ADA@example.org"), ("password", PW)],
        )
        .await;
    assert_eq!(r.status, 303, "by email, any case: {}", r.body);
    assert!(other.get("/").await.body.contains("href=\"/u/ada\""));
    let page = ada.get("/account").await;
    assert!(page.body.contains("Change your password"));
    let r = ada
        .post_form(
            "/account/password",
            &[("current", "wrong one!"), ("password", "a new password")],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.body.contains("current password is not right"));
    let r = ada
        .post_form(
            "/account/password",
            &[("current", PW), ("password", "a new password")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Your password is changed"));
    assert!(
        ada.get("/").await.body.contains("href=\"/u/ada\""),
        "this session stays"
    );
    assert!(
        !other.get("/").await.body.contains("href=\"/u/ada\""),
        "the other one ended"
    );
    let fresh = t.client();
    let r = fresh
        .post_form("/login", &[("username", "ada"), ("password", PW)])
        .await;
    assert_eq!(r.status, 401, "the old password is gone");
    let r = fresh
        .post_form(
            "/login",
            &[("username", "ada"), ("password", "a new password")],
        )
        .await;
    assert_eq!(r.status, 303);
}

/// A reset link goes by mail to an account's address, works once and for
/// an hour; an unknown address gets the same answer and no mail.
async fn a_reset_link_by_email_works_once_and_tells_nothing(b: Builder) {
    let t = b.build(paperboy_web::router).await.unwrap();
    t.client().sign_up("ada").await;
    let c = t.client();
    assert!(c.get("/login").await.body.contains("/password/forgot"));
    let unknown = c
        .post_form("/password/forgot", &[("email", "nobody@example.org")])
        .await;
    let known = c
        .post_form("/password/forgot", &[("email", "ada@example.org")])
        .await;
    assert_eq!(unknown.status, 200);
    assert_eq!(known.status, 200);
    assert_eq!(unknown.body, known.body, "no account enumeration");
    t.mailer.drain_now().await;
    let mails: Vec<_> = t
        .mailer
        .sent()
        .into_iter()
        .filter(|m| m.subject().contains("Reset your password"))
        .collect();
    assert_eq!(mails.len(), 1, "one mail, to the account's address");
    assert_eq!(mails[0].to(), "ada@example.org");
    let link = mails[0].link("http://paperboy.test/password/reset?token=");
    let token = link.rsplit("token=").next().unwrap().to_string();
    let page = c.get(&format!("/password/reset?token={token}")).await;
    assert_eq!(page.status, 200);
    let r = c
        .post_form(
            "/password/reset",
            &[("token", token.as_str()), ("password", "short")],
        )
        .await;
    assert_eq!(r.status, 422, "a weak password is refused, the link kept");
    let r = c
        .post_form(
            "/password/reset",
            &[("token", token.as_str()), ("password", "a brand new one")],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let r = c
        .post_form(
            "/password/reset",
            &[("token", token.as_str()), ("password", "yet another one")],
        )
        .await;
    assert_eq!(r.status, 400, "once only");
    assert!(r.body.contains("not valid"));
    let r = t
        .client()
        .post_form(
            "/login",
            &[("username", "ada"), ("password", "a brand new one")],
        )
        .await;
    assert_eq!(r.status, 303);
}

/// Deleting an account asks for the password and a tick; afterwards the
/// name cannot log in, the library is gone, and a comment stays under a
/// deleted name.
async fn deleting_an_account_keeps_comments_and_forgets_the_rest(b: Builder) {
    use axum::http::Method;
    let t = b.seed().build(paperboy_web::router).await.unwrap();
    let ada = t.client();
    ada.sign_up("ada").await;
    let r = ada
        .api(
            Method::POST,
            "/api/papers/2203.05482/comments",
            Some(serde_json::json!({"body": "A comment that stays."})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = ada
        .api(
            Method::PUT,
            "/api/me/library/2203.05482",
            Some(serde_json::json!({"tags": []})),
        )
        .await;
    assert!(r.status < 300, "{}", r.body);
    let r = ada.post_form("/account/delete", &[("current", PW)]).await;
    assert_eq!(r.status, 422, "without the tick the account stays");
    let r = ada
        .post_form(
            "/account/delete",
            &[("current", "wrong password"), ("confirm", "yes")],
        )
        .await;
    assert_eq!(r.status, 422);
    let r = ada
        .post_form("/account/delete", &[("current", PW), ("confirm", "yes")])
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body.contains("Your account is deleted"));
    let r = t
        .client()
        .post_form("/login", &[("username", "ada"), ("password", PW)])
        .await;
    assert_eq!(r.status, 401);
    let comments = t
        .client()
        .get("/api/papers/2203.05482/comments")
        .await
        .json();
    let c = &comments.as_array().unwrap()[0];
    assert_eq!(c["body"], "A comment that stays.");
    assert!(c["author"]["username"]
        .as_str()
        .unwrap()
        .starts_with("deleted-"));
    let saved = t
        .store()
        .library_ids(
            t.store()
                .user_by_name(c["author"]["username"].as_str().unwrap())
                .await
                .unwrap()
                .0
                .user_id,
            None,
        )
        .await
        .unwrap();
    assert!(saved.is_empty(), "the library is gone");
    // The name is free again.
    t.client().sign_up("ada").await;
}

/// The header shows how many notifications are unread; `/following` lists
/// what a member follows, each with a button to stop.
async fn the_header_counts_unread_notifications_and_following_lists_follows(b: Builder) {
    use axum::http::Method;
    let t = b.seed().build(paperboy_web::router).await.unwrap();
    let ada = t.client();
    ada.sign_up("ada").await;
    let bob = t.client();
    bob.sign_up("bob").await;
    let r = ada
        .api(
            Method::POST,
            "/api/papers/2203.05482/comments",
            Some(serde_json::json!({"body": "First."})),
        )
        .await;
    let parent = r.json()["id"].as_i64().unwrap();
    bob.api(
        Method::POST,
        "/api/papers/2203.05482/comments",
        Some(serde_json::json!({"body": "A reply.", "parentId": parent})),
    )
    .await;
    let home = ada.get("/").await.body;
    assert!(home.contains("1 unread"), "{home}");
    ada.get("/notifications").await;
    assert!(
        !ada.get("/").await.body.contains("unread"),
        "read once seen"
    );
    let r = ada
        .post_form(
            "/follow",
            &[
                ("kind", "search"),
                ("target", "model soups"),
                ("action", "follow"),
                ("next", "/following"),
            ],
        )
        .await;
    assert_eq!(r.status, 303, "{}", r.body);
    let page = ada.get("/following").await.body;
    assert!(page.contains("model soups"), "{page}");
    assert!(page.contains("Following"), "an unfollow button: {page}");
}

async fn sign_up_logs_in_and_log_out_ends_the_session(b: Builder) {
    let t = b.build(paperboy_web::router).await.unwrap();
    let c = t.client();
    c.sign_up("ada").await;
    assert!(c.cookie("pb_session").is_some());
    let home = c.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.body.contains("href=\"/u/ada\""), "logged in");
    let profile = c.get("/u/ADA").await;
    assert_eq!(profile.status, 200, "names are case-insensitive");
    assert!(profile.body.contains("member since"));

    let r = c.post_form("/logout", &[]).await;
    assert_eq!(r.status, 303);
    assert!(c.cookie("pb_session").is_none(), "the cookie is cleared");
    assert!(!c.get("/").await.body.contains("href=\"/u/ada\""));

    // Log in again, and `next` is followed only to local paths.
    let r = c
        .post_form(
            "/login",
            &[
                ("username", "Ada"),
                ("password", "correct horse battery"),
                ("next", "/daily"),
            ],
        )
        .await;
    assert_eq!((r.status, r.header("location")), (303, Some("/daily")));
    let r = c
        .post_form(
            "/login",
            &[
                ("username", "ada"),
                ("password", "correct horse battery"),
                ("next", "//evil.example"),
            ],
        )
        .await;
    assert_eq!(r.header("location"), Some("/"));
}

async fn every_field_problem_is_named_and_taken_names_are_conflicts(b: Builder) {
    let t = b.build(paperboy_web::router).await.unwrap();
    let c = t.client();
    let r = c
        .form_answers(
            "/signup",
            &[("username", "x"), ("email", "nope"), ("password", "short")],
            422,
            "3 to 32",
        )
        .await;
    assert!(
        r.body.contains("not an email") && r.body.contains("8 characters"),
        "every field's problem is named: {}",
        r.body
    );
    c.sign_up("bob").await;
    let other = t.client();
    let pw = ("password", "another long one");
    let taken_name = [("username", "bob"), ("email", "bob2@example.org"), pw];
    let r = other
        .form_answers("/signup", &taken_name, 409, "That username is taken")
        .await;
    assert!(!r.body.contains("users_username_key"), "no internal names");
    let taken_email = [("username", "bobby"), ("email", "bob@example.org"), pw];
    other
        .form_answers("/signup", &taken_email, 409, "email address exists")
        .await;
    // A form without its CSRF token is refused.
    let r = other
        .post_form_raw(
            "/signup",
            &[
                ("username", "carl"),
                ("email", "c@example.org"),
                ("password", "long enough"),
            ],
        )
        .await;
    assert_eq!(r.status, 403);
}

async fn wrong_passwords_are_refused_then_rate_limited(b: Builder) {
    let t = b.build(paperboy_web::router).await.unwrap();
    let c = t.client();
    let login = [("username", "ghost"), ("password", "whatever1")];
    let r = c.post_form("/login", &login).await;
    assert_eq!(r.status, 401);
    assert!(r.body.contains("Wrong username or password"));
    let mut last = 0;
    // The limit (30 a minute) counts in fixed windows on the clock: a run
    // that straddles a minute's end splits its attempts in two, so it takes
    // up to twice the limit (plus one) to be sure one window overflows.
    for _ in 0..61 {
        last = c.post_form("/login", &login).await.status;
        if last == 429 {
            break;
        }
    }
    assert_eq!(last, 429, "too many attempts get a clear 429");
}

/// Two nodes on one PostgreSQL store (two applications, each with its own
/// memory): a client spreading sign-ups over both gets the limit once, not
/// twice.
#[tokio::test]
async fn two_nodes_share_one_allowance() {
    paperboy_testkit::with_store(true, |store| async move {
        let mut settings = paperboy_app::Settings::default();
        settings.limits.signup = paperboy_app::Limit {
            max: 3,
            window: std::time::Duration::from_secs(600),
        };
        let node = || paperboy_app::App::new(store.clone(), settings.clone());
        let (a, b) = (node(), node());
        let sign_up = |app: &paperboy_app::App, n: usize| {
            let app = app.clone();
            async move {
                app.sign_up(
                    "203.0.113.9",
                    paperboy_app::accounts::SignUp {
                        username: format!("member{n}"),
                        email: format!("member{n}@example.org"),
                        password: "a long enough password".into(),
                        role: paperboy_core::Role::Member,
                    },
                )
                .await
            }
        };
        assert!(sign_up(&a, 1).await.is_ok());
        assert!(sign_up(&b, 2).await.is_ok());
        assert!(sign_up(&a, 3).await.is_ok());
        for (node, n) in [(&b, 4), (&a, 5)] {
            assert!(
                matches!(
                    sign_up(node, n).await,
                    Err(paperboy_app::AppError::RateLimited { .. })
                ),
                "the fourth sign-up is refused on either node"
            );
        }
    })
    .await;
}

//! Sign-up, log-in, log-out and what bad input gets back, in-process.

#![allow(clippy::unwrap_used)] // tests fail loudly on purpose

use paperboy_testkit::app::Builder;
use paperboy_testkit::app_suite;

app_suite!(
    sign_up_logs_in_and_log_out_ends_the_session,
    every_field_problem_is_named_and_taken_names_are_conflicts,
    wrong_passwords_are_refused_then_rate_limited,
);

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
    for _ in 0..40 {
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
